/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI networks of a pod (cni.h): the plugins exec'd as the CNI spec says,
 * their results kept in net-info.json for the DEL that comes later. */
#include "cni.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"

#define PLUGIN_OUTPUT_MAX (1 << 20)
#define CNI_PLUGIN_TIMEOUT_S 60

void cni_net_done(struct cni_net *n)
{
  free(n->name);
  free(n->file);
  free(n->ifname);
  free(n->args);
  json_decref(n->conf);
  free(n->masq_subnet);
  free(n->ipam_dir);
  *n = (struct cni_net){ 0 };
}

bool cni_name_is_valid(const char *s)
{
  size_t len = strlen(s);
  if (len == 0 || len > 128 || !isalnum((unsigned char) s[0]))
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char) *s) && !strchr("_.-", *s))
      return false;
  return true;
}

/* A plugin is a file of CNI_PLUGIN_DIR, named by a word: never a path. */
static int check_plugin(const char *what, const char *type, podrun_error_t *err)
{
  if (!cni_name_is_valid(type))
    return podrun_error_set(err, 0, "%s: plugin type %s is not a plugin name", what, QUOTE(type));
  _cleanup_free_ char *path = xasprintf(CNI_PLUGIN_DIR "/%s", type);
  if (access(path, X_OK) < 0)
    return podrun_error_set(err, 0, "%s: plugin %s: no executable %s (is containernetworking-plugins installed?)",
                            what, QUOTE(type), QUOTE(path));
  return 0;
}

static int check_plugins(json_t *plugins, const char *what, podrun_error_t *err)
{
  size_t i;
  json_t *p;
  if (!json_is_array(plugins) || json_array_size(plugins) == 0)
    return podrun_error_set(err, 0, "%s: \"plugins\" is not a list of plugins", what);
  json_array_foreach (plugins, i, p)
    {
      const char *type = json_string_value(json_object_get(p, "type"));
      json_t *ipam = json_object_get(p, "ipam");
      if (!json_is_object(p) || !type)
        return podrun_error_set(err, 0, "%s: plugin %zu has no \"type\"", what, i + 1);
      if (check_plugin(what, type, err) < 0)
        return -1;
      if (ipam && !json_is_object(ipam))
        return podrun_error_set(err, 0, "%s: plugin %s: \"ipam\" is not an object", what, QUOTE(type));
      const char *ipam_type = json_string_value(json_object_get(ipam, "type"));
      if (ipam && (!ipam_type || check_plugin(what, ipam_type, err) < 0))
        return ipam_type ? -1 : podrun_error_set(err, 0, "%s: plugin %s: its \"ipam\" has no \"type\"", what,
                                                 QUOTE(type));
    }
  return 0;
}

int cni_conf_parse(const char *text, size_t len, const char *what, json_t **ret_conflist, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = NULL;
  if (json_parse_untrusted(text, len, what, &j, err) < 0)
    return -1;
  if (!json_is_object(j))
    return podrun_error_set(err, 0, "%s: not a JSON object", what);
  const char *name = json_string_value(json_object_get(j, "name"));
  const char *version = json_string_value(json_object_get(j, "cniVersion"));
  if (!name || !cni_name_is_valid(name))
    return podrun_error_set(err, 0, "%s: no \"name\", or not a network name ([A-Za-z0-9][A-Za-z0-9_.-]*)", what);
  if (!version)
    return podrun_error_set(err, 0, "%s: no \"cniVersion\"", what);
  json_t *plugins = json_object_get(j, "plugins");
  if (!plugins)
    {
      /* a .conf: one plugin, which is the whole object */
      json_t *one = json_deep_copy(j);
      json_object_del(one, "name");
      json_object_del(one, "cniVersion");
      json_t *list = json_pack("{s:s,s:s,s:[o]}", "cniVersion", version, "name", name, "plugins", one);
      json_decref(j); /* name and version were copied into list first */
      j = list;
    }
  if (check_plugins(json_object_get(j, "plugins"), what, err) < 0)
    return -1;
  *ret_conflist = TAKE_PTR(j);
  return 0;
}

