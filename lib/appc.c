/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appc image and pod manifests: a table-driven decoder from untrusted JSON
 * into C structs (each row: key, JSON type, callback, offset, required, in
 * the manner of systemd's nspawn-oci.c), the spec's validation rules, and
 * the encoder back to JSON. */
#include <arpa/inet.h>
#include <stdint.h>

#include "appc.h"
#include "json-util.h"

/* ---- errors -------------------------------------------------------------- */

/* A user string for an error message: quoted, escaped, cut at 64 bytes on a
 * UTF-8 boundary so the message stays valid UTF-8. */
static char *quote(const char *s)
{
  char buf[64 * 4 + 8];
  return xstrdup(quote_into(buf, s, 64, true));
}

/* Sets `"<path>": <message>`. */
static int fail(podrun_error_t *err, const char *path, const char *fmt, ...) _printf_(3, 4);
static int fail(podrun_error_t *err, const char *path, const char *fmt, ...)
{
  _cleanup_free_ char *m = NULL;
  va_list ap;

  va_start(ap, fmt);
  if (vasprintf(&m, fmt, ap) < 0)
    m = NULL;
  va_end(ap);
  return podrun_error_set(err, 0, "\"%s\": %s", path, m ? m : "invalid");
}

/* `"<path>": "<value>" <reason>` */
static int fail_value(podrun_error_t *err, const char *path, const char *value, const char *reason)
{
  _cleanup_free_ char *q = quote(value);
  return fail(err, path, "%s %s", q, reason);
}

static char *path_key(const char *parent, const char *key)
{
  return *parent ? xasprintf("%s.%s", parent, key) : xstrdup(key);
}

/* ---- the table-driven decoder -------------------------------------------- */

enum field_type
{
  F_STRING,
  F_BOOL,
  F_INT,
  F_ARRAY,
  F_OBJECT,
  F_ANY,
};

/* `p` points at the struct member named by the row's offset; array rows
 * (several members) use offset 0 and get the containing struct. */
typedef int (*dispatch_fn)(const char *path, json_t *v, void *p, podrun_error_t *err);

struct field
{
  const char *key;
  enum field_type type;
  dispatch_fn cb;
  size_t offset;
  bool required;
};

static bool type_matches(enum field_type t, json_t *v)
{
  switch (t)
    {
    case F_STRING:
      return json_is_string(v);
    case F_BOOL:
      return json_is_boolean(v);
    case F_INT:
      return json_is_integer(v);
    case F_ARRAY:
      return json_is_array(v);
    case F_OBJECT:
      return json_is_object(v);
    case F_ANY:
      return true;
    }
  return false;
}

static const char *type_name(enum field_type t)
{
  static const char *const names[] = {
    [F_STRING] = "a string", [F_BOOL] = "a boolean", [F_INT] = "an integer",
    [F_ARRAY] = "an array",  [F_OBJECT] = "an object", [F_ANY] = "a JSON value",
  };
  return names[t];
}

/* Unknown keys are ignored; JSON null reads as absent. */
static int dispatch_table(const char *path, json_t *obj, const struct field *table, void *base,
                          podrun_error_t *err)
{
  for (const struct field *f = table; f->key; f++)
    {
      json_t *v = json_object_get(obj, f->key);
      _cleanup_free_ char *p = path_key(path, f->key);

      if (!v || json_is_null(v))
        {
          if (f->required)
            return fail(err, p, "is required");
          continue;
        }
      if (!type_matches(f->type, v))
        return fail(err, p, "must be %s", type_name(f->type));
      if (f->cb(p, v, (char *) base + f->offset, err) < 0)
        return -1;
    }
  return 0;
}

/* An array of objects, each decoded with `fields` into an element of `size`
 * bytes (after `init` sets defaults), then checked; with `unique`, the
 * (required) char * member at `unique_offset` must differ between elements. */
struct array_type
{
  size_t size;
  const struct field *fields;
  void (*init)(void *elem);
  int (*check)(const char *path, json_t *obj, void *elem, podrun_error_t *err);
  bool unique;
  size_t unique_offset;
};

static int cmp_strp(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Sorted copy of the names, then neighbours: O(n log n) for big inputs. */
static const char *find_duplicate(const char *v, size_t n, size_t size, size_t offset, const char **buf)
{
  for (size_t i = 0; i < n; i++)
    memcpy(&buf[i], v + i * size + offset, sizeof(char *));
  qsort(buf, n, sizeof(char *), cmp_strp);
  for (size_t i = 1; i < n; i++)
    if (streq(buf[i - 1], buf[i]))
      return buf[i];
  return NULL;
}

static int check_unique(const char *path, const void *v, size_t n, size_t size, size_t offset,
                        podrun_error_t *err)
{
  _cleanup_free_ const char **buf = NULL;
  const char *dup;

  if (n < 2)
    return 0;
  buf = xmalloc(n * sizeof(char *));
  dup = find_duplicate(v, n, size, offset, buf);
  return dup ? fail_value(err, path, dup, "appears twice") : 0;
}

static int parse_element(const char *path, size_t i, json_t *o, const struct array_type *t, void *elem,
                         podrun_error_t *err)
{
  _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);

  if (!json_is_object(o))
    return fail(err, p, "must be an object");
  if (t->init)
    t->init(elem);
  if (dispatch_table(p, o, t->fields, elem, err) < 0)
    return -1;
  return t->check ? t->check(p, o, elem, err) : 0;
}

/* Stores the array in *ret_v (a T **) and *ret_n before decoding, so that a
 * failure leaves a partial array the owner's destructor frees. */
static int parse_array(const char *path, json_t *arr, const struct array_type *t, void *ret_v, size_t *ret_n,
                       podrun_error_t *err)
{
  size_t n = json_array_size(arr);
  char *v = n ? xzalloc(n * t->size) : NULL;

  memcpy(ret_v, &v, sizeof(v));
  *ret_n = n;
  for (size_t i = 0; i < n; i++)
    if (parse_element(path, i, json_array_get(arr, i), t, v + i * t->size, err) < 0)
      return -1;
  return t->unique ? check_unique(path, v, n, t->size, t->unique_offset, err) : 0;
}

/* ---- scalar callbacks ------------------------------------------------------ */

static int d_string(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  *(char **) p = xstrdup(json_string_value(v));
  return 0;
}

static int d_nonempty(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (json_string_length(v) == 0)
    return fail(err, path, "must not be empty");
  return d_string(path, v, p, err);
}

static int d_identifier(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (!appc_identifier_is_valid(json_string_value(v)))
    return fail_value(err, path, json_string_value(v), "is not a valid AC identifier");
  return d_string(path, v, p, err);
}

static int d_name(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (!appc_name_is_valid(json_string_value(v)))
    return fail_value(err, path, json_string_value(v), "is not a valid AC name");
  if (json_string_length(v) > APPC_NAME_MAX)
    return fail_value(err, path, json_string_value(v),
                      "is longer than the " STRINGIFY(APPC_NAME_MAX) " bytes podrun can name a pod's files after");
  return d_string(path, v, p, err);
}

/* An image's own name: its last component names its app in a pod. */
static int d_image_name(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  const char *s = json_string_value(v), *last = strrchr(s, '/');
  if (appc_identifier_is_valid(s) && strlen(last ? last + 1 : s) > APPC_NAME_MAX)
    return fail_value(err, path, s,
                      "ends in a part longer than the " STRINGIFY(APPC_NAME_MAX)
                      " bytes podrun can name its app (and the app's files in a pod) after");
  return d_identifier(path, v, p, err);
}

static int d_env_name(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (!appc_env_name_is_valid(json_string_value(v)))
    return fail_value(err, path, json_string_value(v), "is not a valid environment variable name");
  return d_string(path, v, p, err);
}

static int d_abs_path(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (json_string_value(v)[0] != '/')
    return fail_value(err, path, json_string_value(v), "must be an absolute path");
  return d_string(path, v, p, err);
}

static int d_image_id(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (!appc_image_id_is_valid(json_string_value(v)))
    return fail_value(err, path, json_string_value(v), "is not a valid image id (sha512-<hex> or sha256-<hex>)");
  return d_string(path, v, p, err);
}

static int d_ac_version(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  const char *s = json_string_value(v);

  if (!appc_semver_parse(s, NULL, NULL))
    return fail_value(err, path, s, "is not a valid SemVer version");
  if (!appc_version_is_supported(s))
    return fail_value(err, path, s, "is not supported (0.8.0 or a later 0.x is)");
  return d_string(path, v, p, err);
}

static int check_kind(const char *path, json_t *v, const char *want, podrun_error_t *err)
{
  _cleanup_free_ char *q = quote(json_string_value(v));

  if (!streq(json_string_value(v), want))
    return fail(err, path, "must be \"%s\", not %s", want, q);
  return 0;
}

static int d_kind_image(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return check_kind(path, v, APPC_IMAGE_MANIFEST_KIND, err);
}

static int d_kind_pod(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return check_kind(path, v, APPC_POD_MANIFEST_KIND, err);
}

static int d_event_name(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  const char *s = json_string_value(v);

  if (!streq(s, "pre-start") && !streq(s, "post-stop"))
    return fail_value(err, path, s, "is not an event (pre-start or post-stop)");
  return d_string(path, v, p, err);
}

static int d_ipv4(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct in_addr a;

  if (inet_pton(AF_INET, json_string_value(v), &a) != 1)
    return fail_value(err, path, json_string_value(v), "is not an IPv4 address in dotted-quad notation");
  return d_string(path, v, p, err);
}

static int d_bool(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  *(bool *) p = json_is_true(v);
  return 0;
}

static int get_range(const char *path, json_t *v, uint64_t min, uint64_t max, uint64_t *ret,
                     podrun_error_t *err)
{
  json_int_t i = json_integer_value(v);

  if (i < 0 || (uint64_t) i < min || (uint64_t) i > max)
    return fail(err, path, "%lld is not between %llu and %llu", (long long) i, (unsigned long long) min,
                (unsigned long long) max);
  *ret = (uint64_t) i;
  return 0;
}

static int d_port_number(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  uint64_t u = 0;

  if (get_range(path, v, 1, 65535, &u, err) < 0)
    return -1;
  *(unsigned *) p = (unsigned) u;
  return 0;
}

/* An explicit 0 reads as the default 1, as the reference implementation does. */
static int d_port_count(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  uint64_t u = 0;

  if (get_range(path, v, 0, 65535, &u, err) < 0)
    return -1;
  *(unsigned *) p = u == 0 ? 1 : (unsigned) u;
  return 0;
}

static int d_uint64(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return get_range(path, v, 0, INT64_MAX, (uint64_t *) p, err);
}

/* (uid_t) -1 and (gid_t) -1 mean "no change" to the kernel, so not allowed. */
#define ID_MAX ((uint64_t) UINT32_MAX - 1)

static int d_uid(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  uint64_t u = 0;

  if (get_range(path, v, 0, ID_MAX, &u, err) < 0)
    return -1;
  *(uid_t *) p = (uid_t) u;
  return 0;
}

static int d_gid(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  uint64_t u = 0;

  if (get_range(path, v, 0, ID_MAX, &u, err) < 0)
    return -1;
  *(gid_t *) p = (gid_t) u;
  return 0;
}

/* "0755": octal digits, at most 07777. */
static int d_mode(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  const char *s = json_string_value(v);
  size_t n = strspn(s, "01234567");
  unsigned long m;

  if (n == 0 || n > 6 || s[n] != '\0' || (m = strtoul(s, NULL, 8)) > 07777)
    return fail_value(err, path, s, "is not a file mode (octal, at most 07777)");
  *(mode_t *) p = (mode_t) m;
  return 0;
}

static int d_json(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  *(json_t **) p = json_incref(v);
  return 0;
}

/* ---- string vectors ------------------------------------------------------ */

static int parse_strv(const char *path, json_t *arr, bool absolute, char ***ret, podrun_error_t *err)
{
  size_t n = json_array_size(arr);
  char **v = xzalloc((n + 1) * sizeof(char *));

  *ret = v;
  for (size_t i = 0; i < n; i++)
    {
      json_t *s = json_array_get(arr, i);
      _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);

      if (!json_is_string(s))
        return fail(err, p, "must be a string");
      if (absolute && json_string_value(s)[0] != '/')
        return fail_value(err, p, json_string_value(s), "must be an absolute path");
      v[i] = xstrdup(json_string_value(s));
    }
  return 0;
}

