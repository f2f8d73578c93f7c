/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "stage2.h"

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct stage2_args a;

  log_set_program("podrun-stage2");
  int r = stage2_parse_args(argc, argv, &a, &err);
  if (r >= 0)
    r = stage2_exec(&a, &err);
  log_error("%s", err->msg);
  /* _exit: the app's seccomp filter may be loaded already, and forbid what
   * a sanitizer's exit checks need */
  fflush(NULL);
  _exit(stage2_exit_code(r, err));
}
