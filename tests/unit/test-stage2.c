/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage2: what an app's isolators turn into, its environment, capability
 * sets, user/group lookup inside a chroot, and a seccomp filter really
 * applied (in a child). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "fs.h"
#include "stage2/app-config.h"
#include "stage2/identity.h"
#include "stage2/isolate.h"
#include "stage2/stage2-internal.h"

#define CAP(c) (1ULL << (c))

/* The image manifest with this app JSON. */
static struct appc_image_manifest *image_with_app(const char *app_json)
{
  _cleanup_free_ char *json = xasprintf("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\","
                                        "\"name\":\"example.com/t\",\"app\":%s}",
                                        app_json);
  struct appc_image_manifest *m = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  if (appc_image_manifest_parse(json, strlen(json), &m, &err) < 0)
    fail_msg("manifest: %s", err->msg);
  return m;
}

static int config_of(const char *isolators, bool keep_caps, struct app_config *c, podrun_error_t *err)
{
  _cleanup_free_ char *app = xasprintf("{\"exec\":[\"/bin/sh\"],\"user\":\"0\",\"group\":\"0\",\"isolators\":%s}",
                                       isolators);
  _cleanup_image_manifest_ struct appc_image_manifest *m = image_with_app(app);
  return app_config_from_isolators(m->app, keep_caps, c, err);
}

static void test_isolators(void **state)
{
  struct app_config c;
  _cleanup_error_ podrun_error_t err = NULL;
  (void) state;

  /* no isolator: appc's default set, or everything for fly */
  assert_int_equal(config_of("[]", false, &c, &err), 0);
  assert_true(c.caps & CAP(CAP_CHOWN));
  assert_true(c.caps & CAP(CAP_NET_BIND_SERVICE));
  assert_false(c.caps & CAP(CAP_SYS_ADMIN));
  assert_false(c.no_new_privs);
  assert_false(c.seccomp);
  app_config_done(&c);
  assert_int_equal(config_of("[]", true, &c, &err), 0);
  assert_true(c.caps & CAP(CAP_SYS_ADMIN));
  assert_true(c.caps & CAP(CAP_LAST_CAP));
  app_config_done(&c);

  /* retain, then remove; a cap isolator wins over fly's default */
  assert_int_equal(config_of("[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":"
                             "[\"CAP_NET_ADMIN\",\"CAP_CHOWN\"]}},"
                             "{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}},"
                             "{\"name\":\"os/linux/no-new-privileges\",\"value\":true},"
                             "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"uname\"],\"errno\":"
                             "\"EPERM\"}},"
                             "{\"name\":\"podrun.io/rlimits\",\"value\":{\"nofile\":{\"soft\":64,\"hard\":128}}}]",
                             true, &c, &err),
                   0);
  assert_int_equal(c.caps, CAP(CAP_NET_ADMIN));
  assert_true(c.no_new_privs);
  assert_true(c.seccomp);
  assert_int_equal(c.seccomp_mode, ISOLATE_SECCOMP_REMOVE);
  assert_int_equal(c.seccomp_errno, EPERM);
  assert_string_equal(c.seccomp_syscalls[0], "uname");
  assert_null(c.seccomp_syscalls[1]);
  assert_int_equal(c.n_rlimits, 1);
  assert_int_equal(c.rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(c.rlimits[0].limit.rlim_cur, 64);
  assert_int_equal(c.rlimits[0].limit.rlim_max, 128);
  app_config_done(&c);
}

static void test_isolator_errors(void **state)
{
  static const struct { const char *isolators, *why; } bad[] = {
    { "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_FLY\"]}}]", "CAP_FLY" },
    { "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":\"CAP_CHOWN\"}}]", "must be an array" },
    { "[{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[1]}}]", "must be an array of strings" },
    { "[{\"name\":\"os/linux/no-new-privileges\",\"value\":\"yes\"}]", "true or false" },
    { "[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"],\"errno\":\"EWHAT\"}}]",
      "must name an errno" },
    { "[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"]}},"
      "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"uname\"]}}]",
      "only one seccomp isolator" },
    { "[{\"name\":\"podrun.io/rlimits\",\"value\":{\"nofile\":{\"soft\":10,\"hard\":5}}}]", "nofile" },
    { "[{\"name\":\"podrun.io/rlimits\",\"value\":{\"nosuch\":{\"soft\":1,\"hard\":1}}}]", "nosuch" },
  };
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      struct app_config c;
      _cleanup_error_ podrun_error_t err = NULL;
      if (config_of(bad[i].isolators, false, &c, &err) == 0)
        fail_msg("accepted: %s", bad[i].isolators);
      if (!strstr(err->msg, bad[i].why))
        fail_msg("%s: \"%s\" (expected \"%s\")", bad[i].isolators, err->msg, bad[i].why);
    }
}

