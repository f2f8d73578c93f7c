/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building the pod manifest from the images and the flags of `run`/`prepare`
 * (or reading a --pod-manifest), once, as a struct: it is serialised once,
 * and that text is what the appc parser validates and the pod keeps. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "fs.h"
#include "image-fetch.h"
#include "image-ref.h"
#include "json-util.h"
#include "net.h"
#include "pod-setup.h"
#include "resources.h"
#include "syscalls.h"

void pod_plan_done(struct pod_plan *plan)
{
  appc_pod_manifest_free(plan->manifest);
  free(plan->text);
  free(plan->stage1_id);
  free(plan->stage1_run);
  strv_free(plan->stage1_layers);
  pod_layers_free(plan->app_layers);
  stage1_decision_done(&plan->policy);
  free(plan->stage1_label);
  strv_free(plan->app_roots);
  free(plan->netns_path);
  stage1_features_done(&plan->stage1_features);
  *plan = (struct pod_plan){ 0 };
}

void pod_layers_free(char ***v)
{
  for (size_t i = 0; v && v[i]; i++)
    strv_free(v[i]);
  free(v);
}

static void pod_layers_freep(char ****v)
{
  pod_layers_free(*v);
}

static int volume_bool(const char *spec, const char *key, const char *value, bool *ret, podrun_error_t *err)
{
  if (parse_boolean(value, ret, NULL) < 0)
    return podrun_error_set(err, 0, "--volume %s: %s must be true or false", QUOTE(spec), key);
  return 0;
}

static int volume_id(const char *spec, const char *key, const char *value, unsigned *ret, podrun_error_t *err)
{
  unsigned long long n;
  if (parse_uint(value, 4294967294ULL, &n) < 0)
    return podrun_error_set(err, 0, "--volume %s: %s must be a number", QUOTE(spec), key);
  *ret = (unsigned) n;
  return 0;
}

/* One KEY=VALUE of a --volume; *seen collects what was given. */
static int volume_key(const char *spec, const char *kv, struct appc_volume *v, unsigned *seen, podrun_error_t *err)
{
  static const char *const keys[] = { "kind", "source", "readOnly", "recursive", "mode", "uid", "gid" };
  const char *eq = strchr(kv, '=');
  _cleanup_free_ char *key = eq ? xstrndup(kv, (size_t) (eq - kv)) : NULL;
  const char *value = eq ? eq + 1 : NULL;
  size_t k;

  if (!eq)
    return podrun_error_set(err, 0, "--volume %s: %s is not KEY=VALUE", QUOTE(spec), QUOTE(kv));
  for (k = 0; k < ELEMENTSOF(keys) && !streq(key, keys[k]); k++)
    ;
  if (k == ELEMENTSOF(keys))
    return podrun_error_set(err, 0, "--volume %s: unknown key %s", QUOTE(spec), QUOTE(key));
  *seen |= 1u << k;
  switch (k)
    {
    case 0:
      if (!streq(value, "host") && !streq(value, "empty"))
        return podrun_error_set(err, 0, "--volume %s: kind %s is not host or empty", QUOTE(spec), QUOTE(value));
      v->kind = streq(value, "host") ? APPC_VOLUME_HOST : APPC_VOLUME_EMPTY;
      return 0;
    case 1:
      if (value[0] != '/')
        return podrun_error_set(err, 0, "--volume %s: source %s is not an absolute path", QUOTE(spec), QUOTE(value));
      free(v->source);
      v->source = xstrdup(value);
      return 0;
    case 2:
      return volume_bool(spec, key, value, &v->read_only, err);
    case 3:
      return volume_bool(spec, key, value, &v->recursive, err);
    case 4:
      {
        size_t n = strspn(value, "01234567");
        if (n == 0 || n > 6 || value[n] || strtoul(value, NULL, 8) > 07777)
          return podrun_error_set(err, 0, "--volume %s: mode %s is not a file mode (octal, at most 07777)",
                                  QUOTE(spec), QUOTE(value));
        v->mode = (mode_t) strtoul(value, NULL, 8);
        return 0;
      }
    default:
      return volume_id(spec, key, value, k == 5 ? &v->uid : &v->gid, err);
    }
}

/* "NAME,kind=host,source=/x,readOnly=true" or "NAME,kind=empty,mode=0700"
 * → an appc volume, checked as the spec says. */
