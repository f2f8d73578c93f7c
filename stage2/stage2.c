/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage2: the one place where per-app isolation is applied (DESIGN §1). */
#include "stage2-internal.h"

#include <fcntl.h>
#include <linux/capability.h>

#include "app-config.h"
#include "fs.h"
#include "identity.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "volumes.h"

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
      else if (streq(argv[i], "--host-network"))
        a.host_network = true;
      else if (streq(argv[i], "--pid-init"))
        a.pid_init = true;
      else if (streq(argv[i], STAGE1_DISABLE_CAPS))
        a.disable_caps = true;
      else if (streq(argv[i], STAGE1_DISABLE_PATHS))
        a.disable_paths = true;
      else if (streq(argv[i], STAGE1_DISABLE_SECCOMP))
        a.disable_seccomp = true;
      else if ((v = startswith(argv[i], "--listen-fds=")))
        {
          unsigned long long n;
          if (parse_uint(v, 64, &n) < 0 || n == 0)
            return podrun_error_new(err, 0, "--listen-fds=%s: expected 1 to 64", v);
          a.listen_fds = (unsigned) n;
        }
      else if ((v = startswith(argv[i], "--listen-fdnames=")))
        a.listen_fdnames = v;
      else if ((v = startswith(argv[i], "--notify-socket=")))
        a.notify_socket = v;
      else if ((v = startswith(argv[i], "--watchdog-usec=")))
        {
          unsigned long long u;
          if (parse_uint(v, UINT64_MAX, &u) < 0 || u == 0)
            return podrun_error_new(err, 0, "--watchdog-usec=%s: expected a number of microseconds", v);
          a.watchdog_usec = v;
        }
      else
        return podrun_error_new(err, 0, "unknown argument \"%s\"", argv[i]);
    }
  if (!a.pod_manifest || !a.app || !a.root)
    return podrun_error_new(err, 0, "usage: stage2 --pod-manifest=FILE --app=NAME --root=DIR [-- CMD ARGS…]");
  if (a.cmd && !a.cmd[0])
    return podrun_error_new(err, 0, "\"--\" without a command");
  *ret = a;
  return 0;
}

/* What the stage1 passes the app for systemd (stage2.h): the sockets' and
 * the notify socket's variables, replacing any of the app's own. */
static void add_systemd_env(struct stage2_plan *p, const struct stage2_args *a)
{
  static const char *const ours[] = { "LISTEN_FDS=", "LISTEN_FDNAMES=", "LISTEN_PID=", "NOTIFY_SOCKET=",
                                      "WATCHDOG_USEC=", "WATCHDOG_PID=" };
  size_t k = 0;
  for (size_t i = 0; p->env && p->env[i]; i++)
    {
      bool drop = false;
      for (size_t j = 0; j < ELEMENTSOF(ours) && !drop; j++)
        drop = startswith(p->env[i], ours[j]) != NULL;
      if (drop)
        free(p->env[i]);
      else
        p->env[k++] = p->env[i];
    }
  if (p->env)
    p->env[k] = NULL;
  if (a->listen_fds)
    {
      _cleanup_free_ char *n = xasprintf("LISTEN_FDS=%u", a->listen_fds);
      p->env = strv_push(p->env, n);
      p->listen_pid = true;
    }
  if (a->listen_fds && a->listen_fdnames)
    {
      _cleanup_free_ char *names = xasprintf("LISTEN_FDNAMES=%s", a->listen_fdnames);
      p->env = strv_push(p->env, names);
    }
  if (a->notify_socket)
    {
      _cleanup_free_ char *sock = xasprintf("NOTIFY_SOCKET=%s", a->notify_socket);
      p->env = strv_push(p->env, sock);
    }
  if (a->notify_socket && a->watchdog_usec)
    {
      /* no WATCHDOG_PID: sd_watchdog_enabled() takes it as the app's own */
      _cleanup_free_ char *usec = xasprintf("WATCHDOG_USEC=%s", a->watchdog_usec);
      p->env = strv_push(p->env, usec);
    }
}

/* AC_METADATA_URL (Documentation/metadata-service.md): the pod's, when
 * `run --mds-register` registered it, is in the file STAGE2_MDS_URL beside
 * the pod manifest (the host's pod directory, or where the stage1 binds it:
 * nothing of the pod writes there), mode 0600, never on a command line,
 * where any user of the host could read the token. No file, or an empty
 * one (a stage1's mount point with nothing bound): no URL. */
