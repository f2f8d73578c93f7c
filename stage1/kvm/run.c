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
#include <signal.h>
#include <linux/capability.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fs.h"
#include "json-util.h"
#include "log.h"
#include "pod.h"
#include "volumes.h"

/* Fixed: nothing of the pod reaches the guest kernel's command line. */
#define KERNEL_CMDLINE "console=ttyS0 quiet panic=-1 reboot=t i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"

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
  if (!streq(a->net, "host") && !streq(a->net, "none"))
    return podrun_error_new(err, 0, "--net=%s: the kvm stage1 knows host (user-mode NAT) and none", ESCAPE(a->net));
  if (a->interactive)
    return podrun_error_new(err, 0, "--interactive: the kvm stage1 gives no app a terminal");
  if (a->userns_shift)
    return podrun_error_new(err, 0, "--private-users: the kvm stage1 has no user namespace to give (the VM is the boundary)");
  return 0;
}

/* kvm/ (0700): the sockets, the logs; rt/ and meta/ for the guest; the
 * pod directory's status/ and logs/. meta/ holds copies of what the guest
 * reads: the pod manifest, the run flags, net, the hostname. */
static int make_dirs(const struct stage1_run_args *a, const char *hostname, podrun_error_t *err)
{
  static const char *const dirs[] = { KVM_DIR, KVM_RT_DIR, KVM_META_DIR, "status", "logs" };
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
  return 0;
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

/* The fds qemu is given, by number in the child. */
enum
{
  FD_OUT = 10,
  FD_ERR,
  FD_CONSOLE,
};

static char **share(char **v, const char *id, const char *path, const char *tag, bool read_only)
{
  _cleanup_free_ char *fs = xasprintf("local,id=%s,path=%s,security_model=passthrough,multidevs=remap%s", id, path,
                                      read_only ? ",readonly=on" : "");
  _cleanup_free_ char *dev = xasprintf("virtio-9p-device,fsdev=%s,mount_tag=%s", id, tag);
  return strv_push(strv_push(strv_push(strv_push(v, "-fsdev"), fs), "-device"), dev);
}

static char **opt(char **v, const char *flag, const char *value)
{
  return strv_push(strv_push(v, flag), value);
}

static char **qemu_argv(const char *qemu, const struct stage1_run_args *a, const char *cwd, bool kvm, unsigned mib,
                        unsigned cpus)
{
  _cleanup_free_ char *name = xasprintf("podrun-%s", a->uuid), *m = xasprintf("%u", mib), *smp = xasprintf("%u", cpus);
  _cleanup_free_ char *kernel = xasprintf("%s/stage1/rootfs/" KVM_KERNEL, cwd);
  _cleanup_free_ char *initrd = xasprintf("%s/stage1/rootfs/" KVM_INITRD, cwd);
  _cleanup_free_ char *root = xasprintf("%s/stage1/rootfs", cwd), *meta = xasprintf("%s/" KVM_META_DIR, cwd);
  _cleanup_free_ char *rt = xasprintf("%s/" KVM_RT_DIR, cwd), *status = xasprintf("%s/status", cwd);
  _cleanup_free_ char *logs = xasprintf("%s/logs", cwd);
  _cleanup_free_ char *ctl = xasprintf("socket,id=ctl,path=%s/" KVM_CTL_SOCKET ",server=on,wait=off", cwd);
  _cleanup_free_ char *enter = xasprintf("socket,id=enter,path=%s/" KVM_ENTER_SOCKET ",server=on,wait=off", cwd);
  _cleanup_free_ char *add_out = xasprintf("fd=%d,set=1", FD_OUT), *add_err = xasprintf("fd=%d,set=2", FD_ERR);
  _cleanup_free_ char *add_console = xasprintf("fd=%d,set=3", FD_CONSOLE);
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
  v = opt(v, "-device", "virtio-serial-device,max_ports=4");
  v = opt(v, "-chardev", "file,id=out,path=/dev/fdset/1,append=on");
  v = opt(v, "-device", "virtconsole,chardev=out,name=podrun.stdout");
  v = opt(v, "-chardev", "file,id=err,path=/dev/fdset/2,append=on");
  v = opt(v, "-device", "virtconsole,chardev=err,name=podrun.stderr");
  v = opt(opt(v, "-chardev", ctl), "-device", "virtserialport,chardev=ctl,name=" KVM_PORT_CTL);
  v = opt(opt(v, "-chardev", enter), "-device", "virtserialport,chardev=enter,name=" KVM_PORT_ENTER);
  v = share(v, "root", root, KVM_TAG_ROOT, false);
  v = share(v, "meta", meta, KVM_TAG_META, true);
  v = share(v, "rt", rt, KVM_TAG_RT, false);
  v = share(v, "status", status, KVM_TAG_STATUS, false);
  v = share(v, "logs", logs, KVM_TAG_LOGS, false);
  if (!streq(a->net, "none")) /* else no NIC at all (-nodefaults) */
    v = opt(opt(v, "-netdev", "user,id=net0"), "-device", "virtio-net-device,netdev=net0");
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

static _noreturn_ void exec_qemu(char **args, pid_t parent, const int fds[3], int log)
{
  (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* the VM never outlives its lock holder */
  if (getppid() != parent)
    _exit(PODRUN_EXIT_ERROR);
  int high[3];
  for (int i = 0; i < 3; i++) /* out of the way first: one may be 10, 11 or 12 already */
    if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, FD_CONSOLE + 1)) < 0)
      _exit(PODRUN_EXIT_ERROR);
  for (int i = 0; i < 3; i++)
    if (dup2(high[i], FD_OUT + i) < 0)
      _exit(PODRUN_EXIT_ERROR);
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || drop_privileges() < 0)
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
static int send_stop(podrun_error_t *err)
{
  static const char req[] = "{\"stop\": true}\n";
  _cleanup_close_ int fd = connect_socket(KVM_CTL_SOCKET);
  if (fd < 0 || write(fd, req, strlen(req)) < 0)
    return podrun_error_set(err, errno, "the pod's control channel");
  return 0;
}

