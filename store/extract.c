/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "extract.h"

#include "dl.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "extract-internal.h"
#include "store-internal.h"
#include "tree.h"

#define READ_BLOCK (128 * 1024)
#define MAX_PATH 4096
#define MAX_COMPONENT 255

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

/* What the walk knows of each path it met (cleaned names): one table, each
 * path once with what it is, open addressing. */
enum
{
  P_ENTRY = 1 << 0,    /* an entry of the archive (an OCI layer's whiteout markers too) */
  P_SYMLINK = 1 << 1,  /* an entry that is a symlink */
  P_REGULAR = 1 << 2,  /* a regular file (a hardlink target) */
  P_DIR = 1 << 3,      /* a directory entry (its parents checked) */
  P_PREFIX = 1 << 4,   /* a proper prefix of an entry: a directory, made or implied (OCI) */
  P_WHITEOUT = 1 << 5, /* what this layer whites out (OCI) */
};

struct slot
{
  char *key;
  uint64_t hash;
  unsigned flags;
};

struct paths
{
  struct slot *slots;
  size_t cap, n, symlinks;
};

static struct slot *find_slot(const struct paths *t, const char *k, uint64_t h)
{
  for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1))
    if (!t->slots[i].key || (t->slots[i].hash == h && streq(t->slots[i].key, k)))
      return &t->slots[i];
}

/* What is known of k (0: nothing). */
static unsigned path_flags(const struct paths *t, const char *k)
{
  return t->cap ? find_slot(t, k, str_hash(k))->flags : 0;
}

static void paths_grow(struct paths *t)
{
  struct paths bigger = { .cap = t->cap ? t->cap * 2 : 1024, .n = t->n, .symlinks = t->symlinks };
  bigger.slots = xzalloc(sizeof(struct slot) * bigger.cap);
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].key)
      *find_slot(&bigger, t->slots[i].key, t->slots[i].hash) = t->slots[i];
  free(t->slots);
  *t = bigger;
}

/* Adds flags to what is known of k. */
static void path_add(struct paths *t, const char *k, unsigned flags)
{
  uint64_t h = str_hash(k);
  if ((t->n + 1) * 2 > t->cap)
    paths_grow(t);
  struct slot *sl = find_slot(t, k, h);
  if (!sl->key)
    {
      *sl = (struct slot){ .key = xstrdup(k), .hash = h };
      t->n++;
    }
  if ((flags & P_SYMLINK) && !(sl->flags & P_SYMLINK))
    t->symlinks++;
  sl->flags |= flags;
}

