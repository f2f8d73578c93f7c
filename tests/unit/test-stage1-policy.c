/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stage1 policy (stage0/stage1-policy.c): reading stage1.d from the
 * local and system sets (name order, masking), the refusal of every kind of
 * malformed rule, matching, the decision for a pod and the refusal of a
 * lighter stage1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fs.h"
#include "resources.h"
#include "stage0/stage1-policy.h"

static char tmp[64], local_dir[128], system_dir[128];

static int setup(void **state)
{
  snprintf(tmp, sizeof(tmp), "/tmp/test-stage1-policy.XXXXXX");
  if (!mkdtemp(tmp))
    return -1;
  snprintf(local_dir, sizeof(local_dir), "%s/local", tmp);
  snprintf(system_dir, sizeof(system_dir), "%s/system", tmp);
  return mkdir(local_dir, 0755) || mkdir(system_dir, 0755);
}

static int teardown(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  return fs_rm_rf_at(AT_FDCWD, tmp, &err);
}

/* Empties both sets. */
static void clear(void)
{
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, local_dir, &err), 0);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, system_dir, &err), 0);
  assert_int_equal(mkdir(local_dir, 0755), 0);
  assert_int_equal(mkdir(system_dir, 0755), 0);
}

static void put(const char *dir, const char *name, const char *text)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "we");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static void load_ok(struct stage1_policy *p)
{
  _cleanup_error_ podrun_error_t err = NULL;
  int r = stage1_policy_load(local_dir, system_dir, p, &err);
  if (r < 0)
    fail_msg("load: %s", err->msg);
}

/* The names of p's rules, "a,b,c". */
static char *rule_names(const struct stage1_policy *p)
{
  char *s = xstrdup("");
  for (size_t i = 0; i < p->n_rules; i++)
    {
      char *t = xasprintf("%s%s%s", s, i ? "," : "", p->rules[i].name);
      free(s);
      s = t;
    }
  return s;
}

#define RULE(name, extra) "{\"name\": \"" name "\", \"stage1\": \"nspawn\"" extra "}"
#define FILE1(rule) "{\"rules\": [" rule "]}"

static void test_missing_dirs(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct stage1_policy p = { 0 };
  _cleanup_free_ char *a = xasprintf("%s/none", tmp), *b = xasprintf("%s/neither", tmp);
  assert_int_equal(stage1_policy_load(a, b, &p, &err), 0);
  assert_int_equal(p.n_rules, 0);
  assert_null(p.files);
  stage1_policy_done(&p);
}

static void test_order_and_masking(void **state)
{
  struct stage1_policy p = { 0 };
  _cleanup_free_ char *names = NULL, *dev_null = xasprintf("%s/40-masked.json", local_dir);

  clear();
  put(system_dir, "10-sys.json", FILE1(RULE("sys10", "")));
  put(system_dir, "30-both.json", FILE1(RULE("sys30", "")));
  put(local_dir, "30-both.json", FILE1(RULE("local30", "") "," RULE("local30b", "")));
  put(local_dir, "20-local.json", FILE1(RULE("local20", "")));
  put(system_dir, "40-masked.json", FILE1(RULE("sys40", "")));
  assert_int_equal(symlink("/dev/null", dev_null), 0);
  put(system_dir, "50-emptied.json", FILE1(RULE("sys50", "")));
  put(local_dir, "50-emptied.json", "");
  put(local_dir, "60-not-json.txt", "not read");
  put(local_dir, ".70-hidden.json", "not read either");
  put(local_dir, "80-backup.json~", "nor this");
  load_ok(&p);
  names = rule_names(&p);
  assert_string_equal(names, "sys10,local20,local30,local30b");
  assert_int_equal(strv_length(p.files), 5);
  assert_non_null(strstr(p.files[2], "/local/30-both.json"));
  assert_non_null(strstr(p.files[3], "/local/40-masked.json"));
  assert_string_equal(p.rules[2].file, p.files[2]);
  _cleanup_free_ char *where = xasprintf("%s:local30", p.files[2]);
  assert_string_equal(p.rules[2].where, where);
  stage1_policy_done(&p);
}

/* Each malformed file is refused with one line naming the file, the rule
 * (number and name where it has one) and what is wrong. */
