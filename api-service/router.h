/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The HTTP side of podrun-api, free of sockets: a request as parsed from its
 * method and raw request target, a route table of {method, path pattern,
 * handler} rows, and a reply (a JSON document, a text, or a stream). The
 * server core (http.h) feeds requests in and sends replies out; the fuzz
 * target and the unit tests call it directly.
 *
 * Errors of this module and of the handlers are podrun errors whose status
 * is the HTTP status to answer with (400, 404, …), set with api_fail(). */

/* Bounds on what a request may be (api_request_parse refuses more). */
#define API_MAX_TARGET 2048 /* bytes of the request target: 414 beyond */
#define API_MAX_HEADERS 64  /* header fields: 431 beyond */
#define API_MAX_PARAMS 32   /* query parameters: 400 beyond */
#define API_MAX_SEGMENTS 8  /* path segments: 404 beyond */

struct api_param
{
  char *key, *value; /* percent-decoded, NUL-free */
};

struct api_request
{
  bool head;               /* HEAD: the reply's body is not sent */
  char *segments[API_MAX_SEGMENTS]; /* the path after /v1/, decoded, split at '/' */
  size_t n_segments;
  struct api_param params[API_MAX_PARAMS];
  size_t n_params;
};

/* A stream's reader: up to max bytes into buf; 0 when there is nothing yet
 * (the server waits a little, checks the client is still there, and asks
 * again), -1 ends the stream. */
typedef ssize_t (*api_stream_read_t)(void *state, char *buf, size_t max);

struct api_reply
{
  int status;
  json_t *json;             /* the body, as JSON (owned) */
  char *text;               /* or this text (owned), of content_type */
  size_t text_len;
  const char *content_type; /* for text and stream */
  api_stream_read_t stream; /* or a stream of unknown length */
  void (*stream_free)(void *state);
  void *stream_state;
  const char *allow;        /* the Allow header of a 405 */
};
void api_reply_done(struct api_reply *r);

/* Sets *err with the HTTP status. Returns -1. */
int api_fail(podrun_error_t *err, int http_status, const char *fmt, ...) _printf_(3, 4);

/* The reply to an error: {"error": message, "status": N}. */
void api_reply_error(struct api_reply *r, int http_status, const char *msg);

/* Parses method and request target ("/v1/pods?state=running"). Only GET and
 * HEAD are served (405 for any other method, checked first); the path must
 * be absolute, under /v1/, without empty, "." or ".." segments after
 * decoding; parameters are key=value pairs ('&'-separated; '+' is a space),
 * percent-decoded, without NUL bytes. */
int api_request_parse(const char *method, const char *target, struct api_request *ret, podrun_error_t *err);
void api_request_done(struct api_request *r);

/* The value of parameter key (the last one when repeated), or NULL. */
const char *api_request_param(const struct api_request *r, const char *key);

/* Refuses a parameter whose key is not in the NULL-terminated `known`. */
int api_request_check_params(const struct api_request *r, const char *const *known, podrun_error_t *err);

/* A route: pattern segments with "{}" matching any one segment, whose
 * values are handed to the handler in args (in order). */
struct api_context;
typedef int (*api_handler_t)(struct api_context *ctx, const struct api_request *req, char **args,
                             struct api_reply *ret, podrun_error_t *err);
struct api_route
{
  const char *pattern; /* "pods/{}/logs" */
  api_handler_t handler;
};

/* Finds the route for req in the table (ending with a NULL pattern) and
 * runs it; a path no route has is a 404. Always fills ret: the handler's
 * reply, or the error's. */
void api_dispatch(const struct api_route *table, struct api_context *ctx, const struct api_request *req,
                  struct api_reply *ret);

/* The whole path from method and target to reply, as the server runs it. */
void api_handle(const struct api_route *table, struct api_context *ctx, const char *method, const char *target,
                unsigned n_headers, struct api_reply *ret);

/* Filters: ?key=value parameters that select objects. A key may repeat (an
 * object matches when any of that key's values matches) and the keys
 * combine (it must match every key given). Values are checked as they are
 * parsed, so a bad filter is a 400 naming it. */
enum api_filter_kind
{
  API_FILTER_STRING,   /* any non-empty text without control characters */
  API_FILTER_KEYVALUE, /* K=V, K non-empty */
  API_FILTER_TIME,     /* RFC 3339 (2026-01-02T03:04:05Z, with an offset or fraction) or unix seconds */
  API_FILTER_UUID,     /* a UUID prefix: hex digits and '-' */
  API_FILTER_CHOICE,   /* one of the spec's choices */
};
struct api_filter_spec
{
  const char *key;
  enum api_filter_kind kind;
  const char *const *choices; /* API_FILTER_CHOICE */
};
struct api_filter_term
{
  const struct api_filter_spec *spec;
  char *value;     /* STRING, CHOICE, UUID (lower-case); KEYVALUE: the key */
  char *value2;    /* KEYVALUE: the value */
  int64_t usec;    /* TIME */
};
struct api_filter
{
  struct api_filter_term *terms;
  size_t n_terms;
};
/* specs ends with a NULL key; parameters whose key is in `others`
 * (NULL-terminated, may be NULL) are left for the handler, any other key
 * is a 400. */
int api_filter_parse(const struct api_filter_spec *specs, const char *const *others, const struct api_request *req,
                     struct api_filter *ret, podrun_error_t *err);
void api_filter_done(struct api_filter *f);

/* Does the object pass? match(term, obj) tells whether one term matches. */
typedef bool (*api_filter_match_t)(const struct api_filter_term *t, const json_t *obj);
bool api_filter_matches(const struct api_filter *f, const json_t *obj, api_filter_match_t match);

/* RFC 3339 ("2026-01-02T03:04:05Z", "…05.123456+02:00") or unix seconds → µs. */
int api_parse_time(const char *s, int64_t *ret);
