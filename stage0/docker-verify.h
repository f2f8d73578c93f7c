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
int docker_verify_manifest(void *ctx, struct registry *reg, const char *const *digests, podrun_error_t *err);
