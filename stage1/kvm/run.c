/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm stage1's run entrypoint: qemu's microvm over the pod. The host
 * side binds the apps' volumes and writes their /etc files (in the pod's
 * private mount namespace, as nspawn's run does), shares the stage1 rootfs
 * (the apps' roots and volumes are in it) and the pod's own directories
 * over virtio-9p, and boots the stage1 image's kernel and initramfs with a
 * fixed command line and fixed devices. qemu dies with run (its parent-death
 * signal); its stdout and stderr consoles are copied to run's own, the
 * guest's serial console to kvm/console.log, size-capped (and to stderr
 * with --debug). */
#include "kvm.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <limits.h>

#include "cni.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "stage2/stage2.h"
#include "volumes.h"

/* Fixed: nothing of the pod reaches the guest kernel's command line.
 * Two of Debian's built-in boot steps are skipped, each a wait on what a
 * pod's VM does not have: rtc-cmos's probe (microvm has no RTC: rtc=off
 * below; the probe reads the absent chip's update-in-progress bit as set
 * and polls it for a second before it gives up), and the crypto manager's
 * self-tests of every algorithm the kernel registered at boot (0.2 s under
 * TCG; nothing of the guest uses the kernel's crypto but a pod's own app). */
#define KERNEL_CMDLINE                                                                                           \
  "console=ttyS0 quiet panic=-1 reboot=t i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd "                   \
  "initcall_blacklist=cmos_init cryptomgr.notests"

/* Under TCG the guest's TSC is the host's: its frequency, given to the
 * guest kernel, spares it calibrating against an emulated PIT, which under
 * load fails ("Unable to calibrate against PIT") and leaves the boot hanging
 * in the timer's calibration. From the host's /proc/cpuinfo; NULL if not there. */
static char *tcg_clock_args(void)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  const char *p;
  double mhz = 0;
  if (fs_read_file_at(AT_FDCWD, "/proc/cpuinfo", 1 << 20, &text, NULL, &ignored) < 0 ||
      !(p = strstr(text, "\ncpu MHz")) || !(p = strchr(p, ':')) || sscanf(p + 1, "%lf", &mhz) != 1 || mhz < 100 ||
      mhz > 100000)
    return NULL;
  unsigned khz = (unsigned) (mhz * 1000);
  /* lpj: TSC cycles per jiffy (Debian's HZ is 250) */
  return xasprintf(" tsc_early_khz=%u lpj=%u tsc=reliable", khz, khz * 4);
}

static bool is_cni(const char *net)
{
  return !streq(net, "host") && !streq(net, "none");
}

/* the host's mount namespace, for the netns's removal (cni_take_passed_fds) */
static int host_mntns_fd = -1;

static const char *find_qemu(void)
{
  static const char *const candidates[] = { "/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64" };
  for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
    if (access(candidates[i], X_OK) == 0)
      return candidates[i];
  return NULL;
}

static int parse_run_args(int argc, char **argv, struct stage1_run_args *a, podrun_error_t *err)
{
  if (stage1_run_args_parse(argc, argv, a, err) < 0)
    return -1;
  if (!a->net)
    a->net = "host";
  /* any other: CNI networks, which stage0 set up in the netns it mounted */
  if (is_cni(a->net) && access(CNI_NETNS_FILE, F_OK) < 0)
    return podrun_error_new(err, 0, "--net=%s: the pod directory has no " CNI_NETNS_FILE " (run me through podrun)",
                            ESCAPE(a->net));
  if (a->interactive && !isatty(STDIN_FILENO))
    return podrun_error_new(err, 0, "--interactive: stdin is not a terminal");
  if (a->userns_shift)
    return podrun_error_new(err, 0, "--private-users: the kvm stage1 has no user namespace to give (the VM is the boundary)");
  return 0;
}

/* --mds-register: the pod directory's mds-url (stage0 wrote it, root's,
 * 0600), copied to meta/ (read-only in the guest, whose init puts it beside
 * the guest's pod manifest, where stage2 and enter read it, as on nspawn).
 * On a CNI network the URL is the host's side of the pod's first network,
 * which the guest reaches over its tap as the nspawn pod does over its veth.
 * On --net=host (qemu's user-mode NAT) the guest's 127.0.0.1 is its own:
 * the host's loopback is slirp's 10.0.2.2, whose connections qemu makes
 * from the host's 127.0.0.1, the address the service expects of a
 * --net=host pod. No mds-url: nothing to copy. */
#define MDS_LOOPBACK_URL "http://127.0.0.1:"
#define MDS_SLIRP_HOST_URL "http://10.0.2.2:"

