/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* oci/config.c: config.json → a one-app pod manifest, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "syscalls.h"
#include "volumes.h"
#include "oci/config.h"

#define ID "sha512-" \
  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static char bundle[64];

static int setup(void **state)
{
  snprintf(bundle, sizeof(bundle), "/tmp/podrun-test-oci-XXXXXX");
  assert_non_null(mkdtemp(bundle));
  char *root = xasprintf("%s/rootfs", bundle), *outside = xasprintf("%s-outside", bundle);
  char *link = xasprintf("%s/link", bundle);
  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(mkdir(outside, 0755), 0);
  assert_int_equal(symlink(outside, link), 0);
  free(root), free(outside), free(link);
  return 0;
}

static int teardown(void **state)
{
  podrun_error_t err = NULL;
  char *outside = xasprintf("%s-outside", bundle);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, bundle, &err), 0);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, outside, &err), 0);
  free(outside);
  return 0;
}

/* A config as ctr makes it, with `extra` spliced in at the top level. */
static char *config(const char *root, const char *extra)
{
  return xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s\",\"readonly\":true},"
                   "\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"env\":[\"PATH=/bin\",\"A=b=c\"],"
                   "\"cwd\":\"/\",\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[10,11]},"
                   "\"noNewPrivileges\":true,\"oomScoreAdj\":5,"
                   "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096}],"
                   "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_CHOWN\"]}},"
                   "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                   "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\",\"ro\"]}],"
                   "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"network\"}],"
                   "\"resources\":{\"memory\":{\"limit\":67108864},\"cpu\":{\"quota\":50000,\"period\":100000},"
                   "\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}}%s%s}",
                   root, extra ? "," : "", extra ? extra : "");
}

static int parse(const char *text, struct oci_spec *c, podrun_error_t *err)
{
  return oci_spec_parse(bundle, text, strlen(text), ID, c, err);
}

static json_t *isolator(json_t *app, const char *name)
{
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(app, "isolators"), i, e)
    if (streq(json_string_value(json_object_get(e, "name")), name))
      return json_object_get(e, "value");
  return NULL;
}

static void test_mapping(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  char *text = config("rootfs", "\"hostname\":\"box\",\"annotations\":{\"podrun.io/stage1\":\"fly\"}");
  assert_int_equal(parse(text, &c, &err), 0);
  char *root = xasprintf("%s/rootfs", bundle);
  assert_string_equal(c.rootfs, root);
  assert_true(c.readonly);
  assert_string_equal(c.hostname, "box");
  assert_int_equal(c.net, OCI_NET_NONE);
  assert_true(c.ns_pid);
  assert_string_equal(oci_spec_annotation(&c, "podrun.io/stage1"), "fly");
  json_t *ra = json_array_get(json_object_get(c.pod_manifest, "apps"), 0), *app = json_object_get(ra, "app");
  assert_string_equal(json_string_value(json_object_get(ra, "name")), OCI_APP_NAME);
  assert_true(json_is_true(json_object_get(ra, "readOnlyRootFS")));
  assert_string_equal(json_string_value(json_object_get(app, "user")), "1000");
  assert_string_equal(json_string_value(json_object_get(app, "group")), "100");
  assert_int_equal(json_array_size(json_object_get(app, "supplementaryGIDs")), 2);
  assert_string_equal(json_string_value(json_array_get(json_object_get(app, "exec"), 2)), "echo hi");
  json_t *env1 = json_array_get(json_object_get(app, "environment"), 1);
  assert_string_equal(json_string_value(json_object_get(env1, "value")), "b=c");
  json_t *caps = isolator(app, "os/linux/capabilities-retain-set");
  assert_int_equal(json_array_size(json_object_get(caps, "set")), 2); /* the bounding set */
  assert_true(json_is_true(isolator(app, "os/linux/no-new-privileges")));
  assert_int_equal(json_integer_value(isolator(app, "os/linux/oom-score-adj")), 5);
  assert_string_equal(json_string_value(json_object_get(isolator(app, "resource/memory"), "limit")), "67108864");
  assert_string_equal(json_string_value(json_object_get(isolator(app, "resource/cpu"), "limit")), "500m");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(isolator(app, "podrun.io/rlimits"), "nofile"),
                                                      "hard")),
                   4096);
  /* /proc is the stage1's; the bind mount a host volume */
  json_t *vols = json_object_get(c.pod_manifest, "volumes"), *v = json_array_get(vols, 0);
  assert_int_equal(json_array_size(vols), 1);
  assert_string_equal(json_string_value(json_object_get(v, "source")), "/tmp");
  assert_true(json_is_true(json_object_get(v, "readOnly")));
  assert_true(json_is_true(json_object_get(v, "recursive")));
  json_t *m = json_array_get(json_object_get(ra, "mounts"), 0);
  assert_string_equal(json_string_value(json_object_get(m, "path")), "/data");
  oci_spec_done(&c);
  free(text), free(root);
}

