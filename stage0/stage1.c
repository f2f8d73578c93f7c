/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Choosing the stage1 image: --stage1-{hash,name,path,from-dir}, or a bundled
 * flavor (--stage1=nspawn|fly|kvm), else what the stage1 policy chose (default:
 * nspawn; stage1-policy.h): the file stage1-<flavor>.aci in the system
 * configuration directory or, in a build tree, beside the podrun binary. A
 * file is imported on first use and again only when it changed (see
 * store_import_aci_cached), so an upgrade takes effect at once. */
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#include "appc.h"
#include "net.h"
#include "pod-setup.h"
#include "stage1-policy.h"
#include "stage1.h"

/* The flavors this podrun builds (stage1/mkaci.sh), and only those. */
static const char *const bundled_flavors[] = { "nspawn", "fly", "kvm", NULL };

static const char *const stage1_entrypoints[] = { "run", "enter", "stop", "gc", NULL };

/* The contract's annotations, checked once, and what the stage1 supports;
 * *ret_run: the run entrypoint. */
static int check_stage1(const struct store_image *img, struct stage1_features *ret_features, char **ret_run,
                        podrun_error_t *err)
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
  if (stage1_features_parse(m, ret_features, err) < 0)
    return -1;
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

/* "nspawn or fly": the bundled flavors, for messages. */
static char *bundled_list(void)
{
  size_t n = strv_length((char *const *) bundled_flavors);
  char *s = xstrdup("");
  for (size_t i = 0; i < n; i++)
    {
      char *t = xasprintf("%s%s%s", s, i == 0 ? "" : i + 1 == n ? " or " : ", ", bundled_flavors[i]);
      free(s);
      s = t;
    }
  return s;
}

/* rule: the policy's rule that chose it, NULL when --stage1 did. */
static int select_flavor(struct store *s, const char *flavor, const char *rule, char **ret_id, podrun_error_t *err)
{
  _cleanup_free_ char *path = NULL;

  if (!strv_contains((char *const *) bundled_flavors, flavor))
    {
      _cleanup_free_ char *list = bundled_list();
      if (rule)
        return podrun_error_set(err, 0, "stage1 policy %s chose %s: not a bundled flavor of this podrun (%s)",
                                QUOTE(rule), QUOTE(flavor), list);
      return podrun_error_set(err, 0, "--stage1=%s: not a bundled flavor (%s)", ESCAPE(flavor), list);
    }
  if (bundled_path(flavor, &path, err) < 0)
    return rule ? podrun_error_wrap(err, "stage1 policy %s", QUOTE(rule)) : -1;
  return import_stage1(s, path, ret_id, err);
}

/* What the policy chose, when no flag did: a flavor, or an image of the store. */
static int select_by_policy(struct store *s, const struct stage1_decision *policy, char **ret_id, char **ret_label,
                            podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;

  if (stage1_is_flavor(policy->stage1))
    {
      if (select_flavor(s, policy->stage1, policy->rule, ret_id, err) < 0)
        return -1;
      return *ret_label = xstrdup(policy->stage1), 0;
    }
  if (store_resolve(s, policy->stage1, &img, err) < 0)
    return podrun_error_wrap(err, "stage1 policy %s: stage1", QUOTE(policy->rule));
  *ret_id = xstrdup(img->id);
  *ret_label = xstrdup(img->name);
  return 0;
}

/* *ret_label: the flavor when one was chosen by name, else NULL (the image's). */
static int select_image(struct store *s, const struct stage1_decision *policy, char **ret_id, char **ret_label,
                        podrun_error_t *err)
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
  if (r->stage1_flavor)
    {
      if (select_flavor(s, r->stage1_flavor, NULL, ret_id, err) < 0)
        return -1;
      return *ret_label = xstrdup(r->stage1_flavor), 0;
    }
  return select_by_policy(s, policy, ret_id, ret_label, err);
}

char *stage1_flag_given(bool escape)
{
  const struct run_args *r = &arg_run;
  const struct
  {
    const char *name, *value;
  } flags[] = {
    { "stage1", r->stage1_flavor },    { "stage1-name", r->stage1_name },         { "stage1-hash", r->stage1_hash },
    { "stage1-path", r->stage1_path }, { "stage1-from-dir", r->stage1_from_dir },
  };
  for (size_t i = 0; i < ELEMENTSOF(flags); i++)
    if (flags[i].value)
      return xasprintf("--%s=%s", flags[i].name, escape ? ESCAPE(flags[i].value) : flags[i].value);
  return NULL;
}

/* The stage1 flag given, against the policy's minimum: a flavor by its
 * level, any stage1 image as fly. A --stage1 that is no flavor at all is
 * left to be refused as such. */
