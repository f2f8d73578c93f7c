/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Simple-signing signatures of registry images (trust-sign.h): the OpenPGP
 * part through trust.c's private gpg homes, the claim with jansson. The
 * signed text is written into a capped buffer of ours as gpg produces it,
 * so a compressed message that inflates without end is cut off, not held. */
#include <ctype.h>
#include <limits.h>
#include <strings.h>
#include <time.h>

#include "dl.h"
#include "json-util.h"
#include "oci.h"
#include "trust-internal.h"
#include "trust-sign.h"

#define CLAIM_TYPE "atomic container signature"

/* ---- the signed text, capped ---------------------------------------------- */

struct capped
{
  char buf[TRUST_CLAIM_MAX];
  size_t len;
  bool over;
};

static ssize_t capped_write(void *handle, const void *buf, size_t size)
{
  struct capped *c = handle;
  if (size > sizeof(c->buf) - c->len)
    {
      c->over = true;
      errno = EFBIG;
      return -1;
    }
  memcpy(c->buf + c->len, buf, size);
  c->len += size;
  return (ssize_t) size;
}

static struct gpgme_data_cbs capped_cbs = { .write = capped_write };

static void data_releasep(gpgme_data_t *d)
{
  if (*d)
    sym_gpgme_data_release(*d);
}
#define _cleanup_data_ _cleanup_(data_releasep)

/* ---- references ----------------------------------------------------------- */

/* A reference as a claim writes it: "busybox" is docker.io/library/busybox. */
static int parse_ref(const char *s, struct oci_ref *ret, podrun_error_t *err)
{
  return oci_ref_parse(s, "docker.io", ret, err);
}

/* Does s name a tag or a digest, not just a repository? */
static bool ref_is_specific(const char *s)
{
  const char *slash = strrchr(s, '/');
  return strchr(s, '@') || strchr(slash ? slash : s, ':');
}

static bool same_name(const struct oci_ref *a, const struct oci_ref *b)
{
  return strcasecmp(a->host, b->host) == 0 && streq(a->repo, b->repo);
}

/* The same name, tag and digest (a name-only s is no reference to match). */
static bool same_ref(const char *s, const struct oci_ref *a, const struct oci_ref *b)
{
  return ref_is_specific(s) && same_name(a, b) && streq_ptr(a->tag, b->tag) && streq_ptr(a->digest, b->digest);
}

/* remapIdentity: asked's name with prefix (by whole path components, the
 * host:port exactly) made signed_prefix, its tag or digest kept; the
 * reference itself when the prefix does not cover it. */
static int remap(const struct oci_ref *asked, const char *prefix, const char *signed_prefix, struct oci_ref *ret,
                 podrun_error_t *err)
{
  _cleanup_free_ char *name = oci_ref_name(asked), *s = NULL;
  size_t n = strlen(prefix);
  bool covers = startswith(name, prefix) && (name[n] == '\0' || name[n] == '/');
  const char *rest = covers ? name + n : name;

  s = xasprintf("%s%s%s%s%s%s", covers ? signed_prefix : "", rest, asked->tag ? ":" : "",
                asked->tag ? asked->tag : "", asked->digest ? "@" : "", asked->digest ? asked->digest : "");
  if (parse_ref(s, ret, err) < 0)
    return podrun_error_wrap(err, "remapIdentity: %s", QUOTE(s));
  return 0;
}

int trust_identity_matches(const struct trust_sign_check *c, const char *claim_ref, podrun_error_t *err)
{
  struct oci_ref claim = { 0 }, asked = { 0 }, fixed = { 0 };
  int r = -1;

  if (parse_ref(claim_ref, &claim, err) < 0)
    return podrun_error_wrap(err, "docker-reference %s", QUOTE(claim_ref));
  if (parse_ref(c->reference, &asked, err) < 0)
    goto out;
  if ((c->identity == TRUST_EXACT_REFERENCE || c->identity == TRUST_EXACT_REPOSITORY) &&
      parse_ref(c->identity_ref ? c->identity_ref : "", &fixed, err) < 0)
    goto out;
  if (c->identity == TRUST_REMAP_IDENTITY &&
      remap(&asked, c->identity_ref ? c->identity_ref : "", c->identity_signed_prefix ? c->identity_signed_prefix : "",
            &fixed, err) < 0)
    goto out;
  switch (c->identity)
    {
    case TRUST_MATCH_REPO_DIGEST_OR_EXACT:
      r = asked.digest ? same_name(&claim, &asked) : same_ref(claim_ref, &claim, &asked);
      break;
    case TRUST_MATCH_EXACT:
      r = same_ref(claim_ref, &claim, &asked);
      break;
    case TRUST_MATCH_REPOSITORY:
      r = same_name(&claim, &asked);
      break;
    case TRUST_EXACT_REFERENCE:
      r = same_ref(claim_ref, &claim, &fixed);
      break;
    case TRUST_EXACT_REPOSITORY:
      r = same_name(&claim, &fixed);
      break;
    case TRUST_REMAP_IDENTITY:
      r = fixed.digest ? same_name(&claim, &fixed) : same_ref(claim_ref, &claim, &fixed);
      break;
    }
out:
  oci_ref_done(&claim);
  oci_ref_done(&asked);
  oci_ref_done(&fixed);
  return r;
}

