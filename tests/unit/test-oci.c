/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/oci: references, manifests and indexes of each media type and their
 * refusals, the choice of a platform, the config's appc image manifest; and
 * store/extract's OCI layers: whiteouts, opaque directories, xattrs, and
 * the size cap while decompressing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "appc.h"
#include "fs.h"
#include "store/extract.h"
#include "store/oci.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D1 "sha256:" HEX64
#define D2 "sha256:" "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void assert_error(int r, podrun_error_t *err, const char *what, const char *want)
{
  if (r == 0)
    fail_msg("%s: accepted", what);
  if (!strstr((*err)->msg, want))
    fail_msg("%s: \"%s\" (expected \"%s\")", what, (*err)->msg, want);
  podrun_error_free(err);
}

/* ---- references ---- */

static void test_ref_good(void **state)
{
  static const struct
  {
    const char *in, *host, *repo, *tag, *digest;
  } cases[] = {
    { "busybox", "reg.example", "library/busybox", "latest", NULL },
    { "busybox:1.36", "reg.example", "library/busybox", "1.36", NULL },
    { "test/busybox:1", "reg.example", "test/busybox", "1", NULL },
    { "127.0.0.1:5000/test/busybox:1", "127.0.0.1:5000", "test/busybox", "1", NULL },
    { "localhost/busybox", "localhost", "busybox", "latest", NULL },
    { "localhost:5000/a/b/c", "localhost:5000", "a/b/c", "latest", NULL },
    { "quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", NULL },
    { "ghcr.io/a__b/c-d--e/f.g_h", "ghcr.io", "a__b/c-d--e/f.g_h", "latest", NULL },
    { "busybox@" D1, "reg.example", "library/busybox", NULL, D1 },
    { "r.io:443/x:tag_1.A-b@" D1, "r.io:443", "x", "tag_1.A-b", D1 },
    { "My-Registry/x", "My-Registry", "x", "latest", NULL }, /* docker: upper case means a host */
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      struct oci_ref r = { 0 };
      podrun_error_t err = NULL;
      if (oci_ref_parse(cases[i].in, "reg.example", &r, &err) < 0)
        fail_msg("%s: %s", cases[i].in, err->msg);
      assert_string_equal(r.host, cases[i].host);
      assert_string_equal(r.repo, cases[i].repo);
      assert_true(streq_ptr(r.tag, cases[i].tag));
      assert_true(streq_ptr(r.digest, cases[i].digest));
      /* the normalised form parses back to the same */
      _cleanup_free_ char *norm = oci_ref_string(&r);
      struct oci_ref again = { 0 };
      if (oci_ref_parse(norm, NULL, &again, &err) < 0)
        fail_msg("%s → %s: %s", cases[i].in, norm, err->msg);
      assert_string_equal(again.host, r.host);
      assert_string_equal(again.repo, r.repo);
      assert_true(streq_ptr(again.tag, r.tag));
      assert_true(streq_ptr(again.digest, r.digest));
      oci_ref_done(&again);
      oci_ref_done(&r);
    }
}

