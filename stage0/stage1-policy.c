/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stage1 policy: rules in stage1.d/NAME.json choosing the stage1 of an
 * image, the lightest one allowed, and default isolators (see
 * stage1-policy.h and Documentation/policy-stage1.md). */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs.h"
#include "json-util.h"
#include "resources.h"
#include "stage1-policy.h"
#include "store/trust.h"

#define POLICY_FILE_MAX JSON_MAX_INPUT
#define RULE_NAME_MAX 64

static const char *const level_names[] = { "fly", "nspawn", "kvm" };

enum stage1_level stage1_level_of(const char *stage1)
{
  for (size_t i = 0; stage1 && i < ELEMENTSOF(level_names); i++)
    if (streq(stage1, level_names[i]))
      return (enum stage1_level) i;
  return STAGE1_LEVEL_FLY;
}

const char *stage1_level_name(enum stage1_level l)
{
  return l >= 0 && (size_t) l < ELEMENTSOF(level_names) ? level_names[l] : "none";
}

bool stage1_is_flavor(const char *s)
{
  for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
    if (streq(s, level_names[i]))
      return true;
  return false;
}

static void rule_done(struct stage1_policy_rule *r)
{
  free(r->file);
  free(r->name);
  free(r->where);
  free(r->match_name);
  appc_kvs_clear(&r->match_labels);
  appc_kvs_clear(&r->match_annotations);
  free(r->stage1);
  free(r->memory);
  free(r->cpu);
  *r = (struct stage1_policy_rule){ 0 };
}

void stage1_policy_done(struct stage1_policy *p)
{
  for (size_t i = 0; i < p->n_rules; i++)
    rule_done(&p->rules[i]);
  free(p->rules);
  strv_free(p->files);
  *p = (struct stage1_policy){ 0 };
}

/* ---- parsing ------------------------------------------------------------- */

/* What a message about rule number idx (from 1) of file says first. */
struct rule_ctx
{
  const char *file;
  size_t idx;
  const char *name; /* NULL until known */
};

_printf_(3, 4) static int rule_error(podrun_error_t *err, const struct rule_ctx *c, const char *fmt, ...)
{
  _cleanup_free_ char *what = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&what, fmt, ap) < 0)
    abort();
  va_end(ap);
  if (c->name)
    return podrun_error_set(err, 0, "stage1 policy %s: rule %zu (%s): %s", QUOTE(c->file), c->idx, QUOTE(c->name),
                            what);
  return podrun_error_set(err, 0, "stage1 policy %s: rule %zu: %s", QUOTE(c->file), c->idx, what);
}

static bool rule_name_is_valid(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > RULE_NAME_MAX)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
          *s == '_' || *s == '.'))
      return false;
  return true;
}

/* Every key of o is one of keys (NULL-terminated). */
static int check_keys(const struct rule_ctx *c, const char *where, json_t *o, const char *const *keys,
                      podrun_error_t *err)
{
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v)
    {
      bool known = false;
      for (size_t i = 0; keys[i] && !known; i++)
        known = streq(k, keys[i]);
      if (!known)
        return rule_error(err, c, "unknown key %s%s%s", QUOTE(k), where ? " in " : "", where ? where : "");
    }
  return 0;
}

/* A string member, or NULL when absent; *ret set to NULL when absent. */
static int get_string(const struct rule_ctx *c, json_t *o, const char *key, const char **ret, podrun_error_t *err)
{
  json_t *v = json_object_get(o, key);
  *ret = NULL;
  if (!v)
    return 0;
  if (!json_is_string(v) || !*json_string_value(v))
    return rule_error(err, c, "\"%s\" must be a non-empty string", key);
  *ret = json_string_value(v);
  return 0;
}

/* {"NAME": "GLOB", …} */
static int parse_globs(const struct rule_ctx *c, json_t *o, const char *key, struct appc_kvs *ret,
                       podrun_error_t *err)
{
  json_t *m = json_object_get(o, key), *v;
  const char *k;
  if (!m)
    return 0;
  if (!json_is_object(m))
    return rule_error(err, c, "\"match\".\"%s\" must be an object of NAME: GLOB", key);
  json_object_foreach (m, k, v)
    {
      if (!*k)
        return rule_error(err, c, "\"match\".\"%s\" has an empty name", key);
      if (!json_is_string(v))
        return rule_error(err, c, "\"match\".\"%s\".%s must be a string (a glob of the value)", key, QUOTE(k));
      appc_kvs_set(ret, k, json_string_value(v));
    }
  return 0;
}

