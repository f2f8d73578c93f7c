/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP layer under the registry client and the appc fetchers: one
 * exchange at a time on the session's handle, or several on a multi. */
#include "http.h"

#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "dl.h"

#define CA_FILE_MAX (1024 * 1024)

/* The CAs to trust for one certs.d name: the system's and the .crt files of
 * its directory. */
struct ca_bundle
{
  char *authority;
  char *pem; /* NULL: the system's alone (libcurl's default) */
  size_t len;
};

struct http
{
  bool insecure_tls, insecure_http;
  char *ca_dir;
  char *user_agent;
  char *peer;
  char *host;      /* the host insecure_tls is for, as written (its certs.d name) */
  char *authority; /* its "host:port" */
  http_progress_fn progress;
  void *progress_ctx;
  long low_speed_time;
  struct ca_bundle *cas;
  size_t n_cas;
  char *system_pem; /* the system's CA bundle, read once */
  size_t system_pem_len;
  bool system_pem_read;
  CURL *easy; /* for the requests one at a time */
};

/* ---- names ---- */

bool http_host_valid(const char *s)
{
  size_t i = 0;
  if (s[0] == '[')
    {
      for (i = 1; s[i] && s[i] != ']'; i++)
        if (!isxdigit((unsigned char) s[i]) && s[i] != ':' && s[i] != '.')
          return false;
      if (s[i] != ']' || i == 1)
        return false;
      i++;
    }
  else
    {
      for (; s[i] && s[i] != ':'; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '.' && s[i] != '-')
          return false;
      if (i == 0 || s[0] == '.' || s[0] == '-')
        return false;
    }
  if (s[i] == '\0')
    return true;
  if (s[i] != ':' || !s[i + 1] || strlen(s + i + 1) > 5)
    return false;
  for (i++; s[i]; i++)
    if (!isdigit((unsigned char) s[i]))
      return false;
  return true;
}

