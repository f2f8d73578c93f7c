/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun cat-manifest, stop, enter: verbs on one existing pod. stop and enter
 * run the pod's stage1 entrypoints (from the store's render of that stage1). */
#include <fcntl.h>
#include <sys/wait.h>

#include "fs.h"
#include "json-util.h"
#include "net.h"
#include "pod-setup.h"
#include "pods.h"

static const char *arg_uuid_file, *arg_app;
static bool arg_force, arg_pretty = true, arg_overwrite;

static int cat_manifest(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *text = NULL;
  json_t *j = NULL;
  size_t len = 0;

  if (pods_load_one(argc, argv, arg_uuid_file, &p, err) < 0 || fs_read_file_at(p->dirfd, "pod", JSON_MAX_INPUT, &text, &len, err) < 0 ||
      json_parse_untrusted(text, len, "pod manifest", &j, err) < 0)
    return -1;
  _cleanup_free_ char *out = json_dump_sorted(j, arg_pretty);
  json_decref(j);
  printf("%s\n", out);
  return 0;
}

/* Runs a stage1 entrypoint of a running pod, in the pod directory. */
static int run_entrypoint(struct pod *p, const char *what, char **args, bool exec_it, podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL, *path = NULL;

  if (p->state != POD_RUNNING)
    return podrun_error_new(err, 0, "pod %s is %s, not running", p->uuid, pod_state_to_string(p->state));
  if (fs_read_file_at(p->dirfd, "stage1/image-id", 256, &id, NULL, err) < 0 ||
      stage1_entrypoint(podrun_store, id, what, &path, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  args[0] = path;
  if (!exec_it)
    return pod_run_entrypoint(p, what, args, err) < 0 ? podrun_error_wrap(err, "pod %s", p->uuid) : 0;
  if (fchdir(p->dirfd) < 0)
    return podrun_error_set(err, errno, "pod %s", p->uuid);
  store_close(TAKE_PTR(podrun_store)); /* see pod_exec_stage1 */
  fflush(NULL);
  execv(path, args);
  return podrun_error_set(err, errno, "exec %s", QUOTE(path));
}

static bool is_exited(enum pod_state s)
{
  return s == POD_EXITED || s == POD_EXITED_GARBAGE;
}

/* The networks of a pod that stop ended (its lock is free): deleted now
 * if its stage1 did not (a killed one); a pod still stopping deletes
 * them itself as it exits. */
static int stopped_net(struct pod *p, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t busy = NULL;
  if (pod_lock(p, true, true, &busy) < 0)
    return 0;
  return net_pod_teardown(p, err) < 0 ? podrun_error_wrap(err, "pod %s", p->uuid) : 0;
}

/* A pod that is starting is stopped once its stage1 can stop it (it has a
 * pid), or is found ended. One that never gets there within the bound:
 * --force kills its cgroup, its stage1 and all (the apps get no record). */
static int stop_one(struct pod **p, podrun_error_t *err)
{
  bool starting = pod_is_starting(*p);
  int r = starting ? pod_wait_started(p, err) : 0;
  char uuid[UUID_STRING_LEN + 1];

  if (r < 0)
    return -1;
  snprintf(uuid, sizeof(uuid), "%s", (*p)->uuid);
  if (r > 0 && (!arg_force || (*p)->state != POD_RUNNING))
    return podrun_error_new(err, 0, "pod %s is still %s after %llds (no pid yet)%s", uuid,
                            (*p)->state == POD_RUNNING ? "starting" : pod_state_to_string((*p)->state),
                            POD_START_WAIT_USEC / 1000000, (*p)->state == POD_RUNNING ? "; stop --force ends it" : "");
  if (r > 0)
    return pod_kill(*p, err) < 0 ? -1 : stopped_net(*p, err);
  if (starting && is_exited((*p)->state))
    return stopped_net(*p, err); /* it ended while it started */
  char *args[] = { NULL, arg_force ? (char *) "--force" : (*p)->uuid, arg_force ? (*p)->uuid : NULL, NULL };
  return run_entrypoint(*p, "stop", args, false, err) < 0 ? -1 : stopped_net(*p, err);
}

static int stop(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  struct pod **v = NULL;
  size_t n = 0;
  int failed = 0;

  if (pods_load_args(argc, argv, arg_uuid_file, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      char uuid[UUID_STRING_LEN + 1];
      snprintf(uuid, sizeof(uuid), "%s", v[i]->uuid);
      if (stop_one(&v[i], &e) < 0)
        keep_error(err, &e, &failed);
      else
        printf("%s\n", uuid);
    }
  pod_list_free(v, n);
  return failed ? -1 : 0;
}

static int enter(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *app = NULL, *pid_arg = NULL, *app_arg = NULL;
  _cleanup_free_ char **args = xzalloc(sizeof(char *) * (size_t) (argc + 6));
  size_t n = 1;

  int first = arg_uuid_file ? 0 : 1; /* argv[first…] is the command */

  if (argc < first)
    return podrun_error_new(err, 0, "enter: give the pod's UUID");
  if (pods_load_one(first, argv, arg_uuid_file, &p, err) < 0)
    return -1;
  /* a pod that is starting can be entered once its stage1 says where */
  int r = pod_is_starting(p) ? pod_wait_started(&p, err) : 0;
  if (r < 0)
    return -1;
  if (p->state != POD_RUNNING)
    return podrun_error_new(err, 0, "pod %s is %s, not running", p->uuid, pod_state_to_string(p->state));
  if (pod_pick_app(p, arg_app, &app, err) < 0)
    return -1;
  pid_t pid = pod_read_pid(p->dirfd);
  if (pid <= 0)
    return podrun_error_new(err, 0, "pod %s is still starting after %llds (no pid yet)", p->uuid,
                            POD_START_WAIT_USEC / 1000000);
  pid_arg = xasprintf("--pid=%d", (int) pid);
  app_arg = xasprintf("--app=%s", app);
  args[n++] = pid_arg;
  args[n++] = app_arg;
  args[n++] = (char *) "--";
  if (argc == first)
    args[n++] = (char *) "/bin/sh";
  for (int i = first; i < argc; i++)
    args[n++] = argv[i];
  return run_entrypoint(p, "enter", args, true, err);
}

/* The image's manifest, less what the flattened rootfs no longer needs. */
static int export_manifest(const char *image_id, char **ret, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  json_t *j = NULL;

  if (store_resolve(podrun_store, image_id, &img, err) < 0 ||
      json_parse_untrusted(img->manifest, strlen(img->manifest), "image manifest", &j, err) < 0)
    return -1;
  json_object_del(j, "dependencies");
  json_object_del(j, "pathWhitelist");
  *ret = json_dump_sorted(j, false);
  json_decref(j);
  return 0;
}

static int export(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *app = NULL, *id_path = NULL, *id = NULL, *manifest = NULL, *rootfs = NULL;
  _cleanup_close_ int mnt = -1;
  if ((argc == 1) != !!arg_uuid_file)
    return podrun_error_new(err, 0, "export: give the pod (UUID or --uuid-file) and the output file");
  const char *out = argv[argc - 1];
  if (pods_load_one(argc - 1, argv, arg_uuid_file, &p, err) < 0 || pod_pick_app(p, arg_app, &app, err) < 0)
    return -1;
  if (p->state != POD_EXITED && p->state != POD_EXITED_GARBAGE)
    return podrun_error_new(err, 0, "pod %s is %s; only an exited pod can be exported", p->uuid,
                            pod_state_to_string(p->state));
  /* shared: others still see it exited, but gc and rm (exclusive) leave it alone */
  if (pod_lock(p, false, true, err) < 0)
    return -1;
  if (access(p->path, F_OK) < 0)
    return podrun_error_new(err, 0, "pod %s moved while it was being opened; try again", p->uuid);
  id_path = xasprintf("apps/%s/image-id", app);
  if (fs_read_file_at(p->dirfd, id_path, 256, &id, NULL, err) < 0 || export_manifest(id, &manifest, err) < 0 ||
      pod_mount_app_result(podrun_store, p, app, &mnt, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  rootfs = xasprintf("/proc/self/fd/%d", mnt);
  return store_write_aci(rootfs, manifest, out, arg_overwrite, err);
}

static const struct opt cat_opts[] = {
  { "pretty-print", OPT_BOOL, &arg_pretty, "indent the JSON (default true)", NULL },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read the pod's UUID from this file", "FILE" },
  { NULL },
};
static const struct opt stop_opts[] = {
  { "force", OPT_BOOL, &arg_force, "SIGKILL the apps at once", NULL },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read a pod's UUID from this file", "FILE" },
  { NULL },
};
static const struct opt enter_opts[] = {
  { "app", OPT_STRING, &arg_app, "the app to enter (needed when the pod has several)", "NAME" },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read the pod's UUID from this file (then every argument is CMD)",
    "FILE" },
  { NULL },
};
static const struct opt export_opts[] = {
  { "app", OPT_STRING, &arg_app, "the app to export (needed when the pod has several)", "NAME" },
  { "overwrite", OPT_BOOL, &arg_overwrite, "replace OUTPUT.aci if it exists", NULL },
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read the pod's UUID from this file", "FILE" },
  { NULL },
};

const struct cmd cmd_cat_manifest = {
  "cat-manifest", cat_manifest, "[UUID]", "Print a pod's manifest",
  "The pod manifest as podrun wrote it: every app with its effective app section.\n\n"
  "Example:\n  podrun cat-manifest 5f0b",
  cat_opts, NULL, 0, 1, 0,
};

const struct cmd cmd_stop = {
  "stop", stop, "UUID...", "Stop running pods",
  "Asks the pod's stage1 to stop it: SIGTERM to the apps, SIGKILL after a timeout, or at\n"
  "once with --force. Returns when the signal is sent; podrun status --wait waits for the exit.\n"
  "A pod that is starting is stopped once its stage1 can stop it (10 s at most; then --force\n"
  "kills every process of the pod's cgroup).\n\n"
  "Example:\n  podrun stop 5f0b && podrun status --wait=10s 5f0b",
  stop_opts, NULL, 0, -1, CMD_STORE_RW,
};

const struct cmd cmd_enter = {
  "enter", enter, "UUID [CMD [ARGS...]]", "Run a command inside a running pod's app",
  "Runs CMD (default /bin/sh) in the app's namespaces and root with the app's restrictions\n"
  "(user, capabilities, seccomp): never more privileged than the app. Exits with CMD's code.\n\n"
  "Example:\n  podrun enter --app=web 5f0b /bin/ls /",
  enter_opts, NULL, 0, -1, CMD_STORE_RW | CMD_RAW_TAIL,
};

const struct cmd cmd_export = {
  "export", export, "UUID OUTPUT.aci", "Export an exited pod's app as a new image",
  "Writes the app's root filesystem as the pod left it (the image with every change the app\n"
  "made) and the image's manifest as an uncompressed ACI. The rootfs is flattened, so the\n"
  "manifest loses its dependencies and pathWhitelist. Fetch the result with\n"
  "--insecure-options=image, or sign it first.\n\n"
  "Example:\n  podrun export --app=build 5f0b build-result.aci\n"
  "  podrun fetch --insecure-options=image build-result.aci",
  export_opts, NULL, 1, 2, CMD_STORE_RW,
};