static int parse_match(const struct rule_ctx *c, json_t *rule, struct stage1_policy_rule *r, podrun_error_t *err)
{
  static const char *const keys[] = { "name", "labels", "annotations", "verified", NULL };
  json_t *m = json_object_get(rule, "match");
  const char *name, *verified;

  r->match_verified = STAGE1_VERIFIED_ANY;
  if (!m)
    return 0;
  if (!json_is_object(m))
    return rule_error(err, c, "\"match\" must be an object");
  if (check_keys(c, "\"match\"", m, keys, err) < 0 || get_string(c, m, "name", &name, err) < 0 ||
      get_string(c, m, "verified", &verified, err) < 0 || parse_globs(c, m, "labels", &r->match_labels, err) < 0 ||
      parse_globs(c, m, "annotations", &r->match_annotations, err) < 0)
    return -1;
  r->match_name = name ? xstrdup(name) : NULL;
  if (verified && !streq(verified, "signed") && !streq(verified, "unsigned"))
    return rule_error(err, c, "\"match\".\"verified\" is %s, not signed or unsigned", QUOTE(verified));
  if (verified)
    r->match_verified = streq(verified, "signed") ? STAGE1_VERIFIED_SIGNED : STAGE1_VERIFIED_UNSIGNED;
  return 0;
}

/* NAME or NAME:VERSION of a stage1 image, as --stage1-name takes it. */
static bool stage1_image_is_valid(const char *s)
{
  const char *colon = strrchr(s, ':');
  _cleanup_free_ char *name = colon ? xstrndup(s, (size_t) (colon - s)) : xstrdup(s);
  return appc_identifier_is_valid(name) && (!colon || colon[1]);
}

static int parse_isolators(const struct rule_ctx *c, json_t *rule, struct stage1_policy_rule *r,
                           podrun_error_t *err)
{
  static const char *const keys[] = { "memory", "cpu", "readOnlyRootFS", NULL };
  _cleanup_error_ podrun_error_t why = NULL;
  json_t *iso = json_object_get(rule, "isolators"), *ro;
  const char *memory, *cpu;
  uint64_t v;

  if (!iso)
    return 0;
  if (!json_is_object(iso))
    return rule_error(err, c, "\"isolators\" must be an object");
  if (check_keys(c, "\"isolators\"", iso, keys, err) < 0 || get_string(c, iso, "memory", &memory, err) < 0 ||
      get_string(c, iso, "cpu", &cpu, err) < 0)
    return -1;
  if (memory && resource_parse_bytes(memory, &v, &why) < 0)
    return rule_error(err, c, "\"isolators\".\"memory\": %s", why->msg);
  if (cpu && resource_parse_millicores(cpu, &v, &why) < 0)
    return rule_error(err, c, "\"isolators\".\"cpu\": %s", why->msg);
  ro = json_object_get(iso, "readOnlyRootFS");
  if (ro && !json_is_boolean(ro))
    return rule_error(err, c, "\"isolators\".\"readOnlyRootFS\" must be true or false");
  r->memory = memory ? xstrdup(memory) : NULL;
  r->cpu = cpu ? xstrdup(cpu) : NULL;
  r->read_only_rootfs = ro && json_is_true(ro);
  return 0;
}

static int parse_decision(const struct rule_ctx *c, json_t *rule, struct stage1_policy_rule *r, podrun_error_t *err)
{
  const char *stage1, *minimum;

  if (get_string(c, rule, "stage1", &stage1, err) < 0 || get_string(c, rule, "minimum", &minimum, err) < 0)
    return -1;
  if (!stage1)
    return rule_error(err, c, "no \"stage1\" (fly, nspawn, kvm or a stage1 image name)");
  if (!stage1_is_flavor(stage1) && !stage1_image_is_valid(stage1))
    return rule_error(err, c, "\"stage1\" is %s: neither fly, nspawn, kvm nor a stage1 image NAME[:VERSION]",
                      QUOTE(stage1));
  r->minimum = STAGE1_LEVEL_NONE;
  if (minimum && !stage1_is_flavor(minimum))
    return rule_error(err, c, "\"minimum\" is %s, not fly, nspawn or kvm", QUOTE(minimum));
  if (minimum)
    r->minimum = stage1_level_of(minimum);
  if (r->minimum > stage1_level_of(stage1))
    return rule_error(err, c, "\"stage1\": %s is lighter than its own \"minimum\": %s%s", QUOTE(stage1),
                      QUOTE(minimum), stage1_is_flavor(stage1) ? "" : " (a stage1 image counts as fly)");
  r->stage1 = xstrdup(stage1);
  return 0;
}

