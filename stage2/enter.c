/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enter's host side: a command run exactly as a running app runs. Everything
 * is taken from the host before anything of the pod's is used: the pod
 * manifest from the pod directory, the app's cgroups, namespaces, identity
 * and capability bound from the kernel's view of its process. The command
 * is the first thing of the pod's that is executed, from inside the app's
 * root and with no more than the app's privileges. */
#include "stage2-internal.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fs.h"
#include "log.h"
#include "pod.h"

#define PROC_FILE_MAX (64 * 1024)

static int read_proc(pid_t pid, const char *file, char **ret, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int) pid, file);
  return fs_read_file_at(AT_FDCWD, path, PROC_FILE_MAX, ret, NULL, err);
}

/* The mount point of the cgroup hierarchy a /proc/<pid>/cgroup line names
 * (controllers "": cgroup2; else every controller or name= of the line is
 * among the mount's options), and its root, from our mountinfo. */
static int cgroup_mount(const char *controllers, char **ret_mnt, char **ret_root, podrun_error_t *err)
{
  _cleanup_free_ char *info = NULL;
  char *save = NULL;
  if (fs_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &info, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
      char root[4096], mnt[4096], type[64], opts[1024];
      const char *dash = strstr(line, " - ");
      if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
          sscanf(dash, " - %63s %*s %1023s", type, opts) != 2)
        continue;
      bool match = *controllers ? streq(type, "cgroup") : streq(type, "cgroup2");
      _cleanup_free_ char *want = xstrdup(controllers), *have = xasprintf(",%s,", opts);
      char *s2 = NULL;
      for (char *c = strtok_r(want, ",", &s2); c && match; c = strtok_r(NULL, ",", &s2))
        {
          _cleanup_free_ char *needle = xasprintf(",%s,", c);
          match = strstr(have, needle) != NULL;
        }
      if (match)
        {
          *ret_mnt = xstrdup(mnt);
          *ret_root = xstrdup(root);
          return 1;
        }
    }
  return 0;
}

/* This process into every cgroup the target is in, in each hierarchy the
 * host has mounted (its pod cgroup, and its app's resource cgroups). */
static int join_cgroups(pid_t target, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  char *save = NULL;
  if (read_proc(target, "cgroup", &text, err) < 0)
    return podrun_error_wrap(err, "the app's cgroups");
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
      char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
      _cleanup_free_ char *mnt = NULL, *root = NULL;
      if (!c2)
        continue;
      *c2 = '\0';
      const char *path = c2 + 1;
      int r = cgroup_mount(c1 + 1, &mnt, &root, err);
      if (r < 0)
        return -1;
      if (r == 0)
        continue; /* a hierarchy the host has not mounted: everyone is in its root */
      if (!streq(root, "/") && startswith(path, root))
        path += strlen(root);
      _cleanup_free_ char *procs = xasprintf("%s%s/cgroup.procs", mnt, path);
      _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0\n", 2) != 2)
        return podrun_error_set(err, errno, "join the app's cgroup \"%s\"", procs);
    }
  return 0;
}

static const struct
{
  const char *name;
  int type;
} namespaces[] = {
  { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS },   { "net", CLONE_NEWNET },       { "pid", CLONE_NEWPID },
  { "mnt", CLONE_NEWNS },
};
#define N_NAMESPACES ELEMENTSOF(namespaces)

/* Opens every namespace of the target that is not already ours (-1 there). */
static int open_namespaces(pid_t target, int fds[N_NAMESPACES], podrun_error_t *err)
{
  for (size_t i = 0; i < N_NAMESPACES; i++)
    {
      _cleanup_free_ char *p = xasprintf("/proc/%d/ns/%s", (int) target, namespaces[i].name);
      _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", namespaces[i].name);
      struct stat theirs, ours;
      fds[i] = open(p, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0 || fstat(fds[i], &theirs) < 0)
        return podrun_error_set(err, errno, "the app's %s namespace", namespaces[i].name);
      if (stat(self, &ours) == 0 && ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev)
        {
          close(fds[i]);
          fds[i] = -1;
        }
    }
  return 0;
}

