/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Whether a docker:// image may be used, by policy.json, and the check of
 * its simple-signing signatures (store/policy.h, store/lookaside.h,
 * store/trust-sign.h) once its manifest is in. */
#include "podrun.h"
#include "store/fetch.h"
#include "store/oci.h"
#include "store/policy.h"
#include "store/trust.h"

struct docker_verify
{
  struct policy *policy;
  const struct policy_reqs *reqs; /* r's requirements */
  const struct oci_ref *ref;
  char *name;      /* HOST/REPO, for messages and the lookaside path */
  char *appc_name; /* the store's name of it: the trust store's prefixes are matched against it */
  char *reference; /* HOST/REPO:TAG or HOST/REPO@DIGEST */
  bool check;      /* signatures are checked (a signedBy without --insecure-options=image) */
  bool verified;
  struct trust_result signer;
  /* what the store keeps when verified: the signatures that met the
   * requirements, the manifest list the image was picked from (or NULL) */
  char **kept;
  size_t *kept_lens, n_kept;
  char *list;
  size_t list_len;
};

/* Loads the policy (<local-config>/policy.json, else <system-config>/'s,
 * else the built-in default) and judges r by it before any request: a
 * reject refuses (whatever --insecure-options say), insecureAcceptAnything
 * needs nothing, signedBy needs a signature unless --insecure-options=image.
 * dv is filled for docker_verify_manifest; docker_verify_done frees it. */
int docker_verify_begin(const struct oci_ref *r, const char *appc_name, struct docker_verify *dv,
                        podrun_error_t *err);
void docker_verify_done(struct docker_verify *dv);

/* store_docker_fetch's verify hook (ctx: a struct docker_verify). */
int docker_verify_manifest(void *ctx, struct registry *reg, const char *const *digests, const char *list,
                           size_t list_len, podrun_error_t *err);

/* How the fetch let the image in: STORE_POLICY_SIGNED_BY (dv->verified),
 * STORE_POLICY_INSECURE (a signedBy passed over), STORE_POLICY_ACCEPT_ANYTHING. */
const char *docker_verify_decision(const struct docker_verify *dv);

/* image verify: the store's image (its blobs checked already) judged again
 * as its fetch did, under today's policy.json and trust store, from what
 * the store kept (p, store_get_policy; p->reference not NULL): a reject
 * refuses it; a signedBy needs one of the kept signatures to verify against
 * the keys trusted now and to claim the image's manifest (or the kept list
 * that names it) and its reference. 0 with *ret_note set for an image let
 * in unsigned (still allowed), or when the policy no longer asks. */
int docker_verify_stored(const struct store_image *img, const struct store_policy *p, const char **ret_note,
                         podrun_error_t *err);
