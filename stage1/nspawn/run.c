/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The nspawn stage1's host side: run (systemd-nspawn over the pod's stage1
 * rootfs, the pod init as its pid 1), enter and stop. */
#include "nspawn.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "cni.h"
#include "fs.h"
#include "log.h"
#include "pod.h"
#include "userns.h"
#include "stage2/stage2.h"
#include "volumes.h"

/* The contract's run flags (stage1_run_args_parse), and what nspawn refuses. */
static int parse_run_args(int argc, char **argv, struct stage1_run_args *a, podrun_error_t *err)
{
  if (stage1_run_args_parse(argc, argv, a, err) < 0)
    return -1;
  if (!a->net)
    a->net = "host";
  /* any other: CNI networks, which stage0 set up in the netns it mounted */
  if (!streq(a->net, "host") && !streq(a->net, "none") && access(CNI_NETNS_FILE, F_OK) < 0)
    return podrun_error_new(err, 0, "--net=%s: the pod directory has no " CNI_NETNS_FILE " (run me through podrun)",
                            ESCAPE(a->net));
  if (a->interactive && !isatty(STDIN_FILENO))
    return podrun_error_new(err, 0, "--interactive: stdin is not a terminal");
  return 0;
}

/* the host's mount namespace, for the netns's removal (cni_take_passed_fds) */
static int host_mntns_fd = -1;

static const char *find_nspawn(void)
{
  static const char *const candidates[] = { "/usr/bin/systemd-nspawn", "/bin/systemd-nspawn" };
  for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
    if (access(candidates[i], X_OK) == 0)
      return candidates[i];
  return NULL;
}

/* The stage1 root's /etc/machine-id: the pod's machine id, which nspawn
 * registers with machined (--uuid) and with which journalctl -M finds the
 * machine's journal. The stage1 root is read-only: the pod directory's
 * machine-id, written by the host, is bound over the image's empty one
 * (nspawn reads that before it binds, empty, and takes --uuid). A stage1
 * image without the mount point gets none: the machine id is nspawn's alone. */
static bool want_machine_id_file(void)
{
  struct stat st;
  return lstat("stage1/rootfs/etc/machine-id", &st) == 0 && S_ISREG(st.st_mode);
}

static int write_machine_id(podrun_error_t *err)
{
  if (!want_machine_id_file())
    return 0;
  _cleanup_free_ char *text = xasprintf("%s\n", nspawn_sd_machine_id());
  return fs_write_file_atomic_at(AT_FDCWD, "machine-id", text, strlen(text), 0444, err);
}

/* machined registration needs the system bus: use it when it is there
 * (a systemd host: `machinectl list` shows the pod), never assume it. */
static bool have_system_bus(void)
{
  return access("/run/dbus/system_bus_socket", F_OK) == 0;
}

