/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "resources.h"

#include <math.h>

static const struct
{
  const char *suffix;
  double factor;
} byte_suffixes[] = {
  { "", 1 },           { "k", 1e3 },         { "K", 1e3 },         { "M", 1e6 },        { "G", 1e9 },
  { "T", 1e12 },       { "Ki", 1024.0 },     { "Mi", 1048576.0 },  { "Gi", 1073741824.0 },
  { "Ti", 1099511627776.0 },
};

/* "1.5Gi" → 1.5 and "Gi"; the number part must be there, in decimal
 * (strtod alone would take "0x10", "1e3", " 5" and "+5" too). */
static int split_quantity(const char *q, double *ret_num, const char **ret_suffix)
{
  size_t n = decimal_span(q);
  _cleanup_free_ char *num = xstrndup(q, n);
  double v = strtod(num, NULL);
  if (n == 0 || !isfinite(v))
    return -1;
  *ret_num = v;
  *ret_suffix = q + n;
  return 0;
}

int resource_parse_bytes(const char *q, uint64_t *ret, podrun_error_t *err)
{
  double v;
  const char *suffix;
  if (q && split_quantity(q, &v, &suffix) == 0)
    for (size_t i = 0; i < ELEMENTSOF(byte_suffixes); i++)
      if (streq(suffix, byte_suffixes[i].suffix) && v * byte_suffixes[i].factor < 1.8e19)
        {
          *ret = (uint64_t) (v * byte_suffixes[i].factor);
          if (*ret == 0)
            break;
          return 0;
        }
  return podrun_error_set(err, 0, "%s is not a memory size like 512M, 1Gi or 1000000", QUOTE(q ? q : ""));
}

int resource_parse_millicores(const char *q, uint64_t *ret, podrun_error_t *err)
{
  double v;
  const char *suffix;
  if (q && split_quantity(q, &v, &suffix) == 0 && (streq(suffix, "") || streq(suffix, "m")))
    {
      double m = streq(suffix, "m") ? v : v * 1000;
      if (m >= 1 && m < 1e9)
        {
          *ret = (uint64_t) m;
          return 0;
        }
    }
  return podrun_error_set(err, 0, "%s is not a CPU amount like 2, 0.5 or 500m", QUOTE(q ? q : ""));
}

static int limit_of(const struct appc_isolator *iso, const char **ret, podrun_error_t *err)
{
  json_t *limit = json_object_get(iso->value, "limit");
  if (!json_is_string(limit))
    return podrun_error_set(err, 0, "isolator %s: needs a \"limit\" string", iso->name);
  *ret = json_string_value(limit);
  return 0;
}

int app_resources_from_isolators(const struct appc_app *app, struct app_resources *ret, podrun_error_t *err)
{
  struct app_resources r = { 0 };
  const char *q;
  for (size_t i = 0; app && i < app->n_isolators; i++)
    {
      const struct appc_isolator *iso = &app->isolators[i];
      if (streq(iso->name, RESOURCE_MEMORY))
        {
          if (limit_of(iso, &q, err) < 0 || resource_parse_bytes(q, &r.memory_bytes, err) < 0)
            return podrun_error_wrap(err, "isolator %s", iso->name);
        }
      else if (streq(iso->name, RESOURCE_CPU))
        {
          if (limit_of(iso, &q, err) < 0 || resource_parse_millicores(q, &r.cpu_millicores, err) < 0)
            return podrun_error_wrap(err, "isolator %s", iso->name);
        }
      else if (streq(iso->name, RESOURCE_CPU_SHARES))
        {
          json_int_t v = json_integer_value(iso->value);
          if (!json_is_integer(iso->value) || v < 2 || v > 262144)
            return podrun_error_set(err, 0, "isolator %s: a number from 2 to 262144", iso->name);
          r.cpu_shares = (uint64_t) v;
        }
    }
  *ret = r;
  return 0;
}
