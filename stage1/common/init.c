/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod init, every flavor's that runs apps in pid namespaces of their own
 * (pid 1 of an nspawn pod; in a VM, what the guest's init starts). It gives
 * every app the pod's /sys and /dev, runs its pre-start handlers, starts it
 * through stage2 with its stdout and stderr on pipes (copied to the init's own, which are
 * podrun's, and to the app's log, size-capped), reaps whatever exits (apps
 * and orphans), writes status/<app> as each app exits and runs its post-stop
 * handlers. The first app that fails stops the others
 * (SIGTERM, SIGKILL after a grace period) and its code is the pod's, as in
 * rkt; SIGTERM, SIGINT and SIGHUP are passed on to every app. */
#include "stage1.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs.h"
#include "log.h"
#include "pod.h"
#include "stage2/stage2.h"
#include "volumes.h"

#define STOP_GRACE_SEC 10
#define LOG_MAX (4 << 20) /* bytes per log file; one older file is kept */

struct app_proc
{
  const char *name;
  const struct appc_app *app;
  pid_t pid;    /* 0: not running */
  int out[2];   /* read ends of the app's stdout and stderr pipes; -1 when closed */
  int log;      /* logs/<app>.log */
  off_t logged; /* its size */
  /* what the app wrote on each stream after its last whole line: every
   * app writes to podrun's stdout and stderr, their lines must not mix */
  char pending[2][4096]; /* PIPE_BUF: the most one write keeps whole */
  size_t n_pending[2];
};

static const struct stage1_init_hooks *hooks;
static struct app_proc *apps;
static size_t n_apps;

static void signal_apps(int sig)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid > 0)
      kill(apps[i].pid, sig);
}

static void stop_apps(int sig)
{
  signal_apps(sig);
  alarm(STOP_GRACE_SEC); /* SIGALRM, read from the signalfd: SIGKILL what is left */
}

static char *app_root(const char *name)
{
  return xasprintf(STAGE1_APPS_DIR "/%s/rootfs", name);
}

static bool host_network;
/* --insecure-options, from run: passed on to stage2 (lib/pod.h) */
static bool disable_caps, disable_paths, disable_seccomp;

/* The child's stage2 for the app, in the app's cgroups (and so under its
 * limits) first, with the default seccomp filter, as pid 1 of the app's pid
 * namespace; cmd (NULL: the app's exec) is what stage2 runs. */