static char **nspawn_argv(const char *nspawn, const struct stage1_run_args *a, const char *cwd, char **binds)
{
  char **v = strv_push(NULL, nspawn);
  _cleanup_free_ char *machine = xasprintf("--machine=podrun-%s", a->uuid);
  _cleanup_free_ char *hostname = xasprintf("--hostname=%s", a->hostname ? a->hostname : machine + 10);
  _cleanup_free_ char *dir = xasprintf("--directory=%s/stage1/rootfs", cwd);
  _cleanup_free_ char *pod = xasprintf("--bind-ro=%s/pod:" STAGE1_POD_MANIFEST, cwd);
  _cleanup_free_ char *status = xasprintf("--bind=%s/status:" STAGE1_STATUS_DIR, cwd);
  _cleanup_free_ char *runtime = xasprintf("--bind=%s/" NSPAWN_RUNTIME ":" NSPAWN_RUNTIME_DIR, cwd);
  _cleanup_free_ char *logs = xasprintf("--bind=%s/logs:" STAGE1_LOGS_DIR, cwd);
  _cleanup_free_ char *uuid = xasprintf("--uuid=%s", nspawn_sd_machine_id());

  v = strv_push(v, "--quiet");
  if (have_system_bus())
    {
      v = strv_push(v, "--register=yes");
      /* In a systemd service's cgroup (`systemd-run podrun run`, a unit
       * whose ExecStart is podrun), the pod stays in it, as rkt did: the
       * service's limits and accounting cover the pod, and stopping the
       * service stops the pod. stage0 made the pod's cgroup below the
       * service's (lib/cgroup.h). */
      if (cgroup_in_service())
        v = strv_push(v, "--keep-unit");
    }
  else
    v = strv_push(strv_push(v, "--register=no"), "--keep-unit");
  v = strv_push(v, machine);
  /* the machine id is the pod's uuid (the stage1 root's /etc/machine-id says
   * so too); nspawn links no journal of the host's into the pod */
  v = strv_push(strv_push(v, uuid), "--link-journal=no");
  v = strv_push(v, hostname);
  v = strv_push(v, dir);
  v = strv_push(v, pod);
  v = strv_push(v, status);
  v = strv_push(v, runtime);
  v = strv_push(v, logs);
  /* --mds-register's AC_METADATA_URL, beside the pod manifest where stage2 reads it */
  if (access(STAGE2_MDS_URL, F_OK) == 0)
    {
      _cleanup_free_ char *mds = xasprintf("--bind-ro=%s/" STAGE2_MDS_URL ":" STAGE1_POD_DIR "/" STAGE2_MDS_URL, cwd);
      v = strv_push(v, mds);
    }
  for (size_t i = 0; binds && binds[i]; i++)
    v = strv_push(v, binds[i]);
  if (want_machine_id_file())
    {
      _cleanup_free_ char *mid = xasprintf("--bind-ro=%s/machine-id:/etc/machine-id", cwd);
      v = strv_push(v, mid);
    }
  v = nspawn_sd_nspawn_args(v, cwd); /* the machine's journal (systemd.c) */
  /* the apps' stdio are podrun's own (--interactive: a pty of nspawn's,
   * which is the pod's console); the pod init, not nspawn, decides what
   * each app keeps of the capabilities */
  v = strv_push(v, a->interactive ? "--console=interactive" : "--console=pipe");
  v = strv_push(v, "--capability=all");
  v = strv_push(v, "--kill-signal=SIGTERM");
  /* the stage1 root is read-only and the apps' /etc is podrun's to write */
  v = strv_push(strv_push(v, "--resolv-conf=off"), "--timezone=off");
  /* a CNI network or a joined netns: nspawn runs in it from the start
   * (exec_nspawn), never with --network-namespace-path */
  if (streq(a->net, "none"))
    v = strv_push(v, "--private-network");
  if (a->userns_shift)
    {
      /* stage0 mounted the images idmapped into the range: nspawn has no
       * files to chown or map */
      _cleanup_free_ char *users = xasprintf(USERNS_FLAG "%u:%u", (unsigned) a->userns_shift, USERNS_RANGE);
      v = strv_push(strv_push(v, users), "--private-users-ownership=off");
    }
  v = strv_push(v, "--");
  v = strv_push(v, NSPAWN_INIT);
  v = nspawn_sd_init_args(v); /* the journal, the passed sockets, the notify sockets (systemd.c) */
  if (streq(a->net, "host"))
    v = strv_push(v, "--host-network");
  if (a->debug)
    v = strv_push(v, "--debug");
  if (a->interactive)
    v = strv_push(v, "--interactive");
  if (a->disable_caps)
    v = strv_push(v, STAGE1_DISABLE_CAPS);
  if (a->disable_paths)
    v = strv_push(v, STAGE1_DISABLE_PATHS);
  if (a->disable_seccomp)
    v = strv_push(v, STAGE1_DISABLE_SECCOMP);
  return v;
}

/* On the host's /run, nspawn's lock file for the directory it runs
 * (/run/systemd/nspawn/locks/inode-<dev>:<ino> of stage1/rootfs, the
 * overlay) outlives a SIGKILLed nspawn: its name goes to NSPAWN_LOCK_RECORD
 * in the pod directory, for gc (gc.c). */
