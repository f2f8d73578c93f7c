/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Hand ownership out of a cleanup-annotated local and reset it. */
#define TAKE_PTR(p)                    \
  ({                                   \
    __typeof__(p) _take_tmp_ = (p);    \
    (p) = NULL;                        \
    _take_tmp_;                        \
  })
#define TAKE_FD(fd)                    \
  ({                                   \
    int _take_fd_ = (fd);              \
    (fd) = -1;                         \
    _take_fd_;                         \
  })

static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      (void) close(*fd);
      errno = saved;
    }
}
static inline void fclosep(FILE **f)
{
  if (*f)
    (void) fclose(*f);
}
static inline void closedirp(DIR **d)
{
  if (*d)
    (void) closedir(*d);
}
/* A NULL-terminated vector of strings. */
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Allocation failures abort: there is no sane recovery in a CLI (crun, git). */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b)
{
  return (a == NULL || b == NULL) ? a == b : streq(a, b);
}
/* Returns the rest of s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix)
{
  size_t l = strlen(prefix);
  return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}
bool endswith(const char *s, const char *suffix);

size_t strv_length(char *const *v);
/* Appends a copy of s; v may be NULL. */
char **strv_push(char **v, const char *s);
bool strv_contains(char *const *v, const char *s);

/* n bytes from the kernel's random source (getrandom); never fails. */
void random_bytes(void *buf, size_t n);
/* n random characters of [a-z0-9] and a NUL (buf: n + 1 bytes), for names
 * that no other process can guess or reproduce. */
void random_chars(char *buf, size_t n);

/* User-controlled strings in messages (errors, logs), which must stay one
 * short line: quote_into() writes s into buf in double quotes with '"', '\\'
 * and control characters escaped (\xNN), cut after `cut` bytes (on a UTF-8
 * boundary) with "..." after the closing quote; without `quotes`, the same
 * but bare. buf holds at least cut * 4 + 8 bytes. QUOTE(s) and ESCAPE(s)
 * give that in a buffer that lives until the end of the enclosing block, for
 * a "%s" of the message:
 *   return podrun_error_set(err, errno, "open %s", QUOTE(path));
 * ESCAPE where the string is part of a word ("--net=%s"). */
#define QUOTE_CUT 256
#define QUOTE_BUF (QUOTE_CUT * 4 + 8)
const char *quote_into(char *buf, const char *s, size_t cut, bool quotes);
#define QUOTE(s) quote_into((char[QUOTE_BUF]){ 0 }, (s), QUOTE_CUT, true)
#define ESCAPE(s) quote_into((char[QUOTE_BUF]){ 0 }, (s), QUOTE_CUT, false)

/* The last word on "one short line", for every error and log message: a
 * control character that a caller let through unquoted is escaped, and a
 * message longer than MSG_MAX loses its middle (its context and its reason
 * are at the ends). Takes m (malloc'd) and returns it or its replacement. */
#define MSG_MAX 4096
char *msg_one_line(char *m);

/* Strict decimal numbers, for flags and manifests: digits only (parse_int:
 * a '-' first), none of the blanks, '+', hex ("0x10") or exponents that
 * strtol and strtod take. 0 and *ret set when s is one in [min, max]. */
int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);
int parse_int(const char *s, long long min, long long max, long long *ret);
/* The length of the decimal number s starts with, digits with at most one
 * '.' among them ("1.5" of "1.5Gi"), 0 if it starts with none: what strtod
 * may then read, and nothing else. */
size_t decimal_span(const char *s);

/* Human readable size, "1.5MiB"; buf at least 16 bytes. */
const char *format_size(char *buf, size_t len, unsigned long long bytes);

/* A string's hash for open-addressing tables (FNV-1a, murmur3's finaliser:
 * good low bits). */
uint64_t str_hash(const char *s);
