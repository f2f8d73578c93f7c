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
 *  - the process's umask is 0 while it writes (while any writer does), so
 *    a create gives the entry's mode at once; owners are set only where a
 *    new file would not already have them (root extracting root's files:
 *    most of any image);
 *  - directories get their mode, owner and times at the end, deepest first,
 *    as libarchive's writer does, so that writing into them disturbs nothing;
 *  - regular files are written by a second thread while the archive is
 *    read on: creating, filling and closing files is most of a render's
 *    time, all of it in the kernel, and the reading and checking of the
 *    next entries goes on beside it on another CPU. A file's data is the
 *    archive's own bytes where they stay mapped (an uncompressed blob) or
 *    a copy (a bounded amount; a larger file is written as it comes, by
 *    the reading thread). Only what no later entry can depend on is handed
 *    over: a hardlink waits until every file handed over is written, and
 *    so does the end.
 * The result is what libarchive's writer gives with PERM, OWNER, TIME and
 * XATTR (tests/fuzz/fuzz-scan.c extracts every input both ways and compares
 * the trees). libarchive's writer costs two umask(2) and an fcntl(2) per
 * entry, an fchown(2) even where nothing changes, a copy and a free of each
 * entry, and a path walk from the cwd per call. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* An O_PATH directory fd, shared by the files handed over into it. */
struct dir_ref
{
  int fd;
  atomic_int refs;
  atomic_uint *open; /* the count of those open, or NULL: not ours to close */
};

/* A piece of a regular file's data: the archive's own bytes, or a copy. */
struct piece
{
  const void *buf;
  size_t len;
  int64_t off;
  bool copied;
};

/* A regular file, from its entry to its close. */
struct file
{
  struct file *next; /* in the queue */
  struct dir_ref *dir;
  const char *base; /* in name */
  int fd;           /* -1 until it is created */
  int64_t end, size;
  mode_t perm;
  uid_t uid;
  gid_t gid;
  bool chown, times_set;
  struct timespec times[2];
  struct piece *pieces;
  size_t n_pieces, cap_pieces, copied;
  char name[];
};

#define COPY_MAX (8U << 20)   /* a file's data copied before it is written as it comes */
#define QUEUE_BYTES (64U << 20) /* copied data waiting in the queue */
#define QUEUE_FILES 4096U
#define QUEUE_DIRS 64U /* directories held open for them */
#define WRITE_BATCH 64U /* files the writing thread takes from the queue at once */

struct tree_writer
{
  struct dir_ref root; /* the target (its fd is the caller's) */
  char *parent;        /* the directory last opened, relative to the target */
  struct dir_ref *parentref; /* O_PATH of it, NULL when none */
  uid_t uid; /* what a new file gets without a chown */
  gid_t gid;
  bool chown_always; /* the target is setgid: new files take its group */
  time_t start;      /* libarchive's atime when an entry has only an mtime */
  const char *mapped; /* where the archive's bytes stay mapped, if they do */
  size_t mapped_len;
  struct dir_fixup *fixups;
  size_t n_fixups, cap_fixups;
  struct file *file; /* the regular file being read */
  atomic_uint dirs_open; /* struct dir_refs but root */
  /* the writing thread and its queue, under lock */
  pthread_t thread;
  bool started, no_thread, stop, failed;
  pthread_mutex_t lock;
  pthread_cond_t work, done; /* something queued; something written */
  struct file *head, **tail;
  size_t queued, queued_bytes;
  bool busy;
  podrun_error_t thread_err; /* its first failure */
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

static struct dir_ref *dir_ref_get(struct dir_ref *d)
{
  atomic_fetch_add(&d->refs, 1);
  return d;
}

static void dir_ref_put(struct dir_ref *d)
{
  if (d && atomic_fetch_sub(&d->refs, 1) == 1)
    {
      atomic_fetch_sub(d->open, 1);
      close(d->fd);
      free(d);
    }
}

/* The directory of name's parent, and its last component. */
static struct dir_ref *parent_of(struct tree_writer *t, const char *name, const char **ret_base, podrun_error_t *err)
{
  const char *slash = strrchr(name, '/');
  size_t len = slash ? (size_t) (slash - name) : 0;
  int fd;

