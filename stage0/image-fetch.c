/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Getting an image into the store, for fetch, run and prepare alike: a
 * local ACI (its identity remembered, so an unchanged file is not read
 * again), a name or id of the store's, docker:// from a registry, an OCI
 * image layout or archive, a docker-archive. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "store/auth.h"
#include "store/discovery.h"
#include "store/http.h"
#include "store/fetch.h"
#include "fs.h"
#include "docker-verify.h"
#include "log.h"
#include "image-fetch.h"
#include "image-ref.h"
#include "appc.h"
#include "json-util.h"
#include "store/oci.h"
#include "store/extract.h"
#include "store/trust.h"
#include "trust-keys.h"
#include "appc.h"

struct fetch_args arg_fetch;

enum pull_policy
{
  PULL_NEVER,
  PULL_NEW,
  PULL_UPDATE,
};

static int pull_policy(enum pull_policy *ret, podrun_error_t *err)
{
  const char *p = arg_fetch.pull_policy;
  if (!p || streq(p, "new"))
    *ret = PULL_NEW;
  else if (streq(p, "never"))
    *ret = PULL_NEVER;
  else if (streq(p, "update"))
    *ret = PULL_UPDATE;
  else
    return podrun_error_set(err, 0, "--pull-policy=%s: not a policy (never, new, update)", QUOTE(p));
  return 0;
}

/* ---- configuration ------------------------------------------------------- */

/* registries.json of the local configuration, else the system's:
 * {"defaultRegistry": "HOST[:PORT]"}. NULL when neither names one. */
static int default_registry(char **ret, podrun_error_t *err)
{
  const char *dirs[] = { arg_local_config, arg_system_config };
  *ret = NULL;
  for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
    {
      _cleanup_free_ char *path = xasprintf("%s/registries.json", dirs[i]), *text = NULL;
      _cleanup_json_ json_t *j = NULL;
      size_t len = 0;
      if (access(path, F_OK) < 0)
        continue;
      if (fs_read_file_at(AT_FDCWD, path, 64 * 1024, &text, &len, err) < 0 ||
          json_parse_untrusted(text, len, path, &j, err) < 0)
        return -1;
      json_t *v = json_object_get(j, "defaultRegistry");
      if (!v)
        continue;
      const char *host = json_string_value(v);
      if (!host || !*host || strpbrk(host, "/ \t\n@") || strlen(host) > 255)
        return podrun_error_set(err, 0, "%s: \"defaultRegistry\" must be a HOST[:PORT]", QUOTE(path));
      *ret = xstrdup(host);
      return 0;
    }
  return 0;
}

/* ---- progress ------------------------------------------------------------ */

struct progress
{
  bool tty;
  char **digests;
  uint64_t *done, *total;
  size_t n;
  int64_t start, last;
};

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void human(uint64_t b, char buf[static 16])
{
  if (b >= 10ULL << 20)
    snprintf(buf, 16, "%.0fMiB", (double) b / (1 << 20));
  else if (b >= 1 << 20)
    snprintf(buf, 16, "%.1fMiB", (double) b / (1 << 20));
  else
    snprintf(buf, 16, "%.0fKiB", (double) b / 1024);
}

/* One line per layer, redrawn in place at most ten times a second. */
static void progress_draw(struct progress *p, bool force)
{
  int64_t t = now_ms();
  if (!force && t - p->last < 100)
    return;
  if (p->last)
    fprintf(stderr, "\033[%zuA", p->n);
  p->last = t;
  double secs = (double) (t - p->start) / 1000.0;
  for (size_t i = 0; i < p->n; i++)
    {
      char d[16], tot[16], rate[16];
      human(p->done[i], d);
      if (p->total[i])
        human(p->total[i], tot);
      else
        snprintf(tot, sizeof(tot), "?");
      human(secs > 0 ? (uint64_t) ((double) p->done[i] / secs) : 0, rate);
      fprintf(stderr, "\r\033[K%s %.19s  %s / %s  %s/s%s\n", startswith(p->digests[i], "sha") ? "layer" : "image",
              p->digests[i], d, tot, rate, p->done[i] == p->total[i] ? "  done" : "");
    }
  fflush(stderr);
}

