/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* Linux capabilities by name, as appc writes them ("CAP_CHOWN"), for every
 * stage: stage0 checks the names a flag gives before any pod exists, stage2
 * turns an app's isolators into the sets it applies. No libcap here: the
 * numbers are the kernel's (<linux/capability.h>). */

/* appc's default set (spec: os/linux/capabilities-retain-set), NULL-terminated. */
extern const char *const caps_appc_default[];

/* "CAP_CHOWN" (any case) → 0; -1 for a name this build does not know. */
int caps_from_name(const char *name);
/* 0 → "CAP_CHOWN"; NULL for a number this build does not know. */
const char *caps_to_name(int cap);

/* Every capability this build knows (bits 0…CAP_LAST_CAP). */
uint64_t caps_all(void);

/* The app's capability set: `retain` (NULL: appc's default set), minus
 * `remove`. Unknown names are an error naming them. */
int caps_compute(char *const *retain, char *const *remove, uint64_t *ret_mask, podrun_error_t *err);
