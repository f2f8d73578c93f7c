/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "volumes.h"

#include "fs.h"

/* Opens (creating as needed) root/path component by component with
 * O_NOFOLLOW, so a symlink in the image can never send the mount outside
 * the app's rootfs. The last component is a directory, or a file when
 * want_file. Returns an O_PATH fd to mount onto via /proc/self/fd. */
int volumes_open_target(const char *root, const char *path, bool want_file, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(path);
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL, *next;

  if (fd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(root));
  for (char *c = strtok_r(copy, "/", &save); c; c = next)
    {
      next = strtok_r(NULL, "/", &save);
      bool last_file = !next && want_file;
      if (streq(c, "..") || streq(c, "."))
        return close(fd), podrun_error_new(err, EINVAL, "mount target %s: no . or .. allowed", QUOTE(path));
      if (last_file)
        {
          int f = openat(fd, c, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (f >= 0)
            close(f);
        }
      else if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
        return close(fd), podrun_error_set(err, errno, "mount target %s", QUOTE(path));
      int nfd = openat(fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last_file ? 0 : O_DIRECTORY));
      close(fd);
      if (nfd < 0)
        return podrun_error_set(err, errno, "mount target %s (a symlink or not a %s?)", QUOTE(path),
                                last_file ? "file" : "directory");
      fd = nfd;
    }
  return fd;
}

static const struct appc_volume *find_volume(const struct appc_pod_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->n_volumes; i++)
    if (streq(m->volumes[i].name, name))
      return &m->volumes[i];
  return NULL;
}

/* An empty volume is a directory of the pod: volumes/<name>, its owner
 * shifted into the pod's user namespace range when it has one. */
static int empty_volume_source(const struct appc_volume *v, uid_t shift, char **ret, podrun_error_t *err)
{
  char cwd[4096];
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "getcwd");
  _cleanup_free_ char *p = xasprintf("%s/volumes/%s", cwd, v->name);
  if (fs_mkdir_p(p, v->mode ? v->mode : 0755, err) < 0)
    return -1;
  if (chmod(p, v->mode ? v->mode : 0755) < 0 || chown(p, shift + v->uid, shift + v->gid) < 0)
    return podrun_error_set(err, errno, "volume %s", QUOTE(v->name));
  *ret = TAKE_PTR(p);
  return 0;
}

/* A detached copy of src (recursive when asked), made read-only as a whole
 * when asked, then attached on the target fd: the new mount API does each
 * step on fds, so nothing is resolved by path inside the app's rootfs. */
int volumes_bind_at(const char *src, int target_fd, bool recursive, bool read_only, podrun_error_t *err)
{
  _cleanup_close_ int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

  if (tree < 0)
    return podrun_error_set(err, errno, "bind %s", QUOTE(src));
  if (read_only && mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
    return podrun_error_set(err, errno, "make %s read-only", QUOTE(src));
  if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return podrun_error_set(err, errno, "attach %s", QUOTE(src));
  return 0;
}

int volumes_bind_dir(const char *src, const char *target, bool read_only, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(target));
  return volumes_bind_at(src, fd, false, read_only, err);
}

static int mount_one(const struct appc_volume *v, const char *app_root, const char *target, bool read_only,
                     uid_t shift, podrun_error_t *err)
{
  _cleanup_free_ char *src = NULL;
  struct stat st;

  if (v->kind == APPC_VOLUME_EMPTY ? empty_volume_source(v, shift, &src, err) < 0 : (src = xstrdup(v->source), 0))
    return -1;
  if (stat(src, &st) < 0)
    return podrun_error_set(err, errno, "volume %s: source %s", QUOTE(v->name), QUOTE(src));
  _cleanup_close_ int fd = volumes_open_target(app_root, target, !S_ISDIR(st.st_mode), err);
  if (fd < 0)
    return -1;
  if (volumes_bind_at(src, fd, v->kind == APPC_VOLUME_EMPTY || v->recursive, v->read_only || read_only, err) < 0)
    return podrun_error_wrap(err, "volume %s on %s", QUOTE(v->name), QUOTE(target));
  return 0;
}

