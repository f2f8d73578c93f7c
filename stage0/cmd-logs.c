/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun logs: what an app wrote to stdout and stderr, as its stage1 kept it
 * in the pod directory (logs/<app>.log, and <app>.log.1 before it). */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "pods.h"

static const char *arg_app, *arg_uuid_file, *arg_tail;
static bool arg_follow;

/* Writes the last `lines` lines of buf (all when lines < 0); a last line
 * without its newline counts as a line. */
static void print_tail(const char *buf, size_t len, long lines)
{
  size_t start = 0;
  if (lines == 0)
    start = len;
  else if (lines > 0)
    {
      long seen = 0;
      start = len && buf[len - 1] == '\n' ? len - 1 : len;
      while (start > 0 && !(buf[start - 1] == '\n' && ++seen == lines))
        start--;
    }
  fwrite(buf + start, 1, len - start, stdout);
}

static int read_logs(struct pod *p, const char *app, char **ret, size_t *ret_len, podrun_error_t *err)
{
  _cleanup_free_ char *older = NULL, *cur = NULL;
  _cleanup_free_ char *older_path = xasprintf("logs/%s.log.1", app), *cur_path = xasprintf("logs/%s.log", app);
  size_t a = 0, b = 0;
  _cleanup_error_ podrun_error_t missing = NULL;

  if (p->state == POD_EMBRYO || p->state == POD_PREPARING || p->state == POD_ABORTED_PREPARE ||
      p->state == POD_PREPARED)
    return podrun_error_new(err, 0, "pod %s is %s, not running: it has no logs yet", p->uuid,
                            pod_state_to_string(p->state));
  if (faccessat(p->dirfd, "logs", F_OK, 0) < 0)
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
  return 0;
}

/* --follow: what the log grows by, until the pod is no longer running. */
static int follow(struct pod *p, const char *app)
{
  _cleanup_free_ char *path = xasprintf("logs/%s.log", app);
  const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
  struct stat st;
  ino_t ino = 0;
  off_t off = 0;
  if (fstatat(p->dirfd, path, &st, 0) == 0)
    ino = st.st_ino, off = st.st_size;
  for (;;)
    {
      _cleanup_pod_ struct pod *now = NULL;
      _cleanup_error_ podrun_error_t gone = NULL;
      bool running = pod_load(p->pods_dir, p->uuid, &now, &gone) == 0 && now->state == POD_RUNNING;
      _cleanup_close_ int fd = openat(p->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd >= 0 && fstat(fd, &st) == 0)
        {
          if (st.st_ino != ino) /* rotated: the new file from its start */
            ino = st.st_ino, off = 0;
          char buf[16384];
          ssize_t n;
          while ((n = pread(fd, buf, sizeof(buf), off)) > 0)
            {
              fwrite(buf, 1, (size_t) n, stdout);
              off += n;
            }
          fflush(stdout);
        }
      if (!running)
        return 0;
      nanosleep(&tick, NULL);
    }
}

static int logs(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *app = NULL;
  _cleanup_pod_ struct pod *p = NULL;
  size_t len = 0;
  long lines = -1;

  if (arg_tail)
    {
      long long n;
      if (parse_int(arg_tail, 0, LONG_MAX, &n) < 0)
        return podrun_error_set(err, 0, "--tail=%s: expected a number of lines", ESCAPE(arg_tail));
      lines = (long) n;
    }
  if (pods_load_one(argc, argv, arg_uuid_file, &p, err) < 0 || pod_pick_app(p, arg_app, &app, err) < 0 ||
      read_logs(p, app, &text, &len, err) < 0)
    return -1;
  print_tail(text, len, lines);
  fflush(stdout);
  return arg_follow ? follow(p, app) : 0;
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