static int add_metadata_url(struct stage2_plan *p, const char *pod_manifest, podrun_error_t *err)
{
  const char *slash = strrchr(pod_manifest, '/');
  _cleanup_free_ char *path = slash ? xasprintf("%.*s/" STAGE2_MDS_URL, (int) (slash - pod_manifest), pod_manifest)
                                    : xstrdup(STAGE2_MDS_URL);
  _cleanup_free_ char *url = NULL;
  _cleanup_error_ podrun_error_t e = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 4096, &url, NULL, &e) < 0)
    return e->status == ENOENT ? 0 : podrun_error_new(err, e->status, "%s", e->msg);
  if (!*url)
    return 0;
  if (!startswith(url, "http://") || strpbrk(url, " \t\r\n"))
    return podrun_error_new(err, 0, "%s: not a metadata service URL", QUOTE(path));
  size_t k = 0;
  for (size_t i = 0; p->env && p->env[i]; i++)
    if (startswith(p->env[i], "AC_METADATA_URL="))
      free(p->env[i]);
    else
      p->env[k++] = p->env[i];
  if (p->env)
    p->env[k] = NULL;
  _cleanup_free_ char *kv = xasprintf("AC_METADATA_URL=%s", url);
  p->env = strv_push(p->env, kv);
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
  int found = ENOENT; /* or why one that exists could not be run */
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
    {
      _cleanup_free_ char *p = xasprintf("%s/%s", dir, argv[0]);
      execve(p, argv, envp);
      if (errno != ENOENT && errno != ENOTDIR)
        found = errno;
    }
  errno = found;
}

static int switch_identity(const struct stage2_plan *p, podrun_error_t *err)
{
  uid_t uid = p->uid;
  gid_t gid = p->gid;
  if (p->identity_given)
    return isolate_set_identity(uid, gid, p->groups, p->n_groups, p->config.caps, err);
  if (identity_resolve_user(p->app->user, &uid, err) < 0 || identity_resolve_group(p->app->group, &gid, err) < 0)
    return -1;
  return isolate_set_identity(uid, gid, p->app->supplementary_gids, p->app->n_supplementary_gids, p->config.caps,
                              err);
}

static int set_oom_score_adj(int v, podrun_error_t *err)
{
  _cleanup_free_ char *text = xasprintf("%d\n", v);
  _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "oom_score_adj %d", v);
  return fs_write_all(fd, text, strlen(text), err) < 0 ? podrun_error_wrap(err, "oom_score_adj %d", v) : 0;
}

int stage2_mask_paths(const struct stage2_plan *p, const char *root, podrun_error_t *err)
{
  for (size_t i = 0; i < p->config.n_bind_attrs; i++)
    {
      const struct app_bind_attrs *b = &p->config.bind_attrs[i];
      if (volumes_set_attrs(root, b->destination, b->set, b->clear, b->recursive, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < p->config.n_tmpfs; i++)
    if (volumes_mount_tmpfs(root, &p->config.tmpfs[i], err) < 0)
      return -1;
  if (p->disable_paths || (!p->config.masked_paths && !p->config.readonly_paths))
    return 0;
  return volumes_mask_app_paths(root, p->config.masked_paths, p->config.readonly_paths, err);
}

static int apply(const struct stage2_plan *p, const char *root, podrun_error_t *err)
{
  const struct app_config *c = &p->config;
  if (c->has_oom_score_adj && set_oom_score_adj(c->oom_score_adj, err) < 0)
    return -1;
  if (root && (isolate_own_mount_ns(root, err) < 0 || stage2_mask_paths(p, root, err) < 0 ||
               isolate_pivot(root, err) < 0))
    return -1;
  if (p->app->working_directory && chdir(p->app->working_directory) < 0)
    return podrun_error_set(err, errno, "working directory \"%s\"", p->app->working_directory);
  for (size_t i = 0; i < c->n_rlimits; i++) /* while still privileged: raising a hard limit needs it */
    if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].limit) < 0)
      return podrun_error_set(err, errno, "resource limit \"%s\"", c->rlimits[i].name);
  if (switch_identity(p, err) < 0)
    return -1;
  if (c->no_new_privs && isolate_no_new_privs(err) < 0)
    return -1;
  if (c->seccomp && (c->seccomp_profile.profile ? isolate_seccomp_filter(&c->seccomp_profile, err)
                                                : isolate_seccomp(c->seccomp_mode, c->seccomp_syscalls,
                                                                  c->seccomp_errno, err)) < 0)
    return -1;
  return 0;
}

