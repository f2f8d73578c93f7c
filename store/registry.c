/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "registry.h"

#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "dl.h"
#include "json-util.h"

#define ERRBODY_MAX (64 * 1024)
#define TOKEN_MAX (1024 * 1024)
#define CA_FILE_MAX (1024 * 1024)
#define MAX_REDIRECTS 5
#define LOW_SPEED_LIMIT 1024
#define LOW_SPEED_TIME 30
#define CONNECT_TIMEOUT 30

static const char ACCEPT_MANIFESTS[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                       "application/vnd.oci.image.manifest.v1+json, "
                                       "application/vnd.docker.distribution.manifest.list.v2+json, "
                                       "application/vnd.docker.distribution.manifest.v2+json";

struct token
{
  char *scope; /* the repository: its pull scope is what was asked for */
  char *token;
};

/* The CAs to trust for one authority: the system's and the .crt files of
 * certs.d's directory of that name. */
struct ca_bundle
{
  char *authority;
  char *pem; /* NULL: the system's alone (libcurl's default) */
  size_t len;
};

struct registry
{
  char *host;   /* as given: names the registry in messages and in certs.d */
  char *base;   /* "https://HOST" or "http://HOST" once open */
  char *origin; /* scheme://host:port of base, lowercase, the port explicit */
  char *authority;
  bool insecure_tls, insecure_http;
  char *ca_dir;
  char *user, *password;
  unsigned parallel;
  char *user_agent;
  registry_progress_fn progress;
  void *progress_ctx;
  long low_speed_time;
  bool basic; /* the registry asked for Basic: send it from then on */
  struct token *tokens;
  size_t n_tokens;
  struct ca_bundle *cas;
  size_t n_cas;
  char *system_pem; /* the system's CA bundle, read once */
  size_t system_pem_len;
  bool system_pem_read;
  CURL *easy; /* for the requests one at a time */
};

/* One HTTP exchange, with the redirects and the 401 it takes. */
struct xfer
{
  struct registry *r;
  CURL *h;
  struct curl_slist *headers;
  char *url;
  char *what;        /* names the request in messages */
  const char *repo;  /* the registry's auth applies (scope repository:REPO:pull) */
  const char *accept;
  bool raw;          /* the caller judges the status */
  bool follow;       /* follows redirects */
  bool token_request; /* the user's Basic credentials go along */
  unsigned redirects;
  bool auth_tried;
  char *auth_used; /* the token this attempt sent */
  bool sent_basic;
  CURLcode code; /* of the last attempt */
  /* the response being received */
  long status;
  bool headers_done;
  char *www_authenticate;
  char *content_type;
  char *content_range;
  long long content_length;
  char *errbody;
  size_t errbody_len;
  /* in-memory sink */
  char *buf;
  size_t len, cap, max;
  const char *too_large; /* the message when over max */
  /* blob sink */
  struct registry_blob *blob;
  uint64_t base, got;
  bool active;   /* in the multi */
  bool finished; /* the blob is all in its sink */
  podrun_error_t err; /* a callback's error */
  char errbuf[CURL_ERROR_SIZE];
};

static void secret_free(char *s)
{
  if (s)
    {
      explicit_bzero(s, strlen(s));
      free(s);
    }
}

/* ---- names ---- */

static bool host_valid(const char *s)
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

static bool lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Docker's grammar: components of [a-z0-9]+ joined by '.', '_', "__" or
 * dashes, separated by '/'. */
static bool repo_valid(const char *s)
{
  if (strlen(s) > 255 || !lower_alnum(s[0]))
    return false;
  for (const char *p = s; *p;)
    {
      if (lower_alnum(*p))
        {
          p++;
          continue;
        }
      size_t n = strspn(p, "-");
      if (n == 0)
        n = startswith(p, "__") ? 2 : (*p == '.' || *p == '_' || *p == '/') ? 1 : 0;
      if (n == 0 || !lower_alnum(p[n]))
        return false;
      p += n;
    }
  return true;
}

static bool tag_valid(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char) *s) && *s != '_' && *s != '.' && *s != '-')
      return false;
  return true;
}

static bool sha256_digest_valid(const char *s)
{
  const char *hex = startswith(s, "sha256:");
  if (!hex || strlen(hex) != 64)
    return false;
  for (; *hex; hex++)
    if (!isdigit((unsigned char) *hex) && !(*hex >= 'a' && *hex <= 'f'))
      return false;
  return true;
}

/* ALG:HEX as the OCI spec has it, for blobs the sinks verify. */
static bool digest_valid(const char *s)
{
  const char *colon = strchr(s, ':');
  if (!colon || colon == s || strlen(colon + 1) < 32 || strlen(s) > 200)
    return false;
  for (const char *p = s; p < colon; p++)
    if (!lower_alnum(*p) && !strchr("+._-", *p))
      return false;
  for (const char *p = colon + 1; *p; p++)
    if (!isalnum((unsigned char) *p) && *p != '=' && *p != '_' && *p != '-')
      return false;
  return true;
}

static int check_repo(const char *repo, podrun_error_t *err)
{
  if (!repo_valid(repo))
    return podrun_error_new(err, EINVAL, "repository %s: not a valid name ([a-z0-9] components separated by '/')",
                            QUOTE(repo));
  return 0;
}

