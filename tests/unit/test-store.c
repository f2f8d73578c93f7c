/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/: the extraction path policy, the scan's refusals on archives built
 * in memory, extraction on disk (layers, symlinks planted on disk, whitelist,
 * rootfs-only), the SQLite index, and the store's import/resolve/render/
 * export/remove/gc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "store/extract.h"
#include "fs.h"
#include "store/index.h"
#include "store/store.h"
#include "store/tree.h"

#define MANIFEST_FMT                                                                                                  \
  "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\",\"labels\":["                             \
  "{\"name\":\"version\",\"value\":\"%s\"},{\"name\":\"os\",\"value\":\"linux\"},"                                   \
  "{\"name\":\"arch\",\"value\":\"amd64\"}]}"

/* One archive entry: type 'f' file, 'd' directory, 'l' symlink, 'h' hardlink
 * (to link), 'c' character device, 'p' fifo. */
struct ent
{
  const char *path;
  char type;
  unsigned mode;
  const char *data; /* file contents */
  const char *link; /* symlink target or hardlink source */
};

static char manifest_buf[512];
static const char *manifest(const char *name, const char *version)
{
  snprintf(manifest_buf, sizeof(manifest_buf), MANIFEST_FMT, name, version);
  return manifest_buf;
}

/* Writes the entries as a pax tar (gzip when gz) into fd. */
static void write_archive(int fd, const struct ent *v, bool gz)
{
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gz)
    archive_write_add_filter_gzip(a);
  assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
  for (; v->path; v++)
    {
      struct archive_entry *e = archive_entry_new();
      size_t len = v->data ? strlen(v->data) : 0;
      archive_entry_set_pathname(e, v->path);
      archive_entry_set_perm(e, v->mode ? v->mode : (v->type == 'd' ? 0755 : 0644));
      archive_entry_set_mtime(e, 1700000000, 0);
      switch (v->type)
        {
        case 'f': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_size(e, (la_int64_t) len); break;
        case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
        case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, v->link); break;
        case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, v->link); break;
        case 'c': archive_entry_set_filetype(e, AE_IFCHR); archive_entry_set_rdev(e, makedev(1, 3)); break;
        case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
        default: fail();
        }
      assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal(archive_write_data(a, v->data, len), (la_ssize_t) len);
      archive_entry_free(e);
    }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

/* The archive in a memfd, positioned at its start. */
static int mem_archive(const struct ent *v)
{
  int fd = memfd_create("aci", MFD_CLOEXEC);
  assert_true(fd >= 0);
  write_archive(fd, v, false);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

static void write_file_archive(const char *path, const struct ent *v)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  write_archive(fd, v, true);
  close(fd);
}

static char *read_text(const char *path)
{
  char *s = NULL;
  podrun_error_t err = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 1 << 20, &s, NULL, &err) < 0)
    {
      podrun_error_free(&err);
      return NULL;
    }
  return s;
}

static int setup_tmp(void **state)
{
  char *d = xstrdup("/tmp/podrun-test-store-XXXXXX");
  assert_non_null(mkdtemp(d));
  *state = d;
  return 0;
}

static int teardown_tmp(void **state)
{
  podrun_error_t err = NULL;
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, *state, &err), 0);
  free(*state);
  return 0;
}

/* ---- the path policy ---- */

static void test_clean_path(void **state)
{
  static const struct { const char *in, *out; } good[] = {
    { "manifest", "manifest" },      { "rootfs/", "rootfs" },          { "./rootfs/./a//b/", "rootfs/a/b" },
    { "rootfs/a/./b", "rootfs/a/b" }, { "rootfs/..a/b..", "rootfs/..a/b.." },
  };
  static const struct { const char *in, *why; } bad[] = {
    { "", "empty name" },          { "/etc/passwd", "absolute path" },   { "rootfs/../x", "\"..\"" },
    { "..", "\"..\"" },            { "rootfs/a/../../..", "\"..\"" },     { ".", "names no file" },
    { "./", "names no file" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(good); i++)
    {
      _cleanup_free_ char *out = NULL;
      podrun_error_t err = NULL;
      assert_int_equal(extract_clean_path(good[i].in, &out, &err), 0);
      assert_string_equal(out, good[i].out);
    }
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_free_ char *out = NULL;
      _cleanup_error_ podrun_error_t err = NULL;
      assert_int_equal(extract_clean_path(bad[i].in, &out, &err), -1);
      if (!strstr(err->msg, bad[i].why))
        fail_msg("\"%s\": %s (expected \"%s\")", bad[i].in, err->msg, bad[i].why);
    }
  /* length limits: a 256-byte component, a path over 4096 bytes */
  char comp[300], path[5000];
  memset(comp, 'a', 256);
  comp[256] = '\0';
  _cleanup_free_ char *long_comp = xasprintf("rootfs/%s", comp), *out = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(extract_clean_path(long_comp, &out, &err), -1);
  assert_non_null(strstr(err->msg, "component longer"));
  podrun_error_free(&err);
  for (size_t i = 0; i < sizeof(path) - 1; i++)
    path[i] = i % 100 == 99 ? '/' : 'b';
  path[sizeof(path) - 1] = '\0';
  assert_int_equal(extract_clean_path(path, &out, &err), -1);
  assert_non_null(strstr(err->msg, "longer than 4096"));
}

/* ---- the scan ---- */

#define HEAD { "manifest", 'f', 0, MANIFEST_FMT, NULL }, { "rootfs", 'd', 0, NULL, NULL }

struct refusal
{
  const char *what;
  struct ent ents[8];
  struct extract_opts opts;
  const char *why;
};

