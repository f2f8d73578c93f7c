/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

struct stage2_args
{
  const char *pod_manifest;
  const char *app;
  const char *root;
  bool keep_caps_by_default;
  bool default_seccomp; /* an app that asks for no filter gets isolate_default_seccomp_blocklist */
  char **cmd; /* after "--": replaces the app's exec (enter) */
};

int stage2_parse_args(int argc, char **argv, struct stage2_args *ret, podrun_error_t *err);

/* Applies everything to this process and execs the app; returns only on failure. */
int stage2_exec(const struct stage2_args *a, podrun_error_t *err);