static void paths_done(struct paths *t)
{
  for (size_t i = 0; i < t->cap; i++)
    free(t->slots[i].key);
  free(t->slots);
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
 * inside the rootfs? (depth counts components below "rootfs", or below the
 * root of an OCI layer) */
static bool relative_target_stays(const char *link_path, const char *target, bool oci_layer)
{
  int depth = oci_layer ? 0 : -1; /* "rootfs/a/link", "a/link": the link's directory is 1 below the root */
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
  struct paths paths; /* every path met, and what it is */
  uint64_t total, entries;
  uint64_t data;      /* bytes of file data read so far */
  int manifests;
};

static void walk_done(struct walk *w)
{
  paths_done(&w->paths);
}

static const char *what_is_read(const struct walk *w) { return w->opts->oci_layer ? "layer" : "image"; }
static uint64_t max_total(const struct extract_opts *o) { return o->max_total_size ? o->max_total_size : 64ULL << 30; }

/* Nothing above path is a symlink of this archive, or any other entry of
 * it that is not a directory (a file "a" then "a/b": a writer would have
 * to fail, or replace the file with a directory). A directory entry of the
 * archive ends the walk: its own parents were checked when it came, and it
 * cannot become something else later (a second entry of a name is
 * refused), so most entries cost one lookup, not one per component. */
static int check_parents(struct walk *w, const char *path, podrun_error_t *err)
{
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/'))
    {
      *s = '\0';
      unsigned f = path_flags(&w->paths, p);
      if (f & P_SYMLINK)
        return podrun_error_set(err, 0, "entry %s: written through the symlink %s", QUOTE(path), QUOTE(p));
      if (f & P_DIR)
        return 0;
      if (f & P_ENTRY)
        return podrun_error_set(err, 0, "entry %s: %s, above it, is not a directory", QUOTE(path), QUOTE(p));
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
  if ((mode & (S_ISUID | S_ISGID)) && type != AE_IFDIR && !w->opts->allow_setuid && !w->opts->oci_layer)
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
      if ((!w->opts->oci_layer && !startswith(t, "rootfs/")) || !(path_flags(&w->paths, t) & P_REGULAR))
        return podrun_error_set(err, 0, "entry %s: hardlink to %s, not a file earlier in the image", QUOTE(path),
                                QUOTE(hard));
      return 0;
    }
  if (sym_archive_entry_filetype(e) == AE_IFLNK)
    {
      if (!sym || !*sym)
        return podrun_error_set(err, 0, "entry %s: symlink without a target", QUOTE(path));
      if (sym[0] != '/' && !relative_target_stays(path, sym, w->opts->oci_layer))
        return podrun_error_set(err, 0, "entry %s: symlink target %s leaves the image", QUOTE(path), QUOTE(sym));
    }
  return 0;
}

static int check_size(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  const struct extract_opts *o = w->opts;
  uint64_t max_entry = o->max_entry_size ? o->max_entry_size : 16ULL << 30;
  uint64_t max_tot = max_total(o);
  uint64_t max_entries = o->max_entries ? o->max_entries : 1000000;
  la_int64_t size = sym_archive_entry_size_is_set(e) ? sym_archive_entry_size(e) : 0;

  if (++w->entries > max_entries)
    return podrun_error_set(err, 0, "more than %llu entries", (unsigned long long) max_entries);
  if (size < 0 || (uint64_t) size > max_entry)
    return podrun_error_new(err, EFBIG, "entry %s: larger than %llu bytes", QUOTE(path),
                            (unsigned long long) max_entry);
  w->total += (uint64_t) size;
  if (w->total > max_tot)
    return podrun_error_new(err, EFBIG, "%s larger than %llu bytes", what_is_read(w), (unsigned long long) max_tot);
  return 0;
}

/* The declared sizes bound what a tar holds, and libarchive never returns
 * more data than an entry declares; this counts what decompression actually
 * delivers too, so no reading of the archive gets past the cap. */
static int count_data(struct walk *w, size_t len, podrun_error_t *err)
{
  w->data += len;
  if (w->data > max_total(w->opts))
    return podrun_error_new(err, EFBIG, "%s larger than %llu bytes", what_is_read(w),
                            (unsigned long long) max_total(w->opts));
  return 0;
}

/* Extended attributes from an archive. An image sets none in the trusted.*
 * namespace (overlayfs reads trusted.overlay.opaque, redirect and metacopy
 * from its lower layers: a layer could hide or redirect files of those below
 * it), nor security.* ones other than file capabilities (security.selinux
 * and the like name a policy of the host that built the image), nor
 * system.* (POSIX ACLs, which podrun does not restore). Those are dropped,
 * not refused: archives made with `tar --xattrs` on an SELinux host or of an
 * overlay directory carry them innocently, and nothing of the image is lost
 * that podrun would honour. user.* is kept. security.capability (file
 * capabilities) is a privilege like setuid: refused where setuid is (ACIs
 * unless allow_setuid), kept in OCI layers. */
static bool xattr_is_kept(const char *name)
{
  return startswith(name, "user.") || streq(name, "security.capability");
}

static int check_xattrs(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;
  bool drop = false;

  if (sym_archive_entry_xattr_count(e) == 0)
    return 0;
  sym_archive_entry_xattr_reset(e);
  while (sym_archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (streq(name, "security.capability") && !w->opts->allow_setuid && !w->opts->oci_layer)
        return podrun_error_set(err, 0, "entry %s: file capabilities are not allowed", QUOTE(path));
      drop = drop || !xattr_is_kept(name);
    }
  if (!drop)
    return 0;
  /* keep the kept ones: copy them out, clear, add them back */
  size_t n = 0, cap = (size_t) sym_archive_entry_xattr_count(e);
  struct { char *name; void *value; size_t size; } *kept = xzalloc(cap * sizeof(*kept));
  sym_archive_entry_xattr_reset(e);
  while (sym_archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK && n < cap)
    if (xattr_is_kept(name))
      {
        kept[n].name = xstrdup(name);
        kept[n].value = xmalloc(size ? size : 1);
        memcpy(kept[n].value, value, size);
        kept[n++].size = size;
      }
  sym_archive_entry_xattr_clear(e);
  for (size_t i = 0; i < n; i++)
    {
      sym_archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
      free(kept[i].name);
      free(kept[i].value);
    }
  free(kept);
  return 0;
}

/* The checks every written entry gets, ACI or OCI. */
static int check_written(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  if (check_parents(w, path, err) < 0 || check_links(w, e, path, err) < 0 ||
      (!sym_archive_entry_hardlink(e) && check_type(w, e, path, err) < 0) || check_size(w, e, path, err) < 0 ||
      check_xattrs(w, e, path, err) < 0)
    return -1;
  return 0;
}

static void record(struct walk *w, struct archive_entry *e, const char *path)
{
  bool hard = sym_archive_entry_hardlink(e) != NULL;
  unsigned f = P_ENTRY;
  if (sym_archive_entry_filetype(e) == AE_IFLNK)
    f |= P_SYMLINK;
  else if (sym_archive_entry_filetype(e) == AE_IFREG && !hard)
    f |= P_REGULAR;
  else if (sym_archive_entry_filetype(e) == AE_IFDIR && !hard)
    f |= P_DIR;
  path_add(&w->paths, path, f);
}

static int check_aci_entry(struct walk *w, struct archive_entry *e, const char *path, podrun_error_t *err)
{
  if (!streq(path, "manifest") && !streq(path, "rootfs") && !startswith(path, "rootfs/"))
    return podrun_error_set(err, 0, "entry %s: an ACI holds only manifest and rootfs/", QUOTE(path));
  if ((path_flags(&w->paths, path) & P_ENTRY))
    return podrun_error_set(err, 0, "entry %s: appears twice", QUOTE(path));
  if (check_written(w, e, path, err) < 0)
    return -1;
  if (streq(path, "manifest") && (sym_archive_entry_filetype(e) != AE_IFREG || sym_archive_entry_hardlink(e)))
    return podrun_error_set(err, 0, "entry \"manifest\": not a regular file");
  if (streq(path, "rootfs") && (sym_archive_entry_filetype(e) != AE_IFDIR || sym_archive_entry_hardlink(e)))
    return podrun_error_set(err, 0, "entry \"rootfs\": not a directory");
  record(w, e, path);
  return 0;
}

/* ---- OCI layers: whiteouts ---- */

/* Records every proper prefix of path (longest first, stopping at one
 * already known: its own prefixes are known too). */
static void add_prefixes(struct walk *w, const char *path)
{
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/'))
    {
      *s = '\0';
      if (path_flags(&w->paths, p) & P_PREFIX)
        return;
      path_add(&w->paths, p, P_PREFIX);
    }
}

/* Neither path nor a directory above it is whited out by this layer. */
static int check_not_whited_out(struct walk *w, const char *entry, const char *path, podrun_error_t *err)
{
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = p + strlen(p); s; s = strrchr(p, '/'))
    {
      *s = '\0';
      if (*p && (path_flags(&w->paths, p) & P_WHITEOUT))
        return podrun_error_set(err, 0, "entry %s: %s is whited out in the same layer", QUOTE(entry), QUOTE(p));
    }
  return 0;
}

