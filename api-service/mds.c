/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-metadata's registry and the handlers of its two sides (mds.h). */
#include "mds.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "appc.h"
#include "json-util.h"
#include "log.h"
#include "uuid.h"

#define TEXT_ASCII "text/plain; charset=us-ascii"
#define TEXT_UTF8 "text/plain; charset=utf-8"
#define JSON_TYPE "application/json"
#define TOKEN_LEN (MDS_TOKEN_BYTES * 2)
#define MAX_SEGMENTS 16

struct mds_app
{
  char *name;
  char *image_id;
  char *image_manifest; /* as registered (compact) */
  json_t *annotations;  /* the image's, merged with the pod manifest's for the app */
  char *annotations_text; /* the same, compact: what is served (requests only read) */
};

struct mds_pod
{
  unsigned refs; /* under the registry's lock */
  char uuid[UUID_STRING_LEN + 1];
  char token[TOKEN_LEN + 1];
  unsigned char key[MDS_KEY_BYTES];
  int pidfd;
  char **addresses; /* the pod's, NULL: none to check (the host's network) */
  char *manifest;   /* the pod manifest, reified (annotations: [] when it has none) */
  json_t *annotations;
  char *annotations_text;
  struct mds_app *apps;
  size_t n_apps;
};

struct mds
{
  pthread_mutex_t lock;
  struct mds_pod **pods;
  size_t n_pods;
  char **tcp;
};

struct mds *mds_new(char *const *tcp)
{
  struct mds *m = xzalloc(sizeof(*m));
  pthread_mutex_init(&m->lock, NULL);
  m->pods = xzalloc(sizeof(*m->pods) * MDS_MAX_PODS);
  for (size_t i = 0; tcp && tcp[i]; i++)
    m->tcp = strv_push(m->tcp, tcp[i]);
  return m;
}

static void pod_free(struct mds_pod *p)
{
  if (!p)
    return;
  OPENSSL_cleanse(p->key, sizeof(p->key));
  OPENSSL_cleanse(p->token, sizeof(p->token));
  if (p->pidfd >= 0)
    close(p->pidfd);
  strv_free(p->addresses);
  free(p->manifest);
  json_decref(p->annotations);
  free(p->annotations_text);
  for (size_t i = 0; i < p->n_apps; i++)
    {
      free(p->apps[i].name);
      free(p->apps[i].image_id);
      free(p->apps[i].image_manifest);
      json_decref(p->apps[i].annotations);
      free(p->apps[i].annotations_text);
    }
  free(p->apps);
  free(p);
}

static void pod_unref(struct mds *m, struct mds_pod *p)
{
  if (!p)
    return;
  pthread_mutex_lock(&m->lock);
  bool last = --p->refs == 0;
  pthread_mutex_unlock(&m->lock);
  if (last)
    pod_free(p);
}

void mds_free(struct mds *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n_pods; i++)
    pod_free(m->pods[i]);
  free(m->pods);
  strv_free(m->tcp);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

size_t mds_count(struct mds *m)
{
  pthread_mutex_lock(&m->lock);
  size_t n = m->n_pods;
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* Removes pods[i] (under the lock); the caller drops the registry's reference. */
static struct mds_pod *take_at(struct mds *m, size_t i)
{
  struct mds_pod *p = m->pods[i];
  m->pods[i] = m->pods[--m->n_pods];
  m->pods[m->n_pods] = NULL;
  return p;
}

/* The pod whose token is `token` (every one compared, in constant time), a
 * reference taken; NULL when none. */
static struct mds_pod *find_by_token(struct mds *m, const char *token)
{
  struct mds_pod *found = NULL;
  if (strlen(token) != TOKEN_LEN)
    return NULL;
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->n_pods; i++)
    if (CRYPTO_memcmp(m->pods[i]->token, token, TOKEN_LEN) == 0)
      found = m->pods[i];
  if (found)
    found->refs++;
  pthread_mutex_unlock(&m->lock);
  return found;
}

static struct mds_pod *find_by_uuid(struct mds *m, const char *uuid, size_t *ret_index)
{
  for (size_t i = 0; i < m->n_pods; i++)
    if (streq(m->pods[i]->uuid, uuid))
      {
        if (ret_index)
          *ret_index = i;
        return m->pods[i];
      }
  return NULL;
}

/* Asked again under the lock: the fd polled may have been closed and its
 * number reused meanwhile. */
