/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "error.h"

/* Resolves appc's app.user / app.group inside the app's root, which must
 * already be the process root (stage2 chroots first, so /etc/passwd and
 * every symlink resolve inside the image, never on the host):
 *   "1000"        a number
 *   "daemon"      a name from the image's /etc/passwd (/etc/group)
 *   "/etc/file"   an absolute path: the owner (group) of that file, as rkt did */
int identity_resolve_user(const char *user, uid_t *ret, podrun_error_t *err);
int identity_resolve_group(const char *group, gid_t *ret, podrun_error_t *err);