/* The directory a whiteout marker sits in: no symlink of this layer on the
 * way, not whited out, and not a non-directory of this layer. */
static int check_marker_dir(struct walk *w, const char *path, const char *dir, podrun_error_t *err)
{
  unsigned f = *dir ? path_flags(&w->paths, dir) : 0;
  if ((f & P_ENTRY) && !(f & (P_DIR | P_SYMLINK)))
    return podrun_error_set(err, 0, "entry %s: whiteout in %s, which is not a directory", QUOTE(path), QUOTE(dir));
  if (check_parents(w, path, err) < 0 || check_not_whited_out(w, path, dir, err) < 0)
    return -1;
  return 0;
}

enum action
{
  ACT_WRITE,
  ACT_SKIP,     /* the layer's root directory */
  ACT_WHITEOUT, /* the path returned is what is whited out */
  ACT_OPAQUE,   /* the path returned is the directory ("" for the root) */
};

/* DIR/.wh.NAME and DIR/.wh..wh..opq: *ret_path is DIR/NAME or DIR. */
static int check_whiteout(struct walk *w, struct archive_entry *e, const char *path, const char *dir,
                          const char *base, char **ret_path, enum action *ret_act, podrun_error_t *err)
{
  const char *name = base + strlen(WHITEOUT_PREFIX);
  _cleanup_free_ char *target = NULL;

  if ((path_flags(&w->paths, path) & P_ENTRY))
    return podrun_error_set(err, 0, "entry %s: appears twice", QUOTE(path));
  if (check_marker_dir(w, path, dir, err) < 0 || check_size(w, e, path, err) < 0)
    return -1;
  if (streq(base, WHITEOUT_OPAQUE))
    {
      *ret_act = ACT_OPAQUE;
      target = xstrdup(dir);
    }
  else if (startswith(base, WHITEOUT_META_PREFIX))
    return podrun_error_set(err, 0, "entry %s: aufs metadata (%s…) is not an OCI whiteout", QUOTE(path),
                            WHITEOUT_META_PREFIX);
  else if (!*name || streq(name, ".") || streq(name, ".."))
    return podrun_error_set(err, 0, "entry %s: a whiteout of %s", QUOTE(path), *name ? QUOTE(name) : "nothing");
  else
    {
      target = *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
      if (path_flags(&w->paths, target) & (P_ENTRY | P_PREFIX))
        return podrun_error_set(err, 0, "entry %s: %s is both whited out and present in the same layer", QUOTE(path),
                                QUOTE(target));
      path_add(&w->paths, target, P_WHITEOUT);
      *ret_act = ACT_WHITEOUT;
    }
  path_add(&w->paths, path, P_ENTRY);
  add_prefixes(w, path);
  *ret_path = TAKE_PTR(target);
  return 0;
}

