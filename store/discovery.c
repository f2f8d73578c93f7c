/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appc meta discovery: a small, strict scanner of the meta tags of a page
 * from the network, template rendering, and the walk up a name's path. */
#include "discovery.h"

#include <strings.h>

#include "http.h"

#define ATTRS_MAX 32
#define LEVELS_MAX 32
#define URL_MAX 4096

/* ---- the page ---- */

struct scan
{
  const char *p, *end;
};

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool at_ci(const struct scan *s, const char *word)
{
  size_t n = strlen(word);
  return (size_t) (s->end - s->p) >= n && strncasecmp(s->p, word, n) == 0;
}

/* Moves past the next occurrence of word (case-insensitive); false if none. */
static bool skip_past(struct scan *s, const char *word)
{
  size_t n = strlen(word);
  for (; (size_t) (s->end - s->p) >= n; s->p++)
    if (strncasecmp(s->p, word, n) == 0)
      {
        s->p += n;
        return true;
      }
  s->p = s->end;
  return false;
}

struct attr
{
  char name[16]; /* longer names are kept as "" (no attribute of ours) */
  const char *value;
  size_t len;
};

/* The attributes of a tag, s->p past its name, up to its '>' (consumed).
 * false when the tag does not end well (an unterminated quote, the page's
 * end, an over-long value). */
static bool scan_attrs(struct scan *s, struct attr *attrs, size_t *n)
{
  *n = 0;
  for (;;)
    {
      while (s->p < s->end && (is_space(*s->p) || *s->p == '/'))
        s->p++;
      if (s->p >= s->end)
        return false;
      if (*s->p == '>')
        {
          s->p++;
          return true;
        }
      const char *name = s->p;
      while (s->p < s->end && !is_space(*s->p) && !strchr("/>=\"'", *s->p))
        s->p++;
      size_t nlen = s->p - name;
      if (nlen == 0) /* a quote where a name goes */
        return false;
      while (s->p < s->end && is_space(*s->p))
        s->p++;
      const char *value = "";
      size_t vlen = 0;
      if (s->p < s->end && *s->p == '=')
        {
          s->p++;
          while (s->p < s->end && is_space(*s->p))
            s->p++;
          if (s->p >= s->end)
            return false;
          if (*s->p == '"' || *s->p == '\'')
            {
              const char *q = memchr(s->p + 1, *s->p, s->end - s->p - 1);
              if (!q)
                return false;
              value = s->p + 1;
              vlen = q - value;
              s->p = q + 1;
            }
          else
            {
              value = s->p;
              while (s->p < s->end && !is_space(*s->p) && *s->p != '>')
                s->p++;
              vlen = s->p - value;
            }
        }
      if (vlen > DISCOVERY_VALUE_MAX)
        return false;
      if (*n < ATTRS_MAX)
        {
          struct attr *a = &attrs[(*n)++];
          a->name[0] = '\0';
          if (nlen < sizeof(a->name))
            {
              memcpy(a->name, name, nlen);
              a->name[nlen] = '\0';
            }
          a->value = value;
          a->len = vlen;
        }
    }
}

static const struct attr *attr_find(const struct attr *attrs, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(attrs[i].name, name) == 0)
      return &attrs[i]; /* the first, as HTML has it */
  return NULL;
}

/* An attribute's value with the few character references a URL carries
 * decoded; NULL unless all of it is printable ASCII. */
