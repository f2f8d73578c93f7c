/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes a corpus of hostile ACIs, one per attack, into the directory argv[1]:
 * each is otherwise a valid ACI, so the attack is the only reason to refuse it.
 * tests/e2e/hostile.bats feeds every one to `podrun fetch`.
 * `mkhostile --oci DIR` writes hostile OCI layers instead (DIR/<name>.tar.gz,
 * gzip'd tars with entries at the root, as a registry serves them; see
 * oci_layers() for what each one is and what podrun must say), for a test
 * that serves them from a registry as the only layer of an image. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "util.h"

static const char manifest_fmt[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/hostile-%s\"}";

enum kind
{
  K_FILE,
  K_DIR,
  K_SYMLINK,
  K_HARDLINK,
  K_CHR,
  K_BLK,
  K_FIFO,
};

struct entry
{
  const char *path;
  enum kind kind;
  const char *target; /* link target or file contents */
  mode_t mode;        /* 0: default */
  int64_t size;       /* declared size for K_FILE, 0: strlen(target) */
  const char *xattr;  /* NULL, or an extended attribute's name, */
  const char *xattr_value; /* and its value */
  bool zeros;         /* K_FILE: write `size` zero bytes (compressed, a bomb) */
};

/* Output goes through a callback that stops after MAX_OUT bytes: an entry
 * that declares a huge size then ends in a truncated archive, never in a
 * huge file (libarchive pads an entry to its declared size on close). */
#define MAX_OUT (1 << 20)

struct out
{
  int fd;
  size_t written, max;
};

static la_ssize_t out_write(struct archive *a, void *data, const void *buf, size_t len)
{
  struct out *o = data;
  if (o->written + len > o->max)
    {
      archive_set_error(a, EFBIG, "corpus entry cut short on purpose");
      return -1;
    }
  o->written += len;
  return write(o->fd, buf, len);
}

static int out_close(struct archive *a, void *data)
{
  struct out *o = data;
  close(o->fd);
  free(o);
  return ARCHIVE_OK;
}

static struct archive *archive_open(const char *dir, const char *name, const char *ext, const char *filter,
                                    size_t max_out)
{
  char path[4096];
  struct archive *a = archive_write_new();
  struct out *o = xzalloc(sizeof(*o));
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1); /* no padding after the end */
  if (filter && streq(filter, "gzip"))
    archive_write_add_filter_gzip(a);
  else if (filter && streq(filter, "xz"))
    archive_write_add_filter_xz(a);
  snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
  o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  o->max = max_out;
  if (o->fd < 0 || archive_write_open2(a, o, NULL, out_write, out_close, NULL) != ARCHIVE_OK)
    {
      fprintf(stderr, "mkhostile: %s: %s\n", path, archive_error_string(a));
      exit(1);
    }
  return a;
}

static struct archive *aci_open(const char *dir, const char *name, const char *filter)
{
  return archive_open(dir, name, ".aci", filter, MAX_OUT);
}

#define FILE_(p, d) { .path = (p), .kind = K_FILE, .target = (d) }
#define MODE_(p, d, m) { .path = (p), .kind = K_FILE, .target = (d), .mode = (m) }
#define SIZED_(p, s) { .path = (p), .kind = K_FILE, .size = (s) }
#define DIR_(p) { .path = (p), .kind = K_DIR }
#define SYM_(p, t) { .path = (p), .kind = K_SYMLINK, .target = (t) }
#define HARD_(p, t) { .path = (p), .kind = K_HARDLINK, .target = (t) }
#define DEV_(p, k) { .path = (p), .kind = (k) }
#define END_ { .path = NULL }

