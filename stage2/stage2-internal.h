/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app-config.h"
#include "stage2.h"

/* What stage2 will apply to one app, computed from the pod manifest before
 * anything is applied (enter computes it on the host side). */
struct stage2_plan
{
  struct appc_pod_manifest *manifest;
  const struct appc_app *app;
  const char *name;
  struct app_config config;
  char **env;
  char **argv; /* the app's exec or the given command (borrowed) */
  /* enter: the running app's identity, instead of resolving app->user and
   * app->group in the image again */
  bool identity_given;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t n_groups;
  bool disable_paths; /* --pid-init's /proc: unmasked */
  bool listen_pid;    /* LISTEN_PID=the app's pid goes into env */
};

int stage2_plan_make(const struct stage2_args *a, struct stage2_plan *ret, podrun_error_t *err);
void stage2_plan_done(struct stage2_plan *p);

/* Applies the plan to this process: its own mount namespace rooted at root
 * (NULL: this process is in the app's root already), working directory,
 * rlimits, identity, capabilities, no_new_privs, seccomp; then execs the
 * command. Returns only on failure. */
int stage2_plan_exec(struct stage2_plan *p, const char *root, podrun_error_t *err);

/* --pid-init: the app's mount namespace with a /proc of this pid namespace,
 * then the app in a child, this process its reaper until it exits (with the
 * app's code). Returns only on failure (in the parent or the app's child). */
int stage2_pid_init(struct stage2_plan *p, const char *root, podrun_error_t *err);

/* The mount attributes of the app's binds (podrun.io/bind-attributes), its
 * tmpfs mounts (podrun.io/tmpfs), then its masked and read-only
 * paths (podrun.io/masked-paths) in root,
 * once its /proc and /sys are there and before the pivot into it; none
 * masks with --insecure-options=paths. */
int stage2_mask_paths(const struct stage2_plan *p, const char *root, podrun_error_t *err);