static int join_namespace(int *fd, size_t i, podrun_error_t *err)
{
  if (*fd < 0)
    return 0;
  int r = setns(*fd, namespaces[i].type);
  close(*fd);
  *fd = -1;
  if (r < 0)
    return podrun_error_set(err, errno, "join the app's %s namespace", namespaces[i].name);
  /* the pod's root, never the host's unmapped one; no more from here on */
  if (namespaces[i].type == CLONE_NEWUSER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    return podrun_error_set(err, errno, "become the root of the pod's user namespace");
  return 0;
}

static int parse_ids(const char *text, unsigned long *ret, size_t max, size_t *ret_n)
{
  size_t n = 0;
  for (const char *s = text; s && *s;)
    {
      char *end;
      s += strspn(s, " \t");
      if (!*s)
        break;
      errno = 0;
      unsigned long v = strtoul(s, &end, 10);
      if (errno || end == s || n == max)
        return -1;
      ret[n++] = v;
      s = end;
    }
  *ret_n = n;
  return 0;
}

/* The app's identity and limits as the kernel has them, read once we are in
 * its user namespace (ids read through /proc are mapped into the reader's). */
static int take_app_limits(struct stage2_plan *p, pid_t target, podrun_error_t *err)
{
  _cleanup_free_ char *status = NULL, *uid = NULL, *gid = NULL, *groups = NULL, *bnd = NULL, *nnp = NULL;
  _cleanup_free_ unsigned long *gs = NULL;
  unsigned long u[4], g[4];
  size_t nu = 0, ng = 0, ngs = 0, max_groups;

  if (read_proc(target, "status", &status, err) < 0)
    return podrun_error_wrap(err, "the app's process");
  uid = proc_status_field(status, "Uid");
  gid = proc_status_field(status, "Gid");
  groups = proc_status_field(status, "Groups");
  bnd = proc_status_field(status, "CapBnd");
  nnp = proc_status_field(status, "NoNewPrivs");
  max_groups = groups ? strlen(groups) / 2 + 1 : 1;
  gs = xzalloc(sizeof(*gs) * max_groups);
  if (!uid || !gid || !bnd || !nnp || parse_ids(uid, u, 4, &nu) < 0 || nu < 1 || parse_ids(gid, g, 4, &ng) < 0 ||
      ng < 1 || parse_ids(groups, gs, max_groups, &ngs) < 0)
    return podrun_error_new(err, 0, "the app's process: cannot read its identity");
  p->identity_given = true;
  p->uid = (uid_t) u[0];
  p->gid = (gid_t) g[0];
  p->groups = xzalloc(sizeof(gid_t) * (ngs + 1));
  for (size_t i = 0; i < ngs; i++)
    p->groups[i] = (gid_t) gs[i];
  p->n_groups = ngs;
  p->config.caps &= strtoull(bnd, NULL, 16);
  p->config.no_new_privs |= streq(nnp, "1");
  return 0;
}

/* In the helper: the app's cgroups (on the host), then its namespaces, its
 * identity; then a child in its pid namespace joins its mount namespace
 * (whose root is the app's root) and becomes the command. */
static _noreturn_ void helper(struct stage2_plan *p, pid_t target)
{
  _cleanup_error_ podrun_error_t e = NULL;
  int fds[N_NAMESPACES], code = PODRUN_EXIT_ERROR, status;
  for (size_t i = 0; i < N_NAMESPACES; i++)
    fds[i] = -1;

  if (join_cgroups(target, &e) < 0 || open_namespaces(target, fds, &e) < 0)
    goto out;
  for (size_t i = 0; i + 1 < N_NAMESPACES; i++) /* every one but mnt */
    if (join_namespace(&fds[i], i, &e) < 0)
      goto out;
  if (take_app_limits(p, target, &e) < 0)
    goto out;
  pid_t child = fork();
  if (child < 0)
    {
      podrun_error_set(&e, errno, "fork");
      goto out;
    }
  if (child == 0)
    {
      int r = join_namespace(&fds[N_NAMESPACES - 1], N_NAMESPACES - 1, &e);
      if (r == 0)
        r = stage2_plan_exec(p, NULL, &e);
      log_error("%s", e->msg);
      _exit(stage2_exit_code(r, e));
    }
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      {
        podrun_error_set(&e, errno, "wait");
        goto out;
      }
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
  if (e)
    log_error("%s", e->msg);
  _exit(code);
}

int stage2_enter(const struct stage2_args *a, pid_t target, int *ret_exit, podrun_error_t *err)
{
  struct stage2_plan p;
  int status;

  if (!a->cmd)
    return podrun_error_new(err, 0, "enter: no command");
  if (stage2_plan_make(a, &p, err) < 0)
    return -1;
  /* A helper joins the namespaces and forks the command into the pod's pid
   * namespace; this process keeps its own (one whose children's pid
   * namespace is another cannot make threads, and LeakSanitizer's exit
   * check needs one). */
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    helper(&p, target);
  stage2_plan_done(&p);
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait");
  *ret_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
