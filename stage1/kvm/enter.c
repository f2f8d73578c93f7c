/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's enter, stop and gc (host side). enter asks the guest
 * init, over an enter port of the control channel, to run the command in
 * the app (it runs the pod's own enter there, with the app's
 * restrictions), and relays the caller's stdin to it as frames and, when
 * the caller's stdin is a terminal, its size (the guest gives the command
 * a pty); the command's stdout and stderr come back as frames, then its
 * exit code. The host trusts those frames for nothing but bytes to copy
 * and one code. KVM_ENTER_PORTS enters at once, each on a port of its
 * own, taken with a lock; one more is refused. */
#include "kvm.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

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

/* A free enter port: its lock (kept for the session) and its socket. */
static int take_port(int *ret_lock, podrun_error_t *err)
{
  for (int i = 0; i < KVM_ENTER_PORTS; i++)
    {
      _cleanup_free_ char *lock = xasprintf(KVM_ENTER_LOCK_FMT, i), *sock = xasprintf(KVM_ENTER_SOCKET_FMT, i);
      _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0)
        return podrun_error_set(err, errno, "open %s", lock);
      if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        {
          if (errno == EWOULDBLOCK)
            continue;
          return podrun_error_set(err, errno, "lock %s", lock);
        }
      int s = connect_at(sock, err);
      if (s < 0)
        return -1;
      *ret_lock = TAKE_FD(fd);
      return s;
    }
  return podrun_error_new(err, 0, "enter: %d enters are running in the pod already, as many as the kvm stage1 has "
                                  "control ports for (try again when one has ended)", KVM_ENTER_PORTS);
}

/* The caller's terminal, raw while the session runs: every key goes to
 * the pty in the guest, whose line discipline is the one that counts. */
static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
  if (termios_saved)
    (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
  termios_saved = false;
}

static int raw_terminal(podrun_error_t *err)
{
  struct termios t;
  if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
    return podrun_error_set(err, errno, "enter: the terminal");
  t = saved_termios;
  cfmakeraw(&t);
  if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
    return podrun_error_set(err, errno, "enter: make the terminal raw");
  termios_saved = true;
  return 0;
}

static void winsize_frame(char frame[9])
{
  struct winsize ws = { 0 };
  (void) ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
  kvm_frame_head(frame, KVM_FRAME_WINSIZE, 4);
  frame[5] = (char) (ws.ws_row >> 8);
  frame[6] = (char) ws.ws_row;
  frame[7] = (char) (ws.ws_col >> 8);
  frame[8] = (char) ws.ws_col;
}

/* What goes to the guest, written as the socket takes it: the host never
 * blocks on a guest that does not read, and reads no more of stdin while
 * some is still queued. */
struct outq
{
  char *buf;
  size_t len, cap;
};

static void outq_put(struct outq *q, const void *data, size_t len)
{
  if (q->len + len > q->cap)
    {
      q->cap = q->len + len + 4096;
      q->buf = xrealloc(q->buf, q->cap);
    }
  memcpy(q->buf + q->len, data, len);
  q->len += len;
}

static void outq_frame(struct outq *q, char type, const void *data, size_t len)
{
  char head[5];
  outq_put(q, head, kvm_frame_head(head, type, len));
  if (len)
    outq_put(q, data, len);
}

/* From the guest: a frame of output to copy, or the exit code (returns 1). */
static int guest_frame(char type, const char *data, size_t len, int *ret_exit, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (type == KVM_FRAME_STDOUT || type == KVM_FRAME_STDERR)
    {
      (void) fs_write_all(type == KVM_FRAME_STDOUT ? STDOUT_FILENO : STDERR_FILENO, data, len, &ignored);
      return 0;
    }
  if (type == KVM_FRAME_EXIT && len == 1)
    {
      *ret_exit = (unsigned char) data[0];
      return 1;
    }
  return podrun_error_new(err, 0, "enter: the guest sent a frame of unknown type");
}

