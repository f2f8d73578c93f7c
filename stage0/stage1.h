/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "run-args.h"

/* What a stage1 declares it can do, in its image manifest's annotations
 * (Documentation/stage1-contract.md, "What a stage1 supports"). stage0
 * checks the pod flags against it before any pod exists; what a stage1
 * does not declare, it is taken not to do (the contract's minimum). */
struct stage1_features
{
  char *name;           /* the stage1 image's name, for messages */
  char **net;           /* podrun/stage1/supports-net: the --net values it takes ("host" without; "cni": any CNI network) */
  bool private_users;   /* podrun/stage1/supports-private-users */
  bool dns;             /* podrun/stage1/supports-dns: --dns, --dns-search, --dns-opt */
  bool hosts_entry;     /* podrun/stage1/supports-hosts-entry */
  bool interactive;     /* podrun/stage1/supports-interactive */
  bool systemd_notify;  /* podrun/stage1/supports-systemd-notify: NOTIFY_SOCKET (a Type=notify service) */
  bool socket_activation; /* podrun/stage1/supports-socket-activation: LISTEN_FDS reach the apps */
  bool metadata_service;  /* podrun/stage1/supports-metadata-service: --mds-register */
  unsigned long long max_apps; /* podrun/stage1/max-apps; 0: no limit */
};

int stage1_features_parse(const struct appc_image_manifest *m, struct stage1_features *ret, podrun_error_t *err);
/* What the stage1 image stage1_id of the store supports. */
int stage1_features_of(struct store *s, const char *stage1_id, struct stage1_features *ret, podrun_error_t *err);
/* What this start's environment asks of the pod's stage1 (a Type=notify
 * service's NOTIFY_SOCKET, a socket unit's LISTEN_FDS for this process) and
 * --mds-register: one line naming the first it does not support. */
int stage1_features_check_start(const struct stage1_features *f, bool mds_register, podrun_error_t *err);
void stage1_features_done(struct stage1_features *f);

/* The pod flags of r, for a pod of n_apps apps, against what the stage1
 * supports: one line naming the first flag it cannot honour. */
int stage1_features_check(const struct stage1_features *f, const struct run_args *r, size_t n_apps,
                          podrun_error_t *err);

/* The pod's network when --net is not given: default for a stage1 that
 * joins CNI networks, else the host's. */
const char *stage1_default_net(const struct stage1_features *f);
