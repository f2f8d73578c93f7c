/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Choosing the stage1 image: --stage1-{hash,name,path,from-dir}, or a bundled
 * flavor (--stage1=fly|nspawn|kvm): the file stage1-<flavor>.aci in the system
 * configuration directory or, in a build tree, beside the podrun binary. A
 * file is imported on first use and again only when it changed (see
 * store_import_aci_cached), so an upgrade takes effect at once. */
#include <libgen.h>
#include <sys/stat.h>

#include "appc.h"
#include "pod-setup.h"

#define DEFAULT_FLAVOR "nspawn"

static const char *const stage1_entrypoints[] = { "run", "enter", "stop", "gc", NULL };

/* The contract's annotations, checked once; *ret_run: the run entrypoint. */
static int check_stage1(const struct store_image *img, char **ret_run, podrun_error_t *err)
{
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  if (appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return -1;
  const char *v = appc_kvs_get(&m->annotations, "podrun/stage1/interface-version");
  if (!v)
    return podrun_error_set(err, 0, "stage1 image %s: no annotation podrun/stage1/interface-version", QUOTE(m->name));
  if (!streq(v, "1"))
    return podrun_error_set(err, 0, "stage1 image %s: interface version %s, this podrun speaks 1", QUOTE(m->name),
                            QUOTE(v));
  for (size_t i = 0; stage1_entrypoints[i]; i++)
    {
      _cleanup_free_ char *key = xasprintf("podrun/stage1/%s", stage1_entrypoints[i]);
      const char *p = appc_kvs_get(&m->annotations, key);
      if (!p || p[0] != '/')
        return podrun_error_set(err, 0, "stage1 image %s: no annotation %s with an absolute path", QUOTE(m->name), key);
    }
  *ret_run = xstrdup(appc_kvs_get(&m->annotations, "podrun/stage1/run"));
  return 0;
}

static int import_stage1(struct store *s, const char *path, char **ret_id, podrun_error_t *err)
{
  if (store_import_aci_cached(s, path, ret_id, err) < 0)
    return podrun_error_wrap(err, "stage1");
  return 0;
}

/* stage1-<flavor>.aci in the system configuration directory, else beside
 * the build tree's binary (build/bin/podrun → build/stage1-<flavor>.aci). */
static int bundled_path(const char *flavor, char **ret, podrun_error_t *err)
{
  char exe[4096];
  _cleanup_free_ char *sys = xasprintf("%s/stage1-%s.aci", arg_system_config, flavor);
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

  if (access(sys, R_OK) == 0)
    return *ret = TAKE_PTR(sys), 0;
  if (n > 0)
    {
      exe[n] = '\0';
      _cleanup_free_ char *build = xasprintf("%s/../stage1-%s.aci", dirname(exe), flavor);
      if (access(build, R_OK) == 0)
        return *ret = TAKE_PTR(build), 0;
    }
  return podrun_error_new(err, ENOENT, "stage1 flavor %s: no %s (is podrun installed, or built with make?)",
                          QUOTE(flavor), QUOTE(sys));
}

static int select_flavor(struct store *s, const char *flavor, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *path = NULL;

  if (!streq(flavor, "fly") && !streq(flavor, "nspawn") && !streq(flavor, "kvm"))
    return podrun_error_set(err, 0, "--stage1=%s: not a flavor (fly, nspawn or kvm)", ESCAPE(flavor));
  if (bundled_path(flavor, &path, err) < 0)
    return -1;
  return import_stage1(s, path, ret_id, err);
}

static int select_image(struct store *s, char **ret_id, podrun_error_t *err)
{
  const struct run_args *r = &arg_run;
  _cleanup_store_image_ struct store_image *img = NULL;

  if (r->stage1_hash || r->stage1_name)
    {
      if (store_resolve(s, r->stage1_hash ? r->stage1_hash : r->stage1_name, &img, err) < 0)
        return podrun_error_wrap(err, "stage1");
      return *ret_id = xstrdup(img->id), 0;
    }
  if (r->stage1_path)
    return import_stage1(s, r->stage1_path, ret_id, err);
  if (r->stage1_from_dir)
    {
      if (strchr(r->stage1_from_dir, '/'))
        return podrun_error_set(err, 0, "--stage1-from-dir=%s: a file name in %s, not a path",
                                ESCAPE(r->stage1_from_dir), QUOTE(arg_system_config));
      _cleanup_free_ char *p = xasprintf("%s/%s", arg_system_config, r->stage1_from_dir);
      return import_stage1(s, p, ret_id, err);
    }
  return select_flavor(s, r->stage1_flavor ? r->stage1_flavor : DEFAULT_FLAVOR, ret_id, err);
}

int stage1_select(struct store *s, char **ret_id, char **ret_run, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *id = NULL;
  int given = !!arg_run.stage1_hash + !!arg_run.stage1_name + !!arg_run.stage1_path + !!arg_run.stage1_from_dir +
              !!arg_run.stage1_flavor;

  if (given > 1)
    return podrun_error_set(err, 0, "give at most one of --stage1, --stage1-name, --stage1-hash, --stage1-path, "
                                    "--stage1-from-dir");
  if (select_image(s, &id, err) < 0 || store_resolve(s, id, &img, err) < 0 || check_stage1(img, ret_run, err) < 0)
    return -1;
  *ret_id = TAKE_PTR(id);
  return 0;
}

int stage1_entrypoint_path(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                           podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  _cleanup_free_ char *key = xasprintf("podrun/stage1/%s", what);

  if (store_resolve(s, stage1_id, &img, err) < 0 ||
      appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return podrun_error_wrap(err, "stage1");
  const char *p = appc_kvs_get(&m->annotations, key);
  if (!p)
    return podrun_error_set(err, 0, "stage1 image %s: no annotation %s", QUOTE(m->name), key);
  *ret_path = xstrdup(p);
  return 0;
}

int stage1_entrypoint(struct store *s, const char *stage1_id, const char *what, char **ret_path,
                      podrun_error_t *err)
{
  _cleanup_free_ char *rel = NULL, *tree = NULL;
  if (stage1_entrypoint_path(s, stage1_id, what, &rel, err) < 0 || store_render(s, stage1_id, &tree, err) < 0)
    return -1;
  *ret_path = xasprintf("%s/rootfs%s", tree, rel);
  return 0;
}
