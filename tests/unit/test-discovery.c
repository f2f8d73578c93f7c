/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/discovery: the meta scanner on pages from a hostile network (huge,
 * unterminated tags, quotes inside quotes, many metas, non-UTF-8, comments
 * and scripts), template rendering and its refusals, the URLs it may hand
 * out, the choice among a page's metas, and the discovery URL of a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "appc.h"
#include "store/discovery.h"

struct page
{
  struct discovery_entry *e;
  size_t n;
};

static struct page parse(const char *html, size_t len)
{
  struct page p = { 0 };
  discovery_parse_page(html, len, &p.e, &p.n);
  return p;
}

static struct page parse_str(const char *html)
{
  return parse(html, strlen(html));
}

static void page_free(struct page *p)
{
  discovery_entries_free(p->e, p->n);
}

static void assert_entry(const struct page *p, size_t i, enum discovery_kind kind, const char *prefix,
                         const char *value)
{
  if (i >= p->n)
    fail_msg("entry %zu of %zu", i, p->n);
  assert_int_equal(p->e[i].kind, kind);
  assert_string_equal(p->e[i].prefix, prefix);
  assert_string_equal(p->e[i].value, value);
}

static void test_parse_simple(void **state)
{
  (void) state;
  struct page p = parse_str("<!DOCTYPE html><html><head>\n"
                            "<meta name=\"ac-discovery\" content=\"example.com https://example.com/{name}-{version}.{ext}\">\n"
                            "<META CONTENT='example.com https://example.com/keys.gpg' NAME='ac-discovery-pubkeys' />\n"
                            "<meta name=ac-discovery content=\"example.com/x  hdfs://s/{name}.{ext}\">\n"
                            "<meta name=\"description\" content=\"a b\">\n"
                            "</head><body>hello</body></html>");
  assert_int_equal(p.n, 3);
  assert_entry(&p, 0, DISCOVERY_TEMPLATE, "example.com", "https://example.com/{name}-{version}.{ext}");
  assert_entry(&p, 1, DISCOVERY_PUBKEYS, "example.com", "https://example.com/keys.gpg");
  assert_entry(&p, 2, DISCOVERY_TEMPLATE, "example.com/x", "hdfs://s/{name}.{ext}");
  page_free(&p);
}

static void test_parse_quotes_and_refs(void **state)
{
  (void) state;
  /* a '>' and the other quote inside a quoted value; character references */
  struct page p = parse_str("<a title='x > \"y\"'>t</a>"
                            "<meta content=\"e.com https://e.com/a?b=1&amp;c={name}.{ext}\" name=\"ac-discovery\">"
                            "<meta name='ac-discovery' content='e.com https://e.com/\"q\"/{ext}'>"
                            "<meta\tname=\"ac-discovery\"\ncontent=\"e.com\thttps://e.com/t.{ext}\"\n>");
  assert_int_equal(p.n, 3);
  assert_entry(&p, 0, DISCOVERY_TEMPLATE, "e.com", "https://e.com/a?b=1&c={name}.{ext}");
  assert_entry(&p, 1, DISCOVERY_TEMPLATE, "e.com", "https://e.com/\"q\"/{ext}");
  assert_entry(&p, 2, DISCOVERY_TEMPLATE, "e.com", "https://e.com/t.{ext}");
  page_free(&p);
}

