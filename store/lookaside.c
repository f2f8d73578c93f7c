/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registries.d (lookaside.h), read with libyaml's document loader (loaded
 * when first needed, dl.h), and the signatures of a lookaside store, by
 * file:// or through the HTTP client. */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "dl.h"
#include "fs.h"
#include "lookaside.h"
#include "policy.h"
#include "trust-sign.h"

#define REGISTRIES_D_MAX (1024 * 1024)

void lookaside_free(struct lookaside *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free(l->v[i].ns);
      free(l->v[i].url);
      free(l->v[i].file);
    }
  free(l->v);
  free(l);
}

/* ---- the YAML ------------------------------------------------------------- */

struct doc
{
  yaml_document_t d;
  const char *what;
};

static const char *scalar(struct doc *d, yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct doc *d, int id)
{
  return sym_yaml_document_get_node(&d->d, id);
}

static int bad(struct doc *d, yaml_node_t *n, podrun_error_t *err, const char *why)
{
  return podrun_error_new(err, EINVAL, "registries.d %s: line %zu: %s", QUOTE(d->what),
                          n ? n->start_mark.line + 1 : 1, why);
}

static bool url_ok(const char *u)
{
  const char *p = startswith(u, "file://");
  if (p)
    return *p == '/' && !strstr(p, "/../") && !endswith(p, "/..");
  p = startswith(u, "https://");
  if (!p)
    p = startswith(u, "http://");
  if (!p)
    return false;
  _cleanup_free_ char *host = xstrndup(p, strcspn(p, "/?#"));
  for (const char *c = p; *c; c++)
    if ((unsigned char) *c <= ' ' || *c == 0x7f)
      return false;
  return http_host_valid(host) && !strpbrk(p, "?#");
}

static int add(struct lookaside *l, const char *ns, const char *url, const char *what, bool override,
               struct doc *d, yaml_node_t *at, podrun_error_t *err)
{
  for (size_t i = 0; i < l->n; i++)
    if (streq_ptr(l->v[i].ns, ns) || (!ns && !l->v[i].ns))
      {
        if (override)
          return 0; /* the local directory's, read first, wins */
        _cleanup_free_ char *m = xasprintf("%s is also given by %s", ns ? QUOTE(ns) : "default-docker",
                                           QUOTE(l->v[i].file));
        return bad(d, at, err, m);
      }
  l->v = xrealloc(l->v, sizeof(*l->v) * (l->n + 1));
  size_t len = strlen(url);
  while (len > strlen("file:///") && url[len - 1] == '/')
    len--;
  l->v[l->n++] = (struct lookaside_entry){ .ns = ns ? xstrdup(ns) : NULL, .url = xstrndup(url, len),
                                           .file = xstrdup(what) };
  return 0;
}

/* One namespace's (or default-docker's) mapping: its lookaside URL. */
static int parse_ns(struct lookaside *l, struct doc *d, const char *ns, yaml_node_t *m, bool override,
                    podrun_error_t *err)
{
  const char *url = NULL;
  if (!m || m->type != YAML_MAPPING_NODE)
    return bad(d, m, err, "a namespace's settings must be a mapping");
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
    {
      const char *k = scalar(d, node(d, p->key));
      yaml_node_t *vn = node(d, p->value);
      if (!k)
        return bad(d, vn, err, "a key must be a string");
      if (streq(k, "lookaside") || streq(k, "sigstore"))
        {
          const char *v = scalar(d, vn);
          if (!v || !url_ok(v))
            return bad(d, vn, err, "lookaside must be a file:///PATH, http:// or https:// URL");
          if (url && !streq(url, v))
            return bad(d, vn, err, "lookaside and sigstore say different things");
          url = v;
        }
      /* the other keys (lookaside-staging, sigstore-staging, use-sigstore-attachments) are
       * the publisher's side (skopeo) or sigstore's, which podrun does not verify */
    }
  return url ? add(l, ns, url, d->what, override, d, m, err) : 0;
}

static int parse_root(struct lookaside *l, struct doc *d, bool override, podrun_error_t *err)
{
  yaml_node_t *root = sym_yaml_document_get_root_node(&d->d);
  if (!root)
    return 0; /* an empty file */
  if (root->type != YAML_MAPPING_NODE)
    return bad(d, root, err, "must be a mapping (default-docker, docker)");
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
    {
      const char *k = scalar(d, node(d, p->key));
      yaml_node_t *v = node(d, p->value);
      if (k && streq(k, "default-docker"))
        {
          if (parse_ns(l, d, NULL, v, override, err) < 0)
            return -1;
          continue;
        }
      if (!k || !streq(k, "docker"))
        return bad(d, v, err, "a top-level key must be default-docker or docker");
      if (!v || v->type != YAML_MAPPING_NODE)
        return bad(d, v, err, "docker must be a mapping of namespaces");
      for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++)
        {
          const char *ns = scalar(d, node(d, q->key));
          if (!ns || !*ns || !policy_scope_valid(ns))
            {
              _cleanup_free_ char *m = xasprintf("docker: %s is not a namespace (HOST[:PORT][/NAME…][:TAG], "
                                                 "*.DOMAIN)", QUOTE(ns ? ns : ""));
              return bad(d, node(d, q->key), err, m);
            }
          if (parse_ns(l, d, ns, node(d, q->value), override, err) < 0)
            return -1;
        }
    }
  return 0;
}

