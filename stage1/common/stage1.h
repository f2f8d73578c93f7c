/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "appc.h"
#include "error.h"

/* What every stage1 flavor podrun builds shares (DESIGN §1), linked by each
 * (libstage1-common.a): the entrypoint dispatch, the contract's arguments
 * and lock fd, the stage2 command line, the pod init that supervises the
 * apps, and the records it leaves in the pod directory. What differs between
 * flavors (how the pod's root and pid are made, cgroups, how the init learns
 * that its stage1 is gone) comes in through the hooks below. */

/* Where things are inside the stage1 rootfs, the pod init's root, whatever
 * the flavor (the pod directory's parts are mounted under STAGE1_POD_DIR:
 * bound by nspawn, shared into a VM by a VM flavor). */
#define STAGE1_STAGE2 "/stage2"
#define STAGE1_APPS_DIR "/opt/stage2" /* <app>/rootfs */
#define STAGE1_POD_DIR "/podrun"
#define STAGE1_POD_MANIFEST STAGE1_POD_DIR "/pod"       /* the pod directory's pod, read-only */
#define STAGE1_STATUS_DIR STAGE1_POD_DIR "/status"      /* its status/ */
#define STAGE1_LOGS_DIR STAGE1_POD_DIR "/logs"          /* its logs/: <app>.log and <app>.log.1, the one before */
#define STAGE1_CGROUP_DIR STAGE1_POD_DIR "/cgroup"      /* <hierarchy>/<app>/: the apps' cgroups, when the flavor gives them */

/* The pod init's runtime directory: the flavor's (the pod directory's
 * nspawn/ for nspawn), where the flavor's host side reads it. In it, the init
 * creates STAGE1_READY once every app is started, keeps <app>.pid (the pid,
 * in the init's pid namespace, of each running app's stage2), writes
 * STAGE1_EXIT_CODE when the first app fails (the records do not say which
 * app failed first) and creates STAGE1_DONE as it exits of its own accord
 * (not killed): an app without a record then never started. */
#define STAGE1_READY "ready"
#define STAGE1_EXIT_CODE "exit-code"
#define STAGE1_DONE "done"

/* The lifeline's fd, by socket activation's convention (LISTEN_FDS=1: the
 * first fd passed, 3). */
#define STAGE1_LIFELINE_FD 3

/* The init's arguments for what a flavor's host side passes it after the
 * lifeline (Documentation/stage1-contract.md): JOURNAL_FD=N, a SOCK_SEQPACKET
 * socket to which it sends each line an app writes (2 bytes of the app's index
 * in the manifest, little-endian; 1 byte, 1 stdout or 2 stderr; the line
 * without its newline), with JOURNAL_ONLY not to its own stdout and stderr as
 * well (they are the journal already); LISTEN_FDS=APP:FIRST:COUNT:NAMES, the
 * COUNT sockets from fd FIRST on that go to APP as its fds 3… with LISTEN_FDS,
 * LISTEN_FDNAMES (NAMES, ':'-separated) and LISTEN_PID; NOTIFY_SOCKET=APP:PATH,
 * the app's NOTIFY_SOCKET. */
#define STAGE1_JOURNAL_FD "--journal-fd"
#define STAGE1_JOURNAL_ONLY "--journal-only"
#define STAGE1_LISTEN_FDS "--listen-fds"
#define STAGE1_NOTIFY_SOCKET "--notify-socket"
/* WATCHDOG_USEC=APP:USEC: the app's WATCHDOG_USEC, its service's watchdog
 * interval (it pings with WATCHDOG=1 on its notify socket). */
#define STAGE1_WATCHDOG_USEC "--watchdog-usec"

struct stage2_args;
/* The init's side of them (systemd.c), behind these calls: passed_fds, from
 * the lifeline, says how many fds LISTEN_FDS passed; arg takes one of the
 * arguments above (false: not one of them); journal sends what app (its
 * index) wrote on stream (1, 2) there, line by line, never blocking;
 * journal_only: not to the init's stdio too; child_fds, in the app's child,
 * puts its sockets at 3…; stage2_args gives stage2 the app's LISTEN_FDS,
 * LISTEN_FDNAMES and NOTIFY_SOCKET. */
