/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "error.h"

/* The nspawn stage1 (DESIGN §1): the host's systemd-nspawn runs the pod's
 * stage1 rootfs in new pid, mount, uts and ipc namespaces (and a network
 * namespace with --net=none); podrun's pod init is its pid 1 and starts every
 * app through stage2. One static binary; the entrypoint is its name:
 * run, enter, stop and gc on the host side, init inside the pod. */
int nspawn_run(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int nspawn_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* The pod init: pid 1 inside the pod. Returns the pod's exit code. */
int pod_init(int argc, char **argv, podrun_error_t *err);

/* Inside the pod: joins the app's cgroups and execs stage2 for it with the
 * default seccomp filter; cmd (NULL: the app's exec) is what stage2 runs. */
_noreturn_ void nspawn_exec_stage2(const char *app, char **cmd);

/* The resource isolators' cgroups (cgroup.c): made with their limits on
 * the host before nspawn starts (adding --bind options for them to *binds;
 * shift: the first host uid of the pod's user namespace, 0 without one),
 * joined by each app inside the pod, removed by gc. */
int nspawn_cgroups_setup(const char *uuid, const struct appc_pod_manifest *m, uid_t shift, char ***binds,
                         podrun_error_t *err);
int nspawn_cgroups_join(const char *app, podrun_error_t *err);
bool nspawn_cgroups_oom_killed(const char *app);
int nspawn_cgroups_remove(const char *uuid, podrun_error_t *err);

/* The gc entrypoint (gc.c): the cgroups above, and what a SIGKILLed nspawn
 * left in the host's /run. */
int nspawn_gc(int argc, char **argv, podrun_error_t *err);
/* In the pod directory: the name of nspawn's lock file, when nspawn uses
 * the host's /run. */
#define NSPAWN_LOCK_RECORD "nspawn-lock"

/* Where things are inside the stage1 rootfs (the pod's root). */
#define NSPAWN_STAGE2 "/stage2"
#define NSPAWN_INIT "/nspawn/init"
#define NSPAWN_POD_MANIFEST "/podrun/pod"
#define NSPAWN_STATUS_DIR "/podrun/status"
/* the pod directory's nspawn/ (run's and init's own): init creates "ready"
 * there once every app is started */
#define NSPAWN_RUNTIME_DIR "/podrun/nspawn"
/* ... when the first app fails, "exit-code": the pod's exit code (the
 * records do not say which app failed first); and "done" as it exits of its
 * own accord (not killed): an app without a record then never started */
#define NSPAWN_EXIT_CODE "exit-code"
#define NSPAWN_DONE "done"
/* the pod directory's logs/: <app>.log (and <app>.log.1, the one before) */
#define NSPAWN_LOGS_DIR "/podrun/logs"
#define NSPAWN_APPS_DIR "/opt/stage2"
#define NSPAWN_CGROUP_DIR "/podrun/cgroup"
/* The pod init's fd 3 (with LISTEN_FDS=1): the read end of a pipe whose
 * write end only run, the pod's lock holder, holds. */
#define NSPAWN_LIFELINE_FD 3
