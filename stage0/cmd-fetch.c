/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "image-ref.h"
#include "podrun.h"

/* "file:///x.aci" and "x.aci" name a local file. */
static int local_path(const char *ref, const char **ret, podrun_error_t *err)
{
  const char *p = startswith(ref, "file://");

  if (p && *p != '/')
    return podrun_error_set(err, 0, "fetch %s: a file:// URL needs an absolute path", QUOTE(ref));
  *ret = p ? p : ref;
  return 0;
}

/* A name or id that is no file: the store's image, if it has one (there is
 * nothing to fetch), else why it cannot be fetched. */
static int fetch_stored(const char *ref, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;

  if (store_resolve(podrun_store, ref, &img, err) < 0)
    return image_ref_not_found(ref, err);
  printf("%s\n", img->id);
  return 0;
}

static int fetch_one(const char *ref, podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL;
  const char *path = NULL;
  struct stat st;
  enum image_ref_kind kind = image_ref_kind(ref);

  if (image_ref_check(ref, err) < 0 || local_path(ref, &path, err) < 0)
    return -1;
  if (stat(path, &st) < 0)
    {
      if (errno == ENOENT && (kind == IMAGE_REF_NAME || kind == IMAGE_REF_ID))
        return fetch_stored(ref, err);
      return podrun_error_set(err, errno, "fetch %s", QUOTE(ref));
    }
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
