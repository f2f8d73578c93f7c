/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "pod.h"
#include "store/store.h"

/* The read side that `podrun list`, `status`, `image list`, `logs` and the
 * API service (podrun-api) share: what a pod directory and the image index
 * say, read without a lock held and without writing anything, and one JSON
 * serialiser per object, so that the CLI's --format=json and GET /v1/…
 * give the same objects (Documentation/api.md lists their fields). */

struct inspect_app
{
  char *name;
  char *image_name;
  char *image_id;
  int exit_code;   /* -1 while it has none */
  int64_t exited;  /* µs: when its exit code was written; 0 if none */
};

struct inspect_pod
{
  int64_t created; /* µs */
  int64_t started; /* µs, 0 if never */
  pid_t pid;       /* 0 if none */
  struct inspect_app *apps;
  size_t n_apps;
  json_t *manifest; /* the pod manifest as JSON; NULL for an embryo */
};

/* Reads what the pod's directory records. An embryo (or a pod whose
 * preparation was abandoned) has no manifest and shows with no apps. */
int inspect_pod_read(struct pod *p, struct inspect_pod *ret, podrun_error_t *err);
void inspect_pod_done(struct inspect_pod *i);

/* stage1/policy, as prepare wrote it: {"stage1": the flavor or the stage1
 * image's name, "rule": the stage1 policy's rule that decided for the pod
 * or null, "flag": the --stage1* flag that chose it or null}; NULL for a
 * pod from a podrun before it (or a record that is not that). */
json_t *inspect_pod_stage1_record(struct pod *p);
/* The pod's network as its stage1 recorded it in `net`; NULL if it did not. */
char *inspect_pod_network(struct pod *p);
/* How a kvm pod's VM runs ("kvm", "tcg"), as its stage1 recorded it in
 * `accelerator`; NULL for a pod without. */
char *inspect_pod_accelerator(struct pod *p);
/* [{"name","ifname","ips":[…]}] of the pod's CNI networks while they
 * exist (its netns is there), NULL when it has none. */
json_t *inspect_pod_networks(struct pod *p);
/* "SHIFT:RANGE" of a --private-users pod; NULL for one without. */
char *inspect_pod_private_users(struct pod *p);

/* Has the pod ended (exited, garbage, or a preparation abandoned)? */
bool inspect_pod_is_done(enum pod_state s);

/* The pod as JSON (the one shape list, status and GET /v1/pods/… give). */
json_t *inspect_pod_json(struct pod *p, const struct inspect_pod *i);

/* An image as JSON (image list and GET /v1/images); s may be NULL (no
 * signer is looked up then). */
json_t *inspect_image_json(struct store *s, const struct store_image *img);

/* Who signed the image (store_get_signer): signer_fingerprint,
 * signer_prefix, verified_time(_us); nulls for an image fetched unverified. */
json_t *inspect_image_signer_json(struct store *s, const char *id);

/* Sets key to usec as RFC 3339 (UTC, µs) and key_us to the number; both
 * null when usec is 0. */
void inspect_set_time(json_t *o, const char *key, int64_t usec);

/* An app's logs as its stage1 kept them (logs/<app>.log.1, then
 * logs/<app>.log), at most 64 MiB each; an error for a pod not started yet
 * or a stage1 that keeps none. *ret_current (if not NULL): the bytes of it
 * that came from logs/<app>.log, which a follower reads on from. */
int inspect_logs_read(struct pod *p, const char *app, char **ret, size_t *ret_len, size_t *ret_current,
                      podrun_error_t *err);
/* Follows logs/<app>.log of an open pod directory (not owned) as it grows,
 * from `current` bytes (what inspect_logs_read gave of it), and from the
 * start of the new file once the stage1 rotated it. */
struct inspect_log_cursor
{
  int dirfd;
  char *path;
  ino_t ino;
  off_t off;
};
void inspect_log_follow(struct inspect_log_cursor *c, int dirfd, const char *app, size_t current);
/* What the log grew by: up to max bytes, 0 when nothing new (or no file). */
ssize_t inspect_log_next(struct inspect_log_cursor *c, char *buf, size_t max);
void inspect_log_cursor_done(struct inspect_log_cursor *c);
/* Is the pod still running? (A follower stops once it is not.) */
bool inspect_pod_running(const char *pods_dir, const char *uuid);
/* Where the last `lines` lines of buf start (all when lines < 0); a last
 * line without its newline counts as a line. */
size_t inspect_tail_start(const char *buf, size_t len, long lines);
