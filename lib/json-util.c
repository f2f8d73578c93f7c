/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"

int json_parse_untrusted(const char *buf, size_t len, const char *what, json_t **ret, podrun_error_t *err)
{
  json_error_t je;
  json_t *j;

  if (len > JSON_MAX_INPUT)
    return podrun_error_set(err, 0, "%s: larger than %d bytes", what, JSON_MAX_INPUT);
  j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    return podrun_error_set(err, 0, "%s: invalid JSON at line %d, column %d: %s", what, je.line, je.column,
                            je.text);
  *ret = j;
  return 0;
}

char *json_dump_sorted(const json_t *j, bool pretty)
{
  char *s = json_dumps(j, JSON_SORT_KEYS | JSON_ENCODE_ANY | (pretty ? JSON_INDENT(4) : JSON_COMPACT));
  if (!s)
    abort();
  return s;
}
