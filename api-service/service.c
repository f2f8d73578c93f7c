/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-api's routes and the handlers of pods, images and info: each reads
 * through the read side podrun's CLI uses (inspect/) and returns a JSON
 * document; nothing here writes, locks exclusively or follows a path a pod
 * could have written. */
#include "service.h"

#include <fcntl.h>
#include <libgen.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "fs.h"
#include "inspect/inspect.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "store/store.h"

/* A pod that has ended changes no more while it stays in its state: its
 * object is kept, keyed by its state and what a change would touch (the pod
 * directory's identity and time, its status directory's time), so that a
 * listing of many exited pods reads each once. A table of fixed size: a
 * pod whose slot another takes is read again. */
struct pod_cache_entry
{
  char uuid[UUID_STRING_LEN + 1];
  enum pod_state state;
  struct stat dir, status;
  json_t *obj;
  char *text; /* obj, compact, keys sorted */
};

void api_context_init(struct api_context *ctx, const char *dir)
{
  memset(ctx, 0, sizeof(*ctx));
  ctx->dir = xstrdup(dir);
  ctx->pods_dir = xasprintf("%s/pods", dir);
  ctx->pod_cache_size = 4099;
  ctx->pod_cache = xzalloc(sizeof(*ctx->pod_cache) * ctx->pod_cache_size);
  pthread_mutex_init(&ctx->pod_cache_lock, NULL);
}

static void remove_snapshot(const char *snap);

void api_context_done(struct api_context *ctx)
{
  free(ctx->dir);
  free(ctx->pods_dir);
  free(ctx->openapi);
  strv_free(ctx->flavors);
  for (size_t k = 0; ctx->pod_cache && k < ctx->pod_cache_size; k++)
    json_decref(ctx->pod_cache[k].obj), free(ctx->pod_cache[k].text);
  free(ctx->pod_cache);
  if (ctx->pods_dir)
    pthread_mutex_destroy(&ctx->pod_cache_lock);
  if (ctx->tmpdir)
    remove_snapshot(ctx->tmpdir);
  free(ctx->tmpdir);
  memset(ctx, 0, sizeof(*ctx));
}

/* Is it there? (Not access(2), which judges by the real uid and without
 * the capability the service reads with.) */
bool api_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* Copies <dir>/cas/index.db and its -wal into <snap>/cas/, where the
 * service may write (its own temporary directory, never --dir): SQLite
 * reads a WAL index there as any reader does. The copy is kept only if
 * neither file changed while it was made (a torn copy is made again). */
static int snapshot_index(struct api_context *ctx, const char *snap, podrun_error_t *err)
{
  static const char *const names[] = { "index.db", "index.db-wal" };
  struct stat before[2], after[2];
  _cleanup_free_ char *cas = xasprintf("%s/cas", snap);
  if (mkdir(snap, 0700) < 0 || mkdir(cas, 0700) < 0)
    return podrun_error_set(err, errno, "snapshot the index into %s", QUOTE(snap));
  for (size_t i = 0; i < 2; i++)
    {
      _cleanup_free_ char *from = xasprintf("%s/cas/%s", ctx->dir, names[i]), *to = xasprintf("%s/%s", cas, names[i]);
      _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      _cleanup_close_ int out = -1;
      if (in < 0 && errno == ENOENT && i == 1)
        break;
      if (in < 0 || fstat(in, &before[i]) < 0 || !S_ISREG(before[i].st_mode))
        return podrun_error_set(err, errno, "snapshot %s", QUOTE(from));
      out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (out < 0 || fs_copy_fd(in, out, err) < 0)
        return out < 0 ? podrun_error_set(err, errno, "snapshot into %s", QUOTE(to)) : -1;
      if (fstat(in, &after[i]) < 0 || after[i].st_size != before[i].st_size ||
          after[i].st_mtim.tv_sec != before[i].st_mtim.tv_sec || after[i].st_mtim.tv_nsec != before[i].st_mtim.tv_nsec)
        return podrun_error_new(err, EAGAIN, "the index changed while it was copied");
    }
  return 0;
}

