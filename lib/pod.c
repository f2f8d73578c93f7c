/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pod.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "lock.h"
#include "userns.h"

static const char *const state_names[_POD_STATE_MAX] = {
  [POD_EMBRYO] = "embryo",
  [POD_PREPARING] = "preparing",
  [POD_ABORTED_PREPARE] = "aborted-prepare",
  [POD_PREPARED] = "prepared",
  [POD_RUNNING] = "running",
  [POD_EXITED] = "exited",
  [POD_EXITED_GARBAGE] = "exited-garbage",
  [POD_GARBAGE] = "garbage",
};

static const char *const state_dirs[_POD_STATE_MAX] = {
  [POD_EMBRYO] = "embryo",
  [POD_PREPARING] = "prepare",
  [POD_ABORTED_PREPARE] = "prepare",
  [POD_PREPARED] = "prepared",
  [POD_RUNNING] = "run",
  [POD_EXITED] = "run",
  [POD_EXITED_GARBAGE] = "exited-garbage",
  [POD_GARBAGE] = "garbage",
};

/* The directories, each once, in the order a pod moves through them. */
static const enum pod_state dir_states[] = {
  POD_EMBRYO, POD_PREPARING, POD_PREPARED, POD_RUNNING, POD_EXITED_GARBAGE, POD_GARBAGE,
};

const char *pod_state_to_string(enum pod_state s) { return s < _POD_STATE_MAX ? state_names[s] : "unknown"; }
const char *pod_state_dir(enum pod_state s) { return s < _POD_STATE_MAX ? state_dirs[s] : NULL; }

void pod_free(struct pod *p)
{
  if (!p)
    return;
  if (p->dirfd >= 0)
    close(p->dirfd);
  free(p->path);
  free(p->pods_dir);
  free(p);
}

void pod_list_free(struct pod **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    pod_free(v[i]);
  free(v);
}

static struct pod *pod_new(const char *pods_dir, const char *uuid, enum pod_state state)
{
  struct pod *p = xzalloc(sizeof(*p));
  snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
  p->state = state;
  p->dirfd = -1;
  p->pods_dir = xstrdup(pods_dir);
  p->path = xasprintf("%s/%s/%s", pods_dir, state_dirs[state], uuid);
  return p;
}

static int ensure_state_dirs(const char *pods_dir, podrun_error_t *err)
{
  for (size_t i = 0; i < ELEMENTSOF(dir_states); i++)
    {
      _cleanup_free_ char *d = xasprintf("%s/%s", pods_dir, state_dirs[dir_states[i]]);
      if (fs_mkdir_p(d, 0750, err) < 0)
        return -1;
    }
  return 0;
}

int pod_lock(struct pod *p, bool exclusive, bool nonblock, podrun_error_t *err)
{
  if (lock_fd(p->dirfd, exclusive ? LOCK_MODE_EXCLUSIVE : LOCK_MODE_SHARED, nonblock, err) < 0)
    {
      if ((*err)->status != EWOULDBLOCK)
        return podrun_error_wrap(err, "pod %s", p->uuid);
      podrun_error_free(err);
      return podrun_error_new(err, EWOULDBLOCK, "pod %s is in use by another podrun", p->uuid);
    }
  p->locked = true;
  p->exclusive = exclusive;
  return 0;
}

int pod_create(const char *pods_dir, struct pod **ret, podrun_error_t *err)
{
  char uuid[UUID_STRING_LEN + 1];
  _cleanup_pod_ struct pod *p = NULL;

  if (ensure_state_dirs(pods_dir, err) < 0)
    return -1;
  uuid_random(uuid);
  p = pod_new(pods_dir, uuid, POD_EMBRYO);
  /* Made and locked under a hidden name, then renamed: a pod directory that
   * anyone can see is locked from the start, so gc never takes a pod being
   * born for an abandoned one. */
  _cleanup_free_ char *tmp = xasprintf("%s/%s/.%s", pods_dir, state_dirs[POD_EMBRYO], uuid);
  if (mkdir(tmp, 0750) < 0)
    return podrun_error_set(err, errno, "create pod directory %s", QUOTE(tmp));
  p->dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (p->dirfd < 0)
    return podrun_error_set(err, errno, "open pod directory %s", QUOTE(tmp));
  if (pod_lock(p, true, true, err) < 0)
    return -1;
  if (rename(tmp, p->path) < 0)
    return podrun_error_set(err, errno, "rename %s to %s", QUOTE(tmp), QUOTE(p->path));
  *ret = TAKE_PTR(p);
  return 0;
}

