/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "syscalls.h"

struct syscalls_group
{
  const char *name;    /* "@scope/name" */
  const char *members; /* space-separated names and groups; NULL: handled in syscalls.c */
};

/* lib/syscall-groups.c; NULL-name terminated. */
extern const struct syscalls_group syscalls_groups[];
