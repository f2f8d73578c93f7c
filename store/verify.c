/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image verify's half in the store: every blob of an image hashed again
 * against its digest, every layer tree walked against the record of its
 * extraction (store/tree.h), and the detached signature an image was
 * verified with kept as a blob to check it again. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fs.h"
#include "store-internal.h"
#include "tree.h"

#define SIGNATURE_MAX (16 * 1024 * 1024) /* as trust_verify takes */
#define HASH_BLOCK (256 * 1024)

int store_keep_signature(struct store *s, const char *id, int sig_fd, podrun_error_t *err)
{
  _cleanup_free_ char *buf = NULL, *digest = NULL, *old = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  size_t len = 0;
  int r;

  if (s->readonly)
    return podrun_error_new(err, EROFS, "keep the signature of %s: the store is open read-only", id);
  buf = xmalloc(SIGNATURE_MAX + 1);
  for (;;)
    {
      ssize_t n = pread(sig_fd, buf + len, SIGNATURE_MAX + 1 - len, (off_t) len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "keep the signature of %s: read it", id);
      if (n == 0)
        break;
      len += (size_t) n;
      if (len > SIGNATURE_MAX)
        return podrun_error_new(err, EFBIG, "keep the signature of %s: larger than %d bytes", id, SIGNATURE_MAX);
    }
  if (tree_sha256(buf, len, &digest, err) < 0 || store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = index_get_signature(s->idx, id, &old, err);
  if (r >= 0)
    r = store_blob_put(s, digest, buf, len, err);
  if (r >= 0)
    r = index_set_signature(s->idx, id, digest, err);
  store_keep_created(s);
  store_unlock(s);
  /* the one it replaces (a fetch again, signed anew), unless a row still
   * names it: under the exclusive lock, a failure leaving it to gc */
  if (r >= 0 && old && !streq(old, digest) && store_lock(s, LOCK_MODE_EXCLUSIVE, &ignored) == 0)
    {
      (void) store_remove_dead_blob(s, old, &ignored);
      store_unlock(s);
    }
  return r;
}

int store_open_signature(struct store *s, const char *id, int *ret_fd, podrun_error_t *err)
{
  _cleanup_free_ char *digest = NULL;
  *ret_fd = -1;
  if (index_get_signature(s->idx, id, &digest, err) < 0)
    return -1;
  if (!digest)
    return 0;
  if (store_blob_open(s, digest, ret_fd, err) < 0)
    return podrun_error_wrap(err, "its signature");
  return 0;
}

/* ---- a docker:// image's policy decision ---------------------------------- */

void store_policy_done(struct store_policy *p)
{
  free(p->reference);
  free(p->decision);
  free(p->list);
  for (size_t i = 0; i < p->n; i++)
    free(p->sigs[i]);
  free(p->sigs);
  free(p->lens);
  strv_free(p->sig_digests);
  *p = (struct store_policy){ 0 };
}

/* Puts the blobs and the rows (under the shared lock); *rec's strings are the new record. */
static int keep_policy_locked(struct store *s, const char *id, const struct store_policy *p,
                              struct index_policy_record *rec, struct index_policy_record *ret_old,
                              podrun_error_t *err)
{
  if (p->list && (tree_sha256(p->list, p->list_len, &rec->list_digest, err) < 0 ||
                  store_blob_put(s, rec->list_digest, p->list, p->list_len, err) < 0))
    return -1;
  for (size_t i = 0; i < p->n; i++)
    {
      _cleanup_free_ char *digest = NULL;
      if (tree_sha256(p->sigs[i], p->lens[i], &digest, err) < 0 ||
          store_blob_put(s, digest, p->sigs[i], p->lens[i], err) < 0)
        return -1;
      rec->signatures = strv_push(rec->signatures, digest);
    }
  return index_set_policy_record(s->idx, id, rec, ret_old, err);
}

int store_keep_policy(struct store *s, const char *id, const struct store_policy *p, podrun_error_t *err)
{
  _cleanup_(index_policy_record_done) struct index_policy_record rec = { .reference = xstrdup(p->reference),
                                                                         .decision = xstrdup(p->decision) };
  _cleanup_(index_policy_record_done) struct index_policy_record old = { 0 };
  _cleanup_error_ podrun_error_t ignored = NULL;
  int r;

  if (s->readonly)
    return podrun_error_new(err, EROFS, "keep the signatures of %s: the store is open read-only", id);
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = keep_policy_locked(s, id, p, &rec, &old, err);
  if (r < 0)
    store_discard_created(s);
  store_keep_created(s);
  store_unlock(s);
  if (r < 0)
    return podrun_error_wrap(err, "keep the signatures of %s", id);
  /* what the image had before and has no more: removed under the exclusive
   * lock (nobody adds a row naming a blob meanwhile); a failure leaves it to gc */
  bool dead = old.list_digest && !streq_ptr(old.list_digest, rec.list_digest);
  for (size_t i = 0; old.signatures && old.signatures[i]; i++)
    dead = dead || !strv_contains(rec.signatures, old.signatures[i]);
  if (!dead || store_lock(s, LOCK_MODE_EXCLUSIVE, &ignored) < 0)
    return 0;
  if (old.list_digest)
    (void) store_remove_dead_blob(s, old.list_digest, &ignored);
  for (size_t i = 0; old.signatures && old.signatures[i]; i++)
    {
      podrun_error_free(&ignored);
      (void) store_remove_dead_blob(s, old.signatures[i], &ignored);
    }
  store_unlock(s);
  return 0;
}

/* A kept blob, read whole: the bytes verified are those that hash to its name. */
static int read_kept(struct store *s, const char *digest, size_t max, const char *what, char **ret, size_t *ret_len,
                     podrun_error_t *err)
{
  _cleanup_free_ char *path = store_blob_path(digest), *buf = NULL, *got = NULL;
  size_t len = 0;
  if (fs_read_file_at(s->dirfd, path, max, &buf, &len, err) < 0)
    return podrun_error_wrap(err, "%s %.19s…", what, digest);
  if (tree_sha256(buf, len, &got, err) < 0)
    return -1;
  if (!streq(got, digest))
    return podrun_error_new(err, EBADMSG, "%s %.19s…: its bytes hash to %.19s…: digest mismatch", what, digest, got);
  *ret = TAKE_PTR(buf);
  *ret_len = len;
  return 0;
}

int store_get_policy(struct store *s, const char *id, struct store_policy *ret, podrun_error_t *err)
{
  _cleanup_(index_policy_record_done) struct index_policy_record rec = { 0 };
  struct store_policy p = { 0 };

  if (index_get_policy_record(s->idx, id, &rec, err) < 0)
    return -1;
  p.reference = TAKE_PTR(rec.reference);
  p.decision = TAKE_PTR(rec.decision);
  p.sig_digests = TAKE_PTR(rec.signatures);
  p.n = strv_length(p.sig_digests);
  p.sigs = xzalloc(sizeof(*p.sigs) * (p.n + 1));
  p.lens = xzalloc(sizeof(*p.lens) * (p.n + 1));
  if (rec.list_digest &&
      read_kept(s, rec.list_digest, STORE_POLICY_LIST_MAX, "manifest list", &p.list, &p.list_len, err) < 0)
    goto fail;
  for (size_t i = 0; i < p.n; i++)
    if (read_kept(s, p.sig_digests[i], STORE_POLICY_SIGNATURE_MAX, "signature", &p.sigs[i], &p.lens[i], err) < 0)
      goto fail;
  *ret = p;
  return 0;
fail:
  store_policy_done(&p);
  return -1;
}

int store_open_aci(struct store *s, const char *id, int *ret_fd, podrun_error_t *err)
{
  return store_blob_open(s, id, ret_fd, err);
}

static void md_freep(EVP_MD_CTX **m)
{
  if (*m)
    sym_EVP_MD_CTX_free(*m);
}

/* The blob hashes to its name. */
static int check_blob(struct store *s, const char *digest, const char *what, podrun_error_t *err)
{
  _cleanup_free_ char *path = store_blob_path(digest), *buf = xmalloc(HASH_BLOCK);
  _cleanup_(md_freep) EVP_MD_CTX *m = NULL;
  _cleanup_close_ int fd = openat(s->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  unsigned char md[EVP_MAX_MD_SIZE];
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  const char *want = NULL;
  unsigned len = 0;

  if (!store_digest_hex_len(digest, &want))
    return podrun_error_new(err, EINVAL, "%s %s: not a digest", what, QUOTE(digest));
  if (fd < 0)
    return podrun_error_set(err, errno, "%s %s", what, QUOTE(digest));
  if (dl_load_crypto(err) < 0)
    return -1;
  if (!(m = sym_EVP_MD_CTX_new()) ||
      sym_EVP_DigestInit_ex(m, startswith(digest, "sha256-") ? sym_EVP_sha256() : sym_EVP_sha512(), NULL) != 1)
    return podrun_error_new(err, ENOMEM, "initialise a digest");
  for (;;)
    {
      ssize_t n = read(fd, buf, HASH_BLOCK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "%s %s: read", what, QUOTE(digest));
      if (n == 0)
        break;
      if (sym_EVP_DigestUpdate(m, buf, (size_t) n) != 1)
        return podrun_error_new(err, EIO, "digest failed");
    }
  if (sym_EVP_DigestFinal_ex(m, md, &len) != 1)
    return podrun_error_new(err, EIO, "digest failed");
  for (unsigned i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  if (!streq(hex, want))
    return podrun_error_new(err, EBADMSG, "%s %.19s…: its bytes hash to %.12s…: digest mismatch", what, digest, hex);
  return 0;
}

/* The layer's tree, if it was extracted, against its record. */
static int check_tree(struct store *s, const char *digest, podrun_error_t *err)
{
  _cleanup_free_ char *dir = xasprintf(STORE_LAYER_DIR "/%s", digest), *root = xasprintf("%s/rootfs", dir);
  _cleanup_free_ char *recorded = NULL, *now = NULL, *now_rec = NULL, *was_rec = NULL, *was_digest = NULL;
  _cleanup_free_ char *rec_path = xasprintf("%s/" TREE_RECORD_FILE, dir), *diff = NULL;
  _cleanup_close_ int fd = openat(s->dirfd, root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  size_t now_len = 0, was_len = 0;

  if (fd < 0 && errno == ENOENT)
    return 0; /* not extracted (yet): nothing but the blob to check */
  if (fd < 0)
    return podrun_error_set(err, errno, "layer tree %.19s…", digest);
  if (index_get_layer_tree(s->idx, digest, &recorded, err) < 0)
    return -1;
  if (!recorded)
    return podrun_error_new(err, ENOENT,
                            "layer tree %.19s…: no record of its extraction (extracted by an older podrun: remove the "
                            "image and fetch it again to have one)",
                            digest);
  if (tree_digest_at(fd, NULL, &now, &now_rec, &now_len, err) < 0)
    return podrun_error_wrap(err, "layer tree %.19s…", digest);
  if (streq(now, recorded))
    return 0;
  /* what differs, from the record beside the tree, if it is the recorded one */
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (fs_read_file_at(s->dirfd, rec_path, 1ULL << 30, &was_rec, &was_len, &ignored) == 0 &&
      tree_sha256(was_rec, was_len, &was_digest, &ignored) == 0 && streq(was_digest, recorded))
    diff = tree_record_diff(was_rec, was_len, now_rec, now_len);
  return podrun_error_new(err, EBADMSG, "layer tree %.19s…: %s", digest,
                          diff ? diff : "differs from what was extracted");
}

static int check_layer(struct store *s, const char *digest, podrun_error_t *err)
{
  if (check_blob(s, digest, "layer", err) < 0)
    return -1;
  return check_tree(s, digest, err);
}

/* The blobs a docker:// image's signature check needs: its manifest list, its signatures. */
static int check_kept(struct store *s, const char *id, podrun_error_t *err)
{
  _cleanup_(index_policy_record_done) struct index_policy_record rec = { 0 };
  if (index_get_policy_record(s->idx, id, &rec, err) < 0 ||
      (rec.list_digest && check_blob(s, rec.list_digest, "manifest list", err) < 0))
    return -1;
  for (size_t i = 0; rec.signatures && rec.signatures[i]; i++)
    if (check_blob(s, rec.signatures[i], "signature", err) < 0)
      return -1;
  return 0;
}

static int verify_locked(struct store *s, const struct store_image *img, podrun_error_t *err)
{
  struct store_layer *v = NULL;
  size_t n = 0;
  int r = 0;

  if (!streq_ptr(img->format, "oci"))
    return check_layer(s, img->id, err); /* an ACI is one layer, its own blob */
  if (check_blob(s, img->id, "config", err) < 0 ||
      (img->manifest_digest && check_blob(s, img->manifest_digest, "manifest", err) < 0) ||
      check_kept(s, img->id, err) < 0 || index_image_layers(s->idx, img->id, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; r >= 0 && i < n; i++)
    r = check_layer(s, v[i].digest, err);
  store_layer_list_free(v, n);
  return r;
}

int store_verify_image(struct store *s, const char *id, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  int r;

  if (index_get_image(s->idx, id, &img, err) < 0)
    return -1;
  if (!img)
    return podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(id));
  /* not under the store's lock when it is read-only (it has none): then
   * an image removed meanwhile shows as missing files */
  if (!s->readonly && store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = verify_locked(s, img, err);
  if (!s->readonly)
    store_unlock(s);
  return r;
}