int pod_sweep_unborn(const char *pods_dir, int64_t min_age_sec, podrun_error_t *err)
{
  _cleanup_free_ char *d = xasprintf("%s/%s", pods_dir, state_dirs[POD_EMBRYO]);
  _cleanup_closedir_ DIR *dir = opendir(d);
  struct dirent *de;

  if (!dir)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "open %s", QUOTE(d));
  while ((de = readdir(dir)))
    {
      _cleanup_error_ podrun_error_t busy = NULL;
      _cleanup_close_ int fd = -1;
      struct stat st;

      if (de->d_name[0] != '.' || !uuid_is_valid(de->d_name + 1))
        continue;
      fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 || fstat(fd, &st) < 0 || time(NULL) - st.st_mtim.tv_sec < min_age_sec)
        continue;
      if (lock_fd(fd, LOCK_MODE_EXCLUSIVE, true, &busy) < 0)
        continue;
      if (fs_rm_rf_at(dirfd(dir), de->d_name, err) < 0)
        return -1;
    }
  return 0;
}

static bool probe_without_locking;

void pod_probe_without_locking(bool on)
{
  probe_without_locking = on;
}

/* Does some process hold an exclusive flock on the file st names? From
 * /proc/locks ("1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF"; a waiter's
 * line has "->" after the number), taking no lock. */
static bool flock_held_exclusive(const struct stat *st)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/locks", "re");
  char line[256];
  while (f && fgets(line, sizeof(line), f))
    {
      char type[16], mode[16], rw[16];
      unsigned long long ino;
      if (strstr(line, "->") || sscanf(line, "%*[^:]: %15s %15s %15s %*d %*x:%*x:%llu", type, mode, rw, &ino) != 4)
        continue;
      /* by inode: /proc/locks gives the superblock's device, which stat gives
       * differently on some filesystems (btrfs subvolumes); another file of the
       * same inode number locked elsewhere shows a pod as locked, never the
       * reverse */
      if (streq(type, "FLOCK") && streq(rw, "WRITE") && ino == (unsigned long long) st->st_ino)
        return true;
    }
  return false;
}

/* Opens the pod at its current place and derives the locked/unlocked states
 * from a non-blocking shared lock probe (or, in a process that said so,
 * from /proc/locks: see pod_probe_without_locking). ENOENT when it is not
 * there. */
static int pod_open_in(const char *pods_dir, const char *uuid, enum pod_state dir_state, struct pod **ret,
                       podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = pod_new(pods_dir, uuid, dir_state);
  _cleanup_error_ podrun_error_t probe = NULL;

  p->dirfd = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (p->dirfd < 0)
    return podrun_error_set(err, errno, "open pod %s", QUOTE(p->path));
  struct stat st;
  if ((dir_state == POD_PREPARING || dir_state == POD_RUNNING) && probe_without_locking)
    {
      if (fstat(p->dirfd, &st) < 0)
        return podrun_error_set(err, errno, "pod %s: stat", uuid);
      if (!flock_held_exclusive(&st))
        p->state = dir_state == POD_RUNNING ? POD_EXITED : POD_ABORTED_PREPARE;
    }
  else if (dir_state == POD_PREPARING || dir_state == POD_RUNNING)
    {
      if (lock_fd(p->dirfd, LOCK_MODE_SHARED, true, &probe) == 0)
        {
          p->state = dir_state == POD_RUNNING ? POD_EXITED : POD_ABORTED_PREPARE;
          (void) flock(p->dirfd, LOCK_UN);
        }
      else if (probe->status != EWOULDBLOCK)
        return podrun_error_set(err, probe->status, "pod %s: lock", uuid);
    }
  *ret = TAKE_PTR(p);
  return 0;
}

struct found
{
  char uuid[UUID_STRING_LEN + 1];
  enum pod_state where; /* the directory it was seen in */
};

static int found_cmp(const void *a, const void *b)
{
  return strcmp(((const struct found *) a)->uuid, ((const struct found *) b)->uuid);
}

/* Every uuid in every state directory that starts with prefix, each once
 * (a pod that moved while we read shows in two directories), sorted. */
static int find_uuids(const char *pods_dir, const char *prefix, struct found **ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_free_ struct found *v = NULL;
  size_t n = 0, cap = 0, u = 0;

  for (size_t i = 0; i < ELEMENTSOF(dir_states); i++)
    {
      _cleanup_free_ char *d = xasprintf("%s/%s", pods_dir, state_dirs[dir_states[i]]);
      _cleanup_closedir_ DIR *dir = opendir(d);
      struct dirent *de;
      if (!dir)
        {
          if (errno == ENOENT)
            continue;
          return podrun_error_set(err, errno, "open %s", QUOTE(d));
        }
      while ((de = readdir(dir)))
        {
          if (!uuid_is_valid(de->d_name) || !startswith(de->d_name, prefix))
            continue;
          if (n == cap)
            v = xrealloc(v, sizeof(*v) * (cap = cap ? 2 * cap : 64));
          memcpy(v[n].uuid, de->d_name, sizeof(v[n].uuid)); /* valid: exactly 36 characters and a NUL */
          v[n++].where = dir_states[i];
        }
    }
  if (n)
    qsort(v, n, sizeof(*v), found_cmp);
  for (size_t i = 0; i < n; i++)
    if (u == 0 || !streq(v[u - 1].uuid, v[i].uuid))
      v[u++] = v[i];
  *ret = TAKE_PTR(v);
  *ret_n = u;
  return 0;
}