static char *attr_text(const struct attr *a)
{
  static const struct { const char *ref; char c; } refs[] = {
    { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' }, { "&lt;", '<' }, { "&gt;", '>' },
    { "&#38;", '&' }, { "&#34;", '"' },  { "&#39;", '\'' },  { "&#x26;", '&' },
  };
  char *out = xmalloc(a->len + 1);
  size_t n = 0;
  for (size_t i = 0; i < a->len;)
    {
      unsigned char c = a->value[i];
      if (c < 0x20 && !is_space(c))
        goto bad;
      if (c >= 0x7f)
        goto bad;
      bool done = false;
      if (c == '&')
        for (size_t k = 0; k < ELEMENTSOF(refs) && !done; k++)
          {
            size_t rl = strlen(refs[k].ref);
            if (a->len - i >= rl && strncasecmp(a->value + i, refs[k].ref, rl) == 0)
              out[n++] = refs[k].c, i += rl, done = true;
          }
      if (!done)
        out[n++] = is_space(c) ? ' ' : (char) c, i++;
    }
  out[n] = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

/* "PREFIX VALUE": exactly two words. */
static bool split_content(const char *content, char **ret_prefix, char **ret_value)
{
  const char *p = content + strspn(content, " ");
  size_t n1 = strcspn(p, " ");
  const char *q = p + n1 + strspn(p + n1, " ");
  size_t n2 = strcspn(q, " ");
  if (n1 == 0 || n2 == 0 || q[n2 + strspn(q + n2, " ")] != '\0')
    return false;
  *ret_prefix = xstrndup(p, n1);
  *ret_value = xstrndup(q, n2);
  return true;
}

static void meta_add(const struct attr *attrs, size_t n, struct discovery_entry **e, size_t *ne)
{
  const struct attr *name = attr_find(attrs, n, "name"), *content = attr_find(attrs, n, "content");
  enum discovery_kind kind;

  if (!name || !content || *ne >= DISCOVERY_ENTRIES_MAX)
    return;
  if (name->len == 12 && strncasecmp(name->value, "ac-discovery", 12) == 0)
    kind = DISCOVERY_TEMPLATE;
  else if (name->len == 20 && strncasecmp(name->value, "ac-discovery-pubkeys", 20) == 0)
    kind = DISCOVERY_PUBKEYS;
  else
    return;
  _cleanup_free_ char *text = attr_text(content);
  char *prefix = NULL, *value = NULL;
  if (!text || !split_content(text, &prefix, &value))
    return;
  *e = xrealloc(*e, (*ne + 1) * sizeof(**e));
  (*e)[(*ne)++] = (struct discovery_entry){ kind, prefix, value };
}

/* After a tag's name: is it `name` (and not a longer one)? */
static bool tag_is(const struct scan *s, const char *name)
{
  size_t n = strlen(name);
  if (!at_ci(s, name))
    return false;
  return (size_t) (s->end - s->p) > n && (is_space(s->p[n]) || s->p[n] == '/' || s->p[n] == '>');
}

/* The elements whose content is text, not markup: where that text ends. */
static const char *raw_text_end(const struct scan *s)
{
  static const char *const raw[][2] = {
    { "script", "</script" }, { "style", "</style" }, { "textarea", "</textarea" }, { "title", "</title" },
  };
  for (size_t i = 0; i < ELEMENTSOF(raw); i++)
    if (tag_is(s, raw[i][0]))
      return raw[i][1];
  return NULL;
}

void discovery_parse_page(const char *html, size_t len, struct discovery_entry **ret, size_t *ret_n)
{
  struct scan s = { html, html + len };
  struct discovery_entry *e = NULL;
  size_t ne = 0;
  struct attr attrs[ATTRS_MAX];
  size_t na;

  while (s.p < s.end)
    {
      const char *lt = memchr(s.p, '<', s.end - s.p);
      if (!lt)
        break;
      s.p = lt + 1;
      if (at_ci(&s, "!--"))
        {
          s.p += 3;
          skip_past(&s, "-->");
          continue;
        }
      if (s.p < s.end && (*s.p == '!' || *s.p == '?'))
        {
          skip_past(&s, ">");
          continue;
        }
      bool end_tag = s.p < s.end && *s.p == '/';
      if (end_tag)
        s.p++;
      if (s.p >= s.end || !((*s.p >= 'a' && *s.p <= 'z') || (*s.p >= 'A' && *s.p <= 'Z')))
        continue; /* a '<' of text */
      bool meta = !end_tag && tag_is(&s, "meta");
      const char *raw = end_tag ? NULL : raw_text_end(&s);
      while (s.p < s.end && !is_space(*s.p) && *s.p != '/' && *s.p != '>')
        s.p++;
      if (!scan_attrs(&s, attrs, &na))
        break; /* the rest of the page is no markup of ours */
      if (meta)
        meta_add(attrs, na, &e, &ne);
      if (raw)
        skip_past(&s, raw);
    }
  *ret = e;
  *ret_n = ne;
}

void discovery_entries_free(struct discovery_entry *e, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free(e[i].prefix);
      free(e[i].value);
    }
  free(e);
}

/* ---- templates ---- */

bool discovery_prefix_matches(const char *prefix, const char *name)
{
  return *prefix && startswith(name, prefix);
}

static bool url_safe(const char *v, bool slash)
{
  if (!*v)
    return false;
  for (; *v; v++)
    if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || strchr("._~+-", *v) ||
          (slash && *v == '/')))
      return false;
  return true;
}

