/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Containers' "simple signing" for registry images: a signature is an
 * attached (opaque) OpenPGP message whose text is a JSON claim
 *   {"critical": {"type": "atomic container signature",
 *                 "image": {"docker-manifest-digest": "sha256:…"},
 *                 "identity": {"docker-reference": "HOST/REPO[:TAG]"}},
 *    "optional": {…}}
 * trust_sign_verify checks the OpenPGP signature (against podrun's trust
 * store, as trust_verify does, or against a keyring the policy names) and
 * then the claim: its type, that it names the manifest digest fetched, and
 * that its reference is the one asked for under the identity rule. */
#include <stddef.h>

#include "trust.h"

#define TRUST_SIGNATURE_MAX (4 * 1024 * 1024) /* one signature, as containers caps it */
#define TRUST_CLAIM_MAX (64 * 1024)           /* its signed text */

/* policy.json's signedIdentity: which docker-reference a claim may carry. */
enum trust_identity
{
  TRUST_MATCH_REPO_DIGEST_OR_EXACT = 0, /* the default: a tag reference exactly, a digest one by repository */
  TRUST_MATCH_EXACT,                    /* exactly the reference asked for */
  TRUST_MATCH_REPOSITORY,               /* any reference of the repository */
  TRUST_EXACT_REFERENCE,                /* exactly identity_ref, whatever was asked for */
  TRUST_EXACT_REPOSITORY,               /* any reference of the repository identity_ref */
  TRUST_REMAP_IDENTITY, /* the reference with its prefix identity_ref made identity_signed_prefix (when it
                         * has that prefix, by whole components), then as matchRepoDigestOrExact */
};

struct trust_sign_check
{
  const char *name;      /* "HOST/REPO": the trust store's prefixes must cover it */
  const char *reference; /* what was asked for, normalised: HOST/REPO:TAG or HOST/REPO@DIGEST (oci_ref_string) */
  const char *const *digests; /* NULL-terminated: the manifest digests the claim may name (the
                               * reference's manifest, and the platform's instance of a list) */
  enum trust_identity identity;
  const char *identity_ref; /* TRUST_EXACT_*: the reference or repository; TRUST_REMAP_IDENTITY: the prefix */
  const char *identity_signed_prefix; /* TRUST_REMAP_IDENTITY: what the prefix becomes */
  /* the keys: keyring (armored or binary, any number of keys, keyring_len
   * bytes) when not NULL, recorded as trusted for keyring_scope; else the
   * trust store's trustedkeys directories */
  const void *keyring;
  size_t keyring_len;
  const char *keyring_scope;
  const char *local_dir, *system_dir;
};

/* Verifies one signature (sig_len bytes). *ret: the signer, the prefix (or
 * keyring_scope) its key is trusted for, the time. One line on refusal: not
 * a signature, bad signature, an untrusted, expired or revoked key, a claim
 * that is malformed or names another digest, another image or another type. */
int trust_sign_verify(const struct trust_sign_check *c, const void *sig, size_t sig_len, struct trust_result *ret,
                      podrun_error_t *err);

/* The claim alone (the signed text), checked against c. */
int trust_claim_check(const char *text, size_t len, const struct trust_sign_check *c, podrun_error_t *err);

/* Does the claim's docker-reference (as written in a claim: Docker's rules
 * with docker.io as the default registry) satisfy the identity rule for
 * c->reference? 1 yes, 0 no, -1 with *err when it is no reference. */
int trust_identity_matches(const struct trust_sign_check *c, const char *claim_ref, podrun_error_t *err);

/* Strict, padded base64 (RFC 4648 §4) to bytes (NUL-terminated besides). */
int trust_base64_decode(const char *s, char **ret, size_t *ret_len, podrun_error_t *err);
