/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* The trust store, laid out as rkt kept it. A trustedkeys directory holds
 *   root.d/<fingerprint>                     keys trusted for every image name
 *   prefix.d/<escaped prefix>/<fingerprint>  keys trusted for names under a prefix
 * each file an armored OpenPGP public key named by its primary key's
 * fingerprint (lower-case hex). The local set (<local-config>/trustedkeys) is
 * what `podrun trust` changes; the system set (<system-config>/trustedkeys)
 * is read, never written. Every function takes the trustedkeys directories
 * themselves. gpg runs only in private, temporary homes (see trust_verify):
 * the user's ~/.gnupg is never read or written. */

/* A prefix as a directory name: '/' becomes ',' ("example.com/app" →
 * "example.com,app"); AC identifiers have no ',', so this is reversible.
 * NULL when prefix is not an AC identifier. */
char *trust_escape_prefix(const char *prefix);
char *trust_unescape_prefix(const char *dirname);

/* Does prefix cover name, by whole path components? "example.com" covers
 * "example.com" and "example.com/app", not "example.co" nor "example.com2". */
bool trust_prefix_covers(const char *prefix, const char *name);

/* "ABCD 1234 …" or "abcd1234…" → 40 (or 64) lower-case hex digits; NULL
 * when it is not a fingerprint. */
char *trust_normalize_fingerprint(const char *s);

struct trust_key
{
  char *prefix;      /* "" for a root key */
  char *fingerprint; /* the primary key's, lower-case hex */
  char *uid;         /* its first user id ("" when it has none) */
  char *file;        /* where the trust store keeps it ("" before it is added) */
  bool system;       /* of the read-only system set */
  bool masked;       /* a system key masked by an empty file of its name in the local set (uid says which) */
};
void trust_key_done(struct trust_key *k);
void trust_key_list_free(struct trust_key *v, size_t n);

/* Reads an armored public key: exactly one key, not a secret key, neither
 * expired nor revoked now. Sets fingerprint and uid (prefix and file ""). */
int trust_key_describe(const char *armored, size_t len, struct trust_key *ret, podrun_error_t *err);

/* Trusts the key (armored, as trust_key_describe takes it) for prefix, or
 * for every name when prefix is NULL: writes it atomically to
 * <local_dir>/prefix.d/<escaped>/<fingerprint> (or root.d/), mode 0644,
 * directories 0755, replacing an older copy of the same key. */
int trust_add(const char *local_dir, const char *prefix, const char *armored, size_t len, struct trust_key *ret,
              podrun_error_t *err);

/* Every trusted key: the system set's first, then the local set's; root
 * keys before prefixes, prefixes and fingerprints sorted. A file that is not
 * a key is listed with uid "(unreadable: …)" rather than hiding the rest.
 * rkt's masking: an empty file in the local set named like a system key
 * (same root.d or prefix directory, same fingerprint) masks it: it is
 * listed masked (uid "(masked by FILE)") and trusted for nothing; a local
 * key file of the same name replaces the system's (listed once, local). */
int trust_list(const char *local_dir, const char *system_dir, struct trust_key **ret, size_t *ret_n,
               podrun_error_t *err);

/* Removes the key (a fingerprint, any case, spaces allowed) from the local
 * set, for every prefix and root; *ret_files (NULL-terminated) says which
 * files went. A key only the system set has is an error saying so (that set
 * is read-only), as is a key nobody trusts (ENOENT). */
int trust_remove(const char *local_dir, const char *system_dir, const char *fingerprint, char ***ret_files,
                 podrun_error_t *err);

struct trust_result
{
  char *fingerprint;     /* the signer's primary key, lower-case hex */
  char *prefix;          /* the prefix it is trusted for ("" for a root key) */
  int64_t verified_time; /* unix time, microseconds */
};
void trust_result_done(struct trust_result *r);

/* Verifies the detached signature read from sig_fd (armored or binary) of
 * the bytes read from data_fd (both from offset 0) for an image called
 * image_name. Accepted when a signature in it is good and made by a key (or
 * a subkey of one) trusted for a path-component prefix of image_name or as a
 * root key, neither expired nor revoked now. gpg runs in a private temporary
 * home (mkdtemp, 0700; TMPDIR or /tmp) holding exactly those keys, with no
 * agent or dirmngr started; it is removed before returning. The refusals are
 * one line each: no key trusted for the name, not a signature, bad
 * signature, signed by a key not trusted for the name (its fingerprint and
 * what it is trusted for), an expired or revoked key. */
int trust_verify(const char *local_dir, const char *system_dir, const char *image_name, int data_fd, int sig_fd,
                 struct trust_result *ret, podrun_error_t *err);

/* How many keys are trusted for name (for a prefix of it, or as root keys):
 * what --trust-keys-from-https asks before it trusts keys on first use. */
int trust_count_for(const char *local_dir, const char *system_dir, const char *name, size_t *ret,
                    podrun_error_t *err);