const struct appc_volume *volumes_of_mount(const struct appc_pod_manifest *m, const struct appc_runtime_app *a,
                                           size_t i, bool *ret_read_only)
{
  const struct appc_volume *v = a->mounts[i].app_volume ? a->mounts[i].app_volume : find_volume(m, a->mounts[i].volume);
  /* a mount point the image declares read-only stays so, whatever the volume */
  bool read_only = v && v->read_only;
  for (size_t j = 0; a->app && j < a->app->n_mount_points; j++)
    read_only |= a->app->mount_points[j].read_only && streq(a->app->mount_points[j].path, a->mounts[i].path);
  *ret_read_only = read_only;
  return v;
}

int volumes_mount_app(const struct appc_pod_manifest *m, const struct appc_runtime_app *a, const char *app_root,
                      uid_t shift, podrun_error_t *err)
{
  for (size_t i = 0; i < a->n_mounts; i++)
    {
      bool read_only = false;
      const struct appc_volume *v = volumes_of_mount(m, a, i, &read_only);
      if (!v)
        return podrun_error_new(err, 0, "mount of volume %s: no such volume", QUOTE(a->mounts[i].volume));
      if (mount_one(v, app_root, a->mounts[i].path, read_only, shift, err) < 0)
        return -1;
    }
  /* every mount point the app declares needs a volume mounted there: stage0
   * gives each one (the pod's volume of its name, else an empty one); a pod
   * manifest made elsewhere may not have */
  for (size_t i = 0; a->app && i < a->app->n_mount_points; i++)
    {
      bool found = false;
      for (size_t j = 0; j < a->n_mounts && !found; j++)
        found = streq(a->mounts[j].path, a->app->mount_points[i].path) ||
                streq(a->mounts[j].volume, a->app->mount_points[i].name);
      if (!found)
        return podrun_error_new(err, 0, "mount point %s (%s) has no volume; give --mount",
                                QUOTE(a->app->mount_points[i].name), ESCAPE(a->app->mount_points[i].path));
    }
  return 0;
}

int volumes_bind_api(const char *app_root, bool proc, podrun_error_t *err)
{
  static const char *const dirs[] = { "/proc", "/sys", "/dev" };
  for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
    {
      /* /proc's mount point is made either way: the root may be read-only
       * by the time the app's own /proc is mounted there */
      _cleanup_close_ int fd = volumes_open_target(app_root, dirs[i], false, err);
      if (fd < 0 || ((proc || i > 0) && volumes_bind_at(dirs[i], fd, true, false, err) < 0))
        return -1;
    }
  return 0;
}

/* Docker's default masked and read-only paths (runc's and crun's too). */
static const char *const masked_paths[] = {
  "/proc/acpi",        "/proc/asound",      "/proc/kcore",         "/proc/keys",
  "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",        "/proc/timer_list",
  "/proc/timer_stats", "/sys/firmware",     "/sys/devices/virtual/powercap",
};
static const char *const read_only_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* An empty read-only tmpfs: what a masked directory shows. */
static int empty_dir_mount(int *ret, podrun_error_t *err)
{
  _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return podrun_error_set(err, errno, "an empty tmpfs");
  *ret = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  return *ret < 0 ? podrun_error_set(err, errno, "an empty tmpfs") : 0;
}