static int parse_volume(const char *spec, struct appc_volume *v, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(spec);
  char *save = NULL, *name = strtok_r(copy, ",", &save);
  unsigned seen = 0;

  if (!name || strchr(name, '='))
    return podrun_error_set(err, 0, "--volume %s: expected NAME,kind=host|empty[,…]", QUOTE(spec));
  if (!appc_name_is_valid(name))
    return podrun_error_set(err, 0, "--volume %s: %s is not a volume name (lower-case letters, digits and '-')",
                            QUOTE(spec), QUOTE(name));
  *v = (struct appc_volume){ .name = xstrdup(name), .recursive = true, .mode = 0755 };
  for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
    if (volume_key(spec, kv, v, &seen, err) < 0)
      return -1;
  if (!(seen & 1u))
    return podrun_error_set(err, 0, "--volume %s: needs kind=host or kind=empty", QUOTE(spec));
  if (v->kind == APPC_VOLUME_HOST && !v->source)
    return podrun_error_set(err, 0, "--volume %s: a host volume needs source=PATH", QUOTE(spec));
  if (v->kind == APPC_VOLUME_HOST && (seen & (7u << 4)))
    return podrun_error_set(err, 0, "--volume %s: a host volume takes no mode, uid or gid", QUOTE(spec));
  if (v->kind == APPC_VOLUME_EMPTY && v->source)
    return podrun_error_set(err, 0, "--volume %s: an empty volume takes no source", QUOTE(spec));
  return 0;
}

/* "volume=NAME,target=PATH" → {volume, path}. */
static int parse_mount(const char *spec, struct appc_mount *ret, podrun_error_t *err)
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
  *ret = (struct appc_mount){ .volume = xstrdup(vol), .path = xstrdup(target) };
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

/* Resolves (fetching it first when it is not in the store) and readies its layers. */
static int app_image(struct store *s, const char *ref, struct store_image **ret, char ***ret_layers,
                     podrun_error_t *err)
{
  _cleanup_free_ char *id = NULL;

  if (image_fetch(s, ref, &id, err) < 0 || store_resolve(s, id, ret, err) < 0)
    return -1;
  return store_image_layers(s, (*ret)->id, ret_layers, err);
}

static int add_mounts(struct appc_runtime_app *ra, const struct app_args *a, podrun_error_t *err)
{
  char *const *lists[] = { arg_run.all.mounts, a->mounts };
  size_t n = strv_length(lists[0]) + strv_length(lists[1]);

  ra->mounts = n ? xzalloc(n * sizeof(*ra->mounts)) : NULL;
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t i = 0; lists[l] && lists[l][i]; i++)
      if (parse_mount(lists[l][i], &ra->mounts[ra->n_mounts++], err) < 0)
        return -1;
  return 0;
}

/* --annotation NAME=VALUE (every app's, then this app's): the app's
 * annotations in the pod manifest, a later one replacing an earlier one. */
static int add_annotations(struct appc_runtime_app *ra, const struct app_args *a, podrun_error_t *err)
{
  char *const *lists[] = { arg_run.all.annotations, a->annotations };
  for (size_t l = 0; l < ELEMENTSOF(lists); l++)
    for (size_t i = 0; lists[l] && lists[l][i]; i++)
      {
        const char *spec = lists[l][i], *eq = strchr(spec, '='), *why;
        _cleanup_free_ char *name = eq ? xstrndup(spec, (size_t) (eq - spec)) : NULL;
        if (!eq || eq == spec)
          return podrun_error_set(err, 0, "--annotation %s: expected NAME=VALUE", QUOTE(spec));
        if (!appc_identifier_is_valid(name))
          return podrun_error_set(err, 0, "--annotation %s: %s is not an AC identifier (lower-case letters, digits "
                                          "and -._~/, starting and ending with a letter or digit)",
                                  QUOTE(spec), QUOTE(name));
        if ((why = appc_annotation_value_check(name, eq + 1)))
          return podrun_error_set(err, 0, "--annotation %s: %s %s", QUOTE(spec), QUOTE(eq + 1), why);
        appc_kvs_set(&ra->annotations, name, eq + 1);
      }
  return 0;
}

/* One app from an image and its flags; *ret_layers: the image's layers,
 * *ret_rule: the stage1 policy's rule for it (NULL: none), whose default
 * isolators it gets where its user gave none. */