/* The plan stage2 (and enter) makes for an app of this pod manifest file. */
static int plan_of(const char *isolators, struct stage2_args a, struct stage2_plan *p, podrun_error_t *err)
{
  char path[] = "/tmp/podrun-test-stage2-XXXXXX";
  _cleanup_close_ int fd = mkstemp(path);
  _cleanup_free_ char *pm = xasprintf("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[{\"name\":\"web\","
                                      "\"image\":{\"id\":\"sha512-0123\"},\"app\":{\"exec\":[\"/bin/sh\"],"
                                      "\"user\":\"0\",\"group\":\"0\",\"isolators\":%s}}]}",
                                      isolators);
  assert_true(fd >= 0);
  assert_int_equal(fs_write_all(fd, pm, strlen(pm), err), 0);
  a.pod_manifest = path;
  a.app = "web";
  a.root = "/";
  int r = stage2_plan_make(&a, p, err);
  unlink(path);
  return r;
}

/* --insecure-options=capabilities and seccomp (stage2's flags, enter's too):
 * every capability and no filter, whatever the app's isolators ask. */
static void test_insecure_options(void **state)
{
  static const char isolators[] =
    "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}},"
    "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"uname\"]}},"
    "{\"name\":\"os/linux/no-new-privileges\",\"value\":true}]";
  _cleanup_error_ podrun_error_t err = NULL;
  struct stage2_plan p;
  (void) state;

  assert_int_equal(plan_of(isolators, (struct stage2_args){ .host_network = true }, &p, &err), 0);
  assert_int_equal(p.config.caps, CAP(CAP_CHOWN));
  assert_true(p.config.seccomp);
  stage2_plan_done(&p);
  assert_int_equal(plan_of(isolators, (struct stage2_args){ .disable_caps = true, .disable_seccomp = true,
                                                           .host_network = true },
                           &p, &err),
                   0);
  assert_int_equal(p.config.caps, caps_all()); /* CAP_NET_RAW too, on the host's network */
  assert_false(p.config.seccomp);
  assert_true(p.config.no_new_privs); /* the app's own isolator still holds */
  stage2_plan_done(&p);
  /* nspawn's default filter is not given either */
  assert_int_equal(plan_of("[]", (struct stage2_args){ .default_seccomp = true }, &p, &err), 0);
  assert_true(p.config.seccomp);
  stage2_plan_done(&p);
  assert_int_equal(plan_of("[]", (struct stage2_args){ .default_seccomp = true, .disable_seccomp = true }, &p, &err),
                   0);
  assert_false(p.config.seccomp);
  stage2_plan_done(&p);
}

