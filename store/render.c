/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering: an image's rootfs is its appc dependencies' rootfs, in order,
 * with its own on top, filtered by its pathWhitelist. Each blob is read once
 * per render and extracted straight into the target with extract.h's checks. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc.h"
#include "dl.h"
#include "extract.h"
#include "fs.h"
#include "overlay.h"
#include "store-internal.h"
#include "tree.h"

#define MAX_DEPENDENCY_DEPTH 32

struct layers
{
  char **ids; /* bottom first */
};

static bool labels_match(const struct appc_kvs *want, const struct appc_kvs *have)
{
  for (size_t i = 0; i < want->n; i++)
    if (!streq_ptr(appc_kvs_get(have, want->v[i].name), want->v[i].value))
      return false;
  return true;
}

/* The store's image for one dependency: by id when given, else the newest
 * image of that name whose labels carry every label the dependency asks for. */
static int resolve_dependency(struct store *s, const struct appc_dependency *d, char **ret_id,
                              podrun_error_t *err)
{
  struct store_image **v = NULL;
  size_t n = 0;
  int r = -1;

  if (d->image_id)
    r = index_find_by_id_prefix(s->idx, d->image_id, &v, &n, err);
  else
    r = index_find_by_name(s->idx, d->image_name, appc_kvs_get(&d->labels, "version"), &v, &n, err);
  if (r < 0)
    return -1;
  r = -1;
  for (size_t i = 0; i < n && r < 0; i++)
    {
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      if (appc_image_manifest_parse(v[i]->manifest, strlen(v[i]->manifest), &m, &ignored) < 0)
        continue;
      if (streq(m->name, d->image_name) && labels_match(&d->labels, &m->labels))
        {
          *ret_id = xstrdup(v[i]->id);
          r = 0;
        }
    }
  store_image_list_free(v, n);
  if (r < 0)
    return podrun_error_new(err, ENOENT, "dependency %s%s%s: not found in the store (fetch it first)",
                            QUOTE(d->image_name), d->image_id ? " " : "", d->image_id ? d->image_id : "");
  return 0;
}

static int collect_layers(struct store *s, const char *id, unsigned depth, char ***layers, podrun_error_t *err)
{
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  _cleanup_store_image_ struct store_image *img = NULL;

  if (depth > MAX_DEPENDENCY_DEPTH)
    return podrun_error_new(err, ELOOP, "image %s: dependencies nested deeper than %d (a cycle?)", QUOTE(id),
                            MAX_DEPENDENCY_DEPTH);
  if (index_get_image(s->idx, id, &img, err) < 0)
    return -1;
  if (!img)
    return podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(id));
  if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(id));
  for (size_t i = 0; i < m->n_dependencies; i++)
    {
      _cleanup_free_ char *dep = NULL;
      if (resolve_dependency(s, &m->dependencies[i], &dep, err) < 0 ||
          collect_layers(s, dep, depth + 1, layers, err) < 0)
        return podrun_error_wrap(err, "image %s (%s)", QUOTE(m->name), id);
    }
  /* A dependency reached twice (a diamond) is laid down once, where first met. */
  if (!strv_contains(*layers, id))
    *layers = strv_push(*layers, id);
  return 0;
}

/* The first layer goes into the empty directory render_atomically made; a
 * later one may meet the symlinks of those before it. */
static int extract_layer(struct store *s, const char *id, int rootfsfd, bool first, char *const *whitelist,
                         podrun_error_t *err)
{
  _cleanup_close_ int blob = -1;
  struct extract_opts opts = {
    .rootfs_only = true, .overwrite = true, .fresh_target = first, .path_whitelist = whitelist
  };

  if (store_blob_open(s, id, &blob, err) < 0)
    return -1;
  if (extract_to_dir_fd(blob, rootfsfd, &opts, err) < 0)
    return podrun_error_wrap(err, "render image %s", QUOTE(id));
  return 0;
}

static int image_layers(struct store *s, const struct store_image *img, char ***ret, podrun_error_t *err);

