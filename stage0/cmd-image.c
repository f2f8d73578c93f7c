/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun image …: the subcommand table and the verbs that read the index. */
#include "docker-verify.h"
#include "inspect/inspect.h"
#include "json-util.h"
#include "log.h"
#include "podrun.h"
#include "pods.h"
#include "table.h"
#include "store/trust.h"

static bool arg_no_legend, arg_full, arg_overwrite, arg_rootfs_only, arg_pretty_print = true, arg_signer;
static const char *arg_format;
static int64_t arg_grace_period = 24LL * 3600 * 1000000;

int image_resolve(const char *ref, struct store_image **ret, podrun_error_t *err);

int image_resolve(const char *ref, struct store_image **ret, podrun_error_t *err)
{
  if (!podrun_store)
    return podrun_error_new(err, ENOENT, "image %s: not found in the store", QUOTE(ref));
  return store_resolve(podrun_store, ref, ret, err);
}

static int list_json(struct store_image **v, size_t n, bool pretty)
{
  _cleanup_json_ json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, inspect_image_json(podrun_store, v[i]));
  _cleanup_free_ char *s = json_dump_sorted(arr, pretty);
  printf("%s\n", s);
  return 0;
}

static void list_table(struct store_image **v, size_t n)
{
  static const char *const legend[] = { "ID", "NAME", "SIZE", "SHARED", "IMPORT TIME", "LAST USED" };
  struct table t;
  char b[64];

  table_init(&t, legend, ELEMENTSOF(legend));
  for (size_t i = 0; i < n; i++)
    {
      char *row[] = {
        arg_full ? xstrdup(v[i]->id) : xstrndup(v[i]->id, 7 + 12),
        v[i]->version ? xasprintf("%s:%s", v[i]->name, v[i]->version) : xstrdup(v[i]->name),
        xstrdup(format_size(b, sizeof(b), v[i]->size)),
        xstrdup(format_size(b, sizeof(b), v[i]->shared)),
        xstrdup(format_time(b, sizeof(b), v[i]->import_time, arg_full)),
        xstrdup(format_time(b, sizeof(b), v[i]->last_used, arg_full)),
      };
      table_add(&t, row);
    }
  table_print(&t, !arg_no_legend);
  table_done(&t);
}

static int image_list(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  struct store_image **v = NULL;
  size_t n = 0;

  if (check_format(arg_format, err) < 0)
    return -1;
  if (podrun_store && store_list(podrun_store, &v, &n, err) < 0)
    return -1;
  if (arg_format)
    list_json(v, n, streq(arg_format, "json-pretty"));
  else
    list_table(v, n);
  store_image_list_free(v, n);
  return 0;
}

/* The pod that keeps the image, or NULL. */
static const char *used_by(char *const *ids, char *const *uuids, const char *id)
{
  for (size_t i = 0; ids && ids[i]; i++)
    if (streq(ids[i], id))
      return uuids[i];
  return NULL;
}

static int image_rm(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_strv_ char **ids = NULL, **uuids = NULL;
  int failed = 0;

  if (pods_images_in_use(&ids, &uuids, err) < 0)
    return -1;
  for (int i = 0; i < argc; i++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      _cleanup_store_image_ struct store_image *img = NULL;
      const char *pod = NULL;
      if (image_resolve(argv[i], &img, &e) == 0 && (pod = used_by(ids, uuids, img->id)))
        podrun_error_new(&e, EBUSY, "image %s: used by pod %s (remove the pod first: podrun rm)", QUOTE(argv[i]), pod);
      if (e || store_remove(podrun_store, img->id, &e) < 0)
        {
          keep_error(err, &e, &failed); /* every other image is still removed */
          continue;
        }
      printf("%s\n", img->id);
    }
  return failed ? -1 : 0;
}

