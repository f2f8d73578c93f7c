/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

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

/* A seccomp filter as an app's isolator asks for it, ready for libseccomp. */
struct syscalls_filter
{
  bool none;    /* no filter at all: a retain set with @appc.io/all */
  bool retain;  /* only `names` work; else `names` are denied */
  char **names; /* plain syscall names, groups expanded, each known to libseccomp */
  int errnum;   /* what a denied call returns; 0: the process is killed (appc's default) */
};

/* The value of an os/linux/seccomp-retain-set or -remove-set isolator
 * (isolator: its name), {"set": [NAME…], "errno": "ENAME"}: every name a
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
