/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "error.h"

/* jansson ships json_decrefp() for its json_auto_t. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Inputs larger than this are refused before parsing. */
#define JSON_MAX_INPUT (1024 * 1024)

/* Parses untrusted JSON: size-capped, duplicate keys rejected, errors name
 * the line and column. `what` names the input in the message. */
int json_parse_untrusted(const char *buf, size_t len, const char *what, json_t **ret, podrun_error_t *err);

/* Deterministic output: sorted keys, compact or indented. Caller frees. */
char *json_dump_sorted(const json_t *j, bool pretty);
