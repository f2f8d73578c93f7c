/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blobs: each image is kept as its uncompressed ACI, named by the sha512 of
 * those bytes, which is also its appc image id. A blob is written to an
 * unnamed O_TMPFILE, fsynced, checked and only then linked into place, so it
 * exists complete and verified or not at all, even after SIGKILL. */
#include "dl.h"
#include <fcntl.h>
#include <sys/stat.h>

#include "appc.h"
#include "extract.h"
#include "fs.h"
#include "json-util.h"
#include "store-internal.h"

#define IMPORT_BLOCK (256 * 1024)
#define IMPORT_MAX_SIZE (64ULL << 30)

char *store_blob_path(const char *id)
{
  const char *hex = NULL;
  if (store_digest_hex_len(id, &hex))
    return xasprintf(STORE_BLOB_ROOT "/%.6s/%.2s/%s", id, hex, hex);
  return xasprintf(STORE_BLOB_DIR "/%.2s/%s", id, id);
}

int store_blob_open(struct store *s, const char *id, int *ret_fd, podrun_error_t *err)
{
  _cleanup_free_ char *p = store_blob_path(id);
  int fd = openat(s->dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return podrun_error_set(err, errno, "image %s: open blob %s", QUOTE(id), QUOTE(p));
  *ret_fd = fd;
  return 0;
}

static void md_freep(EVP_MD_CTX **c)
{
  if (*c)
    sym_EVP_MD_CTX_free(*c);
}

/* Decompresses src into out while hashing; returns the hex digest and size. */
static int copy_decompressed(int src, int out, char ret_hex[SHA512_HEX_LEN + 1], uint64_t *ret_size,
                             podrun_error_t *err)
{
  _cleanup_(archive_read_freep) struct archive *a = NULL;
  _cleanup_(md_freep) EVP_MD_CTX *md = NULL;
  _cleanup_free_ char *buf = xmalloc(IMPORT_BLOCK);
  struct archive_entry *e;
  unsigned char digest[64];
  uint64_t total = 0;

  if (dl_load_archive(err) < 0 || dl_load_crypto(err) < 0)
    return -1;
  if (!(a = sym_archive_read_new()) || !(md = sym_EVP_MD_CTX_new()) ||
      sym_EVP_DigestInit_ex(md, sym_EVP_sha512(), NULL) != 1)
    return podrun_error_set(err, ENOMEM, "initialise decompression");
  sym_archive_read_support_filter_all(a);
  sym_archive_read_support_format_raw(a);
  if (sym_archive_read_open_fd(a, src, IMPORT_BLOCK) != ARCHIVE_OK || sym_archive_read_next_header(a, &e) != ARCHIVE_OK)
    return podrun_error_set(err, 0, "cannot read or decompress: %s", sym_archive_error_string(a));
  for (;;)
    {
      la_ssize_t n = sym_archive_read_data(a, buf, IMPORT_BLOCK);
      if (n < 0)
        return podrun_error_set(err, 0, "corrupt or truncated compression: %s", sym_archive_error_string(a));
      if (n == 0)
        break;
      total += (uint64_t) n;
      if (total > IMPORT_MAX_SIZE)
        return podrun_error_new(err, EFBIG, "larger than %llu bytes uncompressed", IMPORT_MAX_SIZE);
      if (sym_EVP_DigestUpdate(md, buf, (size_t) n) != 1)
        return podrun_error_new(err, 0, "sha512 failed");
      if (fs_write_all(out, buf, (size_t) n, err) < 0)
        return podrun_error_wrap(err, "write blob");
    }
  if (sym_EVP_DigestFinal_ex(md, digest, NULL) != 1)
    return podrun_error_set(err, 0, "sha512 failed");
  for (size_t i = 0; i < sizeof(digest); i++)
    snprintf(ret_hex + 2 * i, 3, "%02x", digest[i]);
  *ret_size = total;
  return 0;
}

/* An unnamed file in the blob directory (a named one under a .tmp- name when
 * the filesystem has no O_TMPFILE; gc sweeps those). */
static int open_tmp_blob(struct store *s, char **ret_name, podrun_error_t *err)
{
  int fd = openat(s->dirfd, STORE_BLOB_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      *ret_name = NULL;
      return fd;
    }
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return podrun_error_set(err, errno, "create blob in %s", QUOTE(STORE_BLOB_DIR));
  for (int i = 0; i < 100; i++)
    {
      char rnd[17];
      random_chars(rnd, sizeof(rnd) - 1);
      char *name = xasprintf(STORE_BLOB_DIR "/" STORE_TMP_PREFIX "%s", rnd);
      fd = openat(s->dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd >= 0)
        {
          *ret_name = name;
          return fd;
        }
      free(name);
      if (errno != EEXIST)
        break;
    }
  return podrun_error_set(err, errno, "create blob in %s", QUOTE(STORE_BLOB_DIR));
}

static int link_blob(struct store *s, int fd, const char *tmp_name, const char *hex, podrun_error_t *err)
{
  _cleanup_free_ char *dir = xasprintf(STORE_BLOB_DIR "/%.2s", hex);
  _cleanup_free_ char *path = store_blob_path(hex);

  if (mkdirat(s->dirfd, dir, 0755) < 0 && errno != EEXIST)
    return podrun_error_set(err, errno, "mkdir %s", QUOTE(dir));
  if (tmp_name)
    {
      if (renameat(s->dirfd, tmp_name, s->dirfd, path) < 0)
        return podrun_error_set(err, errno, "rename blob to %s", QUOTE(path));
    }
  else
    {
      _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
      if (linkat(AT_FDCWD, proc, s->dirfd, path, AT_SYMLINK_FOLLOW) < 0 && errno != EEXIST)
        return podrun_error_set(err, errno, "link blob %s", QUOTE(path));
    }
  _cleanup_close_ int dfd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    (void) fsync(dfd);
  return 0;
}

static void set_label(char **dst, const struct appc_kvs *labels, const char *name)
{
  const char *v = appc_kvs_get(labels, name);
  *dst = v ? xstrdup(v) : NULL;
}

int store_describe_image(const char *manifest, size_t len, struct store_image *img, podrun_error_t *err)
{
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  _cleanup_json_ json_t *j = NULL;

  if (appc_image_manifest_parse(manifest, len, &m, err) < 0)
    return -1;
  j = appc_image_manifest_to_json(m);
  img->name = xstrdup(m->name);
  set_label(&img->version, &m->labels, "version");
  set_label(&img->os, &m->labels, "os");
  set_label(&img->arch, &m->labels, "arch");
  json_t *labels = json_object_get(j, "labels");
  img->labels = labels ? json_dump_sorted(labels, false) : xstrdup("[]");
  img->manifest = xstrndup(manifest, len);
  return 0;
}

static int import_fd(struct store *s, int src, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *tmp_name = NULL, *manifest = NULL;
  _cleanup_close_ int fd = -1;
  struct store_image img = { 0 };
  struct extract_opts opts = { 0 };
  char hex[SHA512_HEX_LEN + 1];
  size_t manifest_len = 0;
  int r = -1;

  fd = open_tmp_blob(s, &tmp_name, err);
  if (fd < 0)
    return -1;
  if (copy_decompressed(src, fd, hex, &img.size, err) < 0 || fsync(fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
    goto out;
  if (extract_scan_fd(fd, &opts, &manifest, &manifest_len, err) < 0)
    goto out;
  if (store_describe_image(manifest, manifest_len, &img, err) < 0)
    goto out;
  img.id = xasprintf("sha512-%s", hex);
  img.import_time = img.last_used = store_now_usec();
  if (link_blob(s, fd, tmp_name, hex, err) < 0)
    goto out;
  free(TAKE_PTR(tmp_name));
  /* an ACI is one layer, its own blob */
  struct store_layer layer = { .digest = img.id, .media_type = (char *) STORE_MEDIA_ACI, .size = img.size };
  if (index_add_image(s->idx, &img, &layer, 1, NULL, err) < 0)
    goto out;
  *ret_id = TAKE_PTR(img.id);
  r = 0;
out:
  if (tmp_name)
    (void) unlinkat(s->dirfd, tmp_name, 0);
  store_image_done(&img);
  return r;
}

int store_import_aci(struct store *s, const char *path, char **ret_id, podrun_error_t *err)
{
  return store_import_aci_remote(s, path, NULL, NULL, ret_id, err);
}

int store_import_aci_remote(struct store *s, const char *path, const char *url, const struct index_remote *row,
                            char **ret_id, podrun_error_t *err)
{
  _cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;

  if (src < 0)
    return podrun_error_set(err, errno, "fetch %s", QUOTE(path));
  if (fstat(src, &st) < 0)
    return podrun_error_set(err, errno, "fetch %s", QUOTE(path));
  if (!S_ISREG(st.st_mode)) /* errno says nothing here: it is what the last call left */
    return podrun_error_new(err, EINVAL, "fetch %s: not a regular file", QUOTE(path));
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  int r = import_fd(s, src, ret_id, err);
  if (r == 0 && url)
    {
      /* under the same lock as the import: an image rm cannot come between
       * and leave the row naming an image that is gone */
      struct index_remote rec = *row;
      rec.image_id = *ret_id;
      r = index_set_remote_row(s->idx, url, &rec, err);
      if (r < 0)
        free(TAKE_PTR(*ret_id));
    }
  store_unlock(s);
  return r < 0 ? podrun_error_wrap(err, "fetch %s", QUOTE(path)) : 0;
}

int store_import_aci_cached(struct store *s, const char *path, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *abs = realpath(path, NULL), *url = NULL, *etag = NULL, *id = NULL, *old_etag = NULL;
  _cleanup_store_image_ struct store_image *img = NULL;
  struct stat st;

  if (!abs || stat(abs, &st) < 0)
    return podrun_error_set(err, errno, "fetch %s", QUOTE(path));
  url = xasprintf("file://%s", abs);
  /* the file's identity: a rewrite, a touch, a chmod or another file renamed over it changes it */
  etag = xasprintf("%lld-%lld.%09ld-%lld.%09ld-%llu:%llu", (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                   st.st_mtim.tv_nsec, (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
                   (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
  if (index_get_remote(s->idx, url, &id, &old_etag, err) < 0)
    return -1;
  if (id && streq_ptr(etag, old_etag) && index_get_image(s->idx, id, &img, err) == 0 && img)
    return *ret_id = TAKE_PTR(id), 0;
  free(id);
  id = NULL;
  struct index_remote row = { .etag = etag };
  if (store_import_aci_remote(s, abs, s->readonly ? NULL : url, &row, &id, err) < 0)
    return -1;
  *ret_id = TAKE_PTR(id);
  return 0;
}

int store_output_open(const char *out, bool overwrite, char **ret_tmp, int *ret_fd, podrun_error_t *err)
{
  if (!overwrite && access(out, F_OK) == 0)
    return podrun_error_new(err, EEXIST, "export to %s: it exists (use --overwrite to replace it)", QUOTE(out));
  /* a fresh file of an unguessable name: never one someone else put there */
  for (int i = 0; i < 100; i++)
    {
      char rnd[13];
      random_chars(rnd, sizeof(rnd) - 1);
      *ret_tmp = xasprintf("%s" STORE_TMP_PREFIX "%s", out, rnd);
      *ret_fd = open(*ret_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (*ret_fd >= 0)
        return 0;
      int e = errno;
      free(*ret_tmp);
      if (e != EEXIST)
        return podrun_error_set(err, e, "export to %s", QUOTE(out));
    }
  return podrun_error_set(err, EEXIST, "export to %s", QUOTE(out));
}

int store_output_finish(int fd, char *tmp, const char *out, bool ok, podrun_error_t *err)
{
  int r = 0;
  if (ok && (fsync(fd) < 0 || rename(tmp, out) < 0))
    r = podrun_error_set(err, errno, "export to %s", QUOTE(out));
  if (!ok || r < 0)
    (void) unlink(tmp);
  close(fd);
  free(tmp);
  return ok ? r : -1;
}

/* An OCI image as an ACI: its layers squashed under rootfs/, the appc
 * manifest derived from its config. */
static int export_squashed(struct store *s, const struct store_image *img, const char *out, bool overwrite,
                           podrun_error_t *err)
{
  _cleanup_close_ int mnt = -1;
  _cleanup_free_ char *root = NULL;
  if (store_squashed_root(s, img, &root, &mnt, err) < 0)
    return -1;
  return store_write_aci(root, img->manifest, out, overwrite, err);
}

int store_export(struct store *s, const char *id, const char *out, bool overwrite, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_close_ int blob = -1;
  char *tmp;
  int dst;

  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  int r = index_get_image(s->idx, id, &img, err);
  if (r >= 0 && img && streq_ptr(img->format, "oci"))
    {
      r = export_squashed(s, img, out, overwrite, err);
      store_unlock(s);
      return r;
    }
  if (r >= 0)
    r = store_blob_open(s, id, &blob, err);
  if (r >= 0 && (r = store_output_open(out, overwrite, &tmp, &dst, err)) >= 0)
    {
      bool ok = fs_copy_fd(blob, dst, err) >= 0;
      if (!ok)
        podrun_error_wrap(err, "export to %s", QUOTE(out));
      r = store_output_finish(dst, tmp, out, ok, err);
    }
  store_unlock(s);
  return r;
}