int volumes_mount_proc(const char *app_root, bool mask, podrun_error_t *err)
{
  _cleanup_close_ int target = volumes_open_target(app_root, "/proc", false, err), fs = -1, mnt = -1;
  if (target < 0)
    return -1;
  fs = fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return podrun_error_set(err, errno, "a /proc of the app's own");
  mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (mnt < 0 || move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return podrun_error_set(err, errno, "mount a /proc of the app's own");
  return mask ? volumes_mask_kernel_paths(app_root, "/proc/", err) : 0;
}

int volumes_mask_kernel_paths(const char *app_root, const char *under, podrun_error_t *err)
{
  /* /proc and /sys were just mounted or bound from the pod's own: no
   * symlink of the image's is on these paths, and a path this kernel lacks
   * is skipped */
  for (size_t i = 0; i < ELEMENTSOF(masked_paths); i++)
    {
      if (under && !startswith(masked_paths[i], under))
        continue;
      _cleanup_free_ char *path = xasprintf("%s%s", app_root, masked_paths[i]);
      _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), mnt = -1;
      struct stat st;
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0 || fstat(fd, &st) < 0)
        return podrun_error_set(err, errno, "mask %s", QUOTE(masked_paths[i]));
      int r = S_ISDIR(st.st_mode) ? empty_dir_mount(&mnt, err) : 0;
      if (r >= 0 && S_ISDIR(st.st_mode) &&
          move_mount(mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        r = podrun_error_set(err, errno, "mask %s", QUOTE(masked_paths[i]));
      if (r >= 0 && !S_ISDIR(st.st_mode))
        r = volumes_bind_at("/dev/null", fd, false, true, err);
      if (r < 0)
        return podrun_error_wrap(err, "mask %s", QUOTE(masked_paths[i]));
    }
  for (size_t i = 0; i < ELEMENTSOF(read_only_paths); i++)
    {
      if (under && !startswith(read_only_paths[i], under))
        continue;
      _cleanup_free_ char *path = xasprintf("%s%s", app_root, read_only_paths[i]);
      _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        return podrun_error_set(err, errno, "make %s read-only", QUOTE(read_only_paths[i]));
      if (volumes_bind_at(path, fd, true, true, err) < 0)
        return podrun_error_wrap(err, "make %s read-only", QUOTE(read_only_paths[i]));
    }
  return 0;
}

/* path under the app's root, every component opened without following
 * a symlink (magic or not) and never out of the root: -ENOENT when it is
 * not there. */
static int open_in_root(const char *app_root, const char *path, podrun_error_t *err)
{
  _cleanup_close_ int root = open(app_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  if (root < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(app_root));
  int fd = (int) syscall(SYS_openat2, root, path, &how, sizeof(how));
  if (fd < 0 && errno == ENOENT)
    return -ENOENT;
  if (fd < 0 && errno == ELOOP)
    return podrun_error_new(err, ELOOP, "%s: a symlink on the way (not followed)", QUOTE(path));
  if (fd < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(path));
  return fd;
}

int volumes_mask_app_paths(const char *app_root, char *const *masked, char *const *read_only, podrun_error_t *err)
{
  for (size_t i = 0; masked && masked[i]; i++)
    {
      _cleanup_close_ int fd = open_in_root(app_root, masked[i], err), mnt = -1;
      struct stat st;
      if (fd == -ENOENT)
        continue;
      if (fd < 0)
        return podrun_error_wrap(err, "masked path");
      if (fstat(fd, &st) < 0)
        return podrun_error_set(err, errno, "masked path %s", QUOTE(masked[i]));
      int r = S_ISDIR(st.st_mode) ? empty_dir_mount(&mnt, err) : volumes_bind_at("/dev/null", fd, false, true, err);
      if (r >= 0 && S_ISDIR(st.st_mode) &&
          move_mount(mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        r = podrun_error_set(err, errno, "mount");
      if (r < 0)
        return podrun_error_wrap(err, "masked path %s", QUOTE(masked[i]));
    }
  for (size_t i = 0; read_only && read_only[i]; i++)
    {
      _cleanup_close_ int fd = open_in_root(app_root, read_only[i], err), tree = -1;
      struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
      if (fd == -ENOENT)
        continue;
      if (fd < 0)
        return podrun_error_wrap(err, "read-only path");
      /* a read-only copy of what is there (mounts below it too), over it */
      tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
      if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0 ||
          move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return podrun_error_set(err, errno, "read-only path %s", QUOTE(read_only[i]));
    }
  return 0;
}

static const struct
{
  const char *name;
  uint64_t set, clear;
} mount_flags[] = {
  { "ro", MOUNT_ATTR_RDONLY, 0 },
  { "rw", 0, MOUNT_ATTR_RDONLY },
  { "nosuid", MOUNT_ATTR_NOSUID, 0 },
  { "suid", 0, MOUNT_ATTR_NOSUID },
  { "nodev", MOUNT_ATTR_NODEV, 0 },
  { "dev", 0, MOUNT_ATTR_NODEV },
  { "noexec", MOUNT_ATTR_NOEXEC, 0 },
  { "exec", 0, MOUNT_ATTR_NOEXEC },
  { "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
  { "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
  { "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
  { "atime", 0, 0 },
  { "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
  { "diratime", 0, MOUNT_ATTR_NODIRATIME },
  /* propagation: the app's mount namespace is its own, its mounts slaves
   * of the pod's private one, so nothing goes out of it: what these ask
   * for already (shared and unbindable are not said here) */
  { "private", 0, 0 },
  { "rprivate", 0, 0 },
  { "slave", 0, 0 },
  { "rslave", 0, 0 },
};

bool volumes_mount_flag(const char *option, uint64_t *set, uint64_t *clear)
{
  for (size_t k = 0; k < ELEMENTSOF(mount_flags); k++)
    if (streq(option, mount_flags[k].name))
      {
        *set = (*set & ~mount_flags[k].clear) | mount_flags[k].set;
        *clear = (*clear & ~mount_flags[k].set) | mount_flags[k].clear;
        return true;
      }
  return false;
}

int volumes_set_attrs(const char *app_root, const char *dest, uint64_t set, uint64_t clear, bool recursive,
                      podrun_error_t *err)
{
  _cleanup_close_ int fd = open_in_root(app_root, dest, err);
  struct mount_attr attr = { .attr_set = set, .attr_clr = clear };
  struct statx stx;
  if (fd == -ENOENT)
    return podrun_error_new(err, ENOENT, "mount %s: not there", QUOTE(dest));
  if (fd < 0)
    return podrun_error_wrap(err, "mount");
  /* only a mount's own root (the stage1's bind): never the mount around it */
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
    return podrun_error_set(err, errno, "mount %s", QUOTE(dest));
  if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) || !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return podrun_error_new(err, 0, "mount %s: not a mount point", QUOTE(dest));
  if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
    return podrun_error_set(err, errno, "mount %s: its options", QUOTE(dest));
  return 0;
}

static const char *const tmpfs_params[] = { "size", "nr_blocks", "nr_inodes", "mode", "uid", "gid" };

int volumes_tmpfs_parse(const json_t *entry, struct volumes_tmpfs *ret, podrun_error_t *err)
{
  const char *dest = json_string_value(json_object_get(entry, "destination"));
  json_t *opts = json_object_get(entry, "options"), *o;
  struct volumes_tmpfs t = { 0 };
  size_t i;

  if (!dest || dest[0] != '/' || strstr(dest, "/../") || endswith(dest, "/..") || strlen(dest) > 4096)
    return podrun_error_new(err, 0, "a tmpfs: destination: not an absolute path without \"..\"");
  if (opts && !json_is_array(opts))
    return podrun_error_new(err, 0, "tmpfs %s: options: not an array of strings", QUOTE(dest));
  json_array_foreach (opts, i, o)
    {
      const char *s = json_string_value(o), *eq = s ? strchr(s, '=') : NULL;
      size_t k;
      if (!s)
        goto bad;
      if (eq)
        {
          for (k = 0; k < ELEMENTSOF(tmpfs_params); k++)
            if (strlen(tmpfs_params[k]) == (size_t) (eq - s) && strncmp(s, tmpfs_params[k], (size_t) (eq - s)) == 0)
              break;
          if (k == ELEMENTSOF(tmpfs_params) || !eq[1] || strpbrk(eq + 1, ",\n"))
            goto bad;
          t.params = strv_push(t.params, s);
          continue;
        }
      uint64_t clear = 0;
      if (!volumes_mount_flag(s, &t.attrs, &clear))
        goto bad;
      continue;
    bad:
      strv_free(t.params);
      return podrun_error_new(err, 0, "tmpfs %s: option %s: not one podrun applies (size=, nr_blocks=, nr_inodes=, "
                                      "mode=, uid=, gid=, ro, nosuid, nodev, noexec, the atime ones, private, slave)",
                              QUOTE(dest), s ? QUOTE(s) : "(not a string)");
    }
  t.destination = xstrdup(dest);
  *ret = t;
  return 0;
}

void volumes_tmpfs_done(struct volumes_tmpfs *t)
{
  free(t->destination);
  t->destination = NULL;
  strv_free(t->params);
  t->params = NULL;
}

/* Opens (making the missing directories, 0755) app_root/path, a directory,
 * one component at a time without following any symlink and never out of
 * the root. */
static int open_dir_in_root(const char *app_root, const char *path, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(path);
  int fd = open(app_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL;
  if (fd < 0)
    return podrun_error_set(err, errno, "open %s", QUOTE(app_root));
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
    {
      struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                              .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
      int next = (int) syscall(SYS_openat2, fd, c, &how, sizeof(how));
      if (next < 0 && errno == ENOENT && mkdirat(fd, c, 0755) == 0)
        next = (int) syscall(SYS_openat2, fd, c, &how, sizeof(how));
      int e = errno;
      close(fd);
      if (next < 0)
        return podrun_error_set(err, e, "%s%s", QUOTE(path),
                                e == ELOOP || e == ENOTDIR ? ": a symlink or a file on the way (not followed)" : "");
      fd = next;
    }
  return fd;
}

int volumes_make_dir_in_root(const char *app_root, const char *path, podrun_error_t *err)
{
  int fd = open_dir_in_root(app_root, path, err);
  return fd < 0 ? -1 : (close(fd), 0);
}

int volumes_mount_tmpfs(const char *app_root, const struct volumes_tmpfs *t, podrun_error_t *err)
{
  _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), target = -1, mnt = -1;
  if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0)
    return podrun_error_set(err, errno, "tmpfs %s", QUOTE(t->destination));
  for (size_t i = 0; t->params && t->params[i]; i++)
    {
      _cleanup_free_ char *key = xstrndup(t->params[i], strcspn(t->params[i], "="));
      if (fsconfig(fs, FSCONFIG_SET_STRING, key, t->params[i] + strlen(key) + 1, 0) < 0)
        return podrun_error_set(err, errno, "tmpfs %s: option %s", QUOTE(t->destination), QUOTE(t->params[i]));
    }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
      (mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned) t->attrs)) < 0)
    return podrun_error_set(err, errno, "tmpfs %s", QUOTE(t->destination));
  if ((target = open_dir_in_root(app_root, t->destination, err)) < 0)
    return podrun_error_wrap(err, "tmpfs");
  if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return podrun_error_set(err, errno, "tmpfs %s", QUOTE(t->destination));
  return 0;
}

int volumes_finish_root(const struct appc_runtime_app *a, const char *app_root, podrun_error_t *err)
{
  /* readOnlyRootFS: the root mount alone, so volumes keep their own mode */
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
  if (a->read_only_rootfs && mount_setattr(AT_FDCWD, app_root, 0, &ro, sizeof(ro)) < 0)
    return podrun_error_set(err, errno, "make the rootfs of app %s read-only", QUOTE(a->name));
  return 0;
}
