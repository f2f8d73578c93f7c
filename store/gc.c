/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Garbage collection: images unused for the grace period, then whatever an
 * interrupted command left: temporary blobs and trees, blobs and trees with
 * no index row. Runs under the exclusive store lock, so nothing it sees as a
 * leftover can be in use by a running import or render. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fs.h"
#include "store-internal.h"

void store_gc_report_done(struct store_gc_report *r)
{
  strv_free(r->removed_images);
  r->removed_images = NULL;
  r->leftovers = 0;
}

enum entry_kind
{
  ENTRY_TREE,  /* cas/tree/<image id> */
  ENTRY_LAYER, /* cas/layer/<digest> */
  ENTRY_BLOB,  /* cas/blob/<alg>/<2 hex>/<hex> */
};

/* Is `name` (in dir, of that kind) an entry some row of the index names? */
static int entry_is_live(struct store *s, const char *alg, const char *name, enum entry_kind kind, bool *ret,
                         podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *id = kind == ENTRY_BLOB ? xasprintf("%s-%s", alg, name) : xstrdup(name);

  *ret = false;
  if (!store_id_is_full(id))
    return 0;
  switch (kind)
    {
    case ENTRY_TREE:
      if (index_get_image(s->idx, id, &img, err) < 0)
        return -1;
      *ret = img != NULL;
      return 0;
    case ENTRY_LAYER:
      return index_layer_is_live(s->idx, id, ret, err);
    case ENTRY_BLOB:
      return index_blob_is_live(s->idx, id, ret, err);
    }
  return 0;
}

/* *ret = NULL (and 0) when dir does not exist. */
static int open_store_dir(struct store *s, const char *dir, DIR **ret, podrun_error_t *err)
{
  int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  *ret = fd >= 0 ? fdopendir(fd) : NULL;
  if (*ret || (fd < 0 && errno == ENOENT))
    return 0;
  int e = errno;
  if (fd >= 0)
    close(fd);
  return podrun_error_set(err, e, "open %s", QUOTE(dir));
}

/* Removes every entry of dir (relative to the store) that is not live. */
static int sweep_dir(struct store *s, const char *dir, const char *alg, enum entry_kind kind, size_t *count,
                     podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;

  if (open_store_dir(s, dir, &d, err) < 0)
    return -1;
  while (d && (de = readdir(d)))
    {
      bool live = false;
      if (streq(de->d_name, ".") || streq(de->d_name, ".."))
        continue;
      if (entry_is_live(s, alg, de->d_name, kind, &live, err) < 0)
        return -1;
      if (live)
        continue;
      if (fs_rm_rf_at(dirfd(d), de->d_name, err) < 0)
        return podrun_error_wrap(err, "sweep %s", QUOTE(dir));
      (*count)++;
    }
  return 0;
}

/* cas/blob/<alg>/<2 hex>/…; anything else in an algorithm's directory is a
 * leftover (a temporary blob of a filesystem without O_TMPFILE). */
static int sweep_blobs(struct store *s, const char *alg, size_t *count, podrun_error_t *err)
{
  _cleanup_free_ char *dir = xasprintf(STORE_BLOB_ROOT "/%s", alg);
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;

  if (open_store_dir(s, dir, &d, err) < 0)
    return -1;
  while (d && (de = readdir(d)))
    {
      if (streq(de->d_name, ".") || streq(de->d_name, ".."))
        continue;
      _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
      bool fanout = de->d_type == DT_DIR && strlen(de->d_name) == 2;
      if (fanout ? sweep_dir(s, sub, alg, ENTRY_BLOB, count, err) < 0 : fs_rm_rf_at(s->dirfd, sub, err) < 0)
        return -1;
      if (!fanout)
        (*count)++;
    }
  return 0;
}

/* Downloads a killed fetch left: those whose writer's lock no one holds. */
static int sweep_partials(struct store *s, size_t *count, podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;

  if (open_store_dir(s, STORE_PARTIAL_DIR, &d, err) < 0)
    return -1;
  while (d && (de = readdir(d)))
    {
      if (streq(de->d_name, ".") || streq(de->d_name, ".."))
        continue;
      _cleanup_close_ int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
        continue; /* a fetch is at it */
      if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
        return podrun_error_set(err, errno, "sweep %s/%s", STORE_PARTIAL_DIR, QUOTE(de->d_name));
      (*count)++;
    }
  return 0;
}

static int remove_unused(struct store *s, int64_t grace_usec, char *const *keep, struct store_gc_report *rep,
                         podrun_error_t *err)
{
  struct store_image **v = NULL;
  size_t n = 0;
  int64_t cutoff = store_now_usec() - grace_usec;
  int r = 0;

  if (index_list_images(s->idx, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && r >= 0; i++)
    {
      if (v[i]->last_used > cutoff || strv_contains(keep, v[i]->id))
        continue;
      r = store_remove_locked(s, v[i]->id, err);
      if (r >= 0)
        rep->removed_images = strv_push(rep->removed_images, v[i]->id);
    }
  store_image_list_free(v, n);
  return r;
}

int store_gc(struct store *s, int64_t grace_usec, char *const *keep, struct store_gc_report *ret,
             podrun_error_t *err)
{
  struct store_gc_report rep = { 0 };
  int r;

  if (store_lock(s, LOCK_MODE_EXCLUSIVE, err) < 0)
    return -1;
  r = remove_unused(s, grace_usec, keep, &rep, err);
  if (r >= 0)
    r = sweep_dir(s, STORE_TREE_DIR, NULL, ENTRY_TREE, &rep.leftovers, err);
  if (r >= 0)
    r = sweep_dir(s, STORE_LAYER_DIR, NULL, ENTRY_LAYER, &rep.leftovers, err);
  if (r >= 0)
    r = sweep_partials(s, &rep.leftovers, err);
  if (r >= 0)
    r = sweep_blobs(s, "sha512", &rep.leftovers, err);
  if (r >= 0)
    r = sweep_blobs(s, "sha256", &rep.leftovers, err);
  store_unlock(s);
  if (r < 0)
    {
      store_gc_report_done(&rep);
      return podrun_error_wrap(err, "image gc");
    }
  *ret = rep;
  return 0;
}
