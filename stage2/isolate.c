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

static uint32_t scmp_action(enum syscalls_action a, int errnum)
{
  switch (a)
    {
    case SYSCALLS_ACT_ALLOW:
      return SCMP_ACT_ALLOW;
    case SYSCALLS_ACT_ERRNO:
      return SCMP_ACT_ERRNO((uint32_t) errnum);
    case SYSCALLS_ACT_KILL_THREAD:
      return SCMP_ACT_KILL_THREAD;
    case SYSCALLS_ACT_TRAP:
      return SCMP_ACT_TRAP;
    case SYSCALLS_ACT_LOG:
      return SCMP_ACT_LOG;
    case SYSCALLS_ACT_KILL_PROCESS:
    default:
      return SCMP_ACT_KILL_PROCESS;
    }
}

static const enum scmp_compare scmp_cmps[] = {
  [SYSCALLS_CMP_NE] = SCMP_CMP_NE, [SYSCALLS_CMP_LT] = SCMP_CMP_LT, [SYSCALLS_CMP_LE] = SCMP_CMP_LE,
  [SYSCALLS_CMP_EQ] = SCMP_CMP_EQ, [SYSCALLS_CMP_GE] = SCMP_CMP_GE, [SYSCALLS_CMP_GT] = SCMP_CMP_GT,
  [SYSCALLS_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* One rule for one call: its conditions together (AND); but when two test
 * the same argument, which libseccomp cannot say in one rule, each on its
 * own (OR), as runc does. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const struct syscalls_rule *rule, podrun_error_t *err)
{
  struct scmp_arg_cmp cmp[SYSCALLS_ARGS_MAX];
  bool same_arg = false;
  int r;

  for (size_t i = 0; i < rule->n_args; i++)
    {
      cmp[i] = (struct scmp_arg_cmp){ .arg = rule->args[i].index, .op = scmp_cmps[rule->args[i].op],
                                      .datum_a = rule->args[i].value, .datum_b = rule->args[i].value_two };
      for (size_t j = 0; j < i; j++)
        same_arg |= rule->args[j].index == rule->args[i].index;
    }
  if (!same_arg)
    r = seccomp_rule_add_array(ctx, action, nr, (unsigned) rule->n_args, cmp);
  else
    {
      r = 0;
      for (size_t i = 0; i < rule->n_args && (r == 0 || r == -EEXIST); i++)
        r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
    }
  if (r < 0 && r != -EEXIST)
    return podrun_error_set(err, -r, "seccomp: add a rule for syscall %d", nr);
  return 0;
}

int isolate_seccomp_filter(const struct syscalls_filter *f, podrun_error_t *err)
{
  uint32_t def = scmp_action(f->default_action, f->default_errnum);
  _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
  int r;

  if (!ctx)
    return podrun_error_set(err, ENOMEM, "seccomp_init");
  for (size_t i = 0; f->architectures && f->architectures[i]; i++)
    {
      uint32_t arch = seccomp_arch_resolve_name(f->architectures[i]);
      if (arch == 0)
        return podrun_error_set(err, 0, "seccomp: architecture \"%s\" unknown to libseccomp", f->architectures[i]);
      if ((r = seccomp_arch_add(ctx, arch)) < 0 && r != -EEXIST)
        return podrun_error_set(err, -r, "seccomp: architecture \"%s\"", f->architectures[i]);
    }
  if ((f->tsync && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) ||
      (f->log && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0) ||
      (f->spec_allow && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0))
    return podrun_error_set(err, -r, "seccomp: a filter flag this kernel or libseccomp does not have");
  for (size_t i = 0; i < f->n_rules; i++)
    {
      const struct syscalls_rule *rule = &f->rules[i];
      uint32_t action = scmp_action(rule->action, rule->errnum);
      if (action == def) /* what the default does already (libseccomp refuses such a rule) */
        continue;
      for (size_t j = 0; rule->names && rule->names[j]; j++)
        {
          int nr = seccomp_syscall_resolve_name(rule->names[j]);
          if (nr == __NR_SCMP_ERROR)
            return podrun_error_set(err, 0, "seccomp: unknown syscall \"%s\"", rule->names[j]);
          if (add_rule(ctx, action, nr, rule, err) < 0)
            return podrun_error_wrap(err, "\"%s\"", rule->names[j]);
        }
    }
  r = seccomp_load(ctx);
  if (r < 0)
    return podrun_error_set(err, -r, "seccomp: load filter");
  return 0;
}

int isolate_seccomp(enum isolate_seccomp_mode mode, char *const *syscalls, int errnum, podrun_error_t *err)
{
  enum syscalls_action deny = errnum ? SYSCALLS_ACT_ERRNO : SYSCALLS_ACT_KILL_PROCESS;
  bool retain = mode == ISOLATE_SECCOMP_RETAIN;
  char *execve[] = { (char *) "execve", NULL }, *rseq[] = { (char *) "rseq", NULL };
  struct syscalls_rule rules[3] = {
    { .names = (char **) syscalls, .action = retain ? SYSCALLS_ACT_ALLOW : deny, .errnum = errnum },
  };
  struct syscalls_filter f = {
    .profile = true, .default_action = retain ? deny : SYSCALLS_ACT_ALLOW, .default_errnum = errnum,
    .rules = rules, .n_rules = 1,
  };

  /* With a retain set, the exec of the app itself must still work; and
   * rseq, which the C library registers as a program starts (glibc 2.35
   * and later) and does without when told ENOSYS, fails so instead of
   * killing an app whose set does not list it. appc allows both: "the
   * minimum set of syscalls required for app life-cycle". */
  if (retain)
    rules[f.n_rules++] = (struct syscalls_rule){ .names = execve, .action = SYSCALLS_ACT_ALLOW };
  if (retain && !strv_contains(syscalls, "rseq") && errnum != ENOSYS)
    rules[f.n_rules++] = (struct syscalls_rule){ .names = rseq, .action = SYSCALLS_ACT_ERRNO, .errnum = ENOSYS };
  return isolate_seccomp_filter(&f, err);
}
