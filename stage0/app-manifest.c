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

/* Sets every NAME=VALUE of list in kvs, a later one replacing an earlier one. */
static int kvs_set_all(struct appc_kvs *kvs, const char *flag, char *const *list, podrun_error_t *err)
{
  for (size_t i = 0; list && list[i]; i++)
    {
      _cleanup_free_ char *name = NULL;
      const char *value = NULL;
      if (split_kv(flag, list[i], &name, &value, err) < 0)
        return -1;
      appc_kvs_set(kvs, name, value);
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
      if (*line && *line != '#' && *line != ';') /* comments, as rkt's */
        v = strv_push(v, line);
    }
  *ret = v;
  return 0;
}

static int apply_environment(struct appc_app *app, const struct app_args *a, const struct app_args *all,
                             podrun_error_t *err)
{
  struct appc_kvs env = { 0 };
  _cleanup_strv_ char **file = NULL;
  const char *env_file = a->env_file ? a->env_file : all->env_file;
  int r = 0;

  if (arg_run.inherit_env)
    r = kvs_set_all(&env, "inherit-env", environ, err);
  for (size_t i = 0; r >= 0 && i < app->environment.n; i++)
    appc_kvs_set(&env, app->environment.v[i].name, app->environment.v[i].value);
  if (r >= 0 && env_file)
    r = env_file_read(env_file, &file, err) < 0 ? -1 : kvs_set_all(&env, "set-env-file", file, err);
  if (r >= 0 && (kvs_set_all(&env, "set-env", all->set_env, err) < 0 || kvs_set_all(&env, "set-env", a->set_env, err) < 0 ||
                 kvs_set_all(&env, "environment", all->environment, err) < 0 ||
                 kvs_set_all(&env, "environment", a->environment, err) < 0))
    r = -1;
  appc_kvs_clear(&app->environment);
  app->environment = env;
  return r;
}

static int parse_gids(const char *s, gid_t **ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(s);
  _cleanup_free_ gid_t *v = xzalloc(sizeof(gid_t) * (strlen(s) / 2 + 1));
  char *save = NULL;
  size_t n = 0;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    {
      unsigned long long g;
      if (parse_uint(w, 4294967294ULL, &g) < 0)
        return podrun_error_set(err, 0, "--supplementary-gids %s: %s is not a group id", QUOTE(s), QUOTE(w));
      v[n++] = (gid_t) g;
    }
  *ret = TAKE_PTR(v);
  *ret_n = n;
  return 0;
}

#define PICK(field) (a->field ? a->field : all->field)

static void set_string(char **field, const char *value)
{
  free(*field);
  *field = xstrdup(value);
}

static int apply_exec(struct appc_app *app, const struct app_args *a, const struct app_args *all, podrun_error_t *err)
{
  const char *exec = PICK(exec);
  char **old = app->exec, **cmd = NULL;

  if (exec)
    cmd = strv_push(cmd, exec);
  else if (old && old[0])
    cmd = strv_push(cmd, old[0]);
  else
    return podrun_error_set(err, 0, "image %s has no app to run; give --exec", QUOTE(a->image));
  if (a->has_args)
    for (size_t i = 0; a->args[i]; i++)
      cmd = strv_push(cmd, a->args[i]);
  else if (!exec)
    for (size_t i = 1; old[i]; i++)
      cmd = strv_push(cmd, old[i]);
  strv_free(old);
  app->exec = cmd;
  return 0;
}

static int apply_identity(struct appc_app *app, const struct app_args *a, const struct app_args *all,
                          podrun_error_t *err)
{
  if (PICK(user) || !app->user)
    set_string(&app->user, PICK(user) ? PICK(user) : "0");
  if (PICK(group) || !app->group)
    set_string(&app->group, PICK(group) ? PICK(group) : "0");
  if (PICK(working_dir) && PICK(working_dir)[0] != '/')
    return podrun_error_new(err, 0, "--working-dir %s: not an absolute path", QUOTE(PICK(working_dir)));
  if (PICK(working_dir))
    set_string(&app->working_directory, PICK(working_dir));
  if (PICK(supplementary_gids))
    {
      gid_t *gids = NULL;
      size_t n = 0;
      if (parse_gids(PICK(supplementary_gids), &gids, &n, err) < 0)
        return -1;
      free(app->supplementary_gids);
      app->supplementary_gids = gids;
      app->n_supplementary_gids = n;
    }
  return 0;
}