/* scheme, host and port (the scheme's default if none) of an absolute URL. */
static int url_split(const char *url, char **ret_scheme, char **ret_host, char **ret_port)
{
  CURLU *u = sym_curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  int r = -1;

  if (!u)
    return -1;
  if (sym_curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      sym_curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      sym_curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
    {
      *ret_scheme = xstrdup(scheme);
      *ret_host = xstrdup(host);
      *ret_port = xstrdup(port);
      for (char *p = *ret_host; *p; p++)
        *p = tolower((unsigned char) *p);
      for (char *p = *ret_scheme; *p; p++)
        *p = tolower((unsigned char) *p);
      r = 0;
    }
  sym_curl_free(scheme);
  sym_curl_free(host);
  sym_curl_free(port);
  sym_curl_url_cleanup(u);
  return r;
}

int http_url_origin(const char *url, char **ret_origin, char **ret_authority)
{
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;
  if (url_split(url, &scheme, &host, &port) < 0)
    return -1;
  if (ret_origin)
    *ret_origin = xasprintf("%s://%s:%s", scheme, host, port);
  if (ret_authority)
    *ret_authority = xasprintf("%s:%s", host, port);
  return 0;
}

char *http_certs_name(const char *url)
{
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;
  if (url_split(url, &scheme, &host, &port) < 0)
    return NULL;
  if ((streq(scheme, "https") && streq(port, "443")) || (streq(scheme, "http") && streq(port, "80")))
    return TAKE_PTR(host);
  return xasprintf("%s:%s", host, port);
}

/* ---- CAs: the system's plus the .crt files of <ca_dir>/<name>/ ---- */

static int read_small(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > max)
    return errno = EFBIG, -1;
  char *b = xmalloc(st.st_size + 1);
  size_t n = 0;
  while (n < (size_t) st.st_size)
    {
      ssize_t k = read(fd, b + n, st.st_size - n);
      if (k <= 0)
        {
          free(b);
          return k == 0 ? (errno = EIO, -1) : -1;
        }
      n += k;
    }
  b[n] = '\0';
  *ret = b;
  *ret_len = n;
  return 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static void load_system_pem(struct http *h)
{
  char *path = NULL;
  if (h->system_pem_read)
    return;
  h->system_pem_read = true;
  if (sym_curl_easy_getinfo(h->easy, CURLINFO_CAINFO, &path) != CURLE_OK || !path)
    return;
  if (read_small(AT_FDCWD, path, 16 * 1024 * 1024, &h->system_pem, &h->system_pem_len) < 0)
    h->system_pem = NULL;
}

static void pem_append(char **pem, size_t *len, const char *add, size_t n)
{
  *pem = xrealloc(*pem, *len + n + 2);
  memcpy(*pem + *len, add, n);
  *len += n;
  (*pem)[(*len)++] = '\n';
  (*pem)[*len] = '\0';
}

/* The CA bundle for a certs.d name (the authority as written: "host:port", or
 * "host" for a default port). */
static int ca_bundle_load(struct http *h, const char *name, struct ca_bundle *b, podrun_error_t *err)
{
  _cleanup_close_ int dfd = -1;
  _cleanup_closedir_ DIR *d = NULL;
  _cleanup_strv_ char **names = NULL;
  struct dirent *de;

  b->authority = xstrdup(name);
  if (!h->ca_dir || !http_host_valid(name))
    return 0;
  _cleanup_free_ char *dir = xasprintf("%s/%s", h->ca_dir, name);
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : podrun_error_set(err, errno, "open %s", QUOTE(dir));
  int dfd2 = dup(dfd);
  if (dfd2 < 0 || !(d = fdopendir(dfd2)))
    {
      if (dfd2 >= 0)
        close(dfd2);
      return podrun_error_set(err, errno, "read %s", QUOTE(dir));
    }
  while ((de = readdir(d)))
    if (endswith(de->d_name, ".crt") && de->d_name[0] != '.')
      names = strv_push(names, de->d_name);
  if (!names)
    return 0;
  qsort(names, strv_length(names), sizeof(char *), cmp_str);
  load_system_pem(h);
  if (h->system_pem)
    pem_append(&b->pem, &b->len, h->system_pem, h->system_pem_len);
  for (char **n = names; *n; n++)
    {
      _cleanup_free_ char *pem = NULL;
      size_t len = 0;
      if (read_small(dfd, *n, CA_FILE_MAX, &pem, &len) < 0)
        return podrun_error_set(err, errno, "read %s/%s", QUOTE(dir), ESCAPE(*n));
      pem_append(&b->pem, &b->len, pem, len);
    }
  return 0;
}

static int ca_bundle_for(struct http *h, const char *name, struct ca_bundle **ret, podrun_error_t *err)
{
  for (size_t i = 0; i < h->n_cas; i++)
    if (streq(h->cas[i].authority, name))
      return *ret = &h->cas[i], 0;
  struct ca_bundle b = { 0 };
  if (ca_bundle_load(h, name, &b, err) < 0)
    {
      free(b.authority);
      free(b.pem);
      return -1;
    }
  h->cas = xrealloc(h->cas, (h->n_cas + 1) * sizeof(*h->cas));
  h->cas[h->n_cas] = b;
  *ret = &h->cas[h->n_cas++];
  return 0;
}

/* ---- the session ---- */

static long low_speed_time(void)
{
  const char *e = getenv("PODRUN_LOW_SPEED_TIME");
  unsigned long long v;
  if (e && parse_uint(e, 3600, &v) == 0 && v > 0)
    return (long) v;
  return HTTP_LOW_SPEED_TIME;
}

int http_new(const struct http_opts *opts, struct http **ret, podrun_error_t *err)
{
  if (dl_load_curl(err) < 0)
    return -1;
  struct http *h = xzalloc(sizeof(*h));
  h->insecure_tls = opts->insecure_tls;
  h->insecure_http = opts->insecure_http;
  h->ca_dir = opts->ca_dir ? xstrdup(opts->ca_dir) : NULL;
  h->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "podrun");
  h->peer = xstrdup(opts->peer ? opts->peer : "server");
  h->progress = opts->progress;
  h->progress_ctx = opts->progress_ctx;
  h->low_speed_time = low_speed_time();
  if (!(h->easy = sym_curl_easy_init()))
    {
      http_free(h);
      return podrun_error_new(err, ENOMEM, "libcurl: no handle");
    }
  *ret = h;
  return 0;
}