static void test_scan_refusals(void **state)
{
  static const struct refusal cases[] = {
    { "absolute path", { HEAD, { "/rootfs/x", 'f', 0, "x", NULL } }, {}, "absolute path" },
    { "dot-dot", { HEAD, { "rootfs/../../etc/x", 'f', 0, "x", NULL } }, {}, "\"..\"" },
    { "through a symlink", { HEAD, { "rootfs/l", 'l', 0, NULL, "/" }, { "rootfs/l/etc/x", 'f', 0, "x", NULL } }, {},
      "written through the symlink \"rootfs/l\"" },
    { "symlink out", { HEAD, { "rootfs/a", 'l', 0, NULL, "../../x" } }, {}, "leaves the image" },
    { "below a file", { HEAD, { "rootfs/a", 'f', 0, "x", NULL }, { "rootfs/a/b", 'f', 0, "y", NULL } }, {},
      "\"rootfs/a\", above it, is not a directory" },
    { "below a hardlink", { HEAD, { "rootfs/a", 'f', 0, "x", NULL }, { "rootfs/h", 'h', 0, NULL, "rootfs/a" },
      { "rootfs/h/c/d", 'f', 0, "y", NULL } }, {}, "\"rootfs/h\", above it, is not a directory" },
    { "hardlink to nothing", { HEAD, { "rootfs/h", 'h', 0, NULL, "rootfs/none" } }, {}, "not a file earlier" },
    { "hardlink to the host", { HEAD, { "rootfs/h", 'h', 0, NULL, "/etc/shadow" } }, {}, "absolute path" },
    { "hardlink to a dir", { HEAD, { "rootfs/d", 'd', 0, NULL, NULL }, { "rootfs/h", 'h', 0, NULL, "rootfs/d" } }, {},
      "not a file earlier" },
    { "device", { HEAD, { "rootfs/null", 'c', 0666, NULL, NULL } }, {}, "device nodes are not allowed" },
    { "setuid", { HEAD, { "rootfs/su", 'f', 04755, "x", NULL } }, {}, "setuid/setgid" },
    { "setgid", { HEAD, { "rootfs/sg", 'f', 02755, "x", NULL } }, {}, "setuid/setgid" },
    { "duplicate", { HEAD, { "rootfs/x", 'f', 0, "1", NULL }, { "rootfs/./x", 'f', 0, "2", NULL } }, {},
      "appears twice" },
    { "outside rootfs", { HEAD, { "etc/passwd", 'f', 0, "x", NULL } }, {}, "only manifest and rootfs/" },
    { "manifest not a file", { { "manifest", 'd', 0, NULL, NULL } }, {}, "\"manifest\": not a regular file" },
    { "rootfs a symlink", { { "manifest", 'f', 0, MANIFEST_FMT, NULL }, { "rootfs", 'l', 0, NULL, "/" } }, {},
      "\"rootfs\": not a directory" },
    { "no manifest", { { "rootfs", 'd', 0, NULL, NULL }, { "rootfs/x", 'f', 0, "x", NULL } }, {}, "no manifest" },
    { "too many entries", { HEAD, { "rootfs/a", 'f', 0, "", NULL }, { "rootfs/b", 'f', 0, "", NULL } },
      { .max_entries = 3 }, "more than 3 entries" },
    { "entry too big", { HEAD, { "rootfs/a", 'f', 0, "hello", NULL } }, { .max_entry_size = 4 }, "larger than 4" },
    { "image too big", { HEAD, { "rootfs/a", 'f', 0, "hel", NULL }, { "rootfs/b", 'f', 0, "lo", NULL } },
      { .max_total_size = sizeof(MANIFEST_FMT) + 2 }, "image larger than" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      _cleanup_free_ char *m = NULL;
      _cleanup_error_ podrun_error_t err = NULL;
      _cleanup_close_ int fd = mem_archive(cases[i].ents);
      if (extract_scan_fd(fd, &cases[i].opts, &m, NULL, &err) == 0)
        fail_msg("%s: accepted", cases[i].what);
      if (!strstr(err->msg, cases[i].why))
        fail_msg("%s: \"%s\" (expected \"%s\")", cases[i].what, err->msg, cases[i].why);
    }
}

static void test_scan_accepts(void **state)
{
  static const struct ent ents[] = {
    HEAD,
    { "rootfs/bin", 'd', 0, NULL, NULL },
    { "rootfs/bin/sh", 'f', 0755, "#!", NULL },
    { "rootfs/bin/ash", 'h', 0, NULL, "rootfs/bin/sh" },
    { "rootfs/bin/abs", 'l', 0, NULL, "/bin/sh" },
    { "rootfs/bin/rel", 'l', 0, NULL, "../bin/sh" },
    { "rootfs/fifo", 'p', 0600, NULL, NULL },
    { "rootfs/su", 'f', 04755, "x", NULL },
    { "rootfs/null", 'c', 0666, NULL, NULL },
    { NULL },
  };
  struct extract_opts opts = { .allow_devices = true, .allow_setuid = true };
  _cleanup_free_ char *m = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_close_ int fd = mem_archive(ents);
  size_t len = 0;
  (void) state;
  if (extract_scan_fd(fd, &opts, &m, &len, &err) < 0)
    fail_msg("%s", err->msg);
  assert_string_equal(m, MANIFEST_FMT);
  assert_int_equal(len, strlen(MANIFEST_FMT));
}

static void test_scan_not_an_archive(void **state)
{
  static const struct ent ents[] = { HEAD, { "rootfs/big", 'f', 0, NULL, NULL }, { NULL } };
  _cleanup_free_ char *m = NULL, *big = xmalloc(200000), *path = xasprintf("%s/t.aci", (char *) *state);
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_close_ int fd = memfd_create("junk", MFD_CLOEXEC);
  struct ent withbig[4];
  struct stat st;

  assert_int_equal(write(fd, "this is not a tar file, not even close\n", 39), 39);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(extract_scan_fd(fd, &(struct extract_opts) {}, &m, NULL, &err), -1);
  podrun_error_free(&err);

  /* a gzip archive cut in the middle of a file's data */
  for (size_t i = 0; i < 199999; i++)
    big[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7919) % 36];
  big[199999] = '\0';
  memcpy(withbig, ents, sizeof(withbig));
  withbig[2].data = big;
  write_file_archive(path, withbig);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(truncate(path, st.st_size / 2), 0);
  _cleanup_close_ int cut = open(path, O_RDONLY | O_CLOEXEC);
  assert_int_equal(extract_scan_fd(cut, &(struct extract_opts) {}, &m, NULL, &err), -1);
  if (!strstr(err->msg, "truncated"))
    fail_msg("%s", err->msg);
}

/* ---- extraction ---- */

static int extract_into(const char *dir, const struct ent *ents, const struct extract_opts *o, podrun_error_t *err)
{
  _cleanup_close_ int fd = mem_archive(ents);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dfd >= 0);
  return extract_to_dir_fd(fd, dfd, o, err);
}

static void assert_cwd(const char *want)
{
  char cwd[4096];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_string_equal(cwd, want);
}

static void test_extract_layers(void **state)
{
  static const struct ent one[] = {
    HEAD, { "rootfs/a", 'f', 0, "one", NULL }, { "rootfs/l", 'l', 0, NULL, "a" }, { "rootfs/h", 'h', 0, NULL, "rootfs/a" },
    { NULL },
  };
  static const struct ent two[] = { HEAD, { "rootfs/a", 'f', 0, "two", NULL }, { NULL } };
  _cleanup_free_ char *a = xasprintf("%s/rootfs/a", (char *) *state), *h = xasprintf("%s/rootfs/h", (char *) *state);
  _cleanup_free_ char *l = xasprintf("%s/rootfs/l", (char *) *state), *text = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  char cwd[4096], buf[64];
  struct stat sa, sh;
  ssize_t n;

  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(extract_into(*state, one, &(struct extract_opts) {}, &err), 0);
  assert_cwd(cwd);
  text = read_text(a);
  assert_string_equal(text, "one");
  assert_int_equal(stat(a, &sa), 0);
  assert_int_equal(stat(h, &sh), 0);
  assert_int_equal(sa.st_ino, sh.st_ino);
  n = readlink(l, buf, sizeof(buf) - 1);
  assert_int_equal(n, 1);
  assert_memory_equal(buf, "a", 1);

  /* a later layer does not replace an earlier one's file unless asked */
  assert_int_equal(extract_into(*state, two, &(struct extract_opts) {}, &err), 0);
  assert_cwd(cwd);
  free(text);
  text = read_text(a);
  assert_string_equal(text, "one");
  assert_int_equal(extract_into(*state, two, &(struct extract_opts) { .overwrite = true }, &err), 0);
  free(text);
  text = read_text(a);
  assert_string_equal(text, "two");
}