static int d_path_strv(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return parse_strv(path, v, true, p, err);
}

/* exec[0] is found like execvp(3) does (spec 0.8.x): an absolute path, or a
 * bare name searched in $PATH; a relative path with a '/' is refused, its
 * meaning would depend on the working directory. */
static int check_exec0(const char *path, const char *s, podrun_error_t *err)
{
  _cleanup_free_ char *p = xasprintf("%s[0]", path);

  if (*s == '\0')
    return fail(err, p, "must not be empty");
  if (strchr(s, '/') && s[0] != '/')
    return fail_value(err, p, s, "must be an absolute path or a command name without '/'");
  return 0;
}

static int parse_exec(const char *path, json_t *v, char ***ret, podrun_error_t *err)
{
  if (parse_strv(path, v, false, ret, err) < 0)
    return -1;
  return check_exec0(path, (*ret)[0], err);
}

/* app.exec: an empty list reads as absent (Go writes [] for an empty slice). */
static int d_app_exec(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return json_array_size(v) == 0 ? 0 : parse_exec(path, v, p, err);
}

static int d_handler_exec(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  if (json_array_size(v) == 0)
    return fail(err, path, "must not be empty");
  return parse_exec(path, v, p, err);
}

static int parse_gids(const char *path, json_t *arr, struct appc_app *app, podrun_error_t *err)
{
  size_t n = json_array_size(arr);

  app->supplementary_gids = n ? xzalloc(n * sizeof(gid_t)) : NULL;
  app->n_supplementary_gids = n;
  for (size_t i = 0; i < n; i++)
    {
      json_t *g = json_array_get(arr, i);
      _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);

      if (!json_is_integer(g))
        return fail(err, p, "must be an integer");
      if (d_gid(p, g, &app->supplementary_gids[i], err) < 0)
        return -1;
    }
  return 0;
}

