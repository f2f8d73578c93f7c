/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* The cgroup that holds every process of a pod (DESIGN §5), whatever its
 * stage1: stage0 makes it and moves itself into it before it execs the
 * stage1, so everything the stage1 starts is born there; gc ends the
 * processes of that cgroup before it removes the pod.
 *
 * It lives in the *tracking hierarchy*: cgroup2 (/sys/fs/cgroup when that is
 * cgroup2, else /sys/fs/cgroup/unified on a hybrid host), else, on a legacy
 * (cgroup v1 only) host, the v1 freezer (/sys/fs/cgroup/freezer): the one v1
 * controller that can stop a subtree from forking while it is killed, and
 * one systemd never moves processes in. The pod's cgroup is
 * <mount><parent>/podrun/<uuid>, <parent> being "" or, when podrun runs in a
 * systemd service, the service's own cgroup (the pod stays in the service).
 * stage0 and so the stage1 run in its leaf <pod>/_stage1 (no app name can
 * begin with '_'): on cgroup2, processes may only sit in leaves once
 * controllers are enabled, and the apps' cgroups go beside it. */

#define CGROUP_STAGE1_LEAF "_stage1"
/* In the pod directory, written by stage0 before the cgroup exists: the pod's
 * cgroup directory, one line. */
#define CGROUP_RECORD "cgroup"
/* How long gc and stop wait for a killed cgroup to empty. */
#define CGROUP_KILL_TIMEOUT_MS 5000

struct cgroup_hierarchy
{
  const char *mount; /* its directory */
  bool v2;           /* cgroup2; else the v1 freezer */
};

/* The host's tracking hierarchy; ENOENT when it has neither. */
int cgroup_tracking(struct cgroup_hierarchy *ret, podrun_error_t *err);

/* The cgroup path ("/…", relative to the hierarchy's root) of process pid (0:
 * this one) in the hierarchy whose controller field in /proc/<pid>/cgroup is
 * key: "" for cgroup2 ("0::"), else a controller ("freezer") or
 * "name=systemd". */
int cgroup_of_pid(pid_t pid, const char *key, char **ret, podrun_error_t *err);

/* Does this process run in a systemd service (`systemd-run podrun run`, a
 * unit whose ExecStart is podrun)? Read from the systemd hierarchy of
 * /proc/self/cgroup ("name=systemd" on v1 and hybrid hosts, "0::" on v2),
 * below any pod cgroup stage0 made (…/podrun/<uuid>/_stage1). */
bool cgroup_in_service(void);

/* stage0: records the pod's cgroup in the pod directory (dirfd), makes it
 * and moves this process into its leaf <pod>/_stage1. */
int cgroup_pod_enter(int dirfd, const char *uuid, podrun_error_t *err);

/* The pod's cgroup directory: the one the pod directory (dirfd) records, if
 * that is one of the pod's (under the tracking hierarchy, ending in
 * /podrun/<uuid>, no "." or ".." in it: the record is never trusted blindly),
 * else the default <mount>/podrun/<uuid>. NULL when the host has no tracking
 * hierarchy. */
char *cgroup_pod_dir(int dirfd, const char *uuid);
bool cgroup_pod_dir_valid(const struct cgroup_hierarchy *h, const char *dir, const char *uuid);

/* Where systemd-machined puts the leader of machine podrun-<uuid> on a
 * systemd host: <mount>/machine.slice/machine-podrun\x2d<uuid>.scope
 * (cgroup2 only; NULL on a v1 freezer). */
char *cgroup_machine_scope(const struct cgroup_hierarchy *h, const char *uuid);

/* On a hybrid host, the same cgroup in the v1 name=systemd hierarchy, which
 * systemd's tools (nspawn) mirror their cgroup2 moves into; NULL elsewhere. */
char *cgroup_systemd_mirror(const struct cgroup_hierarchy *h, const char *dir);

/* Moves this process into the cgroup dir. */
int cgroup_join(const char *dir, podrun_error_t *err);

/* SIGKILLs every process of the cgroup dir and its descendants and waits
 * until none is left (at most timeout_ms; then EBUSY). cgroup2: cgroup.kill
 * (Linux ≥ 5.14), else rounds of SIGKILL over cgroup.procs; a v1 freezer
 * cgroup is frozen for each round, so nothing forks meanwhile. A missing dir
 * has nothing to kill. */
int cgroup_kill(const char *dir, int timeout_ms, podrun_error_t *err);

/* Removes the cgroup dir and every cgroup below it, deepest first; a missing
 * one is fine. */
int cgroup_remove(const char *dir, podrun_error_t *err);
