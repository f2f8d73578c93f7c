/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Option strings from the command line: booleans, durations, --insecure-options
 * and image references. */
#include <stdint.h>

#include "stage0/image-ref.h"
#include "stage0/podrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup((const char *) data, size);
  podrun_error_t err = NULL;
  int64_t usec = -1;
  unsigned bits = 0;
  bool b = false;

  if (parse_duration(s, &usec, &err) == 0 && usec < 0)
    abort(); /* a parsed duration is never negative */
  podrun_error_free(&err);
  (void) parse_insecure_options(s, &bits, &err);
  podrun_error_free(&err);
  (void) parse_boolean(s, &b, &err);
  podrun_error_free(&err);
  (void) image_ref_kind(s);
  (void) image_ref_check(s, &err);
  podrun_error_free(&err);
  return 0;
}
