/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI and docker images: references, manifests, indexes, platforms and the
 * config's appc image manifest. Every input is untrusted; see oci.h. */
#include "oci.h"

#include <jansson.h>
#include <sys/utsname.h>

#include "appc.h"
#include "json-util.h"

#define MAX_NAME 255
#define MAX_TAG 128

/* ---- references ---------------------------------------------------------- */

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
static bool is_hex(const char *s, size_t n)
{
  return strspn(s, "0123456789abcdef") == n && s[n] == '\0';
}

bool oci_digest_is_valid(const char *s)
{
  const char *hex;

  if (!s)
    return false;
  if ((hex = startswith(s, "sha256:")))
    return is_hex(hex, 64);
  if ((hex = startswith(s, "sha512:")))
    return is_hex(hex, 128);
  return false;
}

/* path-component: [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool path_component_is_valid(const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  while (i < n)
    {
      if (is_lower_alnum(s[i]))
        {
          i++;
          continue;
        }
      size_t sep = i;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == sep || i >= n || !is_lower_alnum(s[i]))
        return false;
    }
  return true;
}

static bool repo_is_valid(const char *s)
{
  for (;;)
    {
      size_t n = strcspn(s, "/");
      if (!path_component_is_valid(s, n))
        return false;
      if (s[n] == '\0')
        return true;
      s += n + 1;
    }
}

/* domain-component ( "." domain-component )* [ ":" port ] */
static bool host_is_valid(const char *s)
{
  const char *colon = strchr(s, ':');
  size_t hn = colon ? (size_t) (colon - s) : strlen(s);

  for (size_t i = 0; i < hn;)
    {
      size_t n = 0;
      while (i + n < hn && s[i + n] != '.')
        n++;
      if (n == 0 || !is_alnum(s[i]) || !is_alnum(s[i + n - 1]))
        return false;
      for (size_t k = i; k < i + n; k++)
        if (!is_alnum(s[k]) && s[k] != '-')
          return false;
      i += n;
      if (i < hn && ++i == hn)
        return false; /* a trailing '.' */
    }
  if (hn == 0)
    return false;
  if (colon)
    {
      unsigned long long port;
      if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
        return false;
    }
  return true;
}

