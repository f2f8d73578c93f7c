/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the signatures of registry images are kept, as containers'
 * registries.d(5) says: YAML files (*.yaml) of
 *   default-docker:
 *     lookaside: URL          (or its older name, sigstore)
 *   docker:
 *     NAMESPACE:              HOST[:PORT][/NAME…][:TAG|@DIGEST] or *.DOMAIN
 *       lookaside: URL
 * URL: file:///DIR, http(s)://HOST/PATH. The most specific namespace that
 * covers the image wins, else default-docker. The signatures of a manifest
 * are URL/REPO@sha256=HEX/signature-1, -2, … up to the first missing one.
 * The *-staging keys (where skopeo writes) and use-sigstore-attachments are
 * the publisher's, and not read. Two files of one directory may not give the
 * same namespace (nor both default-docker); the local configuration's
 * directory is read first and wins over the system's. */
#include <stddef.h>

#include "error.h"
#include "http.h"
#include "oci.h"

#define LOOKASIDE_MAX_SIGNATURES 16

struct lookaside_entry
{
  char *ns;   /* NULL for default-docker */
  char *url;  /* without a trailing '/' */
  char *file; /* the file that says so */
};

struct lookaside
{
  struct lookaside_entry *v;
  size_t n;
};

void lookaside_free(struct lookaside *l);
static inline void lookaside_freep(struct lookaside **l)
{
  if (*l)
    lookaside_free(*l);
}
#define _cleanup_lookaside_ _cleanup_(lookaside_freep)

/* Reads the *.yaml files of each directory (missing ones are fine). */
int lookaside_load(const char *const *dirs, struct lookaside **ret, podrun_error_t *err);
/* One file's text, what naming it, into l (for tests and lookaside_load). */
int lookaside_parse(struct lookaside *l, const char *text, size_t len, const char *what, bool override,
                    podrun_error_t *err);

/* The entry for r, NULL when none applies. */
const struct lookaside_entry *lookaside_for(const struct lookaside *l, const struct oci_ref *r);

/* One signature's URL: BASE/REPO@ALG=HEX/signature-N. */
char *lookaside_signature_url(const char *base, const char *repo, const char *digest, unsigned n);

/* The signatures of repo's manifest digest at base (h for http(s)):
 * *ret_sigs (each NUL-terminated besides) and their lengths, *ret_n of them
 * (0 when there are none). A failure other than "not found" is an error. */
int lookaside_fetch(struct http *h, const char *base, const char *repo, const char *digest, char ***ret_sigs,
                    size_t **ret_lens, size_t *ret_n, podrun_error_t *err);
