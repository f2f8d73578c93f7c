/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a registry or a signer hands the simple-signing code: a signature
 * extension answer (at most REGISTRY_MAX_SIGNATURES come out, each as long
 * as it says), a claim (accepted for one digest, then refused for
 * another), and the same bytes as policy.json and as a
 * registries.d file (parsed or refused with one line, never more). */
#include <stdint.h>

#include "store/lookaside.h"
#include "store/policy.h"
#include "store/registry.h"
#include "store/trust-sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(podrun_error_t e)
{
  if (!e || !e->msg || !*e->msg || strchr(e->msg, '\n'))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = xmalloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  podrun_error_t err = NULL;

  char **sigs = NULL;
  size_t *lens = NULL, n = 0;
  if (registry_parse_signatures(text, size, "signatures", &sigs, &lens, &n, &err) == 0)
    {
      if (n > REGISTRY_MAX_SIGNATURES)
        abort();
      for (size_t i = 0; i < n; i++)
        free(sigs[i]);
      free(sigs);
      free(lens);
    }
  else
    one_line(err);
  podrun_error_free(&err);

  static const char *const digests[] = { "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                                         NULL };
  static const char *const others[] = { "sha256:2222222222222222222222222222222222222222222222222222222222222222",
                                        NULL };
  for (int id = TRUST_MATCH_REPO_DIGEST_OR_EXACT; id <= TRUST_REMAP_IDENTITY; id++)
    {
      struct trust_sign_check c = { .reference = "quay.io/a/b:v1", .digests = digests, .identity = id,
                                    .identity_ref = id == TRUST_EXACT_REFERENCE  ? "quay.io/x/y:v1"
                                                    : id == TRUST_REMAP_IDENTITY ? "quay.io/a"
                                                                                 : "quay.io/x/y",
                                    .identity_signed_prefix = "quay.io/x" };
      if (trust_claim_check(text, size, &c, &err) == 0)
        {
          /* the same claim is no claim of another digest */
          struct trust_sign_check other = c;
          other.digests = others;
          if (trust_claim_check(text, size, &other, &err) == 0)
            abort();
          one_line(err);
          podrun_error_free(&err);
        }
      else
        one_line(err);
      podrun_error_free(&err);
    }

  struct policy *p = NULL;
  if (policy_parse(text, size, "policy.json", &p, &err) == 0)
    {
      struct oci_ref r = { 0 };
      if (oci_ref_parse("quay.io/a/b:v1", NULL, &r, &err) == 0)
        {
          if (!policy_for_docker(p, &r))
            abort();
          oci_ref_done(&r);
        }
      podrun_error_free(&err);
      policy_free(p);
    }
  else
    one_line(err);
  podrun_error_free(&err);

  struct lookaside *l = xzalloc(sizeof(*l));
  if (lookaside_parse(l, text, size, "registries.d", false, &err) < 0)
    one_line(err);
  podrun_error_free(&err);
  lookaside_free(l);
  free(text);
  return 0;
}
