/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's binary: run, enter, stop and gc on the host; init, the
 * pod init, inside the guest. The entrypoint is its name. */
#include "kvm.h"

int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = {
    { "run", "podrun-stage1", kvm_run },
    { "enter", "podrun-stage1", kvm_enter },
    { "stop", "podrun-stage1", kvm_stop },
    { "gc", "podrun-stage1", kvm_gc },
  };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