void http_free(struct http *h)
{
  if (!h)
    return;
  if (h->easy)
    sym_curl_easy_cleanup(h->easy);
  for (size_t i = 0; i < h->n_cas; i++)
    {
      free(h->cas[i].authority);
      free(h->cas[i].pem);
    }
  free(h->cas);
  free(h->system_pem);
  free(h->ca_dir);
  free(h->user_agent);
  free(h->peer);
  free(h->host);
  free(h->authority);
  free(h);
}

void http_set_host(struct http *h, const char *host, const char *authority)
{
  free(h->host);
  free(h->authority);
  h->host = host ? xstrdup(host) : NULL;
  h->authority = authority ? xstrdup(authority) : NULL;
}

bool http_insecure_http(const struct http *h)
{
  return h->insecure_http;
}

const char *http_ca_dir(const struct http *h)
{
  return h->ca_dir;
}

/* ---- one exchange ---- */

static void xfer_reset_response(struct http_xfer *x)
{
  x->status = 0;
  x->not_modified = false;
  x->headers_done = false;
  free(x->www_authenticate);
  free(x->content_type);
  free(x->content_range);
  free(x->etag);
  free(x->errbody);
  x->www_authenticate = x->content_type = x->content_range = x->etag = x->errbody = NULL;
  x->errbody_len = 0;
  x->content_length = -1;
  x->max_age = -1;
}

void http_xfer_done(struct http_xfer *x)
{
  xfer_reset_response(x);
  if (x->headers)
    sym_curl_slist_free_all(x->headers);
  x->headers = NULL;
  free(x->url);
  free(x->what);
  free(x->buf);
  x->url = x->what = x->buf = NULL;
  podrun_error_free(&x->cb_err);
  podrun_error_free(&x->error);
}