static void add(struct archive *a, const struct entry *e)
{
  struct archive_entry *ae = archive_entry_new();
  const char *data = e->kind == K_FILE && e->target ? e->target : "";
  archive_entry_set_pathname(ae, e->path);
  archive_entry_set_mtime(ae, 0, 0);
  switch (e->kind)
    {
    case K_FILE:
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_size(ae, e->size ? e->size : (la_int64_t) strlen(data));
      break;
    case K_DIR:
      archive_entry_set_filetype(ae, AE_IFDIR);
      break;
    case K_SYMLINK:
      archive_entry_set_filetype(ae, AE_IFLNK);
      archive_entry_set_symlink(ae, e->target);
      break;
    case K_HARDLINK:
      archive_entry_set_filetype(ae, AE_IFREG);
      archive_entry_set_hardlink(ae, e->target);
      break;
    case K_CHR:
    case K_BLK:
      archive_entry_set_filetype(ae, e->kind == K_CHR ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdev(ae, makedev(1, 3));
      break;
    case K_FIFO:
      archive_entry_set_filetype(ae, AE_IFIFO);
      break;
    }
  archive_entry_set_perm(ae, e->mode ? e->mode : (e->kind == K_DIR ? 0755 : 0644));
  if (e->xattr)
    archive_entry_xattr_add_entry(ae, e->xattr, e->xattr_value, strlen(e->xattr_value));
  archive_write_header(a, ae);
  if (e->kind == K_FILE && !e->size)
    archive_write_data(a, data, strlen(data));
  if (e->kind == K_FILE && e->zeros)
    {
      static char zeros[1 << 16];
      for (int64_t done = 0; done < e->size; done += (int64_t) sizeof(zeros))
        archive_write_data(a, zeros, sizeof(zeros));
    }
  archive_entry_free(ae);
}

/* manifest + rootfs/ + the attack's entries. */
static void make(const char *dir, const char *name, const struct entry *entries, bool with_manifest)
{
  char manifest[256];
  struct archive *a = aci_open(dir, name, NULL);
  snprintf(manifest, sizeof(manifest), manifest_fmt, name);
  if (with_manifest)
    add(a, &(struct entry)FILE_("manifest", manifest));
  add(a, &(struct entry)DIR_("rootfs"));
  for (const struct entry *e = entries; e->path; e++)
    add(a, e);
  archive_write_close(a);
  archive_write_free(a);
}

static void write_raw(const char *dir, const char *name, const void *data, size_t len)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s.aci", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, data, len) != (ssize_t) len)
    exit(1);
  close(fd);
}

/* A valid compressed ACI, cut or damaged after it is written. */
static void damaged(const char *dir, const char *name, const char *filter, bool cut)
{
  char path[4096], big[64 * 1024];
  struct archive *a = aci_open(dir, name, filter);
  char manifest[256];
  snprintf(manifest, sizeof(manifest), manifest_fmt, name);
  add(a, &(struct entry)FILE_("manifest", manifest));
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof(big); i++)
    {
      x = x * 1103515245 + 12345; /* hardly compressible, never NUL */
      big[i] = (char) (1 + (x >> 16) % 255);
    }
  big[sizeof(big) - 1] = '\0';
  add(a, &(struct entry)FILE_("rootfs/data", big));
  archive_write_close(a);
  archive_write_free(a);
  snprintf(path, sizeof(path), "%s/%s.aci", dir, name);
  struct stat st;
  if (stat(path, &st) < 0)
    exit(1);
  if (cut)
    (void) !truncate(path, st.st_size / 2);
  else
    {
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      (void) !pwrite(fd, "\xde\xad\xbe\xef\xde\xad\xbe\xef", 8, st.st_size / 2);
      close(fd);
    }
}

#define XATTR_(p, n, v) { .path = (p), .kind = K_FILE, .target = "x", .xattr = (n), .xattr_value = (v) }
#define ZEROS_(p, s) { .path = (p), .kind = K_FILE, .size = (s), .zeros = true }

/* One OCI layer: the entries alone, gzip'd, DIR/<name>.tar.gz. */
static void layer(const char *dir, const char *name, const struct entry *entries)
{
  struct archive *a = archive_open(dir, name, ".tar.gz", "gzip", 4 << 20);
  for (const struct entry *e = entries; e->path; e++)
    add(a, e);
  archive_write_close(a);
  archive_write_free(a);
}