static void test_environment(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = NULL, *m2 = NULL;
  _cleanup_strv_ char **env = NULL, **env2 = NULL;
  (void) state;

  setenv("PODRUN_TEST_LEAK", "1", 1);
  m = image_with_app("{\"exec\":[\"/bin/sh\"],\"user\":\"0\",\"group\":\"0\",\"environment\":"
                     "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"x=y\"}]}");
  env = app_config_environment(m->app, "web");
  assert_true(strv_contains(env, "A=1"));
  assert_true(strv_contains(env, "B=x=y"));
  assert_true(strv_contains(env, "AC_APP_NAME=web"));
  assert_true(strv_contains(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  for (char **e = env; *e; e++)
    assert_false(startswith(*e, "PODRUN_TEST_LEAK="));

  /* the app's own PATH is kept */
  m2 = image_with_app("{\"exec\":[\"/bin/sh\"],\"user\":\"0\",\"group\":\"0\",\"environment\":"
                      "[{\"name\":\"PATH\",\"value\":\"/opt/bin\"}]}");
  env2 = app_config_environment(m2->app, "web");
  assert_true(strv_contains(env2, "PATH=/opt/bin"));
  assert_int_equal(strv_length(env2), 2);
}

/* Runs fn in a child and returns its exit status. */
static int in_child(int (*fn)(void *), void *arg)
{
  int status;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(fn(arg));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_at(const char *root, const char *path, const char *text)
{
  _cleanup_free_ char *p = xasprintf("%s/%s", root, path);
  _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
}

/* In the chroot: the image's names, numbers, file owners; unknown names fail. */
static int identity_child(void *root)
{
  uid_t u;
  gid_t g;
  podrun_error_t err = NULL;
  if (chroot(root) < 0 || chdir("/") < 0)
    return 10;
  if (identity_resolve_user("web", &u, &err) < 0 || u != 4242)
    return 11;
  if (identity_resolve_group("staff", &g, &err) < 0 || g != 5151)
    return 12;
  if (identity_resolve_user("77", &u, &err) < 0 || u != 77)
    return 13;
  if (identity_resolve_group("/owned", &g, &err) < 0 || g != 31)
    return 14;
  if (identity_resolve_user("/owned", &u, &err) < 0 || u != 30)
    return 15;
  if (identity_resolve_user("root", &u, &err) == 0) /* the host's root is not in this image */
    return 16;
  if (!strstr(err->msg, "root"))
    return 17;
  podrun_error_free(&err);
  if (identity_resolve_group("nogroup", &g, &err) == 0)
    return 18;
  podrun_error_free(&err);
  return 0;
}

static void test_identity_in_chroot(void **state)
{
  char root[] = "/tmp/podrun-test-stage2-XXXXXX";
  _cleanup_error_ podrun_error_t err = NULL;
  (void) state;
  if (geteuid() != 0)
    skip();
  assert_non_null(mkdtemp(root));
  _cleanup_free_ char *etc = xasprintf("%s/etc", root), *owned = xasprintf("%s/owned", root);
  assert_int_equal(mkdir(etc, 0755), 0);
  write_at(root, "etc/passwd", "web:x:4242:4242::/home/web:/bin/sh\n");
  write_at(root, "etc/group", "staff:x:5151:web\n");
  write_at(root, "owned", "");
  assert_int_equal(chown(owned, 30, 31), 0);
  int rc = in_child(identity_child, root);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, &err), 0);
  assert_int_equal(rc, 0);
}

/* After isolate_pivot_root, the classic double-chroot escape (what
 * CAP_SYS_CHROOT allows) and ".." walks lead back to the new root, never to
 * the old one; and what the old root had mounted is gone. */
static int pivot_child(void *root)
{
  podrun_error_t err = NULL;
  struct stat st;
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("tmpfs", root, "tmpfs", 0, "size=1m") < 0)
    return 10;
  _cleanup_free_ char *marker = xasprintf("%s/only-in-root", (char *) root);
  _cleanup_close_ int m = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (m < 0 || isolate_pivot_root(root, &err) < 0)
    return 11;
  if (stat("/only-in-root", &st) < 0 || stat("/tmp", &st) == 0 || stat("/etc/passwd", &st) == 0)
    return 12;
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || mkdir("/x", 0700) < 0 || chroot("/x") < 0 || fchdir(fd) < 0)
    return 13;
  for (int i = 0; i < 64; i++)
    if (chdir("..") < 0)
      return 14;
  if (chroot(".") < 0 || stat("/only-in-root", &st) < 0 || stat("/etc/passwd", &st) == 0)
    return 15; /* escaped */
  FILE *f = fopen("/proc/self/mountinfo", "re");
  return f ? 16 : 0; /* no /proc here: the old root's mounts went with it */
}

