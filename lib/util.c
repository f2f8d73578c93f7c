/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <sys/random.h>

static _noreturn_ void oom(void)
{
  static const char msg[] = "podrun: out of memory\n";
  (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *xzalloc(size_t n)
{
  void *p = calloc(1, n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p)
    oom();
  return p;
}

char *xstrdup(const char *s)
{
  char *r = strdup(s);
  if (!r)
    oom();
  return r;
}

char *xstrndup(const char *s, size_t n)
{
  char *r = strndup(s, n);
  if (!r)
    oom();
  return r;
}

char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  char *r = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&r, fmt, ap);
  va_end(ap);
  if (n < 0)
    oom();
  return r;
}

bool endswith(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

void strv_free(char **v)
{
  if (!v)
    return;
  for (char **i = v; *i; i++)
    free(*i);
  free(v);
}

size_t strv_length(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **strv_push(char **v, const char *s)
{
  size_t n = strv_length(v);
  v = xrealloc(v, (n + 2) * sizeof(char *));
  v[n] = xstrdup(s);
  v[n + 1] = NULL;
  return v;
}

bool strv_contains(char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (streq(v[i], s))
      return true;
  return false;
}

const char *format_size(char *buf, size_t len, unsigned long long bytes)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double v = (double) bytes;
  size_t u = 0;
  while (v >= 1024 && u + 1 < ELEMENTSOF(units))
    {
      v /= 1024;
      u++;
    }
  if (u == 0)
    snprintf(buf, len, "%lluB", bytes);
  else
    snprintf(buf, len, "%.1f%s", v, units[u]);
  return buf;
}

void random_bytes(void *buf, size_t n)
{
  size_t got = 0;
  while (got < n)
    {
      ssize_t r = getrandom((char *) buf + got, n - got, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        abort(); /* getrandom without flags only fails on a broken kernel */
      got += (size_t) r;
    }
}

void random_chars(char *buf, size_t n)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  random_bytes(buf, n);
  for (size_t i = 0; i < n; i++)
    buf[i] = chars[(unsigned char) buf[i] % (sizeof(chars) - 1)];
  buf[n] = '\0';
}
