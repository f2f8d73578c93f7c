/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appc image and pod manifests: parse untrusted bytes as both; whatever
 * parses must serialise, parse back and serialise to the same JSON. */
#include <stdint.h>

#include "appc.h"
#include "json-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const char *buf, size_t len)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = NULL, *back = NULL;
  _cleanup_json_ json_t *j = NULL, *j2 = NULL;
  _cleanup_free_ char *s = NULL;
  podrun_error_t err = NULL;

  if (appc_image_manifest_parse(buf, len, &m, &err) < 0)
    {
      if (!err || !startswith(err->msg, "image manifest: "))
        abort();
      podrun_error_free(&err);
      return;
    }
  j = appc_image_manifest_to_json(m);
  if (!j)
    abort(); /* parsed strings are valid UTF-8 */
  s = json_dump_sorted(j, false);
  if (appc_image_manifest_parse(s, strlen(s), &back, &err) < 0)
    abort(); /* what we write, we read */
  j2 = appc_image_manifest_to_json(back);
  if (!j2 || !json_equal(j, j2))
    abort();
}

static void check_pod(const char *buf, size_t len)
{
  _cleanup_pod_manifest_ struct appc_pod_manifest *m = NULL, *back = NULL;
  _cleanup_json_ json_t *j = NULL, *j2 = NULL;
  _cleanup_free_ char *s = NULL;
  podrun_error_t err = NULL;

  if (appc_pod_manifest_parse(buf, len, &m, &err) < 0)
    {
      if (!err || !startswith(err->msg, "pod manifest: "))
        abort();
      podrun_error_free(&err);
      return;
    }
  j = appc_pod_manifest_to_json(m);
  if (!j)
    abort();
  s = json_dump_sorted(j, false);
  if (appc_pod_manifest_parse(s, strlen(s), &back, &err) < 0)
    abort();
  j2 = appc_pod_manifest_to_json(back);
  if (!j2 || !json_equal(j, j2))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_image((const char *) data, size);
  check_pod((const char *) data, size);
  return 0;
}
