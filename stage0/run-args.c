/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image-fetch.h"
#include "mds.h"
#include "run-args.h"

struct run_args arg_run;

#define APP_OPTS(a)                                                                                              \
  { "exec", OPT_STRING, &(a).exec, "the app's command, replacing the image's", "PATH" },                          \
    { "name", OPT_STRING, &(a).name, "the app's name in the pod (default: from the image name)", "NAME" },       \
    { "set-env", OPT_STRV, &(a).set_env, "an environment variable for the app (repeatable)", "NAME=VALUE" },     \
    { "set-env-file", OPT_STRING, &(a).env_file, "a file of NAME=VALUE lines for the app's environment",         \
      "FILE" },                                                                                                  \
    { "environment", OPT_STRV, &(a).environment, "like --set-env, overriding everything else (repeatable)",      \
      "NAME=VALUE" },                                                                                            \
    { "working-dir", OPT_STRING, &(a).working_dir, "the app's working directory", "PATH" },                      \
    { "user", OPT_STRING, &(a).user, "user: a number, a name in the image, or a file whose owner", "USER" },    \
    { "group", OPT_STRING, &(a).group, "group: a number, a name in the image, or a file whose group", "GROUP" }, \
    { "supplementary-gids", OPT_STRING, &(a).supplementary_gids, "comma-separated supplementary group ids",     \
      "GIDS" },                                                                                                  \
    { "readonly-rootfs", OPT_BOOL, &(a).readonly_rootfs, "mount the app's rootfs read-only", NULL },            \
    { "mount", OPT_STRV, &(a).mounts, "mount a volume into the app (repeatable)", "volume=NAME,target=PATH" },  \
    { "annotation", OPT_STRV, &(a).annotations, "an annotation of the app in the pod manifest (repeatable)",    \
      "NAME=VALUE" },                                                                                            \
    { "user-annotation", OPT_STRV, &(a).user_annotations, "a user annotation (repeatable)", "NAME=VALUE" },     \
    { "user-label", OPT_STRV, &(a).user_labels, "a user label (repeatable)", "NAME=VALUE" },                    \
    { "ulimit", OPT_STRV, &(a).ulimits, "a resource limit: nofile, nproc, core, … (repeatable)",               \
      "NAME=SOFT[:HARD]" },                                                                                      \
    { "caps-retain", OPT_STRING, &(a).caps_retain, "keep only these capabilities", "CAP_A,CAP_B" },              \
    { "caps-remove", OPT_STRING, &(a).caps_remove, "drop these capabilities from the default set", "CAP_A,CAP_B" }, \
    { "seccomp", OPT_STRING, &(a).seccomp, "a seccomp filter: only these syscalls (retain) or all but these (remove)", \
      "mode=retain|remove[,errno=ENAME],SYSCALL|@GROUP,…" },                                                     \
    { "oom-score-adj", OPT_STRING, &(a).oom_score_adj, "the app's OOM score adjustment", "-1000…1000" },       \
    { "memory", OPT_STRING, &(a).memory, "the app's memory limit (nspawn)", "SIZE" },                           \
    { "cpu", OPT_STRING, &(a).cpu, "the app's CPU limit, in cores or millicores (nspawn)", "2|0.5|500m" },      \
    { "cpu-shares", OPT_STRING, &(a).cpu_shares, "the app's relative CPU weight, 2…262144 (nspawn)", "N" }

#define APP_OPTS_N 23 /* the app flags and the terminator */

#define MDS_REGISTER_OPT(dflt)                                                                            \
  { "mds-register", OPT_OPTIONAL, &arg_mds_register,                                                      \
    "register the pod with the metadata service (podrun-metadata) and give its apps AC_METADATA_URL "       \
    "(default " dflt ")",                                                                                  \
    "true|false", "true" }

const struct opt run_prepared_opts[] = {
  MDS_REGISTER_OPT("prepare's"),
  { NULL },
};

