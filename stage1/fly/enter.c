/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fly stage1's enter, a binary of its own (fly-enter): it links stage2's
 * code, which the fly process that stays for the pod's life does not need.
 * The pod's pid is its one app's own process (stage2 became the app). */
#include "fly.h"

#include "stage2/stage2.h"

/* fly's apps keep every capability unless they have a capability isolator */
static void stage2_args(struct stage2_args *a)
{
  a->keep_caps_by_default = true;
}

int fly_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  static const struct stage1_enter_hooks hooks = { .stage2_args = stage2_args };
  return stage1_enter(&hooks, argc, argv, ret_exit, err);
}
