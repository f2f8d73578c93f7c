/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun policy explain: what the stage1 policy (stage1-policy.h) decides
 * for images of the store, and which rule decided. */
#include "json-util.h"
#include "podrun.h"
#include "stage1-policy.h"
#include "table.h"

static const char *arg_format;
static bool arg_no_legend;

/* What explain says of one image. */
struct explained
{
  const char *arg; /* as given */
  char *name; /* NAME[:VERSION] */
  char *id;
  bool is_signed;
  char *fingerprint; /* the signer's, NULL: none */
  const struct stage1_policy_rule *rule;
};

static void explained_done(struct explained *e)
{
  free(e->name);
  free(e->id);
  free(e->fingerprint);
}

static int explain_one(const struct stage1_policy *p, const char *arg, struct explained *ret, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;
  struct stage1_policy_image pi = { 0 };

  if (!podrun_store)
    return podrun_error_new(err, ENOENT, "image %s: not in the store (the store is empty)", QUOTE(arg));
  if (store_resolve(podrun_store, arg, &img, err) < 0 ||
      appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0)
    return -1;
  *ret = (struct explained){ .arg = arg, .id = xstrdup(img->id) };
  if (stage1_policy_signed(podrun_store, img->id, im->name, &ret->is_signed, &ret->fingerprint, err) < 0)
    return explained_done(ret), -1;
  pi = (struct stage1_policy_image){ .name = im->name, .labels = &im->labels, .annotations = &im->annotations,
                                     .is_signed = ret->is_signed };
  const char *version = appc_kvs_get(&im->labels, "version");
  ret->name = version ? xasprintf("%s:%s", im->name, version) : xstrdup(im->name);
  ret->rule = stage1_policy_match(p, &pi);
  return 0;
}

/* "memory=512M,cpu=1,readOnlyRootFS", "-" when none. */
static char *isolators_text(const struct stage1_policy_rule *r)
{
  char *s = xstrdup("");
  const char *parts[3] = { 0 };
  _cleanup_free_ char *m = r && r->memory ? xasprintf("memory=%s", r->memory) : NULL;
  _cleanup_free_ char *c = r && r->cpu ? xasprintf("cpu=%s", r->cpu) : NULL;
  size_t n = 0;
  if (m)
    parts[n++] = m;
  if (c)
    parts[n++] = c;
  if (r && r->read_only_rootfs)
    parts[n++] = "readOnlyRootFS";
  for (size_t i = 0; i < n; i++)
    {
      char *t = xasprintf("%s%s%s", s, i ? "," : "", parts[i]);
      free(s);
      s = t;
    }
  if (!n)
    return free(s), xstrdup("-");
  return s;
}

static void print_text(const struct explained *v, size_t n, const struct stage1_decision *pod)
{
  static const char *const legend[] = { "IMAGE", "VERIFIED", "STAGE1", "MINIMUM", "ISOLATORS", "RULE" };
  struct table t;

  table_init(&t, legend, ELEMENTSOF(legend));
  for (size_t i = 0; i < n; i++)
    {
      const struct stage1_policy_rule *r = v[i].rule;
      char *row[] = {
        xstrdup(ESCAPE(v[i].name)),
        xstrdup(v[i].is_signed ? "signed" : "unsigned"),
        xstrdup(ESCAPE(r ? r->stage1 : STAGE1_POLICY_DEFAULT)),
        xstrdup(r && r->minimum != STAGE1_LEVEL_NONE ? stage1_level_name(r->minimum) : "-"),
        isolators_text(r),
        xstrdup(r ? ESCAPE(r->where) : "(none)"),
      };
      table_add(&t, row);
    }
  table_print(&t, !arg_no_legend);
  table_done(&t);
  if (n > 1 && pod)
    printf("pod: stage1=%s minimum=%s rule=%s\n", ESCAPE(pod->stage1),
           pod->minimum != STAGE1_LEVEL_NONE ? stage1_level_name(pod->minimum) : "-",
           pod->rule ? ESCAPE(pod->rule) : "(none)");
}

static json_t *rule_json(const struct stage1_policy_rule *r, const struct explained *e)
{
  json_t *iso = json_object();
  if (r && r->memory)
    json_object_set_new(iso, "memory", json_string(r->memory));
  if (r && r->cpu)
    json_object_set_new(iso, "cpu", json_string(r->cpu));
  if (r && r->read_only_rootfs)
    json_object_set_new(iso, "readOnlyRootFS", json_true());
  return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s?,s:o,s:s?,s:s?,s:s?}", "image", e->arg, "name", e->name, "id", e->id,
                   "verified", e->is_signed ? "signed" : "unsigned", "signer", e->fingerprint, "stage1",
                   r ? r->stage1 : STAGE1_POLICY_DEFAULT, "minimum",
                   r && r->minimum != STAGE1_LEVEL_NONE ? stage1_level_name(r->minimum) : NULL, "isolators", iso,
                   "rule", r ? r->where : NULL, "file", r ? r->file : NULL, "rule_name", r ? r->name : NULL);
}

