/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fly.h"

#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "resources.h"
#include "stage2/stage2.h"
#include "volumes.h"

char *fly_stage2_path(void)
{
  char exe[4096];
  const char *env = getenv("PODRUN_STAGE2");
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (env)
    return xstrdup(env);
  exe[n > 0 ? n : 0] = '\0';
  return xasprintf("%s/../stage2", dirname(exe)); /* /fly/fly → /stage2 */
}

/* The contract's run flags (stage1_run_args_parse): fly has the host's
 * network, namespaces and /etc files, and refuses what would change them. */
static int parse_run_args(int argc, char **argv, struct stage1_run_args *a, podrun_error_t *err)
{
  if (stage1_run_args_parse(argc, argv, a, err) < 0)
    return -1;
  const struct { const char *flag; char **values; } etc_flags[] = {
    { "dns", a->dns }, { "dns-search", a->dns_search }, { "dns-opt", a->dns_opt }, { "hosts-entry", a->hosts },
  };
  if (a->debug)
    log_set_level(LOG_LEVEL_DEBUG);
  if (a->net && !streq(a->net, "host"))
    return podrun_error_new(err, 0, "--net=%s: the fly stage1 always uses the host's network", ESCAPE(a->net));
  for (size_t i = 0; i < ELEMENTSOF(etc_flags); i++)
    if (etc_flags[i].values)
      return podrun_error_new(err, 0, "--%s=%s: the fly stage1 shares the host's network and its /etc files",
                              etc_flags[i].flag, ESCAPE(etc_flags[i].values[0]));
  if (a->userns_shift)
    return podrun_error_new(err, 0, "--private-users: the fly stage1 has no user namespace");
  if (a->hostname)
    log_warning("--hostname=%s ignored: the fly stage1 shares the host's UTS namespace", ESCAPE(a->hostname));
  return 0;
}

static int read_manifest(struct appc_pod_manifest **ret, podrun_error_t *err)
{
  if (stage1_read_pod("pod", ret, err) < 0)
    return -1;
  if ((*ret)->n_apps != 1)
    {
      size_t n = (*ret)->n_apps;
      appc_pod_manifest_free(TAKE_PTR(*ret));
      return podrun_error_new(err, 0, "the fly stage1 runs exactly one app; this pod has %zu", n);
    }
  return 0;
}

/* What the fly stage1 cannot do is said, not silently dropped. */
static void warn_unsupported(const struct appc_runtime_app *a)
{
  struct app_resources r = { 0 };
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (app_resources_from_isolators(a->app, &r, &ignored) == 0 && app_resources_any(&r))
    log_warning("app %s: --memory, --cpu and --cpu-shares are ignored: the fly stage1 sets no resource limits",
                QUOTE(a->name));
  if (a->app->n_event_handlers)
    log_warning("app %s: event handlers are ignored: the fly stage1 runs the app alone", QUOTE(a->name));
}

static pid_t child_pid;

static void forward(int sig)
{
  if (child_pid > 0)
    kill(child_pid, sig);
}

/* The app's cgroup: <pod's cgroup>/<app>, beside fly's own leaf in the cgroup
 * stage0 made for the pod (lib/cgroup.h). NULL when there is none (a stage0
 * from before pods had cgroups). */
static char *app_cgroup(const char *uuid, const char *app)
{
  _cleanup_free_ char *pod = cgroup_pod_dir(AT_FDCWD, uuid);
  return pod && access(pod, F_OK) == 0 ? xasprintf("%s/%s", pod, app) : NULL;
}

