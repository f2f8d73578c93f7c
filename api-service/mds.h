/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "http.h"
#include "router.h"

/* podrun-metadata: the App Container metadata service (spec/ace.md, "App
 * Container Metadata Service"; Documentation/metadata-service.md). Two
 * sides, each a handler of the shared HTTP core (http.h):
 *
 *  - registration, on a unix socket only root reaches: `podrun run
 *    --mds-register` posts the pod (uuid, pod manifest, each app's image id
 *    and manifest, the pod's addresses) and gets a token back; the service
 *    makes the pod's HMAC key, which never leaves it, and drops the pod as
 *    soon as the process that registered it (podrun, which became the pod's
 *    stage1) exits;
 *  - the pods', on TCP: /TOKEN/acMetadata/v1/… as the spec gives them. The
 *    token alone names the pod, and for a pod with addresses the request
 *    must come from one of them: a pod reads its own data and signs as
 *    itself, never as another. */

#define MDS_DEFAULT_PORT 18112
#define MDS_DEFAULT_SOCKET "/run/podrun/mds.sock"
#define MDS_DEFAULT_TCP "tcp:0.0.0.0:18112"
#define MDS_TOKEN_BYTES 32   /* 256 bits, as 64 hex digits in the URL */
#define MDS_KEY_BYTES 64     /* a pod's HMAC-SHA512 key */
#define MDS_MAX_PODS 4096
#define MDS_MAX_REGISTRATION (4 * 1024 * 1024) /* bytes of a registration's body */
#define MDS_MAX_FORM (64 * 1024)               /* bytes of a sign or verify form */
#define MDS_MAX_PER_POD 32                     /* connections at once from one address */

struct mds;

/* tcp: the pods' listeners ("tcp:0.0.0.0:18112", …), told to registrants. */
struct mds *mds_new(char *const *tcp);
void mds_free(struct mds *m);

/* Who is asking: for the pods' side, the peer's address (NULL when not
 * TCP); for registration, whether the peer is root and a pidfd of its
 * process (taken over by a registration, else closed by the caller). */
struct mds_peer
{
  const char *addr; /* numeric, IPv4-mapped IPv6 as IPv4 */
  bool root;
  int pidfd;
};

/* The two sides' requests, free of sockets (the unit tests and the fuzz
 * target call them). */
void mds_pod_request(struct mds *m, const struct api_http_request *req, const struct mds_peer *peer,
                     struct api_reply *ret);
void mds_register_request(struct mds *m, const struct api_http_request *req, struct mds_peer *peer,
                          struct api_reply *ret);

/* The same, the peer read from req->fd: handlers for api_http_start(). */
void mds_handle_pod(void *m, const struct api_http_request *req, struct api_reply *ret);
void mds_handle_register(void *m, const struct api_http_request *req, struct api_reply *ret);

/* Drops the pods whose registering process has exited; waits up to
 * timeout_ms for one to exit. Returns how many went. */
unsigned mds_reap(struct mds *m, int timeout_ms);
/* Pods registered now. */
size_t mds_count(struct mds *m);

/* The form of a sign or verify request (application/x-www-form-urlencoded):
 * the value of each key of `keys` (NULL-terminated), percent-decoded
 * (values may hold any byte, NUL included), into values[] and lens[]
 * (NULL when the key is absent). A key not in `keys`, a key given twice or
 * a malformed escape is a 400. */
int mds_form_parse(const char *body, size_t len, const char *const *keys, char **values, size_t *lens,
                   podrun_error_t *err);
