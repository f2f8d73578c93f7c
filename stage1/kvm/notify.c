/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness for a Type=notify service (Documentation/systemd.md) on the kvm
 * stage1: run, the service's main process (podrun exec'd it), tells systemd
 * READY=1 with MAINPID (its own pid) once the pod init says every app has
 * started, STATUS= lines, and STOPPING=1 when it is asked to stop. No notify
 * socket reaches the VM: under a Type=notify service, a pod with an app that
 * says it speaks sd_notify is refused. The kvm binary is static (it is the
 * guest's pod init too) and Debian has no static libsystemd, so the
 * protocol's one datagram (sd_notify(3): NOTIFY_SOCKET, a path or, after
 * '@', an abstract name) is sent here. */
#include "kvm.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static struct
{
  struct sockaddr_un addr;
  socklen_t len; /* 0: no NOTIFY_SOCKET */
  char *uuid;
  size_t n_apps;
} sd;

static _printf_(1, 2) void notifyf(const char *fmt, ...)
{
  if (!sd.len)
    return;
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *text = xvasprintf(fmt, ap);
  va_end(ap);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *) &sd.addr, sd.len) < 0)
    log_debug("sd_notify: %s, ignoring", strerror(errno));
}

int kvm_sd_setup(const char *uuid, const struct appc_pod_manifest *m, podrun_error_t *err)
{
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path)
    return 0;
  size_t len = strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(sd.addr.sun_path))
    return podrun_error_new(err, 0, "NOTIFY_SOCKET=%s: not a socket's path or abstract name", QUOTE(path));
  for (size_t i = 0; i < m->n_apps; i++)
    {
      const char *v = appc_kvs_get(&m->apps[i].annotations, APPC_SUPPORTS_SYSTEMD_NOTIFY);
      if (v && streq(v, "true"))
        return podrun_error_new(err, 0,
                                "app %s speaks sd_notify (" APPC_SUPPORTS_SYSTEMD_NOTIFY "): the kvm stage1 passes "
                                "no notify socket into the VM (use Type=exec, or nspawn)",
                                QUOTE(m->apps[i].name));
    }
  sd.addr.sun_family = AF_UNIX;
  memcpy(sd.addr.sun_path, path, len);
  if (path[0] == '@')
    sd.addr.sun_path[0] = '\0';
  sd.len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
  sd.uuid = xstrdup(uuid);
  sd.n_apps = m->n_apps;
  /* the readiness is run's to tell: nothing run starts (qemu) gets the socket */
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  notifyf("STATUS=pod %s: starting %zu app%s", uuid, m->n_apps, m->n_apps == 1 ? "" : "s");
  return 0;
}

void kvm_sd_ready(void)
{
  notifyf("READY=1\nMAINPID=%d\nSTATUS=pod %s: %zu app%s running", (int) getpid(), sd.uuid, sd.n_apps,
          sd.n_apps == 1 ? "" : "s");
}

void kvm_sd_stopping(void)
{
  notifyf("STOPPING=1\nSTATUS=pod %s: stopping", sd.uuid);
}
