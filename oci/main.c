/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-oci: the OCI runtime command line that containerd's runc shim and
 * podman drive (Documentation/oci-runtime.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "oci.h"
#include "stage0/podrun.h"

const char *arg_root = "/run/podrun-oci";
int oci_exit_code;

static int unsupported(int argc, char **argv, podrun_error_t *err)
{
  return podrun_error_new(err, 0, "%s: not supported by podrun-oci (its pods cannot be %s)", argv[0],
                          streq(argv[0], "pause") || streq(argv[0], "resume") ? "frozen and thawed"
                          : streq(argv[0], "update")                         ? "changed once created"
                          : streq(argv[0], "events")                         ? "watched for events"
                          : streq(argv[0], "run")                            ? "run in one step: create, then start"
                                                                             : "checkpointed or restored");
}

static const struct oci_cmd commands[] = {
  { "create", oci_create, "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] [--no-pivot] "
                          "[--no-new-keyring] ID" },
  { "start", oci_start, "start ID" },
  { "state", oci_state_cmd, "state ID" },
  { "kill", oci_kill, "kill [--all] ID [SIGNAL]" },
  { "delete", oci_delete, "delete [--force] ID" },
  { "exec", oci_exec, "exec [--process FILE] [--tty] [--detach] [--pid-file FILE] [--console-socket SOCKET] ID "
                      "[CMD ARGS...]" },
  { "ps", oci_ps, "ps [--format table|json] ID" },
  { "list", oci_list, "list [--format table|json] [--quiet]" },
  { "features", oci_features, "features" },
  { "pause", unsupported, "pause ID (not supported)" },
  { "resume", unsupported, "resume ID (not supported)" },
  { "update", unsupported, "update ID (not supported)" },
  { "checkpoint", unsupported, "checkpoint ID (not supported)" },
  { "restore", unsupported, "restore ID (not supported)" },
  { "events", unsupported, "events ID (not supported)" },
  { "run", unsupported, "run ID (not supported: create, then start)" },
};

static void usage(FILE *f)
{
  fprintf(f, "Usage: podrun-oci [--root DIR] [--log FILE] [--log-format text|json] [--debug] [--systemd-cgroup]\n"
             "                  [--local-config DIR] [--system-config DIR] COMMAND ...\n\n"
             "An OCI runtime (runc's command line) that runs each container as a one-app podrun pod\n"
             "(nspawn, fly or kvm: the annotation podrun.io/stage1, else podrun's stage1 policy).\n\nCommands:\n");
  for (size_t i = 0; i < ELEMENTSOF(commands); i++)
    fprintf(f, "  %s\n", commands[i].usage);
  fprintf(f, "\nSee Documentation/oci-runtime.md.\n");
}

static const char *arg_log, *arg_log_format = "text";
static bool arg_help, arg_version, arg_systemd_cgroup, arg_debug_flag;

static int setup_log(podrun_error_t *err)
{
  if (!streq(arg_log_format, "text") && !streq(arg_log_format, "json"))
    return podrun_error_new(err, 0, "--log-format=%s: text or json", ESCAPE(arg_log_format));
  if (arg_debug_flag)
    log_set_level(LOG_LEVEL_DEBUG);
  if (!arg_log)
    return 0;
  FILE *f = fopen(arg_log, "ae");
  if (!f)
    return podrun_error_set(err, errno, "--log %s", QUOTE(arg_log));
  log_set_tee(f, streq(arg_log_format, "json"), true);
  return 0;
}

static int dispatch(int argc, char **argv, podrun_error_t *err)
{
  const struct oci_opt opts[] = {
    { "root", true, &arg_root },
    { "log", true, &arg_log },
    { "log-format", true, &arg_log_format },
    { "debug", false, .flag = &arg_debug_flag },
    { "systemd-cgroup", false, .flag = &arg_systemd_cgroup },
    /* podrun's own, for the stage1 policy and the bundled stage1 images */
    { "local-config", true, &arg_local_config },
    { "system-config", true, &arg_system_config },
    { "help", false, .flag = &arg_help },
    { "h", false, .flag = &arg_help },
    { "version", false, .flag = &arg_version },
    { "v", false, .flag = &arg_version },
    { NULL },
  };
  int first;
  if (oci_parse("podrun-oci", opts, argc, argv, &first, err) < 0 || setup_log(err) < 0)
    return -1;
  if (arg_version)
    return printf("podrun-oci version %s\nspec: %s\n", PODRUN_VERSION, OCI_VERSION), 0;
  if (arg_help)
    return usage(stdout), 0;
  if (first >= argc)
    return podrun_error_new(err, 0, "give a command (--help lists them)");
  if (arg_root[0] != '/' || strpbrk(arg_root, ":,\\"))
    return podrun_error_new(err, 0, "--root %s: an absolute path without ':', ',' or '\\'", ESCAPE(arg_root));
  arg_dir = xasprintf("%s/" OCI_PODRUN_DIR, arg_root);
  arg_debug = arg_debug_flag;
  /* --systemd-cgroup: the pod's cgroup is the stage1 contract's, below the
   * service podrun-oci runs in when it runs in one (lib/cgroup.h): the
   * shim's cgroup is that service's */
  for (size_t i = 0; i < ELEMENTSOF(commands); i++)
    if (streq(argv[first], commands[i].name))
      return commands[i].run(argc - first, argv + first, err);
  return podrun_error_new(err, 0, "unknown command %s (--help lists them)", QUOTE(argv[first]));
}

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  log_set_program("podrun-oci");
  if (dispatch(argc, argv, &err) < 0)
    {
      log_error("%s", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  return oci_exit_code;
}