static void test_parse_skipped(void **state)
{
  (void) state;
  static const char *const pages[] = {
    /* in a comment, a script, a style, a title */
    "<!-- <meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\"> -->",
    "<script>var s = '<meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\">';</script>",
    "<style>/* <meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\"> */</style>",
    "<title><meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\"></title>",
    /* three words, one word, none */
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext} more\">",
    "<meta name=\"ac-discovery\" content=\"e.com\">",
    "<meta name=\"ac-discovery\" content=\"\">",
    "<meta name=\"ac-discovery\">",
    /* another name; a longer one */
    "<meta name=\"ac-discoveryx\" content=\"e.com https://e.com/{ext}\">",
    "<metax name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\">",
    /* unterminated: a quote, the tag, the comment */
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}>",
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\"",
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\" ",
    "<!-- <meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\">",
    /* non-UTF-8 and control bytes in the content */
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/\xff\xfe{ext}\">",
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/\xc3\xa9{ext}\">",
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/\x01{ext}\">",
    /* a quote where an attribute name goes */
    "<meta \"name\"=\"ac-discovery\" content=\"e.com https://e.com/{ext}\">",
    "<", "<meta", "<meta ", "<meta name=", "<meta name='", "<<<<>>>>", "",
  };
  for (size_t i = 0; i < ELEMENTSOF(pages); i++)
    {
      struct page p = parse_str(pages[i]);
      if (p.n != 0)
        fail_msg("page %zu: %zu entries (%s)", i, p.n, p.e[0].value);
      page_free(&p);
    }
  /* the first of a repeated attribute counts; a meta after a bad one's end is found */
  struct page p = parse_str("<meta name=\"ac-discovery\" name=\"x\" content=\"e.com https://e.com/{ext}\" content=\"y z\">"
                            "<p <meta name=\"ac-discovery\" content=\"f.com https://f.com/{ext}\">"
                            "</p><meta name=\"ac-discovery\" content=\"g.com https://g.com/{ext}\">");
  assert_int_equal(p.n, 2);
  assert_entry(&p, 0, DISCOVERY_TEMPLATE, "e.com", "https://e.com/{ext}");
  assert_entry(&p, 1, DISCOVERY_TEMPLATE, "g.com", "https://g.com/{ext}");
  page_free(&p);
}

static void test_parse_hostile_sizes(void **state)
{
  (void) state;
  /* many metas: at most DISCOVERY_ENTRIES_MAX kept */
  const char *meta = "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{name}.{ext}\">";
  size_t ml = strlen(meta), count = 100000;
  char *big = xmalloc(ml * count + 1);
  for (size_t i = 0; i < count; i++)
    memcpy(big + i * ml, meta, ml);
  big[ml * count] = '\0';
  struct page p = parse(big, ml * count);
  assert_int_equal(p.n, DISCOVERY_ENTRIES_MAX);
  page_free(&p);
  free(big);

  /* a huge value spoils its tag; a huge page of '<', of quotes, of binary */
  size_t n = 4 * 1024 * 1024;
  big = xmalloc(n + 200);
  strcpy(big, "<meta name=\"ac-discovery\" content=\"e.com https://e.com/");
  size_t k = strlen(big);
  memset(big + k, 'a', n);
  strcpy(big + k + n, "{ext}\">");
  p = parse_str(big);
  assert_int_equal(p.n, 0);
  page_free(&p);
  memset(big, '<', n);
  p = parse(big, n);
  assert_int_equal(p.n, 0);
  page_free(&p);
  memset(big, '"', n);
  big[0] = '<';
  big[1] = 'a';
  big[2] = ' ';
  big[3] = 'b';
  big[4] = '=';
  p = parse(big, n);
  assert_int_equal(p.n, 0);
  page_free(&p);
  for (size_t i = 0; i < n; i++)
    big[i] = (char) (i * 2654435761u >> 13);
  p = parse(big, n);
  page_free(&p);
  /* NUL bytes inside: the page is its length, not a C string */
  const char with_nul[] = "<p>\0</p><meta name=\"ac-discovery\" content=\"e.com https://e.com/{ext}\">";
  p = parse(with_nul, sizeof(with_nul) - 1);
  assert_int_equal(p.n, 1);
  page_free(&p);
  free(big);
}

