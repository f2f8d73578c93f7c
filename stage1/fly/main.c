/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libgen.h>

#include "fly.h"
#include "log.h"
#include "pod.h"

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *copy = xstrdup(argv[0]);
  const char *what = basename(copy);
  int code = 0, r;

  log_set_program("podrun-stage1");
  if (streq(what, "run"))
    r = fly_run(argc, argv, &code, &err);
  else if (streq(what, "stop"))
    r = fly_stop(argc, argv, &err);
  else if (streq(what, "gc"))
    r = 0; /* its mounts die with its namespace; stage0 ends and removes its cgroup */
  else
    r = podrun_error_new(&err, 0, "called as \"%s\": not run, stop or gc", what);
  if (r < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return code;
}
