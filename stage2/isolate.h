/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "caps.h"
#include "error.h"
#include "syscalls.h"

/* The per-app isolation stage2 applies, in the order it applies them:
 * groups and user, capabilities, no_new_privs, seccomp (last, so the filter
 * never stands in the way of setting up). Each takes plain values; reading
 * them from the app's isolators is stage2.c's job. */

/* The names (capabilities, syscalls, errno values) are lib's: caps.h and
 * syscalls.h, shared with stage0. */

/* Switches to uid/gid/supplementary gids keeping exactly `mask` as the
 * bounding, permitted, effective and inheritable sets (ambient too for a
 * non-root uid, so the caps survive execve as the appc spec asks). */
int isolate_set_identity(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, uint64_t mask,
                         podrun_error_t *err);

int isolate_no_new_privs(podrun_error_t *err);

/* Keeps only `mask` in every capability set, the bounding set included,
 * without changing uid. */
int isolate_limit_caps(uint64_t mask, podrun_error_t *err);

/* Gives this process a mount namespace of its own whose root is root (a
 * mount point): the namespace's mounts become slaves (nothing the app
 * mounts goes back), root is pivoted to, and the old root is detached, so
 * no chroot trick, fd or path leads back to it. cwd is the new "/". */
int isolate_pivot_root(const char *root, podrun_error_t *err);
/* Its two halves, for what must be mounted in between (a /proc): the
 * mount namespace and root's bind onto itself, then the pivot. */
int isolate_own_mount_ns(const char *root, podrun_error_t *err);
int isolate_pivot(const char *root, podrun_error_t *err);

enum isolate_seccomp_mode
{
  ISOLATE_SECCOMP_RETAIN, /* only these syscalls work; others fail with errnum */
  ISOLATE_SECCOMP_REMOVE, /* these syscalls fail with errnum; others work */
};

/* errnum 0: the filter kills the process instead (as appc says when no
 * errno is given). Names libseccomp does not know are an error. */
int isolate_seccomp(enum isolate_seccomp_mode mode, char *const *syscalls, int errnum, podrun_error_t *err);

/* The one filter builder, which isolate_seccomp also goes through: the
 * filter's default action, its rules (argument conditions ANDed within a
 * rule, rules ORed), architectures and flags, loaded. A rule whose action
 * is the default's is left out. */
int isolate_seccomp_filter(const struct syscalls_filter *f, podrun_error_t *err);