static bool pidfd_exited(int fd)
{
  struct pollfd q = { .fd = fd, .events = POLLIN };
  return poll(&q, 1, 0) == 1 && (q.revents & POLLIN);
}

unsigned mds_reap(struct mds *m, int timeout_ms)
{
  unsigned gone = 0;
  pthread_mutex_lock(&m->lock);
  size_t n = m->n_pods;
  struct pollfd *fds = xzalloc(sizeof(*fds) * (n + 1));
  for (size_t i = 0; i < n; i++)
    fds[i] = (struct pollfd){ .fd = m->pods[i]->pidfd, .events = POLLIN };
  pthread_mutex_unlock(&m->lock);
  if (n == 0)
    {
      free(fds);
      if (timeout_ms > 0)
        (void) poll(NULL, 0, timeout_ms);
      return 0;
    }
  /* a pidfd taken away meanwhile is still open: its pod holds it until freed, under the lock */
  int r = poll(fds, n, timeout_ms);
  if (r > 0)
    {
      pthread_mutex_lock(&m->lock);
      for (size_t k = 0; k < n; k++)
        if (fds[k].revents)
          for (size_t i = 0; i < m->n_pods; i++)
            if (m->pods[i]->pidfd == fds[k].fd && pidfd_exited(fds[k].fd))
              {
                struct mds_pod *p = take_at(m, i);
                log_info("pod %s unregistered: its podrun exited", p->uuid);
                if (--p->refs == 0)
                  pod_free(p);
                gone++;
                break;
              }
      pthread_mutex_unlock(&m->lock);
    }
  free(fds);
  return gone;
}

/* ---- forms ---------------------------------------------------------------- */

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [s, s+n), '+' as a space; -1 on a malformed escape. */
static int form_decode(const char *s, size_t n, char **ret, size_t *ret_len)
{
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '%')
        {
          int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
          if (hi < 0 || lo < 0)
            return free(out), -1;
          *o++ = (char) (hi << 4 | lo);
          i += 2;
        }
      else
        *o++ = s[i] == '+' ? ' ' : s[i];
    }
  *o = '\0';
  *ret = out;
  *ret_len = (size_t) (o - out);
  return 0;
}

int mds_form_parse(const char *body, size_t len, const char *const *keys, char **values, size_t *lens,
                   podrun_error_t *err)
{
  size_t n_keys = strv_length((char **) keys);
  for (size_t k = 0; k < n_keys; k++)
    values[k] = NULL, lens[k] = 0;
  const char *p = body, *end = body + len;
  while (p < end)
    {
      const char *amp = memchr(p, '&', (size_t) (end - p));
      size_t plen = amp ? (size_t) (amp - p) : (size_t) (end - p);
      if (plen)
        {
          const char *eq = memchr(p, '=', plen);
          _cleanup_free_ char *key = NULL, *value = NULL;
          size_t klen = 0, vlen = 0;
          if (form_decode(p, eq ? (size_t) (eq - p) : plen, &key, &klen) < 0 ||
              (eq ? form_decode(eq + 1, plen - (size_t) (eq - p) - 1, &value, &vlen) : form_decode("", 0, &value, &vlen)) < 0)
            goto fail;
          size_t k = 0;
          while (k < n_keys && (strlen(keys[k]) != klen || memcmp(keys[k], key, klen) != 0))
            k++;
          if (k == n_keys)
            {
              api_fail(err, 400, "bad form: unknown field %s", QUOTE(key));
              goto fail_set;
            }
          if (values[k])
            {
              api_fail(err, 400, "bad form: field %s given twice", keys[k]);
              goto fail_set;
            }
          values[k] = TAKE_PTR(value);
          lens[k] = vlen;
        }
      p += plen + (amp ? 1 : 0);
    }
  return 0;
fail:
  api_fail(err, 400, "bad form: a malformed %%-escape");
fail_set:
  for (size_t k = 0; k < n_keys; k++)
    free(values[k]), values[k] = NULL, lens[k] = 0;
  return -1;
}

/* ---- the pods' side ------------------------------------------------------- */

/* The replies, each returning 0 for the handler to return. */
static int reply_text(struct api_reply *ret, const char *type, const char *text, size_t len)
{
  ret->status = 200;
  ret->content_type = type;
  ret->text = xmalloc(len + 1);
  memcpy(ret->text, text, len);
  ret->text[len] = '\0';
  ret->text_len = len;
  return 0;
}

