/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inspect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "appc.h"
#include "cni.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "userns.h"

static int64_t mtime_usec(int dirfd, const char *path)
{
  struct stat st;
  if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return (int64_t) st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

static int read_small(int dirfd, const char *path, char **ret)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  return fs_read_file_at(dirfd, path, 4096, ret, NULL, &ignored);
}

/* A number a pod's files record; def when absent or not one. */
static int64_t read_number(int dirfd, const char *path, long long min, long long max, int64_t def)
{
  _cleanup_free_ char *text = NULL;
  long long n;
  if (read_small(dirfd, path, &text) < 0)
    return def;
  text[strcspn(text, "\n")] = '\0';
  return parse_int(text, min, max, &n) == 0 ? (int64_t) n : def;
}

static void app_read(struct pod *p, const struct appc_runtime_app *a, struct inspect_app *ret)
{
  _cleanup_free_ char *status_path = xasprintf("status/%s", a->name);
  ret->name = xstrdup(a->name);
  ret->image_name = xstrdup(a->image.name ? a->image.name : "");
  ret->image_id = xstrdup(a->image.id);
  ret->exit_code = (int) read_number(p->dirfd, status_path, 0, 255, -1);
  ret->exited = ret->exit_code >= 0 ? mtime_usec(p->dirfd, status_path) : 0;
}

int inspect_pod_read(struct pod *p, struct inspect_pod *ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  struct inspect_pod i = { 0 };
  size_t len = 0;

  /* An embryo has no manifest yet: it shows with no apps. */
  if (fs_read_file_at(p->dirfd, "pod", JSON_MAX_INPUT, &text, &len, err) == 0)
    {
      if (appc_pod_manifest_parse(text, len, &m, err) < 0)
        return podrun_error_wrap(err, "pod %s", p->uuid);
      i.apps = xzalloc(sizeof(*i.apps) * (m->n_apps + 1));
      for (size_t k = 0; k < m->n_apps; k++)
        app_read(p, &m->apps[k], &i.apps[i.n_apps++]);
      i.manifest = appc_pod_manifest_to_json(m);
    }
  else if (p->state != POD_EMBRYO && p->state != POD_ABORTED_PREPARE && p->state != POD_GARBAGE)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  else
    podrun_error_free(err);
  i.created = read_number(p->dirfd, "pod-created", 0, INT64_MAX, 0);
  /* stage0 writes `started` as it execs the stage1; a pod from a podrun
   * before that has only its pid file's time */
  i.started = read_number(p->dirfd, "started", 0, INT64_MAX, 0);
  if (i.started <= 0)
    i.started = mtime_usec(p->dirfd, "pid") ?: mtime_usec(p->dirfd, "ppid");
  i.pid = pod_read_pid(p->dirfd);
  *ret = i;
  return 0;
}

void inspect_pod_done(struct inspect_pod *i)
{
  for (size_t k = 0; k < i->n_apps; k++)
    {
      free(i->apps[k].name);
      free(i->apps[k].image_name);
      free(i->apps[k].image_id);
    }
  free(i->apps);
  json_decref(i->manifest);
  memset(i, 0, sizeof(*i));
}

json_t *inspect_pod_stage1_record(struct pod *p)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *text = NULL;
  json_t *j = NULL;
  size_t len = 0;
  if (fs_read_file_at(p->dirfd, "stage1/policy", 4096, &text, &len, &ignored) < 0 ||
      json_parse_untrusted(text, len, "stage1/policy", &j, &ignored) < 0)
    return NULL;
  json_t *rule = json_object_get(j, "rule"), *flag = json_object_get(j, "flag");
  if (!json_is_object(j) || !json_is_string(json_object_get(j, "stage1")) ||
      (rule && !json_is_string(rule) && !json_is_null(rule)) || (flag && !json_is_string(flag) && !json_is_null(flag)))
    return json_decref(j), NULL;
  return j;
}

