/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The App Container (appc) schema, spec 0.8.x: the image manifest and the
 * pod manifest, parsed from untrusted JSON into plain C structs, validated,
 * and serialised back. Unknown JSON fields are ignored (the spec allows
 * extensions); a known field with the wrong type is an error, as is any
 * value that breaks a rule of the spec. JSON null counts as absent, as it
 * does for the reference implementation (Go's encoding/json), whose pod
 * manifests carry "volumes": null and the like. Errors name the field:
 *   image manifest: "app.exec[0]": must not be empty
 *   pod manifest: "apps[1].name": "Web" is not a valid AC name
 * Every pointer a parsed struct holds is owned by it. */

#define APPC_IMAGE_MANIFEST_KIND "ImageManifest"
#define APPC_POD_MANIFEST_KIND "PodManifest"
/* The acVersion this code writes into manifests it creates. */
#define APPC_VERSION "0.8.11"
/* The longest AC name podrun takes (the spec sets none): a pod names files
 * and directories after its apps (status/<app>, logs/<app>.log.1,
 * overlay/<app>/), which must fit in a file name (255 bytes) with room for a
 * temporary suffix. An image name's last component, after which podrun
 * names the image's app, is held to it too. */
#define APPC_NAME_MAX 200

/* Labels, environment, annotations, user labels and user annotations. */
struct appc_kv
{
  char *name;
  char *value;
};
struct appc_kvs
{
  struct appc_kv *v;
  size_t n;
};
/* The value of the first entry called `name`, NULL if absent. */
const char *appc_kvs_get(const struct appc_kvs *kvs, const char *name);

/* The image annotation (App Container executor spec) of an app that says
 * READY=1 with sd_notify itself; stage0 copies it into the pod manifest's app. */
#define APPC_SUPPORTS_SYSTEMD_NOTIFY "appc.io/executor/supports-systemd-notify"

struct appc_pod_manifest;
/* The app of the pod that a socket passed by socket activation, named
 * `name` (LISTEN_FDNAMES), goes to: the first that declares a port of that
 * name, else the only app of a one-app pod; -1: none
 * (Documentation/systemd.md). */
ssize_t appc_pod_socket_app(const struct appc_pod_manifest *m, const char *name);
/* For manifests built in C: sets the first entry called `name` to value,
 * or appends one (copies of both); frees every entry. */
void appc_kvs_set(struct appc_kvs *kvs, const char *name, const char *value);
void appc_kvs_clear(struct appc_kvs *kvs);

struct appc_dependency
{
  char *image_name;          /* AC Identifier */
  char *image_id;            /* NULL if absent */
  struct appc_kvs labels;
  uint64_t size;             /* 0 if absent */
};

struct appc_event_handler
{
  char *name;                /* "pre-start" or "post-stop" */
  char **exec;               /* NULL-terminated, never empty */
};

struct appc_mount_point
{
  char *name;                /* AC Name */
  char *path;                /* absolute */
  bool read_only;
};

struct appc_port
{
  char *name;                /* AC Name */
  char *protocol;            /* "tcp", "udp" or anything else (the spec allows it) */
  unsigned port;             /* 1..65535 */
  unsigned count;            /* >= 1 (an absent or 0 count reads as 1); port + count <= 65536 */
  bool socket_activated;
};

struct appc_isolator
{
  char *name;                /* AC Identifier; the value is kept as opaque JSON */
  json_t *value;
};

struct appc_app
{
  char **exec;               /* NULL-terminated, NULL if absent */
  char *user, *group;        /* required, non-empty */
  gid_t *supplementary_gids;
  size_t n_supplementary_gids;
  struct appc_event_handler *event_handlers;
  size_t n_event_handlers;
  char *working_directory;   /* NULL if absent */
  struct appc_kvs environment;
  struct appc_mount_point *mount_points;
  size_t n_mount_points;
  struct appc_port *ports;
  size_t n_ports;
  struct appc_isolator *isolators;
  size_t n_isolators;
  struct appc_kvs user_annotations; /* free-form, sorted by name */
  struct appc_kvs user_labels;      /* free-form, sorted by name */
};

struct appc_image_manifest
{
  char *ac_version;
  char *name;                /* AC Identifier */
  struct appc_kvs labels;
  struct appc_app *app;      /* NULL if the image has no app */
  struct appc_dependency *dependencies;
  size_t n_dependencies;
  char **path_whitelist;     /* NULL-terminated, NULL if absent */
  struct appc_kvs annotations;
};

/* For apps built in C: the first isolator called `name` (NULL if none);
 * drops every isolator called `name` and, when value is not NULL, appends
 * {name, value}, taking value. */
struct appc_isolator *appc_app_get_isolator(const struct appc_app *a, const char *name);
void appc_app_set_isolator(struct appc_app *a, const char *name, json_t *value);
void appc_app_free(struct appc_app *a);
static inline void appc_app_freep(struct appc_app **a) { appc_app_free(*a); }

int appc_image_manifest_parse(const char *buf, size_t len, struct appc_image_manifest **ret,
                              podrun_error_t *err);
/* Returns NULL only when a string is not valid UTF-8 (parsed manifests
 * never have one). The output parses back to equal fields. */
json_t *appc_image_manifest_to_json(const struct appc_image_manifest *m);
/* Checks a manifest built in C by the same rules as the parser. */
int appc_image_manifest_validate(const struct appc_image_manifest *m, podrun_error_t *err);
void appc_image_manifest_free(struct appc_image_manifest *m);
static inline void appc_image_manifest_freep(struct appc_image_manifest **m) { appc_image_manifest_free(*m); }
#define _cleanup_image_manifest_ _cleanup_(appc_image_manifest_freep)

enum appc_volume_kind
{
  APPC_VOLUME_HOST,
  APPC_VOLUME_EMPTY,
};

struct appc_volume
{
  char *name;                /* AC Name */
  enum appc_volume_kind kind;
  char *source;              /* host: absolute path; empty: NULL */
  bool read_only;            /* default false */
  bool recursive;            /* default true; only meaningful for host */
  mode_t mode;               /* empty: default 0755 (written as "0755"); host: 0 */
  uid_t uid;                 /* empty: default 0; host: 0 */
  gid_t gid;                 /* empty: default 0; host: 0 */
};

struct appc_mount
{
  char *volume;              /* AC Name */
  char *path;                /* absolute */
  struct appc_volume *app_volume; /* NULL if absent */
};

struct appc_runtime_image
{
  char *name;                /* AC Identifier, NULL if absent */
  char *id;                  /* image id, required */
  struct appc_kvs labels;
};

struct appc_runtime_app
{
  char *name;                /* AC Name, unique within the pod */
  struct appc_runtime_image image;
  struct appc_app *app;      /* NULL: use the image's app */
  bool read_only_rootfs;
  struct appc_mount *mounts;
  size_t n_mounts;
  struct appc_kvs annotations;
};

struct appc_exposed_port
{
  char *name;                /* AC Name, unique within the pod */
  unsigned host_port;        /* 1..65535 */
  char *host_ip;             /* IPv4 dotted quad, NULL if absent */
  struct appc_port *pod_port; /* NULL if absent */
};

struct appc_pod_manifest
{
  char *ac_version;
  struct appc_runtime_app *apps;
  size_t n_apps;
  struct appc_volume *volumes;
  size_t n_volumes;
  struct appc_isolator *isolators;
  size_t n_isolators;
  struct appc_kvs annotations;
  struct appc_exposed_port *ports;
  size_t n_ports;
  struct appc_kvs user_annotations; /* free-form, sorted by name */
  struct appc_kvs user_labels;      /* free-form, sorted by name */
};

int appc_pod_manifest_parse(const char *buf, size_t len, struct appc_pod_manifest **ret, podrun_error_t *err);
json_t *appc_pod_manifest_to_json(const struct appc_pod_manifest *m);
int appc_pod_manifest_validate(const struct appc_pod_manifest *m, podrun_error_t *err);
void appc_pod_manifest_free(struct appc_pod_manifest *m);
static inline void appc_pod_manifest_freep(struct appc_pod_manifest **m) { appc_pod_manifest_free(*m); }
#define _cleanup_pod_manifest_ _cleanup_(appc_pod_manifest_freep)

/* AC Name: [a-z0-9-], first and last character [a-z0-9] (app, volume, port
 * and mount point names). Like the reference implementation, and unlike the
 * regular expression in spec/types.md, separators may follow each other. */
bool appc_name_is_valid(const char *s);
/* AC Identifier: [a-z0-9-._~/], first and last character [a-z0-9] (image,
 * label, annotation and isolator names), e.g. "example.com/~user/app_v1". */
bool appc_identifier_is_valid(const char *s);
/* Why an annotation's value breaks the format the spec gives its name
 * ("created": RFC 3339; "homepage", "documentation": an http(s) URL), or
 * NULL when it does not. */
const char *appc_annotation_value_check(const char *name, const char *value);
/* "sha512-" followed by 1..128 lower-case hex digits (a full id has 128), or
 * "sha256-" and 1..64 (an OCI image's). */
bool appc_image_id_is_valid(const char *s);
/* Environment variable names: ^[A-Za-z_][A-Za-z0-9_.-]*$ */
bool appc_env_name_is_valid(const char *s);
/* One of the spec's os/arch combinations (types.ValidOSArch); arch may be
 * NULL, then os alone must be known. */
bool appc_os_arch_is_valid(const char *os, const char *arch);
/* A SemVer 2.0.0 string; ret_major/ret_minor may be NULL. */
bool appc_semver_parse(const char *s, unsigned long *ret_major, unsigned long *ret_minor);
/* A valid acVersion this code understands: 0.x.y with x >= 8. */
bool appc_version_is_supported(const char *s);