static void progress_cb(void *ctx, const char *digest, uint64_t done, uint64_t total)
{
  struct progress *p = ctx;
  size_t i;
  for (i = 0; i < p->n && !streq(p->digests[i], digest); i++)
    ;
  if (i == p->n)
    {
      if (p->last)
        fprintf(stderr, "\n"); /* a line for the new layer */
      p->digests = strv_push(p->digests, digest);
      p->done = xrealloc(p->done, sizeof(uint64_t) * (p->n + 1));
      p->total = xrealloc(p->total, sizeof(uint64_t) * (p->n + 1));
      p->n++;
    }
  p->done[i] = done;
  p->total[i] = total;
  progress_draw(p, done == total);
}

static void progress_end(struct progress *p, bool ok)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < p->n; i++)
    sum += p->done[i];
  if (p->tty && ok)
    {
      char b[16];
      human(sum, b);
      fprintf(stderr, "fetched %zu layer%s, %s in %.1fs\n", p->n, p->n == 1 ? "" : "s", b,
              (double) (now_ms() - p->start) / 1000.0);
    }
  strv_free(p->digests);
  free(p->done);
  free(p->total);
}

/* ---- docker:// ----------------------------------------------------------- */

/* The platform to take from a manifest list: --os and --arch, else the
 * host's (with its variant: an explicit --arch takes any). */
static void wanted_platform(const char **ret_os, const char **ret_arch, const char **ret_variant)
{
  *ret_variant = NULL;
  *ret_os = arg_fetch.os ? arg_fetch.os : "linux";
  *ret_arch = arg_fetch.arch ? arg_fetch.arch : oci_host_arch(ret_variant);
}

static bool of_platform(const struct store_image *img, const char *os, const char *arch, const char *variant)
{
  const char *appc_arch = oci_arch_to_appc(arch, variant);
  return streq_ptr(img->os, os) && appc_arch && streq_ptr(img->arch, appc_arch);
}

/* The store's copy of an image that must be signed: verified when it came,
 * by a key trusted for its name (a root key, a prefix of it, or the keys
 * its policy scope gives). */
static int store_verified_copy(struct store *s, const char *id, const struct docker_verify *dv, podrun_error_t *err)
{
  struct store_signer stored = { 0 };
  int r = store_get_signer(s, id, &stored, err);
  if (r >= 0 && !stored.fingerprint)
    r = podrun_error_new(err, EPERM,
                         "the store's copy was fetched unverified (--insecure-options=image); remove it (podrun image "
                         "rm), fetch it again with --pull-policy=update, or use --insecure-options=image");
  else if (r >= 0 && stored.prefix && *stored.prefix && !trust_prefix_covers(stored.prefix, dv->appc_name) &&
           !streq(stored.prefix, policy_scope_label(dv->reqs)))
    r = podrun_error_new(err, EPERM,
                         "the store's copy was verified for %s, not for this name; fetch it again with "
                         "--pull-policy=update",
                         QUOTE(stored.prefix));
  store_signer_done(&stored);
  return r;
}

/* Who signed it and with what (for image verify to check again), or how
 * policy.json let it in unsigned: an image verified before (under another
 * name) keeps its signer and signatures. */
static int keep_verification(struct store *s, const char *id, const struct docker_verify *dv, podrun_error_t *err)
{
  struct store_policy p = { .reference = dv->reference, .decision = (char *) docker_verify_decision(dv) };

  if (dv->verified)
    {
      struct store_signer signer = { .fingerprint = dv->signer.fingerprint, .prefix = dv->signer.prefix,
                                     .verified_time = dv->signer.verified_time };
      p.list = dv->list;
      p.list_len = dv->list_len;
      p.sigs = dv->kept;
      p.lens = dv->kept_lens;
      p.n = dv->n_kept;
      return store_set_signer(s, id, &signer, err) < 0 ? -1 : store_keep_policy(s, id, &p, err);
    }
  struct store_signer stored = { 0 };
  if (store_get_signer(s, id, &stored, err) < 0)
    return -1;
  bool signed_ = stored.fingerprint != NULL;
  store_signer_done(&stored);
  return signed_ ? 0 : store_keep_policy(s, id, &p, err);
}

