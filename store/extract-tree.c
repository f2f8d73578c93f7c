/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing checked entries into a fresh target directory, without
 * libarchive's disk writer. extract.c has already refused every name that
 * is absolute, climbs, repeats or passes through a symlink of the archive;
 * in a directory podrun has just made, nothing else is there. What is left
 * is the plain work, done relative to directory fds:
 *  - every directory is reached with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), so the
 *    kernel itself follows no symlink on the way (a component-by-component
 *    O_NOFOLLOW walk where openat2 is missing), and the last one is cached:
 *    an archive's entries come directory by directory;
 *  - the final component is created, never opened: O_CREAT|O_EXCL|
 *    O_NOFOLLOW, mkdirat, symlinkat, mknodat, linkat; an existing name fails
 *    (but for a directory a deeper entry already implied);
 *  - the process's umask is 0 while it writes, so a create gives the entry's
 *    mode at once; owners are set only where a new file would not already
 *    have them (root extracting root's files: most of any image);
 *  - directories get their mode, owner and times at the end, deepest first,
 *    as libarchive's writer does, so that writing into them disturbs nothing.
 * The result is what libarchive's writer gives with PERM, OWNER, TIME and
 * XATTR (tests/fuzz/fuzz-scan.c extracts every input both ways and compares
 * the trees). libarchive's writer costs two umask(2) and an fcntl(2) per
 * entry, an fchown(2) even where nothing changes, a copy and a free of each
 * entry, and a path walk from the cwd per call. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract-internal.h"
#include "store-internal.h"

struct dir_fixup
{
  char *path;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  bool times_set;
  struct timespec times[2];
};

struct tree_writer
{
  int rootfd;
  char *parent; /* the directory last opened, relative to rootfd */
  int parentfd; /* O_PATH of it, -1 when none */
  mode_t old_umask;
  uid_t uid; /* what a new file gets without a chown */
  gid_t gid;
  bool chown_always; /* the target is setgid: new files take its group */
  time_t start;      /* libarchive's atime when an entry has only an mtime */
  struct dir_fixup *fixups;
  size_t n_fixups, cap_fixups;
  int fd; /* the regular file being written, or -1 */
  int64_t end;
};

int extract_open_dir_below(int destfd, const char *path, int *ret, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(path);
  _cleanup_close_ int fd = openat(destfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL;

  if (fd < 0)
    return podrun_error_set(err, errno, "open the target directory");
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
    {
      int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT)
        {
          if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
            return podrun_error_set(err, errno, "entry %s: mkdir %s", QUOTE(path), QUOTE(c));
          next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (next >= 0 && fchmod(next, 0755) < 0)
            {
              podrun_error_set(err, errno, "entry %s: chmod %s", QUOTE(path), QUOTE(c));
              close(next);
              return -1;
            }
        }
      if (next < 0)
        return podrun_error_set(err, errno, "entry %s: open %s", QUOTE(path), QUOTE(c));
      close(fd);
      fd = next;
    }
  *ret = TAKE_FD(fd);
  return 0;
}

static bool no_openat2; /* the kernel has none (before Linux 5.6) */

/* dir (relative, "" for the root) opened (flags: O_PATH or O_RDONLY),
 * through no symlink. */
static int open_dir(int rootfd, const char *dir, int flags, podrun_error_t *err)
{
  struct open_how how = {
    .flags = (uint64_t) flags | O_DIRECTORY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd = -1;

  if (!no_openat2)
    {
      fd = (int) syscall(SYS_openat2, rootfd, *dir ? dir : ".", &how, sizeof(how));
      if (fd >= 0)
        return fd;
      if (errno == ENOSYS)
        no_openat2 = true;
      else if (errno != ENOENT)
        return podrun_error_set(err, errno, "open %s", QUOTE(dir));
    }
  /* missing (a directory the archive implies before, or without, its
   * entry), or no openat2: one component at a time, made where missing */
  if (extract_open_dir_below(rootfd, dir, &fd, err) < 0)
    return -1;
  return fd;
}

/* The directory fd of name's parent, and its last component. */
static int parent_of(struct tree_writer *t, const char *name, const char **ret_base, podrun_error_t *err)
{
  const char *slash = strrchr(name, '/');
  size_t len = slash ? (size_t) (slash - name) : 0;

  *ret_base = slash ? slash + 1 : name;
  if (len == 0)
    return t->rootfd;
  if (t->parentfd >= 0 && strlen(t->parent) == len && memcmp(t->parent, name, len) == 0)
    return t->parentfd;
  if (t->parentfd >= 0)
    close(t->parentfd);
  free(t->parent);
  t->parent = xstrndup(name, len);
  t->parentfd = open_dir(t->rootfd, t->parent, O_PATH, err);
  return t->parentfd < 0 ? podrun_error_wrap(err, "entry %s", QUOTE(name)) : t->parentfd;
}

int tree_writer_new(int rootfd, struct tree_writer **ret, podrun_error_t *err)
{
  struct tree_writer *t;
  struct stat st;

  if (fstat(rootfd, &st) < 0)
    return podrun_error_set(err, errno, "prepare extraction");
  t = xzalloc(sizeof(*t));
  t->rootfd = rootfd;
  t->parentfd = t->fd = -1;
  t->uid = geteuid();
  t->gid = getegid();
  t->chown_always = st.st_mode & S_ISGID;
  t->start = time(NULL);
  t->old_umask = umask(0);
  *ret = t;
  return 0;
}

void tree_writer_free(struct tree_writer *t)
{
  if (!t)
    return;
  umask(t->old_umask);
  if (t->fd >= 0)
    close(t->fd);
  if (t->parentfd >= 0)
    close(t->parentfd);
  for (size_t i = 0; i < t->n_fixups; i++)
    free(t->fixups[i].path);
  free(t->fixups);
  free(t->parent);
  free(t);
}

/* The entry's times as libarchive's writer sets them; false: none set. */
static bool entry_times(const struct tree_writer *t, struct archive_entry *e, struct timespec ts[2])
{
  bool a = sym_archive_entry_atime_is_set(e), m = sym_archive_entry_mtime_is_set(e);
  if (!a && !m)
    return false;
  ts[0] = ts[1] = (struct timespec){ .tv_sec = t->start };
  if (a)
    ts[0] = (struct timespec){ .tv_sec = sym_archive_entry_atime(e), .tv_nsec = sym_archive_entry_atime_nsec(e) };
  if (m)
    ts[1] = (struct timespec){ .tv_sec = sym_archive_entry_mtime(e), .tv_nsec = sym_archive_entry_mtime_nsec(e) };
  return true;
}

static bool needs_chown(const struct tree_writer *t, struct archive_entry *e)
{
  return t->chown_always || (uid_t) sym_archive_entry_uid(e) != t->uid || (gid_t) sym_archive_entry_gid(e) != t->gid;
}

static mode_t entry_perm(struct archive_entry *e)
{
  return sym_archive_entry_mode(e) & 07777;
}

static int set_xattrs(int fd, const char *path, struct archive_entry *e, const char *name, podrun_error_t *err)
{
  const char *key;
  const void *value;
  size_t size;

  if (sym_archive_entry_xattr_count(e) == 0)
    return 0;
  sym_archive_entry_xattr_reset(e);
  while (sym_archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK)
    if ((path ? lsetxattr(path, key, value, size, 0) : fsetxattr(fd, key, value, size, 0)) < 0)
      return podrun_error_set(err, errno, "entry %s: set extended attribute %s", QUOTE(name), QUOTE(key));
  return 0;
}

/* A regular file: its data follows (tree_writer_data), then
 * tree_writer_finish. */
static int create_file(struct tree_writer *t, int dfd, const char *base, struct archive_entry *e, const char *name,
                       podrun_error_t *err)
{
  t->fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, entry_perm(e));
  if (t->fd < 0)
    return podrun_error_set(err, errno, "entry %s: create", QUOTE(name));
  t->end = 0;
  return 0;
}

static int create_dir(struct tree_writer *t, int dfd, const char *base, struct archive_entry *e, const char *name,
                      podrun_error_t *err)
{
  struct stat st;
  struct dir_fixup f = { .mode = entry_perm(e), .uid = sym_archive_entry_uid(e), .gid = sym_archive_entry_gid(e) };

  /* 0700 until the end: its own mode may not let it be written into */
  if (mkdirat(dfd, base, 0700) < 0 &&
      (errno != EEXIST || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
    return podrun_error_set(err, errno, "entry %s: mkdir", QUOTE(name));
  if (sym_archive_entry_xattr_count(e) > 0)
    {
      _cleanup_close_ int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return podrun_error_set(err, errno, "entry %s: open", QUOTE(name));
      if (set_xattrs(fd, NULL, e, name, err) < 0)
        return -1;
    }
  f.times_set = entry_times(t, e, f.times);
  f.path = xstrdup(name);
  if (t->n_fixups == t->cap_fixups)
    {
      t->cap_fixups = t->cap_fixups ? 2 * t->cap_fixups : 64;
      t->fixups = xrealloc(t->fixups, t->cap_fixups * sizeof(*t->fixups));
    }
  t->fixups[t->n_fixups++] = f;
  return 0;
}

/* A symlink, fifo or device node: created, then its owner, mode and times
 * by name (nothing but this writer writes into the target). */
static int create_node(struct tree_writer *t, int dfd, const char *base, struct archive_entry *e, const char *name,
                       podrun_error_t *err)
{
  mode_t type = sym_archive_entry_filetype(e);
  bool is_link = type == AE_IFLNK;
  struct timespec ts[2];

  if (is_link ? symlinkat(sym_archive_entry_symlink(e), dfd, base)
              : mknodat(dfd, base, type | entry_perm(e), type == AE_IFIFO ? 0 : sym_archive_entry_rdev(e)))
    return podrun_error_set(err, errno, "entry %s: create", QUOTE(name));
  if (needs_chown(t, e))
    {
      if (fchownat(dfd, base, sym_archive_entry_uid(e), sym_archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
        return podrun_error_set(err, errno, "entry %s: chown", QUOTE(name));
      /* a chown clears setuid and setgid */
      if (!is_link && (entry_perm(e) & (S_ISUID | S_ISGID)) && fchmodat(dfd, base, entry_perm(e), 0) < 0)
        return podrun_error_set(err, errno, "entry %s: chmod", QUOTE(name));
    }
  if (sym_archive_entry_xattr_count(e) > 0)
    {
      _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", dfd, base);
      if (set_xattrs(-1, p, e, name, err) < 0)
        return -1;
    }
  if (entry_times(t, e, ts) && utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return podrun_error_set(err, errno, "entry %s: set times", QUOTE(name));
  return 0;
}

/* A hardlink to target (an earlier regular file of the archive, by its
 * name in the target): only the link, as libarchive's writer does. */
static int create_link(struct tree_writer *t, int dfd, const char *base, const char *target, const char *name,
                       podrun_error_t *err)
{
  const char *slash = strrchr(target, '/');
  _cleanup_free_ char *tdir = slash ? xstrndup(target, (size_t) (slash - target)) : xstrdup("");
  _cleanup_close_ int tfd = *tdir ? open_dir(t->rootfd, tdir, O_PATH, err) : -1;

  if (*tdir && tfd < 0)
    return podrun_error_wrap(err, "entry %s: hardlink", QUOTE(name));
  if (linkat(*tdir ? tfd : t->rootfd, slash ? slash + 1 : target, dfd, base, 0) < 0)
    return podrun_error_set(err, errno, "entry %s: hardlink to %s", QUOTE(name), QUOTE(target));
  return 0;
}

int tree_writer_create(struct tree_writer *t, struct archive_entry *e, const char *name, const char *hardlink,
                       podrun_error_t *err)
{
  const char *base;
  int dfd = parent_of(t, name, &base, err);

  if (dfd < 0)
    return -1;
  if (hardlink)
    return create_link(t, dfd, base, hardlink, name, err);
  switch (sym_archive_entry_filetype(e))
    {
    case AE_IFREG:
      return create_file(t, dfd, base, e, name, err) < 0 ? -1 : 1;
    case AE_IFDIR:
      return create_dir(t, dfd, base, e, name, err);
    default:
      return create_node(t, dfd, base, e, name, err);
    }
}

int tree_writer_data(struct tree_writer *t, const void *buf, size_t len, int64_t off, const char *name,
                     podrun_error_t *err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = pwrite(t->fd, p, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return podrun_error_set(err, n < 0 ? errno : EIO, "entry %s: write", QUOTE(name));
      p += n;
      off += n;
      len -= (size_t) n;
    }
  if (off > t->end)
    t->end = off;
  return 0;
}

int tree_writer_finish(struct tree_writer *t, struct archive_entry *e, const char *name, podrun_error_t *err)
{
  _cleanup_close_ int fd = TAKE_FD(t->fd);
  la_int64_t size = sym_archive_entry_size(e);
  struct timespec ts[2];

  /* a sparse file's last hole */
  if (size > t->end && ftruncate(fd, size) < 0)
    return podrun_error_set(err, errno, "entry %s: truncate", QUOTE(name));
  if (needs_chown(t, e))
    {
      if (fchown(fd, sym_archive_entry_uid(e), sym_archive_entry_gid(e)) < 0)
        return podrun_error_set(err, errno, "entry %s: chown", QUOTE(name));
      if ((entry_perm(e) & (S_ISUID | S_ISGID)) && fchmod(fd, entry_perm(e)) < 0)
        return podrun_error_set(err, errno, "entry %s: chmod", QUOTE(name));
    }
  /* after the chown: it drops security.capability */
  if (set_xattrs(fd, NULL, e, name, err) < 0)
    return -1;
  if (entry_times(t, e, ts) && futimens(fd, ts) < 0)
    return podrun_error_set(err, errno, "entry %s: set times", QUOTE(name));
  if (close(TAKE_FD(fd)) < 0)
    return podrun_error_set(err, errno, "entry %s: write", QUOTE(name));
  return 0;
}

static int fixup_cmp(const void *a, const void *b)
{
  /* deepest first: a directory's own fixup comes after those inside it */
  return -strcmp(((const struct dir_fixup *) a)->path, ((const struct dir_fixup *) b)->path);
}

static int fix_dir(struct tree_writer *t, const struct dir_fixup *f, podrun_error_t *err)
{
  _cleanup_close_ int fd = open_dir(t->rootfd, f->path, O_RDONLY, err);

  if (fd < 0)
    return podrun_error_wrap(err, "directory %s", QUOTE(f->path));
  if ((t->chown_always || f->uid != t->uid || f->gid != t->gid) && fchown(fd, f->uid, f->gid) < 0)
    return podrun_error_set(err, errno, "directory %s: chown", QUOTE(f->path));
  if (fchmod(fd, f->mode) < 0)
    return podrun_error_set(err, errno, "directory %s: chmod", QUOTE(f->path));
  if (f->times_set && futimens(fd, f->times) < 0)
    return podrun_error_set(err, errno, "directory %s: set times", QUOTE(f->path));
  return 0;
}

int tree_writer_close(struct tree_writer *t, podrun_error_t *err)
{
  if (t->n_fixups > 0)
    qsort(t->fixups, t->n_fixups, sizeof(*t->fixups), fixup_cmp);
  for (size_t i = 0; i < t->n_fixups; i++)
    if (fix_dir(t, &t->fixups[i], err) < 0)
      return -1;
  return 0;
}
