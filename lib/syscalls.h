/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Syscall and errno names for seccomp filters, for every stage: stage0
 * checks the names --seccomp gives before any pod exists, stage2 builds the
 * filter from them (with libseccomp, which only stage2 links). */

/* Is this a syscall name libseccomp knows, on any architecture? The table
 * is generated at build time from the libseccomp stage2 is built with. */
bool syscalls_is_known(const char *name);

/* "ENOSYS" → ENOSYS: every name of this C library's errno values and the
 * usual aliases (ENOTSUP, EWOULDBLOCK, EDEADLOCK); -1 for others. */
int syscalls_errno_from_name(const char *name);

/* The filter an nspawn pod's app gets when it asks for none: a remove set
 * (EPERM) of what Docker's default profile and rkt's default blocklist
 * deny; see Documentation/stage1-contract.md. NULL-terminated. */
extern const char *const syscalls_default_blocklist[];

/* What a filter does with a call (libseccomp's SCMP_ACT_*, which stage2 maps
 * them to). */
enum syscalls_action
{
  SYSCALLS_ACT_ALLOW,
  SYSCALLS_ACT_ERRNO,        /* the call fails with the rule's errnum */
  SYSCALLS_ACT_KILL_THREAD,  /* SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD */
  SYSCALLS_ACT_KILL_PROCESS,
  SYSCALLS_ACT_TRAP,         /* SIGSYS */
  SYSCALLS_ACT_LOG,          /* allowed, and logged by the kernel */
};

/* A comparison of one argument (libseccomp's SCMP_CMP_*): MASKED_EQ is
 * (arg & value) == value_two. */
enum syscalls_cmp
{
  SYSCALLS_CMP_NE,
  SYSCALLS_CMP_LT,
  SYSCALLS_CMP_LE,
  SYSCALLS_CMP_EQ,
  SYSCALLS_CMP_GE,
  SYSCALLS_CMP_GT,
  SYSCALLS_CMP_MASKED_EQ,
};

#define SYSCALLS_ARGS_MAX 6

struct syscalls_arg
{
  unsigned index; /* 0..5 */
  enum syscalls_cmp op;
  uint64_t value, value_two;
};

/* One rule: the calls `names` whose arguments all match `args` (none: any
 * call) get `action`. */
struct syscalls_rule
{
  char **names; /* known to libseccomp on some architecture */
  enum syscalls_action action;
  int errnum; /* SYSCALLS_ACT_ERRNO's */
  struct syscalls_arg args[SYSCALLS_ARGS_MAX];
  size_t n_args;
};

/* A seccomp filter as an app's isolator asks for it, ready for libseccomp:
 * an appc set (retain or remove `names`, each denied the same), or a whole
 * profile (podrun.io/seccomp: a default action and rules with argument
 * conditions, as an OCI runtime's linux.seccomp says it). */
struct syscalls_filter
{
  bool none;    /* no filter at all: a retain set with @appc.io/all */
  bool retain;  /* only `names` work; else `names` are denied */
  char **names; /* plain syscall names, groups expanded, each known to libseccomp */
  int errnum;   /* what a denied call returns; 0: the process is killed (appc's default) */

  bool profile; /* the fields below, not the four above */
  enum syscalls_action default_action;
  int default_errnum;
  struct syscalls_rule *rules;
  size_t n_rules;
  char **architectures; /* libseccomp's names ("x86", "x32"), besides the native one */
  bool tsync, log, spec_allow; /* SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW */
  size_t n_unknown;            /* names the profile gave that no architecture has: left out */
};

/* The podrun isolator that holds a profile. */
#define SYSCALLS_PROFILE_ISOLATOR "podrun.io/seccomp"

/* A profile (the value of podrun.io/seccomp), in the OCI runtime spec's
 * linux.seccomp form: {"defaultAction": "SCMP_ACT_…", "defaultErrnoRet": N,
 * "architectures": ["SCMP_ARCH_…"], "flags": ["SECCOMP_FILTER_FLAG_…"],
 * "syscalls": [{"names": […], "action": "SCMP_ACT_…", "errnoRet": N,
 * "args": [{"index": I, "value": V, "valueTwo": V2, "op": "SCMP_CMP_…"}]}]}.
 * Anything it does not know (an action, an operator, a flag, a field such as
 * listenerPath) is an error; a syscall name libseccomp does not know is left
 * out (profiles list newer calls), as runc and crun do. */
int syscalls_filter_from_profile(const json_t *value, struct syscalls_filter *ret, podrun_error_t *err);

/* The value of an os/linux/seccomp-retain-set or -remove-set isolator
 * (isolator: its name; podrun.io/seccomp: syscalls_filter_from_profile), {"set": [NAME…], "errno": "ENAME"}: every name a
 * syscall libseccomp knows or a group (Documentation/seccomp-groups.md),
 * expanded. Of appc's groups, @appc.io/all belongs in a retain set (no
 * filter), @appc.io/empty in a remove set (podrun's default filter, EPERM
 * unless errno says otherwise); each masks the rest of its set. */
int syscalls_filter_from_isolator(const char *isolator, const json_t *value, struct syscalls_filter *ret,
                                  podrun_error_t *err);
/* The same from the set's names (NULL-terminated) and its errno name (NULL
 * or "": kill). */
int syscalls_filter_from_set(char *const *set, bool retain, const char *errname, struct syscalls_filter *ret,
                             podrun_error_t *err);
void syscalls_filter_done(struct syscalls_filter *f);

/* A group's members as the table has them (names and groups, space-
 * separated); NULL for a name that is no group or one without a list
 * (appc's two, podrun's default, which is syscalls_default_blocklist).
 * syscalls_group_name(i): the i-th group, NULL past the last. */
const char *syscalls_group_members(const char *group);
const char *syscalls_group_name(size_t i);
