/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pods.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup.h"
#include "fs.h"
#include "json-util.h"
#include "lock.h"
#include "log.h"
#include "net.h"
#include "pod-setup.h"

static int read_small(int dirfd, const char *path, char **ret)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  return fs_read_file_at(dirfd, path, 4096, ret, NULL, &ignored);
}

/* The stage1's own error, from what it wrote to stderr: its last line, less
 * the "podrun-stage1: " its log puts before every line and the name of the
 * entrypoint, which the caller says ("stop: the pod has no pid"). */
static char *stage1_message(char *text, const char *what)
{
  char *end = text + strlen(text);
  while (end > text && (end[-1] == '\n' || end[-1] == ' '))
    *--end = '\0';
  char *line = strrchr(text, '\n');
  line = line ? line + 1 : text;
  const char *own = startswith(line, "podrun-stage1: ") ?: line, *after = startswith(own, what);
  return xstrdup(after && startswith(after, ": ") ? after + 2 : own);
}

/* Reads fd until the end or until the process behind pidfd is gone (what
 * it left running may hold the pipe open), keeping the last `cap` bytes. */
static char *read_until_exit(int fd, int pidfd, size_t cap)
{
  char *buf = xzalloc(cap + 1), chunk[1024];
  size_t len = 0;
  bool exited = false;
  for (;;)
    {
      struct pollfd fds[] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      if (!exited && poll(fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      exited = exited || (fds[1].revents & POLLIN);
      if (exited)
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
      ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      size_t k = (size_t) n, drop = len + k > cap ? len + k - cap : 0; /* k < cap */
      memmove(buf, buf + drop, len - drop);
      len -= drop;
      memcpy(buf + len, chunk, k);
      len += k;
    }
  buf[len] = '\0';
  return buf;
}

int pod_run_entrypoint(struct pod *p, const char *what, char **argv, podrun_error_t *err)
{
  _cleanup_close_ int rd = -1, wr = -1, pidfd = -1;
  int fds[2], status;

  if (pipe2(fds, O_CLOEXEC) < 0)
    return podrun_error_set(err, errno, "stage1 %s: pipe", what);
  rd = fds[0];
  wr = fds[1];
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "stage1 %s: fork", what);
  if (pid == 0)
    {
      if (fchdir(p->dirfd) < 0 || dup2(wr, STDERR_FILENO) < 0)
        _exit(PODRUN_EXIT_ERROR);
      execv(argv[0], argv);
      dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  close(TAKE_FD(wr));
  pidfd = pidfd_open(pid, 0);
  _cleanup_free_ char *text = read_until_exit(rd, pidfd, 4096);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "stage1 %s: wait", what);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    {
      fputs(text, stderr); /* its warnings, as they were */
      return 0;
    }
  _cleanup_free_ char *msg = stage1_message(text, what);
  if (*msg)
    return podrun_error_new(err, 0, "stage1 %s: %s", what, msg);
  if (WIFEXITED(status))
    return podrun_error_new(err, 0, "stage1 %s exited with %d", what, WEXITSTATUS(status));
  return podrun_error_new(err, 0, "stage1 %s was killed by signal %d", what, WTERMSIG(status));
}

/* Runs the gc entrypoint of the pod's stage1 from the store's render, in the pod dir. */
static int run_stage1_gc(struct store *s, struct pod *p, podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL, *gc = NULL;

  if (read_small(p->dirfd, "stage1/image-id", &id) < 0)
    return 0; /* never got as far as having a stage1 */
  if (stage1_entrypoint(s, id, "gc", &gc, err) < 0)
    return -1;
  char *argv[] = { gc, p->uuid, NULL };
  return pod_run_entrypoint(p, "gc", argv, err);
}

/* Detaches, deepest first, whatever is mounted at or below path (a stage1
 * that mounted in the host's namespace, or a crash between mount and exec). */
static int unmount_below(const char *path, podrun_error_t *err)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
  _cleanup_strv_ char **targets = NULL;
  char line[8192];
  size_t plen = strlen(path);

  if (!f)
    return podrun_error_set(err, errno, "read /proc/self/mountinfo");
  while (fgets(line, sizeof(line), f))
    {
      char target[4096];
      if (sscanf(line, "%*s %*s %*s %*s %4095s", target) == 1 && strncmp(target, path, plen) == 0 &&
          (target[plen] == '/' || target[plen] == '\0'))
        targets = strv_push(targets, target);
    }
  for (size_t n = strv_length(targets); n > 0; n--)
    if (umount2(targets[n - 1], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
      return podrun_error_set(err, errno, "unmount \"%s\"", targets[n - 1]);
  return 0;
}

/* The cgroups where a pod's processes can be: its own (the one it records,
 * and the default place), the scope machined moved its leader into on a
 * systemd host, and their mirrors in name=systemd on a hybrid host. *n_own:
 * how many are podrun's to remove (machined's scope is systemd's). */
static char **pod_cgroups(struct pod *p, size_t *n_own)
{
  struct cgroup_hierarchy h;
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *dir = cgroup_pod_dir(p->dirfd, p->uuid), *def = NULL, *scope = NULL;
  char **v = NULL;
  *n_own = 0;
  if (!dir || cgroup_tracking(&h, &ignored) < 0)
    return NULL; /* no cgroups on this host: none to end */
  def = xasprintf("%s/podrun/%s", h.mount, p->uuid);
  const char *own[] = { dir, streq(dir, def) ? NULL : def };
  for (size_t i = 0; i < ELEMENTSOF(own); i++)
    {
      _cleanup_free_ char *mirror = own[i] ? cgroup_systemd_mirror(&h, own[i]) : NULL;
      if (own[i])
        v = strv_push(v, own[i]);
      if (mirror)
        v = strv_push(v, mirror);
    }
  *n_own = strv_length(v);
  if ((scope = cgroup_machine_scope(&h, p->uuid)))
    v = strv_push(v, scope);
  return v;
}

/* "…; the pod is kept": nothing of it was removed. */
static int kept(podrun_error_t *err)
{
  podrun_error_t e = TAKE_PTR(*err);
  podrun_error_new(err, e->status, "%s; the pod is kept", e->msg);
  podrun_error_free(&e);
  return -1;
}

/* A pod directory goes only once nothing of the pod runs: its cgroups are
 * killed and emptied first, or the pod stays for the next gc. */
static int pod_end_processes(char **cgroups, podrun_error_t *err)
{
  for (size_t i = 0; cgroups && cgroups[i]; i++)
    if (cgroup_kill(cgroups[i], CGROUP_KILL_TIMEOUT_MS, err) < 0)
      return kept(err);
  return 0;
}

static int pod_remove_cgroups(char **cgroups, size_t n_own, podrun_error_t *err)
{
  for (size_t i = 0; i < n_own; i++)
    if (cgroup_remove(cgroups[i], err) < 0)
      return kept(err);
  return 0;
}

int pod_kill(struct pod *p, podrun_error_t *err)
{
  size_t n_own = 0;
  _cleanup_strv_ char **cgroups = pod_cgroups(p, &n_own);
  for (size_t i = 0; cgroups && cgroups[i]; i++)
    if (cgroup_kill(cgroups[i], CGROUP_KILL_TIMEOUT_MS, err) < 0)
      return podrun_error_wrap(err, "pod %s", p->uuid);
  return 0;
}

/* Someone holds the pod's lock (a probe, released at once). */
static bool held(struct pod *p)
{
  _cleanup_error_ podrun_error_t e = NULL;
  if (lock_fd(p->dirfd, LOCK_MODE_SHARED, true, &e) == 0)
    {
      (void) flock(p->dirfd, LOCK_UN);
      return false;
    }
  return e->status == EWOULDBLOCK;
}

bool pod_is_starting(struct pod *p)
{
  switch (p->state)
    {
    case POD_EMBRYO:
    case POD_PREPARED:
      return held(p);
    case POD_PREPARING: /* locked: its preparer lives */
      return true;
    case POD_RUNNING:
      return pod_read_pid(p->dirfd) <= 0;
    default:
      return false;
    }
}

int pod_wait_started(struct pod **p, podrun_error_t *err)
{
  int64_t deadline = store_now_usec() + POD_START_WAIT_USEC;
  char uuid[UUID_STRING_LEN + 1];
  _cleanup_free_ char *pods = xstrdup((*p)->pods_dir);

  snprintf(uuid, sizeof(uuid), "%s", (*p)->uuid);
  while (pod_is_starting(*p))
    {
      if (store_now_usec() >= deadline)
        return 1;
      nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
      pod_free(TAKE_PTR(*p));
      if (pod_load(pods, uuid, p, err) < 0)
        return -1;
    }
  return 0;
}

int pod_destroy(struct store *s, struct pod *p, podrun_error_t *err)
{
  size_t n_own = 0;
  _cleanup_strv_ char **cgroups = pod_cgroups(p, &n_own);
  /* the networks before the mounts: their DEL needs the netns */
  if (pod_end_processes(cgroups, err) < 0 || run_stage1_gc(s, p, err) < 0 || net_pod_teardown(p, err) < 0 ||
      unmount_below(p->path, err) < 0 ||
      pod_remove_cgroups(cgroups, n_own, err) < 0 || fs_rm_rf_at(AT_FDCWD, p->path, err) < 0)
    return podrun_error_wrap(err, "remove pod %s", p->uuid);
  return 0;
}

int pods_load_args(int argc, char **argv, const char *uuid_file, struct pod ***ret, size_t *ret_n,
                   podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir(), *from_file = NULL;
  struct pod **v = xzalloc(sizeof(*v) * (size_t) (argc + 2));
  size_t n = 0;

  if (uuid_file)
    {
      if (fs_read_file_at(AT_FDCWD, uuid_file, 4096, &from_file, NULL, err) < 0)
        goto fail;
      from_file[strcspn(from_file, "\n")] = '\0';
      if (pod_load(pods, from_file, &v[n], err) < 0)
        goto fail;
      n++;
    }
  for (int i = 0; i < argc; i++, n++)
    if (pod_load(pods, argv[i], &v[n], err) < 0)
      goto fail;
  if (n == 0)
    {
      podrun_error_set(err, 0, "no pod given (a UUID, or --uuid-file)");
      goto fail;
    }
  *ret = v;
  *ret_n = n;
  return 0;
fail:
  pod_list_free(v, n);
  return -1;
}

static void add_use(struct pod *p, const char *id_path, char ***ids, char ***uuids)
{
  _cleanup_free_ char *id = NULL;
  if (read_small(p->dirfd, id_path, &id) < 0)
    return;
  id[strcspn(id, "\n")] = '\0';
  *ids = strv_push(*ids, id);
  *uuids = strv_push(*uuids, p->uuid);
}

int pods_images_in_use(char ***ret_ids, char ***ret_uuids, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  char **ids = NULL, **uuids = NULL;
  struct pod **v = NULL;
  size_t n = 0;

  if (access(pods, F_OK) == 0 && pod_list(pods, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      int fd = openat(v[i]->dirfd, "apps", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
      struct dirent *de;
      if (fd >= 0 && !d)
        close(fd);
      add_use(v[i], "stage1/image-id", &ids, &uuids);
      while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
          {
            _cleanup_free_ char *path = xasprintf("apps/%s/image-id", de->d_name);
            add_use(v[i], path, &ids, &uuids);
          }
    }
  pod_list_free(v, n);
  *ret_ids = ids;
  *ret_uuids = uuids;
  return 0;
}

int pods_load_one(int argc, char **argv, const char *uuid_file, struct pod **ret, podrun_error_t *err)
{
  struct pod **v = NULL;
  size_t n = 0;
  if (pods_load_args(argc, argv, uuid_file, &v, &n, err) < 0)
    return -1;
  if (n != 1)
    {
      pod_list_free(v, n);
      return podrun_error_new(err, 0, "give exactly one pod");
    }
  *ret = v[0];
  free(v);
  return 0;
}

int pod_pick_app(struct pod *p, const char *app, char **ret, podrun_error_t *err)
{
  struct inspect_pod i;
  bool found = false;
  int r = 0;
  if (inspect_pod_read(p, &i, err) < 0)
    return -1;
  for (size_t a = 0; app && a < i.n_apps; a++)
    found |= streq(i.apps[a].name, app);
  if (app && !found)
    r = podrun_error_new(err, 0, "pod %s has no app %s", p->uuid, QUOTE(app));
  else if (!app && i.n_apps != 1)
    r = podrun_error_new(err, 0, "pod %s has %zu apps; choose one with --app", p->uuid, i.n_apps);
  else
    *ret = xstrdup(app ? app : i.apps[0].name);
  inspect_pod_done(&i);
  return r;
}
