/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "router.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <time.h>

#include "json-util.h"

void api_reply_done(struct api_reply *r)
{
  json_decref(r->json);
  free(r->text);
  if (r->stream_free && r->stream_state)
    r->stream_free(r->stream_state);
  memset(r, 0, sizeof(*r));
}

int api_fail(podrun_error_t *err, int http_status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *m = NULL;
  if (vasprintf(&m, fmt, ap) < 0)
    abort();
  va_end(ap);
  return podrun_error_new(err, http_status, "%s", m);
}

void api_reply_error(struct api_reply *r, int http_status, const char *msg)
{
  api_reply_done(r);
  r->status = http_status;
  r->json = json_pack("{s:s,s:i}", "error", msg, "status", http_status);
  if (!r->json) /* msg not UTF-8: never from our messages, which escape */
    r->json = json_pack("{s:s,s:i}", "error", "(unprintable error)", "status", http_status);
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes [s, s+n) ('+' as a space when plus); NULL when an escape
 * is malformed or decodes to NUL. */
static char *decode(const char *s, size_t n, bool plus)
{
  char *out = xmalloc(n + 1), *o = out;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '%')
        {
          int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return free(out), NULL;
          *o++ = (char) (hi << 4 | lo);
          i += 2;
        }
      else
        *o++ = plus && s[i] == '+' ? ' ' : s[i];
    }
  *o = '\0';
  return out;
}

static int parse_path(const char *path, size_t n, struct api_request *r, podrun_error_t *err)
{
  const char *rest = NULL;
  if (n >= 4 && strncmp(path, "/v1/", 4) == 0)
    rest = path + 4;
  else if (n == 3 && strncmp(path, "/v1", 3) == 0)
    return api_fail(err, 404, "no such endpoint: /v1 (see /v1/openapi.json)");
  else
    return api_fail(err, 404, "no such endpoint: the API's paths start with /v1/");
  const char *end = path + n;
  while (rest < end)
    {
      const char *slash = memchr(rest, '/', (size_t) (end - rest));
      size_t len = slash ? (size_t) (slash - rest) : (size_t) (end - rest);
      if (r->n_segments == API_MAX_SEGMENTS)
        return api_fail(err, 404, "no such endpoint: too many path segments");
      char *seg = decode(rest, len, false);
      if (!seg)
        return api_fail(err, 400, "bad request target: a malformed %%-escape in the path");
      r->segments[r->n_segments++] = seg;
      if (!*seg || streq(seg, ".") || streq(seg, "..") || strchr(seg, '/'))
        return api_fail(err, 404, "no such endpoint: an empty, \".\", \"..\" or %%2F path segment");
      if (!slash)
        break;
      rest = slash + 1;
      if (rest == end) /* a trailing slash: "/v1/pods/" */
        return api_fail(err, 404, "no such endpoint: a path ending in \"/\"");
    }
  if (!r->n_segments)
    return api_fail(err, 404, "no such endpoint: /v1/ (see /v1/openapi.json)");
  return 0;
}

static int parse_query(const char *q, struct api_request *r, podrun_error_t *err)
{
  while (*q)
    {
      size_t len = strcspn(q, "&");
      if (len)
        {
          const char *eq = memchr(q, '=', len);
          size_t klen = eq ? (size_t) (eq - q) : len;
          if (r->n_params == API_MAX_PARAMS)
            return api_fail(err, 400, "bad request: more than %d query parameters", API_MAX_PARAMS);
          char *k = decode(q, klen, true), *v = eq ? decode(eq + 1, len - klen - 1, true) : xstrdup("");
          if (!k || !v || !*k)
            {
              free(k), free(v);
              return api_fail(err, 400, "bad request target: a malformed query parameter");
            }
          r->params[r->n_params].key = k;
          r->params[r->n_params++].value = v;
        }
      q += len;
      if (*q == '&')
        q++;
    }
  return 0;
}