/* "." or "./" (or "././"), not absolute: the layer's root. */
static bool is_root_name(const char *name)
{
  if (!*name || name[0] == '/')
    return false;
  for (const char *p = name; *p; p += strspn(p, "/"))
    {
      size_t c = strcspn(p, "/");
      if (c != 1 || p[0] != '.')
        return false;
      p += c;
    }
  return true;
}

static int check_oci_entry(struct walk *w, struct archive_entry *e, char *path, char **ret_path,
                           enum action *ret_act, podrun_error_t *err)
{
  char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  _cleanup_free_ char *dir = slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup("");

  for (const char *p = path; p < base; p += strcspn(p, "/") + 1)
    if (startswith(p, WHITEOUT_PREFIX))
      return podrun_error_set(err, 0, "entry %s: a whiteout name in the middle of the path", QUOTE(path));
  if (startswith(base, WHITEOUT_PREFIX))
    return check_whiteout(w, e, path, dir, base, ret_path, ret_act, err);
  if ((path_flags(&w->paths, path) & P_ENTRY))
    return podrun_error_set(err, 0, "entry %s: appears twice", QUOTE(path));
  if (check_not_whited_out(w, path, path, err) < 0 || check_written(w, e, path, err) < 0)
    return -1;
  bool is_dir = sym_archive_entry_filetype(e) == AE_IFDIR && !sym_archive_entry_hardlink(e);
  if (!is_dir && (path_flags(&w->paths, path) & P_PREFIX))
    return podrun_error_set(err, 0, "entry %s: not a directory, but the layer has entries in it", QUOTE(path));
  record(w, e, path);
  add_prefixes(w, path);
  *ret_path = xstrdup(path);
  *ret_act = ACT_WRITE;
  return 0;
}

/* All lexical checks of one entry; *ret_path is the cleaned name (for a
 * whiteout of an OCI layer, what it whites out). */
static int check_entry(struct walk *w, struct archive_entry *e, char **ret_path, enum action *ret_act,
                       podrun_error_t *err)
{
  _cleanup_free_ char *path = NULL;
  const char *name = sym_archive_entry_pathname(e);

  if (!name)
    return podrun_error_set(err, 0, "entry without a name");
  if (w->opts->oci_layer && is_root_name(name))
    {
      if (check_size(w, e, name, err) < 0)
        return -1;
      *ret_path = xstrdup("");
      *ret_act = ACT_SKIP;
      return 0;
    }
  if (extract_clean_path(name, &path, err) < 0)
    return -1;
  if (w->opts->oci_layer)
    return check_oci_entry(w, e, path, ret_path, ret_act, err);
  if (check_aci_entry(w, e, path, err) < 0)
    return -1;
  *ret_act = ACT_WRITE;
  *ret_path = TAKE_PTR(path);
  return 0;
}

