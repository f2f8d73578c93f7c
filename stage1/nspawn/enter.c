/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nspawn stage1's enter: the command runs as the app's own process does
 * (stage2_enter), found from the pod init the contract names: the init
 * keeps each running app's pid in the pod directory's nspawn/<app>.pid, and
 * a pid is taken only while the kernel says it is the init's child. */
#include "nspawn.h"

#include <fcntl.h>
#include <sched.h>

#include "fs.h"
#include "pod.h"
#include "stage2/stage2.h"
#include "userns.h"

/* The init records each app by its stage2's pid in nspawn/<app>.pid
 * (stage1_init_app_pid). */
static int app_pid(pid_t init, const char *app, pid_t *ret, podrun_error_t *err)
{
  return stage1_init_app_pid(NSPAWN_RUNTIME, init, app, ret, err);
}

/* A CNI network's namespace is the host's (stage0 made it): from inside the
 * pod's user namespace (--private-users) it could not be joined, so it is
 * joined here first, while this is still the host's root (stage2 joins only
 * the namespaces that are not ours already). */
static int join_cni_netns(pid_t target, podrun_error_t *err)
{
  _cleanup_free_ char *net = NULL, *path = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  uid_t shift = 0;
  if (fs_read_file_at(AT_FDCWD, "net", 64, &net, NULL, &ignored) < 0 || streq(net, "host\n") ||
      streq(net, "none\n") || userns_read_pod(AT_FDCWD, &shift, &ignored) < 0 || !shift)
    return 0;
  path = xasprintf("/proc/%d/ns/net", (int) target);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
    return podrun_error_set(err, errno, "join the app's net namespace");
  return 0;
}

static int app_pid_joined(pid_t init, const char *app, pid_t *ret, podrun_error_t *err)
{
  if (app_pid(init, app, ret, err) < 0)
    return -1;
  return join_cni_netns(*ret, err);
}

/* The apps' restrictions beyond the run flags: the init starts each app
 * with the default seccomp filter, and without CAP_NET_RAW on the host's
 * network (run records the pod's network in `net`). */
static void stage2_args(struct stage2_args *a)
{
  _cleanup_free_ char *net = NULL;
  _cleanup_error_ podrun_error_t no_net = NULL;
  (void) fs_read_file_at(AT_FDCWD, "net", 64, &net, NULL, &no_net);
  a->default_seccomp = true;
  a->host_network = !net || streq(net, "host\n");
}

int nspawn_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  static const struct stage1_enter_hooks hooks = { .app_pid = app_pid_joined, .stage2_args = stage2_args };
  return stage1_enter(&hooks, argc, argv, ret_exit, err);
}
