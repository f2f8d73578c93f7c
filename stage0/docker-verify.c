/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.json for docker:// images and their simple-signing signatures:
 * from the lookaside store registries.d names for the image, else from the
 * registry's signature extension; each signedBy requirement is met by one
 * signature that verifies against its keys (the trust store's, or those
 * policy.json gives) and whose claim names the manifest fetched and the
 * reference asked for. */
#include <fcntl.h>

#include "docker-verify.h"
#include "fs.h"
#include "store/http.h"
#include "store/lookaside.h"
#include "store/registry.h"
#include "store/tree.h"
#include "store/trust-sign.h"

#define KEYRING_MAX (1024 * 1024)

void docker_verify_done(struct docker_verify *dv)
{
  for (size_t i = 0; i < dv->n_kept; i++)
    free(dv->kept[i]);
  free(dv->kept);
  free(dv->kept_lens);
  free(dv->list);
  if (dv->policy)
    policy_free(dv->policy);
  free(dv->name);
  free(dv->appc_name);
  free(dv->reference);
  trust_result_done(&dv->signer);
  *dv = (struct docker_verify){ 0 };
}

static bool has_type(const struct policy_reqs *q, enum policy_type t)
{
  for (size_t i = 0; i < q->n; i++)
    if (q->v[i].type == t)
      return true;
  return false;
}

int docker_verify_begin(const struct oci_ref *r, const char *appc_name, struct docker_verify *dv,
                        podrun_error_t *err)
{
  _cleanup_free_ char *local = xasprintf("%s/policy.json", arg_local_config);
  _cleanup_free_ char *system = xasprintf("%s/policy.json", arg_system_config);
  const char *const paths[] = { local, system, NULL };

  *dv = (struct docker_verify){ .ref = r, .name = oci_ref_name(r), .appc_name = xstrdup(appc_name),
                                .reference = oci_ref_string(r) };
  if (policy_load(paths, &dv->policy, err) < 0)
    return -1;
  dv->reqs = policy_for_docker(dv->policy, r);
  const char *file = *dv->policy->path ? dv->policy->path : "(built in)";
  if (has_type(dv->reqs, POLICY_REJECT))
    return podrun_error_new(err, EPERM, "rejected by policy %s (%s)", QUOTE(file), ESCAPE(policy_scope_label(dv->reqs)));
  dv->check = has_type(dv->reqs, POLICY_SIGNED_BY) && !(arg_insecure & INSECURE_IMAGE);
  return 0;
}

/* ---- the signatures ------------------------------------------------------- */

struct sigs
{
  char **v;
  size_t *lens;
  char **where; /* each one's place, for messages */
  size_t n;
};

static void sigs_done(struct sigs *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  free(s->lens);
  strv_free(s->where);
  *s = (struct sigs){ 0 };
}

static void sigs_add(struct sigs *s, char **v, size_t *lens, size_t n, const char *base, const char *repo,
                     const char *digest)
{
  s->v = xrealloc(s->v, sizeof(*s->v) * (s->n + n + 1));
  s->lens = xrealloc(s->lens, sizeof(*s->lens) * (s->n + n + 1));
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *w = base ? lookaside_signature_url(base, repo, digest, (unsigned) i + 1)
                                    : xasprintf("%zu of the registry's for %s", i + 1, digest);
      s->v[s->n] = v[i];
      s->lens[s->n] = lens[i];
      s->where = strv_push(s->where, base ? QUOTE(w) : w);
      s->n++;
    }
  free(v);
  free(lens);
}

/* The signatures of each digest: the lookaside's, else the registry's. */
static int gather(struct docker_verify *dv, struct registry *reg, const char *const *digests, struct sigs *ret,
                  char **ret_where, podrun_error_t *err)
{
  _cleanup_lookaside_ struct lookaside *l = NULL;
  _cleanup_free_ char *local = xasprintf("%s/registries.d", arg_local_config);
  _cleanup_free_ char *system = xasprintf("%s/registries.d", arg_system_config);
  _cleanup_free_ char *ca_dir = xasprintf("%s/certs.d", arg_local_config);
  const char *const dirs[] = { local, system, NULL };
  _cleanup_http_ struct http *h = NULL;

  if (lookaside_load(dirs, &l, err) < 0)
    return -1;
  const struct lookaside_entry *e = lookaside_for(l, dv->ref);
  if (e && !startswith(e->url, "file://"))
    {
      /* what a lookaside serves is verified: plain http is as good as https (containers' rule) */
      struct http_opts o = { .insecure_http = startswith(e->url, "http://"), .ca_dir = ca_dir,
                             .user_agent = "podrun/" PODRUN_VERSION, .peer = "lookaside server" };
      if (http_new(&o, &h, err) < 0)
        return -1;
    }
  for (size_t i = 0; digests[i]; i++)
    {
      char **v = NULL;
      size_t *lens = NULL, n = 0;
      int r = e ? lookaside_fetch(h, e->url, dv->ref->repo, digests[i], &v, &lens, &n, err)
                : registry_get_signatures(reg, dv->ref->repo, digests[i], &v, &lens, &n, err);
      if (r < 0)
        return -1;
      sigs_add(ret, v, lens, n, e ? e->url : NULL, dv->ref->repo, digests[i]);
    }
  *ret_where = e ? xasprintf("the lookaside %s (registries.d %s)", QUOTE(e->url), QUOTE(e->file))
                 : xasprintf("the registry (it offers no signatures, and registries.d names no lookaside for %s)",
                             ESCAPE(dv->name));
  return 0;
}