static void test_ref_bad(void **state)
{
  char longname[300], longtag[140];
  static const struct
  {
    const char *in, *why;
  } cases[] = {
    { "", "empty" },
    { "Busybox", "not a valid repository name" },
    { "reg.io/Busybox", "not a valid repository name" },
    { "reg.io/a//b", "not a valid repository name" },
    { "reg.io/a-", "not a valid repository name" },
    { "reg.io/a___b", "not a valid repository name" },
    { "reg.io/.a", "not a valid repository name" },
    { "reg.io/a/", "not a valid repository name" },
    { "reg.io/a:", "not a valid tag" },
    { "reg.io/a:.x", "not a valid tag" },
    { "reg.io/a:x y", "not a valid tag" },
    { "reg.io/a@sha256:abc", "not a digest" },
    { "reg.io/a@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "not a digest" },
    { "reg.io/a@md5:" HEX64, "not a digest" },
    { "reg.io:99999/a", "not a valid registry host" },
    { "reg.io:0/a", "not a valid registry host" },
    { "reg.io:x/a", "not a valid registry host" },
    { "-reg.io/a", "not a valid registry host" },
    { "reg..io/a", "not a valid registry host" },
    { "[::1]:5000/a", "not a valid registry host" },
    { "reg.io/a b", "not a valid repository name" },
    { "reg.io/a\nb", "not a valid repository name" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      struct oci_ref r = { 0 };
      podrun_error_t err = NULL;
      assert_error(oci_ref_parse(cases[i].in, "reg.example", &r, &err), &err, cases[i].in, cases[i].why);
      assert_null(r.host);
    }
  /* no default registry */
  struct oci_ref r = { 0 };
  podrun_error_t err = NULL;
  assert_error(oci_ref_parse("busybox", NULL, &r, &err), &err, "no default", "defaultRegistry");
  assert_int_equal(oci_ref_parse("reg.io/busybox", NULL, &r, &err), 0);
  oci_ref_done(&r);
  assert_error(oci_ref_parse("busybox", "registry", &r, &err), &err, "hostless default", "defaultRegistry \"registry\"");
  assert_error(oci_ref_parse("busybox", "reg.io/x", &r, &err), &err, "default with a path", "defaultRegistry");
  assert_int_equal(oci_ref_parse("busybox", "localhost:5000", &r, &err), 0);
  assert_string_equal(r.repo, "library/busybox");
  oci_ref_done(&r);
  /* over-long: a 256-byte name, a 129-byte tag */
  memset(longname, 'a', sizeof(longname));
  memcpy(longname, "reg.io/", 7);
  longname[256] = '\0';
  assert_error(oci_ref_parse(longname, NULL, &r, &err), &err, "long name", "longer than 255");
  longname[255] = '\0'; /* 255 with the host: fine */
  assert_int_equal(oci_ref_parse(longname, NULL, &r, &err), 0);
  oci_ref_done(&r);
  memset(longtag, 't', sizeof(longtag));
  memcpy(longtag, "a:", 2);
  longtag[131] = '\0';
  assert_error(oci_ref_parse(longtag, "reg.io", &r, &err), &err, "long tag", "not a valid tag");
  longtag[130] = '\0';
  assert_int_equal(oci_ref_parse(longtag, "reg.io", &r, &err), 0);
  oci_ref_done(&r);
}

static void test_ref_names(void **state)
{
  static const struct
  {
    const char *in, *name, *appc;
  } cases[] = {
    { "127.0.0.1:5000/test/busybox:1", "127.0.0.1:5000/test/busybox", "127.0.0.1-5000/test/busybox" },
    { "busybox", "reg.example/library/busybox", "reg.example/library/busybox" },
    { "Reg.IO/a_b/c__d", "Reg.IO/a_b/c__d", "reg.io/a-b/c--d" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      struct oci_ref r = { 0 };
      podrun_error_t err = NULL;
      _cleanup_free_ char *name = NULL, *appc = NULL;
      assert_int_equal(oci_ref_parse(cases[i].in, "reg.example", &r, &err), 0);
      name = oci_ref_name(&r);
      assert_string_equal(name, cases[i].name);
      if (oci_ref_appc_name(&r, &appc, &err) < 0)
        fail_msg("%s: %s", cases[i].in, err->msg);
      assert_string_equal(appc, cases[i].appc);
      assert_true(appc_identifier_is_valid(appc));
      oci_ref_done(&r);
    }
}

/* ---- manifests and indexes ---- */

#define LAYER(mt, d) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":10}"
#define CONFIG(mt) "\"config\":{\"mediaType\":\"" mt "\",\"digest\":\"" D2 "\",\"size\":100}"
#define OCI_MANIFEST(layers)                                                                                          \
  "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_MANIFEST "\"," CONFIG(OCI_MEDIA_CONFIG) ",\"layers\":[" layers "]}"
#define DOCKER_MANIFEST(layers)                                                                                       \
  "{\"schemaVersion\":2,\"mediaType\":\"" DOCKER_MEDIA_MANIFEST "\"," CONFIG(DOCKER_MEDIA_CONFIG) ",\"layers\":[" layers \
  "]}"
#define ENTRY(mt, d, plat) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":500" plat "}"
#define PLAT(os, arch) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}"
#define PLATV(os, arch, v) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\",\"variant\":\"" v "\"}"

static void test_manifest_parse(void **state)
{
  static const struct
  {
    const char *what, *doc, *content_type, *media;
    size_t n_layers;
  } cases[] = {
    { "oci", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER_GZIP, D1) "," LAYER(OCI_MEDIA_LAYER, D2)), NULL, OCI_MEDIA_MANIFEST, 2 },
    { "oci zstd, nondistributable",
      OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER_ZSTD, D1) "," LAYER("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                                                             D2)),
      OCI_MEDIA_MANIFEST "; charset=utf-8", OCI_MEDIA_MANIFEST, 2 },
    { "docker", DOCKER_MANIFEST(LAYER(DOCKER_MEDIA_LAYER, D1) "," LAYER(DOCKER_MEDIA_FOREIGN_LAYER, D2)),
      DOCKER_MEDIA_MANIFEST, DOCKER_MEDIA_MANIFEST, 2 },
    { "oci without mediaType, by shape",
      "{\"schemaVersion\":2," CONFIG(OCI_MEDIA_CONFIG) ",\"layers\":[" LAYER(OCI_MEDIA_LAYER, D1) "]}", NULL,
      OCI_MEDIA_MANIFEST, 1 },
    { "generic content type", DOCKER_MANIFEST(LAYER(DOCKER_MEDIA_LAYER, D1)), "application/json", DOCKER_MEDIA_MANIFEST,
      1 },
    { "content type only",
      "{\"schemaVersion\":2," CONFIG(OCI_MEDIA_CONFIG) ",\"layers\":[" LAYER(OCI_MEDIA_LAYER, D1) "]}",
      OCI_MEDIA_MANIFEST, OCI_MEDIA_MANIFEST, 1 },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
      podrun_error_t err = NULL;
      enum oci_kind kind = 0;
      if (oci_manifest_parse(cases[i].doc, strlen(cases[i].doc), cases[i].content_type, &m, &err) < 0)
        fail_msg("%s: %s", cases[i].what, err->msg);
      assert_string_equal(m->media_type, cases[i].media);
      assert_int_equal(m->n_layers, cases[i].n_layers);
      assert_string_equal(m->config.digest, D2);
      assert_int_equal(m->config.size, 100);
      assert_string_equal(m->layers[0].digest, D1);
      assert_int_equal(m->layers[0].size, 10);
      assert_int_equal(oci_detect_kind(cases[i].doc, strlen(cases[i].doc), cases[i].content_type, &kind, &err), 0);
      assert_int_equal(kind, OCI_KIND_MANIFEST);
    }
  assert_int_equal(oci_layer_compression(OCI_MEDIA_LAYER), OCI_COMPRESSION_NONE);
  assert_int_equal(oci_layer_compression(OCI_MEDIA_LAYER_GZIP), OCI_COMPRESSION_GZIP);
  assert_int_equal(oci_layer_compression(DOCKER_MEDIA_LAYER), OCI_COMPRESSION_GZIP);
  assert_int_equal(oci_layer_compression(OCI_MEDIA_LAYER_ZSTD), OCI_COMPRESSION_ZSTD);
}

static char *many_layers(size_t n)
{
  size_t cap = n * 200 + 1000, len = 0;
  char *s = xmalloc(cap);
  len += (size_t) snprintf(s, cap, "{\"schemaVersion\":2,\"mediaType\":\"%s\",%s,\"layers\":[", OCI_MEDIA_MANIFEST,
                           CONFIG(OCI_MEDIA_CONFIG));
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf(s + len, cap - len, "%s" LAYER(OCI_MEDIA_LAYER, D1), i ? "," : "");
  snprintf(s + len, cap - len, "]}");
  return s;
}

static void test_manifest_refusals(void **state)
{
  static const struct
  {
    const char *what, *doc, *content_type, *why;
  } cases[] = {
    { "schema1 by type", "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}",
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
      "unsupported media type \"application/vnd.docker.distribution.manifest.v1+prettyjws\"" },
    { "schema1 by shape", "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL,
      "unsupported media type \"application/vnd.docker.distribution.manifest.v1+json\"" },
    { "other type", "{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", NULL, "unsupported media type \"text/html\"" },
    { "other content type", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER, D1)), "application/x-evil", "unsupported media type" },
    { "contradicting content type", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER, D1)), DOCKER_MEDIA_MANIFEST,
      "unsupported media type" },
    { "no type no shape", "{\"schemaVersion\":2}", NULL, "unsupported media type" },
    { "an index", "{\"schemaVersion\":2,\"manifests\":[]}", NULL, "expected an image manifest" },
    { "not json", "{\"schemaVersion\":2,", NULL, "invalid JSON at line 1" },
    { "not an object", "[1]", NULL, "not a JSON object" },
    { "duplicate keys", "{\"schemaVersion\":2,\"schemaVersion\":2}", NULL, "invalid JSON" },
    { "schemaVersion 3", "{\"schemaVersion\":3,\"mediaType\":\"" OCI_MEDIA_MANIFEST "\"}", NULL, "schemaVersion must be 2" },
    { "bad digest", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER, "sha256:1234")), NULL, "layers[0]: \"sha256:1234\" is not a valid digest" },
    { "upper-case digest", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER, "sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")),
      NULL, "is not a valid digest" },
    { "negative size",
      OCI_MANIFEST("{\"mediaType\":\"" OCI_MEDIA_LAYER "\",\"digest\":\"" D1 "\",\"size\":-1}"), NULL,
      "\"size\" must be an integer from 0 to 2^53" },
    { "huge size",
      OCI_MANIFEST("{\"mediaType\":\"" OCI_MEDIA_LAYER "\",\"digest\":\"" D1 "\",\"size\":9007199254740993}"), NULL,
      "\"size\" must be" },
    { "size a string", OCI_MANIFEST("{\"mediaType\":\"" OCI_MEDIA_LAYER "\",\"digest\":\"" D1 "\",\"size\":\"1\"}"),
      NULL, "\"size\" must be" },
    { "no digest", OCI_MANIFEST("{\"mediaType\":\"" OCI_MEDIA_LAYER "\",\"size\":1}"), NULL, "\"digest\" is required" },
    { "layer type", OCI_MANIFEST(LAYER("application/vnd.oci.image.layer.v1.tar+bzip2", D1)), NULL,
      "layers[0]: unsupported media type \"application/vnd.oci.image.layer.v1.tar+bzip2\"" },
    { "config type",
      "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_MANIFEST "\"," CONFIG("application/x-cfg") ",\"layers\":[" LAYER(
          OCI_MEDIA_LAYER, D1) "]}",
      NULL, "config: unsupported media type \"application/x-cfg\"" },
    { "no layers", OCI_MANIFEST(""), NULL, "no layers" },
    { "layers not an array",
      "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_MANIFEST "\"," CONFIG(OCI_MEDIA_CONFIG) ",\"layers\":{}}", NULL,
      "\"layers\" must be an array" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      struct oci_manifest *m = NULL;
      podrun_error_t err = NULL;
      assert_error(oci_manifest_parse(cases[i].doc, strlen(cases[i].doc), cases[i].content_type, &m, &err), &err,
                   cases[i].what, cases[i].why);
      assert_null(m);
    }
  _cleanup_free_ char *ok = many_layers(OCI_MAX_LAYERS), *over = many_layers(OCI_MAX_LAYERS + 1);
  _cleanup_oci_manifest_ struct oci_manifest *m = NULL;
  podrun_error_t err = NULL;
  assert_int_equal(oci_manifest_parse(ok, strlen(ok), NULL, &m, &err), 0);
  assert_int_equal(m->n_layers, OCI_MAX_LAYERS);
  oci_manifest_free(TAKE_PTR(m));
  assert_error(oci_manifest_parse(over, strlen(over), NULL, &m, &err), &err, "1001 layers", "more than 1000 layers");
  /* over the cap, before parsing */
  char *big = xmalloc(OCI_MAX_MANIFEST + 2);
  memset(big, ' ', OCI_MAX_MANIFEST + 1);
  big[0] = '{';
  big[OCI_MAX_MANIFEST] = '}';
  assert_error(oci_manifest_parse(big, OCI_MAX_MANIFEST + 1, NULL, &m, &err), &err, "huge", "manifest too large");
  free(big);
}

