/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The appc spec's string types: AC Name, AC Identifier, image ids,
 * environment names, os/arch labels and SemVer (spec/types.md). */
#include <limits.h>

#include "appc.h"

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* The reference implementation (schema/types/acidentifier.go, acname.go)
 * checks the character set and that both ends are [a-z0-9], not the full
 * regular expression of spec/types.md: the spec's own example
 * "example.com/~user/app_v1" has two separators in a row. We do the same,
 * so every manifest actool accepts is accepted here. */
static bool lower_alnum_with_inner(const char *s, const char *inner)
{
  size_t n;

  if (!s || !*s)
    return false;
  n = strlen(s);
  if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  for (; *s; s++)
    if (!is_lower_alnum(*s) && !strchr(inner, *s))
      return false;
  return true;
}

bool appc_name_is_valid(const char *s) { return lower_alnum_with_inner(s, "-"); }

bool appc_identifier_is_valid(const char *s) { return lower_alnum_with_inner(s, "-._~/"); }

bool appc_image_id_is_valid(const char *s)
{
  const char *hex = s ? startswith(s, "sha512-") : NULL;
  size_t n, max = 128;

  /* appc's ids are "<algorithm>-<hex>": an OCI image's is its config's sha256 */
  if (!hex && s && (hex = startswith(s, "sha256-")))
    max = 64;
  if (!hex)
    return false;
  n = strspn(hex, "0123456789abcdef");
  return n >= 1 && n <= max && hex[n] == '\0';
}

bool appc_env_name_is_valid(const char *s)
{
  static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";

  if (!s || !*s || !strchr(first, *s))
    return false;
  s++;
  while (*s && (strchr(first, *s) || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
    s++;
  return *s == '\0';
}

static const struct
{
  const char *os;
  const char *archs[11];
} valid_os_arch[] = {
  { "linux", { "amd64", "i386", "aarch64", "aarch64_be", "armv6l", "armv7l", "armv7b", "ppc64", "ppc64le",
               "s390x", NULL } },
  { "freebsd", { "amd64", "i386", "arm", NULL } },
  { "darwin", { "x86_64", "i386", NULL } },
};

bool appc_os_arch_is_valid(const char *os, const char *arch)
{
  if (!os)
    return false;
  for (size_t i = 0; i < ELEMENTSOF(valid_os_arch); i++)
    {
      if (!streq(valid_os_arch[i].os, os))
        continue;
      if (!arch)
        return true;
      for (const char *const *a = valid_os_arch[i].archs; *a; a++)
        if (streq(*a, arch))
          return true;
      return false;
    }
  return false;
}

/* A numeric SemVer identifier: digits, no leading zero. Advances *p. */
static bool semver_number(const char **p, unsigned long *ret)
{
  const char *s = *p;
  unsigned long v = 0;
  size_t n = strspn(s, "0123456789");

  if (n == 0 || (n > 1 && s[0] == '0'))
    return false;
  for (size_t i = 0; i < n; i++)
    {
      if (v > (ULONG_MAX - 9) / 10)
        return false;
      v = v * 10 + (unsigned long) (s[i] - '0');
    }
  *p = s + n;
  *ret = v;
  return true;
}

/* Dot-separated non-empty [0-9A-Za-z-] identifiers; numeric ones without a
 * leading zero when `numeric_strict` (pre-release, not build metadata). */
static bool semver_idents(const char **p, bool numeric_strict)
{
  static const char chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
  const char *s = *p;

  for (;;)
    {
      size_t n = strspn(s, chars);
      if (n == 0)
        return false;
      if (numeric_strict && n > 1 && s[0] == '0' && strspn(s, "0123456789") == n)
        return false;
      s += n;
      if (*s != '.')
        break;
      s++;
    }
  *p = s;
  return true;
}

bool appc_semver_parse(const char *s, unsigned long *ret_major, unsigned long *ret_minor)
{
  unsigned long major, minor, patch;

  if (!s || !semver_number(&s, &major) || *s++ != '.' || !semver_number(&s, &minor) || *s++ != '.' ||
      !semver_number(&s, &patch))
    return false;
  if (*s == '-' && (s++, !semver_idents(&s, true)))
    return false;
  if (*s == '+' && (s++, !semver_idents(&s, false)))
    return false;
  if (*s != '\0')
    return false;
  if (ret_major)
    *ret_major = major;
  if (ret_minor)
    *ret_minor = minor;
  return true;
}

bool appc_version_is_supported(const char *s)
{
  unsigned long major, minor;

  return appc_semver_parse(s, &major, &minor) && major == 0 && minor >= 8;
}