static void remove_snapshot(const char *snap)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  (void) fs_rm_rf_at(AT_FDCWD, snap, &ignored);
}

/* One attempt: the index itself (read as immutable by a reader that may not
 * write cas/), else a copy of it when its -wal holds transactions. 1 when it
 * changed under the reader: read again. */
static int with_store_once(struct api_context *ctx, api_store_fn fn, void *data, bool again, podrun_error_t *err)
{
  _cleanup_store_ struct store *s = NULL;
  _cleanup_free_ char *snap = NULL;
  int r;

  if (store_open(ctx->dir, STORE_READONLY, &s, err) < 0)
    {
      if ((*err)->status != EROFS || !ctx->tmpdir)
        return (*err)->status = 500, -1;
      podrun_error_free(err);
      snap = xasprintf("%s/snap.%lu.%lu", ctx->tmpdir, (unsigned long) gettid(),
                       (unsigned long) atomic_fetch_add(&ctx->snapshots, 1));
      r = snapshot_index(ctx, snap, err);
      if (r == 0)
        r = store_open(snap, STORE_READONLY, &s, err);
      if (r < 0)
        {
          bool torn = (*err)->status == EAGAIN;
          remove_snapshot(snap);
          if (torn)
            return podrun_error_free(err), 1;
          return (*err)->status = 500, -1;
        }
    }
  r = fn(s, data, again, err);
  bool changed = r >= 0 && store_changed(s);
  store_close(TAKE_PTR(s));
  if (snap)
    remove_snapshot(snap);
  return r < 0 ? -1 : changed;
}

int api_with_store(struct api_context *ctx, api_store_fn fn, void *data, podrun_error_t *err)
{
  _cleanup_free_ char *idx = xasprintf("%s/cas/index.db", ctx->dir);
  if (!api_exists(idx))
    return fn(NULL, data, false, err);
  for (int attempt = 0; attempt < 5; attempt++)
    {
      int r = with_store_once(ctx, fn, data, attempt > 0, err);
      if (r <= 0)
        return r;
    }
  return api_fail(err, 503, "the image index changed each time it was read: try again");
}

static const char *const pod_states[] = {
  "embryo", "preparing", "aborted-prepare", "prepared", "running", "exited", "exited-garbage", "garbage", NULL,
};

static const struct api_filter_spec pod_filters[] = {
  { "state", API_FILTER_CHOICE, pod_states },
  { "app", API_FILTER_STRING },
  { "image", API_FILTER_STRING },
  { "annotation", API_FILTER_KEYVALUE },
  { "label", API_FILTER_KEYVALUE },
  { "uuid", API_FILTER_UUID },
  { NULL },
};

static bool kv_matches(const json_t *o, const struct api_filter_term *t)
{
  return streq_ptr(json_string_value(json_object_get(o, t->value)), t->value2);
}

static bool pod_matches(const struct api_filter_term *t, const json_t *pod)
{
  const char *k = t->spec->key;
  json_t *app;
  size_t i;
  if (streq(k, "state"))
    return streq(json_string_value(json_object_get(pod, "state")), t->value);
  if (streq(k, "uuid"))
    return startswith(json_string_value(json_object_get(pod, "uuid")), t->value) != NULL;
  if (streq(k, "annotation") &&
      (kv_matches(json_object_get(pod, "annotations"), t) || kv_matches(json_object_get(pod, "user_annotations"), t)))
    return true;
  if (streq(k, "label") && kv_matches(json_object_get(pod, "user_labels"), t))
    return true;
  json_array_foreach(json_object_get(pod, "apps"), i, app)
  {
    if (streq(k, "annotation") &&
        (kv_matches(json_object_get(app, "annotations"), t) || kv_matches(json_object_get(app, "user_annotations"), t)))
      return true;
    if (streq(k, "label") && kv_matches(json_object_get(app, "user_labels"), t))
      return true;
    if (streq(k, "app") && streq(json_string_value(json_object_get(app, "name")), t->value))
      return true;
    if (streq(k, "image") && (streq(json_string_value(json_object_get(app, "image_name")), t->value) ||
                              (strlen(t->value) >= 8 && startswith(json_string_value(json_object_get(app, "image_id")), t->value))))
      return true;
  }
  return false;
}

