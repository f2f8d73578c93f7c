/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "appc.h"
#include "error.h"

/* Mounts into an app's rootfs, done by a stage1 in the pod's own mount
 * namespace. Targets are opened component by component with O_NOFOLLOW,
 * so a symlink in the image never sends a mount outside the rootfs, and
 * mounts are made with the new mount API on those fds. */

/* Opens (creating as needed) root/path; the last component is a directory,
 * or a file when want_file. Returns an O_PATH fd. */
int volumes_open_target(const char *root, const char *path, bool want_file, podrun_error_t *err);

/* Binds src (recursively when asked, read-only when asked) onto target_fd. */
int volumes_bind_at(const char *src, int target_fd, bool recursive, bool read_only, podrun_error_t *err);

/* Binds the directory src (not recursively; read-only when asked) onto the
 * directory target, itself no symlink: for a stage1's own trees, whose
 * paths nothing in the pod has written. */
int volumes_bind_dir(const char *src, const char *target, bool read_only, podrun_error_t *err);

/* The volume of the app's i-th mount (NULL: the pod has none of its name)
 * and whether it is mounted read-only: the volume is, or the mount point
 * the image declares there is. */
const struct appc_volume *volumes_of_mount(const struct appc_pod_manifest *m, const struct appc_runtime_app *a,
                                           size_t i, bool *ret_read_only);

/* Binds the app's volumes (host and empty: <pod>/volumes/<name>, the cwd
 * being the pod directory) at its mount targets, and checks that every
 * mount point the app declares got one (a mount at a mount point the app
 * declares read-only is read-only). shift: the first host uid of the
 * pod's user namespace (0 without one), which empty volumes' owners get added. */
int volumes_mount_app(const struct appc_pod_manifest *m, const struct appc_runtime_app *a, const char *app_root,
                      uid_t shift, podrun_error_t *err);

/* Binds this mount namespace's /sys and /dev, and /proc when asked
 * (recursively) into the app's root: the host's for fly, the pod's for
 * nspawn, whose apps get a /proc of their own (volumes_mount_proc). */
int volumes_bind_api(const char *app_root, bool proc, podrun_error_t *err);

/* In the app's root once its /proc and /sys are there: Docker's masked
 * paths (/proc/kcore, /proc/keys, /sys/firmware …) covered by /dev/null or
 * an empty read-only tmpfs, and /proc/sys, /proc/sysrq-trigger, /proc/bus,
 * /proc/fs, /proc/irq read-only (nspawn, not fly: fly is the host's). Only
 * the paths that start with `under` ("/proc/", "/sys/") unless it is NULL. */
int volumes_mask_kernel_paths(const char *app_root, const char *under, podrun_error_t *err);

/* podrun's isolator of the paths an OCI config masks and makes read-only:
 * {"masked": [PATH…], "readonly": [PATH…]}, absolute paths without "..". */
#define MASKED_PATHS_ISOLATOR "podrun.io/masked-paths"

/* The paths an app's config names (podrun.io/masked-paths; absolute, no
 * ".."): each masked one covered by /dev/null or an empty read-only tmpfs,
 * each read-only one by a read-only copy of its mounts; a path that is not
 * there is skipped, one with a symlink on its way (the image's) is an error:
 * every component is opened in app_root without following any symlink. */
int volumes_mask_app_paths(const char *app_root, char *const *masked, char *const *read_only, podrun_error_t *err);

/* podrun's isolator of an OCI config's tmpfs mounts, in order:
 * [{"destination": PATH, "options": ["size=64m", "mode=1777", "nosuid", …]}]. */
#define TMPFS_ISOLATOR "podrun.io/tmpfs"

struct volumes_tmpfs
{
  char *destination;
  char **params;  /* "key=value" for fsconfig: size, nr_blocks, nr_inodes, mode, uid, gid */
  uint64_t attrs; /* MOUNT_ATTR_*: ro, nosuid, nodev, noexec, the atime ones */
};

/* One entry of TMPFS_ISOLATOR; an option it does not know is an error. */
int volumes_tmpfs_parse(const json_t *entry, struct volumes_tmpfs *ret, podrun_error_t *err);
void volumes_tmpfs_done(struct volumes_tmpfs *t);

/* Makes app_root/path, a directory, and those on the way (0755) as needed,
 * each component opened without following a symlink, never out of app_root. */
int volumes_make_dir_in_root(const char *app_root, const char *path, podrun_error_t *err);

/* A new tmpfs with t's options at app_root/t->destination, the directories
 * on the way made (0755) as needed, each opened without following a symlink. */
int volumes_mount_tmpfs(const char *app_root, const struct volumes_tmpfs *t, podrun_error_t *err);

/* podrun's isolator of the mount options of an OCI config's binds that are
 * mount attributes: [{"destination": PATH, "options": ["nosuid", …],
 * "recursive": BOOL}], applied once the stage1 made the binds. */
#define BIND_ATTRS_ISOLATOR "podrun.io/bind-attributes"

/* A mount option that is a mount attribute (ro, rw, nosuid, nodev, noexec,
 * their opposites, the atime ones; [r]private and [r]slave, which the app's
 * mount namespace gives anyway, change nothing): adds
 * it to *set and *clear (MOUNT_ATTR_*), true; false for another. */
bool volumes_mount_flag(const char *option, uint64_t *set, uint64_t *clear);

/* Sets and clears the attributes of the mount whose root is app_root/dest
 * (opened without following a symlink; not a mount's root: an error), and
 * of the mounts below it when recursive. */
int volumes_set_attrs(const char *app_root, const char *dest, uint64_t set, uint64_t clear, bool recursive,
                      podrun_error_t *err);

/* A new procfs, of the caller's pid namespace, at the app's /proc, masked
 * as above unless not `mask` (--insecure-options=paths). */
int volumes_mount_proc(const char *app_root, bool mask, podrun_error_t *err);

/* What comes last: readOnlyRootFS makes the root mount (alone) read-only. */
int volumes_finish_root(const struct appc_runtime_app *a, const char *app_root, podrun_error_t *err);