/* What an archive is read from. A regular file is mapped rather than read:
 * libarchive then hands out its bytes as pointers into the mapping, and the
 * one copy left is the write into the target (read(2) into a buffer made a
 * second one: a tenth of a large render's time). What is mapped is a store
 * blob, never written again once linked into place, or a file podrun has
 * just written and synced (an import's), or the caller's own. */
struct input
{
  void *map;
  size_t len;
};

static void input_done(struct input *in)
{
  if (in->map)
    munmap(in->map, in->len);
  *in = (struct input){ 0 };
}

/* Opens a on fd's bytes from its offset on. */
static int input_open(struct archive *a, int fd, struct input *in)
{
  struct stat st;
  off_t pos;

  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (pos = lseek(fd, 0, SEEK_CUR)) >= 0 && pos < st.st_size)
    {
      void *m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m != MAP_FAILED)
        {
          (void) madvise(m, (size_t) st.st_size, MADV_SEQUENTIAL);
          *in = (struct input){ .map = m, .len = (size_t) st.st_size };
          return sym_archive_read_open_memory(a, (char *) m + pos, (size_t) (st.st_size - pos));
        }
    }
  return sym_archive_read_open_fd(a, fd, READ_BLOCK);
}

static int open_reader(int fd, struct archive **ret, struct input *in, podrun_error_t *err)
{
  if (dl_load_archive(err) < 0)
    return -1;
  struct archive *a = sym_archive_read_new();
  if (!a)
    return podrun_error_set(err, ENOMEM, "archive_read_new");
  sym_archive_read_support_filter_all(a);
  sym_archive_read_support_format_tar(a);
  sym_archive_read_support_format_gnutar(a);
  if (input_open(a, fd, in) != ARCHIVE_OK)
    {
      podrun_error_set(err, 0, "not a readable archive: %s", sym_archive_error_string(a));
      sym_archive_read_free(a);
      input_done(in);
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
static int skip_data(struct walk *w, struct archive *a, const char *path, podrun_error_t *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;
  while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
    if (count_data(w, len, err) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return podrun_error_set(err, 0, "entry %s: corrupt or truncated data: %s", QUOTE(path),
                            sym_archive_error_string(a));
  return 0;
}

static int scan_entries(struct walk *w, struct archive *a, char **manifest, size_t *manifest_len, podrun_error_t *err)
{
  struct archive_entry *e;
  int r;

  while ((r = next_header(a, &e, err)) > 0)
    {
      _cleanup_free_ char *path = NULL;
      enum action act;
      if (check_entry(w, e, &path, &act, err) < 0)
        return -1;
      if (!w->opts->oci_layer && streq(path, "manifest"))
        r = read_manifest(a, e, manifest, manifest_len, err);
      else
        r = skip_data(w, a, path, err);
      if (r < 0)
        return -1;
    }
  return r;
}

int extract_scan_fd(int fd, const struct extract_opts *opts, char **ret_manifest, size_t *ret_manifest_len,
                    podrun_error_t *err)
{
  _cleanup_(input_done) struct input in = { 0 };
  _cleanup_(archive_read_freep) struct archive *a = NULL;
  _cleanup_free_ char *manifest = NULL;
  struct walk w = { .opts = opts };
  size_t manifest_len = 0;
  int r;

  if (open_reader(fd, &a, &in, err) < 0)
    return -1;
  r = scan_entries(&w, a, &manifest, &manifest_len, err);
  walk_done(&w);
  sym_archive_read_free(TAKE_PTR(a)); /* before the mapping goes */
  if (r < 0)
    return -1;
  if (!manifest && !opts->oci_layer)
    return podrun_error_set(err, 0, "no manifest in the image");
  if (ret_manifest)
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
  if (o->oci_layer)
    return whitelisted(o->path_whitelist, path, is_dir) ? path : NULL;
  const char *in_rootfs = streq(path, "rootfs") ? "" : startswith(path, "rootfs/");
  if (!in_rootfs)
    return o->rootfs_only ? NULL : path; /* the manifest */
  if (!whitelisted(o->path_whitelist, in_rootfs, is_dir))
    return NULL;
  if (!o->rootfs_only)
    return path;
  return *in_rootfs ? in_rootfs : NULL; /* the rootfs directory itself is the target */
}

/* Where entries go: libarchive's disk writer, or, into a fresh target,
 * extract-tree.c's. */
struct sink
{
  struct archive *disk;
  struct tree_writer *tree;
};

static int write_entry_tree(struct walk *w, struct archive *a, struct tree_writer *t, struct archive_entry *e,
                            const char *name, const char *hard, podrun_error_t *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  struct tree_content *content = w->opts->content;
  int r = tree_writer_create(t, e, name, hard, err);

  if (r <= 0)
    return r;
  /* a regular file: its contents hashed as they are written (store/tree.h) */
  if (content && tree_content_begin(content, name, err) < 0)
    return -1;
  while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
    if (count_data(w, len, err) < 0 || (content && tree_content_data(content, buf, len, off, err) < 0) ||
        tree_writer_data(t, buf, len, off, err) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return podrun_error_set(err, 0, "entry %s: corrupt or truncated data: %s", QUOTE(name),
                            sym_archive_error_string(a));
  if (content && tree_content_end(content, (uint64_t) sym_archive_entry_size(e), err) < 0)
    return -1;
  return tree_writer_finish(t, e, err);
}

static int write_entry(struct walk *w, struct archive *a, const struct sink *out, struct archive_entry *e,
                       const char *name, podrun_error_t *err)
{
  const struct extract_opts *o = w->opts;
  struct archive *disk = out->disk;
  const char *hard = sym_archive_entry_hardlink(e);
  _cleanup_free_ char *hard_clean = NULL;
  const char *t = NULL;

  if (hard)
    {
      if (extract_clean_path(hard, &hard_clean, err) < 0)
        return -1;
      t = target_name(o, hard_clean, false);
      if (!t)
        return podrun_error_set(err, 0, "entry %s: hardlink to %s, which is not extracted", QUOTE(name), QUOTE(hard));
      if (o->content)
        tree_content_link(o->content, name, t);
    }
  if (out->tree)
    return write_entry_tree(w, a, out->tree, e, name, t, err);
  sym_archive_entry_set_pathname(e, name);
  if (t)
    sym_archive_entry_set_hardlink(e, t);
  if (sym_archive_write_header(disk, e) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
  bool hashed = o->content && !hard && sym_archive_entry_filetype(e) == AE_IFREG;
  if (hashed && tree_content_begin(o->content, name, err) < 0)
    return -1;
  if (sym_archive_entry_size(e) > 0 && !hard)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r;
      while ((r = sym_archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
        {
          if (count_data(w, len, err) < 0 || (hashed && tree_content_data(o->content, buf, len, off, err) < 0))
            return -1;
          if (sym_archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK)
            return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
        }
      if (r != ARCHIVE_EOF)
        return podrun_error_set(err, 0, "entry %s: corrupt or truncated data: %s", QUOTE(name),
                                sym_archive_error_string(a));
    }
  if (hashed && tree_content_end(o->content, (uint64_t) sym_archive_entry_size(e), err) < 0)
    return -1;
  if (sym_archive_write_finish_entry(disk) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "entry %s: %s", QUOTE(name), sym_archive_error_string(disk));
  return 0;
}

/* overlayfs's whiteout: a character device 0/0 where the file was. */
static int make_whiteout(int destfd, const char *target, podrun_error_t *err)
{
  const char *slash = strrchr(target, '/');
  _cleanup_free_ char *dir = slash ? xstrndup(target, (size_t) (slash - target)) : xstrdup("");
  _cleanup_close_ int dfd = -1;

  if (extract_open_dir_below(destfd, dir, &dfd, err) < 0)
    return -1;
  if (mknodat(dfd, slash ? slash + 1 : target, S_IFCHR | 0000, makedev(0, 0)) < 0)
    return podrun_error_set(err, errno, "whiteout %s", QUOTE(target));
  return 0;
}

/* overlayfs's opaque directory: nothing of the layers below shows in it. */
static int make_opaque(int destfd, const char *dir, podrun_error_t *err)
{
  _cleanup_close_ int dfd = -1;

  if (extract_open_dir_below(destfd, dir, &dfd, err) < 0)
    return -1;
  if (fsetxattr(dfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
    return podrun_error_set(err, errno, "opaque directory %s: set %s", QUOTE(*dir ? dir : "."), OVERLAY_OPAQUE_XATTR);
  return 0;
}

static int apply_entry(struct walk *w, struct archive *a, const struct sink *out, struct archive_entry *e, int destfd,
                       const char *path, enum action act, podrun_error_t *err)
{
  const char *name;

  switch (act)
    {
    case ACT_SKIP:
      return skip_data(w, a, path, err);
    case ACT_WHITEOUT:
      name = target_name(w->opts, path, false);
      if (skip_data(w, a, path, err) < 0)
        return -1;
      return name ? make_whiteout(destfd, name, err) : 0;
    case ACT_OPAQUE:
      if (skip_data(w, a, path, err) < 0)
        return -1;
      return target_name(w->opts, path, true) ? make_opaque(destfd, path, err) : 0;
    case ACT_WRITE:
      name = target_name(w->opts, path, sym_archive_entry_filetype(e) == AE_IFDIR);
      return name ? write_entry(w, a, out, e, name, err) : 0;
    }
  return 0;
}

static int extract_entries(struct archive *a, const struct sink *out, int destfd, const struct extract_opts *o,
                           podrun_error_t *err)
{
  struct walk w = { .opts = o };
  struct archive_entry *e;
  int r;

  while ((r = next_header(a, &e, err)) > 0)
    {
      _cleanup_free_ char *path = NULL;
      enum action act;
      if (check_entry(&w, e, &path, &act, err) < 0 || apply_entry(&w, a, out, e, destfd, path, act, err) < 0)
        {
          r = -1;
          break;
        }
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
  /* An OCI layer goes into a directory of its own: the only existing entries
   * are the directories its whiteouts made, whose metadata its own entries
   * for them then set. */
  if (!o->overwrite && !o->oci_layer)
    f |= ARCHIVE_EXTRACT_NO_OVERWRITE;
  return f;
}

/* An archive whose uncompressed bytes are hashed on their way to the tar
 * reader: an outer reader decompresses (any filter, the raw format), the
 * inner one reads tar from it. One decompression, and the digest covers
 * every byte, the padding after the end-of-archive blocks included. */
struct hashed
{
  struct archive *outer;
  struct input in;
  EVP_MD_CTX *md;
  const char *why; /* the outer reader's error, once it failed */
  uint64_t total, max; /* bytes decompressed, and the cap on them */
};

static la_ssize_t hashed_read(struct archive *inner, void *ctx, const void **ret)
{
  struct hashed *h = ctx;
  const void *buf = NULL;
  size_t n = 0;
  la_int64_t off;
  /* the outer reader's own block, valid until it is asked again: as the
   * inner reader wants it (no copy) */
  int r = sym_archive_read_data_block(h->outer, &buf, &n, &off);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r != ARCHIVE_OK)
    {
      h->why = sym_archive_error_string(h->outer);
      return -1;
    }
  h->total += n;
  if (h->total > h->max)
    {
      h->why = "larger than its size cap uncompressed";
      return -1;
    }
  if (n > 0 && sym_EVP_DigestUpdate(h->md, buf, n) != 1)
    return -1;
  *ret = buf;
  return (la_ssize_t) n;
}

static void hashed_done(struct hashed *h)
{
  if (h->outer)
    sym_archive_read_free(h->outer);
  input_done(&h->in);
  if (h->md)
    sym_EVP_MD_CTX_free(h->md);
}

static int open_hashed_outer(int fd, struct hashed *h, podrun_error_t *err)
{
  struct archive_entry *e;

  if (dl_load_archive(err) < 0 || dl_load_crypto(err) < 0)
    return -1;
  if (!(h->outer = sym_archive_read_new()) || !(h->md = sym_EVP_MD_CTX_new()) ||
      sym_EVP_DigestInit_ex(h->md, sym_EVP_sha256(), NULL) != 1)
    return podrun_error_set(err, ENOMEM, "prepare extraction");
  sym_archive_read_support_filter_all(h->outer);
  sym_archive_read_support_format_raw(h->outer);
  if (input_open(h->outer, fd, &h->in) != ARCHIVE_OK ||
      sym_archive_read_next_header(h->outer, &e) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "not a readable archive: %s", sym_archive_error_string(h->outer));
  return 0;
}

static int open_hashed_reader(int fd, struct hashed *h, struct archive **ret, podrun_error_t *err)
{
  if (open_hashed_outer(fd, h, err) < 0)
    return -1;
  struct archive *a = sym_archive_read_new();
  if (!a)
    return podrun_error_set(err, ENOMEM, "archive_read_new");
  sym_archive_read_support_format_tar(a);
  sym_archive_read_support_format_gnutar(a);
  if (sym_archive_read_open(a, h, NULL, hashed_read, NULL) != ARCHIVE_OK)
    {
      podrun_error_set(err, 0, "not a readable archive: %s", h->why ? h->why : sym_archive_error_string(a));
      sym_archive_read_free(a);
      return -1;
    }
  *ret = a;
  return 0;
}

/* What is left after the tar's end, hashed too; then the digest checked. */
static int hashed_check(struct hashed *h, const char *want, podrun_error_t *err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  unsigned len = 0;
  const void *buf;

  for (;;)
    {
      la_ssize_t n = hashed_read(NULL, h, &buf);
      if (n < 0)
        return podrun_error_set(err, 0, "corrupt or truncated compression: %s", h->why ? h->why : "digest failed");
      if (n == 0)
        break;
    }
  if (sym_EVP_DigestFinal_ex(h->md, md, &len) != 1)
    return podrun_error_new(err, 0, "digest failed");
  for (unsigned i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  if (!startswith(want, "sha256:") || !streq(want + strlen("sha256:"), hex))
    return podrun_error_new(err, EBADMSG, "uncompressed, it hashes to sha256:%.12s…, not its diff_id %s: digest mismatch",
                            hex, QUOTE(want));
  return 0;
}

int extract_check_diff_id(int fd, const char *diff_id, uint64_t max, podrun_error_t *err)
{
  struct hashed h = { .max = max ? max : UINT64_MAX };
  int r = open_hashed_outer(fd, &h, err);
  if (r >= 0)
    r = hashed_check(&h, diff_id, err);
  hashed_done(&h);
  return r;
}

/* libarchive's writer resolves names against the cwd: run it from destfd
 * and always come back. */
static int extract_with_libarchive(struct archive *a, int destfd, const struct extract_opts *opts,
                                   podrun_error_t *err)
{
  _cleanup_(archive_write_freep) struct archive *disk = NULL;
  _cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (cwd < 0 || !(disk = sym_archive_write_disk_new()) || fchdir(destfd) < 0)
    return podrun_error_set(err, cwd < 0 || disk ? errno : ENOMEM, "prepare extraction");
  sym_archive_write_disk_set_options(disk, disk_flags(opts));
  r = extract_entries(a, &(struct sink){ .disk = disk }, destfd, opts, err);
  if (r >= 0 && sym_archive_write_close(disk) != ARCHIVE_OK)
    r = podrun_error_set(err, 0, "finish extraction: %s", sym_archive_error_string(disk));
  if (fchdir(cwd) < 0)
    abort(); /* the cwd we came from is gone: nothing sane is left to do */
  return r;
}

/* Into a fresh target, as root: extract-tree.c's writer, told where the
 * archive's bytes stay mapped. */
static int extract_fresh(struct archive *a, const struct input *in, int destfd, const struct extract_opts *opts,
                         podrun_error_t *err)
{
  struct tree_writer *t = NULL;
  int r;

  if (tree_writer_new(destfd, &t, err) < 0)
    return -1;
  if (in->map)
    tree_writer_mapped(t, in->map, in->len);
  r = extract_entries(a, &(struct sink){ .tree = t }, destfd, opts, err);
  if (r >= 0)
    r = tree_writer_close(t, err);
  tree_writer_free(t);
  return r;
}

int extract_to_dir_fd(int fd, int destfd, const struct extract_opts *opts, podrun_error_t *err)
{
  struct archive *a = NULL;
  struct input in = { 0 };
  /* the extraction's own cap stops a bomb first; this one bounds the padding after it */
  struct hashed h = { .max = max_total(opts) + 1024 * 1024 };
  int r;

  r = opts->diff_id ? open_hashed_reader(fd, &h, &a, err) : open_reader(fd, &a, &in, err);
  if (r >= 0)
    r = opts->fresh_target && geteuid() == 0 ? extract_fresh(a, opts->diff_id ? &h.in : &in, destfd, opts, err)
                                             : extract_with_libarchive(a, destfd, opts, err);
  if (r >= 0 && opts->diff_id)
    r = hashed_check(&h, opts->diff_id, err);
  if (a)
    sym_archive_read_free(a);
  hashed_done(&h);
  input_done(&in); /* after the readers of it */
  return r < 0 ? -1 : 0;
}