int discovery_render(const char *tmpl, const char *name, const struct appc_kvs *labels, const char *ext,
                     char **ret, podrun_error_t *err)
{
  _cleanup_free_ char *out = NULL;
  size_t n = 0;

  for (const char *p = tmpl; *p;)
    {
      const char *add = p;
      size_t alen = 1;
      if (*p == '}')
        return podrun_error_new(err, EINVAL, "template %s: a '}' of no '{'", QUOTE(tmpl));
      if (*p == '{')
        {
          const char *close = strchr(p, '}');
          if (!close)
            return podrun_error_new(err, EINVAL, "template %s: a '{' of no '}'", QUOTE(tmpl));
          _cleanup_free_ char *var = xstrndup(p + 1, close - p - 1);
          if (streq(var, "name"))
            add = name;
          else if (streq(var, "ext"))
            add = ext;
          else
            add = labels && *var ? appc_kvs_get(labels, var) : NULL;
          if (!add)
            return podrun_error_new(err, ENOENT, "template %s: no value for {%s}", QUOTE(tmpl), ESCAPE(var));
          if (!url_safe(add, add == name))
            return podrun_error_new(err, EINVAL, "template %s: the value of {%s} is not URL-safe", QUOTE(tmpl),
                                    ESCAPE(var));
          alen = strlen(add);
          p = close + 1;
        }
      else
        p++;
      if (n + alen > URL_MAX)
        return podrun_error_new(err, E2BIG, "template %s: the URL is too long", QUOTE(tmpl));
      out = xrealloc(out, n + alen + 1);
      memcpy(out + n, add, alen);
      n += alen;
      out[n] = '\0';
    }
  *ret = out ? TAKE_PTR(out) : xstrdup("");
  return 0;
}

const char *discovery_url_check(const char *url, bool insecure_http)
{
  const char *rest = NULL;
  if (strlen(url) > URL_MAX)
    return "too long";
  for (const char *p = url; *p; p++)
    if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
      return "not printable ASCII";
  if (strncasecmp(url, "https://", 8) == 0)
    rest = url + 8;
  else if (strncasecmp(url, "http://", 7) == 0)
    {
      if (!insecure_http)
        return "plain http: that needs --insecure-options=http";
      rest = url + 7;
    }
  else
    return "not an http(s) URL";
  if (!*rest || strchr("/?#@:", *rest))
    return "no host";
  return NULL;
}

void discovery_result_done(struct discovery_result *r)
{
  free(r->aci_url);
  free(r->sig_url);
  strv_free(r->pubkeys);
  free(r->page);
  *r = (struct discovery_result){ 0 };
}

/* One template: 0 and both URLs, or -1 and why not. */
static int choose_template(const struct discovery_entry *t, const char *name, const struct appc_kvs *labels,
                           bool insecure_http, char **ret_aci, char **ret_sig, char **ret_why)
{
  _cleanup_error_ podrun_error_t e = NULL;
  _cleanup_free_ char *aci = NULL, *sig = NULL;
  const char *bad;

  if (discovery_render(t->value, name, labels, "aci", &aci, &e) < 0 ||
      discovery_render(t->value, name, labels, "aci.asc", &sig, &e) < 0)
    return *ret_why = xstrdup(e->msg), -1;
  if (streq(aci, sig))
    return *ret_why = xasprintf("template %s: no {ext}", QUOTE(t->value)), -1;
  if ((bad = discovery_url_check(aci, insecure_http)))
    return *ret_why = xasprintf("template %s gives %s: %s", QUOTE(t->value), QUOTE(aci), bad), -1;
  *ret_aci = TAKE_PTR(aci);
  *ret_sig = TAKE_PTR(sig);
  return 0;
}

