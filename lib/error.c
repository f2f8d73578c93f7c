/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

int podrun_error_set(podrun_error_t *err, int errnum, const char *fmt, ...)
{
  _cleanup_free_ char *m = NULL;
  va_list ap;

  if (!err)
    return -1;
  va_start(ap, fmt);
  if (vasprintf(&m, fmt, ap) < 0)
    m = NULL;
  va_end(ap);

  struct podrun_error *e = xzalloc(sizeof(*e));
  e->status = errnum;
  if (errnum)
    e->msg = xasprintf("%s: %s", m ? m : "", strerror(errnum));
  else
    e->msg = xstrdup(m ? m : "unknown error");
  podrun_error_free(err); /* "set once": never leak an earlier one */
  *err = e;
  return -1;
}

int podrun_error_wrap(podrun_error_t *err, const char *fmt, ...)
{
  _cleanup_free_ char *ctx = NULL;
  va_list ap;

  if (!err || !*err)
    return -1;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0)
    ctx = NULL;
  va_end(ap);
  if (ctx)
    {
      char *m = xasprintf("%s: %s", ctx, (*err)->msg);
      free((*err)->msg);
      (*err)->msg = m;
    }
  return -1;
}

void podrun_error_free(podrun_error_t *err)
{
  if (!err || !*err)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}