/* What a plugin is run for: CNI's environment. */
struct call
{
  const char *command; /* ADD, DEL */
  const char *uuid, *netns, *ifname, *args;
};

static int memfd_with(const char *name, const char *text, podrun_error_t *err)
{
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "memfd_create");
  if (text && (fs_write_all(fd, text, strlen(text), err) < 0 || lseek(fd, 0, SEEK_SET) < 0))
    {
      close(fd);
      return podrun_error_set(err, errno, "write a plugin's input");
    }
  return fd;
}

static char *memfd_text(int fd)
{
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size > PLUGIN_OUTPUT_MAX)
    return xstrdup("");
  char *buf = xzalloc((size_t) st.st_size + 1);
  ssize_t n = pread(fd, buf, (size_t) st.st_size, 0);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static _noreturn_ void plugin_child(const char *path, const struct call *c, int in, int out, int errfd, pid_t parent)
{
  _cleanup_free_ char *cmd = xasprintf("CNI_COMMAND=%s", c->command);
  _cleanup_free_ char *id = xasprintf("CNI_CONTAINERID=%s", c->uuid);
  _cleanup_free_ char *ns = xasprintf("CNI_NETNS=%s", c->netns);
  _cleanup_free_ char *ifname = xasprintf("CNI_IFNAME=%s", c->ifname);
  _cleanup_free_ char *args = xasprintf("CNI_ARGS=%s", c->args ? c->args : "");
  char *env[] = { cmd, id, ns, ifname, args, (char *) "CNI_PATH=" CNI_PLUGIN_DIR,
                  (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  char *argv[] = { (char *) path, NULL };
  /* a plugin dies with podrun: none is left adding what nobody will delete */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
    _exit(127);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
    _exit(127);
  close_range(3, ~0U, 0); /* the pod's lock, sockets of its ports: none is the plugin's */
  execve(path, argv, env);
  _exit(127);
}

/* The plugin's error as the spec has it ({"code","msg","details"} on
 * stdout), else the last line of its stderr, else its exit status. */
static int plugin_failed(const char *type, const char *out, char *errtext, int status, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = json_loads(out, 0, NULL);
  const char *msg = json_string_value(json_object_get(j, "msg"));
  const char *details = json_string_value(json_object_get(j, "details"));
  if (msg)
    return podrun_error_set(err, 0, "plugin %s: %s%s%s", QUOTE(type), ESCAPE(msg), details && *details ? ": " : "",
                            details ? ESCAPE(details) : "");
  size_t len = strlen(errtext);
  while (len && errtext[len - 1] == '\n')
    errtext[--len] = '\0';
  char *last = strrchr(errtext, '\n');
  last = last ? last + 1 : errtext;
  if (*last)
    return podrun_error_set(err, 0, "plugin %s: %s", QUOTE(type), ESCAPE(last));
  if (WIFEXITED(status))
    return podrun_error_set(err, 0, "plugin %s exited with %d", QUOTE(type), WEXITSTATUS(status));
  return podrun_error_set(err, 0, "plugin %s was killed by signal %d", QUOTE(type), WTERMSIG(status));
}

/* A plugin that hangs (an iptables lock held forever, a stuck netlink call)
 * is killed after CNI_PLUGIN_TIMEOUT_S: the pod fails, naming it, and the
 * caller deletes what was added. */
static int plugin_wait(pid_t pid, const char *type, int *status, podrun_error_t *err)
{
  _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  int r;
  while (pidfd >= 0 && (r = poll(&pfd, 1, CNI_PLUGIN_TIMEOUT_S * 1000)) < 0 && errno == EINTR)
    ;
  bool late = pidfd >= 0 && r == 0;
  if (late)
    (void) kill(pid, SIGKILL);
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait for plugin %s", QUOTE(type));
  if (late)
    return podrun_error_set(err, 0, "plugin %s did not finish within %d s (killed)", QUOTE(type),
                            CNI_PLUGIN_TIMEOUT_S);
  return 0;
}

/* Runs plugin `type` with conf on stdin; *ret_result: what it printed (ADD). */
static int plugin_exec(const char *type, const struct call *c, json_t *conf, json_t **ret_result, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf(CNI_PLUGIN_DIR "/%s", type), *text = json_dump_sorted(conf, false);
  _cleanup_close_ int in = -1, out = -1, errfd = -1;
  int status = 0;

  if (!cni_name_is_valid(type))
    return podrun_error_set(err, 0, "plugin type %s is not a plugin name", QUOTE(type));
  if ((in = memfd_with("cni-in", text, err)) < 0 || (out = memfd_with("cni-out", NULL, err)) < 0 ||
      (errfd = memfd_with("cni-err", NULL, err)) < 0)
    return -1;
  log_debug("CNI %s %s (%s)", c->command, type, c->ifname);
  fflush(NULL);
  pid_t parent = getpid(), pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    plugin_child(path, c, in, out, errfd, parent);
  if (plugin_wait(pid, type, &status, err) < 0)
    return -1;
  _cleanup_free_ char *result = memfd_text(out), *errtext = memfd_text(errfd);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(path, X_OK) < 0)
    return podrun_error_set(err, errno, "plugin %s: %s", QUOTE(type), QUOTE(path));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return plugin_failed(type, result, errtext, status, err);
  if (!ret_result)
    return 0;
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *what = xasprintf("plugin %s: its result", QUOTE(type));
  if (json_parse_untrusted(result, strlen(result), what, &j, err) < 0)
    return -1;
  if (!json_is_object(j))
    return podrun_error_set(err, 0, "%s is not a JSON object", what);
  *ret_result = TAKE_PTR(j);
  return 0;
}

/* plugin i of the list, as the spec says a plugin gets it: the list's name
 * and version, and the previous plugin's result. */
static json_t *plugin_conf(json_t *list, size_t i, json_t *prev)
{
  json_t *conf = json_deep_copy(json_array_get(json_object_get(list, "plugins"), i));
  json_object_set(conf, "name", json_object_get(list, "name"));
  json_object_set(conf, "cniVersion", json_object_get(list, "cniVersion"));
  if (prev)
    json_object_set(conf, "prevResult", prev);
  return conf;
}

static const char *plugin_type(json_t *list, size_t i)
{
  return json_string_value(json_object_get(json_array_get(json_object_get(list, "plugins"), i), "type"));
}

static int net_add(const struct cni_net *n, const struct call *c, json_t **ret_result, podrun_error_t *err)
{
  _cleanup_json_ json_t *result = NULL;
  size_t count = json_array_size(json_object_get(n->conf, "plugins"));
  for (size_t i = 0; i < count; i++)
    {
      _cleanup_json_ json_t *conf = plugin_conf(n->conf, i, result), *next = NULL;
      if (plugin_exec(plugin_type(n->conf, i), c, conf, &next, err) < 0)
        return -1;
      json_decref(result);
      result = TAKE_PTR(next);
    }
  *ret_result = TAKE_PTR(result);
  return 0;
}

/* Every plugin, last first, even after one failed (each cleans its own);
 * the first failure is the error. */
static int net_del(const struct cni_net *n, json_t *result, const struct call *c, podrun_error_t *err)
{
  int r = 0;
  for (size_t i = json_array_size(json_object_get(n->conf, "plugins")); i-- > 0;)
    {
      _cleanup_json_ json_t *conf = plugin_conf(n->conf, i, result);
      _cleanup_error_ podrun_error_t e = NULL;
      if (plugin_exec(plugin_type(n->conf, i), c, conf, NULL, &e) < 0)
        {
          log_debug("CNI DEL of network %s: %s", QUOTE(n->name), e->msg);
          if (r == 0)
            r = podrun_error_set(err, 0, "%s", e->msg);
        }
    }
  return r;
}

static bool is_netns_mount(const char *path)
{
  struct statfs st;
  return statfs(path, &st) == 0 && st.f_type == NSFS_MAGIC;
}

int cni_loopback_up(podrun_error_t *err)
{
  _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = { 0 };
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return podrun_error_set(err, errno, "the pod's loopback");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return podrun_error_set(err, errno, "bring the pod's loopback up");
  return 0;
}

int cni_netns_bind_self(int poddirfd, podrun_error_t *err)
{
  _cleanup_close_ int fd =
    openat(poddirfd, CNI_NETNS_FILE, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
  if (fd < 0)
    return podrun_error_set(err, errno, "create the pod's " CNI_NETNS_FILE);
  _cleanup_free_ char *target = xasprintf("/proc/self/fd/%d", fd);
  if (mount("/proc/self/ns/net", target, NULL, MS_BIND, NULL) < 0)
    {
      int e = errno;
      (void) unlinkat(poddirfd, CNI_NETNS_FILE, 0);
      return podrun_error_set(err, e, "bind-mount the pod's network namespace on its " CNI_NETNS_FILE);
    }
  return 0;
}

int cni_netns_create(int poddirfd, podrun_error_t *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int r = 0;

  if (self < 0)
    return podrun_error_set(err, errno, "open /proc/self/ns/net");
  if (unshare(CLONE_NEWNET) < 0)
    r = podrun_error_set(err, errno, "a network namespace for the pod");
  else if (cni_loopback_up(err) < 0 || cni_netns_bind_self(poddirfd, err) < 0)
    r = -1;
  if (setns(self, CLONE_NEWNET) < 0)
    abort(); /* back to the host's: there is no going on in the pod's */
  return r;
}

static int netns_remove_here(const char *path, podrun_error_t *err)
{
  if (is_netns_mount(path) && umount2(path, MNT_DETACH) < 0)
    return podrun_error_set(err, errno, "unmount %s", QUOTE(path));
  if (unlink(path) < 0 && errno != ENOENT)
    return podrun_error_set(err, errno, "remove %s", QUOTE(path));
  return 0;
}

/* In the host's mount namespace (a child joins it: setns of a mount
 * namespace wants a process of one thread, and this one stays where it is). */
static int netns_remove(const char *path, int host_mntns_fd, podrun_error_t *err)
{
  if (host_mntns_fd < 0)
    return netns_remove_here(path, err);
  fflush(NULL);
  pid_t pid = fork();
  int status = 0;
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      if (setns(host_mntns_fd, CLONE_NEWNS) < 0 || netns_remove_here(path, &e) < 0)
        {
          log_error("%s", e ? e->msg : "join the host's mount namespace");
          _exit(1);
        }
      _exit(0);
    }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return podrun_error_set(err, 0, "remove the pod's network namespace %s", QUOTE(path));
  return 0;
}

/* iptables -w -t nat OP POSTROUTING <the network's rule>: its exit status
 * (0: done, or for -C there), -1 when it could not run. */
static int masq_rule(const struct cni_net *n, const char *op)
{
  _cleanup_free_ char *comment = xasprintf("podrun network %s", n->name);
  char *argv[] = { (char *) CNI_IPTABLES, (char *) "-w", (char *) "-t", (char *) "nat", (char *) op,
                   (char *) "POSTROUTING", (char *) "-s", n->masq_subnet, (char *) "!", (char *) "-d",
                   n->masq_subnet, (char *) "-m", (char *) "comment", (char *) "--comment", comment,
                   (char *) "-j", (char *) "MASQUERADE", NULL };
  char *env[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
  int status = 0;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        _exit(127);
      close_range(3, ~0U, 0);
      execve(argv[0], argv, env);
      _exit(127);
    }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whether host-local holds an address of the network (its files are named
 * by the address; lock and last_reserved_ip.* are its own). */
static bool ipam_has_addresses(const char *dir)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (isdigit((unsigned char) de->d_name[0]) || strchr(de->d_name, ':'))
      return true;
  return false;
}

/* Under a lock of the network's (the host's, whatever the store): added if
 * missing when a pod joins, removed when its last address went. */
static int masq_update(const struct cni_net *n, bool joining, podrun_error_t *err)
{
  _cleanup_free_ char *lock_path = xasprintf("%s.masquerade.lock", n->ipam_dir);
  _cleanup_close_ int lock = -1;
  if (fs_mkdir_p(n->ipam_dir, 0755, err) < 0)
    return -1;
  lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) < 0)
    return podrun_error_set(err, errno, "lock %s", QUOTE(lock_path));
  if (joining)
    {
      if (masq_rule(n, "-C") != 0 && masq_rule(n, "-A") != 0)
        return podrun_error_set(err, 0, "network %s: iptables cannot add the masquerade rule of %s",
                                QUOTE(n->name), n->masq_subnet);
      return 0;
    }
  /* the last address gone: one iptables run when the rule goes, a second
   * only to tell a rule that was not there from one that stays */
  if (!ipam_has_addresses(n->ipam_dir) && masq_rule(n, "-D") != 0 && masq_rule(n, "-C") == 0)
    return podrun_error_set(err, 0, "network %s: iptables cannot remove the masquerade rule of %s",
                            QUOTE(n->name), n->masq_subnet);
  return 0;
}