static void test_malformed(void **state)
{
  static const struct
  {
    const char *text, *says;
  } bad[] = {
    { "{\"rules\": [", "invalid JSON at line 1" },
    { "[]", "not an object with \"rules\"" },
    { "{\"rules\": {}}", "not an object with \"rules\"" },
    { "{\"rules\": [], \"extra\": 1}", "unknown key \"extra\"" },
    { "{\"rules\": [], \"rules\": []}", "invalid JSON" }, /* duplicate keys */
    { FILE1("42"), "rule 1: not an object" },
    { FILE1("{\"stage1\": \"fly\"}"), "rule 1: no \"name\"" },
    { FILE1("{\"name\": \"a b\", \"stage1\": \"fly\"}"), "rule 1: \"name\" is \"a b\"" },
    { FILE1("{\"name\": 7, \"stage1\": \"fly\"}"), "\"name\" must be a non-empty string" },
    { FILE1("{\"name\": \"x\"}"), "rule 1 (\"x\"): no \"stage1\"" },
    { FILE1("{\"name\": \"x\", \"stage1\": \"Not An Image\"}"), "neither fly, nspawn, kvm nor a stage1 image" },
    { FILE1("{\"name\": \"x\", \"stage1\": \"example.com/s1:\"}"), "neither fly, nspawn, kvm nor a stage1 image" },
    { FILE1(RULE("x", ", \"minimum\": \"kvmm\"")), "\"minimum\" is \"kvmm\", not fly, nspawn or kvm" },
    { FILE1("{\"name\": \"x\", \"stage1\": \"fly\", \"minimum\": \"kvm\"}"),
      "\"stage1\": \"fly\" is lighter than its own \"minimum\": \"kvm\"" },
    { FILE1("{\"name\": \"x\", \"stage1\": \"example.com/s1\", \"minimum\": \"nspawn\"}"),
      "a stage1 image counts as fly" },
    { FILE1(RULE("x", ", \"stage\": \"kvm\"")), "rule 1 (\"x\"): unknown key \"stage\"" },
    { FILE1(RULE("x", ", \"match\": []")), "\"match\" must be an object" },
    { FILE1(RULE("x", ", \"match\": {\"nmae\": \"a\"}")), "unknown key \"nmae\" in \"match\"" },
    { FILE1(RULE("x", ", \"match\": {\"name\": \"\"}")), "\"name\" must be a non-empty string" },
    { FILE1(RULE("x", ", \"match\": {\"verified\": \"yes\"}")), "\"verified\" is \"yes\", not signed or unsigned" },
    { FILE1(RULE("x", ", \"match\": {\"labels\": [\"a=b\"]}")), "\"labels\" must be an object" },
    { FILE1(RULE("x", ", \"match\": {\"labels\": {\"arch\": 1}}")), "\"labels\".\"arch\" must be a string" },
    { FILE1(RULE("x", ", \"match\": {\"annotations\": {\"a\": null}}")), "\"annotations\".\"a\" must be a string" },
    { FILE1(RULE("x", ", \"match\": {\"labels\": {\"\": \"b\"}}")), "\"labels\" has an empty name" },
    { FILE1(RULE("x", ", \"isolators\": 5")), "\"isolators\" must be an object" },
    { FILE1(RULE("x", ", \"isolators\": {\"memory\": \"lots\"}")), "\"isolators\".\"memory\": " },
    { FILE1(RULE("x", ", \"isolators\": {\"cpu\": \"-1\"}")), "\"isolators\".\"cpu\": " },
    { FILE1(RULE("x", ", \"isolators\": {\"readOnlyRootFS\": \"yes\"}")), "must be true or false" },
    { FILE1(RULE("x", ", \"isolators\": {\"swap\": \"1G\"}")), "unknown key \"swap\" in \"isolators\"" },
    { FILE1(RULE("ok", "") "," RULE("x", ", \"minimum\": 3")), "rule 2 (\"x\"): \"minimum\" must be" },
    { FILE1(RULE("same", "") "," RULE("same", "")), "rule 2 (\"same\"): a rule of that name comes before it" },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      struct stage1_policy p = { .n_rules = 99 };
      clear();
      put(system_dir, "10-good.json", FILE1(RULE("good", "")));
      put(local_dir, "20-bad.json", bad[i].text);
      assert_int_equal(stage1_policy_load(local_dir, system_dir, &p, &err), -1);
      assert_non_null(err);
      assert_int_equal(p.n_rules, 99); /* untouched */
      if (!strstr(err->msg, bad[i].says) || !strstr(err->msg, "/local/20-bad.json") || strchr(err->msg, '\n'))
        fail_msg("case %zu: %s, not %s", i, err->msg, bad[i].says);
    }
  /* a file that cannot be read at all */
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *d = xasprintf("%s/30-dir.json", local_dir);
  struct stage1_policy p = { 0 };
  clear();
  assert_int_equal(mkdir(d, 0755), 0);
  assert_int_equal(stage1_policy_load(local_dir, system_dir, &p, &err), -1);
  assert_non_null(strstr(err->msg, "30-dir.json\": not a regular file"));
}