int stage2_plan_make(const struct stage2_args *a, struct stage2_plan *ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  struct stage2_plan p = { .name = a->app, .disable_paths = a->disable_paths };
  size_t len = 0;

  if (fs_read_file_at(AT_FDCWD, a->pod_manifest, JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &p.manifest, err) < 0)
    return -1;
  if (find_app(p.manifest, a->app, &p.app, err) < 0)
    goto fail;
  if (!a->cmd && !p.app->exec)
    {
      podrun_error_new(err, 0, "app \"%s\": nothing to run (no exec)", a->app);
      goto fail;
    }
  if (app_config_from_isolators(p.app, a->keep_caps_by_default, &p.config, err) < 0)
    {
      podrun_error_wrap(err, "app \"%s\"", a->app);
      goto fail;
    }
  if (!p.config.seccomp_given && a->default_seccomp)
    {
      p.config.seccomp = true;
      p.config.seccomp_mode = ISOLATE_SECCOMP_REMOVE;
      p.config.seccomp_errno = EPERM;
      for (const char *const *s = syscalls_default_blocklist; *s; s++)
        p.config.seccomp_syscalls = strv_push(p.config.seccomp_syscalls, *s);
    }
  /* raw sockets on the host's own interfaces would let the app see and
   * forge the host's traffic: not in the default set there */
  if (a->host_network && !app_config_caps_given(p.app))
    p.config.caps &= ~(1ULL << CAP_NET_RAW);
  /* --insecure-options=capabilities and seccomp override the app's own */
  if (a->disable_caps)
    p.config.caps = caps_all();
  if (a->disable_seccomp)
    p.config.seccomp = false;
  p.env = app_config_environment(p.app, a->app);
  add_systemd_env(&p, a);
  if (add_metadata_url(&p, a->pod_manifest, err) < 0)
    goto fail;
  p.argv = a->cmd ? a->cmd : p.app->exec;
  *ret = p;
  return 0;
fail:
  stage2_plan_done(&p);
  return -1;
}

void stage2_plan_done(struct stage2_plan *p)
{
  app_config_done(&p->config);
  strv_free(p->env);
  p->env = NULL;
  free(p->groups);
  p->groups = NULL;
  appc_pod_manifest_free(p->manifest);
  p->manifest = NULL;
}

int stage2_plan_exec(struct stage2_plan *p, const char *root, podrun_error_t *err)
{
  if (apply(p, root, err) < 0)
    return podrun_error_wrap(err, "app \"%s\"", p->name);
  if (p->listen_pid)
    {
      /* the app's own pid: this process, which execs it */
      _cleanup_free_ char *pid = xasprintf("LISTEN_PID=%d", (int) getpid());
      p->env = strv_push(p->env, pid);
    }
  exec_in_path(p->argv, p->env);
  podrun_error_set(err, errno, "app \"%s\": exec \"%s\"", p->name, p->argv[0]);
  return STAGE2_EXEC_FAILED;
}

int stage2_exit_code(int r, const struct podrun_error *e)
{
  if (r != STAGE2_EXEC_FAILED)
    return PODRUN_EXIT_ERROR;
  /* as shells and podman say it: not found, or found but not executable */
  return e->status == ENOENT || e->status == ENOTDIR ? 127 : 126;
}

_noreturn_ void stage2_main(const struct stage2_args *a)
{
  _cleanup_error_ podrun_error_t err = NULL;
  int r = stage2_exec(a, &err);
  log_error("%s", err->msg);
  /* _exit: the app's seccomp filter may be loaded already, and forbid what
   * a sanitizer's exit checks need */
  fflush(NULL);
  _exit(stage2_exit_code(r, err));
}

int stage2_exec(const struct stage2_args *a, podrun_error_t *err)
{
  struct stage2_plan p;
  if (stage2_plan_make(a, &p, err) < 0)
    return -1;
  int r = a->pid_init ? stage2_pid_init(&p, a->root, err) : stage2_plan_exec(&p, a->root, err);
  stage2_plan_done(&p);
  return r;
}