/* masq_update(n, true) in a child: its pid, 0 when it could not fork. */
static pid_t masq_join_start(const struct cni_net *n)
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      _exit(masq_update(n, true, &e) < 0 ? 1 : 0);
    }
  return pid > 0 ? pid : 0;
}

/* The child's outcome (err NULL: only reaped); without a child, the update
 * itself. */
static int masq_join_finish(const struct cni_net *n, pid_t pid, podrun_error_t *err)
{
  if (!n->masq_subnet)
    return 0;
  if (pid == 0)
    return err ? masq_update(n, true, err) : 0;
  int status = -1;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      break;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  return err ? podrun_error_set(err, 0, "network %s: iptables cannot add the masquerade rule of %s",
                                QUOTE(n->name), n->masq_subnet)
             : -1;
}

static json_t *net_info_entry(const struct cni_net *n, json_t *result)
{
  json_t *o = json_pack("{s:s,s:s,s:s,s:O}", "name", n->name, "file", n->file, "ifname", n->ifname, "config",
                        n->conf);
  if (n->args)
    json_object_set_new(o, "args", json_string(n->args));
  if (n->masq_subnet)
    json_object_set_new(o, "masquerade", json_pack("{s:s,s:s}", "subnet", n->masq_subnet, "ipam_dir", n->ipam_dir));
  if (result)
    json_object_set(o, "result", result);
  return o;
}