/* A one-line record of the stage1's (`net`, `accelerator`); NULL if it did not write it. */
static char *stage1_line(struct pod *p, const char *name)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  char *text = NULL;
  if (fs_read_file_at(p->dirfd, name, 256, &text, NULL, &ignored) < 0)
    return NULL;
  text[strcspn(text, "\n")] = '\0';
  return text;
}

char *inspect_pod_network(struct pod *p)
{
  return stage1_line(p, "net");
}

char *inspect_pod_accelerator(struct pod *p)
{
  return stage1_line(p, "accelerator");
}

char *inspect_pod_private_users(struct pod *p)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  uid_t shift = 0;
  if (userns_read_pod(p->dirfd, &shift, &ignored) < 0 || !shift)
    return NULL;
  return xasprintf("%u:%u", (unsigned) shift, USERNS_RANGE);
}

json_t *inspect_pod_networks(struct pod *p)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_json_ json_t *info = NULL;
  size_t i;
  json_t *e;
  struct stat st;

  /* a pod's addresses are its own while its netns exists */
  if (fstatat(p->dirfd, CNI_NETNS_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      cni_net_info_read(p->dirfd, &info, &ignored) < 0 || !info)
    return NULL;
  json_t *v = json_array();
  json_array_foreach (json_object_get(info, "networks"), i, e)
    {
      _cleanup_strv_ char **ips = cni_net_addresses(e);
      json_t *a = json_array();
      for (size_t k = 0; ips && ips[k]; k++)
        json_array_append_new(a, json_string(ips[k]));
      json_array_append_new(v, json_pack("{s:O,s:O,s:o}", "name", json_object_get(e, "name"), "ifname",
                                         json_object_get(e, "ifname"), "ips", a));
    }
  return v;
}

bool inspect_pod_is_done(enum pod_state s)
{
  return s == POD_EXITED || s == POD_EXITED_GARBAGE || s == POD_GARBAGE || s == POD_ABORTED_PREPARE;
}

void inspect_set_time(json_t *o, const char *key, int64_t usec)
{
  _cleanup_free_ char *us = xasprintf("%s_us", key);
  if (usec <= 0)
    {
      json_object_set_new(o, key, json_null());
      json_object_set_new(o, us, json_null());
      return;
    }
  char buf[64];
  time_t t = (time_t) (usec / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%06dZ", (int) (usec % 1000000));
  json_object_set_new(o, key, json_string(buf));
  json_object_set_new(o, us, json_integer(usec));
}

static const char *app_state(enum pod_state s, const struct inspect_app *a)
{
  if (a->exit_code >= 0 || inspect_pod_is_done(s))
    return "exited";
  return s == POD_RUNNING ? "running" : "created";
}

/* The manifest's name/value lists as objects. */
static json_t *kvs_object(const json_t *list)
{
  json_t *o = json_object(), *kv;
  size_t k;
  json_array_foreach(list, k, kv)
  {
    const char *n = json_string_value(json_object_get(kv, "name"));
    json_t *v = json_object_get(kv, "value");
    if (n && json_is_string(v))
      json_object_set(o, n, v);
  }
  return o;
}

static json_t *apps_json(struct pod *p, const struct inspect_pod *i, json_t **ret_codes)
{
  json_t *apps = json_array(), *codes = json_object();
  for (size_t a = 0; a < i->n_apps; a++)
    {
      const struct inspect_app *app = &i->apps[a];
      json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", app->name, "image_name", app->image_name, "image_id",
                            app->image_id, "state", app_state(p->state, app), "exit_code",
                            app->exit_code >= 0 ? json_integer(app->exit_code) : json_null());
      inspect_set_time(o, "exited_at", app->exited);
      /* what the pod manifest gives the app (its app section, when it overrides the image's) */
      json_t *m = json_array_get(json_object_get(i->manifest, "apps"), a), *ma = json_object_get(m, "app");
      json_object_set_new(o, "annotations", kvs_object(json_object_get(m, "annotations")));
      json_object_set_new(o, "user_annotations", json_deep_copy(json_object_get(ma, "userAnnotations")) ?: json_object());
      json_object_set_new(o, "user_labels", json_deep_copy(json_object_get(ma, "userLabels")) ?: json_object());
      json_array_append_new(apps, o);
      if (app->exit_code >= 0)
        json_object_set_new(codes, app->name, json_integer(app->exit_code));
    }
  *ret_codes = codes;
  return apps;
}