#define INDEX(mt, entries) "{\"schemaVersion\":2,\"mediaType\":\"" mt "\",\"manifests\":[" entries "]}"

static void test_index_parse_and_select(void **state)
{
  static const char oci[] = INDEX(OCI_MEDIA_INDEX, ENTRY(OCI_MEDIA_MANIFEST, D1, PLAT("linux", "arm64")) "," ENTRY(
      OCI_MEDIA_MANIFEST, D2, PLATV("linux", "arm", "v7")) "," ENTRY(OCI_MEDIA_MANIFEST, D1, PLAT("unknown", "unknown")));
  static const char docker[] = INDEX(DOCKER_MEDIA_LIST, ENTRY(DOCKER_MEDIA_MANIFEST, D1, PLAT("linux", "amd64")) "," ENTRY(
      DOCKER_MEDIA_MANIFEST, D2, PLAT("linux", "s390x")));
  static const char layout[] = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MEDIA_MANIFEST
                               "\",\"digest\":\"" D2 "\",\"size\":5,\"annotations\":"
                               "{\"org.opencontainers.image.ref.name\":\"1.0\"}}]}";
  _cleanup_oci_index_ struct oci_index *i1 = NULL, *i2 = NULL, *i3 = NULL;
  const struct oci_descriptor *d = NULL;
  podrun_error_t err = NULL;
  enum oci_kind kind = 0;
  (void) state;

  assert_int_equal(oci_index_parse(oci, strlen(oci), NULL, &i1, &err), 0);
  assert_string_equal(i1->media_type, OCI_MEDIA_INDEX);
  assert_int_equal(i1->n_manifests, 3);
  assert_string_equal(i1->manifests[1].platform.variant, "v7");
  assert_int_equal(oci_index_parse(docker, strlen(docker), DOCKER_MEDIA_LIST, &i2, &err), 0);
  assert_string_equal(i2->media_type, DOCKER_MEDIA_LIST);
  assert_int_equal(oci_index_parse(layout, strlen(layout), NULL, &i3, &err), 0);
  assert_string_equal(i3->media_type, OCI_MEDIA_INDEX);
  assert_string_equal(i3->manifests[0].ref_name, "1.0");
  assert_null(i3->manifests[0].platform.os);
  assert_int_equal(oci_detect_kind(docker, strlen(docker), NULL, &kind, &err), 0);
  assert_int_equal(kind, OCI_KIND_INDEX);

  assert_int_equal(oci_index_select(i1, "linux", "arm64", NULL, &d, &err), 0);
  assert_ptr_equal(d, &i1->manifests[0]);
  assert_int_equal(oci_index_select(i1, "linux", "arm", NULL, &d, &err), 0);
  assert_ptr_equal(d, &i1->manifests[1]);
  assert_int_equal(oci_index_select(i1, "linux", "arm", "v7", &d, &err), 0);
  assert_ptr_equal(d, &i1->manifests[1]);
  assert_error(oci_index_select(i1, "linux", "arm", "v6", &d, &err), &err, "v6",
               "no image for linux/arm/v6 (there are: linux/arm64, linux/arm/v7)");
  assert_error(oci_index_select(i2, "linux", "amd64", "v2", &d, &err), &err, "amd64 v2", "linux/amd64/v2");
  assert_int_equal(oci_index_select(i2, "linux", "amd64", NULL, &d, &err), 0);
  assert_ptr_equal(d, &i2->manifests[0]);
  assert_error(oci_index_select(i2, "linux", "arm64", NULL, &d, &err), &err, "arm64",
               "no image for linux/arm64 (there are: linux/amd64, linux/s390x)");
  /* an entry without a platform is anyone's */
  assert_int_equal(oci_index_select(i3, "linux", "riscv64", NULL, &d, &err), 0);
  assert_ptr_equal(d, &i3->manifests[0]);

  /* refusals */
  static const struct
  {
    const char *what, *doc, *why;
  } bad[] = {
    { "a manifest", OCI_MANIFEST(LAYER(OCI_MEDIA_LAYER, D1)), "expected an image index" },
    { "bad digest", INDEX(OCI_MEDIA_INDEX, ENTRY(OCI_MEDIA_MANIFEST, "sha256:zz", PLAT("linux", "amd64"))),
      "manifests[0]: \"sha256:zz\" is not a valid digest" },
    { "platform not an object", INDEX(OCI_MEDIA_INDEX, ENTRY(OCI_MEDIA_MANIFEST, D1, ",\"platform\":1")),
      "\"platform\" must be an object" },
    { "platform without os", INDEX(OCI_MEDIA_INDEX, ENTRY(OCI_MEDIA_MANIFEST, D1, ",\"platform\":{\"architecture\":\"x\"}")),
      "\"os\" is required" },
    { "manifests not an array", "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MEDIA_INDEX "\",\"manifests\":{}}",
      "\"manifests\" must be an array" },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      struct oci_index *x = NULL;
      assert_error(oci_index_parse(bad[i].doc, strlen(bad[i].doc), NULL, &x, &err), &err, bad[i].what, bad[i].why);
      assert_null(x);
    }
}