/* ---- the requirements ----------------------------------------------------- */

/* A copy of the signature that met a requirement, for the store (once). */
static void keep_sig(struct docker_verify *dv, const char *sig, size_t len)
{
  for (size_t i = 0; i < dv->n_kept; i++)
    if (dv->kept_lens[i] == len && memcmp(dv->kept[i], sig, len) == 0)
      return;
  dv->kept = xrealloc(dv->kept, sizeof(*dv->kept) * (dv->n_kept + 1));
  dv->kept_lens = xrealloc(dv->kept_lens, sizeof(*dv->kept_lens) * (dv->n_kept + 1));
  dv->kept[dv->n_kept] = xmalloc(len + 1);
  memcpy(dv->kept[dv->n_kept], sig, len);
  dv->kept[dv->n_kept][len] = '\0';
  dv->kept_lens[dv->n_kept++] = len;
}

/* Some signature verifies with c: 0 (dv->signer set, the first time). */
static int try_sigs(struct docker_verify *dv, const struct trust_sign_check *c, const struct sigs *s,
                    podrun_error_t *first)
{
  for (size_t i = 0; i < s->n; i++)
    {
      struct trust_result res = { 0 };
      podrun_error_t e = NULL;
      if (trust_sign_verify(c, s->v[i], s->lens[i], &res, &e) == 0)
        {
          if (!dv->verified)
            dv->signer = res;
          else
            trust_result_done(&res);
          dv->verified = true;
          keep_sig(dv, s->v[i], s->lens[i]);
          return 0;
        }
      podrun_error_wrap(&e, "signature %s", s->where[i]);
      if (!*first)
        *first = e;
      else
        podrun_error_free(&e);
    }
  return -1;
}

static int satisfy(struct docker_verify *dv, const struct policy_req *q, const char *const *digests,
                   const struct sigs *s, podrun_error_t *err)
{
  _cleanup_free_ char *local = xasprintf("%s/trustedkeys", arg_local_config);
  _cleanup_free_ char *system = xasprintf("%s/trustedkeys", arg_system_config);
  _cleanup_error_ podrun_error_t first = NULL;
  struct trust_sign_check c = { .name = dv->appc_name, .reference = dv->reference, .digests = digests,
                                .identity = q->identity, .identity_ref = q->identity_ref,
                                .identity_signed_prefix = q->identity_signed_prefix,
                                .keyring_scope = policy_scope_label(dv->reqs), .local_dir = local,
                                .system_dir = system };

  if (q->key_paths)
    for (size_t k = 0; q->key_paths[k]; k++)
      {
        _cleanup_free_ char *keys = NULL;
        size_t len = 0;
        if (fs_read_file_at(AT_FDCWD, q->key_paths[k], KEYRING_MAX, &keys, &len, err) < 0)
          return podrun_error_wrap(err, "policy %s: keyPath", QUOTE(dv->policy->path));
        c.keyring = keys;
        c.keyring_len = len;
        if (try_sigs(dv, &c, s, &first) == 0)
          return 0;
      }
  else
    {
      c.keyring = q->key_data;
      c.keyring_len = q->key_data_len;
      if (try_sigs(dv, &c, s, &first) == 0)
        return 0;
    }
  *err = TAKE_PTR(first);
  return -1;
}

/* The signedBy requirements, each met by one of s. */
static int satisfy_all(struct docker_verify *dv, const char *const *digests, const struct sigs *s,
                       podrun_error_t *err)
{
  for (size_t i = 0; i < dv->reqs->n; i++)
    if (dv->reqs->v[i].type == POLICY_SIGNED_BY && satisfy(dv, &dv->reqs->v[i], digests, s, err) < 0)
      return -1;
  return 0;
}

int docker_verify_manifest(void *ctx, struct registry *reg, const char *const *digests, const char *list,
                           size_t list_len, podrun_error_t *err)
{
  struct docker_verify *dv = ctx;
  struct sigs s = { 0 };
  _cleanup_free_ char *where = NULL;
  int r = -1;

  if (!dv->check)
    return 0;
  if (gather(dv, reg, digests, &s, &where, err) < 0)
    goto out;
  if (s.n == 0)
    {
      podrun_error_new(err, ENOENT,
                       "unsigned: %s has no signature of manifest %s; use --insecure-options=image to fetch it "
                       "unverified",
                       where, digests[0]);
      goto out;
    }
  if (satisfy_all(dv, digests, &s, err) < 0)
    goto out;
  if (list)
    {
      /* kept with the signatures: a claim may name the list */
      dv->list = xmalloc(list_len + 1);
      memcpy(dv->list, list, list_len);
      dv->list[list_len] = '\0';
      dv->list_len = list_len;
    }
  r = 0;
out:
  sigs_done(&s);
  return r;
}

