/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prepare: a pod directory from a pod manifest and a stage1; run: the
 * pod's private mount namespace, then exec of the stage1 (DESIGN §3). */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "cgroup.h"
#include "cni.h"
#include "fs.h"
#include "inspect/inspect.h"
#include "lock.h"
#include "net.h"
#include "log.h"
#include "mds.h"
#include "overlay.h"
#include "pod-setup.h"
#include "stage1.h"
#include "userns.h"

char *pods_dir(void)
{
  return xasprintf("%s/pods", arg_dir);
}

static int write_text(struct pod *p, const char *path, const char *text, podrun_error_t *err)
{
  return fs_write_file_atomic_at(p->dirfd, path, text, strlen(text), 0640, err);
}

static int mkdirs_at(struct pod *p, const char *path, podrun_error_t *err)
{
  _cleanup_free_ char *abs = xasprintf("%s/%s", p->path, path);
  return fs_mkdir_p(abs, 0750, err);
}

/* The pod flags the stage1 gets, one per line; kept in the pod at prepare
 * so that run-prepared starts the pod exactly as prepare was asked to. */
static char *stage1_run_flags(uid_t userns_shift)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    abort(); /* out of memory, as x*alloc */
  if (arg_run.interactive)
    fputs("--interactive\n", f);
  if (arg_run.net)
    fprintf(f, "--net=%s\n", arg_run.net);
  if (arg_run.hostname)
    fprintf(f, "--hostname=%s\n", arg_run.hostname);
  if (userns_shift)
    fprintf(f, USERNS_FLAG "%u:%u\n", (unsigned) userns_shift, USERNS_RANGE);
  /* --insecure-options: pod-level, fixed at prepare like the rest */
  if (arg_insecure & INSECURE_CAPABILITIES)
    fputs(STAGE1_DISABLE_CAPS "\n", f);
  if (arg_insecure & INSECURE_PATHS)
    fputs(STAGE1_DISABLE_PATHS "\n", f);
  if (arg_insecure & INSECURE_SECCOMP)
    fputs(STAGE1_DISABLE_SECCOMP "\n", f);
  const struct { const char *flag; char **values; } lists[] = {
    { "dns", arg_run.dns }, { "dns-search", arg_run.dns_search },
    { "dns-opt", arg_run.dns_opt }, { "hosts-entry", arg_run.hosts_entries },
  };
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t i = 0; lists[l].values && lists[l].values[i]; i++)
      fprintf(f, "--%s=%s\n", lists[l].flag, lists[l].values[i]);
  if (fclose(f) != 0)
    abort();
  return buf;
}

static bool is_ip(const char *s)
{
  unsigned char buf[16];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_hostname(const char *s)
{
  if (!*s || strlen(s) > 253)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char) *s) && *s != '-' && *s != '.')
      return false;
  return true;
}

/* The pod flags, checked before any pod exists: each is one line of
 * stage1/run-flags, and the DNS ones (rkt's --dns, --dns-search, --dns-opt
 * and --hosts-entry) end up as lines of files in the apps' /etc. */
static int check_pod_flags(podrun_error_t *err)
{
  size_t n = strv_length(arg_run.dns), h = strv_length(arg_run.hosts_entries);
  if (arg_run.hostname && (!is_hostname(arg_run.hostname) || strlen(arg_run.hostname) > 64))
    return podrun_error_set(err, 0, "--hostname: letters, digits, '-' and '.', at most 64 of them");
  if (arg_run.net && (!*arg_run.net || strpbrk(arg_run.net, " \t\n")))
    return podrun_error_set(err, 0, "--net: a network name, without blanks");
  bool mds;
  if (arg_mds_register && parse_boolean(arg_mds_register, &mds, err) < 0)
    return podrun_error_wrap(err, "--mds-register");
  for (size_t i = 0; i < n; i++)
    if ((streq(arg_run.dns[i], "host") || streq(arg_run.dns[i], "none")) ? n > 1 : !is_ip(arg_run.dns[i]))
      return podrun_error_set(err, 0, "--dns=%s: an IP address, or host or none alone", ESCAPE(arg_run.dns[i]));
  bool whole_file = n && (streq(arg_run.dns[0], "host") || streq(arg_run.dns[0], "none"));
  if (whole_file && (arg_run.dns_search || arg_run.dns_opt))
    return podrun_error_set(err, 0, "--dns=%s: no --dns-search or --dns-opt with it", ESCAPE(arg_run.dns[0]));
  char **words[] = { arg_run.dns_search, arg_run.dns_opt };
  for (size_t w = 0; w < ELEMENTSOF(words); w++)
    for (size_t i = 0; words[w] && words[w][i]; i++)
      if (!*words[w][i] || strpbrk(words[w][i], " \t\n#;"))
        return podrun_error_set(err, 0, "--%s=%s: one word, no blanks", w ? "dns-opt" : "dns-search",
                                ESCAPE(words[w][i]));
  for (size_t i = 0; i < h; i++)
    {
      const char *e = arg_run.hosts_entries[i], *eq = strchr(e, '=');
      if (streq(e, "host") ? h > 1 : !eq)
        return podrun_error_set(err, 0, "--hosts-entry=%s: IP=HOSTNAME, or host alone", ESCAPE(e));
      if (eq)
        {
          _cleanup_free_ char *ip = xstrndup(e, (size_t) (eq - e));
          if (!is_ip(ip) || !is_hostname(eq + 1))
            return podrun_error_set(err, 0, "--hosts-entry=%s: IP=HOSTNAME, or host alone", ESCAPE(e));
        }
    }
  return 0;
}

