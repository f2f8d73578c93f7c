/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rlimits.h"

#include <limits.h>

static const struct
{
  const char *name;
  int resource;
} names[] = {
  { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },       { "locks", RLIMIT_LOCKS },
  { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },       { "rss", RLIMIT_RSS },
  { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

/* "nofile" → its entry in names[]; -1 if unknown. */
static int lookup(const char *name)
{
  for (size_t i = 0; i < ELEMENTSOF(names); i++)
    if (streq(names[i].name, name))
      return (int) i;
  return -1;
}

static int parse_value(const char *s, size_t len, rlim_t *ret)
{
  _cleanup_free_ char *v = strndup(s, len);
  if (!v)
    return -1;
  if (streq(v, "unlimited") || streq(v, "-1"))
    {
      *ret = RLIM_INFINITY;
      return 0;
    }
  unsigned long long n;
  if (parse_uint(v, RLIM_INFINITY - 1, &n) < 0)
    return -1;
  *ret = (rlim_t) n;
  return 0;
}

static json_t *limit_json(rlim_t v)
{
  return v == RLIM_INFINITY ? json_string("unlimited") : json_integer((json_int_t) v);
}

int rlimits_add_flag(json_t **obj, const char *spec, podrun_error_t *err)
{
  const char *eq = strchr(spec, '='), *colon;
  rlim_t soft, hard;

  if (!eq)
    return podrun_error_new(err, 0, "--ulimit %s: expected NAME=SOFT[:HARD]", QUOTE(spec));
  _cleanup_free_ char *name = strndup(spec, (size_t) (eq - spec));
  if (!name || lookup(name) < 0)
    return podrun_error_new(err, 0, "--ulimit %s: unknown resource %s (nofile, nproc, core, …)", QUOTE(spec),
                            QUOTE(name ? name : ""));
  colon = strchr(eq + 1, ':');
  if (parse_value(eq + 1, colon ? (size_t) (colon - eq - 1) : strlen(eq + 1), &soft) < 0 ||
      (colon && parse_value(colon + 1, strlen(colon + 1), &hard) < 0))
    return podrun_error_new(err, 0, "--ulimit %s: limits are numbers or \"unlimited\"", QUOTE(spec));
  if (!colon)
    hard = soft;
  if (soft > hard)
    return podrun_error_new(err, 0, "--ulimit %s: the soft limit is above the hard one", QUOTE(spec));
  if (!*obj)
    *obj = json_object();
  json_object_set_new(*obj, name, json_pack("{s:o,s:o}", "soft", limit_json(soft), "hard", limit_json(hard)));
  return 0;
}

static int json_limit(const json_t *v, rlim_t *ret)
{
  if (json_is_string(v) && streq(json_string_value(v), "unlimited"))
    *ret = RLIM_INFINITY;
  else if (json_is_integer(v) && json_integer_value(v) >= 0)
    *ret = (rlim_t) json_integer_value(v);
  else
    return -1;
  return 0;
}

int rlimits_parse(const json_t *value, struct rlimit_entry **ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_free_ struct rlimit_entry *v = NULL;
  const char *name;
  json_t *limit;
  size_t n = 0;

  if (!json_is_object(value))
    return podrun_error_new(err, 0, "isolator " RLIMITS_ISOLATOR ": value must be an object");
  v = xzalloc(sizeof(*v) * (json_object_size(value) + 1));
  json_object_foreach((json_t *) value, name, limit)
    {
      struct rlimit_entry *e = &v[n++];
      int k = lookup(name);
      if (k < 0)
        return podrun_error_new(err, 0, "isolator " RLIMITS_ISOLATOR ": unknown resource %s", QUOTE(name));
      e->name = names[k].name;
      e->resource = names[k].resource;
      if (!json_is_object(limit) || json_limit(json_object_get(limit, "soft"), &e->limit.rlim_cur) < 0 ||
          json_limit(json_object_get(limit, "hard"), &e->limit.rlim_max) < 0)
        return podrun_error_new(err, 0,
                                "isolator " RLIMITS_ISOLATOR ": %s needs \"soft\" and \"hard\", numbers or "
                                "\"unlimited\"",
                                QUOTE(name));
      if (e->limit.rlim_cur > e->limit.rlim_max)
        return podrun_error_new(err, 0, "isolator " RLIMITS_ISOLATOR ": %s: soft limit above the hard one",
                                QUOTE(name));
    }
  *ret = TAKE_PTR(v);
  *ret_n = n;
  return 0;
}
