/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The effective app of each pod app: the image's app with the command
 * line's overrides applied, written into the pod manifest so that a stage1
 * never needs the image manifests. Environment precedence, as in rkt:
 * inherited < image < --set-env-file < --set-env < --environment. */
#include <ctype.h>
#include <fcntl.h>

#include "appc.h"
#include "caps.h"
#include "fs.h"
#include "json-util.h"
#include "pod-setup.h"
#include "resources.h"
#include "rlimits.h"
#include "syscalls.h"

extern char **environ;

/* "NAME=VALUE" → name, value; the error names the flag. */
static int split_kv(const char *flag, const char *s, char **ret_name, const char **ret_value, podrun_error_t *err)
{
  const char *eq = strchr(s, '=');
  if (!eq || eq == s)
    return podrun_error_set(err, 0, "--%s %s: expected NAME=VALUE", flag, QUOTE(s));
  *ret_name = xstrndup(s, (size_t) (eq - s));
  *ret_value = eq + 1;
  return 0;
}

/* Sets name=value in an appc [{name, value}] array, replacing an earlier one. */
static void kvs_set(json_t *arr, const char *name, const char *value)
{
  size_t i;
  json_t *e;
  json_array_foreach (arr, i, e)
    if (streq_ptr(json_string_value(json_object_get(e, "name")), name))
      {
        json_object_set_new(e, "value", json_string(value));
        return;
      }
  json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name, "value", value));
}

static int kvs_set_all(json_t *arr, const char *flag, char *const *list, podrun_error_t *err)
{
  for (size_t i = 0; list && list[i]; i++)
    {
      _cleanup_free_ char *name = NULL;
      const char *value = NULL;
      if (split_kv(flag, list[i], &name, &value, err) < 0)
        return -1;
      kvs_set(arr, name, value);
    }
  return 0;
}

static int env_file_read(const char *path, char ***ret, podrun_error_t *err)
{
  _cleanup_free_ char *buf = NULL;
  char **v = NULL, *save = NULL;

  if (fs_read_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL, err) < 0)
    return podrun_error_wrap(err, "--set-env-file");
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
      while (isspace((unsigned char) *line))
        line++;
      if (*line && *line != '#')
        v = strv_push(v, line);
    }
  *ret = v;
  return 0;
}

/* userAnnotations and userLabels are JSON objects, NAME → VALUE. */
static int map_set_all(json_t *app, const char *key, const char *flag, char *const *list, podrun_error_t *err)
{
  for (size_t i = 0; list && list[i]; i++)
    {
      _cleanup_free_ char *name = NULL;
      const char *value = NULL;
      json_t *map = json_object_get(app, key);
      if (split_kv(flag, list[i], &name, &value, err) < 0)
        return -1;
      if (!json_is_object(map))
        json_object_set_new(app, key, map = json_object());
      json_object_set_new(map, name, json_string(value));
    }
  return 0;
}

static int apply_environment(json_t *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  _cleanup_json_ json_t *env = json_array();
  _cleanup_strv_ char **file = NULL;
  const char *env_file = a->env_file ? a->env_file : all->env_file;

  if (arg_run.inherit_env && kvs_set_all(env, "inherit-env", environ, err) < 0)
    return -1;
  json_t *image_env = json_object_get(app, "environment");
  size_t i;
  json_t *e;
  json_array_foreach (image_env, i, e)
    kvs_set(env, json_string_value(json_object_get(e, "name")), json_string_value(json_object_get(e, "value")));
  if (env_file && (env_file_read(env_file, &file, err) < 0 || kvs_set_all(env, "set-env-file", file, err) < 0))
    return -1;
  if (kvs_set_all(env, "set-env", all->set_env, err) < 0 || kvs_set_all(env, "set-env", a->set_env, err) < 0 ||
      kvs_set_all(env, "environment", all->environment, err) < 0 ||
      kvs_set_all(env, "environment", a->environment, err) < 0)
    return -1;
  json_object_set(app, "environment", env);
  return 0;
}

static int parse_gids(const char *s, json_t **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *arr = json_array();
  _cleanup_free_ char *copy = xstrdup(s);
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    {
      unsigned long long v;
      if (parse_uint(w, 4294967294ULL, &v) < 0)
        return podrun_error_set(err, 0, "--supplementary-gids %s: %s is not a group id", QUOTE(s), QUOTE(w));
      json_array_append_new(arr, json_integer((json_int_t) v));
    }
  *ret = TAKE_PTR(arr);
  return 0;
}

#define PICK(field) (a->field ? a->field : all->field)

