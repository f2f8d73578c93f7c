/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A layer tree's digest (Documentation/store-format.md, "Tree digests"):
 * the sha256 of its record, one line per path of a walk of the tree that
 * never follows a symlink, names sorted in each directory,
 *   TYPE MODE UID GID EXTRA XATTRS PATH
 * TYPE one of f d l c b p s; MODE the permission bits in octal ("-" for a
 * symlink); EXTRA a file's "SIZE:SHA256", a symlink's target, a device's
 * "MAJOR,MINOR", else "-"; XATTRS "-" or the sha256 of its extended
 * attributes (sorted names, each "NAME\0LENGTH\0VALUE"); PATH relative to
 * the tree's root ("." for the root itself). Bytes outside '!'..'~' and '\'
 * are written \xHH. Times are not covered. The first line is
 * TREE_RECORD_HEADER.
 *
 * At extraction the file contents are hashed as they stream from the
 * archive to the disk (struct tree_content), so recording the digest costs
 * a walk of the metadata and no read of the data; a verification walks
 * the tree again, reading every file. */
#define TREE_RECORD_HEADER "podrun-tree 1\n"
#define TREE_RECORD_FILE "tree-v1" /* cas/layer/<digest>/tree-v1, beside rootfs/ */

/* The contents an extraction wrote, by path: hashed as they are written. */
struct tree_content;
struct tree_content *tree_content_new(void);
void tree_content_free(struct tree_content *c);
/* A regular file path (relative to the tree root), its data in order of
 * offset (holes are zeros), then its size. */
int tree_content_begin(struct tree_content *c, const char *path, podrun_error_t *err);
int tree_content_data(struct tree_content *c, const void *buf, size_t len, int64_t offset, podrun_error_t *err);
int tree_content_end(struct tree_content *c, uint64_t size, podrun_error_t *err);
/* path is a hardlink of target (a file begun and ended before). */
void tree_content_link(struct tree_content *c, const char *path, const char *target);

/* The record and digest ("sha256-<hex>") of the tree at rootfd. A regular
 * file's content digest comes from known when it has the path, else from
 * reading the file. */
int tree_digest_at(int rootfd, const struct tree_content *known, char **ret_digest, char **ret_record,
                   size_t *ret_len, podrun_error_t *err);

/* "sha256-<hex>" of len bytes. */
int tree_sha256(const void *buf, size_t len, char **ret, podrun_error_t *err);

/* The first difference (in walk order) between a tree's record as it was
 * (was) and as it is (now), as a phrase naming the path ("file \"bin/sh\":
 * content changed"); NULL when they are the same. */
char *tree_record_diff(const char *was, size_t was_len, const char *now, size_t now_len);
