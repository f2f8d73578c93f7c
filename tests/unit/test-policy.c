/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/policy (policy.json: parsing, refusals, scope matching), store/lookaside
 * (registries.d: parsing, the namespace that applies, signature URLs) and
 * store/trust-sign's claim and identity rules, without gpg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/lookaside.h"
#include "store/policy.h"
#include "store/trust-sign.h"

static struct policy *parse_ok(const char *text)
{
  struct policy *p = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  if (policy_parse(text, strlen(text), "/etc/podrun/policy.json", &p, &err) < 0)
    fail_msg("%s: %s", text, err->msg);
  return p;
}

/* The policy is refused, the message naming the file and containing what. */
static void parse_bad(const char *text, const char *what)
{
  struct policy *p = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  if (policy_parse(text, strlen(text), "/etc/podrun/policy.json", &p, &err) == 0)
    fail_msg("accepted: %s", text);
  assert_null(p);
  if (!strstr(err->msg, "\"/etc/podrun/policy.json\"") || !strstr(err->msg, what) || strchr(err->msg, '\n'))
    fail_msg("%s: message \"%s\" does not name the file and \"%s\"", text, err->msg, what);
}

static struct oci_ref ref(const char *s)
{
  struct oci_ref r = { 0 };
  _cleanup_error_ podrun_error_t err = NULL;
  if (oci_ref_parse(s, "docker.io", &r, &err) < 0)
    fail_msg("%s: %s", s, err->msg);
  return r;
}

static void test_parse(void **state)
{
  _cleanup_policy_ struct policy *p = parse_ok(
    "{\"default\": [{\"type\": \"reject\"}],"
    " \"transports\": {\"docker\": {"
    "   \"quay.io\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/k.gpg\"}],"
    "   \"quay.io/ns/app:v1\": [{\"type\": \"insecureAcceptAnything\"}],"
    "   \"\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyData\": \"aGVsbG8=\","
    "          \"signedIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": \"quay.io/x\"}}]},"
    "  \"docker-daemon\": {\"\": [{\"type\": \"insecureAcceptAnything\"}]}}}");
  assert_int_equal(p->def.n, 1);
  assert_int_equal(p->def.v[0].type, POLICY_REJECT);
  assert_int_equal(p->n_docker, 3);
  assert_string_equal(p->docker[0].scope, "quay.io");
  assert_int_equal(p->docker[0].v[0].type, POLICY_SIGNED_BY);
  assert_string_equal(p->docker[0].v[0].key_paths[0], "/k.gpg");
  assert_int_equal(p->docker[2].v[0].key_data_len, 5);
  assert_memory_equal(p->docker[2].v[0].key_data, "hello", 5);
  assert_int_equal(p->docker[2].v[0].identity, TRUST_EXACT_REPOSITORY);
  assert_string_equal(p->docker[2].v[0].identity_ref, "quay.io/x");
  /* a signedBy without keys: the trust store */
  _cleanup_policy_ struct policy *q = parse_ok("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\"}]}");
  assert_null(q->def.v[0].key_paths);
  assert_null(q->def.v[0].key_data);
  assert_int_equal(q->def.v[0].identity, TRUST_MATCH_REPO_DIGEST_OR_EXACT);
}

