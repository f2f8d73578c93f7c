/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod.h"
#include "podrun.h"

/* `run`/`prepare`/`run-prepared --mds-register` (Documentation/metadata-service.md):
 * the pod registered with podrun-metadata over its unix socket (root's), and
 * AC_METADATA_URL for its apps in the pod directory's MDS_URL_FILE (mode
 * 0600, read by stage2 beside the pod manifest, never on a command line). */

#define MDS_SOCKET_DEFAULT "/run/podrun/mds.sock"
#define MDS_SOCKET_ENV "PODRUN_MDS_SOCKET" /* another socket (tests, a second service) */
#define MDS_URL_FILE "mds-url"
#define MDS_REGISTER_FILE "mds-register"   /* prepare's --mds-register=true, kept for run-prepared */

/* --mds-register's value as given (NULL: not given). */
extern const char *arg_mds_register;

/* Whether the pod is to be registered: run-prepared's flag when given, else
 * what prepare kept. */
int mds_wanted(struct pod *p, bool *ret, podrun_error_t *err);

struct store;
struct appc_pod_manifest;
/* Registers the pod (its networks set up: net-info.json gives its
 * addresses) and writes MDS_URL_FILE, owned by the pod's root (host uid
 * userns_shift with --private-users, else root). On failure nothing of it
 * remains. */
int mds_pod_register(struct store *s, struct pod *p, const char *pod_text, const struct appc_pod_manifest *m,
                     char *const *flags, uid_t userns_shift, podrun_error_t *err);
/* Undoes mds_pod_register (a start that failed after it): best effort. */
void mds_pod_unregister(struct pod *p);
