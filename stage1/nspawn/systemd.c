/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What run does for the systemd service it runs under (Documentation/systemd.md),
 * with libsystemd: readiness (READY=1 once every app has started, or once each app
 * whose image says it speaks sd_notify has said READY=1 on a notify socket of the
 * pod's own), STATUS= lines and STOPPING=1; the apps' output to the journal with
 * fields naming the pod and the app; and the sockets a socket unit passed
 * (LISTEN_FDS) to the app whose port they name. With machined, the same
 * lines also go to the machine's own journal, journal files in the pod
 * directory that the stage1 root (never an app's) has at /run/log/journal,
 * written by systemd-journal-remote from what run feeds it: `journalctl -M
 * podrun-<uuid>` reads them there.
 *
 * Everything that comes from the pod (the init's journal records, the apps'
 * notify datagrams) is hostile: bounded, parsed strictly, and only what run
 * itself decides goes to systemd. An app never names a pid (MAINPID), an fd
 * or a field of its own. */
#include "nspawn.h"

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "fs.h"
#include "log.h"
#include "volumes.h"

#define NOTIFY_DIR "notify"            /* in the pod directory: <app>, each app's notify socket */
#define NOTIFY_MAX 4096                /* the longest datagram an app may send */
#define STATUS_MAX 200                 /* the longest STATUS= text relayed */
#define LISTEN_FDS_MAX 64
#define LISTEN_FDS_FIRST_SPARE 100     /* where run keeps the passed sockets until nspawn gets them */
#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote" /* package systemd-journal-remote */
#define MACHINE_JOURNAL_DIR "journal"  /* in the pod directory: <machine-id>/system.journal */
#define MACHINE_JOURNAL_QUEUE (1u << 20) /* the most run holds for journal-remote; more is dropped */

struct sd_app
{
  char *name;
  int notify;        /* run's end of the app's notify socket; -1: the app does not speak sd_notify */
  bool ready;        /* it said READY=1 */
  unsigned first_fd; /* its passed sockets, as the init gets them */
  unsigned n_fds;
  char *fd_names;    /* theirs, ':'-separated */
};

struct nspawn_sd
{
  char *uuid;
  bool notify;    /* NOTIFY_SOCKET: run under a Type=notify service */
  uint64_t watchdog_usec; /* the service's WatchdogSec=, for the apps that speak sd_notify; 0: none */
  bool journal;   /* journald is there: the apps' lines go to it */
  bool stdio_is_journal; /* our stdout is the service's journal stream: only the native protocol */
  int journal_fd[2];     /* [0] run's, [1] the init's end (SOCK_SEQPACKET) */
  char machine_id[SD_ID128_STRING_MAX]; /* the pod's, as nspawn registers it: its uuid */
  bool machine_journal;  /* registered with machined and journal-remote is there */
  int remote_fd;         /* journal-remote's stdin, run's end (a stream socket: no SIGPIPE) */
  pid_t remote_pid;
  char *queue;           /* export-format entries not yet written to remote_fd */
  size_t queue_len;
  size_t dropped;        /* entries the queue had no room for */
  bool stopping;         /* the pod is asked to stop (systemctl stop signals journal-remote too) */
  int wake[2];           /* the signal handler and run's main thread to the relay thread */
  int *fds;              /* the passed sockets, in the order the init gets them */
  size_t n_fds;
  struct sd_app *apps;
  size_t n_apps;
  bool pod_ready;
  bool ready_sent;
  pthread_t thread;
  bool thread_started;
};

static struct nspawn_sd sd = { .journal_fd = { -1, -1 }, .wake = { -1, -1 }, .remote_fd = -1 };

static bool wants_notify(const struct appc_runtime_app *a)
{
  const char *v = appc_kvs_get(&a->annotations, APPC_SUPPORTS_SYSTEMD_NOTIFY);
  return v && streq(v, "true");
}

/* A name LISTEN_FDNAMES may give (systemd's FileDescriptorName=): printable,
 * no ':' (the separator), bounded. */
static bool fd_name_ok(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 255)
    return false;
  for (; *s; s++)
    if (*s <= ' ' || *s >= 0x7f || *s == ':')
      return false;
  return true;
}

/* The sockets a socket unit passed (sd_listen_fds: LISTEN_PID is ours, as
 * stage0 exec()ed us), each to the app that declares a port of its name, or
 * to the only app; moved out of the way of the lifeline (fd 3), grouped by
 * app. */
static int take_listen_fds(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  int n = sd_listen_fds_with_names(true, &names);
  if (n < 0)
    return podrun_error_set(err, -n, "LISTEN_FDS");
  if (n == 0)
    return 0;
  if (n > LISTEN_FDS_MAX)
    return podrun_error_new(err, 0, "LISTEN_FDS=%d: at most %d sockets can be passed to a pod", n, LISTEN_FDS_MAX);
  _cleanup_free_ size_t *owner = xzalloc(sizeof(*owner) * (size_t) n);
  for (int k = 0; k < n; k++)
    {
      const char *name = names && names[k] ? names[k] : "unknown";
      ssize_t found = appc_pod_socket_app(m, name);
      if (found < 0)
        return podrun_error_new(err, 0, "socket activation: no app of the pod declares a port named %s "
                                        "(the socket unit's FileDescriptorName=)", QUOTE(name));
      if (!fd_name_ok(name))
        return podrun_error_new(err, 0, "socket activation: the socket name %s is not printable", ESCAPE(name));
      owner[k] = (size_t) found;
    }
  sd.fds = xzalloc(sizeof(*sd.fds) * (size_t) n);
  unsigned next = STAGE1_LIFELINE_FD + 1;
  for (size_t i = 0; i < sd.n_apps; i++)
    {
      struct sd_app *a = &sd.apps[i];
      a->first_fd = next;
      for (int k = 0; k < n; k++)
        {
          if (owner[k] != i)
            continue;
          int fd = fcntl(SD_LISTEN_FDS_START + k, F_DUPFD_CLOEXEC, LISTEN_FDS_FIRST_SPARE);
          if (fd < 0)
            return podrun_error_set(err, errno, "socket activation: fd %d", SD_LISTEN_FDS_START + k);
          sd.fds[sd.n_fds++] = fd;
          _cleanup_free_ char *prev = a->fd_names;
          const char *name = names && names[k] ? names[k] : "unknown";
          a->fd_names = prev ? xasprintf("%s:%s", prev, name) : xstrdup(name);
          a->n_fds++;
          next++;
        }
    }
  for (int k = 0; k < n; k++)
    (void) close(SD_LISTEN_FDS_START + k);
  return 0;
}

/* pod/notify/<app>: a datagram socket of the app's own, which only the
 * app's root gets (bound there by nspawn_sd_mount_app). Its name says
 * which app speaks; what it says is never taken for more than it may say. */
static int make_notify_socket(struct sd_app *a, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", NOTIFY_DIR, a->name);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof(addr.sun_path))
    return podrun_error_new(err, 0, "notify socket %s: name too long", QUOTE(path));
  strcpy(addr.sun_path, path);
  (void) unlink(path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
    return podrun_error_set(err, errno, "notify socket %s", QUOTE(path));
  /* the app's user, whoever it is, may send to it */
  if (chmod(path, 0666) < 0)
    return podrun_error_set(err, errno, "chmod %s", QUOTE(path));
  a->notify = TAKE_FD(fd);
  return 0;
}

/* Is fd the journal stream systemd gave us (JOURNAL_STREAM=dev:ino)? */
static bool is_journal_stream(int fd)
{
  const char *e = getenv("JOURNAL_STREAM");
  unsigned long dev, ino;
  struct stat st;
  char end;
  return e && sscanf(e, "%lu:%lu%c", &dev, &ino, &end) == 2 && fstat(fd, &st) == 0 && st.st_dev == dev &&
         st.st_ino == ino;
}

/* The pod's machine id: its uuid (as rkt's were), which nspawn registers
 * with machined (--uuid and the stage1 root's /etc/machine-id). */
static int set_machine_id(const char *uuid, podrun_error_t *err)
{
  sd_id128_t id;
  int r = sd_id128_from_string(uuid, &id);
  if (r < 0)
    return podrun_error_set(err, -r, "the pod uuid %s is not a machine id", QUOTE(uuid));
  (void) sd_id128_to_string(id, sd.machine_id);
  return 0;
}

const char *nspawn_sd_machine_id(void)
{
  return sd.machine_id;
}

int nspawn_sd_setup(const char *uuid, const struct appc_pod_manifest *m, bool registered, podrun_error_t *err)
{
  if (set_machine_id(uuid, err) < 0)
    return -1;
  /* copies: the relay thread may outlive run's own copies on an error path */
  sd.uuid = xstrdup(uuid);
  sd.n_apps = m->n_apps;
  sd.apps = xzalloc(sizeof(*sd.apps) * (m->n_apps + 1));
  for (size_t i = 0; i < m->n_apps; i++)
    {
      sd.apps[i].name = xstrdup(m->apps[i].name);
      sd.apps[i].notify = -1;
    }
  if (take_listen_fds(m, err) < 0)
    return -1;
  sd.notify = getenv("NOTIFY_SOCKET") != NULL;
  if (sd.notify && sd_watchdog_enabled(false, &sd.watchdog_usec) <= 0)
    sd.watchdog_usec = 0;
  sd.journal = access("/run/systemd/journal/socket", W_OK) == 0;
  sd.stdio_is_journal = sd.journal && is_journal_stream(STDOUT_FILENO) && is_journal_stream(STDERR_FILENO);
  sd.machine_journal = registered && access(JOURNAL_REMOTE, X_OK) == 0;
  if (sd.machine_journal)
    {
      _cleanup_free_ char *dir = xasprintf(MACHINE_JOURNAL_DIR "/%s", sd.machine_id);
      if (fs_mkdir_p(dir, 0755, err) < 0)
        return podrun_error_wrap(err, "the machine's journal");
    }
  for (size_t i = 0; sd.notify && i < m->n_apps; i++)
    if (wants_notify(&m->apps[i]))
      {
        if (fs_mkdir_p(NOTIFY_DIR, 0755, err) < 0 || make_notify_socket(&sd.apps[i], err) < 0)
          return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
      }
  if ((sd.journal || sd.machine_journal) && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sd.journal_fd) < 0)
    return podrun_error_set(err, errno, "socketpair for the journal");
  if (pipe2(sd.wake, O_CLOEXEC | O_NONBLOCK) < 0)
    return podrun_error_set(err, errno, "pipe");
  if (sd.notify)
    (void) sd_notifyf(false, "STATUS=pod %s: starting %zu app%s", uuid, m->n_apps, m->n_apps == 1 ? "" : "s");
  return 0;
}

int nspawn_sd_mount_app(size_t i, const char *root, podrun_error_t *err)
{
  if (i >= sd.n_apps || sd.apps[i].notify < 0)
    return 0;
  _cleanup_free_ char *src = xasprintf("%s/%s", NOTIFY_DIR, sd.apps[i].name);
  _cleanup_close_ int target = volumes_open_target(root, NSPAWN_APP_NOTIFY_SOCKET, true, err);
  if (target < 0 || volumes_bind_at(src, target, false, false, err) < 0)
    return podrun_error_wrap(err, "notify socket");
  return 0;
}

char **nspawn_sd_nspawn_args(char **v, const char *cwd)
{
  if (!sd.machine_journal)
    return v;
  /* the stage1 root's runtime journal, read-only there; no app's root has it */
  _cleanup_free_ char *bind = xasprintf("--bind-ro=%s/" MACHINE_JOURNAL_DIR ":/run/log/journal", cwd);
  return strv_push(v, bind);
}

char **nspawn_sd_init_args(char **v)
{
  if (sd.journal_fd[1] >= 0)
    {
      _cleanup_free_ char *fd = xasprintf("%s=%u", STAGE1_JOURNAL_FD, (unsigned) (STAGE1_LIFELINE_FD + 1 + sd.n_fds));
      v = strv_push(v, fd);
      if (sd.stdio_is_journal)
        v = strv_push(v, STAGE1_JOURNAL_ONLY);
    }
  for (size_t i = 0; i < sd.n_apps; i++)
    {
      struct sd_app *a = &sd.apps[i];
      if (a->n_fds)
        {
          _cleanup_free_ char *arg =
            xasprintf("%s=%s:%u:%u:%s", STAGE1_LISTEN_FDS, a->name, a->first_fd, a->n_fds, a->fd_names);
          v = strv_push(v, arg);
        }
      if (a->notify >= 0 && sd.watchdog_usec)
        {
          _cleanup_free_ char *arg = xasprintf("%s=%s:%llu", STAGE1_WATCHDOG_USEC, a->name,
                                               (unsigned long long) sd.watchdog_usec);
          v = strv_push(v, arg);
        }
      if (a->notify >= 0)
        {
          _cleanup_free_ char *arg = xasprintf("%s=%s:%s", STAGE1_NOTIFY_SOCKET, a->name, NSPAWN_APP_NOTIFY_SOCKET);
          v = strv_push(v, arg);
        }
    }
  return v;
}

/* fd as `to`, inherited across exec (dup2 onto itself would keep its
 * close-on-exec). */
static int move_fd(int fd, int to)
{
  return fd == to ? fcntl(fd, F_SETFD, 0) : dup2(fd, to);
}

int nspawn_sd_child_fds(void)
{
  int n = 1; /* the lifeline, 3, in place already */
  for (size_t k = 0; k < sd.n_fds; k++, n++)
    if (move_fd(sd.fds[k], STAGE1_LIFELINE_FD + n) < 0)
      return -1;
  if (sd.journal_fd[1] >= 0 && move_fd(sd.journal_fd[1], STAGE1_LIFELINE_FD + n++) < 0)
    return -1;
  /* the readiness is run's to tell, never nspawn's (which would say READY=1
   * as soon as the init starts) */
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  return n;
}

/* ---- the relay, a thread of run's from the fork of nspawn to its end ---- */

/* ---- the machine's journal: journal-remote, fed the export format ---- */

/* Writes what the queue holds, as far as the socket takes it now. */
static void flush_remote(void)
{
  while (sd.remote_fd >= 0 && sd.queue_len > 0)
    {
      ssize_t n = send(sd.remote_fd, sd.queue, sd.queue_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n <= 0)
        {
          /* journal-remote is gone: no machine journal any more (as expected
           * once the service is stopped: systemd signals its whole cgroup) */
          if (sd.stopping)
            log_debug("systemd-journal-remote ended with the pod");
          else
            log_warning("systemd-journal-remote ended: the machine's journal has no more lines (%s)",
                        n < 0 ? strerror(errno) : "closed");
          close(sd.remote_fd);
          sd.remote_fd = -1;
          sd.queue_len = 0;
          return;
        }
      memmove(sd.queue, sd.queue + n, sd.queue_len - (size_t) n);
      sd.queue_len -= (size_t) n;
    }
}

/* One entry in the Journal Export Format: the fields run chose, each
 * "NAME=value\n", but MESSAGE in the binary form (its length, then its
 * bytes), whatever bytes the line holds; the entry ends with an empty line.
 * A whole entry is queued or none of it. */
static void queue_remote(const struct iovec *fields, size_t n_fields)
{
  if (sd.remote_fd < 0)
    return;
  struct timespec rt, mono;
  sd_id128_t boot;
  char boot_s[SD_ID128_STRING_MAX];
  (void) clock_gettime(CLOCK_REALTIME, &rt);
  (void) clock_gettime(CLOCK_MONOTONIC, &mono);
  if (sd_id128_get_boot(&boot) < 0)
    boot = SD_ID128_NULL;
  _cleanup_free_ char *head =
    xasprintf("__REALTIME_TIMESTAMP=%llu\n__MONOTONIC_TIMESTAMP=%llu\n_BOOT_ID=%s\n_MACHINE_ID=%s\n",
              (unsigned long long) rt.tv_sec * 1000000ULL + (unsigned long long) rt.tv_nsec / 1000,
              (unsigned long long) mono.tv_sec * 1000000ULL + (unsigned long long) mono.tv_nsec / 1000,
              sd_id128_to_string(boot, boot_s), sd.machine_id);
  size_t need = strlen(head) + 1;
  for (size_t i = 0; i < n_fields; i++)
    need += fields[i].iov_len + 1 + 8;
  if (sd.queue_len + need > MACHINE_JOURNAL_QUEUE)
    {
      sd.dropped++;
      return;
    }
  if (!sd.queue)
    sd.queue = xmalloc(MACHINE_JOURNAL_QUEUE);
  char *p = sd.queue + sd.queue_len;
  p = mempcpy(p, head, strlen(head));
  for (size_t i = 0; i < n_fields; i++)
    {
      const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);
      size_t name = (size_t) (eq - f), len = fields[i].iov_len - name - 1;
      if (startswith(f, "MESSAGE="))
        {
          uint64_t le = htole64((uint64_t) len);
          p = mempcpy(p, f, name);
          *p++ = '\n';
          p = mempcpy(p, &le, sizeof(le));
          p = mempcpy(p, eq + 1, len);
        }
      else
        p = mempcpy(p, f, fields[i].iov_len); /* run's own: names, a uuid, a digit */
      *p++ = '\n';
    }
  *p++ = '\n';
  sd.queue_len = (size_t) (p - sd.queue);
  flush_remote();
}