/* The hostile OCI layers; what podrun says of each (error substrings):
 *  whiteout-dotdot          ".wh..." whites out "..": 'a whiteout of ".."'
 *  whiteout-dot             "a/.wh..": 'a whiteout of "."'
 *  whiteout-escape          "../.wh.x", a whiteout above the layer: 'leaves the image'
 *  whiteout-through-symlink "esc" → /tmp, then esc/.wh.podrun-hostile-evil (a
 *                           device over a host file): 'written through the symlink'
 *  opaque-in-symlink-dir    "etc" → /etc, then etc/.wh..wh..opq (the host's /etc made
 *                           opaque): 'written through the symlink'
 *  whiteout-and-present     "x" and ".wh.x" in one layer: 'both whited out and present'
 *  aufs-plnk                ".wh..wh.plnk/1", aufs's hardlink directory: 'aufs metadata'
 *  aufs-meta                ".wh..wh.aufs": 'aufs metadata'
 *  escaping-path            "a/../../podrun-hostile-evil": 'leaves the image'
 *  symlink-escape           "link" → ../../..: 'leaves the image'
 *  device-char              a character device 1/3: 'device nodes' (unless the store
 *                           allows devices in layers)
 *  trusted-xattr            "f" with trusted.overlay.opaque=y, "g" with
 *                           trusted.overlay.redirect=/etc, "h" with security.selinux and
 *                           user.podrun=kept: accepted; the trusted.* and security.selinux
 *                           xattrs are dropped (f, g, h have none), user.podrun stays
 *  gzip-bomb                ~256 KiB of gzip inflating to one 256 MiB file of zeros:
 *                           'larger than' with PODRUN_MAX_LAYER_SIZE under 256 MiB
 *                           (refused when its header is read, before any data is written) */
static void oci_layers(const char *d)
{
  layer(d, "whiteout-dotdot", (struct entry[]){ FILE_(".wh...", ""), END_ });
  layer(d, "whiteout-dot", (struct entry[]){ DIR_("a"), FILE_("a/.wh..", ""), END_ });
  layer(d, "whiteout-escape", (struct entry[]){ FILE_("../.wh.x", ""), END_ });
  layer(d, "whiteout-through-symlink",
        (struct entry[]){ SYM_("esc", "/tmp"), FILE_("esc/.wh.podrun-hostile-evil", ""), END_ });
  layer(d, "opaque-in-symlink-dir", (struct entry[]){ SYM_("etc", "/etc"), FILE_("etc/.wh..wh..opq", ""), END_ });
  layer(d, "whiteout-and-present", (struct entry[]){ FILE_("x", "here"), FILE_(".wh.x", ""), END_ });
  layer(d, "aufs-plnk", (struct entry[]){ DIR_(".wh..wh.plnk"), FILE_(".wh..wh.plnk/1", "x"), END_ });
  layer(d, "aufs-meta", (struct entry[]){ FILE_(".wh..wh.aufs", ""), END_ });
  layer(d, "escaping-path", (struct entry[]){ FILE_("a/../../podrun-hostile-evil", "x"), END_ });
  layer(d, "symlink-escape", (struct entry[]){ SYM_("link", "../../.."), END_ });
  layer(d, "device-char", (struct entry[]){ DEV_("null", K_CHR), END_ });
  layer(d, "trusted-xattr",
        (struct entry[]){ XATTR_("f", "trusted.overlay.opaque", "y"), XATTR_("g", "trusted.overlay.redirect", "/etc"),
                          XATTR_("h", "security.selinux", "system_u:object_r:shadow_t:s0"),
                          XATTR_("i", "user.podrun", "kept"), END_ });
  layer(d, "gzip-bomb", (struct entry[]){ ZEROS_("zeros", 256LL << 20), END_ });
}

