/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun run, prepare, run-prepared. */
#include "log.h"
#include "pod-setup.h"
#include "pods.h"

static int parse(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  return run_args_parse_apps(cmd->name, argc, argv, err);
}

int cmd_run(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_(pod_plan_done) struct pod_plan plan = { 0 };
  int r = parse(cmd, argc, argv, err);
  if (r >= 0 && arg_run.interactive && !isatty(STDIN_FILENO))
    r = podrun_error_set(err, 0, "--interactive: stdin is not a terminal");
  if (r >= 0)
    r = pod_prepare(podrun_store, &p, &plan, err);
  if (r >= 0 && (r = pod_exec_stage1(&podrun_store, p, &plan, err)) < 0 && p->state == POD_PREPARED)
    {
      /* returns only on failure: a pod that never left prepared (its
       * network refused, …) was this run's alone, and goes */
      _cleanup_error_ podrun_error_t e = NULL;
      if (pod_destroy(podrun_store, p, &e) < 0)
        log_warning("%s", e->msg);
    }
  run_args_done();
  return r < 0 ? -1 : 0;
}

int cmd_prepare(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_(pod_plan_done) struct pod_plan plan = { 0 };
  int r = parse(cmd, argc, argv, err);
  if (r >= 0)
    r = pod_prepare(podrun_store, &p, &plan, err);
  if (r >= 0)
    printf("%s\n", p->uuid);
  run_args_done();
  return r;
}

/* --insecure-options=capabilities, paths and seccomp are pod flags, fixed
 * at prepare: one that the pod was not prepared with is refused, not
 * dropped. */
static int check_insecure_run_options(struct pod *p, podrun_error_t *err)
{
  _cleanup_(stage1_run_args_done) struct stage1_run_args run = { 0 };
  const struct
  {
    unsigned bit;
    const char *name;
  } opts[] = {
    { INSECURE_CAPABILITIES, "capabilities" },
    { INSECURE_PATHS, "paths" },
    { INSECURE_SECCOMP, "seccomp" },
  };
  if (!(arg_insecure & (INSECURE_CAPABILITIES | INSECURE_PATHS | INSECURE_SECCOMP)))
    return 0;
  if (stage1_run_args_read(p->dirfd, &run, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  bool has[] = { run.disable_caps, run.disable_paths, run.disable_seccomp };
  for (size_t i = 0; i < ELEMENTSOF(opts); i++)
    if ((arg_insecure & opts[i].bit) && !has[i])
      return podrun_error_set(err, 0, "--insecure-options=%s: pod %s was prepared without it (it is a pod flag, "
                                      "fixed at prepare: give it to prepare)", opts[i].name, p->uuid);
  return 0;
}

int cmd_run_prepared(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  _cleanup_pod_ struct pod *p = NULL;

  if (pod_load(pods, argv[0], &p, err) < 0)
    return -1;
  if (p->state != POD_PREPARED)
    return podrun_error_set(err, 0, "pod %s is %s, not prepared", p->uuid, pod_state_to_string(p->state));
  if (check_insecure_run_options(p, err) < 0)
    return -1;
  if (pod_lock(p, true, true, err) < 0)
    return -1;
  /* It may have moved on between the look and the lock. */
  if (access(p->path, F_OK) < 0)
    return podrun_error_set(err, 0, "pod %s was started or removed meanwhile", p->uuid);
  return pod_exec_stage1(&podrun_store, p, NULL, err);
}