static void test_pivot_root(void **state)
{
  char root[] = "/tmp/podrun-test-pivot-XXXXXX";
  (void) state;
  if (geteuid() != 0)
    skip();
  assert_non_null(mkdtemp(root));
  int rc = in_child(pivot_child, root);
  assert_int_equal(rmdir(root), 0);
  assert_int_equal(rc, 0);
}

static int seccomp_remove_child(void *arg)
{
  struct utsname u;
  char *sys[] = { "uname", NULL };
  podrun_error_t err = NULL;
  (void) arg;
  if (isolate_no_new_privs(&err) < 0 || isolate_seccomp(ISOLATE_SECCOMP_REMOVE, sys, EPERM, &err) < 0)
    return 10;
  if (uname(&u) == 0 || errno != EPERM)
    return 11;
  return getpid() > 0 ? 0 : 12; /* everything else still works */
}

static int seccomp_unknown_child(void *arg)
{
  char *sys[] = { "no_such_syscall", NULL };
  podrun_error_t err = NULL;
  (void) arg;
  if (isolate_no_new_privs(&err) < 0)
    return 10;
  if (isolate_seccomp(ISOLATE_SECCOMP_REMOVE, sys, EPERM, &err) == 0)
    return 11;
  return strstr(err->msg, "no_such_syscall") ? 0 : 12;
}

/* A retain set that does not list rseq (which glibc registers as a program
 * starts): rseq fails with ENOSYS, the rest not listed as asked. */
static int seccomp_retain_child(void *arg)
{
  /* and what a sanitizer's runtime calls around a syscall (make SANITIZE=1) */
  char *sys[] = { "exit_group", "exit", "getpid", "write", "gettid", "sigaltstack", "mmap", "munmap", NULL };
  podrun_error_t err = NULL;
  (void) arg;
  if (isolate_no_new_privs(&err) < 0 || isolate_seccomp(ISOLATE_SECCOMP_RETAIN, sys, EACCES, &err) < 0)
    return 10;
  /* raw syscalls: no interceptor of a sanitizer's in the way */
  if (syscall(SYS_rseq, NULL, 0, 0, 0) == 0 || errno != ENOSYS)
    return 11;
  if (syscall(SYS_getppid) >= 0 || errno != EACCES)
    return 12;
  return getpid() > 0 ? 0 : 13;
}

/* A profile with argument conditions (podrun.io/seccomp, as podrun-oci
 * writes it): conditions on one rule are ANDed, rules ORed, errnoRet and
 * the default's errno apply, a rule testing one argument twice is each
 * condition on its own. */
static int seccomp_profile_child(void *arg)
{
  const char *profile =
      "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
      "\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
      "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":4242,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2,"
      "\"args\":[{\"index\":1,\"value\":4343,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"setpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":7,"
      "\"args\":[{\"index\":1,\"value\":255,\"valueTwo\":17,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
      "{\"names\":[\"setsid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":9,"
      "\"args\":[{\"index\":0,\"value\":5,\"op\":\"SCMP_CMP_LT\"},{\"index\":0,\"value\":1000,\"op\":\"SCMP_CMP_GT\"}]},"
      "{\"names\":[\"uname\",\"no_such_call_ever\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
  struct syscalls_filter f;
  podrun_error_t err = NULL;
  json_t *j = json_loads(profile, 0, NULL);
  (void) arg;
  if (!j || syscalls_filter_from_profile(j, &f, &err) < 0 || f.n_unknown != 1)
    return 9;
  if (isolate_no_new_privs(&err) < 0 || isolate_seccomp_filter(&f, &err) < 0)
    return 10;
  /* raw syscalls: no C library (or sanitizer) in the way */
  if (syscall(SYS_personality, 8) != -1 || errno != EACCES)
    return 11;
  if (syscall(SYS_personality, 0xffffffffUL) < 0) /* a query: allowed */
    return 12;
  if (syscall(SYS_getpriority, 0, 4242) != -1 || errno != EPERM) /* both conditions */
    return 13;
  if (syscall(SYS_getpriority, 0, 0) < 0) /* only the first */
    return 14;
  if (syscall(SYS_getpriority, 1, 4242) == -1 && errno == EPERM) /* only the second */
    return 15;
  if (syscall(SYS_getpriority, 1, 4343) != -1 || errno != ENOENT) /* the other rule: OR */
    return 16;
  if (syscall(SYS_setpgid, 0, 0x111) != -1 || errno != E2BIG) /* (0x111 & 0xff) == 17 */
    return 17;
  if (syscall(SYS_setpgid, 0, 0x112) == -1 && errno == E2BIG)
    return 18;
  /* the same argument twice: each alone (4 < 5) */
  if (syscall(SYS_setsid, 4) != -1 || errno != EBADF)
    return 19;
  struct utsname u;
  if (uname(&u) == 0 || errno != EPERM) /* errnoRet not given: EPERM */
    return 20;
  syscalls_filter_done(&f);
  json_decref(j);
  return 0;
}