static bool same_time(const struct stat *a, const struct stat *b)
{
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
         a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static size_t cache_slot(struct api_context *ctx, const char *uuid)
{
  size_t h = 5381;
  for (const char *c = uuid; *c; c++)
    h = h * 33 + (unsigned char) *c;
  return h % ctx->pod_cache_size;
}

/* The pod's object (a reference: never changed once made, so that the
 * cache and every reply can share it) and its compact text. */
static json_t *pod_object(struct api_context *ctx, struct pod *p, char **ret_text, podrun_error_t *err)
{
  struct stat dir, status;
  bool cacheable = inspect_pod_is_done(p->state) && fstat(p->dirfd, &dir) == 0 &&
                   fstatat(p->dirfd, "status", &status, AT_SYMLINK_NOFOLLOW) == 0;
  struct pod_cache_entry *e = NULL;
  if (cacheable)
    {
      pthread_mutex_lock(&ctx->pod_cache_lock);
      e = &ctx->pod_cache[cache_slot(ctx, p->uuid)];
      if (e->obj && streq(e->uuid, p->uuid) && e->state == p->state && same_time(&e->dir, &dir) &&
          same_time(&e->status, &status))
        {
          json_t *o = json_incref(e->obj);
          *ret_text = xstrdup(e->text);
          pthread_mutex_unlock(&ctx->pod_cache_lock);
          return o;
        }
      pthread_mutex_unlock(&ctx->pod_cache_lock);
    }
  struct inspect_pod i;
  if (inspect_pod_read(p, &i, err) < 0)
    return NULL;
  json_t *o = inspect_pod_json(p, &i);
  inspect_pod_done(&i);
  *ret_text = json_dump_sorted(o, false);
  if (e)
    {
      pthread_mutex_lock(&ctx->pod_cache_lock);
      json_decref(e->obj);
      free(e->text);
      snprintf(e->uuid, sizeof(e->uuid), "%s", p->uuid);
      e->state = p->state, e->dir = dir, e->status = status;
      e->obj = json_incref(o);
      e->text = xstrdup(*ret_text);
      pthread_mutex_unlock(&ctx->pod_cache_lock);
    }
  return o;
}

static int list_pods(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                     podrun_error_t *err)
{
  _cleanup_(api_filter_done) struct api_filter f = { 0 };
  struct pod **v = NULL;
  size_t n = 0, len = 1, cap = 4096;

  if (api_filter_parse(pod_filters, NULL, req, &f, err) < 0)
    return -1;
  if (api_exists(ctx->pods_dir) && pod_list(ctx->pods_dir, &v, &n, err) < 0)
    return podrun_error_wrap(err, "list pods"), (*err)->status = 500, -1;
  /* the array's compact text, as json_dump_sorted() writes it, from each pod's */
  char *text = xmalloc(cap);
  text[0] = '[';
  for (size_t k = 0; k < n; k++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      _cleanup_free_ char *t = NULL;
      json_t *o = pod_object(ctx, v[k], &t, &e);
      if (!o) /* one broken pod does not hide the others */
        {
          log_debug("%s, skipping", e->msg);
          continue;
        }
      if (api_filter_matches(&f, o, pod_matches))
        {
          size_t tl = strlen(t);
          while (len + tl + 4 > cap)
            text = xrealloc(text, cap *= 2);
          if (len > 1)
            text[len++] = ',';
          memcpy(text + len, t, tl);
          len += tl;
        }
      json_decref(o);
    }
  memcpy(text + len, "]\n", 3);
  pod_list_free(v, n);
  ret->text = text;
  ret->text_len = len + 2;
  ret->content_type = "application/json";
  return 0;
}

/* A pod named by its UUID or a unique prefix of it: 404 when none, 400 when it is no UUID or ambiguous. */
int api_load_pod(struct api_context *ctx, const char *uuid, struct pod **ret, podrun_error_t *err)
{
  if (!*uuid || strspn(uuid, "0123456789abcdef-") != strlen(uuid) || strlen(uuid) > 36)
    return api_fail(err, 400, "%s is not a pod UUID (lower-case hex and dashes)", QUOTE(uuid));
  if (pod_load(ctx->pods_dir, uuid, ret, err) == 0)
    return 0;
  (*err)->status = (*err)->status == ENOENT ? 404 : 400;
  return -1;
}

static int get_pod(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                   podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  struct inspect_pod i;

  if (api_request_check_params(req, NULL, err) < 0 || api_load_pod(ctx, args[0], &p, err) < 0)
    return -1;
  if (inspect_pod_read(p, &i, err) < 0)
    return (*err)->status = 500, -1;
  ret->json = inspect_pod_json(p, &i);
  json_object_set_new(ret->json, "manifest", i.manifest ? json_incref(i.manifest) : json_null());
  inspect_pod_done(&i);
  return 0;
}

static const struct api_filter_spec image_filters[] = {
  { "name", API_FILTER_STRING },
  { "id", API_FILTER_STRING },
  { "label", API_FILTER_KEYVALUE },
  { "imported_since", API_FILTER_TIME },
  { "used_since", API_FILTER_TIME },
  { NULL },
};

static bool image_matches(const struct api_filter_term *t, const json_t *img)
{
  const char *k = t->spec->key;
  if (streq(k, "name"))
    return streq(json_string_value(json_object_get(img, "name")), t->value);
  if (streq(k, "id"))
    return startswith(json_string_value(json_object_get(img, "id")), t->value) != NULL;
  if (streq(k, "label"))
    return kv_matches(json_object_get(img, "labels"), t);
  if (streq(k, "imported_since"))
    return json_integer_value(json_object_get(img, "import_time_us")) >= t->usec;
  return json_integer_value(json_object_get(img, "last_used_time_us")) >= t->usec;
}

struct image_list
{
  const struct api_filter *filter;
  json_t *arr;
};

static int list_images_in(struct store *s, void *data, bool again, podrun_error_t *err)
{
  struct image_list *l = data;
  struct store_image **v = NULL;
  size_t n = 0;
  json_array_clear(l->arr); /* what an earlier attempt read */
  if (s && store_list(s, &v, &n, err) < 0)
    return podrun_error_wrap(err, "list images"), (*err)->status = 500, -1;
  for (size_t k = 0; k < n; k++)
    {
      json_t *o = inspect_image_json(s, v[k]);
      if (api_filter_matches(l->filter, o, image_matches))
        json_array_append_new(l->arr, o);
      else
        json_decref(o);
    }
  store_image_list_free(v, n);
  return 0;
}

static int list_images(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                       podrun_error_t *err)
{
  _cleanup_(api_filter_done) struct api_filter f = { 0 };
  if (api_filter_parse(image_filters, NULL, req, &f, err) < 0)
    return -1;
  struct image_list l = { &f, json_array() };
  if (api_with_store(ctx, list_images_in, &l, err) < 0)
    return json_decref(l.arr), -1;
  ret->json = l.arr;
  return 0;
}

static json_t *layers_json(struct store *s, const char *id)
{
  _cleanup_error_ podrun_error_t e = NULL;
  struct store_layer *l = NULL;
  size_t n = 0;
  if (store_get_layers(s, id, &l, &n, &e) < 0)
    {
      log_debug("layers of %s: %s", id, e->msg);
      return json_array();
    }
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s?}", "digest", l[i].digest, "media_type", l[i].media_type,
                                         "size", (json_int_t) l[i].size, "diff_id", l[i].diff_id));
  store_layer_list_free(l, n);
  return arr;
}

