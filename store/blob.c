/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blobs that come by digest (an OCI image's manifest, config and layers):
 * written to cas/blob/partial/<digest> while they arrive, hashed as they are
 * written, and linked into cas/blob/<alg>/ only when complete and matching
 * their digest. A partial file is flocked by its writer; one that a killed
 * fetch left is resumed by the next writer (its bytes hashed again) or swept
 * by image gc. */
#include "dl.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fs.h"
#include "store-internal.h"

#define HASH_BLOCK (256 * 1024)

struct store_blob_writer
{
  struct store *s;
  char *digest;  /* "sha256-…" */
  char *partial; /* relative to the store */
  int fd;
  EVP_MD_CTX *md;
  uint64_t size; /* what the blob must be */
  uint64_t have;
};

bool store_blob_exists(struct store *s, const char *digest)
{
  _cleanup_free_ char *p = store_blob_path(digest);
  struct stat st;
  return fstatat(s->dirfd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static const EVP_MD *digest_md(const char *digest)
{
  return startswith(digest, "sha256-") ? sym_EVP_sha256() : sym_EVP_sha512();
}

static int hash_reset(struct store_blob_writer *w, podrun_error_t *err)
{
  if (sym_EVP_DigestInit_ex(w->md, digest_md(w->digest), NULL) != 1)
    return podrun_error_new(err, ENOMEM, "initialise a digest");
  w->have = 0;
  return 0;
}

/* What a killed writer left: hashed again, so the digest covers every byte. */
static int hash_existing(struct store_blob_writer *w, podrun_error_t *err)
{
  _cleanup_free_ char *buf = xmalloc(HASH_BLOCK);
  struct stat st;

  if (fstat(w->fd, &st) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(w->partial));
  if ((uint64_t) st.st_size > w->size)
    return store_blob_writer_restart(w, err);
  for (;;)
    {
      ssize_t n = pread(w->fd, buf, HASH_BLOCK, (off_t) w->have);
      if (n < 0)
        return podrun_error_set(err, errno, "read %s", QUOTE(w->partial));
      if (n == 0)
        break;
      if (sym_EVP_DigestUpdate(w->md, buf, (size_t) n) != 1)
        return podrun_error_new(err, 0, "digest failed");
      w->have += (uint64_t) n;
    }
  if (lseek(w->fd, (off_t) w->have, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(w->partial));
  return 0;
}

void store_blob_writer_free(struct store_blob_writer *w, bool keep_partial)
{
  if (!w)
    return;
  if (!keep_partial && w->partial)
    (void) unlinkat(w->s->dirfd, w->partial, 0);
  if (w->fd >= 0)
    close(w->fd);
  if (w->md)
    sym_EVP_MD_CTX_free(w->md);
  free(w->digest);
  free(w->partial);
  free(w);
}

int store_blob_writer_open(struct store *s, const char *digest, uint64_t size, struct store_blob_writer **ret,
                           podrun_error_t *err)
{
  struct store_blob_writer *w;

  *ret = NULL;
  if (!store_id_is_full(digest))
    return podrun_error_new(err, EINVAL, "blob %s: not a digest", QUOTE(digest));
  if (dl_load_crypto(err) < 0)
    return -1;
  w = xzalloc(sizeof(*w));
  w->s = s;
  w->digest = xstrdup(digest);
  w->partial = xasprintf(STORE_PARTIAL_DIR "/%s", digest);
  w->size = size;
  w->fd = -1;
  if (!(w->md = sym_EVP_MD_CTX_new()) || hash_reset(w, err) < 0)
    goto fail;
  for (;;)
    {
      struct stat a, b;
      w->fd = openat(s->dirfd, w->partial, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (w->fd < 0)
        {
          podrun_error_set(err, errno, "create %s", QUOTE(w->partial));
          goto fail;
        }
      /* a second fetch of the same blob waits for the first */
      if (flock(w->fd, LOCK_EX) < 0)
        {
          podrun_error_set(err, errno, "lock %s", QUOTE(w->partial));
          goto fail;
        }
      /* still the file of that name (not one its writer finished and renamed) */
      bool named = fstat(w->fd, &a) == 0 && fstatat(s->dirfd, w->partial, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
                   a.st_ino == b.st_ino && a.st_dev == b.st_dev;
      if (store_blob_exists(s, digest))
        {
          /* another writer finished it; a partial of that name we hold the
           * lock of is one made after (by us): nothing needs it */
          if (named)
            (void) unlinkat(s->dirfd, w->partial, 0);
          close(w->fd);
          w->fd = -1;
          free(TAKE_PTR(w->partial));
          store_blob_writer_free(w, true);
          return 0;
        }
      if (named)
        break;
      close(w->fd);
      w->fd = -1;
    }
  if (hash_existing(w, err) < 0)
    goto fail;
  *ret = w;
  return 0;
fail:
  store_blob_writer_free(w, true);
  return podrun_error_wrap(err, "blob %s", QUOTE(digest));
}

uint64_t store_blob_writer_offset(const struct store_blob_writer *w)
{
  return w->have;
}

int store_blob_writer_write(struct store_blob_writer *w, const void *buf, size_t n, podrun_error_t *err)
{
  if (n > w->size - w->have)
    return podrun_error_new(err, EFBIG, "blob %s: larger than its %llu bytes: digest mismatch", QUOTE(w->digest),
                            (unsigned long long) w->size);
  if (sym_EVP_DigestUpdate(w->md, buf, n) != 1)
    return podrun_error_new(err, 0, "digest failed");
  if (fs_write_all(w->fd, buf, n, err) < 0)
    return podrun_error_wrap(err, "write %s", QUOTE(w->partial));
  w->have += n;
  return 0;
}

int store_blob_writer_restart(struct store_blob_writer *w, podrun_error_t *err)
{
  if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "truncate %s", QUOTE(w->partial));
  return hash_reset(w, err);
}

int store_blob_writer_commit(struct store_blob_writer *w, podrun_error_t *err)
{
  _cleanup_free_ char *final = store_blob_path(w->digest);
  _cleanup_free_ char *dir = xstrndup(final, (size_t) (strrchr(final, '/') - final));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  const char *want = NULL;

  store_digest_hex_len(w->digest, &want);
  if (w->have != w->size)
    return podrun_error_new(err, EIO, "blob %s: truncated: %llu of %llu bytes", QUOTE(w->digest),
                            (unsigned long long) w->have, (unsigned long long) w->size);
  if (sym_EVP_DigestFinal_ex(w->md, md, &len) != 1)
    return podrun_error_new(err, 0, "digest failed");
  for (unsigned i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  if (!streq(hex, want))
    {
      (void) unlinkat(w->s->dirfd, w->partial, 0);
      return podrun_error_new(err, EBADMSG, "blob %s: digest mismatch (its bytes hash to %.12s…)", QUOTE(w->digest),
                              hex);
    }
  if (fsync(w->fd) < 0)
    return podrun_error_set(err, errno, "sync %s", QUOTE(w->partial));
  if (mkdirat(w->s->dirfd, dir, 0755) < 0 && errno != EEXIST)
    return podrun_error_set(err, errno, "mkdir %s", QUOTE(dir));
  if (renameat(w->s->dirfd, w->partial, w->s->dirfd, final) < 0)
    return podrun_error_set(err, errno, "rename into %s", QUOTE(final));
  _cleanup_close_ int dfd = openat(w->s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    (void) fsync(dfd);
  free(TAKE_PTR(w->partial)); /* renamed: nothing left to remove */
  w->s->created_blobs = strv_push(w->s->created_blobs, w->digest);
  return 0;
}

int store_blob_put(struct store *s, const char *digest, const void *buf, size_t len, podrun_error_t *err)
{
  struct store_blob_writer *w = NULL;
  if (store_blob_writer_open(s, digest, len, &w, err) < 0)
    return -1;
  if (!w)
    return 0;
  int r = store_blob_writer_write(w, buf, len, err);
  if (r >= 0)
    r = store_blob_writer_commit(w, err);
  store_blob_writer_free(w, false);
  return r;
}