static int image_cat_manifest(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_json_ json_t *j = NULL;

  if (image_resolve(argv[0], &img, err) < 0)
    return -1;
  if (arg_signer)
    {
      /* beside the manifest, never in it: what actool and other readers of
       * the manifest get stays the publisher's */
      j = json_object();
      json_object_set_new(j, "id", json_string(img->id));
      json_object_update_missing_new(j, inspect_image_signer_json(podrun_store, img->id));
    }
  else if (json_parse_untrusted(img->manifest, strlen(img->manifest), "manifest", &j, err) < 0)
    return -1;
  _cleanup_free_ char *s = json_dump_sorted(j, arg_pretty_print);
  printf("%s\n", s);
  return 0;
}

/* ---- verify --------------------------------------------------------------- */

/* A registry image's simple-signing signatures, as its fetch judged them,
 * under today's policy.json and trust store (docker_verify_stored). */
static int verify_registry_signature(const struct store_image *img, const char **ret_note, podrun_error_t *err)
{
  _cleanup_(store_policy_done) struct store_policy p = { 0 };
  struct store_signer signer = { 0 };

  if (store_get_policy(podrun_store, img->id, &p, err) < 0 || store_get_signer(podrun_store, img->id, &signer, err) < 0)
    return -1;
  bool signed_ = signer.fingerprint != NULL;
  store_signer_done(&signer);
  if (p.reference)
    return docker_verify_stored(img, &p, ret_note, err);
  /* fetched before podrun kept them, or not from a registry (oci:, archives) */
  if (signed_)
    return *ret_note = "no signature kept: fetched by an older podrun; fetch it again with --pull-policy=update", 0;
  return *ret_note = "unsigned: fetched with --insecure-options=image", 0;
}

/* The signature the image was verified with, against today's trust store:
 * a key removed or revoked since fails it. 0 with *ret_note set when there
 * is nothing to check. */
static int verify_signature(const struct store_image *img, const char **ret_note, podrun_error_t *err)
{
  _cleanup_free_ char *local = xasprintf("%s/trustedkeys", arg_local_config);
  _cleanup_free_ char *system = xasprintf("%s/trustedkeys", arg_system_config);
  _cleanup_close_ int sig = -1, data = -1;
  struct store_signer signer = { 0 };
  struct trust_result res = { 0 };
  int r;

  *ret_note = NULL;
  if (streq_ptr(img->format, "oci"))
    return verify_registry_signature(img, ret_note, err);
  if (store_get_signer(podrun_store, img->id, &signer, err) < 0)
    return -1;
  bool signed_ = signer.fingerprint != NULL;
  store_signer_done(&signer);
  if (!signed_)
    return *ret_note = "unsigned: fetched with --insecure-options=image", 0;
  if (store_open_signature(podrun_store, img->id, &sig, err) < 0)
    return -1;
  if (sig < 0)
    return *ret_note = "its signature was not kept (fetched by an older podrun)", 0;
  if (store_open_aci(podrun_store, img->id, &data, err) < 0)
    return -1;
  r = trust_verify(local, system, img->name, data, sig, &res, err);
  trust_result_done(&res);
  return r < 0 ? podrun_error_wrap(err, "signature") : 0;
}

static int verify_one(const char *ref, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_error_ podrun_error_t e = NULL;
  const char *note = NULL;

  if (image_resolve(ref, &img, err) < 0)
    return -1;
  _cleanup_free_ char *name = img->version ? xasprintf("%s:%s", img->name, img->version) : xstrdup(img->name);
  if (store_verify_image(podrun_store, img->id, &e) < 0 || verify_signature(img, &note, &e) < 0)
    {
      printf("%s %s %s\n", img->id, ESCAPE(name), e->msg); /* its user strings are quoted already */
      return podrun_error_new(err, EBADMSG, "image %s: %s", QUOTE(ref), e->msg);
    }
  printf("%s %s ok%s%s%s\n", img->id, ESCAPE(name), note ? " (" : "", note ? note : "", note ? ")" : "");
  return 0;
}

static int image_verify(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  int failed = 0;
  for (int i = 0; i < argc; i++)
    {
      podrun_error_t e = NULL;
      if (verify_one(argv[i], &e) < 0)
        keep_error(err, &e, &failed); /* every other image is still verified */
    }
  fflush(stdout);
  return failed ? -1 : 0;
}

