/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* podrun's one HTTP client, on libcurl (loaded on first use, store/dl.h):
 * a session of TLS options (the system's CAs, certs.d's, insecure_tls for
 * one host), a user agent, low-speed aborts (PODRUN_LOW_SPEED_TIME) and a
 * redirect policy (the client follows them itself: at most 5, only to http
 * or https, never from https to http without insecure_http). It GETs small
 * bodies into memory under a cap and large ones into a caller's sink with
 * Range resume, conditionally with If-None-Match (a 304 is "not modified"),
 * and reports ETag and Cache-Control max-age. The registry client
 * (registry.h) and the appc fetchers (discovery.h, fetch.h) share it.
 * It never sends credentials itself: a caller's setup hook does, per
 * attempt, so they never follow a redirect to another host. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* curl's gcc type checks turn curl_easy_setopt into a macro of the real name */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "error.h"

/* Progress of one sink: bytes it has (its offset included) of total (0: not known). */
typedef void (*http_progress_fn)(void *ctx, const char *id, uint64_t done, uint64_t total);

struct http_opts
{
  bool insecure_tls;  /* no certificate verification: for the session's host only (http_set_host), or
                       * for every host when none is set */
  bool insecure_http; /* plain http URLs and redirects from https to http are allowed */
  const char *ca_dir; /* <config>/certs.d or NULL: the .crt files of <ca_dir>/<name>/ (name "host:port",
                       * or "host" on the scheme's port) are trusted besides the system's CAs */
  const char *user_agent; /* NULL: "podrun" */
  const char *peer;       /* who answers, in messages ("the registry sends…"); NULL: "server" */
  http_progress_fn progress; /* NULL: none */
  void *progress_ctx;
};

#define HTTP_LOW_SPEED_LIMIT 1024 /* bytes/s, for HTTP_LOW_SPEED_TIME s (PODRUN_LOW_SPEED_TIME) */
#define HTTP_LOW_SPEED_TIME 30
#define HTTP_CONNECT_TIMEOUT 30
#define HTTP_MAX_REDIRECTS 5
#define HTTP_ERRBODY_MAX (64 * 1024)

/* A session, used by one thread at a time. */
struct http;

int http_new(const struct http_opts *opts, struct http **ret, podrun_error_t *err);
void http_free(struct http *h);
static inline void http_freep(struct http **h)
{
  if (*h)
    http_free(*h);
}
#define _cleanup_http_ _cleanup_(http_freep)

/* The host (as written, "HOST[:PORT]": its certs.d name) and its authority
 * ("host:port", the port explicit) that insecure_tls is for. */
void http_set_host(struct http *h, const char *host, const char *authority);
bool http_insecure_http(const struct http *h);
const char *http_ca_dir(const struct http *h);

/* A large body's destination: the sink verifies what it gets. */
struct http_sink
{
  const char *id;   /* names it to the progress callback */
  uint64_t size;    /* the bytes expected; with size_unknown, the most accepted */
  bool size_unknown;
  uint64_t offset;  /* bytes the sink already has: only the rest is asked for */
  /* Receives the bytes after offset, in order. Returns 0, or -1 with *err set to abort. */
  int (*write)(void *ctx, const void *buf, size_t len, podrun_error_t *err);
  /* The server sent the whole body, not the range asked for: the sink drops
   * what it had and write() starts again at byte 0. NULL is fine when offset is 0. */
  int (*restart)(void *ctx, podrun_error_t *err);
  /* The answer's headers are in (a 2xx): its ETag (NULL if none), before any
   * byte. NULL: not called. */
  int (*begin)(void *ctx, const char *etag, podrun_error_t *err);
  void *ctx;
};

/* One exchange, with the redirects and retries it takes. Callers fill the
 * request part; http_xfer_done frees what it owns (url, what included). */
