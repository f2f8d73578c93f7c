/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm flavor's hooks into the shared pod init (stage1/common),
 * in the guest. The guest init made the pod's root, /proc, /sys, /dev, the
 * hostname and the apps' cgroups (cgroup2, one per app with limits, at
 * STAGE1_CGROUP_DIR/unified/<app>) and mounted the pod directory's parts
 * under /podrun. No lifeline: the pod dies with the VM, and the VM with
 * qemu, which dies with run. */
#include "kvm.h"

#include <fcntl.h>
#include <unistd.h>

#include "fs.h"
#include "stage2/stage2.h"

#define APP_CGROUP STAGE1_CGROUP_DIR "/unified/%s"

static int cgroup_join(const char *app, podrun_error_t *err)
{
  _cleanup_free_ char *procs = xasprintf(APP_CGROUP "/cgroup.procs", app);
  _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return 0; /* an app without limits */
  if (fd < 0 || write(fd, "0", 1) < 0)
    return podrun_error_set(err, errno, "join the cgroup of app %s", QUOTE(app));
  return 0;
}

static bool oom_killed(const char *app)
{
  _cleanup_free_ char *path = xasprintf(APP_CGROUP "/memory.events", app), *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  const char *p;
  return fs_read_file_at(AT_FDCWD, path, 8192, &text, NULL, &ignored) == 0 && (p = strstr(text, "oom_kill ")) &&
         strtoull(p + strlen("oom_kill "), NULL, 10) > 0;
}

int kvm_init(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  static const struct stage1_init_hooks hooks = {
    .runtime_dir = KVM_GUEST_RUNTIME_DIR,
    .cgroup_join = cgroup_join,
    .oom_killed = oom_killed,
    .stage2_main = stage2_main,
  };
  int r = stage1_pod_init(&hooks, argc, argv, err);
  if (r < 0)
    return -1;
  *ret_exit = r;
  return 0;
}
