/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* One error convention for the whole tree (crun's): a function that can fail
 * takes `podrun_error_t *err` last, returns a negative value and sets *err
 * exactly once on failure; on success *err is untouched. The message carries
 * its context; callers add more with podrun_error_wrap(). */
struct podrun_error
{
  int status; /* errno that caused it, 0 if none */
  char *msg;
};
typedef struct podrun_error *podrun_error_t;

/* Sets *err to "<fmt>" or, when errnum != 0, "<fmt>: strerror(errnum)".
 * Always returns -1 so it can be returned directly. */
int podrun_error_set(podrun_error_t *err, int errnum, const char *fmt, ...) _printf_(3, 4);
/* Like podrun_error_set, for conditions the message itself explains
 * ("not found in the store"): records status, never appends strerror. */
int podrun_error_new(podrun_error_t *err, int status, const char *fmt, ...) _printf_(3, 4);
/* Prefixes the existing message with "<fmt>: ". Returns -1. */
int podrun_error_wrap(podrun_error_t *err, const char *fmt, ...) _printf_(2, 3);
void podrun_error_free(podrun_error_t *err);

#define _cleanup_error_ _cleanup_(podrun_error_free)

/* The exit code of podrun's own failures (never an app's). */
#define PODRUN_EXIT_ERROR 254
