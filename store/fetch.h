/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OCI images into the store: from a registry (docker://), from an OCI image
 * layout on disk (oci:DIR[:TAG]). The caller (stage0) has parsed the
 * reference (oci.h) and found the credentials (auth.h). */
#include "registry.h"
#include "store.h"

/* Which image of a list or index, and under what names it is stored. */
struct store_oci_fetch
{
  const char *os, *arch, *variant; /* the platform wanted (variant NULL: any) */
  const char *name;      /* the store's name of it: "HOST/REPO" */
  const char *appc_name; /* its AC identifier, for the appc manifest (oci_ref_appc_name) */
  const char *tag;       /* the version label; oci: the layout's tag to take (NULL: its only image) */
  const char *ref;       /* the reference to remember it by ("HOST/REPO:TAG"), or NULL */
  const char *default_registry; /* docker-archive: for a RepoTags name without a host (NULL: localhost) */
};

struct store_docker_fetch
{
  struct store_oci_fetch image;
  struct registry_opts registry;
  const char *repo;      /* "library/busybox" */
  const char *reference; /* a tag or "sha256:…" */
  /* Called once the manifest is in, before anything else is downloaded or
   * kept, with its digests ("sha256:HEX", NULL-terminated: the reference's
   * manifest, then for a list or index the platform's instance that is
   * used): -1 refuses the image and nothing enters the store. reg is the
   * registry's session (its signature extension); list (list_len bytes) the
   * list or index as the registry sent it, NULL when the reference named a
   * manifest. NULL: no check. */
  int (*verify)(void *ctx, struct registry *reg, const char *const *digests, const char *list, size_t list_len,
                podrun_error_t *err);
  void *verify_ctx;
};

/* Downloads what the store does not have of the image and imports it; when
 * image.ref already names the manifest the registry gives, nothing is
 * downloaded. Prints nothing (progress goes to registry.progress). */
int store_fetch_docker(struct store *s, const struct store_docker_fetch *f, char **ret_id, podrun_error_t *err);

/* An OCI image layout (index.json, blobs/) imported into the store. */
int store_import_oci_layout(struct store *s, const char *dir, const struct store_oci_fetch *f, char **ret_id,
                            podrun_error_t *err);

/* oci-archive:FILE (a tar of an OCI layout; f->tag as for a layout) or
 * docker-archive:FILE (docker save's format, named by its RepoTags, else
 * f->name), unpacked into the store's temporary space and imported. */
int store_import_archive(struct store *s, const char *file, bool docker, const struct store_oci_fetch *f,
                         char **ret_id, podrun_error_t *err);

/* ---- ACIs over http(s) (fetch-aci.c) ---- */
#include "appc.h"
#include "http.h"

/* How an URL the store already has an image of is treated. */
enum store_aci_policy
{
  STORE_ACI_CACHE = 0, /* a fresh Cache-Control max-age: no request; else a conditional GET (If-None-Match) */
  STORE_ACI_NEW,       /* --pull-policy=new: the store's image, no request at all */
  STORE_ACI_UPDATE,    /* --pull-policy=update: a conditional GET even when fresh */
};

struct store_aci_fetch
{
  const char *url;     /* https://… (http://… with http.insecure_http) */
  const char *sig_url; /* its signature (…aci.asc), or NULL */
  struct http_opts http;
  enum store_aci_policy policy;
  uint64_t max_size; /* of the download; 0: STORE_ACI_MAX */
  /* Called with the downloaded ACI (an fd at offset 0) and the signature's
   * path (NULL when sig_url is NULL or answered 404) before the import:
   * -1 refuses it and nothing enters the store. NULL: no check. */
  int (*verify)(void *ctx, int aci_fd, const char *sig_path, podrun_error_t *err);
  void *verify_ctx;
  bool *ret_cached; /* if not NULL: true when the store's image was used (no download, no verify) */
  /* discovery's name and labels, or NULL: the downloaded image's manifest
   * must have that name and each of those labels with its value (the
   * spec's rule), else it is refused before the import */
  const char *name;
  const struct appc_kvs *labels;
};

#define STORE_ACI_MAX (16ULL << 30)

/* Downloads the ACI at f->url into cas/blob/partial/url-<sha256 of the URL>
 * (resumed after a kill with Range and If-Range on the ETag it came with),
 * fetches the signature beside it, imports it (store_import_aci) and records
 * the URL with the signature's URL, ETag and max-age in the remotes table.
 * *ret_sig_path: the downloaded signature, a temporary file the caller
 * removes, NULL if none (or the store's image was used). */
int store_fetch_aci_url(struct store *s, const struct store_aci_fetch *f, char **ret_id, char **ret_sig_path,
                        podrun_error_t *err);