static void test_extract_symlink_on_disk(void **state)
{
  static const struct ent ents[] = { HEAD, { "rootfs/etc/passwd", 'f', 0, "root::0:0::/:/bin/sh\n", NULL }, { NULL } };
  _cleanup_free_ char *dest = xasprintf("%s/dest", (char *) *state), *out = xasprintf("%s/outside", (char *) *state);
  _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dest), *etc = xasprintf("%s/etc", rootfs);
  _cleanup_free_ char *leak = xasprintf("%s/passwd", out);
  _cleanup_error_ podrun_error_t err = NULL;
  char cwd[4096];

  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(mkdir(dest, 0755), 0);
  assert_int_equal(mkdir(out, 0755), 0);
  assert_int_equal(mkdir(rootfs, 0755), 0);
  assert_int_equal(symlink(out, etc), 0);
  assert_int_equal(extract_into(dest, ents, &(struct extract_opts) { .overwrite = true }, &err), -1);
  assert_cwd(cwd);
  assert_int_equal(access(leak, F_OK), -1);
}

static bool dir_is_empty_or_gone(const char *path)
{
  _cleanup_closedir_ DIR *dd = opendir(path);
  struct dirent *de;
  if (!dd)
    return true;
  while ((de = readdir(dd)))
    if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
      return false;
  return true;
}

/* Into a fresh target podrun's own writer works (store/extract-tree.c): were
 * a symlink there all the same, no name is written through it (openat2
 * without symlinks), and the umask it clears is back afterwards. */
static void test_extract_fresh_symlink_on_disk(void **state)
{
  static const struct ent ents[] = { HEAD, { "rootfs/etc/passwd", 'f', 0, "root::0:0::/:/bin/sh\n", NULL }, { NULL } };
  static const struct ent deep[] = { HEAD, { "rootfs/etc/x/y/passwd", 'f', 0, "x", NULL }, { NULL } };
  static const struct ent dir[] = { HEAD, { "rootfs/etc", 'd', 0700, NULL, NULL }, { NULL } };
  _cleanup_free_ char *dest = xasprintf("%s/dest", (char *) *state), *out = xasprintf("%s/outside", (char *) *state);
  _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dest), *etc = xasprintf("%s/etc", rootfs);
  _cleanup_error_ podrun_error_t err = NULL;
  struct extract_opts fresh = { .fresh_target = true };
  struct stat st;

  assert_int_equal(mkdir(dest, 0755), 0);
  assert_int_equal(mkdir(out, 0755), 0);
  assert_int_equal(mkdir(rootfs, 0755), 0);
  assert_int_equal(symlink(out, etc), 0);
  mode_t old = umask(027);
  assert_int_equal(extract_into(dest, ents, &fresh, &err), -1);
  podrun_error_free(&err);
  assert_int_equal(extract_into(dest, deep, &fresh, &err), -1);
  podrun_error_free(&err);
  /* a directory entry over the symlink: refused, the symlink left alone */
  assert_int_equal(extract_into(dest, dir, &fresh, &err), -1);
  assert_int_equal(umask(old), 027);
  assert_true(dir_is_empty_or_gone(out));
  assert_int_equal(stat(out, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0755);
}

/* podrun's writer: a directory entry after entries inside it gets its
 * metadata; in a setgid target a file still gets the owner its entry says. */