static int check_policy(const struct stage1_decision *policy, podrun_error_t *err)
{
  _cleanup_free_ char *flag = stage1_flag_given(true);
  const char *flavor = arg_run.stage1_flavor;

  if (!flag || (flavor && !stage1_is_flavor(flavor)))
    return 0;
  return stage1_decision_check(policy, flag, flavor ? stage1_level_of(flavor) : STAGE1_LEVEL_FLY, err);
}

int stage1_select(struct store *s, const struct stage1_decision *policy, char **ret_id,
                  struct stage1_features *ret_features, char **ret_run, char **ret_label, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_free_ char *id = NULL, *label = NULL;
  int given = !!arg_run.stage1_hash + !!arg_run.stage1_name + !!arg_run.stage1_path + !!arg_run.stage1_from_dir +
              !!arg_run.stage1_flavor;

  if (given > 1)
    return podrun_error_set(err, 0, "give at most one of --stage1, --stage1-name, --stage1-hash, --stage1-path, "
                                    "--stage1-from-dir");
  if (check_policy(policy, err) < 0 || select_image(s, policy, &id, &label, err) < 0 ||
      store_resolve(s, id, &img, err) < 0 || check_stage1(img, ret_features, ret_run, err) < 0)
    return -1;
  *ret_id = TAKE_PTR(id);
  *ret_label = label ? TAKE_PTR(label) : xstrdup(ret_features->name);
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
  _cleanup_free_ char *rel = NULL;
  _cleanup_strv_ char **layers = NULL;
  if (stage1_entrypoint_path(s, stage1_id, what, &rel, err) < 0 || store_image_layers(s, stage1_id, &layers, err) < 0)
    return -1;
  /* the topmost layer that has it (a stage1 is an ACI: no whiteouts) */
  for (size_t i = strv_length(layers); i-- > 0;)
    {
      _cleanup_free_ char *p = xasprintf("%s%s", layers[i], rel);
      if (access(p, F_OK) == 0)
        return *ret_path = TAKE_PTR(p), 0;
    }
  return podrun_error_new(err, ENOENT, "stage1 image %s: has no %s", QUOTE(stage1_id), QUOTE(rel));
}

/* "true" or "false"; absent: false. */
static int feature_bool(const struct appc_image_manifest *m, const char *key, bool *ret, podrun_error_t *err)
{
  const char *v = appc_kvs_get(&m->annotations, key);
  *ret = v && streq(v, "true");
  if (v && !*ret && !streq(v, "false"))
    return podrun_error_set(err, 0, "stage1 image %s: annotation %s is %s, not true or false", QUOTE(m->name), key,
                            QUOTE(v));
  return 0;
}

/* "host,none": the words, each a network name without blanks. */
static int feature_nets(const struct appc_image_manifest *m, char ***ret, podrun_error_t *err)
{
  static const char key[] = "podrun/stage1/supports-net";
  const char *v = appc_kvs_get(&m->annotations, key);
  _cleanup_free_ char *copy = xstrdup(v ? v : "host");
  _cleanup_strv_ char **nets = NULL;
  char *save = NULL;

  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    nets = strv_push(nets, w);
  bool ok = nets != NULL;
  for (size_t i = 0; nets && nets[i]; i++)
    ok &= !strpbrk(nets[i], " \t\n=");
  if (!ok)
    return podrun_error_set(err, 0, "stage1 image %s: annotation %s is %s, not a list like host,none",
                            QUOTE(m->name), key, QUOTE(v));
  *ret = TAKE_PTR(nets);
  return 0;
}

