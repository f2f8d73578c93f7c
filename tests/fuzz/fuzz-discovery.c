/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appc discovery on a page from the network: the scanner never reads past
 * the page, keeps at most DISCOVERY_ENTRIES_MAX metas of two printable
 * words, and whatever a page's templates render to is an https URL (http
 * only when allowed) of printable ASCII. */
#include <stdint.h>

#include "appc.h"
#include "store/discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_word(const char *s)
{
  if (!*s || strlen(s) > DISCOVERY_VALUE_MAX)
    abort();
  for (; *s; s++)
    if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
      abort();
}

static void check_result(const struct discovery_result *r, bool insecure_http)
{
  if (r->aci_url && (discovery_url_check(r->aci_url, insecure_http) || !r->sig_url))
    abort();
  for (char **k = r->pubkeys; k && *k; k++)
    if (discovery_url_check(*k, insecure_http))
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* a copy of exactly size bytes: ASan sees any read past the page */
  char *page = xmalloc(size ? size : 1);
  memcpy(page, data, size);
  struct discovery_entry *e = NULL;
  size_t n = 0;
  discovery_parse_page(page, size, &e, &n);
  if (n > DISCOVERY_ENTRIES_MAX)
    abort();
  struct appc_kvs labels = { 0 };
  appc_kvs_set(&labels, "version", "1.0");
  appc_kvs_set(&labels, "os", "linux");
  appc_kvs_set(&labels, "arch", "amd64");
  for (size_t i = 0; i < n; i++)
    {
      check_word(e[i].prefix);
      check_word(e[i].value);
    }
  static const char *const names[] = { "example.com/app", "e.com", "a" };
  for (size_t i = 0; i < ELEMENTSOF(names); i++)
    for (int insecure = 0; insecure < 2; insecure++)
      for (int keys = 0; keys < 2; keys++)
        {
          struct discovery_result r = { 0 };
          char *why = NULL;
          int k = discovery_choose(e, n, names[i], keys ? NULL : &labels, insecure, &r, &why);
          if (k == 0)
            check_result(&r, insecure);
          else if (k != 1 || !why || !*why)
            abort();
          discovery_result_done(&r);
          free(why);
        }
  appc_kvs_clear(&labels);
  discovery_entries_free(e, n);
  free(page);
  return 0;
}
