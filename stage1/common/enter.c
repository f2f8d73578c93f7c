/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint of every flavor: the command runs as the app's own
 * process runs (stage2_enter), never more privileged than the app, nor less:
 * the run flags the app was given apply to it too. Linked by the enter
 * binaries alone (with stage2's code). */
#include "stage1.h"

#include <fcntl.h>

#include "pod.h"
#include "stage2/stage2.h"

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
