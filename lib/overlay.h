/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

/* An image's layers as overlayfs lower directories: each opened once
 * (O_PATH, or an idmapped mount of it for a user namespace) and named to
 * overlayfs as "/proc/self/fd/N", top first. Short whatever the store's
 * path (mount(2) takes a page of options, fsconfig 256 bytes a value), and
 * never resolved by name again. */
struct overlay_lowers
{
  int *fds;
  size_t n;
  char *spec; /* "/proc/self/fd/7:/proc/self/fd/6", the top layer first */
};

/* layers: directories, bottom first. usernsfd ≥ 0: each is an idmapped
 * mount of the layer for that user namespace. */
int overlay_lowers_open(char *const *layers, int usernsfd, struct overlay_lowers *ret, podrun_error_t *err);
void overlay_lowers_done(struct overlay_lowers *l);

/* A read-only overlay of the lower directories of spec (':'-separated, top
 * first), attached nowhere: *ret_mntfd, to be read as /proc/self/fd/N. */
int overlay_mount_detached(const char *spec, int *ret_mntfd, podrun_error_t *err);