void stage1_sd_passed_fds(unsigned n);
bool stage1_sd_arg(const char *arg);
void stage1_sd_journal(size_t app, int stream, const char *buf, size_t len);
bool stage1_sd_journal_only(void);
int stage1_sd_child_fds(const char *app);
void stage1_sd_stage2_args(const char *app, struct stage2_args *a);

/* ---- entrypoints ---- */

/* One entrypoint of a flavor's binary, chosen by the name it is called as
 * (its argv[0]'s last part; NULL: any name, for a binary of one entrypoint).
 * program: the log prefix ("podrun-stage1"). run returns < 0 with *err set,
 * else sets *ret_exit. */
struct stage1_entrypoint
{
  const char *name;
  const char *program;
  int (*run)(int argc, char **argv, int *ret_exit, podrun_error_t *err);
};

/* The main() of a flavor's binary: runs the entrypoint argv[0] names; an
 * error is logged as one line and exits PODRUN_EXIT_ERROR. */
int stage1_main(const struct stage1_entrypoint *table, size_t n, int argc, char **argv);

/* In a child about to run another program's code in process (a flavor's
 * binary that has it linked) instead of executing that program: what the
 * exec would have done to the process, done — every close-on-exec fd
 * closed, every caught signal back to its default action (an ignored one
 * stays ignored, the mask as it is) — and the process named `program`
 * (its log prefix, its comm). Returns < 0 with errno when it cannot. */
int stage1_as_if_executed(const char *program);

/* run: the pod's lock fd from PODRUN_LOCK_FD, made close-on-exec (the run
 * entrypoint keeps it for the pod's whole life, nothing it starts does). */
int stage1_lock_fd(podrun_error_t *err);

/* stop [--force] UUID: SIGTERM to the pod's pid (pod_read_pid), SIGKILL with
 * --force; the flavor's pid passes it on to the apps. */
int stage1_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* enter --pid=PID --app=NAME -- CMD…: *ret_cmd is the index of "--". */
int stage1_enter_args(int argc, char **argv, const char **ret_pid, const char **ret_app, int *ret_cmd,
                      podrun_error_t *err);

struct stage2_args;
/* What enter needs of a flavor (enter.c; linked by the enter binaries alone,
 * which link stage2's code). */
struct stage1_enter_hooks
{
  /* The host pid of the app's own process, from the pod's pid (--pid) as
   * the flavor recorded it; NULL: the pod's pid is the app's (one app). */
  int (*app_pid)(pid_t pod, const char *app, pid_t *ret, podrun_error_t *err);
  /* what the flavor gives its apps beyond the contract's run flags
   * (keep_caps_by_default, default_seccomp, host_network) */
  void (*stage2_args)(struct stage2_args *a);
};
/* The app's process, found from the pod init (init: its pid as the enter
 * entrypoint sees it): the init records each app by the pid, in the pod's
 * pid namespace, of its stage2 (pid 1 of the app's own pid namespace, its
 * reaper) in runtime/<app>.pid (runtime: the init's runtime directory,
 * relative to the working directory); the app is that process's first
 * child. Only the init's own children count, and the pids that are used
 * come from the kernel. An app_pid hook for the flavors whose init is the
 * shared one. */
int stage1_init_app_pid(const char *runtime, pid_t init, const char *app, pid_t *ret, podrun_error_t *err);
/* The enter entrypoint: runs the command as the app's process runs
 * (stage2_enter), with what the app was given by the run flags. */
