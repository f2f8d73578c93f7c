/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage2: the one place where per-app isolation is applied (DESIGN §1). */
#include "stage2.h"

#include <fcntl.h>

#include "app-config.h"
#include "fs.h"
#include "identity.h"
#include "json-util.h"

int stage2_parse_args(int argc, char **argv, struct stage2_args *ret, podrun_error_t *err)
{
  struct stage2_args a = { 0 };
  for (int i = 1; i < argc; i++)
    {
      const char *v;
      if (streq(argv[i], "--"))
        {
          a.cmd = argv + i + 1;
          break;
        }
      if ((v = startswith(argv[i], "--pod-manifest=")))
        a.pod_manifest = v;
      else if ((v = startswith(argv[i], "--app=")))
        a.app = v;
      else if ((v = startswith(argv[i], "--root=")))
        a.root = v;
      else if (streq(argv[i], "--keep-caps-by-default"))
        a.keep_caps_by_default = true;
      else if (streq(argv[i], "--default-seccomp"))
        a.default_seccomp = true;
      else if (!streq(argv[i], "--enter"))
        return podrun_error_new(err, 0, "unknown argument \"%s\"", argv[i]);
    }
  if (!a.pod_manifest || !a.app || !a.root)
    return podrun_error_new(err, 0, "usage: stage2 --pod-manifest=FILE --app=NAME --root=DIR [-- CMD ARGS…]");
  if (a.cmd && !a.cmd[0])
    return podrun_error_new(err, 0, "\"--\" without a command");
  *ret = a;
  return 0;
}

static int find_app(const struct appc_pod_manifest *m, const char *name, const struct appc_app **ret,
                    podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    if (streq(m->apps[i].name, name))
      {
        if (!m->apps[i].app)
          return podrun_error_new(err, 0, "app \"%s\": the pod manifest has no app section", name);
        *ret = m->apps[i].app;
        return 0;
      }
  return podrun_error_new(err, 0, "app \"%s\": not in the pod manifest", name);
}

/* execvp's search, in the app's PATH (not ours). */
static void exec_in_path(char **argv, char **envp)
{
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (strchr(argv[0], '/'))
    {
      execve(argv[0], argv, envp);
      return;
    }
  for (char **e = envp; *e; e++)
    if (startswith(*e, "PATH="))
      path = *e + 5;
  _cleanup_free_ char *copy = xstrdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
    {
      _cleanup_free_ char *p = xasprintf("%s/%s", dir, argv[0]);
      execve(p, argv, envp);
    }
  errno = ENOENT;
}

static int switch_identity(const struct appc_app *app, const struct app_config *c, podrun_error_t *err)
{
  uid_t uid;
  gid_t gid;
  if (identity_resolve_user(app->user, &uid, err) < 0 || identity_resolve_group(app->group, &gid, err) < 0)
    return -1;
  return isolate_set_identity(uid, gid, app->supplementary_gids, app->n_supplementary_gids, c->caps, err);
}

static int set_oom_score_adj(int v, podrun_error_t *err)
{
  _cleanup_free_ char *text = xasprintf("%d\n", v);
  _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "oom_score_adj %d", v);
  return fs_write_all(fd, text, strlen(text), err) < 0 ? podrun_error_wrap(err, "oom_score_adj %d", v) : 0;
}

static int apply(const struct appc_app *app, const struct app_config *c, const char *root, podrun_error_t *err)
{
  if (c->has_oom_score_adj && set_oom_score_adj(c->oom_score_adj, err) < 0)
    return -1;
  if (chroot(root) < 0 || chdir("/") < 0)
    return podrun_error_set(err, errno, "enter the app's root \"%s\"", root);
  if (app->working_directory && chdir(app->working_directory) < 0)
    return podrun_error_set(err, errno, "working directory \"%s\"", app->working_directory);
  for (size_t i = 0; i < c->n_rlimits; i++) /* while still privileged: raising a hard limit needs it */
    if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].limit) < 0)
      return podrun_error_set(err, errno, "resource limit \"%s\"", c->rlimits[i].name);
  if (switch_identity(app, c, err) < 0)
    return -1;
  if (c->no_new_privs && isolate_no_new_privs(err) < 0)
    return -1;
  if (c->seccomp && isolate_seccomp(c->seccomp_mode, c->seccomp_syscalls, c->seccomp_errno, err) < 0)
    return -1;
  return 0;
}

int stage2_exec(const struct stage2_args *a, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_strv_ char **env = NULL;
  const struct appc_app *app = NULL;
  struct app_config c;
  size_t len = 0;

  if (fs_read_file_at(AT_FDCWD, a->pod_manifest, JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &m, err) < 0 || find_app(m, a->app, &app, err) < 0)
    return -1;
  if (!a->cmd && !app->exec)
    return podrun_error_new(err, 0, "app \"%s\": nothing to run (no exec)", a->app);
  if (app_config_from_isolators(app, a->keep_caps_by_default, &c, err) < 0)
    return podrun_error_wrap(err, "app \"%s\"", a->app);
  if (!c.seccomp && a->default_seccomp)
    {
      c.seccomp = true;
      c.seccomp_mode = ISOLATE_SECCOMP_REMOVE;
      c.seccomp_errno = EPERM;
      for (const char *const *s = isolate_default_seccomp_blocklist; *s; s++)
        c.seccomp_syscalls = strv_push(c.seccomp_syscalls, *s);
    }
  env = app_config_environment(app, a->app);
  int r = apply(app, &c, a->root, err);
  app_config_done(&c);
  if (r < 0)
    return podrun_error_wrap(err, "app \"%s\"", a->app);
  char **argv = a->cmd ? a->cmd : app->exec;
  exec_in_path(argv, env);
  return podrun_error_set(err, errno, "app \"%s\": exec \"%s\"", a->app, argv[0]);
}
