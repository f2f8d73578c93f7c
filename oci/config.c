/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json → a one-app appc pod manifest (Documentation/oci-runtime.md,
 * "From config.json to a pod"). Everything the mapping cannot honour is
 * refused here with one line naming the key, or, for what the stage1 gives
 * its own way (devices, masked paths, the cgroup's path), said once in the
 * log: nothing is dropped silently. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "appc.h"
#include "caps.h"
#include "rlimits.h"
#include "syscalls.h"
#include "volumes.h"

static const char *const hook_names[_OCI_HOOK_MAX] = {
  [OCI_HOOK_PRESTART] = "prestart",
  [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
  [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
  [OCI_HOOK_START_CONTAINER] = "startContainer",
  [OCI_HOOK_POSTSTART] = "poststart",
  [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
  return hook_names[k];
}

void oci_spec_done(struct oci_spec *c)
{
  free(c->rootfs);
  free(c->hostname);
  free(c->netns_path);
  free(c->ipc_path);
  free(c->uts_path);
  json_decref(c->pod_manifest);
  json_decref(c->annotations);
  for (size_t i = 0; i < _OCI_HOOK_MAX; i++)
    json_decref(c->hooks[i]);
  strv_free(c->warnings);
  json_decref(c->tmpfs);
  json_decref(c->bind_attrs);
  *c = (struct oci_spec){ 0 };
}

const char *oci_spec_annotation(const struct oci_spec *c, const char *key)
{
  return json_string_value(json_object_get(c->annotations, key));
}

static int bad(podrun_error_t *err, const char *key, const char *why)
{
  return podrun_error_set(err, 0, "config.json: %s: %s", key, why);
}

static void warn(struct oci_spec *c, const char *fmt, ...) _printf_(2, 3);
static void warn(struct oci_spec *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *m = xvasprintf(fmt, ap);
  va_end(ap);
  c->warnings = strv_push(c->warnings, m);
}

/* An array of strings (NULL: absent), each checked by ok (NULL: any). */
static int string_array(json_t *v, const char *key, bool (*ok)(const char *), podrun_error_t *err)
{
  size_t i;
  json_t *e;
  if (v && !json_is_array(v))
    return bad(err, key, "not an array of strings");
  json_array_foreach (v, i, e)
    if (!json_is_string(e) || (ok && !ok(json_string_value(e))))
      return podrun_error_set(err, 0, "config.json: %s[%zu]: %s", key, i,
                              json_is_string(e) ? ESCAPE(json_string_value(e)) : "not a string");
  return 0;
}

static bool is_absolute(const char *s)
{
  return s[0] == '/';
}

/* No "..": a path inside the container stays there however it is joined. */
static bool has_dotdot(const char *p)
{
  for (const char *s = p; (s = strstr(s, "..")); s += 2)
    if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
      return true;
  return false;
}

static bool is_container_path(const char *s)
{
  return is_absolute(s) && !has_dotdot(s) && !strpbrk(s, ":,\n");
}

/* root.path: relative to the bundle (and then inside it, symlinks resolved)
 * or absolute (podman's storage gives its own); a directory. */
static int parse_root(const char *bundle, json_t *root, struct oci_spec *c, podrun_error_t *err)
{
  const char *path = json_string_value(json_object_get(root, "path"));
  json_t *ro = json_object_get(root, "readonly");
  _cleanup_free_ char *joined = NULL, *real = NULL, *real_bundle = NULL;
  struct stat st;

  if (!json_is_object(root) || !path || !*path)
    return bad(err, "root.path", "missing");
  if (ro && !json_is_boolean(ro))
    return bad(err, "root.readonly", "not true or false");
  c->readonly = json_is_true(ro);
  joined = is_absolute(path) ? xstrdup(path) : xasprintf("%s/%s", bundle, path);
  if (!is_absolute(path) && has_dotdot(path))
    return podrun_error_set(err, 0, "config.json: root.path %s: escapes the bundle", QUOTE(path));
  if (!(real = realpath(joined, NULL)) || stat(real, &st) < 0)
    return podrun_error_set(err, errno, "config.json: root.path %s", QUOTE(path));
  if (!S_ISDIR(st.st_mode))
    return podrun_error_set(err, 0, "config.json: root.path %s: not a directory", QUOTE(path));
  if (!is_absolute(path))
    {
      if (!(real_bundle = realpath(bundle, NULL)))
        return podrun_error_set(err, errno, "bundle %s", QUOTE(bundle));
      size_t n = strlen(real_bundle);
      if (strncmp(real, real_bundle, n) != 0 || (real[n] != '/' && real[n] != '\0'))
        return podrun_error_set(err, 0, "config.json: root.path %s: escapes the bundle (to %s)", QUOTE(path),
                                QUOTE(real));
    }
  if (strpbrk(real, ":,\\"))
    return podrun_error_set(err, 0, "config.json: root.path %s: a path with ':', ',' or '\\'", QUOTE(real));
  c->rootfs = TAKE_PTR(real);
  return 0;
}

static bool env_ok(const char *s)
{
  const char *eq = strchr(s, '=');
  if (!eq || eq == s)
    return false;
  _cleanup_free_ char *name = xstrndup(s, (size_t) (eq - s));
  return appc_env_name_is_valid(name);
}

static json_t *environment(json_t *env)
{
  json_t *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach (env, i, e)
    {
      const char *s = json_string_value(e), *eq = strchr(s, '=');
      _cleanup_free_ char *name = xstrndup(s, (size_t) (eq - s));
      json_array_append_new(out, json_pack("{s:s,s:s}", "name", name, "value", eq + 1));
    }
  return out;
}

static int uid_of(json_t *v, const char *key, unsigned long long *ret, podrun_error_t *err)
{
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4294967294LL)
    return bad(err, key, "not a uid or gid number");
  *ret = (unsigned long long) json_integer_value(v);
  return 0;
}

/* process.user: numbers (the spec's Linux user), additionalGids */
static int parse_user(json_t *user, json_t *app, podrun_error_t *err)
{
  unsigned long long uid, gid;
  json_t *gids = json_object_get(user, "additionalGids"), *e;
  size_t i;
  if (!json_is_object(user))
    return bad(err, "process.user", "missing");
  if (json_object_get(user, "username"))
    return bad(err, "process.user.username", "not supported on Linux (give uid and gid)");
  if (uid_of(json_object_get(user, "uid"), "process.user.uid", &uid, err) < 0 ||
      uid_of(json_object_get(user, "gid"), "process.user.gid", &gid, err) < 0)
    return -1;
  if (gids && !json_is_array(gids))
    return bad(err, "process.user.additionalGids", "not an array");
  json_t *sup = json_array();
  json_array_foreach (gids, i, e)
    {
      unsigned long long g;
      if (uid_of(e, "process.user.additionalGids", &g, err) < 0)
        {
          json_decref(sup);
          return -1;
        }
      json_array_append_new(sup, json_integer((json_int_t) g));
    }
  json_t *umask = json_object_get(user, "umask");
  if (umask && (!json_is_integer(umask) || json_integer_value(umask) != 022))
    return (json_decref(sup), bad(err, "process.user.umask", "only 022 (18), every podrun app's, is supported"));
  _cleanup_free_ char *u = xasprintf("%llu", uid), *g = xasprintf("%llu", gid);
  json_object_set_new(app, "user", json_string(u));
  json_object_set_new(app, "group", json_string(g));
  if (json_array_size(sup))
    json_object_set_new(app, "supplementaryGIDs", sup);
  else
    json_decref(sup);
  return 0;
}

static void add_isolator(json_t *app, const char *name, json_t *value)
{
  json_t *isos = json_object_get(app, "isolators");
  if (!isos)
    json_object_set_new(app, "isolators", isos = json_array());
  json_array_append_new(isos, json_pack("{s:s,s:o}", "name", name, "value", value));
}

static bool cap_ok(const char *s)
{
  return caps_from_name(s) >= 0;
}

/* process.capabilities: the bounding set is what the app may ever have; podrun
 * gives the app those in every set (stage2's retain set). */
static int parse_caps(json_t *caps, json_t *app, podrun_error_t *err)
{
  static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };
  if (!caps)
    return add_isolator(app, "os/linux/capabilities-retain-set", json_pack("{s:[]}", "set")), 0;
  if (!json_is_object(caps))
    return bad(err, "process.capabilities", "not an object");
  for (size_t i = 0; i < ELEMENTSOF(sets); i++)
    {
      _cleanup_free_ char *key = xasprintf("process.capabilities.%s", sets[i]);
      if (string_array(json_object_get(caps, sets[i]), key, cap_ok, err) < 0)
        return -1;
    }
  json_t *bounding = json_object_get(caps, "bounding");
  add_isolator(app, "os/linux/capabilities-retain-set",
               json_pack("{s:o}", "set", json_incref(bounding ?: json_object_get(caps, "effective")) ?: json_array()));
  return 0;
}

/* process.rlimits: [{"type": "RLIMIT_NOFILE", "soft", "hard"}] → podrun.io/rlimits */
static int parse_rlimits(json_t *rl, json_t *app, podrun_error_t *err)
{
  _cleanup_json_ json_t *v = json_object();
  size_t i;
  json_t *e;
  if (!rl)
    return 0;
  if (!json_is_array(rl))
    return bad(err, "process.rlimits", "not an array");
  json_array_foreach (rl, i, e)
    {
      const char *type = json_string_value(json_object_get(e, "type")), *name = type ? startswith(type, "RLIMIT_") : NULL;
      json_t *soft = json_object_get(e, "soft"), *hard = json_object_get(e, "hard");
      if (!name || !json_is_integer(soft) || !json_is_integer(hard))
        return podrun_error_set(err, 0, "config.json: process.rlimits[%zu]: needs a type RLIMIT_… and soft and hard numbers",
                                i);
      _cleanup_free_ char *lower = xstrdup(name);
      for (char *p = lower; *p; p++)
        *p = (char) tolower((unsigned char) *p);
      json_object_set_new(v, lower, json_pack("{s:O,s:O}", "soft", soft, "hard", hard));
    }
  struct rlimit_entry *entries = NULL;
  size_t n = 0;
  if (rlimits_parse(v, &entries, &n, err) < 0)
    return podrun_error_wrap(err, "config.json: process.rlimits");
  free(entries);
  if (n)
    add_isolator(app, RLIMITS_ISOLATOR, json_incref(v));
  return 0;
}

static int parse_process(json_t *p, json_t *app, struct oci_spec *c, podrun_error_t *err)
{
  json_t *args = json_object_get(p, "args"), *env = json_object_get(p, "env"), *t = json_object_get(p, "terminal");
  json_t *nnp = json_object_get(p, "noNewPrivileges"), *oom = json_object_get(p, "oomScoreAdj");
  const char *cwd = json_string_value(json_object_get(p, "cwd"));

  if (!json_is_object(p))
    return bad(err, "process", "missing");
  if (string_array(args, "process.args", NULL, err) < 0 || string_array(env, "process.env", env_ok, err) < 0)
    return -1;
  if (!json_array_size(args))
    return bad(err, "process.args", "missing or empty");
  if (!cwd || !is_absolute(cwd))
    return bad(err, "process.cwd", "missing or not an absolute path");
  if ((t && !json_is_boolean(t)) || (nnp && !json_is_boolean(nnp)))
    return bad(err, t && !json_is_boolean(t) ? "process.terminal" : "process.noNewPrivileges", "not true or false");
  c->terminal = json_is_true(t);
  json_object_set(app, "exec", args);
  json_object_set_new(app, "workingDirectory", json_string(cwd));
  json_object_set_new(app, "environment", environment(env));
  if (parse_user(json_object_get(p, "user"), app, err) < 0 ||
      parse_caps(json_object_get(p, "capabilities"), app, err) < 0 ||
      parse_rlimits(json_object_get(p, "rlimits"), app, err) < 0)
    return -1;
  if (json_is_true(nnp))
    add_isolator(app, "os/linux/no-new-privileges", json_true());
  if (oom)
    {
      if (!json_is_integer(oom) || json_integer_value(oom) < -1000 || json_integer_value(oom) > 1000)
        return bad(err, "process.oomScoreAdj", "not a number from -1000 to 1000");
      add_isolator(app, "os/linux/oom-score-adj", json_incref(oom));
    }
  const char *aa = json_string_value(json_object_get(p, "apparmorProfile"));
  if (aa && *aa)
    warn(c, "process.apparmorProfile %s is not applied: podrun confines apps with its own seccomp filter and "
            "capabilities",
         QUOTE(aa));
  const char *se = json_string_value(json_object_get(p, "selinuxLabel"));
  if (se && *se)
    return podrun_error_set(err, 0, "config.json: process.selinuxLabel %s: SELinux labels are not supported",
                            QUOTE(se));
  return 0;
}

/* ---- mounts ---- */

/* What every stage1 mounts itself in the app's root: the spec's usual
 * /proc, /dev, /sys mounts are those. */
static bool stage1_provides(const char *dest, const char *type)
{
  static const struct
  {
    const char *dest, *type;
  } api[] = {
    { "/proc", "proc" },        { "/dev", "tmpfs" },   { "/dev/pts", "devpts" },          { "/dev/shm", "tmpfs" },
    { "/dev/mqueue", "mqueue" }, { "/sys", "sysfs" }, { "/sys/fs/cgroup", "cgroup" }, { "/sys/fs/cgroup", "cgroup2" },
  };
  for (size_t i = 0; i < ELEMENTSOF(api); i++)
    if (streq(dest, api[i].dest) && type && streq(type, api[i].type))
      return true;
  return false;
}

static bool option_has(json_t *opts, const char *o)
{
  size_t i;
  json_t *e;
  json_array_foreach (opts, i, e)
    if (json_is_string(e) && streq(json_string_value(e), o))
      return true;
  return false;
}

/* The mount options a volume cannot carry, said once per mount. */
static void warn_options(struct oci_spec *c, const char *dest, json_t *opts, bool bind)
{
  static const char *const taken[] = { "bind", "rbind", "ro", "rw" };
  _cleanup_free_ char *list = NULL;
  size_t i;
  json_t *e;
  json_array_foreach (opts, i, e)
    {
      const char *o = json_string_value(e);
      uint64_t set = 0, clear = 0;
      bool ok = !bind || volumes_mount_flag(o, &set, &clear); /* podrun.io/bind-attributes */
      for (size_t k = 0; k < ELEMENTSOF(taken) && !ok; k++)
        ok = streq(o, taken[k]);
      if (!ok)
        {
          char *l = xasprintf("%s%s%s", list ? list : "", list ? "," : "", o);
          free(list);
          list = l;
        }
    }
  if (list)
    warn(c, "mount %s: options %s are not applied", QUOTE(dest), list);
}

static int parse_mount(const char *bundle, size_t i, json_t *m, json_t *volumes, json_t *mounts, struct oci_spec *c,
                       podrun_error_t *err)
{
  const char *dest = json_string_value(json_object_get(m, "destination"));
  const char *type = json_string_value(json_object_get(m, "type"));
  const char *src = json_string_value(json_object_get(m, "source"));
  json_t *opts = json_object_get(m, "options");
  _cleanup_free_ char *key = xasprintf("mounts[%zu]", i), *name = xasprintf("oci-mount-%zu", i);

  if (!json_is_object(m) || !dest)
    return bad(err, key, "no destination");
  if (string_array(opts, key, NULL, err) < 0)
    return -1;
  if (!is_container_path(dest))
    return podrun_error_set(err, 0, "config.json: %s: destination %s: not an absolute path inside the container "
                                    "(no \"..\", ':' or ',')",
                            key, QUOTE(dest));
  if (stage1_provides(dest, type))
    return 0;
  bool bind = (type && streq(type, "bind")) || option_has(opts, "bind") || option_has(opts, "rbind");
  json_t *vol;
  if (bind)
    {
      if (!src || !*src)
        return podrun_error_set(err, 0, "config.json: %s: a bind mount without a source", key);
      _cleanup_free_ char *abs = is_absolute(src) ? xstrdup(src) : xasprintf("%s/%s", bundle, src);
      if (strpbrk(abs, ":,\n"))
        return podrun_error_set(err, 0, "config.json: %s: source %s: a path with ':' or ','", key, QUOTE(abs));
      vol = json_pack("{s:s,s:s,s:s,s:b,s:b}", "name", name, "kind", "host", "source", abs, "readOnly",
                      option_has(opts, "ro"), "recursive", option_has(opts, "rbind"));
      /* nosuid, nodev, noexec, the atime ones: set by stage2 on the bind */
      json_t *attrs = json_array(), *o;
      uint64_t set = 0, clear = 0;
      size_t k;
      json_array_foreach (opts, k, o)
        if (!streq(json_string_value(o), "ro") && !streq(json_string_value(o), "rw") &&
            volumes_mount_flag(json_string_value(o), &set, &clear))
          json_array_append(attrs, o);
      if (set || clear)
        {
          if (!c->bind_attrs)
            c->bind_attrs = json_array();
          json_array_append_new(c->bind_attrs, json_pack("{s:s,s:o,s:b}", "destination", dest, "options", attrs,
                                                         "recursive", option_has(opts, "rbind")));
        }
      else
        json_decref(attrs);
    }
  else if (type && streq(type, "tmpfs"))
    {
      /* a real tmpfs, made by stage2 in the app's root (after the binds) */
      struct volumes_tmpfs t;
      json_t *entry = json_pack("{s:s,s:o}", "destination", dest, "options", opts ? json_incref(opts) : json_array());
      if (streq(dest, "/"))
        return json_decref(entry), podrun_error_set(err, 0, "config.json: %s: a tmpfs at \"/\": not supported", key);
      if (volumes_tmpfs_parse(entry, &t, err) < 0)
        return json_decref(entry), podrun_error_wrap(err, "config.json: %s", key);
      volumes_tmpfs_done(&t);
      if (!c->tmpfs)
        c->tmpfs = json_array();
      json_array_append_new(c->tmpfs, entry);
      return 0;
    }
  else
    return podrun_error_set(err, 0, "config.json: %s: type %s at %s: not supported (bind and tmpfs are)", key,
                            type ? QUOTE(type) : "(none)", QUOTE(dest));
  json_array_append_new(volumes, vol);
  json_array_append_new(mounts, json_pack("{s:s,s:s}", "volume", name, "path", dest));
  warn_options(c, dest, opts, bind);
  return 0;
}

static int parse_mounts(const char *bundle, json_t *ms, json_t *volumes, json_t *app_mounts, struct oci_spec *c,
                        podrun_error_t *err)
{
  size_t i;
  json_t *m;
  if (ms && !json_is_array(ms))
    return bad(err, "mounts", "not an array");
  json_array_foreach (ms, i, m)
    if (parse_mount(bundle, i, m, volumes, app_mounts, c, err) < 0)
      return -1;
  return 0;
}

/* ---- linux ---- */

static int parse_namespaces(json_t *nss, struct oci_spec *c, podrun_error_t *err)
{
  size_t i;
  json_t *n;
  bool mount = false;
  if (nss && !json_is_array(nss))
    return bad(err, "linux.namespaces", "not an array");
  c->net = OCI_NET_HOST;
  json_array_foreach (nss, i, n)
    {
      const char *type = json_string_value(json_object_get(n, "type"));
      const char *path = json_string_value(json_object_get(n, "path"));
      _cleanup_free_ char *key = xasprintf("linux.namespaces[%zu]", i);
      if (!type)
        return bad(err, key, "no type");
      /* A CRI or podman pod's containers name their sandbox's: its process
       * is a stage1's on the host, so those are the host's namespaces, which
       * a pod never joins; the flavor gives the pod its own. IPC and UTS:
       * fly (none of its own) joins them, create says so for the others. */
      if (path && (streq(type, "pid") || streq(type, "cgroup")))
        warn(c, "%s: the %s namespace %s is not joined: the pod has its own", key, type, QUOTE(path));
      else if (path && (streq(type, "ipc") || streq(type, "uts")))
        {
          char **slot = streq(type, "ipc") ? &c->ipc_path : &c->uts_path;
          if (!is_absolute(path))
            return podrun_error_set(err, 0, "config.json: %s: path %s: not absolute", key, QUOTE(path));
          free(*slot);
          *slot = xstrdup(path);
        }
      else if (path && !streq(type, "network"))
        return podrun_error_set(err, 0, "config.json: %s: joining an existing %s namespace is not supported", key,
                                QUOTE(type));
      if (streq(type, "network"))
        {
          c->net = path ? OCI_NET_PATH : OCI_NET_NONE;
          if (path && !is_absolute(path))
            return podrun_error_set(err, 0, "config.json: %s: path %s: not absolute", key, QUOTE(path));
          free(c->netns_path);
          c->netns_path = path ? xstrdup(path) : NULL;
        }
      else if (streq(type, "pid"))
        c->ns_pid = true;
      else if (streq(type, "ipc"))
        c->ns_ipc = true;
      else if (streq(type, "uts"))
        c->ns_uts = true;
      else if (streq(type, "mount"))
        mount = true;
      else if (streq(type, "cgroup"))
        ;
      else if (streq(type, "user") || streq(type, "time"))
        return podrun_error_set(err, 0, "config.json: %s: a %s namespace is not supported (podrun's own user "
                                        "namespaces are podrun run --private-users)",
                                key, type);
      else
        return podrun_error_set(err, 0, "config.json: %s: unknown namespace type %s", key, QUOTE(type));
    }
  if (!mount)
    return bad(err, "linux.namespaces", "no mount namespace: every podrun app has one");
  return 0;
}

static int parse_resources(json_t *r, json_t *app, struct oci_spec *c, podrun_error_t *err)
{
  json_t *mem = json_object_get(r, "memory"), *cpu = json_object_get(r, "cpu");
  json_t *limit = json_object_get(mem, "limit"), *quota = json_object_get(cpu, "quota");
  json_t *period = json_object_get(cpu, "period"), *shares = json_object_get(cpu, "shares");
  const char *key;
  void *tmp;
  json_t *v;

  if (r && !json_is_object(r))
    return bad(err, "linux.resources", "not an object");
  if (limit && json_integer_value(limit) > 0)
    {
      _cleanup_free_ char *s = xasprintf("%lld", (long long) json_integer_value(limit));
      add_isolator(app, "resource/memory", json_pack("{s:s}", "limit", s));
    }
  else if (limit && !(json_is_integer(limit) && json_integer_value(limit) == -1))
    return bad(err, "linux.resources.memory.limit", "not a positive number of bytes (or -1)");
  if (quota && json_integer_value(quota) > 0)
    {
      long long p = period ? json_integer_value(period) : 100000;
      if (p <= 0)
        return bad(err, "linux.resources.cpu.period", "not a positive number");
      long long m = json_integer_value(quota) * 1000 / p;
      _cleanup_free_ char *s = xasprintf("%lldm", m > 0 ? m : 1);
      add_isolator(app, "resource/cpu", json_pack("{s:s}", "limit", s));
    }
  if (shares && json_integer_value(shares) > 0)
    {
      if (json_integer_value(shares) < 2 || json_integer_value(shares) > 262144)
        return bad(err, "linux.resources.cpu.shares", "not a number from 2 to 262144");
      add_isolator(app, "os/linux/cpu-shares", json_incref(shares));
    }
  json_object_foreach_safe (r, tmp, key, v)
    if (!streq(key, "memory") && !streq(key, "cpu") && !streq(key, "devices"))
      warn(c, "linux.resources.%s is not applied (podrun sets memory and cpu)", key);
  json_object_foreach_safe (mem, tmp, key, v)
    if (!streq(key, "limit") && !json_is_null(v))
      warn(c, "linux.resources.memory.%s is not applied (podrun sets the limit)", key);
  json_object_foreach_safe (cpu, tmp, key, v)
    if (!streq(key, "quota") && !streq(key, "period") && !streq(key, "shares") && !json_is_null(v))
      warn(c, "linux.resources.cpu.%s is not applied (podrun sets quota, period and shares)", key);
  return 0;
}

/* linux.seccomp, whole, as the app's podrun.io/seccomp isolator: stage2
 * builds the filter from it (lib/syscalls.c checks it here, before any pod
 * exists, as stage2 will take it). */
static int parse_seccomp(json_t *s, json_t *app, struct oci_spec *c, podrun_error_t *err)
{
  struct syscalls_filter f = { 0 };

  if (!s || json_is_null(s))
    return 0;
  if (syscalls_filter_from_profile(s, &f, err) < 0)
    return podrun_error_wrap(err, "config.json: linux.seccomp");
  if (f.n_unknown)
    warn(c, "linux.seccomp: %zu syscall name%s this libseccomp does not know left out", f.n_unknown,
         f.n_unknown == 1 ? "" : "s");
  syscalls_filter_done(&f);
  add_isolator(app, SYSCALLS_PROFILE_ISOLATOR, json_incref(s));
  return 0;
}

/* linux.maskedPaths, readonlyPaths → podrun.io/masked-paths, which stage2
 * applies in the app's root (besides the stage1's own masks). */
static int parse_masked_paths(json_t *l, json_t *app, podrun_error_t *err)
{
  static const char *const keys[] = { "maskedPaths", "readonlyPaths" };
  static const char *const to[] = { "masked", "readonly" };
  json_t *value = json_object();
  for (size_t k = 0; k < ELEMENTSOF(keys); k++)
    {
      json_t *v = json_object_get(l, keys[k]), *e;
      size_t i;
      if (!v || json_is_null(v))
        continue;
      if (!json_is_array(v))
        return json_decref(value), podrun_error_set(err, 0, "config.json: linux.%s: not an array", keys[k]);
      json_array_foreach (v, i, e)
        {
          const char *path = json_string_value(e);
          if (!path || !is_absolute(path) || has_dotdot(path))
            return json_decref(value),
                   podrun_error_set(err, 0, "config.json: linux.%s[%zu]: not an absolute path inside the container",
                                    keys[k], i);
        }
      if (json_array_size(v))
        json_object_set(value, to[k], v);
    }
  if (json_object_size(value) == 0)
    return json_decref(value), 0;
  add_isolator(app, MASKED_PATHS_ISOLATOR, value);
  return 0;
}

static int parse_linux(json_t *l, json_t *app, struct oci_spec *c, podrun_error_t *err)
{
  if (!json_is_object(l))
    return bad(err, "linux", "missing (a Linux container)");
  if (parse_namespaces(json_object_get(l, "namespaces"), c, err) < 0 ||
      parse_resources(json_object_get(l, "resources"), app, c, err) < 0 ||
      parse_seccomp(json_object_get(l, "seccomp"), app, c, err) < 0)
    return -1;
  static const char *const refused[] = { "uidMappings", "gidMappings", "devices", "sysctl", "intelRdt", "personality" };
  for (size_t i = 0; i < ELEMENTSOF(refused); i++)
    {
      json_t *v = json_object_get(l, refused[i]);
      if (v && !json_is_null(v) && json_object_size(v) + json_array_size(v) > 0)
        return podrun_error_set(err, 0, "config.json: linux.%s: not supported", refused[i]);
    }
  if (parse_masked_paths(l, app, err) < 0)
    return -1;
  if (json_object_get(l, "cgroupsPath"))
    warn(c, "linux.cgroupsPath is not used: the pod's cgroup is podrun's (Documentation/stage1-contract.md)");
  return 0;
}

static int parse_hooks(json_t *hooks, struct oci_spec *c, podrun_error_t *err)
{
  if (hooks && !json_is_object(hooks))
    return bad(err, "hooks", "not an object");
  for (size_t k = 0; k < _OCI_HOOK_MAX; k++)
    {
      json_t *v = json_object_get(hooks, hook_names[k]), *h;
      size_t i;
      if (!v)
        continue;
      if (!json_is_array(v))
        return podrun_error_set(err, 0, "config.json: hooks.%s: not an array", hook_names[k]);
      json_array_foreach (v, i, h)
        {
          const char *path = json_string_value(json_object_get(h, "path"));
          json_t *t = json_object_get(h, "timeout");
          _cleanup_free_ char *key = xasprintf("hooks.%s[%zu]", hook_names[k], i);
          _cleanup_free_ char *akey = xasprintf("%s.args", key), *ekey = xasprintf("%s.env", key);
          if (!path || !is_absolute(path))
            return bad(err, key, "no absolute path");
          if (string_array(json_object_get(h, "args"), akey, NULL, err) < 0 ||
              string_array(json_object_get(h, "env"), ekey, env_ok, err) < 0)
            return -1;
          if (t && (!json_is_integer(t) || json_integer_value(t) <= 0))
            return bad(err, key, "timeout is not a positive number of seconds");
        }
      c->hooks[k] = json_incref(v);
    }
  /* The spec runs them in the container's namespaces: createContainer (a
   * path of the host's) after the pivot_root into the container's root,
   * startContainer (a path of the container's) just before the app's exec.
   * Those namespaces and that root are the stage1's and stage2's, made at
   * start, past the point where podrun-oci could run anything in them;
   * refused rather than run anywhere else. */
  for (size_t k = OCI_HOOK_CREATE_CONTAINER; k <= OCI_HOOK_START_CONTAINER; k++)
    if (json_array_size(c->hooks[k]))
      return podrun_error_set(err, 0,
                              "config.json: hooks.%s: not supported (it would run inside the container, which "
                              "podrun-oci never enters before the app's own isolation; prestart, createRuntime, "
                              "poststart and poststop are)",
                              hook_names[k]);
  return 0;
}

/* The tmpfs mounts go to podrun.io/tmpfs; stage2 makes them after the
 * stage1's binds, so a bind below one (which it would hide) is refused. */
static int check_tmpfs(json_t *mounts, json_t *app, struct oci_spec *c, podrun_error_t *err)
{
  size_t i, k;
  json_t *m, *t;
  json_array_foreach (c->tmpfs, k, t)
    {
      const char *dest = json_string_value(json_object_get(t, "destination"));
      size_t n = strlen(dest);
      while (n > 1 && dest[n - 1] == '/')
        n--;
      json_array_foreach (mounts, i, m)
        {
          const char *path = json_string_value(json_object_get(m, "path"));
          if (strncmp(path, dest, n) == 0 && path[n] == '/')
            return podrun_error_set(err, 0, "config.json: mounts: the bind at %s is below the tmpfs at %s: not "
                                            "supported (tmpfs mounts are made after the binds)",
                                    QUOTE(path), QUOTE(dest));
        }
    }
  if (c->tmpfs)
    add_isolator(app, TMPFS_ISOLATOR, json_incref(c->tmpfs));
  if (c->bind_attrs)
    add_isolator(app, BIND_ATTRS_ISOLATOR, json_incref(c->bind_attrs));
  return 0;
}

static int parse_top(const char *bundle, json_t *j, json_t *app, json_t *volumes, json_t *mounts,
                     struct oci_spec *c, podrun_error_t *err)
{
  const char *version = json_string_value(json_object_get(j, "ociVersion"));
  json_t *host = json_object_get(j, "hostname"), *ann = json_object_get(j, "annotations");

  if (!version || !startswith(version, "1."))
    return bad(err, "ociVersion", "missing or not 1.x");
  if (host && !json_is_string(host))
    return bad(err, "hostname", "not a string");
  if (ann && !json_is_object(ann))
    return bad(err, "annotations", "not an object");
  c->annotations = ann ? json_incref(ann) : json_object();
  if (json_string_length(host))
    c->hostname = xstrdup(json_string_value(host));
  if (parse_root(bundle, json_object_get(j, "root"), c, err) < 0 ||
      parse_process(json_object_get(j, "process"), app, c, err) < 0 ||
      parse_mounts(bundle, json_object_get(j, "mounts"), volumes, mounts, c, err) < 0 ||
      check_tmpfs(mounts, app, c, err) < 0 ||
      parse_linux(json_object_get(j, "linux"), app, c, err) < 0 || parse_hooks(json_object_get(j, "hooks"), c, err) < 0)
    return -1;
  return 0;
}

int oci_spec_parse(const char *bundle, const char *text, size_t len, const char *image_id,
                     struct oci_spec *ret, podrun_error_t *err)
{
  _cleanup_(oci_spec_done) struct oci_spec c = { 0 };
  _cleanup_json_ json_t *j = NULL;
  json_t *app = json_object(), *volumes = json_array(), *mounts = json_array();
  json_error_t je;

  j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j || !json_is_object(j))
    {
      json_decref(app), json_decref(volumes), json_decref(mounts);
      if (!j)
        return podrun_error_set(err, 0, "config.json: line %d, column %d: %s", je.line, je.column, je.text);
      return podrun_error_set(err, 0, "config.json: not a JSON object");
    }
  int r = parse_top(bundle, j, app, volumes, mounts, &c, err);
  json_t *runtime_app = json_pack("{s:s,s:{s:s},s:o,s:b,s:o}", "name", OCI_APP_NAME, "image", "id", image_id, "app",
                                  app, "readOnlyRootFS", c.readonly, "mounts", mounts);
  c.pod_manifest = json_pack("{s:s,s:s,s:[o],s:o}", "acKind", "PodManifest", "acVersion", "0.8.11", "apps", runtime_app,
                             "volumes", volumes);
  if (r < 0)
    return -1;
  /* the app's side that appc asks for */
  json_t *a = json_object_get(runtime_app, "app");
  if (!json_object_get(a, "isolators"))
    json_object_set_new(a, "isolators", json_array());
  _cleanup_free_ char *dump = json_dumps(c.pod_manifest, JSON_COMPACT);
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  if (!dump || appc_pod_manifest_parse(dump, strlen(dump), &m, err) < 0)
    return podrun_error_wrap(err, "config.json: as a pod manifest");
  *ret = c;
  c = (struct oci_spec){ 0 };
  return 0;
}