int stage1_enter(const struct stage1_enter_hooks *h, int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* ---- the apps' /etc (etc.c) ---- */

struct stage1_run_args;
/* Into the app's root (in the pod's mount namespace on the host): its
 * /etc/hostname always; /etc/resolv.conf and /etc/hosts as rkt's --dns* and
 * --hosts-entry say (`host`: the host's file), else the image's own (a
 * missing /etc/hosts gets localhost and the hostname); without any --dns*,
 * default_nameserver (the pod network's resolver, NULL: none) replaces the
 * image's resolv.conf. A symlink at a target is replaced, never followed;
 * the files are owned by the pod's root (a->userns_shift). */
int stage1_write_app_etc(const struct stage1_run_args *a, const char *root, const char *hostname,
                         const char *default_nameserver, podrun_error_t *err);
/* Replaces root/etc/name with text, as stage1_write_app_etc writes its
 * files (a flavor's own: nspawn's resolv.conf from its CNI networks' DNS). */
int stage1_write_etc_file(const char *root, const char *name, const char *text, uid_t shift, podrun_error_t *err);

/* ---- stage2 ---- */

/* stage2's command line for a (stage2's own arguments, stage2_parse_args'
 * inverse): stage2, then the flags set in a, then "--" and a->cmd if any. */
char **stage1_stage2_argv(const char *stage2, const struct stage2_args *a);

/* ---- the pod init ---- */

struct stage1_init_hooks
{
  const char *runtime_dir; /* in the init's root (above): "/podrun/nspawn" */
  /* An fd that reads end of file the moment the pod's stage1 on the host
   * is gone, whatever ended it (then the init ends the pod), -1 if none;
   * taken once, first. */
  int (*lifeline)(void);
  /* Before the apps' roots are prepared: what the flavor's init must do
   * itself in the pod (hostname, mounts nobody made), from the init's
   * arguments (it ignores those it does not know) and the pod manifest;
   * NULL: nothing. */
  int (*prepare)(int argc, char **argv, const struct appc_pod_manifest *m, podrun_error_t *err);
  /* In the child that becomes the app's (or its handler's) stage2: this
   * process into the app's cgroups, and so its limits; NULL: none. */
  int (*cgroup_join)(const char *app, podrun_error_t *err);
  /* Was the app's SIGKILL the OOM killer's? NULL: not known. */
  bool (*oom_killed)(const char *app);
  /* Where the init has stage2's code linked: stage2_main, which that
   * child then runs in process, as if it executed STAGE1_STAGE2 (kvm: an
   * exec costs tens of ms in an emulated guest). NULL: it executes it. */
  _noreturn_ void (*stage2_main)(const struct stage2_args *a);
};

/* The lifeline as socket activation passes it (LISTEN_FDS=1, LISTEN_PID=1:
 * STAGE1_LIFELINE_FD, made close-on-exec), LISTEN_* cleared from the
 * environment; -1 without one. */
int stage1_listen_fd_lifeline(void);

/* The pod init, in the stage1 rootfs with the pod directory's parts under
 * STAGE1_POD_DIR, /proc, /sys and /dev mounted: gives every app the pod's
 * /sys and /dev, runs its event handlers, starts it through stage2 as pid 1
 * of a pid namespace of its own, copies its output to the init's and to its
 * log, reaps, records each app's exit, and stops the pod when the first app
 * fails. argv: [--debug] [--host-network] [--interactive] [--disable-*].
 * Returns the pod's exit code (< 0 with *err set: it could not start). */
int stage1_pod_init(const struct stage1_init_hooks *h, int argc, char **argv, podrun_error_t *err);

/* ---- the records (records.c) ---- */

/* An app's exit code from its wait status: its code, or 128 + the signal. */
int stage1_exit_code(int status);

/* Writes code as decimal text to path (status/<app>, exit-code), atomically. */
int stage1_write_code(const char *path, int code, podrun_error_t *err);

/* A code recorded at path: 0–255, or -1 when there is none. */
int stage1_read_code(const char *path);

/* The pod manifest at path, parsed. */
int stage1_read_pod(const char *path, struct appc_pod_manifest **ret, podrun_error_t *err);

/* run, on the host: waits, without polling, until the pod init creates
 * runtime/STAGE1_READY (runtime: the pod directory's, relative to the working
 * directory) or the helper process that runs the pod exits: 1 when ready, 0
 * when the helper exited (*status is its wait status, reaped). */
int stage1_wait_ready(const char *runtime, pid_t helper, int *status, podrun_error_t *err);

/* run, on the host, once the pod has ended and its init was ready: the pod's
 * exit code from the init's records in runtime/ and status/ (never from a
 * helper's exit status). An app without a record of an init that did not
 * exit of its own accord died with it: it gets 137 (SIGKILL) in
 * status/<app>. The code is runtime/STAGE1_EXIT_CODE's, else the first
 * non-zero record in the manifest's order, else 0. */
int stage1_pod_exit_code(const struct appc_pod_manifest *m, const char *runtime, int *ret_exit, podrun_error_t *err);