static _noreturn_ void exec_stage2(const char *app, char **cmd)
{
  _cleanup_error_ podrun_error_t err = NULL;
  if (hooks->cgroup_join && hooks->cgroup_join(app, &err) < 0)
    {
      log_error("app \"%s\": %s", app, err->msg);
      _exit(PODRUN_EXIT_ERROR);
    }
  _cleanup_free_ char *root = app_root(app);
  struct stage2_args a = {
    .pod_manifest = STAGE1_POD_MANIFEST,
    .app = app,
    .root = root,
    .default_seccomp = true,
    .pid_init = true,
    .host_network = host_network,
    .disable_caps = disable_caps,
    .disable_paths = disable_paths,
    .disable_seccomp = disable_seccomp,
    .cmd = cmd,
  };
  if (!cmd)
    stage1_sd_stage2_args(app, &a); /* its passed sockets, its notify socket */
  if (hooks->stage2_main)
    {
      if (stage1_as_if_executed("podrun-stage2") < 0)
        {
          log_error("app \"%s\": stage2 in process: %s", app, strerror(errno));
          _exit(PODRUN_EXIT_ERROR);
        }
      hooks->stage2_main(&a);
    }
  char **args = stage1_stage2_argv(STAGE1_STAGE2, &a);
  execv(STAGE1_STAGE2, args);
  log_error("exec %s: %s", STAGE1_STAGE2, strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

/* stage2 for the app in a child that is pid 1 of a pid namespace of the
 * app's own (stage2 stays there as the app's reaper): its exec, or cmd (an
 * event handler) when not NULL; stdout and stderr onto stdio[0] and
 * stdio[1] unless -1. */
static pid_t spawn_stage2(const char *name, char **cmd, const int stdio[2])
{
  pid_t pid = (pid_t) syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid != 0)
    return pid;
  for (int i = 0; i < 2; i++)
    if (stdio[i] >= 0 && dup2(stdio[i], i + 1) < 0)
      _exit(PODRUN_EXIT_ERROR);
  if (!cmd && stage1_sd_child_fds(name) < 0)
    _exit(PODRUN_EXIT_ERROR);
  /* the init's signals stay blocked across the exec: one sent to this pid 1
   * before stage2 reads them (a stop right after the start) stays pending
   * for it, where with no handler yet the kernel would drop it; stage2
   * gives the app an empty mask */
  exec_stage2(name, cmd);
}

static void reaped(pid_t pid, int status);

/* Runs the app's handlers named `event` one after the other, passing
 * whatever else exits meanwhile to reaped() (the apps' own exits are not
 * lost). Returns the first failing handler's code, else 0. */
static int run_handlers(const struct app_proc *p, const char *event)
{
  for (size_t i = 0; p->app && i < p->app->n_event_handlers; i++)
    {
      const struct appc_event_handler *h = &p->app->event_handlers[i];
      if (!streq(h->name, event))
        continue;
      pid_t pid = spawn_stage2(p->name, h->exec, (const int[2]) { -1, -1 });
      int status = 0;
      for (; pid > 0;)
        {
          pid_t got = waitpid(-1, &status, 0);
          if (got < 0 && errno == EINTR)
            continue;
          if (got < 0 || got == pid)
            break;
          reaped(got, status);
        }
      int code = pid > 0 ? stage1_exit_code(status) : PODRUN_EXIT_ERROR;
      if (code != 0)
        {
          log_error("app %s: %s handler %s exited %d", QUOTE(p->name), event, QUOTE(h->exec[0]), code);
          return code;
        }
    }
  return 0;
}

static int pod_code;
static bool pod_failed;

static char *pid_path(const struct app_proc *p)
{
  return xasprintf("%s/%s.pid", hooks->runtime_dir, p->name);
}

static void app_exited(struct app_proc *p, int code)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *path = xasprintf(STAGE1_STATUS_DIR "/%s", p->name), *pidfile = pid_path(p);

  if (p->pid > 0)
    (void) unlink(pidfile); /* enter finds no process of an exited app */
  p->pid = 0;
  if (code == 128 + SIGKILL && hooks->oom_killed && hooks->oom_killed(p->name))
    log_error("app %s was killed by the OOM killer: it went over its memory limit", QUOTE(p->name));
  if (stage1_write_code(path, code, &err) < 0)
    log_error("app %s: %s", QUOTE(p->name), err->msg);
  if (code != 0 && !pod_failed)
    {
      pod_failed = true;
      pod_code = code;
      /* for run, which takes the pod's code from the records, not from
       * a helper's exit status (see STAGE1_EXIT_CODE) */
      _cleanup_free_ char *first = xasprintf("%s/" STAGE1_EXIT_CODE, hooks->runtime_dir);
      podrun_error_free(&err);
      if (stage1_write_code(first, code, &err) < 0)
        log_error("%s", err->msg);
      stop_apps(SIGTERM); /* the first failure stops the pod */
    }
}

static void reaped(pid_t pid, int status)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid == pid)
      {
        app_exited(&apps[i], stage1_exit_code(status));
        (void) run_handlers(&apps[i], "post-stop");
        return;
      }
  /* an orphan of the pod: reaped, nothing more */
}

static void open_log(struct app_proc *p)
{
  _cleanup_free_ char *path = xasprintf(STAGE1_LOGS_DIR "/%s.log", p->name);
  struct stat st;
  p->log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  p->logged = p->log >= 0 && fstat(p->log, &st) == 0 ? st.st_size : 0;
  if (p->log < 0)
    log_error("app %s: log %s: %s", QUOTE(p->name), QUOTE(path), strerror(errno));
}

/* Appends to the app's log; past LOG_MAX the log becomes <app>.log.1 (an
 * older one goes) and a new one starts. */
