/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage0 flag values: booleans, durations and --insecure-options; the kinds
 * of image references; what a stage1 declares it supports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stage0/image-ref.h"
#include "stage0/podrun.h"
#include "stage0/stage1.h"

static void test_duration_good(void **state)
{
  static const struct
  {
    const char *s;
    int64_t usec;
  } good[] = {
    { "0", 0 },          { "0s", 0 },          { "90s", 90000000 },       { "30m", 1800000000LL },
    { "24h", 86400000000LL }, { "1h30m", 5400000000LL }, { "500ms", 500000 }, { "1.5h", 5400000000LL },
    { "10us", 10 },      { ".5s", 500000 },    { "1.s", 1000000 },
  };
  for (size_t i = 0; i < ELEMENTSOF(good); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      int64_t v = -1;
      assert_int_equal(parse_duration(good[i].s, &v, &err), 0);
      assert_int_equal(v, good[i].usec);
    }
}

static void test_duration_bad(void **state)
{
  /* decimal only: strtod alone takes hex, exponents, blanks, signs, inf and nan */
  static const char *const bad[] = { "", "h", "10", "-5m", "5 m", "5x", "1h30", "m5", "1e400h", "0x10s",
                                     "1e3s", "+5s", " 5s", "5s ", "infh", "nans", ".s", "1..5s" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      int64_t v = 42;
      assert_int_equal(parse_duration(bad[i], &v, &err), -1);
      assert_non_null(err);
      assert_int_equal(v, 42); /* untouched on failure */
    }
}

static void test_insecure_options(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  unsigned bits = 0;
  assert_int_equal(parse_insecure_options("image,tls", &bits, &err), 0);
  assert_int_equal(bits, INSECURE_IMAGE | INSECURE_TLS);
  assert_int_equal(parse_insecure_options("none", &bits, &err), 0);
  assert_int_equal(bits, 0);
  assert_int_equal(parse_insecure_options("all", &bits, &err), 0);
  assert_true(bits & INSECURE_IMAGE);
  bits = 7;
  assert_int_equal(parse_insecure_options("image,bogus", &bits, &err), -1);
  assert_non_null(strstr(err->msg, "\"bogus\""));
  assert_int_equal(bits, 7);
}

static void test_boolean(void **state)
{
  static const char *const yes[] = { "true", "TRUE", "True", "t", "T", "yes", "Yes", "y", "on", "ON", "1" };
  static const char *const no[] = { "false", "FALSE", "False", "f", "F", "no", "NO", "n", "off", "Off", "0" };
  static const char *const bad[] = { "", "2", "tru", "yess", " true", "true ", "enable", "-1", "00" };
  for (size_t i = 0; i < ELEMENTSOF(yes); i++)
    {
      bool b = false;
      assert_int_equal(parse_boolean(yes[i], &b, NULL), 0);
      assert_true(b);
    }
  for (size_t i = 0; i < ELEMENTSOF(no); i++)
    {
      bool b = true;
      assert_int_equal(parse_boolean(no[i], &b, NULL), 0);
      assert_false(b);
    }
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      bool b = true;
      assert_int_equal(parse_boolean(bad[i], &b, &err), -1);
      assert_non_null(strstr(err->msg, "is not a boolean"));
      assert_true(b); /* untouched on failure */
    }
}

static void test_image_ref_kind(void **state)
{
  static const struct
  {
    const char *ref;
    enum image_ref_kind kind;
  } refs[] = {
    { "docker://busybox", IMAGE_REF_DOCKER },
    { "https://example.com/x.aci", IMAGE_REF_HTTPS },
    { "http://example.com/x.aci", IMAGE_REF_HTTPS },
    { "ftp://example.com/x.aci", IMAGE_REF_OTHER },
    { "httpsx://x", IMAGE_REF_OTHER },
    { "file:///x.aci", IMAGE_REF_FILE },
    { "/srv/x", IMAGE_REF_FILE },
    { "./x", IMAGE_REF_FILE },
    { "../x", IMAGE_REF_FILE },
    { "busybox.aci", IMAGE_REF_FILE },
    { "Not/A/Name", IMAGE_REF_FILE },
    { "sha512-abc", IMAGE_REF_ID },
    { "sha256-abc", IMAGE_REF_ID },
    { "oci:/srv/layout:1", IMAGE_REF_OCI_LAYOUT },
    { "oci-archive:/srv/x.tar", IMAGE_REF_OCI_ARCHIVE },
    { "docker-archive:/srv/x.tar", IMAGE_REF_DOCKER_ARCHIVE },
    { "coreos.com/etcd:v2.0.0", IMAGE_REF_NAME },
    { "coreos.com/etcd", IMAGE_REF_NAME },
    { "busybox", IMAGE_REF_NAME },
  };
  for (size_t i = 0; i < ELEMENTSOF(refs); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      assert_int_equal(image_ref_kind(refs[i].ref), refs[i].kind);
      bool refused = refs[i].kind == IMAGE_REF_OTHER;
      assert_int_equal(image_ref_check(refs[i].ref, &err), refused ? -1 : 0);
      assert_true(refused == (err != NULL));
    }
}

