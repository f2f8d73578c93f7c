/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

/* What an image argument of fetch, run and prepare names. The kinds that
 * cannot be had yet are refused with one message of their own, the same
 * from every verb. */
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

/* Refuses the kinds that cannot be fetched yet (https://, other URLs, the
 * archives) with their message; 0 for the others. */
int image_ref_check(const char *ref, podrun_error_t *err);

/* For a reference that is neither a file nor in the store (*err says so):
 * the reason in the words of its kind (a name: discovery is not there yet;
 * a path: no such file). Returns -1. */
int image_ref_not_found(const char *ref, podrun_error_t *err);
