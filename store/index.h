/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "store.h"

/* The store's image index: cas/index.db, SQLite in WAL mode. Every function
 * is safe to call from several processes at once (busy timeout, short
 * transactions). Schema version in PRAGMA user_version with forward
 * migrations, so later issues add tables (remotes, layers) without rewriting. */
struct index;

/* readonly: open with SQLITE_OPEN_READONLY and never create; a missing file
 * is then an error with status ENOENT. */
int index_open(const char *path, bool readonly, struct index **ret, podrun_error_t *err);
void index_close(struct index *idx);
/* Read-only, by a process that cannot write the store's directory, when no
 * transaction is in the index's -wal file: it is read as an immutable file,
 * and this says whether it changed since (then what was read may be torn:
 * read again). Always false otherwise. (With transactions in the -wal,
 * such a reader's index_open fails with EROFS.) */
bool index_changed(struct index *idx);

/* Inserts the image and its layers (bottom first; layers other images
 * already have are shared), in one transaction. An image with the same id
 * already present is not an error: its rows are left as they are and
 * *ret_existed (if not NULL) is true. */
int index_add_image(struct index *idx, const struct store_image *img, const struct store_layer *layers, size_t n,
                    bool *ret_existed, podrun_error_t *err);

/* The image's own layers, bottom first (an ACI's dependencies are images of
 * their own). */
int index_image_layers(struct index *idx, const char *id, struct store_layer **ret, size_t *ret_n,
                       podrun_error_t *err);

/* Bytes of the image's layer blobs, and of those another image has too. */
int index_image_usage(struct index *idx, const char *id, uint64_t *ret_size, uint64_t *ret_shared,
                      podrun_error_t *err);

/* Does any row name this blob (a layer, an image's id or manifest, a
 * reference's manifest)? Does any image have this layer? */
int index_blob_is_live(struct index *idx, const char *digest, bool *ret, podrun_error_t *err);
int index_layer_is_live(struct index *idx, const char *digest, bool *ret, podrun_error_t *err);
/* Is the layer known, and with what diff_id (NULL: an ACI's, none)? */
int index_get_layer_diff_id(struct index *idx, const char *digest, bool *ret_known, char **ret_diff_id,
                            podrun_error_t *err);

/* Docker references (HOST/REPO:TAG, HOST/REPO@DIGEST) → the image fetched as
 * that, and the manifest it came from. *ret_image_id is NULL when unknown. */
int index_get_ref(struct index *idx, const char *ref, char **ret_image_id, char **ret_manifest_digest,
                  podrun_error_t *err);
/* The image of a docker reference, in one query; *ret NULL when unknown. */
int index_get_ref_image(struct index *idx, const char *ref, struct store_image **ret, podrun_error_t *err);
int index_set_ref(struct index *idx, const char *ref, const char *image_id, const char *manifest_digest,
                  podrun_error_t *err);

/* *ret = NULL (and 0 returned) when no image has that exact id. */
int index_get_image(struct index *idx, const char *id, struct store_image **ret, podrun_error_t *err);

/* All images, oldest import first. */
int index_list_images(struct index *idx, struct store_image ***ret, size_t *ret_n, podrun_error_t *err);

/* Images whose id starts with prefix ("sha512-abc…"), any number. */
int index_find_by_id_prefix(struct index *idx, const char *prefix, struct store_image ***ret, size_t *ret_n,
                            podrun_error_t *err);

/* Images with that name (and version label, when version is not NULL),
 * newest import first. */
int index_find_by_name(struct index *idx, const char *name, const char *version, struct store_image ***ret,
                       size_t *ret_n, podrun_error_t *err);

/* Removes the image, its layer rows and the layers no other image has
 * (their digests in *ret_orphans, if not NULL, for the caller to delete).
 * Removing a missing id is not an error. */
int index_remove_image(struct index *idx, const char *id, char ***ret_orphans, podrun_error_t *err);

int index_touch_image(struct index *idx, const char *id, int64_t last_used, podrun_error_t *err);

/* Where an image was imported from (the remotes table): url → image id and
 * ETag. *ret_image_id is NULL when url is unknown. */
int index_get_remote(struct index *idx, const char *url, char **ret_image_id, char **ret_etag, podrun_error_t *err);
int index_set_remote(struct index *idx, const char *url, const char *image_id, const char *etag, podrun_error_t *err);

/* A remote's whole row (appc over https): its signature's URL and the HTTP
 * cache's ETag and Cache-Control max-age (seconds, 0: none) as of
 * download_time (µs since the epoch, store_now_usec). */
struct index_remote
{
  char *image_id; /* NULL: url unknown */
  char *sig_url, *etag;
  int64_t max_age;
  int64_t download_time;
};
void index_remote_done(struct index_remote *r);
int index_get_remote_row(struct index *idx, const char *url, struct index_remote *ret, podrun_error_t *err);
/* Inserts or replaces url's row with r's fields (download_time 0: now). */
int index_set_remote_row(struct index *idx, const char *url, const struct index_remote *r, podrun_error_t *err);

/* Who signed the image (migration 4); NULL clears it. get gives an empty
 * signer (fingerprint NULL) for an image fetched unverified or unknown. */
int index_set_signer(struct index *idx, const char *id, const struct store_signer *sig, podrun_error_t *err);
int index_get_signer(struct index *idx, const char *id, struct store_signer *ret, podrun_error_t *err);

/* The digest of a layer tree's record (store/tree.h) as it was extracted
 * (migration 5); *ret NULL when none was recorded. Rows go with their layer. */
int index_set_layer_tree(struct index *idx, const char *digest, const char *tree_digest, podrun_error_t *err);
int index_get_layer_tree(struct index *idx, const char *digest, char **ret_tree_digest, podrun_error_t *err);
/* The blob of the detached signature an image was verified with (migration
 * 5); *ret NULL when none was kept. */
int index_set_signature(struct index *idx, const char *id, const char *signature_digest, podrun_error_t *err);
int index_get_signature(struct index *idx, const char *id, char **ret_signature_digest, podrun_error_t *err);

/* How policy.json let a docker:// image in (migration 6): the reference it
 * judged, the decision (STORE_POLICY_*), the manifest list's blob (NULL if
 * none kept) and the signature blobs that met it (NULL-terminated, NULL if
 * none). get gives all NULL for an image fetched before or otherwise. set
 * replaces the image's record in one transaction; *ret_old: what it was
 * (for the caller to remove the blobs no row names any more). */
struct index_policy_record
{
  char *reference;
  char *decision;
  char *list_digest;
  char **signatures;
};
void index_policy_record_done(struct index_policy_record *r);
int index_get_policy_record(struct index *idx, const char *id, struct index_policy_record *ret, podrun_error_t *err);
int index_set_policy_record(struct index *idx, const char *id, const struct index_policy_record *r,
                            struct index_policy_record *ret_old, podrun_error_t *err);
