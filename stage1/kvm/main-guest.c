/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's guest init: /init of the initramfs, pid 1 of the VM.
 * It loads the modules the guest needs, mounts what the host shares over
 * virtio-9p (the pod's stage1 rootfs with the apps' roots and volumes in
 * it, the pod's status/, logs/ and the runtime and meta directories),
 * moves into the stage1 rootfs, sets the hostname, the network and the
 * apps' cgroups (their memory and CPU limits, applied inside the guest
 * too), and runs the pod init there with its stdout and stderr on two
 * virtio consoles (podrun's own on the host). It answers the host's stop
 * and enter requests on two virtio-serial ports, and once the pod init has
 * exited it powers the VM off: the pod's records (status/<app>, rt/exit-code)
 * are on the host already (9p writes are synchronous).
 *
 * The host's word is taken for nothing more than what it asks: stop the
 * pod, or run a command in an app as the app (through the pod's own enter,
 * with the app's restrictions). */
#include "kvm.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <linux/random.h>
#include <linux/reboot.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <strings.h>
#include <termios.h>
#include <time.h>

#include <jansson.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "resources.h"
#include "stage2/stage2.h"
#include "volumes.h"

#define NEWROOT "/newroot"
#define PODRUN STAGE1_POD_DIR
#define MOUNT_WAIT_MS 5000

static pid_t pod_init_pid;

/* Where the boot's time goes, for --debug (Documentation/stage1-kvm.md,
 * "Start-up"): the guest's clock at each step, told once --debug is known. */
static struct
{
  const char *step;
  struct timespec at;
} stamps[8];
static size_t n_stamps;

static void stamp(const char *step)
{
  if (n_stamps < ELEMENTSOF(stamps))
    {
      stamps[n_stamps].step = step;
      (void) clock_gettime(CLOCK_BOOTTIME, &stamps[n_stamps++].at);
    }
}

static void log_stamps(void)
{
  for (size_t i = 0; i < n_stamps; i++)
    log_debug("%s at %ld.%03ld s of the guest's clock", stamps[i].step, (long) stamps[i].at.tv_sec,
              stamps[i].at.tv_nsec / 1000000);
  n_stamps = 0;
}

/* stdio on the console, before anything can fail loudly */
static void console(void)
{
  (void) mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  for (int i = 0; fd >= 0 && i < 3; i++)
    (void) dup2(fd, i);
  if (fd > 2)
    close(fd);
}

static char *strip_nl(char *s)
{
  s[strcspn(s, "\r\n")] = '\0';
  return s;
}

static int mount_api(podrun_error_t *err)
{
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
      mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return podrun_error_set(err, errno, "mount /proc and /sys");
  return 0;
}

/* The modules of /lib/modules/modules.order (dependencies first,
 * fetch-kernel.sh) by the step that loads them: virtio-mmio's and 9p's
 * first; then virtio-console's in a child while the shares mount (the one
 * vCPU idles through each round trip to qemu, and the console's load fills
 * those gaps); virtio-net's only when the VM has a NIC (after the shares
 * mounted: meta/ says which network; before switch_root: the modules are
 * the initramfs's). */
enum module_set
{
  MODULES_VIRTIO,
  MODULES_CONSOLE,
  MODULES_9P,
  MODULES_NET,
};

static enum module_set module_set_of(const char *name)
{
  if (streq(name, "virtio_ring.ko") || streq(name, "virtio.ko") || streq(name, "virtio_mmio.ko"))
    return MODULES_VIRTIO;
  if (streq(name, "virtio_console.ko"))
    return MODULES_CONSOLE;
  if (streq(name, "virtio_net.ko") || streq(name, "net_failover.ko") || streq(name, "failover.ko"))
    return MODULES_NET;
  return MODULES_9P;
}

static int load_modules(enum module_set set, podrun_error_t *err)
{
  _cleanup_free_ char *order = NULL;
  if (fs_read_file_at(AT_FDCWD, "/lib/modules/modules.order", 4096, &order, NULL, err) < 0)
    return -1;
  for (char *save = NULL, *name = strtok_r(order, "\n", &save); name; name = strtok_r(NULL, "\n", &save))
    {
      if (module_set_of(name) != set)
        continue;
      _cleanup_free_ char *path = xasprintf("/lib/modules/%s", name);
      _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
        return podrun_error_set(err, errno, "load module %s", name);
    }
  return 0;
}

/* The console's module, loaded by a child: its pid (which exits with the
 * errno of its failure), or -1 with err set. */
static pid_t load_console_module(podrun_error_t *err)
{
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork to load virtio_console.ko");
  if (pid == 0)
    {
      _cleanup_error_ podrun_error_t child_err = NULL;
      if (load_modules(MODULES_CONSOLE, &child_err) == 0)
        _exit(0);
      _exit(child_err->status > 0 && child_err->status < 255 ? child_err->status : 255);
    }
  return pid;
}

static int wait_console_module(pid_t pid, podrun_error_t *err)
{
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return podrun_error_set(err, errno, "wait for virtio_console.ko");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  return podrun_error_set(err, WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : 0,
                          "load module virtio_console.ko");
}

/* The host's share `tag` at target; virtio devices probe as their modules
 * load, so the tag may take a moment to appear. */
static int mount_share(const char *tag, const char *target, podrun_error_t *err)
{
  /* access=client: the guest kernel checks permissions (qemu's passthrough
   * backend keeps the files' owners and modes as they are on the host).
   * The root (the stage1's binaries, the apps' roots and volumes) with
   * cache=mmap: what is mapped (every binary exec'd) is paged in through the
   * page cache, not one 9p read per fault; read() and write() stay uncached,
   * as on the other share, whose files the host reads while the pod runs.
   * And with posixacl: an image's or a volume's ACLs hold in the guest as on
   * the host. The other share is the pod directory's parts, which have none:
   * no two round trips to the host for the ACLs of each file looked up there. */
  bool root = streq(tag, KVM_TAG_ROOT);
  const char *opts = root ? "trans=virtio,version=9p2000.L,msize=262144,cache=mmap,access=client,posixacl"
                          : "trans=virtio,version=9p2000.L,msize=262144,cache=none,access=client";
  if (fs_mkdir_p(target, 0755, err) < 0)
    return -1;
  for (int waited = 0;; waited += 10)
    {
      if (mount(tag, target, "9p", MS_NOSUID | MS_NODEV, opts) == 0)
        return 0;
      if (errno != ENOENT || waited >= MOUNT_WAIT_MS)
        return podrun_error_set(err, errno, "mount the host's share %s", tag);
      usleep(10000);
    }
}

/* A guest-side copy of a file the host wrote to meta/ (the pod init and
 * enter read them where the pod directory has them), with its mode there;
 * an optional one the host did not write is not copied. */
static int copy_meta(const char *name, mode_t mode, bool optional, podrun_error_t *err)
{
  _cleanup_free_ char *src = xasprintf(NEWROOT PODRUN "/stage1/%s", name), *text = NULL;
  _cleanup_free_ char *dst = xasprintf(NEWROOT PODRUN "/%s", name);
  size_t len = 0;
  if (optional && access(src, F_OK) < 0 && errno == ENOENT)
    return 0;
  if (fs_read_file_at(AT_FDCWD, src, JSON_MAX_INPUT, &text, &len, err) < 0)
    return -1;
  int r = fs_write_file_atomic_at(AT_FDCWD, dst, text, len, mode, err);
  explicit_bzero(text, len);
  return r;
}

/* The host's seed, credited to the kernel's pool before anything of the
 * guest's reads randomness (kvm.h). A missing or short one costs only the
 * kernel's own wait for entropy. */
static void seed_random(void)
{
  struct
  {
    struct rand_pool_info info;
    char bytes[KVM_RANDOM_SEED_SIZE];
  } e = { .info = { .entropy_count = KVM_RANDOM_SEED_SIZE * 8, .buf_size = KVM_RANDOM_SEED_SIZE } };
  _cleanup_close_ int fd = open(NEWROOT PODRUN "/stage1/" KVM_RANDOM_SEED_FILE, O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int urandom = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && urandom >= 0 && read(fd, e.bytes, sizeof(e.bytes)) == (ssize_t) sizeof(e.bytes))
    (void) ioctl(urandom, RNDADDENTROPY, &e);
  explicit_bzero(&e, sizeof(e));
}

/* The pod directory as the pod init and enter know it, under /podrun:
 * pod, net (copies), stage1/ (meta: run-flags), status/, logs/, kvm/
 * (rt), cgroup/unified. */
static int mount_shares(podrun_error_t *err)
{
  static const char *const dirs[] = { "stage1", "status", "logs", KVM_GUEST_RUNTIME, "cgroup/unified" };
  if (mount_share(KVM_TAG_ROOT, NEWROOT, err) < 0 ||
      mount("tmpfs", NEWROOT PODRUN, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
    return err && *err ? -1 : podrun_error_set(err, errno, "mount " PODRUN);
  for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
    {
      _cleanup_free_ char *d = xasprintf(NEWROOT PODRUN "/%s", dirs[i]);
      if (fs_mkdir_p(d, 0755, err) < 0)
        return -1;
    }
  /* rt/, which carries meta/ (read-only on the host), status/ and logs/ */
  static const struct
  {
    const char *from, *to;
    bool read_only;
  } parts[] = {
    { KVM_RT_META, PODRUN "/stage1", true },
    { KVM_RT_STATUS, PODRUN "/status", false },
    { KVM_RT_LOGS, PODRUN "/logs", false },
  };
  if (mount_share(KVM_TAG_RT, NEWROOT KVM_GUEST_RUNTIME_DIR, err) < 0)
    return -1;
  for (size_t i = 0; i < ELEMENTSOF(parts); i++)
    {
      _cleanup_free_ char *from = xasprintf(NEWROOT KVM_GUEST_RUNTIME_DIR "/%s", parts[i].from);
      _cleanup_free_ char *to = xasprintf(NEWROOT "%s", parts[i].to);
      if (volumes_bind_dir(from, to, parts[i].read_only, err) < 0)
        return -1;
    }
  /* before anything takes random bytes (a temporary file's name, the
   * first below) */
  seed_random();
  /* --mds-register's AC_METADATA_URL (run.c's copy of the pod directory's
   * mds-url, root's alone): beside the pod manifest, where stage2 puts it
   * in every app's environment and enter in its command's, as on nspawn */
  if (copy_meta("pod", 0644, false, err) < 0 || copy_meta("net", 0644, false, err) < 0 ||
      copy_meta(STAGE2_MDS_URL, 0600, true, err) < 0)
    return -1;
  return 0;
}

/* Into the stage1 rootfs: /dev, /proc, /sys move along; the initramfs
 * stays below, unreachable. */
static int switch_root(podrun_error_t *err)
{
  static const char *const api[] = { "/dev", "/proc", "/sys" };
  for (size_t i = 0; i < ELEMENTSOF(api); i++)
    {
      _cleanup_free_ char *to = xasprintf(NEWROOT "%s", api[i]);
      if (mount(api[i], to, NULL, MS_MOVE, NULL) < 0)
        return podrun_error_set(err, errno, "move %s into the stage1 rootfs", api[i]);
    }
  if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
    return podrun_error_set(err, errno, "switch to the stage1 rootfs");
  (void) mkdir("/dev/pts", 0755);
  (void) mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  (void) mkdir("/dev/shm", 01777);
  (void) mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  return 0;
}

/* Each of the app's volumes a mount of its own in the guest too, as in an
 * nspawn pod: the host bound them into the app's root, which the guest sees
 * through the root share as plain directories (an app that looks at its
 * mountinfo, as the ACE validator does, would find no mount point there).
 * Each target bound onto itself, opened without following a symlink, and
 * read-only where the host's bind is (which stays what enforces it). */
static int bind_app_volumes(const struct appc_pod_manifest *m, const struct appc_runtime_app *a, const char *root,
                            podrun_error_t *err)
{
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
  for (size_t i = 0; i < a->n_mounts; i++)
    {
      bool read_only = false;
      if (!volumes_of_mount(m, a, i, &read_only))
        return podrun_error_new(err, 0, "mount of volume %s: no such volume", QUOTE(a->mounts[i].volume));
      _cleanup_free_ char *full = xasprintf("%s/%s", root, a->mounts[i].path);
      struct stat st;
      bool file = lstat(full, &st) == 0 && !S_ISDIR(st.st_mode);
      _cleanup_close_ int target = volumes_open_target(root, a->mounts[i].path, file, err);
      if (target < 0)
        return -1;
      _cleanup_close_ int tree = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
      if (tree < 0 || (read_only && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0) ||
          move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return podrun_error_set(err, errno, "bind the volume %s of app %s on %s", QUOTE(a->mounts[i].volume),
                                QUOTE(a->name), QUOTE(a->mounts[i].path));
    }
  return 0;
}

/* Each app's root a mount point of its own (stage2 pivots into it), and
 * its volumes below. */
static int bind_app_roots(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = xasprintf("/opt/stage2/%s/rootfs", m->apps[i].name);
      if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
        return podrun_error_set(err, errno, "bind the root of app %s", QUOTE(m->apps[i].name));
      if (bind_app_volumes(m, &m->apps[i], root, err) < 0)
        return -1;
    }
  return 0;
}

static int if_up(int sock, const char *name, const char *addr, const char *mask, podrun_error_t *err)
{
  struct ifreq ifr = { 0 };
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
  if (addr)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ifr.ifr_addr;
      sin->sin_family = AF_INET;
      if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || ioctl(sock, SIOCSIFADDR, &ifr) < 0)
        return podrun_error_set(err, errno, "address %s of %s", addr, name);
      inet_pton(AF_INET, mask, &sin->sin_addr);
      if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
        return podrun_error_set(err, errno, "netmask of %s", name);
    }
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
    return podrun_error_set(err, errno, "flags of %s", name);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
    return podrun_error_set(err, errno, "bring %s up", name);
  return 0;
}

/* A route to dst/prefix: via gw, or on the link of dev when gw is NULL. */
static int add_route(int sock, const char *dev, const char *dst, unsigned prefix, const char *gw, podrun_error_t *err)
{
  struct rtentry rt = { .rt_flags = RTF_UP | (gw ? RTF_GATEWAY : 0) | (prefix == 32 ? RTF_HOST : 0) };
  struct sockaddr_in *g = (struct sockaddr_in *) &rt.rt_gateway, *d = (struct sockaddr_in *) &rt.rt_dst,
                     *mask = (struct sockaddr_in *) &rt.rt_genmask;
  char name[IFNAMSIZ];
  g->sin_family = d->sin_family = mask->sin_family = AF_INET;
  mask->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
  if (inet_pton(AF_INET, dst, &d->sin_addr) != 1 || (gw && inet_pton(AF_INET, gw, &g->sin_addr) != 1))
    return podrun_error_new(err, 0, "a route to %s/%u that is not IPv4", dst, prefix);
  d->sin_addr.s_addr &= mask->sin_addr.s_addr;
  snprintf(name, sizeof(name), "%s", dev);
  rt.rt_dev = name;
  if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
    return podrun_error_set(err, errno, "the route to %s/%u%s%s", dst, prefix, gw ? " via " : "", gw ? gw : "");
  return 0;
}

/* The guest's interface with that MAC (the host gave each NIC its veth's). */
static char *if_by_mac(const char *mac)
{
  _cleanup_closedir_ DIR *d = opendir("/sys/class/net");
  struct dirent *de;
  while (d && (de = readdir(d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *p = xasprintf("/sys/class/net/%s/address", de->d_name), *text = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      if (fs_read_file_at(AT_FDCWD, p, 4096, &text, NULL, &ignored) == 0 && strcasecmp(strip_nl(text), mac) == 0)
        return xstrdup(de->d_name);
    }
  return NULL;
}

/* One NIC on a CNI network, as the host's nics.json says: the network's
 * addresses without their subnet's on-link route (the veth's peer is a
 * point-to-point end: as the ptp plugin does, the gateway is on the link
 * and the subnet behind it), then the network's routes via the gateway. */
static int cni_nic(int sock, json_t *nic, podrun_error_t *err)
{
  const char *mac = json_string_value(json_object_get(nic, "mac")), *gw0 = NULL;
  json_int_t mtu = json_integer_value(json_object_get(nic, "mtu"));
  _cleanup_free_ char *dev = mac ? if_by_mac(mac) : NULL;
  size_t i;
  json_t *v;
  if (!dev)
    return podrun_error_new(err, 0, "no NIC with the MAC %s", mac ? mac : "(none)");
  struct ifreq ifr = { .ifr_mtu = (int) mtu };
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
  if (mtu >= 68 && mtu <= 65535 && ioctl(sock, SIOCSIFMTU, &ifr) < 0)
    return podrun_error_set(err, errno, "the MTU of %s", dev);
  json_array_foreach (json_object_get(nic, "addresses"), i, v)
    {
      const char *a = json_string_value(json_object_get(v, "address"));
      const char *gw = json_string_value(json_object_get(v, "gateway"));
      json_int_t prefix = json_integer_value(json_object_get(v, "prefix"));
      if (!a || prefix < 0 || prefix > 32)
        return podrun_error_new(err, 0, "an address of %s that is not A.B.C.D with a prefix", dev);
      if (i > 0) /* SIOCSIFADDR sets one: the others as aliases */
        {
          _cleanup_free_ char *alias = xasprintf("%.*s:%zu", IFNAMSIZ - 5, dev, i);
          if (if_up(sock, alias, a, "255.255.255.255", err) < 0)
            return -1;
        }
      else if (if_up(sock, dev, a, "255.255.255.255", err) < 0)
        return -1;
      if (gw && (add_route(sock, dev, gw, 32, NULL, err) < 0 ||
                 (prefix < 32 && add_route(sock, dev, a, (unsigned) prefix, gw, err) < 0)))
        return -1;
      if (gw && !gw0)
        gw0 = gw;
    }
  if (if_up(sock, dev, NULL, NULL, err) < 0)
    return -1;
  json_array_foreach (json_object_get(nic, "routes"), i, v)
    {
      const char *dst = json_string_value(json_object_get(v, "dst"));
      const char *gw = json_string_value(json_object_get(v, "gateway"));
      json_int_t prefix = json_integer_value(json_object_get(v, "prefix"));
      if (!dst || prefix < 0 || prefix > 32 || add_route(sock, dev, dst, (unsigned) prefix, gw ? gw : gw0, err) < 0)
        return err && *err ? -1 : podrun_error_new(err, 0, "a route of %s that is not A.B.C.D with a prefix", dev);
    }
  return 0;
}

/* lo always; on --net=host, qemu's user-mode NAT: its fixed addresses,
 * 10.0.2.15/24, the gateway 10.0.2.2 (the DNS server is 10.0.2.3); on CNI
 * networks, each NIC as the host's nics.json says; on none, no NIC. */
static int network(const char *net, podrun_error_t *err)
{
  _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return podrun_error_set(err, errno, "socket");
  if (if_up(sock, "lo", NULL, NULL, err) < 0)
    return -1;
  if (streq(net, "none"))
    return 0;
  if (streq(net, "host"))
    return if_up(sock, "eth0", "10.0.2.15", "255.255.255.0", err) < 0 ||
                   add_route(sock, "eth0", "0.0.0.0", 0, "10.0.2.2", err) < 0
               ? -1
               : 0;
  _cleanup_free_ char *text = NULL;
  size_t len = 0, i;
  json_t *nic;
  if (fs_read_file_at(AT_FDCWD, PODRUN "/stage1/" KVM_NICS_FILE, JSON_MAX_INPUT, &text, &len, err) < 0)
    return -1;
  json_auto_t *nics = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_array(nics))
    return podrun_error_new(err, 0, KVM_NICS_FILE ": not a list");
  json_array_foreach (nics, i, nic)
    if (cni_nic(sock, nic, err) < 0)
      return -1;
  return 0;
}

static int write_text(const char *path, const char *text, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0)
    return podrun_error_set(err, errno, "write %s to %s", text, path);
  return 0;
}

/* The apps' limits inside the guest too: cgroup2, one cgroup per app that
 * has limits, where the pod init's stage2 joins it (/podrun/cgroup/unified/<app>). */
static int cgroups(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  const char *base = PODRUN "/cgroup/unified";
  if (mount("cgroup2", base, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return podrun_error_set(err, errno, "mount cgroup2");
  _cleanup_free_ char *ctl = xasprintf("%s/cgroup.subtree_control", base);
  if (write_text(ctl, "+memory +cpu", err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_apps; i++)
    {
      struct app_resources r = { 0 };
      if (app_resources_from_isolators(m->apps[i].app, &r, err) < 0)
        return -1;
      if (!r.memory_bytes && !r.cpu_millicores)
        continue;
      _cleanup_free_ char *dir = xasprintf("%s/%s", base, m->apps[i].name);
      if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return podrun_error_set(err, errno, "mkdir %s", dir);
      _cleanup_free_ char *mem = xasprintf("%s/memory.max", dir), *cpu = xasprintf("%s/cpu.max", dir);
      _cleanup_free_ char *mv = xasprintf("%llu", (unsigned long long) r.memory_bytes);
      _cleanup_free_ char *cv = xasprintf("%llu 100000", (unsigned long long) r.cpu_millicores * 100);
      if ((r.memory_bytes && write_text(mem, mv, err) < 0) || (r.cpu_millicores && write_text(cpu, cv, err) < 0))
        return -1;
    }
  return 0;
}

/* The virtio-serial port the host named `name`: /dev/vportNpM; -ENOENT
 * while it is not there. */
static int find_port(const char *name, podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir("/sys/class/virtio-ports");
  struct dirent *de;
  while (d && (de = readdir(d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *p = xasprintf("/sys/class/virtio-ports/%s/name", de->d_name), *text = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      if (fs_read_file_at(AT_FDCWD, p, 8192, &text, NULL, &ignored) < 0 || !streq(strip_nl(text), name)) /* sysfs says 4096 */
        continue;
      _cleanup_free_ char *dev = xasprintf("/dev/%s", de->d_name);
      int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return podrun_error_set(err, errno, "open %s", dev);
      /* SIGIO when the host connects or goes: poll says POLLHUP while no host is there */
      if (fcntl(fd, F_SETOWN, getpid()) < 0 || fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK | O_ASYNC) < 0)
        return podrun_error_set(err, errno, "O_ASYNC on %s", dev);
      return fd;
    }
  return -ENOENT;
}

/* ... which the host announces once the device is up: wait for it. */
static int open_port(const char *name, podrun_error_t *err)
{
  for (int waited = 0;; waited += 10)
    {
      int fd = find_port(name, err);
      if (fd != -ENOENT)
        return fd;
      if (waited >= MOUNT_WAIT_MS)
        return podrun_error_new(err, 0, "no virtio-serial port %s", name);
      usleep(10000);
    }
}

struct port
{
  int fd;
  bool connected; /* a host is there (POLLHUP clears it, SIGIO sets it again) */
  pid_t session;  /* enter: the session running, 0 when none */
  size_t skip;    /* enter: what is left of a stale frame to drop */
  char buf[KVM_REQUEST_MAX];
  size_t len;
};

static _noreturn_ void power_off(void)
{
  sync();
  (void) reboot(LINUX_REBOOT_CMD_POWER_OFF);
  _exit(0);
}

static const struct appc_pod_manifest *manifest;
static struct stage1_run_args run_args;

/* The pod init has exited: its records are on the host (9p writes are done
 * when they return). Once what the apps wrote to their consoles has reached
 * qemu too (tcdrain: the hvc buffer empties into the virtqueue, and
 * virtio-console's send waits for qemu to take each buffer), KVM_OVER_FILE
 * tells run that nothing of the pod is left in the VM: it ends qemu then,
 * instead of waiting for this kernel's power-off. */
static bool pod_over(void)
{
  static const char *const consoles[] = { "/dev/hvc0", "/dev/hvc1", KVM_GUEST_TTY };
  /* run heeds it only once the pod was ready: before, the power-off says it */
  if (access(KVM_GUEST_RUNTIME_DIR "/" STAGE1_READY, F_OK) < 0)
    return false;
  for (size_t i = 0; i < ELEMENTSOF(consoles); i++)
    {
      if (i == 2 && !run_args.interactive)
        break;
      _cleanup_close_ int fd = open(consoles[i], O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (fd < 0 || tcdrain(fd) < 0)
        return false; /* no word to the host: it waits for the power-off */
    }
  _cleanup_close_ int fd = open(KVM_GUEST_RUNTIME_DIR "/" KVM_OVER_FILE,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  return fd >= 0;
}

static void report(const char *msg)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *line = xasprintf("%s\n", msg);
  log_error("%s", msg);
  (void) fs_write_file_atomic_at(AT_FDCWD, KVM_GUEST_RUNTIME_DIR "/" KVM_GUEST_ERROR, line, strlen(line), 0644,
                                 &ignored);
  (void) fs_write_file_atomic_at(AT_FDCWD, NEWROOT KVM_GUEST_RUNTIME_DIR "/" KVM_GUEST_ERROR, line, strlen(line),
                                 0644, &ignored);
}

/* The pod init, in this child of the guest init: its code is linked here
 * and runs in process, as if executed (stage1_as_if_executed); stage2 does
 * too, in each app's child. Under TCG every exec of a static binary costs
 * tens of ms of emulated start-up, two of them per app. */
static _noreturn_ void run_pod_init(void)
{
  char *args[10];
  size_t n = 0;
  args[n++] = (char *) "podrun-init";
  args[n++] = (char *) "--host-network"; /* the apps share the guest's network: the guest is the pod */
  if (run_args.debug)
    args[n++] = (char *) "--debug";
  if (run_args.disable_caps)
    args[n++] = (char *) STAGE1_DISABLE_CAPS;
  if (run_args.disable_paths)
    args[n++] = (char *) STAGE1_DISABLE_PATHS;
  if (run_args.disable_seccomp)
    args[n++] = (char *) STAGE1_DISABLE_SECCOMP;
  args[n] = NULL;
  /* the apps' stdout and stderr: virtio consoles, ttys made raw (no
   * "\r\n" for "\n"), podrun's stdout and stderr on the host */
  static const char *const outs[] = { "/dev/hvc0", "/dev/hvc1" };
  for (int i = 0; i < 2; i++)
    {
      struct termios t;
      int fd = open(outs[i], O_RDWR | O_NOCTTY);
      if (fd < 0 || tcgetattr(fd, &t) < 0)
        _exit(PODRUN_EXIT_ERROR);
      cfmakeraw(&t);
      if (tcsetattr(fd, TCSANOW, &t) < 0 || dup2(fd, i + 1) < 0)
        _exit(PODRUN_EXIT_ERROR);
      close(fd);
    }
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0)
    _exit(PODRUN_EXIT_ERROR);
  /* --interactive: the one app's terminal is the host's (a virtio console
   * on qemu's stdio), the pod init's stdio and controlling terminal, of the
   * size of podrun's */
  if (run_args.interactive)
    {
      args[n++] = (char *) "--interactive";
      args[n] = NULL;
      _cleanup_free_ char *size = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      unsigned rows = 0, cols = 0;
      int tty;
      if (setsid() < 0 || (tty = open(KVM_GUEST_TTY, O_RDWR)) < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
        _exit(PODRUN_EXIT_ERROR);
      if (fs_read_file_at(AT_FDCWD, PODRUN "/stage1/" KVM_TTY_SIZE_FILE, 64, &size, NULL, &ignored) == 0 &&
          sscanf(size, "%u %u", &rows, &cols) == 2 && rows <= 65535 && cols <= 65535)
        (void) ioctl(tty, TIOCSWINSZ, &(struct winsize){ .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols });
      for (int i = 0; i < 3; i++)
        if (dup2(tty, i) < 0)
          _exit(PODRUN_EXIT_ERROR);
      if (tty > 2)
        close(tty);
    }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (stage1_as_if_executed("podrun-init") < 0)
    _exit(PODRUN_EXIT_ERROR);
  _cleanup_error_ podrun_error_t err = NULL;
  int code = PODRUN_EXIT_ERROR;
  if (kvm_init((int) n, args, &code, &err) < 0)
    log_error("%s", err->msg);
  fflush(NULL);
  _exit(code);
}

static _noreturn_ void enter_request(int fd, const char *line, const char *rest, size_t rest_len);

/* What a session writes to a non-blocking fd (the command's stdin, the
 * pty's master) as it takes it; the port is read no further while some is
 * queued, so the queue holds at most one frame. */
struct queue
{
  char buf[KVM_FRAME_MAX];
  size_t len;
};

static void flush_queue(int fd, struct queue *q)
{
  ssize_t k = write(fd, q->buf, q->len);
  if (k > 0)
    {
      memmove(q->buf, q->buf + k, q->len - (size_t) k);
      q->len -= (size_t) k;
    }
  else if (k < 0 && errno != EAGAIN && errno != EINTR)
    q->len = 0; /* the command's stdin is closed: what it would not read is dropped */
}

/* The session's child: the pod's enter in the app, on the pty (a session
 * of its own, the pty its controlling terminal) or on the pipes. */
static _noreturn_ void exec_enter(const char *app, char **cmd, int in, int out, int errfd, bool tty)
{
  _cleanup_free_ char *p = xasprintf("--pid=%d", (int) pod_init_pid), *a = xasprintf("--app=%s", app);
  size_t n = strv_length(cmd);
  char **args = xzalloc(sizeof(char *) * (n + 5));
  args[0] = (char *) KVM_GUEST_ENTER;
  args[1] = p;
  args[2] = a;
  args[3] = (char *) "--";
  memcpy(args + 4, cmd, sizeof(char *) * n);
  if (setsid() < 0 || (tty && ioctl(in, TIOCSCTTY, 0) < 0))
    _exit(PODRUN_EXIT_ERROR);
  signal(SIGPIPE, SIG_DFL); /* the session's ignoring it is not the command's */
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 || chdir(PODRUN) < 0)
    _exit(PODRUN_EXIT_ERROR);
  execv(KVM_GUEST_ENTER, args);
  _exit(PODRUN_EXIT_ERROR);
}

static int open_pty(const struct winsize *ws, int *ret_slave)
{
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  char name[64];
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0 ||
      ioctl(master, TIOCSWINSZ, ws) < 0 || (*ret_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
    return -1;
  return master;
}

/* A frame from the host, once the request is running: stdin, its end,
 * the terminal's size. Anything else is ignored. */
static void host_frame(char type, const char *data, size_t n, int *in, bool tty, struct queue *q)
{
  if (type == KVM_FRAME_STDIN && *in >= 0 && n <= sizeof(q->buf))
    {
      memcpy(q->buf, data, n);
      q->len = n;
    }
  else if (type == KVM_FRAME_STDIN_END && !tty && *in >= 0)
    {
      close(*in);
      *in = -1;
    }
  else if (type == KVM_FRAME_WINSIZE && tty && n == 4 && *in >= 0)
    {
      const unsigned char *u = (const unsigned char *) data;
      struct winsize ws = { .ws_row = (unsigned short) (u[0] << 8 | u[1]), .ws_col = (unsigned short) (u[2] << 8 | u[3]) };
      (void) ioctl(*in, TIOCSWINSZ, &ws);
    }
}

/* An enter session, in a child of the guest init: the pod's enter with the
 * app's name and the command, the host's stdin frames to its stdin (on a
 * pty when the host has a terminal), its output relayed as frames, then
 * its exit code. The host's frames are taken for bytes to pass on and a
 * size, nothing else. A host that goes away ends the command (SIGKILL to
 * its process group): no session outlives its caller and keeps the port. */
static _noreturn_ void enter_session(int port, const char *app, char **cmd, const struct winsize *ws, const char *rest,
                                     size_t rest_len)
{
  static char inbuf[5 + KVM_FRAME_MAX];
  static struct queue q;
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, slave = -1, master = -1;
  bool tty = ws != NULL;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* a command that exits with stdin unread: the next write to its pipe is
   * EPIPE, and the session goes on to send its exit code */
  signal(SIGPIPE, SIG_IGN);
  /* the port's flags are the guest init's too (one open file): left as
   * they are, non-blocking and O_ASYNC; kvm_frame_write waits as needed */
  if (tty && (master = open_pty(ws, &slave)) < 0)
    {
      char code = (char) PODRUN_EXIT_ERROR;
      static const char msg[] = "podrun-guest: enter: no pty in the guest\n";
      (void) kvm_frame_write(port, KVM_FRAME_STDERR, msg, strlen(msg));
      (void) kvm_frame_write(port, KVM_FRAME_EXIT, &code, 1);
      _exit(0);
    }
  if (!tty && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
    _exit(PODRUN_EXIT_ERROR);
  pid_t pid = fork();
  if (pid < 0)
    _exit(PODRUN_EXIT_ERROR);
  if (pid == 0)
    {
      if (tty)
        exec_enter(app, cmd, slave, slave, slave, true);
      exec_enter(app, cmd, in[0], out[1], errp[1], false);
    }
  /* the session's ends: stdin (the pty's master, or the pipe's write end),
   * the outputs (the master again, or the pipes' read ends) */
  int to_cmd = tty ? master : in[1];
  int outs[2] = { tty ? master : out[0], tty ? -1 : errp[0] };
  if (tty)
    close(slave);
  else
    {
      close(in[0]);
      close(out[1]);
      close(errp[1]);
      (void) fcntl(to_cmd, F_SETFL, O_NONBLOCK);
    }
  /* rest may be in inbuf already (a request that came during a session) */
  size_t in_len = rest_len < sizeof(inbuf) ? rest_len : 0;
  memmove(inbuf, rest, in_len);
  q.len = 0;
  bool host = true;
  int open_outs = tty ? 1 : 2;
  while (open_outs > 0)
    {
      /* the host's frames, as far as the queue is empty */
      ssize_t used;
      char type;
      size_t n;
      while (!q.len && in_len && inbuf[0] != '{' && (used = kvm_frame_parse(inbuf, in_len, &type, &n)) > 0)
        {
          host_frame(type, inbuf + 5, n, &to_cmd, tty, &q);
          memmove(inbuf, inbuf + used, in_len - (size_t) used);
          in_len -= (size_t) used;
        }
      /* A request where a frame would be: this session's caller went and
       * another came before the port said so (virtio-serial's hang-up and
       * the next connection in one go). The command goes, as for any caller
       * that went, and this child runs the new request. */
      char *nl = in_len && inbuf[0] == '{' ? memchr(inbuf, '\n', in_len) : NULL;
      if (nl)
        {
          kill(-pid, SIGKILL);
          kill(pid, SIGKILL);
          for (int i = 0; i < 2; i++)
            if (outs[i] >= 0)
              close(outs[i]);
          if (to_cmd >= 0 && !tty)
            close(to_cmd);
          while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
          *nl = '\0';
          enter_request(port, inbuf, nl + 1, in_len - (size_t) (nl + 1 - inbuf));
        }
      if (in_len && inbuf[0] != '{' && kvm_frame_parse(inbuf, in_len, &type, &n) < 0)
        in_len = 0, host = false; /* a malformed frame: the host is not heard further */
      if (in_len == sizeof(inbuf) && inbuf[0] == '{')
        in_len = 0, host = false; /* a request line too long */
      struct pollfd fds[4] = {
        { .fd = host && !q.len && in_len < sizeof(inbuf) ? port : -1, .events = POLLIN },
        { .fd = q.len && to_cmd >= 0 ? to_cmd : -1, .events = POLLOUT },
        { .fd = outs[0], .events = POLLIN },
        { .fd = outs[1], .events = POLLIN },
      };
      if (poll(fds, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[0].revents & POLLIN)
        {
          ssize_t k = read(port, inbuf + in_len, sizeof(inbuf) - in_len);
          if (k > 0)
            in_len += (size_t) k;
        }
      if (fds[0].revents & (POLLHUP | POLLERR))
        {
          host = false; /* the caller went: so does the command */
          kill(-pid, SIGKILL);
          kill(pid, SIGKILL);
        }
      if (fds[1].revents)
        flush_queue(to_cmd, &q);
      for (int i = 0; i < 2; i++)
        if (outs[i] >= 0 && fds[2 + i].revents)
          {
            char buf[16384];
            ssize_t k = read(outs[i], buf, sizeof(buf));
            if (k > 0)
              {
                if (host && kvm_frame_write(port, i == 0 ? KVM_FRAME_STDOUT : KVM_FRAME_STDERR, buf, (size_t) k) < 0)
                  host = false;
              }
            else if (k == 0 || (errno != EINTR && errno != EAGAIN)) /* a pty's master says EIO */
              {
                if (!(tty && outs[i] == to_cmd))
                  close(outs[i]);
                outs[i] = -1;
                open_outs--;
              }
          }
    }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  char code = (char) (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  if (host)
    (void) kvm_frame_write(port, KVM_FRAME_EXIT, &code, 1);
  _exit(0);
}

static bool is_app(const char *name)
{
  for (size_t i = 0; i < manifest->n_apps; i++)
    if (streq(manifest->apps[i].name, name))
      return true;
  return false;
}

static _noreturn_ void answer_error(int fd, const char *msg)
{
  char code = (char) PODRUN_EXIT_ERROR;
  _cleanup_free_ char *line = xasprintf("podrun-guest: %s\n", msg);
  (void) kvm_frame_write(fd, KVM_FRAME_STDERR, line, strlen(line));
  (void) kvm_frame_write(fd, KVM_FRAME_EXIT, &code, 1);
  _exit(0);
}

/* An enter request, in the session child: checked, then run; rest is
 * what the host sent after it (its first frames). */
static _noreturn_ void enter_request(int fd, const char *line, const char *rest, size_t rest_len)
{
  json_auto_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
  const char *app = json_string_value(json_object_get(j, "app"));
  json_t *cmd = json_object_get(j, "cmd"), *tty = json_object_get(j, "tty");
  struct winsize ws = { 0 };
  if (tty)
    {
      json_int_t rows = json_integer_value(json_object_get(tty, "rows")), cols = json_integer_value(json_object_get(tty, "cols"));
      if (!json_is_object(tty) || rows < 0 || rows > 65535 || cols < 0 || cols > 65535)
        answer_error(fd, "enter: a tty that is not {\"rows\": R, \"cols\": C}");
      ws = (struct winsize){ .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
    }
  if (!app || !json_is_array(cmd) || json_array_size(cmd) == 0 || json_array_size(cmd) > 4096)
    answer_error(fd, "enter: a request that is not {\"app\": NAME, \"cmd\": [ARGV…]}");
  if (!is_app(app))
    answer_error(fd, "enter: no such app");
  char **argv = NULL;
  size_t i;
  json_t *v;
  json_array_foreach (cmd, i, v)
    {
      if (!json_is_string(v))
        answer_error(fd, "enter: a command word that is not a string");
      argv = strv_push(argv, json_string_value(v));
    }
  enter_session(fd, app, argv, tty ? &ws : NULL, rest, rest_len);
}

/* One request line from the host. The guest init itself never writes to
 * a port (a host that stops reading would block it): an enter request,
 * refused or not, is answered by a session child. */
/* --interactive: the app's terminal gets the size of podrun's, which
 * sends it when it changes (the kernel tells the terminal's foreground
 * process group: SIGWINCH). The host's word for a size, nothing more. */
static void set_tty_size(json_int_t rows, json_int_t cols)
{
  if (rows < 0 || rows > 65535 || cols < 0 || cols > 65535)
    return;
  struct winsize w = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
  _cleanup_close_ int fd = open(KVM_GUEST_TTY, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0)
    (void) ioctl(fd, TIOCSWINSZ, &w);
}

static void request(struct port *p, bool enter, const char *line, const char *rest, size_t rest_len)
{
  if (!enter)
    {
      json_auto_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
      json_t *ws = json_object_get(j, "winsize");
      if (json_is_true(json_object_get(j, "stop")) && pod_init_pid > 0)
        kill(pod_init_pid, SIGTERM); /* the pod init passes it on to every app */
      else if (ws && run_args.interactive)
        set_tty_size(json_integer_value(json_object_get(ws, "rows")), json_integer_value(json_object_get(ws, "cols")));
      return;
    }
  pid_t pid = fork();
  if (pid == 0)
    enter_request(p->fd, line, rest, rest_len);
  if (pid > 0)
    p->session = pid;
}

/* Between sessions, what an enter's host sent that its session did not
 * read (stdin the command never took): whole frames (the host finishes the
 * one it is writing before it goes), dropped up to the next request, which
 * begins with '{' as no frame does. */
static void drop(struct port *p, size_t n)
{
  memmove(p->buf, p->buf + n, p->len - n);
  p->len -= n;
}

static void skip_stale_frames(struct port *p)
{
  for (;;)
    {
      if (p->skip)
        {
          size_t n = p->skip < p->len ? p->skip : p->len;
          drop(p, n);
          p->skip -= n;
          if (p->skip)
            return;
        }
      if (p->len == 0 || p->buf[0] == '{')
        return;
      if (p->buf[0] != KVM_FRAME_STDIN && p->buf[0] != KVM_FRAME_STDIN_END && p->buf[0] != KVM_FRAME_WINSIZE)
        {
          drop(p, 1); /* nothing the host sends: not a frame, not a request */
          continue;
        }
      if (p->len < 5)
        return;
      const unsigned char *h = (const unsigned char *) p->buf;
      p->skip = 5 + ((size_t) h[1] << 24 | (size_t) h[2] << 16 | (size_t) h[3] << 8 | h[4]);
    }
}

static void read_port(struct port *p, bool enter)
{
  for (;;)
    {
      if (p->len == sizeof(p->buf))
        p->len = 0; /* a line too long: dropped */
      ssize_t k = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
      if (k <= 0)
        {
          if (k == 0)
            p->connected = false;
          return;
        }
      p->len += (size_t) k;
      char *nl;
      skip_stale_frames(p);
      while (!p->session && (nl = memchr(p->buf, '\n', p->len)))
        {
          *nl = '\0';
          request(p, enter, p->buf, nl + 1, p->len - (size_t) (nl + 1 - p->buf));
          size_t used = (size_t) (nl + 1 - p->buf);
          memmove(p->buf, nl + 1, p->len - used);
          p->len -= used;
          if (!p->session)
            skip_stale_frames(p);
        }
      if (p->session)
        {
          p->len = 0;
          return;
        }
    }
}

static int setup(struct appc_pod_manifest **ret_m, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  stamp("the guest init started");
  pid_t console = -1;
  if (mount_api(err) < 0 || load_modules(MODULES_VIRTIO, err) < 0 || load_modules(MODULES_9P, err) < 0 ||
      (console = load_console_module(err)) < 0)
    return -1;
  stamp("the modules loaded");
  if (mount_shares(err) < 0 || wait_console_module(console, err) < 0)
    return -1;
  _cleanup_free_ char *net = NULL;
  if (fs_read_file_at(AT_FDCWD, NEWROOT PODRUN "/net", 4096, &net, NULL, err) < 0)
    return -1;
  strip_nl(net);
  if (!streq(net, "none") && load_modules(MODULES_NET, err) < 0)
    return -1;
  if (switch_root(err) < 0)
    return -1;
  stamp("the shares mounted");
  _cleanup_close_ int pod = open(PODRUN, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pod < 0 || stage1_run_args_read(pod, &run_args, err) < 0)
    return pod < 0 ? podrun_error_set(err, errno, "open " PODRUN) : -1;
  if (access(PODRUN "/stage1/" KVM_DEBUG_FILE, F_OK) == 0)
    run_args.debug = true;
  if (run_args.debug)
    log_set_level(LOG_LEVEL_DEBUG);
  log_stamps();
  if (fs_read_file_at(AT_FDCWD, PODRUN "/pod", JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, ret_m, err) < 0)
    return -1;
  _cleanup_free_ char *hostname = NULL;
  if (fs_read_file_at(AT_FDCWD, PODRUN "/stage1/hostname", 256, &hostname, NULL, err) < 0)
    return -1;
  strip_nl(hostname);
  if (sethostname(hostname, strlen(hostname)) < 0)
    return podrun_error_set(err, errno, "sethostname");
  if (network(net, err) < 0 || cgroups(*ret_m, err) < 0 || bind_app_roots(*ret_m, err) < 0)
    return -1;
  stamp("the network and cgroups set");
  log_stamps();
  return 0;
}

int main(void)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;

  console();
  log_set_program("podrun-guest");
  if (setup(&m, &err) < 0)
    {
      report(err->msg);
      power_off();
    }
  manifest = m;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGIO);
  _cleanup_close_ int sfd = -1;
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    {
      report("signalfd failed");
      power_off();
    }
  /* the ctl port, then the enter ports */
  enum
  {
    N_PORTS = 1 + KVM_ENTER_PORTS
  };
  static struct port ports[N_PORTS];
  for (int i = 0; i < N_PORTS; i++)
    {
      _cleanup_free_ char *name = i == 0 ? xstrdup(KVM_PORT_CTL) : xasprintf(KVM_PORT_ENTER_FMT, i - 1);
      if ((ports[i].fd = open_port(name, &err)) >= 0)
        continue;
      report(err->msg);
      power_off();
    }
  pod_init_pid = fork();
  if (pod_init_pid == 0)
    run_pod_init();
  if (pod_init_pid < 0)
    {
      report("fork the pod init failed");
      power_off();
    }
  for (;;)
    {
      /* each port as it is now: what a host wrote is read even if it has
       * gone since (a stop request sent and the socket closed at once);
       * a port without a host is not polled (it would say POLLHUP at
       * once), its SIGIO says when one comes or goes */
      struct pollfd fds[1 + N_PORTS] = { { .fd = sfd, .events = POLLIN } };
      for (int i = 0; i < N_PORTS; i++)
        {
          fds[i + 1] = (struct pollfd) { .fd = -1 };
          if (ports[i].session)
            continue;
          struct pollfd q = { .fd = ports[i].fd, .events = POLLIN };
          if (poll(&q, 1, 0) == 1 && (q.revents & POLLIN))
            read_port(&ports[i], i > 0);
          ports[i].connected = !(q.revents & (POLLHUP | POLLERR));
          if (ports[i].connected && !ports[i].session)
            fds[i + 1] = (struct pollfd) { .fd = ports[i].fd, .events = POLLIN };
        }
      if (poll(fds, ELEMENTSOF(fds), -1) < 0 && errno != EINTR)
        power_off();
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof(si)) == sizeof(si))
        if (si.ssi_signo == SIGCHLD)
          {
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
              {
                if (pid == pod_init_pid)
                  {
                    stamp("the pod init exited");
                    log_stamps();
                    /* run ends the VM on `over` at once (however fast a
                     * power-off under KVM would be); the power-off is for a
                     * host that does not */
                    if (pod_over())
                      sleep(2);
                    power_off();
                  }
                for (int i = 0; i < N_PORTS; i++)
                  if (pid == ports[i].session)
                    ports[i].session = 0;
              }
          }
    }
}
