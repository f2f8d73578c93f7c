/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Values of flags: booleans, durations, --insecure-options, times for output. */
#include <math.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "podrun.h"

/* systemd's parse_boolean, whose forms include every one of Go's
 * strconv.ParseBool (so rkt's): 1 yes y true t on, 0 no n false f off, in
 * any case. */
int parse_boolean(const char *s, bool *ret, podrun_error_t *err)
{
  static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
  static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

  for (size_t i = 0; i < ELEMENTSOF(yes); i++)
    if (strcasecmp(s, yes[i]) == 0)
      return *ret = true, 0;
  for (size_t i = 0; i < ELEMENTSOF(no); i++)
    if (strcasecmp(s, no[i]) == 0)
      return *ret = false, 0;
  return podrun_error_set(err, 0, "%s is not a boolean (true or false, yes or no, on or off, 1 or 0)", QUOTE(s));
}

static const struct
{
  const char *unit;
  double usec;
} duration_units[] = {
  /* longest first so "ms" is not read as "m" */
  { "ms", 1e3 }, { "us", 1 }, { "µs", 1 }, { "ns", 1e-3 }, { "h", 3600e6 }, { "m", 60e6 }, { "s", 1e6 },
};

/* Go's time.ParseDuration form: "0", or one or more <number><unit>. */
int parse_duration(const char *s, int64_t *ret_usec, podrun_error_t *err)
{
  const char *p = s;
  double total = 0;

  if (streq(s, "0"))
    {
      *ret_usec = 0;
      return 0;
    }
  if (*p == '\0')
    return podrun_error_set(err, 0, "empty duration");
  while (*p)
    {
      /* decimal only: strtod would take "0x10" (hex) and "1e3" as well */
      size_t n = decimal_span(p), i;
      _cleanup_free_ char *num = xstrndup(p, n);
      const char *end = p + n;
      double v = strtod(num, NULL);
      for (i = 0; i < ELEMENTSOF(duration_units); i++)
        if (startswith(end, duration_units[i].unit))
          break;
      if (n == 0 || i == ELEMENTSOF(duration_units))
        return podrun_error_set(err, 0, "%s is not a duration (like 90s, 30m, 24h or 1h30m)", QUOTE(s));
      total += v * duration_units[i].usec;
      p = end + strlen(duration_units[i].unit);
    }
  if (!isfinite(total) || total > 9.2e18)
    return podrun_error_set(err, ERANGE, "duration %s", QUOTE(s));
  *ret_usec = (int64_t) total;
  return 0;
}

static const struct
{
  const char *name;
  unsigned bits;
} insecure_names[] = {
  { "none", 0 },
  { "image", INSECURE_IMAGE },
  { "tls", INSECURE_TLS },
  { "ondisk", INSECURE_ONDISK },
  { "http", INSECURE_HTTP },
  { "pubkey", INSECURE_PUBKEY },
  { "capabilities", INSECURE_CAPABILITIES },
  { "paths", INSECURE_PATHS },
  { "seccomp", INSECURE_SECCOMP },
  { "all", INSECURE_ALL },
};

int parse_insecure_options(const char *s, unsigned *ret, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(s);
  unsigned bits = 0;
  char *save = NULL;

  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    {
      size_t i;
      for (i = 0; i < ELEMENTSOF(insecure_names); i++)
        if (streq(w, insecure_names[i].name))
          break;
      if (i == ELEMENTSOF(insecure_names))
        return podrun_error_set(err, 0,
                                "--insecure-options: unknown option %s (valid: none, image, tls, ondisk, http, "
                                "pubkey, capabilities, paths, seccomp, all)",
                                QUOTE(w));
      bits |= insecure_names[i].bits;
    }
  *ret = bits;
  return 0;
}

int check_format(const char *format, podrun_error_t *err)
{
  if (format && !streq(format, "json") && !streq(format, "json-pretty"))
    return podrun_error_set(err, 0, "--format: %s is not one of json, json-pretty", QUOTE(format));
  return 0;
}

void keep_error(podrun_error_t *err, podrun_error_t *e, int *failed)
{
  if ((*failed)++ > 0)
    log_error("%s", (*err)->msg);
  podrun_error_free(err);
  *err = TAKE_PTR(*e);
}

const char *format_time_rfc3339(char *buf, size_t len, int64_t usec)
{
  time_t t = (time_t) (usec / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%06dZ", (int) (usec % 1000000));
  return buf;
}

const char *format_time(char *buf, size_t len, int64_t usec, bool full)
{
  static const struct
  {
    const char *unit;
    int64_t sec;
  } units[] = { { "day", 86400 }, { "hour", 3600 }, { "minute", 60 }, { "second", 1 } };
  int64_t now = (int64_t) time(NULL), ago = now - usec / 1000000;

  if (full)
    return format_time_rfc3339(buf, len, usec);
  if (ago < 1)
    return snprintf(buf, len, "just now"), buf;
  for (size_t i = 0; i < ELEMENTSOF(units); i++)
    if (ago >= units[i].sec)
      {
        int64_t n = ago / units[i].sec;
        snprintf(buf, len, "%lld %s%s ago", (long long) n, units[i].unit, n == 1 ? "" : "s");
        break;
      }
  return buf;
}
