/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry protocol (API v2) on the HTTP layer (http.h): its ping,
 * manifests and blobs, and its auth (Bearer tokens, Basic), given per
 * attempt and only to the registry's own origin. */
#include "registry.h"

#include <ctype.h>
#include <strings.h>

#include "dl.h"
#include "http.h"
#include "json-util.h"
#include "trust-sign.h"

#define ERRBODY_MAX HTTP_ERRBODY_MAX
#define TOKEN_MAX (1024 * 1024)
#define SETOPT(h, o, v) ok = ok && sym_curl_easy_setopt((h), (o), (v)) == CURLE_OK

static const char ACCEPT_MANIFESTS[] = "Accept: application/vnd.oci.image.index.v1+json, "
                                       "application/vnd.oci.image.manifest.v1+json, "
                                       "application/vnd.docker.distribution.manifest.list.v2+json, "
                                       "application/vnd.docker.distribution.manifest.v2+json";

struct token
{
  char *scope; /* the repository: its pull scope is what was asked for */
  char *token;
};

struct registry
{
  char *host;   /* as given: names the registry in messages and in certs.d */
  char *base;   /* "https://HOST" or "http://HOST" once open */
  char *origin; /* scheme://host:port of base, lowercase, the port explicit */
  char *authority;
  bool insecure_http;
  char *user, *password;
  unsigned parallel;
  bool basic; /* the registry asked for Basic: send it from then on */
  struct token *tokens;
  size_t n_tokens;
  struct http *http;
};

/* One exchange of the registry's, with its auth. */
struct xfer
{
  struct http_xfer x; /* first: the hooks' argument is it */
  struct registry *r;
  const char *repo;   /* the registry's auth applies (scope repository:REPO:pull) */
  bool token_request; /* the user's Basic credentials go along */
  bool auth_tried;
  char *auth_used; /* the token this attempt sent */
  bool sent_basic;
  struct registry_blob *blob;
  struct http_sink sink;
};

static int xfer_setup_auth(struct http_xfer *hx, podrun_error_t *err);
static int xfer_answer(struct http_xfer *hx, podrun_error_t *err);

static struct xfer xfer_init(struct registry *r, const char *repo)
{
  return (struct xfer){ .x = { .http = r->http, .setup = xfer_setup_auth, .answer = xfer_answer }, .r = r,
                        .repo = repo };
}

static void secret_free(char *s)
{
  if (s)
    {
      explicit_bzero(s, strlen(s));
      free(s);
    }
}

/* ---- names ---- */

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

