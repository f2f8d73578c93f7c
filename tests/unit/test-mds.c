/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-metadata without sockets (api-service/mds.h): registration and its
 * refusals, the pods' paths and their content types, tokens and addresses,
 * HMAC sign and verify, forms, unregistration when the registrant exits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "api-service/mds.h"

#define UUID_A "11111111-2222-4333-8444-555555555555"
#define UUID_B "11111111-2222-4333-8444-666666666666"
#define IMAGE_ID "sha512-" \
  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static char *registration(const char *uuid, const char *pod_annotations)
{
  return xasprintf(
      "{\"uuid\": \"%s\", \"addresses\": [\"172.16.28.5\"],"
      " \"manifest\": {\"acKind\": \"PodManifest\", \"acVersion\": \"0.8.11\", %s"
      "  \"apps\": [{\"name\": \"web\", \"image\": {\"id\": \"" IMAGE_ID "\"},"
      "   \"annotations\": [{\"name\": \"b\", \"value\": \"pod's\"}, {\"name\": \"c\", \"value\": \"3\"}]}]},"
      " \"apps\": [{\"name\": \"web\", \"image_id\": \"" IMAGE_ID "\","
      "  \"image_manifest\": {\"acKind\": \"ImageManifest\", \"acVersion\": \"0.8.11\", \"name\": \"example.com/web\","
      "   \"annotations\": [{\"name\": \"a\", \"value\": \"1\"}, {\"name\": \"b\", \"value\": \"image's\"}]}}]}",
      uuid, pod_annotations);
}

/* A child that waits for a byte on its pipe: a registrant whose exit the test decides. */
static pid_t child(int *ret_wfd)
{
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0)
    {
      char c;
      close(p[1]);
      (void) !read(p[0], &c, 1);
      _exit(0);
    }
  close(p[0]);
  *ret_wfd = p[1];
  return pid;
}

static int do_register(struct mds *m, const char *body, pid_t pid, char **ret_token)
{
  struct api_http_request req = { .method = "POST", .target = "/v1/pods", .content_type = "application/json",
                                  .body = body, .body_len = strlen(body), .fd = -1 };
  struct mds_peer peer = { .root = true, .pidfd = (int) syscall(SYS_pidfd_open, pid, 0) };
  struct api_reply r;
  assert_true(peer.pidfd >= 0);
  mds_register_request(m, &req, &peer, &r);
  if (peer.pidfd >= 0)
    close(peer.pidfd);
  int status = r.status;
  if (status == 201 && ret_token)
    *ret_token = xstrdup(json_string_value(json_object_get(r.json, "token")));
  api_reply_done(&r);
  return status;
}

/* GET (or POST of form) path under /TOKEN/acMetadata/v1/ from addr. */
static int ask(struct mds *m, const char *token, const char *path, const char *form, const char *addr,
               struct api_reply *ret)
{
  _cleanup_free_ char *target = xasprintf("/%s/acMetadata/v1/%s", token, path);
  struct api_http_request req = { .method = form ? "POST" : "GET", .target = target, .fd = -1,
                                  .content_type = form ? "application/x-www-form-urlencoded" : NULL,
                                  .body = form ?: "", .body_len = form ? strlen(form) : 0 };
  struct mds_peer peer = { .addr = addr, .pidfd = -1 };
  mds_pod_request(m, &req, &peer, ret);
  return ret->status;
}

static void test_register_and_read(void **state)
{
  struct mds *m = mds_new(NULL);
  _cleanup_free_ char *body = registration(UUID_A, ""), *token = NULL;
  int wfd;
  pid_t pid = child(&wfd);
  struct api_reply r;

  assert_int_equal(do_register(m, body, pid, &token), 201);
  assert_int_equal(strlen(token), 64);
  assert_int_equal(do_register(m, body, pid, NULL), 409); /* the same uuid again */
  assert_int_equal(ask(m, token, "pod/uuid", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.content_type, "text/plain; charset=us-ascii");
  assert_string_equal(r.text, UUID_A);
  api_reply_done(&r);
  /* none set: [] (and the manifest reified with it) */
  assert_int_equal(ask(m, token, "pod/annotations", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.content_type, "application/json");
  assert_string_equal(r.text, "[]");
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "pod/manifest", NULL, "172.16.28.5", &r), 200);
  assert_non_null(strstr(r.text, "\"annotations\":[]"));
  api_reply_done(&r);
  /* the image's, the pod's over them in place, then the pod's new ones */
  assert_int_equal(ask(m, token, "apps/web/annotations", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.text, "[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b\",\"value\":\"pod's\"},"
                              "{\"name\":\"c\",\"value\":\"3\"}]");
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "apps/web/annotations/b", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.text, "pod's");
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "apps/web/image/id", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.text, IMAGE_ID);
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "apps/web/image/manifest", NULL, "172.16.28.5", &r), 200);
  assert_non_null(strstr(r.text, "example.com/web"));
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "apps/other/image/id", NULL, "172.16.28.5", &r), 404);
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "pod/nothing", NULL, "172.16.28.5", &r), 404);
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "pod/uuid", "content=x", "172.16.28.5", &r), 405);
  api_reply_done(&r);

  /* the registrant exits: the pod goes */
  assert_int_equal(mds_count(m), 1);
  close(wfd);
  waitpid(pid, NULL, 0);
  assert_int_equal(mds_reap(m, 2000), 1);
  assert_int_equal(mds_count(m), 0);
  assert_int_equal(ask(m, token, "pod/uuid", NULL, "172.16.28.5", &r), 403);
  api_reply_done(&r);
  mds_free(m);
}