struct image_get
{
  const char *id;
  json_t *obj;
};

static int get_image_in(struct store *s, void *data, bool again, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_error_ podrun_error_t bad = NULL;
  struct image_get *g = data;
  json_t *manifest = NULL;

  json_decref(g->obj);
  g->obj = NULL;
  if (!s)
    return api_fail(err, 404, "image %s: not found in the store", QUOTE(g->id));
  if (store_resolve(s, g->id, &img, err) < 0)
    return (*err)->status = (*err)->status == ENOENT ? 404 : 400, -1;
  g->obj = inspect_image_json(s, img);
  json_object_set_new(g->obj, "layers", layers_json(s, img->id));
  if (img->manifest && json_parse_untrusted(img->manifest, strlen(img->manifest), "manifest", &manifest, &bad) < 0)
    manifest = NULL;
  json_object_set_new(g->obj, "manifest", manifest ?: json_null());
  return 0;
}

static int get_image(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                     podrun_error_t *err)
{
  const char *id = args[0];
  if (api_request_check_params(req, NULL, err) < 0)
    return -1;
  if ((!startswith(id, "sha512-") && !startswith(id, "sha256-")) || strlen(id) < 8 ||
      strspn(id + 7, "0123456789abcdef") != strlen(id + 7))
    return api_fail(err, 400, "%s is not an image id (sha512-HEX or sha256-HEX, or a prefix of one)", QUOTE(id));
  struct image_get g = { id, NULL };
  if (api_with_store(ctx, get_image_in, &g, err) < 0)
    return json_decref(g.obj), -1;
  ret->json = g.obj;
  return 0;
}

