/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nspawn stage1's gc entrypoint, run in the pod directory once stage0
 * has ended every process of the pod's cgroup: the resource cgroups
 * (cgroup.c), and what systemd-nspawn leaves in the host's /run when it is
 * killed (it removes them itself when it exits): the machine's propagate
 * directory, and its lock file for the pod's stage1 rootfs. */
#include "nspawn.h"

#include <fcntl.h>
#include <sys/file.h>

#include "fs.h"
#include "log.h"
#include "uuid.h"

#define NSPAWN_RUN "/run/systemd/nspawn"

/* The lock file's name from the pod directory, if it is one ("inode-N:N"). */
static char *lock_name(void)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  unsigned long dev, ino;
  char end;
  if (fs_read_file_at(AT_FDCWD, NSPAWN_LOCK_RECORD, 64, &text, NULL, &ignored) < 0 ||
      sscanf(text, "inode-%lu:%lu%c", &dev, &ino, &end) != 3 || end != '\n')
    return NULL;
  return xasprintf("inode-%lu:%lu", dev, ino);
}

/* Removes the lock file unless someone holds it: nspawn's lock protocol
 * (systemd's make_lock_file) takes a lock file that vanished while it waited
 * for it as a reason to try again, never as its own. */
static void remove_lock(void)
{
  _cleanup_free_ char *name = lock_name();
  _cleanup_close_ int dir = open(NSPAWN_RUN "/locks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd = -1;
  if (!name || dir < 0)
    return;
  fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dir, name, 0) < 0)
    log_debug("remove " NSPAWN_RUN "/locks/%s: %s, ignoring", name, strerror(errno));
}

int nspawn_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  if (argc != 2 || !uuid_is_valid(argv[1]))
    return podrun_error_new(err, 0, "usage: gc UUID");
  if (nspawn_cgroups_remove(argv[1], err) < 0)
    return -1;
  _cleanup_close_ int propagate = open(NSPAWN_RUN "/propagate", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_free_ char *machine = xasprintf("podrun-%s", argv[1]);
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (propagate >= 0 && fs_rm_rf_at(propagate, machine, &ignored) < 0)
    log_debug("%s, ignoring", ignored->msg);
  remove_lock();
  *ret_exit = 0;
  return 0;
}
