/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "extract.h"

#include "dl.h"
#include <fcntl.h>
#include <sys/stat.h>

#include "store-internal.h"

#define READ_BLOCK (128 * 1024)
#define MAX_PATH 4096
#define MAX_COMPONENT 255

/* A set of strings (cleaned entry names): open addressing, FNV-1a. */
struct set
{
  char **slots;
  size_t cap, n;
};

static uint64_t fnv(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

static bool set_has(const struct set *s, const char *k)
{
  if (!s->cap)
    return false;
  for (size_t i = fnv(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
    {
      if (!s->slots[i])
        return false;
      if (streq(s->slots[i], k))
        return true;
    }
}

static void set_put_owned(struct set *s, char *k);

static void set_grow(struct set *s)
{
  struct set bigger = { .cap = s->cap ? s->cap * 2 : 256 };
  bigger.slots = xzalloc(sizeof(char *) * bigger.cap);
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i])
      set_put_owned(&bigger, s->slots[i]);
  free(s->slots);
  *s = bigger;
}

static void set_put_owned(struct set *s, char *k)
{
  if ((s->n + 1) * 2 > s->cap)
    set_grow(s);
  size_t i = fnv(k) & (s->cap - 1);
  while (s->slots[i])
    i = (i + 1) & (s->cap - 1);
  s->slots[i] = k;
  s->n++;
}

static void set_done(struct set *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i]);
  free(s->slots);
}

int extract_clean_path(const char *entry, char **ret, podrun_error_t *err)
{
  size_t len = strlen(entry), out = 0;
  _cleanup_free_ char *clean = NULL;

  if (len == 0)
    return podrun_error_set(err, 0, "entry with an empty name");
  if (len > MAX_PATH)
    return podrun_error_set(err, 0, "entry \"%.64s…\": path longer than %d bytes", entry, MAX_PATH);
  if (entry[0] == '/')
    return podrun_error_set(err, 0, "entry %s: absolute path", QUOTE(entry));
  clean = xmalloc(len + 1);
  for (const char *p = entry; *p;)
    {
      size_t c = strcspn(p, "/");
      if (c == 2 && p[0] == '.' && p[1] == '.')
        return podrun_error_set(err, 0, "entry %s: path leaves the image (\"..\")", QUOTE(entry));
      if (c > MAX_COMPONENT)
        return podrun_error_set(err, 0, "entry \"%.64s…\": a component longer than %d bytes", entry, MAX_COMPONENT);
      if (c > 0 && !(c == 1 && p[0] == '.'))
        {
          if (out)
            clean[out++] = '/';
          memcpy(clean + out, p, c);
          out += c;
        }
      p += c;
      p += strspn(p, "/");
    }
  if (out == 0)
    return podrun_error_set(err, 0, "entry %s: names no file", QUOTE(entry));
  clean[out] = '\0';
  *ret = TAKE_PTR(clean);
  return 0;
}

/* Does a relative link target, resolved from the link's directory, stay
 * inside the rootfs? (depth counts components below "rootfs") */
static bool relative_target_stays(const char *link_path, const char *target)
{
  int depth = -1; /* "rootfs/a/link": the link's directory is 1 below rootfs */
  for (const char *p = link_path; *p; p++)
    if (*p == '/')
      depth++;
  for (const char *p = target; *p;)
    {
      size_t c = strcspn(p, "/");
      if (c == 2 && p[0] == '.' && p[1] == '.')
        depth--;
      else if (c > 0 && !(c == 1 && p[0] == '.'))
        depth++;
      if (depth < 0)
        return false;
      p += c;
      p += strspn(p, "/");
    }
  return true;
}

struct walk
{
  const struct extract_opts *opts;
  struct set names;    /* every entry so far */
  struct set symlinks; /* entries that are symlinks */
  struct set regular;  /* regular files (hardlink targets) */
  uint64_t total, entries;
  int manifests;
};

static void walk_done(struct walk *w)
{
  set_done(&w->names);
  set_done(&w->symlinks);
  set_done(&w->regular);
}

/* No proper prefix of path may be a symlink this archive created. */
static int check_parents(struct walk *w, const char *path, podrun_error_t *err)
{
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/'))
    {
      *s = '\0';
      if (set_has(&w->symlinks, p))
        return podrun_error_set(err, 0, "entry %s: written through the symlink %s", QUOTE(path), QUOTE(p));
    }
  return 0;
}