static void test_extract_fresh_metadata(void **state)
{
  static const struct ent ents[] = {
    HEAD, { "rootfs/d/f", 'f', 0640, "x", NULL }, { "rootfs/d", 'd', 0710, NULL, NULL }, { "rootfs/p", 'p', 0600, NULL, NULL },
    { NULL },
  };
  _cleanup_free_ char *dest = xasprintf("%s/dest", (char *) *state), *d = xasprintf("%s/rootfs/d", dest);
  _cleanup_free_ char *f = xasprintf("%s/f", d), *p = xasprintf("%s/rootfs/p", dest);
  _cleanup_error_ podrun_error_t err = NULL;
  struct stat st;

  assert_int_equal(mkdir(dest, 0755), 0);
  assert_int_equal(chown(dest, 0, 1234), 0);
  assert_int_equal(chmod(dest, 02755), 0);
  assert_int_equal(extract_into(dest, ents, &(struct extract_opts) { .fresh_target = true }, &err), 0);
  assert_int_equal(stat(d, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0710);
  assert_int_equal(st.st_mtime, 1700000000);
  assert_int_equal(st.st_gid, 0);
  assert_int_equal(stat(f, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(st.st_gid, 0);
  assert_int_equal(st.st_mtime, 1700000000);
  assert_int_equal(lstat(p, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_gid, 0);
}

/* podrun's writer hands regular files to a thread of its own: many files in
 * many directories (more than it queues at once), a hardlink to a file
 * just handed over, a directory entry after its files, a file larger than
 * what is copied, read from a mapping (an uncompressed archive) and from a
 * decompressor (copies); then a file whose create fails in that thread:
 * its error is the extraction's. */
#define MANY_DIRS 40
#define MANY_FILES 700
#define BIG_SIZE (9U << 20)

static struct ent *many_entries(char **big)
{
  struct ent *v = xzalloc((MANY_FILES + 8) * sizeof(*v));
  size_t n = 0;

  v[n++] = (struct ent){ "manifest", 'f', 0, MANIFEST_FMT, NULL };
  v[n++] = (struct ent){ "rootfs", 'd', 0, NULL, NULL };
  for (unsigned i = 0; i < MANY_FILES; i++)
    v[n++] = (struct ent){ xasprintf("rootfs/d%02u/f%03u", i % MANY_DIRS, i), 'f', i % 2 ? 0600 : 0644,
                           xasprintf("file %u", i), NULL };
  v[n++] = (struct ent){ "rootfs/d00", 'd', 0710, NULL, NULL };
  v[n++] = (struct ent){ "rootfs/h", 'h', 0, NULL, xasprintf("rootfs/d%02u/f%03u", (MANY_FILES - 1) % MANY_DIRS, MANY_FILES - 1) };
  *big = xmalloc(BIG_SIZE + 1);
  for (size_t i = 0; i < BIG_SIZE; i++)
    (*big)[i] = (char) ('a' + i % 23);
  (*big)[BIG_SIZE] = '\0';
  v[n++] = (struct ent){ "rootfs/big", 'f', 0, *big, NULL };
  return v;
}

static void many_entries_free(struct ent *v)
{
  for (unsigned i = 0; i < MANY_FILES; i++)
    {
      free((char *) v[2 + i].path);
      free((char *) v[2 + i].data);
    }
  free((char *) v[MANY_FILES + 3].link);
  free(v);
}

static void assert_many(const char *dest)
{
  struct stat st;

  for (unsigned i = 0; i < MANY_FILES; i++)
    {
      _cleanup_free_ char *p = xasprintf("%s/rootfs/d%02u/f%03u", dest, i % MANY_DIRS, i);
      _cleanup_free_ char *want = xasprintf("file %u", i), *text = read_text(p);
      assert_non_null(text);
      assert_string_equal(text, want);
      assert_int_equal(stat(p, &st), 0);
      assert_int_equal(st.st_mode & 07777, i % 2 ? 0600 : 0644);
      assert_int_equal(st.st_mtime, 1700000000);
    }
  _cleanup_free_ char *h = xasprintf("%s/rootfs/h", dest), *d = xasprintf("%s/rootfs/d00", dest);
  _cleanup_free_ char *big = xasprintf("%s/rootfs/big", dest);
  assert_int_equal(stat(h, &st), 0);
  assert_int_equal(st.st_nlink, 2);
  assert_int_equal(stat(d, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0710);
  assert_int_equal(st.st_mtime, 1700000000);
  assert_int_equal(stat(big, &st), 0);
  assert_int_equal(st.st_size, BIG_SIZE);
  _cleanup_close_ int fd = open(big, O_RDONLY | O_CLOEXEC);
  char buf[4096];
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, buf, sizeof(buf), BIG_SIZE - sizeof(buf)), sizeof(buf));
  for (size_t i = 0; i < sizeof(buf); i++)
    assert_int_equal(buf[i], (char) ('a' + (BIG_SIZE - sizeof(buf) + i) % 23));
}

static void test_extract_fresh_handed_over(void **state)
{
  _cleanup_free_ char *mapped = xasprintf("%s/mapped", (char *) *state), *gz = xasprintf("%s/gz", (char *) *state);
  _cleanup_free_ char *clash = xasprintf("%s/clash", (char *) *state), *aci = xasprintf("%s/many.aci", (char *) *state);
  _cleanup_free_ char *big = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  struct extract_opts fresh = { .fresh_target = true };
  struct ent *v = many_entries(&big);

  assert_int_equal(mkdir(mapped, 0755), 0);
  /* each file in another directory than the one before: the directories
   * held open for the files queued are bounded, not one per file */
  struct rlimit was, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
  low = (struct rlimit){ .rlim_cur = 100, .rlim_max = was.rlim_max };
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  assert_int_equal(extract_into(mapped, v, &fresh, &err), 0);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
  assert_many(mapped);

  write_file_archive(aci, v);
  assert_int_equal(mkdir(gz, 0755), 0);
  {
    _cleanup_close_ int fd = open(aci, O_RDONLY | O_CLOEXEC), dfd = open(gz, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0 && dfd >= 0);
    assert_int_equal(extract_to_dir_fd(fd, dfd, &fresh, &err), 0);
  }
  assert_many(gz);

  /* one of the files is there already: its create fails, in the thread,
   * before the hardlink (which waits for the files before it) or after */
  static const char *const clashes[] = { "rootfs/d07/f287", "rootfs/big" };
  for (size_t i = 0; i < ELEMENTSOF(clashes); i++)
    {
      _cleanup_free_ char *dest = xasprintf("%s/%zu", clash, i), *where = xasprintf("%s/%s", dest, clashes[i]);
      _cleanup_free_ char *msg = xasprintf("entry \"%s\": create", clashes[i]);
      assert_int_equal(fs_mkdir_p(dest, 0755, &err), 0);
      *strrchr(where, '/') = '\0';
      assert_int_equal(fs_mkdir_p(where, 0755, &err), 0);
      where[strlen(where)] = '/';
      assert_int_equal(symlink("/", where), 0);
      assert_int_equal(extract_into(dest, v, &fresh, &err), -1);
      assert_non_null(strstr(err->msg, msg));
      assert_int_equal(err->status, EEXIST);
      podrun_error_free(&err);
    }
  many_entries_free(v);
}

static bool exists_in(const char *dir, const char *rel)
{
  _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
  return access(p, F_OK) == 0;
}

static void test_extract_whitelist_and_rootfs_only(void **state)
{
  static const struct ent ents[] = {
    HEAD,
    { "rootfs/a", 'd', 0, NULL, NULL },
    { "rootfs/a/b", 'f', 0, "keep", NULL },
    { "rootfs/a/c", 'f', 0, "drop", NULL },
    { "rootfs/z", 'f', 0, "drop", NULL },
    { NULL },
  };
  char *const wl[] = { "/a/b", NULL };
  _cleanup_free_ char *d1 = xasprintf("%s/wl", (char *) *state), *d2 = xasprintf("%s/only", (char *) *state);
  _cleanup_free_ char *p = NULL, *text = NULL;
  _cleanup_error_ podrun_error_t err = NULL;

  assert_int_equal(mkdir(d1, 0755), 0);
  assert_int_equal(mkdir(d2, 0755), 0);
  assert_int_equal(extract_into(d1, ents, &(struct extract_opts) { .path_whitelist = wl }, &err), 0);
  p = xasprintf("%s/rootfs/a/b", d1);
  text = read_text(p);
  assert_string_equal(text, "keep");
  assert_false(exists_in(d1, "rootfs/a/c"));
  assert_false(exists_in(d1, "rootfs/z"));
  assert_true(exists_in(d1, "manifest"));

  assert_int_equal(extract_into(d2, ents, &(struct extract_opts) { .rootfs_only = true }, &err), 0);
  assert_false(exists_in(d2, "manifest"));
  assert_true(exists_in(d2, "z"));
  assert_false(exists_in(d2, "rootfs"));
}

/* ---- the index ---- */

static struct store_image img_fixture(const char *id, const char *name, int64_t t)
{
  return (struct store_image) {
    .id = (char *) id, .name = (char *) name, .version = "1", .os = "linux", .arch = "amd64",
    .labels = "[]", .manifest = "{}", .size = 10, .import_time = t, .last_used = t,
  };
}

static char *fake_id(char c)
{
  char hex[128 + 1];
  memset(hex, c, 128);
  hex[128] = '\0';
  return xasprintf("sha512-%s", hex);
}

static void test_index(void **state)
{
  _cleanup_free_ char *path = xasprintf("%s/index.db", (char *) *state);
  _cleanup_free_ char *a = fake_id('a'), *b = fake_id('b'), *rid = NULL, *etag = NULL, *rid_ref = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_image **v = NULL, *got = NULL;
  size_t n = 0;
  bool existed = false;

  /* read-only never creates */
  assert_int_equal(index_open(path, true, &idx, &err), -1);
  assert_int_equal(err->status, ENOENT);
  podrun_error_free(&err);
  assert_int_equal(access(path, F_OK), -1);

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  struct store_image ia = img_fixture(a, "example.com/a", 1), ib = img_fixture(b, "example.com/b", 2);
  assert_int_equal(index_add_image(idx, &ia, NULL, 0, &existed, &err), 0);
  assert_false(existed);
  assert_int_equal(index_add_image(idx, &ib, NULL, 0, &existed, &err), 0);
  assert_int_equal(index_add_image(idx, &ia, NULL, 0, &existed, &err), 0);
  assert_true(existed);

  assert_int_equal(index_get_image(idx, a, &got, &err), 0);
  assert_non_null(got);
  assert_string_equal(got->name, "example.com/a");
  assert_int_equal(got->size, 10);
  store_image_free(got);

  assert_int_equal(index_list_images(idx, &v, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0]->id, a); /* oldest import first */
  store_image_list_free(v, n);

  /* prefixes are literal: LIKE wildcards match nothing */
  assert_int_equal(index_find_by_id_prefix(idx, "sha512-a", &v, &n, &err), 0);
  assert_int_equal(n, 1);
  store_image_list_free(v, n);
  assert_int_equal(index_find_by_id_prefix(idx, "sha512-%", &v, &n, &err), 0);
  assert_int_equal(n, 0);
  store_image_list_free(v, n);
  assert_int_equal(index_find_by_id_prefix(idx, "sha512-_", &v, &n, &err), 0);
  assert_int_equal(n, 0);
  store_image_list_free(v, n);

  assert_int_equal(index_find_by_name(idx, "example.com/b", "1", &v, &n, &err), 0);
  assert_int_equal(n, 1);
  store_image_list_free(v, n);
  assert_int_equal(index_find_by_name(idx, "example.com/b", "2", &v, &n, &err), 0);
  assert_int_equal(n, 0);
  store_image_list_free(v, n);

  assert_int_equal(index_touch_image(idx, b, 99, &err), 0);
  assert_int_equal(index_get_image(idx, b, &got, &err), 0);
  assert_int_equal(got->last_used, 99);
  store_image_free(got);

  /* remotes */
  assert_int_equal(index_get_remote(idx, "file:///x.aci", &rid, &etag, &err), 0);
  assert_null(rid);
  assert_int_equal(index_set_remote(idx, "file:///x.aci", a, "e1", &err), 0);
  assert_int_equal(index_set_remote(idx, "file:///x.aci", b, "e2", &err), 0);
  assert_int_equal(index_get_remote(idx, "file:///x.aci", &rid, &etag, &err), 0);
  assert_string_equal(rid, b);
  assert_string_equal(etag, "e2");

  /* docker references; statements are kept compiled between calls (index.c's
   * prepare): each call sees its own bindings, and what another connection
   * wrote since the last call (no read transaction is left open) */
  struct index *other = NULL;
  assert_int_equal(index_open(path, false, &other, &err), 0);
  assert_int_equal(index_get_ref_image(idx, "h/r:1", &got, &err), 0);
  assert_null(got);
  assert_int_equal(index_get_ref(idx, "h/r:1", &rid_ref, NULL, &err), 0);
  assert_null(rid_ref);
  assert_int_equal(index_set_ref(other, "h/r:1", a, "sha256:m1", &err), 0);
  assert_int_equal(index_set_ref(other, "h/r:2", b, "sha256:m2", &err), 0);
  for (int round = 0; round < 2; round++)
    {
      assert_int_equal(index_get_ref_image(idx, "h/r:1", &got, &err), 0);
      assert_non_null(got);
      assert_string_equal(got->id, a);
      store_image_free(got);
      assert_int_equal(index_get_ref_image(idx, "h/r:2", &got, &err), 0);
      assert_non_null(got);
      assert_string_equal(got->id, b);
      store_image_free(got);
      assert_int_equal(index_get_ref(idx, "h/r:2", &rid_ref, NULL, &err), 0);
      assert_string_equal(rid_ref, b);
      free(TAKE_PTR(rid_ref));
    }
  assert_int_equal(index_set_ref(other, "h/r:2", a, "sha256:m3", &err), 0);
  assert_int_equal(index_get_ref(idx, "h/r:2", &rid_ref, NULL, &err), 0);
  assert_string_equal(rid_ref, a);
  free(TAKE_PTR(rid_ref));
  index_close(other);

  assert_int_equal(index_remove_image(idx, a, NULL, &err), 0);
  assert_int_equal(index_remove_image(idx, a, NULL, &err), 0);
  assert_int_equal(index_get_image(idx, a, &got, &err), 0);
  assert_null(got);
  index_close(idx);

  /* a schema from a newer podrun is refused, not rewritten */
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(index_open(path, false, &idx, &err), -1);
  assert_non_null(strstr(err->msg, "newer than this podrun supports"));
}

/* ---- the store ---- */

static char *sha512_file(const char *path)
{
  unsigned char md[64], buf[65536];
  unsigned int len = 0;
  ssize_t n;
  char *hex = xmalloc(2 * sizeof(md) + 1);
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  EVP_DigestInit_ex(c, EVP_sha512(), NULL);
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    EVP_DigestUpdate(c, buf, (size_t) n);
  EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  close(fd);
  for (unsigned i = 0; i < len; i++)
    sprintf(hex + 2 * i, "%02x", md[i]);
  return hex;
}

static char *import(struct store *s, const char *dir, const char *file, const struct ent *ents)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  _cleanup_error_ podrun_error_t err = NULL;
  char *id = NULL;
  write_file_archive(path, ents);
  if (store_import_aci(s, path, &id, &err) < 0)
    fail_msg("import %s: %s", file, err->msg);
  return id;
}

static void test_store(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *dir = xasprintf("%s/store", t), *m1 = xstrdup(manifest("example.com/one", "1.0"));
  _cleanup_free_ char *m2 = xstrdup(manifest("example.com/two", "2.0"));
  const struct ent one[] = { { "manifest", 'f', 0, m1, NULL }, { "rootfs", 'd', 0, NULL, NULL },
                             { "rootfs/x", 'f', 0, "one", NULL }, { NULL } };
  const struct ent two[] = { { "manifest", 'f', 0, m2, NULL }, { "rootfs", 'd', 0, NULL, NULL },
                             { "rootfs/y", 'f', 0, "two", NULL }, { NULL } };
  _cleanup_free_ char *id1 = NULL, *id1b = NULL, *id2 = NULL, *tree = NULL, *out = xasprintf("%s/out.aci", t);
  _cleanup_free_ char *hex = NULL, *p = NULL, *text = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_store_ struct store *s = NULL;
  struct store_image *img = NULL;
  struct store_gc_report rep = { 0 };

  assert_int_equal(store_open(dir, 0, &s, &err), 0);
  id1 = import(s, t, "one.aci", one);
  id1b = import(s, t, "one-again.aci", one);
  assert_string_equal(id1, id1b); /* the same image is stored once */
  id2 = import(s, t, "two.aci", two);

  /* names, name:version and unique prefixes resolve; others do not */
  assert_int_equal(store_resolve(s, "example.com/one", &img, &err), 0);
  assert_string_equal(img->id, id1);
  store_image_free(img);
  assert_int_equal(store_resolve(s, "example.com/two:2.0", &img, &err), 0);
  assert_string_equal(img->id, id2);
  store_image_free(img);
  _cleanup_free_ char *prefix = xstrndup(id2, 20);
  assert_int_equal(store_resolve(s, prefix, &img, &err), 0);
  assert_string_equal(img->id, id2);
  store_image_free(img);
  assert_int_equal(store_resolve(s, id1, &img, &err), 0); /* a whole id: by the index's key */
  assert_string_equal(img->id, id1);
  store_image_free(img);
  assert_int_equal(store_resolve(s, "example.com/two:3.0", &img, &err), -1);
  podrun_error_free(&err);
  if (id1[7] == id2[7])
    {
      _cleanup_free_ char *common = xstrndup(id1, 8);
      assert_int_equal(store_resolve(s, common, &img, &err), -1);
      podrun_error_free(&err);
    }

  /* the export's sha512 is the id */
  assert_int_equal(store_export(s, id1, out, false, &err), 0);
  hex = sha512_file(out);
  assert_string_equal(hex, id1 + strlen("sha512-"));
  assert_int_equal(store_export(s, id1, out, false, &err), -1); /* no silent overwrite */
  podrun_error_free(&err);

  /* its one layer is extracted once, into cas/layer/<id> */
  _cleanup_strv_ char **layers = NULL;
  assert_int_equal(store_image_layers(s, id1, &layers, &err), 0);
  assert_int_equal(strv_length(layers), 1);
  tree = xasprintf("%s/cas/layer/%s/rootfs", dir, id1);
  assert_string_equal(layers[0], tree);
  p = xasprintf("%s/x", tree);
  text = read_text(p);
  assert_string_equal(text, "one");

  /* gc: what is kept stays, the rest goes, leftovers are swept */
  _cleanup_free_ char *stray_tree = xasprintf("%s/cas/tree/.tmp-crashed", dir);
  _cleanup_free_ char *stray_blob = xasprintf("%s/cas/blob/sha512/.tmp-crashed", dir);
  assert_int_equal(mkdir(stray_tree, 0700), 0);
  assert_int_equal(close(open(stray_blob, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
  char *keep[] = { id1, NULL };
  assert_int_equal(store_gc(s, 0, keep, &rep, &err), 0);
  assert_int_equal(strv_length(rep.removed_images), 1);
  assert_string_equal(rep.removed_images[0], id2);
  assert_true(rep.leftovers >= 2);
  store_gc_report_done(&rep);
  assert_int_equal(access(stray_tree, F_OK), -1);
  assert_int_equal(access(stray_blob, F_OK), -1);
  assert_int_equal(store_resolve(s, id2, &img, &err), -1); /* a whole id no longer there */
  assert_int_equal(err->status, ENOENT);
  _cleanup_free_ char *gone = xasprintf("image \"%s\": not found in the store", id2);
  assert_string_equal(err->msg, gone);
  podrun_error_free(&err);
  assert_int_equal(access(tree, F_OK), 0);

  /* remove takes the row, the tree and the blob */
  assert_int_equal(store_remove(s, id1, &err), 0);
  assert_int_equal(access(tree, F_OK), -1);
  assert_int_equal(store_resolve(s, "example.com/one", &img, &err), -1);
  podrun_error_free(&err);
  store_close(TAKE_PTR(s));

  /* read-only on a store that is not there creates nothing */
  _cleanup_free_ char *none = xasprintf("%s/none", t);
  if (store_open(none, STORE_READONLY, &s, &err) == 0)
    store_close(TAKE_PTR(s));
  podrun_error_free(&err);
  assert_int_equal(access(none, F_OK), -1);
}

/* Each layer is extracted into a directory of its own (the overlay stacks
 * them, and resolves a later layer's etc/ inside the pod); a squashed render
 * lays the first into an empty directory without libarchive's symlink walk,
 * and a later layer must still never write through a symlink an earlier one
 * left (here an absolute one, fine inside a pod). */
static void test_render_layers_symlink(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *dir = xasprintf("%s/store", t), *outside = xasprintf("%s/outside", t);
  _cleanup_free_ char *leak = xasprintf("%s/passwd", outside), *mb = xstrdup(manifest("example.com/base", "1"));
  _cleanup_free_ char *mt = xasprintf("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":"
                                      "\"example.com/top\",\"dependencies\":[{\"imageName\":\"example.com/base\"}]}");
  const struct ent base[] = { { "manifest", 'f', 0, mb, NULL }, { "rootfs", 'd', 0, NULL, NULL },
                              { "rootfs/etc", 'l', 0, NULL, outside }, { "rootfs/ok", 'f', 0, "base", NULL }, { NULL } };
  const struct ent top[] = { { "manifest", 'f', 0, mt, NULL }, { "rootfs", 'd', 0, NULL, NULL },
                             { "rootfs/etc/passwd", 'f', 0, "x", NULL }, { NULL } };
  _cleanup_free_ char *idb = NULL, *idt = NULL, *tree = NULL, *p = NULL, *text = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_store_ struct store *s = NULL;

  assert_int_equal(mkdir(outside, 0755), 0);
  assert_int_equal(store_open(dir, 0, &s, &err), 0);
  idb = import(s, t, "base.aci", base);
  idt = import(s, t, "top.aci", top);
  _cleanup_strv_ char **layers = NULL;
  _cleanup_free_ char *squashed = xasprintf("%s/squashed", t);
  assert_int_equal(store_image_layers(s, idt, &layers, &err), 0);
  assert_int_equal(strv_length(layers), 2);
  p = xasprintf("%s/ok", layers[0]);
  text = read_text(p);
  assert_string_equal(text, "base");
  assert_int_equal(access(leak, F_OK), -1);
  /* squashed, the top's etc/passwd would go through the base's etc: refused */
  assert_int_equal(store_copy_to_dir(s, idt, squashed, STORE_COPY_WITH_DEPS, &err), -1);
  assert_int_equal(access(leak, F_OK), -1);
}

/* A store of schema 2 (what podrun wrote before the layered store), written
 * here as it was: opened by this podrun, each ACI is an image of one layer,
 * its own blob, and everything else is as it was. */
static void test_index_migration(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *path = xasprintf("%s/index.db", t);
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_layer *layers = NULL;
  struct store_image *img = NULL;
  size_t n = 0;
  uint64_t size = 0, shared = 0;
  sqlite3 *db = NULL;

  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE images (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, version TEXT,"
                                " os TEXT, arch TEXT, labels TEXT NOT NULL, manifest TEXT NOT NULL, size INTEGER NOT NULL,"
                                " import_time INTEGER NOT NULL, last_used INTEGER NOT NULL);"
                                "CREATE INDEX images_name ON images (name, version);"
                                "CREATE TABLE remotes (aci_url TEXT PRIMARY KEY NOT NULL, sig_url TEXT, etag TEXT,"
                                " image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
                                " cache_max_age INTEGER NOT NULL DEFAULT 0, download_time INTEGER NOT NULL);"
                                "CREATE INDEX remotes_image ON remotes (image_id);"
                                "INSERT INTO images VALUES ('sha512-aa', 'example.com/a', '1', 'linux', 'amd64', '[]',"
                                " '{}', 1000, 1, 2);"
                                "INSERT INTO remotes VALUES ('file:///a.aci', NULL, 'e', 'sha512-aa', 0, 3);"
                                "PRAGMA user_version = 2;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_get_image(idx, "sha512-aa", &img, &err), 0);
  assert_non_null(img);
  assert_string_equal(img->name, "example.com/a");
  assert_string_equal(img->format, "appc");
  assert_null(img->manifest_digest);
  store_image_free(img);
  assert_int_equal(index_image_layers(idx, "sha512-aa", &layers, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(layers[0].digest, "sha512-aa");
  assert_string_equal(layers[0].media_type, STORE_MEDIA_ACI);
  assert_int_equal(layers[0].size, 1000);
  assert_null(layers[0].diff_id);
  store_layer_list_free(layers, n);
  assert_int_equal(index_image_usage(idx, "sha512-aa", &size, &shared, &err), 0);
  assert_int_equal(size, 1000);
  assert_int_equal(shared, 0);
  _cleanup_free_ char *id = NULL, *etag = NULL;
  assert_int_equal(index_get_remote(idx, "file:///a.aci", &id, &etag, &err), 0);
  assert_string_equal(id, "sha512-aa");
  /* removing it removes its layer row: nothing names the blob any more */
  char **orphans = NULL;
  bool live = true;
  assert_int_equal(index_remove_image(idx, "sha512-aa", &orphans, &err), 0);
  assert_int_equal(strv_length(orphans), 1);
  assert_string_equal(orphans[0], "sha512-aa");
  strv_free(orphans);
  assert_int_equal(index_blob_is_live(idx, "sha512-aa", &live, &err), 0);
  assert_false(live);
  index_close(idx);
}

/* Two images sharing a layer: each says how much it shares; removing one
 * keeps the layer, removing both orphans it. */
static void test_index_layers_shared(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *path = xasprintf("%s/index.db", t);
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_layer base = { (char *) "sha256-b", (char *) "application/vnd.oci.image.layer.v1.tar+gzip", 700,
                              (char *) "sha256:d" };
  struct store_layer top1 = { (char *) "sha256-t1", base.media_type, 10, (char *) "sha256:e" };
  struct store_layer top2 = { (char *) "sha256-t2", base.media_type, 20, (char *) "sha256:f" };
  struct store_layer l1[] = { base, top1 }, l2[] = { base, top2 };
  struct store_image i1 = { .id = (char *) "sha256-c1", .name = (char *) "h/a", .manifest = (char *) "{}",
                            .format = (char *) "oci", .manifest_digest = (char *) "sha256-m1" };
  struct store_image i2 = i1;
  uint64_t size = 0, shared = 0;
  char **orphans = NULL;
  bool live = false, known = false;
  char *diff_id = NULL;

  i2.id = (char *) "sha256-c2";
  i2.manifest_digest = (char *) "sha256-m2";
  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_add_image(idx, &i1, l1, 2, NULL, &err), 0);
  assert_int_equal(index_add_image(idx, &i2, l2, 2, NULL, &err), 0);
  assert_int_equal(index_image_usage(idx, "sha256-c1", &size, &shared, &err), 0);
  assert_int_equal(size, 710);
  assert_int_equal(shared, 700);
  assert_int_equal(index_get_layer_diff_id(idx, "sha256-b", &known, &diff_id, &err), 0);
  assert_true(known);
  assert_string_equal(diff_id, "sha256:d");
  free(diff_id);
  assert_int_equal(index_blob_is_live(idx, "sha256-m2", &live, &err), 0);
  assert_true(live);
  assert_int_equal(index_remove_image(idx, "sha256-c1", &orphans, &err), 0);
  assert_int_equal(strv_length(orphans), 1);
  assert_string_equal(orphans[0], "sha256-t1");
  strv_free(orphans);
  assert_int_equal(index_layer_is_live(idx, "sha256-b", &live, &err), 0);
  assert_true(live);
  assert_int_equal(index_remove_image(idx, "sha256-c2", &orphans, &err), 0);
  assert_int_equal(strv_length(orphans), 2);
  strv_free(orphans);
  assert_int_equal(index_layer_is_live(idx, "sha256-b", &live, &err), 0);
  assert_false(live);
  assert_int_equal(index_blob_is_live(idx, "sha256-m1", &live, &err), 0);
  assert_false(live);
  index_close(idx);
}

/* ---- tree digests (store/tree.h) ---- */

static void tree_at(const char *dir, const struct tree_content *known, char **ret_digest, char **ret_rec,
                    size_t *ret_len)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(tree_digest_at(fd, known, ret_digest, ret_rec, ret_len, &err), 0);
}

/* The digest made while extracting (contents hashed as they were written)
 * is the one a walk reading every file makes; each kind of change shows as
 * one phrase naming the path. */
static void test_tree_digest(void **state)
{
  static const struct ent ents[] = {
    HEAD,
    { "rootfs/bin", 'd', 0755, NULL, NULL },
    { "rootfs/bin/sh", 'f', 0755, "#!shell", NULL },
    { "rootfs/bin/sh2", 'h', 0, NULL, "rootfs/bin/sh" },
    { "rootfs/etc/passwd", 'f', 0644, "root:x:0:0", NULL },
    { "rootfs/etc/a b", 'f', 0600, "", NULL },
    { "rootfs/l", 'l', 0, NULL, "bin/sh" },
    { "rootfs/p", 'p', 0644, NULL, NULL },
    { NULL },
  };
  const char *t = *state;
  _cleanup_free_ char *d1 = NULL, *d2 = NULL, *r1 = NULL, *r2 = NULL, *diff = NULL;
  _cleanup_free_ char *sh = xasprintf("%s/bin/sh", t), *added = xasprintf("%s/etc/new", t);
  _cleanup_error_ podrun_error_t err = NULL;
  struct tree_content *c = tree_content_new();
  size_t l1 = 0, l2 = 0;

  assert_int_equal(extract_into(t, ents, &(struct extract_opts) { .rootfs_only = true, .content = c }, &err), 0);
  tree_at(t, c, &d1, &r1, &l1);
  tree_at(t, NULL, &d2, &r2, &l2);
  tree_content_free(c);
  assert_true(startswith(d1, "sha256-") && strlen(d1) == 7 + 64);
  assert_string_equal(d1, d2);
  assert_string_equal(r1, r2);
  assert_true(startswith(r1, TREE_RECORD_HEADER));
  assert_non_null(strstr(r1, "\nf 0600 0 0 0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 - etc/a\\x20b\n"));
  assert_non_null(strstr(r1, "\nl - 0 0 bin/sh - l\n"));
  assert_non_null(strstr(r1, "\np 0644 0 0 - - p\n"));
  assert_null(tree_record_diff(r1, l1, r2, l2));

#define CHANGED(want)                                                                                               \
  do                                                                                                                \
    {                                                                                                               \
      free(d2), free(r2), free(diff);                                                                               \
      tree_at(t, NULL, &d2, &r2, &l2);                                                                              \
      assert_string_not_equal(d1, d2);                                                                              \
      diff = tree_record_diff(r1, l1, r2, l2);                                                                      \
      assert_non_null(diff);                                                                                        \
      assert_string_equal(diff, want);                                                                              \
    }                                                                                                               \
  while (0)

  assert_int_equal(chmod(sh, 04755), 0);
  CHANGED("file \"bin/sh\": mode 4755, was 0755");
  assert_int_equal(chmod(sh, 0755), 0);
  assert_int_equal(chown(sh, 7, 8), 0);
  CHANGED("file \"bin/sh\": owner 7:8, was 0:0");
  assert_int_equal(chown(sh, 0, 0), 0);
  assert_int_equal(chmod(sh, 0755), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, added, "x", 1, 0644, &err), 0);
  CHANGED("file \"etc/new\": added");
  assert_int_equal(unlink(added), 0);
  _cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", t);
  assert_int_equal(unlink(passwd), 0);
  CHANGED("file \"etc/passwd\": missing");
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, passwd, "root:x:0:1", 10, 0644, &err), 0);
  CHANGED("file \"etc/passwd\": content changed");
  assert_int_equal(unlink(passwd), 0);
  assert_int_equal(symlink("x", passwd), 0);
  CHANGED("symlink \"etc/passwd\": is a symlink, was a file");
  assert_int_equal(unlink(passwd), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, passwd, "root:x:0:0", 10, 0644, &err), 0);
  assert_int_equal(setxattr(sh, "user.evil", "1", 1, 0), 0);
  CHANGED("file \"bin/sh\": extended attributes changed");
  assert_int_equal(removexattr(sh, "user.evil"), 0);
  free(d2), free(r2);
  tree_at(t, NULL, &d2, &r2, &l2);
  assert_string_equal(d1, d2);
#undef CHANGED
}

/* Migration 5 on an index of version 4: layer tree records and kept
 * signatures, a signature blob that is live while its image is, and layer
 * tree rows that go with their layer. */
static void test_index_migration_5(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *path = xasprintf("%s/index.db", t), *tree = NULL, *sig = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_signer signer = { .fingerprint = (char *) "ab", .prefix = (char *) "example.com", .verified_time = 5 };
  struct store_signer got = { 0 };
  struct store_image img = { .id = (char *) "sha512-bb", .name = (char *) "example.com/b", .labels = (char *) "[]",
                             .manifest = (char *) "{}", .size = 10 };
  struct store_layer layer = { .digest = (char *) "sha512-bb", .media_type = (char *) STORE_MEDIA_ACI, .size = 10 };
  sqlite3 *db = NULL;
  bool live = false;

  /* a version 4 index with a signed image */
  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_add_image(idx, &img, &layer, 1, NULL, &err), 0);
  assert_int_equal(index_set_signer(idx, "sha512-bb", &signer, &err), 0);
  index_close(idx);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "DROP TABLE image_signatures; ALTER TABLE images DROP COLUMN policy_reference;"
                                    "ALTER TABLE images DROP COLUMN policy_decision;"
                                    "ALTER TABLE images DROP COLUMN list_digest;"
                                    "DROP TABLE layer_trees; ALTER TABLE images DROP COLUMN signature_digest;"
                                    "PRAGMA user_version = 4;", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_get_signer(idx, "sha512-bb", &got, &err), 0);
  assert_string_equal(got.fingerprint, "ab");
  store_signer_done(&got);
  assert_int_equal(index_get_signature(idx, "sha512-bb", &sig, &err), 0);
  assert_null(sig);
  assert_int_equal(index_get_layer_tree(idx, "sha512-bb", &tree, &err), 0);
  assert_null(tree);
  assert_int_equal(index_set_layer_tree(idx, "sha512-bb", "sha256-11", &err), 0);
  assert_int_equal(index_set_layer_tree(idx, "sha512-bb", "sha256-22", &err), 0);
  assert_int_equal(index_get_layer_tree(idx, "sha512-bb", &tree, &err), 0);
  assert_string_equal(tree, "sha256-22");
  assert_int_equal(index_set_signature(idx, "sha512-bb", "sha256-55", &err), 0);
  assert_int_equal(index_get_signature(idx, "sha512-bb", &sig, &err), 0);
  assert_string_equal(sig, "sha256-55");
  assert_int_equal(index_blob_is_live(idx, "sha256-55", &live, &err), 0);
  assert_true(live);
  assert_int_equal(index_remove_image(idx, "sha512-bb", NULL, &err), 0);
  assert_int_equal(index_blob_is_live(idx, "sha256-55", &live, &err), 0);
  assert_false(live);
  free(tree);
  tree = NULL;
  assert_int_equal(index_get_layer_tree(idx, "sha512-bb", &tree, &err), 0);
  assert_null(tree);
  index_close(idx);
}

