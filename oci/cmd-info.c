/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state, list, ps and features: what the runtime reports. */
#include "oci.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"

static int print_json(json_t *j, bool pretty, podrun_error_t *err)
{
  if (!j)
    return podrun_error_set(err, 0, "the state is not UTF-8");
  _cleanup_free_ char *s = json_dump_sorted(j, pretty);
  json_decref(j);
  printf("%s\n", s);
  return 0;
}

int oci_state_cmd(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  int first;
  if (oci_parse("state", NULL, argc, argv, &first, err) < 0)
    return -1;
  if (first != argc - 1)
    return podrun_error_new(err, 0, "state: give one container ID");
  if (oci_state_read(argv[first], &st, err) < 0)
    return -1;
  return print_json(oci_state_json(&st), true, err);
}

int oci_list(int argc, char **argv, podrun_error_t *err)
{
  const char *format = "table";
  bool quiet = false;
  const struct oci_opt opts[] = { { "format", true, &format }, { "f", true, &format }, { "quiet", false, .flag = &quiet },
                                  { "q", false, .flag = &quiet }, { NULL } };
  int first;
  if (oci_parse("list", opts, argc, argv, &first, err) < 0)
    return -1;
  if (!streq(format, "table") && !streq(format, "json"))
    return podrun_error_new(err, 0, "list: --format=%s: table or json", ESCAPE(format));
  json_t *all = json_array();
  DIR *d = opendir(arg_root);
  struct dirent *de;
  while (d && (de = readdir(d)))
    {
      _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
      _cleanup_error_ podrun_error_t e = NULL;
      if (de->d_name[0] == '.' || de->d_type != DT_DIR || oci_state_read(de->d_name, &st, &e) < 0)
        continue;
      json_t *j = oci_state_json(&st);
      if (j)
        json_array_append_new(all, j);
    }
  if (d)
    closedir(d);
  if (streq(format, "json"))
    return print_json(all, false, err);
  if (!quiet)
    printf("ID\tPID\tSTATUS\tBUNDLE\tCREATED\n");
  size_t i;
  json_t *j;
  json_array_foreach (all, i, j)
    if (quiet)
      printf("%s\n", json_string_value(json_object_get(j, "id")));
    else
      printf("%s\t%lld\t%s\t%s\t%s\n", json_string_value(json_object_get(j, "id")),
             (long long) json_integer_value(json_object_get(j, "pid")), json_string_value(json_object_get(j, "status")),
             json_string_value(json_object_get(j, "bundle")), json_string_value(json_object_get(j, "created")));
  json_decref(all);
  return 0;
}

int oci_ps(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  _cleanup_free_ pid_t *pids = NULL;
  const char *format = "table";
  const struct oci_opt opts[] = { { "format", true, &format }, { "f", true, &format }, { NULL } };
  size_t n = 0;
  int first;

  if (oci_parse("ps", opts, argc, argv, &first, err) < 0)
    return -1;
  if (!streq(format, "table") && !streq(format, "json"))
    return podrun_error_new(err, 0, "ps: --format=%s: table or json", ESCAPE(format));
  if (first >= argc)
    return podrun_error_new(err, 0, "ps: give the container ID");
  if (first + 1 < argc)
    return podrun_error_new(err, 0, "ps: ps(1) arguments are not supported");
  if (oci_state_load(argv[first], &st, err) < 0 || oci_pod_pids(st.uuid, &pids, &n, err) < 0)
    return -1;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_integer(pids[i]));
  if (streq(format, "json"))
    return print_json(a, false, err);
  printf("PID\n");
  for (size_t i = 0; i < n; i++)
    printf("%d\n", (int) pids[i]);
  json_decref(a);
  return 0;
}

/* The runtime spec's features document (features.md). */
int oci_features(int argc, char **argv, podrun_error_t *err)
{
  int first;
  if (oci_parse("features", NULL, argc, argv, &first, err) < 0)
    return -1;
  json_t *caps = json_array();
  for (int c = 0; c < 64; c++)
    {
      const char *name = caps_to_name(c);
      if (name)
        json_array_append_new(caps, json_string(name));
    }
  json_t *j = json_pack(
      "{s:s,s:s,s:[ssss],s:[ssss],s:{s:[sssss],s:o,s:{s:b,s:b,s:b},s:{s:b,s:[ssss]},s:{s:b},s:{s:b}},s:{s:s}}",
      "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks", "prestart", "createRuntime", "poststart", "poststop",
      "mountOptions", "bind", "rbind", "ro", "rw", "linux", "namespaces", "pid", "network", "mount", "ipc", "uts",
      "capabilities", caps, "cgroup", "v1", true, "v2", true, "systemd", false, "seccomp", "enabled", true, "actions",
      "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "apparmor", "enabled", false,
      "selinux", "enabled", false, "annotations", "io.podrun.stage1", "podrun.io/stage1");
  if (j)
    {
      json_t *sc = json_object_get(json_object_get(j, "linux"), "seccomp");
      json_array_append_new(json_object_get(j, "mountOptions"), json_string("tmpfs"));
      json_object_set_new(sc, "actions",
                          json_pack("[sssssss]", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"));
      json_object_set_new(sc, "operators",
                          json_pack("[sssssss]", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"));
      json_object_set_new(sc, "supportedFlags",
                          json_pack("[sss]", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
    }
  return print_json(j, true, err);
}