static int parse_rule(const char *file, size_t idx, json_t *rule, struct stage1_policy_rule *r, podrun_error_t *err)
{
  static const char *const keys[] = { "name", "match", "stage1", "minimum", "isolators", NULL };
  struct rule_ctx c = { file, idx, NULL };
  const char *name;

  if (!json_is_object(rule))
    return rule_error(err, &c, "not an object");
  if (get_string(&c, rule, "name", &name, err) < 0)
    return -1;
  if (!name)
    return rule_error(err, &c, "no \"name\"");
  if (!rule_name_is_valid(name))
    return rule_error(err, &c, "\"name\" is %s: letters, digits, '-', '_' and '.', at most %d", QUOTE(name),
                      RULE_NAME_MAX);
  c.name = name;
  r->file = xstrdup(file);
  r->name = xstrdup(name);
  r->where = xasprintf("%s:%s", file, name);
  if (check_keys(&c, NULL, rule, keys, err) < 0 || parse_match(&c, rule, r, err) < 0 ||
      parse_decision(&c, rule, r, err) < 0 || parse_isolators(&c, rule, r, err) < 0)
    return -1;
  return 0;
}

/* {"rules": [RULE, …]} */
static int parse_file(const char *path, const char *text, size_t len, struct stage1_policy *p, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *what = xasprintf("stage1 policy %s", QUOTE(path));
  json_t *rules, *rule;
  const char *k;
  json_t *v;
  size_t i, first = p->n_rules;

  if (json_parse_untrusted(text, len, what, &j, err) < 0)
    return -1;
  if (!json_is_object(j) || !json_is_array(rules = json_object_get(j, "rules")))
    return podrun_error_set(err, 0, "%s: not an object with \"rules\": [ … ]", what);
  json_object_foreach (j, k, v)
    if (!streq(k, "rules"))
      return podrun_error_set(err, 0, "%s: unknown key %s (only \"rules\")", what, QUOTE(k));
  if (json_array_size(rules) > 0)
    p->rules = xrealloc(p->rules, (p->n_rules + json_array_size(rules)) * sizeof(*p->rules));
  json_array_foreach (rules, i, rule)
    {
      struct stage1_policy_rule *r = &p->rules[p->n_rules];
      *r = (struct stage1_policy_rule){ 0 };
      if (parse_rule(path, i + 1, rule, r, err) < 0)
        {
          rule_done(r);
          return -1;
        }
      p->n_rules++;
      for (size_t o = first; o + 1 < p->n_rules; o++)
        if (streq(p->rules[o].name, r->name))
          return podrun_error_set(err, 0, "%s: rule %zu (%s): a rule of that name comes before it (rule %zu)", what,
                                  i + 1, QUOTE(r->name), o - first + 1);
    }
  return 0;
}

/* Masked: an empty file, or a symlink to /dev/null (systemd's way). */
static bool is_masked(const struct stat *st)
{
  return (S_ISREG(st->st_mode) && st->st_size == 0) || (S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3));
}

static int read_file(const char *path, struct stage1_policy *p, podrun_error_t *err)
{
  _cleanup_free_ char *real = NULL, *text = NULL;
  struct stat st;
  size_t len = 0;

  if (stat(path, &st) < 0)
    return podrun_error_set(err, errno, "stage1 policy %s", QUOTE(path));
  if (is_masked(&st))
    return 0;
  if (!S_ISREG(st.st_mode))
    return podrun_error_set(err, 0, "stage1 policy %s: not a regular file", QUOTE(path));
  /* the configuration is the administrator's: its symlinks are followed */
  if (!(real = realpath(path, NULL)))
    return podrun_error_set(err, errno, "stage1 policy %s", QUOTE(path));
  if (fs_read_file_at(AT_FDCWD, real, POLICY_FILE_MAX, &text, &len, err) < 0)
    return podrun_error_wrap(err, "stage1 policy %s", QUOTE(path));
  return parse_file(path, text, len, p, err);
}

/* The *.json names of dir (not hidden ones); a missing dir has none. */
static int list_dir(const char *dir, char ***ret, podrun_error_t *err)
{
  _cleanup_(closedirp) DIR *d = opendir(dir);
  char **names = NULL;
  struct dirent *de;

  *ret = NULL;
  if (!d)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "stage1 policy: read %s", QUOTE(dir));
  while ((errno = 0, de = readdir(d)))
    {
      size_t n = strlen(de->d_name);
      if (de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".json"))
        names = strv_push(names, de->d_name);
    }
  if (errno)
    {
      strv_free(names);
      return podrun_error_set(err, errno, "stage1 policy: read %s", QUOTE(dir));
    }
  *ret = names;
  return 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