static bool is_redirect(long s)
{
  return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

static char *trim(const char *s, size_t n)
{
  while (n > 0 && isspace((unsigned char) *s))
    s++, n--;
  while (n > 0 && isspace((unsigned char) s[n - 1]))
    n--;
  return xstrndup(s, n);
}

/* The sink's headers are in: where its bytes start. */
static int sink_headers_end(struct http_xfer *x)
{
  struct http_sink *b = x->sink;
  const char *peer = x->http->peer;
  if (x->status == 206)
    {
      unsigned long long start = 0, end = 0;
      if (!x->content_range || sscanf(x->content_range, "bytes %llu-%llu/", &start, &end) != 2 ||
          start != b->offset)
        return podrun_error_new(&x->cb_err, EPROTO, "%s: the %s answered a range not asked for (%s)", x->what, peer,
                                x->content_range ? ESCAPE(x->content_range) : "no Content-Range");
      x->base = b->offset;
    }
  else
    {
      if (b->offset > 0)
        {
          if (!b->restart)
            return podrun_error_new(&x->cb_err, EPROTO, "%s: the %s ignored the range asked for", x->what, peer);
          if (b->restart(b->ctx, &x->cb_err) < 0)
            return podrun_error_wrap(&x->cb_err, "%s", x->what);
        }
      x->base = 0;
    }
  if (x->content_length >= 0 && x->base + (uint64_t) x->content_length > b->size)
    {
      if (b->size_unknown)
        return podrun_error_new(&x->cb_err, EFBIG, "%s: too large: the %s sends %llu bytes, more than %llu", x->what,
                                peer, (unsigned long long) (x->base + x->content_length),
                                (unsigned long long) b->size);
      return podrun_error_new(&x->cb_err, EPROTO, "%s: digest mismatch: the %s sends %llu bytes for a blob of %llu",
                              x->what, peer, (unsigned long long) (x->base + x->content_length),
                              (unsigned long long) b->size);
    }
  if (b->begin && b->begin(b->ctx, x->etag, &x->cb_err) < 0)
    return podrun_error_wrap(&x->cb_err, "%s", x->what);
  return 0;
}

static int headers_end(struct http_xfer *x)
{
  x->headers_done = true;
  if (x->status < 200 || x->status >= 300)
    return 0;
  if (x->sink)
    return sink_headers_end(x);
  if (x->content_length >= 0 && (size_t) x->content_length > x->max)
    return podrun_error_new(&x->cb_err, EFBIG, "%s: %s", x->what, x->too_large);
  return 0;
}

/* Cache-Control's max-age (RFC 9111 §5.2.2.1); no-store and no-cache make it
 * none. */
static int64_t parse_max_age(const char *v)
{
  int64_t age = -1;
  for (const char *p = v; *p;)
    {
      p += strspn(p, " \t,");
      size_t n = strcspn(p, ",");
      _cleanup_free_ char *d = trim(p, n);
      p += n;
      unsigned long long a;
      if (strcasecmp(d, "no-store") == 0 || strcasecmp(d, "no-cache") == 0)
        return -1;
      if (strncasecmp(d, "max-age=", 8) == 0)
        {
          const char *s = d + 8;
          _cleanup_free_ char *u = NULL;
          if (*s == '"')
            u = xstrndup(s + 1, strcspn(s + 1, "\"")), s = u;
          if (parse_uint(s, 1ULL << 40, &a) == 0)
            age = (int64_t) a;
        }
    }
  return age;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  struct http_xfer *x = ud;
  size_t len = size * nmemb;

  if (x->cb_err)
    return 0;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
    {
      xfer_reset_response(x);
      const char *sp = memchr(p, ' ', len);
      x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
      return len;
    }
  if (len <= 2 && (len == 0 || p[0] == '\r' || p[0] == '\n'))
    return headers_end(x) < 0 ? 0 : len;
  char *colon = memchr(p, ':', len);
  if (!colon)
    return len;
  size_t nlen = colon - p;
  _cleanup_free_ char *value = trim(colon + 1, len - nlen - 1);
  if (nlen == 16 && strncasecmp(p, "WWW-Authenticate", 16) == 0)
    {
      char *all = x->www_authenticate ? xasprintf("%s, %s", x->www_authenticate, value) : xstrdup(value);
      free(x->www_authenticate);
      x->www_authenticate = all;
    }
  else if (nlen == 12 && strncasecmp(p, "Content-Type", 12) == 0)
    free(x->content_type), x->content_type = TAKE_PTR(value);
  else if (nlen == 13 && strncasecmp(p, "Content-Range", 13) == 0)
    free(x->content_range), x->content_range = TAKE_PTR(value);
  else if (nlen == 4 && strncasecmp(p, "ETag", 4) == 0)
    {
      free(x->etag);
      /* an ETag goes back in If-None-Match: nothing but a header's bytes */
      x->etag = strlen(value) <= 1024 && !strpbrk(value, "\r\n") ? TAKE_PTR(value) : NULL;
    }
  else if (nlen == 13 && strncasecmp(p, "Cache-Control", 13) == 0)
    x->max_age = parse_max_age(value);
  else if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0)
    {
      unsigned long long v;
      x->content_length = parse_uint(value, 1ULL << 62, &v) == 0 ? (long long) v : -1;
    }
  return len;
}

static int sink_body(struct http_xfer *x, const char *p, size_t len)
{
  struct http_sink *b = x->sink;
  uint64_t have = x->base + x->got;
  if (len > b->size - have)
    {
      if (b->size_unknown)
        return podrun_error_new(&x->cb_err, EFBIG, "%s: too large: the %s sends more than %llu bytes", x->what,
                                x->http->peer, (unsigned long long) b->size);
      return podrun_error_new(&x->cb_err, EPROTO, "%s: digest mismatch: the %s sends more than its %llu bytes",
                              x->what, x->http->peer, (unsigned long long) b->size);
    }
  if (b->write(b->ctx, p, len, &x->cb_err) < 0)
    return podrun_error_wrap(&x->cb_err, "%s", x->what);
  x->got += len;
  if (x->http->progress)
    x->http->progress(x->http->progress_ctx, b->id, have + len, b->size_unknown ? 0 : b->size);
  return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
  struct http_xfer *x = ud;
  size_t len = size * nmemb;

  if (x->cb_err)
    return 0;
  if (x->status < 200 || x->status >= 300)
    {
      if (x->status >= 400 && x->errbody_len < HTTP_ERRBODY_MAX)
        {
          size_t n = len < HTTP_ERRBODY_MAX - x->errbody_len ? len : HTTP_ERRBODY_MAX - x->errbody_len;
          x->errbody = xrealloc(x->errbody, x->errbody_len + n + 1);
          memcpy(x->errbody + x->errbody_len, p, n);
          x->errbody_len += n;
          x->errbody[x->errbody_len] = '\0';
        }
      return len;
    }
  if (x->sink)
    return sink_body(x, p, len) < 0 ? 0 : len;
  if (len > x->max - x->len)
    {
      podrun_error_new(&x->cb_err, EFBIG, "%s: %s", x->what, x->too_large);
      return 0;
    }
  if (x->len + len + 1 > x->cap)
    {
      x->cap = (x->len + len + 1) * 2;
      x->buf = xrealloc(x->buf, x->cap);
    }
  memcpy(x->buf + x->len, p, len);
  x->len += len;
  x->buf[x->len] = '\0';
  return len;
}