static int check_type(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  mode_t type = sym_archive_entry_filetype(e), mode = sym_archive_entry_mode(e);

  if ((type == AE_IFCHR || type == AE_IFBLK) && !w->opts->allow_devices)
    return podrun_error_set(err, 0, "entry %s: device nodes are not allowed", QUOTE(path));
  if (type == AE_IFSOCK)
    return podrun_error_set(err, 0, "entry %s: sockets are not allowed", QUOTE(path));
  if ((mode & (S_ISUID | S_ISGID)) && type != AE_IFDIR && !w->opts->allow_setuid)
    return podrun_error_set(err, 0, "entry %s: setuid/setgid files are not allowed", QUOTE(path));
  if (type == 0 || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO &&
                    type != AE_IFCHR && type != AE_IFBLK))
    return podrun_error_set(err, 0, "entry %s: unsupported file type", QUOTE(path));
  return 0;
}

static int check_links(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  const char *hard = sym_archive_entry_hardlink(e);
  const char *sym = sym_archive_entry_symlink(e);

  if (hard)
    {
      _cleanup_free_ char *t = NULL;
      if (extract_clean_path(hard, &t, err) < 0)
        return podrun_error_wrap(err, "hardlink %s", QUOTE(path));
      if (!startswith(t, "rootfs/") || !set_has(&w->regular, t))
        return podrun_error_set(err, 0, "entry %s: hardlink to %s, not a file earlier in the image", QUOTE(path),
                                QUOTE(hard));
      return 0;
    }
  if (sym_archive_entry_filetype(e) == AE_IFLNK)
    {
      if (!sym || !*sym)
        return podrun_error_set(err, 0, "entry %s: symlink without a target", QUOTE(path));
      if (sym[0] != '/' && !relative_target_stays(path, sym))
        return podrun_error_set(err, 0, "entry %s: symlink target %s leaves the image", QUOTE(path), QUOTE(sym));
    }
  return 0;
}

static int check_size(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  const struct extract_opts *o = w->opts;
  uint64_t max_entry = o->max_entry_size ? o->max_entry_size : 16ULL << 30;
  uint64_t max_total = o->max_total_size ? o->max_total_size : 64ULL << 30;
  uint64_t max_entries = o->max_entries ? o->max_entries : 1000000;
  la_int64_t size = sym_archive_entry_size_is_set(e) ? sym_archive_entry_size(e) : 0;

  if (++w->entries > max_entries)
    return podrun_error_set(err, 0, "more than %llu entries", (unsigned long long) max_entries);
  if (size < 0 || (uint64_t) size > max_entry)
    return podrun_error_new(err, EFBIG, "entry %s: larger than %llu bytes", QUOTE(path),
                            (unsigned long long) max_entry);
  w->total += (uint64_t) size;
  if (w->total > max_total)
    return podrun_error_new(err, EFBIG, "image larger than %llu bytes", (unsigned long long) max_total);
  return 0;
}

/* All lexical checks of one entry; *ret_path is the cleaned name. */
static int check_entry(struct walk *w, struct archive_entry *e, char **ret_path, podrun_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  const char *name = sym_archive_entry_pathname(e);

  if (!name || extract_clean_path(name, &path, err) < 0)
    return name ? -1 : podrun_error_set(err, 0, "entry without a name");
  if (!streq(path, "manifest") && !streq(path, "rootfs") && !startswith(path, "rootfs/"))
    return podrun_error_set(err, 0, "entry %s: an ACI holds only manifest and rootfs/", QUOTE(path));
  if (set_has(&w->names, path))
    return podrun_error_set(err, 0, "entry %s: appears twice", QUOTE(path));
  if (check_parents(w, path, err) < 0 || check_links(w, e, path, err) < 0 ||
      (!sym_archive_entry_hardlink(e) && check_type(w, e, path, err) < 0) || check_size(w, e, path, err) < 0)
    return -1;
  if (streq(path, "manifest") && (sym_archive_entry_filetype(e) != AE_IFREG || sym_archive_entry_hardlink(e)))
    return podrun_error_set(err, 0, "entry \"manifest\": not a regular file");
  if (streq(path, "rootfs") && (sym_archive_entry_filetype(e) != AE_IFDIR || sym_archive_entry_hardlink(e)))
    return podrun_error_set(err, 0, "entry \"rootfs\": not a directory");
  set_put_owned(&w->names, xstrdup(path));
  if (sym_archive_entry_filetype(e) == AE_IFLNK)
    set_put_owned(&w->symlinks, xstrdup(path));
  else if (sym_archive_entry_filetype(e) == AE_IFREG && !sym_archive_entry_hardlink(e))
    set_put_owned(&w->regular, xstrdup(path));
  *ret_path = TAKE_PTR(path);
  return 0;
}

