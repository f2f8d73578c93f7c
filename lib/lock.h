/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

enum lock_mode
{
  LOCK_MODE_SHARED,
  LOCK_MODE_EXCLUSIVE,
};

/* flock(2) on fd; with nonblock, a lock held elsewhere fails with EWOULDBLOCK
 * in (*err)->status. */
int lock_fd(int fd, enum lock_mode mode, bool nonblock, podrun_error_t *err);

/* Opens (creating it, 0600) dirfd/path and locks it; the fd is the lock. */
int lock_open_at(int dirfd, const char *path, enum lock_mode mode, bool nonblock, int *ret_fd,
                 podrun_error_t *err);
