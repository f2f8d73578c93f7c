/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aci-get: store/fetch-aci.c and store/discovery.c from the command line,
 * for tests/e2e/discovery.bats.
 *
 *   aci-get --dir STORE [--insecure-http] [--insecure-tls] [--ca-dir D] [--sig URL]
 *           [--policy cache|new|update] [--max-size N] URL
 *   aci-get [--dir STORE] [options] [--discovery-port N] [--os OS] [--arch ARCH]
 *           [--resolve-only | --keys-only] --discover NAME[:VERSION]
 *
 * --os and --arch default to linux and this machine's arch (appc's names).
 *
 * Prints "aci=URL", "sig=URL" and "pubkey=URL" lines for a discovery, then
 * (unless --resolve-only) "id=ID", "cached=yes|no" and "signature=PATH" (a
 * file the caller removes) or "signature=none". */
#include <getopt.h>
#include <sys/utsname.h>

#include "appc.h"
#include "stage0/podrun.h"
#include "store/discovery.h"
#include "store/fetch.h"

static int fail(podrun_error_t err)
{
  fprintf(stderr, "aci-get: %s\n", err->msg);
  return 1;
}

/* NAME[:VERSION] into *name and labels (version, os, arch), then discovered. */
static int discover(struct http_opts *ho, const char *arg, const char *os, const char *arch, unsigned port,
                    bool keys_only, char **name, struct appc_kvs *labels, struct discovery_result *ret)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_http_ struct http *h = NULL;
  *name = xstrdup(arg);
  char *colon = strchr(*name, ':');

  if (colon)
    {
      *colon = '\0';
      appc_kvs_set(labels, "version", colon + 1);
    }
  appc_kvs_set(labels, "os", os);
  appc_kvs_set(labels, "arch", arch);
  int r = http_new(ho, &h, &err);
  if (r == 0)
    r = discovery_resolve_port(h, *name, keys_only ? NULL : labels, ho->insecure_http, port, ret, &err);
  if (r < 0)
    return fail(err);
  printf("page=%s\n", ret->page);
  if (ret->aci_url)
    printf("aci=%s\nsig=%s\n", ret->aci_url, ret->sig_url);
  for (char **k = ret->pubkeys; k && *k; k++)
    printf("pubkey=%s\n", *k);
  return 0;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },          { "insecure-http", no_argument, NULL, 'h' },
    { "insecure-tls", no_argument, NULL, 't' },       { "ca-dir", required_argument, NULL, 'c' },
    { "sig", required_argument, NULL, 's' },          { "policy", required_argument, NULL, 'p' },
    { "max-size", required_argument, NULL, 'm' },     { "discover", required_argument, NULL, 'D' },
    { "discovery-port", required_argument, NULL, 'P' }, { "os", required_argument, NULL, 'o' },
    { "arch", required_argument, NULL, 'a' },         { "resolve-only", no_argument, NULL, 'r' },
    { "keys-only", no_argument, NULL, 'k' },
    {},
  };
  struct store_aci_fetch f = { .http = { .user_agent = "podrun/" PODRUN_VERSION } };
  struct discovery_result dr = { 0 };
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_store_ struct store *s = NULL;
  const char *dir = NULL, *name = NULL, *os = "linux", *arch = "amd64";
  _cleanup_free_ char *discovered_name = NULL;
  struct appc_kvs labels = { 0 };
  unsigned port = 0;
  bool resolve_only = false, keys_only = false, cached = false;
  int c;

  /* the machine's arch as appc names it (as helpers.bash does) */
  static struct utsname u;
  if (uname(&u) == 0 && !streq(u.machine, "x86_64"))
    arch = streq(u.machine, "arm64") ? "aarch64" : u.machine;
  f.ret_cached = &cached;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 'd': dir = optarg; break;
      case 'h': f.http.insecure_http = true; break;
      case 't': f.http.insecure_tls = true; break;
      case 'c': f.http.ca_dir = optarg; break;
      case 's': f.sig_url = optarg; break;
      case 'p':
        f.policy = streq(optarg, "new") ? STORE_ACI_NEW : streq(optarg, "update") ? STORE_ACI_UPDATE : STORE_ACI_CACHE;
        break;
      case 'm': f.max_size = strtoull(optarg, NULL, 10); break;
      case 'D': name = optarg; break;
      case 'P': port = (unsigned) atoi(optarg); break;
      case 'o': os = optarg; break;
      case 'a': arch = optarg; break;
      case 'r': resolve_only = true; break;
      case 'k': keys_only = resolve_only = true; break;
      default: return 2;
      }
  if (name ? optind != argc : argc - optind != 1)
    return fprintf(stderr, "usage: aci-get --dir STORE [options] URL | --discover NAME[:VERSION]\n"), 2;
  if (name)
    {
      if (discover(&f.http, name, os, arch, port, keys_only, &discovered_name, &labels, &dr) != 0)
        return appc_kvs_clear(&labels), 1;
      f.url = dr.aci_url;
      f.name = discovered_name;
      f.labels = &labels;
      if (!f.sig_url)
        f.sig_url = dr.sig_url;
    }
  else
    f.url = argv[optind];
  if (resolve_only)
    return discovery_result_done(&dr), appc_kvs_clear(&labels), 0;
  if (!dir)
    return fprintf(stderr, "aci-get: --dir is needed\n"), 2;
  _cleanup_free_ char *id = NULL, *sig = NULL;
  if (store_open(dir, 0, &s, &err) < 0 || store_fetch_aci_url(s, &f, &id, &sig, &err) < 0)
    return discovery_result_done(&dr), appc_kvs_clear(&labels), fail(err);
  printf("id=%s\ncached=%s\nsignature=%s\n", id, cached ? "yes" : "no", sig ? sig : "none");
  discovery_result_done(&dr);
  appc_kvs_clear(&labels);
  return 0;
}
