/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "isolate.h"

#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int drop_bounding(uint64_t mask, podrun_error_t *err)
{
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if (!(mask & (1ULL << c)) && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
      return podrun_error_set(err, errno, "drop capability %d from the bounding set", c);
  return 0;
}

static int set_caps(uint64_t mask, bool ambient, podrun_error_t *err)
{
  cap_t c = cap_init();
  int r = 0;

  if (!c)
    return podrun_error_set(err, errno, "cap_init");
  for (cap_value_t v = 0; v <= CAP_LAST_CAP && r == 0; v++)
    if (mask & (1ULL << v))
      {
        r = cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
        r = r ?: cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
        r = r ?: cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
      }
  if (r == 0)
    r = cap_set_proc(c);
  cap_free(c);
  if (r < 0)
    return podrun_error_set(err, errno, "set capabilities");
  if (ambient)
    {
      (void) cap_reset_ambient();
      for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
        if ((mask & (1ULL << v)) && cap_set_ambient(v, CAP_SET) < 0)
          return podrun_error_set(err, errno, "raise ambient capability %d", v);
    }
  return 0;
}

int isolate_limit_caps(uint64_t mask, podrun_error_t *err)
{
  return drop_bounding(mask, err) < 0 ? -1 : set_caps(mask, false, err);
}

/* What we hold: a capability outside our bounding set cannot be given. */
static uint64_t bounding_mask(void)
{
  uint64_t m = 0;
  for (int c = 0; c < 64; c++)
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
      m |= 1ULL << c;
  return m;
}

int isolate_set_identity(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, uint64_t mask,
                         podrun_error_t *err)
{
  /* a change of uid or gid clears the parent-death signal (fly's SIGKILL,
   * so that the app dies with its supervisor): set it again after, and if
   * the parent went meanwhile, take it now */
  int pdeathsig = 0;
  pid_t parent = getppid();
  (void) prctl(PR_GET_PDEATHSIG, &pdeathsig, 0, 0, 0);
  mask &= bounding_mask();
  if (drop_bounding(mask, err) < 0)
    return -1;
  if (setgroups(n_groups, groups) < 0)
    return podrun_error_set(err, errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0)
    return podrun_error_set(err, errno, "setgid %u", (unsigned) gid);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return podrun_error_set(err, errno, "PR_SET_KEEPCAPS");
  if (setresuid(uid, uid, uid) < 0)
    return podrun_error_set(err, errno, "setuid %u", (unsigned) uid);
  if (pdeathsig && (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) < 0 || getppid() != parent))
    raise(pdeathsig);
  return set_caps(mask, uid != 0, err);
}

int isolate_no_new_privs(podrun_error_t *err)
{
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return podrun_error_set(err, errno, "PR_SET_NO_NEW_PRIVS");
  return 0;
}

int isolate_own_mount_ns(const char *root, podrun_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return podrun_error_set(err, errno, "a mount namespace of its own");
  /* a fresh bind of the root onto itself: the mounts a pod's user
   * namespace got from its creator are locked, and pivot_root refuses a
   * locked new root */
  if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return podrun_error_set(err, errno, "bind the app's root \"%s\"", root);
  return 0;
}

int isolate_pivot(const char *root, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fchdir(fd) < 0)
    return podrun_error_set(err, errno, "enter the app's root \"%s\"", root);
  /* pivot_root(".", "."): the old root ends up on top of the new one, where
   * umount2 detaches it (as runc and crun do) */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return podrun_error_set(err, errno, "pivot_root to \"%s\"", root);
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    return podrun_error_set(err, errno, "detach the old root");
  return 0;
}

int isolate_pivot_root(const char *root, podrun_error_t *err)
{
  return isolate_own_mount_ns(root, err) < 0 ? -1 : isolate_pivot(root, err);
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
}

int isolate_seccomp(enum isolate_seccomp_mode mode, char *const *syscalls, int errnum, podrun_error_t *err)
{
  uint32_t deny = errnum ? SCMP_ACT_ERRNO((uint32_t) errnum) : SCMP_ACT_KILL_PROCESS;
  uint32_t listed = mode == ISOLATE_SECCOMP_RETAIN ? SCMP_ACT_ALLOW : deny;
  _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(mode == ISOLATE_SECCOMP_RETAIN ? deny : SCMP_ACT_ALLOW);
  int r;

  if (!ctx)
    return podrun_error_set(err, ENOMEM, "seccomp_init");
  for (size_t i = 0; syscalls && syscalls[i]; i++)
    {
      int nr = seccomp_syscall_resolve_name(syscalls[i]);
      if (nr == __NR_SCMP_ERROR)
        return podrun_error_set(err, 0, "seccomp: unknown syscall \"%s\"", syscalls[i]);
      r = seccomp_rule_add(ctx, listed, nr, 0);
      if (r < 0 && r != -EEXIST)
        return podrun_error_set(err, -r, "seccomp: add rule for \"%s\"", syscalls[i]);
    }
  /* With a retain set, the exec of the app itself must still work; and
   * rseq, which the C library registers as a program starts (glibc 2.35
   * and later) and does without when told ENOSYS, fails so instead of
   * killing an app whose set does not list it. appc allows both: "the
   * minimum set of syscalls required for app life-cycle". */
  if (mode == ISOLATE_SECCOMP_RETAIN && (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0)) < 0 &&
      r != -EEXIST)
    return podrun_error_set(err, -r, "seccomp: allow execve");
  if (mode == ISOLATE_SECCOMP_RETAIN && !strv_contains(syscalls, "rseq") && errnum != ENOSYS &&
      (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(rseq), 0)) < 0 && r != -EEXIST)
    return podrun_error_set(err, -r, "seccomp: rseq");
  r = seccomp_load(ctx);
  if (r < 0)
    return podrun_error_set(err, -r, "seccomp: load filter");
  return 0;
}