static void test_arch(void **state)
{
  const char *v = "x";
  (void) state;
  assert_string_equal(oci_arch_from_machine("x86_64", &v), "amd64");
  assert_null(v);
  assert_string_equal(oci_arch_from_machine("aarch64", &v), "arm64");
  assert_string_equal(oci_arch_from_machine("armv7l", &v), "arm");
  assert_string_equal(v, "v7");
  assert_string_equal(oci_arch_from_machine("i686", NULL), "386");
  assert_string_equal(oci_arch_from_machine("s390x", NULL), "s390x");
  assert_string_equal(oci_arch_from_machine("pdp11", NULL), "pdp11");
  assert_non_null(oci_host_arch(NULL));
  assert_string_equal(oci_arch_to_appc("amd64", NULL), "amd64");
  assert_string_equal(oci_arch_to_appc("arm64", "v8"), "aarch64");
  assert_string_equal(oci_arch_to_appc("arm", "v6"), "armv6l");
  assert_string_equal(oci_arch_to_appc("386", NULL), "i386");
  assert_null(oci_arch_to_appc("riscv64", NULL));
}

/* ---- configs ---- */

static const char full_config[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05.123456789Z\","
    "\"config\":{\"User\":\"www\",\"Env\":[\"PATH=/usr/bin:/bin\",\"EMPTY=\",\"EQ=a=b\",\"PATH=/bin\"],"
    "\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],"
    "\"WorkingDir\":\"/srv\",\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8080\":{}},"
    "\"Volumes\":{\"/var/lib/x\":{},\"/var/lib/X\":{},\"/data_1\":{}},"
    "\"Labels\":{\"maintainer\":\"me\",\"org.opencontainers.image.version\":\"1.2\",\"Bad Key\":\"x\","
    "\"homepage\":\"not a url\"},\"StopSignal\":\"SIGQUIT\"},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "broken line\n"
                             "www:x:33:34:www-data:/var/www:/usr/sbin/nologin\n"
                             "nogid:x:40:bad:x:/:/bin/false\n";

static struct appc_image_manifest *to_appc(const char *cfg, const char *tag, const char *pw)
{
  _cleanup_free_ char *json = NULL;
  podrun_error_t err = NULL;
  struct appc_image_manifest *m = NULL;

  if (oci_config_to_appc(cfg, strlen(cfg), "reg.io/library/nginx", tag, pw, &json, &err) < 0)
    fail_msg("%s", err->msg);
  if (appc_image_manifest_parse(json, strlen(json), &m, &err) < 0)
    fail_msg("%s: %s", json, err->msg);
  return m;
}

static void test_config_full(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = to_appc(full_config, "1.25", passwd);
  struct appc_app *a = m->app;
  (void) state;

  assert_string_equal(m->ac_version, APPC_VERSION);
  assert_string_equal(m->name, "reg.io/library/nginx");
  assert_string_equal(appc_kvs_get(&m->labels, "version"), "1.25");
  assert_string_equal(appc_kvs_get(&m->labels, "os"), "linux");
  assert_string_equal(appc_kvs_get(&m->labels, "arch"), "amd64");
  assert_non_null(a);
  assert_int_equal(strv_length(a->exec), 4);
  assert_string_equal(a->exec[0], "/docker-entrypoint.sh");
  assert_string_equal(a->exec[1], "nginx");
  assert_string_equal(a->exec[3], "daemon off;");
  assert_string_equal(appc_kvs_get(&a->environment, "PATH"), "/bin");
  assert_string_equal(appc_kvs_get(&a->environment, "EMPTY"), "");
  assert_string_equal(appc_kvs_get(&a->environment, "EQ"), "a=b");
  assert_int_equal(a->environment.n, 3);
  assert_string_equal(a->working_directory, "/srv");
  assert_string_equal(a->user, "www");
  assert_string_equal(a->group, "34");
  assert_int_equal(a->n_ports, 3);
  for (size_t i = 0; i < a->n_ports; i++)
    if (a->ports[i].port == 80)
      {
        assert_string_equal(a->ports[i].name, "80-tcp");
        assert_string_equal(a->ports[i].protocol, "tcp");
      }
    else if (a->ports[i].port == 53)
      assert_string_equal(a->ports[i].name, "53-udp");
    else
      {
        assert_int_equal(a->ports[i].port, 8080);
        assert_string_equal(a->ports[i].name, "8080-tcp");
      }
  assert_int_equal(a->n_mount_points, 3);
  bool seen_x = false, seen_x2 = false, seen_data = false;
  for (size_t i = 0; i < a->n_mount_points; i++)
    {
      const struct appc_mount_point *mp = &a->mount_points[i];
      assert_false(mp->read_only);
      if (streq(mp->path, "/data_1"))
        seen_data = streq(mp->name, "volume-data-1");
      else if (streq(mp->name, "volume-var-lib-x"))
        seen_x = true;
      else if (streq(mp->name, "volume-var-lib-x-2"))
        seen_x2 = true;
    }
  assert_true(seen_x && seen_x2 && seen_data);
  assert_string_equal(appc_kvs_get(&m->annotations, "maintainer"), "me");
  assert_string_equal(appc_kvs_get(&m->annotations, "org.opencontainers.image.version"), "1.2");
  assert_null(appc_kvs_get(&m->annotations, "Bad Key"));
  assert_null(appc_kvs_get(&m->annotations, "homepage"));
  assert_string_equal(appc_kvs_get(&m->annotations, "created"), "2024-01-02T03:04:05.123456789Z");
  assert_string_equal(appc_kvs_get(&m->annotations, "appc.io/docker/entrypoint"), "[\"/docker-entrypoint.sh\"]");
  assert_string_equal(appc_kvs_get(&m->annotations, "appc.io/docker/cmd"), "[\"nginx\",\"-g\",\"daemon off;\"]");

  _cleanup_oci_config_ struct oci_config *c = NULL;
  podrun_error_t err = NULL;
  assert_int_equal(oci_config_parse(full_config, strlen(full_config), &c, &err), 0);
  assert_string_equal(c->os, "linux");
  assert_string_equal(c->architecture, "amd64");
  assert_null(c->variant);
  assert_int_equal(c->n_diff_ids, 2);
  assert_string_equal(c->diff_ids[1], D2);
  assert_null(c->diff_ids[2]);
}

static void test_config_users(void **state)
{
  static const struct
  {
    const char *user, *want_user, *want_group;
    bool with_passwd;
  } cases[] = {
    { "", "0", "0", true },          { "33", "33", "34", true },    { "1000", "1000", "0", true },
    { "www", "www", "34", true },    { "www", "www", "0", false },  { "nobody", "nobody", "0", true },
    { "nogid", "nogid", "0", true }, { "5:6", "5", "6", true },     { "app:staff", "app", "staff", true },
    { "root", "root", "0", true },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      _cleanup_free_ char *cfg = xasprintf("{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{\"User\":\"%s\"}}",
                                           cases[i].user);
      _cleanup_image_manifest_ struct appc_image_manifest *m = to_appc(cfg, NULL, cases[i].with_passwd ? passwd : NULL);
      assert_string_equal(m->app->user, cases[i].want_user);
      assert_string_equal(m->app->group, cases[i].want_group);
      assert_string_equal(appc_kvs_get(&m->labels, "arch"), "aarch64");
      assert_null(appc_kvs_get(&m->labels, "version"));
    }
}

static void test_config_minimal(void **state)
{
  /* no config object at all: an app with root, "/" and no exec */
  static const char bare[] = "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\"}";
  static const char relative[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"WorkingDir\":\"/app\","
                                 "\"Cmd\":[\"./run.sh\",\"x\"],\"Entrypoint\":null}}";
  static const char bare_name[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]}}";
  _cleanup_image_manifest_ struct appc_image_manifest *m1 = to_appc(bare, "latest", NULL);
  _cleanup_image_manifest_ struct appc_image_manifest *m2 = to_appc(relative, NULL, NULL);
  _cleanup_image_manifest_ struct appc_image_manifest *m3 = to_appc(bare_name, NULL, NULL);
  (void) state;

  assert_non_null(m1->app);
  assert_null(m1->app->exec);
  assert_string_equal(m1->app->user, "0");
  assert_string_equal(m1->app->group, "0");
  assert_string_equal(m1->app->working_directory, "/");
  assert_string_equal(appc_kvs_get(&m1->labels, "arch"), "armv7l");
  assert_string_equal(m2->app->exec[0], "/app/./run.sh");
  assert_string_equal(m2->app->exec[1], "x");
  assert_string_equal(m3->app->exec[0], "sh");
  assert_string_equal(m3->app->working_directory, "/");
}

