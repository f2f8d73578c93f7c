/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "error.h"
#include "stage1/common/stage1.h"

/* The fly stage1: chroot only, one app, the host's network and UTS
 * namespace (DESIGN §1). One binary; the entrypoint is its name. */
int fly_run(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int fly_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int fly_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err);
/* gc: its mounts die with its namespace; stage0 ends and removes its cgroup */
int fly_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* stage2, beside this binary's directory in the stage1 rootfs (or $PODRUN_STAGE2). */
char *fly_stage2_path(void);
