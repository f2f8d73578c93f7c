/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "appc.h"
#include "error.h"

/* The file beside the pod manifest whose URL is the apps' AC_METADATA_URL. */
#define STAGE2_MDS_URL "mds-url"

struct stage2_args
{
  const char *pod_manifest;
  const char *app;
  const char *root;
  bool keep_caps_by_default;
  bool default_seccomp; /* an app that asks for no filter gets syscalls_default_blocklist */
  bool host_network;    /* the pod shares the host's network: CAP_NET_RAW leaves the default set */
  bool pid_init;        /* pid 1 of the app's own pid namespace: stay as the app's reaper (stage2/pid-init.c) */
  /* --insecure-options (lib/pod.h's flags): every capability, whatever the
   * app's isolators say; no masked or read-only /proc paths (--pid-init);
   * no seccomp filter, the app's own or the default */
  bool disable_caps, disable_paths, disable_seccomp;
  char **cmd;           /* after "--": replaces the app's exec (enter) */
  /* socket activation (Documentation/systemd.md): the app's fds 3… are
   * listen_fds sockets named listen_fdnames (':'-separated): LISTEN_FDS,
   * LISTEN_FDNAMES and, in the app's process, LISTEN_PID; notify_socket:
   * its NOTIFY_SOCKET */
  unsigned listen_fds;
  const char *listen_fdnames;
  const char *notify_socket;
  const char *watchdog_usec; /* its WATCHDOG_USEC (with notify_socket) */
};

int stage2_parse_args(int argc, char **argv, struct stage2_args *ret, podrun_error_t *err);

/* Applies everything to this process and execs the app; returns only on
 * failure. The app gets a mount namespace of its own whose root is
 * a->root (pivot_root, the old root detached): nothing outside its rootfs
 * is reachable from it by any path. */
int stage2_exec(const struct stage2_args *a, podrun_error_t *err);

/* What stage2 functions return when everything was applied but the command
 * itself could not be executed (err->status is exec's errno). */
#define STAGE2_EXEC_FAILED (-2)

/* The exit code for a stage2 failure r with error e: 127 when the command
 * does not exist, 126 when it cannot be executed, else 254. */
int stage2_exit_code(int r, const struct podrun_error *e);

/* stage2 as its binary runs it: stage2_exec(a), and on failure the error
 * said and the process ended with stage2_exit_code. A flavor whose init has
 * stage2's code calls it in the child it would have executed stage2 in. */
_noreturn_ void stage2_main(const struct stage2_args *a);

/* enter, on the host side (stage2/enter.c): runs a->cmd as the app whose
 * process is `target` (a pid in the caller's pid namespace) runs, in that
 * process's cgroups, namespaces (user first) and root, under the app's
 * seccomp filter and no_new_privs, as its uid, gid and groups, with no
 * capability the app may not have (the pod manifest's set, within the
 * target's bounding set). Nothing of the pod is executed or read as a path
 * before that: a->pod_manifest is read first, and the command is exec'd
 * last, from inside the app's root. *ret_exit is the command's code. */
int stage2_enter(const struct stage2_args *a, pid_t target, int *ret_exit, podrun_error_t *err);
