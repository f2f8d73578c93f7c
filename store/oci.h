/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OCI and docker images, the pure part: references, manifests, indexes and
 * configs parsed from untrusted bytes (everything a registry sends is
 * hostile), the choice of a platform, and the appc image manifest podrun
 * derives from an image's config (Documentation/docker-mapping.md). No
 * network, no store. Errors are one line and quote what they show. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OCI_MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MEDIA_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MEDIA_LAYER "application/vnd.oci.image.layer.v1.tar"
#define OCI_MEDIA_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MEDIA_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define DOCKER_MEDIA_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MEDIA_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MEDIA_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_MEDIA_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MEDIA_FOREIGN_LAYER "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* Caps on what is parsed: a manifest or index (what the registry code also
 * holds a download to), a config, the layers of one image, the entries of an
 * index. */
#define OCI_MAX_MANIFEST (4 * 1024 * 1024)
#define OCI_MAX_CONFIG (4 * 1024 * 1024)
#define OCI_MAX_LAYERS 1000
#define OCI_MAX_INDEX_ENTRIES 1000
/* Sizes are JSON numbers: at most 2^53, what a double holds exactly. */
#define OCI_MAX_SIZE (UINT64_C(1) << 53)

/* ---- references ---------------------------------------------------------- */

/* [HOST[:PORT]/]NAME[:TAG][@sha256:HEX], without the docker:// scheme. */
struct oci_ref
{
  char *host;   /* "registry.example:5000"; the default registry when none was given */
  char *repo;   /* "library/busybox" */
  char *tag;    /* "latest" when neither a tag nor a digest was given; NULL if digest-only */
  char *digest; /* "sha256:<64 hex>", NULL if none */
};

/* Docker's rules: the first component is a host when it holds '.' or ':',
 * is "localhost" or has an upper-case letter; otherwise the host is
 * default_registry (NULL: refused, the message names defaultRegistry; it
 * must itself read as a host), and a one-component name gets "library/" in
 * front. The name is the distribution
 * spec's grammar (lower-case [a-z0-9] components joined by '.', '_', '__' or
 * dashes, separated by '/', 255 bytes at most with the host); the tag is
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. IPv6 hosts ("[::1]:5000") are refused.
 * *ret is untouched on failure; free it with oci_ref_done(). */
int oci_ref_parse(const char *ref, const char *default_registry, struct oci_ref *ret, podrun_error_t *err);
void oci_ref_done(struct oci_ref *r);
/* "HOST/REPO" */
char *oci_ref_name(const struct oci_ref *r);
/* The normalised reference: "HOST/REPO[:TAG][@DIGEST]" ("busybox" →
 * "HOST/library/busybox:latest"), which parses back to the same fields. */
char *oci_ref_string(const struct oci_ref *r);
/* The AC identifier podrun stores the image under: "HOST/REPO" lower-cased
 * with the port's ':' and every '_' made '-' ("127.0.0.1:5000/a_b/c" →
 * "127.0.0.1-5000/a-b/c"); checked with appc_identifier_is_valid and the
 * length appc's parser takes for an image name's last part. */
int oci_ref_appc_name(const struct oci_ref *r, char **ret, podrun_error_t *err);

/* "sha256:" and 64 lower-case hex digits, or "sha512:" and 128. */
bool oci_digest_is_valid(const char *s);

/* ---- manifests and indexes ----------------------------------------------- */

struct oci_platform
{
  char *os;           /* NULL when the descriptor has no platform */
  char *architecture;
  char *variant;      /* NULL if absent */
};

struct oci_descriptor
{
  char *media_type;
  char *digest;                /* valid (oci_digest_is_valid) */
  uint64_t size;               /* <= OCI_MAX_SIZE */
  struct oci_platform platform; /* index entries only */
  char *ref_name;              /* annotation org.opencontainers.image.ref.name (an OCI layout's tag), or NULL */
};

enum oci_kind
{
  OCI_KIND_INDEX = 1, /* OCI image index or docker manifest list */
  OCI_KIND_MANIFEST,  /* OCI image manifest or docker schema2 manifest */
};

struct oci_index
{
  char *media_type; /* as detected */
  struct oci_descriptor *manifests;
  size_t n_manifests; /* <= OCI_MAX_INDEX_ENTRIES */
};