/* The store's key of a docker reference: HOST/REPO@DIGEST, else HOST/REPO:TAG. */
static char *ref_key(const struct oci_ref *r)
{
  _cleanup_free_ char *name = oci_ref_name(r);
  return r->digest ? xasprintf("%s@%s", name, r->digest) : xasprintf("%s:%s", name, r->tag);
}

static int fetch_docker(struct store *s, const char *ref, enum pull_policy policy, char **ret_id,
                        podrun_error_t *err)
{
  _cleanup_free_ char *def = NULL, *name = NULL, *appc = NULL, *key = NULL, *user = NULL, *password = NULL,
                      *ca_dir = NULL, *local_auth = NULL, *system_auth = NULL;
  _cleanup_store_image_ struct store_image *known = NULL;
  struct oci_ref r = { 0 };
  struct docker_verify dv = { 0 };
  const char *os, *arch, *variant;
  int rc = -1;

  if (default_registry(&def, err) < 0 || oci_ref_parse(ref + strlen("docker://"), def, &r, err) < 0)
    return podrun_error_wrap(err, "image %s", QUOTE(ref));
  name = oci_ref_name(&r);
  key = ref_key(&r);
  wanted_platform(&os, &arch, &variant);
  if (store_get_ref(s, key, &known, err) < 0)
    goto out;
  /* a tag of a manifest list names an image per platform: the store's is
   * the one asked for only if it is of that platform */
  if (known && !of_platform(known, os, arch, variant))
    store_image_free(TAKE_PTR(known));
  if (oci_ref_appc_name(&r, &appc, err) < 0)
    goto out;
  if (docker_verify_begin(&r, appc, &dv, err) < 0)
    {
      podrun_error_wrap(err, "image %s", QUOTE(ref));
      goto out;
    }
  if (known && policy != PULL_UPDATE)
    {
      if (dv.check && store_verified_copy(s, known->id, &dv, err) < 0)
        {
          podrun_error_wrap(err, "image %s", QUOTE(ref));
          goto out;
        }
      *ret_id = xstrdup(known->id);
      rc = 0;
      goto out;
    }
  if (policy == PULL_NEVER)
    {
      podrun_error_new(err, ENOENT, "image %s: not in the store (--pull-policy=never)", QUOTE(ref));
      goto out;
    }
  local_auth = xasprintf("%s/auth.d", arg_local_config);
  system_auth = xasprintf("%s/auth.d", arg_system_config);
  const char *const auth_dirs[] = { local_auth, system_auth, NULL };
  if (auth_find(auth_dirs, arg_fetch.authfile, r.host, &user, &password, err) < 0)
    goto out;
  ca_dir = xasprintf("%s/certs.d", arg_local_config);
  struct progress prog = { .tty = !arg_fetch.quiet && isatty(STDERR_FILENO), .start = now_ms() };
  struct store_docker_fetch f = {
    .image = { .os = os, .arch = arch, .variant = variant, .name = name, .appc_name = appc,
               .tag = r.tag, .ref = key },
    .registry = { .host = r.host, .insecure_tls = arg_insecure & INSECURE_TLS,
                  .insecure_http = arg_insecure & INSECURE_HTTP, .ca_dir = ca_dir, .user = user,
                  .password = password, .user_agent = "podrun/" PODRUN_VERSION,
                  .progress = prog.tty ? progress_cb : NULL, .progress_ctx = &prog },
    .repo = r.repo,
    .reference = r.digest ? r.digest : r.tag,
    .verify = docker_verify_manifest,
    .verify_ctx = &dv,
  };
  rc = store_fetch_docker(s, &f, ret_id, err);
  progress_end(&prog, rc >= 0);
  if (rc >= 0 && (rc = keep_verification(s, *ret_id, &dv, err)) < 0)
    free(TAKE_PTR(*ret_id));
  if (rc < 0)
    podrun_error_wrap(err, "fetch %s", QUOTE(ref));
out:
  docker_verify_done(&dv);
  if (password)
    explicit_bzero(password, strlen(password));
  oci_ref_done(&r);
  return rc;
}

