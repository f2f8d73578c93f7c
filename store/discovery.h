/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc meta discovery (appc spec, discovery.md): an image name and labels
 * to the URLs of its ACI, its signature and its publisher's keys.
 *
 * https://{name}?ac-discovery=1 is fetched (http only with insecure_http);
 * its HTML's <meta name="ac-discovery" content="PREFIX TEMPLATE"> and
 * <meta name="ac-discovery-pubkeys" content="PREFIX URL"> whose PREFIX is a
 * prefix of the name apply. A template is rendered with {name}, {ext} (aci,
 * aci.asc) and the labels ({version}, {os}, {arch}, any other); one that
 * leaves a {…} unknown, or names a label the caller did not give, does not
 * apply. When a page fails (a 4xx, an error) or has no template that
 * applies, the parent path is asked (example.com/a/b, example.com/a,
 * example.com). Only http(s) URLs come out, https unless insecure_http. */
#include <stdbool.h>
#include <stddef.h>

#include "appc.h"
#include "error.h"

struct http;

#define DISCOVERY_PAGE_MAX (1024 * 1024) /* a larger page is refused while it comes */
#define DISCOVERY_ENTRIES_MAX 256        /* metas kept of a page; the rest are ignored */
#define DISCOVERY_VALUE_MAX 4096         /* an attribute longer than this spoils its tag */

enum discovery_kind
{
  DISCOVERY_TEMPLATE, /* ac-discovery */
  DISCOVERY_PUBKEYS,  /* ac-discovery-pubkeys */
};

struct discovery_entry
{
  enum discovery_kind kind;
  char *prefix;
  char *value; /* a template, or a URL */
};

/* The ac-discovery metas of an HTML page (any bytes: a tag that is not
 * well formed, or whose content is not two printable ASCII words, is
 * skipped), in their order, at most DISCOVERY_ENTRIES_MAX. Never fails. */
void discovery_parse_page(const char *html, size_t len, struct discovery_entry **ret, size_t *ret_n);
void discovery_entries_free(struct discovery_entry *e, size_t n);

/* Is prefix a prefix of name (the spec's string prefix, not per component)? */
bool discovery_prefix_matches(const char *prefix, const char *name);

/* The template rendered (name, labels, ext); refused (-1, *err says why)
 * when it leaves a {…} of no value, a lone brace, or a value that is not
 * URL-safe ([A-Za-z0-9._~+-], name also '/'). */
int discovery_render(const char *tmpl, const char *name, const struct appc_kvs *labels, const char *ext,
                     char **ret, podrun_error_t *err);

/* Is url one discovery may hand out: "https://HOST…", or "http://" with
 * insecure_http, printable ASCII, bounded? NULL if so, else why not. */
const char *discovery_url_check(const char *url, bool insecure_http);

struct discovery_result
{
  char *aci_url;
  char *sig_url;
  char **pubkeys; /* strv, NULL if none */
  char *page;     /* the discovery URL that answered */
};
void discovery_result_done(struct discovery_result *r);

/* From the entries of one page: the first template that applies and
 * renders to a URL discovery may hand out, and the pubkeys of matching
 * prefixes. 0 with ret filled; 1 when nothing applies (*ret_why says why,
 * the caller frees it). Pure. */
int discovery_choose(const struct discovery_entry *e, size_t n, const char *name, const struct appc_kvs *labels,
                     bool insecure_http, struct discovery_result *ret, char **ret_why);

/* The discovery URL of a name (port: 0, or one to put after its host, as
 * appc's test hook has it). */
char *discovery_page_url(const char *name, bool http, unsigned port);

/* Discovers name (an AC identifier) with labels through h. port as above.
 * labels NULL: only the keys (`trust --prefix` without a key): the first
 * page up the path with ac-discovery-pubkeys for the name answers, and
 * aci_url and sig_url are NULL. */
int discovery_resolve(struct http *h, const char *name, const struct appc_kvs *labels, bool insecure_http,
                      struct discovery_result *ret, podrun_error_t *err);
int discovery_resolve_port(struct http *h, const char *name, const struct appc_kvs *labels, bool insecure_http,
                           unsigned port, struct discovery_result *ret, podrun_error_t *err);
