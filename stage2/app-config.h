/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "isolate.h"
#include "rlimits.h"
#include "volumes.h"

/* One entry of podrun.io/bind-attributes. */
struct app_bind_attrs
{
  char *destination;
  uint64_t set, clear; /* MOUNT_ATTR_* */
  bool recursive;
};

/* What stage2 applies, read from an app's isolators and environment. */
struct app_config
{
  uint64_t caps;     /* capability mask */
  bool no_new_privs;
  bool seccomp_given;          /* the app has a seccomp isolator (even one that asks for no filter) */
  bool seccomp;                /* a filter is asked for */
  enum isolate_seccomp_mode seccomp_mode;
  char **seccomp_syscalls;
  int seccomp_errno;           /* 0: kill */
  struct syscalls_filter seccomp_profile; /* podrun.io/seccomp: .profile set, the three above unused */
  struct rlimit_entry *rlimits; /* podrun.io/rlimits */
  size_t n_rlimits;
  char **masked_paths;         /* podrun.io/masked-paths: "masked" */
  char **readonly_paths;       /* and "readonly" */
  struct volumes_tmpfs *tmpfs; /* podrun.io/tmpfs, in order */
  size_t n_tmpfs;
  struct app_bind_attrs *bind_attrs; /* podrun.io/bind-attributes */
  size_t n_bind_attrs;
  bool has_oom_score_adj;      /* os/linux/oom-score-adj */
  int oom_score_adj;
};

/* keep_caps_by_default: with no capability isolator, keep every capability
 * (fly: host tools) instead of appc's default set. */
int app_config_from_isolators(const struct appc_app *app, bool keep_caps_by_default, struct app_config *ret,
                              podrun_error_t *err);
void app_config_done(struct app_config *c);

/* Does the app name its capabilities (a retain or remove set)? */
bool app_config_caps_given(const struct appc_app *app);

/* The app's environment plus PATH (when unset) and AC_APP_NAME; nothing of
 * the caller's leaks in. */
char **app_config_environment(const struct appc_app *app, const char *app_name);
