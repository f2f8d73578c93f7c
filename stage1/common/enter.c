/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint of every flavor: the command runs as the app's own
 * process runs (stage2_enter), never more privileged than the app, nor less:
 * the run flags the app was given apply to it too. Linked by the enter
 * binaries alone (with stage2's code). */
#include "stage1.h"

#include <fcntl.h>

#include "fs.h"
#include "pod.h"
#include "stage2/stage2.h"

/* A process's pids, one per pid namespace from the host's down to its own
 * (NSpid of /proc/<pid>/status); returns how many, 0 if it is gone. */
static size_t ns_pids(pid_t pid, long ret[], size_t max)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/status", (int) pid), *text = NULL, *nspid = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  size_t n = 0;
  if (fs_read_file_at(AT_FDCWD, path, 64 * 1024, &text, NULL, &ignored) < 0 ||
      !(nspid = proc_status_field(text, "NSpid")))
    return 0;
  for (char *p = nspid, *end; n < max; p = end)
    {
      long v = strtol(p, &end, 10);
      if (end == p)
        break;
      ret[n++] = v;
    }
  return n;
}

int stage1_init_app_pid(const char *runtime, pid_t init, const char *app, pid_t *ret, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("%s/%s.pid", runtime, app), *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  pid_t children[256];
  long ids[32];
  size_t depth = ns_pids(init, ids, ELEMENTSOF(ids)); /* the pod's namespace is the init's last */
  size_t n = proc_children(init, children, ELEMENTSOF(children));
  char *end;
  if (depth == 0 || fs_read_file_at(AT_FDCWD, path, 64, &text, NULL, &ignored) < 0)
    return podrun_error_new(err, 0, "app %s is not running", QUOTE(app));
  long v = strtol(text, &end, 10);
  for (size_t i = 0; v > 0 && (!*end || *end == '\n') && i < n; i++)
    if (ns_pids(children[i], ids, ELEMENTSOF(ids)) > depth && ids[depth - 1] == v)
      {
        pid_t a = proc_first_child(children[i]);
        if (a <= 0)
          break;
        *ret = a;
        return 0;
      }
  return podrun_error_new(err, 0, "app %s is not running", QUOTE(app));
}

int stage1_enter(const struct stage1_enter_hooks *h, int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(stage1_run_args_done) struct stage1_run_args run = { 0 };
  const char *pid, *app;
  int i;

  if (stage1_enter_args(argc, argv, &pid, &app, &i, err) < 0)
    return -1;
  pid_t target = (pid_t) atoi(pid);
  if ((h->app_pid && h->app_pid(target, app, &target, err) < 0) || stage1_run_args_read(AT_FDCWD, &run, err) < 0)
    return -1;
  struct stage2_args a = {
    .pod_manifest = "pod",
    .app = app,
    /* what the app was given by --insecure-options, enter is given */
    .disable_caps = run.disable_caps,
    .disable_seccomp = run.disable_seccomp,
    .cmd = argv + i + 1, /* after the "--" */
  };
  if (h->stage2_args)
    h->stage2_args(&a);
  return stage2_enter(&a, target, ret_exit, err);
}