static void stage1_json(json_t *o, json_t *rec)
{
  json_t *s1 = rec ? json_object_get(rec, "stage1") : NULL, *rule = rec ? json_object_get(rec, "rule") : NULL,
         *flag = rec ? json_object_get(rec, "flag") : NULL;
  json_object_set_new(o, "stage1", s1 ? json_incref(s1) : json_null());
  json_object_set_new(o, "stage1_rule", rule ? json_incref(rule) : json_null());
  json_object_set_new(o, "stage1_flag", flag ? json_incref(flag) : json_null());
}

json_t *inspect_pod_json(struct pod *p, const struct inspect_pod *i)
{
  _cleanup_free_ char *net = inspect_pod_network(p), *users = inspect_pod_private_users(p),
                      *accel = inspect_pod_accelerator(p);
  _cleanup_json_ json_t *rec = inspect_pod_stage1_record(p);
  json_t *codes = NULL, *apps = apps_json(p, i, &codes);
  json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:o}", "uuid", p->uuid, "name", p->uuid, "state",
                        pod_state_to_string(p->state), "exited", inspect_pod_is_done(p->state), "apps", apps,
                        "app_exit_codes", codes, "pid", i->pid > 0 ? json_integer(i->pid) : json_null());
  inspect_set_time(o, "created_at", i->created);
  inspect_set_time(o, "started_at", i->started);
  json_object_set_new(o, "network", net ? json_string(net) : json_null());
  json_object_set_new(o, "networks", inspect_pod_networks(p) ?: json_null());
  json_object_set_new(o, "private_users", users ? json_string(users) : json_null());
  json_object_set_new(o, "accelerator", accel ? json_string(accel) : json_null());
  stage1_json(o, rec);
  const json_t *m = i->manifest;
  json_object_set_new(o, "annotations", kvs_object(json_object_get(m, "annotations")));
  json_object_set_new(o, "user_annotations", json_deep_copy(json_object_get(m, "userAnnotations")) ?: json_object());
  json_object_set_new(o, "user_labels", json_deep_copy(json_object_get(m, "userLabels")) ?: json_object());
  return o;
}

/* Who signed it (trust): nulls for an image fetched unverified. */
json_t *inspect_image_signer_json(struct store *s, const char *id)
{
  struct store_signer sig = { 0 };
  _cleanup_error_ podrun_error_t e = NULL;
  if (s && store_get_signer(s, id, &sig, &e) < 0)
    log_debug("signer of %s: %s, ignoring", id, e->msg);
  json_t *j = json_pack("{s:o,s:o}", "signer_fingerprint", sig.fingerprint ? json_string(sig.fingerprint) : json_null(),
                        "signer_prefix", sig.fingerprint ? json_string(sig.prefix) : json_null());
  if (sig.fingerprint)
    inspect_set_time(j, "verified_time", sig.verified_time);
  else
    json_object_set_new(j, "verified_time", json_null());
  store_signer_done(&sig);
  return j;
}

