/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage2's command line, as every flavor starts stage2 for an app. */
#include "stage1.h"

#include "pod.h"
#include "stage2/stage2.h"

char **stage1_stage2_argv(const char *stage2, const struct stage2_args *a)
{
  const struct
  {
    bool on;
    const char *flag;
  } flags[] = {
    { a->keep_caps_by_default, "--keep-caps-by-default" },
    { a->default_seccomp, "--default-seccomp" },
    { a->pid_init, "--pid-init" },
    { a->host_network, "--host-network" },
    { a->disable_caps, STAGE1_DISABLE_CAPS },
    { a->disable_paths, STAGE1_DISABLE_PATHS },
    { a->disable_seccomp, STAGE1_DISABLE_SECCOMP },
  };
  _cleanup_free_ char *manifest = xasprintf("--pod-manifest=%s", a->pod_manifest);
  _cleanup_free_ char *app = xasprintf("--app=%s", a->app), *root = xasprintf("--root=%s", a->root);
  char **v = strv_push(strv_push(strv_push(strv_push(NULL, stage2), manifest), app), root);
  for (size_t i = 0; i < ELEMENTSOF(flags); i++)
    if (flags[i].on)
      v = strv_push(v, flags[i].flag);
  if (a->listen_fds)
    {
      _cleanup_free_ char *n = xasprintf("--listen-fds=%u", a->listen_fds);
      v = strv_push(v, n);
    }
  if (a->listen_fds && a->listen_fdnames)
    {
      _cleanup_free_ char *names = xasprintf("--listen-fdnames=%s", a->listen_fdnames);
      v = strv_push(v, names);
    }
  if (a->notify_socket)
    {
      _cleanup_free_ char *sock = xasprintf("--notify-socket=%s", a->notify_socket);
      v = strv_push(v, sock);
    }
  if (a->notify_socket && a->watchdog_usec)
    {
      _cleanup_free_ char *usec = xasprintf("--watchdog-usec=%s", a->watchdog_usec);
      v = strv_push(v, usec);
    }
  if (a->cmd)
    {
      v = strv_push(v, "--");
      for (size_t i = 0; a->cmd[i]; i++)
        v = strv_push(v, a->cmd[i]);
    }
  return v;
}
