/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's enter, stop and gc (host side). enter asks the guest
 * init, over the enter port of the control channel, to run the command in
 * the app (it runs the pod's own enter there, with the app's
 * restrictions); the command's stdout and stderr come back as frames, then
 * its exit code. The host trusts those frames for nothing but bytes to
 * copy and one code. It has no stdin (/dev/null in the guest). */
#include "kvm.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "uuid.h"

static int connect_at(const char *path, podrun_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
    return podrun_error_set(err, errno, "the pod's control channel %s", path);
  return TAKE_FD(fd);
}

int kvm_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  const char *pid, *app;
  int i;
  if (stage1_enter_args(argc, argv, &pid, &app, &i, err) < 0)
    return -1;
  json_auto_t *cmd = json_array();
  for (int k = i + 1; k < argc; k++)
    json_array_append_new(cmd, json_string(argv[k]));
  json_auto_t *req = json_pack("{s:s, s:O}", "app", app, "cmd", cmd);
  _cleanup_free_ char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
  if (!line)
    return podrun_error_new(err, 0, "enter: a command that is not UTF-8");
  if (strlen(line) + 1 > KVM_REQUEST_MAX)
    return podrun_error_new(err, 0, "enter: a command over %d bytes", KVM_REQUEST_MAX);
  _cleanup_close_ int fd = connect_at(KVM_ENTER_SOCKET, err);
  if (fd < 0)
    return -1;
  _cleanup_free_ char *framed = xasprintf("%s\n", line);
  if (fs_write_all(fd, framed, strlen(framed), err) < 0)
    return -1;
  signal(SIGPIPE, SIG_IGN);
  for (;;)
    {
      _cleanup_free_ char *buf = NULL;
      size_t len = 0;
      char type = 0;
      int r = kvm_frame_read(fd, &type, &buf, &len);
      if (r <= 0)
        return podrun_error_new(err, 0, "enter: the guest ended the session %s",
                                r == 0 ? "without an exit code" : "with a malformed frame");
      _cleanup_error_ podrun_error_t ignored = NULL;
      if (type == KVM_FRAME_STDOUT || type == KVM_FRAME_STDERR)
        (void) fs_write_all(type == KVM_FRAME_STDOUT ? STDOUT_FILENO : STDERR_FILENO, buf, len, &ignored);
      else if (type == KVM_FRAME_EXIT && len == 1)
        {
          *ret_exit = (unsigned char) buf[0];
          return 0;
        }
      else
        return podrun_error_new(err, 0, "enter: the guest sent a frame of unknown type");
    }
}

/* stop: the guest init stops the pod gracefully (its pod init sends the
 * apps SIGTERM, SIGKILL after a grace period); --force ends qemu. */
int kvm_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  bool force = argc > 2 && streq(argv[1], "--force");
  if (force)
    return stage1_stop(argc, argv, ret_exit, err); /* SIGKILL to qemu, whose pid is `pid` */
  *ret_exit = 0;
  static const char req[] = "{\"stop\": true}\n";
  _cleanup_close_ int fd = connect_at(KVM_CTL_SOCKET, err);
  if (fd < 0)
    return -1;
  return fs_write_all(fd, req, strlen(req), err);
}

/* gc: qemu was in the pod's cgroup (ended by stage0), its files are in the
 * pod directory: nothing is left outside it. */
int kvm_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  if (argc != 2 || !uuid_is_valid(argv[1]))
    return podrun_error_new(err, 0, "usage: gc UUID");
  *ret_exit = 0;
  return 0;
}
