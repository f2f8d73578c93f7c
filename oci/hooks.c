/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime spec's hooks: each runs on the host, in podrun-oci's
 * namespaces (the runtime namespace), with the container's state on its
 * stdin, in a process group of its own; a hook that fails (or outlives its
 * timeout, and is killed with its group) is the verb's error. */
#include "oci.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"

static char **strings(json_t *a, const char *first)
{
  char **v = first ? strv_push(NULL, first) : NULL;
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    v = strv_push(v, json_string_value(e));
  return v ? v : strv_push(NULL, "");
}

static _noreturn_ void exec_hook(const char *path, char **args, char **env, int in)
{
  /* a group of its own: its timeout ends what it started too */
  if (setpgid(0, 0) < 0 || dup2(in, STDIN_FILENO) < 0)
    _exit(127);
  /* the hook's stdout goes where our stderr does: ours is the caller's */
  (void) dup2(STDERR_FILENO, STDOUT_FILENO);
  execve(path, args, env);
  _exit(127);
}

/* Waits for pid for at most timeout seconds (0: no limit); SIGKILL then. */
static int wait_hook(pid_t pid, int timeout, int *status)
{
  struct timespec end, now;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += timeout;
  for (;;)
    {
      pid_t r = waitpid(pid, status, timeout ? WNOHANG : 0);
      if (r == pid)
        return 0;
      if (r < 0 && errno != EINTR)
        return -1;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (timeout && (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)))
        {
          (void) kill(-pid, SIGKILL);
          (void) kill(pid, SIGKILL);
          (void) waitpid(pid, status, 0);
          return 1;
        }
      if (timeout)
        poll(NULL, 0, 10);
    }
}

static int run_one(json_t *h, const char *kind, size_t i, const char *state, podrun_error_t *err)
{
  const char *path = json_string_value(json_object_get(h, "path"));
  json_t *args = json_object_get(h, "args");
  _cleanup_strv_ char **argv = json_array_size(args) ? strings(args, NULL) : strv_push(NULL, path);
  _cleanup_strv_ char **env = strings(json_object_get(h, "env"), NULL);
  int timeout = (int) json_integer_value(json_object_get(h, "timeout")), status = 0;
  int pipefd[2];

  if (!json_array_size(json_object_get(h, "env")))
    {
      strv_free(env);
      env = NULL;
    }
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "hooks.%s[%zu]: pipe", kind, i);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return close(pipefd[0]), close(pipefd[1]), podrun_error_set(err, errno, "hooks.%s[%zu]: fork", kind, i);
  if (pid == 0)
    exec_hook(path, argv, env ? env : (char *[]){ NULL }, pipefd[0]);
  (void) setpgid(pid, pid); /* (either side may be first) */
  close(pipefd[0]);
  signal(SIGPIPE, SIG_IGN); /* a hook that reads nothing */
  _cleanup_error_ podrun_error_t ignored = NULL;
  (void) fs_write_all(pipefd[1], state, strlen(state), &ignored);
  close(pipefd[1]);
  int r = wait_hook(pid, timeout, &status);
  if (r > 0)
    return podrun_error_new(err, 0, "hooks.%s[%zu] %s: killed after its timeout of %ds", kind, i, QUOTE(path),
                            timeout);
  if (r < 0)
    return podrun_error_set(err, errno, "hooks.%s[%zu]: wait", kind, i);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(path, X_OK) < 0)
    return podrun_error_new(err, 0, "hooks.%s[%zu] %s: cannot be run: %s", kind, i, QUOTE(path), strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return podrun_error_new(err, 0, "hooks.%s[%zu] %s: %s %d", kind, i, QUOTE(path),
                            WIFEXITED(status) ? "exited with status" : "killed by signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return 0;
}

int oci_hooks_run(json_t *hooks, const char *kind, const struct oci_state *s, podrun_error_t *err)
{
  size_t i;
  json_t *h;
  if (!json_array_size(hooks))
    return 0;
  _cleanup_json_ json_t *st = oci_state_json(s);
  _cleanup_free_ char *state = json_dump_sorted(st, false);
  json_array_foreach (hooks, i, h)
    {
      log_debug("hook %s[%zu]: %s", kind, i, json_string_value(json_object_get(h, "path")));
      if (run_one(h, kind, i, state, err) < 0)
        return -1;
    }
  return 0;
}
