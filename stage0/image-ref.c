/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kinds of image references (image-fetch.c gets each), and the
 * refusal of what is none, the same from fetch, run and prepare. */
#include "image-ref.h"

#include "appc.h"

enum image_ref_kind image_ref_kind(const char *ref)
{
  const char *sep = strstr(ref, "://");

  if (sep)
    {
      size_t n = (size_t) (sep - ref);
      if (n == 4 && strncmp(ref, "file", 4) == 0)
        return IMAGE_REF_FILE;
      if (n == 6 && strncmp(ref, "docker", 6) == 0)
        return IMAGE_REF_DOCKER;
      if ((n == 5 && strncmp(ref, "https", 5) == 0) || (n == 4 && strncmp(ref, "http", 4) == 0))
        return IMAGE_REF_HTTPS;
      return IMAGE_REF_OTHER;
    }
  if (startswith(ref, "oci:"))
    return IMAGE_REF_OCI_LAYOUT;
  if (startswith(ref, "oci-archive:"))
    return IMAGE_REF_OCI_ARCHIVE;
  if (startswith(ref, "docker-archive:"))
    return IMAGE_REF_DOCKER_ARCHIVE;
  if (startswith(ref, "sha512-") || startswith(ref, "sha256-"))
    return IMAGE_REF_ID;
  if (ref[0] == '/' || startswith(ref, "./") || startswith(ref, "../") || endswith(ref, ".aci"))
    return IMAGE_REF_FILE;
  _cleanup_free_ char *name = xstrndup(ref, strcspn(ref, ":"));
  return appc_identifier_is_valid(name) ? IMAGE_REF_NAME : IMAGE_REF_FILE;
}

int image_ref_check(const char *ref, podrun_error_t *err)
{
  int scheme = (int) strcspn(ref, ":");

  switch (image_ref_kind(ref))
    {
    case IMAGE_REF_OTHER:
      {
        _cleanup_free_ char *name = xstrndup(ref, (size_t) scheme);
        return podrun_error_set(err, 0,
                                "image %s: %s:// is not a kind of image reference (a file, a file:// URL, an image "
                                "name or id)",
                                QUOTE(ref), ESCAPE(name));
      }
    default:
      return 0;
    }
}
