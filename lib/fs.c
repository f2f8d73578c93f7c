/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

int fs_write_all(int fd, const void *buf, size_t len, podrun_error_t *err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write(fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return podrun_error_set(err, errno, "write");
        }
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int fs_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len, podrun_error_t *err)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  size_t len = 0, cap;

  if (fd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(path));
  if (fstat(fd, &st) < 0)
    return podrun_error_set(err, errno, "stat %s", QUOTE(path));
  if (!S_ISREG(st.st_mode))
    return podrun_error_set(err, 0, "%s: not a regular file", QUOTE(path));
  if ((unsigned long long) st.st_size > max)
    return podrun_error_set(err, 0, "%s: larger than %zu bytes", QUOTE(path), max);
  cap = (size_t) st.st_size + 2; /* room for one byte more than fstat says: a short read ends it */
  buf = xmalloc(cap);
  for (;;)
    {
      if (len + 1 >= cap)
        {
          if (cap > max + 1)
            return podrun_error_set(err, 0, "%s: larger than %zu bytes", QUOTE(path), max);
          cap *= 2;
          buf = xrealloc(buf, cap);
        }
      ssize_t n = read(fd, buf + len, cap - len - 1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return podrun_error_set(err, errno, "read %s", QUOTE(path));
        }
      if (n == 0)
        break;
      len += (size_t) n;
      if (st.st_size > 0 && len < cap - 1)
        break; /* a short read of a file on disk is its end: saves the read that returns 0 (not so in /proc) */
    }
  if (len > max)
    return podrun_error_set(err, 0, "%s: larger than %zu bytes", QUOTE(path), max);
  buf[len] = '\0';
  if (ret_len)
    *ret_len = len;
  *ret = TAKE_PTR(buf);
  return 0;
}

int fs_write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                            podrun_error_t *err)
{
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = -1;

  for (int i = 0; i < 100 && fd < 0; i++)
    {
      char rnd[13];
      random_chars(rnd, sizeof(rnd) - 1);
      free(tmp);
      tmp = xasprintf("%s.tmp-%s", path, rnd);
      fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
      if (fd < 0 && errno != EEXIST)
        return podrun_error_set(err, errno, "write %s", QUOTE(path)); /* the name the caller knows */
    }
  if (fd < 0)
    return podrun_error_set(err, EEXIST, "create temporary file for %s", QUOTE(path));
  if (fs_write_all(fd, buf, len, err) < 0 || fchmod(fd, mode) < 0)
    {
      int e = *err ? (*err)->status : errno;
      podrun_error_free(err); /* "write": said once, with the path */
      (void) unlinkat(dirfd, tmp, 0);
      return podrun_error_set(err, e, "write %s", QUOTE(path));
    }
  if (renameat(dirfd, tmp, dirfd, path) < 0)
    {
      int e = errno;
      (void) unlinkat(dirfd, tmp, 0);
      return podrun_error_set(err, e, "rename %s", QUOTE(path));
    }
  return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, podrun_error_t *err)
{
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0; /* the common case: one call */
  if (errno != ENOENT)
    return podrun_error_set(err, errno, "mkdir %s", QUOTE(path));
  /* from the deep end up: only the missing parents cost a call */
  _cleanup_free_ char *parent = xstrdup(path);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent)
    return podrun_error_set(err, ENOENT, "mkdir %s", QUOTE(path));
  *slash = '\0';
  if (fs_mkdir_p(parent, mode, err) < 0)
    return -1;
  if (mkdir(path, mode) < 0 && errno != EEXIST)
    return podrun_error_set(err, errno, "mkdir %s", QUOTE(path));
  return 0;
}

static int rm_rf_children(int dfd, dev_t dev, const char *what, podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = fdopendir(dfd);
  struct dirent *de;

  if (!d)
    {
      int e = errno;
      close(dfd);
      return podrun_error_set(err, e, "opendir %s", QUOTE(what));
    }
  while ((errno = 0, de = readdir(d)))
    {
      struct stat st;
      if (streq(de->d_name, ".") || streq(de->d_name, ".."))
        continue;
      if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return podrun_error_set(err, errno, "stat \"%s/%s\"", ESCAPE(what), ESCAPE(de->d_name));
        }
      if (S_ISDIR(st.st_mode))
        {
          if (st.st_dev != dev)
            return podrun_error_new(err, EBUSY, "remove \"%s/%s\": a mount point", what, de->d_name);
          int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (cfd < 0)
            return podrun_error_set(err, errno, "open \"%s/%s\"", ESCAPE(what), ESCAPE(de->d_name));
          _cleanup_free_ char *sub = xasprintf("%s/%s", what, de->d_name);
          if (rm_rf_children(cfd, dev, sub, err) < 0)
            return -1;
          if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return podrun_error_set(err, errno, "rmdir %s", QUOTE(sub));
        }
      else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
        return podrun_error_set(err, errno, "unlink \"%s/%s\"", ESCAPE(what), ESCAPE(de->d_name));
    }
  if (errno)
    return podrun_error_set(err, errno, "readdir %s", QUOTE(what));
  return 0;
}

int fs_rm_rf_at(int dirfd, const char *name, podrun_error_t *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "stat %s", QUOTE(name));
  if (S_ISDIR(st.st_mode))
    {
      int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return podrun_error_set(err, errno, "open %s", QUOTE(name));
      if (rm_rf_children(fd, st.st_dev, name, err) < 0)
        return -1;
      if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return podrun_error_set(err, errno, "rmdir %s", QUOTE(name));
      return 0;
    }
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    return podrun_error_set(err, errno, "unlink %s", QUOTE(name));
  return 0;
}

int fs_fsync_dir(const char *path, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0)
    return podrun_error_set(err, errno, "fsync %s", QUOTE(path));
  return 0;
}

int fs_copy_fd(int in, int out, podrun_error_t *err)
{
  char buf[1 << 16];
  for (;;)
    {
      ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0)
        continue;
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return podrun_error_set(err, errno, "copy");
      break;
    }
  for (;;)
    {
      ssize_t n = read(in, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "read");
      if (n == 0)
        return 0;
      if (fs_write_all(out, buf, (size_t) n, err) < 0)
        return -1;
    }
}