static int record_nspawn_lock(podrun_error_t *err)
{
  struct stat st;
  if (stat("stage1/rootfs", &st) < 0)
    return podrun_error_set(err, errno, "stat \"stage1/rootfs\"");
  _cleanup_free_ char *name = xasprintf("inode-%lu:%lu\n", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
  return fs_write_file_atomic_at(AT_FDCWD, NSPAWN_LOCK_RECORD, name, strlen(name), 0644, err);
}

/* nspawn keeps a per-machine directory under /run/systemd/nspawn and, when
 * the pod ends, refuses to delete it unless /run is a tmpfs ("Attempted to
 * remove disk file system"). On a host whose /run is on disk, give it a
 * tmpfs there, in the pod's private mount namespace only. */
static int nspawn_runtime_dir(podrun_error_t *err)
{
  struct statfs st;
  if (statfs("/run", &st) == 0 && st.f_type == TMPFS_MAGIC)
    return record_nspawn_lock(err);
  if (fs_mkdir_p("/run/systemd/nspawn", 0755, err) < 0)
    return -1;
  if (mount("tmpfs", "/run/systemd/nspawn", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
    return podrun_error_set(err, errno, "mount a tmpfs on /run/systemd/nspawn");
  return 0;
}

/* On a CNI network, without --dns*, the apps' resolv.conf is the DNS of the
 * networks' results (net-info.json, which only the host writes), if any. */
static int write_cni_resolv_conf(const struct stage1_run_args *a, const char *root, podrun_error_t *err)
{
  if (streq(a->net, "host") || streq(a->net, "none") || a->dns || a->dns_search || a->dns_opt)
    return 0;
  _cleanup_free_ char *text = cni_resolv_conf(AT_FDCWD);
  return text ? stage1_write_etc_file(root, "resolv.conf", text, a->userns_shift, err) : 0;
}

static pid_t nspawn_pid;
static volatile sig_atomic_t init_pid; /* once the pod is ready */

/* SIGTERM, SIGINT and SIGHUP go to the pod init (which passes them on to
 * the apps) once it is known, else to nspawn. Not to nspawn once the pod
 * runs: nspawn often gets the same signal directly (a terminal's ^C reaches
 * the whole process group, `systemctl stop` the whole cgroup), and a second
 * SIGTERM or SIGINT makes it kill the pod at once, the apps unasked. */
static void forward(int sig)
{
  pid_t to = init_pid > 0 ? (pid_t) init_pid : nspawn_pid;
  nspawn_sd_stopping();
  if (to > 0)
    kill(to, sig);
}

/* Once the pod init is ready, its pid is the one child of systemd-nspawn:
 * that goes into `pid`, so that enter and stop never reach a pod half set
 * up (before that, nspawn's own helper is its child). If nspawn exits
 * first, *status is its wait status; else -1. */
static int record_init_pid(int *status, podrun_error_t *err)
{
  *status = -1;
  int r = stage1_wait_ready(NSPAWN_RUNTIME, nspawn_pid, status, err);
  if (r <= 0)
    return r;
  pid_t pid = proc_first_child(nspawn_pid);
  if (pid <= 0)
    return 0; /* the pod ended meanwhile */
  _cleanup_free_ char *text = xasprintf("%d\n", (int) pid);
  if (fs_write_file_atomic_at(AT_FDCWD, "pid", text, strlen(text), 0644, err) < 0)
    return -1;
  init_pid = pid;
  return 0;
}

/* The pod's exit code once nspawn has exited, from the init's records, never
 * from nspawn's exit status (nspawn takes an init's 133 for a reboot request
 * and reports an init killed by a signal as 1). An app the init did not
 * record because it was killed (a SIGKILL of the init, as stop --force sends,
 * or of nspawn) died with SIGKILL: the kernel ends a pid namespace whose init
 * is gone that way. run records 137 for it, so status shows it. A pod whose
 * init never became ready ran no app as asked: that is podrun's failure,
 * 254, as the init or nspawn said why. */
static int pod_exit_code(const struct appc_pod_manifest *m, int nspawn_status, int *ret_exit, podrun_error_t *err)
{
  if (access(NSPAWN_RUNTIME "/" STAGE1_READY, F_OK) == 0)
    return stage1_pod_exit_code(m, NSPAWN_RUNTIME, ret_exit, err);
  if (WIFEXITED(nspawn_status) && WEXITSTATUS(nspawn_status) == PODRUN_EXIT_ERROR)
    {
      *ret_exit = PODRUN_EXIT_ERROR; /* the init's own error, which it logged */
      return 0;
    }
  if (WIFEXITED(nspawn_status))
    return podrun_error_new(err, 0, "systemd-nspawn exited with %d before the pod's apps started",
                            WEXITSTATUS(nspawn_status));
  return podrun_error_new(err, 0, "systemd-nspawn was killed by signal %d before the pod's apps started",
                          WTERMSIG(nspawn_status));
}

/* In the child: systemd-nspawn, which dies with this process (and, if it
 * died before the parent-death signal was set, does not start at all), and
 * passes the lifeline on to the pod init as fd 3 (socket activation's
 * LISTEN_FDS, the one way to hand nspawn's payload an fd). */
static _noreturn_ void exec_nspawn(const char *nspawn, char **args, pid_t parent, int lifeline, bool api_vfs_writable,
                                    int netns)
{
  (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* the pod never outlives its lock holder */
  if (getppid() != parent)
    _exit(PODRUN_EXIT_ERROR);
  /* The pod's netns (a CNI network's, or the one it joins): nspawn runs in it
   * from the start, as on the host's network, and never gets
   * --network-namespace-path. With that flag, nspawn (252) mounts the pod's
   * /sys before it joins the netns, in its outer child, still on the host's
   * network: sysfs shows the net devices of the netns of whoever mounted it,
   * so the pod's /sys/class/net would list the host's interfaces (names,
   * MACs, statistics). Only --private-network makes nspawn mount sysfs after
   * the netns is its own. Run in the netns, nspawn mounts /sys there. (And a
   * pod with its own user namespace could not join that netns from inside
   * it, which has no right to one the host's owns: "Failed to join network
   * namespace".) */
  if (netns >= 0 && setns(netns, CLONE_NEWNET) < 0)
    {
      log_error("join the pod's network namespace: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  _cleanup_free_ char *pid = xasprintf("%d", (int) getpid()), *n_fds = NULL;
  int n = -1;
  if ((lifeline == STAGE1_LIFELINE_FD ? fcntl(lifeline, F_SETFD, 0) : dup2(lifeline, STAGE1_LIFELINE_FD)) < 0 ||
      (n = nspawn_sd_child_fds()) < 0 || !(n_fds = xasprintf("%d", n)) || setenv("LISTEN_FDS", n_fds, 1) < 0 ||
      setenv("LISTEN_PID", pid, 1) < 0 || unsetenv("LISTEN_FDNAMES") < 0)
    {
      log_error("pass the pod init its lifeline: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  /* no filter of nspawn's own: the apps' (and enter's) is stage2's alone,
   * so enter can give a command exactly the app's */
  setenv("SYSTEMD_SECCOMP", "0", 1);
  /* --insecure-options=paths: nspawn's /sys and /proc/sys writable too (rkt did so) */
  if (api_vfs_writable)
    setenv("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "yes", 1);
  execv(nspawn, args);
  log_error("exec %s: %s", QUOTE(nspawn), strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

int nspawn_run(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_strv_ char **args = NULL;
  _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
  const char *nspawn = find_nspawn();
  char cwd[4096];
  int status = -1;

  if (stage1_lock_fd(err) < 0)
    return -1;
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "getcwd");
  host_mntns_fd = cni_take_passed_fds();
  if (parse_run_args(argc, argv, &a, err) < 0)
    return -1;
  if (!nspawn)
    return podrun_error_new(err, 0, "systemd-nspawn not found (install the systemd-container package)");
  if (stage1_read_pod("pod", &m, err) < 0 || nspawn_sd_setup(a.uuid, m, have_system_bus(), err) < 0 ||
      write_machine_id(err) < 0)
    return -1;
  if (a.interactive && m->n_apps != 1)
    return podrun_error_new(err, 0, "--interactive gives the terminal to one app; this pod has %zu", m->n_apps);
  /* host volumes are bound here, in the pod's private mount namespace that
   * stage0 made; nspawn takes the whole tree below the stage1 rootfs along */
  _cleanup_free_ char *hostname = a.hostname ? xstrdup(a.hostname) : xasprintf("podrun-%s", a.uuid);
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *root = xasprintf("%s/stage1/rootfs" STAGE1_APPS_DIR "/%s/rootfs", cwd, m->apps[i].name);
      if (volumes_mount_app(m, &m->apps[i], root, a.userns_shift, err) < 0 ||
          nspawn_sd_mount_app(i, root, err) < 0 || stage1_write_app_etc(&a, root, hostname, NULL, err) < 0 ||
          write_cni_resolv_conf(&a, root, err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  if (nspawn_runtime_dir(err) < 0)
    return -1;
  if (fs_mkdir_p(NSPAWN_RUNTIME, 0755, err) < 0 || fs_mkdir_p("logs", 0750, err) < 0)
    return -1;
  /* what the init writes (and reads) in the pod directory is the pod root's */
  static const char *const init_files[] = { NSPAWN_RUNTIME, "logs", "status", "pod" };
  for (size_t i = 0; a.userns_shift && i < ELEMENTSOF(init_files); i++)
    if (chown(init_files[i], a.userns_shift, a.userns_shift) < 0)
      return podrun_error_set(err, errno, "give %s to the pod's user namespace", QUOTE(init_files[i]));
  _cleanup_free_ char *net = xasprintf("%s\n", a.net);
  if (fs_write_file_atomic_at(AT_FDCWD, "net", net, strlen(net), 0644, err) < 0)
    return -1;
  _cleanup_strv_ char **binds = NULL;
  if (nspawn_cgroups_setup(a.uuid, m, a.userns_shift, &binds, err) < 0)
    return -1;
  args = nspawn_argv(nspawn, &a, cwd, binds);
  _cleanup_close_ int netns = -1;
  if (!streq(a.net, "host") && !streq(a.net, "none") &&
      (netns = open(CNI_NETNS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return podrun_error_set(err, errno, "open the pod's " CNI_NETNS_FILE);
  /* the pod init's lifeline (init.c): only this process holds the write
   * end, open until it exits */
  int life[2];
  if (pipe2(life, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "pipe");
  pid_t self = getpid();
  fflush(NULL);
  nspawn_pid = fork();
  if (nspawn_pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (nspawn_pid == 0)
    exec_nspawn(nspawn, args, self, life[0], a.disable_paths, netns);
  close(life[0]);
  if (nspawn_sd_start(err) < 0)
    {
      kill(nspawn_pid, SIGKILL);
      return -1;
    }
  static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
  for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
    signal(sigs[i], forward);
  if (record_init_pid(&status, err) < 0)
    {
      kill(nspawn_pid, SIGKILL);
      nspawn_sd_end();
      return -1;
    }
  if (init_pid > 0)
    nspawn_sd_pod_ready();
  while (status == -1 && waitpid(nspawn_pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait for systemd-nspawn");
  nspawn_sd_end();
  int r = pod_exit_code(m, status, ret_exit, err);
  /* the pod has ended: its networks go (stop and gc delete them again) */
  _cleanup_error_ podrun_error_t net_err = NULL;
  if (!streq(a.net, "host") && !streq(a.net, "none") &&
      cni_pod_teardown(AT_FDCWD, cwd, a.uuid, host_mntns_fd, &net_err) < 0)
    log_warning("%s (gc tries again)", net_err->msg);
  return r;
}
