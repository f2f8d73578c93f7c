/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --console-socket: the pty's master goes to the caller (the shim, conmon)
 * over a unix socket, as runc sends it; the slave is the app's terminal. */
#include "oci.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int send_fd(int sock, int fd, const char *name, podrun_error_t *err)
{
  char control[CMSG_SPACE(sizeof(int))] = { 0 };
  struct iovec iov = { .iov_base = (void *) name, .iov_len = strlen(name) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    return podrun_error_set(err, errno, "--console-socket: send the terminal");
  return 0;
}

int oci_console_send(const char *path, int *ret_slave, podrun_error_t *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  _cleanup_close_ int master = -1, slave = -1, sock = -1;
  char name[128];

  if (strlen(path) >= sizeof(sa.sun_path))
    return podrun_error_new(err, 0, "--console-socket %s: a path longer than %zu bytes", QUOTE(path),
                            sizeof(sa.sun_path) - 1);
  strcpy(sa.sun_path, path);
  master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
    return podrun_error_set(err, errno, "make a terminal");
  slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return podrun_error_set(err, errno, "open %s", name);
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0)
    return podrun_error_set(err, errno, "--console-socket %s", QUOTE(path));
  if (send_fd(sock, master, name, err) < 0)
    return -1;
  *ret_slave = TAKE_FD(slave);
  return 0;
}

int oci_console_take(int slave)
{
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
    return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return -1;
  if (slave > 2)
    close(slave);
  return 0;
}