int api_request_parse(const char *method, const char *target, struct api_request *ret, podrun_error_t *err)
{
  struct api_request r = { 0 };

  if (!streq(method, "GET") && !streq(method, "HEAD"))
    return api_fail(err, 405, "method %s not allowed: the API is read-only (GET and HEAD)", QUOTE(method));
  r.head = streq(method, "HEAD");
  size_t n = strlen(target);
  if (n > API_MAX_TARGET)
    return api_fail(err, 414, "request target too long: %zu bytes, at most %d", n, API_MAX_TARGET);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) target[i] <= ' ' || target[i] == 0x7f)
      return api_fail(err, 400, "bad request target: a control character or space in it");
  if (target[0] != '/')
    return api_fail(err, 400, "bad request target %s: not an absolute path", QUOTE(target));
  size_t plen = strcspn(target, "?#");
  if (target[plen] == '#')
    return api_fail(err, 400, "bad request target: a fragment (#) in it");
  if (parse_path(target, plen, &r, err) < 0 || (target[plen] == '?' && parse_query(target + plen + 1, &r, err) < 0))
    {
      api_request_done(&r);
      return -1;
    }
  if (strchr(target + plen, '#'))
    {
      api_request_done(&r);
      return api_fail(err, 400, "bad request target: a fragment (#) in it");
    }
  *ret = r;
  return 0;
}

void api_request_done(struct api_request *r)
{
  for (size_t i = 0; i < r->n_segments; i++)
    free(r->segments[i]);
  for (size_t i = 0; i < r->n_params; i++)
    free(r->params[i].key), free(r->params[i].value);
  memset(r, 0, sizeof(*r));
}

const char *api_request_param(const struct api_request *r, const char *key)
{
  const char *v = NULL;
  for (size_t i = 0; i < r->n_params; i++)
    if (streq(r->params[i].key, key))
      v = r->params[i].value;
  return v;
}

static bool in_list(const char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (streq(*v, s))
      return true;
  return false;
}

int api_request_check_params(const struct api_request *r, const char *const *known, podrun_error_t *err)
{
  for (size_t i = 0; i < r->n_params; i++)
    if (!in_list(known, r->params[i].key))
      return api_fail(err, 400, "unknown parameter %s", QUOTE(r->params[i].key));
  return 0;
}

static bool route_matches(const char *pattern, const struct api_request *req, char **args)
{
  size_t i = 0, n_args = 0;
  const char *p = pattern;
  for (;;)
    {
      size_t len = strcspn(p, "/");
      if (i == req->n_segments)
        return false;
      if (len == 2 && strncmp(p, "{}", 2) == 0)
        args[n_args++] = req->segments[i];
      else if (strlen(req->segments[i]) != len || strncmp(p, req->segments[i], len) != 0)
        return false;
      i++;
      p += len;
      if (!*p)
        break;
      p++;
    }
  return i == req->n_segments;
}

void api_dispatch(const struct api_route *table, struct api_context *ctx, const struct api_request *req,
                  struct api_reply *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  char *args[API_MAX_SEGMENTS] = { 0 };

  memset(ret, 0, sizeof(*ret));
  for (const struct api_route *r = table; r->pattern; r++)
    if (route_matches(r->pattern, req, args))
      {
        ret->status = 200;
        if (r->handler(ctx, req, args, ret, &err) < 0)
          api_reply_error(ret, err->status >= 400 && err->status < 600 ? err->status : 500, err->msg);
        return;
      }
  api_reply_error(ret, 404, "no such endpoint (see /v1/openapi.json)");
}

void api_handle(const struct api_route *table, struct api_context *ctx, const char *method, const char *target,
                unsigned n_headers, struct api_reply *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct api_request req;

  memset(ret, 0, sizeof(*ret));
  if (n_headers > API_MAX_HEADERS)
    {
      _cleanup_free_ char *m = xasprintf("request header fields too large: %u fields, at most %d", n_headers,
                                         API_MAX_HEADERS);
      api_reply_error(ret, 431, m);
      return;
    }
  if (api_request_parse(method, target, &req, &err) < 0)
    {
      api_reply_error(ret, err->status, err->msg);
      if (err->status == 405)
        ret->allow = "GET, HEAD";
      return;
    }
  api_dispatch(table, ctx, &req, ret);
  api_request_done(&req);
}

/* Filters. */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned) (y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t) doe - 719468;
}

static bool digits(const char *s, size_t n, int *ret)
{
  int v = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!isdigit((unsigned char) s[i]))
        return false;
      v = v * 10 + (s[i] - '0');
    }
  *ret = v;
  return true;
}

