/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod files (stage0/podfile.c): any text parses or gives errors, one line
 * each; what parses renders a unit. */
#include <stdint.h>

#include "stage0/podfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup((const char *) data, size);
  _cleanup_podfile_ struct podfile *f = NULL;
  _cleanup_strv_ char **errors = NULL;

  if (podfile_parse("/etc/podrun/pods/fuzz.pod", s, &f, &errors) < 0)
    {
      if (!errors || !errors[0])
        abort(); /* a failure says why */
      for (size_t i = 0; errors[i]; i++)
        if (strchr(errors[i], '\n'))
          abort(); /* one line each */
      return 0;
    }
  _cleanup_free_ char *unit = podfile_unit(f, "/usr/bin/podrun");
  _cleanup_strv_ char **wants = podfile_install_targets(f, true);
  for (size_t i = 0; wants && wants[i]; i++)
    if (strchr(wants[i], '/'))
      abort(); /* the generator's links stay in its directory */
  return 0;
}
