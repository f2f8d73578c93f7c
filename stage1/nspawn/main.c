/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libgen.h>

#include "log.h"
#include "nspawn.h"
#include "pod.h"

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *copy = xstrdup(argv[0]);
  const char *what = basename(copy);
  int code = 0, r;

  log_set_program(streq(what, "init") ? "podrun-init" : "podrun-stage1");
  if (streq(what, "run"))
    r = nspawn_run(argc, argv, &code, &err);
  else if (streq(what, "init"))
    r = code = pod_init(argc, argv, &err);
  else if (streq(what, "stop"))
    r = stage1_stop(argc, argv, &err); /* SIGTERM to the init passes on to the apps */
  else if (streq(what, "gc")) /* mounts and processes died with the pod's namespaces; cgroups stay */
    r = nspawn_gc(argc, argv, &err);
  else
    r = podrun_error_new(&err, 0, "called as %s: not run, init, stop or gc", QUOTE(what));
  if (r < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return code;
}