static void test_tokens_and_addresses(void **state)
{
  struct mds *m = mds_new(NULL);
  _cleanup_free_ char *body = registration(UUID_A, "\"annotations\": [{\"name\": \"k\", \"value\": \"v\"}],");
  _cleanup_free_ char *token = NULL;
  int wfd;
  pid_t pid = child(&wfd);
  struct api_reply r;

  assert_int_equal(do_register(m, body, pid, &token), 201);
  assert_int_equal(ask(m, token, "pod/annotations", NULL, "172.16.28.5", &r), 200);
  assert_string_equal(r.text, "[{\"name\":\"k\",\"value\":\"v\"}]");
  api_reply_done(&r);
  /* the right token from another address, or no address (not TCP) */
  assert_int_equal(ask(m, token, "pod/uuid", NULL, "172.16.28.6", &r), 403);
  api_reply_done(&r);
  assert_int_equal(ask(m, token, "pod/uuid", NULL, NULL, &r), 403);
  api_reply_done(&r);
  /* a wrong, short, long, upper-case token */
  _cleanup_free_ char *wrong = xstrdup(token), *upper = xstrdup(token), *longer = xasprintf("%s0", token);
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  for (char *c = upper; *c; c++)
    *c = (char) toupper((unsigned char) *c);
  const char *bad[] = { wrong, longer, upper, "x", "" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_free_ char *target = xasprintf("/%s/acMetadata/v1/pod/uuid", bad[i]);
      struct api_http_request req = { .method = "GET", .target = target, .fd = -1, .body = "" };
      struct mds_peer peer = { .addr = "172.16.28.5", .pidfd = -1 };
      mds_pod_request(m, &req, &peer, &r);
      assert_true(r.status == 403 || r.status == 404);
      api_reply_done(&r);
    }
  /* path tricks with the right token */
  const char *tricks[][2] = { { "/", "/acMetadata/v1/pod/../pod/uuid" }, { "/", "/acMetadata/v1/pod//uuid" },
                               { "/", "/acMetadata/v1/pod/%75uid" },      { "/", "/acMetadata/v1/pod/uuid?x=1" },
                               { "/", "/acMetadata/v1/pod/uuid/" },       { "/", "/acMetadata/v2/pod/uuid" },
                               { "", "/acMetadata/v1/pod/uuid" },         { "/x/../", "/acMetadata/v1/pod/uuid" } };
  for (size_t i = 0; i < ELEMENTSOF(tricks); i++)
    {
      _cleanup_free_ char *target = xasprintf("%s%s%s", tricks[i][0], token, tricks[i][1]);
      struct api_http_request req = { .method = "GET", .target = target, .fd = -1, .body = "" };
      struct mds_peer peer = { .addr = "172.16.28.5", .pidfd = -1 };
      mds_pod_request(m, &req, &peer, &r);
      if (r.status == 200)
        fail_msg("%s answered", target);
      api_reply_done(&r);
    }
  close(wfd);
  waitpid(pid, NULL, 0);
  mds_free(m);
}

