/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "nspawn.h"

/* nspawn made the pod's root, its /proc, /sys and /dev and its hostname,
 * bound the pod directory's parts under /podrun, and passes the lifeline as
 * socket activation does: the init has nothing to prepare of its own. */
static const struct stage1_init_hooks init_hooks = {
  .runtime_dir = NSPAWN_RUNTIME_DIR,
  .lifeline = stage1_listen_fd_lifeline,
  .cgroup_join = nspawn_cgroups_join,
  .oom_killed = nspawn_cgroups_oom_killed,
};

static int nspawn_init(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  int r = stage1_pod_init(&init_hooks, argc, argv, err);
  if (r < 0)
    return -1;
  *ret_exit = r;
  return 0;
}

int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = {
    { "init", "podrun-init", nspawn_init },
    { "stop", "podrun-stage1", stage1_stop }, /* SIGTERM to the init passes on to the apps */
    { "gc", "podrun-stage1", nspawn_gc },     /* mounts and processes died with the pod's namespaces; cgroups stay */
  };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
