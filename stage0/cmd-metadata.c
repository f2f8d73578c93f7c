/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun metadata-service: rkt's verb for the appc metadata service, which
 * is the binary podrun-metadata beside podrun (api-service/, on podrun-api's
 * HTTP core; Documentation/metadata-service.md): exec'd with the flags, so
 * its pid, environment and sockets (LISTEN_FDS) are this process's. */
#include <libgen.h>

#include "podrun.h"

static char **arg_mds_listen;
static const char *arg_mds_user;

const struct opt metadata_service_opts[] = {
  { "listen", OPT_STRV, &arg_mds_listen,
    "where to listen (repeatable): unix sockets take root's registrations, TCP the pods' requests "
    "(default unix:/run/podrun/mds.sock and tcp:0.0.0.0:18112, or the sockets systemd passes)",
    "unix:PATH|tcp:HOST:PORT" },
  { "user", OPT_STRING, &arg_mds_user, "the user to run as after binding (default podrun-metadata, else nobody)",
    "USER" },
  { NULL },
};

int cmd_metadata_service(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0)
    return podrun_error_set(err, errno, "readlink /proc/self/exe");
  self[n] = '\0';
  _cleanup_free_ char *bin = xasprintf("%s/podrun-metadata", dirname(self));
  _cleanup_strv_ char **v = strv_push(NULL, bin);
  for (size_t i = 0; arg_mds_listen && arg_mds_listen[i]; i++)
    {
      _cleanup_free_ char *l = xasprintf("--listen=%s", arg_mds_listen[i]);
      v = strv_push(v, l);
    }
  if (arg_mds_user)
    {
      _cleanup_free_ char *u = xasprintf("--user=%s", arg_mds_user);
      v = strv_push(v, u);
    }
  if (arg_debug)
    v = strv_push(v, "--debug");
  fflush(NULL);
  execv(bin, v);
  return podrun_error_set(err, errno, "run %s (the metadata service, installed beside podrun)", QUOTE(bin));
}
