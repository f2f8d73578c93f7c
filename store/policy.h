/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image-trust policy: policy.json in the format of containers-policy.json(5),
 * for registry (docker://) images. Not to be confused with stage1.d/ (which
 * stage1 flavor an image gets). Documentation/policy.md has the format and
 * podrun's meaning of it:
 *   {"default": [REQ…],
 *    "transports": {"docker": {"SCOPE": [REQ…], …}, …}}
 * REQ: {"type": "insecureAcceptAnything"} | {"type": "reject"} |
 *      {"type": "signedBy", "keyType": "GPGKeys", ["keyPath": "/abs" | "keyPaths": […] | "keyData": "base64"],
 *       ["signedIdentity": {"type": "matchRepoDigestOrExact" | "matchExact" | "matchRepository" |
 *                                    "exactReference", "dockerReference": … | "exactRepository", "dockerRepository": … |
 *                                    "remapIdentity", "prefix": …, "signedPrefix": …}]}
 * A signedBy without keys means podrun's trust store (trustedkeys/), keys
 * trusted for the image's HOST/REPO or a prefix of it, or root keys.
 * SCOPE: "HOST[:PORT]", "HOST[:PORT]/NAMESPACE…", "HOST[:PORT]/REPO:TAG",
 * "HOST[:PORT]/REPO@sha256:…", "*.DOMAIN", or "" (every docker image); the
 * most specific that matches wins. Other transports are accepted and ignored
 * (podrun has no other signed remote transport). */
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "oci.h"
#include "trust-sign.h"

enum policy_type
{
  POLICY_INSECURE_ACCEPT_ANYTHING,
  POLICY_REJECT,
  POLICY_SIGNED_BY,
};

struct policy_req
{
  enum policy_type type;
  char **key_paths;     /* signedBy: keyPath/keyPaths (absolute), NULL if none */
  char *key_data;       /* signedBy: keyData, decoded; NULL if none */
  size_t key_data_len;
  enum trust_identity identity;
  char *identity_ref; /* exactReference's dockerReference, exactRepository's dockerRepository,
                       * remapIdentity's prefix */
  char *identity_signed_prefix; /* remapIdentity's signedPrefix */
};

struct policy_reqs
{
  char *scope; /* "" for transports.docker[""]; NULL for "default" */
  struct policy_req *v;
  size_t n;
};

struct policy
{
  char *path; /* the file it came from; "" for the built-in default */
  struct policy_reqs def;
  struct policy_reqs *docker; /* transports.docker's scopes */
  size_t n_docker;
};

void policy_free(struct policy *p);
static inline void policy_freep(struct policy **p)
{
  if (*p)
    policy_free(*p);
}
#define _cleanup_policy_ _cleanup_(policy_freep)

/* Parses a policy.json of len bytes; what names it in messages (its path).
 * Every error is one line naming what and the place in it. */
int policy_parse(const char *text, size_t len, const char *what, struct policy **ret, podrun_error_t *err);

/* The first of the files that exists (the local configuration's, then the
 * system's), else the built-in default: {"default": [{"type": "signedBy",
 * "keyType": "GPGKeys"}]} (the trust store for every registry). */
int policy_load(const char *const *paths, struct policy **ret, podrun_error_t *err);

/* The requirements for the image r: its most specific docker scope, else
 * the default. Never NULL. */
const struct policy_reqs *policy_for_docker(const struct policy *p, const struct oci_ref *r);

/* The scopes that can match r, most specific first: HOST/REPO@DIGEST,
 * HOST/REPO:TAG, HOST/REPO, its parent namespaces, HOST, the *.DOMAINs of
 * HOST (without its port), "". */
char **policy_docker_scopes(const struct oci_ref *r);

/* Does a docker scope match r? "" matches every image. */
bool policy_scope_matches(const char *scope, const struct oci_ref *r);

/* How the scope reads in messages and as the signer's prefix of keys the
 * policy gives: the scope, "transports.docker[\"\"]" or "default". */
const char *policy_scope_label(const struct policy_reqs *reqs);

/* A scope as policy.json and registries.d name one:
 * HOST[:PORT][/NAME…][:TAG|@DIGEST], *.DOMAIN, or "". */
bool policy_scope_valid(const char *s);