static int image_export(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  if (image_resolve(argv[0], &img, err) < 0)
    return -1;
  return store_export(podrun_store, img->id, argv[1], arg_overwrite, err);
}

static int copy_out(int argc, char **argv, unsigned flags, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  if (image_resolve(argv[0], &img, err) < 0)
    return -1;
  flags |= (arg_rootfs_only ? STORE_COPY_ROOTFS_ONLY : 0) | (arg_overwrite ? STORE_COPY_OVERWRITE : 0);
  return store_copy_to_dir(podrun_store, img->id, argv[1], flags, err);
}

static int image_extract(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  return copy_out(argc, argv, 0, err);
}

static int image_render(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  return copy_out(argc, argv, STORE_COPY_WITH_DEPS, err);
}

static int image_gc(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  struct store_gc_report rep = { 0 };
  _cleanup_strv_ char **ids = NULL, **uuids = NULL;

  if (arg_grace_period < 0)
    return podrun_error_set(err, 0, "--grace-period must not be negative");
  if (pods_images_in_use(&ids, &uuids, err) < 0 || store_gc(podrun_store, arg_grace_period, ids, &rep, err) < 0)
    return -1;
  for (size_t i = 0; rep.removed_images && rep.removed_images[i]; i++)
    printf("removed image %s\n", rep.removed_images[i]);
  if (rep.leftovers)
    printf("removed %zu leftover%s of interrupted commands\n", rep.leftovers, rep.leftovers == 1 ? "" : "s");
  store_gc_report_done(&rep);
  return 0;
}

static const struct opt list_opts[] = {
  { "no-legend", OPT_BOOL, &arg_no_legend, "do not print the header line", NULL },
  { "full", OPT_BOOL, &arg_full, "full image ids and absolute times", NULL },
  { "format", OPT_STRING, &arg_format, "output as json or json-pretty", "FORMAT" },
  { NULL },
};
static const struct opt cat_opts[] = {
  { "pretty-print", OPT_BOOL, &arg_pretty_print, "indent the JSON (default true)", NULL },
  { "signer", OPT_BOOL, &arg_signer, "print who signed the image instead of its manifest", NULL },
  { NULL },
};
static const struct opt export_opts[] = {
  { "overwrite", OPT_BOOL, &arg_overwrite, "replace an existing output file", NULL },
  { NULL },
};
static const struct opt dir_opts[] = {
  { "rootfs-only", OPT_BOOL, &arg_rootfs_only, "write only the rootfs contents, without the manifest", NULL },
  { "overwrite", OPT_BOOL, &arg_overwrite, "replace an existing, non-empty directory", NULL },
  { NULL },
};
static const struct opt gc_opts[] = {
  { "grace-period", OPT_DURATION, &arg_grace_period, "remove images not used for this long (default 24h)",
    "DURATION" },
  { NULL },
};

#define IMAGE_NAMES "IMAGE is a name (the newest import of it), NAME:VERSION, or a unique id prefix (sha512-… or sha256-…)."

static const struct cmd image_list_cmd = { "list", image_list, "", "List the images in the local store",
    "Columns: ID (short unless --full), NAME (with :VERSION when labelled), SIZE (of its layers as\n"
    "stored: an ACI uncompressed, an OCI image's layers as fetched), SHARED (of that, layers another\n"
    "image has too: stored once), IMPORT TIME, LAST USED.\n\n"
    "Examples:\n  podrun image list\n  podrun image list --full --no-legend\n  podrun image list --format=json",
    list_opts, NULL, 0, 0, CMD_STORE_RO };
static const struct cmd image_rm_cmd = { "rm", image_rm, "IMAGE...", "Remove images from the local store",
    IMAGE_NAMES "\nPrints the id of each image removed; tries every IMAGE given and fails if any failed.\n"
    "An image that a pod on disk uses (as an app or as its stage1) is kept until the pod is removed.\n\n"
    "Example:\n  podrun image rm podrun.test/busybox:1.35.0",
    NULL, NULL, 1, -1, CMD_STORE_RW };