static void write_log(struct app_proc *p, const char *buf, size_t len)
{
  _cleanup_error_ podrun_error_t err = NULL;
  if (p->log < 0)
    return;
  if (p->logged + (off_t) len > LOG_MAX)
    {
      _cleanup_free_ char *cur = xasprintf(STAGE1_LOGS_DIR "/%s.log", p->name);
      _cleanup_free_ char *old = xasprintf("%s.1", cur);
      close(p->log);
      (void) rename(cur, old);
      open_log(p);
      if (p->log < 0)
        return;
    }
  if (fs_write_all(p->log, buf, len, &err) < 0)
    log_error("app %s: log: %s", QUOTE(p->name), err->msg);
  p->logged += (off_t) len;
}

/* To podrun's stdout or stderr (i: 0 or 1), as the flavor passed them on,
 * and to the journal when the flavor gave it one. */
static void write_out(const struct app_proc *p, int i, const char *buf, size_t len)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (!len)
    return;
  stage1_sd_journal((size_t) (p - apps), i + 1, buf, len);
  if (!stage1_sd_journal_only())
    (void) fs_write_all(i + 1, buf, len, &ignored);
}

/* Copies what the app wrote on stream i (0: stdout, 1: stderr) to its log
 * at once, and to ours a whole line at a time (a line longer than the
 * buffer goes in pieces; an unfinished one at the stream's end); closes
 * the pipe at its end. */
static void copy_output(struct app_proc *p, int i)
{
  char *buf = p->pending[i];
  size_t *have = &p->n_pending[i];
  ssize_t n = read(p->out[i], buf + *have, sizeof(p->pending[i]) - *have);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      write_out(p, i, buf, *have);
      *have = 0;
      close(p->out[i]);
      p->out[i] = -1;
      return;
    }
  write_log(p, buf + *have, (size_t) n);
  *have += (size_t) n;
  const char *nl = memrchr(buf, '\n', *have);
  size_t done = nl ? (size_t) (nl - buf) + 1 : *have == sizeof(p->pending[i]) ? *have : 0;
  write_out(p, i, buf, done);
  memmove(buf, buf + done, *have - done);
  *have -= done;
}

static void start_app(struct app_proc *p, bool interactive)
{
  int pipes[2][2], ends[2] = { -1, -1 };
  for (int i = 0; i < 2 && !interactive; i++)
    if (pipe2(pipes[i], O_CLOEXEC) < 0)
      {
        log_error("app %s: pipe: %s", QUOTE(p->name), strerror(errno));
        app_exited(p, PODRUN_EXIT_ERROR);
        return;
      }
  for (int i = 0; i < 2 && !interactive; i++)
    {
      p->out[i] = pipes[i][0];
      ends[i] = pipes[i][1];
      (void) fcntl(p->out[i], F_SETFL, O_NONBLOCK);
    }
  if (!interactive)
    open_log(p);
  p->pid = spawn_stage2(p->name, NULL, ends);
  for (int i = 0; i < 2; i++)
    if (ends[i] >= 0)
      close(ends[i]);
  if (p->pid < 0)
    {
      p->pid = 0;
      app_exited(p, PODRUN_EXIT_ERROR);
      return;
    }
  /* for enter: the app's own process, whose namespaces, root, cgroups and
   * identity an entered command takes */
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *pidfile = pid_path(p), *text = xasprintf("%d\n", (int) p->pid);
  if (fs_write_file_atomic_at(AT_FDCWD, pidfile, text, strlen(text), 0644, &err) < 0)
    log_error("app %s: %s", QUOTE(p->name), err->msg);
  log_debug("started app %s as pid %d", QUOTE(p->name), (int) p->pid);
}

