/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/resource.h>

#include "error.h"
#include "json-util.h"

/* Resource limits of an app. appc has no isolator for them, so podrun adds
 * one, "podrun.io/rlimits", whose value maps lower-case resource names to
 * {"soft": N, "hard": N} (N a number or "unlimited"):
 *   {"name": "podrun.io/rlimits", "value": {"nofile": {"soft": 1024, "hard": 4096}}}
 * The app flag --ulimit=NAME=SOFT[:HARD] (podman's syntax) writes it. */
#define RLIMITS_ISOLATOR "podrun.io/rlimits"

struct rlimit_entry
{
  const char *name; /* "nofile" */
  int resource;     /* RLIMIT_NOFILE */
  struct rlimit limit;
};


/* "nofile=1024:4096" or "nofile=1024" (hard = soft) into the isolator value
 * obj (created when *obj is NULL), replacing that resource's entry. */
int rlimits_add_flag(json_t **obj, const char *spec, podrun_error_t *err);

/* The isolator's value, checked: known names, soft ≤ hard. */
int rlimits_parse(const json_t *value, struct rlimit_entry **ret, size_t *ret_n, podrun_error_t *err);