const char *docker_verify_decision(const struct docker_verify *dv)
{
  if (dv->verified)
    return STORE_POLICY_SIGNED_BY;
  return has_type(dv->reqs, POLICY_SIGNED_BY) ? STORE_POLICY_INSECURE : STORE_POLICY_ACCEPT_ANYTHING;
}

/* ---- image verify: the same check again, from the store ------------------- */

/* "sha256-HEX" → "sha256:HEX" */
static char *oci_digest(const char *store_digest)
{
  char *d = xstrdup(store_digest);
  char *dash = strchr(d, '-');
  if (dash)
    *dash = ':';
  return d;
}

/* The manifest digests a kept claim may name, as at the fetch: the list's
 * (if one was kept and it names the image's manifest), then the manifest's. */
static int kept_digests(const struct store_image *img, const struct store_policy *p, char ***ret,
                        podrun_error_t *err)
{
  _cleanup_strv_ char **v = NULL;
  _cleanup_free_ char *manifest = oci_digest(img->manifest_digest);

  if (p->list)
    {
      _cleanup_oci_index_ struct oci_index *idx = NULL;
      _cleanup_free_ char *list_digest = NULL;
      bool named = false;
      if (oci_index_parse(p->list, p->list_len, NULL, &idx, err) < 0)
        return podrun_error_wrap(err, "its manifest list");
      for (size_t i = 0; i < idx->n_manifests; i++)
        named = named || streq(idx->manifests[i].digest, manifest);
      if (!named)
        return podrun_error_new(err, EBADMSG, "its manifest list does not name its manifest %s", manifest);
      if (tree_sha256(p->list, p->list_len, &list_digest, err) < 0)
        return -1;
      _cleanup_free_ char *d = oci_digest(list_digest);
      v = strv_push(v, d);
    }
  v = strv_push(v, manifest);
  *ret = TAKE_PTR(v);
  return 0;
}

/* The kept signatures as fetched ones, named by their blobs. */
static void kept_sigs(const struct store_policy *p, struct sigs *ret)
{
  *ret = (struct sigs){ .v = xzalloc(sizeof(*ret->v) * (p->n + 1)), .lens = xzalloc(sizeof(*ret->lens) * (p->n + 1)) };
  for (size_t i = 0; i < p->n; i++)
    {
      _cleanup_free_ char *w = xasprintf("kept as %s", p->sig_digests[i]);
      ret->v[i] = xmalloc(p->lens[i] + 1);
      memcpy(ret->v[i], p->sigs[i], p->lens[i] + 1);
      ret->lens[i] = p->lens[i];
      ret->where = strv_push(ret->where, w);
      ret->n++;
    }
}

static int verify_kept(struct docker_verify *dv, const struct store_image *img, const struct store_policy *p,
                       const char **ret_note, podrun_error_t *err)
{
  _cleanup_strv_ char **digests = NULL;
  struct sigs s = { 0 };
  int r;

  if (!streq(p->decision, STORE_POLICY_SIGNED_BY))
    return *ret_note = streq(p->decision, STORE_POLICY_ACCEPT_ANYTHING)
                           ? "unsigned: let in by policy.json's insecureAcceptAnything"
                           : "unsigned: fetched with --insecure-options=image",
           0;
  if (p->n == 0 || !img->manifest_digest)
    return podrun_error_new(err, ENOENT, "signature: none kept for a signed image");
  if (kept_digests(img, p, &digests, err) < 0)
    return -1;
  kept_sigs(p, &s);
  r = satisfy_all(dv, (const char *const *) digests, &s, err);
  sigs_done(&s);
  return r;
}

int docker_verify_stored(const struct store_image *img, const struct store_policy *p, const char **ret_note,
                         podrun_error_t *err)
{
  struct oci_ref r = { 0 };
  struct docker_verify dv = { 0 };
  _cleanup_free_ char *appc = NULL;
  int rc = -1;

  *ret_note = NULL;
  if (oci_ref_parse(p->reference, "docker.io", &r, err) < 0 || oci_ref_appc_name(&r, &appc, err) < 0)
    {
      podrun_error_wrap(err, "its kept reference");
      goto out;
    }
  /* a reject refuses it as a fetch would; --insecure-options play no part */
  if (docker_verify_begin(&r, appc, &dv, err) < 0)
    goto out;
  if (!has_type(dv.reqs, POLICY_SIGNED_BY))
    {
      *ret_note = streq(p->decision, STORE_POLICY_SIGNED_BY)
                      ? "signature not checked: policy.json accepts it unsigned now (insecureAcceptAnything)"
                      : "unsigned: policy.json accepts it (insecureAcceptAnything)";
      rc = 0;
      goto out;
    }
  rc = verify_kept(&dv, img, p, ret_note, err);
out:
  docker_verify_done(&dv);
  oci_ref_done(&r);
  return rc;
}
