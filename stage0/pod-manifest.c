/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building the pod manifest from the images and the flags of `run`/`prepare`. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fs.h"
#include "image-ref.h"
#include "json-util.h"
#include "pod-setup.h"
#include "resources.h"

/* "NAME,kind=host,source=/x,readOnly=true" → an appc volume. */
static int parse_volume(const char *spec, json_t **ret, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(spec);
  _cleanup_json_ json_t *v = json_object();
  char *save = NULL, *name = strtok_r(copy, ",", &save);

  if (!name || strchr(name, '='))
    return podrun_error_set(err, 0, "--volume %s: expected NAME,kind=host|empty[,…]", QUOTE(spec));
  json_object_set_new(v, "name", json_string(name));
  for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
    {
      char *eq = strchr(kv, '=');
      if (!eq)
        return podrun_error_set(err, 0, "--volume %s: %s is not KEY=VALUE", QUOTE(spec), QUOTE(kv));
      *eq++ = '\0';
      if (streq(kv, "readOnly") || streq(kv, "recursive"))
        {
          bool b;
          if (parse_boolean(eq, &b, NULL) < 0)
            return podrun_error_set(err, 0, "--volume %s: %s must be true or false", QUOTE(spec), kv);
          json_object_set_new(v, kv, json_boolean(b));
        }
      else if (streq(kv, "uid") || streq(kv, "gid"))
        {
          unsigned long long n;
          if (parse_uint(eq, 4294967294ULL, &n) < 0)
            return podrun_error_set(err, 0, "--volume %s: %s must be a number", QUOTE(spec), kv);
          json_object_set_new(v, kv, json_integer(n));
        }
      else if (streq(kv, "kind") && !streq(eq, "host") && !streq(eq, "empty"))
        return podrun_error_set(err, 0, "--volume %s: kind %s is neither host nor empty", QUOTE(spec), QUOTE(eq));
      else if (streq(kv, "kind") || streq(kv, "source") || streq(kv, "mode"))
        json_object_set_new(v, kv, json_string(eq));
      else
        return podrun_error_set(err, 0, "--volume %s: unknown key %s", QUOTE(spec), QUOTE(kv));
    }
  if (!json_object_get(v, "kind"))
    return podrun_error_set(err, 0, "--volume %s: needs kind=host or kind=empty", QUOTE(spec));
  *ret = TAKE_PTR(v);
  return 0;
}

/* "volume=NAME,target=PATH" → {volume, path}. */
static int parse_mount(const char *spec, json_t **ret, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(spec);
  const char *vol = NULL, *target = NULL;
  char *save = NULL;

  for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
    {
      if (startswith(kv, "volume="))
        vol = kv + 7;
      else if (startswith(kv, "target="))
        target = kv + 7;
      else
        return podrun_error_set(err, 0, "--mount %s: unknown key in %s", QUOTE(spec), QUOTE(kv));
    }
  if (!vol || !target || !*vol || !*target)
    return podrun_error_set(err, 0, "--mount %s: expected volume=NAME,target=PATH", QUOTE(spec));
  *ret = json_pack("{s:s,s:s}", "volume", vol, "path", target);
  return 0;
}

/* App name from the image name: "example.com/my_app" → "my-app". */
static char *app_name_from_image(const char *image_name)
{
  const char *base = strrchr(image_name, '/');
  char *n = xstrdup(base ? base + 1 : image_name);
  for (char *c = n; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
      *c = '-';
  return n;
}

/* Resolves (fetching a file first when the argument is one) and renders. */
static int app_image(struct store *s, const char *ref, struct store_image **ret, podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL, *tree = NULL;
  const char *path = startswith(ref, "file://");
  struct stat st;

  if (image_ref_check(ref, err) < 0)
    return -1;
  if (!path && (strchr(ref, '/') || endswith(ref, ".aci")) && stat(ref, &st) == 0)
    path = ref;
  if (path)
    {
      if (!(arg_insecure & INSECURE_IMAGE))
        return podrun_error_set(err, 0, "image %s: cannot verify its signature (not supported for local images "
                                        "yet); use --insecure-options=image", QUOTE(ref));
      if (store_import_aci(s, path, &id, err) < 0)
        return -1;
      ref = id;
    }
  if (store_resolve(s, ref, ret, err) < 0)
    return image_ref_not_found(ref, err);
  return store_render(s, (*ret)->id, &tree, err);
}

static int add_mounts(json_t *rapp, const struct app_args *a, podrun_error_t *err)
{
  json_t *mounts = json_array();
  json_object_set_new(rapp, "mounts", mounts);
  char *const *lists[] = { arg_run.all.mounts, a->mounts };
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t i = 0; lists[l] && lists[l][i]; i++)
      {
        json_t *m = NULL;
        if (parse_mount(lists[l][i], &m, err) < 0)
          return -1;
        json_array_append_new(mounts, m);
      }
  return 0;
}