struct http_xfer
{
  struct http *http;
  CURL *h; /* NULL: the session's own handle (http_perform) */
  char *url;  /* owned; a redirect replaces it */
  char *what; /* owned; names the request in messages */
  const char *accept;        /* a whole "Accept: …" header line, or NULL */
  const char *if_none_match; /* an ETag: a 304 answer is not_modified */
  const char *if_range;      /* an ETag, with a sink's offset: sent as If-Range */
  bool raw;    /* any status is an answer: the caller judges it */
  bool follow; /* follow redirects */
  size_t max;  /* in-memory body: at most this many bytes */
  const char *too_large; /* the message when over max */
  struct http_sink *sink; /* NULL: the body goes to buf */
  /* Each attempt: more options (credentials) on h. 0 or -1. */
  int (*setup)(struct http_xfer *x, podrun_error_t *err);
  /* A status that is no success, redirect followed or 304: 1 to try again,
   * -1 with *err set. NULL: http_xfer_error. */
  int (*answer)(struct http_xfer *x, podrun_error_t *err);
  void *userdata;

  /* the response */
  CURLcode code; /* of the last attempt */
  long status;
  bool not_modified;
  char *www_authenticate, *content_type, *content_range, *etag;
  int64_t max_age; /* Cache-Control max-age, -1 if none (or no-store/no-cache) */
  long long content_length;
  char *errbody; /* the first HTTP_ERRBODY_MAX bytes of a 4xx/5xx body */
  size_t errbody_len;
  char *buf; /* the body (NUL-terminated), when no sink */
  size_t len, cap;
  unsigned redirects;
  podrun_error_t error; /* http_perform_many: this transfer's failure */
  bool finished;        /* http_perform_many: done */

  /* private */
  struct curl_slist *headers;
  bool headers_done, active;
  uint64_t base, got;
  podrun_error_t cb_err;
  char errbuf[CURL_ERROR_SIZE];
};

void http_xfer_done(struct http_xfer *x);
/* Runs x to its end: 0, or -1 with *err set. */
int http_perform(struct http_xfer *x, podrun_error_t *err);
/* Runs n transfers, parallel at once, each on a handle of its own. The first
 * failure stops the others: *ret_failed is its index (-1: none), its error
 * in its xfer's error; the finished ones have finished set. -1 only when
 * libcurl itself fails. */
int http_perform_many(struct http *h, struct http_xfer **xs, size_t n, unsigned parallel, ssize_t *ret_failed,
                      podrun_error_t *err);

/* The error of an answer with status x->status: "WHAT: not found" (404,
 * ENOENT), "WHAT: HTTP N" (EPROTO), with detail (NULL: none) in
 * parentheses. */
int http_xfer_error(struct http_xfer *x, const char *detail, podrun_error_t *err);
/* The last attempt failed in a way a plain-http server answering a TLS
 * client makes it fail. */
bool http_xfer_tls_failed(const struct http_xfer *x);

/* A GET of a whole answer, for the callers without protocol of their own. */
struct http_response
{
  long status;
  bool not_modified;  /* a 304 to if_none_match */
  char *body;         /* NUL-terminated; NULL with a sink */
  size_t len;
  char *etag;         /* NULL if none */
  int64_t max_age;    /* -1 if none */
  char *content_type; /* NULL if none */
  char *url;          /* after redirects */
};
void http_response_done(struct http_response *r);

enum
{
  HTTP_GET_ANY_STATUS = 1 << 0, /* a 4xx or 5xx is an answer (status), not an error */
};

/* A GET of url (http only with insecure_http) into memory, at most max
 * bytes ("WHAT: too large (over N bytes)"), or with sink into it (status
 * 2xx), following redirects. what names it in messages (NULL: the URL). */
struct http_request
{
  const char *url;
  const char *what;
  size_t max;
  struct http_sink *sink;
  const char *if_none_match; /* NULL or an ETag: a 304 is not_modified */
  const char *if_range;      /* NULL or the ETag of what the sink has: a 200 means it changed */
  unsigned flags;            /* HTTP_GET_* */
};
int http_get(struct http *h, const struct http_request *req, struct http_response *ret, podrun_error_t *err);

/* URLs: "scheme://host:port" and "host:port" (lowercase, the port explicit),
 * the certs.d name ("host:port", "host" on the default port); -1 / NULL when
 * not a URL. Need libcurl loaded (http_new). */
int http_url_origin(const char *url, char **ret_origin, char **ret_authority);
char *http_certs_name(const char *url);
/* HOST[:PORT], a name, IPv4 or [IPv6] with an optional port. */
bool http_host_valid(const char *s);
