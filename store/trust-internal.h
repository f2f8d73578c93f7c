/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What trust.c lends trust-sign.c: its private gpg homes and its
 * verification against the trust store, for attached signatures. */
#include <gpgme.h>

#include "trust.h"

/* A private, temporary gpg home as trust_verify makes one (no agent, no
 * dirmngr, removed by trust_home_free). */
struct trust_home;
int trust_home_new(struct trust_home **ret, podrun_error_t *err);
void trust_home_free(struct trust_home *h);
gpgme_ctx_t trust_home_ctx(struct trust_home *h);

/* "revoked", "expired on DATE" for a key unusable now, else NULL. */
char *trust_key_unusable(gpgme_key_t k);

/* trust_verify's rules for an attached (opaque) signature: sig holds the
 * signed message, whose text goes to plain when a signature in it is
 * accepted for image_name. */
int trust_verify_attached(const char *local_dir, const char *system_dir, const char *image_name, gpgme_data_t sig,
                          gpgme_data_t plain, struct trust_result *ret, podrun_error_t *err);