static int open_reader(int fd, struct archive **ret, podrun_error_t *err)
{
  if (dl_load_archive(err) < 0)
    return -1;
  struct archive *a = sym_archive_read_new();
  if (!a)
    return podrun_error_set(err, ENOMEM, "archive_read_new");
  sym_archive_read_support_filter_all(a);
  sym_archive_read_support_format_tar(a);
  sym_archive_read_support_format_gnutar(a);
  if (sym_archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK)
    {
      podrun_error_set(err, 0, "not a readable archive: %s", sym_archive_error_string(a));
      sym_archive_read_free(a);
      return -1;
    }
  *ret = a;
  return 0;
}

static int next_header(struct archive *a, struct archive_entry **e, podrun_error_t *err)
{
  int r = sym_archive_read_next_header(a, e);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
    return podrun_error_set(err, 0, "corrupt or truncated archive: %s", sym_archive_error_string(a));
  return 1;
}

static int read_manifest(struct archive *a, struct archive_entry *e, char **ret, size_t *ret_len, podrun_error_t *err)
{
  la_int64_t size = sym_archive_entry_size(e);
  if (size < 0 || size > EXTRACT_MAX_MANIFEST)
    return podrun_error_set(err, 0, "entry \"manifest\": larger than %d bytes", EXTRACT_MAX_MANIFEST);
  _cleanup_free_ char *buf = xmalloc((size_t) size + 1);
  la_ssize_t n = sym_archive_read_data(a, buf, (size_t) size);
  if (n != size)
    return podrun_error_set(err, 0, "entry \"manifest\": truncated: %s", n < 0 ? sym_archive_error_string(a) : "short");
  buf[size] = '\0';
  *ret = TAKE_PTR(buf);
  *ret_len = (size_t) size;
  return 0;
}

/* Reads data to the end to notice corruption the headers do not show. */
static int skip_data(struct archive *a, const char *path, podrun_error_t *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;
  while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
    ;
  if (r != ARCHIVE_EOF)
    return podrun_error_set(err, 0, "entry %s: corrupt or truncated data: %s", QUOTE(path),
                            sym_archive_error_string(a));
  return 0;
}

int extract_scan_fd(int fd, const struct extract_opts *opts, char **ret_manifest, size_t *ret_manifest_len,
                    podrun_error_t *err)
{
  _cleanup_(archive_read_freep) struct archive *a = NULL;
  _cleanup_free_ char *manifest = NULL;
  struct walk w = { .opts = opts };
  struct archive_entry *e;
  size_t manifest_len = 0;
  int r;

  if (open_reader(fd, &a, err) < 0)
    return -1;
  while ((r = next_header(a, &e, err)) > 0)
    {
      _cleanup_free_ char *path = NULL;
      if (check_entry(&w, e, &path, err) < 0)
        {
          r = -1;
          break;
        }
      r = streq(path, "manifest") ? read_manifest(a, e, &manifest, &manifest_len, err) : skip_data(a, path, err);
      if (r < 0)
        break;
    }
  walk_done(&w);
  if (r < 0)
    return -1;
  if (!manifest)
    return podrun_error_set(err, 0, "no manifest in the image");
  *ret_manifest = TAKE_PTR(manifest);
  if (ret_manifest_len)
    *ret_manifest_len = manifest_len;
  return 0;
}

/* With a whitelist, a rootfs path is kept when it is listed or is a parent
 * directory of a listed path. */
static bool whitelisted(char *const *wl, const char *rootfs_path, bool is_dir)
{
  size_t l = strlen(rootfs_path);
  if (!wl)
    return true;
  for (size_t i = 0; wl[i]; i++)
    {
      const char *w = wl[i] + (wl[i][0] == '/');
      if (streq(w, rootfs_path) ||
          (is_dir && (l == 0 || (strncmp(w, rootfs_path, l) == 0 && w[l] == '/'))))
        return true;
    }
  return false;
}