static int build_app(struct store *s, const struct stage1_policy *policy, const struct app_args *a,
                     struct appc_runtime_app *ra, char ***ret_layers, const struct stage1_policy_rule **ret_rule,
                     podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;

  if (app_image(s, a->image, &img, ret_layers, err) < 0 ||
      appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0 ||
      stage1_policy_match_image(policy, s, img, im, ret_rule, err) < 0 ||
      app_manifest_effective(im, a, &ra->app, err) < 0)
    return -1;
  stage1_policy_apply_isolators(*ret_rule, a->memory || arg_run.all.memory, a->cpu || arg_run.all.cpu, ra->app,
                                &ra->read_only_rootfs);
  if (a->name && !appc_name_is_valid(a->name))
    return podrun_error_new(err, 0, "--name %s: not an AC name (lowercase letters, digits and dashes)",
                            QUOTE(a->name));
  ra->name = a->name ? xstrdup(a->name) : app_name_from_image(im->name);
  ra->image.name = TAKE_PTR(im->name);
  ra->image.id = xstrdup(img->id);
  ra->image.labels = im->labels;
  im->labels = (struct appc_kvs){ 0 };
  ra->read_only_rootfs |= a->readonly_rootfs || arg_run.all.readonly_rootfs;
  if (add_mounts(ra, a, err) < 0 || add_annotations(ra, a, err) < 0)
    return -1;
  /* the image says its app speaks sd_notify: the stage1 waits for its
   * READY=1 under a Type=notify service (Documentation/systemd.md); an
   * --annotation of the user's says otherwise */
  const char *notify = appc_kvs_get(&im->annotations, APPC_SUPPORTS_SYSTEMD_NOTIFY);
  if (notify && !appc_kvs_get(&ra->annotations, APPC_SUPPORTS_SYSTEMD_NOTIFY))
    appc_kvs_set(&ra->annotations, APPC_SUPPORTS_SYSTEMD_NOTIFY, notify);
  return 0;
}

static int build_from_flags(struct store *s, const struct stage1_policy *policy, struct appc_pod_manifest *m,
                            char ****ret_layers, const struct stage1_policy_rule **rules, podrun_error_t *err)
{
  size_t n_volumes = strv_length(arg_run.volumes);

  if (arg_run.n_apps == 0)
    return podrun_error_set(err, 0, "run: no image given; usage: podrun run [flags] IMAGE [app flags] …");
  m->volumes = n_volumes ? xzalloc(n_volumes * sizeof(*m->volumes)) : NULL;
  for (size_t i = 0; i < n_volumes; i++)
    if (parse_volume(arg_run.volumes[i], &m->volumes[m->n_volumes++], err) < 0)
      return -1;
  m->apps = xzalloc(arg_run.n_apps * sizeof(*m->apps));
  *ret_layers = xzalloc((arg_run.n_apps + 1) * sizeof(char **));
  for (size_t i = 0; i < arg_run.n_apps; i++)
    {
      m->n_apps = i + 1; /* what a failure leaves is freed with m */
      if (build_app(s, policy, &arg_run.apps[i], &m->apps[i], &(*ret_layers)[i], &rules[i], err) < 0)
        return -1;
      for (size_t j = 0; j < i; j++)
        if (streq(m->apps[j].name, m->apps[i].name))
          return podrun_error_new(err, 0, "app %s is in the pod twice%s", QUOTE(m->apps[i].name),
                                  arg_run.apps[i].name ? "; give each app a --name of its own"
                                                       : " (its image's name); give one of them --name=NAME after its image");
    }
  return 0;
}

/* A hand-written manifest's apps: images must be in the store (rendered
 * here), and an app without an "app" section gets its image's. The stage1
 * policy's rules choose the stage1 (rules[i] of app i), but its isolators
 * are not applied: the manifest runs as it is written. */
static int complete_apps(struct store *s, const struct stage1_policy *policy, struct appc_pod_manifest *m,
                         char ****ret_layers, const struct stage1_policy_rule ***ret_rules, podrun_error_t *err)
{
  *ret_rules = xzalloc((m->n_apps + 1) * sizeof(**ret_rules));
  *ret_layers = xzalloc((m->n_apps + 1) * sizeof(char **));
  for (size_t i = 0; i < m->n_apps; i++)
    {
      struct appc_runtime_app *ra = &m->apps[i];
      _cleanup_store_image_ struct store_image *img = NULL;
      _cleanup_(appc_image_manifest_freep) struct appc_image_manifest *im = NULL;
      if (store_resolve(s, ra->image.id, &img, err) < 0 || store_image_layers(s, img->id, &(*ret_layers)[i], err) < 0 ||
          appc_image_manifest_parse(img->manifest, strlen(img->manifest), &im, err) < 0 ||
          stage1_policy_match_image(policy, s, img, im, &(*ret_rules)[i], err) < 0)
        return -1;
      if (ra->app)
        continue;
      if (!im->app)
        return podrun_error_set(err, 0, "app %s: neither the pod manifest nor its image has an app", QUOTE(ra->name));
      ra->app = TAKE_PTR(im->app);
    }
  return 0;
}