static void test_netns_path(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  char *text = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],"
                         "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"},"
                         "{\"type\":\"network\",\"path\":\"/var/run/netns/cni-1\"},{\"type\":\"ipc\",\"path\":\"/proc/9/ns/ipc\"},{\"type\":\"pid\",\"path\":\"/proc/9/ns/pid\"}]}}");
  assert_int_equal(parse(text, &c, &err), 0);
  assert_int_equal(c.net, OCI_NET_PATH);
  assert_string_equal(c.netns_path, "/var/run/netns/cni-1");
  /* a sandbox's IPC namespace: its path kept (fly joins it, create warns
   * for the others); a pid namespace's is not joined, and that is said */
  assert_true(c.ns_ipc);
  assert_string_equal(c.ipc_path, "/proc/9/ns/ipc");
  assert_null(c.uts_path);
  assert_non_null(c.warnings);
  assert_non_null(strstr(c.warnings[0], "\"/proc/9/ns/pid\" is not joined"));
  /* no capabilities given: none */
  json_t *app = json_object_get(json_array_get(json_object_get(c.pod_manifest, "apps"), 0), "app");
  assert_int_equal(json_array_size(json_object_get(isolator(app, "os/linux/capabilities-retain-set"), "set")), 0);
  oci_spec_done(&c);
  free(text);
}

static void refused(const char *text, const char *words)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  assert_int_equal(parse(text, &c, &err), -1);
  assert_non_null(err);
  if (!strstr(err->msg, words))
    fail_msg("%s: not in %s", words, err->msg);
  assert_null(strchr(err->msg, '\n'));
  podrun_error_free(&err);
}

/* prestart and createRuntime are taken (create runs them), each hook as
 * given: path, args, env, timeout */
static void test_hooks(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  char *text = config("rootfs", "\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/a\",\"args\":[\"a\",\"1\"],"
                                "\"env\":[\"X=y\"],\"timeout\":3}],\"prestart\":[{\"path\":\"/bin/b\"},"
                                "{\"path\":\"/bin/c\"}],\"poststop\":[{\"path\":\"/bin/d\"}],"
                                "\"createContainer\":[]}");
  assert_int_equal(parse(text, &c, &err), 0);
  json_t *cr = json_array_get(c.hooks[OCI_HOOK_CREATE_RUNTIME], 0);
  assert_string_equal(json_string_value(json_object_get(cr, "path")), "/bin/a");
  assert_string_equal(json_string_value(json_array_get(json_object_get(cr, "args"), 1)), "1");
  assert_string_equal(json_string_value(json_array_get(json_object_get(cr, "env"), 0)), "X=y");
  assert_int_equal(json_integer_value(json_object_get(cr, "timeout")), 3);
  assert_int_equal(json_array_size(c.hooks[OCI_HOOK_PRESTART]), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(c.hooks[OCI_HOOK_PRESTART], 1), "path")),
                      "/bin/c");
  assert_int_equal(json_array_size(c.hooks[OCI_HOOK_POSTSTOP]), 1);
  assert_null(c.hooks[OCI_HOOK_POSTSTART]);
  assert_int_equal(json_array_size(c.hooks[OCI_HOOK_CREATE_CONTAINER]), 0); /* empty: nothing to refuse */
  assert_string_equal(oci_hook_kind_name(OCI_HOOK_CREATE_RUNTIME), "createRuntime");
  oci_spec_done(&c);
  free(text);
}

