/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun logs: what an app wrote to stdout and stderr, as its stage1 kept it
 * in the pod directory (logs/<app>.log, and <app>.log.1 before it). */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "inspect/inspect.h"
#include "pods.h"

static const char *arg_app, *arg_uuid_file, *arg_tail;
static bool arg_follow;

/* --follow: what the log grows by, until the pod is no longer running
 * (what the log has once it is over is the last of it). */
static int follow(struct pod *p, const char *app, size_t current)
{
  const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
  struct inspect_log_cursor c;
  char buf[16384];
  ssize_t n;

  inspect_log_follow(&c, p->dirfd, app, current);
  for (;;)
    {
      bool running = inspect_pod_running(p->pods_dir, p->uuid);
      while ((n = inspect_log_next(&c, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t) n, stdout);
      fflush(stdout);
      if (!running)
        break;
      nanosleep(&tick, NULL);
    }
  inspect_log_cursor_done(&c);
  return 0;
}

static int logs(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *app = NULL;
  _cleanup_pod_ struct pod *p = NULL;
  size_t len = 0, current = 0;
  long lines = -1;

  if (arg_tail)
    {
      long long n;
      if (parse_int(arg_tail, 0, LONG_MAX, &n) < 0)
        return podrun_error_set(err, 0, "--tail=%s: expected a number of lines", ESCAPE(arg_tail));
      lines = (long) n;
    }
  if (pods_load_one(argc, argv, arg_uuid_file, &p, err) < 0 || pod_pick_app(p, arg_app, &app, err) < 0 ||
      inspect_logs_read(p, app, &text, &len, &current, err) < 0)
    return -1;
  size_t start = inspect_tail_start(text, len, lines);
  fwrite(text + start, 1, len - start, stdout);
  fflush(stdout);
  return arg_follow ? follow(p, app, current) : 0;
}

static const struct opt logs_opts[] = {
  { "app", OPT_STRING, &arg_app, "the app whose output to show (needed when the pod has several)", "NAME" },
  { "follow", OPT_BOOL, &arg_follow, "keep printing what the app writes, until the pod exits", NULL },
  { "tail", OPT_STRING, &arg_tail, "only the last N lines", "N" },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read the pod's UUID from this file", "FILE" },
  { NULL },
};

const struct cmd cmd_logs = {
  "logs", logs, "UUID", "Show what a pod's app wrote",
  "Prints the app's stdout and stderr as its stage1 kept them in the pod directory\n"
  "(logs/<app>.log, capped at 4 MiB, and the 4 MiB before it), also after the pod exited.\n"
  "The nspawn stage1 keeps logs; fly does not. UUID may be a unique prefix.\n\n"
  "Examples:\n  podrun logs 5f0b\n  podrun logs --app=web --tail=20 --follow 5f0b",
  logs_opts, NULL, 0, 1, 0,
};
