/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create and start. create prepares the bundle's pod (the stage1 chosen and
 * checked, the pod directory made, nothing mounted yet) and forks the
 * container's process, which makes its namespaces (a mount namespace of its
 * own, the network namespace config.json asks for, bound as the pod's
 * netns), then waits on exec.fifo while create runs the createRuntime and
 * prestart hooks with its pid; start lets it go on: it becomes the stage1's
 * run entrypoint (pod_exec_stage1, as `podrun run` does), whose exit status
 * is the app's, and whose pod joins that network namespace. */
#include "oci.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/keyctl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "fs.h"
#include "log.h"
#include "stage0/pod-setup.h"
#include "stage0/pods.h"
#include "stage0/podrun.h"
#include "stage0/run-args.h"
#include "stage0/stage1-policy.h"
#include "store/dl.h"
#include "volumes.h"

#define START_WAIT_MS 10000

static const char *arg_bundle = ".", *arg_pid_file, *arg_console_socket, *arg_preserve_fds;
static bool arg_no_pivot, arg_no_new_keyring, arg_detach;

/* The app's image id: the sha512 of the bundle's config.json (the bundle
 * is the pod's only "image"). */
static int config_image_id(const char *text, size_t len, char **ret, podrun_error_t *err)
{
  unsigned char md[64];
  char hex[sizeof(md) * 2 + 1];
  if (dl_load_crypto(err) < 0)
    return -1;
  EVP_MD_CTX *c = sym_EVP_MD_CTX_new();
  bool ok = c && sym_EVP_DigestInit_ex(c, sym_EVP_sha512(), NULL) == 1 && sym_EVP_DigestUpdate(c, text, len) == 1 &&
            sym_EVP_DigestFinal_ex(c, md, NULL) == 1;
  sym_EVP_MD_CTX_free(c);
  if (!ok)
    return podrun_error_set(err, 0, "sha512 of config.json failed");
  for (size_t i = 0; i < sizeof(md); i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  *ret = xasprintf("sha512-%s", hex);
  return 0;
}

static int read_config(const char *bundle, struct oci_spec *ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *id = NULL;
  _cleanup_close_ int fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t len = 0;
  if (fd < 0)
    return podrun_error_set(err, errno, "bundle %s", QUOTE(bundle));
  if (fs_read_file_at(fd, "config.json", OCI_CONFIG_MAX, &text, &len, err) < 0)
    return podrun_error_wrap(err, "bundle %s", QUOTE(bundle));
  if (config_image_id(text, len, &id, err) < 0 || oci_spec_parse(bundle, text, len, id, ret, err) < 0)
    return podrun_error_wrap(err, "bundle %s", QUOTE(bundle));
  return 0;
}

/* The flavor: the annotation podrun.io/stage1, else the stage1 policy's
 * for the image the annotation io.kubernetes.cri.image-name names, else
 * the default; the policy's minimum holds against the annotation as
 * against --stage1. The rule's default isolators go into the app. */
static int choose_stage1(const struct oci_spec *c, struct pod_plan *plan, podrun_error_t *err)
{
  _cleanup_(stage1_policy_done) struct stage1_policy policy = { 0 };
  const char *flavor = oci_spec_annotation(c, "podrun.io/stage1");
  const char *image = oci_spec_annotation(c, "io.kubernetes.cri.image-name");
  const struct stage1_policy_rule *rule = NULL;
  struct appc_kvs none = { 0 };

  if (stage1_policy_load_default(&policy, err) < 0)
    return -1;
  if (image)
    {
      struct stage1_policy_image img = { .name = image, .labels = &none, .annotations = &none };
      rule = stage1_policy_match(&policy, &img);
    }
  char *images[] = { (char *) (image ? image : "(the bundle)") };
  if (stage1_policy_decide(&rule, images, 1, &plan->policy, err) < 0)
    return -1;
  if (flavor)
    arg_run.stage1_flavor = flavor;
  if (rule)
    {
      struct appc_runtime_app *a = &plan->manifest->apps[0];
      stage1_policy_apply_isolators(rule, appc_app_get_isolator(a->app, "resource/memory") != NULL,
                                    appc_app_get_isolator(a->app, "resource/cpu") != NULL, a->app,
                                    &a->read_only_rootfs);
    }
  return 0;
}

/* The plan's manifest and text from the config, the policy applied. */
static int build_plan(const struct oci_spec *c, struct pod_plan *plan, podrun_error_t *err)
{
  _cleanup_free_ char *text = json_dumps(c->pod_manifest, JSON_COMPACT);
  if (appc_pod_manifest_parse(text, strlen(text), &plan->manifest, err) < 0 || choose_stage1(c, plan, err) < 0)
    return -1;
  _cleanup_json_ json_t *j = appc_pod_manifest_to_json(plan->manifest);
  plan->text = json_dump_sorted(j, false);
  appc_pod_manifest_free(TAKE_PTR(plan->manifest));
  if (appc_pod_manifest_parse(plan->text, strlen(plan->text), &plan->manifest, err) < 0)
    return -1;
  plan->app_roots = strv_push(NULL, c->rootfs);
  plan->netns_path = c->netns_path ? xstrdup(c->netns_path) : NULL;
  return 0;
}

/* What the container's process makes at create, before the hooks see its
 * pid: a mount namespace of its own (always) and the network namespace of
 * the config (a new one, or the path's, joined), bound at the pod's netns
 * when the pod joins it at start. */
struct container_ns
{
  enum oci_net net;
  int netns_fd;     /* OCI_NET_PATH: the namespace, open */
  bool pod_joins;   /* bound at the pod's netns: the pod's network is it */
  int ipc_fd, uts_fd; /* fly: the IPC and UTS namespaces of the config's paths, open (-1: the host's) */
};

/* The flavor the plan will get (stage1_select's choice: the annotation,
 * else the policy's, else the default). */
static const char *plan_flavor(const struct pod_plan *plan)
{
  return arg_run.stage1_flavor ? arg_run.stage1_flavor : plan->policy.stage1 ? plan->policy.stage1 : "nspawn";
}

/* The pod flags from the config, as `podrun run`'s would be. A new network
 * namespace (OCI_NET_NONE) is the container's process's, made at create
 * for the hooks: an nspawn pod joins it (it has only lo, up: --net=none's
 * network); the kvm one keeps --net=none (its VM has no NIC; qemu runs in
 * that namespace, the guest is not in it), fly refuses it. fly, which has
 * no network namespace of its own, runs on --net=host in the path's, which
 * the container's process joined. */
static void set_pod_flags(const struct oci_spec *c, struct pod_plan *plan, struct container_ns *ns)
{
  bool fly_joins = c->net == OCI_NET_PATH && streq(plan_flavor(plan), "fly");
  ns->net = c->net;
  ns->pod_joins = (c->net == OCI_NET_PATH && !fly_joins) ||
                  (c->net == OCI_NET_NONE && streq(plan_flavor(plan), "nspawn"));
  arg_run.net = c->net == OCI_NET_HOST || fly_joins ? "host" : ns->pod_joins ? POD_NET_JOINED : "none";
  if (fly_joins)
    {
      free(plan->netns_path);
      plan->netns_path = NULL;
    }
  if (ns->pod_joins)
    {
      /* the container's process's own, bound at create: start joins it
       * as it is (for a path, the namespace create opened and checked) */
      plan->netns_bound = true;
      if (!plan->netns_path)
        plan->netns_path = xstrdup("/proc/self/ns/net");
    }
  arg_run.hostname = c->hostname;
  arg_run.interactive = c->terminal;
}

static char *now_rfc3339(void)
{
  char b[64];
  return xstrdup(format_time_rfc3339(b, sizeof(b), store_now_usec()));
}

/* The container's namespaces, before the hooks see its pid: its network
 * one, then a mount namespace of its own whose mounts propagate nothing to
 * the host's (host mounts still reach it), so that a hook entering either
 * by the state's pid changes the container, never the host. */
static int container_ns_make(const struct container_ns *ns, int poddirfd, podrun_error_t *err)
{
  if (ns->ipc_fd >= 0 && setns(ns->ipc_fd, CLONE_NEWIPC) < 0)
    return podrun_error_set(err, errno, "join its IPC namespace");
  if (ns->uts_fd >= 0 && setns(ns->uts_fd, CLONE_NEWUTS) < 0)
    return podrun_error_set(err, errno, "join its UTS namespace");
  if (ns->net == OCI_NET_PATH && setns(ns->netns_fd, CLONE_NEWNET) < 0)
    return podrun_error_set(err, errno, "join its network namespace");
  if (ns->net == OCI_NET_NONE && unshare(CLONE_NEWNET) < 0)
    return podrun_error_set(err, errno, "a network namespace of its own");
  /* lo up, as nspawn's --private-network has it (runc leaves that to the
   * engine's CNI loopback plugin) */
  if (ns->net == OCI_NET_NONE && cni_loopback_up(err) < 0)
    return -1;
  if (ns->pod_joins && cni_netns_bind_self(poddirfd, err) < 0)
    return -1;
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return podrun_error_set(err, errno, "a mount namespace of its own");
  return 0;
}

/* In the container's process, to create: "+" once its namespaces are
 * made, else "-" and the reason. */
static void container_report(int fd, const podrun_error_t e)
{
  _cleanup_free_ char *msg = e ? xasprintf("-%s", e->msg) : xstrdup("+");
  _cleanup_error_ podrun_error_t ignored = NULL;
  (void) fs_write_all(fd, msg, strlen(msg), &ignored);
  close(fd);
}

/* In the container's process: makes its namespaces, tells create, waits
 * for start, then becomes the stage1. */
static _noreturn_ void container_main(struct pod *p, struct pod_plan *plan, const struct container_ns *ns,
                                      const char *fifo, int slave, int report)
{
  _cleanup_error_ podrun_error_t e = NULL;
  struct store *none = NULL;
  char go = 0;

  if (slave >= 0 && oci_console_take(slave) < 0)
    {
      log_error("the terminal as stdio: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  if (container_ns_make(ns, p->dirfd, &e) < 0)
    {
      container_report(report, e);
      _exit(PODRUN_EXIT_ERROR);
    }
  for (size_t i = 0; i < 3; i++)
    {
      int fd = i == 0 ? ns->netns_fd : i == 1 ? ns->ipc_fd : ns->uts_fd;
      if (fd >= 0)
        close(fd);
    }
  container_report(report, NULL);
  umask(022); /* the app's (config.c takes no other), whatever the caller's */
  /* runc's default: a session keyring of the container's own, not the
   * caller's (nspawn makes one again; fly keeps this one) */
  if (!arg_no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
    {
      log_error("a session keyring of its own: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  int fd = open(fifo, O_WRONLY | O_CLOEXEC); /* blocks until start opens it */
  if (fd < 0 || write(fd, &go, 1) != 1)
    {
      log_error("%s: %s", fifo, strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  close(fd);
  (void) pod_exec_stage1(&none, p, plan, &e);
  log_error("%s", e ? e->msg : "the stage1 did not start");
  _exit(PODRUN_EXIT_ERROR);
}

static int write_pid_file(pid_t pid, podrun_error_t *err)
{
  _cleanup_free_ char *text = xasprintf("%d", (int) pid);
  if (!arg_pid_file)
    return 0;
  return fs_write_file_atomic_at(AT_FDCWD, arg_pid_file, text, strlen(text), 0644, err);
}

/* create's side of container_report: 0 once the process made its
 * namespaces, else its reason (or its end) as the error. */
static int container_wait_ready(int fd, podrun_error_t *err)
{
  char buf[4096];
  size_t len = 0;
  for (;;)
    {
      ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "the container's process");
      len += (size_t) n;
      if (n == 0 || len == sizeof(buf) - 1)
        break;
    }
  buf[len] = 0;
  if (len == 1 && buf[0] == '+')
    return 0;
  if (len > 1 && buf[0] == '-')
    return podrun_error_new(err, 0, "the container's process: %s", buf + 1);
  return podrun_error_new(err, 0, "the container's process ended before it made its namespaces");
}

/* createRuntime, then prestart (the deprecated one, at the same point), on
 * the host with the state ("creating", the container's pid) on stdin; the
 * first that fails is create's error. */
static int run_create_hooks(struct oci_state *st, const struct oci_spec *c, podrun_error_t *err)
{
  /* saved so: `state` asked meanwhile (by a hook) says it too */
  st->creating = true;
  int r = oci_state_save(st, err) < 0 ||
                  oci_hooks_run(c->hooks[OCI_HOOK_CREATE_RUNTIME], "createRuntime", st, err) < 0 ||
                  oci_hooks_run(c->hooks[OCI_HOOK_PRESTART], "prestart", st, err) < 0
              ? -1
              : 0;
  st->creating = false;
  return r;
}

static json_t *state_hooks(const struct oci_spec *c)
{
  json_t *h = json_object();
  if (c->hooks[OCI_HOOK_POSTSTART])
    json_object_set(h, "poststart", c->hooks[OCI_HOOK_POSTSTART]);
  if (c->hooks[OCI_HOOK_POSTSTOP])
    json_object_set(h, "poststop", c->hooks[OCI_HOOK_POSTSTOP]);
  return h;
}

/* The pod is prepared: the container's process forked, its namespaces
 * made, the create hooks run, and it is recorded. */
static int fork_container(struct oci_state *st, struct pod *p, struct pod_plan *plan, const struct oci_spec *c,
                          const struct container_ns *ns, podrun_error_t *err)
{
  _cleanup_free_ char *fifo = xasprintf("%s/%s/" OCI_FIFO, arg_root, st->id);
  _cleanup_close_ int slave = -1;
  int report[2];

  if (mkfifoat(st->dirfd, OCI_FIFO, 0600) < 0)
    return podrun_error_set(err, errno, "make %s", QUOTE(fifo));
  if (c->terminal && oci_console_send(arg_console_socket, &slave, err) < 0)
    return -1;
  if (pipe2(report, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "pipe");
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return close(report[0]), close(report[1]), podrun_error_set(err, errno, "fork");
  if (pid == 0)
    {
      close(st->dirfd); /* its lock is the verbs' */
      close(report[0]);
      container_main(p, plan, ns, fifo, slave, report[1]);
    }
  close(report[1]);
  int r = container_wait_ready(report[0], err);
  close(report[0]);
  st->pid = pid;
  st->pid_start = oci_pid_start(pid);
  if (r < 0 || run_create_hooks(st, c, err) < 0 || oci_state_save(st, err) < 0 || write_pid_file(pid, err) < 0)
    {
      kill(pid, SIGKILL);
      (void) waitpid(pid, NULL, 0);
      return -1;
    }
  return 0;
}

static int check_args(const struct oci_spec *c, podrun_error_t *err)
{
  unsigned long long n = 0;
  if (arg_preserve_fds && (parse_uint(arg_preserve_fds, 1024, &n) < 0 || n > 0))
    return podrun_error_new(err, 0, "create: --preserve-fds=%s: passing extra fds is not supported",
                            ESCAPE(arg_preserve_fds));
  /* --detach: create always returns once the container's process waits */
  if (c->terminal && !arg_console_socket)
    return podrun_error_new(err, 0, "create: process.terminal is true: give --console-socket");
  if (!c->terminal && arg_console_socket)
    return podrun_error_new(err, 0, "create: --console-socket without process.terminal");
  return 0;
}

/* A read-only root (root.readonly, or the policy's): the tmpfs mounts'
 * destinations are made in the rootfs now, as runc makes them before it
 * makes the root read-only (stage2, which mounts them, comes after the
 * stage1 did); each component opened without following a symlink. */
static int make_tmpfs_targets(const struct oci_spec *c, const struct pod_plan *plan, podrun_error_t *err)
{
  size_t i;
  json_t *t;
  if (!plan->manifest->apps[0].read_only_rootfs)
    return 0;
  json_array_foreach (c->tmpfs, i, t)
    if (volumes_make_dir_in_root(c->rootfs, json_string_value(json_object_get(t, "destination")), err) < 0)
      return podrun_error_wrap(err, "config.json: a tmpfs on the read-only root");
  return 0;
}

/* path as an existing namespace of type (CLONE_NEWIPC, CLONE_NEWUTS), open. */
static int ns_open(const char *path, int type, const char *what, int *ret_fd, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct statfs sf;
  if (fd < 0)
    return podrun_error_set(err, errno, "config.json: linux.namespaces: the %s namespace %s", what, QUOTE(path));
  if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != type)
    return podrun_error_set(err, 0, "config.json: linux.namespaces: %s: not an %s namespace", QUOTE(path), what);
  *ret_fd = TAKE_FD(fd);
  return 0;
}

/* The IPC and UTS namespaces of the config's paths: fly, which has none of
 * its own, joins them (the container's process, at create); the other
 * flavors make their own (nspawn cannot join existing ones): a warning. */
static int open_other_ns(const struct oci_spec *c, const struct pod_plan *plan, const char *id,
                         struct container_ns *ns, podrun_error_t *err)
{
  const char *paths[] = { c->ipc_path, c->uts_path }, *names[] = { "IPC", "UTS" };
  const int types[] = { CLONE_NEWIPC, CLONE_NEWUTS };
  int *fds[] = { &ns->ipc_fd, &ns->uts_fd };
  for (size_t i = 0; i < 2; i++)
    {
      if (!paths[i])
        continue;
      if (!streq(plan_flavor(plan), "fly"))
        log_warning("container %s: the %s namespace %s is not joined: the pod has its own", ESCAPE(id), names[i],
                    QUOTE(paths[i]));
      else if (ns_open(paths[i], types[i], names[i], fds[i], err) < 0)
        return -1;
    }
  return 0;
}

static void container_ns_done(struct container_ns *ns)
{
  if (ns->ipc_fd >= 0)
    close(ns->ipc_fd);
  if (ns->uts_fd >= 0)
    close(ns->uts_fd);
}

static int create_in(struct oci_state *st, const struct oci_spec *c, podrun_error_t *err)
{
  _cleanup_(pod_plan_done) struct pod_plan plan = { 0 };
  _cleanup_store_ struct store *s = NULL;
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_close_ int netns = -1;
  _cleanup_(container_ns_done) struct container_ns ns = { .netns_fd = -1, .ipc_fd = -1, .uts_fd = -1 };

  /* before any pod exists: a namespace that is not one, or the host's own
   * (a /proc/PID/ns/net of a process on the host's network); the container's
   * process joins it, open */
  if (c->netns_path && pod_netns_open(c->netns_path, &netns, err) < 0)
    return podrun_error_wrap(err, "config.json: linux.namespaces");
  if (build_plan(c, &plan, err) < 0)
    return -1;
  set_pod_flags(c, &plan, &ns);
  ns.netns_fd = netns;
  if (open_other_ns(c, &plan, st->id, &ns, err) < 0)
    return -1;
  if (make_tmpfs_targets(c, &plan, err) < 0 || store_open(arg_dir, 0, &s, err) < 0 ||
      pod_prepare_plan(s, &plan, &p, err) < 0)
    return -1;
  st->uuid = xstrdup(p->uuid);
  st->flavor = xstrdup(plan.stage1_label);
  if (streq(plan.stage1_label, "fly") && (c->ns_pid || (c->ns_ipc && !c->ipc_path) || (c->ns_uts && !c->uts_path)))
    log_warning("container %s: the fly stage1 runs the app in the host's pid, IPC and UTS namespaces (but the "
                "IPC and UTS ones config.json names by path)",
                ESCAPE(st->id));
  if (oci_state_save(st, err) < 0)
    goto undo;
  store_close(TAKE_PTR(s)); /* not into the fork: see pod_exec_stage1 */
  /* what the namespaces were planned for is what the pod got */
  const char *planned = plan_flavor(&plan), *got = plan.stage1_label;
  if ((c->net != OCI_NET_HOST || c->ipc_path || c->uts_path) &&
      (streq(planned, "nspawn") != streq(got, "nspawn") || streq(planned, "fly") != streq(got, "fly")))
    {
      podrun_error_new(err, 0, "container %s: its stage1 %s is not the one its network was planned for", ESCAPE(st->id),
                       QUOTE(plan.stage1_label));
      goto undo;
    }
  if (fork_container(st, p, &plan, c, &ns, err) < 0)
    goto undo;
  log_debug("container %s: pod %s (%s), pid %d", st->id, p->uuid, plan.stage1_label, (int) st->pid);
  return 0;
undo:;
  _cleanup_error_ podrun_error_t e = NULL;
  if ((!s && store_open(arg_dir, 0, &s, &e) < 0) || pod_destroy(s, p, &e) < 0)
    log_warning("container %s: remove its pod %s: %s", st->id, p->uuid, e->msg);
  return -1;
}

int oci_create(int argc, char **argv, podrun_error_t *err)
{
  const struct oci_opt opts[] = {
    { "bundle", true, &arg_bundle },
    { "b", true, &arg_bundle },
    { "pid-file", true, &arg_pid_file },
    { "console-socket", true, &arg_console_socket },
    { "preserve-fds", true, &arg_preserve_fds },
    { "no-pivot", false, .flag = &arg_no_pivot },
    { "no-new-keyring", false, .flag = &arg_no_new_keyring },
    { "detach", false, .flag = &arg_detach },
    { "d", false, .flag = &arg_detach },
    { NULL },
  };
  _cleanup_(oci_spec_done) struct oci_spec c = { 0 };
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  _cleanup_free_ char *bundle = NULL;
  int first;

  if (oci_parse("create", opts, argc, argv, &first, err) < 0)
    return -1;
  if (first != argc - 1)
    return podrun_error_new(err, 0, "create: give one container ID");
  if (oci_id_check(argv[first], err) < 0)
    return -1;
  if (!(bundle = realpath(arg_bundle, NULL)))
    return podrun_error_set(err, errno, "bundle %s", QUOTE(arg_bundle));
  if (read_config(bundle, &c, err) < 0 || check_args(&c, err) < 0)
    return -1;
  for (size_t i = 0; c.warnings && c.warnings[i]; i++)
    log_warning("container %s: %s", ESCAPE(argv[first]), c.warnings[i]);
  if (oci_state_dir_create(argv[first], &st.dirfd, err) < 0)
    return -1;
  st.id = xstrdup(argv[first]);
  st.bundle = TAKE_PTR(bundle);
  st.created = now_rfc3339();
  st.annotations = json_incref(c.annotations);
  st.hooks = state_hooks(&c);
  if (create_in(&st, &c, err) < 0)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      (void) oci_state_remove(st.id, &e);
      return -1;
    }
  return 0;
}

/* Opens exec.fifo for reading, which lets the container's process go on,
 * and reads the byte it writes then. */
static int release(struct oci_state *st, podrun_error_t *err)
{
  _cleanup_close_ int fd = openat(st->dirfd, OCI_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  char go;
  if (fd < 0)
    return podrun_error_set(err, errno, "container %s: open " OCI_FIFO, ESCAPE(st->id));
  for (int waited = 0; waited < START_WAIT_MS; waited += 20)
    {
      ssize_t n = read(fd, &go, 1);
      if (n == 1)
        return unlinkat(st->dirfd, OCI_FIFO, 0) < 0 ? podrun_error_set(err, errno, "remove " OCI_FIFO) : 0;
      if (n < 0 && errno != EAGAIN)
        return podrun_error_set(err, errno, "container %s: read " OCI_FIFO, ESCAPE(st->id));
      if (oci_pid_start(st->pid) != st->pid_start)
        return podrun_error_new(err, 0, "container %s: its process ended before it started", ESCAPE(st->id));
      poll(NULL, 0, 20);
    }
  return podrun_error_new(err, ETIMEDOUT, "container %s: its process did not start within %ds", ESCAPE(st->id),
                          START_WAIT_MS / 1000);
}

int oci_start(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  _cleanup_error_ podrun_error_t e = NULL;

  if (oci_parse_one("start", NULL, argc, argv, &st, err) < 0)
    return -1;
  const char *status = oci_state_status(&st);
  if (!streq(status, "created"))
    return podrun_error_new(err, 0, "container %s is %s, not created", ESCAPE(st.id), status);
  if (release(&st, err) < 0)
    return -1;
  /* the spec: a poststart hook that fails is a warning, the container runs */
  if (oci_hooks_run(json_object_get(st.hooks, "poststart"), "poststart", &st, &e) < 0)
    log_warning("container %s: %s", ESCAPE(st.id), e->msg);
  return 0;
}
