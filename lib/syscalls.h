/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

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
