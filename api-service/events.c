/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /v1/events[?since=TIME]: a Server-Sent Events stream of what happens
 * to pods and images, derived from the pods directory and the image index:
 * inotify says when a state directory or the index changed, and a scan of
 * both, compared with the last, says what happened. A pod's exit moves no
 * directory (its stage1 lets go of its lock), so while a pod is running or
 * starting the scan also runs every half second. Each event:
 *
 *   id: N
 *   event: pod-started
 *   data: {"type":"pod-started","uuid":…,"state":"running","time":…,"time_us":…}
 *
 * Types: pod-created, pod-prepared, pod-started, pod-exited, pod-garbage,
 * pod-removed, image-added, image-removed. A pod that went through several
 * states between two scans gets each event its records imply, in order.
 * since=TIME first replays what the pod directories and the index still
 * record from that time on (created, started, exited; images imported). */
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>

#include "inspect/inspect.h"
#include "json-util.h"
#include "pod.h"
#include "service.h"
#include "store/store.h"

#define KEEPALIVE_USEC (15 * 1000000LL)
#define BUSY_SCAN_USEC (500 * 1000LL)
#define IDLE_SCAN_USEC (5 * 1000000LL)

struct seen
{
  char uuid[UUID_STRING_LEN + 1];
  enum pod_state state;
  bool started, exited; /* events sent */
};

struct events
{
  struct api_context *ctx;
  int inotify_fd;
  struct seen *pods;
  size_t n_pods;
  char **images;
  unsigned long long seq;
  char *out;        /* to send */
  size_t out_len, out_off;
  int64_t last_scan, last_write;
  bool busy;        /* a pod is running or starting */
  json_t *replay;   /* while replaying: the events, to send in time order */
};

