/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A client of the Docker Registry HTTP API v2 (the OCI distribution spec),
 * on libcurl (loaded on first use, store/dl.h). It knows nothing of the
 * store: it hands manifests back in memory and blobs to the caller's sinks.
 *
 * Every request goes to https first; a registry that does not speak TLS is
 * used over http only with insecure_http, one whose certificate does not
 * verify only with insecure_tls (for that host, not for the token server or
 * the storage it redirects to) or its CA in <ca_dir>/<host>/ca.crt. 401s are
 * answered once per request: a Bearer challenge with a token from its realm
 * (cached per scope in the registry object), a Basic one with the
 * credentials. Credentials never appear in a message. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Progress of one blob: bytes the sink has (its offset included) of total. */
typedef void (*registry_progress_fn)(void *ctx, const char *digest, uint64_t done, uint64_t total);

struct registry_opts
{
  const char *host;    /* "HOST[:PORT]", as in the image reference */
  bool insecure_tls;   /* no certificate verification, for host only */
  bool insecure_http;  /* plain http when https fails at the connection */
  const char *ca_dir;  /* <config>/certs.d or NULL: the .crt files of <ca_dir>/<name>/
                        * (name "host:port", or "host" on 443) are trusted besides
                        * the system's CAs, for every host talked to */
  const char *user;    /* NULL: anonymous */
  const char *password;
  unsigned parallel;   /* blobs at once, 0: REGISTRY_PARALLEL */
  const char *user_agent; /* "podrun/VERSION"; NULL: "podrun" */
  registry_progress_fn progress; /* NULL: none */
  void *progress_ctx;
};

#define REGISTRY_PARALLEL 3
/* Manifests (and the blobs of registry_get_blob_small) are held in memory:
 * a larger one is refused while it is received ("manifest too large"). */
#define REGISTRY_MANIFEST_MAX (4 * 1024 * 1024)

/* One registry, used by one thread at a time. */
struct registry;

/* Checks opts, loads libcurl and asks the registry's /v2/ which scheme it
 * speaks. On failure *ret is untouched. */
int registry_open(const struct registry_opts *opts, struct registry **ret, podrun_error_t *err);
void registry_close(struct registry *r);
static inline void registry_closep(struct registry **r)
{
  if (*r)
    registry_close(*r);
}
#define _cleanup_registry_ _cleanup_(registry_closep)

/* GETs the manifest REPO:REFERENCE (a tag or "sha256:HEX"), accepting the
 * OCI index and manifest and Docker's manifest list and schema 2.
 * ret_content_type: the Content-Type without parameters ("" if none);
 * ret_digest: "sha256:HEX" of the body, which must be the reference when that
 * is a digest ("digest mismatch"). Any ret_* may be NULL. A 404 is "not
 * found". */
int registry_get_manifest(struct registry *r, const char *repo, const char *reference, char **ret_body,
                          size_t *ret_len, char **ret_content_type, char **ret_digest, podrun_error_t *err);

/* A blob to download into a sink of the caller's. */
struct registry_blob
{
  const char *digest; /* "ALG:HEX" */
  uint64_t size;      /* from the manifest's descriptor */
  uint64_t offset;    /* bytes the sink already has: only the rest is asked for */
  /* Receives the bytes after offset, in order, never more than size - offset
   * of them. Returns 0, or -1 with *err set to abort this blob. */
  int (*write)(void *ctx, const void *buf, size_t len, podrun_error_t *err);
  /* The server sent the whole blob, not the range asked for: the sink drops
   * what it had and write() starts again at byte 0. NULL is fine when offset
   * is 0. */
  int (*restart)(void *ctx, podrun_error_t *err);
  void *ctx;
  podrun_error_t error; /* NULL on the way in; set by registry_fetch_blobs for each
                         * blob that failed or was cancelled; the caller frees it */
};

/* Downloads the blobs of REPO, opts.parallel at once. The client checks
 * sizes (a longer body is "digest mismatch", a shorter one "truncated"); the
 * sinks verify the digests. The first failure cancels the others; the
 * function then returns -1 with that failure in *err and an error in each
 * unfinished blob ("cancelled"). Blobs whose offset is their size are not
 * asked for. */
int registry_fetch_blobs(struct registry *r, const char *repo, struct registry_blob *blobs, size_t n,
                         podrun_error_t *err);

/* GETs one small blob (a config) into memory, at most max bytes, and checks
 * it against digest (sha256 only). */
int registry_get_blob_small(struct registry *r, const char *repo, const char *digest, size_t max, char **ret_buf,
                            size_t *ret_len, podrun_error_t *err);

/* "sha256:HEX" of buf into out (at least 72 bytes); loads libcrypto. */
int registry_sha256(const void *buf, size_t len, char out[static 72], podrun_error_t *err);

/* The signatures of repo's manifest digest (sha256) by the registry's
 * signature extension (GET /extensions/v2/REPO/signatures/DIGEST, as
 * OpenShift's and Quay's registries offer it): *ret_sigs (each
 * NUL-terminated besides) and their lengths, *ret_n of them, at most
 * REGISTRY_MAX_SIGNATURES; none from a registry without the extension. */
#define REGISTRY_MAX_SIGNATURES 16
int registry_get_signatures(struct registry *r, const char *repo, const char *digest, char ***ret_sigs,
                            size_t **ret_lens, size_t *ret_n, podrun_error_t *err);
/* The extension's answer (len bytes; what names it in messages), parsed. */
int registry_parse_signatures(const char *body, size_t len, const char *what, char ***ret_sigs, size_t **ret_lens,
                              size_t *ret_n, podrun_error_t *err);
