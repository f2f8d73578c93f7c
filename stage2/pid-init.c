/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage2 as pid 1 of the app's own pid namespace (--pid-init, nspawn): it
 * gives the app a mount namespace rooted at its rootfs with a /proc of
 * that pid namespace (so an app sees only its own processes, and no other
 * app's root through /proc/<pid>/root), forks the app, and stays as its
 * reaper: it passes the signals sent to it on to the app, reaps what the
 * app leaves, and exits with the app's code; its exit ends whatever else
 * is left in the namespace. */
#include "stage2-internal.h"

#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "isolate.h"
#include "log.h"
#include "volumes.h"

/* What is passed on to the app. Those the kernel itself sends (a
 * terminal's ^C reaches the app directly too) are not passed twice. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH };

static _noreturn_ void reap(pid_t app, int sfd)
{
  for (;;)
    {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) != sizeof(si))
        continue;
      if (si.ssi_signo != SIGCHLD)
        {
          if (si.ssi_code != SI_KERNEL)
            (void) kill(app, (int) si.ssi_signo);
          continue;
        }
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == app)
          _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
}

int stage2_pid_init(struct stage2_plan *p, const char *root, podrun_error_t *err)
{
  sigset_t mask, none;
  sigemptyset(&none);
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
    sigaddset(&mask, forwarded[i]);
  /* blocked before anything else (the init keeps them blocked across our
   * exec): as pid 1 with no handler, the kernel would drop them */
  int sfd = -1;
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
    return podrun_error_set(err, errno, "signalfd");
  if (getpid() != 1)
    return podrun_error_new(err, 0, "--pid-init: not pid 1 of a pid namespace");
  if (isolate_own_mount_ns(root, err) < 0 || volumes_mount_proc(root, !p->disable_paths, err) < 0 ||
      stage2_mask_paths(p, root, err) < 0 || isolate_pivot(root, err) < 0)
    return podrun_error_wrap(err, "app \"%s\"", p->name);
  fflush(NULL);
  pid_t app = fork();
  if (app < 0)
    return podrun_error_set(err, errno, "fork the app");
  if (app == 0)
    {
      close(sfd);
      sigprocmask(SIG_SETMASK, &none, NULL); /* the app starts with no signal blocked */
      return stage2_plan_exec(p, NULL, err);
    }
  /* nothing in the namespace may read or write this process's memory, and
   * it keeps no capability but the one that signals the app */
  (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (isolate_limit_caps(1ULL << CAP_KILL, err) < 0)
    {
      (void) kill(app, SIGKILL);
      return -1;
    }
  reap(app, sfd);
}