int registry_sha256(const void *buf, size_t len, char out[static 72], podrun_error_t *err)
{
  unsigned char md[32];
  unsigned int mdlen = 0;

  if (dl_load_crypto(err) < 0)
    return -1;
  EVP_MD_CTX *c = sym_EVP_MD_CTX_new();
  if (!c)
    return podrun_error_new(err, ENOMEM, "sha256: out of memory");
  bool ok = sym_EVP_DigestInit_ex(c, sym_EVP_sha256(), NULL) == 1 && sym_EVP_DigestUpdate(c, buf, len) == 1 &&
            sym_EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
  sym_EVP_MD_CTX_free(c);
  if (!ok)
    return podrun_error_new(err, EIO, "sha256: libcrypto failed");
  strcpy(out, "sha256:");
  for (unsigned i = 0; i < 32; i++)
    sprintf(out + 7 + 2 * i, "%02x", md[i]);
  return 0;
}

/* ---- URLs ---- */

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

/* "scheme://host:port" (ret_origin) and "host:port" (ret_authority) of url. */
static int url_origin(const char *url, char **ret_origin, char **ret_authority)
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

static bool same_origin(struct registry *r, const char *url)
{
  _cleanup_free_ char *o = NULL;
  return url_origin(url, &o, NULL) == 0 && streq(o, r->origin);
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

static void load_system_pem(struct registry *r)
{
  char *path = NULL;
  if (r->system_pem_read)
    return;
  r->system_pem_read = true;
  if (sym_curl_easy_getinfo(r->easy, CURLINFO_CAINFO, &path) != CURLE_OK || !path)
    return;
  if (read_small(AT_FDCWD, path, 16 * 1024 * 1024, &r->system_pem, &r->system_pem_len) < 0)
    r->system_pem = NULL;
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
static int ca_bundle_load(struct registry *r, const char *name, struct ca_bundle *b, podrun_error_t *err)
{
  _cleanup_close_ int dfd = -1;
  _cleanup_closedir_ DIR *d = NULL;
  _cleanup_strv_ char **names = NULL;
  struct dirent *de;

  b->authority = xstrdup(name);
  if (!r->ca_dir || !host_valid(name))
    return 0;
  _cleanup_free_ char *dir = xasprintf("%s/%s", r->ca_dir, name);
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
  load_system_pem(r);
  if (r->system_pem)
    pem_append(&b->pem, &b->len, r->system_pem, r->system_pem_len);
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

static int ca_bundle_for(struct registry *r, const char *name, struct ca_bundle **ret, podrun_error_t *err)
{
  for (size_t i = 0; i < r->n_cas; i++)
    if (streq(r->cas[i].authority, name))
      return *ret = &r->cas[i], 0;
  struct ca_bundle b = { 0 };
  if (ca_bundle_load(r, name, &b, err) < 0)
    {
      free(b.authority);
      free(b.pem);
      return -1;
    }
  r->cas = xrealloc(r->cas, (r->n_cas + 1) * sizeof(*r->cas));
  r->cas[r->n_cas] = b;
  *ret = &r->cas[r->n_cas++];
  return 0;
}

/* The certs.d name of url's host: "host:port", or "host" for the scheme's
 * default port (as docker names them). */
static char *certs_name(const char *url)
{
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;
  if (url_split(url, &scheme, &host, &port) < 0)
    return NULL;
  if ((streq(scheme, "https") && streq(port, "443")) || (streq(scheme, "http") && streq(port, "80")))
    return TAKE_PTR(host);
  return xasprintf("%s:%s", host, port);
}

/* ---- tokens ---- */

static const char *token_find(struct registry *r, const char *scope)
{
  for (size_t i = 0; i < r->n_tokens; i++)
    if (streq(r->tokens[i].scope, scope))
      return r->tokens[i].token;
  return NULL;
}

static void token_store(struct registry *r, const char *repo, char *token)
{
  for (size_t i = 0; i < r->n_tokens; i++)
    if (streq(r->tokens[i].scope, repo))
      {
        secret_free(r->tokens[i].token);
        r->tokens[i].token = token;
        return;
      }
  r->tokens = xrealloc(r->tokens, (r->n_tokens + 1) * sizeof(*r->tokens));
  r->tokens[r->n_tokens++] = (struct token){ xstrdup(repo), token };
}

/* ---- one exchange ---- */

static void xfer_reset_response(struct xfer *x)
{
  x->status = 0;
  x->headers_done = false;
  free(x->www_authenticate);
  free(x->content_type);
  free(x->content_range);
  free(x->errbody);
  x->www_authenticate = x->content_type = x->content_range = x->errbody = NULL;
  x->errbody_len = 0;
  x->content_length = -1;
}

static void xfer_free(struct xfer *x)
{
  xfer_reset_response(x);
  if (x->headers)
    sym_curl_slist_free_all(x->headers);
  free(x->url);
  free(x->what);
  secret_free(x->auth_used);
  free(x->buf);
  podrun_error_free(&x->err);
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

/* The blob's headers are in: where its bytes start. */
static int blob_headers_end(struct xfer *x)
{
  struct registry_blob *b = x->blob;
  if (x->status == 206)
    {
      unsigned long long start = 0, end = 0;
      if (!x->content_range || sscanf(x->content_range, "bytes %llu-%llu/", &start, &end) != 2 ||
          start != b->offset)
        return podrun_error_new(&x->err, EPROTO, "%s: the registry answered a range not asked for (%s)", x->what,
                                x->content_range ? ESCAPE(x->content_range) : "no Content-Range");
      x->base = b->offset;
    }
  else
    {
      if (b->offset > 0)
        {
          if (!b->restart)
            return podrun_error_new(&x->err, EPROTO, "%s: the registry ignored the range asked for", x->what);
          if (b->restart(b->ctx, &x->err) < 0)
            return podrun_error_wrap(&x->err, "%s", x->what);
        }
      x->base = 0;
    }
  if (x->content_length >= 0 && x->base + (uint64_t) x->content_length > b->size)
    return podrun_error_new(&x->err, EPROTO, "%s: digest mismatch: the registry sends %llu bytes for a blob of %llu",
                            x->what, (unsigned long long) (x->base + x->content_length),
                            (unsigned long long) b->size);
  return 0;
}

static int headers_end(struct xfer *x)
{
  x->headers_done = true;
  if (x->status < 200 || x->status >= 300)
    return 0;
  if (x->blob)
    return blob_headers_end(x);
  if (x->content_length >= 0 && (size_t) x->content_length > x->max)
    return podrun_error_new(&x->err, EFBIG, "%s: %s", x->what, x->too_large);
  return 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * nmemb;

  if (x->err)
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
  else if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0)
    {
      unsigned long long v;
      x->content_length = parse_uint(value, 1ULL << 62, &v) == 0 ? (long long) v : -1;
    }
  return len;
}

static int blob_body(struct xfer *x, const char *p, size_t len)
{
  struct registry_blob *b = x->blob;
  uint64_t have = x->base + x->got;
  if (len > b->size - have)
    return podrun_error_new(&x->err, EPROTO, "%s: digest mismatch: the registry sends more than its %llu bytes",
                            x->what, (unsigned long long) b->size);
  if (b->write(b->ctx, p, len, &x->err) < 0)
    return podrun_error_wrap(&x->err, "%s", x->what);
  x->got += len;
  if (x->r->progress)
    x->r->progress(x->r->progress_ctx, b->digest, have + len, b->size);
  return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * nmemb;

  if (x->err)
    return 0;
  if (x->status < 200 || x->status >= 300)
    {
      if (x->status >= 400 && x->errbody_len < ERRBODY_MAX)
        {
          size_t n = len < ERRBODY_MAX - x->errbody_len ? len : ERRBODY_MAX - x->errbody_len;
          x->errbody = xrealloc(x->errbody, x->errbody_len + n + 1);
          memcpy(x->errbody + x->errbody_len, p, n);
          x->errbody_len += n;
          x->errbody[x->errbody_len] = '\0';
        }
      return len;
    }
  if (x->blob)
    return blob_body(x, p, len) < 0 ? 0 : len;
  if (len > x->max - x->len)
    {
      podrun_error_new(&x->err, EFBIG, "%s: %s", x->what, x->too_large);
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

/* TLS of the host url goes to: the registry's switches for it alone, the
 * CAs of certs.d for any. */
static int xfer_setup_tls(struct xfer *x, podrun_error_t *err)
{
  struct registry *r = x->r;
  _cleanup_free_ char *authority = NULL, *name = certs_name(x->url);
  struct ca_bundle *ca = NULL;
  bool ok = true;

  if (!name || url_origin(x->url, NULL, &authority) < 0)
    return podrun_error_new(err, EINVAL, "%s: bad URL", x->what);
  if (r->insecure_tls && streq(authority, r->authority))
    {
      SETOPT(x->h, CURLOPT_SSL_VERIFYPEER, 0L);
      SETOPT(x->h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else if (ca_bundle_for(r, streq(authority, r->authority) ? r->host : name, &ca, err) < 0)
    return -1;
  if (ca && ca->pem)
    {
      struct curl_blob blob = { .data = ca->pem, .len = ca->len, .flags = CURL_BLOB_COPY };
      SETOPT(x->h, CURLOPT_CAINFO_BLOB, &blob);
    }
  return ok ? 0 : podrun_error_new(err, EIO, "%s: libcurl refused the TLS options", x->what);
}

static bool xfer_setup_auth(struct xfer *x)
{
  struct registry *r = x->r;
  bool ok = true;
  const char *token = NULL;

  secret_free(x->auth_used);
  x->auth_used = NULL;
  x->sent_basic = false;
  bool basic = x->token_request || (x->repo && r->basic && same_origin(r, x->url));
  if (x->repo && !x->token_request && same_origin(r, x->url) && (token = token_find(r, x->repo)))
    {
      SETOPT(x->h, CURLOPT_XOAUTH2_BEARER, token);
      SETOPT(x->h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
      x->auth_used = xstrdup(token);
    }
  else if (basic && r->user)
    {
      SETOPT(x->h, CURLOPT_USERNAME, r->user);
      SETOPT(x->h, CURLOPT_PASSWORD, r->password ? r->password : "");
      SETOPT(x->h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      x->sent_basic = true;
    }
  return ok;
}

static int xfer_setup(struct xfer *x, podrun_error_t *err)
{
  struct registry *r = x->r;
  bool ok = true;

  xfer_reset_response(x);
  x->got = 0;
  x->base = x->blob ? x->blob->offset : 0;
  x->errbuf[0] = '\0';
  sym_curl_easy_reset(x->h);
  if (x->headers)
    sym_curl_slist_free_all(x->headers);
  x->headers = NULL;
  if (x->accept)
    x->headers = sym_curl_slist_append(NULL, x->accept);
  SETOPT(x->h, CURLOPT_URL, x->url);
  SETOPT(x->h, CURLOPT_PRIVATE, x);
  SETOPT(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(x->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SETOPT(x->h, CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(x->h, CURLOPT_NOSIGNAL, 1L);
  SETOPT(x->h, CURLOPT_USERAGENT, r->user_agent);
  SETOPT(x->h, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT);
  SETOPT(x->h, CURLOPT_LOW_SPEED_LIMIT, (long) LOW_SPEED_LIMIT);
  SETOPT(x->h, CURLOPT_LOW_SPEED_TIME, r->low_speed_time);
  SETOPT(x->h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SETOPT(x->h, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(x->h, CURLOPT_HEADERDATA, x);
  SETOPT(x->h, CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(x->h, CURLOPT_WRITEDATA, x);
  SETOPT(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
  if (x->headers)
    SETOPT(x->h, CURLOPT_HTTPHEADER, x->headers);
  if (x->blob && x->blob->offset > 0)
    {
      char range[32];
      snprintf(range, sizeof(range), "%llu-", (unsigned long long) x->blob->offset);
      SETOPT(x->h, CURLOPT_RANGE, range);
    }
  ok = ok && xfer_setup_auth(x);
  if (!ok)
    return podrun_error_new(err, EIO, "%s: libcurl refused an option", x->what);
  return xfer_setup_tls(x, err);
}

/* ---- the answers ---- */

/* "CODE: message" of a registry's {"errors": [{"code", "message"}]}. */
static char *registry_error_text(struct xfer *x)
{
  _cleanup_json_ json_t *j = NULL;
  if (!x->errbody || json_parse_untrusted(x->errbody, x->errbody_len, "error", &j, NULL) < 0)
    return NULL;
  json_t *e = json_array_get(json_object_get(j, "errors"), 0);
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  if (!code && !msg)
    return NULL;
  if (code && msg)
    return xasprintf("%s: %s", ESCAPE(code), ESCAPE(msg));
  return xstrdup(ESCAPE(code ? code : msg));
}

static int xfer_http_error(struct xfer *x, podrun_error_t *err)
{
  _cleanup_free_ char *text = registry_error_text(x);
  const char *sep = text ? " (" : "", *end = text ? ")" : "";
  if (!text)
    text = xstrdup("");
  if (x->status == 404)
    return podrun_error_new(err, ENOENT, "%s: not found%s%s%s", x->what, sep, text, end);
  if (x->status == 401 || x->status == 403)
    {
      const char *why = !x->r->user ? ": the registry refuses anonymous access (credentials: auth.d or --authfile)"
                                    : ": the registry refused the credentials";
      return podrun_error_new(err, EACCES, "%s: unauthorized (HTTP %ld)%s%s%s%s", x->what, x->status, sep, text, end,
                              why);
    }
  return podrun_error_new(err, EPROTO, "%s: HTTP %ld%s%s%s", x->what, x->status, sep, text, end);
}

static bool tls_level(CURLcode c)
{
  return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING ||
         c == CURLE_WEIRD_SERVER_REPLY || c == CURLE_HTTP2;
}

static int xfer_curl_error(struct xfer *x, CURLcode c, podrun_error_t *err)
{
  const char *why = x->errbuf[0] ? x->errbuf : sym_curl_easy_strerror(c);
  if (x->blob && x->headers_done && x->status >= 200 && x->status < 300 &&
      (c == CURLE_PARTIAL_FILE || c == CURLE_RECV_ERROR || c == CURLE_HTTP2_STREAM || c == CURLE_HTTP2))
    return podrun_error_new(err, EIO, "%s: truncated: got %llu of %llu bytes (%s)", x->what,
                            (unsigned long long) (x->base + x->got), (unsigned long long) x->blob->size, ESCAPE(why));
  /* libcurl's low-speed limit, unless it is the connection that timed out */
  if (c == CURLE_OPERATION_TIMEDOUT && (x->status > 0 || !strstr(why, "onnection")))
    return podrun_error_new(err, ETIMEDOUT, "%s: too slow: less than %d bytes/s for %ld s", x->what, LOW_SPEED_LIMIT,
                            x->r->low_speed_time);
  if (c == CURLE_OPERATION_TIMEDOUT)
    return podrun_error_new(err, ETIMEDOUT, "%s: %s", x->what, ESCAPE(why));
  if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE)
    {
      _cleanup_free_ char *name = certs_name(x->url);
      return podrun_error_new(err, EPERM,
                              "%s: TLS certificate not verified (%s): trust its CA in %s/%s/ca.crt, or "
                              "--insecure-options=tls",
                              x->what, ESCAPE(why), x->r->ca_dir ? ESCAPE(x->r->ca_dir) : "certs.d", name ? ESCAPE(name) : "HOST");
    }
  if (c == CURLE_PARTIAL_FILE)
    return podrun_error_new(err, EIO, "%s: truncated (%s)", x->what, ESCAPE(why));
  return podrun_error_new(err, EIO, "%s: %s", x->what, ESCAPE(why));
}

static int xfer_redirect(struct xfer *x, podrun_error_t *err)
{
  char *loc = NULL;
  _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL;

  if (++x->redirects > MAX_REDIRECTS)
    return podrun_error_new(err, ELOOP, "%s: too many redirects (more than %d: a redirect loop?)", x->what,
                            MAX_REDIRECTS);
  if (sym_curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
    return podrun_error_new(err, EPROTO, "%s: a redirect (HTTP %ld) without a Location", x->what, x->status);
  if (url_split(loc, &scheme, &host, &port) < 0 || !(streq(scheme, "https") || streq(scheme, "http")))
    return podrun_error_new(err, EPROTO, "%s: a redirect to %s: only http and https are followed", x->what,
                            QUOTE(loc));
  if (streq(scheme, "http") && startswith(x->url, "https:") && !x->r->insecure_http)
    return podrun_error_new(err, EPROTO, "%s: a redirect from https to plain http (%s) needs --insecure-options=http",
                            x->what, QUOTE(loc));
  char *u = xstrdup(loc);
  free(x->url);
  x->url = u;
  return 1;
}

/* ---- WWW-Authenticate ---- */

struct challenge
{
  bool bearer, basic;
  char *realm, *service, *scope;
};

static void challenge_done(struct challenge *c)
{
  free(c->realm);
  free(c->service);
  free(c->scope);
}

/* A quoted-string at p (on its opening quote): its value in *ret, the rest
 * returned; NULL if it does not end. */
static const char *parse_quoted(const char *p, char **ret)
{
  size_t n = 0;
  char *v = xmalloc(strlen(p) + 1);
  for (p++; *p && *p != '"'; p++)
    {
      if (*p == '\\' && p[1])
        p++;
      v[n++] = *p;
    }
  if (*p != '"')
    {
      free(v);
      return NULL;
    }
  v[n] = '\0';
  *ret = v;
  return p + 1;
}

/* RFC 7235's challenges, which may share a header: `scheme param=value,
 * param="quoted, value", other-scheme …`. Bearer's params are kept (the
 * first of each); Basic is noted. */
static int challenge_parse(const char *s, struct challenge *c)
{
  enum { NONE, BEARER, OTHER } cur = NONE;
  const char *p = s;

  for (;;)
    {
      p += strspn(p, " \t,");
      if (!*p)
        return 0;
      size_t n = strcspn(p, " \t,=\"");
      if (n == 0)
        return -1;
      const char *name = p;
      p += n;
      const char *q = p + strspn(p, " \t");
      if (*q != '=')
        {
          bool bearer = n == 6 && strncasecmp(name, "Bearer", 6) == 0;
          if (n == 5 && strncasecmp(name, "Basic", 5) == 0)
            c->basic = true;
          c->bearer = c->bearer || bearer;
          cur = bearer ? BEARER : OTHER;
          continue;
        }
      p = q + 1 + strspn(q + 1, " \t");
      char *v = NULL;
      if (*p == '"')
        {
          if (!(p = parse_quoted(p, &v)))
            return -1;
        }
      else
        {
          size_t m = strcspn(p, " \t,");
          v = xstrndup(p, m);
          p += m;
        }
      char **slot = NULL;
      if (cur == BEARER && n == 5 && strncasecmp(name, "realm", 5) == 0)
        slot = &c->realm;
      else if (cur == BEARER && n == 7 && strncasecmp(name, "service", 7) == 0)
        slot = &c->service;
      else if (cur == BEARER && n == 5 && strncasecmp(name, "scope", 5) == 0)
        slot = &c->scope;
      if (slot && !*slot)
        *slot = TAKE_PTR(v);
      free(v);
    }
}

static int perform_one(struct xfer *x, podrun_error_t *err);

static bool istartswith(const char *s, const char *prefix)
{
  return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int token_answer(struct xfer *t, const char *repo, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  if (t->status == 401 || t->status == 403)
    return podrun_error_new(err, EACCES, "%s: unauthorized (HTTP %ld)%s", t->what, t->status,
                            t->r->user ? ": the token server refused the credentials"
                                       : ": the token server refuses anonymous access (credentials: auth.d or --authfile)");
  if (t->status != 200)
    return xfer_http_error(t, err);
  if (json_parse_untrusted(t->buf ? t->buf : "", t->len, "token", &j, err) < 0)
    return podrun_error_wrap(err, "%s", t->what);
  const char *tok = json_string_value(json_object_get(j, "token"));
  if (!tok || !*tok)
    tok = json_string_value(json_object_get(j, "access_token"));
  if (!tok || !*tok || strpbrk(tok, "\r\n"))
    return podrun_error_new(err, EPROTO, "%s: no token in the answer", t->what);
  token_store(t->r, repo, xstrdup(tok));
  return 0;
}

/* GETs a token for pulling repo from the realm of a Bearer challenge. */
static int token_fetch(struct registry *r, const char *repo, const struct challenge *c, podrun_error_t *err)
{
  if (!c->realm || !(istartswith(c->realm, "https://") || istartswith(c->realm, "http://")))
    return podrun_error_new(err, EPROTO, "registry %s: unauthorized: a Bearer challenge whose realm %s is no http(s) URL",
                            QUOTE(r->host), c->realm ? QUOTE(c->realm) : "is missing and");
  if (istartswith(c->realm, "http://") && !r->insecure_http)
    return podrun_error_new(err, EPERM, "registry %s: its token realm %s is plain http: that needs --insecure-options=http",
                            QUOTE(r->host), QUOTE(c->realm));
  _cleanup_free_ char *scope = xasprintf("repository:%s:pull", repo);
  char *esc_scope = sym_curl_easy_escape(r->easy, scope, 0);
  char *esc_service = c->service ? sym_curl_easy_escape(r->easy, c->service, 0) : NULL;
  struct xfer t = { .r = r, .h = r->easy, .raw = true, .token_request = true, .max = TOKEN_MAX,
                    .too_large = "token too large" };
  t.url = xasprintf("%s%s%s%s%sscope=%s", c->realm, strchr(c->realm, '?') ? "&" : "?", esc_service ? "service=" : "",
                    esc_service ? esc_service : "", esc_service ? "&" : "", esc_scope ? esc_scope : "");
  sym_curl_free(esc_scope);
  sym_curl_free(esc_service);
  t.what = xasprintf("token server %s", QUOTE(c->realm));
  int ret = perform_one(&t, err);
  if (ret == 0)
    ret = token_answer(&t, repo, err);
  xfer_free(&t);
  return ret;
}

/* A 401 of the registry: answers its challenge, once. 1: try again. */
static int xfer_authenticate(struct xfer *x, podrun_error_t *err)
{
  struct registry *r = x->r;
  struct challenge c = { 0 };
  int ret = 1;

  x->auth_tried = true;
  if (!x->www_authenticate || challenge_parse(x->www_authenticate, &c) < 0)
    ret = podrun_error_new(err, EACCES, "%s: unauthorized (HTTP 401): %s WWW-Authenticate header", x->what,
                           x->www_authenticate ? "a malformed" : "no");
  else if (c.bearer)
    {
      const char *cached = token_find(r, x->repo);
      if (!(cached && !streq_ptr(cached, x->auth_used)) && token_fetch(r, x->repo, &c, err) < 0)
        ret = -1;
    }
  else if (c.basic && r->user && !x->sent_basic)
    r->basic = true;
  else if (c.basic)
    ret = xfer_http_error(x, err);
  else
    ret = podrun_error_new(err, EACCES, "%s: unauthorized (HTTP 401): no challenge podrun answers (Bearer, Basic)",
                           x->what);
  challenge_done(&c);
  return ret;
}

/* An attempt ended: 0 done, 1 try again (redirect, 401), -1 failed. */
static int xfer_done(struct xfer *x, CURLcode c, podrun_error_t *err)
{
  x->code = c;
  if (x->err)
    {
      podrun_error_free(err);
      *err = TAKE_PTR(x->err);
      return -1;
    }
  if (c != CURLE_OK)
    return xfer_curl_error(x, c, err);
  if (x->raw)
    return 0;
  if (is_redirect(x->status) && x->follow)
    return xfer_redirect(x, err);
  if (x->status == 401 && x->repo && !x->auth_tried && same_origin(x->r, x->url))
    return xfer_authenticate(x, err);
  if (x->status < 200 || x->status >= 300)
    return xfer_http_error(x, err);
  if (x->blob && x->base + x->got != x->blob->size)
    return podrun_error_new(err, EIO, "%s: truncated: got %llu of %llu bytes", x->what,
                            (unsigned long long) (x->base + x->got), (unsigned long long) x->blob->size);
  return 0;
}

static int perform_one(struct xfer *x, podrun_error_t *err)
{
  for (;;)
    {
      if (xfer_setup(x, err) < 0)
        return -1;
      int k = xfer_done(x, sym_curl_easy_perform(x->h), err);
      if (k <= 0)
        return k;
    }
}

/* ---- the registry ---- */

static int registry_set_base(struct registry *r, const char *scheme)
{
  free(r->base);
  free(r->origin);
  free(r->authority);
  r->origin = r->authority = NULL;
  r->base = xasprintf("%s://%s", scheme, r->host);
  return url_origin(r->base, &r->origin, &r->authority);
}

/* GET /v2/: 0 when it answers as a registry (200, or 401 for its auth). */
static int registry_ping(struct registry *r, podrun_error_t *err)
{
  struct xfer x = { .r = r, .h = r->easy, .raw = true, .max = ERRBODY_MAX, .too_large = "answer too large" };
  x.url = xasprintf("%s/v2/", r->base);
  x.what = xasprintf("registry %s (%s)", QUOTE(r->host), startswith(r->base, "https:") ? "https" : "http");
  int ret = perform_one(&x, err);
  if (ret == 0 && x.status != 200 && x.status != 401)
    ret = podrun_error_new(err, EPROTO, "%s: GET /v2/ answered HTTP %ld: not a registry (API v2)", x.what, x.status);
  CURLcode code = x.code;
  xfer_free(&x);
  if (ret < 0 && code != CURLE_OK && tls_level(code) && !r->insecure_http)
    {
      char *m = xasprintf("%s; if it is a plain-http registry, that needs --insecure-options=http", (*err)->msg);
      free((*err)->msg);
      (*err)->msg = msg_one_line(m);
    }
  return ret;
}

static int registry_connect(struct registry *r, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t https_err = NULL;

  if (registry_set_base(r, "https") < 0)
    return podrun_error_new(err, EINVAL, "registry %s: not a valid host", QUOTE(r->host));
  if (registry_ping(r, &https_err) == 0)
    return 0;
  /* https failed at the connection or in TLS (podman and rkt's habit) */
  if (r->insecure_http && https_err->status != EPROTO)
    {
      _cleanup_error_ podrun_error_t http_err = NULL;
      if (registry_set_base(r, "http") == 0 && registry_ping(r, &http_err) == 0)
        return 0;
    }
  *err = TAKE_PTR(https_err);
  return -1;
}

static long low_speed_time(void)
{
  const char *e = getenv("PODRUN_LOW_SPEED_TIME");
  unsigned long long v;
  if (e && parse_uint(e, 3600, &v) == 0 && v > 0)
    return (long) v;
  return LOW_SPEED_TIME;
}

int registry_open(const struct registry_opts *opts, struct registry **ret, podrun_error_t *err)
{
  if (!opts->host || !host_valid(opts->host))
    return podrun_error_new(err, EINVAL, "registry %s: not a valid HOST[:PORT]", QUOTE(opts->host ? opts->host : ""));
  if (dl_load_curl(err) < 0)
    return -1;
  struct registry *r = xzalloc(sizeof(*r));
  r->host = xstrdup(opts->host);
  r->insecure_tls = opts->insecure_tls;
  r->insecure_http = opts->insecure_http;
  r->ca_dir = opts->ca_dir ? xstrdup(opts->ca_dir) : NULL;
  r->user = opts->user ? xstrdup(opts->user) : NULL;
  r->password = opts->password ? xstrdup(opts->password) : NULL;
  r->parallel = opts->parallel ? opts->parallel : REGISTRY_PARALLEL;
  r->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "podrun");
  r->progress = opts->progress;
  r->progress_ctx = opts->progress_ctx;
  r->low_speed_time = low_speed_time();
  if (!(r->easy = sym_curl_easy_init()))
    {
      registry_close(r);
      return podrun_error_new(err, ENOMEM, "libcurl: no handle");
    }
  if (registry_connect(r, err) < 0)
    {
      registry_close(r);
      return -1;
    }
  *ret = r;
  return 0;
}

void registry_close(struct registry *r)
{
  if (!r)
    return;
  if (r->easy)
    sym_curl_easy_cleanup(r->easy);
  for (size_t i = 0; i < r->n_tokens; i++)
    {
      free(r->tokens[i].scope);
      secret_free(r->tokens[i].token);
    }
  free(r->tokens);
  for (size_t i = 0; i < r->n_cas; i++)
    {
      free(r->cas[i].authority);
      free(r->cas[i].pem);
    }
  free(r->cas);
  free(r->system_pem);
  free(r->host);
  free(r->base);
  free(r->origin);
  free(r->authority);
  free(r->ca_dir);
  secret_free(r->user);
  secret_free(r->password);
  free(r->user_agent);
  free(r);
}

static char *media_type(const char *content_type)
{
  if (!content_type)
    return xstrdup("");
  size_t n = strcspn(content_type, ";");
  return trim(content_type, n);
}

int registry_get_manifest(struct registry *r, const char *repo, const char *reference, char **ret_body,
                          size_t *ret_len, char **ret_content_type, char **ret_digest, podrun_error_t *err)
{
  char digest[72];

  if (check_repo(repo, err) < 0)
    return -1;
  bool by_digest = sha256_digest_valid(reference);
  if (!by_digest && !tag_valid(reference))
    return podrun_error_new(err, EINVAL, "reference %s: neither a tag nor a sha256 digest", QUOTE(reference));
  _cleanup_free_ char *name = xasprintf("%s/%s%s%s", r->host, repo, by_digest ? "@" : ":", reference);
  struct xfer x = { .r = r, .h = r->easy, .repo = repo, .accept = ACCEPT_MANIFESTS, .follow = true,
                    .max = REGISTRY_MANIFEST_MAX, .too_large = "manifest too large (over 4 MiB)" };
  x.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, reference);
  x.what = xasprintf("manifest %s", QUOTE(name));
  int ret = perform_one(&x, err);
  if (ret == 0)
    ret = registry_sha256(x.buf ? x.buf : "", x.len, digest, err);
  if (ret == 0 && by_digest && !streq(digest, reference))
    ret = podrun_error_new(err, EPROTO, "%s: digest mismatch: the registry sent %s", x.what, digest);
  if (ret == 0)
    {
      if (ret_content_type)
        *ret_content_type = media_type(x.content_type);
      if (ret_digest)
        *ret_digest = xstrdup(digest);
      if (ret_len)
        *ret_len = x.len;
      if (ret_body)
        *ret_body = x.buf ? TAKE_PTR(x.buf) : xstrdup("");
    }
  xfer_free(&x);
  return ret;
}

int registry_get_blob_small(struct registry *r, const char *repo, const char *digest, size_t max, char **ret_buf,
                            size_t *ret_len, podrun_error_t *err)
{
  char got[72];

  if (check_repo(repo, err) < 0)
    return -1;
  if (!sha256_digest_valid(digest))
    return podrun_error_new(err, EINVAL, "blob %s: not a sha256 digest", QUOTE(digest));
  _cleanup_free_ char *too_large = xasprintf("larger than %zu bytes", max);
  struct xfer x = { .r = r, .h = r->easy, .repo = repo, .follow = true, .max = max, .too_large = too_large };
  x.url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, digest);
  x.what = xasprintf("blob %s", digest);
  int ret = perform_one(&x, err);
  if (ret == 0)
    ret = registry_sha256(x.buf ? x.buf : "", x.len, got, err);
  if (ret == 0 && !streq(got, digest))
    ret = podrun_error_new(err, EPROTO, "%s: digest mismatch: the registry sent %s", x.what, got);
  if (ret == 0)
    {
      if (ret_len)
        *ret_len = x.len;
      if (ret_buf)
        *ret_buf = x.buf ? TAKE_PTR(x.buf) : xstrdup("");
    }
  xfer_free(&x);
  return ret;
}

/* ---- blobs, in parallel ---- */

struct multi
{
  struct registry *r;
  CURLM *m;
  struct xfer *xs;
  size_t n, next;
  unsigned running;
  ssize_t failed; /* the first blob that failed, -1 */
};

static int multi_start(struct multi *mu, struct xfer *x, podrun_error_t *err)
{
  if (xfer_setup(x, err) < 0)
    return -1;
  if (sym_curl_multi_add_handle(mu->m, x->h) != CURLM_OK)
    return podrun_error_new(err, EIO, "%s: libcurl refused the transfer", x->what);
  x->active = true;
  mu->running++;
  return 0;
}

static void multi_fail(struct multi *mu, struct xfer *x, podrun_error_t *e)
{
  x->blob->error = TAKE_PTR(*e);
  if (mu->failed < 0)
    mu->failed = x - mu->xs;
}

/* One transfer ended: done, failed, or started again. */
static void multi_done(struct multi *mu, CURL *h, CURLcode code)
{
  struct xfer *x = NULL;
  podrun_error_t e = NULL;

  sym_curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **) &x);
  sym_curl_multi_remove_handle(mu->m, h);
  x->active = false;
  mu->running--;
  int k = xfer_done(x, code, &e);
  if (k == 1 && multi_start(mu, x, &e) == 0)
    return;
  if (k != 0)
    multi_fail(mu, x, &e);
  else
    x->finished = true;
}

static int multi_run(struct multi *mu, podrun_error_t *err)
{
  while (mu->failed < 0)
    {
      while (mu->running < mu->r->parallel && mu->next < mu->n && mu->failed < 0)
        {
          struct xfer *x = &mu->xs[mu->next++];
          podrun_error_t e = NULL;
          if (x->blob->offset == x->blob->size)
            x->finished = true;
          else if (multi_start(mu, x, &e) < 0)
            multi_fail(mu, x, &e);
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

/* After the first failure: the transfers under way stop. */
static void multi_cancel(struct multi *mu)
{
  for (size_t i = 0; i < mu->n; i++)
    if (mu->xs[i].active)
      {
        sym_curl_multi_remove_handle(mu->m, mu->xs[i].h);
        mu->xs[i].active = false;
      }
}

int registry_fetch_blobs(struct registry *r, const char *repo, struct registry_blob *blobs, size_t n,
                         podrun_error_t *err)
{
  struct multi mu = { .r = r, .n = n, .failed = -1 };
  int ret = 0;

  if (check_repo(repo, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!blobs[i].digest || !digest_valid(blobs[i].digest) || blobs[i].offset > blobs[i].size)
      return podrun_error_new(err, EINVAL, "blob %s: %s", QUOTE(blobs[i].digest ? blobs[i].digest : ""),
                              blobs[i].offset > blobs[i].size ? "offset past its size" : "not a valid digest");
  if (!(mu.m = sym_curl_multi_init()))
    return podrun_error_new(err, ENOMEM, "libcurl: no multi handle");
  mu.xs = xzalloc(n * sizeof(*mu.xs) + 1);
  for (size_t i = 0; i < n; i++)
    {
      struct xfer *x = &mu.xs[i];
      *x = (struct xfer){ .r = r, .repo = repo, .follow = true, .blob = &blobs[i] };
      x->url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, blobs[i].digest);
      x->what = xasprintf("blob %s", blobs[i].digest);
      if (!(x->h = sym_curl_easy_init()))
        {
          ret = podrun_error_new(err, ENOMEM, "libcurl: no handle");
          break;
        }
    }
  if (ret == 0)
    ret = multi_run(&mu, err);
  multi_cancel(&mu);
  if (ret == 0 && mu.failed >= 0)
    {
      struct registry_blob *f = &blobs[mu.failed];
      ret = podrun_error_new(err, f->error->status, "%s", f->error->msg);
    }
  for (size_t i = 0; i < n; i++)
    {
      if (ret < 0 && !mu.xs[i].finished && !blobs[i].error)
        {
          if (mu.failed >= 0)
            podrun_error_new(&blobs[i].error, ECANCELED, "blob %s: cancelled: blob %s failed", blobs[i].digest,
                             blobs[mu.failed].digest);
          else
            podrun_error_new(&blobs[i].error, ECANCELED, "blob %s: cancelled", blobs[i].digest);
        }
      if (mu.xs[i].h)
        sym_curl_easy_cleanup(mu.xs[i].h);
      xfer_free(&mu.xs[i]);
    }
  free(mu.xs);
  sym_curl_multi_cleanup(mu.m);
  return ret;
}