static void test_hmac(void **state)
{
  struct mds *m = mds_new(NULL);
  _cleanup_free_ char *a = registration(UUID_A, ""), *b = registration(UUID_B, "");
  _cleanup_free_ char *ta = NULL, *tb = NULL;
  int wfd;
  pid_t pid = child(&wfd);
  struct api_reply r;

  assert_int_equal(do_register(m, a, pid, &ta), 201);
  assert_int_equal(do_register(m, b, pid, &tb), 201);
  assert_int_equal(ask(m, ta, "pod/hmac/sign", "content=hello%00world", "172.16.28.5", &r), 200);
  assert_string_equal(r.content_type, "text/plain; charset=us-ascii");
  assert_int_equal(strlen(r.text), 88);
  _cleanup_free_ char *sig = xstrdup(r.text);
  api_reply_done(&r);
  /* the same content signed by B differs: a key per pod */
  assert_int_equal(ask(m, tb, "pod/hmac/sign", "content=hello%00world", "172.16.28.5", &r), 200);
  assert_string_not_equal(r.text, sig);
  api_reply_done(&r);
  _cleanup_free_ char *esig = xstrdup("");
  for (const char *c = sig; *c; c++)
    {
      char *t = isalnum((unsigned char) *c) ? xasprintf("%s%c", esig, *c) : xasprintf("%s%%%02X", esig, *c);
      free(esig);
      esig = t;
    }
  /* B verifies A's signature by A's uuid; not by its own; not of other content; not tampered */
  _cleanup_free_ char *good = xasprintf("uuid=" UUID_A "&content=hello%%00world&signature=%s", esig);
  _cleanup_free_ char *mine = xasprintf("uuid=" UUID_B "&content=hello%%00world&signature=%s", esig);
  _cleanup_free_ char *other = xasprintf("uuid=" UUID_A "&content=hello+world&signature=%s", esig);
  _cleanup_free_ char *tampered = xasprintf("uuid=" UUID_A "&content=hello%%00world&signature=%c%s",
                                            esig[0] == 'A' ? 'B' : 'A', esig + 1);
  assert_int_equal(ask(m, tb, "pod/hmac/verify", good, "172.16.28.5", &r), 200);
  assert_string_equal(r.content_type, "text/plain; charset=us-ascii");
  api_reply_done(&r);
  const char *refused[] = { mine, other, tampered };
  for (size_t i = 0; i < ELEMENTSOF(refused); i++)
    {
      assert_int_equal(ask(m, tb, "pod/hmac/verify", refused[i], "172.16.28.5", &r), 403);
      api_reply_done(&r);
    }
  /* bad forms */
  const char *forms[] = { "content=a&content=b", "other=1", "content=%zz", "uuid=x&content=a&signature=b",
                          "uuid=" UUID_A "&content=a" };
  for (size_t i = 0; i < ELEMENTSOF(forms); i++)
    {
      assert_int_equal(ask(m, ta, "pod/hmac/verify", forms[i], "172.16.28.5", &r), 400);
      api_reply_done(&r);
    }
  /* a form only as a form */
  _cleanup_free_ char *target = xasprintf("/%s/acMetadata/v1/pod/hmac/sign", ta);
  struct api_http_request req = { .method = "POST", .target = target, .fd = -1, .content_type = "text/plain",
                                  .body = "content=x", .body_len = 9 };
  struct mds_peer peer = { .addr = "172.16.28.5", .pidfd = -1 };
  mds_pod_request(m, &req, &peer, &r);
  assert_int_equal(r.status, 415);
  api_reply_done(&r);
  close(wfd);
  waitpid(pid, NULL, 0);
  mds_free(m);
}

static void test_registration_refused(void **state)
{
  struct mds *m = mds_new(NULL);
  int wfd;
  pid_t pid = child(&wfd);
  _cleanup_free_ char *other_id = registration(UUID_A, "");
  /* the image id of "apps" not the pod manifest's */
  char *p = strstr(strstr(other_id, "image_id"), "000");
  *p = '1';
  const char *bad[] = { "{", "[]", "{\"uuid\": \"x\", \"manifest\": {}, \"apps\": []}",
                        "{\"uuid\": \"" UUID_A "\", \"manifest\": {\"acKind\": \"PodManifest\"}, \"apps\": []}",
                        other_id };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    if (do_register(m, bad[i], pid, NULL) != 400)
      fail_msg("registration %zu accepted", i);
  _cleanup_free_ char *body = registration(UUID_A, "");
  /* not root; no JSON */
  struct api_http_request req = { .method = "POST", .target = "/v1/pods", .content_type = "application/json",
                                  .body = body, .body_len = strlen(body), .fd = -1 };
  struct mds_peer peer = { .root = false, .pidfd = -1 };
  struct api_reply r;
  mds_register_request(m, &req, &peer, &r);
  assert_int_equal(r.status, 403);
  api_reply_done(&r);
  req.content_type = "text/plain";
  peer.root = true;
  peer.pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
  mds_register_request(m, &req, &peer, &r);
  assert_int_equal(r.status, 415);
  api_reply_done(&r);
  close(peer.pidfd);
  assert_int_equal(mds_count(m), 0);
  close(wfd);
  waitpid(pid, NULL, 0);
  mds_free(m);
}

static void test_form(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  static const char *const keys[] = { "content", "uuid", NULL };
  char *v[2];
  size_t l[2];
  const char form[] = "content=a+b%26c%3D%00&&uuid=";
  assert_int_equal(mds_form_parse(form, strlen(form), keys, v, l, &err), 0);
  assert_int_equal(l[0], 7);
  assert_memory_equal(v[0], "a b&c=\0", 7);
  assert_string_equal(v[1], "");
  free(v[0]), free(v[1]);
  assert_int_equal(mds_form_parse("content=%4", 10, keys, v, l, &err), -1);
  assert_int_equal(err->status, 400);
  assert_null(v[0]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_register_and_read), cmocka_unit_test(test_tokens_and_addresses),
    cmocka_unit_test(test_hmac),              cmocka_unit_test(test_registration_refused),
    cmocka_unit_test(test_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
