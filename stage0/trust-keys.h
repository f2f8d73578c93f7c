/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "podrun.h"

struct http;

#define TRUST_KEY_MAX (1024 * 1024) /* an armored public key, from a file or a URL */

/* An HTTP session for keys with the command line's TLS options
 * (--insecure-options=tls, =http, and =pubkey: both, for keys) and
 * <local-config>/certs.d. */
int trust_keys_http(struct http **ret, podrun_error_t *err);

/* The armored key at url (https, or http with --insecure-options=http or pubkey),
 * at most TRUST_KEY_MAX bytes, through h (NULL: a session of its own). */
int trust_keys_fetch(struct http *h, const char *url, char **ret_text, size_t *ret_len, podrun_error_t *err);

/* A KEY argument: an https/http URL, else a file. */
int trust_keys_read(const char *key, char **ret_text, size_t *ret_len, podrun_error_t *err);
