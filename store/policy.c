/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.json (policy.h): parsed strictly, as containers does (an unknown
 * member or requirement type is an error, never ignored: a policy that
 * says more than podrun understands must not be taken to say less). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "fs.h"
#include "http.h"
#include "json-util.h"
#include "policy.h"

#define POLICY_MAX (1024 * 1024)

static void req_done(struct policy_req *q)
{
  strv_free(q->key_paths);
  if (q->key_data)
    free(q->key_data);
  free(q->identity_ref);
  free(q->identity_signed_prefix);
}

static void reqs_done(struct policy_reqs *r)
{
  for (size_t i = 0; i < r->n; i++)
    req_done(&r->v[i]);
  free(r->v);
  free(r->scope);
  *r = (struct policy_reqs){ 0 };
}

void policy_free(struct policy *p)
{
  reqs_done(&p->def);
  for (size_t i = 0; i < p->n_docker; i++)
    reqs_done(&p->docker[i]);
  free(p->docker);
  free(p->path);
  free(p);
}

/* ---- parsing -------------------------------------------------------------- */

/* Where in the file: "transports.docker[\"x\"][0]". */
struct at
{
  const char *what; /* the file */
  const char *where;
};

_printf_(3, 4) static int bad(const struct at *at, podrun_error_t *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *m = NULL;
  if (vasprintf(&m, fmt, ap) < 0)
    m = NULL;
  va_end(ap);
  return podrun_error_new(err, EINVAL, "policy %s: %s: %s", QUOTE(at->what), at->where, m ? m : "invalid");
}

static int check_members(json_t *o, const struct at *at, const char *const *allowed, podrun_error_t *err)
{
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v)
    if (!strv_contains((char **) allowed, k))
      return bad(at, err, "unknown member %s", QUOTE(k));
  return 0;
}

/* remapIdentity's prefix or signedPrefix: HOST[:PORT], or a namespace or a
 * repository under it, fully expanded (no tag, no digest, no wildcard). */
static int remap_prefix(json_t *o, const char *member, const struct at *at, char **ret, podrun_error_t *err)
{
  const char *s = json_string_value(json_object_get(o, member));
  const char *slash = s ? strchr(s, '/') : NULL;
  if (!s || !*s || !policy_scope_valid(s) || startswith(s, "*.") || strchr(s, '@') ||
      (slash && strchr(strrchr(s, '/'), ':')))
    return bad(at, err, "signedIdentity.%s must be a HOST[:PORT], a namespace or a repository, without a tag or "
               "digest", member);
  *ret = xstrdup(s);
  return 0;
}

static int parse_remap(json_t *o, struct policy_req *q, const struct at *at, podrun_error_t *err)
{
  static const char *const remap[] = { "type", "prefix", "signedPrefix", NULL };
  q->identity = TRUST_REMAP_IDENTITY;
  if (check_members(o, at, remap, err) < 0 || remap_prefix(o, "prefix", at, &q->identity_ref, err) < 0 ||
      remap_prefix(o, "signedPrefix", at, &q->identity_signed_prefix, err) < 0)
    return -1;
  return 0;
}

static int parse_identity(json_t *o, struct policy_req *q, const struct at *at, podrun_error_t *err)
{
  static const char *const plain[] = { "type", NULL }, *const ref[] = { "type", "dockerReference", NULL },
                           *const repo[] = { "type", "dockerRepository", NULL };
  const char *type = json_string_value(json_object_get(o, "type"));
  const char *member = NULL;

  if (!json_is_object(o) || !type)
    return bad(at, err, "signedIdentity must be an object with a \"type\"");
  if (streq(type, "matchRepoDigestOrExact"))
    q->identity = TRUST_MATCH_REPO_DIGEST_OR_EXACT;
  else if (streq(type, "matchExact"))
    q->identity = TRUST_MATCH_EXACT;
  else if (streq(type, "matchRepository"))
    q->identity = TRUST_MATCH_REPOSITORY;
  else if (streq(type, "exactReference"))
    q->identity = TRUST_EXACT_REFERENCE, member = "dockerReference";
  else if (streq(type, "exactRepository"))
    q->identity = TRUST_EXACT_REPOSITORY, member = "dockerRepository";
  else if (streq(type, "remapIdentity"))
    return parse_remap(o, q, at, err);
  else
    return bad(at, err, "signedIdentity type %s is not one podrun knows (matchRepoDigestOrExact, matchExact, "
               "matchRepository, exactReference, exactRepository, remapIdentity)", QUOTE(type));
  if (check_members(o, at, member ? (streq(member, "dockerReference") ? ref : repo) : plain, err) < 0)
    return -1;
  if (!member)
    return 0;
  const char *s = json_string_value(json_object_get(o, member));
  struct oci_ref r = { 0 };
  _cleanup_error_ podrun_error_t pe = NULL;
  if (!s || oci_ref_parse(s, "docker.io", &r, &pe) < 0)
    return bad(at, err, "signedIdentity.%s must be a docker reference%s%s", member, pe ? ": " : "",
               pe ? pe->msg : "");
  bool specific = r.digest || strchr(strrchr(s, '/') ? strrchr(s, '/') : s, ':');
  oci_ref_done(&r);
  if (q->identity == TRUST_EXACT_REFERENCE && !specific)
    return bad(at, err, "signedIdentity.dockerReference %s names no tag or digest", QUOTE(s));
  if (q->identity == TRUST_EXACT_REPOSITORY && specific)
    return bad(at, err, "signedIdentity.dockerRepository %s is a repository, without a tag or digest", QUOTE(s));
  q->identity_ref = xstrdup(s);
  return 0;
}