  *ret_base = slash ? slash + 1 : name;
  if (len == 0)
    return &t->root;
  if (t->parentref && strlen(t->parent) == len && memcmp(t->parent, name, len) == 0)
    return t->parentref;
  dir_ref_put(t->parentref);
  t->parentref = NULL;
  free(t->parent);
  t->parent = xstrndup(name, len);
  if ((fd = open_dir(t->root.fd, t->parent, O_PATH, err)) < 0)
    {
      podrun_error_wrap(err, "entry %s", QUOTE(name));
      return NULL;
    }
  t->parentref = xzalloc(sizeof(*t->parentref));
  *t->parentref = (struct dir_ref){ .fd = fd, .refs = 1, .open = &t->dirs_open };
  atomic_fetch_add(&t->dirs_open, 1);
  return t->parentref;
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
  _cleanup_close_ int tfd = *tdir ? open_dir(t->root.fd, tdir, O_PATH, err) : -1;

  if (*tdir && tfd < 0)
    return podrun_error_wrap(err, "entry %s: hardlink", QUOTE(name));
  if (linkat(*tdir ? tfd : t->root.fd, slash ? slash + 1 : target, dfd, base, 0) < 0)
    return podrun_error_set(err, errno, "entry %s: hardlink to %s", QUOTE(name), QUOTE(target));
  return 0;
}

/* --- regular files ------------------------------------------------------- */

static void file_free(struct file *f)
{
  if (!f)
    return;
  if (f->fd >= 0)
    close(f->fd);
  for (size_t i = 0; i < f->n_pieces; i++)
    if (f->pieces[i].copied)
      free((void *) f->pieces[i].buf);
  free(f->pieces);
  dir_ref_put(f->dir);
  free(f);
}

static int write_all(const struct file *f, const void *buf, size_t len, int64_t off, podrun_error_t *err)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = pwrite(f->fd, p, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return podrun_error_set(err, n < 0 ? errno : EIO, "entry %s: write", QUOTE(f->name));
      p += n;
      off += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Creates f and writes the data it holds so far. */
static int file_create(struct file *f, podrun_error_t *err)
{
  f->fd = openat(f->dir->fd, f->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, f->perm);
  if (f->fd < 0)
    return podrun_error_set(err, errno, "entry %s: create", QUOTE(f->name));
  for (size_t i = 0; i < f->n_pieces; i++)
    if (write_all(f, f->pieces[i].buf, f->pieces[i].len, f->pieces[i].off, err) < 0)
      return -1;
  return 0;
}

/* Creates f if it is not yet, and completes it: size, owner, the extended
 * attributes of e (NULL: it has none), times. */
static int file_complete(struct file *f, struct archive_entry *e, podrun_error_t *err)
{
  if (f->fd < 0 && file_create(f, err) < 0)
    return -1;
  /* a sparse file's last hole */
  if (f->size > f->end && ftruncate(f->fd, f->size) < 0)
    return podrun_error_set(err, errno, "entry %s: truncate", QUOTE(f->name));
  if (f->chown)
    {
      if (fchown(f->fd, f->uid, f->gid) < 0)
        return podrun_error_set(err, errno, "entry %s: chown", QUOTE(f->name));
      /* a chown clears setuid and setgid */
      if ((f->perm & (S_ISUID | S_ISGID)) && fchmod(f->fd, f->perm) < 0)
        return podrun_error_set(err, errno, "entry %s: chmod", QUOTE(f->name));
    }
  /* after the chown: it drops security.capability */
  if (e && set_xattrs(f->fd, NULL, e, f->name, err) < 0)
    return -1;
  if (f->times_set && futimens(f->fd, f->times) < 0)
    return podrun_error_set(err, errno, "entry %s: set times", QUOTE(f->name));
  if (close(TAKE_FD(f->fd)) < 0)
    return podrun_error_set(err, errno, "entry %s: write", QUOTE(f->name));
  return 0;
}

static void *writer_thread(void *arg)
{
  struct tree_writer *t = arg;

  pthread_mutex_lock(&t->lock);
  for (;;)
    {
      if (!t->head)
        {
          if (t->stop)
            break;
          pthread_cond_wait(&t->work, &t->lock);
          continue;
        }
      /* a few files at a time: the lock, which the reading thread takes for
       * each file it hands over, is taken twice a batch, not twice a file */
      struct file *batch = t->head, **end = &batch;
      for (size_t n = 0; *end && n < WRITE_BATCH; n++)
        end = &(*end)->next;
      t->head = *end;
      *end = NULL;
      if (!t->head)
        t->tail = &t->head;
      t->busy = true;
      bool skip = t->failed;
      pthread_mutex_unlock(&t->lock);

      podrun_error_t e = NULL;
      size_t n = 0, copied = 0;
      int r = 0;
      for (struct file *f = batch, *next; f; f = next)
        {
          next = f->next;
          if (!skip && (r = file_complete(f, NULL, &e)) < 0)
            skip = true;
          n++;
          copied += f->copied;
          file_free(f);
        }

      pthread_mutex_lock(&t->lock);
      if (r < 0)
        {
          t->failed = true;
          t->thread_err = e;
        }
      t->queued -= n;
      t->queued_bytes -= copied;
      t->busy = false;
      pthread_cond_signal(&t->done);
    }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

/* The writing thread's failure, as the caller's (under lock). */
static int thread_failed(struct tree_writer *t, podrun_error_t *err)
{
  if (!t->failed)
    return 0;
  if (t->thread_err)
    {
      *err = t->thread_err;
      t->thread_err = NULL;
    }
  else
    podrun_error_set(err, 0, "writing failed");
  return -1;
}

/* Waits until every file handed over is written. */
static int drain(struct tree_writer *t, podrun_error_t *err)
{
  if (!t->started)
    return 0;
  pthread_mutex_lock(&t->lock);
  while (t->head || t->busy)
    pthread_cond_wait(&t->done, &t->lock);
  int r = thread_failed(t, err);
  pthread_mutex_unlock(&t->lock);
  return r;
}

static void stop_thread(struct tree_writer *t)
{
  if (!t->started)
    return;
  pthread_mutex_lock(&t->lock);
  t->stop = true;
  pthread_cond_signal(&t->work);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->thread, NULL);
  t->started = false;
}

/* Hands f to the writing thread; 0: it could not be started, f is the
 * caller's still. */
static int hand_over(struct tree_writer *t, struct file *f, podrun_error_t *err)
{
  if (t->no_thread)
    return 0;
  if (!t->started)
    {
      t->tail = &t->head;
      if (pthread_create(&t->thread, NULL, writer_thread, t) != 0)
        {
          t->no_thread = true; /* written by the reading thread, then */
          return 0;
        }
      t->started = true;
    }
  pthread_mutex_lock(&t->lock);
  while (!t->failed && (t->queued >= QUEUE_FILES || t->queued_bytes + f->copied > QUEUE_BYTES ||
                        atomic_load(&t->dirs_open) > QUEUE_DIRS))
    pthread_cond_wait(&t->done, &t->lock);
  int r = thread_failed(t, err);
  if (r == 0)
    {
      f->next = NULL;
      *t->tail = f;
      t->tail = &f->next;
      t->queued++;
      t->queued_bytes += f->copied;
      pthread_cond_signal(&t->work);
      r = 1;
    }
  pthread_mutex_unlock(&t->lock);
  if (r < 0)
    file_free(f);
  return r;
}

static void start_file(struct tree_writer *t, struct dir_ref *dir, const char *base, struct archive_entry *e,
                       const char *name)
{
  size_t len = strlen(name);
  struct file *f = xzalloc(sizeof(*f) + len + 1);

  memcpy(f->name, name, len + 1);
  f->base = f->name + (base - name);
  f->dir = dir_ref_get(dir);
  f->fd = -1;
  f->size = sym_archive_entry_size(e);
  f->perm = entry_perm(e);
  f->uid = sym_archive_entry_uid(e);
  f->gid = sym_archive_entry_gid(e);
  f->chown = needs_chown(t, e);
  f->times_set = entry_times(t, e, f->times);
  t->file = f;
}

int tree_writer_create(struct tree_writer *t, struct archive_entry *e, const char *name, const char *hardlink,
                       podrun_error_t *err)
{
  const char *base;
  struct dir_ref *dir = parent_of(t, name, &base, err);

  if (!dir)
    return -1;
  if (hardlink) /* to a file that may still be on its way */
    return drain(t, err) < 0 ? -1 : create_link(t, dir->fd, base, hardlink, name, err);
  switch (sym_archive_entry_filetype(e))
    {
    case AE_IFREG:
      start_file(t, dir, base, e, name);
      return 1;
    case AE_IFDIR:
      return create_dir(t, dir->fd, base, e, name, err);
    default:
      return create_node(t, dir->fd, base, e, name, err);
    }
}

int tree_writer_data(struct tree_writer *t, const void *buf, size_t len, int64_t off, podrun_error_t *err)
{
  struct file *f = t->file;
  bool mapped = t->mapped && (const char *) buf >= t->mapped && len <= t->mapped_len &&
                (size_t) ((const char *) buf - t->mapped) <= t->mapped_len - len;

  if (off + (int64_t) len > f->end)
    f->end = off + (int64_t) len;
  if (f->fd >= 0)
    return write_all(f, buf, len, off, err);
  if (!mapped && f->copied + len > COPY_MAX) /* written as it comes */
    return file_create(f, err) < 0 ? -1 : write_all(f, buf, len, off, err);
  if (f->n_pieces == f->cap_pieces)
    {
      f->cap_pieces = f->cap_pieces ? 2 * f->cap_pieces : 1;
      f->pieces = xrealloc(f->pieces, f->cap_pieces * sizeof(*f->pieces));
    }
  struct piece *p = &f->pieces[f->n_pieces++];
  *p = (struct piece){ .buf = buf, .len = len, .off = off, .copied = !mapped };
  if (!mapped)
    {
      p->buf = memcpy(xmalloc(len ? len : 1), buf, len);
      f->copied += len;
    }
  return 0;
}

int tree_writer_finish(struct tree_writer *t, struct archive_entry *e, podrun_error_t *err)
{
  struct file *f = TAKE_PTR(t->file);
  int r = 0;

  if (f->fd < 0 && sym_archive_entry_xattr_count(e) == 0 && (r = hand_over(t, f, err)) != 0)
    return r < 0 ? -1 : 0;
  r = file_complete(f, e, err);
  file_free(f);
  return r;
}

/* The umask is the process's: 0 while any writer is open (layers are
 * extracted several at once), the caller's again after the last. */
static void umask_zero(bool on)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static unsigned writers;
  static mode_t saved;

  pthread_mutex_lock(&lock);
  if (on && writers++ == 0)
    saved = umask(0);
  else if (!on && --writers == 0)
    umask(saved);
  pthread_mutex_unlock(&lock);
}

void tree_writer_mapped(struct tree_writer *t, const void *map, size_t len)
{
  t->mapped = map;
  t->mapped_len = len;
}

int tree_writer_new(int rootfd, struct tree_writer **ret, podrun_error_t *err)
{
  struct tree_writer *t;
  struct stat st;

  if (fstat(rootfd, &st) < 0)
    return podrun_error_set(err, errno, "prepare extraction");
  t = xzalloc(sizeof(*t));
  t->root = (struct dir_ref){ .fd = rootfd, .refs = 1 }; /* t's own reference is never put */
  t->uid = geteuid();
  t->gid = getegid();
  t->chown_always = st.st_mode & S_ISGID;
  t->start = time(NULL);
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->work, NULL);
  pthread_cond_init(&t->done, NULL);
  umask_zero(true);
  *ret = t;
  return 0;
}

