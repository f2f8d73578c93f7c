/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill and delete. */
#include "oci.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "stage0/pod-setup.h"
#include "stage0/pods.h"
#include "stage0/podrun.h"

/* The signals the container's process passes on to the app (the stage1's
 * run entrypoint forwards them; SIGKILL ends the pod at once). */
static bool forwarded(int sig)
{
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGKILL;
}

static int kill_all(const struct oci_state *st, int sig, podrun_error_t *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_pod_pids(st->uuid, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    (void) kill(pids[i], sig);
  return 0;
}

/* Another signal, to the app's own process (the container's process, the
 * stage1's run, passes on only SIGTERM, SIGINT and SIGHUP): through a pidfd
 * opened before the app's pid is checked to be the pod's, so a pid reused
 * meanwhile is never signalled. */
static int kill_app(const struct oci_state *st, int sig, podrun_error_t *err)
{
  pid_t app;
  if (streq(st->flavor, "kvm"))
    return podrun_error_new(err, 0, "kill: signal %d: a kvm pod's app is in its VM, which SIGTERM, SIGINT and SIGHUP "
                                    "reach (SIGKILL ends it); not others",
                            sig);
  for (int tries = 0;; tries++)
    {
      if (oci_app_pid(st, &app, err) < 0)
        return -1;
      _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, app, 0);
      if (pidfd < 0)
        return podrun_error_set(err, errno, "container %s: the app's process %d", ESCAPE(st->id), (int) app);
      pid_t again;
      if (oci_app_pid(st, &again, err) < 0)
        return -1;
      if (again != app)
        {
          if (tries < 3)
            continue;
          return podrun_error_new(err, EAGAIN, "container %s: the app's process keeps changing", ESCAPE(st->id));
        }
      if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        return podrun_error_set(err, errno, "container %s: kill %d", ESCAPE(st->id), (int) app);
      return 0;
    }
}

int oci_kill(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  bool all = false;
  const struct oci_opt opts[] = { { "all", false, .flag = &all }, { "a", false, .flag = &all }, { NULL } };
  int first, sig = SIGTERM;

  if (oci_parse("kill", opts, argc, argv, &first, err) < 0)
    return -1;
  if (first != argc - 1 && first != argc - 2)
    return podrun_error_new(err, 0, "kill: give the container ID and a signal");
  if ((first == argc - 2 && oci_signal_parse(argv[argc - 1], &sig, err) < 0) || oci_state_load(argv[first], &st, err) < 0)
    return -1;
  const char *status = oci_state_status(&st);
  if (streq(status, "stopped") || streq(status, "creating"))
    return podrun_error_new(err, ESRCH, "container %s: container not running (%s)", ESCAPE(st.id), status);
  if (all)
    return kill_all(&st, sig, err);
  if (!forwarded(sig) && streq(status, "running"))
    return kill_app(&st, sig, err);
  if (kill(st.pid, sig) < 0)
    return podrun_error_set(err, errno, "container %s: kill %d", ESCAPE(st.id), (int) st.pid);
  return 0;
}

/* Ends the pod (its cgroup, every process) and waits for its lock, which
 * the stage1 held. */
static int end_pod(struct pod *p, podrun_error_t *err)
{
  if (pod_kill(p, err) < 0)
    return -1;
  return pod_lock(p, true, false, err);
}

/* The pod, ended first: what is left of a stopped container (its process
 * is gone) or a --force'd one. */
static int remove_pod(const struct oci_state *st, podrun_error_t *err)
{
  _cleanup_store_ struct store *s = NULL;
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *pods = pods_dir();
  _cleanup_error_ podrun_error_t busy = NULL, gone = NULL;

  if (!st->uuid || pod_load(pods, st->uuid, &p, &gone) < 0)
    return 0; /* never made, or removed already */
  if (pod_lock(p, true, true, &busy) < 0)
    {
      if (busy->status != EWOULDBLOCK)
        return *err = TAKE_PTR(busy), -1;
      if (end_pod(p, err) < 0)
        return -1;
    }
  if (store_open(arg_dir, 0, &s, err) < 0)
    return -1;
  return pod_destroy(s, p, err);
}

int oci_delete(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  _cleanup_error_ podrun_error_t e = NULL;
  bool force = false;
  const struct oci_opt opts[] = { { "force", false, .flag = &force }, { "f", false, .flag = &force }, { NULL } };

  if (oci_parse_one("delete", opts, argc, argv, &st, err) < 0)
    return -1;
  const char *status = oci_state_status(&st);
  if (!force && streq(status, "running"))
    return podrun_error_new(err, EBUSY, "container %s is %s: stop it first, or delete --force", ESCAPE(st.id), status);
  if (!streq(status, "stopped") && st.pid > 0)
    (void) kill(st.pid, SIGKILL); /* its process, before its pod: one that waits on exec.fifo has none running */
  if (remove_pod(&st, err) < 0)
    return podrun_error_wrap(err, "delete %s", ESCAPE(st.id));
  /* the spec: a poststop hook that fails is a warning */
  if (oci_hooks_run(json_object_get(st.hooks, "poststop"), "poststop", &st, &e) < 0)
    log_warning("container %s: %s", ESCAPE(st.id), e->msg);
  return oci_state_remove(st.id, err);
}
