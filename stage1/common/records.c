/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records a pod leaves in its pod directory (status/<app>, and the pod
 * init's runtime directory) and what the host side of run reads in them. */
#include "stage1.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"

int stage1_exit_code(int status)
{
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int stage1_write_code(const char *path, int code, podrun_error_t *err)
{
  _cleanup_free_ char *text = xasprintf("%d\n", code);
  return fs_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644, err);
}

int stage1_read_code(const char *path)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *text = NULL;
  char *end = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 64, &text, NULL, &ignored) < 0)
    return -1;
  errno = 0;
  long v = strtol(text, &end, 10);
  return errno == 0 && end != text && (*end == '\n' || *end == '\0') && v >= 0 && v <= 255 ? (int) v : -1;
}

int stage1_read_pod(const char *path, struct appc_pod_manifest **ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (fs_read_file_at(AT_FDCWD, path, JSON_MAX_INPUT, &text, &len, err) < 0)
    return -1;
  return appc_pod_manifest_parse(text, len, ret, err);
}

int stage1_wait_ready(const char *runtime, pid_t helper, int *status, podrun_error_t *err)
{
  _cleanup_free_ char *ready = xasprintf("%s/" STAGE1_READY, runtime);
  _cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), pidfd = pidfd_open(helper, 0);
  if (in < 0 || pidfd < 0 || inotify_add_watch(in, runtime, IN_CREATE | IN_MOVED_TO) < 0)
    return podrun_error_set(err, errno, "watch the pod init");
  for (;;)
    {
      if (access(ready, F_OK) == 0) /* after the watch: no event is missed */
        return 1;
      struct pollfd fds[] = { { .fd = in, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      if (poll(fds, ELEMENTSOF(fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return podrun_error_set(err, errno, "wait for the pod init");
        }
      if (fds[1].revents)
        {
          while (waitpid(helper, status, 0) < 0)
            if (errno != EINTR)
              return podrun_error_set(err, errno, "wait for the pod's process %d", (int) helper);
          return 0;
        }
      char events[4096];
      while (read(in, events, sizeof(events)) > 0)
        ;
    }
}

/* The app's code as the init recorded it into *ret; for an app it did not
 * record while it was killed, 137, recorded now (the kernel ended the app
 * with the init's pid namespace, or the flavor's end of the pod did); -1 for
 * one it never started. */
static int app_code(const char *app, bool init_killed, int *ret, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("status/%s", app);
  *ret = stage1_read_code(path);
  if (*ret >= 0 || !init_killed)
    return 0; /* recorded; or never started: a pre-start handler before it failed */
  log_debug("app %s: no exit recorded by the pod init: killed with it", QUOTE(app));
  if (stage1_write_code(path, 128 + SIGKILL, err) < 0)
    return podrun_error_wrap(err, "app %s", QUOTE(app));
  *ret = 128 + SIGKILL;
  return 0;
}

int stage1_pod_exit_code(const struct appc_pod_manifest *m, const char *runtime, int *ret_exit, podrun_error_t *err)
{
  _cleanup_free_ char *exit_code = xasprintf("%s/" STAGE1_EXIT_CODE, runtime);
  _cleanup_free_ char *done = xasprintf("%s/" STAGE1_DONE, runtime);
  int code = -1, first_failed = stage1_read_code(exit_code);
  bool init_killed = access(done, F_OK) < 0;

  for (size_t i = 0; i < m->n_apps; i++)
    {
      int c;
      if (app_code(m->apps[i].name, init_killed, &c, err) < 0)
        return -1;
      if (c > 0 && code < 0)
        code = c;
    }
  /* the first app to fail, as the init saw it; without its record (it died
   * first), the first failed app in the manifest */
  *ret_exit = first_failed >= 0 ? first_failed : code >= 0 ? code : 0;
  return 0;
}
