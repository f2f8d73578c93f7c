/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fly.h"

int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = {
    { "run", "podrun-stage1", fly_run },
    { "stop", "podrun-stage1", fly_stop },
    { "gc", "podrun-stage1", fly_gc },
  };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
