/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>

int lock_fd(int fd, enum lock_mode mode, bool nonblock, podrun_error_t *err)
{
  int op = (mode == LOCK_MODE_EXCLUSIVE ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0);
  while (flock(fd, op) < 0)
    {
      if (errno == EINTR)
        continue;
      return podrun_error_set(err, errno, "lock");
    }
  return 0;
}

int lock_open_at(int dirfd, const char *path, enum lock_mode mode, bool nonblock, int *ret_fd,
                 podrun_error_t *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return podrun_error_set(err, errno, "open lock %s", QUOTE(path));
  if (lock_fd(fd, mode, nonblock, err) < 0)
    return podrun_error_wrap(err, "%s", QUOTE(path));
  *ret_fd = TAKE_FD(fd);
  return 0;
}
