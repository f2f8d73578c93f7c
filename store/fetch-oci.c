/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI images into the layered store: an image is its manifest (a blob), its
 * config (a blob, whose digest is the image's id) and its layers (blobs,
 * each extracted once). Every blob is checked against its digest as it is
 * written (blob.c); the index rows come last, in one transaction, so an
 * interrupted import leaves only files that image gc sweeps. The app an
 * image runs is the appc manifest podrun derives from its config (oci.h,
 * Documentation/docker-mapping.md). */
#include <fcntl.h>
#include <sys/stat.h>

#include "extract.h"
#include "fs.h"
#include "json-util.h"
#include "fetch.h"
#include "oci.h"
#include "registry.h"
#include "store-internal.h"

#define PASSWD_MAX (1024 * 1024)

/* "sha256:…" → "sha256-…" (oci_digest_is_valid was checked by the parser) */
char *store_digest_from_oci(const char *digest)
{
  char *d = xstrdup(digest);
  char *colon = strchr(d, ':');
  if (colon)
    *colon = '-';
  return d;
}

/* The image's /etc/passwd, for the group of a User given without one: the
 * topmost layer that has the file decides (a whiteout, a character device,
 * hides it). NULL when there is none. */
static char *read_passwd(char *const *dirs)
{
  for (size_t i = strv_length(dirs); i-- > 0;)
    {
      _cleanup_close_ int root = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      _cleanup_close_ int etc = root < 0 ? -1 : openat(root, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      struct stat st;
      if (etc < 0 || fstatat(etc, "passwd", &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      _cleanup_error_ podrun_error_t ignored = NULL;
      char *text = NULL;
      if (!S_ISREG(st.st_mode) || fs_read_file_at(etc, "passwd", PASSWD_MAX, &text, NULL, &ignored) < 0)
        return NULL;
      return text;
    }
  return NULL;
}

/* Every name an image was imported as resolves to it, also when the image
 * (its config) was already there under another. */
static int set_refs(struct store *s, const struct store_oci_image *in, const char *id, podrun_error_t *err)
{
  _cleanup_free_ char *tagged = in->tag ? xasprintf("%s:%s", in->name, in->tag) : xstrdup(in->name);
  if (index_set_ref(s->idx, tagged, id, in->manifest_digest, err) < 0 ||
      (in->ref && !streq(in->ref, tagged) && index_set_ref(s->idx, in->ref, id, in->manifest_digest, err) < 0))
    return -1;
  return 0;
}

int store_oci_known_locked(struct store *s, const struct store_oci_image *in, const char *config_digest,
                           char **ret_id, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *id = store_digest_from_oci(config_digest);

  if (index_get_image(s->idx, id, &img, err) < 0)
    return -1;
  if (!img)
    return 0;
  if (set_refs(s, in, id, err) < 0)
    return -1;
  *ret_id = TAKE_PTR(id);
  return 1;
}

int store_import_oci_locked(struct store *s, const struct store_oci_image *in, char **ret_id, podrun_error_t *err)
{
  _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
  _cleanup_oci_config_ struct oci_config *cfg = NULL;
  _cleanup_free_ char *config_digest = NULL, *passwd = NULL, *appc = NULL;
  _cleanup_strv_ char **dirs = NULL;
  struct store_layer *layers = NULL;
  struct store_image img = { 0 };
  int r = -1;

  if (oci_manifest_parse(in->manifest, in->manifest_len, in->content_type, &m, err) < 0 ||
      oci_config_parse(in->config, in->config_len, &cfg, err) < 0)
    return -1;
  /* the image's id is its config's digest: the layers must be those its
   * diff_ids name, or another manifest could pass its layers off as the image */
  if (cfg->n_diff_ids != m->n_layers)
    return podrun_error_new(err, EBADMSG, "config %s lists %zu layers, the manifest %zu: digest mismatch",
                            QUOTE(m->config.digest), cfg->n_diff_ids, m->n_layers);
  config_digest = store_digest_from_oci(m->config.digest);
  img.manifest_digest = xstrdup(in->manifest_digest);
  if (m->config.size != in->config_len)
    {
      podrun_error_new(err, EBADMSG, "config %s: %zu bytes, the manifest says %llu: digest mismatch",
                       QUOTE(m->config.digest), in->config_len, (unsigned long long) m->config.size);
      goto out;
    }
  if (store_blob_put(s, img.manifest_digest, in->manifest, in->manifest_len, err) < 0 ||
      store_blob_put(s, config_digest, in->config, in->config_len, err) < 0)
    goto out;
  layers = xzalloc(sizeof(*layers) * m->n_layers);
  for (size_t i = 0; i < m->n_layers; i++)
    {
      layers[i] = (struct store_layer){ .digest = store_digest_from_oci(m->layers[i].digest),
                                        .media_type = xstrdup(m->layers[i].media_type),
                                        .size = m->layers[i].size,
                                        .diff_id = xstrdup(cfg->diff_ids[i]) };
      if (!store_blob_exists(s, layers[i].digest))
        {
          podrun_error_new(err, ENOENT, "layer %s: not in the store", QUOTE(m->layers[i].digest));
          goto out;
        }
      img.size += layers[i].size;
    }
  /* extracted now: a layer that cannot be is refused before the image exists */
  if (store_layer_trees(s, layers, m->n_layers, true, &dirs, err) < 0)
    goto out;
  passwd = read_passwd(dirs);
  if (oci_config_to_appc(in->config, in->config_len, in->appc_name, in->tag, passwd, &appc, err) < 0 ||
      store_describe_image(appc, strlen(appc), &img, err) < 0)
    goto out;
  /* named as fetched (HOST:PORT/REPO, its tag), not as the appc name must be spelled */
  free(img.name);
  img.name = xstrdup(in->name);
  free(img.version);
  img.version = in->tag ? xstrdup(in->tag) : NULL;
  img.id = xstrdup(config_digest);
  img.format = xstrdup("oci");
  img.import_time = img.last_used = store_now_usec();
  if (index_add_image(s->idx, &img, layers, m->n_layers, NULL, err) < 0)
    goto out;
  if (set_refs(s, in, img.id, err) < 0)
    goto out;
  *ret_id = TAKE_PTR(img.id);
  r = 0;
out:
  store_layer_list_free(layers, m->n_layers);
  store_image_done(&img);
  return r;
}

/* ---- OCI image layouts (oci:DIR[:TAG]) ----------------------------------- */

struct layout
{
  int dirfd;
  const char *path;
};

/* blobs/<alg>/<hex> of the layout (the parser checked the digest's form) */
static char *layout_blob_path(const char *digest)
{
  char *p = xasprintf("blobs/%s", digest);
  *strchr(p, ':') = '/';
  return p;
}

static int layout_read_blob(const struct layout *l, const char *digest, size_t max, char **ret, size_t *ret_len,
                            podrun_error_t *err)
{
  _cleanup_free_ char *p = layout_blob_path(digest);
  if (fs_read_file_at(l->dirfd, p, max, ret, ret_len, err) < 0)
    return podrun_error_wrap(err, "%s", QUOTE(l->path));
  return 0;
}

/* Copies the file path (below dirfd) into the store as the blob digest
 * ("sha256:…"), through a writer, which checks it. */
static int copy_file_blob(struct store *s, int dirfd, const char *path, const char *oci_digest, uint64_t size,
                          podrun_error_t *err)
{
  _cleanup_free_ char *digest = store_digest_from_oci(oci_digest), *buf = NULL;
  _cleanup_close_ int fd = -1;
  struct store_blob_writer *w = NULL;
  struct stat st;
  int r = -1;

  if (store_blob_exists(s, digest))
    return 0;
  fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(path));
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return podrun_error_new(err, EINVAL, "%s: not a regular file", QUOTE(path));
  if (store_blob_writer_open(s, digest, size, &w, err) < 0)
    return -1;
  if (!w)
    return 0;
  if (store_blob_writer_restart(w, err) < 0)
    goto out;
  buf = xmalloc(256 * 1024);
  for (;;)
    {
      ssize_t n = read(fd, buf, 256 * 1024);
      if (n < 0)
        {
          podrun_error_set(err, errno, "read %s", QUOTE(path));
          goto out;
        }
      if (n == 0)
        break;
      if (store_blob_writer_write(w, buf, (size_t) n, err) < 0)
        goto out;
    }
  r = store_blob_writer_commit(w, err);
out:
  store_blob_writer_free(w, false);
  return r;
}

static int pick_from_index(const struct layout *l, const struct oci_index *idx, const char *tag,
                           const struct oci_descriptor **ret, podrun_error_t *err)
{
  if (!tag)
    {
      if (idx->n_manifests == 1)
        return *ret = &idx->manifests[0], 0;
      return podrun_error_new(err, EINVAL, "%s: holds %zu images; name one (oci:DIR:TAG)", QUOTE(l->path),
                              idx->n_manifests);
    }
  for (size_t i = 0; i < idx->n_manifests; i++)
    if (streq_ptr(idx->manifests[i].ref_name, tag))
      return *ret = &idx->manifests[i], 0;
  return podrun_error_new(err, ENOENT, "%s: no image tagged %s", QUOTE(l->path), QUOTE(tag));
}

static int import_layout_locked(struct store *s, int dirfd, const char *dir, const struct store_oci_fetch *f,
                                char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *manifest = NULL, *config = NULL, *mdigest = NULL;
  _cleanup_oci_index_ struct oci_index *idx = NULL, *list = NULL;
  _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
  const struct oci_descriptor *d = NULL;
  size_t len = 0, mlen = 0, clen = 0;
  struct layout l = { dirfd, dir };
  enum oci_kind kind;

  if (fs_read_file_at(dirfd, "index.json", OCI_MAX_MANIFEST, &text, &len, err) < 0 ||
      oci_index_parse(text, len, NULL, &idx, err) < 0 || pick_from_index(&l, idx, f->tag, &d, err) < 0)
    return -1;
  if (layout_read_blob(&l, d->digest, OCI_MAX_MANIFEST, &manifest, &mlen, err) < 0 ||
      oci_detect_kind(manifest, mlen, d->media_type, &kind, err) < 0)
    return -1;
  if (kind == OCI_KIND_INDEX)
    {
      if (oci_index_parse(manifest, mlen, d->media_type, &list, err) < 0 ||
          oci_index_select(list, f->os, f->arch, f->variant, &d, err) < 0)
        return -1;
      free(TAKE_PTR(manifest));
      if (layout_read_blob(&l, d->digest, OCI_MAX_MANIFEST, &manifest, &mlen, err) < 0)
        return -1;
    }
  mdigest = store_digest_from_oci(d->digest);
  if (oci_manifest_parse(manifest, mlen, d->media_type, &m, err) < 0 ||
      layout_read_blob(&l, m->config.digest, OCI_MAX_CONFIG, &config, &clen, err) < 0)
    return -1;
  struct store_oci_image in = { .manifest = manifest, .manifest_len = mlen, .content_type = d->media_type,
                                .manifest_digest = mdigest, .config = config, .config_len = clen,
                                .name = f->name, .appc_name = f->appc_name, .tag = f->tag ? f->tag : "latest",
                                .ref = f->ref };
  int r = store_oci_known_locked(s, &in, m->config.digest, ret_id, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  for (size_t i = 0; i < m->n_layers; i++)
    {
      _cleanup_free_ char *p = layout_blob_path(m->layers[i].digest);
      if (copy_file_blob(s, dirfd, p, m->layers[i].digest, m->layers[i].size, err) < 0)
        return -1;
    }
  return store_import_oci_locked(s, &in, ret_id, err);
}

int store_import_oci_layout(struct store *s, const char *dir, const struct store_oci_fetch *f, char **ret_id,
                            podrun_error_t *err)
{
  _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (dirfd < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(dir));
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = import_layout_locked(s, dirfd, dir, f, ret_id, err);
  if (r < 0)
    store_discard_created(s);
  store_keep_created(s);
  store_unlock(s);
  return r < 0 ? podrun_error_wrap(err, "OCI layout %s", QUOTE(dir)) : 0;
}

/* ---- archives (oci-archive:, docker-archive:) ---------------------------- */

/* The archive unpacked into a fresh temporary directory below cas/tree (its
 * fd flocked; image gc sweeps what a kill leaves), with every check of a
 * layer's extraction. */
static int unpack_archive(struct store *s, const char *file, char **ret_rel, int *ret_fd, podrun_error_t *err)
{
  _cleanup_close_ int src = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct extract_opts opts = { .oci_layer = true, .fresh_target = true };
  struct stat st;

  if (src < 0 || fstat(src, &st) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(file));
  if (!S_ISREG(st.st_mode))
    return podrun_error_new(err, EINVAL, "%s: not a regular file", QUOTE(file));
  if (store_mkdtemp_at(s->dirfd, STORE_TREE_DIR, STORE_TMP_PREFIX, ret_rel, ret_fd, err) < 0)
    return -1;
  if (extract_to_dir_fd(src, *ret_fd, &opts, err) < 0)
    return podrun_error_wrap(err, "%s", QUOTE(file));
  return 0;
}

/* docker save's manifest.json: [{"Config": "….json", "RepoTags": […],
 * "Layers": ["…/layer.tar", …]}], the layers uncompressed tars whose
 * digests are the config's diff_ids. Imported as the OCI manifest it
 * amounts to. */
static int import_docker_dir(struct store *s, int dirfd, const struct store_oci_fetch *f, char **ret_id,
                             podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *config = NULL, *manifest = NULL, *name = NULL, *appc = NULL, *md = NULL;
  _cleanup_json_ json_t *j = NULL, *m = NULL;
  _cleanup_oci_config_ struct oci_config *c = NULL;
  struct oci_ref ref = { 0 };
  char cdigest[72], mdigest[72];
  size_t len = 0, clen = 0;
  int r = -1;

  if (fs_read_file_at(dirfd, "manifest.json", OCI_MAX_MANIFEST, &text, &len, err) < 0 ||
      json_parse_untrusted(text, len, "manifest.json", &j, err) < 0)
    return -1;
  json_t *e = json_array_get(j, 0), *layers = json_object_get(e, "Layers");
  const char *cpath = json_string_value(json_object_get(e, "Config"));
  const char *tag = json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0));
  if (!cpath || !json_is_array(layers) || json_array_size(j) != 1)
    return podrun_error_new(err, EINVAL, "manifest.json: not one image of docker save's format");
  if (fs_read_file_at(dirfd, cpath, OCI_MAX_CONFIG, &config, &clen, err) < 0 ||
      registry_sha256(config, clen, cdigest, err) < 0 || oci_config_parse(config, clen, &c, err) < 0)
    return -1;
  if (c->n_diff_ids != json_array_size(layers))
    return podrun_error_new(err, EINVAL, "manifest.json: %zu layers, its config %zu", json_array_size(layers),
                            c->n_diff_ids);
  /* named as it was saved: RepoTags' first, else after the file */
  if (tag && oci_ref_parse(tag, f->default_registry ? f->default_registry : "localhost", &ref, err) < 0)
    return podrun_error_wrap(err, "manifest.json: RepoTags");
  if (tag && (oci_ref_appc_name(&ref, &appc, err) < 0 || !(name = oci_ref_name(&ref))))
    goto out;
  struct store_oci_image in = { .content_type = OCI_MEDIA_MANIFEST, .config = config, .config_len = clen,
                                .name = tag ? name : f->name, .appc_name = tag ? appc : f->appc_name,
                                .tag = tag ? ref.tag : "latest" };
  int known = store_oci_known_locked(s, &in, cdigest, ret_id, err);
  if (known != 0)
    {
      r = known < 0 ? -1 : 0;
      goto out;
    }
  m = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:[]}", "schemaVersion", 2, "mediaType", OCI_MEDIA_MANIFEST, "config",
                "mediaType", DOCKER_MEDIA_CONFIG, "digest", cdigest, "size", (json_int_t) clen, "layers");
  for (size_t i = 0; i < c->n_diff_ids; i++)
    {
      const char *path = json_string_value(json_array_get(layers, i));
      struct stat st;
      if (!path || fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          podrun_error_set(err, path ? errno : EINVAL, "manifest.json: layer %zu", i);
          goto out;
        }
      if (copy_file_blob(s, dirfd, path, c->diff_ids[i], (uint64_t) st.st_size, err) < 0)
        goto out;
      json_array_append_new(json_object_get(m, "layers"),
                            json_pack("{s:s,s:s,s:I}", "mediaType", OCI_MEDIA_LAYER, "digest", c->diff_ids[i], "size",
                                      (json_int_t) st.st_size));
    }
  manifest = json_dump_sorted(m, false);
  if (registry_sha256(manifest, strlen(manifest), mdigest, err) < 0)
    goto out;
  md = store_digest_from_oci(mdigest);
  in.manifest = manifest;
  in.manifest_len = strlen(manifest);
  in.manifest_digest = md;
  r = store_import_oci_locked(s, &in, ret_id, err);
out:
  oci_ref_done(&ref);
  return r;
}

int store_import_archive(struct store *s, const char *file, bool docker, const struct store_oci_fetch *f,
                         char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *rel = NULL;
  _cleanup_close_ int fd = -1;
  int r;

  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = unpack_archive(s, file, &rel, &fd, err);
  if (r >= 0)
    r = docker ? import_docker_dir(s, fd, f, ret_id, err) : import_layout_locked(s, fd, file, f, ret_id, err);
  if (rel)
    {
      _cleanup_error_ podrun_error_t ignored = NULL;
      (void) fs_rm_rf_at(s->dirfd, rel, &ignored);
    }
  if (r < 0)
    store_discard_created(s);
  store_keep_created(s);
  store_unlock(s);
  return r < 0 ? podrun_error_wrap(err, "%s %s", docker ? "docker archive" : "OCI archive", QUOTE(file)) : 0;
}