/* A profile whose default denies with defaultErrnoRet */
static int seccomp_profile_default_child(void *arg)
{
  const char *profile = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":["
                        "{\"names\":[\"exit_group\",\"exit\",\"getpid\",\"write\",\"gettid\",\"sigaltstack\","
                        "\"mmap\",\"munmap\",\"rt_sigreturn\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                        "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}";
  struct syscalls_filter f;
  podrun_error_t err = NULL;
  json_t *j = json_loads(profile, 0, NULL);
  (void) arg;
  if (!j || syscalls_filter_from_profile(j, &f, &err) < 0)
    return 9;
  if (isolate_no_new_privs(&err) < 0 || isolate_seccomp_filter(&f, &err) < 0)
    return 10;
  if (syscall(SYS_getuid) != -1 || errno != ENOSYS)
    return 11;
  if (syscall(SYS_getpid) <= 0)
    return 12;
  syscall(SYS_getppid); /* killed */
  return 13;
}

static void test_seccomp(void **state)
{
  (void) state;
  assert_int_equal(in_child(seccomp_profile_child, NULL), 0);
  assert_int_equal(in_child(seccomp_profile_default_child, NULL), 128 + SIGSYS);
  assert_int_equal(in_child(seccomp_remove_child, NULL), 0);
  assert_int_equal(in_child(seccomp_unknown_child, NULL), 0);
  assert_int_equal(in_child(seccomp_retain_child, NULL), 0);
}

/* Groups in an app's seccomp isolator reach stage2 expanded; @appc.io/all
 * means no filter at all, not nspawn's default one. */
static void test_seccomp_groups(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct stage2_plan p;
  (void) state;

  assert_int_equal(plan_of("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@systemd/mount\"]}}]",
                           (struct stage2_args){ .default_seccomp = true }, &p, &err),
                   0);
  assert_true(p.config.seccomp);
  assert_true(strv_contains(p.config.seccomp_syscalls, "umount2"));
  assert_false(strv_contains(p.config.seccomp_syscalls, "@systemd/mount"));
  stage2_plan_done(&p);
  assert_int_equal(plan_of("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"@appc.io/all\"]}}]",
                           (struct stage2_args){ .default_seccomp = true }, &p, &err),
                   0);
  assert_false(p.config.seccomp);
  stage2_plan_done(&p);
  assert_int_equal(plan_of("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@appc.io/empty\"]}}]",
                           (struct stage2_args){ 0 }, &p, &err),
                   0);
  assert_true(p.config.seccomp);
  assert_int_equal(p.config.seccomp_errno, EPERM);
  assert_true(strv_contains(p.config.seccomp_syscalls, "mount"));
  stage2_plan_done(&p);
  assert_int_equal(plan_of("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@nope/x\"]}}]",
                           (struct stage2_args){ 0 }, &p, &err),
                   -1);
  assert_non_null(strstr(err->msg, "\"@nope/x\""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_isolators),
    cmocka_unit_test(test_isolator_errors),
    cmocka_unit_test(test_environment),
    cmocka_unit_test(test_insecure_options),
    cmocka_unit_test(test_seccomp_groups),
    cmocka_unit_test(test_identity_in_chroot),
    cmocka_unit_test(test_seccomp),
    cmocka_unit_test(test_pivot_root),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