static int copy_mds_url(const struct stage1_run_args *a, podrun_error_t *err)
{
  _cleanup_free_ char *url = NULL;
  _cleanup_error_ podrun_error_t e = NULL;
  if (fs_read_file_at(AT_FDCWD, STAGE2_MDS_URL, 4096, &url, NULL, &e) < 0)
    {
      if (e->status != ENOENT)
        return podrun_error_new(err, e->status, "%s", e->msg);
      if (unlink(KVM_META_DIR "/" STAGE2_MDS_URL) < 0 && errno != ENOENT)
        return podrun_error_set(err, errno, "unlink " KVM_META_DIR "/" STAGE2_MDS_URL);
      return 0;
    }
  if (streq(a->net, "host") && startswith(url, MDS_LOOPBACK_URL))
    {
      _cleanup_free_ char *slirp = xasprintf(MDS_SLIRP_HOST_URL "%s", url + strlen(MDS_LOOPBACK_URL));
      free(url);
      url = TAKE_PTR(slirp);
    }
  int r = fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/" STAGE2_MDS_URL, url, strlen(url), 0600, err);
  explicit_bzero(url, strlen(url));
  return r;
}

/* kvm/ (0700): the sockets, the logs; rt/ and meta/ for the guest; the
 * pod directory's status/ and logs/. meta/ holds copies of what the guest
 * reads: the pod manifest, the run flags, net, the hostname. */
