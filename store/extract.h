/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* Safe reading and extraction of ACIs (tar, optionally gzip/bzip2/xz, via
 * libarchive). An ACI holds `manifest` and `rootfs/…` only. Every entry is
 * checked the same way by the scan (at import, nothing written) and by the
 * extraction (which also never follows a symlink on disk):
 *  - no absolute path, no "..", paths ≤ 4096 bytes, components ≤ 255;
 *  - nothing written through a symlink, planted by this archive or on disk;
 *  - a relative symlink target may not climb out of the rootfs (absolute
 *    targets are fine: they resolve inside the container's root);
 *  - a hardlink points at a regular file earlier in the same archive;
 *  - device nodes refused unless allow_devices; setuid/setgid refused unless
 *    allow_setuid; fifos are allowed (harmless), sockets are refused;
 *  - per-entry, total and entry-count caps; duplicates refused;
 *  - truncated or corrupt compression and non-archives fail. */
struct extract_opts
{
  bool allow_devices;
  bool allow_setuid;
  bool overwrite;    /* may replace files of an earlier layer in the target */
  bool rootfs_only;  /* write rootfs/… with the prefix stripped, skip the manifest */
  bool fresh_target; /* the target is an empty directory podrun just made and only this
                        archive writes into it: the only symlinks there are the archive's
                        own, which the entry checks already keep out of every path, so
                        libarchive's per-component symlink walk (~6 syscalls a file) is
                        skipped */
  char *const *path_whitelist; /* NULL: all; else only these absolute rootfs paths and their parents */
  uint64_t max_entry_size; /* 0: 16 GiB */
  uint64_t max_total_size; /* 0: 64 GiB */
  uint64_t max_entries;    /* 0: 1,000,000 */
};

#define EXTRACT_MAX_MANIFEST (1024 * 1024)

/* Checks every entry of the archive read from fd and returns the manifest
 * (NUL-terminated). */
int extract_scan_fd(int fd, const struct extract_opts *opts, char **ret_manifest, size_t *ret_manifest_len,
                    podrun_error_t *err);

/* Extracts the archive read from fd into the directory destfd. On failure the
 * caller removes the target; the process's cwd is unchanged either way. */
int extract_to_dir_fd(int fd, int destfd, const struct extract_opts *opts, podrun_error_t *err);

/* The path policy alone: "rootfs/./a//b/" → "rootfs/a/b"; refuses absolute
 * paths, "..", empty names, NUL-free over-long paths or components. */
int extract_clean_path(const char *entry, char **ret, podrun_error_t *err);