static bool same_origin(struct registry *r, const char *url)
{
  _cleanup_free_ char *o = NULL;
  return http_url_origin(url, &o, NULL) == 0 && streq(o, r->origin);
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

static void xfer_free(struct xfer *x)
{
  http_xfer_done(&x->x);
  secret_free(x->auth_used);
  x->auth_used = NULL;
}

static int xfer_setup_auth(struct http_xfer *hx, podrun_error_t *err)
{
  struct xfer *x = (struct xfer *) hx;
  struct registry *r = x->r;
  bool ok = true;
  const char *token = NULL;

  secret_free(x->auth_used);
  x->auth_used = NULL;
  x->sent_basic = false;
  bool basic = x->token_request || (x->repo && r->basic && same_origin(r, hx->url));
  if (x->repo && !x->token_request && same_origin(r, hx->url) && (token = token_find(r, x->repo)))
    {
      SETOPT(hx->h, CURLOPT_XOAUTH2_BEARER, token);
      SETOPT(hx->h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
      x->auth_used = xstrdup(token);
    }
  else if (basic && r->user)
    {
      SETOPT(hx->h, CURLOPT_USERNAME, r->user);
      SETOPT(hx->h, CURLOPT_PASSWORD, r->password ? r->password : "");
      SETOPT(hx->h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      x->sent_basic = true;
    }
  return ok ? 0 : podrun_error_new(err, EIO, "%s: libcurl refused an option", hx->what);
}

/* ---- the answers ---- */

/* "CODE: message" of a registry's {"errors": [{"code", "message"}]}. */
static char *registry_error_text(struct http_xfer *x)
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
  _cleanup_free_ char *text = registry_error_text(&x->x);
  if (x->x.status == 401 || x->x.status == 403)
    {
      const char *sep = text ? " (" : "", *end = text ? ")" : "";
      const char *why = !x->r->user ? ": the registry refuses anonymous access (credentials: auth.d or --authfile)"
                                    : ": the registry refused the credentials";
      return podrun_error_new(err, EACCES, "%s: unauthorized (HTTP %ld)%s%s%s%s", x->x.what, x->x.status, sep,
                              text ? text : "", end, why);
    }
  return http_xfer_error(&x->x, text, err);
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
  if (t->x.status == 401 || t->x.status == 403)
    return podrun_error_new(err, EACCES, "%s: unauthorized (HTTP %ld)%s", t->x.what, t->x.status,
                            t->r->user ? ": the token server refused the credentials"
                                       : ": the token server refuses anonymous access (credentials: auth.d or --authfile)");
  if (t->x.status != 200)
    return xfer_http_error(t, err);
  if (json_parse_untrusted(t->x.buf ? t->x.buf : "", t->x.len, "token", &j, err) < 0)
    return podrun_error_wrap(err, "%s", t->x.what);
  const char *tok = json_string_value(json_object_get(j, "token"));
  if (!tok || !*tok)
    tok = json_string_value(json_object_get(j, "access_token"));
  if (!tok || !*tok || strpbrk(tok, "\r\n"))
    return podrun_error_new(err, EPROTO, "%s: no token in the answer", t->x.what);
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
  char *esc_scope = sym_curl_easy_escape(NULL, scope, 0);
  char *esc_service = c->service ? sym_curl_easy_escape(NULL, c->service, 0) : NULL;
  struct xfer t = xfer_init(r, NULL);
  t.token_request = true;
  t.x.raw = true;
  t.x.max = TOKEN_MAX;
  t.x.too_large = "token too large";
  t.x.url = xasprintf("%s%s%s%s%sscope=%s", c->realm, strchr(c->realm, '?') ? "&" : "?", esc_service ? "service=" : "",
                    esc_service ? esc_service : "", esc_service ? "&" : "", esc_scope ? esc_scope : "");
  sym_curl_free(esc_scope);
  sym_curl_free(esc_service);
  t.x.what = xasprintf("token server %s", QUOTE(c->realm));
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
  if (!x->x.www_authenticate || challenge_parse(x->x.www_authenticate, &c) < 0)
    ret = podrun_error_new(err, EACCES, "%s: unauthorized (HTTP 401): %s WWW-Authenticate header", x->x.what,
                           x->x.www_authenticate ? "a malformed" : "no");
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
                           x->x.what);
  challenge_done(&c);
  return ret;
}

/* A status that is no success: the 401 of the registry's own origin
 * answered once, the rest its errors. */
static int xfer_answer(struct http_xfer *hx, podrun_error_t *err)
{
  struct xfer *x = (struct xfer *) hx;
  if (hx->status == 401 && x->repo && !x->auth_tried && same_origin(x->r, hx->url))
    return xfer_authenticate(x, err);
  return xfer_http_error(x, err);
}

static int perform_one(struct xfer *x, podrun_error_t *err)
{
  return http_perform(&x->x, err);
}

/* ---- the registry ---- */

static int registry_set_base(struct registry *r, const char *scheme)
{
  free(r->base);
  free(r->origin);
  free(r->authority);
  r->origin = r->authority = NULL;
  r->base = xasprintf("%s://%s", scheme, r->host);
  if (http_url_origin(r->base, &r->origin, &r->authority) < 0)
    return -1;
  http_set_host(r->http, r->host, r->authority);
  return 0;
}

/* GET /v2/: 0 when it answers as a registry (200, or 401 for its auth). */
static int registry_ping(struct registry *r, podrun_error_t *err)
{
  struct xfer x = xfer_init(r, NULL);
  x.x.raw = true;
  x.x.max = ERRBODY_MAX;
  x.x.too_large = "answer too large";
  x.x.url = xasprintf("%s/v2/", r->base);
  x.x.what = xasprintf("registry %s (%s)", QUOTE(r->host), startswith(r->base, "https:") ? "https" : "http");
  int ret = perform_one(&x, err);
  if (ret == 0 && x.x.status != 200 && x.x.status != 401)
    ret = podrun_error_new(err, EPROTO, "%s: GET /v2/ answered HTTP %ld: not a registry (API v2)", x.x.what,
                           x.x.status);
  bool tls = http_xfer_tls_failed(&x.x);
  xfer_free(&x);
  if (ret < 0 && tls && !r->insecure_http)
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

int registry_open(const struct registry_opts *opts, struct registry **ret, podrun_error_t *err)
{
  if (!opts->host || !http_host_valid(opts->host))
    return podrun_error_new(err, EINVAL, "registry %s: not a valid HOST[:PORT]", QUOTE(opts->host ? opts->host : ""));
  struct http_opts ho = { .insecure_tls = opts->insecure_tls, .insecure_http = opts->insecure_http,
                          .ca_dir = opts->ca_dir, .user_agent = opts->user_agent, .peer = "registry",
                          .progress = opts->progress, .progress_ctx = opts->progress_ctx };
  struct http *h = NULL;
  if (http_new(&ho, &h, err) < 0)
    return -1;
  struct registry *r = xzalloc(sizeof(*r));
  r->http = h;
  r->host = xstrdup(opts->host);
  r->insecure_http = opts->insecure_http;
  r->user = opts->user ? xstrdup(opts->user) : NULL;
  r->password = opts->password ? xstrdup(opts->password) : NULL;
  r->parallel = opts->parallel ? opts->parallel : REGISTRY_PARALLEL;
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
  http_free(r->http);
  for (size_t i = 0; i < r->n_tokens; i++)
    {
      free(r->tokens[i].scope);
      secret_free(r->tokens[i].token);
    }
  free(r->tokens);
  free(r->host);
  free(r->base);
  free(r->origin);
  free(r->authority);
  secret_free(r->user);
  secret_free(r->password);
  free(r);
}

static char *media_type(const char *content_type)
{
  if (!content_type)
    return xstrdup("");
  size_t n = strcspn(content_type, ";");
  while (n > 0 && isspace((unsigned char) content_type[n - 1]))
    n--;
  const char *s = content_type;
  while (n > 0 && isspace((unsigned char) *s))
    s++, n--;
  return xstrndup(s, n);
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
  struct xfer x = xfer_init(r, repo);
  x.x.accept = ACCEPT_MANIFESTS;
  x.x.follow = true;
  x.x.max = REGISTRY_MANIFEST_MAX;
  x.x.too_large = "manifest too large (over 4 MiB)";
  x.x.url = xasprintf("%s/v2/%s/manifests/%s", r->base, repo, reference);
  x.x.what = xasprintf("manifest %s", QUOTE(name));
  int ret = perform_one(&x, err);
  if (ret == 0)
    ret = registry_sha256(x.x.buf ? x.x.buf : "", x.x.len, digest, err);
  if (ret == 0 && by_digest && !streq(digest, reference))
    ret = podrun_error_new(err, EPROTO, "%s: digest mismatch: the registry sent %s", x.x.what, digest);
  if (ret == 0)
    {
      if (ret_content_type)
        *ret_content_type = media_type(x.x.content_type);
      if (ret_digest)
        *ret_digest = xstrdup(digest);
      if (ret_len)
        *ret_len = x.x.len;
      if (ret_body)
        *ret_body = x.x.buf ? TAKE_PTR(x.x.buf) : xstrdup("");
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
  struct xfer x = xfer_init(r, repo);
  x.x.follow = true;
  x.x.max = max;
  x.x.too_large = too_large;
  x.x.url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, digest);
  x.x.what = xasprintf("blob %s", digest);
  int ret = perform_one(&x, err);
  if (ret == 0)
    ret = registry_sha256(x.x.buf ? x.x.buf : "", x.x.len, got, err);
  if (ret == 0 && !streq(got, digest))
    ret = podrun_error_new(err, EPROTO, "%s: digest mismatch: the registry sent %s", x.x.what, got);
  if (ret == 0)
    {
      if (ret_len)
        *ret_len = x.x.len;
      if (ret_buf)
        *ret_buf = x.x.buf ? TAKE_PTR(x.x.buf) : xstrdup("");
    }
  xfer_free(&x);
  return ret;
}

/* ---- blobs, in parallel ---- */

int registry_fetch_blobs(struct registry *r, const char *repo, struct registry_blob *blobs, size_t n,
                         podrun_error_t *err)
{
  ssize_t failed = -1;
  int ret = 0;

  if (check_repo(repo, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!blobs[i].digest || !digest_valid(blobs[i].digest) || blobs[i].offset > blobs[i].size)
      return podrun_error_new(err, EINVAL, "blob %s: %s", QUOTE(blobs[i].digest ? blobs[i].digest : ""),
                              blobs[i].offset > blobs[i].size ? "offset past its size" : "not a valid digest");
  struct xfer *xs = xzalloc(n * sizeof(*xs) + 1);
  struct http_xfer **hxs = xzalloc(n * sizeof(*hxs) + 1);
  for (size_t i = 0; i < n; i++)
    {
      struct xfer *x = &xs[i];
      *x = xfer_init(r, repo);
      x->blob = &blobs[i];
      x->sink = (struct http_sink){ .id = blobs[i].digest, .size = blobs[i].size, .offset = blobs[i].offset,
                                    .write = blobs[i].write, .restart = blobs[i].restart, .ctx = blobs[i].ctx };
      x->x.sink = &x->sink;
      x->x.follow = true;
      x->x.url = xasprintf("%s/v2/%s/blobs/%s", r->base, repo, blobs[i].digest);
      x->x.what = xasprintf("blob %s", blobs[i].digest);
      hxs[i] = &x->x;
    }
  ret = http_perform_many(r->http, hxs, n, r->parallel, &failed, err);
  if (ret == 0 && failed >= 0)
    {
      podrun_error_t e = xs[failed].x.error;
      ret = podrun_error_new(err, e->status, "%s", e->msg);
    }
  for (size_t i = 0; i < n; i++)
    {
      blobs[i].error = TAKE_PTR(xs[i].x.error);
      if (ret < 0 && !xs[i].x.finished && !blobs[i].error)
        {
          if (failed >= 0)
            podrun_error_new(&blobs[i].error, ECANCELED, "blob %s: cancelled: blob %s failed", blobs[i].digest,
                             blobs[failed].digest);
          else
            podrun_error_new(&blobs[i].error, ECANCELED, "blob %s: cancelled", blobs[i].digest);
        }
      xfer_free(&xs[i]);
    }
  free(hxs);
  free(xs);
  return ret;
}

/* ---- the signature extension (OpenShift's, Quay's) ---- */

static int sigext_answer(struct http_xfer *hx, podrun_error_t *err)
{
  /* a registry without the extension: no such route */
  if (hx->status == 400 || hx->status == 404 || hx->status == 405 || hx->status == 501)
    return podrun_error_new(err, ENOENT, "%s: not offered", hx->what);
  return xfer_answer(hx, err);
}

/* {"signatures": [{"version": 2, "type": "atomic", "name": "DIGEST@ID", "content": "base64"}]}:
 * the other versions and types are skipped, as containers does. */
int registry_parse_signatures(const char *body, size_t len, const char *what, char ***ret_sigs, size_t **ret_lens,
                              size_t *ret_n, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  size_t i, n = 0;
  json_t *s;

  if (json_parse_untrusted(body, len, what, &j, err) < 0)
    return -1;
  json_t *a = json_object_get(j, "signatures");
  if (!json_is_array(a))
    return podrun_error_new(err, EPROTO, "%s: no \"signatures\" list", what);
  char **sigs = xzalloc(sizeof(*sigs) * (REGISTRY_MAX_SIGNATURES + 1));
  size_t *lens = xzalloc(sizeof(*lens) * (REGISTRY_MAX_SIGNATURES + 1));
  json_array_foreach (a, i, s)
    {
      const char *content = json_string_value(json_object_get(s, "content"));
      const char *type = json_string_value(json_object_get(s, "type"));
      _cleanup_error_ podrun_error_t de = NULL;
      if (n == REGISTRY_MAX_SIGNATURES)
        break;
      if (json_integer_value(json_object_get(s, "version")) != 2 || !type || !streq(type, "atomic") || !content)
        continue;
      if (trust_base64_decode(content, &sigs[n], &lens[n], &de) < 0)
        {
          strv_free(sigs);
          free(lens);
          return podrun_error_new(err, EPROTO, "%s: a signature's content is not base64", what);
        }
      n++;
    }
  *ret_sigs = sigs;
  *ret_lens = lens;
  *ret_n = n;
  return 0;
}

int registry_get_signatures(struct registry *r, const char *repo, const char *digest, char ***ret_sigs,
                            size_t **ret_lens, size_t *ret_n, podrun_error_t *err)
{
  if (check_repo(repo, err) < 0)
    return -1;
  if (!sha256_digest_valid(digest))
    return podrun_error_new(err, EINVAL, "manifest %s: not a sha256 digest", QUOTE(digest));
  struct xfer x = xfer_init(r, repo);
  x.x.answer = sigext_answer;
  x.x.follow = true;
  x.x.max = REGISTRY_MANIFEST_MAX;
  x.x.too_large = "signatures too large (over 4 MiB)";
  x.x.url = xasprintf("%s/extensions/v2/%s/signatures/%s", r->base, repo, digest);
  x.x.what = xasprintf("signatures of %s/%s@%s", r->host, repo, digest);
  int ret = perform_one(&x, err);
  if (ret < 0 && (*err)->status == ENOENT)
    {
      podrun_error_free(err);
      *ret_sigs = xzalloc(sizeof(char *));
      *ret_lens = xzalloc(sizeof(size_t));
      *ret_n = 0;
      ret = 0;
    }
  else if (ret == 0)
    ret = registry_parse_signatures(x.x.buf ? x.x.buf : "", x.x.len, x.x.what, ret_sigs, ret_lens, ret_n, err);
  xfer_free(&x);
  return ret;
}
