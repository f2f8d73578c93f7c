/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --mds-register: the pod's registration with podrun-metadata (mds.h). */
#include "mds.h"

#include <arpa/inet.h>
#include <fcntl.h>

#include "appc.h"
#include "cni.h"
#include "fs.h"
#include "inspect/inspect.h"
#include "json-util.h"
#include "log.h"
#include "net.h"
#include "store/dl.h"
#include "store/store.h"

const char *arg_mds_register;

int mds_wanted(struct pod *p, bool *ret, podrun_error_t *err)
{
  if (arg_mds_register)
    return parse_boolean(arg_mds_register, ret, err) < 0 ? podrun_error_wrap(err, "--mds-register") : 0;
  *ret = faccessat(p->dirfd, MDS_REGISTER_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  return 0;
}

static const char *socket_path(void)
{
  const char *e = getenv(MDS_SOCKET_ENV);
  return e && *e ? e : MDS_SOCKET_DEFAULT;
}

struct buf
{
  char *data;
  size_t len;
};

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
  struct buf *b = userdata;
  size_t add = size * n;
  if (b->len + add > JSON_MAX_INPUT)
    return 0; /* more than any reply of the service: the transfer fails */
  b->data = xrealloc(b->data, b->len + add + 1);
  memcpy(b->data + b->len, ptr, add);
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

/* One request to the service's unix socket; *ret_reply its body. */
static int request(const char *method, const char *path, const char *body, long *ret_status, char **ret_reply,
                   podrun_error_t *err)
{
  struct buf b = { xstrdup(""), 0 };
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  long status = 0;
  if (dl_load_curl(err) < 0)
    return free(b.data), -1;
  CURL *c = sym_curl_easy_init();
  if (!c)
    return free(b.data), podrun_error_set(err, ENOMEM, "libcurl: no handle");
  _cleanup_free_ char *url = xasprintf("http://localhost%s", path);
  sym_curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path());
  sym_curl_easy_setopt(c, CURLOPT_URL, url);
  sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  sym_curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  if (body)
    {
      headers = sym_curl_slist_append(headers, "Content-Type: application/json");
      sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
      sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
      sym_curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    }
  CURLcode r = sym_curl_easy_perform(c);
  long os_errno = 0;
  if (r == CURLE_OK)
    sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  else
    sym_curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
  sym_curl_easy_cleanup(c);
  sym_curl_slist_free_all(headers);
  if (r != CURLE_OK)
    {
      free(b.data);
      /* connecting to a unix socket: the errno says it (curl's text speaks of "localhost port 80") */
      const char *why = r == CURLE_COULDNT_CONNECT && os_errno ? strerror((int) os_errno)
                        : *errbuf                             ? errbuf
                                                              : sym_curl_easy_strerror(r);
      return podrun_error_set(err, 0, "the metadata service (%s) is not reachable: %s (is podrun-metadata running?)",
                              QUOTE(socket_path()), why);
    }
  *ret_status = status;
  *ret_reply = b.data;
  return 0;
}

/* The service's message of an error reply, else the reply itself. */
static char *reply_message(const char *reply)
{
  _cleanup_json_ json_t *j = json_loads(reply, 0, NULL);
  const char *m = json_string_value(json_object_get(j, "error"));
  return xstrdup(m ? m : reply);
}

/* The pod's addresses (every network's) and the host's end of its first
 * network (where it reaches the service), from net-info.json; for the
 * host's network, 127.0.0.1 both. */
static int pod_addresses(struct pod *p, const char *net, json_t **ret_addrs, char **ret_host, podrun_error_t *err)
{
  _cleanup_json_ json_t *info = NULL;
  json_t *addrs = json_array();
  *ret_addrs = addrs;
  if (!net_is_cni(net))
    {
      json_array_append_new(addrs, json_string("127.0.0.1"));
      *ret_host = xstrdup("127.0.0.1");
      return 0;
    }
  if (cni_net_info_read(p->dirfd, &info, err) < 0)
    return -1;
  size_t i, k;
  json_t *n, *ip;
  const char *gateway = NULL;
  json_array_foreach (json_object_get(info, "networks"), i, n)
    json_array_foreach (json_object_get(json_object_get(n, "result"), "ips"), k, ip)
      {
        const char *a = json_string_value(json_object_get(ip, "address"));
        if (a)
          {
            _cleanup_free_ char *bare = xstrndup(a, strcspn(a, "/"));
            json_array_append_new(addrs, json_string(bare));
          }
        if (i == 0 && !gateway)
          gateway = json_string_value(json_object_get(ip, "gateway"));
      }
  if (!gateway || json_array_size(addrs) == 0)
    return podrun_error_set(err, 0, "--mds-register: the pod's network %s has no gateway, the address the pod would "
                                    "reach the metadata service on", QUOTE(net));
  *ret_host = xstrdup(gateway);
  return 0;
}