static int make_dirs(const struct stage1_run_args *a, const char *hostname, podrun_error_t *err)
{
  static const char *const dirs[] = { KVM_DIR,
                                       KVM_RT_DIR,
                                       KVM_META_DIR,
                                       "status",
                                       "logs",
                                       KVM_RT_DIR "/" KVM_RT_META,
                                       KVM_RT_DIR "/" KVM_RT_STATUS,
                                       KVM_RT_DIR "/" KVM_RT_LOGS };
  for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
    if (fs_mkdir_p(dirs[i], i == 0 ? 0700 : 0755, err) < 0)
      return -1;
  if (chmod(KVM_DIR, 0700) < 0)
    return podrun_error_set(err, errno, "chmod " KVM_DIR);
  _cleanup_free_ char *pod = NULL, *flags = NULL, *net = xasprintf("%s\n", a->net), *host = xasprintf("%s\n", hostname);
  size_t pod_len = 0, flags_len = 0;
  _cleanup_error_ podrun_error_t no_flags = NULL;
  if (fs_read_file_at(AT_FDCWD, "pod", JSON_MAX_INPUT, &pod, &pod_len, err) < 0)
    return -1;
  if (fs_read_file_at(AT_FDCWD, "stage1/run-flags", 1 << 16, &flags, &flags_len, &no_flags) < 0)
    flags = xstrdup(""), flags_len = 0;
  if (fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/pod", pod, pod_len, 0644, err) < 0 ||
      fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/run-flags", flags, flags_len, 0644, err) < 0 ||
      fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/net", net, strlen(net), 0644, err) < 0 ||
      fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/hostname", host, strlen(host), 0644, err) < 0 ||
      fs_write_file_atomic_at(AT_FDCWD, "net", net, strlen(net), 0644, err) < 0)
    return -1;
  /* --interactive: the terminal's size, which the guest gives the app's */
  struct winsize ws = { 0 };
  if (a->interactive && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    {
      _cleanup_free_ char *size = xasprintf("%u %u\n", ws.ws_row, ws.ws_col);
      if (fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/" KVM_TTY_SIZE_FILE, size, strlen(size), 0644, err) < 0)
        return -1;
    }
  /* --debug is podrun's, not a pod flag of the run flags: the guest is told so */
  if (a->debug && fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/" KVM_DEBUG_FILE, "", 0, 0644, err) < 0)
    return -1;
  if (copy_mds_url(a, err) < 0)
    return -1;
  char seed[KVM_RANDOM_SEED_SIZE];
  if (getrandom(seed, sizeof(seed), 0) != (ssize_t) sizeof(seed))
    return podrun_error_set(err, errno, "getrandom");
  int r = fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/" KVM_RANDOM_SEED_FILE, seed, sizeof(seed), 0600, err);
  explicit_bzero(seed, sizeof(seed));
  return r;
}

/* "A.B.C.D/N" of a CNI result: the address and its prefix, IPv4 only. */
static bool ipv4_prefix(const char *s, char ret[INET_ADDRSTRLEN], unsigned *ret_prefix)
{
  const char *slash = s ? strchr(s, '/') : NULL;
  unsigned long long prefix;
  struct in_addr a;
  if (!slash || (size_t) (slash - s) >= INET_ADDRSTRLEN || parse_uint(slash + 1, 32, &prefix) < 0)
    return false;
  memcpy(ret, s, (size_t) (slash - s));
  ret[slash - s] = '\0';
  *ret_prefix = (unsigned) prefix;
  return inet_pton(AF_INET, ret, &a) == 1;
}

static bool ipv4(const char *s)
{
  struct in_addr a;
  return s && inet_pton(AF_INET, s, &a) == 1;
}

/* What the guest sets on the NIC of one network: its MAC and MTU (the
 * veth's), the IPv4 addresses and routes of the network's CNI result
 * (IPv6 ones are not carried). */
static json_t *nic_entry(const struct kvm_nic *nic, json_t *result)
{
  json_t *addrs = json_array(), *routes = json_array(), *v;
  char a[INET_ADDRSTRLEN];
  unsigned prefix;
  size_t i;
  json_array_foreach (json_object_get(result, "ips"), i, v)
    {
      const char *gw = json_string_value(json_object_get(v, "gateway"));
      if (!ipv4_prefix(json_string_value(json_object_get(v, "address")), a, &prefix))
        continue;
      json_t *o = json_pack("{s:s,s:i}", "address", a, "prefix", (json_int_t) prefix);
      if (ipv4(gw))
        json_object_set_new(o, "gateway", json_string(gw));
      json_array_append_new(addrs, o);
    }
  json_array_foreach (json_object_get(result, "routes"), i, v)
    {
      const char *gw = json_string_value(json_object_get(v, "gw"));
      if (!ipv4_prefix(json_string_value(json_object_get(v, "dst")), a, &prefix))
        continue;
      json_t *o = json_pack("{s:s,s:i}", "dst", a, "prefix", (json_int_t) prefix);
      if (ipv4(gw))
        json_object_set_new(o, "gateway", json_string(gw));
      json_array_append_new(routes, o);
    }
  return json_pack("{s:s,s:i,s:o,s:o}", "mac", nic->mac, "mtu", (json_int_t) nic->mtu, "addresses", addrs, "routes",
                   routes);
}

struct nics
{
  struct kvm_nic *v;
  size_t n;
};

static void nics_done(struct nics *n)
{
  for (size_t i = 0; i < n->n; i++)
    if (n->v[i].tap_fd >= 0)
      close(n->v[i].tap_fd);
  free(n->v);
  *n = (struct nics){ 0 };
}

/* On CNI networks: a NIC for each of the pod's networks (net-info.json,
 * which stage0 wrote, in its order), and meta/nics.json for the guest. */
static int connect_networks(const char *cwd, struct nics *nics, podrun_error_t *err)
{
  _cleanup_json_ json_t *info = NULL, *entries = json_array();
  _cleanup_free_ char *netns = xasprintf("%s/" CNI_NETNS_FILE, cwd);
  size_t i;
  json_t *e;
  if (cni_net_info_read(AT_FDCWD, &info, err) < 0)
    return -1;
  if (!info)
    return podrun_error_new(err, 0, "the pod directory has no " CNI_NET_INFO " (run me through podrun)");
  json_array_foreach (json_object_get(info, "networks"), i, e)
    {
      const char *ifname = json_string_value(json_object_get(e, "ifname"));
      const char *name = json_string_value(json_object_get(e, "name"));
      if (!ifname || strlen(ifname) >= 16 || !json_is_object(json_object_get(e, "result")))
        return podrun_error_new(err, 0, CNI_NET_INFO ": network %s has no interface or result",
                                QUOTE(name ? name : "?"));
      nics->v = xrealloc(nics->v, (nics->n + 1) * sizeof(*nics->v));
      nics->v[nics->n] = (struct kvm_nic){ .tap_fd = -1 };
      if (kvm_nic_connect(netns, ifname, nics->n, &nics->v[nics->n], err) < 0)
        return podrun_error_wrap(err, "network %s", QUOTE(name ? name : "?"));
      json_array_append_new(entries, nic_entry(&nics->v[nics->n], json_object_get(e, "result")));
      nics->n++;
    }
  _cleanup_free_ char *text = json_dump_sorted(entries, true);
  return fs_write_file_atomic_at(AT_FDCWD, KVM_META_DIR "/" KVM_NICS_FILE, text, strlen(text), 0644, err);
}

/* On a CNI network, without --dns*, the apps' resolv.conf is the DNS of the
 * networks' results (net-info.json, which only the host writes), if any. */
static int write_cni_resolv_conf(const struct stage1_run_args *a, const char *root, podrun_error_t *err)
{
  if (!is_cni(a->net) || a->dns || a->dns_search || a->dns_opt)
    return 0;
  _cleanup_free_ char *text = cni_resolv_conf(AT_FDCWD);
  return text ? stage1_write_etc_file(root, "resolv.conf", text, a->userns_shift, err) : 0;
}

/* The accelerator: PODRUN_KVM=auto (the default) probes, on insists, off is
 * TCG. Written to kvm/accel, which status shows. */
static int choose_accel(bool *ret_kvm, podrun_error_t *err)
{
  enum kvm_accel_mode mode;
  _cleanup_error_ podrun_error_t why = NULL;
  if (kvm_accel_mode_parse(getenv(KVM_ACCEL_ENV), &mode, err) < 0)
    return -1;
  bool kvm = false;
  if (mode == KVM_ACCEL_ON && kvm_probe(&why) < 0)
    return podrun_error_new(err, 0, KVM_ACCEL_ENV "=on: KVM does not work here: %s", why->msg);
  if (mode == KVM_ACCEL_ON)
    kvm = true;
  else if (mode == KVM_ACCEL_AUTO && kvm_probe(&why) == 0)
    kvm = true;
  else if (mode == KVM_ACCEL_AUTO)
    log_info("KVM does not work here (%s): the pod runs under TCG, software emulation", why->msg);
  const char *text = kvm ? "kvm\n" : "tcg\n";
  if (fs_write_file_atomic_at(AT_FDCWD, KVM_ACCEL_FILE, text, strlen(text), 0644, err) < 0)
    return -1;
  *ret_kvm = kvm;
  return 0;
}

/* The kernel and the initramfs the stage1 image carries: an ELF kernel (the
 * PVH entry), a non-empty initramfs; opened without following symlinks. */
static int check_guest_files(const char *rootfs, podrun_error_t *err)
{
  static const char *const files[] = { KVM_KERNEL, KVM_INITRD };
  _cleanup_close_ int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(rootfs));
  for (size_t i = 0; i < ELEMENTSOF(files); i++)
    {
      _cleanup_close_ int fd = openat(root, files[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      char magic[4] = { 0 };
      struct stat st;
      if (fd < 0 || fstat(fd, &st) < 0)
        return podrun_error_set(err, errno, "the kvm stage1's %s", files[i]);
      if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return podrun_error_new(err, 0, "the kvm stage1's %s: not a regular file with something in it", files[i]);
      if (i == 0 && (read(fd, magic, 4) != 4 || memcmp(magic, "\177ELF", 4) != 0))
        return podrun_error_new(err, 0, "the kvm stage1's %s: not an ELF kernel (qemu boots vmlinux through PVH)",
                                files[i]);
    }
  return 0;
}

/* The fds qemu is given, by number in the child: the consoles, then the
 * NICs' taps. */
enum
{
  FD_OUT = 10,
  FD_ERR,
  FD_CONSOLE,
  FD_TAP0,
};

static char **share(char **v, const char *id, const char *path, const char *tag)
{
  _cleanup_free_ char *fs = xasprintf("local,id=%s,path=%s,security_model=passthrough,multidevs=remap", id, path);
  _cleanup_free_ char *dev = xasprintf("virtio-9p-device,fsdev=%s,mount_tag=%s", id, tag);
  return strv_push(strv_push(strv_push(strv_push(v, "-fsdev"), fs), "-device"), dev);
}

static char **opt(char **v, const char *flag, const char *value)
{
  return strv_push(strv_push(v, flag), value);
}

static char **qemu_argv(const char *qemu, const struct stage1_run_args *a, const char *cwd, bool kvm, unsigned mib,
                        unsigned cpus, const struct nics *nics)
{
  _cleanup_free_ char *name = xasprintf("podrun-%s", a->uuid), *m = xasprintf("%u", mib), *smp = xasprintf("%u", cpus);
  _cleanup_free_ char *kernel = xasprintf("%s/stage1/rootfs/" KVM_KERNEL, cwd);
  _cleanup_free_ char *initrd = xasprintf("%s/stage1/rootfs/" KVM_INITRD, cwd);
  _cleanup_free_ char *root = xasprintf("%s/stage1/rootfs", cwd), *rt = xasprintf("%s/" KVM_RT_DIR, cwd);
  /* relative to the pod directory, qemu's cwd as run's: a socket's path has
   * room for 107 bytes, and --dir may be longer */
  static const char ctl[] = "socket,id=ctl,path=" KVM_CTL_SOCKET ",server=on,wait=off";
  _cleanup_free_ char *add_out = xasprintf("fd=%d,set=1", FD_OUT), *add_err = xasprintf("fd=%d,set=2", FD_ERR);
  _cleanup_free_ char *add_console = xasprintf("fd=%d,set=3", FD_CONSOLE);
  /* as many ports as the guest gets (stdout, stderr, the terminal, ctl, the
   * enter ports): its driver sets up two virtqueues for each port the device
   * could have, and 16 were 40 ms of the guest's boot under TCG */
  _cleanup_free_ char *serial = xasprintf("virtio-serial-device,max_ports=%d", 3 + a->interactive + KVM_ENTER_PORTS);
  _cleanup_free_ char *clock = kvm ? NULL : tcg_clock_args();
  _cleanup_free_ char *cmdline = xasprintf(KERNEL_CMDLINE "%s", clock ? clock : "");
  char **v = strv_push(NULL, qemu);

  v = opt(v, "-name", name);
  v = opt(v, "-M", "microvm,x-option-roms=off,rtc=off,isa-serial=on");
  v = opt(v, "-accel", kvm ? "kvm" : "tcg");
  if (kvm)
    v = opt(v, "-cpu", "host");
  v = opt(v, "-m", m);
  v = opt(v, "-smp", smp);
  /* nothing qemu would add of itself: no default devices, no config file,
   * no display, no monitor (none at all: no one can reach one) */
  v = strv_push(strv_push(v, "-nodefaults"), "-no-user-config");
  v = opt(opt(v, "-display", "none"), "-monitor", "none");
  v = opt(v, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  v = strv_push(v, "-no-reboot");
  v = opt(opt(opt(v, "-kernel", kernel), "-initrd", initrd), "-append", cmdline);
  v = opt(opt(opt(v, "-add-fd", add_out), "-add-fd", add_err), "-add-fd", add_console);
  v = opt(v, "-chardev", "file,id=console,path=/dev/fdset/3,append=on");
  v = opt(v, "-serial", "chardev:console");
  v = opt(v, "-device", serial);
  v = opt(v, "-chardev", "file,id=out,path=/dev/fdset/1,append=on");
  v = opt(v, "-device", "virtconsole,chardev=out,name=podrun.stdout");
  v = opt(v, "-chardev", "file,id=err,path=/dev/fdset/2,append=on");
  v = opt(v, "-device", "virtconsole,chardev=err,name=podrun.stderr");
  /* --interactive: the app's terminal is a third virtio console (the
   * guest's /dev/hvc2), qemu's stdio, which is podrun's terminal (qemu
   * makes it raw: the guest's line discipline is the one that counts;
   * signal=off: ^C is a byte for the app, not the end of qemu) */
  if (a->interactive)
    v = opt(opt(v, "-chardev", "stdio,id=tty,signal=off"), "-device", "virtconsole,chardev=tty,name=" KVM_PORT_TTY);
  v = opt(opt(v, "-chardev", ctl), "-device", "virtserialport,chardev=ctl,name=" KVM_PORT_CTL);
  for (int i = 0; i < KVM_ENTER_PORTS; i++)
    {
      _cleanup_free_ char *path = xasprintf(KVM_ENTER_SOCKET_FMT, i), *port_name = xasprintf(KVM_PORT_ENTER_FMT, i);
      _cleanup_free_ char *chardev = xasprintf("socket,id=enter%d,path=%s,server=on,wait=off", i, path);
      _cleanup_free_ char *port = xasprintf("virtserialport,chardev=enter%d,name=%s", i, port_name);
      v = opt(opt(v, "-chardev", chardev), "-device", port);
    }
  v = share(v, "root", root, KVM_TAG_ROOT);
  v = share(v, "rt", rt, KVM_TAG_RT);
  if (streq(a->net, "host")) /* qemu's user-mode NAT */
    v = opt(opt(v, "-netdev", "user,id=net0"), "-device", "virtio-net-device,netdev=net0");
  for (size_t i = 0; i < nics->n; i++) /* a CNI network's tap (none: no NIC at all, -nodefaults) */
    {
      _cleanup_free_ char *netdev = xasprintf("tap,id=net%zu,fd=%zu", i, FD_TAP0 + i);
      _cleanup_free_ char *dev = xasprintf("virtio-net-device,netdev=net%zu,mac=%s", i, nics->v[i].mac);
      v = opt(opt(v, "-netdev", netdev), "-device", dev);
    }
  return v;
}

/* What qemu needs of root, and no more: it keeps owners and modes of what
 * the guest writes (CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE, CAP_FSETID),
 * but may never make a device node (CAP_MKNOD: a node the guest makes
 * through 9p would be the host's device, opened by qemu as root), load a
 * module, mount, trace … All dropped from the bounding set, so root's exec
 * of qemu gets none of them; and no new privileges after that. */
static int drop_privileges(void)
{
  static const int keep[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
                              CAP_SETGID, CAP_SETUID };
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    {
      bool kept = false;
      for (size_t i = 0; i < ELEMENTSOF(keep); i++)
        kept |= keep[i] == c;
      if (!kept && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    }
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* In a mount namespace of qemu's own, which ends with it: the pod
 * directory's parts the guest shares bound onto their directories in rt/,
 * meta/ read-only, so that one 9p share carries them all (each share is a
 * device the guest probes and a mount with its round trips to qemu). */
static int bind_rt(podrun_error_t *err)
{
  static const struct
  {
    const char *from, *to;
    bool read_only;
  } binds[] = {
    { KVM_META_DIR, KVM_RT_DIR "/" KVM_RT_META, true },
    { "status", KVM_RT_DIR "/" KVM_RT_STATUS, false },
    { "logs", KVM_RT_DIR "/" KVM_RT_LOGS, false },
  };
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return podrun_error_set(err, errno, "a mount namespace for qemu");
  for (size_t i = 0; i < ELEMENTSOF(binds); i++)
    if (volumes_bind_dir(binds[i].from, binds[i].to, binds[i].read_only, err) < 0)
      return -1;
  return 0;
}

/* fds[i] becomes FD_OUT + i in qemu (out, err, console, the taps). */
static _noreturn_ void exec_qemu(char **args, pid_t parent, const int *fds, size_t n_fds, int log, bool interactive)
{
  (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* the VM never outlives its lock holder */
  if (getppid() != parent)
    _exit(PODRUN_EXIT_ERROR);
  int high[3 + CNI_MAX_NETWORKS];
  if (n_fds > ELEMENTSOF(high))
    _exit(PODRUN_EXIT_ERROR);
  for (size_t i = 0; i < n_fds; i++) /* out of the way first: one may be at a target already */
    if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, FD_OUT + (int) ELEMENTSOF(high))) < 0)
      _exit(PODRUN_EXIT_ERROR);
  for (size_t i = 0; i < n_fds; i++)
    if (dup2(high[i], FD_OUT + (int) i) < 0)
      _exit(PODRUN_EXIT_ERROR);
  /* qemu's stdin and stdout: the terminal with --interactive, else nothing */
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || (!interactive && (dup2(null, 0) < 0 || dup2(log, 1) < 0)) || dup2(log, 2) < 0)
    _exit(PODRUN_EXIT_ERROR);
  _cleanup_error_ podrun_error_t err = NULL;
  if (bind_rt(&err) < 0)
    {
      dprintf(2, "%s\n", err->msg);
      _exit(PODRUN_EXIT_ERROR);
    }
  if (drop_privileges() < 0)
    _exit(PODRUN_EXIT_ERROR);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(args[0], args);
  dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

static int connect_socket(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close(fd);
      errno = e;
      return -1;
    }
  return fd;
}

/* Asks the guest init to stop the pod (it sends the pod init SIGTERM). */
static int send_ctl(const char *req, podrun_error_t *err)
{
  _cleanup_close_ int fd = connect_socket(KVM_CTL_SOCKET);
  if (fd < 0 || write(fd, req, strlen(req)) < 0)
    return podrun_error_set(err, errno, "the pod's control channel");
  return 0;
}

/* The last line of a log file of ours that says something, as it is: the
 * error made of it escapes its control characters and cuts it, as every
 * message's (msg_one_line). */
static char *last_line(const char *path, const char *want)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &ignored) < 0)
    return NULL;
  char *found = NULL;
  for (char *save = NULL, *l = strtok_r(text, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save))
    if (!want || strstr(l, want))
      found = l;
  if (!found)
    return NULL;
  if (want)
    found = strstr(found, want);
  return xstrdup(found);
}

/* Why the pod ended before its apps started, in one line. */
static int early_failure(int status, podrun_error_t *err)
{
  _cleanup_free_ char *guest = last_line(KVM_RT_DIR "/" KVM_GUEST_ERROR, NULL);
  if (guest)
    return podrun_error_new(err, 0, "the guest: %s", guest);
  _cleanup_free_ char *panic = last_line(KVM_CONSOLE_LOG, "Kernel panic");
  if (panic)
    return podrun_error_new(err, 0, "the guest kernel: %s (see " KVM_CONSOLE_LOG ")", panic);
  _cleanup_free_ char *qemu = last_line("kvm/qemu.log", NULL);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && qemu)
    return podrun_error_new(err, 0, "qemu failed: %s", qemu);
  if (WIFSIGNALED(status))
    return podrun_error_new(err, 0, "qemu was killed by signal %d before the pod's apps started", WTERMSIG(status));
  return podrun_error_new(err, 0, "the VM stopped before the pod's apps started (see " KVM_CONSOLE_LOG ")");
}

