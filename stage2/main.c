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
  if (stage2_parse_args(argc, argv, &a, &err) >= 0)
    stage2_main(&a);
  log_error("%s", err->msg);
  return PODRUN_EXIT_ERROR;
}
