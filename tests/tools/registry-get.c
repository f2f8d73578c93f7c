/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry-get: store/registry.c and store/auth.c from the command line, for
 * tests/e2e/registry-client.bats.
 *
 *   registry-get [--insecure-tls] [--insecure-http] [--ca-dir D] [--user U --password P]
 *                [--authfile F] [--auth-dir D]… [--parallel N] [--progress]
 *                [--blob DIGEST --size N]… HOST REPO REF OUTDIR
 *
 * Writes OUTDIR/manifest, content-type and digest; for a manifest, its config
 * as OUTDIR/config and every blob (config and layers) as
 * OUTDIR/blobs/ALG-HEX; for an index, prints its platforms (os/arch[/variant]
 * digest). A blob file already there is resumed from its size. --blob
 * (each with its --size) fetches those blobs alone (REF unused). Prints one line per blob fetched:
 * "DIGEST offset=N received=M". The sinks check the sha256 themselves. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "store/dl.h"
#include "json-util.h"
#include "stage0/podrun.h"
#include "store/auth.h"
#include "store/registry.h"

struct sink
{
  int fd;
  EVP_MD_CTX *md;
  uint64_t offset, received;
  bool restarted;
  uint64_t done, total;
};

static bool arg_progress;

static int sink_write(void *ctx, const void *buf, size_t len, podrun_error_t *err)
{
  struct sink *s = ctx;
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write(s->fd, p, len);
      if (n < 0)
        return podrun_error_set(err, errno, "write");
      sym_EVP_DigestUpdate(s->md, p, n);
      s->received += n;
      p += n;
      len -= n;
    }
  return 0;
}

static int sink_restart(void *ctx, podrun_error_t *err)
{
  struct sink *s = ctx;
  if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "truncate");
  sym_EVP_DigestInit_ex(s->md, sym_EVP_sha256(), NULL);
  s->restarted = true;
  return 0;
}

static void progress(void *ctx, const char *digest, uint64_t done, uint64_t total)
{
  struct sink *sinks = ctx;
  (void) sinks;
  if (arg_progress)
    fprintf(stderr, "progress %s %llu/%llu\n", digest, (unsigned long long) done, (unsigned long long) total);
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
  _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
  _cleanup_fclose_ FILE *f = fopen(p, "we");
  if (!f || fwrite(buf, 1, len, f) != len || fflush(f) != 0)
    return fprintf(stderr, "registry-get: write %s: %m\n", p), -1;
  return 0;
}

static int sink_open(const char *outdir, struct registry_blob *b, struct sink *s, podrun_error_t *err)
{
  _cleanup_free_ char *name = xstrdup(b->digest), *path = NULL;
  char buf[65536];
  ssize_t n;

  *strchr(name, ':') = '-';
  path = xasprintf("%s/blobs/%s", outdir, name);
  s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->fd < 0)
    return podrun_error_set(err, errno, "open %s", path);
  s->md = sym_EVP_MD_CTX_new();
  sym_EVP_DigestInit_ex(s->md, sym_EVP_sha256(), NULL);
  while ((n = read(s->fd, buf, sizeof(buf))) > 0)
    {
      sym_EVP_DigestUpdate(s->md, buf, n);
      s->offset += n;
    }
  b->offset = s->offset > b->size ? b->size : s->offset;
  b->write = sink_write;
  b->restart = sink_restart;
  b->ctx = s;
  return 0;
}

static int sink_check(const struct registry_blob *b, struct sink *s)
{
  unsigned char md[64];
  unsigned int len = 0;
  char hex[200] = "sha256:";

  sym_EVP_DigestFinal_ex(s->md, md, &len);
  for (unsigned i = 0; i < len; i++)
    sprintf(hex + 7 + 2 * i, "%02x", md[i]);
  printf("%s offset=%llu received=%llu%s\n", b->digest, (unsigned long long) b->offset,
         (unsigned long long) s->received, s->restarted ? " restarted" : "");
  if (!streq(hex, b->digest))
    return fprintf(stderr, "registry-get: blob %s: digest mismatch (got %s)\n", b->digest, hex), -1;
  return 0;
}

static int fetch(struct registry *r, const char *repo, const char *outdir, struct registry_blob *blobs, size_t n)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *bdir = xasprintf("%s/blobs", outdir);
  struct sink *sinks = xzalloc((n + 1) * sizeof(*sinks));
  int ret = 0;

  (void) mkdir(bdir, 0755);
  for (size_t i = 0; i < n && ret == 0; i++)
    if (sink_open(outdir, &blobs[i], &sinks[i], &err) < 0)
      ret = -1;
  if (ret == 0 && registry_fetch_blobs(r, repo, blobs, n, &err) < 0)
    ret = -1;
  for (size_t i = 0; i < n; i++)
    {
      if (blobs[i].error)
        fprintf(stderr, "registry-get: blob %zu: %s\n", i, blobs[i].error->msg);
      podrun_error_free(&blobs[i].error);
    }
  if (ret < 0)
    fprintf(stderr, "registry-get: %s\n", err->msg);
  for (size_t i = 0; i < n; i++)
    {
      if (ret == 0 && sink_check(&blobs[i], &sinks[i]) < 0)
        ret = -1;
      if (sinks[i].md)
        sym_EVP_MD_CTX_free(sinks[i].md);
      if (sinks[i].fd >= 0)
        close(sinks[i].fd);
    }
  free(sinks);
  return ret;
}

