/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

static int error_setv(podrun_error_t *err, int status, bool with_strerror, const char *fmt, va_list ap)
{
  _cleanup_free_ char *m = NULL;

  if (!err)
    return -1;
  if (vasprintf(&m, fmt, ap) < 0)
    m = NULL;
  struct podrun_error *e = xzalloc(sizeof(*e));
  e->status = status;
  if (status && with_strerror)
    e->msg = msg_one_line(xasprintf("%s: %s", m ? m : "", strerror(status)));
  else
    e->msg = msg_one_line(xstrdup(m ? m : "unknown error"));
  podrun_error_free(err); /* "set once": never leak an earlier one */
  *err = e;
  return -1;
}

int podrun_error_set(podrun_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_setv(err, errnum, true, fmt, ap);
  va_end(ap);
  return -1;
}

int podrun_error_new(podrun_error_t *err, int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_setv(err, status, false, fmt, ap);
  va_end(ap);
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
  /* a context the message already starts with is not said twice
   * ("app \"x\": app \"x\": …"): callee and caller both naming the thing */
  size_t n = ctx ? strlen(ctx) : 0;
  if (ctx && !(strncmp((*err)->msg, ctx, n) == 0 && startswith((*err)->msg + n, ": ")))
    {
      char *m = msg_one_line(xasprintf("%s: %s", ctx, (*err)->msg));
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
