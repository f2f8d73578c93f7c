/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "json-util.h"
#include "pod.h"
#include "run-args.h"

/* <--dir>/pods */
char *pods_dir(void);

/* The image's effective app as pod manifest JSON (see app-manifest.c). */
int app_manifest_effective(const struct appc_image_manifest *im, const struct app_args *a, json_t **ret_app,
                           podrun_error_t *err);

struct stage1_features;
/* The stage1 image the flags select (default: the bundled nspawn), imported
 * on first use; checks its annotations, and reads what it supports. */
int stage1_select(struct store *s, char **ret_id, struct stage1_features *ret_features, podrun_error_t *err);

/* The path inside the stage1 rootfs of an entrypoint ("run", "enter", "stop", "gc"). */
int stage1_entrypoint_path(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                           podrun_error_t *err);

/* Absolute path of a stage1 entrypoint ("run", "enter", "stop", "gc") in the
 * store's render of that stage1 image. */
int stage1_entrypoint(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                      podrun_error_t *err);

/* Creates a pod from arg_run (images, flags or --pod-manifest) and leaves it
 * prepared and locked. On failure nothing of it remains. */
int pod_prepare(struct store *s, struct pod **ret, podrun_error_t *err);

/* Moves a prepared, locked pod to run/ and execs its stage1 (DESIGN §3),
 * closing *store (set to NULL) first. Returns only on failure. */
int pod_exec_stage1(struct store **store, struct pod *p, podrun_error_t *err);

/* podrun export: the app's rootfs as the pod left it (its image's tree under
 * the app's overlay layer), read-only, as a detached mount (an fd: no mount
 * point, nothing to unmount; it goes away when the fd is closed). */
int pod_mount_app_result(struct store *s, struct pod *p, const char *app, int *ret_mntfd, podrun_error_t *err);