/* The last line of a log file of ours that says something, escaped. */
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
  return xstrdup(ESCAPE(found));
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

/* Until qemu exits: the apps' output to ours, signals to the guest as a
 * stop request, `pid` once the pod init is ready. Returns qemu's status. */
static int supervise(pid_t qemu, struct stream streams[3], int *ret_status, podrun_error_t *err)
{
  _cleanup_close_ int pidfd = pidfd_open(qemu, 0), in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), sfd = -1;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (pidfd < 0 || in < 0 || inotify_add_watch(in, KVM_RT_DIR, IN_CREATE | IN_MOVED_TO) < 0 ||
      sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
    return podrun_error_set(err, errno, "watch the VM");
  bool ready = false, exited = false;
  while (!exited || streams[0].open || streams[1].open || streams[2].open)
    {
      if (!ready && access(KVM_RT_DIR "/" STAGE1_READY, F_OK) == 0)
        {
          ready = true;
          _cleanup_free_ char *text = xasprintf("%d\n", (int) qemu);
          if (fs_write_file_atomic_at(AT_FDCWD, "pid", text, strlen(text), 0644, err) < 0)
            return -1;
        }
      struct pollfd fds[6] = {
        { .fd = exited ? -1 : pidfd, .events = POLLIN },
        { .fd = in, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
      };
      for (int i = 0; i < 3; i++)
        fds[3 + i] = (struct pollfd) { .fd = streams[i].open ? streams[i].from : -1, .events = POLLIN };
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
          char events[4096];
          while (read(in, events, sizeof(events)) > 0)
            ;
        }
      if (fds[2].revents)
        {
          struct signalfd_siginfo si;
          _cleanup_error_ podrun_error_t stop_err = NULL;
          if (read(sfd, &si, sizeof(si)) == sizeof(si) && send_stop(&stop_err) < 0)
            log_debug("%s, ignoring", stop_err->msg);
        }
      for (int i = 0; i < 3; i++)
        if (fds[3 + i].revents)
          copy_out(&streams[i]);
    }
  return 0;
}

int kvm_run(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
  _cleanup_strv_ char **args = NULL;
  const char *qemu = find_qemu();
  char cwd[4096];
  unsigned mib = 0, cpus = 0;
  bool kvm = false;

  if (stage1_lock_fd(err) < 0) /* held by run alone, for the pod's life */
    return -1;
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "getcwd");
  if (parse_run_args(argc, argv, &a, err) < 0)
    return -1;
  if (!qemu)
    return podrun_error_new(err, 0, "qemu-system-x86_64 not found (install the qemu-system-x86 package)");
  if (stage1_read_pod("pod", &m, err) < 0 || kvm_vm_size(m, &mib, &cpus, err) < 0)
    return -1;
  _cleanup_free_ char *rootfs = xasprintf("%s/stage1/rootfs", cwd);
  if (check_guest_files(rootfs, err) < 0)
    return -1;
  _cleanup_free_ char *hostname = a.hostname ? xstrdup(a.hostname) : xasprintf("podrun-%s", a.uuid);
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = xasprintf("%s/opt/stage2/%s/rootfs", rootfs, m->apps[i].name);
      if (volumes_mount_app(m, &m->apps[i], root, 0, err) < 0 || stage1_write_app_etc(&a, root, hostname, streq(a.net, "none") ? NULL : "10.0.2.3", err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  if (make_dirs(&a, hostname, err) < 0 || choose_accel(&kvm, err) < 0)
    return -1;
  args = qemu_argv(qemu, &a, cwd, kvm, mib, cpus);
  int out[2], errp[2], cons[2];
  _cleanup_close_ int console = open(KVM_CONSOLE_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  _cleanup_close_ int log = open("kvm/qemu.log", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (console < 0 || log < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
      pipe2(cons, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "the VM's consoles");
  pid_t self = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    exec_qemu(args, self, (int[3]) { out[1], errp[1], cons[1] }, log);
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
  if (supervise(pid, streams, &status, err) < 0)
    {
      kill(pid, SIGKILL);
      return -1;
    }
  return pod_exit_code(m, status, ret_exit, err);
}