#define SETOPT(h, o, v) ok = ok && sym_curl_easy_setopt((h), (o), (v)) == CURLE_OK

/* TLS of the host url goes to: insecure_tls for the session's host alone
 * (every host when none is set), the CAs of certs.d for any. */
static int xfer_setup_tls(struct http_xfer *x, podrun_error_t *err)
{
  struct http *h = x->http;
  _cleanup_free_ char *authority = NULL, *name = http_certs_name(x->url);
  struct ca_bundle *ca = NULL;
  bool ok = true;

  if (!name || http_url_origin(x->url, NULL, &authority) < 0)
    return podrun_error_new(err, EINVAL, "%s: bad URL", x->what);
  bool own = h->authority && streq(authority, h->authority);
  if (h->insecure_tls && (own || !h->authority))
    {
      SETOPT(x->h, CURLOPT_SSL_VERIFYPEER, 0L);
      SETOPT(x->h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else if (ca_bundle_for(h, own && h->host ? h->host : name, &ca, err) < 0)
    return -1;
  if (ca && ca->pem)
    {
      struct curl_blob blob = { .data = ca->pem, .len = ca->len, .flags = CURL_BLOB_COPY };
      SETOPT(x->h, CURLOPT_CAINFO_BLOB, &blob);
    }
  return ok ? 0 : podrun_error_new(err, EIO, "%s: libcurl refused the TLS options", x->what);
}

static int xfer_setup(struct http_xfer *x, podrun_error_t *err)
{
  struct http *h = x->http;
  bool ok = true;

  xfer_reset_response(x);
  x->got = 0;
  x->base = x->sink ? x->sink->offset : 0;
  x->errbuf[0] = '\0';
  x->len = 0;
  if (!x->h)
    x->h = h->easy;
  sym_curl_easy_reset(x->h);
  if (x->headers)
    sym_curl_slist_free_all(x->headers);
  x->headers = NULL;
  if (x->accept)
    x->headers = sym_curl_slist_append(x->headers, x->accept);
  if (x->if_none_match)
    {
      _cleanup_free_ char *line = xasprintf("If-None-Match: %s", x->if_none_match);
      x->headers = sym_curl_slist_append(x->headers, line);
    }
  SETOPT(x->h, CURLOPT_URL, x->url);
  SETOPT(x->h, CURLOPT_PRIVATE, x);
  SETOPT(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(x->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SETOPT(x->h, CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(x->h, CURLOPT_NOSIGNAL, 1L);
  SETOPT(x->h, CURLOPT_USERAGENT, h->user_agent);
  SETOPT(x->h, CURLOPT_CONNECTTIMEOUT, (long) HTTP_CONNECT_TIMEOUT);
  SETOPT(x->h, CURLOPT_LOW_SPEED_LIMIT, (long) HTTP_LOW_SPEED_LIMIT);
  SETOPT(x->h, CURLOPT_LOW_SPEED_TIME, h->low_speed_time);
  SETOPT(x->h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SETOPT(x->h, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(x->h, CURLOPT_HEADERDATA, x);
  SETOPT(x->h, CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(x->h, CURLOPT_WRITEDATA, x);
  SETOPT(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
  if (x->sink && x->sink->offset > 0 && x->if_range)
    {
      _cleanup_free_ char *line = xasprintf("If-Range: %s", x->if_range);
      x->headers = sym_curl_slist_append(x->headers, line);
    }
  if (x->headers)
    SETOPT(x->h, CURLOPT_HTTPHEADER, x->headers);
  if (x->sink && x->sink->offset > 0)
    {
      char range[32];
      snprintf(range, sizeof(range), "%llu-", (unsigned long long) x->sink->offset);
      SETOPT(x->h, CURLOPT_RANGE, range);
    }
  if (!ok)
    return podrun_error_new(err, EIO, "%s: libcurl refused an option", x->what);
  if (x->setup && x->setup(x, err) < 0)
    return -1;
  return xfer_setup_tls(x, err);
}

/* ---- the answers ---- */

int http_xfer_error(struct http_xfer *x, const char *detail, podrun_error_t *err)
{
  const char *sep = detail ? " (" : "", *end = detail ? ")" : "";
  if (!detail)
    detail = "";
  if (x->status == 404)
    return podrun_error_new(err, ENOENT, "%s: not found%s%s%s", x->what, sep, detail, end);
  if (x->status == 401 || x->status == 403)
    return podrun_error_new(err, EACCES, "%s: unauthorized (HTTP %ld)%s%s%s", x->what, x->status, sep, detail, end);
  return podrun_error_new(err, EPROTO, "%s: HTTP %ld%s%s%s", x->what, x->status, sep, detail, end);
}

static bool tls_level(CURLcode c)
{
  return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING ||
         c == CURLE_WEIRD_SERVER_REPLY || c == CURLE_HTTP2;
}

bool http_xfer_tls_failed(const struct http_xfer *x)
{
  return x->code != CURLE_OK && tls_level(x->code);
}

static int xfer_curl_error(struct http_xfer *x, CURLcode c, podrun_error_t *err)
{
  const char *why = x->errbuf[0] ? x->errbuf : sym_curl_easy_strerror(c);
  if (x->sink && x->headers_done && x->status >= 200 && x->status < 300 &&
      (c == CURLE_PARTIAL_FILE || c == CURLE_RECV_ERROR || c == CURLE_HTTP2_STREAM || c == CURLE_HTTP2))
    {
      if (x->sink->size_unknown)
        return podrun_error_new(err, EIO, "%s: truncated: got %llu bytes (%s)", x->what,
                                (unsigned long long) (x->base + x->got), ESCAPE(why));
      return podrun_error_new(err, EIO, "%s: truncated: got %llu of %llu bytes (%s)", x->what,
                              (unsigned long long) (x->base + x->got), (unsigned long long) x->sink->size,
                              ESCAPE(why));
    }
  /* libcurl's low-speed limit, unless it is the connection that timed out */
  if (c == CURLE_OPERATION_TIMEDOUT && (x->status > 0 || !strstr(why, "onnection")))
    return podrun_error_new(err, ETIMEDOUT, "%s: too slow: less than %d bytes/s for %ld s", x->what,
                            HTTP_LOW_SPEED_LIMIT, x->http->low_speed_time);
  if (c == CURLE_OPERATION_TIMEDOUT)
    return podrun_error_new(err, ETIMEDOUT, "%s: %s", x->what, ESCAPE(why));
  if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE)
    {
      _cleanup_free_ char *name = http_certs_name(x->url);
      return podrun_error_new(err, EPERM,
                              "%s: TLS certificate not verified (%s): trust its CA in %s/%s/ca.crt, or "
                              "--insecure-options=tls",
                              x->what, ESCAPE(why), x->http->ca_dir ? ESCAPE(x->http->ca_dir) : "certs.d",
                              name ? ESCAPE(name) : "HOST");
    }
  if (c == CURLE_PARTIAL_FILE)
    return podrun_error_new(err, EIO, "%s: truncated (%s)", x->what, ESCAPE(why));
  return podrun_error_new(err, EIO, "%s: %s", x->what, ESCAPE(why));
}

static int xfer_redirect(struct http_xfer *x, podrun_error_t *err)
{
  char *loc = NULL;
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;

  if (++x->redirects > HTTP_MAX_REDIRECTS)
    return podrun_error_new(err, ELOOP, "%s: too many redirects (more than %d: a redirect loop?)", x->what,
                            HTTP_MAX_REDIRECTS);
  if (sym_curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
    return podrun_error_new(err, EPROTO, "%s: a redirect (HTTP %ld) without a Location", x->what, x->status);
  if (url_split(loc, &scheme, &host, &port) < 0 || !(streq(scheme, "https") || streq(scheme, "http")))
    return podrun_error_new(err, EPROTO, "%s: a redirect to %s: only http and https are followed", x->what,
                            QUOTE(loc));
  if (streq(scheme, "http") && startswith(x->url, "https:") && !x->http->insecure_http)
    return podrun_error_new(err, EPROTO, "%s: a redirect from https to plain http (%s) needs --insecure-options=http",
                            x->what, QUOTE(loc));
  char *u = xstrdup(loc);
  free(x->url);
  x->url = u;
  return 1;
}

/* An attempt ended: 0 done, 1 try again (redirect, the answer hook's), -1 failed. */
static int xfer_finish(struct http_xfer *x, CURLcode c, podrun_error_t *err)
{
  x->code = c;
  if (x->cb_err)
    {
      podrun_error_free(err);
      *err = TAKE_PTR(x->cb_err);
      return -1;
    }
  if (c != CURLE_OK)
    return xfer_curl_error(x, c, err);
  if (x->raw)
    return 0;
  if (is_redirect(x->status) && x->follow)
    return xfer_redirect(x, err);
  if (x->status == 304 && x->if_none_match)
    {
      x->not_modified = true;
      return 0;
    }
  if (x->status < 200 || x->status >= 300)
    return x->answer ? x->answer(x, err) : http_xfer_error(x, NULL, err);
  if (x->sink && !x->sink->size_unknown && x->base + x->got != x->sink->size)
    return podrun_error_new(err, EIO, "%s: truncated: got %llu of %llu bytes", x->what,
                            (unsigned long long) (x->base + x->got), (unsigned long long) x->sink->size);
  return 0;
}

int http_perform(struct http_xfer *x, podrun_error_t *err)
{
  for (;;)
    {
      if (xfer_setup(x, err) < 0)
        return -1;
      int k = xfer_finish(x, sym_curl_easy_perform(x->h), err);
      if (k <= 0)
        return k;
    }
}

/* ---- several at once ---- */

struct multi
{
  CURLM *m;
  struct http_xfer **xs;
  size_t n, next;
  unsigned running, parallel;
  ssize_t failed; /* the first that failed, -1 */
};

static int multi_start(struct multi *mu, struct http_xfer *x, podrun_error_t *err)
{
  if (xfer_setup(x, err) < 0)
    return -1;
  if (sym_curl_multi_add_handle(mu->m, x->h) != CURLM_OK)
    return podrun_error_new(err, EIO, "%s: libcurl refused the transfer", x->what);
  x->active = true;
  mu->running++;
  return 0;
}

static void multi_fail(struct multi *mu, size_t i, podrun_error_t *e)
{
  podrun_error_free(&mu->xs[i]->error);
  mu->xs[i]->error = TAKE_PTR(*e);
  if (mu->failed < 0)
    mu->failed = (ssize_t) i;
}

static void multi_done(struct multi *mu, CURL *h, CURLcode code)
{
  struct http_xfer *x = NULL;
  podrun_error_t e = NULL;

  sym_curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **) &x);
  sym_curl_multi_remove_handle(mu->m, h);
  x->active = false;
  mu->running--;
  int k = xfer_finish(x, code, &e);
  if (k == 1 && multi_start(mu, x, &e) == 0)
    return;
  if (k != 0)
    {
      for (size_t i = 0; i < mu->n; i++)
        if (mu->xs[i] == x)
          multi_fail(mu, i, &e);
    }
  else
    x->finished = true;
}

static int multi_run(struct multi *mu, podrun_error_t *err)
{
  while (mu->failed < 0)
    {
      while (mu->running < mu->parallel && mu->next < mu->n && mu->failed < 0)
        {
          size_t i = mu->next++;
          struct http_xfer *x = mu->xs[i];
          podrun_error_t e = NULL;
          if (x->sink && !x->sink->size_unknown && x->sink->offset == x->sink->size)
            x->finished = true;
          else if (multi_start(mu, x, &e) < 0)
            multi_fail(mu, i, &e);
        }
      if (mu->running == 0 || mu->failed >= 0)
        break;
      int still = 0;
      CURLMcode mc = sym_curl_multi_perform(mu->m, &still);
      if (mc != CURLM_OK)
        return podrun_error_new(err, EIO, "libcurl: multi_perform failed (%d)", (int) mc);
      CURLMsg *msg;
      int queued;
      while ((msg = sym_curl_multi_info_read(mu->m, &queued)))
        if (msg->msg == CURLMSG_DONE)
          multi_done(mu, msg->easy_handle, msg->data.result);
      if (mu->running > 0 && mu->failed < 0)
        sym_curl_multi_poll(mu->m, NULL, 0, 1000, NULL);
    }
  return 0;
}

int http_perform_many(struct http *h, struct http_xfer **xs, size_t n, unsigned parallel, ssize_t *ret_failed,
                      podrun_error_t *err)
{
  struct multi mu = { .xs = xs, .n = n, .parallel = parallel ? parallel : 1, .failed = -1 };
  int ret = 0;

  if (!(mu.m = sym_curl_multi_init()))
    return podrun_error_new(err, ENOMEM, "libcurl: no multi handle");
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      xs[i]->http = h;
      if (!(xs[i]->h = sym_curl_easy_init()))
        ret = podrun_error_new(err, ENOMEM, "libcurl: no handle");
    }
  if (ret == 0)
    ret = multi_run(&mu, err);
  for (size_t i = 0; i < n; i++)
    {
      if (xs[i]->active)
        sym_curl_multi_remove_handle(mu.m, xs[i]->h);
      xs[i]->active = false;
      if (xs[i]->h)
        sym_curl_easy_cleanup(xs[i]->h);
      xs[i]->h = NULL;
    }
  sym_curl_multi_cleanup(mu.m);
  *ret_failed = mu.failed;
  return ret;
}

/* ---- a whole answer ---- */

static int answer_any(struct http_xfer *x, podrun_error_t *err)
{
  return 0;
}

void http_response_done(struct http_response *r)
{
  free(r->body);
  free(r->etag);
  free(r->content_type);
  free(r->url);
  *r = (struct http_response){ .max_age = -1 };
}

int http_get(struct http *h, const struct http_request *req, struct http_response *ret, podrun_error_t *err)
{
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;
  _cleanup_free_ char *too_large = xasprintf("too large (over %zu bytes)", req->max);
  struct http_xfer x = { .http = h, .follow = true, .max = req->max, .too_large = too_large, .sink = req->sink,
                         .if_none_match = req->if_none_match, .if_range = req->if_range,
                         .answer = (req->flags & HTTP_GET_ANY_STATUS) ? answer_any : NULL };
  x.what = req->what ? xstrdup(req->what) : xstrdup(QUOTE(req->url));
  int r;

  if (url_split(req->url, &scheme, &host, &port) < 0 || !(streq(scheme, "https") || streq(scheme, "http")))
    r = podrun_error_new(err, EINVAL, "%s: not an http(s) URL", x.what);
  else if (streq(scheme, "http") && !h->insecure_http)
    r = podrun_error_new(err, EPERM, "%s: plain http needs --insecure-options=http", x.what);
  else
    {
      x.url = xstrdup(req->url);
      r = http_perform(&x, err);
    }
  if (r == 0)
    {
      *ret = (struct http_response){ .status = x.status, .not_modified = x.not_modified, .len = x.len,
                                     .etag = TAKE_PTR(x.etag), .max_age = x.max_age,
                                     .content_type = TAKE_PTR(x.content_type), .url = TAKE_PTR(x.url) };
      if (!req->sink)
        ret->body = x.buf ? TAKE_PTR(x.buf) : xstrdup("");
    }
  http_xfer_done(&x);
  return r;
}
