/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "app-config.h"

#include <linux/capability.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* {"set": ["A", "B"]} → a NULL-terminated list. */
static int string_set(const struct appc_isolator *iso, char ***ret, podrun_error_t *err)
{
  json_t *set = json_object_get(iso->value, "set");
  size_t i;
  json_t *v;
  char **out = NULL;

  if (!json_is_array(set))
    return podrun_error_new(err, 0, "isolator %s: \"set\" must be an array of strings", iso->name);
  json_array_foreach (set, i, v)
    {
      if (!json_is_string(v))
        {
          strv_free(out);
          return podrun_error_new(err, 0, "isolator %s: \"set\" must be an array of strings", iso->name);
        }
      out = strv_push(out, json_string_value(v));
    }
  *ret = out ? out : xzalloc(sizeof(char *));
  return 0;
}

static int path_list(const struct appc_isolator *iso, const char *key, char ***ret, podrun_error_t *err)
{
  json_t *v = json_object_get(iso->value, key), *e;
  size_t i;
  if (!v)
    return 0;
  if (!json_is_array(v))
    return podrun_error_new(err, 0, "isolator %s: \"%s\" must be an array of absolute paths", iso->name, key);
  json_array_foreach (v, i, e)
    {
      const char *path = json_string_value(e);
      if (!path || path[0] != '/' || strstr(path, "/../") || endswith(path, "/..") || strlen(path) > 4096)
        return podrun_error_new(err, 0, "isolator %s: \"%s\" must be an array of absolute paths without \"..\"",
                                iso->name, key);
      *ret = strv_push(*ret, path);
    }
  return 0;
}

static int masked_paths_isolator(const struct appc_isolator *iso, struct app_config *c, podrun_error_t *err)
{
  if (!json_is_object(iso->value))
    return podrun_error_new(err, 0, "isolator %s: value must be an object", iso->name);
  return path_list(iso, "masked", &c->masked_paths, err) < 0 ? -1 : path_list(iso, "readonly", &c->readonly_paths, err);
}

static int tmpfs_isolator(const struct appc_isolator *iso, struct app_config *c, podrun_error_t *err)
{
  size_t i;
  json_t *e;
  if (!json_is_array(iso->value))
    return podrun_error_new(err, 0, "isolator %s: value must be an array", iso->name);
  json_array_foreach (iso->value, i, e)
    {
      struct volumes_tmpfs t;
      if (volumes_tmpfs_parse(e, &t, err) < 0)
        return podrun_error_wrap(err, "isolator %s", iso->name);
      c->tmpfs = xrealloc(c->tmpfs, (c->n_tmpfs + 1) * sizeof(*c->tmpfs));
      c->tmpfs[c->n_tmpfs++] = t;
    }
  return 0;
}

static int bind_attrs_isolator(const struct appc_isolator *iso, struct app_config *c, podrun_error_t *err)
{
  size_t i, k;
  json_t *e, *o;
  if (!json_is_array(iso->value))
    return podrun_error_new(err, 0, "isolator %s: value must be an array", iso->name);
  json_array_foreach (iso->value, i, e)
    {
      const char *dest = json_string_value(json_object_get(e, "destination"));
      json_t *opts = json_object_get(e, "options");
      struct app_bind_attrs b = { .recursive = json_is_true(json_object_get(e, "recursive")) };
      if (!dest || dest[0] != '/' || strstr(dest, "/../") || endswith(dest, "/..") || !json_is_array(opts))
        return podrun_error_new(err, 0, "isolator %s: [%zu]: a \"destination\" (absolute, without \"..\") and "
                                        "\"options\"",
                                iso->name, i);
      json_array_foreach (opts, k, o)
        if (!json_is_string(o) || !volumes_mount_flag(json_string_value(o), &b.set, &b.clear))
          return podrun_error_new(err, 0, "isolator %s: [%zu]: option %s is not a mount attribute", iso->name, i,
                                  json_is_string(o) ? QUOTE(json_string_value(o)) : "(not a string)");
      b.destination = xstrdup(dest);
      c->bind_attrs = xrealloc(c->bind_attrs, (c->n_bind_attrs + 1) * sizeof(*c->bind_attrs));
      c->bind_attrs[c->n_bind_attrs++] = b;
    }
  return 0;
}

static int seccomp_isolator(const struct appc_isolator *iso, struct app_config *c, podrun_error_t *err)
{
  struct syscalls_filter f;
  if (c->seccomp_given)
    return podrun_error_new(err, 0, "isolator %s: only one seccomp isolator per app", iso->name);
  if (syscalls_filter_from_isolator(iso->name, iso->value, &f, err) < 0)
    return -1;
  c->seccomp_given = true;
  if (f.profile)
    {
      c->seccomp = true;
      c->seccomp_profile = f;
      return 0;
    }
  c->seccomp = !f.none; /* @appc.io/all: no filter, not even a default one */
  c->seccomp_mode = f.retain ? ISOLATE_SECCOMP_RETAIN : ISOLATE_SECCOMP_REMOVE;
  c->seccomp_errno = f.errnum;
  c->seccomp_syscalls = f.names ? TAKE_PTR(f.names) : xzalloc(sizeof(char *));
  return 0;
}