struct oci_manifest
{
  char *media_type; /* as detected */
  struct oci_descriptor config; /* media type OCI_MEDIA_CONFIG or DOCKER_MEDIA_CONFIG */
  struct oci_descriptor *layers; /* media types: the OCI tar layers (plain, gzip, zstd and their
                                    nondistributable variants) and docker's two */
  size_t n_layers; /* 1..OCI_MAX_LAYERS */
};

/* The kind of a document from its Content-Type (parameters ignored;
 * content_type NULL, or application/json, application/octet-stream or
 * text/plain, which some servers send for anything, count as none), else
 * its mediaType field, else its shape ("manifests": an index; "config" and
 * "layers": a manifest). Anything else, docker schema 1 among it: an error
 * with "unsupported media type" and the type. A Content-Type the document's
 * own mediaType contradicts is refused. */
int oci_detect_kind(const char *buf, size_t len, const char *content_type, enum oci_kind *ret_kind,
                    podrun_error_t *err);

/* Parse and validate; a document of the other kind is refused. */
int oci_index_parse(const char *buf, size_t len, const char *content_type, struct oci_index **ret,
                    podrun_error_t *err);
int oci_manifest_parse(const char *buf, size_t len, const char *content_type, struct oci_manifest **ret,
                       podrun_error_t *err);
void oci_index_free(struct oci_index *i);
void oci_manifest_free(struct oci_manifest *m);
static inline void oci_index_freep(struct oci_index **i) { oci_index_free(*i); }
static inline void oci_manifest_freep(struct oci_manifest **m) { oci_manifest_free(*m); }
#define _cleanup_oci_index_ _cleanup_(oci_index_freep)
#define _cleanup_oci_manifest_ _cleanup_(oci_manifest_freep)

enum oci_compression
{
  OCI_COMPRESSION_NONE,
  OCI_COMPRESSION_GZIP,
  OCI_COMPRESSION_ZSTD,
};
/* A layer media type oci_manifest_parse accepted. */
enum oci_compression oci_layer_compression(const char *media_type);

/* ---- platforms ----------------------------------------------------------- */

/* The index entry (an image manifest, not a nested index) for os/arch and,
 * when variant is not NULL, that variant; with variant NULL the first entry
 * of os/arch is taken, whatever its variant. Entries without a platform are
 * taken only when none has one that matches. None: refused with what is on
 * offer, "no image for linux/amd64 (there are: linux/arm64, linux/arm/v7)".
 * *ret points into the index. */
int oci_index_select(const struct oci_index *index, const char *os, const char *arch, const char *variant,
                     const struct oci_descriptor **ret, podrun_error_t *err);
/* OCI's name for a `uname -m` machine ("x86_64" → "amd64", "aarch64" →
 * "arm64", "armv7l" → "arm" with variant "v7", "i686" → "386"); the
 * machine itself when it is not known. ret_variant may be NULL. */
const char *oci_arch_from_machine(const char *machine, const char **ret_variant);
/* The same for this machine (uname(2)). */
const char *oci_host_arch(const char **ret_variant);
/* appc's name of an OCI arch ("amd64" → "amd64", "arm64" → "aarch64",
 * "arm"+"v7" → "armv7l", "386" → "i386"), NULL when appc has none. */
const char *oci_arch_to_appc(const char *arch, const char *variant);

/* ---- configs ------------------------------------------------------------- */

/* What the store needs of a config besides the app. */
struct oci_config
{
  char *os, *architecture, *variant; /* variant NULL if absent */
  char **diff_ids;                   /* rootfs.diff_ids, NULL-terminated (may be empty) */
  size_t n_diff_ids;
};
int oci_config_parse(const char *buf, size_t len, struct oci_config **ret, podrun_error_t *err);
void oci_config_free(struct oci_config *c);
static inline void oci_config_freep(struct oci_config **c) { oci_config_free(*c); }
#define _cleanup_oci_config_ _cleanup_(oci_config_freep)

/* The appc image manifest (JSON, sorted keys) of an image: name is its AC
 * identifier (oci_ref_appc_name), tag its tag (the version label; NULL for
 * none), etc_passwd the text of the image's /etc/passwd (NULL if it has
 * none), for the group of a User without one. The result is accepted by
 * appc_image_manifest_parse; the mapping is Documentation/docker-mapping.md. */
int oci_config_to_appc(const char *config, size_t len, const char *name, const char *tag, const char *etc_passwd,
                       char **ret_manifest_json, podrun_error_t *err);
