/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker:// images from a registry (registry.h) into the layered store: the
 * manifest (a list resolved by platform), the config, and only the layers
 * the store does not have yet, a few at a time, each into a blob writer that
 * hashes it as it arrives and resumes what a killed fetch left. */
#include "fetch.h"
#include "fs.h"
#include "oci.h"
#include "store-internal.h"

struct sink
{
  struct store_blob_writer *w;
};

static int sink_write(void *ctx, const void *buf, size_t len, podrun_error_t *err)
{
  return store_blob_writer_write(((struct sink *) ctx)->w, buf, len, err);
}

static int sink_restart(void *ctx, podrun_error_t *err)
{
  return store_blob_writer_restart(((struct sink *) ctx)->w, err);
}

/* The manifest of the reference, through a list or index by platform. */
static int get_manifest(struct registry *r, const struct store_docker_fetch *f, char **ret, size_t *ret_len,
                        char **ret_type, char **ret_digest, char ***ret_oci_digests, char **ret_list,
                        size_t *ret_list_len, podrun_error_t *err)
{
  _cleanup_free_ char *list = NULL;
  size_t list_len = 0;
  _cleanup_free_ char *body = NULL, *type = NULL, *digest = NULL;
  _cleanup_strv_ char **digests = NULL;
  _cleanup_oci_index_ struct oci_index *idx = NULL;
  const struct oci_descriptor *d = NULL;
  enum oci_kind kind;
  size_t len = 0;

  if (registry_get_manifest(r, f->repo, f->reference, &body, &len, &type, &digest, err) < 0 ||
      oci_detect_kind(body, len, type, &kind, err) < 0)
    return -1;
  digests = strv_push(digests, digest);
  if (kind == OCI_KIND_INDEX)
    {
      if (oci_index_parse(body, len, type, &idx, err) < 0 || oci_index_select(idx, f->image.os, f->image.arch, f->image.variant, &d, err) < 0)
        return -1;
      list = TAKE_PTR(body);
      list_len = len;
      free(TAKE_PTR(type));
      free(TAKE_PTR(digest));
      if (registry_get_manifest(r, f->repo, d->digest, &body, &len, &type, &digest, err) < 0)
        return -1;
      digests = strv_push(digests, digest);
      if (!*type)
        {
          free(type);
          type = xstrdup(d->media_type);
        }
    }
  *ret = TAKE_PTR(body);
  *ret_len = len;
  *ret_type = TAKE_PTR(type);
  *ret_digest = store_digest_from_oci(digest);
  *ret_oci_digests = TAKE_PTR(digests);
  *ret_list = TAKE_PTR(list);
  *ret_list_len = list_len;
  return 0;
}

/* The layers the store lacks, downloaded; every writer closed, its partial
 * file removed on failure (only a kill leaves one, for a resume). */
static int fetch_layers(struct store *s, struct registry *reg, const struct store_docker_fetch *f,
                        const struct oci_manifest *m, podrun_error_t *err)
{
  size_t cap = m->n_layers ? m->n_layers : 1, n = 0;
  struct registry_blob *blobs = xzalloc(sizeof(*blobs) * cap);
  struct sink *sinks = xzalloc(sizeof(*sinks) * cap);
  _cleanup_strv_ char **seen = NULL;
  int r = 0;

  for (size_t i = 0; i < m->n_layers && r >= 0; i++)
    {
      _cleanup_free_ char *digest = store_digest_from_oci(m->layers[i].digest);
      if (strv_contains(seen, digest) || store_blob_exists(s, digest))
        continue;
      seen = strv_push(seen, digest);
      r = store_blob_writer_open(s, digest, m->layers[i].size, &sinks[n].w, err);
      if (r < 0 || !sinks[n].w)
        continue;
      blobs[n] = (struct registry_blob){ .digest = m->layers[i].digest, .size = m->layers[i].size,
                                         .offset = store_blob_writer_offset(sinks[n].w), .write = sink_write,
                                         .restart = sink_restart, .ctx = &sinks[n] };
      n++;
    }
  if (r >= 0 && n > 0)
    r = registry_fetch_blobs(reg, f->repo, blobs, n, err);
  for (size_t i = 0; i < n; i++)
    {
      if (r >= 0 && store_blob_writer_commit(sinks[i].w, err) < 0)
        r = -1;
      store_blob_writer_free(sinks[i].w, false);
      podrun_error_free(&blobs[i].error);
    }
  free(blobs);
  free(sinks);
  return r;
}

static int fetch_locked(struct store *s, struct registry *reg, const struct store_docker_fetch *f, char **ret_id,
                        podrun_error_t *err)
{
  _cleanup_free_ char *manifest = NULL, *type = NULL, *digest = NULL, *config = NULL, *config_digest = NULL;
  _cleanup_free_ char *known_id = NULL, *known_manifest = NULL;
  _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_strv_ char **digests = NULL;
  _cleanup_free_ char *list = NULL;
  size_t len = 0, clen = 0, list_len = 0;

  if (get_manifest(reg, f, &manifest, &len, &type, &digest, &digests, &list, &list_len, err) < 0 ||
      oci_manifest_parse(manifest, len, type, &m, err) < 0)
    return -1;
  /* the signatures, before anything of the image is downloaded or kept */
  if (f->verify && f->verify(f->verify_ctx, reg, (const char *const *) digests, list, list_len, err) < 0)
    return -1;
  /* the tag still names the manifest the store has: nothing to download */
  if (f->image.ref && index_get_ref(s->idx, f->image.ref, &known_id, &known_manifest, err) < 0)
    return -1;
  if (known_id && streq_ptr(known_manifest, digest) && index_get_image(s->idx, known_id, &img, err) == 0 && img)
    return *ret_id = TAKE_PTR(known_id), 0;
  struct store_oci_image in = { .manifest = manifest, .manifest_len = len, .content_type = type,
                                .manifest_digest = digest, .name = f->image.name, .appc_name = f->image.appc_name,
                                .tag = f->image.tag, .ref = f->image.ref };
  /* an image the store has under another name or tag: nothing to download */
  int known = store_oci_known_locked(s, &in, m->config.digest, ret_id, err);
  if (known != 0)
    return known < 0 ? -1 : 0;
  config_digest = store_digest_from_oci(m->config.digest);
  if (store_blob_exists(s, config_digest))
    {
      _cleanup_free_ char *path = store_blob_path(config_digest);
      if (fs_read_file_at(s->dirfd, path, OCI_MAX_CONFIG, &config, &clen, err) < 0)
        return -1;
    }
  else if (registry_get_blob_small(reg, f->repo, m->config.digest, OCI_MAX_CONFIG, &config, &clen, err) < 0)
    return -1;
  if (fetch_layers(s, reg, f, m, err) < 0)
    return -1;
  in.config = config;
  in.config_len = clen;
  return store_import_oci_locked(s, &in, ret_id, err);
}

int store_fetch_docker(struct store *s, const struct store_docker_fetch *f, char **ret_id, podrun_error_t *err)
{
  _cleanup_registry_ struct registry *reg = NULL;
  int r;

  if (registry_open(&f->registry, &reg, err) < 0)
    return -1;
  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  r = fetch_locked(s, reg, f, ret_id, err);
  if (r < 0)
    store_discard_created(s);
  store_keep_created(s);
  store_unlock(s);
  return r;
}
