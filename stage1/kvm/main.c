/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's host side: one static binary, the entrypoint is its name. */
#include <libgen.h>

#include "kvm.h"
#include "log.h"

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *copy = xstrdup(argv[0]);
  const char *what = basename(copy);
  int code = 0, r;

  log_set_program("podrun-stage1");
  if (streq(what, "run"))
    r = kvm_run(argc, argv, &code, &err);
  else if (streq(what, "enter"))
    r = kvm_enter(argc, argv, &code, &err);
  else if (streq(what, "stop"))
    r = kvm_stop(argc, argv, &err);
  else if (streq(what, "gc"))
    r = kvm_gc(argc, argv, &err);
  else
    r = podrun_error_new(&err, 0, "called as %s: not run, enter, stop or gc", QUOTE(what));
  if (r < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return code;
}
