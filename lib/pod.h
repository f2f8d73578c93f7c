/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"
#include "uuid.h"

/* Pod directories: <dir>/pods/<state dir>/<uuid>/. A state change is a
 * rename(2) between state directories, done while holding the pod's flock
 * (on the directory itself). A running pod's stage1 holds that lock
 * exclusively for its whole life, so "exited" is "in run/ and lockable". */
enum pod_state
{
  POD_EMBRYO,          /* embryo/, being created */
  POD_PREPARING,       /* prepare/, locked */
  POD_ABORTED_PREPARE, /* prepare/, not locked: its preparer died */
  POD_PREPARED,        /* prepared/ */
  POD_RUNNING,         /* run/, locked by stage1 */
  POD_EXITED,          /* run/, not locked */
  POD_EXITED_GARBAGE,  /* exited-garbage/ */
  POD_GARBAGE,         /* garbage/ (prepared pods that expired, aborted ones) */
  _POD_STATE_MAX,
};

const char *pod_state_to_string(enum pod_state s);
/* The directory under pods/ that holds pods in that state. */
const char *pod_state_dir(enum pod_state s);

struct pod
{
  char uuid[UUID_STRING_LEN + 1];
  enum pod_state state;
  int dirfd;      /* the pod directory */
  bool locked;    /* dirfd carries our flock */
  bool exclusive; /* ... exclusively */
  char *path;     /* <dir>/pods/<state dir>/<uuid> */
  char *pods_dir; /* <dir>/pods */
};

void pod_free(struct pod *p);
static inline void pod_freep(struct pod **p) { pod_free(*p); }
#define _cleanup_pod_ _cleanup_(pod_freep)

/* Creates <pods_dir>/embryo/<new uuid>, locked exclusively. */
int pod_create(const char *pods_dir, struct pod **ret, podrun_error_t *err);

/* Removes what a pod_create killed before its rename left: embryo/.<uuid>
 * directories older than min_age_sec that nobody holds locked. */
int pod_sweep_unborn(const char *pods_dir, int64_t min_age_sec, podrun_error_t *err);

/* Finds a pod by uuid or unique uuid prefix in any state and reports its
 * state (probing the lock without keeping it). */
int pod_load(const char *pods_dir, const char *uuid_or_prefix, struct pod **ret, podrun_error_t *err);

/* A process that only reads (podrun-api) says so: it then tells a locked
 * pod from an unlocked one by /proc/locks instead of a shared lock probe,
 * so that however often it looks, it never makes another podrun's
 * non-blocking exclusive lock (rm, gc, run-prepared) fail. */
void pod_probe_without_locking(bool on);

/* All pods, in no particular order. Pods vanishing meanwhile are skipped. */
int pod_list(const char *pods_dir, struct pod ***ret, size_t *ret_n, podrun_error_t *err);
void pod_list_free(struct pod **v, size_t n);

/* Takes the pod's lock (exclusive or shared; nonblock fails with EWOULDBLOCK). */
int pod_lock(struct pod *p, bool exclusive, bool nonblock, podrun_error_t *err);

/* Moves the pod to the directory of state `to`. The caller holds the lock. */
int pod_transition(struct pod *p, enum pod_state to, podrun_error_t *err);

/* The pod's pid as its stage1 recorded it in the pod directory dirfd: `pid`,
 * or else the child of the process in `ppid` (a stage1 that runs the pod
 * under a helper, like systemd-nspawn, knows only the helper's pid). 0 when
 * neither is there yet or the helper has no child (any more). */
pid_t pod_read_pid(int dirfd);

/* A process's children, oldest first (from /proc/<pid>/task/<pid>/children):
 * at most max of them into ret; returns how many. */
size_t proc_children(pid_t parent, pid_t *ret, size_t max);
/* The first child of a process, 0 if none. */
pid_t proc_first_child(pid_t parent);

/* The value of the "Key:" line of a /proc/<pid>/status text (malloc'd), or NULL. */
char *proc_status_field(const char *status, const char *key);

/* The pod flags of --insecure-options=capabilities, paths and seccomp
 * (rkt's names): every capability in every set, the app's isolators
 * notwithstanding; no masked or read-only /proc and /sys paths; no seccomp
 * filter at all. stage2 takes the same flags. */
#define STAGE1_DISABLE_CAPS "--disable-capabilities-restriction"
#define STAGE1_DISABLE_PATHS "--disable-paths"
#define STAGE1_DISABLE_SECCOMP "--disable-seccomp"

/* run [flags] UUID: the pod flags stage0 kept in stage1/run-flags (one per
 * line), parsed once for every flavor; each refuses what it cannot do. */
struct stage1_run_args
{
  const char *net, *hostname, *uuid; /* net: NULL when not given */
  bool debug, interactive;
  bool disable_caps, disable_paths, disable_seccomp;
  uid_t userns_shift; /* --private-users=SHIFT:RANGE; 0 without */
  char **dns, **dns_search, **dns_opt, **hosts;
};
int stage1_run_args_parse(int argc, char **argv, struct stage1_run_args *a, podrun_error_t *err);
void stage1_run_args_done(struct stage1_run_args *a);

/* The same flags read from the pod directory dirfd's stage1/run-flags (for
 * enter, which must apply what run applied); a->uuid stays NULL. */
int stage1_run_args_read(int dirfd, struct stage1_run_args *a, podrun_error_t *err);

/* The lines of a pod's stage1/run-flags (dirfd: the pod directory). */
int pod_read_run_flags(int dirfd, char ***ret, podrun_error_t *err);
