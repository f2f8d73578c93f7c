/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "inspect/inspect.h"
#include "pod.h"
#include "podrun.h"

/* What list and status show of a pod is read by the read side they share
 * with podrun-api (inspect/inspect.h). */

/* Calls the stage1 gc entrypoint, detaches what is still mounted below the
 * pod and removes its directory. The caller holds the pod's lock. */
int pod_destroy(struct store *s, struct pod *p, podrun_error_t *err);

/* A pod someone is starting: being created or prepared by its `run`, prepared
 * and locked (its run or run-prepared is about to start it), or running with
 * no pid yet (its stage1 is setting it up). */
bool pod_is_starting(struct pod *p);

/* Waits until a starting pod is no longer starting (it has a pid, or it
 * ended), for POD_START_WAIT_USEC at most; *p is reloaded as it moves. 1
 * when it is still starting then, 0 when not. */
#define POD_START_WAIT_USEC (10 * 1000000LL)
int pod_wait_started(struct pod **p, podrun_error_t *err);

/* Ends every process in the pod's cgroups (the stage1's included), as gc
 * does before it removes a pod. */
int pod_kill(struct pod *p, podrun_error_t *err);

/* Runs a stage1 entrypoint, argv[0], in the pod's directory and waits for
 * it. What it writes to stderr is held back: passed on when it succeeds, and
 * when it fails its last line is the one error ("stage1 stop: …"), so that a
 * failure is one line, not the stage1's and then podrun's. */
int pod_run_entrypoint(struct pod *p, const char *what, char **argv, podrun_error_t *err);

/* Exactly one pod: argv[0] (UUID or prefix), or uuid_file's UUID. */
int pods_load_one(int argc, char **argv, const char *uuid_file, struct pod **ret, podrun_error_t *err);

/* The app named `app`, or with app NULL the pod's only one. */
int pod_pick_app(struct pod *p, const char *app, char **ret, podrun_error_t *err);

/* Resolves every argument (UUID or prefix; with --uuid-file, that file's UUID). */
int pods_load_args(int argc, char **argv, const char *uuid_file, struct pod ***ret, size_t *ret_n,
                   podrun_error_t *err);

/* The images every pod directory uses (its apps' and its stage1), each with
 * the pod's UUID: ids[i] is used by uuids[i]. A pod's images stay in use
 * until the pod is removed: gc needs its stage1, export its apps' images. */
int pods_images_in_use(char ***ret_ids, char ***ret_uuids, podrun_error_t *err);
