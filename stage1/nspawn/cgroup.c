/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-app cgroups of an nspawn pod, for the resource isolators. The host
 * side of run makes them and writes the limits; the pod sees the pod's
 * part of each hierarchy at /podrun/cgroup/<name>/ (a bind mount) and the
 * init puts each app in <name>/<app>/ before stage2 runs.
 *   cgroup v2 (/sys/fs/cgroup is cgroup2): <pod's cgroup>/<app>/, beside the
 *     stage1's leaf in the cgroup stage0 made for the pod (lib/cgroup.h), with
 *     memory.max, cpu.max, cpu.weight; bound as /podrun/cgroup/unified.
 *   cgroup v1 (legacy or hybrid): /sys/fs/cgroup/{memory,cpu}/podrun/<uuid>/<app>/,
 *     memory.limit_in_bytes, cpu.cfs_quota_us, cpu.shares; bound as
 *     /podrun/cgroup/memory and /podrun/cgroup/cpu. */
#include "nspawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup.h"
#include "fs.h"
#include "resources.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000

static bool cgroup_v2(void)
{
  struct statfs st;
  return statfs(CGROUP_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int write_text(const char *dir, const char *file, const char *text, podrun_error_t *err)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0)
    return podrun_error_set(err, errno, "write \"%s\" to \"%s\"", text, path);
  return 0;
}

/* The pod's directory in hierarchy `h` ("memory", "cpu" or "" for v2: the
 * pod's own cgroup, as the pod directory, our working directory, records it). */
static char *pod_dir(const char *h, const char *uuid)
{
  if (*h)
    return xasprintf(CGROUP_ROOT "/%s/podrun/%s", h, uuid);
  char *own = cgroup_pod_dir(AT_FDCWD, uuid);
  return own ? own : xasprintf(CGROUP_ROOT "/podrun/%s", uuid);
}

/* cgroup v2: every level from the root down to the pod's cgroup passes the
 * memory and cpu controllers on (the pod's cgroup holds no process itself:
 * stage0 and the stage1 are in its leaf). */
static int enable_controllers(const char *pod, podrun_error_t *err)
{
  _cleanup_free_ char *level = xstrdup(pod);
  for (char *p = level + strlen(CGROUP_ROOT);; p = strchr(p + 1, '/'))
    {
      char c = p ? *p : '\0';
      if (p)
        *p = '\0';
      int r = write_text(level, "cgroup.subtree_control", "+memory +cpu", err);
      if (!p || r < 0)
        return r < 0 ? podrun_error_wrap(err, "enable the memory and cpu controllers") : 0;
      *p = c;
    }
}