static void print_json(const struct stage1_policy *p, const struct explained *v, size_t n,
                       const struct stage1_decision *pod)
{
  _cleanup_json_ json_t *o = json_object();
  json_t *images = json_array(), *files = json_array();
  for (size_t i = 0; i < n; i++)
    {
      json_t *e = rule_json(v[i].rule, &v[i]);
      json_array_append_new(images, e ? e : json_null()); /* NULL: a string that is not UTF-8 */
    }
  for (size_t i = 0; p->files && p->files[i]; i++)
    json_array_append_new(files, json_string(p->files[i]) ?: json_null());
  json_object_set_new(o, "images", images);
  json_object_set_new(o, "files", files);
  if (pod)
    json_object_set_new(o, "pod",
                        json_pack("{s:s,s:s?,s:s?,s:s?}", "stage1", pod->stage1, "rule", pod->rule, "minimum",
                                  pod->minimum != STAGE1_LEVEL_NONE ? stage1_level_name(pod->minimum) : NULL,
                                  "minimum_rule", pod->minimum_rule) ?: json_null());
  else
    json_object_set_new(o, "pod", json_null());
  _cleanup_free_ char *text = json_dump_sorted(o, streq(arg_format, "json-pretty"));
  printf("%s\n", text);
}

static int policy_explain(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(stage1_policy_done) struct stage1_policy p = { 0 };
  _cleanup_(stage1_decision_done) struct stage1_decision pod = { 0 };
  _cleanup_error_ podrun_error_t conflict = NULL;
  _cleanup_free_ struct explained *v = xzalloc(sizeof(*v) * (size_t) argc);
  _cleanup_free_ const struct stage1_policy_rule **rules = xzalloc(sizeof(*rules) * (size_t) argc);
  _cleanup_strv_ char **names = NULL;
  size_t n = 0;
  int r = 0;

  if (check_format(arg_format, err) < 0 || stage1_policy_load_default(&p, err) < 0)
    return -1;
  for (; n < (size_t) argc; n++)
    {
      if ((r = explain_one(&p, argv[n], &v[n], err)) < 0)
        break;
      rules[n] = v[n].rule;
      names = strv_push(names, v[n].name);
    }
  /* several images: the pod's decision too (a conflict is said after the table) */
  bool decided = r >= 0 && stage1_policy_decide(rules, names, n, &pod, &conflict) >= 0;
  if (r >= 0)
    {
      if (arg_format)
        print_json(&p, v, n, decided ? &pod : NULL);
      else
        print_text(v, n, decided ? &pod : NULL);
    }
  for (size_t i = 0; i < n; i++)
    explained_done(&v[i]);
  if (r >= 0 && !decided)
    {
      *err = TAKE_PTR(conflict);
      return -1;
    }
  return r;
}

static const struct opt explain_opts[] = {
  { "format", OPT_STRING, &arg_format, "output as json or json-pretty", "FORMAT" },
  { "no-legend", OPT_BOOL, &arg_no_legend, "do not print the header line", NULL },
  { NULL },
};

static const struct cmd policy_explain_cmd = {
  "explain", policy_explain, "IMAGE...", "Show what the stage1 policy decides for images",
  "For each IMAGE of the store (a name, NAME:VERSION or an id; nothing is fetched), prints\n"
  "how it was verified (signed: by a key trusted now for a prefix of its name; else\n"
  "unsigned), the stage1 the policy chooses for it, the lightest stage1 allowed (MINIMUM),\n"
  "the default isolators its app gets where the user gives none, and the rule that decided,\n"
  "as FILE:NAME ((none): no rule matched, so nspawn and no minimum). With several images,\n"
  "a last line gives the decision for a pod of them all: the strictest wins. The rules are\n"
  "read from stage1.d/*.json of the local configuration (--local-config) and the system\n"
  "configuration (--system-config); see Documentation/policy-stage1.md.\n\n"
  "Examples:\n  podrun policy explain podrun.test/busybox\n"
  "  podrun policy explain --format=json podrun.test/busybox",
  explain_opts, NULL, 1, -1, CMD_STORE_RO,
};

static const struct cmd *const policy_cmds[] = {
  &policy_explain_cmd,
  NULL,
};

const struct cmd cmd_policy = {
  "policy", NULL, "COMMAND", "Inspect the stage1 policy (which stage1 runs which image)", NULL, NULL, policy_cmds,
  0, 0, 0,
};