static void test_parse_bad(void **state)
{
  parse_bad("", "invalid JSON");
  parse_bad("[]", "must be a JSON object");
  parse_bad("{}", "no \"default\"");
  parse_bad("{\"default\": []}", "non-empty list");
  parse_bad("{\"default\": [{\"type\": \"reject\"}], \"extra\": 1}", "unknown member \"extra\"");
  parse_bad("{\"default\": [{\"type\": \"reject\", \"keyPath\": \"/x\"}]}", "default[0]: unknown member \"keyPath\"");
  parse_bad("{\"default\": [{\"type\": \"accept\"}]}", "\"accept\" is not one podrun knows");
  parse_bad("{\"default\": [{\"type\": \"signedBaseLayer\"}]}", "not one podrun knows");
  parse_bad("{\"default\": [{\"type\": \"signedBy\"}]}", "GPGKeys");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"X509Certificates\"}]}", "GPGKeys");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"k.gpg\"}]}",
            "absolute");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/a\", "
            "\"keyData\": \"aGk=\"}]}",
            "one of keyPath");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyData\": \"not base64!\"}]}",
            "base64");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"remapIdentity\"}}]}",
            "signedIdentity.prefix must be");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"quay.io/a:v1\", "
            "\"signedPrefix\": \"quay.io/b\"}}]}",
            "signedIdentity.prefix must be");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"quay.io/a\", "
            "\"signedPrefix\": \"*.quay.io\"}}]}",
            "signedIdentity.signedPrefix must be");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"quay.io/a\", "
            "\"signedPrefix\": \"quay.io/b@sha256:00\"}}]}",
            "signedIdentity.signedPrefix must be");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"remapIdentity\", \"prefix\": \"quay.io/a\", "
            "\"signedPrefix\": \"quay.io/b\", \"extra\": 1}}]}",
            "unknown member \"extra\"");
  parse_bad("{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", "
            "\"signedIdentity\": {\"type\": \"exactReference\", \"dockerReference\": \"quay.io/x\"}}]}",
            "names no tag or digest");
  parse_bad("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"Not A/Scope\": "
            "[{\"type\": \"reject\"}]}}}",
            "not a scope");
  parse_bad("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"quay.io\": []}}}",
            "transports.docker[\"quay.io\"]");
  parse_bad("{\"default\": [{\"type\": \"reject\"}], \"default\": [{\"type\": \"reject\"}]}", "invalid JSON");
}

/* The scope policy_for_docker picks for s. */
static const char *picked(const struct policy *p, const char *s)
{
  struct oci_ref r = ref(s);
  const struct policy_reqs *q = policy_for_docker(p, &r);
  oci_ref_done(&r);
  return policy_scope_label(q);
}

