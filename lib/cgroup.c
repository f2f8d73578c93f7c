/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod's cgroup: made by stage0, ended by gc (cgroup.h). */
#include "cgroup.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "fs.h"
#include "log.h"
#include "uuid.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool is_fs(const char *path, long magic)
{
  struct statfs st;
  return statfs(path, &st) == 0 && st.f_type == magic;
}

int cgroup_tracking(struct cgroup_hierarchy *ret, podrun_error_t *err)
{
  static const struct cgroup_hierarchy candidates[] = {
    { CGROUP_ROOT, true },
    { CGROUP_ROOT "/unified", true },
    { CGROUP_ROOT "/freezer", false },
  };
  for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
    if (is_fs(candidates[i].mount, candidates[i].v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
      {
        *ret = candidates[i];
        return 0;
      }
  return podrun_error_new(err, ENOENT, "no cgroup hierarchy to hold the pod's processes (cgroup2, or the v1 "
                                       "freezer, under " CGROUP_ROOT ")");
}

/* Does the controllers field of a /proc/<pid>/cgroup line (n bytes at list)
 * name key? "" is cgroup2's empty field. */
static bool names_hierarchy(const char *list, size_t n, const char *key)
{
  size_t k = strlen(key);
  if (k == 0)
    return n == 0;
  for (const char *p = list, *end = list + n;;)
    {
      const char *comma = memchr(p, ',', (size_t) (end - p));
      size_t len = comma ? (size_t) (comma - p) : (size_t) (end - p);
      if (len == k && strncmp(p, key, k) == 0)
        return true;
      if (!comma)
        return false;
      p = comma + 1;
    }
}

int cgroup_of_pid(pid_t pid, const char *key, char **ret, podrun_error_t *err)
{
  _cleanup_free_ char *path = pid ? xasprintf("/proc/%d/cgroup", (int) pid) : xstrdup("/proc/self/cgroup");
  _cleanup_free_ char *text = NULL;
  char *save = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 64 * 1024, &text, NULL, err) < 0)
    return -1;
  /* "ID:CONTROLLERS:PATH", the path last (it may hold ':') */
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
      char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
      if (p && p[1] == '/' && names_hierarchy(c + 1, (size_t) (p - c - 1), key))
        {
          *ret = xstrdup(p + 1);
          return 0;
        }
    }
  return podrun_error_new(err, ENOENT, "%s: no %s hierarchy", path, *key ? key : "cgroup2");
}

/* Cuts a pod cgroup that stage0 made off the end of a path:
 * "/a.service/podrun/<uuid>/_stage1" is "/a.service". */
static void strip_pod_cgroup(char *path)
{
  char *cut = NULL;
  for (char *p = path; (p = strstr(p, "/podrun/")); p++)
    {
      char uuid[UUID_STRING_LEN + 1];
      snprintf(uuid, sizeof(uuid), "%s", p + strlen("/podrun/"));
      char after = p[strlen("/podrun/") + strnlen(uuid, UUID_STRING_LEN)];
      if (uuid_is_valid(uuid) && (after == '/' || after == '\0'))
        cut = p;
    }
  if (cut)
    *cut = '\0';
}

bool cgroup_in_service(void)
{
  _cleanup_free_ char *path = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (cgroup_of_pid(0, "name=systemd", &path, &ignored) < 0)
    {
      podrun_error_free(&ignored);
      if (cgroup_of_pid(0, "", &path, &ignored) < 0)
        return false;
    }
  strip_pod_cgroup(path);
  return endswith(path, ".service");
}

/* <mount><parent>/podrun/<uuid>: below the service podrun runs in, if any. */
static char *pod_dir_new(const struct cgroup_hierarchy *h, const char *uuid)
{
  _cleanup_free_ char *parent = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (cgroup_in_service() && cgroup_of_pid(0, h->v2 ? "" : "freezer", &parent, &ignored) == 0)
    {
      strip_pod_cgroup(parent);
      if (streq(parent, "/"))
        *parent = '\0';
    }
  return xasprintf("%s%s/podrun/%s", h->mount, parent ? parent : "", uuid);
}

int cgroup_join(const char *dir, podrun_error_t *err)
{
  _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
  _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "0", 1) != 1)
    return podrun_error_set(err, errno, "move into cgroup \"%s\"", dir);
  return 0;
}

int cgroup_pod_enter(int dirfd, const char *uuid, podrun_error_t *err)
{
  struct cgroup_hierarchy h;
  if (cgroup_tracking(&h, err) < 0)
    return -1;
  _cleanup_free_ char *dir = pod_dir_new(&h, uuid), *line = xasprintf("%s\n", dir);
  _cleanup_free_ char *leaf = xasprintf("%s/" CGROUP_STAGE1_LEAF, dir);
  /* recorded first: a cgroup that exists is one that gc finds */
  if (fs_write_file_atomic_at(dirfd, CGROUP_RECORD, line, strlen(line), 0644, err) < 0)
    return -1;
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST && fs_mkdir_p(dir, 0755, err) < 0) ||
      (mkdir(leaf, 0755) < 0 && errno != EEXIST))
    return *err ? -1 : podrun_error_set(err, errno, "make cgroup \"%s\"", leaf);
  return cgroup_join(leaf, err);
}

