/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "error.h"
#include "stage1/common/stage1.h"

/* The nspawn stage1 (DESIGN §1): the host's systemd-nspawn runs the pod's
 * stage1 rootfs in new pid, mount, uts and ipc namespaces (and a network
 * namespace with --net=none); the shared pod init (stage1/common) is its
 * pid 1 and starts every app through stage2. One static binary; the
 * entrypoint is its name: run, stop and gc on the host side, init inside
 * the pod; enter is a binary of its own. */
int nspawn_run(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int nspawn_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* The resource isolators' cgroups (cgroup.c): made with their limits on
 * the host before nspawn starts (adding --bind options for them to *binds,
 * each hierarchy's pod directory at STAGE1_CGROUP_DIR/<unified|memory|cpu>;
 * shift: the first host uid of the pod's user namespace, 0 without one),
 * joined by each app inside the pod (the init's cgroup_join hook), removed
 * by gc. */
int nspawn_cgroups_setup(const char *uuid, const struct appc_pod_manifest *m, uid_t shift, char ***binds,
                         podrun_error_t *err);
int nspawn_cgroups_join(const char *app, podrun_error_t *err);
bool nspawn_cgroups_oom_killed(const char *app);
int nspawn_cgroups_remove(const char *uuid, podrun_error_t *err);

/* The gc entrypoint (gc.c): the cgroups above, and what a SIGKILLed nspawn
 * left in the host's /run. */
int nspawn_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err);
/* In the pod directory: the name of nspawn's lock file, when nspawn uses
 * the host's /run. */
#define NSPAWN_LOCK_RECORD "nspawn-lock"

/* The pod init, in the stage1 rootfs (its entrypoint name, a link to the
 * nspawn binary). */
#define NSPAWN_INIT "/nspawn/init"
/* The pod init's runtime directory (stage1.h): the pod directory's nspawn/,
 * bound at /podrun/nspawn in the pod. */
#define NSPAWN_RUNTIME "nspawn"
#define NSPAWN_RUNTIME_DIR STAGE1_POD_DIR "/" NSPAWN_RUNTIME