static int prepare_roots(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = app_root(m->apps[i].name);
      /* the app's /proc is its own pid namespace's, mounted by stage2;
       * --insecure-options=paths masks nothing */
      if (volumes_bind_api(root, false, err) < 0 ||
          (!disable_paths && volumes_mask_kernel_paths(root, "/sys/", err) < 0) ||
          volumes_finish_root(&m->apps[i], root, err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  return 0;
}

/* The lifeline, as socket activation's convention passes it (nspawn's one
 * way to hand its payload an fd; LISTEN_PID is 1, the init's pid in its pid
 * namespace): the read end of a pipe whose write end only run, the pod's
 * lock holder, holds. It reads end of file the moment run is gone, however
 * it went (kill -9 included): then the init ends the pod, and the kernel
 * every process of its pid namespace. The parent-death signal cannot say as
 * much: the init's parent may die before the init sets it, and pid 1 of a
 * pid namespace cannot ask (getppid() is 0). -1 when the init has none
 * (started by an older run). */
int stage1_listen_fd_lifeline(void)
{
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  unsigned long long n = 0;
  bool ours = fds && parse_uint(fds, 1024, &n) == 0 && n >= 1 && pid && streq(pid, "1");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDNAMES");
  if (!ours)
    return -1;
  /* after the lifeline: the journal's socket and the sockets for the apps
   * (systemd.c), which no app gets but through stage1_sd_child_fds */
  for (int fd = STAGE1_LIFELINE_FD; fd < STAGE1_LIFELINE_FD + (int) n; fd++)
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      return -1;
  stage1_sd_passed_fds((unsigned) n);
  return STAGE1_LIFELINE_FD;
}

static bool stage1_gone(int lifeline)
{
  struct pollfd p = { .fd = lifeline, .events = POLLIN };
  return lifeline >= 0 && poll(&p, 1, 0) > 0;
}

static bool any_running(void)
{
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].pid > 0)
      return true;
  return false;
}

/* The init needs no file handles: with CAP_DAC_READ_SEARCH, open_by_handle_at
 * on any of the pod's host bind mounts reaches the host's whole filesystem.
 * Dropped from what it holds, not from the bounding set, so that an app
 * that asks for it (a backup tool) still gets it through stage2. */
static int drop_handle_capability(podrun_error_t *err)
{
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
  const __u32 bit = CAP_TO_MASK(CAP_DAC_READ_SEARCH);
  if (syscall(SYS_capget, &h, d) < 0)
    return podrun_error_set(err, errno, "capget");
  d[CAP_TO_INDEX(CAP_DAC_READ_SEARCH)].effective &= ~bit;
  d[CAP_TO_INDEX(CAP_DAC_READ_SEARCH)].permitted &= ~bit;
  d[CAP_TO_INDEX(CAP_DAC_READ_SEARCH)].inheritable &= ~bit;
  if (syscall(SYS_capset, &h, d) < 0)
    return podrun_error_set(err, errno, "drop CAP_DAC_READ_SEARCH");
  return 0;
}

/* The init's arguments (those it does not know are the flavor's, for its
 * prepare hook); *ret_interactive: the one app gets the console (our stdio)
 * itself, no pipes, no log. */
static void parse_args(int argc, char **argv, bool *ret_interactive)
{
  for (int i = 1; i < argc; i++)
    if (streq(argv[i], "--debug"))
      log_set_level(LOG_LEVEL_DEBUG);
    else if (streq(argv[i], "--host-network"))
      host_network = true;
    else if (streq(argv[i], "--interactive"))
      *ret_interactive = true;
    else if (streq(argv[i], STAGE1_DISABLE_CAPS))
      disable_caps = true;
    else if (streq(argv[i], STAGE1_DISABLE_PATHS))
      disable_paths = true;
    else if (streq(argv[i], STAGE1_DISABLE_SECCOMP))
      disable_seccomp = true;
    else
      (void) stage1_sd_arg(argv[i]);
}

/* A file of the runtime directory that says how far the init got. */
static void mark(const char *name)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *path = xasprintf("%s/%s", hooks->runtime_dir, name);
  if (fs_write_file_atomic_at(AT_FDCWD, path, "", 0, 0644, &err) < 0)
    log_error("%s", err->msg);
}

/* The signals the init acts on, blocked and read from a signalfd. */
static int signals_fd(podrun_error_t *err)
{
  static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGALRM, SIGCHLD };
  sigset_t mask;
  sigemptyset(&mask);
  for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
    sigaddset(&mask, sigs[i]);
  int fd = -1;
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
    return podrun_error_set(err, errno, "signalfd");
  return fd;
}

/* Each app in the manifest's order, after its pre-start handlers, until
 * one fails. */