int discovery_choose(const struct discovery_entry *e, size_t n, const char *name, const struct appc_kvs *labels,
                     bool insecure_http, struct discovery_result *ret, char **ret_why)
{
  struct discovery_result r = { 0 };
  _cleanup_free_ char *why = NULL;
  bool templates = false;

  for (size_t i = 0; i < n; i++)
    {
      if (!discovery_prefix_matches(e[i].prefix, name))
        continue;
      if (e[i].kind == DISCOVERY_PUBKEYS)
        {
          if (!discovery_url_check(e[i].value, insecure_http) && !strv_contains(r.pubkeys, e[i].value))
            r.pubkeys = strv_push(r.pubkeys, e[i].value);
          continue;
        }
      templates = true;
      if (!labels || r.aci_url)
        continue;
      char *w = NULL;
      if (choose_template(&e[i], name, labels, insecure_http, &r.aci_url, &r.sig_url, &w) < 0)
        {
          if (!why)
            why = w;
          else
            free(w);
        }
    }
  if (labels ? !!r.aci_url : !!r.pubkeys)
    {
      *ret = r;
      return 0;
    }
  discovery_result_done(&r);
  if (why)
    *ret_why = TAKE_PTR(why);
  else if (!labels)
    *ret_why = xstrdup("no ac-discovery-pubkeys for it");
  else
    *ret_why = xstrdup(templates ? "no template for it" : "no ac-discovery template for it");
  return 1;
}

/* ---- the walk ---- */

char *discovery_page_url(const char *name, bool http, unsigned port)
{
  size_t host = strcspn(name, "/");
  char portbuf[16] = "";
  if (port)
    snprintf(portbuf, sizeof(portbuf), ":%u", port);
  return xasprintf("%s://%.*s%s%s?ac-discovery=1", http ? "http" : "https", (int) host, name, portbuf, name + host);
}

/* One level: 0 and ret, 1 and why it gave nothing, 2 when the server
 * could not be asked at all (every level is on that host: no use going
 * up). */
static int try_level(struct http *h, const char *level, const char *name, const struct appc_kvs *labels,
                     bool insecure_http, unsigned port, struct discovery_result *ret, char **ret_why)
{
  _cleanup_error_ podrun_error_t e = NULL;
  struct http_response resp = { 0 };
  _cleanup_free_ char *url = discovery_page_url(level, false, port);
  struct http_request req = { .url = url, .max = DISCOVERY_PAGE_MAX, .flags = HTTP_GET_ANY_STATUS };
  int r = http_get(h, &req, &resp, &e);
  if (r < 0 && insecure_http && e->status != EFBIG)
    {
      podrun_error_free(&e);
      free(url);
      url = discovery_page_url(level, true, port);
      req.url = url;
      r = http_get(h, &req, &resp, &e);
    }
  if (r < 0)
    return *ret_why = xstrdup(e->msg), 2;
  if (resp.status < 200 || resp.status >= 300)
    {
      *ret_why = xasprintf("%s: HTTP %ld", QUOTE(url), resp.status);
      http_response_done(&resp);
      return 1;
    }
  struct discovery_entry *entries = NULL;
  size_t n = 0;
  char *why = NULL;
  discovery_parse_page(resp.body, resp.len, &entries, &n);
  r = discovery_choose(entries, n, name, labels, insecure_http, ret, &why);
  discovery_entries_free(entries, n);
  if (r == 0)
    ret->page = TAKE_PTR(url);
  else
    {
      *ret_why = xasprintf("%s: %s", QUOTE(url), why);
      free(why);
    }
  http_response_done(&resp);
  return r;
}

int discovery_resolve_port(struct http *h, const char *name, const struct appc_kvs *labels, bool insecure_http,
                           unsigned port, struct discovery_result *ret, podrun_error_t *err)
{
  _cleanup_free_ char *level = xstrdup(name), *whys = NULL;

  if (!appc_identifier_is_valid(name) || strlen(name) > APPC_NAME_MAX)
    return podrun_error_new(err, EINVAL, "discovery of %s: not an image name (an AC identifier)", QUOTE(name));
  if (!strchr(name, '.') && !startswith(name, "localhost"))
    return podrun_error_new(err, EINVAL, "discovery of %s: its first component is no host name", QUOTE(name));
  for (unsigned i = 0; i < LEVELS_MAX; i++)
    {
      char *why = NULL;
      int r = try_level(h, level, name, labels, insecure_http, port, ret, &why);
      if (r == 0)
        return 0;
      char *all = whys ? xasprintf("%s; %s", whys, why) : xstrdup(why);
      free(why);
      free(whys);
      whys = all;
      if (r == 2)
        break;
      char *slash = strrchr(level, '/');
      if (!slash)
        break;
      *slash = '\0';
    }
  return podrun_error_new(err, ENOENT, "nothing found by discovery: %s", whys);
}

int discovery_resolve(struct http *h, const char *name, const struct appc_kvs *labels, bool insecure_http,
                      struct discovery_result *ret, podrun_error_t *err)
{
  return discovery_resolve_port(h, name, labels, insecure_http, 0, ret, err);
}
