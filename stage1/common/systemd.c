/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod init's part of running under systemd (Documentation/systemd.md), for
 * a flavor whose host side passes it the init's arguments of stage1.h: the
 * apps' lines to the journal socket, the passed sockets to their app, each
 * app's NOTIFY_SOCKET. The host side relays; the init only hands over. */
#include "stage1.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "log.h"
#include "util.h"
#include "stage2/stage2.h"

static int journal_fd = -1;
static bool journal_only;

struct sd_listen
{
  char *app;
  int first;
  unsigned n;
  char *names;
};
static struct sd_listen *listens;
static size_t n_listens;

struct sd_notify_arg
{
  char *app;
  char *value; /* the path; for a watchdog, the usec */
};
static struct sd_notify_arg *notifies, *watchdogs;
static size_t n_notifies, n_watchdogs;

/* APP:VALUE into *v; false when it is not that. */
static bool app_value(const char *s, bool (*ok)(const char *), struct sd_notify_arg **v, size_t *n)
{
  const char *colon = strchr(s, ':');
  if (!colon || colon == s || !ok(colon + 1))
    return false;
  *v = xrealloc(*v, sizeof(**v) * (*n + 1));
  (*v)[(*n)++] = (struct sd_notify_arg) { xstrndup(s, (size_t) (colon - s)), xstrdup(colon + 1) };
  return true;
}

static bool is_absolute(const char *s)
{
  return s[0] == '/';
}

static bool is_usec(const char *s)
{
  unsigned long long u;
  return parse_uint(s, UINT64_MAX, &u) == 0 && u > 0;
}

static unsigned n_passed; /* LISTEN_FDS, the lifeline included */

void stage1_sd_passed_fds(unsigned n)
{
  n_passed = n;
}

/* A passed fd the init may use: one after the lifeline of those LISTEN_FDS counted. */
static bool passed_fd(long long fd)
{
  return fd > STAGE1_LIFELINE_FD && fd < STAGE1_LIFELINE_FD + (long long) n_passed;
}

static bool parse_listen(const char *v)
{
  /* APP:FIRST:COUNT:NAMES */
  const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
  _cleanup_free_ char *first_s = c2 ? xstrndup(c1 + 1, (size_t) (c2 - c1 - 1)) : NULL;
  _cleanup_free_ char *n_s = c3 ? xstrndup(c2 + 1, (size_t) (c3 - c2 - 1)) : NULL;
  unsigned long long first, n;
  if (!c3 || parse_uint(first_s, 1024, &first) < 0 || parse_uint(n_s, 64, &n) < 0 || n == 0 ||
      !passed_fd((long long) first) || !passed_fd((long long) (first + n - 1)))
    {
      log_error("%s=%s: ignored (not APP:FIRST:COUNT:NAMES of passed fds)", STAGE1_LISTEN_FDS, ESCAPE(v));
      return true;
    }
  listens = xrealloc(listens, sizeof(*listens) * (n_listens + 1));
  listens[n_listens++] =
    (struct sd_listen) { xstrndup(v, (size_t) (c1 - v)), (int) first, (unsigned) n, xstrdup(c3 + 1) };
  return true;
}

bool stage1_sd_arg(const char *arg)
{
  const char *v;
  if ((v = startswith(arg, STAGE1_JOURNAL_FD "=")))
    {
      unsigned long long fd;
      if (parse_uint(v, 1024, &fd) == 0 && passed_fd((long long) fd))
        journal_fd = (int) fd;
      else
        log_error("%s: ignored (not a passed fd)", ESCAPE(arg));
      return true;
    }
  if (streq(arg, STAGE1_JOURNAL_ONLY))
    return journal_only = true;
  if ((v = startswith(arg, STAGE1_LISTEN_FDS "=")))
    return parse_listen(v);
  if ((v = startswith(arg, STAGE1_NOTIFY_SOCKET "=")))
    {
      if (!app_value(v, is_absolute, &notifies, &n_notifies))
        log_error("%s: ignored (not APP:PATH)", ESCAPE(arg));
      return true;
    }
  if ((v = startswith(arg, STAGE1_WATCHDOG_USEC "=")))
    {
      if (!app_value(v, is_usec, &watchdogs, &n_watchdogs))
        log_error("%s: ignored (not APP:USEC)", ESCAPE(arg));
      return true;
    }
  return false;
}

bool stage1_sd_journal_only(void)
{
  return journal_fd >= 0 && journal_only;
}

void stage1_sd_journal(size_t app, int stream, const char *buf, size_t len)
{
  if (journal_fd < 0 || app > 0xffff)
    return;
  while (len > 0)
    {
      const char *nl = memchr(buf, '\n', len);
      size_t n = nl ? (size_t) (nl - buf) : len;
      char rec[3 + 4096];
      if (n > sizeof(rec) - 3)
        n = sizeof(rec) - 3;
      rec[0] = (char) (app & 0xff);
      rec[1] = (char) (app >> 8);
      rec[2] = (char) stream;
      memcpy(rec + 3, buf, n);
      /* never blocks the pod: a full socket (the host side stuck) loses the
       * line for the journal; the app's log has it */
      (void) send(journal_fd, rec, 3 + n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (nl && (size_t) (nl - buf) == n)
        n++;
      buf += n;
      len -= n;
    }
}

static const struct sd_listen *find_listen(const char *app)
{
  for (size_t i = 0; i < n_listens; i++)
    if (streq(listens[i].app, app))
      return &listens[i];
  return NULL;
}

int stage1_sd_child_fds(const char *app)
{
  const struct sd_listen *l = find_listen(app);
  for (unsigned k = 0; l && k < l->n; k++)
    if (dup2(l->first + (int) k, STAGE1_LIFELINE_FD + (int) k) < 0)
      return -1;
  return 0;
}

void stage1_sd_stage2_args(const char *app, struct stage2_args *a)
{
  const struct sd_listen *l = find_listen(app);
  if (l)
    {
      a->listen_fds = l->n;
      a->listen_fdnames = l->names;
    }
  for (size_t i = 0; i < n_notifies; i++)
    if (streq(notifies[i].app, app))
      a->notify_socket = notifies[i].value;
  for (size_t i = 0; i < n_watchdogs; i++)
    if (streq(watchdogs[i].app, app))
      a->watchdog_usec = watchdogs[i].value;
}
