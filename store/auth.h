/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Credentials for a registry host, from the files that hold them: rkt's
 * dockerAuth files in auth.d directories
 *   {"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["HOST:PORT"],
 *    "credentials": {"user": "U", "password": "P"}}
 * and the containers' auth.json (podman's --authfile)
 *   {"auths": {"HOST:PORT": {"auth": "base64(U:P)"}}}   (or "username", "password").
 * Either format is read from either place. Files that others could write
 * (not owned by root or the caller, group- or world-writable) are refused:
 * whoever can change them chooses where podrun sends the user's secret and
 * whose images it pulls. */
#include "error.h"

/* Looks host ("HOST[:PORT]") up in authfile (if not NULL), then in the *.json
 * files of each of auth_dirs (NULL-terminated; missing ones are skipped), in
 * name order: the first entry for host wins. No entry: 0 with *ret_user and
 * *ret_password NULL. A file that cannot be read or parsed is an error
 * naming it. */
int auth_find(const char *const *auth_dirs, const char *authfile, const char *host, char **ret_user,
              char **ret_password, podrun_error_t *err);
