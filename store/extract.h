/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

struct tree_content; /* store/tree.h */

/* Safe reading and extraction of ACIs and OCI layers (tar, optionally
 * gzip/bzip2/xz/zstd, via libarchive). An ACI holds `manifest` and
 * `rootfs/…` only. Every entry is checked the same way by the scan (at
 * import, nothing written) and by the extraction (which also never follows a
 * symlink on disk):
 *  - no absolute path, no "..", paths ≤ 4096 bytes, components ≤ 255;
 *  - nothing written through a symlink, planted by this archive or on disk,
 *    nor below an entry of the archive that is not a directory;
 *  - a relative symlink target may not climb out of the rootfs (absolute
 *    targets are fine: they resolve inside the container's root);
 *  - a hardlink points at a regular file earlier in the same archive;
 *  - device nodes refused unless allow_devices; setuid/setgid refused unless
 *    allow_setuid; fifos are allowed (harmless), sockets are refused;
 *  - per-entry, total and entry-count caps (the total counts the declared
 *    sizes and the data decompression delivers: a bomb stops at the cap,
 *    "… larger than N bytes"); duplicates refused;
 *  - extended attributes: user.* kept; security.capability (file
 *    capabilities) refused where setuid is, kept in OCI layers; all others
 *    (trusted.*, which overlayfs reads from lower layers, security.selinux,
 *    system.*) dropped, see check_xattrs() for why;
 *  - truncated or corrupt compression and non-archives fail.
 * An OCI layer (oci_layer) has its entries at the archive's root (no
 * manifest; "./" itself is skipped), may hold setuid/setgid files and file
 * capabilities (the store keeps layer trees in a 0700 directory), and its
 * whiteouts become overlayfs's:
 *  - DIR/.wh.NAME: a character device 0/0 named NAME in DIR;
 *  - DIR/.wh..wh..opq: the xattr trusted.overlay.opaque="y" on DIR;
 *  - DIR is made (0755) when the layer has no entry for it (yet);
 *  - refused: a whiteout of "", "." or ".."; other .wh..wh.* names (aufs's
 *    .wh..wh.plnk …); a .wh. name inside a path; a marker in a directory
 *    that is a symlink or a non-directory of the layer, or is whited out; a
 *    path both whited out and present (or below a whiteout) in the layer.
 * It goes into a directory of its own: overwrite is not consulted. */
struct extract_opts
{
  bool allow_devices;
  bool allow_setuid;
  bool overwrite;    /* may replace files of an earlier layer in the target */
  bool rootfs_only;  /* write rootfs/… with the prefix stripped, skip the manifest */
  bool oci_layer;    /* an OCI layer tar: see above (rootfs_only is not consulted) */
  bool fresh_target; /* the target is an empty directory podrun just made and only this
                        archive writes into it: the only symlinks there are the archive's
                        own, which the entry checks already keep out of every path. As
                        root, podrun's own writer fills it (extract-tree.c: each name
                        created, never opened, in a directory openat2 reaches through no
                        symlink); otherwise libarchive's, without its per-component
                        symlink walk (~6 syscalls a file) */
  char *const *path_whitelist; /* NULL: all; else only these absolute rootfs paths and their parents */
  struct tree_content *content; /* NULL, or where the regular files' contents are hashed as they are
                                   written (store/tree.h), by their path in the target */
  const char *diff_id; /* "sha256:…" the uncompressed archive must hash to (an OCI layer's, from its
                          config), or NULL: checked as it is read, "digest mismatch" */
  uint64_t max_entry_size; /* 0: 16 GiB */
  uint64_t max_total_size; /* 0: 64 GiB */
  uint64_t max_entries;    /* 0: 1,000,000 */
};

#define EXTRACT_MAX_MANIFEST (1024 * 1024)

/* Checks every entry of the archive read from fd and returns the manifest
 * (NUL-terminated); an OCI layer has none (*ret_manifest NULL). Either
 * output may be NULL. */
int extract_scan_fd(int fd, const struct extract_opts *opts, char **ret_manifest, size_t *ret_manifest_len,
                    podrun_error_t *err);

/* Decompresses what fd holds and checks its sha256 is diff_id ("sha256:…"),
 * "digest mismatch" otherwise; nothing is extracted. At most max bytes (0:
 * no cap) are decompressed. */
int extract_check_diff_id(int fd, const char *diff_id, uint64_t max, podrun_error_t *err);

/* Extracts the archive read from fd into the directory destfd. On failure the
 * caller removes the target; the process's cwd is unchanged either way. */
int extract_to_dir_fd(int fd, int destfd, const struct extract_opts *opts, podrun_error_t *err);

/* The path policy alone: "rootfs/./a//b/" → "rootfs/a/b"; refuses absolute
 * paths, "..", empty names, NUL-free over-long paths or components. */
int extract_clean_path(const char *entry, char **ret, podrun_error_t *err);
