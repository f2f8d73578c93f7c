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
