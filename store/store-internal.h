/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dl.h"

#include "index.h"
#include "lock.h"
#include "store.h"

struct store
{
  char *dir;
  int dirfd;  /* <dir> */
  int lockfd; /* <dir>/locks/store, -1 when read-only */
  struct index *idx;
  bool readonly;
  /* what this process added to the store since the last keep or discard:
   * blobs committed and layer trees extracted (store_discard_created) */
  char **created_blobs, **created_layers;
};

/* A failed import removes what it added that no index row names (blobs,
 * layer trees): an error leaves nothing behind. Only this process's own
 * additions, so another import's blobs are never taken from under it.
 * Under the store lock. */
void store_discard_created(struct store *s);
void store_keep_created(struct store *s);
/* Unlinks the blob when no index row names it (under the exclusive lock). */
int store_remove_dead_blob(struct store *s, const char *digest, podrun_error_t *err);

#define STORE_BLOB_ROOT "cas/blob"
#define STORE_BLOB_DIR STORE_BLOB_ROOT "/sha512"
#define STORE_PARTIAL_DIR STORE_BLOB_ROOT "/partial"
#define STORE_TREE_DIR "cas/tree"
#define STORE_LAYER_DIR "cas/layer"
#define STORE_TMP_PREFIX ".tmp-"
#define SHA512_HEX_LEN 128
#define SHA256_HEX_LEN 64

/* The hex length a digest "sha512-…" / "sha256-…" must have (0: neither),
 * and where its hex starts. */
size_t store_digest_hex_len(const char *digest, const char **ret_hex);

/* Adders (import, render, copy) share the store lock; removers (rm, gc) take
 * it exclusively, so nothing is removed from under a running import. */
int store_lock(struct store *s, enum lock_mode mode, podrun_error_t *err);
void store_unlock(struct store *s);

/* "cas/blob/sha512/ab/ab…" for "sha512-ab…" (a full digest; a bare hex is
 * sha512's). */
char *store_blob_path(const char *id);
int store_blob_open(struct store *s, const char *id, int *ret_fd, podrun_error_t *err);
/* mkdtemp below dirfd: "<parent>/<prefix>" and random characters; returns
 * its relative path and an fd of it that holds an exclusive flock as long as
 * it is open (its maker is alive: store_sweep_tmp_at leaves it alone). */
int store_mkdtemp_at(int dirfd, const char *parent, const char *prefix, char **ret, int *ret_fd,
                     podrun_error_t *err);
/* Removes every directory "<parent>/<prefix>…" below dirfd that no
 * store_mkdtemp_at caller holds any more: what a killed one left. */
int store_sweep_tmp_at(int dirfd, const char *parent, const char *prefix, podrun_error_t *err);

bool store_id_is_full(const char *id);

/* Builds into a fresh temporary directory "<parent>/<prefix>…" beside
 * `final` (relative to dirfd) with fill(ctx, fd of it) and renames it into
 * place (over an old one when overwrite). 1 when another process won. */
int store_build_atomically(int dirfd, const char *parent, const char *prefix, const char *final, bool overwrite,
                           int (*fill)(void *ctx, int fd, podrun_error_t *err), void *ctx, podrun_error_t *err);

/* Blobs by digest (blob.c). A writer downloads into
 * cas/blob/partial/<digest>, resuming what a killed writer left (offset:
 * bytes already there, hashed again), and waits for another writer of the
 * same blob. open gives *ret = NULL when the blob is already stored.
 * write refuses bytes past size; restart drops what is there (a server that
 * ignored a Range); commit checks size and digest ("digest mismatch": the
 * partial is removed) and links the blob into place. free keeps the partial
 * for a later resume when keep_partial, else removes it. The caller holds
 * the store's shared lock throughout. */
struct store_blob_writer;
bool store_blob_exists(struct store *s, const char *digest);
int store_blob_writer_open(struct store *s, const char *digest, uint64_t size, struct store_blob_writer **ret,
                           podrun_error_t *err);
