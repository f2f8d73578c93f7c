/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing an ACI from a directory (podrun export): an uncompressed pax tar
 * holding `manifest`, then `rootfs/` and everything below it, read with
 * libarchive's disk reader without following symlinks or crossing mounts.
 * Owners stay numeric (no name lookup on the host: the names belong to the
 * image); hardlinks are kept as hardlinks. */
#include <fcntl.h>
#include <sys/stat.h>

#include "store-internal.h"

#define COPY_BLOCK (128 * 1024)

static void archive_entry_freep(struct archive_entry **e)
{
  if (*e)
    sym_archive_entry_free(*e);
}

static void linkresolver_freep(struct archive_entry_linkresolver **l)
{
  if (*l)
    sym_archive_entry_linkresolver_free(*l);
}

static int write_manifest(struct archive *w, const char *manifest, podrun_error_t *err)
{
  _cleanup_(archive_entry_freep) struct archive_entry *e = sym_archive_entry_new();
  size_t len = strlen(manifest);

  sym_archive_entry_set_pathname(e, "manifest");
  sym_archive_entry_set_filetype(e, AE_IFREG);
  sym_archive_entry_set_perm(e, 0644);
  sym_archive_entry_set_size(e, (la_int64_t) len);
  sym_archive_entry_set_mtime(e, time(NULL), 0);
  if (sym_archive_write_header(w, e) != ARCHIVE_OK || sym_archive_write_data(w, manifest, len) != (la_ssize_t) len)
    return podrun_error_new(err, 0, "write the manifest: %s", sym_archive_error_string(w));
  return 0;
}

static int copy_data(struct archive *disk, struct archive *w, const char *name, podrun_error_t *err)
{
  _cleanup_free_ char *buf = xmalloc(COPY_BLOCK);
  la_ssize_t n;

  while ((n = sym_archive_read_data(disk, buf, COPY_BLOCK)) > 0)
    if (sym_archive_write_data(w, buf, (size_t) n) != n)
      return podrun_error_new(err, 0, "%s: %s", QUOTE(name), sym_archive_error_string(w));
  if (n < 0)
    return podrun_error_new(err, 0, "%s: %s", QUOTE(name), sym_archive_error_string(disk));
  return 0;
}

/* One entry, named "<prefix><path below root>". With tar's strategy linkify
 * turns a second name of a file into a hardlink entry and defers nothing. */
static int write_entry(struct archive *disk, struct archive *w, struct archive_entry_linkresolver *lr,
                       struct archive_entry *e, size_t root_len, const char *prefix, podrun_error_t *err)
{
  const char *path = sym_archive_entry_pathname(e);
  struct archive_entry *spare = NULL;
  _cleanup_free_ char *name = xasprintf("%s%s", prefix, path + root_len);

  sym_archive_entry_set_pathname(e, name);
  sym_archive_entry_linkify(lr, &e, &spare);
  if (sym_archive_write_header(w, e) != ARCHIVE_OK)
    return podrun_error_new(err, 0, "%s: %s", QUOTE(name), sym_archive_error_string(w));
  if (sym_archive_entry_filetype(e) == AE_IFREG && sym_archive_entry_size(e) > 0 && !sym_archive_entry_hardlink(e))
    return copy_data(disk, w, name, err);
  return 0;
}

static int write_tree(struct archive *w, int format, const char *root, const char *prefix, podrun_error_t *err)
{
  _cleanup_(archive_read_freep) struct archive *disk = sym_archive_read_disk_new();
  _cleanup_(linkresolver_freep) struct archive_entry_linkresolver *lr = sym_archive_entry_linkresolver_new();
  _cleanup_(archive_entry_freep) struct archive_entry *e = sym_archive_entry_new();
  size_t root_len = strlen(root);
  int r;

  if (!disk || !lr || !e)
    return podrun_error_new(err, ENOMEM, "out of memory");
  sym_archive_entry_linkresolver_set_strategy(lr, format);
  sym_archive_read_disk_set_symlink_hybrid(disk); /* root may be /proc/self/fd/N; nothing below is followed */
  sym_archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_FFLAGS);
  if (sym_archive_read_disk_open(disk, root) != ARCHIVE_OK)
    return podrun_error_new(err, 0, "%s: %s", QUOTE(root), sym_archive_error_string(disk));
  while ((r = sym_archive_read_next_header2(disk, e)) == ARCHIVE_OK)
    {
      const char *path = sym_archive_entry_pathname(e);
      if (strncmp(path, root, root_len) != 0 || (path[root_len] != '\0' && path[root_len] != '/'))
        return podrun_error_new(err, 0, "%s: outside %s", QUOTE(path), QUOTE(root));
      if (sym_archive_read_disk_can_descend(disk) && sym_archive_read_disk_descend(disk) != ARCHIVE_OK)
        return podrun_error_new(err, 0, "%s: %s", QUOTE(path), sym_archive_error_string(disk));
      if (write_entry(disk, w, lr, e, root_len, prefix, err) < 0)
        return -1;
      sym_archive_entry_clear(e);
    }
  if (r != ARCHIVE_EOF)
    return podrun_error_new(err, 0, "read %s: %s", QUOTE(root), sym_archive_error_string(disk));
  return sym_archive_read_close(disk) == ARCHIVE_OK ? 0 : podrun_error_new(err, 0, "%s", sym_archive_error_string(disk));
}

int store_write_aci(const char *rootfs, const char *manifest, const char *out, bool overwrite, podrun_error_t *err)
{
  _cleanup_(archive_write_freep) struct archive *w = NULL;
  char *tmp;
  int fd;

  if (dl_load_archive(err) < 0)
    return -1;
  if (!(w = sym_archive_write_new()))
    return podrun_error_new(err, ENOMEM, "out of memory");
  if (store_output_open(out, overwrite, &tmp, &fd, err) < 0)
    return -1;
  int r = 0;
  if (sym_archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
      sym_archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK || sym_archive_write_open_fd(w, fd) != ARCHIVE_OK)
    r = podrun_error_new(err, 0, "%s", sym_archive_error_string(w));
  if (r >= 0 && (write_manifest(w, manifest, err) < 0 || write_tree(w, sym_archive_format(w), rootfs, "rootfs", err) < 0))
    r = -1;
  if (r >= 0 && sym_archive_write_close(w) != ARCHIVE_OK)
    r = podrun_error_new(err, 0, "%s", sym_archive_error_string(w));
  bool ok = r >= 0;
  if (!ok)
    podrun_error_wrap(err, "export to %s", QUOTE(out));
  return store_output_finish(fd, tmp, out, ok, err);
}

int store_copy_tree(const char *root, int destfd, podrun_error_t *err)
{
  _cleanup_(archive_write_freep) struct archive *disk = NULL;
  _cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (dl_load_archive(err) < 0)
    return -1;
  if (cwd < 0 || !(disk = sym_archive_write_disk_new()))
    return podrun_error_set(err, errno, "prepare a copy");
  sym_archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                             ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                             ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                             ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
  /* libarchive's writer resolves names against the cwd */
  if (fchdir(destfd) < 0)
    return podrun_error_set(err, errno, "enter the target directory");
  r = write_tree(disk, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, root, ".", err);
  if (r >= 0 && sym_archive_write_close(disk) != ARCHIVE_OK)
    r = podrun_error_new(err, 0, "finish the copy: %s", sym_archive_error_string(disk));
  if (fchdir(cwd) < 0)
    abort(); /* the cwd we came from is gone: nothing sane is left to do */
  return r;
}