int lookaside_parse(struct lookaside *l, const char *text, size_t len, const char *what, bool override,
                    podrun_error_t *err)
{
  yaml_parser_t parser;
  struct doc d = { .what = what };
  int r;

  if (dl_load_yaml(err) < 0)
    return -1;
  if (!sym_yaml_parser_initialize(&parser))
    return podrun_error_new(err, ENOMEM, "registries.d %s: libyaml", QUOTE(what));
  sym_yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
  if (!sym_yaml_parser_load(&parser, &d.d))
    {
      r = podrun_error_new(err, EINVAL, "registries.d %s: line %zu: %s", QUOTE(what), parser.problem_mark.line + 1,
                           parser.problem ? parser.problem : "not YAML");
      sym_yaml_parser_delete(&parser);
      return r;
    }
  r = parse_root(l, &d, override, err);
  sym_yaml_document_delete(&d.d);
  sym_yaml_parser_delete(&parser);
  return r;
}

static int yaml_file(const struct dirent *e)
{
  return e->d_name[0] != '.' && endswith(e->d_name, ".yaml");
}

static int load_dir(struct lookaside *l, const char *dir, bool override, podrun_error_t *err)
{
  struct dirent **ents = NULL;
  int n = scandir(dir, &ents, yaml_file, alphasort), r = 0;
  struct lookaside mine = { 0 };

  if (n < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : podrun_error_set(err, errno, "registries.d %s", QUOTE(dir));
  /* a directory's files among themselves: duplicates are errors */
  for (int i = 0; i < n; i++)
    {
      _cleanup_free_ char *path = xasprintf("%s/%s", dir, ents[i]->d_name), *text = NULL;
      size_t len = 0;
      if (r == 0 && fs_read_file_at(AT_FDCWD, path, REGISTRIES_D_MAX, &text, &len, err) < 0)
        r = podrun_error_wrap(err, "registries.d");
      if (r == 0)
        r = lookaside_parse(&mine, text, len, path, false, err);
      free(ents[i]);
    }
  free(ents);
  for (size_t i = 0; i < mine.n; i++)
    {
      if (r == 0)
        r = add(l, mine.v[i].ns, mine.v[i].url, mine.v[i].file, true, NULL, NULL, err);
      free(mine.v[i].ns);
      free(mine.v[i].url);
      free(mine.v[i].file);
    }
  free(mine.v);
  (void) override;
  return r;
}

int lookaside_load(const char *const *dirs, struct lookaside **ret, podrun_error_t *err)
{
  struct lookaside *l = xzalloc(sizeof(*l));
  for (size_t i = 0; dirs && dirs[i]; i++)
    if (load_dir(l, dirs[i], i > 0, err) < 0)
      {
        lookaside_free(l);
        return -1;
      }
  *ret = l;
  return 0;
}

const struct lookaside_entry *lookaside_for(const struct lookaside *l, const struct oci_ref *r)
{
  _cleanup_strv_ char **c = policy_docker_scopes(r);
  for (size_t i = 0; c[i]; i++)
    for (size_t k = 0; k < l->n && *c[i]; k++)
      if (streq_ptr(l->v[k].ns, c[i]))
        return &l->v[k];
  for (size_t k = 0; k < l->n; k++)
    if (!l->v[k].ns)
      return &l->v[k];
  return NULL;
}

/* ---- the signatures ------------------------------------------------------- */

char *lookaside_signature_url(const char *base, const char *repo, const char *digest, unsigned n)
{
  _cleanup_free_ char *d = xstrdup(digest);
  char *colon = strchr(d, ':');
  if (colon)
    *colon = '=';
  return xasprintf("%s/%s@%s/signature-%u", base, repo, d, n);
}

/* One signature: 1 and its bytes, 0 when there is none. */
static int get_one(struct http *h, const char *url, char **ret, size_t *ret_len, podrun_error_t *err)
{
  const char *path = startswith(url, "file://");
  if (path)
    {
      if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
      if (fs_read_file_at(AT_FDCWD, path, TRUST_SIGNATURE_MAX, ret, ret_len, err) < 0)
        return podrun_error_wrap(err, "signature");
      return 1;
    }
  struct http_request req = { .url = url, .max = TRUST_SIGNATURE_MAX, .flags = HTTP_GET_ANY_STATUS };
  struct http_response resp = { 0 };
  _cleanup_free_ char *what = xasprintf("signature %s", QUOTE(url));
  req.what = what;
  if (http_get(h, &req, &resp, err) < 0)
    return -1;
  int r = 1;
  if (resp.status == 404)
    r = 0;
  else if (resp.status != 200)
    r = podrun_error_new(err, EPROTO, "%s: HTTP %ld", what, resp.status);
  else
    {
      *ret = TAKE_PTR(resp.body);
      *ret_len = resp.len;
    }
  http_response_done(&resp);
  return r;
}

int lookaside_fetch(struct http *h, const char *base, const char *repo, const char *digest, char ***ret_sigs,
                    size_t **ret_lens, size_t *ret_n, podrun_error_t *err)
{
  char **sigs = xzalloc(sizeof(*sigs) * (LOOKASIDE_MAX_SIGNATURES + 1));
  size_t *lens = xzalloc(sizeof(*lens) * (LOOKASIDE_MAX_SIGNATURES + 1)), n = 0;

  for (unsigned i = 1; i <= LOOKASIDE_MAX_SIGNATURES; i++)
    {
      _cleanup_free_ char *url = lookaside_signature_url(base, repo, digest, i);
      int r = get_one(h, url, &sigs[n], &lens[n], err);
      if (r < 0)
        {
          strv_free(sigs);
          free(lens);
          return -1;
        }
      if (r == 0)
        break;
      n++;
    }
  *ret_sigs = sigs;
  *ret_lens = lens;
  *ret_n = n;
  return 0;
}
