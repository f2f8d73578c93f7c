/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ACI scan and extraction on untrusted bytes: a refusal always says why;
 * whatever the scan accepts, the extraction (same checks, plus the disk) also
 * accepts, and writes nothing outside its target directory. Into a fresh
 * target (as root) the extraction has a writer of its own (store/extract-tree.c),
 * elsewhere libarchive's: both must give the same tree, entry by entry (type,
 * mode, owner, size, mtime, link target, data, extended attributes). */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include "fs.h"
#include "store/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-scan", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, size) != (ssize_t) size || lseek(fd, 0, SEEK_SET) != 0)
    abort();
  return fd;
}

static bool dir_is_empty(const char *path)
{
  _cleanup_closedir_ DIR *d = opendir(path);
  struct dirent *de;
  if (!d)
    abort();
  while ((de = readdir(d)))
    if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
      return false;
  return true;
}

/* One line per entry of a tree, sorted: what both writers must agree on. */
static char **tree_lines;
static size_t n_tree_lines;
static size_t tree_root_len;
static time_t tree_made; /* when the extractions began: a later mtime is "now" (a directory made implicitly) */

static char *describe_xattrs(const char *path)
{
  char names[4096], value[4096];
  ssize_t n = llistxattr(path, names, sizeof(names));
  char *out = xstrdup("");
  for (ssize_t i = 0; i < n; i += (ssize_t) strlen(names + i) + 1)
    {
      ssize_t v = lgetxattr(path, names + i, value, sizeof(value));
      char *next = xasprintf("%s %s=%.*s", out, names + i, v > 0 ? (int) v : 0, value);
      free(out);
      out = next;
    }
  return out;
}

static char *describe_data(const char *path, const struct stat *st)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  uint64_t h = 1469598103934665603ULL;

  if (S_ISLNK(st->st_mode))
    {
      char target[4096];
      ssize_t n = readlink(path, target, sizeof(target) - 1);
      if (n < 0)
        abort();
      return xstrndup(target, (size_t) n);
    }
  if (!S_ISREG(st->st_mode))
    return xstrdup("");
  if (fs_read_file_at(AT_FDCWD, path, 16 << 20, &buf, &len, &err) < 0)
    abort();
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) buf[i]) * 1099511628211ULL;
  return xasprintf("%016llx blocks:%lld", (unsigned long long) h, (long long) (st->st_blocks > 0));
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) type;
  if (ftw->level == 0)
    return 0; /* the target itself: made by the caller */
  _cleanup_free_ char *xattrs = describe_xattrs(path), *data = describe_data(path, st);
  _cleanup_free_ char *mtime = st->st_mtim.tv_sec >= tree_made
                                   ? xstrdup("now")
                                   : xasprintf("%lld.%09ld", (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  tree_lines = xrealloc(tree_lines, (n_tree_lines + 1) * sizeof(char *));
  tree_lines[n_tree_lines++] =
      xasprintf("%s mode:%o uid:%u gid:%u size:%lld nlink:%llu mtime:%s rdev:%llu data:%s xattrs:%s",
                path + tree_root_len, st->st_mode, st->st_uid, st->st_gid, (long long) st->st_size,
                S_ISDIR(st->st_mode) ? 0ULL : (unsigned long long) st->st_nlink, mtime, (unsigned long long) st->st_rdev, data, xattrs);
  return 0;
}

static int cmp_lines(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The tree below dir, one line per entry, sorted; NULL-terminated. */
static char **describe_tree(const char *dir)
{
  tree_lines = NULL;
  n_tree_lines = 0;
  tree_root_len = strlen(dir);
  if (nftw(dir, collect, 16, FTW_PHYS) < 0)
    abort();
  qsort(tree_lines, n_tree_lines, sizeof(char *), cmp_lines);
  tree_lines = xrealloc(tree_lines, (n_tree_lines + 1) * sizeof(char *));
  tree_lines[n_tree_lines] = NULL;
  return tree_lines;
}

static void compare_trees(char **a, char **b)
{
  size_t i = 0;
  for (; a[i] && b[i]; i++)
    if (!streq(a[i], b[i]))
      break;
  if (a[i] || b[i])
    {
      fprintf(stderr, "the two writers differ:\n  libarchive's: %s\n  podrun's:     %s\n", a[i] ? a[i] : "(end)",
              b[i] ? b[i] : "(end)");
      abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_strv_ char **by_libarchive = NULL, **by_podrun = NULL;
  /* small caps keep a fuzzer from writing gigabytes */
  struct extract_opts opts = { .max_entry_size = 1 << 20, .max_total_size = 8 << 20, .max_entries = 4096 };
  _cleanup_close_ int fd = input_fd(data, size);
  _cleanup_free_ char *manifest = NULL;
  podrun_error_t err = NULL;

  if (extract_scan_fd(fd, &opts, &manifest, NULL, &err) < 0)
    {
      if (!err || !err->msg || !*err->msg)
        abort();
      podrun_error_free(&err);
      return 0;
    }

  /* <tmp>/target gets the image; <tmp>/target's sibling must stay empty.
   * Both ways: into a fresh directory without libarchive's symlink walk (as
   * render does), and with it (as into a directory that may hold anything). */
  tree_made = time(NULL);
  for (int fresh = 0; fresh <= 1; fresh++)
    {
      char tmp[] = "/tmp/podrun-fuzz-scan-XXXXXX";
      if (!mkdtemp(tmp))
        abort();
      _cleanup_free_ char *target = xasprintf("%s/target", tmp), *sibling = xasprintf("%s/sibling", tmp);
      if (mkdir(target, 0755) < 0 || mkdir(sibling, 0755) < 0)
        abort();
      _cleanup_close_ int dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0 || lseek(fd, 0, SEEK_SET) != 0)
        abort();
      opts.fresh_target = fresh;
      /* a directory entry after entries inside it: libarchive's writer
       * leaves the directory it made for them as it is unless it may
       * overwrite; podrun's gives it the entry's mode, owner and times,
       * as libarchive's does with overwrite (render's first layer) */
      opts.overwrite = true;
      if (extract_to_dir_fd(fd, dfd, &opts, &err) < 0)
        {
          fprintf(stderr, "scanned fine, but extraction (fresh_target=%d) failed: %s\n", fresh, err->msg);
          abort();
        }
      if (!dir_is_empty(sibling))
        abort();
      *(fresh ? &by_podrun : &by_libarchive) = describe_tree(target);
      if (fs_rm_rf_at(AT_FDCWD, tmp, &err) < 0)
        abort();
    }
  /* as root, the fresh target had podrun's own writer */
  if (geteuid() == 0)
    compare_trees(by_libarchive, by_podrun);
  return 0;
}