static int parse_key_path(const char *s, struct policy_req *q, const struct at *at, podrun_error_t *err)
{
  if (!s || *s != '/')
    return bad(at, err, "a keyPath must be an absolute path");
  q->key_paths = strv_push(q->key_paths, s);
  return 0;
}

static int parse_signed_by(json_t *o, struct policy_req *q, const struct at *at, podrun_error_t *err)
{
  static const char *const allowed[] = { "type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity",
                                         NULL };
  json_t *path = json_object_get(o, "keyPath"), *paths = json_object_get(o, "keyPaths"),
         *data = json_object_get(o, "keyData"), *id = json_object_get(o, "signedIdentity");
  const char *key_type = json_string_value(json_object_get(o, "keyType"));

  if (check_members(o, at, allowed, err) < 0)
    return -1;
  if (!key_type || !streq(key_type, "GPGKeys"))
    return bad(at, err, "signedBy needs \"keyType\": \"GPGKeys\" (the only kind podrun verifies)");
  if (!!path + !!paths + !!data > 1)
    return bad(at, err, "signedBy takes one of keyPath, keyPaths and keyData");
  if (path && parse_key_path(json_string_value(path), q, at, err) < 0)
    return -1;
  if (paths)
    {
      size_t i;
      json_t *v;
      if (!json_is_array(paths) || json_array_size(paths) == 0)
        return bad(at, err, "keyPaths must be a list of absolute paths");
      json_array_foreach (paths, i, v)
        if (parse_key_path(json_string_value(v), q, at, err) < 0)
          return -1;
    }
  if (data)
    {
      _cleanup_error_ podrun_error_t de = NULL;
      const char *s = json_string_value(data);
      if (!s || !*s || trust_base64_decode(s, &q->key_data, &q->key_data_len, &de) < 0)
        return bad(at, err, "keyData must be the base64 of a keyring");
    }
  return id ? parse_identity(id, q, at, err) : 0;
}

static int parse_req(json_t *o, struct policy_req *q, const struct at *at, podrun_error_t *err)
{
  static const char *const only_type[] = { "type", NULL };
  const char *type = json_string_value(json_object_get(o, "type"));

  *q = (struct policy_req){ 0 };
  if (!json_is_object(o) || !type)
    return bad(at, err, "a requirement must be an object with a \"type\"");
  if (streq(type, "insecureAcceptAnything"))
    q->type = POLICY_INSECURE_ACCEPT_ANYTHING;
  else if (streq(type, "reject"))
    q->type = POLICY_REJECT;
  else if (streq(type, "signedBy"))
    {
      q->type = POLICY_SIGNED_BY;
      return parse_signed_by(o, q, at, err);
    }
  else
    return bad(at, err, "requirement type %s is not one podrun knows (insecureAcceptAnything, reject, signedBy)",
               QUOTE(type));
  return check_members(o, at, only_type, err);
}

static int parse_reqs(json_t *a, const char *scope, struct policy_reqs *ret, const char *what, const char *where,
                      podrun_error_t *err)
{
  struct at at = { .what = what, .where = where };
  size_t i;
  json_t *v;

  *ret = (struct policy_reqs){ .scope = scope ? xstrdup(scope) : NULL };
  if (!json_is_array(a) || json_array_size(a) == 0)
    return bad(&at, err, "must be a non-empty list of requirements");
  ret->v = xzalloc(sizeof(*ret->v) * json_array_size(a));
  json_array_foreach (a, i, v)
    {
      _cleanup_free_ char *w = xasprintf("%s[%zu]", where, i);
      struct at ai = { .what = what, .where = w };
      if (parse_req(v, &ret->v[i], &ai, err) < 0)
        {
          req_done(&ret->v[i]);
          return -1;
        }
      ret->n++;
    }
  return 0;
}

bool policy_scope_valid(const char *s)
{
  struct oci_ref r = { 0 };
  _cleanup_error_ podrun_error_t ignored = NULL;

  if (!*s)
    return true;
  if (startswith(s, "*."))
    return !strchr(s, ':') && !strchr(s, '/') && http_host_valid(s + 2);
  if (!strchr(s, '/'))
    return http_host_valid(s);
  if (oci_ref_parse(s, NULL, &r, &ignored) < 0)
    return false;
  oci_ref_done(&r);
  return true;
}