static int build_app(struct store *s, const struct app_args *a, json_t *apps, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;
  _cleanup_free_ char *name = NULL;
  json_t *app = NULL;

  if (app_image(s, a->image, &img, err) < 0 ||
      appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0 ||
      app_manifest_effective(im, a, &app, err) < 0)
    return -1;
  name = a->name ? xstrdup(a->name) : app_name_from_image(im->name);
  if (a->name && !appc_name_is_valid(a->name))
    return podrun_error_new(err, 0, "--name %s: not an AC name (lowercase letters, digits and dashes)",
                            QUOTE(a->name));
  size_t i;
  json_t *other;
  json_array_foreach (apps, i, other)
    if (streq(json_string_value(json_object_get(other, "name")), name))
      return podrun_error_new(err, 0, "app %s is in the pod twice%s", QUOTE(name),
                              a->name ? "; give each app a --name of its own"
                                      : " (its image's name); give one of them --name=NAME after its image");
  json_t *rapp = json_pack("{s:s,s:{s:s,s:s,s:o},s:o,s:b}", "name", name, "image", "name", im->name, "id", img->id,
                           "labels", json_loads(img->labels, 0, NULL) ?: json_array(), "app", app,
                           "readOnlyRootFS", a->readonly_rootfs || arg_run.all.readonly_rootfs);
  json_array_append_new(apps, rapp);
  return add_mounts(rapp, a, err);
}

static int build_from_flags(struct store *s, json_t **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *pm = json_pack("{s:s,s:s,s:[],s:[]}", "acKind", "PodManifest", "acVersion", APPC_VERSION,
                                        "apps", "volumes");
  json_t *apps = json_object_get(pm, "apps"), *vols = json_object_get(pm, "volumes");

  if (arg_run.n_apps == 0)
    return podrun_error_set(err, 0, "run: no image given; usage: podrun run [flags] IMAGE [app flags] …");
  for (size_t i = 0; arg_run.volumes && arg_run.volumes[i]; i++)
    {
      json_t *v = NULL;
      if (parse_volume(arg_run.volumes[i], &v, err) < 0)
        return -1;
      json_array_append_new(vols, v);
    }
  for (size_t i = 0; i < arg_run.n_apps; i++)
    if (build_app(s, &arg_run.apps[i], apps, err) < 0)
      return -1;
  *ret = TAKE_PTR(pm);
  return 0;
}

/* Every mount names a volume of the pod (the schema cannot say so). */
static int check_references(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    for (size_t j = 0; j < m->apps[i].n_mounts; j++)
      {
        const struct appc_mount *mt = &m->apps[i].mounts[j];
        bool found = mt->app_volume != NULL;
        for (size_t k = 0; k < m->n_volumes && !found; k++)
          found = streq(m->volumes[k].name, mt->volume);
        if (!found)
          return podrun_error_set(err, 0, "app %s: mount of volume %s: no such volume (add --volume %s,…)",
                                  QUOTE(m->apps[i].name), QUOTE(mt->volume), mt->volume);
      }
  return 0;
}

/* The resource isolators, whatever the stage1: one that ignores them (fly)
 * runs a pod that another would refuse otherwise. */
static int check_resources(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    {
      struct app_resources r;
      if (app_resources_from_isolators(m->apps[i].app, &r, err) < 0)
        return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
    }
  return 0;
}

/* A hand-written manifest's apps: images must be in the store (rendered
 * here), and an app without an "app" section gets its image's. */
static int complete_apps(struct store *s, json_t *pm, podrun_error_t *err)
{
  size_t i;
  json_t *rapp;
  json_array_foreach (json_object_get(pm, "apps"), i, rapp)
    {
      _cleanup_store_image_ struct store_image *img = NULL;
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;
      _cleanup_free_ char *tree = NULL;
      const char *id = json_string_value(json_object_get(json_object_get(rapp, "image"), "id"));
      if (store_resolve(s, id, &img, err) < 0 || store_render(s, img->id, &tree, err) < 0)
        return -1;
      if (json_object_get(rapp, "app"))
        continue;
      if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0)
        return -1;
      if (!im->app)
        return podrun_error_set(err, 0, "app %s: neither the pod manifest nor its image has an app",
                                QUOTE(json_string_value(json_object_get(rapp, "name"))));
      json_t *imj = appc_image_manifest_to_json(im);
      json_object_set(rapp, "app", json_object_get(imj, "app"));
      json_decref(imj);
    }
  return 0;
}

static int read_manifest_file(struct store *s, json_t **ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  size_t len = 0;

  if (arg_run.n_apps > 0)
    return podrun_error_set(err, 0, "--pod-manifest runs the manifest as it is: give no images with it");
  if (fs_read_file_at(AT_FDCWD, arg_run.pod_manifest, JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &m, err) < 0 ||
      json_parse_untrusted(text, len, arg_run.pod_manifest, ret, err) < 0)
    return podrun_error_wrap(err, "--pod-manifest");
  if (m->n_apps == 0)
    return podrun_error_new(err, 0, "--pod-manifest: \"apps\" is empty: a pod runs at least one app");
  return complete_apps(s, *ret, err);
}

/* The pod manifest as JSON text, validated by the appc parser. */
int pod_manifest_build(struct store *s, char **ret, podrun_error_t *err);

int pod_manifest_build(struct store *s, char **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *pm = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  size_t len = 0;

  if ((arg_run.pod_manifest ? read_manifest_file(s, &pm, err) : build_from_flags(s, &pm, err)) < 0)
    return -1;
  text = json_dump_sorted(pm, true);
  len = strlen(text);
  /* every reader of a pod's manifest (stage0, the stage1s, stage2) takes at most this */
  if (len > JSON_MAX_INPUT)
    return podrun_error_new(err, EFBIG, "pod manifest: %zu bytes, more than podrun's limit of %d (the images' "
                                        "manifests, labels and arguments are too large together)",
                            len, JSON_MAX_INPUT);
  if (appc_pod_manifest_parse(text, len, &m, err) < 0)
    return -1;
  if (check_references(m, err) < 0 || check_resources(m, err) < 0)
    return podrun_error_wrap(err, "pod manifest");
  *ret = TAKE_PTR(text);
  return 0;
}