static int apply_exec(json_t *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  const char *exec = PICK(exec);
  json_t *old = json_object_get(app, "exec");
  _cleanup_json_ json_t *cmd = json_array();

  if (exec)
    json_array_append_new(cmd, json_string(exec));
  else if (json_array_size(old) > 0)
    json_array_append(cmd, json_array_get(old, 0));
  else
    return podrun_error_set(err, 0, "image %s has no app to run; give --exec", QUOTE(a->image));
  if (a->has_args)
    for (size_t i = 0; a->args[i]; i++)
      json_array_append_new(cmd, json_string(a->args[i]));
  else if (!exec)
    for (size_t i = 1; i < json_array_size(old); i++)
      json_array_append(cmd, json_array_get(old, i));
  json_object_set(app, "exec", cmd);
  return 0;
}

static int apply_identity(json_t *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  json_t *gids = NULL;
  if (PICK(user) || !json_object_get(app, "user"))
    json_object_set_new(app, "user", json_string(PICK(user) ? PICK(user) : "0"));
  if (PICK(group) || !json_object_get(app, "group"))
    json_object_set_new(app, "group", json_string(PICK(group) ? PICK(group) : "0"));
  if (PICK(working_dir))
    json_object_set_new(app, "workingDirectory", json_string(PICK(working_dir)));
  if (PICK(supplementary_gids))
    {
      if (parse_gids(PICK(supplementary_gids), &gids, err) < 0)
        return -1;
      json_object_set_new(app, "supplementaryGIDs", gids);
    }
  return 0;
}

/* --ulimit (every app's, then this app's) over the image's rlimits isolator. */
static int apply_rlimits(json_t *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  json_t *isolators = json_object_get(app, "isolators"), *iso;
  _cleanup_json_ json_t *value = NULL;
  size_t i, at = SIZE_MAX;
  char *const *lists[] = { all->ulimits, a->ulimits };

  if (!all->ulimits && !a->ulimits)
    return 0;
  json_array_foreach(isolators, i, iso)
    if (streq_ptr(json_string_value(json_object_get(iso, "name")), RLIMITS_ISOLATOR))
      {
        at = i;
        value = json_deep_copy(json_object_get(iso, "value"));
      }
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t j = 0; lists[l] && lists[l][j]; j++)
      if (rlimits_add_flag(&value, lists[l][j], err) < 0)
        return -1;
  _cleanup_free_ struct rlimit_entry *checked = NULL;
  size_t n;
  if (rlimits_parse(value, &checked, &n, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(a->image));
  if (!isolators)
    json_object_set_new(app, "isolators", isolators = json_array());
  iso = json_pack("{s:s,s:O}", "name", RLIMITS_ISOLATOR, "value", value);
  if (at == SIZE_MAX)
    json_array_append_new(isolators, iso);
  else
    json_array_set_new(isolators, at, iso);
  return 0;
}

/* Drops the isolators named `name` (and `also`, when not NULL) and appends
 * {name, value}, taking value. */
static void set_isolator(json_t *app, const char *name, const char *also, json_t *value)
{
  json_t *isolators = json_object_get(app, "isolators"), *kept = json_array(), *iso;
  size_t i;
  json_array_foreach(isolators, i, iso)
    {
      const char *n = json_string_value(json_object_get(iso, "name"));
      if (!streq_ptr(n, name) && !(also && streq_ptr(n, also)))
        json_array_append(kept, iso);
    }
  json_array_append_new(kept, json_pack("{s:s,s:o}", "name", name, "value", value));
  json_object_set_new(app, "isolators", kept);
}

/* "A,B,C" → its items (empty ones refused). */
static int comma_list(const char *flag, const char *s, char ***ret, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(s);
  char **v = NULL, *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    v = strv_push(v, t);
  if (!v || strstr(s, ",,") || s[strlen(s) - 1] == ',')
    {
      strv_free(v);
      return podrun_error_set(err, 0, "--%s=%s: expected a comma-separated list", flag, ESCAPE(s));
    }
  *ret = v;
  return 0;
}

static json_t *json_strings(char *const *v)
{
  json_t *arr = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(arr, json_string(v[i]));
  return arr;
}

static int caps_flag(json_t *app, const char *flag, const char *value, const char *isolator, podrun_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  uint64_t mask;
  if (!value)
    return 0;
  if (comma_list(flag, value, &names, err) < 0)
    return -1;
  if (caps_compute(names, NULL, &mask, err) < 0)
    return podrun_error_wrap(err, "--%s", flag);
  set_isolator(app, isolator, NULL, json_pack("{s:o}", "set", json_strings(names)));
  return 0;
}