static int net_info_write(int poddirfd, json_t *networks, podrun_error_t *err)
{
  _cleanup_json_ json_t *o = json_pack("{s:O}", "networks", networks);
  _cleanup_free_ char *text = json_dump_sorted(o, true);
  return fs_write_file_atomic_at(poddirfd, CNI_NET_INFO, text, strlen(text), 0644, err);
}

int cni_net_info_read(int poddirfd, json_t **ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  _cleanup_error_ podrun_error_t missing = NULL;
  size_t len = 0;
  if (fs_read_file_at(poddirfd, CNI_NET_INFO, JSON_MAX_INPUT, &text, &len, &missing) < 0)
    {
      if (missing->status != ENOENT)
        return podrun_error_set(err, 0, "%s", missing->msg);
      *ret = NULL;
      return 0;
    }
  if (json_parse_untrusted(text, len, CNI_NET_INFO, &j, err) < 0)
    return -1;
  if (!json_is_array(json_object_get(j, "networks")))
    return podrun_error_set(err, 0, CNI_NET_INFO ": no \"networks\" list");
  *ret = TAKE_PTR(j);
  return 0;
}

int cni_pod_setup(int poddirfd, const char *podpath, const char *uuid, struct cni_net *nets, size_t n,
                  podrun_error_t *err)
{
  _cleanup_free_ char *netns = xasprintf("%s/" CNI_NETNS_FILE, podpath);
  _cleanup_json_ json_t *entries = json_array();

  for (size_t i = 0; i < n; i++)
    json_array_append_new(entries, net_info_entry(&nets[i], NULL));
  /* what is about to be added first: a crash from here on leaves what the
   * next teardown deletes */
  if (net_info_write(poddirfd, entries, err) < 0)
    return -1;
  if (cni_netns_create(poddirfd, err) < 0)
    goto fail;
  for (size_t i = 0; i < n; i++)
    {
      struct call c = { "ADD", uuid, netns, nets[i].ifname, nets[i].args };
      _cleanup_json_ json_t *result = NULL;
      /* the network's masquerade rule is seen to while its plugins run */
      pid_t masq = nets[i].masq_subnet ? masq_join_start(&nets[i]) : 0;
      int added = net_add(&nets[i], &c, &result, err);
      if (masq_join_finish(&nets[i], masq, added == 0 ? err : NULL) < 0 || added < 0)
        {
          podrun_error_wrap(err, "network %s (%s)", QUOTE(nets[i].name), nets[i].file);
          goto fail;
        }
      json_array_set_new(entries, i, net_info_entry(&nets[i], result));
      if (net_info_write(poddirfd, entries, err) < 0)
        goto fail;
    }
  return 0;
fail:;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (cni_pod_teardown(poddirfd, podpath, uuid, -1, &ignored) < 0)
    log_warning("pod %s: %s", uuid, ignored->msg);
  else
    (void) unlinkat(poddirfd, CNI_NET_INFO, 0); /* never networked */
  return -1;
}