/* Was this flag given (a value, or true)? */
static bool opt_given(const struct opt *o)
{
  switch (o->type)
    {
    case OPT_BOOL:
      return *(bool *) o->target;
    case OPT_STRV:
      return *(char ***) o->target != NULL;
    case OPT_DURATION:
      return false; /* none of run's */
    default:
      return *(const char **) o->target != NULL;
    }
}

/* The flags that make or change the pod manifest, which --pod-manifest
 * gives whole: every app flag, --volume and --inherit-env (rkt refused
 * them too). The pod flags, kept in stage1/run-flags, still apply. */
static int check_manifest_flags(podrun_error_t *err)
{
  const char *all = (const char *) &arg_run.all;
  for (const struct opt *o = run_opts; o->name; o++)
    {
      const char *t = o->target;
      bool app_flag = t >= all && t < all + sizeof(arg_run.all);
      if ((app_flag || o->target == &arg_run.volumes || o->target == &arg_run.ports ||
           o->target == &arg_run.inherit_env) && opt_given(o))
        return podrun_error_set(err, 0, "--pod-manifest runs the manifest as it is: --%s cannot be given with it "
                                        "(write it in the manifest)", o->name);
    }
  return 0;
}

static int read_manifest_file(struct store *s, const struct stage1_policy *policy, struct appc_pod_manifest **ret,
                              char ****ret_layers, const struct stage1_policy_rule ***ret_rules, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  if (arg_run.n_apps > 0)
    return podrun_error_set(err, 0, "--pod-manifest runs the manifest as it is: give no images with it");
  if (check_manifest_flags(err) < 0)
    return -1;
  if (fs_read_file_at(AT_FDCWD, arg_run.pod_manifest, JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, ret, err) < 0)
    return podrun_error_wrap(err, "--pod-manifest");
  if ((*ret)->n_apps == 0)
    return podrun_error_new(err, 0, "--pod-manifest: \"apps\" is empty: a pod runs at least one app");
  return complete_apps(s, policy, *ret, ret_layers, ret_rules, err);
}

static const struct appc_volume *find_volume(const struct appc_pod_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->n_volumes; i++)
    if (streq(m->volumes[i].name, name))
      return &m->volumes[i];
  return NULL;
}

static bool has_mount_at(const struct appc_runtime_app *ra, const char *path)
{
  for (size_t i = 0; i < ra->n_mounts; i++)
    if (streq(ra->mounts[i].path, path))
      return true;
  return false;
}

/* The App Container spec's rule for the mount points an image declares (and
 * rkt's): one that no mount of the app covers (by path) gets the pod's volume
 * of its name, else an implicit empty volume of that name, which every app
 * declaring that name shares. The pod manifest then lists both, so the
 * stage1 (and cat-manifest) see every mount the app gets. */
static void meet_mount_points(struct appc_pod_manifest *m)
{
  for (size_t i = 0; i < m->n_apps; i++)
    {
      struct appc_runtime_app *ra = &m->apps[i];
      for (size_t j = 0; ra->app && j < ra->app->n_mount_points; j++)
        {
          const struct appc_mount_point *mp = &ra->app->mount_points[j];
          if (has_mount_at(ra, mp->path))
            continue;
          if (!find_volume(m, mp->name))
            {
              m->volumes = xrealloc(m->volumes, (m->n_volumes + 1) * sizeof(*m->volumes));
              m->volumes[m->n_volumes++] = (struct appc_volume){
                .name = xstrdup(mp->name), .kind = APPC_VOLUME_EMPTY, .recursive = true, .mode = 0755,
              };
            }
          ra->mounts = xrealloc(ra->mounts, (ra->n_mounts + 1) * sizeof(*ra->mounts));
          ra->mounts[ra->n_mounts++] = (struct appc_mount){ .volume = xstrdup(mp->name), .path = xstrdup(mp->path) };
        }
    }
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

/* The seccomp isolators (an image's, a hand-written manifest's, the flags'),
 * as stage2 will take them: a name libseccomp does not know or a group
 * podrun does not have is refused before any pod exists. */
static int check_seccomp(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_apps; i++)
    for (size_t j = 0; m->apps[i].app && j < m->apps[i].app->n_isolators; j++)
      {
        const struct appc_isolator *iso = &m->apps[i].app->isolators[j];
        struct syscalls_filter f;
        if (!streq(iso->name, "os/linux/seccomp-retain-set") && !streq(iso->name, "os/linux/seccomp-remove-set") &&
            !streq(iso->name, SYSCALLS_PROFILE_ISOLATOR))
          continue;
        if (syscalls_filter_from_isolator(iso->name, iso->value, &f, err) < 0)
          return podrun_error_wrap(err, "app %s", QUOTE(m->apps[i].name));
        syscalls_filter_done(&f);
      }
  return 0;
}

