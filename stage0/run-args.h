/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "podrun.h"

/* What `run` and `prepare` are asked for, parsed from rkt's argument form:
 *   [pod flags and app flags for every app] IMAGE [app flags] [-- args… ---] [IMAGE …] */
struct app_args
{
  char *image; /* as given: name, id, path or URL */
  const char *name;
  const char *exec;
  char **args; /* after "--", NULL when none were given */
  bool has_args;
  char **set_env;     /* NAME=VALUE */
  const char *env_file;
  char **environment; /* NAME=VALUE, the highest precedence */
  const char *working_dir;
  const char *user;
  const char *group;
  const char *supplementary_gids; /* "1,2,3" */
  bool readonly_rootfs;
  char **mounts;      /* volume=NAME,target=PATH */
  char **annotations; /* NAME=VALUE */
  char **user_annotations;
  char **user_labels;
  char **ulimits;     /* NAME=SOFT[:HARD] */
  const char *caps_retain, *caps_remove; /* "CAP_A,CAP_B" */
  const char *seccomp;                   /* "mode=retain|remove[,errno=E],SYSCALL,…" */
  const char *oom_score_adj;             /* -1000…1000 */
  const char *memory, *cpu, *cpu_shares; /* resource isolators */
};

struct run_args
{
  char **volumes;
  const char *hostname;
  const char *uuid_file_save;
  const char *pod_manifest;
  bool inherit_env;
  bool interactive;
  bool private_users;
  const char *net;
  char **ports; /* --port=NAME:[HOSTIP:]HOSTPORT */
  char **dns, **dns_search, **dns_opt, **hosts_entries; /* rkt's, for the app's resolv.conf and hosts */
  const char *stage1_flavor;
  const char *stage1_name;
  const char *stage1_path;
  const char *stage1_hash;
  const char *stage1_from_dir;
  struct app_args all; /* app flags given before the first image */
  struct app_args *apps;
  size_t n_apps;
};

extern struct run_args arg_run;
extern const struct opt run_opts[];

/* Parses the tail after the pod flags (images, their flags and args) into
 * arg_run; verb ("run", "prepare") names the command in errors. */
int run_args_parse_apps(const char *verb, int argc, char **argv, podrun_error_t *err);
void run_args_done(void);
