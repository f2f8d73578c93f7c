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
  char *openapi;  /* the OpenAPI document's path */
  pthread_mutex_t store_lock; /* one SQLite connection for every thread */
  struct store *store;        /* opened read-only at first use; NULL until there is an index */
  struct api_http *http;
  unsigned max_streams;
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

/* The API's routes (service.c). */
extern const struct api_route api_routes[];

/* Handlers of the other files. */
int api_pod_logs(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                 podrun_error_t *err);
int api_events(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
               podrun_error_t *err);
