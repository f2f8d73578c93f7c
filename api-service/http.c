/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "json-util.h"
#include "log.h"

static int64_t now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int listen_unix(const char *path, gid_t gid, podrun_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct stat st;

  if (!*path || strlen(path) >= sizeof(sa.sun_path))
    return podrun_error_new(err, EINVAL, "--listen=unix:%s: the path is empty or too long", ESCAPE(path));
  memcpy(sa.sun_path, path, strlen(path));
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return podrun_error_set(err, errno, "socket");
  /* a socket left by an earlier run is replaced; anything else at PATH is not */
  if (lstat(path, &st) == 0)
    {
      if (!S_ISSOCK(st.st_mode))
        return podrun_error_new(err, EEXIST, "--listen=unix:%s: exists and is not a socket", ESCAPE(path));
      if (unlink(path) < 0)
        return podrun_error_set(err, errno, "remove the old socket %s", QUOTE(path));
    }
  mode_t old = umask(0117);
  int r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
  umask(old);
  if (r < 0)
    return podrun_error_set(err, errno, "bind %s", QUOTE(path));
  if (gid != (gid_t) -1 && chown(path, (uid_t) -1, gid) < 0)
    return podrun_error_set(err, errno, "chown %s to group %u", QUOTE(path), (unsigned) gid);
  if (chmod(path, 0660) < 0)
    return podrun_error_set(err, errno, "chmod %s", QUOTE(path));
  if (listen(fd, SOMAXCONN) < 0)
    return podrun_error_set(err, errno, "listen on %s", QUOTE(path));
  return TAKE_FD(fd);
}

/* The address a TCP socket is bound to, "tcp:HOST:PORT" (the port a
 * tcp:HOST:0 got), malloc'd. */
char *api_tcp_spec(int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
      getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return NULL;
  return ss.ss_family == AF_INET6 ? xasprintf("tcp:[%s]:%s", host, port) : xasprintf("tcp:%s:%s", host, port);
}

static int listen_tcp(const char *hostport, podrun_error_t *err)
{
  _cleanup_free_ char *host = NULL;
  const char *port;
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE },
                  *ai = NULL;

  if (hostport[0] == '[')
    {
      const char *close = strchr(hostport, ']');
      if (!close || close[1] != ':')
        return podrun_error_new(err, EINVAL, "--listen=tcp:%s: expected tcp:[IPV6]:PORT", ESCAPE(hostport));
      host = xstrndup(hostport + 1, (size_t) (close - hostport - 1));
      port = close + 2;
    }
  else
    {
      const char *colon = strrchr(hostport, ':');
      if (!colon)
        return podrun_error_new(err, EINVAL, "--listen=tcp:%s: expected tcp:HOST:PORT", ESCAPE(hostport));
      host = xstrndup(hostport, (size_t) (colon - hostport));
      port = colon + 1;
    }
  unsigned long long p;
  if (parse_uint(port, 65535, &p) < 0)
    return podrun_error_new(err, EINVAL, "--listen=tcp:%s: %s is not a port number", ESCAPE(hostport), QUOTE(port));
  int r = getaddrinfo(host, port, &hints, &ai);
  if (r != 0)
    return podrun_error_new(err, EINVAL, "--listen=tcp:%s: %s is not a numeric address: %s", ESCAPE(hostport),
                            QUOTE(host), gai_strerror(r));
  _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0)
    {
      int e = errno;
      freeaddrinfo(ai);
      return podrun_error_set(err, e, "--listen=tcp:%s", ESCAPE(hostport));
    }
  freeaddrinfo(ai);
  return TAKE_FD(fd);
}

int api_listen(const char *spec, gid_t gid, struct api_listener *ret, podrun_error_t *err)
{
  const char *rest;
  int fd;
  if ((rest = startswith(spec, "unix:")))
    fd = listen_unix(rest, gid, err);
  else if ((rest = startswith(spec, "tcp:")))
    fd = listen_tcp(rest, err);
  else
    return podrun_error_new(err, EINVAL, "--listen=%s: expected unix:PATH or tcp:HOST:PORT", ESCAPE(spec));
  if (fd < 0)
    return -1;
  ret->fd = fd;
  ret->spec = (rest == spec + 4 ? api_tcp_spec(fd) : NULL) ?: xstrdup(spec);
  return 0;
}