static int64_t now_mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_real(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void emit(struct events *e, json_t *data)
{
  if (e->replay)
    {
      json_array_append_new(e->replay, data);
      return;
    }
  _cleanup_free_ char *text = json_dump_sorted(data, false);
  const char *type = json_string_value(json_object_get(data, "type"));
  _cleanup_free_ char *ev = xasprintf("id: %llu\nevent: %s\ndata: %s\n\n", ++e->seq, type, text);
  size_t n = strlen(ev);
  e->out = xrealloc(e->out, e->out_len + n + 1);
  memcpy(e->out + e->out_len, ev, n + 1);
  e->out_len += n;
  json_decref(data);
}

static json_t *event_json(const char *type, const char *key, const char *value, int64_t usec)
{
  json_t *o = json_pack("{s:s,s:s}", "type", type, key, value);
  inspect_set_time(o, "time", usec ? usec : now_real());
  return o;
}

static void emit_pod(struct events *e, const char *type, struct pod *p, int64_t usec)
{
  json_t *o = event_json(type, "uuid", p ? p->uuid : "", usec);
  if (p)
    json_object_set_new(o, "state", json_string(pod_state_to_string(p->state)));
  emit(e, o);
}

/* When the pod's last app exited, by its records; 0 if unknown. */
static int64_t exited_time(const struct inspect_pod *i)
{
  int64_t t = 0;
  for (size_t k = 0; k < i->n_apps; k++)
    if (i->apps[k].exited > t)
      t = i->apps[k].exited;
  return t;
}

static bool state_started(enum pod_state s)
{
  return s == POD_RUNNING || s == POD_EXITED || s == POD_EXITED_GARBAGE;
}

static bool state_exited(enum pod_state s)
{
  return s == POD_EXITED || s == POD_EXITED_GARBAGE;
}

/* The events that take a pod from what was seen of it (old; NULL: new) to now. */
static void pod_changed(struct events *e, struct seen *old, struct pod *p, bool replay, int64_t since)
{
  struct inspect_pod i = { 0 };
  _cleanup_error_ podrun_error_t ignored = NULL;
  bool have = inspect_pod_read(p, &i, &ignored) == 0;
  int64_t created = have ? i.created : 0, started = have ? i.started : 0, exited = have ? exited_time(&i) : 0;
  bool fresh = !old;
  struct seen s = { .state = p->state };

  snprintf(s.uuid, sizeof(s.uuid), "%s", p->uuid);
  if (old)
    s = *old, s.state = p->state;
  if (fresh && (!replay || created >= since))
    emit_pod(e, "pod-created", p, created);
  if ((fresh || old->state != p->state) && p->state == POD_PREPARED && !replay)
    emit_pod(e, "pod-prepared", p, 0);
  if (!s.started && state_started(p->state))
    {
      if (!replay || started >= since)
        emit_pod(e, "pod-started", p, started);
      s.started = true;
    }
  if (!s.exited && state_exited(p->state))
    {
      if (!replay || (exited ?: started) >= since)
        emit_pod(e, "pod-exited", p, exited);
      s.exited = true;
    }
  if (!fresh && old->state != p->state && (p->state == POD_GARBAGE || p->state == POD_EXITED_GARBAGE))
    emit_pod(e, "pod-garbage", p, 0);
  inspect_pod_done(&i);
  if (old)
    *old = s;
  else
    {
      e->pods = xrealloc(e->pods, sizeof(*e->pods) * (e->n_pods + 1));
      e->pods[e->n_pods++] = s;
    }
}

static struct seen *find_seen(struct events *e, const char *uuid)
{
  for (size_t k = 0; k < e->n_pods; k++)
    if (streq(e->pods[k].uuid, uuid))
      return &e->pods[k];
  return NULL;
}

static void scan_pods(struct events *e, bool quiet, bool replay, int64_t since)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  struct pod **v = NULL;
  size_t n = 0;
  if (pod_list(e->ctx->pods_dir, &v, &n, &ignored) < 0)
    return;
  bool *present = xzalloc(sizeof(bool) * (e->n_pods + n + 1));
  e->busy = false;
  for (size_t k = 0; k < n; k++)
    {
      struct seen *old = find_seen(e, v[k]->uuid);
      if (old)
        present[old - e->pods] = true;
      if (quiet)
        {
          struct seen s = { .state = v[k]->state, .started = state_started(v[k]->state),
                            .exited = state_exited(v[k]->state) };
          snprintf(s.uuid, sizeof(s.uuid), "%s", v[k]->uuid);
          e->pods = xrealloc(e->pods, sizeof(*e->pods) * (e->n_pods + 1));
          e->pods[e->n_pods++] = s;
          present[e->n_pods - 1] = true;
        }
      else if (!old || old->state != v[k]->state || (!old->exited && state_exited(v[k]->state)))
        {
          pod_changed(e, old, v[k], replay, since);
          if (!old)
            present[e->n_pods - 1] = true;
        }
      enum pod_state s = v[k]->state;
      if (s == POD_RUNNING || s == POD_EMBRYO || s == POD_PREPARING || s == POD_PREPARED)
        e->busy = true;
    }
  /* the pods not there any more */
  size_t kept = 0;
  for (size_t k = 0; k < e->n_pods; k++)
    {
      if (!present[k])
        {
          json_t *o = event_json("pod-removed", "uuid", e->pods[k].uuid, 0);
          emit(e, o);
          continue;
        }
      e->pods[kept++] = e->pods[k];
    }
  e->n_pods = kept;
  free(present);
  pod_list_free(v, n);
}

struct image_scan
{
  struct store_image **v;
  size_t n;
};

static int images_in(struct store *s, void *data, bool again, podrun_error_t *err)
{
  struct image_scan *is = data;
  store_image_list_free(is->v, is->n);
  is->v = NULL, is->n = 0;
  return s ? store_list(s, &is->v, &is->n, err) : 0;
}

static void scan_images(struct events *e, bool quiet, bool replay, int64_t since)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  struct image_scan is = { 0 };
  char **now = NULL;

  if (api_with_store(e->ctx, images_in, &is, &ignored) < 0)
    return;
  for (size_t k = 0; k < is.n; k++)
    {
      struct store_image *img = is.v[k];
      now = strv_push(now, img->id);
      if (!quiet && !strv_contains(e->images, img->id) && (!replay || img->import_time >= since))
        {
          json_t *o = event_json("image-added", "id", img->id, replay ? img->import_time : 0);
          json_object_set_new(o, "name", json_string(img->name));
          emit(e, o);
        }
    }
  for (char **id = e->images; !quiet && id && *id; id++)
    if (!strv_contains(now, *id))
      emit(e, event_json("image-removed", "id", *id, 0));
  strv_free(e->images);
  e->images = now;
  store_image_list_free(is.v, is.n);
}

static void scan(struct events *e)
{
  scan_pods(e, false, false, 0);
  scan_images(e, false, false, 0);
  e->last_scan = now_mono();
}

