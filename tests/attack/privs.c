/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a process may do, as key=value lines: identity, capabilities,
 * no_new_privs, seccomp (its mode and, by behaviour, which syscalls it is
 * denied), user namespace maps, cgroups and namespaces. Tests run it as an
 * app and through `podrun enter` and compare the two reports: enter must
 * never have more than the app. Static, libc only.
 *
 *   privs                    print the report on stdout
 *   privs --out=FILE         write it to FILE (atomically: FILE.tmp, renamed)
 *   privs --out=FILE --sleep and then sleep until killed (an app to enter)
 *
 * Every syscall is tried with arguments that can only fail (a bad command,
 * flag, pointer or magic): its errno says whether a filter or the kernel's
 * permission check stopped it ("EPERM", "EACCES") or the arguments did. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BAD ((long) -1) /* an address nothing is mapped at: EFAULT */

struct try
{
  const char *name;
  long nr;
  long a[6];
};

/* Arguments chosen so that each call fails even for a fully privileged caller. */
static const struct try tries[] = {
  { "keyctl", SYS_keyctl, { 0x7fff } },                   /* no such command */
  { "add_key", SYS_add_key, { BAD, BAD, 0, 0, 0 } },      /* bad type pointer */
  { "request_key", SYS_request_key, { BAD, BAD, 0, 0 } }, /* bad type pointer */
  { "bpf", SYS_bpf, { 0x7fff, 0, 0 } },                   /* no such command */
  { "socket", SYS_socket, { -1, -1, -1 } },               /* no such family */
  { "unshare", SYS_unshare, { -1 } },                     /* unknown flags */
  { "setns", SYS_setns, { -1, 0 } },                      /* bad fd */
  { "mount", SYS_mount, { BAD, BAD, BAD, 0, 0 } },
  { "umount2", SYS_umount2, { BAD, -1 } },                /* unknown flags */
  { "pivot_root", SYS_pivot_root, { BAD, BAD } },
  { "chroot", SYS_chroot, { BAD } },
  { "ptrace", SYS_ptrace, { 0x7fff, 0, 0, 0 } },          /* no such request, pid 0 */
  { "personality", SYS_personality, { 0xffffffff } },     /* a query: changes nothing */
  { "kexec_load", SYS_kexec_load, { 0, 0, 0, -1 } },      /* unknown flags */
  { "kexec_file_load", SYS_kexec_file_load, { -1, -1, 0, BAD, -1 } },
  { "open_by_handle_at", SYS_open_by_handle_at, { -1, BAD, 0 } },
  { "name_to_handle_at", SYS_name_to_handle_at, { -1, BAD, BAD, BAD, -1 } },
  { "init_module", SYS_init_module, { BAD, 0, BAD } },
  { "finit_module", SYS_finit_module, { -1, BAD, -1 } },
  { "delete_module", SYS_delete_module, { BAD, 0 } },
  { "swapon", SYS_swapon, { BAD, 0 } },
  { "swapoff", SYS_swapoff, { BAD } },
  { "reboot", SYS_reboot, { 0, 0, 0, 0 } },               /* wrong magic */
  { "clock_settime", SYS_clock_settime, { -1, BAD } },    /* no such clock */
  { "clock_adjtime", SYS_clock_adjtime, { -1, BAD } },
  { "settimeofday", SYS_settimeofday, { BAD, BAD } },
  { "acct", SYS_acct, { BAD } },
  { "quotactl", SYS_quotactl, { -1, BAD, 0, BAD } },
  { "perf_event_open", SYS_perf_event_open, { BAD, 0, -1, -1, -1 } },
  { "userfaultfd", SYS_userfaultfd, { -1 } },             /* unknown flags */
  { "process_vm_readv", SYS_process_vm_readv, { 0, BAD, 1, BAD, 1, -1 } },
  { "kcmp", SYS_kcmp, { 0, 0, -1, 0, 0 } },               /* no such type */
  { "fsopen", SYS_fsopen, { BAD, -1 } },
  { "open_tree", SYS_open_tree, { -1, BAD, -1 } },
  { "move_mount", SYS_move_mount, { -1, BAD, -1, BAD, -1 } },
  { "mount_setattr", SYS_mount_setattr, { -1, BAD, -1, BAD, 0 } },
#ifdef SYS_iopl
  { "iopl", SYS_iopl, { 4 } },                            /* no such level */
#endif
#ifdef SYS_ioperm
  { "ioperm", SYS_ioperm, { 0x10000, 1, 1 } },            /* past the I/O bitmap */
#endif
  { "sethostname", SYS_sethostname, { BAD, -1 } },
  { "setdomainname", SYS_setdomainname, { BAD, -1 } },
  { "get_mempolicy", SYS_get_mempolicy, { 0, 0, 0, 0, -1 } },
  { "move_pages", SYS_move_pages, { 0, 1, BAD, 0, BAD, -1 } },
#ifdef SYS_sysfs
  { "sysfs", SYS_sysfs, { 0x7fff } },
#endif
#ifdef SYS_ustat
  { "ustat", SYS_ustat, { 0, BAD } },
#endif
#ifdef SYS_uselib
  { "uselib", SYS_uselib, { BAD } },
#endif
};