/* --ulimit (every app's, then this app's) over the image's rlimits isolator. */
static int apply_rlimits(struct appc_app *app, const struct app_args *a, const struct app_args *all,
                         podrun_error_t *err)
{
  struct appc_isolator *iso = appc_app_get_isolator(app, RLIMITS_ISOLATOR);
  _cleanup_json_ json_t *value = iso ? json_deep_copy(iso->value) : NULL;
  _cleanup_free_ struct rlimit_entry *checked = NULL;
  char *const *lists[] = { all->ulimits, a->ulimits };
  size_t n;

  if (!all->ulimits && !a->ulimits)
    return 0;
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t j = 0; lists[l] && lists[l][j]; j++)
      if (rlimits_add_flag(&value, lists[l][j], err) < 0)
        return -1;
  if (rlimits_parse(value, &checked, &n, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(a->image));
  if (iso)
    {
      /* in its place: the image's isolators keep their order */
      json_decref(iso->value);
      iso->value = TAKE_PTR(value);
    }
  else
    appc_app_set_isolator(app, RLIMITS_ISOLATOR, TAKE_PTR(value));
  return 0;
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

static int caps_flag(struct appc_app *app, const char *flag, const char *value, const char *isolator,
                     podrun_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  uint64_t mask;
  if (!value)
    return 0;
  if (comma_list(flag, value, &names, err) < 0)
    return -1;
  if (caps_compute(names, NULL, &mask, err) < 0)
    return podrun_error_wrap(err, "--%s", flag);
  appc_app_set_isolator(app, isolator, json_pack("{s:o}", "set", json_strings(names)));
  return 0;
}

/* --seccomp=mode=retain|remove[,errno=ENAME],SYSCALL,… (rkt's syntax) */
static int seccomp_flag(struct appc_app *app, const char *value, podrun_error_t *err)
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
  json_t *v = json_pack("{s:o}", "set", json_strings(items + first));
  if (errname)
    json_object_set_new(v, "errno", json_string(errname));
  bool retain = streq(mode, "retain");
  const char *name = retain ? "os/linux/seccomp-retain-set" : "os/linux/seccomp-remove-set";
  /* the names and groups as stage2 will take them (it expands the groups) */
  struct syscalls_filter f;
  if (syscalls_filter_from_set(items + first, retain, errname, &f, err) < 0)
    {
      json_decref(v);
      return podrun_error_wrap(err, "--seccomp");
    }
  syscalls_filter_done(&f);
  appc_app_set_isolator(app, retain ? "os/linux/seccomp-remove-set" : "os/linux/seccomp-retain-set", NULL);
  appc_app_set_isolator(app, name, v);
  return 0;
}

static int oom_flag(struct appc_app *app, const char *value, podrun_error_t *err)
{
  long long v;
  if (!value)
    return 0;
  if (parse_int(value, -1000, 1000, &v) < 0)
    return podrun_error_set(err, 0, "--oom-score-adj=%s: expected a number from -1000 to 1000", ESCAPE(value));
  appc_app_set_isolator(app, "os/linux/oom-score-adj", json_integer(v));
  return 0;
}

static int resource_flags(struct appc_app *app, const struct app_args *a, const struct app_args *all,
                          podrun_error_t *err)
{
  uint64_t v;
  const char *q;
  if ((q = PICK(memory)))
    {
      if (resource_parse_bytes(q, &v, err) < 0)
        return podrun_error_wrap(err, "--memory");
      appc_app_set_isolator(app, RESOURCE_MEMORY, json_pack("{s:s}", "limit", q));
    }
  if ((q = PICK(cpu)))
    {
      if (resource_parse_millicores(q, &v, err) < 0)
        return podrun_error_wrap(err, "--cpu");
      appc_app_set_isolator(app, RESOURCE_CPU, json_pack("{s:s}", "limit", q));
    }
  if ((q = PICK(cpu_shares)))
    {
      long long n;
      if (parse_int(q, 2, 262144, &n) < 0)
        return podrun_error_set(err, 0, "--cpu-shares=%s: expected a number from 2 to 262144", ESCAPE(q));
      appc_app_set_isolator(app, RESOURCE_CPU_SHARES, json_integer(n));
    }
  return 0;
}

/* --caps-retain, --caps-remove, --seccomp, --oom-score-adj: each replaces the
 * image's isolator of the same kind (this app's flag, else every app's). */
static int apply_isolator_flags(struct appc_app *app, const struct app_args *a, const struct app_args *all,
                                podrun_error_t *err)
{
  if (caps_flag(app, "caps-retain", PICK(caps_retain), "os/linux/capabilities-retain-set", err) < 0 ||
      caps_flag(app, "caps-remove", PICK(caps_remove), "os/linux/capabilities-remove-set", err) < 0 ||
      seccomp_flag(app, PICK(seccomp), err) < 0 || oom_flag(app, PICK(oom_score_adj), err) < 0 ||
      resource_flags(app, a, all, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(a->image));
  return 0;
}

int app_manifest_effective(struct appc_image_manifest *im, const struct app_args *a, struct appc_app **ret_app,
                           podrun_error_t *err)
{
  const struct app_args *all = &arg_run.all;
  _cleanup_(appc_app_freep) struct appc_app *app = im->app ? TAKE_PTR(im->app) : xzalloc(sizeof(*app));

  if (apply_exec(app, a, all, err) < 0 || apply_identity(app, a, all, err) < 0 ||
      apply_environment(app, a, all, err) < 0 || apply_rlimits(app, a, all, err) < 0 ||
      apply_isolator_flags(app, a, all, err) < 0)
    return -1;
  if (kvs_set_all(&app->user_annotations, "user-annotation", all->user_annotations, err) < 0 ||
      kvs_set_all(&app->user_annotations, "user-annotation", a->user_annotations, err) < 0 ||
      kvs_set_all(&app->user_labels, "user-label", all->user_labels, err) < 0 ||
      kvs_set_all(&app->user_labels, "user-label", a->user_labels, err) < 0)
    return -1;
  *ret_app = TAKE_PTR(app);
  return 0;
}
