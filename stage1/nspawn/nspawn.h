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
 * the pod; run (linking the host's libsystemd) and enter are binaries of
 * their own. */
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

/* For the systemd service run runs under (systemd.c, libsystemd; the run
 * binary alone links it): setup, before nspawn, takes the sockets a socket
 * unit passed (each to the app declaring a port of its name, or the only app)
 * and makes a notify socket in the pod directory for each app whose image says
 * it speaks sd_notify (annotation appc.io/executor/supports-systemd-notify);
 * mount_app binds app i's at NSPAWN_APP_NOTIFY_SOCKET in its root; init_args
 * adds the init's arguments for them; child_fds, in nspawn's child, puts the
 * sockets and the journal's end after the lifeline and returns LISTEN_FDS;
 * start (after the fork) runs the relay: the apps' lines to the journal,
 * readiness (pod_ready: the init's ready record) and STATUS= to systemd;
 * stopping (async-signal-safe) says STOPPING=1; end drains and stops it.
 * Registered with machined (registered) and with systemd-journal-remote
 * installed, the lines also go to the machine's journal, for `journalctl -M`:
 * nspawn_args binds its directory (the pod directory's journal/) at
 * /run/log/journal in the stage1 root, read-only; start runs journal-remote,
 * end ends it and removes the files. machine_id: the pod's (its uuid, 32 hex
 * digits), nspawn's --uuid and the stage1 root's /etc/machine-id. */
#define NSPAWN_APP_NOTIFY_SOCKET "/run/podrun/notify"
int nspawn_sd_setup(const char *uuid, const struct appc_pod_manifest *m, bool registered, podrun_error_t *err);
const char *nspawn_sd_machine_id(void);
int nspawn_sd_mount_app(size_t i, const char *root, podrun_error_t *err);
char **nspawn_sd_nspawn_args(char **v, const char *cwd);
char **nspawn_sd_init_args(char **v);
int nspawn_sd_child_fds(void);
int nspawn_sd_start(podrun_error_t *err);
void nspawn_sd_pod_ready(void);
void nspawn_sd_stopping(void);
void nspawn_sd_end(void);