int store_squashed_root(struct store *s, const struct store_image *img, char **ret_root, int *ret_mntfd,
                        podrun_error_t *err)
{
  _cleanup_strv_ char **dirs = NULL;
  struct overlay_lowers lowers = { 0 };
  int r;

  *ret_mntfd = -1;
  if (image_layers(s, img, &dirs, err) < 0)
    return -1;
  /* one layer is its own tree (overlayfs stacks two at least) */
  if (strv_length(dirs) == 1)
    return *ret_root = xstrdup(dirs[0]), 0;
  if (overlay_lowers_open(dirs, -1, &lowers, err) < 0)
    return -1;
  r = overlay_mount_detached(lowers.spec, ret_mntfd, err);
  overlay_lowers_done(&lowers);
  if (r >= 0)
    *ret_root = xasprintf("/proc/self/fd/%d", *ret_mntfd);
  return r;
}

/* An OCI image squashed into rootfsfd: its layers' overlay, copied. */
static int render_squashed(struct store *s, const struct store_image *img, int rootfsfd, podrun_error_t *err)
{
  _cleanup_close_ int mnt = -1;
  _cleanup_free_ char *root = NULL;
  if (store_squashed_root(s, img, &root, &mnt, err) < 0)
    return -1;
  return store_copy_tree(root, rootfsfd, err);
}

/* Writes <destfd>/manifest (unless rootfs_only) and the rootfs into destfd or
 * destfd/rootfs. */