/* n volumes whose paths all give the name "volume-v": /v, /v/, /v// … */
static char *volumes_config(int n)
{
  char *s = xstrdup("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Volumes\":{");
  for (int i = 0; i < n; i++)
    {
      char *t = xasprintf("%s%s\"/v", s, i ? "," : "");
      free(s);
      s = t;
      for (int k = 0; k < i; k++)
        {
          t = xasprintf("%s/", s);
          free(s);
          s = t;
        }
      t = xasprintf("%s\":{}", s);
      free(s);
      s = t;
    }
  char *t = xasprintf("%s}}}", s);
  free(s);
  return t;
}

static void test_config_volumes(void **state)
{
  _cleanup_free_ char *cfg = volumes_config(100);
  _cleanup_image_manifest_ struct appc_image_manifest *m = to_appc(cfg, NULL, NULL);
  (void) state;
  assert_int_equal(m->app->n_mount_points, 100);
  for (size_t i = 0; i < 100; i++)
    for (size_t k = i + 1; k < 100; k++)
      assert_string_not_equal(m->app->mount_points[i].name, m->app->mount_points[k].name);
}

static void test_config_refusals(void **state)
{
#define CFG(c) "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{" c "}}"
  static const struct
  {
    const char *what, *cfg, *why;
  } cases[] = {
    { "env without =", CFG("\"Env\":[\"PATH\"]"), "Env entry \"PATH\" is not NAME=VALUE" },
    { "env bad name", CFG("\"Env\":[\"1X=y\"]"), "not a valid variable name" },
    { "env not strings", CFG("\"Env\":[1]"), "\"config.Env[0]\" must be a string" },
    { "env not an array", CFG("\"Env\":\"A=b\""), "must be an array" },
    { "empty exec", CFG("\"Cmd\":[\"\"]"), "starts with an empty word" },
    { "relative workdir", CFG("\"WorkingDir\":\"srv\""), "WorkingDir \"srv\" is not an absolute path" },
    { "bad port", CFG("\"ExposedPorts\":{\"http\":{}}"), "ExposedPorts key \"http\"" },
    { "port 0", CFG("\"ExposedPorts\":{\"0/tcp\":{}}"), "ExposedPorts key" },
    { "port range", CFG("\"ExposedPorts\":{\"80-81/tcp\":{}}"), "ExposedPorts key" },
    { "bad proto", CFG("\"ExposedPorts\":{\"80/icmp\":{}}"), "ExposedPorts key" },
    { "relative volume", CFG("\"Volumes\":{\"data\":{}}"), "Volumes key \"data\" is not an absolute path" },
    { "user too many colons", CFG("\"User\":\"a:b:c\""), "User \"a:b:c\" is not" },
    { "user path", CFG("\"User\":\"/etc/passwd\""), "User \"/etc/passwd\" is not" },
    { "user empty group", CFG("\"User\":\"a:\""), "is not USER" },
    { "user not a string", CFG("\"User\":0"), "\"User\" must be a string" },
    { "label not a string", CFG("\"Labels\":{\"a\":1}"), "label \"a\" must be a string" },
    { "config not an object", "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":[]}", "must be an object" },
    { "no os", "{\"architecture\":\"amd64\"}", "\"os\" is required" },
    { "windows", "{\"architecture\":\"amd64\",\"os\":\"windows\"}", "os \"windows\" is not one podrun runs" },
    { "riscv", "{\"architecture\":\"riscv64\",\"os\":\"linux\"}", "architecture \"riscv64\" has no appc name" },
    { "not json", "{", "image config: invalid JSON" },
    { "nul in a string", CFG("\"WorkingDir\":\"/a\\u0000b\""), "is not allowed" }, /* jansson refuses \u0000 itself */
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      _cleanup_free_ char *json = NULL;
      podrun_error_t err = NULL;
      assert_error(oci_config_to_appc(cases[i].cfg, strlen(cases[i].cfg), "reg.io/x", NULL, NULL, &json, &err), &err,
                   cases[i].what, cases[i].why);
      assert_null(json);
    }
  /* bounds: 10001 Env entries, a config over 4 MiB */
  size_t cap = 10001 * 8 + 200, len = 0;
  _cleanup_free_ char *many = xmalloc(cap), *json = NULL;
  podrun_error_t err = NULL;
  len += (size_t) snprintf(many, cap, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[");
  for (int i = 0; i < 10001; i++)
    len += (size_t) snprintf(many + len, cap - len, "%s\"A=1\"", i ? "," : "");
  snprintf(many + len, cap - len, "]}}");
  assert_error(oci_config_to_appc(many, strlen(many), "reg.io/x", NULL, NULL, &json, &err), &err, "many env",
               "more than 10000 entries");
  assert_error(oci_config_to_appc(many, OCI_MAX_CONFIG + 1, "reg.io/x", NULL, NULL, &json, &err), &err, "huge",
               "image config too large");
  /* 101 volumes (100 are fine: test_config_volumes) */
  _cleanup_free_ char *vols = volumes_config(101);
  assert_error(oci_config_to_appc(vols, strlen(vols), "reg.io/x", NULL, NULL, &json, &err), &err, "many volumes",
               "more than 100 entries in \"config.Volumes\"");
  /* an invalid appc name is caught by the manifest check */
  static const char ok[] = CFG("");
  assert_error(oci_config_to_appc(ok, strlen(ok), "Bad Name", NULL, NULL, &json, &err), &err, "name",
               "not a valid AC identifier");
#undef CFG
}


/* ---- OCI layers: whiteouts, xattrs, caps ---- */

/* One tar entry: type 'f' file, 'd' directory, 'l' symlink, 'h' hardlink,
 * 'c' character device; up to two xattrs. */
struct lent
{
  const char *path;
  char type;
  unsigned mode;
  const char *data; /* file contents, or link target */
  const char *xattr[2][2];
  size_t size; /* declared size of a file with data NULL: that many zeros */
  unsigned uid, gid;
};

/* A valid file capability (VFS_CAP_REVISION_2, effective, cap_net_raw). */
static const unsigned char cap_net_raw[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };

/* filter: NULL, "gzip" or "zstd" */
static void write_layer(int fd, const struct lent *v, const char *filter)
{
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter && streq(filter, "gzip"))
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  else if (filter)
    assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
  for (; v->path; v++)
    {
      struct archive_entry *e = archive_entry_new();
      size_t len = v->type == 'f' && v->data ? strlen(v->data) : v->size;
      archive_entry_set_pathname(e, v->path);
      archive_entry_set_perm(e, v->mode ? v->mode : (v->type == 'd' ? 0755 : 0644));
      archive_entry_set_mtime(e, 1700000000, 0);
      archive_entry_set_uid(e, v->uid);
      archive_entry_set_gid(e, v->gid);
      switch (v->type)
        {
        case 'f': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_size(e, (la_int64_t) len); break;
        case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
        case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, v->data); break;
        case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, v->data); break;
        case 'c': archive_entry_set_filetype(e, AE_IFCHR); archive_entry_set_rdev(e, makedev(1, 3)); break;
        default: fail();
        }
      for (int i = 0; i < 2 && v->xattr[i][0]; i++)
        {
          const char *val = v->xattr[i][1];
          if (streq(v->xattr[i][0], "security.capability"))
            archive_entry_xattr_add_entry(e, v->xattr[i][0], cap_net_raw, sizeof(cap_net_raw));
          else
            archive_entry_xattr_add_entry(e, v->xattr[i][0], val, strlen(val));
        }
      assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
      if (v->type == 'f' && v->data && len)
        assert_int_equal(archive_write_data(a, v->data, len), (la_ssize_t) len);
      else if (v->type == 'f' && len)
        {
          static char zeros[65536];
          for (size_t done = 0; done < len;)
            {
              size_t n = len - done < sizeof(zeros) ? len - done : sizeof(zeros);
              assert_int_equal(archive_write_data(a, zeros, n), (la_ssize_t) n);
              done += n;
            }
        }
      archive_entry_free(e);
    }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