int stage1_features_parse(const struct appc_image_manifest *m, struct stage1_features *ret, podrun_error_t *err)
{
  static const char max_key[] = "podrun/stage1/max-apps";
  const char *max = appc_kvs_get(&m->annotations, max_key);
  struct stage1_features f = { 0 };

  if (feature_bool(m, "podrun/stage1/supports-private-users", &f.private_users, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-dns", &f.dns, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-hosts-entry", &f.hosts_entry, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-interactive", &f.interactive, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-systemd-notify", &f.systemd_notify, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-socket-activation", &f.socket_activation, err) < 0 ||
      feature_bool(m, "podrun/stage1/supports-metadata-service", &f.metadata_service, err) < 0)
    return -1;
  if (max && (parse_uint(max, UINT32_MAX, &f.max_apps) < 0 || f.max_apps == 0))
    return podrun_error_set(err, 0, "stage1 image %s: annotation %s is %s, not a number of apps (1 or more)",
                            QUOTE(m->name), max_key, QUOTE(max));
  if (feature_nets(m, &f.net, err) < 0)
    return -1;
  f.name = xstrdup(m->name);
  *ret = f;
  return 0;
}

int stage1_features_of(struct store *s, const char *stage1_id, struct stage1_features *ret, podrun_error_t *err)
{
  _cleanup_(store_image_freep) struct store_image *img = NULL;
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *m = NULL;
  if (store_resolve(s, stage1_id, &img, err) < 0 ||
      appc_image_manifest_parse(img->manifest, strlen(img->manifest), &m, err) < 0)
    return podrun_error_wrap(err, "stage1");
  return stage1_features_parse(m, ret, err);
}

void stage1_features_done(struct stage1_features *f)
{
  free(f->name);
  strv_free(f->net);
  *f = (struct stage1_features){ 0 };
}

static int unsupported(const struct stage1_features *f, const char *flag, const char *value, const char *key,
                       podrun_error_t *err)
{
  return podrun_error_set(err, 0, "--%s%s%s: not supported by stage1 %s (it does not declare %s=true)", flag,
                          value ? "=" : "", value ? ESCAPE(value) : "", QUOTE(f->name), key);
}

static int check_net(const struct stage1_features *f, const char *net, podrun_error_t *err)
{
  _cleanup_free_ char *list = NULL;

  if (!net || strv_contains(f->net, net) || (net_is_cni(net) && strv_contains(f->net, "cni")))
    return 0;
  for (size_t i = 0; f->net[i]; i++)
    {
      char *l = xasprintf("%s%s%s", list ? list : "", list ? ", " : "", f->net[i]);
      free(list);
      list = l;
    }
  return podrun_error_set(err, 0, "--net=%s: not a network of stage1 %s (it has %s)", ESCAPE(net), QUOTE(f->name),
                          list);
}

const char *stage1_default_net(const struct stage1_features *f)
{
  return strv_contains(f->net, "cni") ? NET_DEFAULT : "host";
}

int stage1_features_check_start(const struct stage1_features *f, bool mds_register, podrun_error_t *err)
{
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  unsigned long long n = 0, owner = 0;

  if (fds && pid && parse_uint(pid, INT_MAX, &owner) == 0 && (pid_t) owner == getpid() &&
      parse_uint(fds, INT_MAX, &n) == 0 && n > 0 && !f->socket_activation)
    return podrun_error_set(err, 0, "socket activation (LISTEN_FDS=%llu): not supported by stage1 %s (it does not "
                            "declare podrun/stage1/supports-socket-activation=true; nspawn does)", n, QUOTE(f->name));
  if (getenv("NOTIFY_SOCKET") && !f->systemd_notify)
    return podrun_error_set(err, 0, "NOTIFY_SOCKET (a Type=notify service): not supported by stage1 %s (it does not "
                            "declare podrun/stage1/supports-systemd-notify=true; use Type=exec, or nspawn)",
                            QUOTE(f->name));
  if (mds_register && !f->metadata_service)
    return unsupported(f, "mds-register", NULL, "podrun/stage1/supports-metadata-service", err);
  return 0;
}

int stage1_features_check(const struct stage1_features *f, const struct run_args *r, size_t n_apps,
                          podrun_error_t *err)
{
  const struct
  {
    const char *flag;
    char **values;
    bool ok;
    const char *key;
  } lists[] = {
    { "dns", r->dns, f->dns, "podrun/stage1/supports-dns" },
    { "dns-search", r->dns_search, f->dns, "podrun/stage1/supports-dns" },
    { "dns-opt", r->dns_opt, f->dns, "podrun/stage1/supports-dns" },
    { "hosts-entry", r->hosts_entries, f->hosts_entry, "podrun/stage1/supports-hosts-entry" },
  };

  if (check_net(f, r->net, err) < 0)
    return -1;
  if (r->private_users && !f->private_users)
    return unsupported(f, "private-users", NULL, "podrun/stage1/supports-private-users", err);
  for (size_t i = 0; i < ELEMENTSOF(lists); i++)
    if (lists[i].values && lists[i].values[0] && !lists[i].ok)
      return unsupported(f, lists[i].flag, lists[i].values[0], lists[i].key, err);
  if (r->interactive && !f->interactive)
    return unsupported(f, "interactive", NULL, "podrun/stage1/supports-interactive", err);
  if (r->interactive && n_apps != 1)
    return podrun_error_set(err, 0, "--interactive gives the terminal to one app; this pod has %zu", n_apps);
  if (f->max_apps && n_apps > f->max_apps)
    return podrun_error_set(err, 0, "stage1 %s runs at most %llu app%s (podrun/stage1/max-apps); this pod has %zu",
                            QUOTE(f->name), f->max_apps, f->max_apps == 1 ? "" : "s", n_apps);
  return 0;
}
