/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

/* What an image argument of fetch, run and prepare names (image-fetch.c
 * gets each kind). */
enum image_ref_kind
{
  IMAGE_REF_FILE,   /* a path (absolute, ./ or ../, or *.aci), or a file:// URL */
  IMAGE_REF_ID,     /* sha512-… */
  IMAGE_REF_NAME,   /* NAME[:VERSION]: the store's, or appc discovery's */
  IMAGE_REF_DOCKER, /* docker:// */
  IMAGE_REF_HTTPS,  /* https:// or http:// (an ACI over the network) */
  IMAGE_REF_OTHER,  /* any other scheme:// */
  IMAGE_REF_OCI_LAYOUT,     /* oci:DIR[:TAG] */
  IMAGE_REF_OCI_ARCHIVE,    /* oci-archive:FILE[:TAG] */
  IMAGE_REF_DOCKER_ARCHIVE, /* docker-archive:FILE */
};

enum image_ref_kind image_ref_kind(const char *ref);

/* Refuses what is no kind of image reference (another scheme://) with its
 * message; 0 for the others. */
int image_ref_check(const char *ref, podrun_error_t *err);