static void test_scopes(void **state)
{
  _cleanup_policy_ struct policy *p = parse_ok(
    "{\"default\": [{\"type\": \"reject\"}],"
    " \"transports\": {\"docker\": {"
    "   \"*.example.com\": [{\"type\": \"reject\"}],"
    "   \"a.example.com\": [{\"type\": \"reject\"}],"
    "   \"a.example.com/ns\": [{\"type\": \"reject\"}],"
    "   \"a.example.com/ns/app\": [{\"type\": \"reject\"}],"
    "   \"a.example.com/ns/app:v1\": [{\"type\": \"reject\"}],"
    "   \"a.example.com/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\":"
    "     [{\"type\": \"reject\"}],"
    "   \"localhost:5000\": [{\"type\": \"reject\"}]}}}");
  assert_string_equal(picked(p, "a.example.com/ns/app:v1"), "a.example.com/ns/app:v1");
  assert_string_equal(picked(p, "a.example.com/ns/app:v2"), "a.example.com/ns/app");
  assert_string_equal(
    picked(p, "a.example.com/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    "a.example.com/ns/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_string_equal(picked(p, "a.example.com/ns/other:v1"), "a.example.com/ns");
  assert_string_equal(picked(p, "a.example.com/ns2/app"), "a.example.com");
  /* whole components only: ns is no prefix of ns2 */
  assert_string_equal(picked(p, "a.example.com/nsx/app"), "a.example.com");
  assert_string_equal(picked(p, "b.example.com/x"), "*.example.com");
  assert_string_equal(picked(p, "c.b.example.com/x"), "*.example.com");
  assert_string_equal(picked(p, "example.com/x"), "default");
  assert_string_equal(picked(p, "localhost:5000/x"), "localhost:5000");
  assert_string_equal(picked(p, "localhost:5001/x"), "default");
  assert_string_equal(picked(p, "busybox"), "default");

  _cleanup_policy_ struct policy *q = parse_ok(
    "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"\": [{\"type\": \"reject\"}],"
    " \"docker.io/library/busybox\": [{\"type\": \"reject\"}]}}}");
  assert_string_equal(picked(q, "busybox"), "docker.io/library/busybox");
  assert_string_equal(picked(q, "quay.io/x"), "transports.docker[\"\"]");

  struct oci_ref r = ref("quay.io/ns/app:v1");
  assert_true(policy_scope_matches("quay.io/ns", &r));
  assert_true(policy_scope_matches("", &r));
  assert_false(policy_scope_matches("quay.io/n", &r));
  assert_false(policy_scope_matches("quay.io/ns/app:v2", &r));
  oci_ref_done(&r);
}

static void test_lookaside(void **state)
{
  struct lookaside l = { 0 };
  _cleanup_error_ podrun_error_t err = NULL;
  static const char text[] = "default-docker:\n"
                             "  sigstore: file:///var/lib/sigs/\n"
                             "  sigstore-staging: file:///var/lib/staging\n"
                             "docker:\n"
                             "  quay.io/ns:\n"
                             "    lookaside: https://sigs.example.com/quay\n"
                             "  quay.io:\n"
                             "    use-sigstore-attachments: true\n"
                             "  localhost:5000:\n"
                             "    lookaside: http://127.0.0.1:8000\n";
  assert_int_equal(lookaside_parse(&l, text, strlen(text), "a.yaml", false, &err), 0);
  struct oci_ref a = ref("quay.io/ns/app:v1"), b = ref("quay.io/other/app"), c = ref("localhost:5000/x/y");
  assert_string_equal(lookaside_for(&l, &a)->url, "https://sigs.example.com/quay");
  /* quay.io itself names no lookaside: the default's */
  assert_string_equal(lookaside_for(&l, &b)->url, "file:///var/lib/sigs");
  assert_string_equal(lookaside_for(&l, &c)->url, "http://127.0.0.1:8000");
  _cleanup_free_ char *u = lookaside_signature_url(
    "file:///s", "x/y", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 2);
  assert_string_equal(u,
                      "file:///s/x/y@sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/signature-2");
  /* a second file of the directory saying the same namespace is an error */
  static const char again[] = "docker:\n  quay.io/ns:\n    lookaside: file:///x\n";
  assert_int_equal(lookaside_parse(&l, again, strlen(again), "b.yaml", false, &err), -1);
  assert_non_null(strstr(err->msg, "\"a.yaml\""));
  podrun_error_free(&err);
  /* the local directory's, read first, wins over the system's */
  assert_int_equal(lookaside_parse(&l, again, strlen(again), "b.yaml", true, &err), 0);
  assert_string_equal(lookaside_for(&l, &a)->url, "https://sigs.example.com/quay");
  oci_ref_done(&a);
  oci_ref_done(&b);
  oci_ref_done(&c);
  for (size_t i = 0; i < l.n; i++)
    {
      free(l.v[i].ns);
      free(l.v[i].url);
      free(l.v[i].file);
    }
  free(l.v);

  static const char *const bad[] = { "docker: [1, 2]\n", "- a\n", "default-docker:\n  lookaside: ftp://x/y\n",
                                     "default-docker:\n  lookaside: file://relative\n", "registries: {}\n",
                                     "docker:\n  \"Bad Namespace\":\n    lookaside: file:///x\n",
                                     "docker:\n  x: [unclosed\n",
                                     "default-docker:\n  lookaside: file:///a\n  sigstore: file:///b\n" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      struct lookaside m = { 0 };
      if (lookaside_parse(&m, bad[i], strlen(bad[i]), "bad.yaml", false, &err) == 0)
        fail_msg("accepted: %s", bad[i]);
      if (!strstr(err->msg, "registries.d \"bad.yaml\": line "))
        fail_msg("%s: message %s", bad[i], err->msg);
      podrun_error_free(&err);
      free(m.v);
    }
}

static void write_file(const char *dir, const char *name, const char *text)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Two directories: the local one's namespaces win, its files among
 * themselves may not repeat one, files not named *.yaml are not read. */
static void test_lookaside_dirs(void **state)
{
  char local[] = "/tmp/podrun-test-rd-XXXXXX", sys[] = "/tmp/podrun-test-rd-XXXXXX";
  assert_non_null(mkdtemp(local));
  assert_non_null(mkdtemp(sys));
  write_file(local, "a.yaml", "docker:\n  quay.io:\n    lookaside: file:///local\n");
  write_file(local, "b.yml", "this: [is not read\n");
  write_file(sys, "a.yaml", "docker:\n  quay.io:\n    lookaside: file:///system\n"
                               "default-docker:\n  sigstore: https://sigs.example.com\n");
  const char *const dirs[] = { local, sys, "/nonexistent/podrun", NULL };
  struct lookaside *l = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(lookaside_load(dirs, &l, &err), 0);
  struct oci_ref a = ref("quay.io/x/y:1"), b = ref("ghcr.io/x/y:1");
  assert_string_equal(lookaside_for(l, &a)->url, "file:///local");
  assert_string_equal(lookaside_for(l, &b)->url, "https://sigs.example.com");
  lookaside_free(l);
  write_file(local, "c.yaml", "docker:\n  quay.io:\n    lookaside: file:///again\n");
  assert_int_equal(lookaside_load(dirs, &l, &err), -1);
  assert_non_null(strstr(err->msg, "c.yaml"));
  assert_non_null(strstr(err->msg, "a.yaml"));
  oci_ref_done(&a);
  oci_ref_done(&b);
  _cleanup_free_ char *cmd = xasprintf("rm -rf '%s' '%s'", local, sys);
  assert_int_equal(system(cmd), 0);
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static int identity(enum trust_identity id, const char *fixed, const char *asked, const char *claim)
{
  struct trust_sign_check c = { .reference = asked, .identity = id, .identity_ref = fixed };
  _cleanup_error_ podrun_error_t err = NULL;
  return trust_identity_matches(&c, claim, &err);
}

static int remapped(const char *prefix, const char *signed_prefix, const char *asked, const char *claim)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct trust_sign_check c = { .reference = asked, .identity = TRUST_REMAP_IDENTITY, .identity_ref = prefix,
                                .identity_signed_prefix = signed_prefix };
  return trust_identity_matches(&c, claim, &err);
}

/* remapIdentity: the prefix by whole components, the tag kept, then matchRepoDigestOrExact */
static void test_identity_remap(void **state)
{
  _cleanup_policy_ struct policy *p = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  const char *text = "{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"signedIdentity\": "
                     "{\"type\": \"remapIdentity\", \"prefix\": \"local:5000/mirror\", \"signedPrefix\": "
                     "\"quay.io/x\"}}]}";

  assert_int_equal(policy_parse(text, strlen(text), "t", &p, &err), 0);
  assert_int_equal(p->def.v[0].identity, TRUST_REMAP_IDENTITY);
  assert_string_equal(p->def.v[0].identity_ref, "local:5000/mirror");
  assert_string_equal(p->def.v[0].identity_signed_prefix, "quay.io/x");
  assert_int_equal(remapped("local:5000/mirror", "quay.io/x", "local:5000/mirror/b:v1", "quay.io/x/b:v1"), 1);
  assert_int_equal(remapped("local:5000/mirror", "quay.io/x", "local:5000/mirror/b:v1", "quay.io/x/b:v2"), 0);
  assert_int_equal(remapped("local:5000/mirror", "quay.io/x", "local:5000/mirror/b:v1", "local:5000/mirror/b:v1"),
                   0);
  /* a repository as the prefix, a host as the prefix */
  assert_int_equal(remapped("local:5000/mirror/b", "quay.io/x/c", "local:5000/mirror/b:v1", "quay.io/x/c:v1"), 1);
  assert_int_equal(remapped("local:5000", "quay.io", "local:5000/a/b:v1", "quay.io/a/b:v1"), 1);
  /* not a prefix by whole components (nor the host:port exactly): no remapping */
  assert_int_equal(remapped("local:5000/mirror", "quay.io/x", "local:5000/mirrored/b:v1", "quay.io/xed/b:v1"), 0);
  assert_int_equal(remapped("local:5000/mirror", "quay.io/x", "local:5000/mirrored/b:v1", "local:5000/mirrored/b:v1"),
                   1);
  assert_int_equal(remapped("local:5000", "quay.io", "local:50001/a/b:v1", "quay.io/a/b:v1"), 0);
  /* by digest: any reference of the remapped repository */
  assert_int_equal(remapped("local:5000", "quay.io", "local:5000/a/b@" D1, "quay.io/a/b:v9"), 1);
  assert_int_equal(remapped("local:5000", "quay.io", "local:5000/a/b@" D1, "quay.io/a/c:v9"), 0);
  /* a claim's name is expanded as Docker does */
  assert_int_equal(remapped("local:5000/mirror", "docker.io/library", "local:5000/mirror/busybox:1", "busybox:1"), 1);
}

static void test_identity(void **state)
{
  /* the default: a tag exactly, a digest by repository */
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "quay.io/a/b:v1"), 1);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "quay.io/a/b:v2"), 0);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "quay.io/a/b"), 0);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "quay.io/a/c:v1"), 0);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "quay.io/a/b@" D1), 0);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b@" D1, "quay.io/a/b:v9"), 1);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b@" D1, "quay.io/a/c:v9"), 0);
  /* a claim's name is Docker's: busybox is docker.io/library/busybox */
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "docker.io/library/busybox:latest", "busybox:latest"),
                   1);
  assert_int_equal(identity(TRUST_MATCH_EXACT, NULL, "quay.io/a/b@" D1, "quay.io/a/b@" D1), 1);
  assert_int_equal(identity(TRUST_MATCH_EXACT, NULL, "quay.io/a/b@" D1, "quay.io/a/b@" D2), 0);
  assert_int_equal(identity(TRUST_MATCH_EXACT, NULL, "quay.io/a/b@" D1, "quay.io/a/b:v1"), 0);
  assert_int_equal(identity(TRUST_MATCH_REPOSITORY, NULL, "quay.io/a/b:v1", "quay.io/a/b:v2"), 1);
  assert_int_equal(identity(TRUST_MATCH_REPOSITORY, NULL, "quay.io/a/b:v1", "quay.io/a/bb:v1"), 0);
  assert_int_equal(identity(TRUST_EXACT_REFERENCE, "quay.io/x/y:v1", "local:5000/b:v1", "quay.io/x/y:v1"), 1);
  assert_int_equal(identity(TRUST_EXACT_REFERENCE, "quay.io/x/y:v1", "local:5000/b:v1", "local:5000/b:v1"), 0);
  assert_int_equal(identity(TRUST_EXACT_REPOSITORY, "quay.io/x/y", "local:5000/b:v1", "quay.io/x/y:v7"), 1);
  assert_int_equal(identity(TRUST_MATCH_REPO_DIGEST_OR_EXACT, NULL, "quay.io/a/b:v1", "Not A Reference"), -1);
}