int api_parse_time(const char *s, int64_t *ret)
{
  unsigned long long secs;
  int Y, M, D, h, mi, sec, oh = 0, om = 0;
  int64_t frac = 0;

  if (parse_uint(s, INT64_MAX / 1000000, &secs) == 0)
    {
      *ret = (int64_t) secs * 1000000;
      return 0;
    }
  if (strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
      !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
    return -1;
  const char *p = s + 19;
  if (*p == '.')
    {
      int n = 0;
      for (p++; isdigit((unsigned char) *p); p++, n++)
        if (n < 6)
          frac = frac * 10 + (*p - '0');
      if (!n)
        return -1;
      for (; n < 6; n++)
        frac *= 10;
    }
  if (*p == 'Z' || *p == 'z')
    p++;
  else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om))
    {
      if (oh > 23 || om > 59)
        return -1;
      if (*p == '-')
        oh = -oh, om = -om;
      p += 6;
    }
  else
    return -1;
  if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
    return -1;
  int64_t t = days_from_civil(Y, (unsigned) M, (unsigned) D) * 86400 + h * 3600 + mi * 60 + sec -
              (oh * 3600 + om * 60);
  *ret = t * 1000000 + frac;
  return 0;
}

static bool printable(const char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < ' ' || *s == 0x7f)
      return false;
  return true;
}

static int filter_term(const struct api_filter_spec *spec, const char *v, struct api_filter_term *t,
                       podrun_error_t *err)
{
  const char *eq;
  t->spec = spec;
  if (!*v || !printable(v) || strlen(v) > 512)
    return api_fail(err, 400, "bad filter %s=%s: empty, too long or with control characters", spec->key, QUOTE(v));
  switch (spec->kind)
    {
    case API_FILTER_STRING:
      t->value = xstrdup(v);
      return 0;
    case API_FILTER_KEYVALUE:
      eq = strchr(v, '=');
      if (!eq || eq == v)
        return api_fail(err, 400, "bad filter %s=%s: expected KEY=VALUE", spec->key, QUOTE(v));
      t->value = xstrndup(v, (size_t) (eq - v));
      t->value2 = xstrdup(eq + 1);
      return 0;
    case API_FILTER_TIME:
      if (api_parse_time(v, &t->usec) < 0)
        return api_fail(err, 400, "bad filter %s=%s: expected an RFC 3339 time or unix seconds", spec->key, QUOTE(v));
      return 0;
    case API_FILTER_UUID:
      if (strspn(v, "0123456789abcdefABCDEF-") != strlen(v) || strlen(v) > 36)
        return api_fail(err, 400, "bad filter %s=%s: expected a UUID or its prefix", spec->key, QUOTE(v));
      t->value = xstrdup(v);
      for (char *c = t->value; *c; c++)
        *c = (char) tolower((unsigned char) *c);
      return 0;
    case API_FILTER_CHOICE:
      if (!in_list(spec->choices, v))
        return api_fail(err, 400, "bad filter %s=%s: not a known value", spec->key, QUOTE(v));
      t->value = xstrdup(v);
      return 0;
    }
  abort();
}

int api_filter_parse(const struct api_filter_spec *specs, const char *const *others, const struct api_request *req,
                     struct api_filter *ret, podrun_error_t *err)
{
  struct api_filter f = { .terms = xzalloc(sizeof(*f.terms) * (req->n_params + 1)) };
  for (size_t i = 0; i < req->n_params; i++)
    {
      const struct api_param *p = &req->params[i];
      const struct api_filter_spec *s = specs;
      while (s->key && !streq(s->key, p->key))
        s++;
      if (!s->key && in_list(others, p->key))
        continue;
      if (!s->key || filter_term(s, p->value, &f.terms[f.n_terms++], err) < 0)
        {
          api_filter_done(&f);
          return s->key ? -1 : api_fail(err, 400, "unknown filter %s", QUOTE(p->key));
        }
    }
  *ret = f;
  return 0;
}

void api_filter_done(struct api_filter *f)
{
  for (size_t i = 0; i < f->n_terms; i++)
    free(f->terms[i].value), free(f->terms[i].value2);
  free(f->terms);
  memset(f, 0, sizeof(*f));
}

bool api_filter_matches(const struct api_filter *f, const json_t *obj, api_filter_match_t match)
{
  for (size_t i = 0; i < f->n_terms; i++)
    {
      bool any = false;
      /* the terms of one key: any of them */
      for (size_t j = 0; j < f->n_terms && !any; j++)
        if (f->terms[j].spec == f->terms[i].spec)
          any = match(&f->terms[j], obj);
      if (!any)
        return false;
    }
  return true;
}
