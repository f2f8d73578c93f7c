/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a registry sends, parsed: the input as an index, a manifest and a
 * config (and its appc manifest), and its first line as a reference.
 * Whatever fails says why; whatever parses holds what the parsers promise:
 * valid digests, bounded counts, an appc manifest the appc parser takes,
 * a reference that reads back the same. */
#include <stdint.h>

#include "appc.h"
#include "store/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void failed(podrun_error_t *err)
{
  if (!*err || !(*err)->msg || !*(*err)->msg || strchr((*err)->msg, '\n'))
    abort(); /* one line, and something in it */
  podrun_error_free(err);
}

static void check_descriptor(const struct oci_descriptor *d)
{
  if (!d->media_type || !oci_digest_is_valid(d->digest) || d->size > OCI_MAX_SIZE)
    abort();
}

static void check_documents(const char *buf, size_t len)
{
  _cleanup_oci_index_ struct oci_index *idx = NULL;
  _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
  _cleanup_oci_config_ struct oci_config *c = NULL;
  _cleanup_free_ char *appc = NULL;
  _cleanup_image_manifest_ struct appc_image_manifest *am = NULL;
  podrun_error_t err = NULL;

  if (oci_index_parse(buf, len, NULL, &idx, &err) < 0)
    failed(&err);
  else
    {
      if (idx->n_manifests > OCI_MAX_INDEX_ENTRIES)
        abort();
      for (size_t i = 0; i < idx->n_manifests; i++)
        check_descriptor(&idx->manifests[i]);
      const struct oci_descriptor *d = NULL;
      if (oci_index_select(idx, "linux", "amd64", NULL, &d, &err) < 0)
        failed(&err);
      else if (d < idx->manifests || d >= idx->manifests + idx->n_manifests)
        abort();
    }
  if (oci_manifest_parse(buf, len, NULL, &m, &err) < 0)
    failed(&err);
  else
    {
      if (m->n_layers < 1 || m->n_layers > OCI_MAX_LAYERS)
        abort();
      check_descriptor(&m->config);
      for (size_t i = 0; i < m->n_layers; i++)
        check_descriptor(&m->layers[i]);
    }
  if (oci_config_parse(buf, len, &c, &err) < 0)
    failed(&err);
  if (oci_config_to_appc(buf, len, "example.com/fuzz", "1", "root:x:0:0::/:/bin/sh\n", &appc, &err) < 0)
    failed(&err);
  else if (appc_image_manifest_parse(appc, strlen(appc), &am, &err) < 0)
    abort(); /* what it derives, the appc parser takes */
}

static void check_ref(const char *buf, size_t len)
{
  const char *nl = memchr(buf, '\n', len);
  _cleanup_free_ char *line = xstrndup(buf, nl ? (size_t) (nl - buf) : len);
  struct oci_ref r = { 0 }, back = { 0 };
  podrun_error_t err = NULL;

  if (strlen(line) != (nl ? (size_t) (nl - buf) : len))
    return; /* a NUL inside: not a string the command line could give */
  if (oci_ref_parse(line, "registry.example", &r, &err) < 0)
    {
      failed(&err);
      return;
    }
  _cleanup_free_ char *s = oci_ref_string(&r);
  if (oci_ref_parse(s, "registry.example", &back, &err) < 0)
    abort(); /* its normal form reads back */
  if (!streq(r.host, back.host) || !streq(r.repo, back.repo) || !streq_ptr(r.tag, back.tag) ||
      !streq_ptr(r.digest, back.digest))
    abort();
  oci_ref_done(&r);
  oci_ref_done(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_documents((const char *) data, size);
  check_ref((const char *) data, size);
  return 0;
}