static int d_gids(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return parse_gids(path, v, p, err);
}

/* "supplementaryGids", as spelt in the spec's own example (Go's decoder
 * matches keys case-insensitively); "supplementaryGIDs" wins. */
static int d_gids_alias(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_app *app = p;
  return app->n_supplementary_gids ? 0 : parse_gids(path, v, app, err);
}

/* ---- name/value lists and maps ------------------------------------------- */

void appc_kvs_clear(struct appc_kvs *kvs)
{
  for (size_t i = 0; i < kvs->n; i++)
    {
      free(kvs->v[i].name);
      free(kvs->v[i].value);
    }
  free(kvs->v);
  kvs->v = NULL;
  kvs->n = 0;
}

const char *appc_kvs_get(const struct appc_kvs *kvs, const char *name)
{
  for (size_t i = 0; kvs && i < kvs->n; i++)
    if (kvs->v[i].name && streq(kvs->v[i].name, name))
      return kvs->v[i].value;
  return NULL;
}

void appc_kvs_set(struct appc_kvs *kvs, const char *name, const char *value)
{
  for (size_t i = 0; i < kvs->n; i++)
    if (streq(kvs->v[i].name, name))
      {
        free(kvs->v[i].value);
        kvs->v[i].value = xstrdup(value);
        return;
      }
  kvs->v = xrealloc(kvs->v, (kvs->n + 1) * sizeof(*kvs->v));
  kvs->v[kvs->n++] = (struct appc_kv){ .name = xstrdup(name), .value = xstrdup(value) };
}

static int check_label(const char *path, json_t *o, void *elem, podrun_error_t *err)
{
  _cleanup_free_ char *p = path_key(path, "name");

  if (streq(((struct appc_kv *) elem)->name, "name"))
    return fail(err, p, "a label may not be called \"name\"");
  return 0;
}

/* YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM), RFC 3339 section 5.6. */
static bool is_rfc3339(const char *s)
{
  static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
  int mon, day, hour, min, sec;

  for (size_t i = 0; i < sizeof(pattern) - 1; i++)
    if (pattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pattern[i])
      return false;
  if (sscanf(s + 5, "%2d-%2d", &mon, &day) != 2 || sscanf(s + 11, "%2d:%2d:%2d", &hour, &min, &sec) != 3)
    return false;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
    return false;
  s += sizeof(pattern) - 1;
  if (*s == '.' && strspn(s + 1, "0123456789") > 0)
    s += 1 + strspn(s + 1, "0123456789");
  if (streq(s, "Z"))
    return true;
  return (s[0] == '+' || s[0] == '-') && strlen(s) == 6 && strspn(s + 1, "0123456789") == 2 && s[3] == ':' &&
         strspn(s + 4, "0123456789") == 2 && atoi(s + 1) <= 23 && atoi(s + 4) <= 59;
}

static bool is_http_url(const char *s)
{
  const char *rest = startswith(s, "http://");

  if (!rest)
    rest = startswith(s, "https://");
  return rest && *rest && *rest != '/' && !strpbrk(s, " \t\r\n");
}

const char *appc_annotation_value_check(const char *name, const char *value)
{
  if (streq(name, "created") && !is_rfc3339(value))
    return "is not an RFC 3339 date-time";
  if ((streq(name, "homepage") || streq(name, "documentation")) && !is_http_url(value))
    return "is not an http or https URL";
  return NULL;
}

/* The spec gives three well-known annotations a format. */
static int check_annotation(const char *path, json_t *o, void *elem, podrun_error_t *err)
{
  const struct appc_kv *kv = elem;
  _cleanup_free_ char *p = path_key(path, "value");
  const char *why = appc_annotation_value_check(kv->name, kv->value);

  return why ? fail_value(err, p, kv->value, why) : 0;
}

static const struct field label_fields[] = {
  { "name", F_STRING, d_identifier, offsetof(struct appc_kv, name), true },
  { "value", F_STRING, d_string, offsetof(struct appc_kv, value), true },
  {},
};
static const struct field env_fields[] = {
  { "name", F_STRING, d_env_name, offsetof(struct appc_kv, name), true },
  { "value", F_STRING, d_string, offsetof(struct appc_kv, value), true },
  {},
};

static const struct array_type label_array = {
  .size = sizeof(struct appc_kv),
  .fields = label_fields,
  .check = check_label,
  .unique = true,
  .unique_offset = offsetof(struct appc_kv, name),
};
static const struct array_type annotation_array = {
  .size = sizeof(struct appc_kv),
  .fields = label_fields,
  .check = check_annotation,
  .unique = true,
  .unique_offset = offsetof(struct appc_kv, name),
};
static const struct array_type env_array = {
  .size = sizeof(struct appc_kv),
  .fields = env_fields,
  .unique = true,
  .unique_offset = offsetof(struct appc_kv, name),
};

/* "os" must be a known OS and, when "arch" is given too, a known pair;
 * "arch" alone is allowed and means nothing (spec: "arch is meaningful
 * only if os is provided"). */