int stage1_policy_load(const char *local_dir, const char *system_dir, struct stage1_policy *ret, podrun_error_t *err)
{
  _cleanup_strv_ char **local = NULL, **sys = NULL, **all = NULL;
  struct stage1_policy p = { 0 };

  if (list_dir(local_dir, &local, err) < 0 || list_dir(system_dir, &sys, err) < 0)
    return -1;
  for (size_t i = 0; local && local[i]; i++)
    all = strv_push(all, local[i]);
  for (size_t i = 0; sys && sys[i]; i++)
    if (!strv_contains(local, sys[i]))
      all = strv_push(all, sys[i]);
  if (all)
    qsort(all, strv_length(all), sizeof(char *), cmp_str);
  for (size_t i = 0; all && all[i]; i++)
    {
      /* a local file masks the system's of the same name */
      _cleanup_free_ char *path =
          xasprintf("%s/%s", strv_contains(local, all[i]) ? local_dir : system_dir, all[i]);
      p.files = strv_push(p.files, path);
      if (read_file(path, &p, err) < 0)
        {
          stage1_policy_done(&p);
          return -1;
        }
    }
  *ret = p;
  return 0;
}

int stage1_policy_load_default(struct stage1_policy *ret, podrun_error_t *err)
{
  _cleanup_free_ char *local = xasprintf("%s/stage1.d", arg_local_config);
  _cleanup_free_ char *sys = xasprintf("%s/stage1.d", arg_system_config);
  return stage1_policy_load(local, sys, ret, err);
}

/* ---- matching ------------------------------------------------------------ */

bool stage1_policy_needs_signer(const struct stage1_policy *p)
{
  for (size_t i = 0; i < p->n_rules; i++)
    if (p->rules[i].match_verified != STAGE1_VERIFIED_ANY)
      return true;
  return false;
}

static bool glob_matches(const char *glob, const char *s)
{
  return s && fnmatch(glob, s, 0) == 0;
}

static bool kvs_match(const struct appc_kvs *globs, const struct appc_kvs *kvs)
{
  for (size_t i = 0; i < globs->n; i++)
    if (!glob_matches(globs->v[i].value, kvs ? appc_kvs_get(kvs, globs->v[i].name) : NULL))
      return false;
  return true;
}

static bool rule_matches(const struct stage1_policy_rule *r, const struct stage1_policy_image *img)
{
  if (r->match_name && !glob_matches(r->match_name, img->name))
    return false;
  if (r->match_verified != STAGE1_VERIFIED_ANY && (r->match_verified == STAGE1_VERIFIED_SIGNED) != img->is_signed)
    return false;
  return kvs_match(&r->match_labels, img->labels) && kvs_match(&r->match_annotations, img->annotations);
}

const struct stage1_policy_rule *stage1_policy_match(const struct stage1_policy *p,
                                                     const struct stage1_policy_image *img)
{
  for (size_t i = 0; i < p->n_rules; i++)
    if (rule_matches(&p->rules[i], img))
      return &p->rules[i];
  return NULL;
}

/* Is the key still in a trust store for that prefix (root.d for "")? */
static bool key_still_trusted(const char *prefix, const char *fingerprint)
{
  _cleanup_free_ char *escaped = *prefix ? trust_escape_prefix(prefix) : xstrdup("");
  _cleanup_free_ char *fpr = trust_normalize_fingerprint(fingerprint);
  const char *const dirs[] = { arg_local_config, arg_system_config };
  struct stat st;

  /* what the index holds is a fingerprint, and nothing that walks a path */
  if (!escaped || !fpr || !streq(fpr, fingerprint))
    return false;
  for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
    {
      _cleanup_free_ char *path = *prefix ? xasprintf("%s/trustedkeys/prefix.d/%s/%s", dirs[i], escaped, fingerprint)
                                          : xasprintf("%s/trustedkeys/root.d/%s", dirs[i], fingerprint);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return true;
    }
  return false;
}