static int setup_v2(const char *uuid, const struct appc_pod_manifest *m, const struct app_resources *r,
                    podrun_error_t *err)
{
  _cleanup_free_ char *pod = pod_dir("", uuid);
  if (fs_mkdir_p(pod, 0755, err) < 0 || enable_controllers(pod, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_free_ char *app = xasprintf("%s/%s", pod, m->apps[i].name);
      char v[64];
      if (mkdir(app, 0755) < 0 && errno != EEXIST)
        return podrun_error_set(err, errno, "mkdir \"%s\"", app);
      if (r[i].memory_bytes && (snprintf(v, sizeof(v), "%llu", (unsigned long long) r[i].memory_bytes),
                                write_text(app, "memory.max", v, err) < 0))
        return -1;
      if (r[i].cpu_millicores &&
          (snprintf(v, sizeof(v), "%llu %d", (unsigned long long) r[i].cpu_millicores * CPU_PERIOD_US / 1000,
                    CPU_PERIOD_US),
           write_text(app, "cpu.max", v, err) < 0))
        return -1;
      /* cpu.shares 2…262144 onto cpu.weight 1…10000, as systemd maps them */
      if (r[i].cpu_shares && (snprintf(v, sizeof(v), "%llu", (unsigned long long) (1 + (r[i].cpu_shares - 2) * 9999 / 262142)),
                              write_text(app, "cpu.weight", v, err) < 0))
        return -1;
    }
  return 0;
}

static int setup_v1(const char *uuid, const struct appc_pod_manifest *m, const struct app_resources *r,
                    podrun_error_t *err)
{
  static const char *const hierarchies[] = { "memory", "cpu" };
  for (size_t h = 0; h < ELEMENTSOF(hierarchies); h++)
    {
      _cleanup_free_ char *pod = pod_dir(hierarchies[h], uuid);
      if (fs_mkdir_p(pod, 0755, err) < 0)
        return -1;
      for (size_t i = 0; i < m->n_apps; i++)
        {
          _cleanup_free_ char *app = xasprintf("%s/%s", pod, m->apps[i].name);
          char v[64];
          if (mkdir(app, 0755) < 0 && errno != EEXIST)
            return podrun_error_set(err, errno, "mkdir \"%s\"", app);
          if (h == 0 && r[i].memory_bytes &&
              (snprintf(v, sizeof(v), "%llu", (unsigned long long) r[i].memory_bytes),
               write_text(app, "memory.limit_in_bytes", v, err) < 0))
            return -1;
          if (h == 1 && r[i].cpu_millicores &&
              (snprintf(v, sizeof(v), "%d", CPU_PERIOD_US), write_text(app, "cpu.cfs_period_us", v, err) < 0 ||
               (snprintf(v, sizeof(v), "%llu", (unsigned long long) r[i].cpu_millicores * CPU_PERIOD_US / 1000),
                write_text(app, "cpu.cfs_quota_us", v, err) < 0)))
            return -1;
          if (h == 1 && r[i].cpu_shares && (snprintf(v, sizeof(v), "%llu", (unsigned long long) r[i].cpu_shares),
                                            write_text(app, "cpu.shares", v, err) < 0))
            return -1;
        }
    }
  return 0;
}

/* With a user namespace, the pod's root must be able to move its own
 * processes into each app's cgroup: the app's directory and the files that
 * take pids are the pod root's (the limits stay the host's). */
static int delegate_v1(const char *uuid, const struct appc_pod_manifest *m, uid_t shift, podrun_error_t *err)
{
  static const char *const hierarchies[] = { "memory", "cpu" }, *const files[] = { "", "/cgroup.procs", "/tasks" };
  for (size_t h = 0; h < ELEMENTSOF(hierarchies); h++)
    for (size_t i = 0; i < m->n_apps; i++)
      for (size_t f = 0; f < ELEMENTSOF(files); f++)
        {
          _cleanup_free_ char *pod = pod_dir(hierarchies[h], uuid);
          _cleanup_free_ char *path = xasprintf("%s/%s%s", pod, m->apps[i].name, files[f]);
          if (chown(path, shift, shift) < 0)
            return podrun_error_set(err, errno, "give \"%s\" to the pod's user namespace", path);
        }
  return 0;
}

int nspawn_cgroups_setup(const char *uuid, const struct appc_pod_manifest *m, uid_t shift, char ***binds,
                         podrun_error_t *err)
{
  _cleanup_free_ struct app_resources *r = xzalloc(sizeof(*r) * (m->n_apps + 1));
  bool any = false;

  for (size_t i = 0; i < m->n_apps; i++)
    {
      if (app_resources_from_isolators(m->apps[i].app, &r[i], err) < 0)
        return podrun_error_wrap(err, "app \"%s\"", m->apps[i].name);
      any |= app_resources_any(&r[i]);
    }
  if (!any)
    return 0; /* no cgroup work on the start path of pods that ask for none */
  bool v2 = cgroup_v2();
  if (v2 && shift)
    return podrun_error_new(err, 0, "--private-users with --memory, --cpu or --cpu-shares: not on cgroup v2 yet "
                                    "(the pod's root cannot move its apps into their cgroups)");
  int made = v2 ? setup_v2(uuid, m, r, err) : setup_v1(uuid, m, r, err);
  if (made >= 0 && shift)
    made = delegate_v1(uuid, m, shift, err);
  if (made < 0)
    {
      podrun_error_t ignored = NULL;
      (void) nspawn_cgroups_remove(uuid, &ignored);
      podrun_error_free(&ignored);
      return podrun_error_wrap(err, "cgroups of pod %s", uuid);
    }
  static const char *const v1[] = { "memory", "cpu" };
  for (size_t h = 0; h < (v2 ? 1 : ELEMENTSOF(v1)); h++)
    {
      _cleanup_free_ char *pod = pod_dir(v2 ? "" : v1[h], uuid);
      _cleanup_free_ char *bind = xasprintf("--bind=%s:" STAGE1_CGROUP_DIR "/%s", pod, v2 ? "unified" : v1[h]);
      *binds = strv_push(*binds, bind);
    }
  return 0;
}

/* v1: the pod's directories in the memory and cpu hierarchies, whatever
 * still runs there ended first; v2: the apps' cgroups in the pod's (stage0
 * ends and removes the pod's cgroup itself, the stage1's leaf with it). */
int nspawn_cgroups_remove(const char *uuid, podrun_error_t *err)
{
  static const char *const v1[] = { "memory", "cpu" };
  for (size_t h = 0; h < ELEMENTSOF(v1); h++)
    {
      _cleanup_free_ char *pod = pod_dir(v1[h], uuid);
      if (cgroup_kill(pod, CGROUP_KILL_TIMEOUT_MS, err) < 0 || cgroup_remove(pod, err) < 0)
        return -1;
    }
  if (!cgroup_v2())
    return 0;
  _cleanup_free_ char *pod = pod_dir("", uuid);
  _cleanup_closedir_ DIR *d = opendir(pod);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (de->d_type == DT_DIR && appc_name_is_valid(de->d_name))
      {
        _cleanup_free_ char *app = xasprintf("%s/%s", pod, de->d_name);
        if (cgroup_kill(app, CGROUP_KILL_TIMEOUT_MS, err) < 0 || cgroup_remove(app, err) < 0)
          return -1;
      }
  return 0;
}

/* Inside the pod (the init's cgroup_join hook): this process into the app's
 * cgroup in every hierarchy the pod was given. */
int nspawn_cgroups_join(const char *app, podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir(STAGE1_CGROUP_DIR);
  struct dirent *de;
  if (!d)
    return 0;
  while ((de = readdir(d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *dir = xasprintf(STAGE1_CGROUP_DIR "/%s/%s", de->d_name, app);
      if (access(dir, F_OK) == 0 && write_text(dir, "cgroup.procs", "0", err) < 0)
        return -1;
    }
  return 0;
}

/* Did the kernel's OOM killer kill something in the app's memory cgroup? */
bool nspawn_cgroups_oom_killed(const char *app)
{
  static const char *const files[][2] = { { "memory", "memory.oom_control" }, { "unified", "memory.events" } };
  for (size_t i = 0; i < ELEMENTSOF(files); i++)
    {
      _cleanup_free_ char *path = xasprintf(STAGE1_CGROUP_DIR "/%s/%s/%s", files[i][0], app, files[i][1]);
      _cleanup_free_ char *text = NULL;
      _cleanup_error_ podrun_error_t ignored = NULL;
      const char *p;
      if (fs_read_file_at(AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
        continue;
      if ((p = strstr(text, "oom_kill ")) && strtoull(p + strlen("oom_kill "), NULL, 10) > 0)
        return true;
    }
  return false;
}