uint64_t store_blob_writer_offset(const struct store_blob_writer *w);
int store_blob_writer_write(struct store_blob_writer *w, const void *buf, size_t n, podrun_error_t *err);
int store_blob_writer_restart(struct store_blob_writer *w, podrun_error_t *err);
int store_blob_writer_commit(struct store_blob_writer *w, podrun_error_t *err);
void store_blob_writer_free(struct store_blob_writer *w, bool keep_partial);
/* A small blob held in memory (a manifest, a config), stored at once. */
int store_blob_put(struct store *s, const char *digest, const void *buf, size_t len, podrun_error_t *err);

/* Copies the tree at root (not crossing mounts, following no symlink) into
 * destfd, owners, modes, times, xattrs and hardlinks kept. */
int store_copy_tree(const char *root, int destfd, podrun_error_t *err);

/* An OCI image as one tree, whiteouts applied: its one layer's directory,
 * or a read-only overlay of its layers attached nowhere (*ret_mntfd, *ret_root
 * "/proc/self/fd/N"; -1 for one layer). */
int store_squashed_root(struct store *s, const struct store_image *img, char **ret_root, int *ret_mntfd,
                        podrun_error_t *err);

/* Fills an index row's name, labels (version, os, arch, all) and manifest
 * from an appc image manifest, which it validates. */
int store_describe_image(const char *manifest, size_t len, struct store_image *img, podrun_error_t *err);

/* "sha256:…" → "sha256-…" */
char *store_digest_from_oci(const char *digest);

/* Each layer extracted once into cas/layer/<digest>/rootfs: those
 * directories, in the layers' order. An extraction checks the layer's
 * diff_id (if it has one); importing: the store's row of the layer, if
 * there is one, must have the same diff_id (a layer an image brings; a
 * pod's start trusts its index). The layers missing are extracted several
 * at once (as root, a thread each, on up to four CPUs), then recorded and
 * put in place in order; the first failure in that order is the call's. */
int store_layer_trees(struct store *s, const struct store_layer *layers, size_t n, bool importing, char ***ret_dirs,
                      podrun_error_t *err);

/* An OCI image whose layer blobs are in the store: its manifest and config
 * stored as blobs, its layers extracted, its rows added (and ref's). The
 * caller holds the shared lock. */
struct store_oci_image
{
  const char *manifest;
  size_t manifest_len;
  const char *content_type;    /* what the registry said, or the descriptor's media type */
  const char *manifest_digest; /* "sha256-…" of manifest */
  const char *config;
  size_t config_len;
  const char *name, *appc_name, *tag, *ref; /* as in store_oci_fetch */
};
int store_import_oci_locked(struct store *s, const struct store_oci_image *in, char **ret_id, podrun_error_t *err);
/* The image of that config ("sha256:…") is in the store already: its names
 * recorded (in's), 1 and its id. 0 when it is not. */
int store_oci_known_locked(struct store *s, const struct store_oci_image *in, const char *config_digest,
                           char **ret_id, podrun_error_t *err);

/* Removes index row, tree and blob; the caller holds the exclusive lock. */
int store_remove_locked(struct store *s, const char *id, podrun_error_t *err);

static inline void archive_read_freep(struct archive **a)
{
  if (*a)
    sym_archive_read_free(*a);
}
static inline void archive_write_freep(struct archive **a)
{
  if (*a)
    sym_archive_write_free(*a);
}

/* Files written for the user (export): to "<out>.tmp-<random>", fsynced and
 * renamed over out only when complete. output_open refuses an existing out
 * unless overwrite; output_finish renames (ok) or unlinks (!ok) and closes. */
int store_output_open(const char *out, bool overwrite, char **ret_tmp, int *ret_fd, podrun_error_t *err);
int store_output_finish(int fd, char *tmp, const char *out, bool ok, podrun_error_t *err);
