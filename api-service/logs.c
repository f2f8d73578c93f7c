/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /v1/pods/{uuid}/logs?app=&tail=&follow=: an app's output as its stage1
 * kept it in the pod directory (what `podrun logs` prints), and with
 * follow=true what it writes next, until the pod is no longer running. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "inspect/inspect.h"
#include "pod.h"
#include "service.h"

static int pick_app(struct pod *p, const char *app, char **ret, podrun_error_t *err)
{
  struct inspect_pod i;
  int r = 0;
  if (inspect_pod_read(p, &i, err) < 0)
    return (*err)->status = 500, -1;
  if (app)
    {
      size_t k = 0;
      while (k < i.n_apps && !streq(i.apps[k].name, app))
        k++;
      if (k == i.n_apps)
        r = api_fail(err, 404, "pod %s has no app %s", p->uuid, QUOTE(app));
    }
  else if (i.n_apps != 1)
    r = api_fail(err, 400, "pod %s has %zu apps: say which with app=NAME", p->uuid, i.n_apps);
  if (r >= 0)
    *ret = xstrdup(app ? app : i.apps[0].name);
  inspect_pod_done(&i);
  return r;
}

static int parse_bool(const char *v, bool *ret)
{
  if (!v)
    return *ret = false, 0;
  if (streq(v, "1") || streq(v, "true") || streq(v, "yes") || !*v)
    return *ret = true, 0;
  if (streq(v, "0") || streq(v, "false") || streq(v, "no"))
    return *ret = false, 0;
  return -1;
}

struct follow
{
  char *pods_dir;
  char uuid[UUID_STRING_LEN + 1];
  int dirfd; /* the pod directory, as it was opened */
  struct inspect_log_cursor log;
  char *pending; /* what is still to send of the tail */
  size_t pending_len, pending_off;
  unsigned idle; /* reads that found nothing */
  bool ended;
};

static void follow_free(void *state)
{
  struct follow *f = state;
  inspect_log_cursor_done(&f->log);
  if (f->dirfd >= 0)
    close(f->dirfd);
  free(f->pods_dir);
  free(f->pending);
  free(f);
}

static ssize_t follow_read(void *state, char *buf, size_t max)
{
  struct follow *f = state;

  if (f->pending_off < f->pending_len)
    {
      size_t n = f->pending_len - f->pending_off < max ? f->pending_len - f->pending_off : max;
      memcpy(buf, f->pending + f->pending_off, n);
      f->pending_off += n;
      return (ssize_t) n;
    }
  /* the pod's state first: what the log has when it is over is the last of it */
  bool over = f->ended || ((f->idle % 4) == 3 && !inspect_pod_running(f->pods_dir, f->uuid));
  ssize_t n = inspect_log_next(&f->log, buf, max);
  if (n > 0)
    {
      f->idle = 0;
      f->ended = over;
      return n;
    }
  if (over)
    return -1;
  f->idle++;
  return 0;
}

int api_pod_logs(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                 podrun_error_t *err)
{
  static const char *const known[] = { "app", "tail", "follow", NULL };
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *app = NULL, *text = NULL;
  const char *tail = api_request_param(req, "tail");
  unsigned long long lines = 0;
  bool follow = false;
  size_t len = 0;

  if (api_request_check_params(req, known, err) < 0)
    return -1;
  if (tail && parse_uint(tail, LONG_MAX, &lines) < 0)
    return api_fail(err, 400, "bad parameter tail=%s: expected a number of lines", QUOTE(tail));
  if (parse_bool(api_request_param(req, "follow"), &follow) < 0)
    return api_fail(err, 400, "bad parameter follow=%s: expected true or false", QUOTE(api_request_param(req, "follow")));
  if (api_load_pod(ctx, args[0], &p, err) < 0 || pick_app(p, api_request_param(req, "app"), &app, err) < 0)
    return -1;
  size_t current = 0;
  if (inspect_logs_read(p, app, &text, &len, &current, err) < 0)
    return (*err)->status = 404, -1;
  size_t start = inspect_tail_start(text, len, tail ? (long) lines : -1);
  ret->content_type = "text/plain; charset=utf-8";
  if (!follow)
    {
      ret->text = xstrndup(text + start, len - start);
      ret->text_len = len - start;
      return 0;
    }
  struct follow *f = xzalloc(sizeof(*f));
  f->pods_dir = xstrdup(ctx->pods_dir);
  snprintf(f->uuid, sizeof(f->uuid), "%s", p->uuid);
  f->dirfd = TAKE_FD(p->dirfd);
  inspect_log_follow(&f->log, f->dirfd, app, current); /* on from where the read ended */
  f->pending = xstrndup(text + start, len - start);
  f->pending_len = len - start;
  ret->stream = follow_read;
  ret->stream_free = follow_free;
  ret->stream_state = f;
  return 0;
}
