/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "podrun.h"

int main(int argc, char **argv)
{
  /* a link named podrun-generator in systemd's system-generators/ */
  const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
  name = name ? name + 1 : argc > 0 ? argv[0] : "";
  if (strcmp(name, "podrun-generator") == 0)
    return podrun_generator(argc, argv);
  return podrun_main(argc, argv);
}