/* Migration 6: a version 5 index's images have no policy record; a record
 * keeps its blobs live, is replaced whole (the old one handed back), and
 * goes with its image. */
static void test_index_migration_6(void **state)
{
  const char *t = *state;
  _cleanup_free_ char *path = xasprintf("%s/index.db", t);
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_image img = { .id = (char *) "sha256-cc", .name = (char *) "example.com/c", .labels = (char *) "[]",
                             .manifest = (char *) "{}", .size = 10, .format = (char *) "oci",
                             .manifest_digest = (char *) "sha256-dd" };
  struct store_layer layer = { .digest = (char *) "sha256-ee", .media_type = (char *) "x", .size = 10 };
  struct index_policy_record got = { 0 }, old = { 0 };
  char *sigs1[] = { (char *) "sha256-01", (char *) "sha256-02", NULL }, *sigs2[] = { (char *) "sha256-02", NULL };
  struct index_policy_record rec = { .reference = (char *) "example.com/c:1", .decision = (char *) "signedBy",
                                     .list_digest = (char *) "sha256-0f", .signatures = sigs1 };
  sqlite3 *db = NULL;
  bool live = false;

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_add_image(idx, &img, &layer, 1, NULL, &err), 0);
  index_close(idx);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "DROP TABLE image_signatures; ALTER TABLE images DROP COLUMN policy_reference;"
                                    "ALTER TABLE images DROP COLUMN policy_decision;"
                                    "ALTER TABLE images DROP COLUMN list_digest; PRAGMA user_version = 5;",
                                    NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_get_policy_record(idx, "sha256-cc", &got, &err), 0);
  assert_null(got.reference);
  assert_null(got.decision);
  assert_null(got.list_digest);
  assert_null(got.signatures);
  /* a record for an image that is not there is an error, and changes nothing */
  assert_int_equal(index_set_policy_record(idx, "sha256-gone", &rec, &old, &err), -1);
  podrun_error_free(&err);
  assert_int_equal(index_set_policy_record(idx, "sha256-cc", &rec, &old, &err), 0);
  assert_null(old.reference);
  assert_int_equal(index_get_policy_record(idx, "sha256-cc", &got, &err), 0);
  assert_string_equal(got.reference, "example.com/c:1");
  assert_string_equal(got.decision, "signedBy");
  assert_string_equal(got.list_digest, "sha256-0f");
  assert_int_equal(strv_length(got.signatures), 2);
  assert_string_equal(got.signatures[0], "sha256-01");
  assert_string_equal(got.signatures[1], "sha256-02");
  index_policy_record_done(&got);
  const char *const kept[] = { "sha256-01", "sha256-02", "sha256-0f" };
  for (size_t i = 0; i < ELEMENTSOF(kept); i++)
    {
      assert_int_equal(index_blob_is_live(idx, kept[i], &live, &err), 0);
      assert_true(live);
    }
  /* replaced whole */
  rec = (struct index_policy_record){ .reference = (char *) "example.com/c:2", .decision = (char *) "signedBy",
                                      .signatures = sigs2 };
  assert_int_equal(index_set_policy_record(idx, "sha256-cc", &rec, &old, &err), 0);
  assert_string_equal(old.reference, "example.com/c:1");
  assert_int_equal(strv_length(old.signatures), 2);
  index_policy_record_done(&old);
  assert_int_equal(index_blob_is_live(idx, "sha256-01", &live, &err), 0);
  assert_false(live);
  assert_int_equal(index_blob_is_live(idx, "sha256-0f", &live, &err), 0);
  assert_false(live);
  assert_int_equal(index_blob_is_live(idx, "sha256-02", &live, &err), 0);
  assert_true(live);
  /* it goes with the image */
  assert_int_equal(index_remove_image(idx, "sha256-cc", NULL, &err), 0);
  assert_int_equal(index_blob_is_live(idx, "sha256-02", &live, &err), 0);
  assert_false(live);
  assert_int_equal(index_get_policy_record(idx, "sha256-cc", &got, &err), 0);
  assert_null(got.signatures);
  index_close(idx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_clean_path),
    cmocka_unit_test(test_scan_refusals),
    cmocka_unit_test(test_scan_accepts),
    cmocka_unit_test_setup_teardown(test_scan_not_an_archive, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_layers, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_symlink_on_disk, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_fresh_symlink_on_disk, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_fresh_metadata, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_fresh_handed_over, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_extract_whitelist_and_rootfs_only, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_index, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_index_migration, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_index_migration_5, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_index_migration_6, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_tree_digest, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_index_layers_shared, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_store, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_render_layers_symlink, setup_tmp, teardown_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