/* The features of a stage1 whose manifest has these annotations (JSON members). */
static int features(const char *annotations, struct stage1_features *ret, podrun_error_t *err)
{
  _cleanup_free_ char *json = xasprintf(
      "{\"acKind\": \"ImageManifest\", \"acVersion\": \"0.8.11\", \"name\": \"example.com/s1\", "
      "\"annotations\": [%s]}",
      annotations);
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  _cleanup_error_ podrun_error_t perr = NULL;
  assert_int_equal(appc_image_manifest_parse(json, strlen(json), &m, &perr), 0);
  return stage1_features_parse(m, ret, err);
}

#define ANN(k, v) "{\"name\": \"podrun/stage1/" k "\", \"value\": \"" v "\"}"

static void test_stage1_features(void **state)
{
  struct stage1_features f = { 0 };
  _cleanup_error_ podrun_error_t err = NULL;
  char *dns[] = { (char *) "192.0.2.53", NULL };
  struct run_args r = { 0 };

  /* none declared: the contract's minimum, the host's network and no more */
  assert_int_equal(features("", &f, &err), 0);
  assert_true(strv_contains(f.net, "host") && strv_length(f.net) == 1);
  assert_false(f.private_users || f.dns || f.hosts_entry || f.interactive);
  assert_int_equal(f.max_apps, 0);
  assert_int_equal(stage1_features_check(&f, &r, 5, &err), 0);
  r.net = "host";
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), 0);
  r.net = "none";
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), -1);
  assert_non_null(strstr(err->msg, "--net=none: not a network of stage1 \"example.com/s1\" (it has host)"));
  podrun_error_free(&err);
  r.net = "default";
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), -1);
  assert_non_null(strstr(err->msg, "--net=default: not a network of stage1 \"example.com/s1\" (it has host)"));
  podrun_error_free(&err);
  assert_string_equal(stage1_default_net(&f), "host"); /* no cni: the host's network by default */
  r = (struct run_args){ .dns = dns };
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), -1);
  assert_non_null(strstr(err->msg, "--dns=192.0.2.53: not supported by stage1"));
  podrun_error_free(&err);
  r = (struct run_args){ .private_users = true };
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), -1);
  assert_non_null(strstr(err->msg, "supports-private-users=true"));
  podrun_error_free(&err);
  stage1_features_done(&f);

  /* declared */
  assert_int_equal(features(ANN("supports-net", "host,none") "," ANN("supports-dns", "true") ","
                            ANN("supports-interactive", "true") "," ANN("max-apps", "1"),
                            &f, &err),
                   0);
  r = (struct run_args){ .net = "none", .dns = dns, .interactive = true };
  assert_int_equal(stage1_features_check(&f, &r, 1, &err), 0);
  assert_int_equal(stage1_features_check(&f, &r, 2, &err), -1);
  assert_non_null(strstr(err->msg, "--interactive gives the terminal to one app; this pod has 2"));
  podrun_error_free(&err);
  r.interactive = false;
  assert_int_equal(stage1_features_check(&f, &r, 2, &err), -1);
  assert_non_null(strstr(err->msg, "runs at most 1 app (podrun/stage1/max-apps); this pod has 2"));
  podrun_error_free(&err);
  stage1_features_done(&f);

  /* cni: every CNI network, and default is the pod's network without --net */
  assert_int_equal(features(ANN("supports-net", "host,none,cni"), &f, &err), 0);
  assert_string_equal(stage1_default_net(&f), "default");
  static const char *const cni_nets[] = { "default", "default-restricted", "lab,other", "lab:K=V" };
  for (size_t i = 0; i < ELEMENTSOF(cni_nets); i++)
    {
      r = (struct run_args){ .net = cni_nets[i] };
      assert_int_equal(stage1_features_check(&f, &r, 1, &err), 0);
    }
  stage1_features_done(&f);

  /* declared wrong: the stage1 is refused */
  static const char *const bad[] = {
    ANN("supports-dns", "yes"), ANN("max-apps", "0"),    ANN("max-apps", "-1"),
    ANN("supports-net", ","),   ANN("supports-net", ""), ANN("supports-net", "host none"),
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      assert_int_equal(features(bad[i], &f, &err), -1);
      assert_non_null(strstr(err->msg, "stage1 image \"example.com/s1\": annotation podrun/stage1/"));
      podrun_error_free(&err);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_boolean),
    cmocka_unit_test(test_image_ref_kind),
    cmocka_unit_test(test_stage1_features),
    cmocka_unit_test(test_duration_good),
    cmocka_unit_test(test_duration_bad),
    cmocka_unit_test(test_insecure_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