const struct opt run_opts[] = {
  { "volume", OPT_STRV, &arg_run.volumes,
    "a pod volume: NAME,kind=host,source=PATH[,readOnly=true][,recursive=true] or NAME,kind=empty[,mode=,uid=,gid=]",
    "SPEC" },
  { "hostname", OPT_STRING, &arg_run.hostname, "the pod's hostname (default: podrun-<uuid>)", "NAME" },
  { "uuid-file-save", OPT_STRING, &arg_run.uuid_file_save, "write the pod's UUID to this file", "FILE" },
  { "pod-manifest", OPT_STRING, &arg_run.pod_manifest, "run this pod manifest instead of images and flags",
    "FILE" },
  { "inherit-env", OPT_BOOL, &arg_run.inherit_env, "start from podrun's own environment", NULL },
  { "interactive", OPT_BOOL, &arg_run.interactive, "give the (single) app the terminal", NULL },
  { "net", OPT_OPTIONAL, &arg_run.net,
    "the pod's networks: default (nspawn's default: private, NAT), default-restricted, host (fly's only one), "
    "none, networks of <local-config>/net.d (NAME[:K=V;K2=V2],…) or all of them",
    "NET", "default" },
  { "port", OPT_STRV, &arg_run.ports, "forward a host port to the app's port NAME (CNI networks; repeatable)",
    "NAME:[HOSTIP:]HOSTPORT" },
  MDS_REGISTER_OPT("false"),
  { "private-users", OPT_BOOL, &arg_run.private_users,
    "run the pod in a user namespace with its own range of 65536 host uids and gids (nspawn)", NULL },
  { "dns", OPT_STRV, &arg_run.dns, "a name server for the apps' resolv.conf, host (the host's file) or none",
    "IP|host|none" },
  { "dns-search", OPT_STRV, &arg_run.dns_search, "a search domain for the apps' resolv.conf", "DOMAIN" },
  { "dns-opt", OPT_STRV, &arg_run.dns_opt, "a resolver option for the apps' resolv.conf", "OPTION" },
  { "hosts-entry", OPT_STRV, &arg_run.hosts_entries, "an /etc/hosts line for the apps, or host (the host's file)",
    "IP=HOSTNAME|host" },
  { "stage1", OPT_STRING, &arg_run.stage1_flavor,
    "a bundled stage1 flavor: nspawn, fly or kvm (default: the stage1 policy's choice, else nspawn)", "FLAVOR" },
  { "stage1-name", OPT_STRING, &arg_run.stage1_name, "a stage1 image in the store, by name", "NAME" },
  { "stage1-path", OPT_STRING, &arg_run.stage1_path, "a stage1 image file", "FILE" },
  { "stage1-hash", OPT_STRING, &arg_run.stage1_hash, "a stage1 image in the store, by id", "ID" },
  { "stage1-from-dir", OPT_STRING, &arg_run.stage1_from_dir,
    "a stage1 image file in the system configuration directory", "FILE" },
  FETCH_OPTS,
  APP_OPTS(arg_run.all),
  { NULL },
};

/* The app flags of one image, as a table over that app. */
static void app_opts(struct app_args *a, struct opt ret[static APP_OPTS_N])
{
  const struct opt t[] = { APP_OPTS(*a), { NULL } };
  _Static_assert(ELEMENTSOF(t) == APP_OPTS_N, "APP_OPTS_N");
  memcpy(ret, t, sizeof(t));
}

static int parse_app_args(int argc, char **argv, int *i, struct app_args *a, podrun_error_t *err)
{
  a->args = NULL;
  a->has_args = true;
  for ((*i)++; *i < argc && !streq(argv[*i], "---"); (*i)++)
    a->args = strv_push(a->args, argv[*i]);
  if (!a->args)
    a->args = xzalloc(sizeof(char *)); /* "--" with nothing: no arguments */
  return 0;
}

/* A flag of run's own table that no app has: the pod's (--volume, --net …). */
static bool is_pod_flag(const char *arg, const struct opt *app)
{
  const char *name = arg + strspn(arg, "-");
  size_t len = strcspn(name, "=");
  for (int pass = 0; pass < 2; pass++)
    for (const struct opt *o = pass ? run_opts : app; o->name; o++)
      if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
        return pass == 1;
  return false;
}

int run_args_parse_apps(const char *verb, int argc, char **argv, podrun_error_t *err)
{
  struct opt opts[APP_OPTS_N];
  struct app_args *cur = NULL;

  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      if (cur && streq(a, "--"))
        {
          if (parse_app_args(argc, argv, &i, cur, err) < 0)
            return -1;
        }
      else if (a[0] == '-' && a[1])
        {
          if (!cur)
            return podrun_error_set(err, 0, "%s: %s before any image", verb, QUOTE(a));
          app_opts(cur, opts);
          if (is_pod_flag(a, opts))
            return podrun_error_new(err, 0, "%.*s is a flag of the pod, not of an app: give it before the first image",
                                    (int) strcspn(a, "="), a);
          if (parse_flag(verb, opts, argc, argv, &i, err) < 0)
            return -1;
        }
      else
        {
          arg_run.apps = xrealloc(arg_run.apps, sizeof(*arg_run.apps) * (arg_run.n_apps + 1));
          cur = &arg_run.apps[arg_run.n_apps++];
          *cur = (struct app_args){ .image = argv[i] };
        }
    }
  return 0;
}

static void app_args_done(struct app_args *a)
{
  strv_free(a->args);
  strv_free(a->set_env);
  strv_free(a->environment);
  strv_free(a->mounts);
  strv_free(a->annotations);
  strv_free(a->user_annotations);
  strv_free(a->user_labels);
  strv_free(a->ulimits);
}

void run_args_done(void)
{
  for (size_t i = 0; i < arg_run.n_apps; i++)
    app_args_done(&arg_run.apps[i]);
  free(arg_run.apps);
  app_args_done(&arg_run.all);
  strv_free(arg_run.volumes);
  strv_free(arg_run.ports);
  strv_free(arg_run.dns);
  strv_free(arg_run.dns_search);
  strv_free(arg_run.dns_opt);
  strv_free(arg_run.hosts_entries);
  memset(&arg_run, 0, sizeof(arg_run));
}