int app_config_from_isolators(const struct appc_app *app, bool keep_caps_by_default, struct app_config *ret,
                              podrun_error_t *err)
{
  struct app_config c = { 0 };
  _cleanup_strv_ char **retain = NULL, **remove = NULL;
  bool caps_given = false;
  int r = 0;

  for (size_t i = 0; i < app->n_isolators && r >= 0; i++)
    {
      const struct appc_isolator *iso = &app->isolators[i];
      if (streq(iso->name, "os/linux/capabilities-retain-set"))
        r = (caps_given = true, string_set(iso, &retain, err));
      else if (streq(iso->name, "os/linux/capabilities-remove-set"))
        r = (caps_given = true, string_set(iso, &remove, err));
      else if (streq(iso->name, "os/linux/no-new-privileges"))
        {
          if (!json_is_boolean(iso->value))
            r = podrun_error_new(err, 0, "isolator %s: value must be true or false", iso->name);
          c.no_new_privs = json_is_true(iso->value);
        }
      else if (streq(iso->name, "os/linux/seccomp-retain-set") || streq(iso->name, "os/linux/seccomp-remove-set") ||
               streq(iso->name, SYSCALLS_PROFILE_ISOLATOR))
        r = seccomp_isolator(iso, &c, err);
      else if (streq(iso->name, "os/linux/oom-score-adj"))
        {
          json_int_t v = json_integer_value(iso->value);
          if (!json_is_integer(iso->value) || v < -1000 || v > 1000)
            r = podrun_error_new(err, 0, "isolator %s: value must be a number from -1000 to 1000", iso->name);
          c.has_oom_score_adj = true;
          c.oom_score_adj = (int) v;
        }
      else if (streq(iso->name, BIND_ATTRS_ISOLATOR))
        r = bind_attrs_isolator(iso, &c, err);
      else if (streq(iso->name, TMPFS_ISOLATOR))
        r = tmpfs_isolator(iso, &c, err);
      else if (streq(iso->name, MASKED_PATHS_ISOLATOR))
        r = masked_paths_isolator(iso, &c, err);
      else if (streq(iso->name, RLIMITS_ISOLATOR))
        {
          free(c.rlimits);
          r = rlimits_parse(iso->value, &c.rlimits, &c.n_rlimits, err);
        }
    }
  if (r >= 0 && !caps_given && keep_caps_by_default)
    c.caps = caps_all();
  else if (r >= 0)
    r = caps_compute(retain, remove, &c.caps, err);
  if (r < 0)
    {
      app_config_done(&c);
      return -1;
    }
  *ret = c;
  return 0;
}

bool app_config_caps_given(const struct appc_app *app)
{
  for (size_t i = 0; i < app->n_isolators; i++)
    if (streq(app->isolators[i].name, "os/linux/capabilities-retain-set") ||
        streq(app->isolators[i].name, "os/linux/capabilities-remove-set"))
      return true;
  return false;
}

void app_config_done(struct app_config *c)
{
  strv_free(c->seccomp_syscalls);
  c->seccomp_syscalls = NULL;
  syscalls_filter_done(&c->seccomp_profile);
  strv_free(c->masked_paths);
  c->masked_paths = NULL;
  strv_free(c->readonly_paths);
  c->readonly_paths = NULL;
  for (size_t i = 0; i < c->n_tmpfs; i++)
    volumes_tmpfs_done(&c->tmpfs[i]);
  free(c->tmpfs);
  c->tmpfs = NULL;
  c->n_tmpfs = 0;
  for (size_t i = 0; i < c->n_bind_attrs; i++)
    free(c->bind_attrs[i].destination);
  free(c->bind_attrs);
  c->bind_attrs = NULL;
  c->n_bind_attrs = 0;
  free(c->rlimits);
  c->rlimits = NULL;
}

char **app_config_environment(const struct appc_app *app, const char *app_name)
{
  char **env = NULL;
  bool has_path = false;
  for (size_t i = 0; i < app->environment.n; i++)
    {
      _cleanup_free_ char *kv = xasprintf("%s=%s", app->environment.v[i].name, app->environment.v[i].value);
      has_path |= streq(app->environment.v[i].name, "PATH");
      env = strv_push(env, kv);
    }
  if (!has_path)
    env = strv_push(env, "PATH=" DEFAULT_PATH);
  _cleanup_free_ char *name = xasprintf("AC_APP_NAME=%s", app_name);
  return strv_push(env, name);
}