/* Of the service's TCP listeners, one the pod reaches at host: the port. */
static int pick_port(json_t *listen, const char *host, unsigned *ret, podrun_error_t *err)
{
  size_t i;
  json_t *l;
  bool v6 = strchr(host, ':') != NULL;
  json_array_foreach (listen, i, l)
    {
      const char *s = json_string_value(l), *hp = s ? startswith(s, "tcp:") : NULL, *colon;
      unsigned long long port;
      if (!hp || !(colon = strrchr(hp, ':')) || parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
        continue;
      _cleanup_free_ char *h = xstrndup(hp, (size_t) (colon - hp));
      bool any = streq(h, "[::]") || (!v6 && streq(h, "0.0.0.0"));
      _cleanup_free_ char *bracketed = xasprintf("[%s]", host);
      if (any || streq(h, host) || streq(h, bracketed))
        return *ret = (unsigned) port, 0;
    }
  _cleanup_free_ char *list = json_dumps(listen, JSON_COMPACT);
  return podrun_error_set(err, 0, "--mds-register: the metadata service listens on %s, none of which the pod "
                                  "reaches at %s (podrun-metadata --listen=tcp:0.0.0.0:18112)", list ?: "nothing",
                          host);
}

static json_t *registration(struct store *s, struct pod *p, const char *pod_text, const struct appc_pod_manifest *m,
                            json_t *addrs, podrun_error_t *err)
{
  _cleanup_json_ json_t *manifest = NULL;
  if (json_parse_untrusted(pod_text, strlen(pod_text), "pod", &manifest, err) < 0)
    return NULL;
  json_t *apps = json_array();
  for (size_t i = 0; i < m->n_apps; i++)
    {
      _cleanup_store_image_ struct store_image *img = NULL;
      _cleanup_json_ json_t *im = NULL;
      if (store_resolve(s, m->apps[i].image.id, &img, err) < 0 ||
          json_parse_untrusted(img->manifest, strlen(img->manifest), "image manifest", &im, err) < 0)
        {
          json_decref(apps);
          return NULL;
        }
      json_array_append_new(apps, json_pack("{s:s,s:s,s:O}", "name", m->apps[i].name, "image_id", m->apps[i].image.id,
                                            "image_manifest", im));
    }
  return json_pack("{s:s,s:O,s:o,s:O}", "uuid", p->uuid, "manifest", manifest, "apps", apps, "addresses", addrs);
}

int mds_pod_register(struct store *s, struct pod *p, const char *pod_text, const struct appc_pod_manifest *m,
                     char *const *flags, uid_t userns_shift, podrun_error_t *err)
{
  _cleanup_json_ json_t *addrs = NULL, *body = NULL, *reply = NULL;
  _cleanup_free_ char *host = NULL, *text = NULL, *answer = NULL;
  const char *net = NULL, *v;
  long status = 0;
  unsigned port = 0;

  for (size_t i = 0; flags[i]; i++)
    if ((v = startswith(flags[i], "--net=")))
      net = v;
  if (net && streq(net, "none"))
    return podrun_error_set(err, 0, "--mds-register: the pod has no network (--net=none) to reach the metadata "
                                    "service on");
  if (pod_addresses(p, net, &addrs, &host, err) < 0 || !(body = registration(s, p, pod_text, m, addrs, err)))
    return podrun_error_wrap(err, "pod %s", p->uuid);
  text = json_dumps(body, JSON_COMPACT);
  if (request("POST", "/v1/pods", text, &status, &answer, err) < 0)
    return -1;
  if (status != 201)
    {
      _cleanup_free_ char *msg = reply_message(answer);
      return podrun_error_set(err, 0, "--mds-register: the metadata service refused pod %s: %s", p->uuid, ESCAPE(msg));
    }
  const char *token = NULL;
  if (json_parse_untrusted(answer, strlen(answer), "the metadata service's reply", &reply, err) < 0 ||
      !(token = json_string_value(json_object_get(reply, "token"))) || strlen(token) != 64 ||
      strspn(token, "0123456789abcdef") != 64)
    {
      if (!*err)
        podrun_error_set(err, 0, "--mds-register: the metadata service's reply has no token");
      mds_pod_unregister(p);
      return -1;
    }
  if (pick_port(json_object_get(reply, "listen"), host, &port, err) < 0)
    {
      mds_pod_unregister(p);
      return -1;
    }
  _cleanup_free_ char *url = strchr(host, ':') ? xasprintf("http://[%s]:%u/%s", host, port, token)
                                               : xasprintf("http://%s:%u/%s", host, port, token);
  if (fs_write_file_atomic_at(p->dirfd, MDS_URL_FILE, url, strlen(url), 0600, err) < 0)
    goto fail;
  /* the pod's root reads it (stage2, as the pod's uid 0) */
  if (userns_shift && fchownat(p->dirfd, MDS_URL_FILE, userns_shift, userns_shift, AT_SYMLINK_NOFOLLOW) < 0)
    {
      podrun_error_set(err, errno, "chown %s to the pod's root", MDS_URL_FILE);
      goto fail;
    }
  log_debug("pod %s registered with the metadata service", p->uuid);
  return 0;
fail:
  mds_pod_unregister(p);
  return podrun_error_wrap(err, "pod %s", p->uuid);
}

void mds_pod_unregister(struct pod *p)
{
  _cleanup_error_ podrun_error_t e = NULL;
  _cleanup_free_ char *path = xasprintf("/v1/pods/%s", p->uuid), *answer = NULL;
  long status = 0;
  (void) unlinkat(p->dirfd, MDS_URL_FILE, 0);
  if (request("DELETE", path, NULL, &status, &answer, &e) < 0)
    log_warning("pod %s: unregister: %s", p->uuid, e->msg);
}