static int reply_error(struct api_reply *ret, int status, const char *msg)
{
  api_reply_error(ret, status, msg);
  return 0;
}

/* A path segment as the pods' side takes it: unreserved characters only
 * (RFC 3986), so nothing is decoded and no segment is "." or "..". */
static bool segment_ok(const char *s, size_t n)
{
  if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char) s[i]) && !strchr("-._~", s[i]))
      return false;
  return true;
}

/* Splits the target into segments; -1 with the reply set when it is not a
 * path of ours. */
static int split_path(const char *target, char **segs, size_t *ret_n, struct api_reply *ret)
{
  size_t n = 0;
  if (target[0] != '/' || strlen(target) > API_MAX_TARGET)
    {
      api_reply_error(ret, 404, "no such endpoint");
      return -1;
    }
  if (strpbrk(target, "?#"))
    {
      api_reply_error(ret, 400, "bad request target: the metadata service takes no query");
      return -1;
    }
  const char *p = target + 1;
  for (;;)
    {
      size_t len = strcspn(p, "/");
      if (!segment_ok(p, len) || n == MAX_SEGMENTS)
        {
          for (size_t i = 0; i < n; i++)
            free(segs[i]);
          api_reply_error(ret, 404, "no such endpoint");
          return -1;
        }
      segs[n++] = xstrndup(p, len);
      if (!p[len])
        break;
      p += len + 1;
    }
  *ret_n = n;
  return 0;
}

/* segs[from…] joined with '/': an annotation's name (an AC Identifier may have '/'). */
static char *join(char **segs, size_t from, size_t n)
{
  char *s = xstrdup("");
  for (size_t i = from; i < n; i++)
    {
      char *t = xasprintf("%s%s%s", s, i > from ? "/" : "", segs[i]);
      free(s);
      s = t;
    }
  return s;
}

static bool method_is(const char *method, const char *want, struct api_reply *ret)
{
  bool get = streq(want, "GET");
  if (streq(method, want) || (get && streq(method, "HEAD")))
    return true;
  _cleanup_free_ char *m = xasprintf("method %s not allowed here", QUOTE(method));
  api_reply_error(ret, 405, m);
  ret->allow = get ? "GET, HEAD" : "POST";
  return false;
}

static int annotation_value(const json_t *annotations, const char *name, struct api_reply *ret)
{
  size_t i;
  json_t *a;
  json_array_foreach (annotations, i, a)
    if (streq(json_string_value(json_object_get(a, "name")) ?: "", name))
      {
        const char *v = json_string_value(json_object_get(a, "value")) ?: "";
        return reply_text(ret, TEXT_UTF8, v, strlen(v));
      }
  _cleanup_free_ char *m = xasprintf("no annotation %s", QUOTE(name));
  return reply_error(ret, 404, m);
}

/* The canonical base64 HMAC-SHA512 of content under key (88 characters and a NUL). */
static void sign(const unsigned char *key, const char *content, size_t len, char out[89])
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  if (!HMAC(EVP_sha512(), key, MDS_KEY_BYTES, (const unsigned char *) content, len, mac, &mac_len) || mac_len != 64)
    abort();
  EVP_EncodeBlock((unsigned char *) out, mac, 64);
  OPENSSL_cleanse(mac, sizeof(mac));
}

static bool form_type(const char *type)
{
  if (!type)
    return false;
  size_t n = strcspn(type, ";");
  while (n && type[n - 1] == ' ')
    n--;
  return n == strlen("application/x-www-form-urlencoded") &&
         strncasecmp(type, "application/x-www-form-urlencoded", n) == 0;
}

static int hmac_sign(struct mds_pod *p, const struct api_http_request *req, struct api_reply *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  static const char *const keys[] = { "content", NULL };
  char *v[1];
  size_t l[1];
  char sig[89];
  if (!form_type(req->content_type))
    return reply_error(ret, 415, "expected a form (application/x-www-form-urlencoded) with content=");
  if (mds_form_parse(req->body, req->body_len, keys, v, l, &err) < 0)
    return reply_error(ret, err->status, err->msg);
  if (!v[0])
    return reply_error(ret, 400, "bad form: no content field");
  sign(p->key, v[0], l[0], sig);
  free(v[0]);
  return reply_text(ret, TEXT_ASCII, sig, strlen(sig));
}