/* The records, never qemu's status (stage1_pod_exit_code), once the pod
 * init was ready; before that, why it never was. */
static int pod_exit_code(const struct appc_pod_manifest *m, int status, int *ret_exit, podrun_error_t *err)
{
  if (access(KVM_RT_DIR "/" STAGE1_READY, F_OK) < 0)
    return early_failure(status, err);
  return stage1_pod_exit_code(m, KVM_RT_DIR, ret_exit, err);
}

/* What qemu writes to run: the apps' stdout and stderr (copied to run's),
 * the guest's serial console (to kvm/console.log, at most CONSOLE_MAX bytes:
 * a guest cannot fill the host's disk through it; and to stderr with --debug). */
#define CONSOLE_MAX (1 << 20)
struct stream
{
  int from, to, also; /* also: -1, or a second fd that gets everything */
  uint64_t cap, written;   /* cap: 0 for none */
  bool open;
};

static void copy_out(struct stream *st)
{
  char buf[65536];
  ssize_t k = read(st->from, buf, sizeof(buf));
  if (k <= 0)
    {
      if (k == 0 || errno != EINTR)
        st->open = false;
      return;
    }
  _cleanup_error_ podrun_error_t ignored = NULL;
  size_t n = (size_t) k;
  if (st->cap && st->written + n > st->cap)
    n = st->written < st->cap ? (size_t) (st->cap - st->written) : 0;
  if (n > 0)
    (void) fs_write_all(st->to, buf, n, &ignored);
  st->written += n;
  if (st->also >= 0)
    (void) fs_write_all(st->also, buf, (size_t) k, &ignored);
}

