/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* The image store under <dir>: cas/blob/<alg>/<2 hex>/<hex> holds blobs by
 * digest (each ACI uncompressed, so its sha512 is the appc image id; an OCI
 * image's manifest, config and layers as fetched), cas/layer/<digest>/rootfs
 * each layer extracted once, shared by every image that has it, cas/tree/<id>/
 * a squashed render where one is needed (a pathWhitelist), cas/index.db the
 * SQLite index. See Documentation/store-format.md. */
struct store;

struct store_image
{
  char *id;          /* "sha512-" + 128 lower-case hex */
  char *name;        /* AC name from the manifest */
  char *version;     /* labels, NULL when absent */
  char *os;
  char *arch;
  char *labels;      /* the manifest's "labels" as compact JSON ("[]" if none) */
  char *manifest;    /* the image manifest, JSON text as stored in the ACI */
  uint64_t size;     /* bytes of its layer blobs (an ACI: its blob) */
  uint64_t shared;   /* of those, bytes of layers another image has too (store_list only) */
  int64_t import_time; /* unix time, microseconds */
  int64_t last_used;   /* unix time, microseconds */
  char *format;        /* "appc" or "oci" */
  char *manifest_digest; /* oci: the manifest's blob ("sha256-…"); appc: NULL */
};

/* Digests in the store are written "sha256-<hex>" / "sha512-<hex>" (appc's
 * spelling); OCI's "sha256:<hex>" is converted where it comes in. */
#define STORE_MEDIA_ACI "application/vnd.appc.aci"

struct store_layer
{
  char *digest;     /* of the blob */
  char *media_type; /* STORE_MEDIA_ACI or an OCI layer type */
  uint64_t size;    /* bytes of the blob */
  char *diff_id;    /* OCI: "sha256:…" of the uncompressed tar (its config's rootfs.diff_ids); ACI: NULL */
};
void store_layer_list_free(struct store_layer *v, size_t n);

void store_image_free(struct store_image *img);
void store_image_done(struct store_image *img); /* frees what it holds, not itself */
static inline void store_image_freep(struct store_image **p) { store_image_free(*p); }
#define _cleanup_store_image_ _cleanup_(store_image_freep)
void store_image_list_free(struct store_image **v, size_t n);

enum store_flags
{
  STORE_READONLY = 1 << 0, /* never create or change anything */
};

int store_open(const char *dir, unsigned flags, struct store **ret, podrun_error_t *err);
void store_close(struct store *s);
static inline void store_closep(struct store **s) { store_close(*s); }
#define _cleanup_store_ _cleanup_(store_closep)

/* Imports the ACI at path (tar, optionally gzip/bzip2/xz): stores it
 * uncompressed as a blob named by its sha512, checks every entry (see
 * store/extract.h) and the manifest, and indexes it. Importing an image that
 * is already there returns its id and changes nothing. */
int store_import_aci(struct store *s, const char *path, char **ret_id, podrun_error_t *err);
/* The same, and when url is set records that url names the image (row's
 * other fields, see index.h) under the lock of the import. */
struct index_remote;
int store_import_aci_remote(struct store *s, const char *path, const char *url, const struct index_remote *row,
                            char **ret_id, podrun_error_t *err);

/* The same for a local file that is imported again and again (the bundled
 * stage1 images, `run ./app.aci`): the store remembers which image came from
 * which path with the file's identity (size, mtime, ctime, device, inode) as
 * its ETag, and imports it again only when the file changed — so a rebuilt
 * or upgraded stage1 of the same version is never shadowed by an old
 * import, and an unchanged file is not read again. */
int store_import_aci_cached(struct store *s, const char *path, char **ret_id, podrun_error_t *err);

/* NAME (newest import), NAME:VERSION, or a unique id prefix "sha512-…" or
 * "sha256-…". */
int store_resolve(struct store *s, const char *ref, struct store_image **ret, podrun_error_t *err);

int store_list(struct store *s, struct store_image ***ret, size_t *ret_n, podrun_error_t *err);

/* The image a docker reference ("HOST/REPO:TAG", "HOST/REPO@sha256:…") was
 * fetched as, if the store still has it; *ret NULL otherwise. */
int store_get_ref(struct store *s, const char *ref, struct store_image **ret, podrun_error_t *err);
/* The image fetched from url (an https ACI), if the store still has it. */
int store_get_remote(struct store *s, const char *url, char **ret_id, podrun_error_t *err);

/* Removes the image's index row, rendered tree and blob. */
int store_remove(struct store *s, const char *id, podrun_error_t *err);

/* The image's layers as directories to stack (bottom first), each extracted
 * once into cas/layer/<digest>/rootfs and shared by every image that has it:
 * an ACI's appc dependencies and then its own, an OCI image's in its
 * manifest's order (their whiteouts are overlayfs whiteouts). An image with a
 * pathWhitelist is one squashed directory, rendered once into cas/tree/<id>.
 * Marks the image used. */
int store_image_layers(struct store *s, const char *id, char ***ret_dirs, podrun_error_t *err);

enum store_copy_flags
{
  STORE_COPY_ROOTFS_ONLY = 1 << 0, /* the rootfs contents, no manifest */
  STORE_COPY_OVERWRITE = 1 << 1,   /* replace an existing dest */
  STORE_COPY_WITH_DEPS = 1 << 2,   /* render: dependencies and pathWhitelist */
};
/* Writes the image into a new directory dest (atomically: built beside it,
 * then renamed into place). */
int store_copy_to_dir(struct store *s, const char *id, const char *dest, unsigned flags, podrun_error_t *err);

/* Writes the image's ACI (uncompressed; its sha512 is the id) to out. */
int store_export(struct store *s, const char *id, const char *out, bool overwrite, podrun_error_t *err);

/* Writes an uncompressed ACI with the given manifest (JSON text) and the
 * directory rootfs (no trailing slash) as its rootfs/, atomically to out. */
int store_write_aci(const char *rootfs, const char *manifest, const char *out, bool overwrite, podrun_error_t *err);

struct store_gc_report
{
  char **removed_images; /* ids */
  size_t leftovers;      /* incomplete or orphaned blobs and trees swept */
};
void store_gc_report_done(struct store_gc_report *r);

/* Removes images not used for grace_usec, except those in keep (ids, NULL-
 * terminated, may be NULL), and sweeps whatever an interrupted command left
 * behind. Takes the store's exclusive lock. */
int store_gc(struct store *s, int64_t grace_usec, char *const *keep, struct store_gc_report *ret,
             podrun_error_t *err);

int64_t store_now_usec(void);

/* Who signed an image, as verified when it was fetched (store/trust.h):
 * the signer's primary key fingerprint, the prefix the key is trusted for
 * ("" for a root key), the time of verification. fingerprint is NULL for an
 * image fetched unverified (--insecure-options=image). */
struct store_signer
{
  char *fingerprint;
  char *prefix;
  int64_t verified_time; /* unix time, microseconds */
};
void store_signer_done(struct store_signer *sig);
int store_set_signer(struct store *s, const char *id, const struct store_signer *sig, podrun_error_t *err);
int store_get_signer(struct store *s, const char *id, struct store_signer *ret, podrun_error_t *err);
/* For a read-only store: did the index change under a reader that could
 * not take part in SQLite's locking (index_changed)? Read again then. */
bool store_changed(struct store *s);
/* The image's own layer rows, bottom first, as the index has them (read only). */
int store_get_layers(struct store *s, const char *id, struct store_layer **ret, size_t *ret_n, podrun_error_t *err);

/* image verify (store/verify.c). keep_signature stores the detached
 * signature read from sig_fd (from offset 0) that the image was verified
 * with as a blob the image's row names; open_signature opens it (*ret_fd
 * -1 when none was kept). verify_image hashes each of the image's blobs
 * (an ACI's, an OCI image's config, manifest and layers) against its
 * digest and walks each extracted layer tree against the record of its
 * extraction (store/tree.h): -1 with the first thing wrong (EBADMSG for a
 * difference) or 0. */
int store_keep_signature(struct store *s, const char *id, int sig_fd, podrun_error_t *err);
int store_open_signature(struct store *s, const char *id, int *ret_fd, podrun_error_t *err);
/* An ACI's blob (its id), to read. */
int store_open_aci(struct store *s, const char *id, int *ret_fd, podrun_error_t *err);
int store_verify_image(struct store *s, const char *id, podrun_error_t *err);

/* How policy.json let a docker:// image in, kept for image verify to judge
 * it again (store/verify.c): the reference it judged (HOST/REPO:TAG or
 * HOST/REPO@DIGEST), the decision, and for STORE_POLICY_SIGNED_BY the
 * signatures that met it and the manifest list (or index) the image was
 * picked from (NULL when it came from no list), each kept as a blob of
 * cas/blob/sha256 that store_remove and store_gc remove with the image.
 * keep_policy replaces what the image had (its old blobs go unless another
 * row names them). get_policy reads them back (all NULL and n 0 when
 * nothing was kept: fetched by an older podrun, or not from a registry). */
#define STORE_POLICY_SIGNED_BY "signedBy"
#define STORE_POLICY_ACCEPT_ANYTHING "insecureAcceptAnything"
#define STORE_POLICY_INSECURE "insecure-options" /* a signedBy passed over with --insecure-options=image */
#define STORE_POLICY_SIGNATURE_MAX (4 * 1024 * 1024) /* as trust-sign.h takes one */
#define STORE_POLICY_LIST_MAX (4 * 1024 * 1024)      /* as oci.h takes a manifest */

struct store_policy
{
  char *reference;
  char *decision;
  char *list; /* NUL-terminated besides */
  size_t list_len;
  char **sigs; /* each NUL-terminated besides */
  size_t *lens;
  char **sig_digests; /* their blobs' digests (sha256-…) */
  size_t n;
};
void store_policy_done(struct store_policy *p);
int store_keep_policy(struct store *s, const char *id, const struct store_policy *p, podrun_error_t *err);
int store_get_policy(struct store *s, const char *id, struct store_policy *ret, podrun_error_t *err);
