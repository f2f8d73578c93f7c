/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>

#include "appc.h"
#include "pod.h"
#include "podrun.h"

/* Pod networks (Documentation/networking.md): --net=host|none, or CNI
 * networks: default, default-restricted, the networks of
 * <local-config>/net.d, several at once (--net=a,b), with CNI_ARGS
 * (--net=NAME:K=V;K2=V2), or all of net.d (--net=all). */

#define NET_DEFAULT "default"
#define NET_DEFAULT_SUBNET "172.16.28.0/24"
#define NET_RESTRICTED_SUBNET "172.16.29.0/24"
/* host-local's reservations for the built-in networks: on /run, so that a
 * reboot, which takes every pod's network with it, frees them too */
#define NET_IPAM_DIR "/run/podrun/cni/networks"

/* A CNI network, not the host's or none. */
bool net_is_cni(const char *net);

/* --port=NAME:[HOSTIP:]HOSTPORT flags into the pod manifest's ports. */
int net_ports_from_flags(struct appc_pod_manifest *m, char **ports, podrun_error_t *err);

/* At prepare, before any pod exists: --net resolves (every configuration
 * of net.d parses, every plugin is there) and the pod's ports are the
 * apps' and go to a network that can forward them. */
int net_check(const char *net, const struct appc_pod_manifest *m, podrun_error_t *err);

/* At run: the pod's network namespace and its networks (net is CNI), and a
 * bound socket for each host port (*ret_fds, O_CLOEXEC: the caller passes
 * them on to the stage1). On failure nothing of it remains. */
int net_pod_setup(struct pod *p, const char *net, const struct appc_pod_manifest *m, int **ret_fds,
                  size_t *ret_n_fds, podrun_error_t *err);

/* CNI DEL of every network of the pod and removal of its netns (stop, gc,
 * rm): nothing to do for a pod without. */
int net_pod_teardown(struct pod *p, podrun_error_t *err);

