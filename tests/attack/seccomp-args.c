/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Syscalls whose fate a seccomp profile decides by their arguments, each
 * made raw and reported as a line "NAME=ok" or "NAME=ERRNONAME"
 * (tests/e2e/oci-runtime.bats runs it under podman's default profile):
 *
 *   personality-query   personality(0xffffffff): only asks
 *   personality-odd     personality(0x0400000), READ_IMPLIES_EXEC, which
 *                       the profile does not list
 *   clone-newuser       clone(CLONE_NEWUSER | SIGCHLD): a child in a new
 *                       user namespace (it exits at once)
 *   clone-plain         clone(SIGCHLD): an ordinary child
 *
 * Static, libc only. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r)
{
  if (r < 0)
    printf("%s=%s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
  else
    printf("%s=ok\n", name);
}

static long do_clone(unsigned long flags)
{
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    waitpid((pid_t) pid, NULL, 0);
  return pid;
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp(argv[i], "personality-query") == 0)
        report(argv[i], syscall(SYS_personality, 0xffffffffUL));
      else if (strcmp(argv[i], "personality-odd") == 0)
        report(argv[i], syscall(SYS_personality, 0x0400000UL));
      else if (strcmp(argv[i], "clone-newuser") == 0)
        report(argv[i], do_clone(CLONE_NEWUSER));
      else if (strcmp(argv[i], "clone-plain") == 0)
        report(argv[i], do_clone(0));
      else
        {
          fprintf(stderr, "seccomp-args: unknown test %s\n", argv[i]);
          return 2;
        }
      fflush(stdout);
    }
  return 0;
}
