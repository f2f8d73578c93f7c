/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keys by URL, for `trust` and for fetch's --trust-keys-from-https: through
 * podrun's one HTTP client (store/http.h), size-bounded. */
#include <fcntl.h>

#include "fs.h"
#include "store/http.h"
#include "trust-keys.h"

int trust_keys_http(struct http **ret, podrun_error_t *err)
{
  _cleanup_free_ char *ca_dir = xasprintf("%s/certs.d", arg_local_config);
  /* --insecure-options=pubkey is rkt's: keys (only) over http or unverified TLS */
  bool pubkey = arg_insecure & INSECURE_PUBKEY;
  struct http_opts opts = { .insecure_tls = pubkey || (arg_insecure & INSECURE_TLS),
                            .insecure_http = pubkey || (arg_insecure & INSECURE_HTTP),
                            .ca_dir = ca_dir, .user_agent = "podrun/" PODRUN_VERSION, .peer = "server" };
  return http_new(&opts, ret, err);
}

int trust_keys_fetch(struct http *h, const char *url, char **ret_text, size_t *ret_len, podrun_error_t *err)
{
  _cleanup_http_ struct http *own = NULL;
  struct http_response resp = { 0 };

  if (startswith(url, "http://") && !(arg_insecure & (INSECURE_HTTP | INSECURE_PUBKEY)))
    return podrun_error_new(err, EPERM, "plain http needs --insecure-options=http (or pubkey)");
  if (!startswith(url, "https://") && !startswith(url, "http://"))
    return podrun_error_new(err, EINVAL, "not an https URL");
  if (!h && trust_keys_http(&own, err) < 0)
    return -1;
  struct http_request req = { .url = url, .what = "download", .max = TRUST_KEY_MAX };
  if (http_get(h ? h : own, &req, &resp, err) < 0)
    return -1;
  *ret_text = TAKE_PTR(resp.body);
  *ret_len = resp.len;
  http_response_done(&resp);
  return 0;
}

int trust_keys_read(const char *key, char **ret_text, size_t *ret_len, podrun_error_t *err)
{
  if (startswith(key, "https://") || startswith(key, "http://"))
    return trust_keys_fetch(NULL, key, ret_text, ret_len, err);
  return fs_read_file_at(AT_FDCWD, key, TRUST_KEY_MAX, ret_text, ret_len, err);
}