static int check_os_arch(const char *path, const struct appc_kvs *labels, podrun_error_t *err)
{
  const char *os = appc_kvs_get(labels, "os"), *arch = appc_kvs_get(labels, "arch");
  _cleanup_free_ char *qos = NULL, *qarch = NULL;

  if (!os || appc_os_arch_is_valid(os, arch))
    return 0;
  qos = quote(os);
  if (!appc_os_arch_is_valid(os, NULL))
    return fail(err, path, "os %s is not supported", qos);
  qarch = quote(arch);
  return fail(err, path, "arch %s is not valid for os %s", qarch, qos);
}

static int d_labels(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_kvs *kvs = p;

  if (parse_array(path, v, &label_array, &kvs->v, &kvs->n, err) < 0)
    return -1;
  return check_os_arch(path, kvs, err);
}

static int d_annotations(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_kvs *kvs = p;
  return parse_array(path, v, &annotation_array, &kvs->v, &kvs->n, err);
}

static int d_environment(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_kvs *kvs = p;
  return parse_array(path, v, &env_array, &kvs->v, &kvs->n, err);
}

static int cmp_kv(const void *a, const void *b)
{
  return strcmp(((const struct appc_kv *) a)->name, ((const struct appc_kv *) b)->name);
}

/* userAnnotations, userLabels: {"any key": "string"}, kept sorted by key. */
static int d_string_map(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_kvs *kvs = p;
  const char *key;
  json_t *val;

  kvs->v = json_object_size(v) ? xzalloc(json_object_size(v) * sizeof(struct appc_kv)) : NULL;
  json_object_foreach (v, key, val)
    {
      if (!json_is_string(val))
        return fail_value(err, path, key, "must map to a string");
      kvs->v[kvs->n].name = xstrdup(key);
      kvs->v[kvs->n++].value = xstrdup(json_string_value(val));
    }
  if (kvs->n > 1)
    qsort(kvs->v, kvs->n, sizeof(struct appc_kv), cmp_kv);
  return 0;
}

/* ---- the app ------------------------------------------------------------- */

static void isolators_free(struct appc_isolator *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free(v[i].name);
      json_decref(v[i].value);
    }
  free(v);
}

static void port_clear(struct appc_port *p)
{
  free(p->name);
  free(p->protocol);
}

void appc_app_free(struct appc_app *a)
{
  if (!a)
    return;
  strv_free(a->exec);
  free(a->user);
  free(a->group);
  free(a->supplementary_gids);
  for (size_t i = 0; i < a->n_event_handlers; i++)
    {
      free(a->event_handlers[i].name);
      strv_free(a->event_handlers[i].exec);
    }
  free(a->event_handlers);
  free(a->working_directory);
  appc_kvs_clear(&a->environment);
  for (size_t i = 0; i < a->n_mount_points; i++)
    {
      free(a->mount_points[i].name);
      free(a->mount_points[i].path);
    }
  free(a->mount_points);
  for (size_t i = 0; i < a->n_ports; i++)
    port_clear(&a->ports[i]);
  free(a->ports);
  isolators_free(a->isolators, a->n_isolators);
  appc_kvs_clear(&a->user_annotations);
  appc_kvs_clear(&a->user_labels);
  free(a);
}

struct appc_isolator *appc_app_get_isolator(const struct appc_app *a, const char *name)
{
  for (size_t i = 0; i < a->n_isolators; i++)
    if (streq(a->isolators[i].name, name))
      return &a->isolators[i];
  return NULL;
}

void appc_app_set_isolator(struct appc_app *a, const char *name, json_t *value)
{
  size_t kept = 0;
  for (size_t i = 0; i < a->n_isolators; i++)
    if (streq(a->isolators[i].name, name))
      {
        free(a->isolators[i].name);
        json_decref(a->isolators[i].value);
      }
    else
      a->isolators[kept++] = a->isolators[i];
  a->n_isolators = kept;
  if (!value)
    return;
  a->isolators = xrealloc(a->isolators, (a->n_isolators + 1) * sizeof(*a->isolators));
  a->isolators[a->n_isolators++] = (struct appc_isolator){ .name = xstrdup(name), .value = value };
}

static const struct field isolator_fields[] = {
  { "name", F_STRING, d_identifier, offsetof(struct appc_isolator, name), true },
  { "value", F_ANY, d_json, offsetof(struct appc_isolator, value), true },
  {},
};
static const struct array_type isolator_array = {
  .size = sizeof(struct appc_isolator),
  .fields = isolator_fields,
};

static const struct field handler_fields[] = {
  { "name", F_STRING, d_event_name, offsetof(struct appc_event_handler, name), true },
  { "exec", F_ARRAY, d_handler_exec, offsetof(struct appc_event_handler, exec), true },
  {},
};
static const struct array_type handler_array = {
  .size = sizeof(struct appc_event_handler),
  .fields = handler_fields,
  .unique = true,
  .unique_offset = offsetof(struct appc_event_handler, name),
};

static const struct field mount_point_fields[] = {
  { "name", F_STRING, d_name, offsetof(struct appc_mount_point, name), true },
  { "path", F_STRING, d_abs_path, offsetof(struct appc_mount_point, path), true },
  { "readOnly", F_BOOL, d_bool, offsetof(struct appc_mount_point, read_only), false },
  {},
};
static const struct array_type mount_point_array = {
  .size = sizeof(struct appc_mount_point),
  .fields = mount_point_fields,
};

static const struct field port_fields[] = {
  { "name", F_STRING, d_name, offsetof(struct appc_port, name), true },
  { "protocol", F_STRING, d_nonempty, offsetof(struct appc_port, protocol), true },
  { "port", F_INT, d_port_number, offsetof(struct appc_port, port), true },
  { "count", F_INT, d_port_count, offsetof(struct appc_port, count), false },
  { "socketActivated", F_BOOL, d_bool, offsetof(struct appc_port, socket_activated), false },
  {},
};

static void port_init(void *elem) { ((struct appc_port *) elem)->count = 1; }

static int check_port(const char *path, json_t *o, void *elem, podrun_error_t *err)
{
  const struct appc_port *p = elem;

  if ((unsigned long) p->port + p->count > 65536)
    return fail(err, path, "port range %u-%lu ends above 65535", p->port, (unsigned long) p->port + p->count - 1);
  return 0;
}

static const struct array_type port_array = {
  .size = sizeof(struct appc_port),
  .fields = port_fields,
  .init = port_init,
  .check = check_port,
};