static int hmac_verify(struct mds *m, const struct api_http_request *req, struct api_reply *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  static const char *const keys[] = { "content", "signature", "uuid", NULL };
  char *v[3];
  size_t l[3];
  char sig[89];
  if (!form_type(req->content_type))
    return reply_error(ret, 415, "expected a form (application/x-www-form-urlencoded) with content=, "
                                 "signature= and uuid=");
  if (mds_form_parse(req->body, req->body_len, keys, v, l, &err) < 0)
    return reply_error(ret, err->status, err->msg);
  if (!v[0] || !v[1] || !v[2])
    api_reply_error(ret, 400, "bad form: expected the fields content, signature and uuid");
  else if (strlen(v[2]) != l[2] || !uuid_is_valid(v[2]))
    api_reply_error(ret, 400, "bad form: uuid is not a UUID");
  else
    {
      bool good = false;
      pthread_mutex_lock(&m->lock);
      struct mds_pod *signer = find_by_uuid(m, v[2], NULL);
      if (signer)
        sign(signer->key, v[0], l[0], sig);
      pthread_mutex_unlock(&m->lock);
      good = signer && l[1] == strlen(sig) && CRYPTO_memcmp(sig, v[1], l[1]) == 0;
      if (good)
        reply_text(ret, TEXT_ASCII, "", 0);
      else
        api_reply_error(ret, 403, signer ? "the signature does not verify"
                                         : "the signature does not verify: no pod of that uuid is registered");
    }
  for (size_t i = 0; i < 3; i++)
    free(v[i]);
  return 0;
}

static struct mds_app *find_app(struct mds_pod *p, const char *name)
{
  for (size_t i = 0; i < p->n_apps; i++)
    if (streq(p->apps[i].name, name))
      return &p->apps[i];
  return NULL;
}

/* /acMetadata/v1/pod/… and /apps/NAME/… of the pod p: s[0…n) after "v1". */
static int route_pod(struct mds *m, struct mds_pod *p, const struct api_http_request *req, char **s, size_t n,
                      struct api_reply *ret)
{
  const char *method = req->method;
  if (n >= 2 && streq(s[0], "pod"))
    {
      if (n == 2 && streq(s[1], "annotations") && method_is(method, "GET", ret))
        return reply_text(ret, JSON_TYPE, p->annotations_text, strlen(p->annotations_text));
      if (n > 2 && streq(s[1], "annotations") && method_is(method, "GET", ret))
        {
          _cleanup_free_ char *name = join(s, 2, n);
          return annotation_value(p->annotations, name, ret);
        }
      if (n == 2 && streq(s[1], "manifest") && method_is(method, "GET", ret))
        return reply_text(ret, JSON_TYPE, p->manifest, strlen(p->manifest));
      if (n == 2 && streq(s[1], "uuid") && method_is(method, "GET", ret))
        return reply_text(ret, TEXT_ASCII, p->uuid, strlen(p->uuid));
      if (n == 3 && streq(s[1], "hmac") && streq(s[2], "sign") && method_is(method, "POST", ret))
        return hmac_sign(p, req, ret);
      if (n == 3 && streq(s[1], "hmac") && streq(s[2], "verify") && method_is(method, "POST", ret))
        return hmac_verify(m, req, ret);
      if (ret->status)
        return 0; /* a 405 */
    }
  else if (n >= 3 && streq(s[0], "apps"))
    {
      struct mds_app *a = find_app(p, s[1]);
      bool known = (n == 3 && streq(s[2], "annotations")) || (n > 3 && streq(s[2], "annotations")) ||
                   (n == 4 && streq(s[2], "image") && (streq(s[3], "manifest") || streq(s[3], "id")));
      if (known && !method_is(method, "GET", ret))
        return 0;
      if (known && !a)
        {
          _cleanup_free_ char *msg = xasprintf("the pod has no app %s", QUOTE(s[1]));
          return reply_error(ret, 404, msg);
        }
      if (known && streq(s[2], "annotations"))
        {
          if (n == 3)
            return reply_text(ret, JSON_TYPE, a->annotations_text, strlen(a->annotations_text));
          _cleanup_free_ char *name = join(s, 3, n);
          return annotation_value(a->annotations, name, ret);
        }
      if (known && streq(s[3], "manifest"))
        return reply_text(ret, JSON_TYPE, a->image_manifest, strlen(a->image_manifest));
      if (known)
        return reply_text(ret, TEXT_ASCII, a->image_id, strlen(a->image_id));
    }
  return reply_error(ret, 404, "no such endpoint of the metadata service (see spec/ace.md)");
}

