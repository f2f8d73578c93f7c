/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "store-internal.h"

int64_t store_now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

size_t store_digest_hex_len(const char *digest, const char **ret_hex)
{
  const char *hex;
  size_t want;
  if ((hex = startswith(digest, "sha512-")))
    want = SHA512_HEX_LEN;
  else if ((hex = startswith(digest, "sha256-")))
    want = SHA256_HEX_LEN;
  else
    return 0;
  if (ret_hex)
    *ret_hex = hex;
  return want;
}

bool store_id_is_full(const char *id)
{
  const char *hex;
  size_t want = store_digest_hex_len(id, &hex);
  return want && strlen(hex) == want && strspn(hex, "0123456789abcdef") == want;
}

/* Layer trees hold what OCI images carry, setuid files included: no one but
 * root may walk into them (the pods see them through their own mounts). */
static int store_create_layout(const char *dir, podrun_error_t *err)
{
  static const struct
  {
    const char *path;
    mode_t mode;
  } subdirs[] = {
    { STORE_BLOB_DIR, 0755 },   { STORE_BLOB_ROOT "/sha256", 0755 }, { STORE_PARTIAL_DIR, 0700 },
    { STORE_TREE_DIR, 0755 },   { STORE_LAYER_DIR, 0700 },           { "locks", 0755 },
  };
  for (size_t i = 0; i < ELEMENTSOF(subdirs); i++)
    {
      _cleanup_free_ char *p = xasprintf("%s/%s", dir, subdirs[i].path);
      if (fs_mkdir_p(p, subdirs[i].mode, err) < 0)
        return -1;
    }
  return 0;
}

int store_open(const char *dir, unsigned flags, struct store **ret, podrun_error_t *err)
{
  _cleanup_free_ char *idx_path = xasprintf("%s/cas/index.db", dir);
  struct store *s;

  if (!(flags & STORE_READONLY) && store_create_layout(dir, err) < 0)
    return podrun_error_wrap(err, "store %s", QUOTE(dir));

  s = xzalloc(sizeof(*s));
  s->dir = xstrdup(dir);
  s->readonly = flags & STORE_READONLY;
  s->lockfd = -1;
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    {
      podrun_error_set(err, errno, "store %s", QUOTE(dir));
      goto fail;
    }
  if (!s->readonly)
    {
      s->lockfd = openat(s->dirfd, "locks/store", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (s->lockfd < 0)
        {
          podrun_error_set(err, errno, "store %s: open lock", QUOTE(dir));
          goto fail;
        }
    }
  if (index_open(idx_path, s->readonly, &s->idx, err) < 0)
    goto fail;
  *ret = s;
  return 0;
fail:
  store_close(s);
  return -1;
}

void store_close(struct store *s)
{
  if (!s)
    return;
  store_keep_created(s);
  if (s->idx)
    index_close(s->idx);
  if (s->lockfd >= 0)
    close(s->lockfd);
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s->dir);
  free(s);
}

int store_lock(struct store *s, enum lock_mode mode, podrun_error_t *err)
{
  if (s->readonly)
    return podrun_error_new(err, EROFS, "store %s is open read-only", QUOTE(s->dir));
  if (lock_fd(s->lockfd, mode, false, err) < 0)
    return podrun_error_wrap(err, "store %s", QUOTE(s->dir));
  return 0;
}

void store_unlock(struct store *s)
{
  if (s->lockfd >= 0)
    (void) flock(s->lockfd, LOCK_UN);
}

/* fd is what dirfd/name names now (not a directory a sweeper removed, nor
 * another one made under its name since). */
static bool is_named(int dirfd, const char *name, int fd)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

int store_mkdtemp_at(int dirfd, const char *parent, const char *prefix, char **ret, int *ret_fd,
                     podrun_error_t *err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      char rnd[17];
      random_chars(rnd, sizeof(rnd) - 1);
      _cleanup_free_ char *p = xasprintf("%s/%s%s", parent, prefix, rnd);
      if (mkdirat(dirfd, p, 0755) < 0)
        {
          if (errno == EEXIST)
            continue;
          return podrun_error_set(err, errno, "create temporary directory in %s", QUOTE(parent));
        }
      _cleanup_close_ int fd = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0)
        continue; /* a sweeper took it between mkdir and open */
      /* not ours if a sweeper locked it first (it removes it) or already did */
      if (flock(fd, LOCK_EX | LOCK_NB) < 0 || !is_named(dirfd, p, fd))
        continue;
      *ret = TAKE_PTR(p);
      *ret_fd = TAKE_FD(fd);
      return 0;
    }
  return podrun_error_set(err, EEXIST, "create temporary directory in %s", QUOTE(parent));
}