/* The example, and the other ways to match. */
static const char example[] = "{\"rules\": ["
                              "{\"name\": \"unsigned-in-kvm\", \"match\": {\"verified\": \"unsigned\"},"
                              " \"stage1\": \"kvm\", \"minimum\": \"kvm\"},"
                              "{\"name\": \"tools-in-fly\", \"match\": {\"name\": \"example.com/tools/*\"},"
                              " \"stage1\": \"fly\"},"
                              "{\"name\": \"amd64-db\", \"match\": {\"labels\": {\"arch\": \"amd*\", \"version\": \"1.*\"},"
                              " \"annotations\": {\"role\": \"db\"}}, \"stage1\": \"nspawn\", \"minimum\": \"nspawn\","
                              " \"isolators\": {\"memory\": \"1G\", \"cpu\": \"500m\", \"readOnlyRootFS\": true}},"
                              "{\"name\": \"the-rest\", \"stage1\": \"nspawn\", \"minimum\": \"nspawn\"}"
                              "]}";

static const char *matched(const struct stage1_policy *p, const char *name, bool is_signed, const struct appc_kvs *labels,
                           const struct appc_kvs *annotations)
{
  struct stage1_policy_image img = { name, labels, annotations, is_signed };
  const struct stage1_policy_rule *r = stage1_policy_match(p, &img);
  return r ? r->name : "(none)";
}

static void test_match(void **state)
{
  struct stage1_policy p = { 0 };
  struct appc_kvs labels = { 0 }, other = { 0 }, ann = { 0 };

  clear();
  put(local_dir, "50-example.json", example);
  load_ok(&p);
  assert_true(stage1_policy_needs_signer(&p));
  appc_kvs_set(&labels, "version", "1.2");
  appc_kvs_set(&labels, "arch", "amd64");
  appc_kvs_set(&other, "version", "2.0");
  appc_kvs_set(&other, "arch", "amd64");
  appc_kvs_set(&ann, "role", "db");
  /* not signed: kvm, whatever the name */
  assert_string_equal(matched(&p, "example.com/tools/ls", false, NULL, NULL), "unsigned-in-kvm");
  assert_string_equal(matched(&p, "example.com/app", false, &labels, &ann), "unsigned-in-kvm");
  /* signed */
  assert_string_equal(matched(&p, "example.com/tools/ls", true, NULL, NULL), "tools-in-fly");
  assert_string_equal(matched(&p, "example.com/tools/sub/ls", true, NULL, NULL), "tools-in-fly"); /* '*' takes '/' */
  assert_string_equal(matched(&p, "example.com/tools", true, NULL, NULL), "the-rest"); /* the whole name */
  assert_string_equal(matched(&p, "example.com/toolsx/ls", true, NULL, NULL), "the-rest");
  assert_string_equal(matched(&p, "xexample.com/tools/ls", true, NULL, NULL), "the-rest");
  /* labels and annotations: every one given must match; a missing one does not */
  assert_string_equal(matched(&p, "example.com/db", true, &labels, &ann), "amd64-db");
  assert_string_equal(matched(&p, "example.com/db", true, &other, &ann), "the-rest");
  assert_string_equal(matched(&p, "example.com/db", true, &labels, NULL), "the-rest");
  assert_string_equal(matched(&p, "example.com/db", true, NULL, &ann), "the-rest");
  stage1_policy_done(&p);

  /* no rule for it: NULL (the default) */
  clear();
  put(local_dir, "10.json", FILE1("{\"name\": \"only-tools\", \"match\": {\"name\": \"t/*\"}, \"stage1\": \"fly\"}"));
  load_ok(&p);
  assert_false(stage1_policy_needs_signer(&p));
  assert_string_equal(matched(&p, "t/x", false, NULL, NULL), "only-tools");
  assert_string_equal(matched(&p, "u/x", false, NULL, NULL), "(none)");
  stage1_policy_done(&p);
  appc_kvs_clear(&labels);
  appc_kvs_clear(&other);
  appc_kvs_clear(&ann);
}