static bool tag_is_valid(const char *s)
{
  size_t n = strlen(s);

  if (n == 0 || n > MAX_TAG || !(is_alnum(s[0]) || s[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
      return false;
  return true;
}

/* Docker's splitDockerDomain: is the first component of a name a host? */
static bool is_host_part(const char *s, size_t n)
{
  if (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && strncmp(s, "localhost", 9) == 0))
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z')
      return true;
  return false;
}

/* Splits "name[:tag][@digest]" into its parts (copies). */
static int split_ref(const char *ref, char **ret_name, char **ret_tag, char **ret_digest, podrun_error_t *err)
{
  _cleanup_free_ char *name = NULL, *tag = NULL, *digest = NULL;
  const char *at = strchr(ref, '@'), *end = at ? at : ref + strlen(ref);
  const char *slash = memrchr(ref, '/', (size_t) (end - ref)), *colon = memrchr(ref, ':', (size_t) (end - ref));

  if (at)
    {
      if (!oci_digest_is_valid(at + 1))
        return podrun_error_set(err, 0, "image reference %s: %s is not a digest (sha256:<64 hex digits>)",
                                QUOTE(ref), QUOTE(at + 1));
      digest = xstrdup(at + 1);
    }
  if (colon && (!slash || colon > slash))
    {
      tag = xstrndup(colon + 1, (size_t) (end - colon - 1));
      if (!tag_is_valid(tag))
        return podrun_error_set(err, 0, "image reference %s: %s is not a valid tag", QUOTE(ref), QUOTE(tag));
      end = colon;
    }
  name = xstrndup(ref, (size_t) (end - ref));
  *ret_name = TAKE_PTR(name);
  *ret_tag = TAKE_PTR(tag);
  *ret_digest = TAKE_PTR(digest);
  return 0;
}

int oci_ref_parse(const char *ref, const char *default_registry, struct oci_ref *ret, podrun_error_t *err)
{
  _cleanup_free_ char *name = NULL, *tag = NULL, *digest = NULL, *host = NULL, *repo = NULL;
  const char *slash;

  if (!ref || !*ref)
    return podrun_error_set(err, 0, "empty image reference");
  if (strlen(ref) > 4096)
    return podrun_error_set(err, 0, "image reference \"%.64s…\": longer than 4096 bytes", ref);
  if (split_ref(ref, &name, &tag, &digest, err) < 0)
    return -1;
  if (strlen(name) > MAX_NAME)
    return podrun_error_set(err, 0, "image reference %s: the name is longer than %d bytes", QUOTE(ref), MAX_NAME);
  slash = strchr(name, '/');
  if (slash && is_host_part(name, (size_t) (slash - name)))
    {
      host = xstrndup(name, (size_t) (slash - name));
      if (!host_is_valid(host))
        return podrun_error_set(err, 0, "image reference %s: %s is not a valid registry host[:port]", QUOTE(ref),
                                QUOTE(host));
      repo = xstrdup(slash + 1);
    }
  else
    {
      if (!default_registry || !*default_registry)
        return podrun_error_new(err, ENOENT,
                                "image reference %s names no registry and there is no defaultRegistry in "
                                "registries.json",
                                QUOTE(ref));
      /* one that would not read as a host in a reference ("registry") is
       * refused: the stored names, HOST/REPO, must parse back */
      if (!host_is_valid(default_registry) || !is_host_part(default_registry, strlen(default_registry)))
        return podrun_error_set(err, 0,
                                "defaultRegistry %s is not a registry host[:port] (with a '.' or a port, or "
                                "localhost)",
                                QUOTE(default_registry));
      host = xstrdup(default_registry);
      repo = slash ? xstrdup(name) : xasprintf("library/%s", name);
    }
  if (!repo_is_valid(repo))
    return podrun_error_set(err, 0,
                            "image reference %s: %s is not a valid repository name (lower-case letters, digits, "
                            "and '.', '_', '-' between them, components separated by '/')",
                            QUOTE(ref), QUOTE(repo));
  if (strlen(host) + 1 + strlen(repo) > MAX_NAME)
    return podrun_error_set(err, 0, "image reference %s: the name is longer than %d bytes", QUOTE(ref), MAX_NAME);
  if (!tag && !digest)
    tag = xstrdup("latest");
  *ret = (struct oci_ref){ TAKE_PTR(host), TAKE_PTR(repo), TAKE_PTR(tag), TAKE_PTR(digest) };
  return 0;
}

void oci_ref_done(struct oci_ref *r)
{
  free(r->host);
  free(r->repo);
  free(r->tag);
  free(r->digest);
  *r = (struct oci_ref){ 0 };
}

char *oci_ref_name(const struct oci_ref *r) { return xasprintf("%s/%s", r->host, r->repo); }

char *oci_ref_string(const struct oci_ref *r)
{
  return xasprintf("%s/%s%s%s%s%s", r->host, r->repo, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                   r->digest ? r->digest : "");
}

int oci_ref_appc_name(const struct oci_ref *r, char **ret, podrun_error_t *err)
{
  _cleanup_free_ char *n = oci_ref_name(r);
  const char *last;

  for (char *p = n; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char) (*p - 'A' + 'a');
    else if (*p == ':' || *p == '_')
      *p = '-';
  last = strrchr(n, '/');
  if (!appc_identifier_is_valid(n) || strlen(last ? last + 1 : n) > APPC_NAME_MAX)
    return podrun_error_set(err, 0, "image name %s: not a valid appc image name", QUOTE(n));
  *ret = TAKE_PTR(n);
  return 0;
}

/* ---- JSON helpers -------------------------------------------------------- */

static int parse_json(const char *buf, size_t len, size_t max, const char *what, json_t **ret, podrun_error_t *err)
{
  json_error_t je;
  json_t *j;

  if (len > max)
    return podrun_error_set(err, 0, "%s too large (over %zu bytes)", what, max);
  j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    return podrun_error_set(err, 0, "%s: invalid JSON at line %d, column %d: %s", what, je.line, je.column,
                            je.text);
  if (!json_is_object(j))
    {
      json_decref(j);
      return podrun_error_set(err, 0, "%s: not a JSON object", what);
    }
  *ret = j;
  return 0;
}

/* A string member: absent or null → *ret NULL; another type → error. */
static int get_string(json_t *o, const char *key, const char *what, const char **ret, podrun_error_t *err)
{
  json_t *v = json_object_get(o, key);

  *ret = NULL;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return podrun_error_set(err, 0, "%s: \"%s\" must be a string", what, key);
  if (strlen(json_string_value(v)) != json_string_length(v))
    return podrun_error_set(err, 0, "%s: \"%s\" holds a NUL byte", what, key);
  *ret = json_string_value(v);
  return 0;
}

static int get_required_string(json_t *o, const char *key, const char *what, const char **ret, podrun_error_t *err)
{
  if (get_string(o, key, what, ret, err) < 0)
    return -1;
  if (!*ret || !**ret)
    return podrun_error_set(err, 0, "%s: \"%s\" is required", what, key);
  return 0;
}

static char *strdup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

/* ---- media types --------------------------------------------------------- */

static const char *const layer_types[] = {
  OCI_MEDIA_LAYER,
  OCI_MEDIA_LAYER_GZIP,
  OCI_MEDIA_LAYER_ZSTD,
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  DOCKER_MEDIA_LAYER,
  DOCKER_MEDIA_FOREIGN_LAYER,
  NULL,
};

enum oci_compression oci_layer_compression(const char *media_type)
{
  if (endswith(media_type, "+gzip") || endswith(media_type, ".tar.gzip"))
    return OCI_COMPRESSION_GZIP;
  if (endswith(media_type, "+zstd"))
    return OCI_COMPRESSION_ZSTD;
  return OCI_COMPRESSION_NONE;
}

static bool in_list(const char *const *list, const char *s)
{
  for (; *list; list++)
    if (streq(*list, s))
      return true;
  return false;
}

static enum oci_kind kind_of_type(const char *t)
{
  if (streq(t, OCI_MEDIA_INDEX) || streq(t, DOCKER_MEDIA_LIST))
    return OCI_KIND_INDEX;
  if (streq(t, OCI_MEDIA_MANIFEST) || streq(t, DOCKER_MEDIA_MANIFEST))
    return OCI_KIND_MANIFEST;
  return 0;
}

/* "application/json; charset=utf-8" → "application/json"; NULL for none or
 * a generic type. */
static char *content_type_base(const char *ct)
{
  _cleanup_free_ char *t = NULL;
  size_t n;

  if (!ct)
    return NULL;
  ct += strspn(ct, " \t");
  n = strcspn(ct, ";");
  while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  t = xstrndup(ct, n);
  if (!*t || streq(t, "application/json") || streq(t, "application/octet-stream") || streq(t, "text/plain"))
    return NULL;
  return TAKE_PTR(t);
}

/* The kind and media type of a parsed document (see oci_detect_kind). */
static int detect(json_t *j, const char *content_type, enum oci_kind *ret_kind, char **ret_type, podrun_error_t *err)
{
  _cleanup_free_ char *ct = content_type_base(content_type);
  const char *mt = NULL;
  json_t *sv = json_object_get(j, "schemaVersion");

  if (get_string(j, "mediaType", "manifest", &mt, err) < 0)
    return -1;
  if (ct && mt && !streq(ct, mt))
    return podrun_error_set(err, 0, "unsupported media type: the server sent %s for a document of type %s",
                            QUOTE(ct), QUOTE(mt));
  const char *t = ct ? ct : mt;
  if (!t && json_is_integer(sv) && json_integer_value(sv) == 1)
    t = "application/vnd.docker.distribution.manifest.v1+json";
  if (!t && json_is_array(json_object_get(j, "manifests")))
    t = OCI_MEDIA_INDEX;
  else if (!t && json_is_object(json_object_get(j, "config")) && json_is_array(json_object_get(j, "layers")))
    t = OCI_MEDIA_MANIFEST;
  if (!t)
    return podrun_error_set(err, 0, "unsupported media type: the document has none and is neither an index nor a "
                                    "manifest");
  if (!kind_of_type(t))
    return podrun_error_set(err, 0, "unsupported media type %s", QUOTE(t));
  if (!json_is_integer(sv) || json_integer_value(sv) != 2)
    return podrun_error_set(err, 0, "%s: schemaVersion must be 2", t);
  *ret_kind = kind_of_type(t);
  *ret_type = xstrdup(t);
  return 0;
}

int oci_detect_kind(const char *buf, size_t len, const char *content_type, enum oci_kind *ret_kind,
                    podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *t = NULL;

  if (parse_json(buf, len, OCI_MAX_MANIFEST, "manifest", &j, err) < 0)
    return -1;
  return detect(j, content_type, ret_kind, &t, err);
}

/* ---- descriptors --------------------------------------------------------- */

static void platform_clear(struct oci_platform *p)
{
  free(p->os);
  free(p->architecture);
  free(p->variant);
}

static void descriptor_clear(struct oci_descriptor *d)
{
  free(d->media_type);
  free(d->digest);
  platform_clear(&d->platform);
  free(d->ref_name);
}

static int parse_platform(json_t *p, const char *what, struct oci_platform *ret, podrun_error_t *err)
{
  const char *os, *arch, *variant;

  if (!json_is_object(p))
    return podrun_error_set(err, 0, "%s: \"platform\" must be an object", what);
  if (get_required_string(p, "os", what, &os, err) < 0 || get_required_string(p, "architecture", what, &arch, err) < 0 ||
      get_string(p, "variant", what, &variant, err) < 0)
    return -1;
  if (strlen(os) > 64 || strlen(arch) > 64 || (variant && strlen(variant) > 64))
    return podrun_error_set(err, 0, "%s: a platform name is longer than 64 bytes", what);
  ret->os = xstrdup(os);
  ret->architecture = xstrdup(arch);
  ret->variant = variant && *variant ? xstrdup(variant) : NULL;
  return 0;
}

static int parse_descriptor(json_t *o, const char *what, bool with_platform, struct oci_descriptor *ret,
                            podrun_error_t *err)
{
  const char *mt, *digest, *ref_name = NULL;
  json_t *size = json_object_get(o, "size"), *ann = json_object_get(o, "annotations");

  if (!json_is_object(o))
    return podrun_error_set(err, 0, "%s: must be an object", what);
  if (get_required_string(o, "mediaType", what, &mt, err) < 0 ||
      get_required_string(o, "digest", what, &digest, err) < 0)
    return -1;
  if (strlen(mt) > 255)
    return podrun_error_set(err, 0, "%s: the media type is longer than 255 bytes", what);
  if (!oci_digest_is_valid(digest))
    return podrun_error_set(err, 0, "%s: %s is not a valid digest (sha256:<64 hex> or sha512:<128 hex>)", what,
                            QUOTE(digest));
  if (!json_is_integer(size) || json_integer_value(size) < 0 || (uint64_t) json_integer_value(size) > OCI_MAX_SIZE)
    return podrun_error_set(err, 0, "%s: \"size\" must be an integer from 0 to 2^53", what);
  if (json_is_object(ann) && get_string(ann, "org.opencontainers.image.ref.name", what, &ref_name, err) < 0)
    return -1;
  if (ref_name && strlen(ref_name) > 4096)
    return podrun_error_set(err, 0, "%s: the ref.name annotation is longer than 4096 bytes", what);
  ret->media_type = xstrdup(mt);
  ret->digest = xstrdup(digest);
  ret->size = (uint64_t) json_integer_value(size);
  ret->ref_name = strdup_or_null(ref_name);
  json_t *p = json_object_get(o, "platform");
  if (with_platform && p && !json_is_null(p))
    return parse_platform(p, what, &ret->platform, err);
  return 0;
}

/* ---- indexes and manifests ----------------------------------------------- */

void oci_index_free(struct oci_index *i)
{
  if (!i)
    return;
  free(i->media_type);
  for (size_t k = 0; k < i->n_manifests; k++)
    descriptor_clear(&i->manifests[k]);
  free(i->manifests);
  free(i);
}

void oci_manifest_free(struct oci_manifest *m)
{
  if (!m)
    return;
  free(m->media_type);
  descriptor_clear(&m->config);
  for (size_t k = 0; k < m->n_layers; k++)
    descriptor_clear(&m->layers[k]);
  free(m->layers);
  free(m);
}

static int load_kind(const char *buf, size_t len, const char *content_type, enum oci_kind want, json_t **ret_j,
                     char **ret_type, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *t = NULL;
  enum oci_kind kind;

  if (parse_json(buf, len, OCI_MAX_MANIFEST, "manifest", &j, err) < 0 ||
      detect(j, content_type, &kind, &t, err) < 0)
    return -1;
  if (kind != want)
    return podrun_error_set(err, 0, "unsupported media type %s: expected %s", QUOTE(t),
                            want == OCI_KIND_INDEX ? "an image index" : "an image manifest");
  *ret_j = TAKE_PTR(j);
  *ret_type = TAKE_PTR(t);
  return 0;
}

static int parse_index_entries(json_t *arr, struct oci_index *idx, podrun_error_t *err)
{
  size_t n = json_array_size(arr);

  if (!json_is_array(arr))
    return podrun_error_set(err, 0, "image index: \"manifests\" must be an array");
  if (n > OCI_MAX_INDEX_ENTRIES)
    return podrun_error_set(err, 0, "image index: more than %d entries", OCI_MAX_INDEX_ENTRIES);
  idx->manifests = n ? xzalloc(n * sizeof(*idx->manifests)) : NULL;
  for (size_t i = 0; i < n; i++)
    {
      char what[64];
      idx->n_manifests = i + 1; /* freed with the index, parsed or not */
      snprintf(what, sizeof(what), "image index: manifests[%zu]", i);
      if (parse_descriptor(json_array_get(arr, i), what, true, &idx->manifests[i], err) < 0)
        return -1;
    }
  return 0;
}

int oci_index_parse(const char *buf, size_t len, const char *content_type, struct oci_index **ret,
                    podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_oci_index_ struct oci_index *idx = xzalloc(sizeof(*idx));

  if (load_kind(buf, len, content_type, OCI_KIND_INDEX, &j, &idx->media_type, err) < 0 ||
      parse_index_entries(json_object_get(j, "manifests"), idx, err) < 0)
    return -1;
  *ret = TAKE_PTR(idx);
  return 0;
}

static int parse_layers(json_t *arr, struct oci_manifest *m, podrun_error_t *err)
{
  size_t n = json_array_size(arr);

  if (!json_is_array(arr))
    return podrun_error_set(err, 0, "image manifest: \"layers\" must be an array");
  if (n == 0)
    return podrun_error_set(err, 0, "image manifest: no layers");
  if (n > OCI_MAX_LAYERS)
    return podrun_error_set(err, 0, "image manifest: more than %d layers", OCI_MAX_LAYERS);
  m->layers = xzalloc(n * sizeof(*m->layers));
  for (size_t i = 0; i < n; i++)
    {
      char what[64];
      m->n_layers = i + 1; /* freed with the manifest, parsed or not */
      snprintf(what, sizeof(what), "image manifest: layers[%zu]", i);
      if (parse_descriptor(json_array_get(arr, i), what, false, &m->layers[i], err) < 0)
        return -1;
      if (!in_list(layer_types, m->layers[i].media_type))
        return podrun_error_set(err, 0, "%s: unsupported media type %s", what, QUOTE(m->layers[i].media_type));
    }
  return 0;
}

int oci_manifest_parse(const char *buf, size_t len, const char *content_type, struct oci_manifest **ret,
                       podrun_error_t *err)
{
  static const char *const config_types[] = { OCI_MEDIA_CONFIG, DOCKER_MEDIA_CONFIG, NULL };
  _cleanup_json_ json_t *j = NULL;
  _cleanup_oci_manifest_ struct oci_manifest *m = xzalloc(sizeof(*m));
  json_t *config;

  if (load_kind(buf, len, content_type, OCI_KIND_MANIFEST, &j, &m->media_type, err) < 0)
    return -1;
  config = json_object_get(j, "config");
  if (!config)
    return podrun_error_set(err, 0, "image manifest: \"config\" is required");
  if (parse_descriptor(config, "image manifest: config", false, &m->config, err) < 0)
    return -1;
  if (!in_list(config_types, m->config.media_type))
    return podrun_error_set(err, 0, "image manifest: config: unsupported media type %s",
                            QUOTE(m->config.media_type));
  if (parse_layers(json_object_get(j, "layers"), m, err) < 0)
    return -1;
  *ret = TAKE_PTR(m);
  return 0;
}

/* ---- platforms ----------------------------------------------------------- */

static bool is_image_manifest(const struct oci_descriptor *d) { return kind_of_type(d->media_type) == OCI_KIND_MANIFEST; }

static bool platform_matches(const struct oci_platform *p, const char *os, const char *arch, const char *variant)
{
  return p->os && streq(p->os, os) && streq(p->architecture, arch) && (!variant || streq_ptr(p->variant, variant));
}

/* "linux/arm64, linux/arm/v7" of the index's image manifests with a platform. */
static char *offered(const struct oci_index *index)
{
  char *s = xstrdup("");
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const struct oci_platform *p = &index->manifests[i].platform;
      if (!p->os || !is_image_manifest(&index->manifests[i]) || streq(p->os, "unknown"))
        continue;
      char *t = xasprintf("%s%s%s/%s%s%s", s, *s ? ", " : "", p->os, p->architecture, p->variant ? "/" : "",
                          p->variant ? p->variant : "");
      free(s);
      s = t;
    }
  return s;
}

int oci_index_select(const struct oci_index *index, const char *os, const char *arch, const char *variant,
                     const struct oci_descriptor **ret, podrun_error_t *err)
{
  _cleanup_free_ char *on_offer = NULL;

  for (size_t i = 0; i < index->n_manifests; i++)
    if (is_image_manifest(&index->manifests[i]) && platform_matches(&index->manifests[i].platform, os, arch, variant))
      {
        *ret = &index->manifests[i];
        return 0;
      }
  for (size_t i = 0; i < index->n_manifests; i++)
    if (is_image_manifest(&index->manifests[i]) && !index->manifests[i].platform.os)
      {
        *ret = &index->manifests[i];
        return 0;
      }
  on_offer = offered(index);
  return podrun_error_new(err, ENOENT, "no image for %s/%s%s%s (there are: %s)", ESCAPE(os), ESCAPE(arch),
                          variant ? "/" : "", variant ? ESCAPE(variant) : "", *on_offer ? ESCAPE(on_offer) : "none");
}

static const struct
{
  const char *machine, *arch, *variant, *appc;
} arch_table[] = {
  { "x86_64", "amd64", NULL, "amd64" },     { "amd64", "amd64", NULL, "amd64" },
  { "aarch64", "arm64", NULL, "aarch64" },  { "arm64", "arm64", NULL, "aarch64" },
  { "armv7l", "arm", "v7", "armv7l" },      { "armv6l", "arm", "v6", "armv6l" },
  { "i686", "386", NULL, "i386" },          { "i586", "386", NULL, "i386" },
  { "i386", "386", NULL, "i386" },          { "ppc64le", "ppc64le", NULL, "ppc64le" },
  { "ppc64", "ppc64", NULL, "ppc64" },      { "s390x", "s390x", NULL, "s390x" },
  { "riscv64", "riscv64", NULL, NULL },     { "mips64", "mips64le", NULL, NULL },
  { "loongarch64", "loong64", NULL, NULL },
};

const char *oci_arch_from_machine(const char *machine, const char **ret_variant)
{
  for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
    if (streq(arch_table[i].machine, machine))
      {
        if (ret_variant)
          *ret_variant = arch_table[i].variant;
        return arch_table[i].arch;
      }
  if (ret_variant)
    *ret_variant = NULL;
  return machine;
}

const char *oci_host_arch(const char **ret_variant)
{
  static struct utsname u;

  if (!u.machine[0] && uname(&u) < 0)
    snprintf(u.machine, sizeof(u.machine), "unknown");
  return oci_arch_from_machine(u.machine, ret_variant);
}

const char *oci_arch_to_appc(const char *arch, const char *variant)
{
  if (streq(arch, "arm"))
    return !variant || streq(variant, "v7") ? "armv7l" : streq(variant, "v6") ? "armv6l" : NULL;
  for (size_t i = 0; i < ELEMENTSOF(arch_table); i++)
    if (streq(arch_table[i].arch, arch))
      return arch_table[i].appc;
  return NULL;
}

/* ---- configs ------------------------------------------------------------- */

#define MAX_CONFIG_ENTRIES 10000 /* of Env, Entrypoint + Cmd, Labels */
#define MAX_CONFIG_PORTS 1000    /* of ExposedPorts */
#define MAX_CONFIG_VOLUMES 100   /* of Volumes (naming them is quadratic) */
#define MAX_PASSWD (1024 * 1024)

void oci_config_free(struct oci_config *c)
{
  if (!c)
    return;
  free(c->os);
  free(c->architecture);
  free(c->variant);
  strv_free(c->diff_ids);
  free(c);
}

static int parse_diff_ids(json_t *rootfs, struct oci_config *c, podrun_error_t *err)
{
  json_t *ids = rootfs ? json_object_get(rootfs, "diff_ids") : NULL, *v;
  size_t i;

  c->diff_ids = xzalloc(sizeof(char *));
  if (!ids || json_is_null(ids))
    return 0;
  if (!json_is_array(ids) || json_array_size(ids) > OCI_MAX_LAYERS)
    return podrun_error_set(err, 0, "image config: \"rootfs.diff_ids\" must be an array of at most %d digests",
                            OCI_MAX_LAYERS);
  json_array_foreach (ids, i, v)
    {
      if (!json_is_string(v) || !oci_digest_is_valid(json_string_value(v)))
        return podrun_error_set(err, 0, "image config: rootfs.diff_ids[%zu] is not a valid digest", i);
      c->diff_ids = strv_push(c->diff_ids, json_string_value(v));
      c->n_diff_ids++;
    }
  return 0;
}

static int load_config(const char *buf, size_t len, json_t **ret, podrun_error_t *err)
{
  return parse_json(buf, len, OCI_MAX_CONFIG, "image config", ret, err);
}

int oci_config_parse(const char *buf, size_t len, struct oci_config **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  _cleanup_oci_config_ struct oci_config *c = xzalloc(sizeof(*c));
  const char *os, *arch, *variant;
  json_t *rootfs;

  if (load_config(buf, len, &j, err) < 0 || get_required_string(j, "os", "image config", &os, err) < 0 ||
      get_required_string(j, "architecture", "image config", &arch, err) < 0 ||
      get_string(j, "variant", "image config", &variant, err) < 0)
    return -1;
  rootfs = json_object_get(j, "rootfs");
  if (rootfs && !json_is_null(rootfs) && !json_is_object(rootfs))
    return podrun_error_set(err, 0, "image config: \"rootfs\" must be an object");
  if (parse_diff_ids(json_is_object(rootfs) ? rootfs : NULL, c, err) < 0)
    return -1;
  c->os = xstrdup(os);
  c->architecture = xstrdup(arch);
  c->variant = variant && *variant ? xstrdup(variant) : NULL;
  *ret = TAKE_PTR(c);
  return 0;
}

/* A JSON array of strings (absent or null: none) appended to *v. */
static int push_strings(json_t *o, const char *key, char ***v, size_t *n, podrun_error_t *err)
{
  json_t *a = json_object_get(o, key), *s;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return podrun_error_set(err, 0, "image config: \"config.%s\" must be an array of strings", key);
  if (*n + json_array_size(a) > MAX_CONFIG_ENTRIES)
    return podrun_error_set(err, 0, "image config: more than %d entries in \"config.%s\"", MAX_CONFIG_ENTRIES, key);
  json_array_foreach (a, i, s)
    {
      if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
        return podrun_error_set(err, 0, "image config: \"config.%s[%zu]\" must be a string without NUL", key, i);
      *v = strv_push(*v, json_string_value(s));
      (*n)++;
    }
  return 0;
}

/* exec = Entrypoint + Cmd. A relative exec[0] with a '/' ("./run.sh") is
 * docker's path from the working directory; appc wants it absolute. */
static int map_exec(json_t *c, struct appc_app *app, podrun_error_t *err)
{
  _cleanup_strv_ char **exec = NULL;
  size_t n = 0;

  if (push_strings(c, "Entrypoint", &exec, &n, err) < 0 || push_strings(c, "Cmd", &exec, &n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  if (!*exec[0])
    return podrun_error_set(err, 0, "image config: the command (Entrypoint, then Cmd) starts with an empty word");
  if (exec[0][0] != '/' && strchr(exec[0], '/'))
    {
      const char *wd = app->working_directory;
      char *abs = xasprintf("%s%s%s", wd, endswith(wd, "/") ? "" : "/", exec[0]);
      free(exec[0]);
      exec[0] = abs;
    }
  app->exec = TAKE_PTR(exec);
  return 0;
}

static int map_env(json_t *c, struct appc_app *app, podrun_error_t *err)
{
  _cleanup_strv_ char **env = NULL;
  size_t n = 0;

  if (push_strings(c, "Env", &env, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      char *eq = strchr(env[i], '=');
      if (!eq)
        return podrun_error_set(err, 0, "image config: Env entry %s is not NAME=VALUE", QUOTE(env[i]));
      *eq = '\0';
      if (!appc_env_name_is_valid(env[i]))
        return podrun_error_set(err, 0, "image config: Env entry %s: not a valid variable name", QUOTE(env[i]));
      appc_kvs_set(&app->environment, env[i], eq + 1); /* a later one wins, as in docker */
    }
  return 0;
}

/* The primary group of a passwd entry whose field `by` (0: name, 2: uid)
 * is `key`, NULL if there is none. */
static char *passwd_gid(const char *passwd, int by, const char *key)
{
  for (const char *line = passwd; line && *line;)
    {
      const char *end = strchrnul(line, '\n');
      _cleanup_free_ char *copy = xstrndup(line, (size_t) (end - line));
      char *fields[4] = { NULL }, *save = copy;
      unsigned long long g;

      for (int k = 0; k < 4 && save; k++)
        fields[k] = strsep(&save, ":");
      if (fields[3] && streq(fields[by], key) && parse_uint(fields[3], 4294967294ULL, &g) == 0)
        return xstrdup(fields[3]);
      line = *end ? end + 1 : NULL;
    }
  return NULL;
}

static bool id_word_is_valid(const char *s)
{
  if (!*s || *s == '/' || *s == '-' || strlen(s) > 256)
    return false;
  for (; *s; s++)
    if ((unsigned char) *s <= ' ' || *s == ':' || *s == 0x7f)
      return false;
  return true;
}

/* User: "" → 0:0; "u:g" as given; "uid" or "name" → the group of its
 * passwd entry, else 0. A name stage2 resolves in the image at run. */
static int map_user(json_t *c, const char *etc_passwd, struct appc_app *app, podrun_error_t *err)
{
  const char *user = NULL, *colon;
  unsigned long long id;

  if (get_string(c, "User", "image config", &user, err) < 0)
    return -1;
  if (!user || !*user)
    {
      app->user = xstrdup("0");
      app->group = xstrdup("0");
      return 0;
    }
  colon = strchr(user, ':');
  app->user = colon ? xstrndup(user, (size_t) (colon - user)) : xstrdup(user);
  if (colon)
    app->group = xstrdup(colon + 1);
  else if (etc_passwd && strlen(etc_passwd) <= MAX_PASSWD)
    app->group = passwd_gid(etc_passwd, parse_uint(user, 4294967294ULL, &id) == 0 ? 2 : 0, user);
  if (!app->group)
    app->group = xstrdup("0");
  if (!id_word_is_valid(app->user) || !id_word_is_valid(app->group))
    return podrun_error_set(err, 0, "image config: User %s is not USER, UID, USER:GROUP or UID:GID", QUOTE(user));
  return 0;
}

static int map_working_dir(json_t *c, struct appc_app *app, podrun_error_t *err)
{
  const char *wd = NULL;

  if (get_string(c, "WorkingDir", "image config", &wd, err) < 0)
    return -1;
  if (wd && *wd && wd[0] != '/')
    return podrun_error_set(err, 0, "image config: WorkingDir %s is not an absolute path", QUOTE(wd));
  if (wd && strlen(wd) > 4096)
    return podrun_error_set(err, 0, "image config: WorkingDir is longer than 4096 bytes");
  app->working_directory = xstrdup(wd && *wd ? wd : "/");
  return 0;
}

/* "80/tcp", "53/udp", "80" (tcp) → {name "80-tcp", protocol, port}. */
static int map_port(const char *key, struct appc_app *app, podrun_error_t *err)
{
  const char *slash = strchr(key, '/');
  _cleanup_free_ char *num = slash ? xstrndup(key, (size_t) (slash - key)) : xstrdup(key);
  const char *proto = slash ? slash + 1 : "tcp";
  unsigned long long port;

  if (parse_uint(num, 65535, &port) < 0 || port == 0 ||
      (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp")))
    return podrun_error_set(err, 0, "image config: ExposedPorts key %s is not PORT[/tcp|udp|sctp]", QUOTE(key));
  _cleanup_free_ char *name = xasprintf("%llu-%s", port, proto);
  for (size_t i = 0; i < app->n_ports; i++)
    if (streq(app->ports[i].name, name))
      return 0; /* "80" and "80/tcp" */
  app->ports = xrealloc(app->ports, (app->n_ports + 1) * sizeof(*app->ports));
  app->ports[app->n_ports++] = (struct appc_port){
    .name = TAKE_PTR(name), .protocol = xstrdup(proto), .port = (unsigned) port, .count = 1,
  };
  return 0;
}

/* An object whose keys matter (ExposedPorts, Volumes: {"key": {}}). */
static int object_keys(json_t *c, const char *key, size_t max, json_t **ret, podrun_error_t *err)
{
  json_t *o = json_object_get(c, key);

  *ret = NULL;
  if (!o || json_is_null(o))
    return 0;
  if (!json_is_object(o))
    return podrun_error_set(err, 0, "image config: \"config.%s\" must be an object", key);
  if (json_object_size(o) > max)
    return podrun_error_set(err, 0, "image config: more than %zu entries in \"config.%s\"", max, key);
  *ret = o;
  return 0;
}

static int map_ports(json_t *c, struct appc_app *app, podrun_error_t *err)
{
  json_t *o, *v;
  const char *key;

  if (object_keys(c, "ExposedPorts", MAX_CONFIG_PORTS, &o, err) < 0)
    return -1;
  json_object_foreach (o, key, v)
    if (map_port(key, app, err) < 0)
      return -1;
  return 0;
}

/* "/var/lib/x" → "volume-var-lib-x": [a-z0-9] kept (upper case lowered),
 * runs of anything else one '-', cut to fit APPC_NAME_MAX with a suffix;
 * "-2", "-3" … when two paths give one name. */
static char *volume_name(const char *path, const struct appc_app *app)
{
  char base[160] = "volume";
  size_t n = strlen(base);

  for (const char *p = path; *p && n < sizeof(base) - 1; p++)
    {
      char ch = (*p >= 'A' && *p <= 'Z') ? (char) (*p - 'A' + 'a') : *p;
      if (is_lower_alnum(ch))
        base[n++] = ch;
      else if (base[n - 1] != '-')
        base[n++] = '-';
    }
  while (base[n - 1] == '-')
    n--;
  base[n] = '\0';
  for (unsigned k = 1;; k++)
    {
      char *name = k == 1 ? xstrdup(base) : xasprintf("%s-%u", base, k);
      bool taken = false;
      for (size_t i = 0; i < app->n_mount_points && !taken; i++)
        taken = streq(app->mount_points[i].name, name);
      if (!taken)
        return name;
      free(name);
    }
}

static int map_volumes(json_t *c, struct appc_app *app, podrun_error_t *err)
{
  json_t *o, *v;
  const char *path;

  if (object_keys(c, "Volumes", MAX_CONFIG_VOLUMES, &o, err) < 0)
    return -1;
  json_object_foreach (o, path, v)
    {
      if (path[0] != '/' || strlen(path) > 4096)
        return podrun_error_set(err, 0, "image config: Volumes key %s is not an absolute path", QUOTE(path));
      app->mount_points = xrealloc(app->mount_points, (app->n_mount_points + 1) * sizeof(*app->mount_points));
      app->mount_points[app->n_mount_points] = (struct appc_mount_point){
        .name = volume_name(path, app), .path = xstrdup(path), .read_only = false,
      };
      app->n_mount_points++;
    }
  return 0;
}

/* Labels become annotations; a key that is not an AC identifier, or a value
 * that breaks the spec's format for that name (created, homepage,
 * documentation), is dropped: appc has nowhere to put it. */
static int map_labels(json_t *c, struct appc_image_manifest *m, podrun_error_t *err)
{
  json_t *o = json_object_get(c, "Labels"), *v;
  const char *key;

  if (!o || json_is_null(o))
    return 0;
  if (!json_is_object(o))
    return podrun_error_set(err, 0, "image config: \"config.Labels\" must be an object");
  if (json_object_size(o) > MAX_CONFIG_ENTRIES)
    return podrun_error_set(err, 0, "image config: more than %d labels", MAX_CONFIG_ENTRIES);
  json_object_foreach (o, key, v)
    {
      if (!json_is_string(v))
        return podrun_error_set(err, 0, "image config: label %s must be a string", QUOTE(key));
      if (strlen(key) > 255 || !appc_identifier_is_valid(key) ||
          appc_annotation_value_check(key, json_string_value(v)))
        continue;
      appc_kvs_set(&m->annotations, key, json_string_value(v));
    }
  return 0;
}

/* rkt's docker2aci keeps the docker command for tools: the entrypoint and
 * the command as JSON arrays. */
static void annotate_command(json_t *c, struct appc_image_manifest *m)
{
  static const struct { const char *key, *annotation; } rows[] = {
    { "Entrypoint", "appc.io/docker/entrypoint" },
    { "Cmd", "appc.io/docker/cmd" },
  };
  for (size_t i = 0; i < ELEMENTSOF(rows); i++)
    {
      json_t *v = json_object_get(c, rows[i].key);
      if (!json_is_array(v))
        continue;
      _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT);
      if (s)
        appc_kvs_set(&m->annotations, rows[i].annotation, s);
    }
}

static int map_labels_top(json_t *j, const char *tag, struct appc_image_manifest *m, podrun_error_t *err)
{
  const char *os, *arch, *variant, *created, *appc_arch;

  if (get_required_string(j, "os", "image config", &os, err) < 0 ||
      get_required_string(j, "architecture", "image config", &arch, err) < 0 ||
      get_string(j, "variant", "image config", &variant, err) < 0 ||
      get_string(j, "created", "image config", &created, err) < 0)
    return -1;
  if (!appc_os_arch_is_valid(os, NULL))
    return podrun_error_set(err, 0, "image config: os %s is not one podrun runs", QUOTE(os));
  appc_arch = oci_arch_to_appc(arch, variant && *variant ? variant : NULL);
  if (!appc_arch || !appc_os_arch_is_valid(os, appc_arch))
    return podrun_error_set(err, 0, "image config: architecture %s%s%s has no appc name", QUOTE(arch),
                            variant && *variant ? " variant " : "", variant && *variant ? QUOTE(variant) : "");
  if (tag)
    appc_kvs_set(&m->labels, "version", tag);
  appc_kvs_set(&m->labels, "os", os);
  appc_kvs_set(&m->labels, "arch", appc_arch);
  if (created && !appc_kvs_get(&m->annotations, "created") && !appc_annotation_value_check("created", created))
    appc_kvs_set(&m->annotations, "created", created);
  return 0;
}

static int map_app(json_t *c, const char *etc_passwd, struct appc_app *app, podrun_error_t *err)
{
  if (map_working_dir(c, app, err) < 0 || map_exec(c, app, err) < 0 || map_env(c, app, err) < 0 ||
      map_user(c, etc_passwd, app, err) < 0 || map_ports(c, app, err) < 0 || map_volumes(c, app, err) < 0)
    return -1;
  return 0;
}

static int build_manifest(json_t *j, const char *name, const char *tag, const char *etc_passwd,
                          struct appc_image_manifest *m, podrun_error_t *err)
{
  _cleanup_json_ json_t *none = json_object();
  json_t *c = json_object_get(j, "config");

  if (c && !json_is_null(c) && !json_is_object(c))
    return podrun_error_set(err, 0, "image config: \"config\" must be an object");
  if (!json_is_object(c))
    c = none;
  m->ac_version = xstrdup(APPC_VERSION);
  m->name = xstrdup(name);
  m->app = xzalloc(sizeof(*m->app));
  if (map_labels(c, m, err) < 0)
    return -1;
  annotate_command(c, m);
  if (map_labels_top(j, tag, m, err) < 0)
    return -1;
  return map_app(c, etc_passwd, m->app, err);
}

int oci_config_to_appc(const char *config, size_t len, const char *name, const char *tag, const char *etc_passwd,
                       char **ret_manifest_json, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL, *out = NULL;
  _cleanup_image_manifest_ struct appc_image_manifest *m = xzalloc(sizeof(*m));
  _cleanup_image_manifest_ struct appc_image_manifest *check = NULL;
  _cleanup_free_ char *s = NULL;

  if (load_config(config, len, &j, err) < 0 || build_manifest(j, name, tag, etc_passwd, m, err) < 0)
    return -1;
  out = appc_image_manifest_to_json(m);
  if (!out)
    return podrun_error_set(err, 0, "image config: a string is not valid UTF-8");
  s = json_dump_sorted(out, false);
  if (appc_image_manifest_parse(s, strlen(s), &check, err) < 0)
    return podrun_error_wrap(err, "image config");
  *ret_manifest_json = TAKE_PTR(s);
  return 0;
}