static int mem_layer(const struct lent *v, const char *filter)
{
  int fd = memfd_create("layer", MFD_CLOEXEC);
  assert_true(fd >= 0);
  write_layer(fd, v, filter);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

static int setup_tmp(void **state)
{
  char *d = xstrdup("/tmp/podrun-test-oci-XXXXXX");
  assert_non_null(mkdtemp(d));
  *state = d;
  return 0;
}

static int teardown_tmp(void **state)
{
  podrun_error_t err = NULL;
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, *state, &err), 0);
  free(*state);
  return 0;
}

/* Extracts into a new directory `sub` of the test's; the scan first (both
 * must agree). */
static int extract_layer(const char *tmp, const char *sub, const struct lent *v, const struct extract_opts *o,
                         podrun_error_t *err)
{
  _cleanup_free_ char *dir = xasprintf("%s/%s", tmp, sub), *m = NULL;
  _cleanup_close_ int fd = mem_layer(v, NULL), dfd = -1;
  int scan;

  assert_int_equal(mkdir(dir, 0700), 0);
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dfd >= 0);
  scan = extract_scan_fd(fd, o, &m, NULL, err);
  if (scan == 0)
    assert_null(m);
  else
    podrun_error_free(err);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  int r = extract_to_dir_fd(fd, dfd, o, err);
  assert_int_equal(r, scan);
  return r;
}

/* cmocka's skip() with the reason on stderr. */
#define skip_msg(why)                                   \
  do                                                    \
    {                                                   \
      fprintf(stderr, "skipped: %s\n", (why));          \
      skip();                                           \
    }                                                   \
  while (0)

static bool has_xattr(const char *path, const char *name, const char *want)
{
  char buf[256];
  ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return !want || streq(buf, want);
}

