/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "podrun.h"

/* "file:///x.aci" and "x.aci" name a local file; other URLs are not ours yet. */
static int local_path(const char *ref, const char **ret, podrun_error_t *err)
{
  const char *p = startswith(ref, "file://");
  const char *scheme_end = strstr(ref, "://");

  if (p)
    {
      if (*p != '/')
        return podrun_error_set(err, 0, "fetch %s: a file:// URL needs an absolute path", QUOTE(ref));
      *ret = p;
      return 0;
    }
  if (scheme_end)
    {
      _cleanup_free_ char *scheme = xstrndup(ref, (size_t) (scheme_end - ref));
      return podrun_error_set(err, 0, "fetch %s: %s images are not supported yet (local files and file:// only)",
                              QUOTE(ref), QUOTE(scheme));
    }
  *ret = ref;
  return 0;
}

static int fetch_one(const char *ref, podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL;
  const char *path = NULL;
  struct stat st;

  if (local_path(ref, &path, err) < 0)
    return -1;
  if (stat(path, &st) < 0)
    return podrun_error_set(err, errno, "fetch %s", QUOTE(ref));
  if (!(arg_insecure & INSECURE_IMAGE))
    return podrun_error_set(err, 0,
                            "fetch %s: cannot verify its signature (not supported for local images yet); "
                            "use --insecure-options=image to fetch it unverified",
                            QUOTE(ref));
  if (store_import_aci(podrun_store, path, &id, err) < 0)
    return -1;
  printf("%s\n", id);
  return 0;
}

int cmd_fetch(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  for (int i = 0; i < argc; i++)
    if (fetch_one(argv[i], err) < 0)
      return -1;
  return 0;
}
