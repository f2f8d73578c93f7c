/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <stddef.h>

#include "dl.h"
#include "error.h"

/* Opens the directory path below destfd ("" is destfd itself), one
 * component at a time and never through a symlink, making what is missing
 * (0755: a directory the archive implies before, or without, its entry). */
int extract_open_dir_below(int destfd, const char *path, int *ret, podrun_error_t *err);

/* extract-tree.c: writes checked entries into a fresh target (see there).
 * The process's umask is 0 from tree_writer_new to tree_writer_free (of the
 * last writer open, when several are), and
 * regular files may be written by a thread of its own until
 * tree_writer_close (or tree_writer_free: what is not written then never is). */
struct tree_writer;
int tree_writer_new(int rootfd, struct tree_writer **ret, podrun_error_t *err);
void tree_writer_free(struct tree_writer *t);
/* Creates name (relative to the target) as e says, or as a hardlink to
 * hardlink (a name in the target). 1: a regular file, whose data comes with
 * tree_writer_data and which tree_writer_finish completes; 0: done. */
int tree_writer_create(struct tree_writer *t, struct archive_entry *e, const char *name, const char *hardlink,
                       podrun_error_t *err);
int tree_writer_data(struct tree_writer *t, const void *buf, size_t len, int64_t off, podrun_error_t *err);
int tree_writer_finish(struct tree_writer *t, struct archive_entry *e, podrun_error_t *err);
/* The archive's bytes are mapped at map and stay there until
 * tree_writer_free: data within is written from there, not copied. */
void tree_writer_mapped(struct tree_writer *t, const void *map, size_t len);
/* Directories' modes, owners and times, deepest first. */
int tree_writer_close(struct tree_writer *t, podrun_error_t *err);