static int session(int fd, bool tty, int *ret_exit, podrun_error_t *err)
{
  _cleanup_free_ char *in = xmalloc(5 + KVM_FRAME_MAX);
  struct outq q = { 0 };
  size_t in_len = 0;
  bool stdin_open = true;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGWINCH);
  _cleanup_close_ int sfd = -1;
  if (tty && (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0))
    return podrun_error_set(err, errno, "enter: signalfd");
  if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
    return podrun_error_set(err, errno, "enter: the control channel");
  int r = -1;
  for (;;)
    {
      struct pollfd fds[3] = {
        { .fd = fd, .events = POLLIN | (q.len ? POLLOUT : 0) },
        { .fd = stdin_open && !q.len ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      if (poll(fds, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          podrun_error_set(err, errno, "enter: poll");
          break;
        }
      if (fds[2].revents)
        {
          struct signalfd_siginfo si;
          char frame[9];
          if (read(sfd, &si, sizeof(si)) == sizeof(si))
            {
              winsize_frame(frame);
              outq_put(&q, frame, sizeof(frame));
            }
        }
      if (fds[1].revents)
        {
          char buf[16384];
          ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
          if (k > 0)
            outq_frame(&q, KVM_FRAME_STDIN, buf, (size_t) k);
          else if (k == 0 || (errno != EINTR && errno != EAGAIN))
            {
              outq_frame(&q, KVM_FRAME_STDIN_END, NULL, 0);
              stdin_open = false;
            }
        }
      if (q.len && (fds[0].revents & POLLOUT))
        {
          ssize_t k = write(fd, q.buf, q.len);
          if (k > 0)
            {
              memmove(q.buf, q.buf + k, q.len - (size_t) k);
              q.len -= (size_t) k;
            }
          else if (k < 0 && errno != EAGAIN && errno != EINTR)
            q.len = 0, stdin_open = false; /* the guest's end went: what it sent is still read */
        }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t k = read(fd, in + in_len, 5 + KVM_FRAME_MAX - in_len);
          if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
          if (k <= 0)
            {
              podrun_error_new(err, 0, "enter: the guest ended the session without an exit code");
              break;
            }
          in_len += (size_t) k;
          ssize_t used = 0;
          char type;
          size_t n;
          int done = 0;
          while (!done && (used = kvm_frame_parse(in, in_len, &type, &n)) > 0)
            {
              if ((done = guest_frame(type, in + 5, n, ret_exit, err)) < 0)
                break;
              memmove(in, in + used, in_len - (size_t) used);
              in_len -= (size_t) used;
            }
          if (done < 0)
            break;
          if (done)
            {
              /* no half frame left behind for the next session: the
               * guest drops whole frames between sessions (main-guest.c) */
              _cleanup_error_ podrun_error_t ignored = NULL;
              if (q.len && fcntl(fd, F_SETFL, 0) == 0)
                (void) fs_write_all(fd, q.buf, q.len, &ignored);
              r = 0;
              break;
            }
          if (used < 0)
            {
              podrun_error_new(err, 0, "enter: the guest ended the session with a malformed frame");
              break;
            }
        }
    }
  free(q.buf);
  return r;
}

int kvm_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  const char *pid, *app;
  int i;
  if (stage1_enter_args(argc, argv, &pid, &app, &i, err) < 0)
    return -1;
  /* a pty in the guest when the caller is on a terminal (its output too:
   * `enter … >file` gets the command's bytes, not a terminal's) */
  bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  json_auto_t *cmd = json_array();
  for (int k = i + 1; k < argc; k++)
    json_array_append_new(cmd, json_string(argv[k]));
  json_auto_t *req = json_pack("{s:s, s:O}", "app", app, "cmd", cmd);
  if (tty)
    {
      struct winsize ws = { 0 };
      (void) ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
      json_object_set_new(req, "tty", json_pack("{s:i,s:i}", "rows", (json_int_t) ws.ws_row, "cols",
                                                (json_int_t) ws.ws_col));
    }
  _cleanup_free_ char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
  if (!line)
    return podrun_error_new(err, 0, "enter: a command that is not UTF-8");
  if (strlen(line) + 1 > KVM_REQUEST_MAX)
    return podrun_error_new(err, 0, "enter: a command over %d bytes", KVM_REQUEST_MAX);
  _cleanup_close_ int lock = -1;
  _cleanup_close_ int fd = take_port(&lock, err);
  if (fd < 0)
    return -1;
  _cleanup_free_ char *framed = xasprintf("%s\n", line);
  if (fs_write_all(fd, framed, strlen(framed), err) < 0)
    return -1;
  signal(SIGPIPE, SIG_IGN);
  if (tty && raw_terminal(err) < 0)
    return -1;
  int r = session(fd, tty, ret_exit, err);
  restore_terminal();
  return r;
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