/* The one serialisation: the text the pod keeps, within what every reader
 * of a pod's manifest (stage0, the stage1s, stage2) takes. */
/* Sockets passed by socket activation to this podrun (LISTEN_PID is ours:
 * the stage1 that we exec keeps the pid): each must have an app to go to
 * (appc_pod_socket_app), checked before any pod exists; the stage1 takes
 * them (Documentation/systemd.md). */
static int check_listen_fds(const struct appc_pod_manifest *m, podrun_error_t *err)
{
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID"), *names = getenv("LISTEN_FDNAMES");
  unsigned long long n = 0, p = 0;
  if (!fds || !pid || parse_uint(pid, INT_MAX, &p) < 0 || (pid_t) p != getpid() || parse_uint(fds, INT_MAX, &n) < 0)
    return 0;
  _cleanup_free_ char *copy = names ? xstrdup(names) : NULL;
  char *save = NULL, *name = copy ? strtok_r(copy, ":", &save) : NULL;
  for (unsigned long long k = 0; k < n; k++, name = name ? strtok_r(NULL, ":", &save) : NULL)
    if (appc_pod_socket_app(m, name ? name : "unknown") < 0)
      return podrun_error_new(err, 0, "socket activation: no app of the pod declares a port named %s "
                                      "(the socket unit's FileDescriptorName=)", QUOTE(name ? name : "unknown"));
  return 0;
}

static int serialise(const struct appc_pod_manifest *m, char **ret, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = appc_pod_manifest_to_json(m);
  if (!j)
    return podrun_error_new(err, EINVAL, "pod manifest: a string of it is not valid UTF-8");
  char *text = json_dump_sorted(j, true);
  size_t len = strlen(text);
  if (len > JSON_MAX_INPUT)
    {
      free(text);
      return podrun_error_new(err, EFBIG, "pod manifest: %zu bytes, more than podrun's limit of %d (the images' "
                                          "manifests, labels and arguments are too large together)",
                              len, JSON_MAX_INPUT);
    }
  *ret = text;
  return 0;
}

/* The stage1 policy's decision for the pod: its apps' images and rules. */
static int decide_stage1(const struct appc_pod_manifest *m, const struct stage1_policy_rule *const *rules,
                         struct stage1_decision *ret, podrun_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  for (size_t i = 0; i < m->n_apps; i++)
    names = strv_push(names, m->apps[i].image.name ? m->apps[i].image.name : m->apps[i].image.id);
  return stage1_policy_decide(rules, names, m->n_apps, ret, err);
}

int pod_manifest_build(struct store *s, struct pod_plan *plan, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *built = NULL, *m = NULL;
  _cleanup_(pod_layers_freep) char ***layers = NULL;
  _cleanup_(stage1_policy_done) struct stage1_policy policy = { 0 };
  _cleanup_free_ const struct stage1_policy_rule **rules = NULL;
  _cleanup_free_ char *text = NULL;

  /* a malformed policy is refused before any image is fetched */
  if (stage1_policy_load_default(&policy, err) < 0)
    return -1;
  if (arg_run.pod_manifest)
    {
      if (read_manifest_file(s, &policy, &built, &layers, &rules, err) < 0)
        return -1;
    }
  else
    {
      built = xzalloc(sizeof(*built));
      built->ac_version = xstrdup(APPC_VERSION);
      rules = xzalloc((arg_run.n_apps + 1) * sizeof(*rules));
      if (build_from_flags(s, &policy, built, &layers, rules, err) < 0 || net_ports_from_flags(built, arg_run.ports, err) < 0)
        return -1;
    }
  if (decide_stage1(built, rules, &plan->policy, err) < 0)
    return -1;
  meet_mount_points(built);
  /* validated once: the text is parsed back by the appc parser, and that
   * parse, what the stage1 will read, is what the checks look at */
  if (serialise(built, &text, err) < 0 || appc_pod_manifest_parse(text, strlen(text), &m, err) < 0)
    return -1;
  if (check_references(m, err) < 0 || check_resources(m, err) < 0 || check_seccomp(m, err) < 0)
    return podrun_error_wrap(err, "pod manifest");
  if (check_listen_fds(m, err) < 0)
    return -1;
  plan->manifest = TAKE_PTR(m);
  plan->text = TAKE_PTR(text);
  plan->app_layers = TAKE_PTR(layers);
  return 0;
}