static bool is_whiteout(const char *dir, const char *rel)
{
  _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
  struct stat st;
  return lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

/* Can this process set trusted.* xattrs here (root, a file system that has them)? */
static bool trusted_xattrs_work(const char *dir)
{
  _cleanup_free_ char *p = xasprintf("%s/probe", dir);
  _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && fsetxattr(fd, "trusted.podrun-test", "1", 1, 0) == 0;
  (void) unlink(p);
  return ok;
}

static bool exists_rel(const char *dir, const char *rel)
{
  _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
  struct stat st;
  return lstat(p, &st) == 0;
}

#define OCI_OPTS (&(struct extract_opts) { .oci_layer = true, .fresh_target = true })

static void test_layer_whiteouts(void **state)
{
  static const struct lent layer[] = {
    { "./", 'd' },
    { ".", 'd', 0700 },                     /* the root again: skipped, like "./" */
    { "etc/", 'd' },
    { "etc/.wh.passwd", 'f' },
    { "etc/.wh..wh..opq", 'f' },
    { "usr/lib/.wh.libfoo.so", 'f' },        /* usr, usr/lib implied */
    { "var/.wh..wh..opq", 'f' },             /* before var's own entry */
    { "var/", 'd', 0750 },
    { ".wh.top", 'f' },
    { ".wh..wh..opq", 'f' },                 /* the layer's root */
    { "bin/su", 'f', 04755, "#!" },
    { "bin/sg", 'f', 02755, "#!" },
    { "bin/ping", 'f', 0755, "#!", { { "security.capability", "" } } },
    { "f", 'f', 0644, "x", { { "trusted.overlay.redirect", "/etc" }, { "user.keep", "yes" } } },
    { "g", 'f', 0644, "x", { { "security.selinux", "system_u:object_r:bin_t:s0" }, { "trusted.overlay.opaque", "y" } } },
    { "usr/bin/rel", 'l', 0, "../lib/x" },
    { "manifest", 'f', 0, "an OCI layer's file like any other" },
    { NULL },
  };
  const char *tmp = *state;
  _cleanup_free_ char *dir = xasprintf("%s/layer", tmp);
  _cleanup_free_ char *etc = xasprintf("%s/etc", dir), *var = xasprintf("%s/var", dir), *lib = xasprintf("%s/usr/lib", dir);
  _cleanup_free_ char *su = xasprintf("%s/bin/su", dir), *sg = xasprintf("%s/bin/sg", dir);
  _cleanup_free_ char *ping = xasprintf("%s/bin/ping", dir), *f = xasprintf("%s/f", dir), *g = xasprintf("%s/g", dir);
  podrun_error_t err = NULL;
  struct stat st;

  if (geteuid() != 0 || !trusted_xattrs_work(tmp))
    skip_msg("needs root and a file system with trusted.* xattrs for overlayfs's opaque directories");
  if (extract_layer(tmp, "layer", layer, OCI_OPTS, &err) < 0)
    fail_msg("%s", err->msg);
  assert_true(is_whiteout(dir, "etc/passwd"));
  assert_true(is_whiteout(dir, "usr/lib/libfoo.so"));
  assert_true(is_whiteout(dir, "top"));
  assert_true(has_xattr(etc, "trusted.overlay.opaque", "y"));
  assert_true(has_xattr(var, "trusted.overlay.opaque", "y"));
  assert_true(has_xattr(dir, "trusted.overlay.opaque", "y"));
  assert_false(has_xattr(lib, "trusted.overlay.opaque", NULL));
  assert_int_equal(stat(lib, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0755);
  assert_int_equal(stat(var, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0750); /* its own entry's, after the marker made it */
  assert_int_equal(stat(su, &st), 0);
  assert_int_equal(st.st_mode & 07777, 04755);
  assert_int_equal(stat(sg, &st), 0);
  assert_int_equal(st.st_mode & 07777, 02755);
  assert_true(lgetxattr(ping, "security.capability", NULL, 0) == sizeof(cap_net_raw));
  assert_false(has_xattr(f, "trusted.overlay.redirect", NULL));
  assert_true(has_xattr(f, "user.keep", "yes"));
  assert_false(has_xattr(g, "security.selinux", NULL));
  assert_false(has_xattr(g, "trusted.overlay.opaque", NULL));
  assert_true(exists_rel(dir, "manifest"));
}


/* A setuid file with file capabilities that root does not own: its owner,
 * then its mode and capabilities (a chown clears both), by podrun's writer
 * (a fresh target) as by libarchive's. */
static void test_layer_owned_privileges(void **state)
{
  static const struct lent layer[] = {
    { "bin/", 'd', 0750, NULL, { { NULL } }, 0, 7, 8 },
    { "bin/ping", 'f', 04750, "#!", { { "security.capability", "" } }, 0, 1000, 1001 },
    { "bin/sg", 'f', 02711, "#!", { { NULL } }, 0, 0, 1002 },
    { "bin/l", 'l', 0, "ping", { { NULL } }, 0, 5, 6 },
    { NULL },
  };
  const char *tmp = *state;
  podrun_error_t err = NULL;

  if (geteuid() != 0)
    skip_msg("needs root to give files other owners");
  for (int fresh = 1; fresh >= 0; fresh--)
    {
      const char *sub = fresh ? "fresh" : "libarchive";
      _cleanup_free_ char *bin = xasprintf("%s/%s/bin", tmp, sub), *ping = xasprintf("%s/ping", bin);
      _cleanup_free_ char *sg = xasprintf("%s/sg", bin), *l = xasprintf("%s/l", bin);
      struct stat st;
      if (extract_layer(tmp, sub, layer, &(struct extract_opts) { .oci_layer = true, .fresh_target = fresh }, &err) < 0)
        fail_msg("%s", err->msg);
      assert_int_equal(stat(bin, &st), 0);
      assert_int_equal(st.st_mode & 07777, 0750);
      assert_true(st.st_uid == 7 && st.st_gid == 8);
      assert_int_equal(stat(ping, &st), 0);
      assert_int_equal(st.st_mode & 07777, 04750);
      assert_true(st.st_uid == 1000 && st.st_gid == 1001);
      assert_true(lgetxattr(ping, "security.capability", NULL, 0) == sizeof(cap_net_raw));
      assert_int_equal(stat(sg, &st), 0);
      assert_int_equal(st.st_mode & 07777, 02711);
      assert_true(st.st_uid == 0 && st.st_gid == 1002);
      assert_int_equal(lstat(l, &st), 0);
      assert_true(S_ISLNK(st.st_mode) && st.st_uid == 5 && st.st_gid == 6);
    }
}

/* ACIs: trusted.* and security.selinux dropped too; file capabilities
 * refused like setuid. */
static void test_aci_xattrs(void **state)
{
#define ACI_HEAD { "manifest", 'f', 0, "{}" }, { "rootfs", 'd' }
  static const struct lent aci[] = {
    ACI_HEAD,
    { "rootfs/f", 'f', 0644, "x", { { "trusted.overlay.opaque", "y" }, { "user.keep", "1" } } },
    { "rootfs/g", 'f', 0644, "x", { { "security.selinux", "x" } } },
    { NULL },
  };
  static const struct lent caps[] = { ACI_HEAD, { "rootfs/ping", 'f', 0755, "#!", { { "security.capability", "" } } }, { NULL } };
  const char *tmp = *state;
  _cleanup_free_ char *f = xasprintf("%s/aci/rootfs/f", tmp), *g = xasprintf("%s/aci/rootfs/g", tmp);
  podrun_error_t err = NULL;
  char *m = NULL;

  if (geteuid() != 0 || !trusted_xattrs_work(tmp))
    skip_msg("needs root and a file system with trusted.* xattrs");
  _cleanup_close_ int fd = mem_layer(caps, NULL);
  assert_error(extract_scan_fd(fd, &(struct extract_opts) {}, &m, NULL, &err), &err, "aci caps",
               "entry \"rootfs/ping\": file capabilities are not allowed");
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(extract_scan_fd(fd, &(struct extract_opts) { .allow_setuid = true }, &m, NULL, &err), 0);
  free(m);
  _cleanup_free_ char *dir = xasprintf("%s/aci", tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), afd = mem_layer(aci, NULL);
  if (extract_to_dir_fd(afd, dfd, &(struct extract_opts) { .fresh_target = true }, &err) < 0)
    fail_msg("%s", err->msg);
  assert_true(exists_rel(dir, "rootfs/f"));
  assert_false(has_xattr(f, "trusted.overlay.opaque", NULL));
  assert_true(has_xattr(f, "user.keep", "1"));
  assert_false(has_xattr(g, "security.selinux", NULL));
}

static void test_layer_refusals(void **state)
{
  static const struct
  {
    const char *what;
    struct lent ents[4];
    const char *why;
  } cases[] = {
    { "whiteout-dotdot", { { ".wh...", 'f' } }, "a whiteout of \"..\"" },
    { "whiteout-dot", { { "a/.wh..", 'f' } }, "a whiteout of \".\"" },
    { "whiteout-empty", { { "a/.wh.", 'f' } }, "a whiteout of nothing" },
    { "whiteout-escape", { { "../.wh.x", 'f' } }, "leaves the image" },
    { "whiteout-escape-inner", { { "a/../../.wh.x", 'f' } }, "leaves the image" },
    { "whiteout-absolute", { { "/etc/.wh.passwd", 'f' } }, "absolute path" },
    { "aufs plnk", { { ".wh..wh.plnk/123", 'f' } }, "a whiteout name in the middle" },
    { "aufs plnk dir", { { "a/.wh..wh.plnk", 'd' } }, "aufs metadata" },
    { "aufs", { { ".wh..wh.aufs", 'f' } }, "aufs metadata" },
    { "whiteout in the middle", { { "a/.wh.b/c", 'f' } }, "a whiteout name in the middle" },
    { "whiteout through a symlink", { { "l", 'l', 0, "/etc" }, { "l/.wh.passwd", 'f' } },
      "written through the symlink \"l\"" },
    { "opaque-in-symlink-dir", { { "l", 'l', 0, "/etc" }, { "l/.wh..wh..opq", 'f' } }, "written through the symlink" },
    { "opaque deeper in a symlink", { { "l", 'l', 0, "." }, { "l/a/.wh..wh..opq", 'f' } }, "written through the symlink" },
    { "whiteout in a file", { { "f", 'f', 0, "x" }, { "f/.wh.x", 'f' } }, "whiteout in \"f\", which is not a directory" },
    { "below a file", { { "f", 'f', 0, "x" }, { "f/g/h", 'f', 0, "y" } }, "\"f\", above it, is not a directory" },
    { "opaque in a file", { { "f", 'f', 0, "x" }, { "f/.wh..wh..opq", 'f' } }, "which is not a directory" },
    { "present, then whited out", { { "a/x", 'f', 0, "1" }, { "a/.wh.x", 'f' } },
      "\"a/x\" is both whited out and present" },
    { "whited out, then present", { { "a/.wh.x", 'f' }, { "a/x", 'f', 0, "1" } },
      "entry \"a/x\": \"a/x\" is whited out in the same layer" },
    { "whited out, then below", { { ".wh.a", 'f' }, { "a/x/y", 'f', 0, "1" } }, "\"a\" is whited out" },
    { "opaque in a whiteout", { { ".wh.a", 'f' }, { "a/.wh..wh..opq", 'f' } }, "\"a\" is whited out" },
    { "below, then whited out", { { "a/b/c", 'f', 0, "1" }, { ".wh.a", 'f' } }, "\"a\" is both whited out and present" },
    { "opaque, then whited out", { { "a/.wh..wh..opq", 'f' }, { ".wh.a", 'f' } }, "both whited out and present" },
    { "implied dir, then a file", { { "a/.wh.x", 'f' }, { "a", 'f', 0, "1" } }, "not a directory, but the layer has" },
    { "twice", { { ".wh.x", 'f' }, { "./.wh.x", 'f' } }, "appears twice" },
    { "duplicate", { { "x", 'f', 0, "1" }, { "x", 'f', 0, "2" } }, "appears twice" },
    { "hardlink to a whiteout", { { ".wh.x", 'f' }, { "h", 'h', 0, ".wh.x" } }, "not a file earlier" },
    { "hardlink escaping", { { "h", 'h', 0, "../etc/passwd" } }, "leaves the image" },
    { "symlink escaping", { { "a", 'l', 0, "../etc" } }, "leaves the image" },
    { "symlink escaping deeper", { { "a/b", 'l', 0, "../../etc" } }, "leaves the image" },
    { "escaping-path", { { "a/../../etc/passwd", 'f', 0, "x" } }, "leaves the image" },
    { "dot-dot itself", { { "./", 'd' }, { "..", 'd' } }, "leaves the image" },
    { "dot-dot slash", { { "../", 'd' } }, "leaves the image" },
    { "dot dot-dot", { { "./..", 'd' } }, "leaves the image" },
    { "device", { { "dev/null", 'c' } }, "device nodes are not allowed" },
    { "too big", { { "a", 'f', 0, NULL, {}, 4096 } }, "layer larger than 1000 bytes" },
  };
  const char *tmp = *state;
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      char sub[32];
      podrun_error_t err = NULL;
      struct lent ents[5] = { { NULL } };
      memcpy(ents, cases[i].ents, sizeof(cases[i].ents));
      snprintf(sub, sizeof(sub), "r%zu", i);
      struct extract_opts o = { .oci_layer = true, .fresh_target = true, .max_total_size = 1000 };
      assert_error(extract_layer(tmp, sub, ents, &o, &err), &err, cases[i].what, cases[i].why);
    }
  /* nothing left the target */
  assert_false(exists_rel("/", "etc/.wh.passwd"));
  _cleanup_free_ char *up = xasprintf("%s/x", tmp);
  assert_false(exists_rel(tmp, "x"));
}

/* A gzip (or zstd) that inflates far past the cap is refused before its
 * data is written, by the scan and by the extraction. */
static void bomb(const char *tmp, const char *filter)
{
  static const struct lent bomb[] = { { "zeros", 'f', 0, NULL, {}, 64 << 20 }, { NULL } };
  _cleanup_free_ char *dir = xasprintf("%s/bomb-%s", tmp, filter);
  _cleanup_close_ int fd = mem_layer(bomb, filter), dfd = -1;
  struct extract_opts o = { .oci_layer = true, .fresh_target = true, .max_total_size = 1 << 20 };
  podrun_error_t err = NULL;
  struct stat st;

  assert_int_equal(fstat(fd, &st), 0);
  assert_true(st.st_size < 1 << 20); /* small compressed */
  assert_error(extract_scan_fd(fd, &o, NULL, NULL, &err), &err, "scan", "layer larger than 1048576 bytes");
  assert_int_equal(mkdir(dir, 0700), 0);
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_error(extract_to_dir_fd(fd, dfd, &o, &err), &err, "extract", "larger than");
  assert_false(exists_rel(dir, "zeros"));
  /* under the cap it extracts */
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  o.max_total_size = 65 << 20;
  if (extract_scan_fd(fd, &o, NULL, NULL, &err) < 0)
    fail_msg("%s", err->msg);
}

static void test_layer_bombs(void **state)
{
  bomb(*state, "gzip");
  bomb(*state, "zstd");
}

/* Layers as registries serve them: plain, gzip, zstd. */
static void test_layer_compressions(void **state)
{
  static const struct lent layer[] = {
    { "./", 'd' }, { "bin/", 'd' }, { "bin/sh", 'f', 0755, "#!" }, { "bin/ash", 'h', 0, "bin/sh" },
    { "lib", 'l', 0, "usr/lib" }, { NULL },
  };
  static const char *const filters[] = { NULL, "gzip", "zstd" };
  for (size_t i = 0; i < ELEMENTSOF(filters); i++)
    {
      _cleanup_free_ char *dir = xasprintf("%s/c%zu", (char *) *state, i);
      _cleanup_close_ int fd = mem_layer(layer, filters[i]), dfd = -1;
      podrun_error_t err = NULL;
      struct stat a, b;
      assert_int_equal(mkdir(dir, 0700), 0);
      dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (extract_to_dir_fd(fd, dfd, OCI_OPTS, &err) < 0)
        fail_msg("%s: %s", filters[i] ? filters[i] : "tar", err->msg);
      assert_int_equal(fstatat(dfd, "bin/sh", &a, AT_SYMLINK_NOFOLLOW), 0);
      assert_int_equal(fstatat(dfd, "bin/ash", &b, AT_SYMLINK_NOFOLLOW), 0);
      assert_int_equal(a.st_ino, b.st_ino);
      assert_int_equal(fstatat(dfd, "lib", &a, AT_SYMLINK_NOFOLLOW), 0);
      assert_true(S_ISLNK(a.st_mode));
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ref_good),
    cmocka_unit_test(test_ref_bad),
    cmocka_unit_test(test_ref_names),
    cmocka_unit_test(test_manifest_parse),
    cmocka_unit_test(test_manifest_refusals),
    cmocka_unit_test(test_index_parse_and_select),
    cmocka_unit_test(test_arch),
    cmocka_unit_test(test_config_full),
    cmocka_unit_test(test_config_users),
    cmocka_unit_test(test_config_minimal),
    cmocka_unit_test(test_config_volumes),
    cmocka_unit_test(test_config_refusals),
    cmocka_unit_test_setup_teardown(test_layer_whiteouts, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_layer_owned_privileges, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_aci_xattrs, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_layer_refusals, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_layer_bombs, setup_tmp, teardown_tmp),
    cmocka_unit_test_setup_teardown(test_layer_compressions, setup_tmp, teardown_tmp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