/* A network entry of net-info.json back into a cni_net (its config checked
 * again: it names the plugins that are about to run). */
static int net_from_info(json_t *e, struct cni_net *ret, podrun_error_t *err)
{
  const char *name = json_string_value(json_object_get(e, "name"));
  const char *file = json_string_value(json_object_get(e, "file"));
  const char *ifname = json_string_value(json_object_get(e, "ifname"));
  const char *args = json_string_value(json_object_get(e, "args"));
  json_t *conf = json_object_get(e, "config"), *masq = json_object_get(e, "masquerade");
  const char *subnet = json_string_value(json_object_get(masq, "subnet"));
  const char *ipam_dir = json_string_value(json_object_get(masq, "ipam_dir"));
  if (!name || !file || !ifname || !cni_name_is_valid(ifname) || !json_is_object(conf))
    return podrun_error_set(err, 0, CNI_NET_INFO ": a network without name, file, ifname or config");
  if (masq && (!subnet || !ipam_dir || subnet[0] == '-' || ipam_dir[0] != '/'))
    return podrun_error_set(err, 0, CNI_NET_INFO ": network %s: a masquerade without subnet or directory",
                            QUOTE(name));
  _cleanup_free_ char *what = xasprintf(CNI_NET_INFO ": network %s", QUOTE(name));
  if (check_plugins(json_object_get(conf, "plugins"), what, err) < 0)
    return -1;
  *ret = (struct cni_net){ xstrdup(name), xstrdup(file), xstrdup(ifname), args ? xstrdup(args) : NULL,
                           json_incref(conf), masq ? xstrdup(subnet) : NULL, masq ? xstrdup(ipam_dir) : NULL };
  return 0;
}