/* A string, null for NULL; a path that is not UTF-8 cannot be JSON, and is
 * recorded as such. */
static json_t *json_text(const char *s)
{
  json_t *j = s ? json_string(s) : json_null();
  return j ? j : json_string("(not UTF-8)");
}

/* stage1/policy: the stage1 as status shows it, the stage1 policy's rule
 * that decided for the pod (null: none did) and the flag that chose it
 * instead (null: none did). */
static char *stage1_policy_record(const struct pod_plan *plan)
{
  _cleanup_free_ char *flag = stage1_flag_given(false);
  _cleanup_json_ json_t *j = json_pack("{s:o,s:o,s:o}", "stage1", json_text(plan->stage1_label), "rule",
                                       json_text(plan->policy.rule), "flag", json_text(flag));
  if (!j)
    abort(); /* out of memory, as x*alloc */
  return json_dump_sorted(j, false);
}

/* Everything a prepared pod holds besides its stage1 and app mounts. */
static int fill_pod_dir(struct pod *p, const struct pod_plan *plan, uid_t userns_shift, podrun_error_t *err)
{
  const struct appc_pod_manifest *m = plan->manifest;
  _cleanup_free_ char *flags = stage1_run_flags(userns_shift), *policy = stage1_policy_record(plan);
  char created[32];

  snprintf(created, sizeof(created), "%lld\n", (long long) store_now_usec());
  if (write_text(p, "pod", plan->text, err) < 0 || write_text(p, "pod-created", created, err) < 0 ||
      mkdirs_at(p, "stage1/rootfs", err) < 0 || mkdirs_at(p, "overlay/stage1/upper", err) < 0 ||
      mkdirs_at(p, "overlay/stage1/work", err) < 0 || mkdirs_at(p, "status", err) < 0 ||
      write_text(p, "stage1/image-id", plan->stage1_id, err) < 0 || write_text(p, "stage1/run-flags", flags, err) < 0 ||
      write_text(p, "stage1/policy", policy, err) < 0)
    return -1;
  bool mds = false;
  if (arg_mds_register && parse_boolean(arg_mds_register, &mds, err) < 0)
    return podrun_error_wrap(err, "--mds-register");
  if (mds && write_text(p, MDS_REGISTER_FILE, "true\n", err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_apps; i++)
    {
      const char *n = m->apps[i].name;
      _cleanup_free_ char *dir = xasprintf("apps/%s", n), *id = xasprintf("apps/%s/image-id", n);
      _cleanup_free_ char *up = xasprintf("overlay/%s/upper", n), *work = xasprintf("overlay/%s/work", n);
      if (mkdirs_at(p, dir, err) < 0 || write_text(p, id, m->apps[i].image.id, err) < 0 ||
          mkdirs_at(p, up, err) < 0 || mkdirs_at(p, work, err) < 0)
        return -1;
    }
  return 0;
}

/* --private-users: a range no other pod on disk has. Picked at random, under
 * an exclusive lock that the caller holds until the new pod's run-flags are
 * written, so that two prepares never pick the same. */
static int pick_userns_shift(const char *pods, int *ret_lock, uid_t *ret, podrun_error_t *err)
{
  _cleanup_close_ int dirfd = -1;
  struct pod **all = NULL;
  size_t n = 0;
  const uint32_t slots = (USERNS_SHIFT_MAX - USERNS_SHIFT_MIN) / USERNS_RANGE + 1;

  if (fs_mkdir_p(pods, 0750, err) < 0)
    return -1;
  dirfd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(pods));
  if (lock_open_at(dirfd, ".userns.lock", LOCK_MODE_EXCLUSIVE, false, ret_lock, err) < 0 ||
      pod_list(pods, &all, &n, err) < 0)
    return -1;
  _cleanup_free_ uid_t *used = xzalloc(sizeof(uid_t) * (n + 1));
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_error_ podrun_error_t ignored = NULL; /* a pod without run-flags uses none */
      (void) userns_read_pod(all[i]->dirfd, &used[i], &ignored);
    }
  pod_list_free(all, n);
  for (int tries = 0; tries < 64; tries++)
    {
      uint32_t r;
      random_bytes(&r, sizeof(r));
      uid_t shift = USERNS_SHIFT_MIN + (r % slots) * USERNS_RANGE;
      bool taken = false;
      for (size_t i = 0; i < n && !taken; i++)
        taken = used[i] == shift;
      if (!taken)
        {
          *ret = shift;
          return 0;
        }
    }
  return podrun_error_new(err, EBUSY, "--private-users: no free uid range found");
}