static void watch(struct events *e)
{
  static const char *const dirs[] = { "embryo", "prepare", "prepared", "run", "exited-garbage", "garbage" };
  for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
    {
      _cleanup_free_ char *d = xasprintf("%s/%s", e->ctx->pods_dir, dirs[k]);
      (void) inotify_add_watch(e->inotify_fd, d, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR);
    }
  _cleanup_free_ char *cas = xasprintf("%s/cas", e->ctx->dir);
  (void) inotify_add_watch(e->inotify_fd, cas, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR);
  (void) inotify_add_watch(e->inotify_fd, e->ctx->pods_dir, IN_CREATE | IN_ONLYDIR);
  (void) inotify_add_watch(e->inotify_fd, e->ctx->dir, IN_CREATE | IN_ONLYDIR);
}

static bool notified(struct events *e)
{
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  bool any = false;
  while (read(e->inotify_fd, buf, sizeof(buf)) > 0)
    any = true;
  if (any)
    watch(e); /* a state directory or cas/ made since */
  return any;
}

static ssize_t events_read(void *state, char *buf, size_t max)
{
  struct events *e = state;
  int64_t now = now_mono();

  if (e->out_off == e->out_len)
    {
      e->out_off = e->out_len = 0;
      struct pollfd p = { .fd = e->inotify_fd, .events = POLLIN };
      (void) poll(&p, 1, 200);
      if (notified(e) || now - e->last_scan >= (e->busy ? BUSY_SCAN_USEC : IDLE_SCAN_USEC))
        scan(e);
      if (e->out_len == 0 && now - e->last_write >= KEEPALIVE_USEC)
        {
          free(e->out);
          e->out = xstrdup(": keepalive\n\n");
          e->out_len = strlen(e->out);
        }
    }
  if (e->out_off == e->out_len)
    return 0;
  size_t n = e->out_len - e->out_off < max ? e->out_len - e->out_off : max;
  memcpy(buf, e->out + e->out_off, n);
  e->out_off += n;
  e->last_write = now;
  return (ssize_t) n;
}

static void events_free(void *state)
{
  struct events *e = state;
  if (e->inotify_fd >= 0)
    close(e->inotify_fd);
  free(e->pods);
  strv_free(e->images);
  free(e->out);
  free(e);
}

/* Events of a replay in time order; those of one time keep their order (created before started). */
struct ordered
{
  json_t *event;
  size_t index;
};

static int by_time(const void *a, const void *b)
{
  const struct ordered *x = a, *y = b;
  json_int_t tx = json_integer_value(json_object_get(x->event, "time_us")),
             ty = json_integer_value(json_object_get(y->event, "time_us"));
  if (tx != ty)
    return tx < ty ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

int api_events(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
               podrun_error_t *err)
{
  static const char *const known[] = { "since", NULL };
  const char *since_s = api_request_param(req, "since");
  int64_t since = 0;

  if (api_request_check_params(req, known, err) < 0)
    return -1;
  if (since_s && api_parse_time(since_s, &since) < 0)
    return api_fail(err, 400, "bad parameter since=%s: expected an RFC 3339 time or unix seconds", QUOTE(since_s));
  struct events *e = xzalloc(sizeof(*e));
  e->ctx = ctx;
  e->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (e->inotify_fd < 0)
    {
      free(e);
      return podrun_error_set(err, errno, "inotify"), (*err)->status = 503, -1;
    }
  watch(e);
  /* what there is now: replayed from its records since `since`, or only noted */
  e->replay = since_s ? json_array() : NULL;
  scan_pods(e, !since_s, since_s != NULL, since);
  scan_images(e, !since_s, since_s != NULL, since);
  if (e->replay)
    {
      json_t *all = TAKE_PTR(e->replay);
      size_t n = json_array_size(all);
      struct ordered *v = xzalloc(sizeof(*v) * (n + 1));
      for (size_t k = 0; k < n; k++)
        v[k] = (struct ordered){ json_incref(json_array_get(all, k)), k };
      qsort(v, n, sizeof(*v), by_time);
      for (size_t k = 0; k < n; k++)
        emit(e, v[k].event);
      free(v);
      json_decref(all);
    }
  e->last_scan = e->last_write = now_mono();
  /* a comment first, so the client sees the stream open at once */
  _cleanup_free_ char *replayed = e->out;
  e->out = xasprintf(": podrun-api events\n\n%s", replayed ? replayed : "");
  e->out_len = strlen(e->out);
  ret->content_type = "text/event-stream";
  ret->stream = events_read;
  ret->stream_free = events_free;
  ret->stream_state = e;
  return 0;
}
