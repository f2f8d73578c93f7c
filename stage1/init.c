/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod init: pid 1 of an nspawn pod. It gives every app the pod's /proc,
 * /sys and /dev, runs its pre-start handlers, starts it through stage2, reaps
 * whatever exits (apps and orphans), writes status/<app> as each app exits
 * and runs its post-stop handlers. The first app that fails stops the others
 * (SIGTERM, SIGKILL after a grace period) and its code is the pod's, as in
 * rkt; SIGTERM, SIGINT and SIGHUP are passed on to every app. */
#include "nspawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "volumes.h"

#define STOP_GRACE_SEC 10

struct app_proc
{
  const char *name;
  const struct appc_app *app;
  pid_t pid; /* 0: not running */
};

static struct app_proc *apps;
static size_t n_apps;

static void signal_apps(int sig)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid > 0)
      kill(apps[i].pid, sig);
}

static void on_stop_signal(int sig)
{
  signal_apps(sig);
  alarm(STOP_GRACE_SEC);
}

static void on_alarm(int sig)
{
  (void) sig;
  signal_apps(SIGKILL);
}

static char *app_root(const char *name)
{
  return xasprintf(NSPAWN_APPS_DIR "/%s/rootfs", name);
}

/* stage2 for the app: its exec, or cmd (an event handler) when not NULL. */
static pid_t spawn_stage2(const char *name, char **cmd)
{
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  _cleanup_free_ char *a = xasprintf("--app=%s", name), *root = app_root(name), *r = xasprintf("--root=%s", root);
  char **args = xzalloc(sizeof(char *) * (strv_length(cmd) + 8));
  size_t n = 0;
  args[n++] = (char *) NSPAWN_STAGE2;
  args[n++] = (char *) "--pod-manifest=" NSPAWN_POD_MANIFEST;
  args[n++] = a;
  args[n++] = r;
  args[n++] = (char *) "--default-seccomp";
  if (cmd)
    {
      args[n++] = (char *) "--";
      for (size_t i = 0; cmd[i]; i++)
        args[n++] = cmd[i];
    }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(NSPAWN_STAGE2, args);
  log_error("exec %s: %s", NSPAWN_STAGE2, strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

static int exit_code(int status)
{
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs the app's handlers named `event` one after the other, reaping
 * whatever else exits meanwhile into *reaped (the apps' own exits are not
 * lost). Returns the first failing handler's code, else 0. */
static int run_handlers(const struct app_proc *p, const char *event, void (*reaped)(pid_t, int))
{
  for (size_t i = 0; p->app && i < p->app->n_event_handlers; i++)
    {
      const struct appc_event_handler *h = &p->app->event_handlers[i];
      if (!streq(h->name, event))
        continue;
      pid_t pid = spawn_stage2(p->name, h->exec);
      int status;
      for (;;)
        {
          pid_t got = waitpid(-1, &status, 0);
          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0 || got == pid)
            break;
          reaped(got, status);
        }
      int code = pid > 0 ? exit_code(status) : PODRUN_EXIT_ERROR;
      if (code != 0)
        {
          log_error("app \"%s\": %s handler %s exited %d", p->name, event, h->exec[0], code);
          return code;
        }
    }
  return 0;
}

static int pod_code;
static bool pod_failed;

static void app_exited(struct app_proc *p, int code)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *path = xasprintf(NSPAWN_STATUS_DIR "/%s", p->name), *text = xasprintf("%d\n", code);

  p->pid = 0;
  if (fs_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644, &err) < 0)
    log_error("app \"%s\": %s", p->name, err->msg);
  if (code != 0 && !pod_failed)
    {
      pod_failed = true;
      pod_code = code;
      on_stop_signal(SIGTERM); /* the first failure stops the pod */
    }
}

static void reaped(pid_t pid, int status);

static void post_stop(struct app_proc *p)
{
  (void) run_handlers(p, "post-stop", reaped);
}

static void reaped(pid_t pid, int status)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid == pid)
      {
        app_exited(&apps[i], exit_code(status));
        post_stop(&apps[i]);
        return;
      }
  /* an orphan of the pod: reaped, nothing more */
}

static int prepare_roots(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = app_root(m->apps[i].name);
      if (volumes_bind_api(root, err) < 0 || volumes_finish_root(&m->apps[i], root, err) < 0)
        return podrun_error_wrap(err, "app \"%s\"", m->apps[i].name);
    }
  return 0;
}

static bool any_running(void)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid > 0)
      return true;
  return false;
}

int pod_init(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  for (int i = 1; i < argc; i++)
    if (streq(argv[i], "--debug"))
      log_set_level(LOG_LEVEL_DEBUG);
  if (fs_read_file_at(AT_FDCWD, NSPAWN_POD_MANIFEST, JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &m, err) < 0 || prepare_roots(m, err) < 0)
    return -1;
  n_apps = m->n_apps;
  apps = xzalloc(sizeof(*apps) * (n_apps + 1));

  struct sigaction stop = { .sa_handler = on_stop_signal }, alrm = { .sa_handler = on_alarm };
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGHUP, &stop, NULL);
  sigaction(SIGALRM, &alrm, NULL);

  for (size_t i = 0; i < n_apps && !pod_failed; i++)
    {
      apps[i].name = m->apps[i].name;
      apps[i].app = m->apps[i].app;
      int code = run_handlers(&apps[i], "pre-start", reaped);
      if (code != 0)
        {
          app_exited(&apps[i], code);
          break;
        }
      apps[i].pid = spawn_stage2(apps[i].name, NULL);
      if (apps[i].pid < 0)
        {
          apps[i].pid = 0;
          app_exited(&apps[i], PODRUN_EXIT_ERROR);
        }
      log_debug("started app \"%s\" as pid %d", apps[i].name, (int) apps[i].pid);
    }
  _cleanup_error_ podrun_error_t ready_err = NULL;
  if (fs_write_file_atomic_at(AT_FDCWD, NSPAWN_RUNTIME_DIR "/ready", "", 0, 0644, &ready_err) < 0)
    log_error("%s", ready_err->msg);
  while (any_running())
    {
      int status;
      pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0)
        {
          if (errno == EINTR)
            continue;
          break; /* ECHILD: nothing left */
        }
      reaped(pid, status);
    }
  free(apps);
  apps = NULL;
  return pod_code;
}