static int claim(const char *text)
{
  static const char *const digests[] = { D1, NULL };
  struct trust_sign_check c = { .reference = "quay.io/a/b:v1", .digests = digests };
  _cleanup_error_ podrun_error_t err = NULL;
  int r = trust_claim_check(text, strlen(text), &c, &err);
  if (r < 0 && (strchr(err->msg, '\n') || !*err->msg))
    fail_msg("message: %s", err->msg);
  return r;
}

#define CLAIM(type, digest, ref, extra)                                                                        \
  "{\"critical\": {\"type\": \"" type "\", \"image\": {\"docker-manifest-digest\": \"" digest "\"}, "       \
  "\"identity\": {\"docker-reference\": \"" ref "\"}" extra "}, \"optional\": {\"creator\": \"skopeo\"}}"

static void test_claim(void **state)
{
  assert_int_equal(claim(CLAIM("atomic container signature", D1, "quay.io/a/b:v1", "")), 0);
  assert_int_equal(claim(CLAIM("atomic container signature", D2, "quay.io/a/b:v1", "")), -1);
  assert_int_equal(claim(CLAIM("atomic container signature", D1, "quay.io/a/c:v1", "")), -1);
  assert_int_equal(claim(CLAIM("atomic container signature", D1, "quay.io/a/b:v2", "")), -1);
  assert_int_equal(claim(CLAIM("cosign container image signature", D1, "quay.io/a/b:v1", "")), -1);
  /* a critical section with more than podrun understands is refused */
  assert_int_equal(claim(CLAIM("atomic container signature", D1, "quay.io/a/b:v1", ", \"expires\": 1")), -1);
  assert_int_equal(claim("{\"critical\": {}}"), -1);
  assert_int_equal(claim("not json"), -1);
  assert_int_equal(claim("[]"), -1);
  assert_int_equal(claim("{\"critical\": {\"type\": 1, \"image\": {\"docker-manifest-digest\": 2}, "
                         "\"identity\": {\"docker-reference\": 3}}, \"optional\": {}}"),
                   -1);
}

static void test_base64(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  char *out = NULL;
  size_t n = 0;
  assert_int_equal(trust_base64_decode("AAEC", &out, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_memory_equal(out, "\0\1\2", 3);
  free(out);
  assert_int_equal(trust_base64_decode("aGk=", &out, &n, &err), 0);
  assert_int_equal(n, 2);
  free(out);
  static const char *const bad[] = { "a", "aGk", "a=Gk", "aG==k===", "aGk!", "====" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      if (trust_base64_decode(bad[i], &out, &n, &err) == 0)
        fail_msg("decoded %s", bad[i]);
      podrun_error_free(&err);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse),   cmocka_unit_test(test_parse_bad), cmocka_unit_test(test_scopes),
    cmocka_unit_test(test_lookaside), cmocka_unit_test(test_lookaside_dirs), cmocka_unit_test(test_identity), cmocka_unit_test(test_identity_remap), cmocka_unit_test(test_claim),
    cmocka_unit_test(test_base64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