static void test_refusals(void **state)
{
  char *t;
  refused("{\"ociVersion\": ", "line 1");
  refused("[]", "not a JSON object");
  refused(t = config("nothere", NULL), "root.path \"nothere\""), free(t);
  refused(t = config("../x", NULL), "escapes the bundle"), free(t);
  refused(t = config("link", NULL), "escapes the bundle"), free(t);
  refused(t = config("rootfs", "\"hooks\":{\"createContainer\":[{\"path\":\"/bin/true\"}]}"), "createContainer"),
      free(t);
  refused(t = config("rootfs", "\"hooks\":{\"poststart\":[{\"path\":\"true\"}]}"), "no absolute path"), free(t);
  refused(t = config("rootfs", "\"hooks\":{\"startContainer\":[{\"path\":\"/bin/true\"}]}"),
          "hooks.startContainer: not supported"),
      free(t);
  refused(t = config("rootfs", "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"timeout\":0}]}"),
          "hooks.prestart[0]: timeout is not a positive number"),
      free(t);
  refused(t = config("rootfs", "\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/true\",\"env\":[\"NOEQUALS\"]}]}"),
          "hooks.createRuntime[0].env"),
      free(t);
  refused(t = config("rootfs", "\"ociVersion\":\"1.0.2\""), "line"), free(t); /* a duplicate key */
  /* a namespace of an unknown type, a user namespace */
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"bogus\"}]}}",
          "unknown namespace type \"bogus\"");
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"user\"}]}}",
          "user namespace is not supported");
  /* a mount out of the container, an unknown mount type */
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/a/../../etc\",\"type\":\"bind\","
          "\"source\":\"/tmp\"}],\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "not an absolute path inside the container");
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/n\",\"type\":\"nfs\"}],"
          "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "type \"nfs\"");
  /* seccomp: what the filter cannot say, each one line naming it */
  static const struct
  {
    const char *seccomp, *msg;
  } bad_seccomp[] = {
    { "{\"defaultAction\":\"SCMP_ACT_TRACE\"}", "defaultAction \"SCMP_ACT_TRACE\": not supported" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
      "syscalls[0].action \"SCMP_ACT_NOTIFY\"" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
      "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
      "syscalls[0].args[0].index" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
      "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}",
      "op \"SCMP_CMP_ABOUT\": not an operator" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\","
      "\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
      "value: not a number" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ALLOW\","
      "\"errnoRet\":1}]}",
      "errnoRet: only for SCMP_ACT_ERRNO" },
    { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}", "defaultErrnoRet: not an errno" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
      "flags: \"SECCOMP_FILTER_FLAG_NEW_LISTENER\" is not supported" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}", "\"SCMP_ARCH_Z80\"" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\"}", "\"listenerPath\": not supported" },
    { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
      "syscalls[0].names" },
  };
  for (size_t i = 0; i < sizeof(bad_seccomp) / sizeof(bad_seccomp[0]); i++)
    {
      t = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],"
                    "\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
                    "\"seccomp\":%s}}",
                    bad_seccomp[i].seccomp);
      refused(t, bad_seccomp[i].msg);
      free(t);
    }
  /* an unknown capability */
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0},\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}},"
          "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "CAP_NOPE");
}

/* linux.seccomp goes whole to the app's podrun.io/seccomp isolator (stage2
 * builds the filter from it: tests/unit/test-stage2.c), argument conditions,
 * errnoRet and architectures included; a name libseccomp does not know is
 * left out with a warning. */
static void test_seccomp(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  const char *text =
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
      "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"seccomp\":{"
      "\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architectures\":[\"SCMP_ARCH_X86_64\","
      "\"SCMP_ARCH_X86\"],\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"syscalls\":["
      "{\"names\":[\"read\",\"no_such_call_ever\"],\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":4294967295,"
      "\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":2114060288,"
      "\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
      "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}}}";
  assert_int_equal(parse(text, &c, &err), 0);
  json_t *app = json_object_get(json_array_get(json_object_get(c.pod_manifest, "apps"), 0), "app");
  json_t *v = isolator(app, "podrun.io/seccomp");
  assert_non_null(v);
  assert_int_equal(json_array_size(json_object_get(v, "syscalls")), 4);
  assert_null(isolator(app, "os/linux/seccomp-retain-set"));
  bool warned = false;
  for (size_t i = 0; c.warnings && c.warnings[i]; i++)
    warned |= strstr(c.warnings[i], "1 syscall name this libseccomp does not know") != NULL;
  assert_true(warned);

  struct syscalls_filter f = { 0 };
  assert_int_equal(syscalls_filter_from_isolator("podrun.io/seccomp", v, &f, &err), 0);
  assert_true(f.profile);
  assert_int_equal(f.default_action, SYSCALLS_ACT_ERRNO);
  assert_int_equal(f.default_errnum, 38);
  assert_true(f.spec_allow);
  assert_string_equal(f.architectures[0], "x86_64");
  assert_string_equal(f.architectures[1], "x86");
  assert_int_equal(f.n_rules, 4);
  assert_string_equal(f.rules[0].names[0], "read");
  assert_null(f.rules[0].names[1]);
  assert_int_equal(f.rules[1].n_args, 1);
  assert_int_equal(f.rules[1].args[0].op, SYSCALLS_CMP_EQ);
  assert_true(f.rules[1].args[0].value == 4294967295ULL);
  assert_int_equal(f.rules[2].args[0].op, SYSCALLS_CMP_MASKED_EQ);
  assert_int_equal(f.rules[3].action, SYSCALLS_ACT_ERRNO);
  assert_int_equal(f.rules[3].errnum, 13);
  syscalls_filter_done(&f);
  oci_spec_done(&c);
}

