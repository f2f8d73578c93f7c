/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "userns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "fs.h"
#include "pod.h"
#include "util.h"

int userns_parse(const char *value, uid_t *ret_shift, podrun_error_t *err)
{
  const char *colon = strchr(value, ':');
  _cleanup_free_ char *first = colon ? xstrndup(value, (size_t) (colon - value)) : NULL;
  unsigned long long shift = 0, range = 0;
  if (!colon || parse_uint(first, UINT32_MAX, &shift) < 0 || parse_uint(colon + 1, UINT32_MAX, &range) < 0 ||
      range != USERNS_RANGE || shift < USERNS_SHIFT_MIN || shift > USERNS_SHIFT_MAX || shift % USERNS_RANGE)
    return podrun_error_new(err, EINVAL, "--private-users=%s: not SHIFT:%u with SHIFT a multiple of %u in [%u, %u]",
                            ESCAPE(value), USERNS_RANGE, USERNS_RANGE, USERNS_SHIFT_MIN, USERNS_SHIFT_MAX);
  *ret_shift = (uid_t) shift;
  return 0;
}

int userns_from_flags(char *const *flags, uid_t *ret_shift, podrun_error_t *err)
{
  *ret_shift = 0;
  for (size_t i = 0; flags && flags[i]; i++)
    if (startswith(flags[i], USERNS_FLAG))
      return userns_parse(flags[i] + strlen(USERNS_FLAG), ret_shift, err);
  return 0;
}

int userns_read_pod(int dirfd, uid_t *ret_shift, podrun_error_t *err)
{
  _cleanup_strv_ char **flags = NULL;
  *ret_shift = 0;
  if (pod_read_run_flags(dirfd, &flags, err) < 0)
    return -1;
  return userns_from_flags(flags, ret_shift, err);
}

static int write_map(pid_t pid, const char *which, uid_t inside, uid_t outside, uid_t count, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int) pid, which);
  _cleanup_free_ char *map = xasprintf("%u %u %u\n", inside, outside, count);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(path));
  return fs_write_all(fd, map, strlen(map), err);
}

/* A child unshares a user namespace and waits; the parent maps it, keeps
 * an fd of it, and lets the child go. */
int userns_make(uid_t inside, uid_t outside, uid_t count, int *ret_fd, podrun_error_t *err)
{
  int ready[2], go[2];
  char c = 0;
  int r = 0;

  if (pipe2(ready, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "pipe");
  if (pipe2(go, O_CLOEXEC) < 0)
    {
      r = podrun_error_set(err, errno, "pipe");
      close(ready[0]);
      close(ready[1]);
      return r;
    }
  pid_t pid = fork();
  if (pid == 0)
    {
      close(go[1]); /* else its read below never sees EOF */
      close(ready[0]);
      char ok = unshare(CLONE_NEWUSER) == 0 ? 1 : 0;
      (void) !write(ready[1], &ok, 1);
      (void) !read(go[0], &ok, 1);
      _exit(0);
    }
  close(ready[1]);
  close(go[0]);
  if (pid < 0)
    r = podrun_error_set(err, errno, "fork");
  else if (read(ready[0], &c, 1) != 1 || !c)
    r = podrun_error_set(err, 0, "a user namespace could not be made (unshare failed)");
  else if (write_map(pid, "uid_map", inside, outside, count, err) < 0 ||
           write_map(pid, "gid_map", inside, outside, count, err) < 0)
    r = -1;
  else
    {
      _cleanup_free_ char *ns = xasprintf("/proc/%d/ns/user", (int) pid);
      *ret_fd = open(ns, O_RDONLY | O_CLOEXEC);
      if (*ret_fd < 0)
        r = podrun_error_set(err, errno, "open %s", QUOTE(ns));
    }
  close(ready[0]);
  close(go[1]); /* the child reads EOF and exits */
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  return r;
}

int userns_idmapped_tree(const char *source, int usernsfd, int *ret_fd, podrun_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) usernsfd };
  _cleanup_close_ int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    return podrun_error_set(err, errno, "clone the mount of %s", QUOTE(source));
  if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
    return podrun_error_set(err, errno, "an idmapped mount of %s (the kernel or filesystem may not support it)",
                            QUOTE(source));
  *ret_fd = TAKE_FD(tree);
  return 0;
}

int userns_mount_idmapped(const char *source, int usernsfd, const char *target, podrun_error_t *err)
{
  _cleanup_close_ int tree = -1;
  if (userns_idmapped_tree(source, usernsfd, &tree, err) < 0)
    return -1;
  if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return podrun_error_set(err, errno, "mount on %s", QUOTE(target));
  return 0;
}
