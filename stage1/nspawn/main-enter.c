/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint, a binary of its own: it links stage2's code (for
 * stage2_enter), which the processes that stay for a pod's life do not. */
#include "log.h"
#include "nspawn.h"

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  int code = 0;

  log_set_program("podrun-stage1");
  if (nspawn_enter(argc, argv, &code, &err) < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return code;
}