static bool address_allowed(const struct mds_pod *p, const struct mds_peer *peer)
{
  if (!p->addresses)
    return true;
  return peer && peer->addr && strv_contains(p->addresses, peer->addr);
}

void mds_pod_request(struct mds *m, const struct api_http_request *req, const struct mds_peer *peer,
                     struct api_reply *ret)
{
  char *segs[MAX_SEGMENTS];
  size_t n = 0;
  memset(ret, 0, sizeof(*ret));
  if (split_path(req->target, segs, &n, ret) < 0)
    return;
  /* the token first, whatever follows: an unknown one learns nothing of the paths */
  struct mds_pod *p = find_by_token(m, segs[0]);
  if (!p || !address_allowed(p, peer))
    api_reply_error(ret, 403, "no pod has this token (or not at this address)");
  else if (n < 3 || !streq(segs[1], "acMetadata") || !streq(segs[2], "v1"))
    api_reply_error(ret, 404, "no such endpoint: the metadata service's paths are $AC_METADATA_URL/acMetadata/v1/…");
  else
    (void) route_pod(m, p, req, segs + 3, n - 3, ret);
  pod_unref(m, p);
  for (size_t i = 0; i < n; i++)
    free(segs[i]);
}

/* ---- registration --------------------------------------------------------- */

/* The image's annotations with the pod manifest's for the app over them
 * (spec/pods.md: these take precedence), in the image's order, new ones
 * after. */
static json_t *merge_annotations(const struct appc_kvs *image, const struct appc_kvs *app)
{
  json_t *a = json_array();
  for (size_t i = 0; i < image->n; i++)
    {
      const char *v = image->v[i].value;
      for (size_t k = 0; k < app->n; k++)
        if (streq(app->v[k].name, image->v[i].name))
          v = app->v[k].value;
      json_array_append_new(a, json_pack("{s:s,s:s}", "name", image->v[i].name, "value", v));
    }
  for (size_t k = 0; k < app->n; k++)
    {
      bool in_image = false;
      for (size_t i = 0; i < image->n && !in_image; i++)
        in_image = streq(app->v[k].name, image->v[i].name);
      if (!in_image)
        json_array_append_new(a, json_pack("{s:s,s:s}", "name", app->v[k].name, "value", app->v[k].value));
    }
  return a;
}

static int parse_addresses(json_t *v, char ***ret, podrun_error_t *err)
{
  size_t i;
  json_t *a;
  char **list = NULL;
  if (v && !json_is_array(v))
    return api_fail(err, 400, "bad registration: addresses is not a list");
  json_array_foreach (v, i, a)
    {
      unsigned char buf[16];
      const char *s = json_string_value(a);
      if (!s || (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1))
        {
          strv_free(list);
          return api_fail(err, 400, "bad registration: addresses[%zu] is not a numeric IP address", i);
        }
      list = strv_push(list, s);
    }
  *ret = list;
  return 0;
}

/* One app of the registration's "apps": name, image id and manifest, the
 * ones of the pod manifest's app of that name. */
static int parse_app(json_t *apps, const struct appc_runtime_app *ra, struct mds_app *ret, podrun_error_t *err)
{
  size_t i;
  json_t *a;
  json_array_foreach (apps, i, a)
    {
      const char *name = json_string_value(json_object_get(a, "name"));
      if (!name || !streq(name, ra->name))
        continue;
      const char *id = json_string_value(json_object_get(a, "image_id"));
      json_t *im = json_object_get(a, "image_manifest");
      if (!id || !streq(id, ra->image.id) || !json_is_object(im))
        return api_fail(err, 400, "bad registration: app %s: its image_id is not the pod manifest's, or no "
                                  "image_manifest", QUOTE(ra->name));
      _cleanup_free_ char *text = json_dumps(im, JSON_COMPACT);
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *parsed = NULL;
      if (!text || appc_image_manifest_parse(text, strlen(text), &parsed, err) < 0)
        return podrun_error_wrap(err, "bad registration: app %s: image manifest", QUOTE(ra->name)),
               (*err)->status = 400, -1;
      ret->name = xstrdup(ra->name);
      ret->image_id = xstrdup(id);
      ret->image_manifest = TAKE_PTR(text);
      ret->annotations = merge_annotations(&parsed->annotations, &ra->annotations);
      ret->annotations_text = json_dumps(ret->annotations, JSON_COMPACT) ?: xstrdup("[]");
      return 0;
    }
  return api_fail(err, 400, "bad registration: no image for app %s", QUOTE(ra->name));
}