int cni_pod_teardown(int poddirfd, const char *podpath, const char *uuid, int host_mntns_fd, podrun_error_t *err)
{
  _cleanup_free_ char *netns = xasprintf("%s/" CNI_NETNS_FILE, podpath);
  _cleanup_json_ json_t *info = NULL;
  int r = 0;

  if (cni_net_info_read(poddirfd, &info, err) < 0)
    return -1;
  /* DEL without a netns when it is gone: the plugins release what is
   * theirs outside it (addresses, rules) */
  bool have_ns = is_netns_mount(netns);
  json_t *networks = json_object_get(info, "networks");
  for (size_t i = json_array_size(networks); i-- > 0;)
    {
      json_t *entry = json_array_get(networks, i);
      struct cni_net n = { 0 };
      _cleanup_error_ podrun_error_t e = NULL;
      if (net_from_info(entry, &n, &e) == 0)
        {
          struct call c = { "DEL", uuid, have_ns ? netns : "", n.ifname, n.args };
          if (net_del(&n, json_object_get(entry, "result"), &c, &e) < 0)
            podrun_error_wrap(&e, "network %s (%s): delete", QUOTE(n.name), n.file);
          else if (n.masq_subnet)
            (void) masq_update(&n, false, &e);
        }
      if (e && r == 0)
        r = podrun_error_set(err, 0, "%s", e->msg);
      cni_net_done(&n);
    }
  if (r < 0)
    return -1; /* the netns stays for the next try, which needs it */
  return netns_remove(netns, host_mntns_fd, err);
}