/* overlayfs takes ':' and ',' as separators: a pod below a --dir with
 * them could never be mounted. */
static int check_overlay_dir(podrun_error_t *err)
{
  if (strpbrk(arg_dir, ":,\\"))
    return podrun_error_new(err, EINVAL, "--dir=%s: pods cannot run below a path with ':', ',' or '\\' in it "
                                         "(overlayfs takes them as separators)",
                            ESCAPE(arg_dir));
  return 0;
}

/* What prepare does once the plan's manifest is there: the stage1 chosen and
 * checked, then the pod directory. */
static int prepare_from_plan(struct store *s, struct pod_plan *plan, struct pod **ret, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  struct stage1_features *features = &plan->stage1_features;
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_close_ int userns_lock = -1;
  uid_t userns_shift = 0;

  /* every check first, the stage1's included (what it supports, from its
   * annotations): a mistake in the flags creates no pod */
  if (stage1_select(s, &plan->policy, &plan->stage1_id, features, &plan->stage1_run, &plan->stage1_label, err) < 0 ||
      stage1_features_check(features, &arg_run, plan->manifest->n_apps, err) < 0 ||
      (!plan->netns_path && net_check(arg_run.net ? arg_run.net : stage1_default_net(features), plan->manifest, err) < 0) ||
      store_image_layers(s, plan->stage1_id, &plan->stage1_layers, err) < 0)
    return -1;
  /* the stage1 is told its network, the default one too */
  if (!arg_run.net)
    arg_run.net = stage1_default_net(features);
  if (arg_run.private_users && pick_userns_shift(pods, &userns_lock, &userns_shift, err) < 0)
    return -1;
  if (pod_create(pods, &p, err) < 0)
    return -1;
  if (pod_transition(p, POD_PREPARING, err) < 0 || fill_pod_dir(p, plan, userns_shift, err) < 0 ||
      (arg_run.uuid_file_save &&
       fs_write_file_atomic_at(AT_FDCWD, arg_run.uuid_file_save, p->uuid, strlen(p->uuid), 0644, err) < 0) ||
      pod_transition(p, POD_PREPARED, err) < 0)
    {
      _cleanup_error_ podrun_error_t ignored = NULL;
      (void) fs_rm_rf_at(AT_FDCWD, p->path, &ignored);
      return podrun_error_wrap(err, "pod %s", p->uuid); /* the callees name it too: said once */
    }
  log_debug("pod %s prepared", p->uuid);
  *ret = TAKE_PTR(p);
  return 0;
}

int pod_prepare(struct store *s, struct pod **ret, struct pod_plan *ret_plan, podrun_error_t *err)
{
  _cleanup_(pod_plan_done) struct pod_plan plan = { 0 };

  if (check_overlay_dir(err) < 0 || check_pod_flags(err) < 0 || pod_manifest_build(s, &plan, err) < 0 ||
      prepare_from_plan(s, &plan, ret, err) < 0)
    return -1;
  *ret_plan = plan;
  plan = (struct pod_plan){ 0 };
  return 0;
}