#define ARRAY_DISPATCHER(fn, type, member, n_member, array_type)                  \
  static int fn(const char *path, json_t *v, void *p, podrun_error_t *err)       \
  {                                                                               \
    type *s = p;                                                                  \
    return parse_array(path, v, &(array_type), &s->member, &s->n_member, err);    \
  }

ARRAY_DISPATCHER(d_app_handlers, struct appc_app, event_handlers, n_event_handlers, handler_array)
ARRAY_DISPATCHER(d_app_mount_points, struct appc_app, mount_points, n_mount_points, mount_point_array)
ARRAY_DISPATCHER(d_app_ports, struct appc_app, ports, n_ports, port_array)
ARRAY_DISPATCHER(d_app_isolators, struct appc_app, isolators, n_isolators, isolator_array)

static const struct field app_fields[] = {
  { "exec", F_ARRAY, d_app_exec, offsetof(struct appc_app, exec), false },
  { "user", F_STRING, d_nonempty, offsetof(struct appc_app, user), true },
  { "group", F_STRING, d_nonempty, offsetof(struct appc_app, group), true },
  { "supplementaryGIDs", F_ARRAY, d_gids, 0, false },
  { "supplementaryGids", F_ARRAY, d_gids_alias, 0, false },
  { "eventHandlers", F_ARRAY, d_app_handlers, 0, false },
  { "workingDirectory", F_STRING, d_abs_path, offsetof(struct appc_app, working_directory), false },
  { "environment", F_ARRAY, d_environment, offsetof(struct appc_app, environment), false },
  { "mountPoints", F_ARRAY, d_app_mount_points, 0, false },
  { "ports", F_ARRAY, d_app_ports, 0, false },
  { "isolators", F_ARRAY, d_app_isolators, 0, false },
  { "userAnnotations", F_OBJECT, d_string_map, offsetof(struct appc_app, user_annotations), false },
  { "userLabels", F_OBJECT, d_string_map, offsetof(struct appc_app, user_labels), false },
  {},
};

static int d_app(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  struct appc_app *app = xzalloc(sizeof(*app));

  *(struct appc_app **) p = app;
  return dispatch_table(path, v, app_fields, app, err);
}

/* ---- the image manifest -------------------------------------------------- */

static const struct field dependency_fields[] = {
  { "imageName", F_STRING, d_identifier, offsetof(struct appc_dependency, image_name), true },
  { "imageID", F_STRING, d_image_id, offsetof(struct appc_dependency, image_id), false },
  { "labels", F_ARRAY, d_labels, offsetof(struct appc_dependency, labels), false },
  { "size", F_INT, d_uint64, offsetof(struct appc_dependency, size), false },
  {},
};
static const struct array_type dependency_array = {
  .size = sizeof(struct appc_dependency),
  .fields = dependency_fields,
};

ARRAY_DISPATCHER(d_image_dependencies, struct appc_image_manifest, dependencies, n_dependencies,
                 dependency_array)

static const struct field image_fields[] = {
  { "acKind", F_STRING, d_kind_image, 0, true },
  { "acVersion", F_STRING, d_ac_version, offsetof(struct appc_image_manifest, ac_version), true },
  { "name", F_STRING, d_image_name, offsetof(struct appc_image_manifest, name), true },
  { "labels", F_ARRAY, d_labels, offsetof(struct appc_image_manifest, labels), false },
  { "app", F_OBJECT, d_app, offsetof(struct appc_image_manifest, app), false },
  { "dependencies", F_ARRAY, d_image_dependencies, 0, false },
  { "pathWhitelist", F_ARRAY, d_path_strv, offsetof(struct appc_image_manifest, path_whitelist), false },
  { "annotations", F_ARRAY, d_annotations, offsetof(struct appc_image_manifest, annotations), false },
  {},
};

void appc_image_manifest_free(struct appc_image_manifest *m)
{
  if (!m)
    return;
  free(m->ac_version);
  free(m->name);
  appc_kvs_clear(&m->labels);
  appc_app_free(m->app);
  for (size_t i = 0; i < m->n_dependencies; i++)
    {
      free(m->dependencies[i].image_name);
      free(m->dependencies[i].image_id);
      appc_kvs_clear(&m->dependencies[i].labels);
    }
  free(m->dependencies);
  strv_free(m->path_whitelist);
  appc_kvs_clear(&m->annotations);
  free(m);
}

/* Parses `what` with `table` into `base`: the shared top of both manifests. */
static int parse_manifest(const char *buf, size_t len, const char *what, const struct field *table, void *base,
                          podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;

  if (json_parse_untrusted(buf, len, what, &j, err) < 0)
    return -1;
  if (!json_is_object(j))
    return podrun_error_set(err, 0, "%s: must be a JSON object", what);
  if (dispatch_table("", j, table, base, err) < 0)
    return podrun_error_wrap(err, "%s", what);
  return 0;
}

int appc_image_manifest_parse(const char *buf, size_t len, struct appc_image_manifest **ret,
                              podrun_error_t *err)
{
  struct appc_image_manifest *m = xzalloc(sizeof(*m));

  if (parse_manifest(buf, len, "image manifest", image_fields, m, err) < 0)
    {
      appc_image_manifest_free(m);
      return -1;
    }
  *ret = m;
  return 0;
}

/* ---- the pod manifest ---------------------------------------------------- */

static void volume_clear(struct appc_volume *v)
{
  free(v->name);
  free(v->source);
}

static int d_volume_kind(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  const char *s = json_string_value(v);

  if (streq(s, "host"))
    *(enum appc_volume_kind *) p = APPC_VOLUME_HOST;
  else if (streq(s, "empty"))
    *(enum appc_volume_kind *) p = APPC_VOLUME_EMPTY;
  else
    return fail_value(err, path, s, "is not a volume kind (host or empty)");
  return 0;
}

static const struct field volume_fields[] = {
  { "name", F_STRING, d_name, offsetof(struct appc_volume, name), true },
  { "kind", F_STRING, d_volume_kind, offsetof(struct appc_volume, kind), true },
  { "source", F_STRING, d_abs_path, offsetof(struct appc_volume, source), false },
  { "readOnly", F_BOOL, d_bool, offsetof(struct appc_volume, read_only), false },
  { "recursive", F_BOOL, d_bool, offsetof(struct appc_volume, recursive), false },
  { "mode", F_STRING, d_mode, offsetof(struct appc_volume, mode), false },
  { "uid", F_INT, d_uid, offsetof(struct appc_volume, uid), false },
  { "gid", F_INT, d_gid, offsetof(struct appc_volume, gid), false },
  {},
};

