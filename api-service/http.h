/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "router.h"

/* podrun-api's server core, small enough to reuse: listening sockets
 * (unix or TCP, bound here or inherited through socket activation), one
 * libmicrohttpd daemon per socket with a thread per connection, and the
 * limits against abuse. It knows nothing of pods: it hands each request to
 * api_handle() with the caller's route table. */

struct api_http_limits
{
  unsigned max_connections;   /* per listener; more wait in the kernel's backlog */
  unsigned max_streams;       /* streamed replies (follow, events) at once: 503 beyond */
  unsigned request_timeout;   /* seconds from a request's first byte to its last header */
  unsigned idle_timeout;      /* seconds a connection may be silent */
  size_t max_request_bytes;   /* request line and headers; 431 (or 414) beyond */
};
#define API_HTTP_LIMITS_DEFAULT                                                                        \
  (struct api_http_limits)                                                                           \
  {                                                                                                  \
    .max_connections = 512, .max_streams = 64, .request_timeout = 10, .idle_timeout = 30,            \
    .max_request_bytes = 16384,                                                                      \
  }

struct api_listener
{
  int fd;
  char *spec; /* "unix:/run/podrun/api.sock", "tcp:127.0.0.1:8080", "fd:3" */
};

/* Binds --listen=unix:PATH (an old socket at PATH is replaced; the new one
 * gets mode 0660 and group gid, unless gid is -1) or tcp:HOST:PORT (an IPv6
 * HOST in brackets). */
int api_listen(const char *spec, gid_t gid, struct api_listener *ret, podrun_error_t *err);
/* The sockets systemd passed (sd_listen_fds); 0 when none. */
int api_listen_inherited(struct api_listener **ret, size_t *ret_n, podrun_error_t *err);

struct api_http;
/* Serves every listener until api_http_stop(). A stream reply counts
 * against max_streams for as long as it runs. */
int api_http_start(const struct api_listener *ls, size_t n, const struct api_http_limits *limits,
                   const struct api_route *routes, struct api_context *ctx, struct api_http **ret,
                   podrun_error_t *err);
void api_http_stop(struct api_http *h);

/* Streams running now (for tests and /v1/info). */
unsigned api_http_streams(struct api_http *h);