static void test_render(void **state)
{
  (void) state;
  struct appc_kvs labels = { 0 };
  appc_kvs_set(&labels, "version", "v1.2.0");
  appc_kvs_set(&labels, "os", "linux");
  appc_kvs_set(&labels, "arch", "amd64");
  appc_kvs_set(&labels, "bad", "a/b");
  char *out = NULL;
  podrun_error_t err = NULL;

  assert_int_equal(discovery_render("https://s.example.com/{os}/{arch}/{name}-{version}.{ext}", "example.com/app",
                                    &labels, "aci", &out, &err),
                   0);
  assert_string_equal(out, "https://s.example.com/linux/amd64/example.com/app-v1.2.0.aci");
  free(out);
  assert_int_equal(discovery_render("https://x/{name}.{ext}", "e.com/a", NULL, "aci.asc", &out, &err), 0);
  assert_string_equal(out, "https://x/e.com/a.aci.asc");
  free(out);

  static const struct
  {
    const char *tmpl, *want;
  } bad[] = {
    { "https://x/{name}-{unknown}.{ext}", "no value for {unknown}" },
    { "https://x/{name}-{}.{ext}", "no value for {}" },
    { "https://x/{name.{ext}", "no value for {name.{ext}" },
    { "https://x/{name", "a '{' of no '}'" },
    { "https://x/name}.{ext}", "a '}' of no '{'" },
    { "https://x/{bad}.{ext}", "not URL-safe" },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      out = NULL;
      if (discovery_render(bad[i].tmpl, "e.com/a", &labels, "aci", &out, &err) == 0)
        fail_msg("%s: rendered %s", bad[i].tmpl, out);
      if (!strstr(err->msg, bad[i].want))
        fail_msg("%s: \"%s\" (expected \"%s\")", bad[i].tmpl, err->msg, bad[i].want);
      assert_null(out);
      podrun_error_free(&err);
    }
  /* a label the caller did not give: the template does not apply */
  struct appc_kvs none = { 0 };
  assert_true(discovery_render("https://x/{name}-{version}.{ext}", "e.com/a", &none, "aci", &out, &err) < 0);
  assert_non_null(strstr(err->msg, "{version}"));
  podrun_error_free(&err);
  appc_kvs_clear(&labels);
}

static void test_url_check(void **state)
{
  (void) state;
  assert_null(discovery_url_check("https://e.com/a.aci", false));
  assert_null(discovery_url_check("HTTPS://e.com/a.aci", false));
  assert_null(discovery_url_check("http://e.com/a.aci", true));
  assert_non_null(discovery_url_check("http://e.com/a.aci", false));
  assert_non_null(discovery_url_check("hdfs://e.com/a.aci", true));
  assert_non_null(discovery_url_check("file:///etc/passwd", true));
  assert_non_null(discovery_url_check("ftp://e.com/a", true));
  assert_non_null(discovery_url_check("https:///a", true));
  assert_non_null(discovery_url_check("https://@e.com/a", true));
  assert_non_null(discovery_url_check("https://e.com/a b", true));
  assert_non_null(discovery_url_check("//e.com/a", true));
  assert_non_null(discovery_url_check("e.com/a", true));
}

static void test_prefix(void **state)
{
  (void) state;
  assert_true(discovery_prefix_matches("example.com", "example.com/app"));
  assert_true(discovery_prefix_matches("example.com/app", "example.com/app"));
  assert_true(discovery_prefix_matches("example.com/ap", "example.com/app")); /* the spec's string prefix */
  assert_false(discovery_prefix_matches("example.com/app/x", "example.com/app"));
  assert_false(discovery_prefix_matches("other.com", "example.com/app"));
  assert_false(discovery_prefix_matches("", "example.com/app"));
}