json_t *inspect_image_json(struct store *s, const struct store_image *img)
{
  json_t *labels = NULL;
  _cleanup_error_ podrun_error_t e = NULL;
  if (img->labels && json_parse_untrusted(img->labels, strlen(img->labels), "labels", &labels, &e) < 0)
    labels = NULL;
  json_t *j = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:I,s:I,s:s?,s:s?,s:o}", "id", img->id, "name", img->name,
                        "version", img->version, "os", img->os, "arch", img->arch, "size", (json_int_t) img->size,
                        "shared_size", (json_int_t) img->shared, "format", img->format, "manifest_digest",
                        img->manifest_digest, "labels", labels ? kvs_object(labels) : json_object());
  json_decref(labels);
  inspect_set_time(j, "import_time", img->import_time);
  inspect_set_time(j, "last_used_time", img->last_used);
  json_object_update_missing_new(j, inspect_image_signer_json(s, img->id));
  return j;
}

int inspect_logs_read(struct pod *p, const char *app, char **ret, size_t *ret_len, size_t *ret_current,
                      podrun_error_t *err)
{
  _cleanup_free_ char *older = NULL, *cur = NULL;
  _cleanup_free_ char *older_path = xasprintf("logs/%s.log.1", app), *cur_path = xasprintf("logs/%s.log", app);
  size_t a = 0, b = 0;
  _cleanup_error_ podrun_error_t missing = NULL;

  if (p->state == POD_EMBRYO || p->state == POD_PREPARING || p->state == POD_ABORTED_PREPARE ||
      p->state == POD_PREPARED)
    return podrun_error_new(err, 0, "pod %s is %s, not running: it has no logs yet", p->uuid,
                            pod_state_to_string(p->state));
  struct stat st; /* not faccessat, which judges by the real uid: the API reads with a capability */
  if (fstatat(p->dirfd, "logs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    return podrun_error_new(err, 0, "pod %s keeps no logs (its stage1 does not; the nspawn stage1 does)", p->uuid);
  (void) fs_read_file_at(p->dirfd, older_path, 64 << 20, &older, &a, &missing);
  podrun_error_free(&missing);
  (void) fs_read_file_at(p->dirfd, cur_path, 64 << 20, &cur, &b, &missing);
  char *all = xmalloc(a + b + 1);
  if (a)
    memcpy(all, older, a);
  if (b)
    memcpy(all + a, cur, b);
  all[a + b] = '\0';
  *ret = all;
  *ret_len = a + b;
  if (ret_current)
    *ret_current = b;
  return 0;
}

void inspect_log_follow(struct inspect_log_cursor *c, int dirfd, const char *app, size_t current)
{
  struct stat st;
  *c = (struct inspect_log_cursor) { .dirfd = dirfd, .path = xasprintf("logs/%s.log", app) };
  if (fstatat(dirfd, c->path, &st, AT_SYMLINK_NOFOLLOW) == 0)
    c->ino = st.st_ino, c->off = (off_t) current;
}

ssize_t inspect_log_next(struct inspect_log_cursor *c, char *buf, size_t max)
{
  struct stat st;
  _cleanup_close_ int fd = openat(c->dirfd, c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return 0;
  if (st.st_ino != c->ino) /* rotated: the new file from its start */
    c->ino = st.st_ino, c->off = 0;
  ssize_t n = pread(fd, buf, max, c->off);
  if (n <= 0)
    return 0;
  c->off += n;
  return n;
}

void inspect_log_cursor_done(struct inspect_log_cursor *c)
{
  free(c->path);
  c->path = NULL;
}

bool inspect_pod_running(const char *pods_dir, const char *uuid)
{
  _cleanup_pod_ struct pod *now = NULL;
  _cleanup_error_ podrun_error_t gone = NULL;
  return pod_load(pods_dir, uuid, &now, &gone) == 0 && now->state == POD_RUNNING;
}

size_t inspect_tail_start(const char *buf, size_t len, long lines)
{
  size_t start = 0;
  if (lines == 0)
    return len;
  if (lines > 0)
    {
      long seen = 0;
      start = len && buf[len - 1] == '\n' ? len - 1 : len;
      while (start > 0 && !(buf[start - 1] == '\n' && ++seen == lines))
        start--;
    }
  return start;
}