/* A pod moves while we look: try where it was seen, then its directories
 * in lifecycle order, and go round again if it slipped past us. */
static int pod_open_any(const char *pods_dir, const struct found *f, struct pod **ret, podrun_error_t *err)
{
  const char *uuid = f->uuid;
  _cleanup_error_ podrun_error_t first = NULL;

  if (pod_open_in(pods_dir, uuid, f->where, ret, &first) == 0)
    return 0;
  if (first->status != ENOENT)
    {
      *err = TAKE_PTR(first);
      return -1;
    }
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < ELEMENTSOF(dir_states); i++)
      {
        _cleanup_error_ podrun_error_t e = NULL;
        if (pod_open_in(pods_dir, uuid, dir_states[i], ret, &e) == 0)
          return 0;
        if (e->status != ENOENT)
          {
            *err = TAKE_PTR(e);
            return -1;
          }
      }
  return podrun_error_new(err, ENOENT, "pod %s: not found", QUOTE(uuid));
}

int pod_load(const char *pods_dir, const char *uuid_or_prefix, struct pod **ret, podrun_error_t *err)
{
  _cleanup_free_ struct found *uuids = NULL;
  size_t n;

  if (*uuid_or_prefix == '\0' || strlen(uuid_or_prefix) > UUID_STRING_LEN)
    return podrun_error_new(err, EINVAL, "%s is not a pod UUID", QUOTE(uuid_or_prefix));
  if (find_uuids(pods_dir, uuid_or_prefix, &uuids, &n, err) < 0)
    return -1;
  if (n == 0)
    return podrun_error_new(err, ENOENT, "pod %s: not found", QUOTE(uuid_or_prefix));
  if (n > 1)
    return podrun_error_set(err, 0, "pod %s: UUID prefix matches %zu pods; give more of it", QUOTE(uuid_or_prefix), n);
  return pod_open_any(pods_dir, &uuids[0], ret, err);
}

int pod_list(const char *pods_dir, struct pod ***ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_free_ struct found *uuids = NULL;
  struct pod **v = NULL;
  size_t n = 0, n_uuids = 0;

  if (find_uuids(pods_dir, "", &uuids, &n_uuids, err) < 0)
    return -1;
  v = xzalloc(sizeof(*v) * (n_uuids + 1));
  for (size_t i = 0; i < n_uuids; i++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      if (pod_open_any(pods_dir, &uuids[i], &v[n], &e) == 0)
        n++;
      else if (e->status != ENOENT)
        {
          pod_list_free(v, n);
          *err = TAKE_PTR(e);
          return -1;
        }
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

int pod_transition(struct pod *p, enum pod_state to, podrun_error_t *err)
{
  _cleanup_free_ char *dst = xasprintf("%s/%s/%s", p->pods_dir, state_dirs[to], p->uuid);

  if (!p->locked)
    return podrun_error_set(err, 0, "pod %s: transition to %s without its lock", p->uuid, state_names[to]);
  if (!streq(state_dirs[p->state], state_dirs[to]) && rename(p->path, dst) < 0)
    {
      /* a state directory someone removed by hand comes back */
      bool retry = errno == ENOENT && access(p->path, F_OK) == 0;
      if (retry && ensure_state_dirs(p->pods_dir, err) < 0)
        return -1;
      if (!retry || rename(p->path, dst) < 0)
        return podrun_error_set(err, errno, "pod %s: move to %s", p->uuid, state_names[to]);
    }
  free(p->path);
  p->path = TAKE_PTR(dst);
  p->state = to;
  return 0;
}

static pid_t read_pid_file(int dirfd, const char *name)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  _cleanup_free_ char *text = NULL;
  if (fs_read_file_at(dirfd, name, 64, &text, NULL, &ignored) < 0)
    return 0;
  long v = strtol(text, NULL, 10);
  return v > 0 && v < INT32_MAX ? (pid_t) v : 0;
}

size_t proc_children(pid_t parent, pid_t *ret, size_t max)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/children", (int) parent, (int) parent), *children = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  size_t n = 0;
  if (fs_read_file_at(AT_FDCWD, path, 1 << 20, &children, NULL, &ignored) < 0)
    return 0;
  for (char *c = children, *end; n < max; c = end)
    {
      long v = strtol(c, &end, 10);
      if (end == c || v <= 0 || v > INT32_MAX)
        break;
      ret[n++] = (pid_t) v;
    }
  return n;
}

