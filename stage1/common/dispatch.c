/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The contract's plumbing every flavor's binaries share: which entrypoint
 * argv[0] names, the lock fd, stop's and enter's arguments. */
#include "stage1.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "log.h"
#include "pod.h"

/* "run, init, stop or gc": the names of the table, for the refusal. */
static char *entrypoint_names(const struct stage1_entrypoint *table, size_t n)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f)
    abort(); /* out of memory, as x*alloc */
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", table[i].name);
  fclose(f);
  return s;
}

int stage1_main(const struct stage1_entrypoint *table, size_t n, int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *copy = xstrdup(argc > 0 ? argv[0] : "");
  const char *what = basename(copy);
  int code = 0, r;
  size_t i = 0;

  while (i < n && table[i].name && !streq(table[i].name, what))
    i++;
  log_set_program(i < n ? table[i].program : "podrun-stage1");
  if (i < n)
    r = table[i].run(argc, argv, &code, &err);
  else
    {
      _cleanup_free_ char *names = entrypoint_names(table, n);
      r = podrun_error_new(&err, 0, "called as %s: not %s", QUOTE(what), names);
    }
  if (r < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return code;
}

int stage1_as_if_executed(const char *program)
{
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  if (!d)
    return -1;
  /* closing while reading the directory is fine: an fd already read is
   * not read again, and none is opened meanwhile */
  while ((de = readdir(d)))
    {
      int fd = atoi(de->d_name), flags;
      if (de->d_name[0] != '.' && fd != dirfd(d) && (flags = fcntl(fd, F_GETFD)) >= 0 && (flags & FD_CLOEXEC))
        close(fd);
    }
  for (int sig = 1; sig < NSIG; sig++)
    {
      struct sigaction sa;
      if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
        (void) signal(sig, SIG_DFL);
    }
  log_set_program(program);
  (void) prctl(PR_SET_NAME, program);
  return 0;
}

int stage1_lock_fd(podrun_error_t *err)
{
  const char *fd = getenv("PODRUN_LOCK_FD");
  if (!fd)
    return podrun_error_new(err, 0, "run: no PODRUN_LOCK_FD (run me through podrun)");
  int lock = atoi(fd);
  /* the run entrypoint holds the pod's lock for the pod's life; nothing it starts does */
  (void) fcntl(lock, F_SETFD, FD_CLOEXEC);
  return lock;
}

int stage1_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  bool force = argc > 2 && streq(argv[1], "--force");
  pid_t pid = pod_read_pid(AT_FDCWD);
  if (pid <= 0)
    return podrun_error_new(err, 0, "stop: the pod has no pid (yet)");
  if (kill(pid, force ? SIGKILL : SIGTERM) < 0 && errno != ESRCH)
    return podrun_error_set(err, errno, "signal %d", (int) pid);
  *ret_exit = 0;
  return 0;
}

int stage1_enter_args(int argc, char **argv, const char **ret_pid, const char **ret_app, int *ret_cmd,
                      podrun_error_t *err)
{
  const char *pid = NULL, *app = NULL;
  int i;
  for (i = 1; i < argc && !streq(argv[i], "--"); i++)
    {
      const char *v;
      if ((v = startswith(argv[i], "--pid=")))
        pid = v;
      else if ((v = startswith(argv[i], "--app=")))
        app = v;
    }
  if (!pid || !app || i + 1 >= argc)
    return podrun_error_new(err, 0, "usage: enter --pid=PID --app=NAME -- CMD [ARGS…]");
  *ret_pid = pid;
  *ret_app = app;
  *ret_cmd = i;
  return 0;
}