int pod_prepare_plan(struct store *s, struct pod_plan *plan, struct pod **ret, podrun_error_t *err)
{
  if (plan->netns_path && (!arg_run.net || !streq(arg_run.net, POD_NET_JOINED)))
    return podrun_error_set(err, 0, "a pod that joins a network namespace is on --net=" POD_NET_JOINED);
  if (check_overlay_dir(err) < 0 || check_pod_flags(err) < 0)
    return -1;
  return prepare_from_plan(s, plan, ret, err);
}

/* run-prepared: what prepare worked out, read back from the pod directory
 * (each thing once). */
static int pod_plan_load(struct store *s, struct pod *p, struct pod_plan *plan, podrun_error_t *err)
{
  size_t len = 0;

  if (fs_read_file_at(p->dirfd, "stage1/image-id", 256, &plan->stage1_id, NULL, err) < 0 ||
      stage1_entrypoint_path(s, plan->stage1_id, "run", &plan->stage1_run, err) < 0 ||
      store_image_layers(s, plan->stage1_id, &plan->stage1_layers, err) < 0 ||
      stage1_features_of(s, plan->stage1_id, &plan->stage1_features, err) < 0 ||
      fs_read_file_at(p->dirfd, "pod", JSON_MAX_INPUT, &plan->text, &len, err) < 0 ||
      appc_pod_manifest_parse(plan->text, len, &plan->manifest, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  plan->app_layers = xzalloc((plan->manifest->n_apps + 1) * sizeof(char **));
  for (size_t i = 0; i < plan->manifest->n_apps; i++)
    if (store_image_layers(s, plan->manifest->apps[i].image.id, &plan->app_layers[i], err) < 0)
      return podrun_error_wrap(err, "pod %s: app %s", p->uuid, QUOTE(plan->manifest->apps[i].name));
  return 0;
}

/* overlayfs takes ':' and ',' as separators; a store path with them cannot be a layer. */
static int check_overlay_path(const char *path, podrun_error_t *err)
{
  if (strpbrk(path, ":,\\"))
    return podrun_error_new(err, EINVAL, "%s: overlay paths cannot contain ':', ',' or '\\\\'", QUOTE(path));
  return 0;
}

/* Host mounts propagate in, none out; the namespace ends with the process. */
static int private_mount_ns(struct pod *p, podrun_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return podrun_error_set(err, errno, "pod %s: private mount namespace", p->uuid);
  return 0;
}

int pod_mount_app_result(struct store *s, struct pod *p, const char *app, int *ret_mntfd, podrun_error_t *err)
{
  _cleanup_free_ char *id_path = xasprintf("apps/%s/image-id", app), *id = NULL, *upper = NULL, *spec = NULL;
  _cleanup_strv_ char **layers = NULL;
  _cleanup_close_ int upper_fd = -1, usernsfd = -1;
  struct overlay_lowers lowers = { 0 };
  uid_t shift = 0;
  int r = -1;

  if (fs_read_file_at(p->dirfd, id_path, 256, &id, NULL, err) < 0 || store_image_layers(s, id, &layers, err) < 0 ||
      userns_read_pod(p->dirfd, &shift, err) < 0 || overlay_lowers_open(layers, -1, &lowers, err) < 0)
    return podrun_error_wrap(err, "app %s", QUOTE(app));
  upper = xasprintf("%s/overlay/%s/upper", p->path, app);
  /* a --private-users pod's files are in its range on disk: seen back
   * through an idmapped mount, they are the image's owners again */
  if (shift)
    {
      if (userns_make(shift, 0, USERNS_RANGE, &usernsfd, err) < 0 ||
          userns_idmapped_tree(upper, usernsfd, &upper_fd, err) < 0)
        goto out;
    }
  else if ((upper_fd = open(upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      podrun_error_set(err, errno, "open %s", QUOTE(upper));
      goto out;
    }
  /* the app's upper on its image's layers, and no upper: read-only, with
   * the app's whiteouts applied */
  spec = xasprintf("/proc/self/fd/%d:%s", upper_fd, lowers.spec);
  r = overlay_mount_detached(spec, ret_mntfd, err);
out:
  overlay_lowers_done(&lowers);
  return r < 0 ? podrun_error_wrap(err, "app %s: its rootfs", QUOTE(app)) : 0;
}

/* The overlay of an image's layers (in the store) at target, its upper and
 * work dirs in the pod's overlay/<name>/. With a user namespace (usernsfd ≥
 * 0) each layer is seen through an idmapped mount, so that its files are
 * owned by the pod's range (root by its root). The upper's root takes the
 * owner and mode of the top layer's (as the user namespace sees it): it is
 * the root the apps see, and what they create or copy up lands in the
 * pod's range. */
static int mount_image(struct pod *p, char *const *layers, const char *name, const char *target, int usernsfd,
                       podrun_error_t *err)
{
  _cleanup_free_ char *upper = xasprintf("%s/overlay/%s/upper", p->path, name);
  _cleanup_free_ char *work = xasprintf("%s/overlay/%s/work", p->path, name), *opts = NULL;
  struct overlay_lowers lowers = { 0 };
  struct stat st;
  int r = -1;

  if (check_overlay_path(upper, err) < 0 || overlay_lowers_open(layers, usernsfd, &lowers, err) < 0)
    return -1;
  if (fstat(lowers.fds[0], &st) < 0 || chown(upper, st.st_uid, st.st_gid) < 0 || chmod(upper, st.st_mode & 07777) < 0)
    {
      podrun_error_set(err, errno, "overlay layer %s", QUOTE(upper));
      goto out;
    }
  if (fs_mkdir_p(target, 0755, err) < 0)
    goto out;
  opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lowers.spec, upper, work);
  if (mount("overlay", target, "overlay", 0, opts) < 0)
    podrun_error_set(err, errno, "mount overlay on %s", QUOTE(target));
  else
    r = 0;
out:
  overlay_lowers_done(&lowers);
  return r;
}

/* An app's rootfs that is a directory of its own (pod_plan's app_roots),
 * bound in place, recursively: what the app writes lands there. */
static int bind_app_root(const char *src, const char *target, int usernsfd, podrun_error_t *err)
{
  if (usernsfd >= 0)
    return podrun_error_set(err, 0, "%s: --private-users needs an image's layers, not a directory", QUOTE(src));
  if (fs_mkdir_p(target, 0755, err) < 0)
    return -1;
  if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return podrun_error_set(err, errno, "bind %s on %s", QUOTE(src), QUOTE(target));
  return 0;
}

/* The pod's own mount namespace: everything in it goes away with the pod's
 * last process. */
static int mount_pod(struct pod *p, const struct pod_plan *plan, uid_t shift, podrun_error_t *err)
{
  const struct appc_pod_manifest *m = plan->manifest;
  _cleanup_free_ char *target = xasprintf("%s/stage1/rootfs", p->path);
  _cleanup_close_ int usernsfd = -1;

  if (private_mount_ns(p, err) < 0 || (shift && userns_make(0, shift, USERNS_RANGE, &usernsfd, err) < 0))
    return podrun_error_wrap(err, "pod %s", p->uuid);
  if (mount_image(p, plan->stage1_layers, "stage1", target, usernsfd, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_apps; i++)
    {
      /* writable even for readOnlyRootFS: the stage1 makes it read-only
       * once its own mounts (volumes, /proc …) are in place */
      _cleanup_free_ char *root = xasprintf("%s/stage1/rootfs/opt/stage2/%s/rootfs", p->path, m->apps[i].name);
      if (plan->app_roots && plan->app_roots[i] ? bind_app_root(plan->app_roots[i], root, usernsfd, err) < 0
                                                : mount_image(p, plan->app_layers[i], m->apps[i].name, root, usernsfd,
                                                              err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  /* The stage1 root is read-only from here on (the apps' roots, mounted on
   * it, are not): what the pod init writes is in the pod directory's bind
   * mounts, and the mount is locked read-only for a pod's user namespace. */
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
  if (mount_setattr(AT_FDCWD, target, 0, &ro, sizeof(ro)) < 0)
    return podrun_error_set(err, errno, "make the stage1 root of pod %s read-only", p->uuid);
  return 0;
}

/* run [--debug] FLAGS… UUID */
static char **stage1_argv(struct pod *p, const char *run, char *const *flags)
{
  char **v = strv_push(NULL, run);
  if (arg_debug)
    v = strv_push(v, "--debug");
  for (size_t i = 0; flags[i]; i++)
    v = strv_push(v, flags[i]);
  return strv_push(v, p->uuid);
}

/* The pod's CNI networks, for its stage1 to join (Documentation/stage1-contract.md):
 * the host ports' sockets and the host's mount namespace go with it. */
struct pod_net
{
  bool cni;
  int *port_fds;
  size_t n_port_fds;
  int host_mntns; /* the host's mount namespace, where the netns is mounted */
};

static void pod_net_done(struct pod_net *n)
{
  for (size_t i = 0; i < n->n_port_fds; i++)
    close(n->port_fds[i]);
  free(n->port_fds);
  if (n->host_mntns >= 0)
    close(n->host_mntns);
}

/* The network namespace at path becomes the pod's netns (bound there, in
 * the host's mount namespace, as for a CNI network): its stage1 joins it,
 * and the teardown that removes a pod's netns only unbinds it. */
int pod_netns_open(const char *path, int *ret_fd, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC), own = -1;
  struct statfs sf;
  struct stat st, ours;

  if (fd < 0)
    return podrun_error_set(err, errno, "network namespace %s", QUOTE(path));
  if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    return podrun_error_set(err, 0, "network namespace %s: not a network namespace", QUOTE(path));
  own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0 || fstat(own, &ours) < 0 || fstat(fd, &st) < 0)
    return podrun_error_set(err, errno, "network namespace %s", QUOTE(path));
  if (st.st_dev == ours.st_dev && st.st_ino == ours.st_ino)
    return podrun_error_set(err, 0, "network namespace %s: is the host's own, not a pod's", QUOTE(path));
  *ret_fd = TAKE_FD(fd);
  return 0;
}

static int join_netns(struct pod *p, const char *path, podrun_error_t *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *target = xasprintf("%s/" CNI_NETNS_FILE, p->path), *src = NULL;

  if (pod_netns_open(path, &fd, err) < 0)
    return -1;
  if (fs_write_file_atomic_at(p->dirfd, CNI_NETNS_FILE, "", 0, 0444, err) < 0)
    return -1;
  src = xasprintf("/proc/self/fd/%d", fd);
  if (mount(src, target, NULL, MS_BIND, NULL) < 0)
    {
      int e = errno;
      (void) unlinkat(p->dirfd, CNI_NETNS_FILE, 0);
      return podrun_error_set(err, e, "bind network namespace %s", QUOTE(path));
    }
  return 0;
}

static int pod_net_setup(struct pod *p, char *const *flags, const struct appc_pod_manifest *m, const char *netns_path,
                         bool netns_bound, struct pod_net *n, podrun_error_t *err)
{
  const char *net = NULL, *v;
  for (size_t i = 0; flags[i]; i++)
    if ((v = startswith(flags[i], "--net=")))
      net = v;
  if (!net_is_cni(net))
    return 0;
  n->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (n->host_mntns < 0)
    return podrun_error_set(err, errno, "open /proc/self/ns/mnt");
  if (netns_path ? !netns_bound && join_netns(p, netns_path, err) < 0 : net_pod_setup(p, net, m, &n->port_fds, &n->n_port_fds, err) < 0)
    return -1;
  n->cni = true;
  return 0;
}

/* A start that failed once the networks were there: they go again. */
static void pod_net_undo(struct pod *p, struct pod_net *n)
{
  _cleanup_error_ podrun_error_t e = NULL;
  if (n->cni && cni_pod_teardown(p->dirfd, p->path, p->uuid, n->host_mntns, &e) < 0)
    log_warning("pod %s: %s", p->uuid, e->msg);
}

/* The fds and variables the contract gives a stage1 of a CNI network. */
static int pod_net_pass(const struct pod_net *n, podrun_error_t *err)
{
  _cleanup_free_ char *list = xstrdup(""), *mntns = xasprintf("%d", n->host_mntns);
  if (!n->cni)
    return 0;
  for (size_t i = 0; i < n->n_port_fds; i++)
    {
      char *l = xasprintf("%s%s%d", list, i ? "," : "", n->port_fds[i]);
      free(list);
      list = l;
      if (fcntl(n->port_fds[i], F_SETFD, 0) < 0)
        return podrun_error_set(err, errno, "pass the pod's host ports");
    }
  if (fcntl(n->host_mntns, F_SETFD, 0) < 0 || setenv(CNI_HOST_MNTNS_ENV, mntns, 1) < 0 ||
      (n->n_port_fds && setenv(CNI_PORT_FDS_ENV, list, 1) < 0))
    return podrun_error_set(err, errno, "pass the pod's network");
  return 0;
}

int pod_exec_stage1(struct store **store, struct pod *p, struct pod_plan *plan, podrun_error_t *err)
{
  _cleanup_(pod_plan_done) struct pod_plan loaded = { 0 };
  _cleanup_(pod_net_done) struct pod_net net = { .host_mntns = -1 };
  _cleanup_free_ char *run = NULL, *fd = NULL;
  _cleanup_strv_ char **argv = NULL, **flags = NULL;
  uid_t shift = 0;
  bool mds = false;

  if (!plan && pod_plan_load(*store, p, plan = &loaded, err) < 0)
    return -1;
  /* what this start asks of the stage1 (a notify or socket unit's
   * environment, the metadata service), against what it declares */
  if (mds_wanted(p, &mds, err) < 0 || stage1_features_check_start(&plan->stage1_features, mds, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  /* the pod flags prepare kept: for the stage1's arguments, and the user
   * namespace the mounts need */
  if (pod_read_run_flags(p->dirfd, &flags, err) < 0 || userns_from_flags(flags, &shift, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  /* what only this start can tell, before the pod moves to run/ (so that a
   * refused run-prepared leaves it prepared) */
  if (check_overlay_dir(err) < 0)
    return -1;
  if (strv_contains(flags, "--interactive") && !isatty(STDIN_FILENO))
    return podrun_error_set(err, 0, "pod %s: --interactive: stdin is not a terminal", p->uuid);
  /* its networks while it is still prepared: a refusal (a port in use, a
   * range exhausted) leaves it prepared, with no network */
  if (pod_net_setup(p, flags, plan->manifest, plan->netns_path, plan->netns_bound, &net, err) < 0)
    return -1;
  /* registered while still prepared too, once its addresses are known:
   * a service that is not there leaves it prepared, with no network */
  if (mds && mds_pod_register(*store, p, plan->text, plan->manifest, flags, shift, err) < 0)
    {
      pod_net_undo(p, &net);
      return -1;
    }
  /* the pod's cgroup (cgroup.h) holds this process, so the stage1 and all
   * it starts: kill -9 of any of them leaves nothing that gc cannot end */
  if (pod_transition(p, POD_RUNNING, err) < 0)
    goto fail;
  if (cgroup_pod_enter(p->dirfd, p->uuid, err) < 0)
    {
      podrun_error_wrap(err, "pod %s", p->uuid);
      goto fail;
    }
  if (mount_pod(p, plan, shift, err) < 0)
    goto fail;
  if (chdir(p->path) < 0)
    {
      podrun_error_set(err, errno, "chdir \"%s\"", p->path);
      goto fail;
    }
  /* run from the pod's own (overlaid) stage1 rootfs, as the contract says */
  run = xasprintf("%s/stage1/rootfs%s", p->path, plan->stage1_run);
  fd = xasprintf("%d", p->dirfd);
  if (fcntl(p->dirfd, F_SETFD, 0) < 0 || setenv("PODRUN_LOCK_FD", fd, 1) < 0)
    {
      podrun_error_set(err, errno, "pass the pod lock");
      goto fail;
    }
  if (pod_net_pass(&net, err) < 0)
    goto fail;
  argv = stage1_argv(p, run, flags);
  /* Closed, not just left to exec: the last SQLite connection to close
   * checkpoints the WAL, which would otherwise grow and be replayed by the
   * next podrun that opens the index. */
  store_close(TAKE_PTR(*store));
  /* The pod starts here, whatever its stage1 does next (however short its
   * apps' lives, even if it never writes a pid) */
  char started[32];
  snprintf(started, sizeof(started), "%lld\n", (long long) store_now_usec());
  if (write_text(p, "started", started, err) < 0)
    goto fail;
  fflush(NULL);
  execv(run, argv); /* every other fd podrun holds is O_CLOEXEC */
  int e = errno;
  (void) unlinkat(p->dirfd, "started", 0); /* it did not start */
  podrun_error_set(err, e, "exec stage1 \"%s\"", run);
fail:
  if (mds)
    mds_pod_unregister(p);
  pod_net_undo(p, &net);
  return -1;
}