int main(int argc, char **argv)
{
  if (argc == 3 && streq(argv[1], "--oci"))
    {
      if (mkdir(argv[2], 0755) < 0 && errno != EEXIST)
        return 1;
      oci_layers(argv[2]);
      return 0;
    }
  if (argc != 2)
    {
      fprintf(stderr, "usage: mkhostile [--oci] DIR\n");
      return 2;
    }
  const char *d = argv[1];
  static char longpath[4200], longname[300];
  if (mkdir(d, 0755) < 0 && errno != EEXIST)
    return 1;

  memset(longname, 'a', sizeof(longname) - 1);
  snprintf(longpath, sizeof(longpath), "rootfs/");
  while (strlen(longpath) < 4150)
    strcat(longpath, "dddddddddddddddddddddddddddddddddddddddddddddddddd/");
  strcat(longpath, "f");
  char longcomp[320];
  snprintf(longcomp, sizeof(longcomp), "rootfs/%s", longname);

  make(d, "abs-path", (struct entry[]){ FILE_("/tmp/podrun-hostile-evil", "x"), END_ }, true);
  make(d, "dotdot", (struct entry[]){ FILE_("rootfs/../../podrun-hostile-evil", "x"), END_ }, true);
  make(d, "dotdot-inner", (struct entry[]){ FILE_("rootfs/a/../../../evil", "x"), END_ }, true);
  make(d, "outside-rootfs", (struct entry[]){ FILE_("etc/passwd", "x"), END_ }, true);
  make(d, "symlink-escape", (struct entry[]){ SYM_("rootfs/link", "../../.."), END_ }, true);
  make(d, "symlink-write-through",
       (struct entry[]){ SYM_("rootfs/esc", "/tmp"), FILE_("rootfs/esc/podrun-hostile-evil", "x"),
                         END_ },
       true);
  make(d, "hardlink-escape", (struct entry[]){ HARD_("rootfs/h", "../../../etc/passwd"), END_ }, true);
  make(d, "hardlink-absolute", (struct entry[]){ HARD_("rootfs/h", "/etc/passwd"), END_ }, true);
  make(d, "hardlink-to-symlink",
       (struct entry[]){ SYM_("rootfs/s", "/etc/shadow"), HARD_("rootfs/h", "rootfs/s"),
                         END_ },
       true);
  make(d, "device-char", (struct entry[]){ DEV_("rootfs/null", K_CHR), END_ }, true);
  make(d, "device-block", (struct entry[]){ DEV_("rootfs/sda", K_BLK), END_ }, true);
  make(d, "setuid", (struct entry[]){ MODE_("rootfs/suid", "#!/bin/sh\n", 04755), END_ }, true);
  make(d, "setgid", (struct entry[]){ MODE_("rootfs/sgid", "#!/bin/sh\n", 02755), END_ }, true);
  make(d, "huge-entry", (struct entry[]){ SIZED_("rootfs/big", 1LL << 40), END_ }, true);
  make(d, "long-path", (struct entry[]){ FILE_(longpath, "x"), END_ }, true);
  make(d, "long-component", (struct entry[]){ FILE_(longcomp, "x"), END_ }, true);
  make(d, "duplicate",
       (struct entry[]){ FILE_("rootfs/f", "one"), FILE_("rootfs/f", "two"), END_ }, true);
  make(d, "no-manifest", (struct entry[]){ FILE_("rootfs/f", "x"), END_ }, false);
  make(d, "two-manifests",
       (struct entry[]){ FILE_("manifest", "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"x\"}"),
                         END_ },
       true);
  {
    /* the rootfs itself a symlink to the host's root (no rootfs/ entry before it) */
    char manifest[256];
    struct archive *a = aci_open(d, "rootfs-symlink", NULL);
    snprintf(manifest, sizeof(manifest), manifest_fmt, "rootfs-symlink");
    add(a, &(struct entry)FILE_("manifest", manifest));
    add(a, &(struct entry)SYM_("rootfs", "/"));
    archive_write_close(a);
    archive_write_free(a);
  }
  make(d, "manifest-symlink", (struct entry[]){ END_ }, false);
  {
    /* a non-regular manifest: the symlink form */
    struct archive *a = aci_open(d, "manifest-symlink", NULL);
    add(a, &(struct entry)SYM_("manifest", "/etc/passwd"));
    add(a, &(struct entry)DIR_("rootfs"));
    archive_write_close(a);
    archive_write_free(a);
  }
  {
    /* a manifest over 1 MiB (declared and present) */
    size_t n = (1 << 20) + 16;
    char *big = xmalloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    struct archive *a = aci_open(d, "manifest-huge", NULL);
    add(a, &(struct entry)FILE_("manifest", big));
    archive_write_close(a);
    archive_write_free(a);
    free(big);
  }
  damaged(d, "truncated-gzip", "gzip", true);
  damaged(d, "corrupt-xz", "xz", false);
  write_raw(d, "not-an-archive", "this is not a tar archive, just some text\n", 42);
  return 0;
}