static void start_apps(const struct appc_pod_manifest *m, bool interactive)
{
  n_apps = m->n_apps;
  apps = xzalloc(sizeof(*apps) * (n_apps + 1));
  for (size_t i = 0; i < n_apps; i++)
    {
      apps[i].name = m->apps[i].name;
      apps[i].app = m->apps[i].app;
      apps[i].out[0] = apps[i].out[1] = apps[i].log = -1;
    }
  for (size_t i = 0; i < n_apps && !pod_failed; i++)
    {
      int code = run_handlers(&apps[i], "pre-start");
      if (code != 0)
        app_exited(&apps[i], code);
      else
        start_app(&apps[i], interactive);
    }
}

static void on_signal(int sfd)
{
  struct signalfd_siginfo si;
  if (read(sfd, &si, sizeof(si)) != sizeof(si))
    return;
  if (si.ssi_signo == SIGCHLD)
    {
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        reaped(pid, status);
    }
  else if (si.ssi_signo == SIGALRM)
    signal_apps(SIGKILL);
  else
    stop_apps((int) si.ssi_signo);
}

/* Until every app has exited and its output is copied, or the lifeline
 * says the pod's stage1 is gone. */
static void supervise(int sfd, int lifeline)
{
  _cleanup_free_ struct pollfd *fds = xzalloc(sizeof(*fds) * (2 * n_apps + 2));
  for (;;)
    {
      size_t nfds = 0;
      bool running = any_running();
      fds[nfds++] = (struct pollfd) { .fd = sfd, .events = POLLIN };
      fds[nfds++] = (struct pollfd) { .fd = lifeline, .events = POLLIN }; /* -1: ignored */
      for (size_t i = 0; i < n_apps; i++)
        for (int k = 0; k < 2; k++)
          if (apps[i].out[k] >= 0)
            fds[nfds++] = (struct pollfd) { .fd = apps[i].out[k], .events = POLLIN };
      if (!running && nfds == 2)
        return;
      /* once every app is gone, what is still buffered is copied, then the
       * pod ends even if an orphan keeps a pipe open */
      if (poll(fds, nfds, running ? -1 : 0) <= 0)
        {
          if (!running)
            return;
          continue;
        }
      if (fds[0].revents & POLLIN)
        on_signal(sfd);
      if (fds[1].revents)
        {
          log_error("the pod's stage1 is gone: ending the pod");
          signal_apps(SIGKILL);
          pod_code = PODRUN_EXIT_ERROR;
          return;
        }
      for (size_t i = 0; i < n_apps; i++)
        for (int k = 0; k < 2; k++)
          if (apps[i].out[k] >= 0)
            for (size_t f = 2; f < nfds; f++)
              if (fds[f].fd == apps[i].out[k] && (fds[f].revents & (POLLIN | POLLHUP | POLLERR)))
                copy_output(&apps[i], k);
    }
}

int stage1_pod_init(const struct stage1_init_hooks *h, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_close_ int sfd = -1;
  bool interactive = false;

  /* The pod dies with run, the pod lock holder: the lifeline says when.
   * And with whatever started the init, its parent by now (nspawn: its
   * helper that cloned us waited for us before letting us exec). */
  hooks = h;
  int lifeline = h->lifeline ? h->lifeline() : -1;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    return podrun_error_set(err, errno, "PR_SET_PDEATHSIG");
  if (drop_handle_capability(err) < 0)
    return -1;
  if (stage1_gone(lifeline))
    return podrun_error_new(err, 0, "the pod's stage1 is gone: not starting the pod");
  parse_args(argc, argv, &interactive);
  /* what is mounted in one app's root (its /proc masks, its volumes) stays
   * there: nothing propagates between the apps, nor back to the host */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return podrun_error_set(err, errno, "make the pod's mounts slaves");
  if (stage1_read_pod(STAGE1_POD_MANIFEST, &m, err) < 0 || (h->prepare && h->prepare(argc, argv, m, err) < 0) ||
      prepare_roots(m, err) < 0 || (sfd = signals_fd(err)) < 0)
    return -1;
  start_apps(m, interactive);
  mark(STAGE1_READY);
  supervise(sfd, lifeline);
  mark(STAGE1_DONE);
  for (size_t i = 0; i < n_apps; i++)
    if (apps[i].log >= 0)
      close(apps[i].log);
  free(apps);
  apps = NULL;
  return pod_code;
}
