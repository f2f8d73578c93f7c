/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <jansson.h>
#include <time.h>

static const char *log_program = "podrun";
static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_json;

void log_set_program(const char *name) { log_program = name; }
void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }
void log_set_json(bool on) { log_json = on; }

static FILE *log_tee;
static bool log_tee_json, log_tee_errors_only;
void log_set_tee(FILE *f, bool json, bool errors_only)
{
  log_tee = f;
  log_tee_json = json;
  log_tee_errors_only = errors_only;
}

static const char *const level_names[] = {
  [LOG_LEVEL_ERROR] = "error",
  [LOG_LEVEL_WARNING] = "warning",
  [LOG_LEVEL_INFO] = "info",
  [LOG_LEVEL_DEBUG] = "debug",
};

static void tee(enum log_level level, const char *m)
{
  char now[64];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(now + n, sizeof(now) - n, ".%09ldZ", ts.tv_nsec);
  if (!log_tee_json)
    fprintf(log_tee, "%s %s: %s\n", now, level_names[level], m);
  else
    {
      json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_names[level], "msg", m, "time", now);
      char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
      if (s)
        fprintf(log_tee, "%s\n", s);
      free(s);
      json_decref(o);
    }
  fflush(log_tee);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
  _cleanup_free_ char *m = NULL;
  va_list ap;
  int saved = errno;

  if (level > log_level)
    return;
  va_start(ap, fmt);
  if (vasprintf(&m, fmt, ap) < 0)
    m = NULL;
  va_end(ap);
  if (!m)
    return;
  m = msg_one_line(m);
  if (log_tee)
    tee(level, m);
  if (log_tee && log_tee_errors_only && level != LOG_LEVEL_ERROR)
    {
      errno = saved;
      return;
    }

  if (log_json)
    {
      json_t *o = json_pack("{s:s,s:s,s:s}", "program", log_program, "level", level_names[level], "msg", m);
      char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
      if (s)
        fprintf(stderr, "%s\n", s);
      free(s);
      json_decref(o);
    }
  else if (level == LOG_LEVEL_ERROR || level == LOG_LEVEL_INFO)
    fprintf(stderr, "%s: %s\n", log_program, m);
  else
    fprintf(stderr, "%s: %s: %s\n", log_program, level_names[level], m);
  errno = saved;
}