bool cgroup_pod_dir_valid(const struct cgroup_hierarchy *h, const char *dir, const char *uuid)
{
  const char *rel = startswith(dir, h->mount), *prev = NULL, *last = NULL;
  size_t n_prev = 0, n_last = 0;
  if (!rel || *rel != '/' || strlen(dir) >= PATH_MAX || strchr(dir, '\n'))
    return false;
  for (const char *c = rel + 1;;)
    {
      size_t n = strcspn(c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return false;
      prev = last, n_prev = n_last, last = c, n_last = n;
      if (!c[n])
        break;
      c += n + 1;
    }
  return prev && n_prev == strlen("podrun") && strncmp(prev, "podrun", n_prev) == 0 && streq(last, uuid);
}

char *cgroup_pod_dir(int dirfd, const char *uuid)
{
  struct cgroup_hierarchy h;
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *text = NULL;
  if (cgroup_tracking(&h, &ignored) < 0)
    return NULL;
  podrun_error_free(&ignored);
  if (fs_read_file_at(dirfd, CGROUP_RECORD, 4096, &text, NULL, &ignored) == 0)
    {
      text[strcspn(text, "\n")] = '\0';
      if (cgroup_pod_dir_valid(&h, text, uuid))
        return TAKE_PTR(text);
      log_debug("pod %s: ignoring its cgroup record \"%s\": not a cgroup of the pod", uuid, text);
    }
  return xasprintf("%s/podrun/%s", h.mount, uuid);
}

char *cgroup_machine_scope(const struct cgroup_hierarchy *h, const char *uuid)
{
  if (!h->v2)
    return NULL;
  /* systemd's unit name escaping of "podrun-<uuid>": '-' is \x2d */
  char escaped[8 * 4 + UUID_STRING_LEN * 4 + 1], *e = escaped;
  _cleanup_free_ char *name = xasprintf("podrun-%s", uuid);
  for (const char *p = name; *p; p++)
    e = *p == '-' ? stpcpy(e, "\\x2d") : (*e++ = *p, e);
  *e = '\0';
  return xasprintf("%s/machine.slice/machine-%s.scope", h->mount, escaped);
}

char *cgroup_systemd_mirror(const struct cgroup_hierarchy *h, const char *dir)
{
  const char *rel = startswith(dir, h->mount);
  if (!rel || !streq(h->mount, CGROUP_ROOT "/unified") || !is_fs(CGROUP_ROOT "/systemd", CGROUP_SUPER_MAGIC))
    return NULL;
  return xasprintf(CGROUP_ROOT "/systemd%s", rel);
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *dir, const char *file, const char *text)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  return fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text) ? 0 : -1;
}

static char *read_file(const char *dir, const char *file)
{
  _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
  _cleanup_error_ podrun_error_t ignored = NULL;
  char *text = NULL;
  return fs_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &ignored) < 0 ? NULL : text;
}

/* cgroup2: does anything live in dir or below? (cgroup.events "populated 1") */
static bool populated_v2(const char *dir)
{
  _cleanup_free_ char *events = read_file(dir, "cgroup.events");
  return events && strstr(events, "populated 1");
}

/* SIGKILLs every process of dir and below; returns how many it found. */
static size_t signal_tree(const char *dir)
{
  _cleanup_free_ char *procs = read_file(dir, "cgroup.procs");
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *de;
  size_t n = 0;
  for (char *p = procs, *end; p && *p; p = end)
    {
      long pid = strtol(p, &end, 10);
      if (end == p)
        break;
      if (pid > 0 && pid != getpid())
        {
          (void) kill((pid_t) pid, SIGKILL);
          n++;
        }
    }
  while (d && (de = readdir(d)))
    if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
      {
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
        n += signal_tree(sub);
      }
  return n;
}

/* One round of SIGKILL over the tree; a v1 freezer cgroup is frozen meanwhile
 * (nothing forks, no pid is reused), and thawed so that the signals land. */
static size_t kill_round(const char *dir, bool freezer)
{
  if (freezer && write_file(dir, "freezer.state", "FROZEN") == 0)
    for (int i = 0; i < 100; i++)
      {
        _cleanup_free_ char *state = read_file(dir, "freezer.state");
        if (!state || startswith(state, "FROZEN"))
          break;
        usleep(1000);
      }
  size_t n = signal_tree(dir);
  if (freezer)
    (void) write_file(dir, "freezer.state", "THAWED");
  return n;
}

int cgroup_kill(const char *dir, int timeout_ms, podrun_error_t *err)
{
  struct statfs st;
  if (statfs(dir, &st) < 0)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "cgroup \"%s\"", dir);
  bool v2 = st.f_type == CGROUP2_SUPER_MAGIC;
  if (v2 && !populated_v2(dir))
    return 0;
  /* cgroup.kill ends the whole subtree at once, forks included */
  bool killed = v2 && write_file(dir, "cgroup.kill", "1") == 0;
  _cleanup_free_ char *state = v2 ? NULL : xasprintf("%s/freezer.state", dir);
  bool freezer = state && access(state, F_OK) == 0;
  int64_t deadline = now_ms() + timeout_ms;
  for (int round = 0;; round++)
    {
      if (killed ? !populated_v2(dir) : kill_round(dir, freezer) == 0)
        return 0;
      if (now_ms() >= deadline)
        return podrun_error_new(err, EBUSY, "cgroup \"%s\": its processes did not end within %d s", dir,
                                timeout_ms / 1000);
      usleep(round < 20 ? 1000 : 10000);
    }
}

int cgroup_remove(const char *dir, podrun_error_t *err)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *de;
  if (!d)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "open cgroup \"%s\"", dir);
  while ((de = readdir(d)))
    if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
      {
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
        if (cgroup_remove(sub, err) < 0)
          return -1;
      }
  /* a process that just ended may take a moment to leave its cgroup */
  for (int i = 0; rmdir(dir) < 0; i++)
    {
      if (errno == ENOENT)
        return 0;
      if (errno != EBUSY || i == 100)
        return podrun_error_set(err, errno, "remove cgroup \"%s\"", dir);
      usleep(10000);
    }
  return 0;
}