/* --interactive: the terminal's size now, for the app's terminal. */
static int send_winsize(podrun_error_t *err)
{
  struct winsize ws = { 0 };
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return podrun_error_set(err, errno, "the terminal's size");
  _cleanup_free_ char *req = xasprintf("{\"winsize\": {\"rows\": %u, \"cols\": %u}}\n", ws.ws_row, ws.ws_col);
  return send_ctl(req, err);
}

/* Until qemu exits: the apps' output to ours, signals to the guest as a
 * stop request (SIGWINCH with --interactive: the terminal's new size),
 * `pid` once the pod init is ready. Returns qemu's status. */
static int supervise(pid_t qemu, struct stream streams[3], bool interactive, int *ret_status, podrun_error_t *err)
{
  /* rt/ watched with dnotify, whose SIGIO the signalfd reads: closing an
   * inotify instance waits for an SRCU grace period (4 to 18 ms at the end
   * of each pod here), closing a dnotify'd fd does not */
  _cleanup_close_ int pidfd = pidfd_open(qemu, 0), rt = open(KVM_RT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC), sfd = -1;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGIO);
  if (interactive)
    sigaddset(&mask, SIGWINCH);
  if (pidfd < 0 || rt < 0 || sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
      fcntl(rt, F_NOTIFY, DN_CREATE | DN_RENAME | DN_MULTISHOT) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
    return podrun_error_set(err, errno, "watch the VM");
  bool ready = false, exited = false, over = false;
  while (!exited || streams[0].open || streams[1].open || streams[2].open)
    {
      if (!ready && access(KVM_RT_DIR "/" STAGE1_READY, F_OK) == 0)
        {
          ready = true;
          /* the guest has had it: no copy of its seed stays on the host */
          (void) unlink(KVM_META_DIR "/" KVM_RANDOM_SEED_FILE);
          _cleanup_free_ char *text = xasprintf("%d\n", (int) qemu);
          if (fs_write_file_atomic_at(AT_FDCWD, "pid", text, strlen(text), 0644, err) < 0)
            return -1;
          kvm_sd_ready();
        }
      if (ready && !over && !exited && faccessat(AT_FDCWD, KVM_RT_DIR "/" KVM_OVER_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        {
          over = true;
          log_debug("the pod is over: qemu is ended");
          (void) kill(qemu, SIGKILL); /* nothing of the pod is in it (KVM_OVER_FILE) */
        }
      struct pollfd fds[5] = {
        { .fd = exited ? -1 : pidfd, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      for (int i = 0; i < 3; i++)
        fds[2 + i] = (struct pollfd) { .fd = streams[i].open ? streams[i].from : -1, .events = POLLIN };
      /* once qemu is gone, what it wrote is drained, then we are done */
      if (poll(fds, ELEMENTSOF(fds), exited ? 0 : -1) <= 0)
        {
          if (exited)
            break;
          continue;
        }
      if (fds[0].revents)
        {
          while (waitpid(qemu, ret_status, 0) < 0)
            if (errno != EINTR)
              return podrun_error_set(err, errno, "wait for qemu");
          exited = true;
        }
      if (fds[1].revents)
        {
          struct signalfd_siginfo si;
          _cleanup_error_ podrun_error_t stop_err = NULL;
          /* SIGIO: rt/ has a new entry, looked at on the next round */
          bool got = read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGIO;
          if (got && si.ssi_signo != SIGWINCH)
            kvm_sd_stopping();
          if (got &&
              (si.ssi_signo == SIGWINCH ? send_winsize(&stop_err) : send_ctl("{\"stop\": true}\n", &stop_err)) < 0)
            log_debug("%s, ignoring", stop_err->msg);
        }
      for (int i = 0; i < 3; i++)
        if (fds[2 + i].revents)
          copy_out(&streams[i]);
    }
  return 0;
}

/* The pod's life in qemu, from the checks to its exit code. */
static int run_pod(const struct stage1_run_args *ap, const char *cwd, struct nics *nics, int *ret_exit,
                   podrun_error_t *err)
{
  const struct stage1_run_args a = *ap;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_strv_ char **args = NULL;
  const char *qemu = find_qemu();
  unsigned mib = 0, cpus = 0;
  bool kvm = false;

  if (!qemu)
    return podrun_error_new(err, 0, "qemu-system-x86_64 not found (install the qemu-system-x86 package)");
  if (stage1_read_pod("pod", &m, err) < 0 || kvm_vm_size(m, &mib, &cpus, err) < 0 || kvm_sd_setup(a.uuid, m, err) < 0)
    return -1;
  _cleanup_free_ char *rootfs = xasprintf("%s/stage1/rootfs", cwd);
  if (check_guest_files(rootfs, err) < 0)
    return -1;
  _cleanup_free_ char *hostname = a.hostname ? xstrdup(a.hostname) : xasprintf("podrun-%s", a.uuid);
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = xasprintf("%s/opt/stage2/%s/rootfs", rootfs, m->apps[i].name);
      /* qemu's user-mode network has its resolver at 10.0.2.3 */
      if (volumes_mount_app(m, &m->apps[i], root, 0, err) < 0 ||
          stage1_write_app_etc(&a, root, hostname, streq(a.net, "host") ? "10.0.2.3" : NULL, err) < 0 ||
          write_cni_resolv_conf(&a, root, err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  if (make_dirs(&a, hostname, err) < 0 || (is_cni(a.net) && connect_networks(cwd, nics, err) < 0) ||
      choose_accel(&kvm, err) < 0)
    return -1;
  args = qemu_argv(qemu, &a, cwd, kvm, mib, cpus, nics);
  int out[2], errp[2], cons[2];
  _cleanup_close_ int console = open(KVM_CONSOLE_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  _cleanup_close_ int log = open("kvm/qemu.log", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (console < 0 || log < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
      pipe2(cons, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "the VM's consoles");
  struct termios termios;
  bool have_termios = a.interactive && tcgetattr(STDIN_FILENO, &termios) == 0;
  pid_t self = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    {
      int fds[3 + CNI_MAX_NETWORKS] = { out[1], errp[1], cons[1] };
      for (size_t i = 0; i < nics->n && i < CNI_MAX_NETWORKS; i++)
        fds[3 + i] = nics->v[i].tap_fd;
      exec_qemu(args, self, fds, 3 + nics->n, log, a.interactive);
    }
  close(out[1]);
  close(errp[1]);
  close(cons[1]);
  _cleanup_close_ int out_r = out[0], err_r = errp[0], cons_r = cons[0];
  struct stream streams[3] = {
    { .from = out_r, .to = STDOUT_FILENO, .also = -1, .open = true },
    { .from = err_r, .to = STDERR_FILENO, .also = -1, .open = true },
    { .from = cons_r, .to = console, .also = a.debug ? STDERR_FILENO : -1, .cap = CONSOLE_MAX, .open = true },
  };
  int status = -1;
  int r = supervise(pid, streams, a.interactive, &status, err);
  if (r < 0)
    kill(pid, SIGKILL);
  /* a qemu that was killed left podrun's terminal raw */
  if (a.interactive && have_termios)
    (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &termios);
  return r < 0 ? -1 : pod_exit_code(m, status, ret_exit, err);
}

int kvm_run(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
  _cleanup_(nics_done) struct nics nics = { 0 };
  char cwd[4096];

  if (stage1_lock_fd(err) < 0) /* held by run alone, for the pod's life */
    return -1;
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "getcwd");
  host_mntns_fd = cni_take_passed_fds();
  if (parse_run_args(argc, argv, &a, err) < 0)
    return -1;
  int r = run_pod(&a, cwd, &nics, ret_exit, err);
  /* the pod has ended: its networks go (stop and gc delete them again);
   * the taps first, with qemu's ends gone already */
  nics_done(&nics);
  _cleanup_error_ podrun_error_t net_err = NULL;
  if (is_cni(a.net) && cni_pod_teardown(AT_FDCWD, cwd, a.uuid, host_mntns_fd, &net_err) < 0)
    log_warning("%s (gc tries again)", net_err->msg);
  return r;
}
