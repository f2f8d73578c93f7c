/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun run, prepare, run-prepared. */
#include "fs.h"
#include "log.h"
#include "pod-setup.h"
#include "pods.h"
#include "stage1-policy.h"

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

/* How much the stage1 prepare chose isolates: a flavor chosen by name (by
 * --stage1 or the policy) by its level; a stage1 image, or a pod without a
 * record, as fly. */
static enum stage1_level prepared_level(json_t *rec)
{
  const char *stage1 = rec ? json_string_value(json_object_get(rec, "stage1")) : NULL;
  const char *flag = rec ? json_string_value(json_object_get(rec, "flag")) : NULL;
  if (!stage1 || !stage1_is_flavor(stage1) || (flag && !startswith(flag, "--stage1=")))
    return STAGE1_LEVEL_FLY;
  return stage1_level_of(stage1);
}

/* The stage1 policy as it is now, for the pod's images: one tightened since
 * prepare refuses a stage1 lighter than it allows (the pod stays prepared). */
static int check_policy_now(struct pod *p, podrun_error_t *err)
{
  _cleanup_(stage1_policy_done) struct stage1_policy policy = { 0 };
  _cleanup_(stage1_decision_done) struct stage1_decision d = { 0 };
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_free_ const struct stage1_policy_rule **rules = NULL;
  _cleanup_json_ json_t *rec = NULL;
  _cleanup_free_ char *text = NULL, *what = NULL;
  _cleanup_strv_ char **names = NULL;
  size_t len = 0;

  if (stage1_policy_load_default(&policy, err) < 0)
    return -1;
  if (policy.n_rules == 0)
    return 0;
  if (fs_read_file_at(p->dirfd, "pod", JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &m, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  rules = xzalloc((m->n_apps + 1) * sizeof(*rules));
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_store_image_ struct store_image *img = NULL;
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;
      if (store_resolve(podrun_store, m->apps[i].image.id, &img, err) < 0 ||
          appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0 ||
          stage1_policy_match_image(&policy, podrun_store, img, im, &rules[i], err) < 0)
        return podrun_error_wrap(err, "pod %s: app %s", p->uuid, QUOTE(m->apps[i].name));
      names = strv_push(names, im->name);
    }
  if (stage1_policy_decide(rules, names, m->n_apps, &d, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  rec = inspect_pod_stage1_record(p);
  const char *stage1 = rec ? json_string_value(json_object_get(rec, "stage1")) : NULL;
  enum stage1_level level = prepared_level(rec);
  what = xasprintf("pod %s (prepared with stage1 %s%s)", p->uuid, stage1 ? QUOTE(stage1) : "unknown",
                   level == STAGE1_LEVEL_FLY && (!stage1 || !streq(stage1, "fly")) ? ", which counts as fly" : "");
  return stage1_decision_check(&d, what, level, err);
}

int cmd_run_prepared(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  _cleanup_pod_ struct pod *p = NULL;

  if (pod_load(pods, argv[0], &p, err) < 0)
    return -1;
  if (p->state != POD_PREPARED)
    return podrun_error_set(err, 0, "pod %s is %s, not prepared", p->uuid, pod_state_to_string(p->state));
  if (check_insecure_run_options(p, err) < 0 || check_policy_now(p, err) < 0)
    return -1;
  if (pod_lock(p, true, true, err) < 0)
    return -1;
  /* It may have moved on between the look and the lock. */
  if (access(p->path, F_OK) < 0)
    return podrun_error_set(err, 0, "pod %s was started or removed meanwhile", p->uuid);
  return pod_exec_stage1(&podrun_store, p, NULL, err);
}
