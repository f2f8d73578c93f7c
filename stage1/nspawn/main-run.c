/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nspawn stage1's run entrypoint, a binary of its own: it runs on the
 * host only, beside the host's systemd-nspawn, and links the host's
 * libsystemd (readiness, the journal, socket activation: systemd.c), which
 * nothing inside a pod's root can link statically. */
#include "nspawn.h"

int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = {
    { "run", "podrun-stage1", nspawn_run },
  };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