/* ---- oci:DIR[:TAG] ------------------------------------------------------- */

/* The name an image of a layout or archive gets: localhost/<its file's
 * name>, made an AC identifier. */
static char *layout_name(const char *dir)
{
  _cleanup_free_ char *copy = xstrdup(dir);
  char *slash;
  while ((slash = strrchr(copy, '/')) && slash[1] == '\0' && slash != copy)
    *slash = '\0';
  const char *base = (slash = strrchr(copy, '/')) ? slash + 1 : copy;
  char *name = xasprintf("localhost/%s", *base ? base : "image");
  for (char *c = name + strlen("localhost/"); *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
      *c = (*c >= 'A' && *c <= 'Z') ? (char) (*c - 'A' + 'a') : '-';
  return name;
}

/* oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE */
static int fetch_oci_local(struct store *s, const char *ref, enum image_ref_kind kind, char **ret_id,
                           podrun_error_t *err)
{
  const char *scheme = kind == IMAGE_REF_OCI_LAYOUT ? "oci:" : kind == IMAGE_REF_OCI_ARCHIVE ? "oci-archive:"
                                                                                             : "docker-archive:";
  _cleanup_free_ char *path = xstrdup(ref + strlen(scheme)), *name = NULL, *def = NULL;
  const char *os, *arch, *variant, *tag = NULL;
  char *colon = strrchr(path, ':');
  int r;

  if (colon && !strchr(colon, '/') && kind != IMAGE_REF_DOCKER_ARCHIVE)
    {
      *colon = '\0';
      tag = colon + 1;
    }
  if (!(arg_insecure & INSECURE_IMAGE))
    return podrun_error_set(err, 0,
                            "image %s: an image archive or layout on disk carries no signature podrun can verify; use "
                            "--insecure-options=image to fetch it unverified",
                            QUOTE(ref));
  if (kind == IMAGE_REF_DOCKER_ARCHIVE && default_registry(&def, err) < 0)
    return -1;
  name = layout_name(path);
  wanted_platform(&os, &arch, &variant);
  struct store_oci_fetch f = { .os = os, .arch = arch, .variant = variant, .name = name, .appc_name = name,
                               .tag = tag, .default_registry = def };
  if (kind == IMAGE_REF_OCI_LAYOUT)
    r = store_import_oci_layout(s, path, &f, ret_id, err);
  else
    r = store_import_archive(s, path, kind == IMAGE_REF_DOCKER_ARCHIVE, &f, ret_id, err);
  return r < 0 ? podrun_error_wrap(err, "fetch %s", QUOTE(ref)) : 0;
}

/* ---- appc images over https ---------------------------------------------- */

static int aci_name(int fd, char **ret, podrun_error_t *err);
static int open_regular(const char *path, const char *what, int *ret_fd, struct stat *ret_st, podrun_error_t *err);

/* The downloaded ACI against its signature, before it enters the store. */
struct download_check
{
  struct trust_result res;
  bool verified;
};

static int verify_download(void *ctx, int aci_fd, const char *sig_path, podrun_error_t *err)
{
  struct download_check *c = ctx;
  _cleanup_free_ char *name = NULL, *local = NULL, *system = NULL;
  _cleanup_close_ int sig = -1;
  struct stat st;

  if (!sig_path)
    return podrun_error_new(err, ENOENT,
                            "unsigned: the server has no signature for it; use --insecure-options=image to fetch it "
                            "unverified");
  if (open_regular(sig_path, "signature", &sig, &st, err) < 0 || aci_name(aci_fd, &name, err) < 0)
    return -1;
  local = xasprintf("%s/trustedkeys", arg_local_config);
  system = xasprintf("%s/trustedkeys", arg_system_config);
  if (trust_verify(local, system, name, aci_fd, sig, &c->res, err) < 0)
    return podrun_error_wrap(err, "signature");
  c->verified = true;
  return 0;
}

static enum store_aci_policy aci_policy(enum pull_policy p)
{
  return p == PULL_UPDATE ? STORE_ACI_UPDATE : STORE_ACI_NEW;
}

/* url (and its signature at sig_url) into the store; name and labels are
 * discovery's, which the image must match (NULL for a URL given). */
static int fetch_aci_url(struct store *s, const char *ref, const char *url, const char *sig_url, const char *name,
                         const struct appc_kvs *labels, enum pull_policy policy, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *ca_dir = xasprintf("%s/certs.d", arg_local_config), *sig_path = NULL, *known = NULL;
  struct progress prog = { .tty = !arg_fetch.quiet && isatty(STDERR_FILENO), .start = now_ms() };
  int rc;

  if (policy == PULL_NEVER)
    {
      if (store_get_remote(s, url, &known, err) < 0)
        return -1;
      if (!known)
        return podrun_error_new(err, ENOENT, "image %s: not in the store (--pull-policy=never)", QUOTE(ref));
      *ret_id = TAKE_PTR(known);
      return 0;
    }
  struct download_check check = { 0 };
  bool cached = false;
  struct store_aci_fetch f = {
    .url = url,
    .sig_url = sig_url,
    .http = { .insecure_tls = arg_insecure & INSECURE_TLS, .insecure_http = arg_insecure & INSECURE_HTTP,
              .ca_dir = ca_dir, .user_agent = "podrun/" PODRUN_VERSION, .peer = "server",
              .progress = prog.tty ? progress_cb : NULL, .progress_ctx = &prog },
    .policy = aci_policy(policy),
    /* --insecure-options=image: no signature is looked at (rkt's rule) */
    .verify = arg_insecure & INSECURE_IMAGE ? NULL : verify_download,
    .verify_ctx = &check,
    .ret_cached = &cached,
    .name = name,
    .labels = labels,
  };
  rc = store_fetch_aci_url(s, &f, ret_id, &sig_path, err);
  progress_end(&prog, rc >= 0);
  _cleanup_close_ int sig_fd = sig_path && check.verified ? open(sig_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
  if (sig_path)
    (void) unlink(sig_path);
  /* the store's copy, fetched before: verified then, or refused now */
  if (rc >= 0 && cached && !(arg_insecure & INSECURE_IMAGE))
    {
      struct store_signer stored = { 0 };
      rc = store_get_signer(s, *ret_id, &stored, err);
      if (rc >= 0 && !stored.fingerprint)
        rc = podrun_error_new(err, EPERM,
                              "the store's copy was fetched unverified (--insecure-options=image); remove it "
                              "(podrun image rm) or fetch it with --insecure-options=image");
      store_signer_done(&stored);
      if (rc < 0)
        free(TAKE_PTR(*ret_id));
    }
  if (rc >= 0 && check.verified)
    {
      struct store_signer signer = { .fingerprint = check.res.fingerprint, .prefix = check.res.prefix,
                                     .verified_time = check.res.verified_time };
      rc = store_set_signer(s, *ret_id, &signer, err);
      /* kept for image verify to check it again */
      if (rc >= 0 && sig_fd < 0)
        rc = podrun_error_new(err, EIO, "keep the signature: it is gone from %s", QUOTE(sig_path));
      if (rc >= 0)
        rc = store_keep_signature(s, *ret_id, sig_fd, err);
    }
  trust_result_done(&check.res);
  return rc < 0 ? podrun_error_wrap(err, "fetch %s", QUOTE(ref)) : 0;
}

/* https://…/x.aci, its signature beside it (x.aci.asc) */
static int fetch_https(struct store *s, const char *ref, enum pull_policy policy, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *sig = xasprintf("%s.asc", ref);
  if (startswith(ref, "http://") && !(arg_insecure & INSECURE_HTTP))
    return podrun_error_set(err, 0, "image %s: plain http needs --insecure-options=http", QUOTE(ref));
  return fetch_aci_url(s, ref, ref, sig, NULL, NULL, policy, ret_id, err);
}

/* --trust-keys-from-https: rkt's trust on first use. When no key is trusted
 * for the name yet, the keys its discovery named (the page and the keys
 * over verified https) are trusted for the name, each said on stderr; the
 * paths added in *added, for the caller to take back if the fetch fails. */
static int trust_from_https(struct http *h, const char *name, const struct discovery_result *dr, char ***added,
                            podrun_error_t *err)
{
  _cleanup_free_ char *local = xasprintf("%s/trustedkeys", arg_local_config);
  _cleanup_free_ char *system = xasprintf("%s/trustedkeys", arg_system_config);
  size_t n = 0;

  if (trust_count_for(local, system, name, &n, err) < 0)
    return -1;
  if (n > 0)
    return 0; /* the trust store decides; a page cannot add keys to it */
  if (arg_insecure & (INSECURE_TLS | INSECURE_HTTP) || !startswith(dr->page, "https://"))
    return podrun_error_new(err, EPERM,
                            "--trust-keys-from-https: keys are trusted only when their discovery and their download "
                            "are verified https (not with --insecure-options=tls or http)");
  for (size_t i = 0; dr->pubkeys && dr->pubkeys[i]; i++)
    {
      _cleanup_free_ char *text = NULL;
      struct trust_key k = { 0 };
      size_t len = 0;
      if (!startswith(dr->pubkeys[i], "https://"))
        return podrun_error_new(err, EPERM, "--trust-keys-from-https: key %s is not over https", QUOTE(dr->pubkeys[i]));
      if (trust_keys_fetch(h, dr->pubkeys[i], &text, &len, err) < 0 || trust_add(local, name, text, len, &k, err) < 0)
        return podrun_error_wrap(err, "--trust-keys-from-https: key %s", QUOTE(dr->pubkeys[i]));
      log_warning("trusting key %s for %s, fetched from %s (--trust-keys-from-https)", k.fingerprint, QUOTE(name),
                  ESCAPE(dr->pubkeys[i]));
      *added = strv_push(*added, k.file);
      trust_key_done(&k);
    }
  return 0;
}

/* A fetch that failed takes back the keys trusted for it. */
static void untrust(char **added)
{
  for (size_t i = 0; added && added[i]; i++)
    {
      _cleanup_free_ char *dir = xstrdup(added[i]);
      (void) unlink(added[i]);
      *strrchr(dir, '/') = '\0';
      (void) rmdir(dir);
    }
}

/* NAME[:VERSION] by appc meta discovery: its labels version (when given),
 * os and arch (the host's, or --os/--arch). */
static int fetch_discovered(struct store *s, const char *ref, enum pull_policy policy, char **ret_id,
                            podrun_error_t *err)
{
  _cleanup_free_ char *name = xstrdup(ref), *ca_dir = xasprintf("%s/certs.d", arg_local_config);
  _cleanup_http_ struct http *h = NULL;
  struct discovery_result dr = { 0 };
  struct appc_kvs labels = { 0 };
  const char *os, *arch, *variant;
  char *colon = strrchr(name, ':');
  int rc = -1;

  if (colon)
    *colon++ = '\0';
  wanted_platform(&os, &arch, &variant);
  const char *appc_arch = oci_arch_to_appc(arch, variant);
  if (!appc_arch)
    return podrun_error_set(err, 0, "image %s: appc has no name for the architecture %s", QUOTE(ref), QUOTE(arch));
  if (colon)
    appc_kvs_set(&labels, "version", colon);
  appc_kvs_set(&labels, "os", os);
  appc_kvs_set(&labels, "arch", appc_arch);
  struct http_opts opts = { .insecure_tls = arg_insecure & INSECURE_TLS, .insecure_http = arg_insecure & INSECURE_HTTP,
                            .ca_dir = ca_dir, .user_agent = "podrun/" PODRUN_VERSION, .peer = "server" };
  _cleanup_strv_ char **added = NULL;
  if (http_new(&opts, &h, err) < 0 ||
      discovery_resolve(h, name, &labels, arg_insecure & INSECURE_HTTP, &dr, err) < 0 ||
      (arg_fetch.trust_keys_from_https && trust_from_https(h, name, &dr, &added, err) < 0))
    podrun_error_wrap(err, "image %s", QUOTE(ref));
  else
    rc = fetch_aci_url(s, ref, dr.aci_url, dr.sig_url, name, &labels, policy, ret_id, err);
  if (rc < 0)
    untrust(added);
  discovery_result_done(&dr);
  appc_kvs_clear(&labels);
  return rc;
}

/* ---- names and files ----------------------------------------------------- */

/* NAME[:VERSION] or an id, from the store; a docker-style name also as the
 * default registry's (busybox:1 → HOST/library/busybox:1). */
static int from_store(struct store *s, const char *ref, char **ret_id, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *def = NULL;
  struct oci_ref r = { 0 };

  if (store_resolve(s, ref, &img, err) == 0)
    return *ret_id = xstrdup(img->id), 0;
  if ((*err)->status != ENOENT || image_ref_kind(ref) == IMAGE_REF_ID)
    return -1;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (default_registry(&def, &ignored) < 0 || oci_ref_parse(ref, def, &r, &ignored) < 0)
    return -1;
  _cleanup_free_ char *key = ref_key(&r);
  oci_ref_done(&r);
  _cleanup_store_image_ struct store_image *known = NULL;
  if (store_get_ref(s, key, &known, &ignored) < 0 || !known)
    return -1;
  podrun_error_free(err);
  *ret_id = xstrdup(known->id);
  return 0;
}

/* "file:///x.aci" and "x.aci" name a local file. */
static int local_path(const char *ref, const char **ret, podrun_error_t *err)
{
  const char *p = startswith(ref, "file://");
  if (p && *p != '/')
    return podrun_error_set(err, 0, "fetch %s: a file:// URL needs an absolute path", QUOTE(ref));
  *ret = p ? p : ref;
  return 0;
}

/* ---- a local ACI and its signature (store/trust.h) ---------------------- */

/* The name in the manifest of the ACI read from fd: what the trusted
 * prefixes are checked against. */
static int aci_name(int fd, char **ret, podrun_error_t *err)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = NULL;
  _cleanup_free_ char *manifest = NULL;
  struct extract_opts opts = { 0 };
  size_t len = 0;

  if (lseek(fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "rewind");
  if (extract_scan_fd(fd, &opts, &manifest, &len, err) < 0)
    return -1;
  if (!manifest)
    return podrun_error_new(err, EINVAL, "no manifest");
  if (appc_image_manifest_parse(manifest, len, &m, err) < 0)
    return -1;
  *ret = xstrdup(m->name);
  return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int open_regular(const char *path, const char *what, int *ret_fd, struct stat *ret_st, podrun_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 || fstat(fd, ret_st) < 0)
    return podrun_error_set(err, errno, "%s %s", what, QUOTE(path));
  if (!S_ISREG(ret_st->st_mode))
    return podrun_error_new(err, EINVAL, "%s %s: not a regular file", what, QUOTE(path));
  *ret_fd = TAKE_FD(fd);
  return 0;
}

/* The file is verified first and imported then, by its path (the store
 * remembers a local file by path and identity): the identity (device, inode,
 * size, mtime, ctime) it had when it was opened for verification must be
 * the one it has after the import, or a file changed or renamed over in
 * between is refused and its image not kept. */
static int verify_and_import(struct store *s, const char *path, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *sig_path = arg_fetch.signature ? xstrdup(arg_fetch.signature) : xasprintf("%s.asc", path);
  _cleanup_free_ char *name = NULL, *id = NULL, *local = NULL, *system = NULL;
  _cleanup_close_ int fd = -1, sig = -1;
  struct trust_result res = { 0 };
  struct stat before, sig_st, after_fd, after_path;
  int r = -1;

  if (open_regular(path, "image", &fd, &before, err) < 0)
    return -1;
  if (!arg_fetch.signature && access(sig_path, F_OK) < 0 && errno == ENOENT)
    return podrun_error_new(err, ENOENT,
                            "unsigned: no signature %s; use --insecure-options=image to fetch it unverified",
                            QUOTE(sig_path));
  if (open_regular(sig_path, "signature", &sig, &sig_st, err) < 0)
    return -1;
  if (aci_name(fd, &name, err) < 0)
    return -1;
  local = xasprintf("%s/trustedkeys", arg_local_config);
  system = xasprintf("%s/trustedkeys", arg_system_config);
  if (trust_verify(local, system, name, fd, sig, &res, err) < 0)
    return podrun_error_wrap(err, "signature %s", QUOTE(sig_path));
  if (store_import_aci_cached(s, path, &id, err) < 0)
    {
      r = -2;
      goto out;
    }
  if (fstat(fd, &after_fd) < 0 || stat(path, &after_path) < 0 || !same_file(&before, &after_fd) ||
      !same_file(&before, &after_path))
    {
      struct store_signer old = { 0 };
      _cleanup_error_ podrun_error_t ignored = NULL;
      /* an image verified before stays; one this import added goes */
      if (store_get_signer(s, id, &old, &ignored) == 0 && !old.fingerprint)
        (void) store_remove(s, id, &ignored);
      store_signer_done(&old);
      podrun_error_new(err, EAGAIN, "the file changed while it was verified; fetch it again");
      goto out;
    }
  struct store_signer signer = { .fingerprint = res.fingerprint, .prefix = res.prefix,
                                 .verified_time = res.verified_time };
  if (store_set_signer(s, id, &signer, err) < 0 || store_keep_signature(s, id, sig, err) < 0)
    goto out;
  *ret_id = TAKE_PTR(id);
  r = 0;
out:
  trust_result_done(&res);
  return r;
}

static int fetch_signed_aci(struct store *s, const char *ref, const char *path, char **ret_id, podrun_error_t *err)
{
  /* the import's own errors name the file already */
  int r = verify_and_import(s, path, ret_id, err);
  return r == -1 ? podrun_error_wrap(err, "fetch %s", QUOTE(ref)) : r < 0 ? -1 : 0;
}

int image_fetch(struct store *s, const char *ref, char **ret_id, podrun_error_t *err)
{
  enum image_ref_kind kind = image_ref_kind(ref);
  enum pull_policy policy = PULL_NEW;
  const char *path = NULL;
  struct stat st;

  if (pull_policy(&policy, err) < 0 || image_ref_check(ref, err) < 0)
    return -1;
  if (arg_fetch.trust_keys_from_https && kind != IMAGE_REF_NAME)
    return podrun_error_set(err, 0,
                            "image %s: --trust-keys-from-https is for images found by name (appc discovery), whose "
                            "discovery names their keys",
                            QUOTE(ref));
  switch (kind)
    {
    case IMAGE_REF_DOCKER:
      return fetch_docker(s, ref, policy, ret_id, err);
    case IMAGE_REF_OCI_LAYOUT:
    case IMAGE_REF_OCI_ARCHIVE:
    case IMAGE_REF_DOCKER_ARCHIVE:
      return fetch_oci_local(s, ref, kind, ret_id, err);
    case IMAGE_REF_HTTPS:
      return fetch_https(s, ref, policy, ret_id, err);
    default:
      break;
    }
  if (local_path(ref, &path, err) < 0)
    return -1;
  if (stat(path, &st) < 0)
    {
      if (errno == ENOENT && kind == IMAGE_REF_ID)
        return from_store(s, ref, ret_id, err);
      /* a name: the store's, else appc discovery's (unless --pull-policy=never) */
      if (errno == ENOENT && kind == IMAGE_REF_NAME)
        {
          if (policy != PULL_UPDATE && from_store(s, ref, ret_id, err) == 0)
            return 0;
          if (err && *err && (*err)->status != ENOENT)
            return -1;
          podrun_error_free(err);
          if (policy == PULL_NEVER)
            return podrun_error_new(err, ENOENT, "image %s: not in the store (--pull-policy=never)", QUOTE(ref));
          return fetch_discovered(s, ref, policy, ret_id, err);
        }
      return podrun_error_set(err, errno, "image %s", QUOTE(ref));
    }
  if (arg_insecure & INSECURE_IMAGE)
    return store_import_aci_cached(s, path, ret_id, err);
  return fetch_signed_aci(s, ref, path, ret_id, err);
}