/* --seccomp=mode=retain|remove[,errno=ENAME],SYSCALL,… (rkt's syntax) */
static int seccomp_flag(json_t *app, const char *value, podrun_error_t *err)
{
  _cleanup_strv_ char **items = NULL;
  const char *mode, *errname = NULL;
  size_t first = 1;

  if (!value)
    return 0;
  if (comma_list("seccomp", value, &items, err) < 0)
    return -1;
  if (!(mode = startswith(items[0], "mode=")) || (!streq(mode, "retain") && !streq(mode, "remove")))
    return podrun_error_set(err, 0, "--seccomp=%s: starts with mode=retain or mode=remove", ESCAPE(value));
  if (items[1] && (errname = startswith(items[1], "errno=")))
    {
      first = 2;
      if (syscalls_errno_from_name(errname) < 0)
        return podrun_error_set(err, 0, "--seccomp: errno=%s is not an errno name podrun knows", ESCAPE(errname));
    }
  if (!items[first])
    return podrun_error_set(err, 0, "--seccomp=%s: no syscalls listed", ESCAPE(value));
  for (size_t i = first; items[i]; i++)
    if (!syscalls_is_known(items[i]))
      return podrun_error_set(err, 0, "--seccomp: unknown syscall %s", QUOTE(items[i]));
  json_t *v = json_pack("{s:o}", "set", json_strings(items + first));
  if (errname)
    json_object_set_new(v, "errno", json_string(errname));
  bool retain = streq(mode, "retain");
  set_isolator(app, retain ? "os/linux/seccomp-retain-set" : "os/linux/seccomp-remove-set",
               retain ? "os/linux/seccomp-remove-set" : "os/linux/seccomp-retain-set", v);
  return 0;
}

static int oom_flag(json_t *app, const char *value, podrun_error_t *err)
{
  long long v;
  if (!value)
    return 0;
  if (parse_int(value, -1000, 1000, &v) < 0)
    return podrun_error_set(err, 0, "--oom-score-adj=%s: expected a number from -1000 to 1000", ESCAPE(value));
  set_isolator(app, "os/linux/oom-score-adj", NULL, json_integer(v));
  return 0;
}

static int resource_flags(json_t *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  uint64_t v;
  const char *q;
  if ((q = PICK(memory)))
    {
      if (resource_parse_bytes(q, &v, err) < 0)
        return podrun_error_wrap(err, "--memory");
      set_isolator(app, RESOURCE_MEMORY, NULL, json_pack("{s:s}", "limit", q));
    }
  if ((q = PICK(cpu)))
    {
      if (resource_parse_millicores(q, &v, err) < 0)
        return podrun_error_wrap(err, "--cpu");
      set_isolator(app, RESOURCE_CPU, NULL, json_pack("{s:s}", "limit", q));
    }
  if ((q = PICK(cpu_shares)))
    {
      long long n;
      if (parse_int(q, 2, 262144, &n) < 0)
        return podrun_error_set(err, 0, "--cpu-shares=%s: expected a number from 2 to 262144", ESCAPE(q));
      set_isolator(app, RESOURCE_CPU_SHARES, NULL, json_integer(n));
    }
  return 0;
}

/* --caps-retain, --caps-remove, --seccomp, --oom-score-adj: each replaces the
 * image's isolator of the same kind (this app's flag, else every app's). */
static int apply_isolator_flags(json_t *app, const struct app_args *a, const struct app_args *all,
                                podrun_error_t *err)
{
  if (caps_flag(app, "caps-retain", PICK(caps_retain), "os/linux/capabilities-retain-set", err) < 0 ||
      caps_flag(app, "caps-remove", PICK(caps_remove), "os/linux/capabilities-remove-set", err) < 0 ||
      seccomp_flag(app, PICK(seccomp), err) < 0 || oom_flag(app, PICK(oom_score_adj), err) < 0 ||
      resource_flags(app, a, all, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(a->image));
  return 0;
}

int app_manifest_effective(const struct appc_image_manifest *im, const struct app_args *a, json_t **ret_app,
                           podrun_error_t *err)
{
  const struct app_args *all = &arg_run.all;
  _cleanup_json_ json_t *imj = appc_image_manifest_to_json(im);
  _cleanup_json_ json_t *app = NULL;

  app = json_deep_copy(json_object_get(imj, "app"));
  if (!app)
    app = json_object();
  if (apply_exec(app, a, all, err) < 0 || apply_identity(app, a, all, err) < 0 ||
      apply_environment(app, a, all, err) < 0 || apply_rlimits(app, a, all, err) < 0 ||
      apply_isolator_flags(app, a, all, err) < 0)
    return -1;
  if (map_set_all(app, "userAnnotations", "user-annotation", all->user_annotations, err) < 0 ||
      map_set_all(app, "userAnnotations", "user-annotation", a->user_annotations, err) < 0 ||
      map_set_all(app, "userLabels", "user-label", all->user_labels, err) < 0 ||
      map_set_all(app, "userLabels", "user-label", a->user_labels, err) < 0)
    return -1;
  *ret_app = TAKE_PTR(app);
  return 0;
}
