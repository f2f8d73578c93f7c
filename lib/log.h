/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

enum log_level
{
  LOG_LEVEL_ERROR,
  LOG_LEVEL_WARNING,
  LOG_LEVEL_INFO,
  LOG_LEVEL_DEBUG,
};

/* Program prefix, "podrun" or "podrun-stage1". */
void log_set_program(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* One JSON object per line instead of "prefix: message". */
void log_set_json(bool on);
/* Every message (of the level set) also to f, one line each: with json, as
 * runc's --log-format=json has it, {"level":…,"msg":…,"time":RFC 3339};
 * else "TIME LEVEL: MSG". NULL: none. errors_only: of them, only the errors
 * to stderr too (an OCI runtime's stderr is the container's). */
void log_set_tee(FILE *f, bool json, bool errors_only);

void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                              \
  do                                                \
    {                                               \
      if (log_get_level() >= LOG_LEVEL_DEBUG)       \
        log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);      \
    }                                               \
  while (0)
