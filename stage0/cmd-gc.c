/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun gc: exited pods are marked (moved to exited-garbage) and removed once
 * they have been marked for the grace period; prepared pods never started
 * within --expire-prepared, aborted preparations and abandoned embryos go
 * to garbage and are removed. Each step holds the pod's exclusive lock, so a
 * pod that anyone uses is never touched. */
#include <fcntl.h>
#include <sys/stat.h>

#include "cni.h"
#include "log.h"
#include "net.h"
#include "pod-setup.h"
#include "pods.h"

static int64_t arg_grace = 30LL * 60 * 1000000;
static int64_t arg_expire_prepared = 24LL * 3600 * 1000000;
static bool arg_mark_only;

static int64_t dir_age_usec(struct pod *p)
{
  struct stat st;
  if (fstat(p->dirfd, &st) < 0)
    return 0;
  return store_now_usec() - ((int64_t) st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000);
}

/* Moves to `to` and restarts the pod's clock there. */
static int mark(struct pod *p, enum pod_state to, podrun_error_t *err)
{
  if (pod_transition(p, to, err) < 0)
    return -1;
  (void) futimens(p->dirfd, NULL);
  printf("moved pod %s to %s\n", p->uuid, pod_state_to_string(to));
  return 0;
}

static int collect(struct pod *p, podrun_error_t *err)
{
  if (pod_destroy(podrun_store, p, err) < 0)
    return -1;
  printf("removed pod %s\n", p->uuid);
  return 0;
}

static int gc_one(struct pod *p, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t busy = NULL;
  if (p->state == POD_RUNNING || p->state == POD_PREPARING)
    return 0;
  if (pod_lock(p, true, true, &busy) < 0)
    return 0; /* someone is on it (run-prepared, rm, another gc): leave it */
  if (access(p->path, F_OK) < 0)
    return 0; /* it moved on before we locked it */
  /* a prepared pod has networks only while it starts: these are of a start
   * that was killed (its lock is free), and go now, not at its expiry */
  if (p->state == POD_PREPARED && cni_plugins_at_work(p->uuid))
    return 0; /* what a plugin still adds is deleted by the next gc */
  if (p->state == POD_PREPARED && net_pod_teardown(p, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  if (p->state == POD_PREPARED)
    (void) unlinkat(p->dirfd, CNI_NET_INFO, 0);
  if (p->state == POD_EXITED && mark(p, POD_EXITED_GARBAGE, err) < 0)
    return -1;
  if ((p->state == POD_ABORTED_PREPARE || p->state == POD_EMBRYO ||
       (p->state == POD_PREPARED && dir_age_usec(p) >= arg_expire_prepared)) &&
      mark(p, POD_GARBAGE, err) < 0)
    return -1;
  if (arg_mark_only)
    return 0;
  if (p->state == POD_GARBAGE || (p->state == POD_EXITED_GARBAGE && dir_age_usec(p) >= arg_grace))
    return collect(p, err);
  return 0;
}

static int gc(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  struct pod **v = NULL;
  size_t n = 0;
  int failed = 0;

  if (arg_grace < 0 || arg_expire_prepared < 0)
    return podrun_error_set(err, 0, "durations must not be negative");
  if (access(pods, F_OK) < 0)
    return 0;
  if (pod_sweep_unborn(pods, 600, err) < 0)
    return -1;
  if (pod_list(pods, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      if (gc_one(v[i], &e) < 0)
        keep_error(err, &e, &failed); /* one stuck pod does not block the others */
    }
  pod_list_free(v, n);
  return failed ? -1 : 0;
}

static const struct opt gc_opts[] = {
  { "grace-period", OPT_DURATION, &arg_grace, "remove exited pods marked this long ago (default 30m)", "DURATION" },
  { "expire-prepared", OPT_DURATION, &arg_expire_prepared,
    "remove prepared pods not started for this long (default 24h)", "DURATION" },
  { "mark-only", OPT_BOOL, &arg_mark_only, "only move exited pods to exited-garbage; remove nothing", NULL },
  { NULL },
};

const struct cmd cmd_gc = {
  "gc", gc, "", "Collect exited and abandoned pods",
  "Exited pods move to exited-garbage, and are removed once they have been there for the\n"
  "grace period: whatever still runs in the pod's cgroup is killed first (a pod whose\n"
  "processes do not end within 5 s is kept for the next gc), then the stage1's gc entrypoint\n"
  "runs, the pod's CNI networks are deleted (again) and anything still mounted below the\n"
  "pod is detached. Prepared pods older than\n"
  "--expire-prepared, aborted preparations and abandoned embryos are removed too; a prepared\n"
  "pod left with networks by a start that was killed has them deleted. Running pods are never\n"
  "touched.\n\n"
  "Examples:\n  podrun gc\n  podrun gc --grace-period=0",
  gc_opts, NULL, 0, 0, CMD_STORE_RW,
};
