/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "json-util.h"

/* A bundle's config.json (the OCI runtime spec) as a one-app podrun pod
 * (Documentation/oci-runtime.md): the appc pod manifest of its app, and
 * what goes to the pod flags, the hooks and the state instead. */

#define OCI_APP_NAME "app"
#define OCI_CONFIG_MAX (4u << 20) /* bytes of config.json */

enum oci_hook_kind
{
  OCI_HOOK_PRESTART,
  OCI_HOOK_CREATE_RUNTIME,
  OCI_HOOK_CREATE_CONTAINER,
  OCI_HOOK_START_CONTAINER,
  OCI_HOOK_POSTSTART,
  OCI_HOOK_POSTSTOP,
  _OCI_HOOK_MAX,
};

/* "prestart", "createRuntime", …: the spec's key */
const char *oci_hook_kind_name(enum oci_hook_kind k);

enum oci_net
{
  OCI_NET_HOST, /* no network namespace: the host's */
  OCI_NET_NONE, /* a new one: loopback only */
  OCI_NET_PATH, /* an existing one, joined */
};

struct oci_spec
{
  char *rootfs;        /* absolute */
  bool readonly;       /* root.readonly */
  bool terminal;       /* process.terminal */
  char *hostname;      /* NULL: none given */
  enum oci_net net;
  char *netns_path;    /* OCI_NET_PATH */
  bool ns_pid, ns_ipc, ns_uts; /* the namespaces asked for, besides mount and network */
  char *ipc_path, *uts_path;   /* an existing one's path (fly joins it; nspawn makes its own: a warning) */
  json_t *pod_manifest; /* the appc pod manifest (its app OCI_APP_NAME) */
  json_t *annotations;  /* config.json's, an object (never NULL once parsed) */
  json_t *hooks[_OCI_HOOK_MAX]; /* each an array (or NULL), checked: path absolute, args, env, timeout */
  char **warnings;     /* what the mapping could not apply, for the log */
  json_t *tmpfs;       /* the tmpfs mounts, podrun.io/tmpfs's value (NULL: none) */
  json_t *bind_attrs;  /* the binds' mount attributes, podrun.io/bind-attributes's value (NULL: none) */
};

void oci_spec_done(struct oci_spec *c);

/* Parses config.json's text (len bytes; bundle: the bundle directory, for
 * a relative root.path, which must stay inside it) into *ret; image_id: the
 * id the app's image gets in the manifest. One error naming the key and
 * the reason. Checks nothing on disk but where root.path leads. */
int oci_spec_parse(const char *bundle, const char *text, size_t len, const char *image_id,
                     struct oci_spec *ret, podrun_error_t *err);

/* An annotation of the config, NULL when absent (or not a string). */
const char *oci_spec_annotation(const struct oci_spec *c, const char *key);