/* ---- the claim ------------------------------------------------------------ */

/* obj's member key, a string; the keys of obj must be exactly those of keys
 * (containers refuses a critical section it does not fully understand). */
static int only_keys(json_t *obj, const char *what, const char *const *keys, podrun_error_t *err)
{
  const char *k;
  json_t *v;
  if (!json_is_object(obj))
    return podrun_error_new(err, EINVAL, "claim: %s is not an object", what);
  json_object_foreach (obj, k, v)
    if (!strv_contains((char **) keys, k))
      return podrun_error_new(err, EINVAL, "claim: %s has an unknown member %s", what, QUOTE(k));
  for (size_t i = 0; keys[i]; i++)
    if (!json_object_get(obj, keys[i]))
      return podrun_error_new(err, EINVAL, "claim: %s has no %s", what, QUOTE(keys[i]));
  return 0;
}

static const char *member_string(json_t *obj, const char *key, const char *what, podrun_error_t *err)
{
  const char *s = json_string_value(json_object_get(obj, key));
  if (!s)
    podrun_error_new(err, EINVAL, "claim: %s.%s is not a string", what, key);
  return s;
}

int trust_claim_check(const char *text, size_t len, const struct trust_sign_check *c, podrun_error_t *err)
{
  static const char *const top[] = { "critical", "optional", NULL };
  static const char *const crit[] = { "type", "image", "identity", NULL };
  static const char *const image[] = { "docker-manifest-digest", NULL };
  static const char *const identity[] = { "docker-reference", NULL };
  _cleanup_json_ json_t *j = NULL;
  const char *type, *digest, *ref;

  if (json_parse_untrusted(text, len, "claim", &j, err) < 0)
    return -1;
  json_t *critical = json_object_get(j, "critical");
  if (only_keys(j, "the claim", top, err) < 0 || only_keys(critical, "critical", crit, err) < 0 ||
      !json_is_object(json_object_get(j, "optional")))
    return *err ? -1 : podrun_error_new(err, EINVAL, "claim: optional is not an object");
  json_t *im = json_object_get(critical, "image"), *id = json_object_get(critical, "identity");
  if (only_keys(im, "critical.image", image, err) < 0 || only_keys(id, "critical.identity", identity, err) < 0)
    return -1;
  if (!(type = member_string(critical, "type", "critical", err)) ||
      !(digest = member_string(im, "docker-manifest-digest", "critical.image", err)) ||
      !(ref = member_string(id, "docker-reference", "critical.identity", err)))
    return -1;
  if (!streq(type, CLAIM_TYPE))
    return podrun_error_new(err, EINVAL, "claim: type %s, not %s", QUOTE(type), QUOTE(CLAIM_TYPE));
  if (!strv_contains((char **) c->digests, digest))
    return podrun_error_new(err, EPERM, "it signs manifest %s, not %s", QUOTE(digest),
                            c->digests && c->digests[0] ? c->digests[0] : "?");
  int m = trust_identity_matches(c, ref, err);
  if (m < 0)
    return podrun_error_wrap(err, "claim");
  if (m == 0)
    return podrun_error_new(err, EPERM, "it signs %s, not %s", QUOTE(ref), ESCAPE(c->reference));
  return 0;
}

/* ---- a keyring of the policy's -------------------------------------------- */

static void key_unrefp(gpgme_key_t *k)
{
  if (*k)
    sym_gpgme_key_unref(*k);
}
#define _cleanup_key_ _cleanup_(key_unrefp)

static char *lower(const char *s)
{
  char *l = xstrdup(s ? s : "");
  for (char *p = l; *p; p++)
    *p = (char) tolower((unsigned char) *p);
  return l;
}

