/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "router.h"

/* The server core of podrun-api and podrun-metadata: listening sockets
 * (unix or TCP, bound here or inherited through socket activation), one
 * libmicrohttpd daemon per socket with a thread per connection, and the
 * limits against abuse. It knows nothing of pods: it hands each request to
 * the caller's handler (podrun-api's runs api_handle() over its route
 * table). */

struct api_http_limits
{
  unsigned max_connections;   /* per listener; more wait in the kernel's backlog */
  unsigned max_streams;       /* streamed replies (follow, events) at once: 503 beyond */
  unsigned request_timeout;   /* seconds from a request's first byte to its last header */
  unsigned idle_timeout;      /* seconds a connection may be silent */
  size_t max_request_bytes;   /* request line and headers; 431 (or 414) beyond */
  size_t max_body_bytes;      /* a request's body; 0: bodies are not read (413 beyond) */
  unsigned max_per_ip;        /* connections from one IP address at once (TCP); 0: no limit of its own */
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
/* "tcp:HOST:PORT" of a bound TCP socket (the port a tcp:HOST:0 got),
 * malloc'd; NULL when fd is not one. */
char *api_tcp_spec(int fd);
/* The sockets systemd passed (sd_listen_fds); 0 when none. */
int api_listen_inherited(struct api_listener **ret, size_t *ret_n, podrun_error_t *err);

/* A request as the handler gets it, once its headers and body are in. */
struct api_http_request
{
  const char *method;
  const char *target;       /* the raw request target, not decoded */
  unsigned n_headers;
  const char *content_type; /* NULL when none was sent */
  const char *body;         /* NUL-terminated (a NUL in it ends nothing: body_len counts) */
  size_t body_len;
  int fd;                   /* the connection, for its peer (SO_PEERCRED, getpeername); -1 if unknown */
};
/* Fills ret (status, and a JSON, text or stream reply). */
typedef void (*api_http_handler_t)(void *userdata, const struct api_http_request *req, struct api_reply *ret);

struct api_http;
/* Serves every listener until api_http_stop(). A stream reply counts
 * against max_streams for as long as it runs. */
int api_http_start(const struct api_listener *ls, size_t n, const struct api_http_limits *limits,
                   api_http_handler_t handler, void *userdata, struct api_http **ret, podrun_error_t *err);
void api_http_stop(struct api_http *h);

/* Streams running now (for tests and /v1/info). */
unsigned api_http_streams(struct api_http *h);

/* The service's process (process.c). Becomes uid:gid with gid its only
 * group, keeping the one capability `keep` (-1: none) in its effective,
 * permitted and bounding sets, with no new privileges; and checks that root
 * cannot be had again. */
int api_drop_root(uid_t uid, gid_t gid, int keep, podrun_error_t *err);
/* SIGTERM, SIGINT and SIGHUP blocked, for sigwait() in the main thread (the
 * signals end a service there, never in a handler's thread); SIGPIPE ignored. */
void api_block_signals(sigset_t *mask);
