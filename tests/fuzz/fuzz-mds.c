/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-metadata's two sides (api-service/mds.h). The input is a method,
 * a newline, a request target, a newline and a body. The pods' side gets
 * it with "TOKEN" in the target replaced by the token of a registered pod
 * (so the paths after it are reached), its body as a form; the
 * registration side gets the body as a registration, from root. Every
 * reply must be a status the service gives, an error's body {"error": …,
 * "status": N} with the same N, and nothing registered may stay (each
 * registration is undone). */
#include <stdint.h>
#include <sys/syscall.h>

#include "api-service/mds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POD "{\"uuid\": \"11111111-2222-4333-8444-555555555555\", \"addresses\": [\"10.0.0.2\"], " \
  "\"manifest\": {\"acKind\": \"PodManifest\", \"acVersion\": \"0.8.11\", \"apps\": [{\"name\": \"a\", " \
  "\"image\": {\"id\": \"sha512-" \
  "0000000000000000000000000000000000000000000000000000000000000000" \
  "0000000000000000000000000000000000000000000000000000000000000000\"}}]}, \"apps\": [{\"name\": \"a\", " \
  "\"image_id\": \"sha512-" \
  "0000000000000000000000000000000000000000000000000000000000000000" \
  "0000000000000000000000000000000000000000000000000000000000000000\", \"image_manifest\": " \
  "{\"acKind\": \"ImageManifest\", \"acVersion\": \"0.8.11\", \"name\": \"x.test/a\", " \
  "\"annotations\": [{\"name\": \"n\", \"value\": \"v\"}]}}]}"

static void check_reply(const struct api_reply *r)
{
  static const int ok[] = { 200, 201, 400, 403, 404, 405, 409, 415, 500, 503 };
  bool known = false;
  for (size_t i = 0; i < ELEMENTSOF(ok); i++)
    known = known || r->status == ok[i];
  if (!known)
    abort();
  if (r->status >= 400 && json_integer_value(json_object_get(r->json, "status")) != r->status)
    abort();
}

static struct mds *m;
static char *token;

static void setup(void)
{
  struct api_http_request req = { .method = "POST", .target = "/v1/pods", .content_type = "application/json",
                                  .body = POD, .body_len = strlen(POD), .fd = -1 };
  struct mds_peer peer = { .root = true, .pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0) };
  struct api_reply r;
  m = mds_new(NULL);
  mds_register_request(m, &req, &peer, &r);
  if (r.status != 201)
    abort();
  token = xstrdup(json_string_value(json_object_get(r.json, "token")));
  api_reply_done(&r);
}

/* s with every "TOKEN" replaced by the pod's token. */
static char *with_token(const char *s)
{
  char *out = xstrdup("");
  for (const char *p; (p = strstr(s, "TOKEN")); s = p + 5)
    {
      char *t = xasprintf("%s%.*s%s", out, (int) (p - s), s, token);
      free(out);
      out = t;
    }
  char *t = xasprintf("%s%s", out, s);
  free(out);
  return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!m)
    setup();
  _cleanup_free_ char *s = xmalloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  char *nl = memchr(s, '\n', size), *nl2 = nl ? memchr(nl + 1, '\n', size - (size_t) (nl + 1 - s)) : NULL;
  if (!nl || !nl2)
    return 0;
  *nl = *nl2 = '\0';
  const char *body = nl2 + 1;
  size_t body_len = size - (size_t) (body - s);
  _cleanup_free_ char *target = with_token(nl + 1);
  struct api_http_request req = { .method = s, .target = target, .content_type = "application/x-www-form-urlencoded",
                                  .body = body, .body_len = body_len, .fd = -1 };
  struct mds_peer pod = { .addr = "10.0.0.2", .pidfd = -1 };
  struct api_reply r;
  mds_pod_request(m, &req, &pod, &r);
  check_reply(&r);
  api_reply_done(&r);

  /* the body as a registration (a uuid of its own is undone at once) */
  struct api_http_request reg = { .method = "POST", .target = "/v1/pods", .content_type = "application/json",
                                  .body = body, .body_len = body_len, .fd = -1 };
  struct mds_peer root = { .root = true, .pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0) };
  mds_register_request(m, &reg, &root, &r);
  check_reply(&r);
  api_reply_done(&r);
  if (root.pidfd >= 0)
    close(root.pidfd);
  if (mds_count(m) > 1)
    {
      /* the only registration besides POD's: find its uuid through the list */
      struct api_http_request list = { .method = "GET", .target = "/v1/pods", .fd = -1, .body = "" };
      struct mds_peer lr = { .root = true, .pidfd = -1 };
      mds_register_request(m, &list, &lr, &r);
      size_t i;
      json_t *p;
      json_array_foreach (json_object_get(r.json, "pods"), i, p)
        {
          const char *uuid = json_string_value(json_object_get(p, "uuid"));
          if (!streq(uuid, "11111111-2222-4333-8444-555555555555"))
            {
              _cleanup_free_ char *t = xasprintf("/v1/pods/%s", uuid);
              struct api_http_request del = { .method = "DELETE", .target = t, .fd = -1, .body = "" };
              struct api_reply d;
              mds_register_request(m, &del, &lr, &d);
              if (d.status != 200)
                abort();
              api_reply_done(&d);
            }
        }
      api_reply_done(&r);
    }
  if (mds_count(m) != 1)
    abort();
  return 0;
}