int api_listen_inherited(struct api_listener **ret, size_t *ret_n, podrun_error_t *err)
{
  int n = sd_listen_fds(1);
  if (n < 0)
    return podrun_error_set(err, -n, "sd_listen_fds");
  struct api_listener *v = xzalloc(sizeof(*v) * ((size_t) n + 1));
  for (int i = 0; i < n; i++)
    {
      int fd = SD_LISTEN_FDS_START + i;
      if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
        {
          free(v);
          return podrun_error_new(err, EINVAL, "socket activation: fd %d is not a listening stream socket", fd);
        }
      (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
      v[i].fd = fd;
      v[i].spec = xasprintf("fd:%d", fd);
    }
  *ret = v;
  *ret_n = (size_t) n;
  return 0;
}

/* One connection, while it is open: until its request's headers are in, the
 * watchdog ends it at its deadline (a client sending a byte a second). */
struct conn
{
  int fd;
  int64_t deadline; /* monotonic µs; 0: none (a reply is being sent) */
  struct conn *prev, *next;
};

struct api_http
{
  struct MHD_Daemon **daemons;
  size_t n_daemons;
  struct api_http_limits limits;
  api_http_handler_t handler;
  void *userdata;
  atomic_uint streams;
  pthread_mutex_t lock; /* conns */
  struct conn *conns;
  pthread_t watchdog;
  atomic_bool stopping;
};

static void *watchdog(void *arg)
{
  struct api_http *h = arg;
  while (!atomic_load(&h->stopping))
    {
      nanosleep(&(struct timespec){ .tv_nsec = 250 * 1000 * 1000 }, NULL);
      int64_t now = now_usec();
      pthread_mutex_lock(&h->lock);
      /* the fd stays open while its conn is listed: libmicrohttpd reports
       * the close (which unlists it, under this lock) before it closes */
      for (struct conn *c = h->conns; c; c = c->next)
        if (c->deadline && now > c->deadline)
          {
            log_debug("dropping a connection that did not send its request in time");
            (void) shutdown(c->fd, SHUT_RDWR);
            c->deadline = 0;
          }
      pthread_mutex_unlock(&h->lock);
    }
  return NULL;
}

static void notify_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
  struct api_http *h = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    {
      const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      struct conn *c = xzalloc(sizeof(*c));
      c->fd = info ? info->connect_fd : -1;
      c->deadline = now_usec() + (int64_t) h->limits.request_timeout * 1000000;
      pthread_mutex_lock(&h->lock);
      c->next = h->conns;
      if (h->conns)
        h->conns->prev = c;
      h->conns = c;
      pthread_mutex_unlock(&h->lock);
      *socket_context = c;
    }
  else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context)
    {
      struct conn *c = *socket_context;
      pthread_mutex_lock(&h->lock);
      if (c->prev)
        c->prev->next = c->next;
      else
        h->conns = c->next;
      if (c->next)
        c->next->prev = c->prev;
      pthread_mutex_unlock(&h->lock);
      free(c);
      *socket_context = NULL;
    }
}

static struct conn *conn_of(struct MHD_Connection *connection)
{
  const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

static void set_deadline(struct api_http *h, struct MHD_Connection *connection, int64_t deadline)
{
  struct conn *c = conn_of(connection);
  if (!c)
    return;
  pthread_mutex_lock(&h->lock);
  c->deadline = deadline;
  pthread_mutex_unlock(&h->lock);
}

/* A request: its raw target, before libmicrohttpd decodes it (what the
 * router parses), from the time its request line is in. */
struct request
{
  bool headers_done; /* the handler was called once: the headers are in */
  bool body_too_large;
  char *body;        /* what came of it, up to max_body_bytes */
  size_t body_len;
  char target[];
};

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *connection)
{
  size_t n = strlen(uri);
  struct request *r = xzalloc(sizeof(*r) + n + 1);
  memcpy(r->target, uri, n + 1);
  return r;
}

