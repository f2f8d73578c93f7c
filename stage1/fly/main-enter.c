/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint, a binary of its own: it links stage2's code (for
 * stage2_enter), which the processes that stay for a pod's life do not. */
#include "fly.h"

int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = { { NULL, "podrun-stage1", fly_enter } };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