/* The pod of a registration's JSON body, keyed and tokened. */
static int parse_registration(const char *body, size_t len, struct mds_pod **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *pm = NULL;
  if (json_parse_untrusted(body, len, "the registration", &j, err) < 0)
    return (*err)->status = 400, -1;
  const char *uuid = json_string_value(json_object_get(j, "uuid"));
  json_t *manifest = json_object_get(j, "manifest"), *apps = json_object_get(j, "apps");
  if (!uuid || !uuid_is_valid(uuid) || !json_is_object(manifest) || !json_is_array(apps))
    return api_fail(err, 400, "bad registration: expected {\"uuid\", \"manifest\", \"apps\", \"addresses\"}");
  /* reified: the annotations, [] when it has none (what /pod/annotations serves) */
  json_t *annotations = json_object_get(manifest, "annotations");
  if (!annotations)
    json_object_set_new(manifest, "annotations", annotations = json_array());
  _cleanup_free_ char *text = json_dumps(manifest, JSON_COMPACT);
  if (!text || appc_pod_manifest_parse(text, strlen(text), &pm, err) < 0)
    return podrun_error_wrap(err, "bad registration: pod manifest"), (*err)->status = 400, -1;
  struct mds_pod *p = xzalloc(sizeof(*p));
  p->refs = 1;
  p->pidfd = -1;
  memcpy(p->uuid, uuid, UUID_STRING_LEN + 1);
  p->manifest = TAKE_PTR(text);
  p->annotations = json_incref(annotations);
  p->annotations_text = json_dumps(annotations, JSON_COMPACT) ?: xstrdup("[]");
  p->apps = xzalloc(sizeof(*p->apps) * (pm->n_apps + 1));
  for (size_t i = 0; i < pm->n_apps; i++, p->n_apps++)
    if (parse_app(apps, &pm->apps[i], &p->apps[i], err) < 0)
      goto fail;
  if (parse_addresses(json_object_get(j, "addresses"), &p->addresses, err) < 0)
    goto fail;
  unsigned char t[MDS_TOKEN_BYTES];
  random_bytes(t, sizeof(t));
  random_bytes(p->key, sizeof(p->key));
  for (size_t i = 0; i < sizeof(t); i++)
    snprintf(p->token + 2 * i, 3, "%02x", t[i]);
  OPENSSL_cleanse(t, sizeof(t));
  *ret = p;
  return 0;
fail:
  pod_free(p);
  return -1;
}

static int do_register(struct mds *m, const struct api_http_request *req, struct mds_peer *peer,
                        struct api_reply *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct mds_pod *p = NULL;
  if (!req->content_type || !startswith(req->content_type, JSON_TYPE))
    return reply_error(ret, 415, "expected a JSON body (application/json)");
  if (parse_registration(req->body, req->body_len, &p, &err) < 0)
    return reply_error(ret, err->status >= 400 && err->status < 600 ? err->status : 400, err->msg);
  pthread_mutex_lock(&m->lock);
  bool dup = find_by_uuid(m, p->uuid, NULL) != NULL, full = m->n_pods == MDS_MAX_PODS;
  if (!dup && !full)
    {
      p->pidfd = peer->pidfd;
      peer->pidfd = -1;
      m->pods[m->n_pods++] = p;
    }
  pthread_mutex_unlock(&m->lock);
  if (dup || full)
    {
      _cleanup_free_ char *msg = dup ? xasprintf("pod %s is registered already", p->uuid)
                                     : xasprintf("pod %s: %d pods are registered, the most the service keeps",
                                                 p->uuid, MDS_MAX_PODS);
      pod_free(p);
      return reply_error(ret, dup ? 409 : 503, msg);
    }
  log_info("pod %s registered", p->uuid);
  json_t *listen = json_array();
  for (size_t i = 0; m->tcp && m->tcp[i]; i++)
    json_array_append_new(listen, json_string(m->tcp[i]));
  ret->status = 201;
  ret->json = json_pack("{s:s,s:o}", "token", p->token, "listen", listen);
  return 0;
}