static int print_index(json_t *j)
{
  json_t *m;
  size_t i;
  json_array_foreach (json_object_get(j, "manifests"), i, m)
    {
      json_t *p = json_object_get(m, "platform");
      const char *variant = json_string_value(json_object_get(p, "variant"));
      printf("%s/%s%s%s %s\n", json_string_value(json_object_get(p, "os")),
             json_string_value(json_object_get(p, "architecture")), variant ? "/" : "", variant ? variant : "",
             json_string_value(json_object_get(m, "digest")));
    }
  return 0;
}

static int descriptor(json_t *d, struct registry_blob *b)
{
  b->digest = json_string_value(json_object_get(d, "digest"));
  json_t *size = json_object_get(d, "size");
  if (!b->digest || !json_is_integer(size) || json_integer_value(size) < 0)
    return fprintf(stderr, "registry-get: a descriptor without digest or size\n"), -1;
  b->size = json_integer_value(size);
  return 0;
}

static int image(struct registry *r, const char *repo, const char *ref, const char *outdir)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *body = NULL, *ct = NULL, *digest = NULL, *config = NULL;
  _cleanup_json_ json_t *j = NULL;
  size_t len = 0, clen = 0;

  if (registry_get_manifest(r, repo, ref, &body, &len, &ct, &digest, &err) < 0)
    return fprintf(stderr, "registry-get: %s\n", err->msg), -1;
  if (write_file(outdir, "manifest", body, len) < 0 || write_file(outdir, "content-type", ct, strlen(ct)) < 0 ||
      write_file(outdir, "digest", digest, strlen(digest)) < 0)
    return -1;
  if (json_parse_untrusted(body, len, "manifest", &j, &err) < 0)
    return fprintf(stderr, "registry-get: %s\n", err->msg), -1;
  if (json_object_get(j, "manifests"))
    return print_index(j);
  json_t *layers = json_object_get(j, "layers"), *l;
  size_t n = json_array_size(layers), i;
  _cleanup_free_ struct registry_blob *blobs = xzalloc((n + 1) * sizeof(*blobs));
  if (descriptor(json_object_get(j, "config"), &blobs[0]) < 0)
    return -1;
  if (registry_get_blob_small(r, repo, blobs[0].digest, REGISTRY_MANIFEST_MAX, &config, &clen, &err) < 0)
    return fprintf(stderr, "registry-get: %s\n", err->msg), -1;
  if (write_file(outdir, "config", config, clen) < 0)
    return -1;
  json_array_foreach (layers, i, l)
    if (descriptor(l, &blobs[i + 1]) < 0)
      return -1;
  return fetch(r, repo, outdir, blobs, n + 1);
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    { "insecure-tls", no_argument, NULL, 't' }, { "insecure-http", no_argument, NULL, 'h' },
    { "ca-dir", required_argument, NULL, 'c' }, { "user", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' }, { "authfile", required_argument, NULL, 'a' },
    { "auth-dir", required_argument, NULL, 'd' }, { "parallel", required_argument, NULL, 'j' },
    { "progress", no_argument, NULL, 'P' }, { "blob", required_argument, NULL, 'b' },
    { "size", required_argument, NULL, 's' }, {},
  };
  struct registry_opts o = { .user_agent = "podrun/" PODRUN_VERSION, .progress = progress };
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *user = NULL, *password = NULL;
  const char *authfile = NULL;
  const char *dirs[8] = { 0 };
  struct registry_blob blobs[16] = { 0 };
  size_t n_dirs = 0, n_blobs = 0;
  int c;

  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 't': o.insecure_tls = true; break;
      case 'h': o.insecure_http = true; break;
      case 'c': o.ca_dir = optarg; break;
      case 'u': o.user = optarg; break;
      case 'p': o.password = optarg; break;
      case 'a': authfile = optarg; break;
      case 'd':
        if (n_dirs + 1 < ELEMENTSOF(dirs))
          dirs[n_dirs++] = optarg;
        break;
      case 'j': o.parallel = atoi(optarg); break;
      case 'P': arg_progress = true; break;
      case 'b':
        if (n_blobs < ELEMENTSOF(blobs))
          blobs[n_blobs++].digest = optarg;
        break;
      case 's':
        if (n_blobs > 0)
          blobs[n_blobs - 1].size = strtoull(optarg, NULL, 10);
        break;
      default: return 2;
      }
  if (argc - optind != 4)
    return fprintf(stderr, "usage: registry-get [options] HOST REPO REF OUTDIR\n"), 2;
  const char *host = argv[optind], *repo = argv[optind + 1], *ref = argv[optind + 2], *outdir = argv[optind + 3];
  o.host = host;
  if (!o.user && (authfile || n_dirs))
    {
      if (auth_find(dirs, authfile, host, &user, &password, &err) < 0)
        return fprintf(stderr, "registry-get: %s\n", err->msg), 1;
      o.user = user;
      o.password = password;
    }
  if (dl_load_crypto(&err) < 0)
    return fprintf(stderr, "registry-get: %s\n", err->msg), 1;
  (void) mkdir(outdir, 0755);
  _cleanup_registry_ struct registry *r = NULL;
  if (registry_open(&o, &r, &err) < 0)
    return fprintf(stderr, "registry-get: %s\n", err->msg), 1;
  if (n_blobs > 0)
    return fetch(r, repo, outdir, blobs, n_blobs) < 0 ? 1 : 0;
  return image(r, repo, ref, outdir) < 0 ? 1 : 0;
}