/* journal-remote, writing the machine's journal file from what run sends on
 * its stdin; it dies with run's main thread (PR_SET_PDEATHSIG), and
 * run's end ends it (nspawn_sd_end). Its warnings go to run's stderr. */
static int start_remote(podrun_error_t *err)
{
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return podrun_error_set(err, errno, "socketpair for the machine's journal");
  _cleanup_free_ char *output = xasprintf("--output=" MACHINE_JOURNAL_DIR "/%s/system.journal", sd.machine_id);
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    {
      int e = errno;
      close(pair[0]);
      close(pair[1]);
      return podrun_error_set(err, e, "fork");
    }
  if (pid == 0)
    {
      (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(PODRUN_EXIT_ERROR);
      int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (dup2(pair[1], STDIN_FILENO) < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0)
        _exit(PODRUN_EXIT_ERROR);
      (void) close_range(3, ~0U, 0);
      (void) shutdown(STDIN_FILENO, SHUT_WR);
      setenv("SYSTEMD_LOG_LEVEL", "warning", 1);
      execl(JOURNAL_REMOTE, "systemd-journal-remote", output, "-", (char *) NULL);
      log_error("exec %s: %s", JOURNAL_REMOTE, strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  close(pair[1]);
  (void) shutdown(pair[0], SHUT_RD);
  int size = (int) MACHINE_JOURNAL_QUEUE;
  (void) setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  sd.remote_fd = pair[0];
  sd.remote_pid = pid;
  return 0;
}

/* At the pod's end. The machine is gone from machined with nspawn, and its
 * journal goes with it (nspawn_sd_end removes the files; the host's journal
 * and podrun logs keep the lines): journal-remote is killed, not waited for.
 * Nothing of it outlives run. */
static void stop_remote(void)
{
  if (sd.remote_fd >= 0)
    close(sd.remote_fd);
  sd.remote_fd = -1;
  if (sd.remote_pid > 0)
    {
      (void) kill(sd.remote_pid, SIGKILL);
      (void) waitpid(sd.remote_pid, NULL, 0);
      sd.remote_pid = 0;
    }
  if (sd.dropped)
    log_warning("%zu line%s of the apps did not reach the machine's journal (journal-remote too slow)", sd.dropped,
                sd.dropped == 1 ? "" : "s");
  sd.dropped = 0;
  sd.queue_len = 0;
  free(sd.queue);
  sd.queue = NULL;
}

static void send_journal(const char *buf, size_t len)
{
  /* a record: the app's index (2 bytes, little-endian), the stream (1:
   * stdout, 2: stderr), the line */
  if (len < 3)
    return;
  size_t app = (unsigned char) buf[0] | (size_t) (unsigned char) buf[1] << 8;
  int stream = buf[2];
  if (app >= sd.n_apps || (stream != 1 && stream != 2))
    return;
  const char *name = sd.apps[app].name;
  _cleanup_free_ char *ident = xasprintf("SYSLOG_IDENTIFIER=%s", name), *pod = xasprintf("PODRUN_POD_UUID=%s", sd.uuid),
                      *papp = xasprintf("PODRUN_APP=%s", name), *msg = xmalloc(len - 3 + 8);
  /* the line as it came, whatever bytes it holds: a field of its own */
  memcpy(msg, "MESSAGE=", 8);
  memcpy(msg + 8, buf + 3, len - 3);
  struct iovec iov[] = {
    { .iov_base = msg, .iov_len = len - 3 + 8 },
    { .iov_base = (char *) (stream == 1 ? "PRIORITY=6" : "PRIORITY=3"), .iov_len = 10 },
    { .iov_base = ident, .iov_len = strlen(ident) },
    { .iov_base = pod, .iov_len = strlen(pod) },
    { .iov_base = papp, .iov_len = strlen(papp) },
  };
  if (sd.journal)
    (void) sd_journal_sendv(iov, ELEMENTSOF(iov)); /* no journal any more: the line is in the app's log */
  queue_remote(iov, ELEMENTSOF(iov));
}

static void drain_journal(void)
{
  char buf[3 + 4096 + 1];
  ssize_t n;
  while ((n = recv(sd.journal_fd[0], buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) > 0)
    if ((size_t) n < sizeof(buf))
      send_journal(buf, (size_t) n);
}

static bool all_ready(void)
{
  if (!sd.pod_ready)
    return false;
  for (size_t i = 0; i < sd.n_apps; i++)
    if (sd.apps[i].notify >= 0 && !sd.apps[i].ready)
      return false;
  return true;
}

static void maybe_ready(void)
{
  if (sd.ready_sent || !all_ready())
    return;
  sd.ready_sent = true;
  (void) sd_notifyf(false, "READY=1\nMAINPID=%d\nSTATUS=pod %s: %zu app%s running", (int) getpid(), sd.uuid,
                    sd.n_apps, sd.n_apps == 1 ? "" : "s");
}

/* STATUS= text an app may have relayed: printable UTF-8 or ASCII, bounded. */
static bool status_ok(const char *s)
{
  size_t n = strlen(s);
  if (n > STATUS_MAX)
    return false;
  for (; *s; s++)
    if ((unsigned char) *s < ' ' || *s == 0x7f)
      return false;
  return true;
}

/* One datagram of an app's: READY=1, STATUS=…, WATCHDOG=1 are taken; every
 * other line (MAINPID=, FDSTORE=, ERRNO=, …) is dropped. */
static void on_notify(struct sd_app *a)
{
  char buf[NOTIFY_MAX + 1];
  /* no control buffer: fds an app passes are closed by the kernel */
  ssize_t n = recv(a->notify, buf, NOTIFY_MAX, MSG_DONTWAIT | MSG_TRUNC);
  if (n <= 0 || n > NOTIFY_MAX)
    return;
  buf[n] = '\0';
  if (memchr(buf, '\0', (size_t) n))
    return;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
      const char *v;
      if (streq(line, "READY=1"))
        {
          if (!a->ready)
            log_debug("app %s is ready", QUOTE(a->name));
          a->ready = true;
        }
      else if (streq(line, "WATCHDOG=1"))
        (void) sd_notify(false, "WATCHDOG=1");
      else if ((v = startswith(line, "STATUS=")) && status_ok(v))
        (void) sd_notifyf(false, "STATUS=%s: %s", a->name, v);
    }
  maybe_ready();
}

enum
{
  WAKE_READY = 'r',
  WAKE_STOPPING = 's',
  WAKE_END = 'e',
};

static void *relay(void *unused)
{
  _cleanup_free_ struct pollfd *fds = xzalloc(sizeof(*fds) * (sd.n_apps + 3));
  for (;;)
    {
      size_t n = 0;
      fds[n++] = (struct pollfd) { .fd = sd.wake[0], .events = POLLIN };
      fds[n++] = (struct pollfd) { .fd = sd.journal_fd[0], .events = POLLIN };
      for (size_t i = 0; i < sd.n_apps; i++)
        fds[n++] = (struct pollfd) { .fd = sd.apps[i].notify, .events = POLLIN };
      /* what journal-remote could not take yet */
      fds[n++] = (struct pollfd) { .fd = sd.queue_len > 0 ? sd.remote_fd : -1, .events = POLLOUT };
      if (poll(fds, n, -1) < 0)
        continue;
      if (fds[2 + sd.n_apps].revents)
        flush_remote();
      if (fds[1].revents)
        drain_journal();
      for (size_t i = 0; i < sd.n_apps; i++)
        if (fds[2 + i].revents)
          on_notify(&sd.apps[i]);
      char c;
      bool end = false;
      while (read(sd.wake[0], &c, 1) == 1)
        if (c == WAKE_READY)
          {
            sd.pod_ready = true;
            maybe_ready();
          }
        else if (c == WAKE_STOPPING)
          {
            sd.stopping = true;
            if (sd.notify)
              (void) sd_notifyf(false, "STOPPING=1\nSTATUS=pod %s: stopping", sd.uuid);
          }
        else if (c == WAKE_END)
          end = true;
      if (end)
        {
          drain_journal();
          return NULL;
        }
    }
}

static void wake(char c)
{
  if (sd.wake[1] >= 0)
    (void) !write(sd.wake[1], &c, 1);
}

int nspawn_sd_start(podrun_error_t *err)
{
  /* the init's ends are nspawn's now */
  for (size_t k = 0; k < sd.n_fds; k++)
    (void) close(sd.fds[k]);
  sd.n_fds = 0;
  if (sd.journal_fd[1] >= 0)
    {
      close(sd.journal_fd[1]);
      sd.journal_fd[1] = -1;
    }
  if (!sd.notify && sd.journal_fd[0] < 0)
    return 0;
  /* from this, the main, thread: the parent-death signal is a thread's */
  if (sd.machine_journal && start_remote(err) < 0)
    return -1;
  int r = pthread_create(&sd.thread, NULL, relay, NULL);
  if (r != 0)
    {
      stop_remote();
      return podrun_error_set(err, r, "start the systemd relay");
    }
  sd.thread_started = true;
  return 0;
}

void nspawn_sd_pod_ready(void)
{
  wake(WAKE_READY);
}

void nspawn_sd_stopping(void)
{
  wake(WAKE_STOPPING); /* async-signal-safe: a write(2) */
}

void nspawn_sd_end(void)
{
  if (sd.thread_started)
    {
      wake(WAKE_STOPPING);
      wake(WAKE_END);
      (void) pthread_join(sd.thread, NULL);
      sd.thread_started = false;
    }
  stop_remote();
  /* the machine is gone from machined: its journal goes too (the host's
   * journal keeps the lines, and podrun logs) */
  _cleanup_error_ podrun_error_t rm_err = NULL;
  if (sd.machine_journal && fs_rm_rf_at(AT_FDCWD, MACHINE_JOURNAL_DIR, &rm_err) < 0)
    log_warning("%s", rm_err->msg);
  for (size_t i = 0; i < sd.n_apps; i++)
    if (sd.apps[i].notify >= 0)
      {
        _cleanup_free_ char *path = xasprintf("%s/%s", NOTIFY_DIR, sd.apps[i].name);
        close(sd.apps[i].notify);
        sd.apps[i].notify = -1;
        (void) unlink(path);
      }
}