static int parse_docker(json_t *o, struct policy *p, const char *what, podrun_error_t *err)
{
  const char *scope;
  json_t *v;

  if (!json_is_object(o))
    return bad(&(struct at){ what, "transports.docker" }, err, "must be an object of scopes");
  p->docker = xzalloc(sizeof(*p->docker) * (json_object_size(o) + 1));
  json_object_foreach (o, scope, v)
    {
      _cleanup_free_ char *where = xasprintf("transports.docker[%s]", QUOTE(scope));
      if (!policy_scope_valid(scope))
        return bad(&(struct at){ what, where }, err,
                   "not a scope (HOST[:PORT], HOST/NAMESPACE, HOST/REPO:TAG, HOST/REPO@DIGEST, *.DOMAIN or \"\")");
      if (parse_reqs(v, scope, &p->docker[p->n_docker], what, where, err) < 0)
        {
          reqs_done(&p->docker[p->n_docker]);
          return -1;
        }
      p->n_docker++;
    }
  return 0;
}

static int parse_policy(json_t *j, struct policy *p, const char *what, podrun_error_t *err)
{
  static const char *const top[] = { "default", "transports", NULL };
  const char *name;
  json_t *v;

  if (!json_is_object(j))
    return bad(&(struct at){ what, "the file" }, err, "must be a JSON object");
  if (check_members(j, &(struct at){ what, "the file" }, top, err) < 0)
    return -1;
  if (!json_object_get(j, "default"))
    return bad(&(struct at){ what, "the file" }, err, "no \"default\" (containers-policy.json requires one)");
  if (parse_reqs(json_object_get(j, "default"), NULL, &p->def, what, "default", err) < 0)
    return -1;
  json_t *t = json_object_get(j, "transports");
  if (t && !json_is_object(t))
    return bad(&(struct at){ what, "transports" }, err, "must be an object of transports");
  json_object_foreach (t, name, v)
    {
      _cleanup_free_ char *where = xasprintf("transports[%s]", QUOTE(name));
      if (!json_is_object(v))
        return bad(&(struct at){ what, where }, err, "must be an object of scopes");
      if (streq(name, "docker") && parse_docker(v, p, what, err) < 0)
        return -1;
    }
  return 0;
}

int policy_parse(const char *text, size_t len, const char *what, struct policy **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *w = xasprintf("policy %s", QUOTE(what));
  if (json_parse_untrusted(text, len, w, &j, err) < 0)
    return -1;
  struct policy *p = xzalloc(sizeof(*p));
  p->path = xstrdup(what);
  if (parse_policy(j, p, what, err) < 0)
    {
      policy_free(p);
      return -1;
    }
  *ret = p;
  return 0;
}

int policy_load(const char *const *paths, struct policy **ret, podrun_error_t *err)
{
  for (size_t i = 0; paths && paths[i]; i++)
    {
      _cleanup_free_ char *text = NULL;
      size_t len = 0;
      if (access(paths[i], F_OK) < 0 && errno == ENOENT)
        continue;
      if (fs_read_file_at(AT_FDCWD, paths[i], POLICY_MAX, &text, &len, err) < 0)
        return podrun_error_wrap(err, "policy");
      return policy_parse(text, len, paths[i], ret, err);
    }
  static const char builtin[] = "{\"default\": [{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\"}]}";
  if (policy_parse(builtin, sizeof(builtin) - 1, "", ret, err) < 0)
    return -1;
  return 0;
}

/* ---- matching ------------------------------------------------------------- */

char **policy_docker_scopes(const struct oci_ref *r)
{
  _cleanup_free_ char *name = oci_ref_name(r);
  char **v = NULL;

  _cleanup_free_ char *by_digest = r->digest ? xasprintf("%s@%s", name, r->digest) : NULL;
  _cleanup_free_ char *by_tag = r->tag ? xasprintf("%s:%s", name, r->tag) : NULL;
  if (by_digest)
    v = strv_push(v, by_digest);
  if (by_tag)
    v = strv_push(v, by_tag);
  for (char *slash; (v = strv_push(v, name)), (slash = strrchr(name, '/'));)
    *slash = '\0';
  _cleanup_free_ char *host = xstrdup(r->host);
  char *colon = strrchr(host, ':');
  if (colon)
    *colon = '\0';
  for (const char *dot = strchr(host, '.'); dot && dot[1]; dot = strchr(dot + 1, '.'))
    {
      _cleanup_free_ char *wild = xasprintf("*%s", dot);
      v = strv_push(v, wild);
    }
  return strv_push(v, "");
}

bool policy_scope_matches(const char *scope, const struct oci_ref *r)
{
  _cleanup_strv_ char **c = policy_docker_scopes(r);
  return strv_contains(c, scope);
}

const struct policy_reqs *policy_for_docker(const struct policy *p, const struct oci_ref *r)
{
  _cleanup_strv_ char **c = policy_docker_scopes(r);
  for (size_t i = 0; c[i]; i++)
    for (size_t k = 0; k < p->n_docker; k++)
      if (streq(p->docker[k].scope, c[i]))
        return &p->docker[k];
  return &p->def;
}

const char *policy_scope_label(const struct policy_reqs *reqs)
{
  if (!reqs->scope)
    return "default";
  return *reqs->scope ? reqs->scope : "transports.docker[\"\"]";
}