pid_t proc_first_child(pid_t parent)
{
  pid_t child;
  return proc_children(parent, &child, 1) == 1 ? child : 0;
}

char *proc_status_field(const char *status, const char *key)
{
  size_t n = strlen(key);
  for (const char *l = status; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, key, n) == 0 && l[n] == ':')
      {
        const char *v = l + n + 1;
        v += strspn(v, " \t");
        return xstrndup(v, strcspn(v, "\n"));
      }
  return NULL;
}

pid_t pod_read_pid(int dirfd)
{
  pid_t pid = read_pid_file(dirfd, "pid"), ppid;
  if (pid > 0 || (ppid = read_pid_file(dirfd, "ppid")) <= 0)
    return pid;
  return proc_first_child(ppid);
}

/* One pod flag (the strings a points to are arg's). */
static int run_arg_parse(const char *arg, struct stage1_run_args *a, podrun_error_t *err)
{
  static const struct
  {
    const char *flag;
    size_t offset;
  } bools[] = {
    { "--debug", offsetof(struct stage1_run_args, debug) },
    { "--interactive", offsetof(struct stage1_run_args, interactive) },
    { STAGE1_DISABLE_CAPS, offsetof(struct stage1_run_args, disable_caps) },
    { STAGE1_DISABLE_PATHS, offsetof(struct stage1_run_args, disable_paths) },
    { STAGE1_DISABLE_SECCOMP, offsetof(struct stage1_run_args, disable_seccomp) },
  };
  const char *v;
  for (size_t i = 0; i < ELEMENTSOF(bools); i++)
    if (streq(arg, bools[i].flag))
      {
        *(bool *) ((char *) a + bools[i].offset) = true;
        return 0;
      }
  if ((v = startswith(arg, "--net=")))
    a->net = v;
  else if ((v = startswith(arg, "--hostname=")))
    a->hostname = v;
  else if ((v = startswith(arg, "--dns=")))
    a->dns = strv_push(a->dns, v);
  else if ((v = startswith(arg, "--dns-search=")))
    a->dns_search = strv_push(a->dns_search, v);
  else if ((v = startswith(arg, "--dns-opt=")))
    a->dns_opt = strv_push(a->dns_opt, v);
  else if ((v = startswith(arg, "--hosts-entry=")))
    a->hosts = strv_push(a->hosts, v);
  else if ((v = startswith(arg, USERNS_FLAG)))
    return userns_parse(v, &a->userns_shift, err);
  else
    return podrun_error_new(err, 0, "run: unknown argument %s", QUOTE(arg));
  return 0;
}

int stage1_run_args_parse(int argc, char **argv, struct stage1_run_args *a, podrun_error_t *err)
{
  if (argc < 2)
    return podrun_error_new(err, 0, "usage: run [flags] UUID");
  a->uuid = argv[argc - 1];
  for (int i = 1; i < argc - 1; i++)
    if (run_arg_parse(argv[i], a, err) < 0)
      return -1;
  if (!uuid_is_valid(a->uuid))
    return podrun_error_new(err, 0, "run: %s is not a pod UUID", QUOTE(a->uuid));
  return 0;
}

int stage1_run_args_read(int dirfd, struct stage1_run_args *a, podrun_error_t *err)
{
  _cleanup_strv_ char **flags = NULL;
  if (pod_read_run_flags(dirfd, &flags, err) < 0)
    return -1;
  /* only the booleans are kept: the strings would point into flags */
  struct stage1_run_args parsed = { 0 };
  int r = 0;
  for (size_t i = 0; flags[i] && r >= 0; i++)
    r = run_arg_parse(flags[i], &parsed, err);
  stage1_run_args_done(&parsed);
  if (r < 0)
    return podrun_error_wrap(err, "stage1/run-flags");
  a->debug = parsed.debug;
  a->interactive = parsed.interactive;
  a->disable_caps = parsed.disable_caps;
  a->disable_paths = parsed.disable_paths;
  a->disable_seccomp = parsed.disable_seccomp;
  a->userns_shift = parsed.userns_shift;
  return 0;
}

void stage1_run_args_done(struct stage1_run_args *a)
{
  strv_free(a->dns);
  strv_free(a->dns_search);
  strv_free(a->dns_opt);
  strv_free(a->hosts);
}

int pod_read_run_flags(int dirfd, char ***ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  char *save = NULL, **v = NULL;
  if (fs_read_file_at(dirfd, "stage1/run-flags", 64 * 1024, &text, NULL, err) < 0)
    return -1;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    v = strv_push(v, line);
  *ret = v ? v : xzalloc(sizeof(char *)); /* none: an empty list */
  return 0;
}