bool cni_plugins_at_work(const char *uuid)
{
  _cleanup_closedir_ DIR *d = opendir("/proc");
  _cleanup_free_ char *want = xasprintf("CNI_CONTAINERID=%s", uuid);
  struct dirent *de;
  while (d && (de = readdir(d)))
    {
      if (!isdigit((unsigned char) de->d_name[0]))
        continue;
      _cleanup_free_ char *path = xasprintf("/proc/%s/environ", de->d_name), *env = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      size_t len = 0;
      if (fs_read_file_at(AT_FDCWD, path, 1 << 20, &env, &len, &ignored) < 0)
        continue;
      for (size_t off = 0; off < len; off += strlen(env + off) + 1)
        if (streq(env + off, want))
          return true;
    }
  return false;
}

char **cni_net_addresses(json_t *net)
{
  char **v = NULL;
  size_t i;
  json_t *ip;
  json_array_foreach (json_object_get(json_object_get(net, "result"), "ips"), i, ip)
    {
      const char *a = json_string_value(json_object_get(ip, "address"));
      if (a)
        v = strv_push(v, a);
    }
  return v;
}

static void dns_words(json_t *dns, const char *key, char ***words)
{
  size_t i;
  json_t *w;
  json_array_foreach (json_object_get(dns, key), i, w)
    {
      const char *s = json_string_value(w);
      /* one word of a resolv.conf line: the result is the plugins', which
       * had it from a configuration; still, a line is a line */
      if (s && *s && !strpbrk(s, " \t\r\n#;") && !strv_contains(*words, s))
        *words = strv_push(*words, s);
    }
}

static void put_words(FILE *f, const char *key, char **words, bool one_per_line)
{
  for (size_t i = 0; words && words[i]; i++)
    fprintf(f, "%s%s%s", one_per_line || i == 0 ? key : " ", words[i], one_per_line || !words[i + 1] ? "\n" : "");
}

char *cni_resolv_conf(int poddirfd)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_json_ json_t *info = NULL;
  _cleanup_strv_ char **ns = NULL, **search = NULL, **options = NULL;
  size_t i;
  json_t *e;
  char *text = NULL;
  size_t len = 0;

  if (cni_net_info_read(poddirfd, &info, &ignored) < 0 || !info)
    return NULL;
  json_array_foreach (json_object_get(info, "networks"), i, e)
    {
      json_t *dns = json_object_get(json_object_get(e, "result"), "dns");
      dns_words(dns, "nameservers", &ns);
      dns_words(dns, "search", &search);
      dns_words(dns, "options", &options);
    }
  if (!ns)
    return NULL;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    abort();
  fputs("# written by podrun from the DNS of the pod's CNI networks\n", f);
  put_words(f, "nameserver ", ns, true);
  put_words(f, "search ", search, false);
  put_words(f, "options ", options, false);
  fclose(f);
  return text;
}

int cni_take_passed_fds(void)
{
  const char *ports = getenv(CNI_PORT_FDS_ENV), *mntns = getenv(CNI_HOST_MNTNS_ENV);
  _cleanup_free_ char *copy = xstrdup(ports ? ports : "");
  char *save = NULL;
  unsigned long long fd;
  int host_mntns = -1;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    if (parse_uint(w, INT_MAX, &fd) == 0)
      (void) fcntl((int) fd, F_SETFD, FD_CLOEXEC);
  if (mntns && parse_uint(mntns, INT_MAX, &fd) == 0 && fcntl((int) fd, F_SETFD, FD_CLOEXEC) == 0)
    host_mntns = (int) fd;
  unsetenv(CNI_PORT_FDS_ENV);
  unsetenv(CNI_HOST_MNTNS_ENV);
  return host_mntns;
}