static void volume_init(void *elem) { ((struct appc_volume *) elem)->recursive = true; }

static bool has_key(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);
  return v && !json_is_null(v);
}

/* host needs a source and takes no mode/uid/gid; empty takes no source. */
static int check_volume(const char *path, json_t *o, void *elem, podrun_error_t *err)
{
  struct appc_volume *v = elem;
  static const char *const host_only_not[] = { "mode", "uid", "gid" };

  if (v->kind == APPC_VOLUME_EMPTY)
    {
      if (!has_key(o, "mode"))
        v->mode = 0755;
      return v->source ? fail(err, path, "an empty volume takes no \"source\"") : 0;
    }
  if (!v->source)
    return fail(err, path, "a host volume needs a \"source\"");
  for (size_t i = 0; i < ELEMENTSOF(host_only_not); i++)
    if (has_key(o, host_only_not[i]))
      return fail(err, path, "a host volume takes no \"%s\"", host_only_not[i]);
  return 0;
}

static const struct array_type volume_array = {
  .size = sizeof(struct appc_volume),
  .fields = volume_fields,
  .init = volume_init,
  .check = check_volume,
  .unique = true,
  .unique_offset = offsetof(struct appc_volume, name),
};

/* A single object of an array type (appVolume, podPort). */
static int parse_one(const char *path, json_t *v, const struct array_type *t, void *ret, podrun_error_t *err)
{
  void *elem = xzalloc(t->size);

  memcpy(ret, &elem, sizeof(elem));
  if (t->init)
    t->init(elem);
  if (dispatch_table(path, v, t->fields, elem, err) < 0)
    return -1;
  return t->check ? t->check(path, v, elem, err) : 0;
}

static int d_app_volume(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return parse_one(path, v, &volume_array, p, err);
}

static int d_pod_port(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return parse_one(path, v, &port_array, p, err);
}

static const struct field mount_fields[] = {
  { "volume", F_STRING, d_name, offsetof(struct appc_mount, volume), true },
  { "path", F_STRING, d_abs_path, offsetof(struct appc_mount, path), true },
  { "appVolume", F_OBJECT, d_app_volume, offsetof(struct appc_mount, app_volume), false },
  {},
};
static const struct array_type mount_array = {
  .size = sizeof(struct appc_mount),
  .fields = mount_fields,
};

static const struct field runtime_image_fields[] = {
  { "id", F_STRING, d_image_id, offsetof(struct appc_runtime_image, id), true },
  { "name", F_STRING, d_identifier, offsetof(struct appc_runtime_image, name), false },
  { "labels", F_ARRAY, d_labels, offsetof(struct appc_runtime_image, labels), false },
  {},
};

static int d_runtime_image(const char *path, json_t *v, void *p, podrun_error_t *err)
{
  return dispatch_table(path, v, runtime_image_fields, p, err);
}

ARRAY_DISPATCHER(d_runtime_app_mounts, struct appc_runtime_app, mounts, n_mounts, mount_array)

static const struct field runtime_app_fields[] = {
  { "name", F_STRING, d_name, offsetof(struct appc_runtime_app, name), true },
  { "image", F_OBJECT, d_runtime_image, offsetof(struct appc_runtime_app, image), true },
  { "app", F_OBJECT, d_app, offsetof(struct appc_runtime_app, app), false },
  { "readOnlyRootFS", F_BOOL, d_bool, offsetof(struct appc_runtime_app, read_only_rootfs), false },
  { "mounts", F_ARRAY, d_runtime_app_mounts, 0, false },
  { "annotations", F_ARRAY, d_annotations, offsetof(struct appc_runtime_app, annotations), false },
  {},
};
static const struct array_type runtime_app_array = {
  .size = sizeof(struct appc_runtime_app),
  .fields = runtime_app_fields,
  .unique = true,
  .unique_offset = offsetof(struct appc_runtime_app, name),
};

static const struct field exposed_port_fields[] = {
  { "name", F_STRING, d_name, offsetof(struct appc_exposed_port, name), true },
  { "hostPort", F_INT, d_port_number, offsetof(struct appc_exposed_port, host_port), true },
  { "hostIP", F_STRING, d_ipv4, offsetof(struct appc_exposed_port, host_ip), false },
  { "podPort", F_OBJECT, d_pod_port, offsetof(struct appc_exposed_port, pod_port), false },
  {},
};
static const struct array_type exposed_port_array = {
  .size = sizeof(struct appc_exposed_port),
  .fields = exposed_port_fields,
  .unique = true,
  .unique_offset = offsetof(struct appc_exposed_port, name),
};

ARRAY_DISPATCHER(d_pod_apps, struct appc_pod_manifest, apps, n_apps, runtime_app_array)
ARRAY_DISPATCHER(d_pod_volumes, struct appc_pod_manifest, volumes, n_volumes, volume_array)
ARRAY_DISPATCHER(d_pod_isolators, struct appc_pod_manifest, isolators, n_isolators, isolator_array)
ARRAY_DISPATCHER(d_pod_ports, struct appc_pod_manifest, ports, n_ports, exposed_port_array)

static const struct field pod_fields[] = {
  { "acKind", F_STRING, d_kind_pod, 0, true },
  { "acVersion", F_STRING, d_ac_version, offsetof(struct appc_pod_manifest, ac_version), true },
  { "apps", F_ARRAY, d_pod_apps, 0, true },
  { "volumes", F_ARRAY, d_pod_volumes, 0, false },
  { "isolators", F_ARRAY, d_pod_isolators, 0, false },
  { "annotations", F_ARRAY, d_annotations, offsetof(struct appc_pod_manifest, annotations), false },
  { "ports", F_ARRAY, d_pod_ports, 0, false },
  { "userAnnotations", F_OBJECT, d_string_map, offsetof(struct appc_pod_manifest, user_annotations), false },
  { "userLabels", F_OBJECT, d_string_map, offsetof(struct appc_pod_manifest, user_labels), false },
  {},
};

static void runtime_app_clear(struct appc_runtime_app *a)
{
  free(a->name);
  free(a->image.name);
  free(a->image.id);
  appc_kvs_clear(&a->image.labels);
  appc_app_free(a->app);
  for (size_t i = 0; i < a->n_mounts; i++)
    {
      free(a->mounts[i].volume);
      free(a->mounts[i].path);
      if (a->mounts[i].app_volume)
        volume_clear(a->mounts[i].app_volume);
      free(a->mounts[i].app_volume);
    }
  free(a->mounts);
  appc_kvs_clear(&a->annotations);
}

