/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* Pod networking with CNI plugins (Documentation/networking.md): a network
 * namespace bind-mounted in the pod directory, each network added to it by
 * its plugins (exec'd with a clean environment, the configuration on stdin),
 * and what they answered kept in the pod directory, so that the networks can
 * be deleted again by whoever comes last: the stage1 when the pod exits,
 * stop, gc and rm. Nothing here trusts anything a pod could write: the
 * files are the pod directory's, which only the host writes. */

#define CNI_PLUGIN_DIR "/usr/lib/cni"
#define CNI_NETNS_FILE "netns"        /* in the pod directory: the network namespace, bind-mounted */
#define CNI_NET_INFO "net-info.json"  /* in the pod directory: the networks and their ADD results */
#define CNI_VERSION "1.0.0"
#define CNI_IPTABLES "/usr/sbin/iptables"
#define CNI_MAX_NETWORKS 16
/* The sockets that hold a pod's host ports (fds passed to the stage1, which
 * keeps them open and out of the pod for the pod's life), comma-separated. */
#define CNI_PORT_FDS_ENV "PODRUN_PORT_FDS"
/* An fd of the host's mount namespace, for the stage1 to remove the netns
 * bind mount from there when the pod exits. */
#define CNI_HOST_MNTNS_ENV "PODRUN_HOST_MNTNS_FD"
/* In a stage1's run: the fds stage0 passed (CNI_PORT_FDS_ENV,
 * CNI_HOST_MNTNS_ENV) become close-on-exec, so that they stay open here
 * for the pod's life but reach nothing it starts, and their variables go;
 * returns the host's mount namespace fd, -1 if none was passed. */
int cni_take_passed_fds(void);

/* One network of a pod, as added (and to be deleted) */
struct cni_net
{
  char *name;   /* the configuration's "name" */
  char *file;   /* where it came from, for messages: a path, or "built-in" */
  char *ifname; /* eth0, eth1 … in the order given */
  char *args;   /* CNI_ARGS ("K=V;K2=V2"), NULL when none */
  json_t *conf; /* the conflist: cniVersion, name, plugins (each with its runtimeConfig) */
  /* The built-in default network's NAT: one masquerade rule for its whole
   * subnet, there while host-local's directory ipam_dir holds an address
   * (podrun's, not ptp's per-pod ipMasq chains, which cost fifteen iptables
   * runs a pod); NULL for every other network. */
  char *masq_subnet, *ipam_dir;
};
void cni_net_done(struct cni_net *n);

/* A network name as CNI has them: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128. */
bool cni_name_is_valid(const char *s);

/* Parses a .conf (one plugin) or .conflist from text into a conflist
 * (plugins in order); `what` names it in errors ("/etc/podrun/net.d/a.conf").
 * Every plugin's type (and ipam type) must be a plugin of CNI_PLUGIN_DIR. */
int cni_conf_parse(const char *text, size_t len, const char *what, json_t **ret_conflist, podrun_error_t *err);

/* Creates the network namespace at dir/netns (a new file, bind-mounted in
 * the calling process's mount namespace) with its loopback up. */
int cni_netns_create(int poddirfd, podrun_error_t *err);
/* This process's network namespace bound at the pod's CNI_NETNS_FILE (made
 * here, O_EXCL; removed again on failure), and its loopback brought up: the
 * two halves of cni_netns_create, for a process that made or joined the
 * namespace itself (podrun-oci's container process). */
int cni_netns_bind_self(int poddirfd, podrun_error_t *err);
int cni_loopback_up(podrun_error_t *err);

/* Adds nets[0..n) to the pod's netns (pod path podpath, container id uuid)
 * and writes net-info.json before (what is about to be added) and after
 * (with each network's result). On failure, what was added is deleted
 * again and the netns removed: nothing of it remains. */
int cni_pod_setup(int poddirfd, const char *podpath, const char *uuid, struct cni_net *nets, size_t n,
                  podrun_error_t *err);

/* Deletes every network net-info.json lists (idempotent: again after a DEL
 * is harmless), then unmounts and removes the netns (in the mount namespace
 * of host_mntns_fd when ≥ 0, else the caller's). Nothing to do without
 * net-info.json and netns. A network whose DEL fails keeps the netns for the
 * next try; the error names it. */
int cni_pod_teardown(int poddirfd, const char *podpath, const char *uuid, int host_mntns_fd, podrun_error_t *err);

/* net-info.json, parsed (NULL without one). */
int cni_net_info_read(int poddirfd, json_t **ret, podrun_error_t *err);

/* The addresses of net-info.json's network entry `net` ("172.16.28.2/24", …), NULL-terminated. */
char **cni_net_addresses(json_t *net);

/* The apps' resolv.conf from the DNS of the networks' results (their
 * nameservers, search domains and options, in order), NULL when they
 * give no nameserver. */
char *cni_resolv_conf(int poddirfd);

/* Whether a CNI plugin (or what it runs: ptp's host-local) is at work for
 * the pod uuid: a process whose environment has its CNI_CONTAINERID. One
 * left by a podrun killed during ADD may still be adding: gc waits for it. */
bool cni_plugins_at_work(const char *uuid);