static const struct cmd image_cat_manifest_cmd = { "cat-manifest", image_cat_manifest, "IMAGE", "Print an image's manifest",
    IMAGE_NAMES "\nThe manifest is the publisher's, unchanged. --signer prints instead who signed the\n"
    "image, as verified when it was fetched: {\"id\", \"signer_fingerprint\", \"signer_prefix\",\n"
    "\"verified_time\"}, nulls for an image fetched unverified.\n\n"
    "Examples:\n  podrun image cat-manifest --pretty-print=false podrun.test/busybox\n"
    "  podrun image cat-manifest --signer podrun.test/busybox", cat_opts,
    NULL, 1, 1, CMD_STORE_RO };
static const struct cmd image_verify_cmd = { "verify", image_verify, "IMAGE...", "Check images in the store against their digests and signatures",
    IMAGE_NAMES "\nFor each IMAGE: hashes each of its blobs again (an ACI's sha512 is its id; an OCI\n"
    "image's config, manifest and layers), walks each of its layer trees that was extracted\n"
    "against the record made while extracting it (modes, owners, contents, files added or\n"
    "removed), and verifies its signature again against today's trust store (a key removed\n"
    "or revoked since fails it). A registry image is judged again by today's policy.json: a\n"
    "reject fails it; a signedBy needs one of the signatures kept at its fetch to verify with\n"
    "the keys trusted now and to claim its manifest and its reference. --insecure-options play\n"
    "no part. Prints one line per image: its id, its name and \"ok\" (with a note when there\n"
    "is no signature to check) or the first thing wrong. Fails when any image failed.\n\n"
    "Example:\n  podrun image verify podrun.test/busybox",
    NULL, NULL, 1, -1, CMD_STORE_RW };
static const struct cmd image_export_cmd = { "export", image_export, "IMAGE OUTPUT.aci", "Write an image out as an ACI",
    IMAGE_NAMES "\nThe ACI is uncompressed; its sha512 is the image id.\n\n"
    "Example:\n  podrun image export podrun.test/busybox busybox.aci",
    export_opts, NULL, 2, 2, CMD_STORE_RW };
static const struct cmd image_extract_cmd = { "extract", image_extract, "IMAGE DIR", "Write an image's contents to a directory",
    IMAGE_NAMES "\nDIR gets the image alone (no dependencies): manifest and rootfs/, or with\n"
    "--rootfs-only the rootfs contents. DIR must not exist or be empty, unless --overwrite.\n\n"
    "Example:\n  podrun image extract --rootfs-only podrun.test/busybox /tmp/bb",
    dir_opts, NULL, 2, 2, CMD_STORE_RW };
static const struct cmd image_render_cmd = { "render", image_render, "IMAGE DIR", "Write an image as a pod would see it to a directory",
    IMAGE_NAMES "\nLike extract, but the image's dependencies are layered under it and its\n"
    "pathWhitelist is applied: the rootfs a pod gets.\n\n"
    "Example:\n  podrun image render podrun.test/busybox /tmp/bb",
    dir_opts, NULL, 2, 2, CMD_STORE_RW };
static const struct cmd image_gc_cmd = { "gc", image_gc, "", "Remove unused images and leftovers of interrupted commands",
    "Removes images not used (run, rendered, fetched) for the grace period, except those a\n"
    "pod on disk still uses (until podrun gc removes the pod), then sweeps\n"
    "what a killed or crashed podrun left behind: incomplete blobs and trees.\n"
    "Durations: 0, 90s, 30m, 24h, 1h30m.\n\nExample:\n  podrun image gc --grace-period=0",
    gc_opts, NULL, 0, 0, CMD_STORE_RW };

static const struct cmd *const image_cmds[] = {
  &image_list_cmd,
  &image_rm_cmd,
  &image_cat_manifest_cmd,
  &image_export_cmd,
  &image_extract_cmd,
  &image_render_cmd,
  &image_gc_cmd,
  &image_verify_cmd,
  NULL,
};

const struct cmd cmd_image = {
  "image", NULL, "COMMAND", "Operate on images in the local store", NULL, NULL, image_cmds, 0, 0, 0,
};
