/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* --private-users: a pod's apps run in a user namespace whose root is host
 * uid `shift` (and gid the same), with USERNS_RANGE ids from there. podrun
 * picks the shift, one range per pod, among these: */
#define USERNS_RANGE 65536u
#define USERNS_SHIFT_MIN 0x00080000u /* systemd-nspawn's own pick range */
#define USERNS_SHIFT_MAX 0x6fff0000u

/* "--private-users=SHIFT:RANGE", the stage1 run flag that carries it. */
#define USERNS_FLAG "--private-users="

/* Parses SHIFT:RANGE (both decimal, shift a multiple of the range, range
 * USERNS_RANGE). */
int userns_parse(const char *value, uid_t *ret_shift, podrun_error_t *err);

/* The shift in a pod's run flags (the lines of its stage1/run-flags), or
 * read from the pod directory dirfd; 0 when the pod has no user namespace. */
int userns_from_flags(char *const *flags, uid_t *ret_shift, podrun_error_t *err);
int userns_read_pod(int dirfd, uid_t *ret_shift, podrun_error_t *err);

/* An fd of a new user namespace mapping [inside, inside+count) to
 * [outside, outside+count), uids and gids alike. */
int userns_make(uid_t inside, uid_t outside, uid_t count, int *ret_fd, podrun_error_t *err);

/* A detached idmapped view of the directory source (an fd of a mount). */
int userns_idmapped_tree(const char *source, int usernsfd, int *ret_fd, podrun_error_t *err);

/* Mounts on target an idmapped view of the directory source, through the
 * user namespace usernsfd: a file owned by k on disk is seen as owned by
 * what usernsfd maps k to. */
int userns_mount_idmapped(const char *source, int usernsfd, const char *target, podrun_error_t *err);