static void test_levels(void **state)
{
  assert_int_equal(stage1_level_of("fly"), STAGE1_LEVEL_FLY);
  assert_int_equal(stage1_level_of("nspawn"), STAGE1_LEVEL_NSPAWN);
  assert_int_equal(stage1_level_of("kvm"), STAGE1_LEVEL_KVM);
  assert_int_equal(stage1_level_of("example.com/stage1-gvisor"), STAGE1_LEVEL_FLY);
  assert_true(STAGE1_LEVEL_NONE < STAGE1_LEVEL_FLY && STAGE1_LEVEL_FLY < STAGE1_LEVEL_NSPAWN &&
              STAGE1_LEVEL_NSPAWN < STAGE1_LEVEL_KVM);
  assert_string_equal(stage1_level_name(STAGE1_LEVEL_KVM), "kvm");
}

/* A pod of several images: the heaviest stage1 and the highest minimum. */
static void test_decide(void **state)
{
  struct stage1_policy p = { 0 };
  char *images[] = { "a", "b", "c", NULL };

  clear();
  put(local_dir, "10.json",
      "{\"rules\": [" RULE("n", "") ",{\"name\": \"f\", \"stage1\": \"fly\"},"
      "{\"name\": \"k\", \"stage1\": \"kvm\", \"minimum\": \"nspawn\"},"
      "{\"name\": \"n-min\", \"stage1\": \"nspawn\", \"minimum\": \"nspawn\"},"
      "{\"name\": \"img\", \"stage1\": \"example.com/stage1-x:1\"}]}");
  load_ok(&p);
  const struct stage1_policy_rule *n = &p.rules[0], *f = &p.rules[1], *k = &p.rules[2], *nmin = &p.rules[3],
                                  *img = &p.rules[4];
  {
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { f, k, n };
    assert_int_equal(stage1_policy_decide(rules, images, 3, &d, &err), 0);
    assert_string_equal(d.stage1, "kvm");
    assert_string_equal(d.rule, k->where);
    assert_int_equal(d.minimum, STAGE1_LEVEL_NSPAWN);
    assert_string_equal(d.minimum_rule, k->where);
    assert_string_equal(d.minimum_image, "b");
  }
  {
    /* no rule for an image: it would get nspawn, so the pod does (the
     * lighter fly of the other loses), and no rule is recorded for it */
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { f, NULL };
    assert_int_equal(stage1_policy_decide(rules, images, 2, &d, &err), 0);
    assert_string_equal(d.stage1, "nspawn");
    assert_null(d.rule);
    assert_int_equal(d.minimum, STAGE1_LEVEL_NONE);
    assert_null(d.minimum_rule);
  }
  {
    /* the same stage1 from the default and a rule: the rule is recorded */
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { NULL, nmin };
    assert_int_equal(stage1_policy_decide(rules, images, 2, &d, &err), 0);
    assert_string_equal(d.stage1, "nspawn");
    assert_string_equal(d.rule, nmin->where);
    assert_string_equal(d.minimum_image, "b");
  }
  {
    /* no images' rules at all: the default */
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { NULL };
    assert_int_equal(stage1_policy_decide(rules, images, 1, &d, &err), 0);
    assert_string_equal(d.stage1, STAGE1_POLICY_DEFAULT);
    assert_null(d.rule);
  }
  {
    /* a stage1 image and fly are of one level, and differ: refused */
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { img, f };
    assert_int_equal(stage1_policy_decide(rules, images, 2, &d, &err), -1);
    assert_non_null(strstr(err->msg, "image \"a\" gets \"example.com/stage1-x:1\""));
    assert_non_null(strstr(err->msg, f->where));
    assert_null(d.stage1);
  }
  {
    /* but a heavier one wins over a stage1 image */
    _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
    _cleanup_error_ podrun_error_t err = NULL;
    const struct stage1_policy_rule *rules[] = { img, n };
    assert_int_equal(stage1_policy_decide(rules, images, 2, &d, &err), 0);
    assert_string_equal(d.stage1, "nspawn");
  }
  stage1_policy_done(&p);
}