int store_sweep_tmp_at(int dirfd, const char *parent, const char *prefix, podrun_error_t *err)
{
  _cleanup_close_ int pfd = openat(dirfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = pfd >= 0 ? fdopendir(fcntl(pfd, F_DUPFD_CLOEXEC, 0)) : NULL;
  struct dirent *de;

  if (!d)
    return podrun_error_set(err, errno, "open %s", QUOTE(parent));
  while ((de = readdir(d)))
    {
      if (!startswith(de->d_name, prefix))
        continue;
      _cleanup_close_ int fd = openat(pfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      /* locked: its maker is at work; held while it goes, so no maker takes it meanwhile */
      if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || !is_named(pfd, de->d_name, fd))
        continue;
      if (fs_rm_rf_at(pfd, de->d_name, err) < 0)
        return podrun_error_wrap(err, "remove what a killed render left");
    }
  return 0;
}

int store_list(struct store *s, struct store_image ***ret, size_t *ret_n, podrun_error_t *err)
{
  if (index_list_images(s->idx, ret, ret_n, err) < 0)
    return -1;
  for (size_t i = 0; i < *ret_n; i++)
    {
      struct store_image *img = (*ret)[i];
      if (index_image_usage(s->idx, img->id, &img->size, &img->shared, err) < 0)
        {
          store_image_list_free(*ret, *ret_n);
          return -1;
        }
    }
  return 0;
}

static int pick_one(struct store_image **v, size_t n, const char *ref, const char *what,
                    struct store_image **ret, podrun_error_t *err)
{
  if (n == 0)
    {
      store_image_list_free(v, n);
      return podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(ref));
    }
  if (n > 1 && what)
    {
      store_image_list_free(v, n);
      return podrun_error_set(err, 0, "image %s: %s matches %zu images; give more of it", QUOTE(ref), what, n);
    }
  *ret = v[0];
  v[0] = NULL;
  store_image_list_free(v, n);
  return 0;
}

int store_resolve(struct store *s, const char *ref, struct store_image **ret, podrun_error_t *err)
{
  struct store_image **v = NULL;
  size_t n = 0;
  const char *hex = NULL;
  size_t hex_len = store_digest_hex_len(ref, &hex);

  if (hex_len)
    {
      if (*hex == '\0' || strspn(hex, "0123456789abcdef") != strlen(hex) || strlen(hex) > hex_len)
        return podrun_error_set(err, 0, "image %s: not a valid image id", QUOTE(ref));
      /* a whole id: the index's key, no scan */
      if (strlen(hex) == hex_len)
        {
          if (index_get_image(s->idx, ref, ret, err) < 0)
            return -1;
          return *ret ? 0 : podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(ref));
        }
      if (index_find_by_id_prefix(s->idx, ref, &v, &n, err) < 0)
        return -1;
      return pick_one(v, n, ref, "id prefix", ret, err);
    }

  /* NAME:VERSION; a docker name's host may have a port (HOST:PORT/REPO:TAG) */
  _cleanup_free_ char *name = xstrdup(ref);
  char *colon = strrchr(name, ':');
  if (colon && strchr(colon, '/'))
    colon = NULL;
  if (colon)
    *colon++ = '\0';
  if (*name == '\0' || (colon && *colon == '\0'))
    return podrun_error_set(err, 0, "image %s: not a valid image name", QUOTE(ref));
  if (index_find_by_name(s->idx, name, colon, &v, &n, err) < 0)
    return -1;
  /* an OCI image imported again under another name has that name in refs */
  if (n == 0)
    {
      struct store_image *img = NULL;
      if (store_get_ref(s, ref, &img, err) < 0)
        return -1;
      if (img)
        return *ret = img, 0;
    }
  /* Like rkt: a bare name means the most recently imported image of it. */
  return pick_one(v, n, ref, NULL, ret, err);
}