static const char *errname(int e)
{
  static char other[32];
  static const struct { int e; const char *n; } names[] = {
    { EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },   { EIO, "EIO" },
    { EBADF, "EBADF" },   { EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EINVAL, "EINVAL" },
    { ENOSYS, "ENOSYS" }, { ENOTSUP, "EOPNOTSUPP" }, { EAFNOSUPPORT, "EAFNOSUPPORT" },
    { ENOKEY, "ENOKEY" }, { ENOEXEC, "ENOEXEC" }, { ENOMEM, "ENOMEM" }, { EBUSY, "EBUSY" },
    { ENOTDIR, "ENOTDIR" }, { E2BIG, "E2BIG" }, { ENAMETOOLONG, "ENAMETOOLONG" },
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].e == e)
      return names[i].n;
  snprintf(other, sizeof(other), "E%d", e);
  return other;
}

/* The file's lines joined with ';', runs of blanks made one space. */
static void file_line(FILE *out, const char *key, const char *path)
{
  char buf[8192];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (fd >= 0)
    close(fd);
  if (n < 0)
    {
      fprintf(out, "%s=!%s\n", key, errname(errno));
      return;
    }
  buf[n] = '\0';
  fprintf(out, "%s=", key);
  int blank = 1; /* drops leading blanks */
  for (char *p = buf; *p; p++)
    {
      if (*p == '\n')
        {
          if (p[1])
            fputc(';', out);
          blank = 1;
        }
      else if (*p == ' ' || *p == '\t')
        {
          if (!blank)
            fputc(' ', out);
          blank = 1;
        }
      else
        {
          fputc(*p, out);
          blank = 0;
        }
    }
  fputc('\n', out);
}

static void status_fields(FILE *out)
{
  static const char *const wanted[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                                        "NoNewPrivs", "Seccomp", "Seccomp_filters" };
  char line[512];
  FILE *f = fopen("/proc/self/status", "re");
  while (f && fgets(line, sizeof(line), f))
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
      {
        size_t l = strlen(wanted[i]);
        if (strncmp(line, wanted[i], l) == 0 && line[l] == ':')
          {
            char *v = line + l + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            fprintf(out, "%s=%s\n", wanted[i], v);
          }
      }
  if (f)
    fclose(f);
}

static void namespaces(FILE *out)
{
  static const char *const ns[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };
  for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
    {
      char p[64], target[128];
      snprintf(p, sizeof(p), "/proc/self/ns/%s", ns[i]);
      ssize_t n = readlink(p, target, sizeof(target) - 1);
      target[n > 0 ? n : 0] = '\0';
      fprintf(out, "ns.%s=%s\n", ns[i], n > 0 ? target : errname(errno));
    }
}

static void identity(FILE *out)
{
  gid_t groups[256];
  int n = getgroups(256, groups);
  fprintf(out, "uid=%u\ngid=%u\ngroups=", (unsigned) getuid(), (unsigned) getgid());
  for (int i = 0; i < n; i++)
    fprintf(out, "%s%u", i ? "," : "", (unsigned) groups[i]);
  fputc('\n', out);
}

static void syscalls(FILE *out)
{
  for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
    {
      const struct try *t = &tries[i];
      errno = 0;
      long r = syscall(t->nr, t->a[0], t->a[1], t->a[2], t->a[3], t->a[4], t->a[5]);
      if (r < 0)
        fprintf(out, "sys.%s=%s\n", t->name, errname(errno));
      else
        fprintf(out, "sys.%s=ok\n", t->name);
    }
}

static void report(FILE *out)
{
  identity(out);
  status_fields(out);
  file_line(out, "uid_map", "/proc/self/uid_map");
  file_line(out, "gid_map", "/proc/self/gid_map");
  file_line(out, "setgroups", "/proc/self/setgroups");
  file_line(out, "cgroup", "/proc/self/cgroup");
  file_line(out, "oom_score_adj", "/proc/self/oom_score_adj");
  namespaces(out);
  syscalls(out);
  fprintf(out, "end=1\n");
}

int main(int argc, char **argv)
{
  const char *path = NULL;
  int sleep_after = 0;
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--out=", 6) == 0)
      path = argv[i] + 6;
    else if (strcmp(argv[i], "--sleep") == 0)
      sleep_after = 1;
    else
      {
        fprintf(stderr, "usage: privs [--out=FILE [--sleep]]\n");
        return 2;
      }
  if (!path)
    {
      report(stdout);
      return fflush(stdout) == 0 ? 0 : 1;
    }
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "we");
  if (!f)
    {
      perror(tmp);
      return 1;
    }
  report(f);
  if (fclose(f) != 0 || rename(tmp, path) < 0)
    {
      perror(path);
      return 1;
    }
  while (sleep_after)
    pause();
  return 0;
}