/* linux.maskedPaths and readonlyPaths → podrun.io/masked-paths; a relative
 * path or one with ".." is refused. */
static void test_masked_paths(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  const char *text =
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
      "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
      "\"maskedPaths\":[\"/proc/kcore\",\"/sys/firmware\"],\"readonlyPaths\":[\"/proc/sys\"]}}";
  assert_int_equal(parse(text, &c, &err), 0);
  json_t *app = json_object_get(json_array_get(json_object_get(c.pod_manifest, "apps"), 0), "app");
  json_t *v = isolator(app, "podrun.io/masked-paths");
  assert_non_null(v);
  assert_int_equal(json_array_size(json_object_get(v, "masked")), 2);
  assert_string_equal(json_string_value(json_array_get(json_object_get(v, "readonly"), 0)), "/proc/sys");
  oci_spec_done(&c);
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
          "\"maskedPaths\":[\"proc/kcore\"]}}",
          "linux.maskedPaths[0]: not an absolute path");
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
          "\"readonlyPaths\":[\"/a/../../etc\"]}}",
          "linux.readonlyPaths[0]: not an absolute path");
}

/* tmpfs mounts → podrun.io/tmpfs with their options; an option podrun does
 * not apply, a tmpfs at /, a bind below a tmpfs: refused. */
/* a bind's nosuid, nodev, noexec → podrun.io/bind-attributes (ro stays the volume's) */
static void test_bind_attributes(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  const char *text =
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
      "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/tmp\","
      "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"noexec\",\"rprivate\"]},{\"destination\":\"/p\",\"type\":\"bind\","
      "\"source\":\"/tmp\",\"options\":[\"bind\",\"rprivate\"]}],\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}";
  assert_int_equal(parse(text, &c, &err), 0);
  json_t *app = json_object_get(json_array_get(json_object_get(c.pod_manifest, "apps"), 0), "app");
  json_t *v = isolator(app, "podrun.io/bind-attributes");
  assert_non_null(v);
  assert_int_equal(json_array_size(v), 1); /* /p has none */
  assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "destination")), "/b");
  assert_true(json_is_true(json_object_get(json_array_get(v, 0), "recursive")));
  assert_int_equal(json_array_size(json_object_get(json_array_get(v, 0), "options")), 3);
  oci_spec_done(&c);
}

static void test_tmpfs(void **state)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;
  const char *text =
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
      "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"size=64m\",\"mode=1777\",\"nosuid\",\"ro\"]}],"
      "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}";
  assert_int_equal(parse(text, &c, &err), 0);
  json_t *app = json_object_get(json_array_get(json_object_get(c.pod_manifest, "apps"), 0), "app");
  json_t *v = isolator(app, "podrun.io/tmpfs");
  assert_non_null(v);
  assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "destination")), "/t");
  struct volumes_tmpfs tm;
  assert_int_equal(volumes_tmpfs_parse(json_array_get(v, 0), &tm, &err), 0);
  assert_string_equal(tm.params[0], "size=64m");
  assert_string_equal(tm.params[1], "mode=1777");
  assert_true(tm.attrs & MOUNT_ATTR_NOSUID);
  assert_true(tm.attrs & MOUNT_ATTR_RDONLY);
  volumes_tmpfs_done(&tm);
  assert_int_equal(json_array_size(json_object_get(c.pod_manifest, "volumes")), 0);
  oci_spec_done(&c);
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/t\",\"type\":\"tmpfs\","
          "\"options\":[\"size=1m,uid=0\"]}],\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "option \"size=1m,uid=0\": not one podrun applies");
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/\",\"type\":\"tmpfs\"}],"
          "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "a tmpfs at \"/\"");
  refused("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"],\"cwd\":\"/\","
          "\"user\":{\"uid\":0,\"gid\":0}},\"mounts\":[{\"destination\":\"/t\",\"type\":\"tmpfs\"},"
          "{\"destination\":\"/t/d\",\"type\":\"bind\",\"source\":\"/tmp\"}],"
          "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}",
          "below the tmpfs at \"/t\"");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_mapping, setup, teardown),
    cmocka_unit_test_setup_teardown(test_netns_path, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    cmocka_unit_test_setup_teardown(test_seccomp, setup, teardown),
    cmocka_unit_test_setup_teardown(test_masked_paths, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tmpfs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bind_attributes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