/* A blob no row names any more (a crash between here and the unlink leaves
 * it to gc). */
int store_remove_dead_blob(struct store *s, const char *digest, podrun_error_t *err)
{
  _cleanup_free_ char *blob = store_blob_path(digest);
  bool live = false;
  if (index_blob_is_live(s->idx, digest, &live, err) < 0)
    return -1;
  if (!live && unlinkat(s->dirfd, blob, 0) < 0 && errno != ENOENT)
    return podrun_error_set(err, errno, "remove %s", QUOTE(blob));
  return 0;
}

void store_keep_created(struct store *s)
{
  strv_free(TAKE_PTR(s->created_blobs));
  strv_free(TAKE_PTR(s->created_layers));
}

void store_discard_created(struct store *s)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  bool live = false;

  for (size_t i = 0; s->created_layers && s->created_layers[i]; i++)
    if (index_layer_is_live(s->idx, s->created_layers[i], &live, &ignored) == 0 && !live)
      {
        _cleanup_free_ char *layer = xasprintf(STORE_LAYER_DIR "/%s", s->created_layers[i]);
        (void) fs_rm_rf_at(s->dirfd, layer, &ignored);
        podrun_error_free(&ignored);
      }
  for (size_t i = 0; s->created_blobs && s->created_blobs[i]; i++)
    {
      (void) store_remove_dead_blob(s, s->created_blobs[i], &ignored);
      podrun_error_free(&ignored);
    }
  store_keep_created(s);
}

int store_remove_locked(struct store *s, const char *id, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *tree = xasprintf(STORE_TREE_DIR "/%s", id);
  _cleanup_strv_ char **orphans = NULL;

  _cleanup_free_ char *sig = NULL;
  _cleanup_(index_policy_record_done) struct index_policy_record kept = { 0 };
  if (index_get_image(s->idx, id, &img, err) < 0 || index_get_signature(s->idx, id, &sig, err) < 0 ||
      index_get_policy_record(s->idx, id, &kept, err) < 0)
    return -1;
  /* The rows go first: from then on the image is gone for everyone, and a
   * crash leaves only files that gc sweeps. */
  if (index_remove_image(s->idx, id, &orphans, err) < 0 || fs_rm_rf_at(s->dirfd, tree, err) < 0 ||
      store_remove_dead_blob(s, id, err) < 0 || (img && img->manifest_digest && store_remove_dead_blob(s, img->manifest_digest, err) < 0) ||
      (sig && store_remove_dead_blob(s, sig, err) < 0) ||
      (kept.list_digest && store_remove_dead_blob(s, kept.list_digest, err) < 0))
    return -1;
  for (size_t i = 0; kept.signatures && kept.signatures[i]; i++)
    if (store_remove_dead_blob(s, kept.signatures[i], err) < 0)
      return -1;
  for (size_t i = 0; orphans && orphans[i]; i++)
    {
      _cleanup_free_ char *layer = xasprintf(STORE_LAYER_DIR "/%s", orphans[i]);
      if (fs_rm_rf_at(s->dirfd, layer, err) < 0 || store_remove_dead_blob(s, orphans[i], err) < 0)
        return -1;
    }
  return 0;
}

int store_get_ref(struct store *s, const char *ref, struct store_image **ret, podrun_error_t *err)
{
  return index_get_ref_image(s->idx, ref, ret, err);
}

int store_get_remote(struct store *s, const char *url, char **ret_id, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *id = NULL, *etag = NULL;

  *ret_id = NULL;
  if (index_get_remote(s->idx, url, &id, &etag, err) < 0 || (id && index_get_image(s->idx, id, &img, err) < 0))
    return -1;
  if (img)
    *ret_id = TAKE_PTR(id);
  return 0;
}

int store_remove(struct store *s, const char *id, podrun_error_t *err)
{
  if (!store_id_is_full(id))
    return podrun_error_new(err, EINVAL, "image %s: not a full image id", QUOTE(id));
  if (store_lock(s, LOCK_MODE_EXCLUSIVE, err) < 0)
    return -1;
  int r = store_remove_locked(s, id, err);
  store_unlock(s);
  return r < 0 ? podrun_error_wrap(err, "remove image %s", QUOTE(id)) : 0;
}