void appc_pod_manifest_free(struct appc_pod_manifest *m)
{
  if (!m)
    return;
  free(m->ac_version);
  for (size_t i = 0; i < m->n_apps; i++)
    runtime_app_clear(&m->apps[i]);
  free(m->apps);
  for (size_t i = 0; i < m->n_volumes; i++)
    volume_clear(&m->volumes[i]);
  free(m->volumes);
  isolators_free(m->isolators, m->n_isolators);
  appc_kvs_clear(&m->annotations);
  for (size_t i = 0; i < m->n_ports; i++)
    {
      free(m->ports[i].name);
      free(m->ports[i].host_ip);
      if (m->ports[i].pod_port)
        port_clear(m->ports[i].pod_port);
      free(m->ports[i].pod_port);
    }
  free(m->ports);
  appc_kvs_clear(&m->user_annotations);
  appc_kvs_clear(&m->user_labels);
  free(m);
}

int appc_pod_manifest_parse(const char *buf, size_t len, struct appc_pod_manifest **ret, podrun_error_t *err)
{
  struct appc_pod_manifest *m = xzalloc(sizeof(*m));

  if (parse_manifest(buf, len, "pod manifest", pod_fields, m, err) < 0)
    {
      appc_pod_manifest_free(m);
      return -1;
    }
  *ret = m;
  return 0;
}

/* ---- the encoder --------------------------------------------------------- */

/* Each put_* records a failure (only invalid UTF-8 can cause one) in *ok.
 * Absent (NULL, empty) optional members are left out. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
  if (!v || json_object_set_new(o, key, v) < 0)
    *ok = false;
}

static void append(json_t *a, json_t *v, bool *ok)
{
  if (!v || json_array_append_new(a, v) < 0)
    *ok = false;
}

static void put_str(json_t *o, const char *key, const char *s, bool *ok)
{
  if (s)
    put(o, key, json_string(s), ok);
}

static void put_true(json_t *o, const char *key, bool b, bool *ok)
{
  if (b)
    put(o, key, json_true(), ok);
}

static void put_strv(json_t *o, const char *key, char *const *v, bool *ok)
{
  json_t *a;

  if (!v)
    return;
  a = json_array();
  for (; *v; v++)
    append(a, json_string(*v), ok);
  put(o, key, a, ok);
}

static void put_kvs(json_t *o, const char *key, const struct appc_kvs *kvs, bool *ok)
{
  json_t *a;

  if (kvs->n == 0)
    return;
  a = json_array();
  for (size_t i = 0; i < kvs->n; i++)
    {
      json_t *e = json_object();
      put_str(e, "name", kvs->v[i].name, ok);
      put_str(e, "value", kvs->v[i].value, ok);
      append(a, e, ok);
    }
  put(o, key, a, ok);
}

static void put_map(json_t *o, const char *key, const struct appc_kvs *kvs, bool *ok)
{
  json_t *m;

  if (kvs->n == 0)
    return;
  m = json_object();
  for (size_t i = 0; i < kvs->n; i++)
    if (kvs->v[i].name)
      put_str(m, kvs->v[i].name, kvs->v[i].value, ok);
  put(o, key, m, ok);
}

typedef json_t *(*to_json_fn)(const void *elem, bool *ok);

/* An array of structs; an empty one is left out unless `always`. */
static void put_array(json_t *o, const char *key, const void *v, size_t n, size_t size, to_json_fn fn,
                      bool always, bool *ok)
{
  json_t *a;

  if (n == 0 && !always)
    return;
  a = json_array();
  for (size_t i = 0; i < n; i++)
    append(a, fn((const char *) v + i * size, ok), ok);
  put(o, key, a, ok);
}

static json_t *isolator_to_json(const void *elem, bool *ok)
{
  const struct appc_isolator *i = elem;
  json_t *o = json_object();

  put_str(o, "name", i->name, ok);
  if (i->value)
    put(o, "value", json_incref(i->value), ok);
  return o;
}

static json_t *handler_to_json(const void *elem, bool *ok)
{
  const struct appc_event_handler *h = elem;
  json_t *o = json_object();

  put_str(o, "name", h->name, ok);
  put_strv(o, "exec", h->exec, ok);
  return o;
}

static json_t *mount_point_to_json(const void *elem, bool *ok)
{
  const struct appc_mount_point *mp = elem;
  json_t *o = json_object();

  put_str(o, "name", mp->name, ok);
  put_str(o, "path", mp->path, ok);
  put_true(o, "readOnly", mp->read_only, ok);
  return o;
}

static json_t *port_to_json(const void *elem, bool *ok)
{
  const struct appc_port *p = elem;
  json_t *o = json_object();

  put_str(o, "name", p->name, ok);
  put_str(o, "protocol", p->protocol, ok);
  put(o, "port", json_integer(p->port), ok);
  put(o, "count", json_integer(p->count), ok);
  put_true(o, "socketActivated", p->socket_activated, ok);
  return o;
}

static json_t *gids_to_json(const gid_t *v, size_t n, bool *ok)
{
  json_t *a = json_array();

  for (size_t i = 0; i < n; i++)
    append(a, json_integer(v[i]), ok);
  return a;
}

static json_t *app_to_json(const struct appc_app *a, bool *ok)
{
  json_t *o = json_object();

  put_strv(o, "exec", a->exec, ok);
  put_str(o, "user", a->user, ok);
  put_str(o, "group", a->group, ok);
  if (a->n_supplementary_gids)
    put(o, "supplementaryGIDs", gids_to_json(a->supplementary_gids, a->n_supplementary_gids, ok), ok);
  put_array(o, "eventHandlers", a->event_handlers, a->n_event_handlers, sizeof(*a->event_handlers),
            handler_to_json, false, ok);
  put_str(o, "workingDirectory", a->working_directory, ok);
  put_kvs(o, "environment", &a->environment, ok);
  put_array(o, "mountPoints", a->mount_points, a->n_mount_points, sizeof(*a->mount_points),
            mount_point_to_json, false, ok);
  put_array(o, "ports", a->ports, a->n_ports, sizeof(*a->ports), port_to_json, false, ok);
  put_array(o, "isolators", a->isolators, a->n_isolators, sizeof(*a->isolators), isolator_to_json, false, ok);
  put_map(o, "userAnnotations", &a->user_annotations, ok);
  put_map(o, "userLabels", &a->user_labels, ok);
  return o;
}