static void test_choose(void **state)
{
  (void) state;
  struct appc_kvs labels = { 0 };
  appc_kvs_set(&labels, "os", "linux");
  appc_kvs_set(&labels, "arch", "amd64");
  struct page p = parse_str(
    "<meta name=\"ac-discovery\" content=\"other.com https://other.com/{name}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"e.com hdfs://e.com/{name}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"e.com https://e.com/{name}-{version}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"e.com http://e.com/{name}-{os}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"e.com/app https://s.e.com/{os}/{arch}/{name}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"e.com https://late.e.com/{name}.{ext}\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"e.com https://e.com/keys.gpg\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"e.com https://e.com/keys.gpg\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"e.com file:///keys.gpg\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"other.com https://other.com/keys.gpg\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"e.com/app https://e.com/app-keys.gpg\">");
  struct discovery_result r = { 0 };
  char *why = NULL;

  /* no version: the hdfs, {version} and http templates do not apply */
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/app", &labels, false, &r, &why), 0);
  assert_string_equal(r.aci_url, "https://s.e.com/linux/amd64/e.com/app.aci");
  assert_string_equal(r.sig_url, "https://s.e.com/linux/amd64/e.com/app.aci.asc");
  assert_int_equal(strv_length(r.pubkeys), 2);
  assert_string_equal(r.pubkeys[0], "https://e.com/keys.gpg");
  assert_string_equal(r.pubkeys[1], "https://e.com/app-keys.gpg");
  discovery_result_done(&r);
  /* with insecure_http, the http one comes first */
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/app", &labels, true, &r, &why), 0);
  assert_string_equal(r.aci_url, "http://e.com/e.com/app-linux.aci");
  discovery_result_done(&r);
  /* with a version, the first https one */
  appc_kvs_set(&labels, "version", "1.0");
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/app", &labels, false, &r, &why), 0);
  assert_string_equal(r.aci_url, "https://e.com/e.com/app-1.0.aci");
  discovery_result_done(&r);
  /* keys alone (labels NULL) */
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/b", NULL, false, &r, &why), 0);
  assert_null(r.aci_url);
  assert_int_equal(strv_length(r.pubkeys), 1);
  discovery_result_done(&r);
  /* nothing for that name */
  assert_int_equal(discovery_choose(p.e, p.n, "nope.com/app", &labels, false, &r, &why), 1);
  assert_string_equal(why, "no ac-discovery template for it");
  free(why);
  page_free(&p);

  /* only a template of another scheme: why says so */
  p = parse_str("<meta name=\"ac-discovery\" content=\"e.com hdfs://e.com/{name}.{ext}\">");
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/app", &labels, true, &r, &why), 1);
  assert_non_null(strstr(why, "not an http(s) URL"));
  free(why);
  page_free(&p);
  /* no {ext}: the ACI and its signature would be one URL */
  p = parse_str("<meta name=\"ac-discovery\" content=\"e.com https://e.com/{name}.aci\">");
  assert_int_equal(discovery_choose(p.e, p.n, "e.com/app", &labels, true, &r, &why), 1);
  assert_non_null(strstr(why, "no {ext}"));
  free(why);
  page_free(&p);
  appc_kvs_clear(&labels);
}

static void test_page_url(void **state)
{
  (void) state;
  char *u = discovery_page_url("example.com/a/b", false, 0);
  assert_string_equal(u, "https://example.com/a/b?ac-discovery=1");
  free(u);
  u = discovery_page_url("localhost/a", true, 8443);
  assert_string_equal(u, "http://localhost:8443/a?ac-discovery=1");
  free(u);
  u = discovery_page_url("example.com", false, 0);
  assert_string_equal(u, "https://example.com?ac-discovery=1");
  free(u);
}

static void test_resolve_refusals(void **state)
{
  (void) state;
  struct discovery_result r = { 0 };
  podrun_error_t err = NULL;
  assert_true(discovery_resolve(NULL, "Example.com/App", NULL, false, &r, &err) < 0);
  assert_non_null(strstr(err->msg, "not an image name"));
  podrun_error_free(&err);
  assert_true(discovery_resolve(NULL, "busybox", NULL, false, &r, &err) < 0);
  assert_non_null(strstr(err->msg, "no host name"));
  podrun_error_free(&err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_simple),
    cmocka_unit_test(test_parse_quotes_and_refs),
    cmocka_unit_test(test_parse_skipped),
    cmocka_unit_test(test_parse_hostile_sizes),
    cmocka_unit_test(test_render),
    cmocka_unit_test(test_url_check),
    cmocka_unit_test(test_prefix),
    cmocka_unit_test(test_choose),
    cmocka_unit_test(test_page_url),
    cmocka_unit_test(test_resolve_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