void tree_writer_free(struct tree_writer *t)
{
  if (!t)
    return;
  /* what is still queued is not written: the target is being abandoned */
  pthread_mutex_lock(&t->lock);
  t->failed = true;
  pthread_mutex_unlock(&t->lock);
  stop_thread(t);
  podrun_error_free(&t->thread_err);
  umask_zero(false);
  file_free(t->file);
  dir_ref_put(t->parentref);
  for (size_t i = 0; i < t->n_fixups; i++)
    free(t->fixups[i].path);
  free(t->fixups);
  free(t->parent);
  pthread_cond_destroy(&t->done);
  pthread_cond_destroy(&t->work);
  pthread_mutex_destroy(&t->lock);
  free(t);
}
static int fixup_cmp(const void *a, const void *b)
{
  /* deepest first: a directory's own fixup comes after those inside it */
  return -strcmp(((const struct dir_fixup *) a)->path, ((const struct dir_fixup *) b)->path);
}

static int fix_dir(struct tree_writer *t, const struct dir_fixup *f, podrun_error_t *err)
{
  _cleanup_close_ int fd = open_dir(t->root.fd, f->path, O_RDONLY, err);

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
  if (drain(t, err) < 0)
    return -1;
  stop_thread(t);
  if (t->n_fixups > 0)
    qsort(t->fixups, t->n_fixups, sizeof(*t->fixups), fixup_cmp);
  for (size_t i = 0; i < t->n_fixups; i++)
    if (fix_dir(t, &t->fixups[i], err) < 0)
      return -1;
  return 0;
}