static int do_unregister(struct mds *m, const char *uuid, struct api_reply *ret)
{
  size_t i = 0;
  pthread_mutex_lock(&m->lock);
  struct mds_pod *p = find_by_uuid(m, uuid, &i);
  if (p)
    {
      take_at(m, i);
      if (--p->refs == 0)
        pod_free(p);
    }
  pthread_mutex_unlock(&m->lock);
  if (!p)
    {
      _cleanup_free_ char *msg = xasprintf("no pod %s is registered", ESCAPE(uuid));
      return reply_error(ret, 404, msg);
    }
  log_info("pod %s unregistered", uuid);
  ret->status = 200;
  ret->json = json_pack("{s:s}", "unregistered", uuid);
  return 0;
}

static int do_list(struct mds *m, struct api_reply *ret)
{
  json_t *pods = json_array();
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < m->n_pods; i++)
    {
      json_t *addrs = json_array();
      for (size_t k = 0; m->pods[i]->addresses && m->pods[i]->addresses[k]; k++)
        json_array_append_new(addrs, json_string(m->pods[i]->addresses[k]));
      json_array_append_new(pods, json_pack("{s:s,s:o}", "uuid", m->pods[i]->uuid, "addresses", addrs));
    }
  pthread_mutex_unlock(&m->lock);
  ret->status = 200;
  ret->json = json_pack("{s:o}", "pods", pods);
  return 0;
}

static int register_route(struct mds *m, const struct api_http_request *req, struct mds_peer *peer,
                          struct api_reply *ret)
{
  const char *rest;
  if (!peer->root)
    return reply_error(ret, 403, "only root registers pods");
  if (streq(req->target, "/v1/pods"))
    {
      if (streq(req->method, "GET") || streq(req->method, "HEAD"))
        return do_list(m, ret);
      if (!streq(req->method, "POST"))
        {
          api_reply_error(ret, 405, "method not allowed: GET or POST /v1/pods");
          ret->allow = "GET, HEAD, POST";
          return 0;
        }
      if (peer->pidfd < 0)
        return reply_error(ret, 500, "the registering process cannot be watched (no pidfd)");
      return do_register(m, req, peer, ret);
    }
  if ((rest = startswith(req->target, "/v1/pods/")) && uuid_is_valid(rest))
    {
      if (!streq(req->method, "DELETE"))
        {
          api_reply_error(ret, 405, "method not allowed: DELETE /v1/pods/UUID");
          ret->allow = "DELETE";
          return 0;
        }
      return do_unregister(m, rest, ret);
    }
  return reply_error(ret, 404, "no such endpoint: the registration's are /v1/pods and /v1/pods/UUID");
}

void mds_register_request(struct mds *m, const struct api_http_request *req, struct mds_peer *peer,
                          struct api_reply *ret)
{
  memset(ret, 0, sizeof(*ret));
  (void) register_route(m, req, peer, ret);
}

/* ---- the handlers over sockets -------------------------------------------- */

static void peer_address(int fd, char buf[INET6_ADDRSTRLEN])
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  buf[0] = '\0';
  if (fd < 0 || getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
    return;
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, buf, INET6_ADDRSTRLEN);
  else if (ss.ss_family == AF_INET6)
    {
      const struct in6_addr *a = &((struct sockaddr_in6 *) &ss)->sin6_addr;
      if (IN6_IS_ADDR_V4MAPPED(a))
        inet_ntop(AF_INET, &a->s6_addr[12], buf, INET6_ADDRSTRLEN);
      else
        inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
    }
}

void mds_handle_pod(void *m, const struct api_http_request *req, struct api_reply *ret)
{
  char addr[INET6_ADDRSTRLEN];
  peer_address(req->fd, addr);
  struct mds_peer peer = { .addr = addr[0] ? addr : NULL, .pidfd = -1 };
  mds_pod_request(m, req, &peer, ret);
}

void mds_handle_register(void *m, const struct api_http_request *req, struct api_reply *ret)
{
  struct ucred cred = { .pid = 0, .uid = (uid_t) -1 };
  socklen_t len = sizeof(cred);
  struct mds_peer peer = { .pidfd = -1 };
  if (req->fd >= 0 && getsockopt(req->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
    {
      peer.root = cred.uid == 0;
      /* the process that asks stays until the reply: its pid is its own */
      if (peer.root && streq(req->method, "POST") && cred.pid > 0)
        peer.pidfd = (int) syscall(SYS_pidfd_open, cred.pid, 0);
    }
  mds_register_request(m, req, &peer, ret);
  if (peer.pidfd >= 0)
    close(peer.pidfd);
}
