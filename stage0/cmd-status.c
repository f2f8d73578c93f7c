/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "fs.h"
#include "json-util.h"
#include "pod-setup.h"
#include "pods.h"
#include "userns.h"

static const char *arg_uuid_file;
static const char *arg_format;
static const char *arg_wait;

/* Waits until the pod has exited; timeout_usec < 0: forever. */
static int wait_exited(struct pod **p, int64_t timeout_usec, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  char uuid[UUID_STRING_LEN + 1];
  int64_t deadline = store_now_usec() + timeout_usec;

  snprintf(uuid, sizeof(uuid), "%s", (*p)->uuid);
  while (!inspect_pod_is_done((*p)->state))
    {
      if (timeout_usec >= 0 && store_now_usec() >= deadline)
        return podrun_error_new(err, ETIMEDOUT, "pod %s: still %s after --wait", uuid,
                                pod_state_to_string((*p)->state));
      nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
      pod_free(*p);
      *p = NULL;
      if (pod_load(pods, uuid, p, err) < 0)
        return -1;
    }
  return 0;
}

/* networks=default:ip4=172.16.28.2,other:ip4=…: each CNI network's
 * addresses (rkt's form) while the pod has them. */
static void print_networks(struct pod *p)
{
  _cleanup_json_ json_t *nets = inspect_pod_networks(p);
  size_t i, k;
  json_t *n, *ip;
  if (!nets || json_array_size(nets) == 0)
    return;
  fputs("networks=", stdout);
  json_array_foreach (nets, i, n)
    {
      printf("%s%s", i ? "," : "", json_string_value(json_object_get(n, "name")));
      json_array_foreach (json_object_get(n, "ips"), k, ip)
        {
          const char *a = json_string_value(ip);
          printf("%s%s=%.*s", k ? ";" : ":", strchr(a, ':') ? "ip6" : "ip4", (int) strcspn(a, "/"), a);
        }
    }
  fputc('\n', stdout);
}

static const char *record_string(json_t *rec, const char *key)
{
  return json_string_value(json_object_get(rec, key)); /* NULL: null or absent */
}

static void print_stage1(json_t *rec)
{
  const char *flag = record_string(rec, "flag");
  printf("stage1=%s\n", ESCAPE(record_string(rec, "stage1")));
  printf("stage1-rule=%s\n", record_string(rec, "rule") ? ESCAPE(record_string(rec, "rule")) : "");
  if (flag)
    printf("stage1-flag=%s\n", ESCAPE(flag));
}

static void print_text(struct pod *p, const struct inspect_pod *i)
{
  _cleanup_free_ char *net = inspect_pod_network(p), *users = inspect_pod_private_users(p),
                      *accel = inspect_pod_accelerator(p);
  _cleanup_json_ json_t *rec = inspect_pod_stage1_record(p);
  char b[64];
  printf("state=%s\n", pod_state_to_string(p->state));
  printf("created=%s\n", i->created ? format_time_rfc3339(b, sizeof(b), i->created) : "");
  printf("started=%s\n", i->started ? format_time_rfc3339(b, sizeof(b), i->started) : "");
  if (i->pid > 0)
    printf("pid=%d\n", (int) i->pid);
  if (net)
    printf("network=%s\n", net);
  print_networks(p);
  if (accel)
    printf("accelerator=%s\n", ESCAPE(accel));
  if (users)
    printf("private-users=%s\n", users);
  if (rec)
    print_stage1(rec);
  printf("exited=%s\n", inspect_pod_is_done(p->state) ? "true" : "false");
  for (size_t a = 0; a < i->n_apps; a++)
    if (i->apps[a].exit_code >= 0)
      printf("app-%s=%d\n", i->apps[a].name, i->apps[a].exit_code);
}

static void print_json(struct pod *p, const struct inspect_pod *i, bool pretty)
{
  _cleanup_json_ json_t *o = inspect_pod_json(p, i);
  _cleanup_free_ char *text = json_dump_sorted(o, pretty);
  printf("%s\n", text);
}

static int status(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  struct pod **v = NULL;
  struct inspect_pod i;
  size_t n = 0;
  int64_t timeout = -1;
  bool waiting = false;
  int r;

  if (check_format(arg_format, err) < 0)
    return -1;
  /* a boolean (true: as long as it takes), else a duration */
  if (arg_wait && parse_boolean(arg_wait, &waiting, NULL) < 0)
    {
      if (parse_duration(arg_wait, &timeout, NULL) < 0)
        return podrun_error_set(err, 0, "--wait=%s: not true, false or a duration (like 90s, 30m, 24h or 1h30m)",
                                ESCAPE(arg_wait));
      waiting = true;
    }
  if (pods_load_args(argc, argv, arg_uuid_file, &v, &n, err) < 0)
    return -1;
  if (n != 1)
    r = podrun_error_set(err, 0, "status takes one pod");
  else
    r = waiting ? wait_exited(&v[0], timeout, err) : 0;
  if (r >= 0)
    r = inspect_pod_read(v[0], &i, err);
  if (r >= 0)
    {
      if (arg_format)
        print_json(v[0], &i, streq(arg_format, "json-pretty"));
      else
        print_text(v[0], &i);
      inspect_pod_done(&i);
    }
  pod_list_free(v, n);
  return r;
}

static const struct opt status_opts[] = {
  { "wait", OPT_OPTIONAL, &arg_wait,
    "wait until the pod has exited: true (alone: as long as it takes), false, or at most a DURATION",
    "true|false|DURATION" },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read the pod's UUID from this file", "FILE" },
  { "format", OPT_STRING, &arg_format, "output as json or json-pretty", "FORMAT" },
  { NULL },
};

const struct cmd cmd_status = {
  "status", status, "[UUID]", "Show a pod's status",
  "Prints state, created, started, pid, network (when the stage1 has one), networks (each\n"
  "CNI network's addresses while the pod has them: default:ip4=172.16.28.2,…), accelerator\n"
  "(kvm or tcg, for a pod of the kvm stage1), private-users (SHIFT:RANGE, for a\n"
  "--private-users pod), stage1 (its flavor, or its image's name),\n"
  "stage1-rule (the stage1 policy's rule that decided for the pod, FILE:NAME; empty when\n"
  "none did), stage1-flag (when a --stage1* flag chose it), exited and app-<name>=<exit\n"
  "code> lines.\n"
  "UUID may be a unique prefix.\n\nExamples:\n  podrun status 5f0b\n  podrun status --wait=30s --format=json 5f0b",
  status_opts, NULL, 0, 1, 0,
};
