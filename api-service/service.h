/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>

#include "http.h"
#include "router.h"

#define PODRUN_API_VERSION "0.1.0"

/* What every handler reads from: --dir, opened read-only. */
struct api_context
{
  char *dir;      /* --dir */
  char *pods_dir; /* <dir>/pods */
  char *openapi;  /* --openapi: a document to serve instead of the built-in one */
  struct api_http *http;
  unsigned max_streams;
  char *tmpdir;   /* the service's own (made after dropping root), for copies of a busy index */
  _Atomic unsigned long snapshots;
  struct pod_cache_entry *pod_cache; /* the objects of pods that ended (service.c) */
  size_t pod_cache_size;
  pthread_mutex_t pod_cache_lock;
  bool kvm;       /* probed before dropping root */
  char **flavors; /* the stage1 flavors installed */
};

/* What the service learns while still root: KVM, the stage1 flavors. */
void api_context_probe(struct api_context *ctx, const char *system_config);

/* A pod by UUID or unique prefix: 404 when none, 400 when no UUID or ambiguous. */
struct pod;
int api_load_pod(struct api_context *ctx, const char *uuid, struct pod **ret, podrun_error_t *err);

void api_context_init(struct api_context *ctx, const char *dir);
void api_context_done(struct api_context *ctx);

/* Runs fn over the store, opened read-only for this request (s NULL when
 * there is no index yet: podrun makes it with the first image), and again
 * (again: true; fn discards what it read before) when the index changed
 * under it (store_changed). */
struct store;
typedef int (*api_store_fn)(struct store *s, void *data, bool again, podrun_error_t *err);
int api_with_store(struct api_context *ctx, api_store_fn fn, void *data, podrun_error_t *err);
bool api_exists(const char *path);

/* The API's routes (service.c). */
extern const struct api_route api_routes[];

/* Handlers of the other files. */
int api_pod_logs(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                 podrun_error_t *err);
int api_events(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
               podrun_error_t *err);

/* Documentation/openapi.json as built in (openapi-doc.c), NUL-terminated. */
extern const char api_openapi_doc[], api_openapi_doc_end[];
