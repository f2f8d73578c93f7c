/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-api's router without sockets: request targets, the method rule,
 * route matching, the filter parser and its times, replies to errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api-service/router.h"

static void test_request_parse(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct api_request r;
  assert_int_equal(api_request_parse("GET", "/v1/pods/5f0b/logs?app=web&tail=10&follow", &r, &err), 0);
  assert_int_equal(r.n_segments, 3);
  assert_string_equal(r.segments[1], "5f0b");
  assert_string_equal(api_request_param(&r, "app"), "web");
  assert_string_equal(api_request_param(&r, "follow"), "");
  assert_null(api_request_param(&r, "since"));
  assert_false(r.head);
  api_request_done(&r);
  /* percent-decoding; '+' a space in parameters only; the last of a repeated key */
  assert_int_equal(api_request_parse("HEAD", "/v1/a%20b?k=x+y%2Bz&k=2", &r, &err), 0);
  assert_true(r.head);
  assert_string_equal(r.segments[0], "a b");
  assert_string_equal(api_request_param(&r, "k"), "2");
  assert_string_equal(r.params[0].value, "x y+z");
  api_request_done(&r);
}

static void test_request_refused(void **state)
{
  static const struct
  {
    const char *method, *target;
    int status;
  } bad[] = {
    { "POST", "/v1/pods", 405 },     { "DELETE", "/v1/pods", 405 },     { "get", "/v1/pods", 405 },
    { "GET", "/v2/pods", 404 },      { "GET", "/v1", 404 },             { "GET", "/v1/", 404 },
    { "GET", "/v1/pods/", 404 },     { "GET", "/v1//pods", 404 },       { "GET", "/v1/pods/%2e%2e", 404 },
    { "GET", "/v1/pods/..", 404 },   { "GET", "/v1/a%2Fb", 404 },       { "GET", "/v1/pods/%00", 400 },
    { "GET", "/v1/pods?a=%zz", 400 }, { "GET", "/v1/pods?a=%4", 400 },  { "GET", "/v1/pods?=x", 400 },
    { "GET", "v1/pods", 400 },       { "GET", "/v1/po ds", 400 },       { "GET", "/v1/pods#x", 400 },
    { "GET", "/v1/pods?x=1#y", 400 }, { "GET", "/v1/a/b/c/d/e/f/g/h/i", 404 },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      struct api_request r;
      assert_int_equal(api_request_parse(bad[i].method, bad[i].target, &r, &err), -1);
      if (err->status != bad[i].status)
        fail_msg("%s %s: %d, not %d (%s)", bad[i].method, bad[i].target, err->status, bad[i].status, err->msg);
    }
  /* 414 for a long target, 400 for too many parameters */
  _cleanup_free_ char *longer = xmalloc(API_MAX_TARGET + 16);
  memset(longer, 'a', API_MAX_TARGET + 15);
  memcpy(longer, "/v1/", 4);
  longer[API_MAX_TARGET + 15] = '\0';
  _cleanup_error_ podrun_error_t err = NULL;
  struct api_request r;
  assert_int_equal(api_request_parse("GET", longer, &r, &err), -1);
  assert_int_equal(err->status, 414);
  podrun_error_free(&err);
  _cleanup_free_ char *many = xstrdup("/v1/pods?");
  for (int i = 0; i <= API_MAX_PARAMS; i++)
    {
      char *m = xasprintf("%s&a%d=1", many, i);
      free(many);
      many = m;
    }
  assert_int_equal(api_request_parse("GET", many, &r, &err), -1);
  assert_int_equal(err->status, 400);
}

static int handler_one(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                       podrun_error_t *err)
{
  ret->json = json_pack("{s:s}", "arg", args[0]);
  return 0;
}

static int handler_fail(struct api_context *ctx, const struct api_request *req, char **args, struct api_reply *ret,
                        podrun_error_t *err)
{
  return api_fail(err, 404, "no pod %s", QUOTE(args[0]));
}

static const struct api_route routes[] = {
  { "pods/{}", handler_one },
  { "pods/{}/logs", handler_fail },
  { NULL },
};

static void test_dispatch(void **state)
{
  struct api_reply r;
  api_handle(routes, NULL, "GET", "/v1/pods/abc", 3, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.json, "arg")), "abc");
  api_reply_done(&r);
  api_handle(routes, NULL, "GET", "/v1/pods/abc/logs", 3, &r);
  assert_int_equal(r.status, 404);
  assert_int_equal(json_integer_value(json_object_get(r.json, "status")), 404);
  assert_string_equal(json_string_value(json_object_get(r.json, "error")), "no pod \"abc\"");
  api_reply_done(&r);
  api_handle(routes, NULL, "GET", "/v1/pods", 3, &r);
  assert_int_equal(r.status, 404);
  api_reply_done(&r);
  api_handle(routes, NULL, "PUT", "/v1/pods/abc", 3, &r);
  assert_int_equal(r.status, 405);
  assert_string_equal(r.allow, "GET, HEAD");
  api_reply_done(&r);
  api_handle(routes, NULL, "GET", "/v1/pods/abc", API_MAX_HEADERS + 1, &r);
  assert_int_equal(r.status, 431);
  api_reply_done(&r);
}

