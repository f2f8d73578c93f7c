/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "identity.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>

static bool parse_id(const char *s, unsigned *ret)
{
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v >= UINT_MAX)
    return false;
  *ret = (unsigned) v;
  return true;
}

/* Reads the image's own database with fgetpwent/fgetgrent: no NSS, so the
 * host's nsswitch modules never run against an untrusted image. */
static int lookup_in(const char *db, const char *name, bool user, unsigned *ret, podrun_error_t *err)
{
  _cleanup_fclose_ FILE *f = fopen(db, "re");
  if (!f)
    return podrun_error_set(err, errno, "%s \"%s\": cannot read the image's %s", user ? "user" : "group", name, db);
  for (;;)
    {
      errno = 0;
      if (user)
        {
          struct passwd *pw = fgetpwent(f);
          if (!pw)
            break;
          if (streq(pw->pw_name, name))
            return *ret = pw->pw_uid, 0;
        }
      else
        {
          struct group *gr = fgetgrent(f);
          if (!gr)
            break;
          if (streq(gr->gr_name, name))
            return *ret = gr->gr_gid, 0;
        }
    }
  return podrun_error_set(err, 0, "%s \"%s\": not found in the image's %s", user ? "user" : "group", name, db);
}

static int resolve(const char *s, bool user, unsigned *ret, podrun_error_t *err)
{
  struct stat st;
  if (!s || !*s)
    return podrun_error_set(err, 0, "app %s is empty", user ? "user" : "group");
  if (parse_id(s, ret))
    return 0;
  if (s[0] == '/')
    {
      if (stat(s, &st) < 0)
        return podrun_error_set(err, errno, "%s from file \"%s\"", user ? "user" : "group", s);
      *ret = user ? st.st_uid : st.st_gid;
      return 0;
    }
  return lookup_in(user ? "/etc/passwd" : "/etc/group", s, user, ret, err);
}

int identity_resolve_user(const char *user, uid_t *ret, podrun_error_t *err)
{
  unsigned v;
  if (resolve(user, true, &v, err) < 0)
    return -1;
  *ret = v;
  return 0;
}

int identity_resolve_group(const char *group, gid_t *ret, podrun_error_t *err)
{
  unsigned v;
  if (resolve(group, false, &v, err) < 0)
    return -1;
  *ret = v;
  return 0;
}
