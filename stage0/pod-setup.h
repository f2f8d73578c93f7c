/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "json-util.h"
#include "pod.h"
#include "run-args.h"
#include "stage1-policy.h"
#include "stage1.h"

/* <--dir>/pods */
char *pods_dir(void);

/* The image's effective app (see app-manifest.c): the image's own app,
 * taken from im, with the flags of `run`/`prepare` applied. */
int app_manifest_effective(struct appc_image_manifest *im, const struct app_args *a, struct appc_app **ret_app,
                           podrun_error_t *err);

/* What prepare works out once and run uses as it is: the pod manifest as
 * stage0 builds it (a struct), serialised once and validated once by the
 * appc parser (manifest is that parse, text what the pod's `pod` file
 * holds), and the stage1 and images, each resolved, checked and rendered
 * once. run-prepared reads it back from the pod directory (pod_plan_load). */
struct pod_plan
{
  struct appc_pod_manifest *manifest;
  char *text;
  char *stage1_id;
  char *stage1_run;  /* the run entrypoint's path inside the stage1 rootfs */
  char **stage1_layers; /* the stage1 image's layer directories, bottom first */
  char ***app_layers;    /* each app's image's, in manifest order (NULL-terminated) */
  struct stage1_decision policy; /* the stage1 policy's, for the pod's images */
  char *stage1_label;    /* the stage1 as status shows it: a flavor, or the image's name */
  struct stage1_features stage1_features; /* what the stage1 declares it supports */
  /* A pod made from something else than images (podrun-oci's bundles):
   * each app's rootfs, a directory bound in place of its image's overlay
   * (NULL: none), and a network namespace to join (a path to an nsfs file,
   * bound as the pod's netns; the run flag --net=POD_NET_JOINED), NULL:
   * none. */
  char **app_roots;
  char *netns_path;
  /* The pod's netns file is bound already, to the network namespace of
   * the process that runs pod_exec_stage1 (podrun-oci's container process
   * made or joined it at create, for its hooks): start joins it as it is. */
  bool netns_bound;
};

/* path as a pod's network namespace to join: a network namespace, and not
 * this process's (the host's); *ret_fd: it, open. */
int pod_netns_open(const char *path, int *ret_fd, podrun_error_t *err);

/* The --net value of a pod that joins plan->netns_path. */
#define POD_NET_JOINED "joined-netns"
void pod_plan_done(struct pod_plan *plan);
void pod_layers_free(char ***v);

/* The pod manifest from arg_run (images and flags, or --pod-manifest), with
 * the apps' images' layers ready and the stage1 policy's defaults applied:
 * fills plan's manifest, text, app_layers and policy. */
int pod_manifest_build(struct store *s, struct pod_plan *plan, podrun_error_t *err);

struct stage1_features;
/* The stage1 image the flags select, else the one the policy's decision
 * chose (a bundled flavor or an image of the store), imported on first use;
 * a flag lighter than the decision's minimum is refused. Checks its
 * annotations once, reads what it supports, and gives its run entrypoint
 * and its label (what status shows: the flavor, or the image's name). */
int stage1_select(struct store *s, const struct stage1_decision *policy, char **ret_id,
                  struct stage1_features *ret_features, char **ret_run, char **ret_label, podrun_error_t *err);

/* The --stage1* flag given ("--stage1-path=FILE", its value escaped for a
 * message or not), NULL when none was. */
char *stage1_flag_given(bool escape);

/* The path inside the stage1 rootfs of an entrypoint ("run", "enter", "stop", "gc"). */
int stage1_entrypoint_path(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                           podrun_error_t *err);

/* Absolute path of a stage1 entrypoint ("run", "enter", "stop", "gc") in the
 * store's render of that stage1 image. */
int stage1_entrypoint(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                      podrun_error_t *err);

/* Creates a pod from arg_run (images, flags or --pod-manifest) and leaves it
 * prepared and locked, with what it was made of in *ret_plan. On failure
 * nothing of it remains. */
int pod_prepare(struct store *s, struct pod **ret, struct pod_plan *ret_plan, podrun_error_t *err);

/* The same for a plan whose manifest, text, app_roots (and netns_path) the
 * caller made (podrun-oci): chooses the stage1 from arg_run and the plan's
 * policy decision, checks the pod flags against it, and creates the pod,
 * prepared and locked. On failure nothing of it remains. */
int pod_prepare_plan(struct store *s, struct pod_plan *plan, struct pod **ret, podrun_error_t *err);

/* Moves a prepared, locked pod to run/ and execs its stage1 (DESIGN §3),
 * closing *store (set to NULL) first. plan: what pod_prepare gave, or NULL
 * to read it from the pod directory (run-prepared). Returns only on failure. */
int pod_exec_stage1(struct store **store, struct pod *p, struct pod_plan *plan, podrun_error_t *err);

/* podrun export: the app's rootfs as the pod left it (its image's tree under
 * the app's overlay layer), read-only, as a detached mount (an fd: no mount
 * point, nothing to unmount; it goes away when the fd is closed). */
int pod_mount_app_result(struct store *s, struct pod *p, const char *app, int *ret_mntfd, podrun_error_t *err);