/* The name to write, relative to the target; NULL to skip the entry. */
static const char *target_name(const struct extract_opts *o, const char *path, bool is_dir)
{
  const char *in_rootfs = streq(path, "rootfs") ? "" : startswith(path, "rootfs/");
  if (!in_rootfs)
    return o->rootfs_only ? NULL : path; /* the manifest */
  if (!whitelisted(o->path_whitelist, in_rootfs, is_dir))
    return NULL;
  if (!o->rootfs_only)
    return path;
  return *in_rootfs ? in_rootfs : NULL; /* the rootfs directory itself is the target */
}

static int write_entry(struct archive *a, struct archive *disk, struct archive_entry *e, const char *name,
                       const struct extract_opts *o, podrun_error_t *err)
{
  const char *hard = sym_archive_entry_hardlink(e);
  _cleanup_free_ char *hard_clean = NULL;

  sym_archive_entry_set_pathname(e, name);
  if (hard)
    {
      if (extract_clean_path(hard, &hard_clean, err) < 0)
        return -1;
      const char *t = target_name(o, hard_clean, false);
      if (!t)
        return podrun_error_set(err, 0, "entry %s: hardlink to %s, which is not extracted", QUOTE(name), QUOTE(hard));
      sym_archive_entry_set_hardlink(e, t);
    }
  if (sym_archive_write_header(disk, e) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
  if (sym_archive_entry_size(e) > 0 && !hard)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r;
      while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
        if (sym_archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK)
          return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
      if (r != ARCHIVE_EOF)
        return podrun_error_set(err, 0, "entry %s: corrupt or truncated data: %s", QUOTE(name),
                                sym_archive_error_string(a));
    }
  if (sym_archive_write_finish_entry(disk) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
  return 0;
}

static int extract_entries(struct archive *a, struct archive *disk, const struct extract_opts *o, podrun_error_t *err)
{
  struct walk w = { .opts = o };
  struct archive_entry *e;
  int r;

  while ((r = next_header(a, &e, err)) > 0)
    {
      _cleanup_free_ char *path = NULL;
      if (check_entry(&w, e, &path, err) < 0)
        {
          r = -1;
          break;
        }
      const char *name = target_name(o, path, sym_archive_entry_filetype(e) == AE_IFDIR);
      if (name && (r = write_entry(a, disk, e, name, o, err)) < 0)
        break;
    }
  walk_done(&w);
  return r < 0 ? -1 : 0;
}

static int disk_flags(const struct extract_opts *o)
{
  int f = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
          ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
  if (!o->fresh_target)
    f |= ARCHIVE_EXTRACT_SECURE_SYMLINKS;
  if (geteuid() == 0)
    f |= ARCHIVE_EXTRACT_OWNER; /* numeric: no lookup is installed */
  if (!o->overwrite)
    f |= ARCHIVE_EXTRACT_NO_OVERWRITE;
  return f;
}

/* libarchive's writer resolves names against the cwd: run it from destfd
 * and always come back. */
int extract_to_dir_fd(int fd, int destfd, const struct extract_opts *opts, podrun_error_t *err)
{
  _cleanup_(archive_read_freep) struct archive *a = NULL;
  _cleanup_(archive_write_freep) struct archive *disk = NULL;
  _cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (cwd < 0)
    return podrun_error_set(err, errno, "prepare extraction");
  if (open_reader(fd, &a, err) < 0)
    return -1;
  if (!(disk = sym_archive_write_disk_new()))
    return podrun_error_set(err, ENOMEM, "prepare extraction");
  sym_archive_write_disk_set_options(disk, disk_flags(opts));
  if (fchdir(destfd) < 0)
    return podrun_error_set(err, errno, "enter the target directory");
  r = extract_entries(a, disk, opts, err);
  if (r >= 0 && sym_archive_write_close(disk) != ARCHIVE_OK)
    r = podrun_error_set(err, 0, "finish extraction: %s", sym_archive_error_string(disk));
  if (fchdir(cwd) < 0)
    abort(); /* the cwd we came from is gone: nothing sane is left to do */
  return r;
}
