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

char *xvasprintf(const char *fmt, va_list ap)
{
  char *r = NULL;
  if (vasprintf(&r, fmt, ap) < 0)
    oom();
  return r;
}

char *xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *r = xvasprintf(fmt, ap);
  va_end(ap);
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

const char *quote_into(char *buf, const char *s, size_t cut, bool quotes)
{
  char *o = buf;
  size_t len;

  if (!s)
    return strcpy(buf, "(null)");
  len = strlen(s);
  if (cut > len)
    cut = len;
  while (cut < len && cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
    cut--;
  if (quotes)
    *o++ = '"';
  for (size_t i = 0; i < cut; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (c == '"' || c == '\\')
        o += sprintf(o, "\\%c", c);
      else if (c < 0x20 || c == 0x7f)
        o += sprintf(o, "\\x%02x", c);
      else
        *o++ = (char) c;
    }
  if (quotes)
    *o++ = '"';
  strcpy(o, cut < len ? "..." : "");
  return buf;
}

char *msg_one_line(char *m)
{
  size_t len = strlen(m), ctl = 0;
  for (size_t i = 0; i < len; i++)
    ctl += (unsigned char) m[i] < 0x20 || m[i] == 0x7f;
  if (ctl == 0 && len <= MSG_MAX)
    return m;
  char *out = xmalloc(len + 3 * ctl + 1), *o = out;
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) m[i];
      if (c < 0x20 || c == 0x7f)
        o += sprintf(o, "\\x%02x", c);
      else
        *o++ = (char) c;
    }
  *o = '\0';
  free(m);
  len = (size_t) (o - out);
  if (len > MSG_MAX)
    {
      size_t head = MSG_MAX / 2, tail = MSG_MAX / 4;
      while (head > 0 && ((unsigned char) out[head] & 0xc0) == 0x80) /* whole UTF-8 characters */
        head--;
      while (tail > 0 && ((unsigned char) out[len - tail] & 0xc0) == 0x80)
        tail--;
      memcpy(out + head, "...", 3);
      memmove(out + head + 3, out + len - tail, tail + 1);
    }
  return out;
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
  unsigned long long v = 0;
  if (!s || !*s)
    return -1;
  for (; *s; s++)
    {
      unsigned d = (unsigned) (*s - '0');
      if (d > 9 || v > (max - d) / 10)
        return -1;
      v = v * 10 + d;
    }
  *ret = v;
  return 0;
}

int parse_int(const char *s, long long min, long long max, long long *ret)
{
  unsigned long long v;
  long long r;
  if (s && *s == '-')
    {
      /* down to min, whose magnitude may be one more than LLONG_MAX */
      unsigned long long lim = min < 0 ? (unsigned long long) -(min + 1) + 1 : 0;
      if (parse_uint(s + 1, lim, &v) < 0 || v == 0)
        return -1;
      r = -(long long) (v - 1) - 1;
    }
  else
    {
      if (max < 0 || parse_uint(s, (unsigned long long) max, &v) < 0)
        return -1;
      r = (long long) v;
    }
  if (r < min || r > max)
    return -1;
  *ret = r;
  return 0;
}

size_t decimal_span(const char *s)
{
  size_t n = strspn(s, "0123456789");
  if (s[n] == '.')
    {
      size_t f = strspn(s + n + 1, "0123456789");
      if (n + f > 0)
        n += 1 + f;
    }
  return n;
}

/* FNV-1a, then murmur3's finaliser: the table takes the low bits, and
 * FNV's low bits see nothing of its high ones, which made long probe runs
 * of paths that share a prefix. */
uint64_t str_hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