static int64_t now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The keys of keyring into h; their primary fingerprints. */
static int import_keyring(gpgme_ctx_t ctx, const struct trust_sign_check *c, char ***ret, podrun_error_t *err)
{
  _cleanup_data_ gpgme_data_t d = NULL;
  gpgme_error_t e;

  if (memmem(c->keyring, c->keyring_len, "PRIVATE KEY BLOCK-----", 22))
    return podrun_error_new(err, EINVAL, "keys of %s: a secret key; give public keys", QUOTE(c->keyring_scope));
  if ((e = sym_gpgme_data_new_from_mem(&d, c->keyring, c->keyring_len, 0)) || (e = sym_gpgme_op_import(ctx, d)))
    return podrun_error_new(err, EIO, "keys of %s: %s", QUOTE(c->keyring_scope), sym_gpgme_strerror(e));
  gpgme_import_result_t r = sym_gpgme_op_import_result(ctx);
  if (r && r->secret_read)
    return podrun_error_new(err, EINVAL, "keys of %s: a secret key; give public keys", QUOTE(c->keyring_scope));
  char **fprs = NULL;
  for (gpgme_import_status_t s = r ? r->imports : NULL; s; s = s->next)
    if (s->fpr && !s->result && !strv_contains(fprs, s->fpr))
      fprs = strv_push(fprs, s->fpr);
  if (!fprs)
    return podrun_error_new(err, EINVAL, "keys of %s: no OpenPGP public key", QUOTE(c->keyring_scope));
  *ret = fprs;
  return 0;
}

/* The imported key having sig_fpr as a key or subkey, NULL if none. */
static gpgme_key_t keyring_signer(gpgme_ctx_t ctx, char **fprs, const char *sig_fpr)
{
  _cleanup_free_ char *id = lower(sig_fpr);
  for (size_t i = 0; fprs[i] && strlen(id) >= 16; i++)
    {
      gpgme_key_t k = NULL;
      gpgme_error_t e = sym_gpgme_op_keylist_start(ctx, fprs[i], 0);
      if (!e)
        e = sym_gpgme_op_keylist_next(ctx, &k);
      (void) sym_gpgme_op_keylist_end(ctx);
      if (e || !k)
        continue;
      for (gpgme_subkey_t s = k->subkeys; s; s = s->next)
        {
          _cleanup_free_ char *sf = lower(s->fpr);
          if (s->fpr && endswith(sf, id))
            return k;
        }
      sym_gpgme_key_unref(k);
    }
  return NULL;
}

static int judge_keyring(gpgme_ctx_t ctx, char **fprs, const char *sig_fpr, gpgme_error_t status,
                         const struct trust_sign_check *c, struct trust_result *ret, podrun_error_t *err)
{
  gpgme_err_code_t code = gpgme_err_code(status);
  _cleanup_free_ char *id = lower(sig_fpr), *why = NULL;

  if (code == GPG_ERR_BAD_DATA || code == GPG_ERR_NO_DATA)
    return podrun_error_new(err, EINVAL, "not a signature");
  if (code == GPG_ERR_BAD_SIGNATURE)
    return podrun_error_new(err, EINVAL, "bad signature");
  _cleanup_key_ gpgme_key_t k = keyring_signer(ctx, fprs, sig_fpr);
  if (!k || code == GPG_ERR_NO_PUBKEY)
    return podrun_error_new(err, EPERM, "signed by key %s, which is not one of the keys policy.json gives for %s",
                            *id ? id : "(unknown)", QUOTE(c->keyring_scope));
  _cleanup_free_ char *fpr = lower(k->subkeys->fpr);
  if ((why = trust_key_unusable(k)) || code == GPG_ERR_KEY_EXPIRED || code == GPG_ERR_CERT_REVOKED)
    return podrun_error_new(err, EPERM, "signed by key %s, which is %s", fpr,
                            why ? why : code == GPG_ERR_CERT_REVOKED ? "revoked" : "expired");
  if (code != GPG_ERR_NO_ERROR)
    return podrun_error_new(err, EINVAL, "signature by key %s: %s", id, sym_gpgme_strerror(status));
  *ret = (struct trust_result){ .fingerprint = TAKE_PTR(fpr), .prefix = xstrdup(c->keyring_scope),
                                .verified_time = now_usec() };
  return 0;
}

static int verify_keyring(const struct trust_sign_check *c, gpgme_data_t sig, gpgme_data_t plain,
                          struct trust_result *ret, podrun_error_t *err)
{
  struct trust_home *h = NULL;
  _cleanup_strv_ char **fprs = NULL, **sigs = NULL;
  podrun_error_t first = NULL;
  gpgme_error_t status[16];
  size_t n = 0;
  int r = -1;