/* --stage1=fly for an image the policy sends to kvm: refused, naming the
 * image, the minimum, the rule's file and its name. */
static void test_refusal(void **state)
{
  struct stage1_policy p = { 0 };
  char *images[] = { "example.com/untrusted", NULL };

  clear();
  put(local_dir, "50-example.json", example);
  load_ok(&p);
  const struct stage1_policy_rule *rules[] = { &p.rules[0] };
  _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
  _cleanup_error_ podrun_error_t e0 = NULL;
  assert_int_equal(stage1_policy_decide(rules, images, 1, &d, &e0), 0);
  static const struct
  {
    const char *flag;
    enum stage1_level level;
  } lighter[] = {
    { "--stage1=fly", STAGE1_LEVEL_FLY },
    { "--stage1=nspawn", STAGE1_LEVEL_NSPAWN },
    { "--stage1-path=/x.aci", STAGE1_LEVEL_FLY },
  };
  for (size_t i = 0; i < ELEMENTSOF(lighter); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      assert_int_equal(stage1_decision_check(&d, lighter[i].flag, lighter[i].level, &err), -1);
      assert_non_null(strstr(err->msg, lighter[i].flag));
      assert_non_null(strstr(err->msg, "image \"example.com/untrusted\" must run in kvm or heavier"));
      assert_non_null(strstr(err->msg, "/local/50-example.json:unsigned-in-kvm"));
      assert_true(!strstr(err->msg, "counts as fly") == (lighter[i].flag[8] == '='));
      assert_int_equal(strchr(err->msg, '\n'), NULL);
    }
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(stage1_decision_check(&d, "--stage1=kvm", STAGE1_LEVEL_KVM, &err), 0);
  assert_null(err);
  /* no minimum: anything goes */
  struct stage1_decision none = { .minimum = STAGE1_LEVEL_NONE };
  assert_int_equal(stage1_decision_check(&none, "--stage1-name=x", STAGE1_LEVEL_FLY, &err), 0);
  stage1_policy_done(&p);
}

static void test_isolators(void **state)
{
  struct stage1_policy p = { 0 };
  clear();
  put(local_dir, "50-example.json", example);
  load_ok(&p);
  const struct stage1_policy_rule *db = &p.rules[2];
  struct appc_app app = { 0 };
  bool ro = false;
  _cleanup_error_ podrun_error_t err = NULL;
  struct app_resources res;

  /* the image's own memory limit is replaced, no cpu limit added where the user gave one */
  appc_app_set_isolator(&app, RESOURCE_MEMORY, json_pack("{s:s}", "limit", "5G"));
  appc_app_set_isolator(&app, RESOURCE_CPU, json_pack("{s:s}", "limit", "2"));
  stage1_policy_apply_isolators(db, false, true, &app, &ro);
  assert_int_equal(app_resources_from_isolators(&app, &res, &err), 0);
  assert_int_equal(res.memory_bytes, 1000000000ULL);
  assert_int_equal(res.cpu_millicores, 2000);
  assert_true(ro);
  /* the user's --memory stays */
  appc_app_set_isolator(&app, RESOURCE_MEMORY, json_pack("{s:s}", "limit", "64M"));
  stage1_policy_apply_isolators(db, true, false, &app, &ro);
  assert_int_equal(app_resources_from_isolators(&app, &res, &err), 0);
  assert_int_equal(res.memory_bytes, 64000000ULL);
  assert_int_equal(res.cpu_millicores, 500);
  /* a rule without isolators, or none, changes nothing */
  ro = false;
  stage1_policy_apply_isolators(&p.rules[0], false, false, &app, &ro);
  stage1_policy_apply_isolators(NULL, false, false, &app, &ro);
  assert_false(ro);
  assert_int_equal(app_resources_from_isolators(&app, &res, &err), 0);
  assert_int_equal(res.memory_bytes, 64000000ULL);
  appc_app_set_isolator(&app, RESOURCE_MEMORY, NULL);
  appc_app_set_isolator(&app, RESOURCE_CPU, NULL);
  free(app.isolators);
  stage1_policy_done(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_missing_dirs), cmocka_unit_test(test_order_and_masking), cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_match),        cmocka_unit_test(test_levels),            cmocka_unit_test(test_decide),
    cmocka_unit_test(test_refusal),      cmocka_unit_test(test_isolators),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
