/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "error.h"

/* Reads a whole regular file (no symlink followed at the last component),
 * refusing anything larger than max bytes. The buffer is NUL-terminated. */
int fs_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len, podrun_error_t *err);

/* Writes a file so that readers see it complete or not at all, whenever the
 * writer is killed: a temp file in the same directory, renamed over path.
 * Not fsynced: these are pod and tree files, which a power loss makes moot
 * (the pods it ran are gone with it); the store's blobs are durable (cas.c). */
int fs_write_file_atomic_at(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                            podrun_error_t *err);

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, podrun_error_t *err);

/* rm -rf of dirfd/name, never following symlinks and never crossing into
 * another filesystem (a mount point below it is an error, not a target).
 * A missing name is success. */
int fs_rm_rf_at(int dirfd, const char *name, podrun_error_t *err);

int fs_fsync_dir(const char *path, podrun_error_t *err);

/* Copies everything from in to out (sendfile/copy_file_range where possible). */
int fs_copy_fd(int in, int out, podrun_error_t *err);

/* Writes all of buf, retrying on short writes and EINTR. */
int fs_write_all(int fd, const void *buf, size_t len, podrun_error_t *err);