static int render_into(struct store *s, const struct store_image *img, int destfd, unsigned flags,
                       podrun_error_t *err)
{
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  _cleanup_strv_ char **layers = NULL;
  _cleanup_close_ int rootfsfd = -1;
  bool rootfs_only = flags & STORE_COPY_ROOTFS_ONLY;

  if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return -1;
  if (streq_ptr(img->format, "oci"))
    ;
  else if (flags & STORE_COPY_WITH_DEPS)
    {
      if (collect_layers(s, img->id, 0, &layers, err) < 0)
        return -1;
    }
  else
    layers = strv_push(NULL, img->id);
  if (!rootfs_only)
    {
      if (fs_write_file_atomic_at(destfd, "manifest", img->manifest, strlen(img->manifest), 0644, err) < 0)
        return -1;
      if (mkdirat(destfd, "rootfs", 0755) < 0)
        return podrun_error_set(err, errno, "mkdir rootfs");
    }
  rootfsfd = openat(destfd, rootfs_only ? "." : "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfsfd < 0)
    return podrun_error_set(err, errno, "open rootfs");
  if (!layers)
    return render_squashed(s, img, rootfsfd, err);
  char *const *wl = (flags & STORE_COPY_WITH_DEPS) ? m->path_whitelist : NULL;
  for (size_t i = 0; layers[i]; i++)
    if (extract_layer(s, layers[i], rootfsfd, i == 0, wl, err) < 0)
      return -1;
  return 0;
}

/* Builds into a fresh temporary directory "<parent>/<prefix>…" beside
 * `final` (relative to dirfd), with fill(ctx, fd of it), and renames it into
 * place. 1 when another process won. */
int store_build_atomically(int dirfd, const char *parent, const char *prefix, const char *final, bool overwrite,
                           int (*fill)(void *ctx, int fd, podrun_error_t *err), void *ctx, podrun_error_t *err)
{
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int tmpfd = -1;
  int r;

  if (store_mkdtemp_at(dirfd, parent, prefix, &tmp, &tmpfd, err) < 0)
    return -1;
  r = fill(ctx, tmpfd, err);
  if (r >= 0 && overwrite)
    r = fs_rm_rf_at(dirfd, final, err);
  if (r >= 0 && renameat(dirfd, tmp, dirfd, final) < 0)
    {
      if (errno == EEXIST || errno == ENOTEMPTY)
        r = 1; /* someone else finished first; theirs is as good */
      else
        r = podrun_error_set(err, errno, "rename into %s", QUOTE(final));
    }
  if (r != 0)
    {
      _cleanup_error_ podrun_error_t ignored = NULL;
      (void) fs_rm_rf_at(dirfd, tmp, &ignored);
    }
  return r < 0 ? -1 : r;
}

struct render_ctx
{
  struct store *s;
  const struct store_image *img;
  unsigned flags;
};

static int fill_render(void *ctx, int fd, podrun_error_t *err)
{
  struct render_ctx *c = ctx;
  return render_into(c->s, c->img, fd, c->flags, err);
}

static int render_atomically(struct store *s, const struct store_image *img, int dirfd, const char *parent,
                             const char *prefix, const char *final, unsigned flags, podrun_error_t *err)
{
  struct render_ctx c = { s, img, flags };
  return store_build_atomically(dirfd, parent, prefix, final, flags & STORE_COPY_OVERWRITE, fill_render, &c, err);
}

/* How a layer is extracted: an ACI's rootfs/, or an OCI layer at the
 * archive's root with its whiteouts made overlayfs whiteouts. The caps on
 * what it may unpack to come from PODRUN_MAX_LAYER_SIZE (bytes) when set. */
static int layer_extract_opts(const char *media_type, struct extract_opts *opts, podrun_error_t *err)
{
  const char *max = getenv("PODRUN_MAX_LAYER_SIZE");
  unsigned long long v;

  /* the index holds only types oci_manifest_parse accepted */
  if (streq(media_type, STORE_MEDIA_ACI))
    opts->rootfs_only = true;
  else
    opts->oci_layer = true;
  if (max && parse_uint(max, UINT64_MAX, &v) < 0)
    return podrun_error_new(err, EINVAL, "PODRUN_MAX_LAYER_SIZE=%s: not a number of bytes", QUOTE(max));
  if (max)
    opts->max_entry_size = opts->max_total_size = v;
  return 0;
}

static void tree_content_freep(struct tree_content **c)
{
  tree_content_free(*c);
}

/* Each layer is extracted once, into cas/layer/<digest>/rootfs: built in a
 * temporary directory of cas/layer/ (by a thread of its own when several
 * are built at once), then recorded in the index and renamed into place in
 * the layers' order, by the caller's thread. */
struct layer_job
{
  struct store *s;
  const struct store_layer *layer;
  char *tmp;         /* its temporary directory, relative to the store */
  int tmpfd;         /* locked: no sweeper takes it (store_mkdtemp_at) */
  char *tree_digest; /* its tree's record's digest */
  bool built;
  podrun_error_t err;
};

/* What `image verify` compares the tree with later (store/tree.h): its
 * record beside rootfs/ (its digest goes into the index when the tree is
 * put in place). The contents were hashed on their way to the disk; this
 * walks the metadata only. */
static int record_tree(struct layer_job *j, int rootfsfd, const struct tree_content *content, podrun_error_t *err)
{
  _cleanup_free_ char *rec = NULL;
  size_t len = 0;

  if (tree_digest_at(rootfsfd, content, &j->tree_digest, &rec, &len, err) < 0 ||
      fs_write_file_atomic_at(j->tmpfd, TREE_RECORD_FILE, rec, len, 0600, err) < 0)
    return podrun_error_wrap(err, "layer %s: record its tree", QUOTE(j->layer->digest));
  return 0;
}

static int build_layer(struct layer_job *j, podrun_error_t *err)
{
  const struct store_layer *l = j->layer;
  _cleanup_close_ int blob = -1, rootfsfd = -1;
  _cleanup_(tree_content_freep) struct tree_content *content = tree_content_new();
  struct extract_opts opts = { .fresh_target = true, .diff_id = l->diff_id, .content = content };

  if (layer_extract_opts(l->media_type, &opts, err) < 0 ||
      store_mkdtemp_at(j->s->dirfd, STORE_LAYER_DIR, STORE_TMP_PREFIX, &j->tmp, &j->tmpfd, err) < 0 ||
      store_blob_open(j->s, l->digest, &blob, err) < 0)
    return -1;
  /* its mode whatever the umask is just now (0 while another layer's
   * writer is open, the caller's otherwise) */
  if (mkdirat(j->tmpfd, "rootfs", 0755) < 0 ||
      (rootfsfd = openat(j->tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fchmod(rootfsfd, 0755) < 0)
    return podrun_error_set(err, errno, "layer %s: make its rootfs", QUOTE(l->digest));
  if (extract_to_dir_fd(blob, rootfsfd, &opts, err) < 0)
    return podrun_error_wrap(err, "layer %s", QUOTE(l->digest));
  return record_tree(j, rootfsfd, content, err);
}

struct layer_pool
{
  struct layer_job *jobs;
  size_t n;
  atomic_size_t next;
  atomic_bool failed; /* no job is begun after one failed */
};

static void *layer_thread(void *arg)
{
  struct layer_pool *p = arg;

  for (size_t i; !atomic_load(&p->failed) && (i = atomic_fetch_add(&p->next, 1)) < p->n;)
    {
      struct layer_job *j = &p->jobs[i];
      if (build_layer(j, &j->err) < 0)
        atomic_store(&p->failed, true);
      else
        j->built = true;
    }
  return NULL;
}

/* Builds every job: on threads of their own when there are several and
 * the extraction is podrun's own writer's (root: each layer into a fresh
 * directory, nothing process-wide changed but the umask, which extract-tree.c
 * shares), else one after the other. */
static void build_layers(struct layer_pool *p)
{
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  pthread_t threads[4];
  size_t want = cpus < 1 ? 1 : cpus > (long) ELEMENTSOF(threads) ? ELEMENTSOF(threads) : (size_t) cpus;

  if (p->n < want)
    want = p->n;
  if (geteuid() != 0)
    want = 1;
  size_t started = 0;
  podrun_error_t ignored = NULL;

  /* loaded once, before any thread needs them */
  if (want > 1 && (dl_load_archive(&ignored) < 0 || dl_load_crypto(&ignored) < 0))
    {
      podrun_error_free(&ignored);
      want = 1;
    }
  for (; started + 1 < want; started++)
    if (pthread_create(&threads[started], NULL, layer_thread, p) != 0)
      break;
  layer_thread(p);
  for (size_t i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
}

/* In layer order: each built tree recorded and put in place, until the
 * first failure; what was built after it is removed. */
static int commit_layers(struct store *s, struct layer_pool *p, podrun_error_t *err)
{
  int r = 0;

  for (size_t i = 0; i < p->n; i++)
    {
      struct layer_job *j = &p->jobs[i];
      _cleanup_free_ char *rel = xasprintf(STORE_LAYER_DIR "/%s", j->layer->digest);
      bool placed = false;
      if (r >= 0 && !j->built)
        {
          /* a job is begun only while none has failed, and in order: one
           * not built failed, or comes after one that did */
          *err = TAKE_PTR(j->err);
          r = -1;
        }
      if (r >= 0 && index_set_layer_tree(s->idx, j->layer->digest, j->tree_digest, err) < 0)
        r = podrun_error_wrap(err, "layer %s: record its tree", QUOTE(j->layer->digest));
      if (r >= 0 && renameat(s->dirfd, j->tmp, s->dirfd, rel) == 0)
        {
          placed = true;
          s->created_layers = strv_push(s->created_layers, j->layer->digest);
        }
      else if (r >= 0 && errno != EEXIST && errno != ENOTEMPTY) /* else someone else finished first */
        r = podrun_error_set(err, errno, "rename into %s", QUOTE(rel));
      if (j->tmp && !placed)
        {
          _cleanup_error_ podrun_error_t ignored = NULL;
          (void) fs_rm_rf_at(s->dirfd, j->tmp, &ignored);
        }
    }
  return r;
}

/* A layer an image brings with its diff_id: the store's row of that layer
 * must say the same; a layer with no row yet is checked as it is
 * extracted, or, when its tree is already there (another import of it is
 * under way), by decompressing its blob. */
static int check_diff_id(struct store *s, const struct store_layer *layer, const char *rel, podrun_error_t *err)
{
  _cleanup_free_ char *known_diff_id = NULL;
  _cleanup_close_ int blob = -1;
  struct extract_opts opts = { 0 };
  struct stat st;
  bool known = false;

  if (index_get_layer_diff_id(s->idx, layer->digest, &known, &known_diff_id, err) < 0)
    return -1;
  if (known)
    return streq_ptr(known_diff_id, layer->diff_id)
               ? 0
               : podrun_error_new(err, EBADMSG, "layer %s: its image says its diff_id is %s, the store's has %s: "
                                                "digest mismatch",
                                  QUOTE(layer->digest), QUOTE(layer->diff_id),
                                  known_diff_id ? QUOTE(known_diff_id) : "none");
  if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (layer_extract_opts(layer->media_type, &opts, err) < 0 || store_blob_open(s, layer->digest, &blob, err) < 0 ||
      extract_check_diff_id(blob, layer->diff_id, opts.max_total_size, err) < 0)
    return podrun_error_wrap(err, "layer %s", QUOTE(layer->digest));
  return 0;
}

/* The job that builds digest already, if one does. */
static struct layer_job *job_for(struct layer_pool *p, const char *digest)
{
  for (size_t i = 0; i < p->n; i++)
    if (streq(p->jobs[i].layer->digest, digest))
      return &p->jobs[i];
  return NULL;
}

int store_layer_trees(struct store *s, const struct store_layer *layers, size_t n, bool importing, char ***ret_dirs,
                      podrun_error_t *err)
{
  struct layer_pool p = { .jobs = xzalloc(sizeof(*p.jobs) * (n ? n : 1)) };
  _cleanup_strv_ char **dirs = NULL;
  int r = 0;

  for (size_t i = 0; i < n && r >= 0; i++)
    {
      const struct store_layer *l = &layers[i];
      _cleanup_free_ char *rel = xasprintf(STORE_LAYER_DIR "/%s", l->digest), *dir = NULL;
      struct layer_job *same = job_for(&p, l->digest);
      struct stat st;
      /* one blob twice in an image: one tree, so one diff_id */
      if (same && importing && !streq_ptr(same->layer->diff_id, l->diff_id))
        r = podrun_error_new(err, EBADMSG, "layer %s: its image gives it two diff_ids, %s and %s: digest mismatch",
                             QUOTE(l->digest), QUOTE(same->layer->diff_id), QUOTE(l->diff_id));
      else if (!same && importing && l->diff_id && check_diff_id(s, l, rel, err) < 0)
        r = -1;
      else if (!same && fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        p.jobs[p.n++] = (struct layer_job){ .s = s, .layer = l, .tmpfd = -1 };
      dir = xasprintf("%s/%s/rootfs", s->dir, rel);
      dirs = strv_push(dirs, dir);
    }
  if (r >= 0 && p.n > 0)
    {
      build_layers(&p);
      r = commit_layers(s, &p, err);
    }
  for (size_t i = 0; i < p.n; i++)
    {
      free(p.jobs[i].tmp);
      free(p.jobs[i].tree_digest);
      if (p.jobs[i].tmpfd >= 0)
        close(p.jobs[i].tmpfd);
      podrun_error_free(&p.jobs[i].err);
    }
  free(p.jobs);
  if (r < 0)
    return -1;
  *ret_dirs = TAKE_PTR(dirs);
  return 0;
}

/* "Last used" is what image gc's grace period counts from; a minute's
 * precision is plenty, and sparing most runs a write to the index spares
 * them a WAL checkpoint with its syncs. */
#define TOUCH_INTERVAL_USEC (60LL * 1000000)

static int touch(struct store *s, const struct store_image *img, podrun_error_t *err)
{
  int64_t now = store_now_usec();
  if (now - img->last_used < TOUCH_INTERVAL_USEC && now >= img->last_used)
    return 0;
  return index_touch_image(s->idx, img->id, now, err);
}

/* An ACI's layers, bottom first: its dependencies' and its own, each one
 * layer, its own blob (no index query: that is what an ACI is). m is its
 * parsed manifest: an image without dependencies costs no more. */
static int appc_layers(struct store *s, const struct store_image *img, const struct appc_image_manifest *m,
                       char ***ret, podrun_error_t *err)
{
  _cleanup_strv_ char **images = NULL, **dirs = NULL;

  if (m->n_dependencies == 0)
    images = strv_push(NULL, img->id);
  else if (collect_layers(s, img->id, 0, &images, err) < 0)
    return -1;
  size_t n = strv_length(images);
  _cleanup_free_ struct store_layer *v = xzalloc(sizeof(*v) * n);
  for (size_t i = 0; i < n; i++)
    v[i] = (struct store_layer){ .digest = images[i], .media_type = (char *) STORE_MEDIA_ACI };
  if (store_layer_trees(s, v, n, false, &dirs, err) < 0)
    return -1;
  *ret = TAKE_PTR(dirs);
  return 0;
}

/* An OCI image's layers, in its manifest's order. */
static int oci_layers(struct store *s, const struct store_image *img, char ***ret, podrun_error_t *err)
{
  _cleanup_strv_ char **dirs = NULL;
  struct store_layer *v = NULL;
  size_t n = 0;
  int r = index_image_layers(s->idx, img->id, &v, &n, err);

  if (r >= 0)
    r = store_layer_trees(s, v, n, false, &dirs, err);
  store_layer_list_free(v, n);
  if (r < 0)
    return -1;
  if (!dirs)
    return podrun_error_new(err, ENOENT, "image %s: has no layers", QUOTE(img->id));
  *ret = TAKE_PTR(dirs);
  return 0;
}

static int image_layers(struct store *s, const struct store_image *img, char ***ret, podrun_error_t *err)
{
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  if (streq_ptr(img->format, "oci"))
    return oci_layers(s, img, ret, err);
  if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(img->id));
  return appc_layers(s, img, m, ret, err);
}

/* A pathWhitelist filters the union of the layers: such an image is
 * rendered, squashed, once into cas/tree/<id>. */
static int squashed_tree(struct store *s, const struct store_image *img, char ***ret, podrun_error_t *err)
{
  _cleanup_free_ char *rel = xasprintf(STORE_TREE_DIR "/%s", img->id);
  struct stat st;

  if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
      render_atomically(s, img, s->dirfd, STORE_TREE_DIR, STORE_TMP_PREFIX, rel, STORE_COPY_WITH_DEPS, err) < 0)
    return -1;
  _cleanup_free_ char *dir = xasprintf("%s/%s/rootfs", s->dir, rel);
  *ret = strv_push(NULL, dir);
  return 0;
}

int store_image_layers(struct store *s, const char *id, char ***ret_dirs, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  int r = 0;

  *ret_dirs = NULL;
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  if (index_get_image(s->idx, id, &img, err) < 0)
    r = -1;
  else if (!img)
    r = podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(id));
  else if (streq_ptr(img->format, "oci"))
    r = oci_layers(s, img, ret_dirs, err);
  else
    {
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
      if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
        r = podrun_error_wrap(err, "image %s", QUOTE(img->id));
      else if (m->path_whitelist && m->path_whitelist[0])
        r = squashed_tree(s, img, ret_dirs, err);
      else
        r = appc_layers(s, img, m, ret_dirs, err);
    }
  if (r >= 0)
    r = touch(s, img, err);
  store_unlock(s);
  if (r < 0)
    {
      if (*ret_dirs)
        strv_free(TAKE_PTR(*ret_dirs));
      return -1;
    }
  return 0;
}

static bool dir_is_empty_or_missing(const char *path)
{
  _cleanup_closedir_ DIR *d = opendir(path);
  struct dirent *de;
  if (!d)
    return errno == ENOENT;
  while ((de = readdir(d)))
    if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
      return false;
  return true;
}

int store_copy_to_dir(struct store *s, const char *id, const char *dest, unsigned flags, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *copy = xstrdup(dest);
  char *slash;
  const char *parent = ".", *base = copy;
  int r;

  while ((slash = strrchr(copy, '/')) && slash != copy && slash[1] == '\0')
    *slash = '\0'; /* "dir/" -> "dir" */
  slash = strrchr(copy, '/');
  if (slash)
    {
      *slash = '\0';
      parent = slash == copy ? "/" : copy;
      base = slash + 1;
    }
  if (*base == '\0' || streq(base, ".") || streq(base, ".."))
    return podrun_error_new(err, EINVAL, "%s: not a usable destination directory", QUOTE(dest));
  if (!(flags & STORE_COPY_OVERWRITE) && !dir_is_empty_or_missing(dest))
    return podrun_error_new(err, EEXIST, "%s exists and is not empty (use --overwrite to replace it)", QUOTE(dest));
  if (!(flags & STORE_COPY_OVERWRITE))
    (void) rmdir(dest); /* an empty directory is replaced */

  _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(parent));
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = index_get_image(s->idx, id, &img, err);
  if (r >= 0 && !img)
    r = podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(id));
  /* The temporary directory is named after the destination, so that a
   * render of it finds what a killed one left there (cut: a name has at most
   * NAME_MAX bytes) */
  _cleanup_free_ char *prefix = xasprintf(".%.*s" STORE_TMP_PREFIX, 200, base);
  if (r >= 0)
    r = store_sweep_tmp_at(pfd, ".", prefix, err);
  if (r >= 0)
    {
      r = render_atomically(s, img, pfd, ".", prefix, base, flags, err);
      if (r > 0)
        r = podrun_error_new(err, EEXIST, "%s appeared while rendering", QUOTE(dest));
    }
  if (r >= 0)
    r = touch(s, img, err);
  store_unlock(s);
  return r < 0 ? podrun_error_wrap(err, "write image to %s", QUOTE(dest)) : 0;
}