static void completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
  struct api_http *h = cls;
  struct request *req = *con_cls;
  if (req)
    free(req->body);
  free(req);
  *con_cls = NULL;
  /* a kept-alive connection has the idle time and the request time for its next request */
  set_deadline(h, connection,
               now_usec() + (int64_t) (h->limits.request_timeout + h->limits.idle_timeout) * 1000000);
}

struct stream
{
  struct api_http *h;
  int client_fd;
  api_stream_read_t read;
  void (*free)(void *);
  void *state;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream *s = cls;
  for (;;)
    {
      ssize_t n = s->read(s->state, buf, max);
      if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
      if (n > 0)
        return n;
      /* nothing yet: is the client still there? */
      struct pollfd p = { .fd = s->client_fd, .events = POLLRDHUP };
      if (s->client_fd >= 0 && poll(&p, 1, 250) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return MHD_CONTENT_READER_END_WITH_ERROR;
      if (atomic_load(&s->h->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void stream_free(void *cls)
{
  struct stream *s = cls;
  if (s->free)
    s->free(s->state);
  atomic_fetch_sub(&s->h->streams, 1);
  free(s);
}

static struct MHD_Response *json_response(const json_t *j)
{
  _cleanup_free_ char *text = json_dump_sorted(j, false);
  char *body = xasprintf("%s\n", text);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  return r;
}

static struct MHD_Response *make_response(struct api_http *h, struct MHD_Connection *connection,
                                          struct api_reply *reply)
{
  struct MHD_Response *r;
  if (reply->stream)
    {
      if (atomic_fetch_add(&h->streams, 1) >= h->limits.max_streams)
        {
          atomic_fetch_sub(&h->streams, 1);
          _cleanup_free_ char *m = xasprintf("too many streams: %u are running, the most this service allows",
                                             h->limits.max_streams);
          api_reply_error(reply, 503, m);
          return json_response(reply->json);
        }
      const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      struct stream *s = xzalloc(sizeof(*s));
      *s = (struct stream){ h, info ? info->connect_fd : -1, reply->stream, reply->stream_free,
                            TAKE_PTR(reply->stream_state) };
      r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
      MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
  else if (reply->json)
    r = json_response(reply->json);
  else
    {
      r = MHD_create_response_from_buffer(reply->text_len, TAKE_PTR(reply->text), MHD_RESPMEM_MUST_FREE);
      reply->text_len = 0;
    }
  if (reply->content_type && !reply->json)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
  if (reply->allow)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, reply->allow);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  return r;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls)
{
  struct api_http *h = cls;
  struct api_reply reply = { 0 };
  struct request *req = *con_cls;
  const char *target = req ? req->target : url;

  if (req && !req->headers_done)
    {
      /* the first call has the headers; the reply comes with the next,
       * once the body is in: a connection replied to before then is not
       * kept alive. A body read has request_timeout more to come in. */
      req->headers_done = true;
      set_deadline(h, connection,
                   h->limits.max_body_bytes ? now_usec() + (int64_t) h->limits.request_timeout * 1000000 : 0);
      return MHD_YES;
    }
  if (*upload_data_size)
    {
      /* read up to max_body_bytes (none when 0: no route takes one), the
       * rest is dropped and answered with a 413 */
      size_t n = *upload_data_size;
      if (req && h->limits.max_body_bytes && !req->body_too_large)
        {
          if (n > h->limits.max_body_bytes - req->body_len)
            {
              req->body_too_large = true;
              free(req->body);
              req->body = NULL;
              req->body_len = 0;
            }
          else
            {
              req->body = xrealloc(req->body, req->body_len + n + 1);
              memcpy(req->body + req->body_len, upload_data, n);
              req->body_len += n;
              req->body[req->body_len] = '\0';
            }
        }
      *upload_data_size = 0;
      return MHD_YES;
    }
  int n_headers = MHD_get_connection_values(connection, MHD_HEADER_KIND, NULL, NULL);
  const union MHD_ConnectionInfo *size = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (size && size->header_size > h->limits.max_request_bytes)
    {
      _cleanup_free_ char *m = xasprintf("request header fields too large: %zu bytes, at most %zu",
                                         size->header_size, h->limits.max_request_bytes);
      api_reply_error(&reply, 431, m);
    }
  else if (req && req->body_too_large)
    {
      _cleanup_free_ char *m = xasprintf("request body too large: at most %zu bytes", h->limits.max_body_bytes);
      api_reply_error(&reply, 413, m);
    }
  else
    {
      const union MHD_ConnectionInfo *fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      struct api_http_request hr = {
        .method = method,
        .target = target,
        .n_headers = n_headers < 0 ? 0 : (unsigned) n_headers,
        .content_type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = req && req->body ? req->body : "",
        .body_len = req ? req->body_len : 0,
        .fd = fd ? fd->connect_fd : -1,
      };
      h->handler(h->userdata, &hr, &reply);
    }
  set_deadline(h, connection, 0); /* the reply is on its way */
  if (reply.stream && streq(method, "HEAD"))
    {
      /* what a GET would stream, without the stream */
      if (reply.stream_free && reply.stream_state)
        reply.stream_free(reply.stream_state);
      reply.stream = NULL, reply.stream_state = NULL;
      reply.text = xstrdup("");
    }
  struct MHD_Response *r = make_response(h, connection, &reply);
  enum MHD_Result ret = MHD_queue_response(connection, (unsigned) reply.status, r);
  MHD_destroy_response(r);
  api_reply_done(&reply);
  return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
  if (log_get_level() < LOG_LEVEL_DEBUG)
    return;
  _cleanup_free_ char *m = NULL;
  if (vasprintf(&m, fmt, ap) >= 0)
    log_debug("libmicrohttpd: %s", m);
}

int api_http_start(const struct api_listener *ls, size_t n, const struct api_http_limits *limits,
                   api_http_handler_t handler, void *userdata, struct api_http **ret, podrun_error_t *err)
{
  struct api_http *h = xzalloc(sizeof(*h));
  h->limits = *limits;
  h->handler = handler;
  h->userdata = userdata;
  h->daemons = xzalloc(sizeof(*h->daemons) * (n + 1));
  pthread_mutex_init(&h->lock, NULL);
  for (size_t i = 0; i < n; i++)
    {
      h->daemons[i] = MHD_start_daemon(
          MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0,
          NULL, NULL, access_handler, h, MHD_OPTION_LISTEN_SOCKET, ls[i].fd, MHD_OPTION_CONNECTION_LIMIT,
          limits->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->max_per_ip,
          MHD_OPTION_CONNECTION_TIMEOUT, limits->idle_timeout,
          MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits->max_request_bytes * 2 + 16384, MHD_OPTION_URI_LOG_CALLBACK,
          uri_log, h, MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
          MHD_OPTION_THREAD_STACK_SIZE, (size_t) 256 * 1024, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
          MHD_OPTION_END);
      if (!h->daemons[i])
        {
          api_http_stop(h);
          return podrun_error_new(err, EIO, "serve %s: libmicrohttpd refused to start", QUOTE(ls[i].spec));
        }
      h->n_daemons++;
    }
  if (pthread_create(&h->watchdog, NULL, watchdog, h) != 0)
    {
      h->watchdog = 0;
      api_http_stop(h);
      return podrun_error_new(err, EAGAIN, "start the watchdog thread");
    }
  *ret = h;
  return 0;
}

void api_http_stop(struct api_http *h)
{
  if (!h)
    return;
  atomic_store(&h->stopping, true);
  for (size_t i = 0; i < h->n_daemons; i++)
    MHD_stop_daemon(h->daemons[i]);
  if (h->watchdog)
    pthread_join(h->watchdog, NULL);
  pthread_mutex_destroy(&h->lock);
  free(h->daemons);
  free(h);
}

unsigned api_http_streams(struct api_http *h)
{
  return atomic_load(&h->streams);
}