/* Can this machine run a KVM guest with hardware acceleration? Probed
 * before the service drops root (/dev/kvm is root's and group kvm's). */
static bool probe_kvm(void)
{
  _cleanup_close_ int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  return fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

/* The stage1-<flavor>.aci files in the system configuration, else beside the build's binary. */
static char **find_flavors(const char *system_config)
{
  char **v = NULL;
  _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
  _cleanup_free_ char *build = exe ? xasprintf("%s/..", dirname(exe)) : NULL;
  const char *dirs[] = { system_config, build };
  for (size_t d = 0; d < ELEMENTSOF(dirs); d++)
    {
      _cleanup_closedir_ DIR *dir = dirs[d] ? opendir(dirs[d]) : NULL;
      struct dirent *de;
      while (dir && (de = readdir(dir)))
        {
          const char *rest = startswith(de->d_name, "stage1-");
          if (!rest || !endswith(rest, ".aci") || strlen(rest) <= 4)
            continue;
          _cleanup_free_ char *name = xstrndup(rest, strlen(rest) - 4);
          if (!strv_contains(v, name))
            v = strv_push(v, name);
        }
      if (v)
        break;
    }
  return v;
}

void api_context_probe(struct api_context *ctx, const char *system_config)
{
  ctx->kvm = probe_kvm();
  ctx->flavors = find_flavors(system_config);
}

static int get_info(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                    podrun_error_t *err)
{
  if (api_request_check_params(req, NULL, err) < 0)
    return -1;
  json_t *flavors = json_array();
  for (char **f = ctx->flavors; f && *f; f++)
    json_array_append_new(flavors, json_string(*f));
  ret->json = json_pack("{s:s,s:s,s:o,s:b,s:s,s:i,s:i}", "version", PODRUN_API_VERSION, "api_version", "v1",
                        "flavors", flavors, "kvm", ctx->kvm, "dir", ctx->dir, "streams",
                        ctx->http ? (int) api_http_streams(ctx->http) : 0, "max_streams", (int) ctx->max_streams);
  return 0;
}

static int get_openapi(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                       podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (api_request_check_params(req, NULL, err) < 0)
    return -1;
  if (!ctx->openapi)
    {
      text = xstrdup(api_openapi_doc);
      len = strlen(text);
    }
  else if (fs_read_file_at(AT_FDCWD, ctx->openapi, JSON_MAX_INPUT, &text, &len, err) < 0)
    return (*err)->status = 500, -1;
  if (json_parse_untrusted(text, len, ctx->openapi ? ctx->openapi : "the built-in OpenAPI document", &ret->json,
                           err) < 0)
    return (*err)->status = 500, -1;
  return 0;
}

const struct api_route api_routes[] = {
  { "pods", list_pods },
  { "pods/{}", get_pod },
  { "pods/{}/logs", api_pod_logs },
  { "images", list_images },
  { "images/{}", get_image },
  { "info", get_info },
  { "events", api_events },
  { "openapi.json", get_openapi },
  { NULL },
};