static json_t *dependency_to_json(const void *elem, bool *ok)
{
  const struct appc_dependency *d = elem;
  json_t *o = json_object();

  put_str(o, "imageName", d->image_name, ok);
  put_str(o, "imageID", d->image_id, ok);
  put_kvs(o, "labels", &d->labels, ok);
  if (d->size)
    put(o, "size", json_integer((json_int_t) d->size), ok);
  return o;
}

/* Frees `o` and returns NULL when something failed. */
static json_t *finish(json_t *o, bool ok)
{
  if (ok)
    return o;
  json_decref(o);
  return NULL;
}

json_t *appc_image_manifest_to_json(const struct appc_image_manifest *m)
{
  json_t *o = json_object();
  bool ok = true;

  put_str(o, "acKind", APPC_IMAGE_MANIFEST_KIND, &ok);
  put_str(o, "acVersion", m->ac_version, &ok);
  put_str(o, "name", m->name, &ok);
  put_kvs(o, "labels", &m->labels, &ok);
  if (m->app)
    put(o, "app", app_to_json(m->app, &ok), &ok);
  put_array(o, "dependencies", m->dependencies, m->n_dependencies, sizeof(*m->dependencies),
            dependency_to_json, false, &ok);
  put_strv(o, "pathWhitelist", m->path_whitelist, &ok);
  put_kvs(o, "annotations", &m->annotations, &ok);
  return finish(o, ok);
}

static json_t *volume_to_json(const void *elem, bool *ok)
{
  const struct appc_volume *v = elem;
  json_t *o = json_object();

  put_str(o, "name", v->name, ok);
  put_str(o, "kind", v->kind == APPC_VOLUME_HOST ? "host" : "empty", ok);
  put(o, "readOnly", json_boolean(v->read_only), ok);
  put(o, "recursive", json_boolean(v->recursive), ok);
  if (v->kind == APPC_VOLUME_HOST)
    {
      put_str(o, "source", v->source, ok);
      return o;
    }
  put(o, "mode", json_sprintf("%04o", (unsigned) v->mode), ok);
  put(o, "uid", json_integer(v->uid), ok);
  put(o, "gid", json_integer(v->gid), ok);
  return o;
}

static json_t *mount_to_json(const void *elem, bool *ok)
{
  const struct appc_mount *mt = elem;
  json_t *o = json_object();

  put_str(o, "volume", mt->volume, ok);
  put_str(o, "path", mt->path, ok);
  if (mt->app_volume)
    put(o, "appVolume", volume_to_json(mt->app_volume, ok), ok);
  return o;
}

static json_t *runtime_app_to_json(const void *elem, bool *ok)
{
  const struct appc_runtime_app *a = elem;
  json_t *o = json_object(), *image = json_object();

  put_str(o, "name", a->name, ok);
  put_str(image, "id", a->image.id, ok);
  put_str(image, "name", a->image.name, ok);
  put_kvs(image, "labels", &a->image.labels, ok);
  put(o, "image", image, ok);
  if (a->app)
    put(o, "app", app_to_json(a->app, ok), ok);
  put_true(o, "readOnlyRootFS", a->read_only_rootfs, ok);
  put_array(o, "mounts", a->mounts, a->n_mounts, sizeof(*a->mounts), mount_to_json, false, ok);
  put_kvs(o, "annotations", &a->annotations, ok);
  return o;
}

static json_t *exposed_port_to_json(const void *elem, bool *ok)
{
  const struct appc_exposed_port *p = elem;
  json_t *o = json_object();

  put_str(o, "name", p->name, ok);
  put(o, "hostPort", json_integer(p->host_port), ok);
  put_str(o, "hostIP", p->host_ip, ok);
  if (p->pod_port)
    put(o, "podPort", port_to_json(p->pod_port, ok), ok);
  return o;
}

json_t *appc_pod_manifest_to_json(const struct appc_pod_manifest *m)
{
  json_t *o = json_object();
  bool ok = true;

  put_str(o, "acKind", APPC_POD_MANIFEST_KIND, &ok);
  put_str(o, "acVersion", m->ac_version, &ok);
  put_array(o, "apps", m->apps, m->n_apps, sizeof(*m->apps), runtime_app_to_json, true, &ok);
  put_array(o, "volumes", m->volumes, m->n_volumes, sizeof(*m->volumes), volume_to_json, false, &ok);
  put_array(o, "isolators", m->isolators, m->n_isolators, sizeof(*m->isolators), isolator_to_json, false, &ok);
  put_kvs(o, "annotations", &m->annotations, &ok);
  put_array(o, "ports", m->ports, m->n_ports, sizeof(*m->ports), exposed_port_to_json, false, &ok);
  put_map(o, "userAnnotations", &m->user_annotations, &ok);
  put_map(o, "userLabels", &m->user_labels, &ok);
  return finish(o, ok);
}

/* ---- validation of manifests built in C ---------------------------------- */

/* Serialises and parses back, so C-built manifests meet the parser's rules. */
static int validate_json(json_t *j, const char *what, int (*check)(const char *, size_t, podrun_error_t *),
                         podrun_error_t *err)
{
  _cleanup_free_ char *s = NULL;

  if (!j)
    return podrun_error_set(err, 0, "%s: a string is not valid UTF-8", what);
  s = json_dump_sorted(j, false);
  json_decref(j);
  return check(s, strlen(s), err);
}

static int check_image(const char *buf, size_t len, podrun_error_t *err)
{
  struct appc_image_manifest *m = NULL;
  int r = appc_image_manifest_parse(buf, len, &m, err);

  appc_image_manifest_free(m);
  return r;
}

static int check_pod(const char *buf, size_t len, podrun_error_t *err)
{
  struct appc_pod_manifest *m = NULL;
  int r = appc_pod_manifest_parse(buf, len, &m, err);

  appc_pod_manifest_free(m);
  return r;
}

int appc_image_manifest_validate(const struct appc_image_manifest *m, podrun_error_t *err)
{
  return validate_json(appc_image_manifest_to_json(m), "image manifest", check_image, err);
}

int appc_pod_manifest_validate(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  return validate_json(appc_pod_manifest_to_json(m), "pod manifest", check_pod, err);
}

ssize_t appc_pod_socket_app(const struct appc_pod_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->n_apps; i++)
    for (size_t k = 0; m->apps[i].app && k < m->apps[i].app->n_ports; k++)
      if (streq(m->apps[i].app->ports[k].name, name))
        return (ssize_t) i;
  return m->n_apps == 1 ? 0 : -1;
}
