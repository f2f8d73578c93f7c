/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fly stage1's enter, a binary of its own (fly-enter): it links stage2's
 * code, which the fly process that stays for the pod's life does not need. */
#include "fly.h"

#include <fcntl.h>

#include "pod.h"
#include "stage2/stage2.h"

int fly_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(stage1_run_args_done) struct stage1_run_args run = { 0 };
  const char *pid, *app;
  int i;
  if (stage1_enter_args(argc, argv, &pid, &app, &i, err) < 0 || stage1_run_args_read(AT_FDCWD, &run, err) < 0)
    return -1;
  /* the pod's pid is its one app's own process (stage2 became the app) */
  struct stage2_args a = {
    .pod_manifest = "pod",
    .app = app,
    .keep_caps_by_default = true,
    .disable_caps = run.disable_caps,
    .disable_seccomp = run.disable_seccomp,
    .cmd = argv + i + 1, /* after the "--" */
  };
  return stage2_enter(&a, (pid_t) atoi(pid), ret_exit, err);
}