static void test_parse_time(void **state)
{
  static const struct
  {
    const char *s;
    int64_t usec;
  } good[] = {
    { "0", 0 },
    { "1700000000", 1700000000000000LL },
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-01-02T03:04:05Z", 1767323045000000LL },
    { "2026-01-02T03:04:05.5Z", 1767323045500000LL },
    { "2026-01-02T03:04:05.123456789Z", 1767323045123456LL },
    { "2026-01-02T05:04:05+02:00", 1767323045000000LL },
    { "2026-01-01T22:04:05-05:00", 1767323045000000LL },
    { "2024-02-29t00:00:00z", 1709164800000000LL },
  };
  for (size_t i = 0; i < ELEMENTSOF(good); i++)
    {
      int64_t t = -1;
      if (api_parse_time(good[i].s, &t) < 0 || t != good[i].usec)
        fail_msg("%s: %lld", good[i].s, (long long) t);
    }
  static const char *const bad[] = { "", "yesterday", "-1", "2026-01-02", "2026-01-02T03:04:05", "2026-13-02T03:04:05Z",
                                     "2026-01-02T24:00:00Z", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05+2:00",
                                     "2026-01-02T03:04:05Zjunk", "1e9" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      int64_t t;
      if (api_parse_time(bad[i], &t) == 0)
        fail_msg("%s parsed", bad[i]);
    }
}

static const char *const colours[] = { "red", "blue", NULL };
static const struct api_filter_spec specs[] = {
  { "name", API_FILTER_STRING },
  { "label", API_FILTER_KEYVALUE },
  { "since", API_FILTER_TIME },
  { "uuid", API_FILTER_UUID },
  { "colour", API_FILTER_CHOICE, colours },
  { NULL },
};

static bool match(const struct api_filter_term *t, const json_t *obj)
{
  const char *v = json_string_value(json_object_get(obj, t->spec->key));
  return v && streq(v, t->value);
}

static void test_filters(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct api_request r;
  struct api_filter f;
  static const char *const others[] = { "tail", NULL };
  assert_int_equal(api_request_parse("GET", "/v1/x?colour=red&colour=blue&name=a&tail=3&uuid=5F0B&label=k=v%3Dw&since=0",
                                     &r, &err), 0);
  assert_int_equal(api_filter_parse(specs, others, &r, &f, &err), 0);
  assert_int_equal(f.n_terms, 6);
  assert_string_equal(f.terms[3].value, "5f0b"); /* lower-cased */
  assert_string_equal(f.terms[4].value, "k");
  assert_string_equal(f.terms[4].value2, "v=w");
  api_filter_done(&f);
  api_request_done(&r);
  /* any value of one key, every key */
  assert_int_equal(api_request_parse("GET", "/v1/x?colour=red&colour=blue&name=a", &r, &err), 0);
  assert_int_equal(api_filter_parse(specs, NULL, &r, &f, &err), 0);
  json_t *blue_a = json_pack("{s:s,s:s}", "colour", "blue", "name", "a"), *blue_b = json_pack("{s:s,s:s}", "colour", "blue", "name", "b");
  assert_true(api_filter_matches(&f, blue_a, match));
  assert_false(api_filter_matches(&f, blue_b, match));
  json_decref(blue_a), json_decref(blue_b);
  api_filter_done(&f);
  api_request_done(&r);
  static const char *const bad[] = { "/v1/x?colour=green", "/v1/x?label=novalue", "/v1/x?label==v", "/v1/x?since=soon",
                                     "/v1/x?uuid=xyz", "/v1/x?name=", "/v1/x?name=%01", "/v1/x?size=3", "/v1/x?tail=3" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      podrun_error_free(&err);
      assert_int_equal(api_request_parse("GET", bad[i], &r, &err), 0);
      if (api_filter_parse(specs, NULL, &r, &f, &err) == 0)
        fail_msg("%s accepted", bad[i]);
      assert_int_equal(err->status, 400);
      api_request_done(&r);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_request_parse), cmocka_unit_test(test_request_refused), cmocka_unit_test(test_dispatch),
    cmocka_unit_test(test_parse_time),    cmocka_unit_test(test_filters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