  if (trust_home_new(&h, err) < 0)
    return -1;
  gpgme_ctx_t ctx = trust_home_ctx(h);
  if (import_keyring(ctx, c, &fprs, err) < 0)
    goto out;
  gpgme_error_t e = sym_gpgme_op_verify(ctx, sig, NULL, plain);
  gpgme_verify_result_t vr = e ? NULL : sym_gpgme_op_verify_result(ctx);
  if (e && (gpgme_err_code(e) == GPG_ERR_INV_ENGINE || gpgme_err_code(e) == GPG_ERR_ENOMEM))
    {
      podrun_error_new(err, EIO, "verify: %s", sym_gpgme_strerror(e));
      goto out;
    }
  if (!vr || !vr->signatures)
    {
      podrun_error_new(err, EINVAL, "not a signature");
      goto out;
    }
  /* copied: judging lists keys, which ends the verify result's life */
  for (gpgme_signature_t s = vr->signatures; s && n < ELEMENTSOF(status); s = s->next, n++)
    {
      sigs = strv_push(sigs, s->fpr ? s->fpr : "");
      status[n] = s->status;
    }
  for (size_t i = 0; i < n && r < 0; i++)
    {
      podrun_error_t se = NULL;
      if (judge_keyring(ctx, fprs, sigs[i], status[i], c, ret, &se) == 0)
        r = 0;
      else if (!first)
        first = se;
      else
        podrun_error_free(&se);
    }
  if (r < 0)
    *err = TAKE_PTR(first);
  podrun_error_free(&first);
out:
  trust_home_free(h);
  return r;
}

/* ---- both ----------------------------------------------------------------- */

int trust_sign_verify(const struct trust_sign_check *c, const void *sig, size_t sig_len, struct trust_result *ret,
                      podrun_error_t *err)
{
  _cleanup_data_ gpgme_data_t sd = NULL, plain = NULL;
  _cleanup_free_ struct capped *text = xzalloc(sizeof(*text));
  struct trust_result res = { 0 };
  gpgme_error_t e;
  int r;

  if (sig_len > TRUST_SIGNATURE_MAX)
    return podrun_error_new(err, EFBIG, "not a signature (larger than %d MiB)", TRUST_SIGNATURE_MAX >> 20);
  if (dl_load_gpgme(err) < 0)
    return -1;
  if ((e = sym_gpgme_data_new_from_mem(&sd, sig, sig_len, 0)) ||
      (e = sym_gpgme_data_new_from_cbs(&plain, &capped_cbs, text)))
    return podrun_error_new(err, EIO, "gpgme: %s", sym_gpgme_strerror(e));
  if (c->keyring)
    r = verify_keyring(c, sd, plain, &res, err);
  else
    r = trust_verify_attached(c->local_dir, c->system_dir, c->name, sd, plain, &res, err);
  if (text->over)
    {
      if (r == 0)
        trust_result_done(&res);
      else
        podrun_error_free(err);
      return podrun_error_new(err, EFBIG, "not a signature: its text is larger than %d KiB", TRUST_CLAIM_MAX >> 10);
    }
  if (r < 0)
    return -1;
  if (trust_claim_check(text->buf, text->len, c, err) < 0)
    {
      trust_result_done(&res);
      return -1;
    }
  *ret = res;
  return 0;
}

/* ---- base64 (keyData, the registry's signature extension) ----------------- */

int trust_base64_decode(const char *s, char **ret, size_t *ret_len, podrun_error_t *err)
{
  size_t n = strlen(s);
  if (n % 4 != 0 || n > INT_MAX || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
    return podrun_error_new(err, EINVAL, "not base64");
  const char *eq = strchr(s, '=');
  size_t pad = eq ? n - (size_t) (eq - s) : 0;
  if (pad > 2 || (eq && strspn(eq, "=") != pad))
    return podrun_error_new(err, EINVAL, "not base64");
  if (dl_load_crypto(err) < 0)
    return -1;
  unsigned char *out = xmalloc(n / 4 * 3 + 1);
  int m = sym_EVP_DecodeBlock(out, (const unsigned char *) s, (int) n);
  if (m < 0 || (size_t) m < pad)
    {
      free(out);
      return podrun_error_new(err, EINVAL, "not base64");
    }
  out[m - pad] = '\0';
  *ret = (char *) out;
  *ret_len = (size_t) m - pad;
  return 0;
}