int stage1_policy_signed(struct store *s, const char *id, const char *name, bool *ret_signed, char **ret_fingerprint,
                         podrun_error_t *err)
{
  struct store_signer sig = { 0 };

  if (store_get_signer(s, id, &sig, err) < 0)
    return podrun_error_wrap(err, "stage1 policy: image %s", QUOTE(name));
  *ret_signed = sig.fingerprint && sig.prefix && (!*sig.prefix || trust_prefix_covers(sig.prefix, name)) &&
                key_still_trusted(sig.prefix, sig.fingerprint);
  if (ret_fingerprint)
    *ret_fingerprint = sig.fingerprint ? xstrdup(sig.fingerprint) : NULL;
  store_signer_done(&sig);
  return 0;
}

int stage1_policy_match_image(const struct stage1_policy *p, struct store *s, const struct store_image *img,
                              const struct appc_image_manifest *im, const struct stage1_policy_rule **ret,
                              podrun_error_t *err)
{
  struct stage1_policy_image pi = { .name = im->name, .labels = &im->labels, .annotations = &im->annotations };

  *ret = NULL;
  if (p->n_rules == 0)
    return 0;
  if (stage1_policy_needs_signer(p) && stage1_policy_signed(s, img->id, im->name, &pi.is_signed, NULL, err) < 0)
    return -1;
  *ret = stage1_policy_match(p, &pi);
  return 0;
}

/* ---- deciding ------------------------------------------------------------ */

void stage1_decision_done(struct stage1_decision *d)
{
  free(d->stage1);
  free(d->rule);
  free(d->minimum_rule);
  free(d->minimum_image);
  *d = (struct stage1_decision){ 0 };
}

static const char *rule_where(const struct stage1_policy_rule *r)
{
  return r ? r->where : "no rule (the default)";
}

int stage1_policy_decide(const struct stage1_policy_rule *const *rules, char *const *images, size_t n,
                         struct stage1_decision *ret, podrun_error_t *err)
{
  const struct stage1_policy_rule *chosen = NULL, *min = NULL;
  const char *stage1 = NULL;
  size_t chosen_at = 0, min_at = 0;

  for (size_t i = 0; i < n; i++)
    {
      const struct stage1_policy_rule *r = rules[i];
      const char *s = r ? r->stage1 : STAGE1_POLICY_DEFAULT;
      enum stage1_level l = stage1_level_of(s);
      if (!stage1 || l > stage1_level_of(stage1) || (streq(s, stage1) && !chosen && r))
        stage1 = s, chosen = r, chosen_at = i;
      else if (l == stage1_level_of(stage1) && !streq(s, stage1))
        return podrun_error_set(err, 0, "stage1 policy: image %s gets %s (%s), image %s gets %s (%s): a pod has one "
                                        "stage1; run them in two pods or choose one with --stage1",
                                QUOTE(images[chosen_at]), QUOTE(stage1), rule_where(chosen), QUOTE(images[i]),
                                QUOTE(s), rule_where(r));
      if (r && r->minimum > (min ? min->minimum : STAGE1_LEVEL_NONE))
        min = r, min_at = i;
    }
  *ret = (struct stage1_decision){
    .stage1 = xstrdup(stage1 ? stage1 : STAGE1_POLICY_DEFAULT),
    .rule = chosen ? xstrdup(chosen->where) : NULL,
    .minimum = min ? min->minimum : STAGE1_LEVEL_NONE,
    .minimum_rule = min ? xstrdup(min->where) : NULL,
    .minimum_image = min ? xstrdup(images[min_at]) : NULL,
  };
  return 0;
}

int stage1_decision_check(const struct stage1_decision *d, const char *flag, enum stage1_level level,
                          podrun_error_t *err)
{
  if (level >= d->minimum)
    return 0;
  return podrun_error_set(err, 0, "%s: image %s must run in %s or heavier (stage1 policy %s)%s", flag,
                          QUOTE(d->minimum_image), stage1_level_name(d->minimum), QUOTE(d->minimum_rule),
                          startswith(flag, "--stage1-") ? "; a stage1 image counts as fly" : "");
}

void stage1_policy_apply_isolators(const struct stage1_policy_rule *r, bool user_memory, bool user_cpu,
                                   struct appc_app *app, bool *read_only_rootfs)
{
  if (!r)
    return;
  if (r->memory && !user_memory)
    appc_app_set_isolator(app, RESOURCE_MEMORY, json_pack("{s:s}", "limit", r->memory));
  if (r->cpu && !user_cpu)
    appc_app_set_isolator(app, RESOURCE_CPU, json_pack("{s:s}", "limit", r->cpu));
  if (r->read_only_rootfs)
    *read_only_rootfs = true;
}