static _noreturn_ void exec_app(const struct stage1_run_args *ra, const char *app, const char *root,
                                 const char *cgroup, pid_t fly, int lock_fd)
{
  _cleanup_free_ char *stage2 = fly_stage2_path();
  _cleanup_error_ podrun_error_t err = NULL;
  (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != fly)
    _exit(PODRUN_EXIT_ERROR); /* fly died before the line above */
  /* in its own cgroup before anything of it runs: stop, fly's end and gc
   * end the app with all it started */
  if (cgroup && cgroup_join(cgroup, &err) < 0)
    {
      log_error("app %s: %s", QUOTE(app), err->msg);
      _exit(PODRUN_EXIT_ERROR);
    }
  close(lock_fd); /* the pod lives as long as fly, not as long as the app */
  /* --insecure-options=paths changes nothing here: fly binds the host's
   * /proc and /sys as they are, and masks nothing */
  struct stage2_args a = {
    .pod_manifest = "pod",
    .app = app,
    .root = root,
    .keep_caps_by_default = true,
    .disable_caps = ra->disable_caps,
    .disable_seccomp = ra->disable_seccomp,
  };
  execv(stage2, stage1_stage2_argv(stage2, &a));
  log_error("exec stage2 %s: %s", QUOTE(stage2), strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

static int supervise(const char *app, int *ret_exit, podrun_error_t *err)
{
  static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
  _cleanup_free_ char *pid = xasprintf("%d\n", (int) child_pid), *status_path = xasprintf("status/%s", app);
  int status;

  for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
    signal(sigs[i], forward);
  if (fs_write_file_atomic_at(AT_FDCWD, "pid", pid, strlen(pid), 0644, err) < 0)
    return -1;
  while (waitpid(child_pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait for the app");
  int code = stage1_exit_code(status);
  if (stage1_write_code(status_path, code, err) < 0)
    return -1;
  *ret_exit = code;
  return 0;
}

int fly_run(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
  char cwd[4096];

  int lock_fd = stage1_lock_fd(err);
  if (lock_fd < 0)
    return -1;
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "getcwd");
  if (parse_run_args(argc, argv, &a, err) < 0 || read_manifest(&m, err) < 0)
    return -1;
  warn_unsupported(&m->apps[0]);
  _cleanup_free_ char *root = xasprintf("%s/stage1/rootfs" STAGE1_APPS_DIR "/%s/rootfs", cwd, m->apps[0].name);
  /* stage0 made the pod's private mount namespace (the contract): the
   * volumes go there, and vanish with the pod. */
  if (volumes_bind_api(root, true, err) < 0 || volumes_mount_app(m, &m->apps[0], root, 0, err) < 0 ||
      volumes_finish_root(&m->apps[0], root, err) < 0)
    return podrun_error_wrap(err, "app %s", QUOTE(m->apps[0].name));
  _cleanup_free_ char *cgroup = app_cgroup(a.uuid, m->apps[0].name);
  if (cgroup && mkdir(cgroup, 0755) < 0 && errno != EEXIST)
    return podrun_error_set(err, errno, "make cgroup %s", QUOTE(cgroup));
  pid_t fly = getpid();
  child_pid = fork();
  if (child_pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (child_pid == 0)
    exec_app(&a, m->apps[0].name, root, cgroup, fly, lock_fd);
  int r = supervise(m->apps[0].name, ret_exit, err);
  /* the pod ends with its app: what the app left running goes too, as in a
   * pod whose pid namespace ends */
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (cgroup && cgroup_kill(cgroup, CGROUP_KILL_TIMEOUT_MS, &ignored) < 0)
    log_error("%s", ignored->msg);
  return r;
}

/* stop [--force] UUID: SIGTERM to the app, whose end ends the rest (fly_run);
 * --force: SIGKILL to the app's cgroup, the app and all it started at once. */
int fly_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *cgroup = NULL;
  if (argc > 2 && streq(argv[1], "--force") && uuid_is_valid(argv[argc - 1]) && read_manifest(&m, &ignored) == 0)
    cgroup = app_cgroup(argv[argc - 1], m->apps[0].name);
  if (!cgroup || access(cgroup, F_OK) < 0)
    return stage1_stop(argc, argv, ret_exit, err); /* SIGTERM; or a pod from before fly made cgroups */
  *ret_exit = 0;
  return cgroup_kill(cgroup, CGROUP_KILL_TIMEOUT_MS, err);
}

int fly_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  *ret_exit = 0;
  return 0;
}
