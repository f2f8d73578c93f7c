/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/: errors, fs helpers, locks, uuids, strings, capability, syscall and
 * errno names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include "resources.h"
#include "caps.h"
#include "cgroup.h"
#include "error.h"
#include "fs.h"
#include "json-util.h"
#include "lock.h"
#include "syscalls.h"
#include "uuid.h"
#include "volumes.h"

static char *make_tmpdir(void)
{
  char *d = xstrdup("/tmp/podrun-test-lib-XXXXXX");
  assert_non_null(mkdtemp(d));
  return d;
}

static void test_error_set_and_wrap(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(podrun_error_set(&err, ENOENT, "open \"%s\"", "x"), -1);
  assert_string_equal(err->msg, "open \"x\": No such file or directory");
  assert_int_equal(err->status, ENOENT);
  assert_int_equal(podrun_error_wrap(&err, "fetch \"%s\"", "a.aci"), -1);
  assert_string_equal(err->msg, "fetch \"a.aci\": open \"x\": No such file or directory");
  /* a context the message already starts with is not repeated; one it only contains is added */
  podrun_error_new(&err, 0, "app \"x\": mount point \"d\" has no volume");
  assert_int_equal(podrun_error_wrap(&err, "app \"%s\"", "x"), -1);
  assert_string_equal(err->msg, "app \"x\": mount point \"d\" has no volume");
  assert_int_equal(podrun_error_wrap(&err, "app"), -1);
  assert_string_equal(err->msg, "app: app \"x\": mount point \"d\" has no volume");
  /* Setting again replaces, never leaks (ASan checks). */
  podrun_error_set(&err, 0, "plain");
  assert_string_equal(err->msg, "plain");
  assert_int_equal(err->status, 0);
  /* always one line, and a short one: what a caller let through is escaped, a long one loses its middle */
  podrun_error_new(&err, 0, "bad %s", "x\ny");
  assert_string_equal(err->msg, "bad x\\x0ay");
  _cleanup_free_ char *huge = xmalloc(100001);
  memset(huge, 'a', 100000);
  huge[100000] = '\0';
  podrun_error_set(&err, ENOENT, "open %s", huge);
  assert_true(strlen(err->msg) <= MSG_MAX + 3);
  assert_true(startswith(err->msg, "open aaa") && endswith(err->msg, ": No such file or directory"));
  assert_int_equal(podrun_error_wrap(&err, "fetch\r"), -1);
  assert_null(strchr(err->msg, '\r'));
}

static void test_uuid(void **state)
{
  char a[UUID_STRING_LEN + 1], b[UUID_STRING_LEN + 1];
  uuid_random(a);
  uuid_random(b);
  assert_true(uuid_is_valid(a));
  assert_string_not_equal(a, b);
  assert_int_equal(a[14], '4');
  assert_true(strchr("89ab", a[19]) != NULL);
  assert_false(uuid_is_valid("not-a-uuid"));
  assert_false(uuid_is_valid("6F2B7E2C-0000-4000-8000-000000000000"));
  assert_false(uuid_is_valid("6f2b7e2c00000-4000-8000-000000000000"));
  assert_true(uuid_is_valid("6f2b7e2c-0000-4000-8000-000000000000"));
}

static void test_read_write_atomic(void **state)
{
  _cleanup_free_ char *dir = make_tmpdir();
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *buf = NULL, *path = xasprintf("%s/f", dir), *link = xasprintf("%s/l", dir);
  size_t len = 0;

  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, path, "hello", 5, 0640, &err), 0);
  assert_int_equal(fs_read_file_at(AT_FDCWD, path, 100, &buf, &len, &err), 0);
  assert_int_equal(len, 5);
  assert_string_equal(buf, "hello");
  free(TAKE_PTR(buf));
  /* over the cap */
  assert_int_equal(fs_read_file_at(AT_FDCWD, path, 4, &buf, &len, &err), -1);
  assert_non_null(strstr(err->msg, "larger than 4 bytes"));
  podrun_error_free(&err);
  /* never follows a symlink */
  assert_int_equal(symlink(path, link), 0);
  assert_int_equal(fs_read_file_at(AT_FDCWD, link, 100, &buf, &len, &err), -1);
  assert_int_equal(err->status, ELOOP);
  podrun_error_free(&err);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
}

static void test_rm_rf(void **state)
{
  _cleanup_free_ char *dir = make_tmpdir(), *outside = make_tmpdir();
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *a = xasprintf("%s/a/b/c", dir), *f = xasprintf("%s/a/b/c/file", dir);
  _cleanup_free_ char *keep = xasprintf("%s/keep", outside), *ln = xasprintf("%s/a/link", dir);
  struct stat st;

  assert_int_equal(fs_mkdir_p(a, 0755, &err), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, f, "x", 1, 0600, &err), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, keep, "x", 1, 0600, &err), 0);
  assert_int_equal(symlink(outside, ln), 0);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
  assert_int_equal(stat(dir, &st), -1);
  /* the symlink was removed, not followed */
  assert_int_equal(stat(keep, &st), 0);
  /* a missing path is success */
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, outside, &err), 0);
}

static void test_lock(void **state)
{
  _cleanup_free_ char *dir = make_tmpdir(), *p = xasprintf("%s/lock", dir);
  _cleanup_error_ podrun_error_t err = NULL;
  int fd = -1;

  assert_int_equal(lock_open_at(AT_FDCWD, p, LOCK_MODE_EXCLUSIVE, false, &fd, &err), 0);
  pid_t pid = fork();
  if (pid == 0)
    {
      /* flock locks belong to the open file description: a new open in
       * another process must see the exclusive lock. */
      podrun_error_t e = NULL;
      int fd2 = -1;
      int r = lock_open_at(AT_FDCWD, p, LOCK_MODE_SHARED, true, &fd2, &e);
      _exit(r < 0 && e->status == EWOULDBLOCK ? 0 : 1);
    }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(fd);
  assert_int_equal(lock_open_at(AT_FDCWD, p, LOCK_MODE_SHARED, true, &fd, &err), 0);
  close(fd);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
}

static void test_json_untrusted(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  json_t *j = NULL;
  const char dup[] = "{\"a\": 1,\n \"a\": 2}";

  assert_int_equal(json_parse_untrusted(dup, strlen(dup), "x", &j, &err), -1);
  assert_non_null(strstr(err->msg, "line 2"));
  podrun_error_free(&err);
  assert_int_equal(json_parse_untrusted("{\"b\":1,\"a\":[]}", 14, "x", &j, &err), 0);
  _cleanup_free_ char *s = json_dump_sorted(j, false);
  assert_string_equal(s, "{\"a\":[],\"b\":1}");
  json_decref(j);
}

static void test_strings(void **state)
{
  char b[32];
  _cleanup_strv_ char **v = NULL;
  assert_string_equal(format_size(b, sizeof(b), 512), "512B");
  assert_string_equal(format_size(b, sizeof(b), 1536), "1.5KiB");
  assert_string_equal(format_size(b, sizeof(b), 3ULL << 30), "3.0GiB");
  assert_string_equal(startswith("sha512-ab", "sha512-"), "ab");
  assert_null(startswith("sha256-ab", "sha512-"));
  assert_true(endswith("a.aci", ".aci"));
  assert_false(endswith("aci", ".aci"));
  v = strv_push(v, "a");
  v = strv_push(v, "b");
  assert_int_equal(strv_length(v), 2);
  assert_true(strv_contains(v, "b"));
  assert_false(strv_contains(v, "c"));
  /* random names: of the set, NUL-terminated, not the same twice */
  char r1[17], r2[17];
  random_chars(r1, 16);
  random_chars(r2, 16);
  assert_int_equal(strlen(r1), 16);
  assert_int_equal(strspn(r1, "abcdefghijklmnopqrstuvwxyz0123456789"), 16);
  assert_string_not_equal(r1, r2);
  /* strict decimal numbers */
  unsigned long long u;
  long long n;
  assert_int_equal(parse_uint("42", 100, &u), 0);
  assert_int_equal(u, 42);
  assert_int_equal(parse_uint("18446744073709551615", ULLONG_MAX, &u), 0);
  assert_int_equal(u, ULLONG_MAX);
  static const char *const bad_uint[] = { "", "101", "-1", "+1", " 1", "1 ", "0x10", "1e2", "18446744073709551616" };
  for (size_t i = 0; i < ELEMENTSOF(bad_uint); i++)
    if (parse_uint(bad_uint[i], i == ELEMENTSOF(bad_uint) - 1 ? ULLONG_MAX : 100, &u) == 0)
      fail_msg("parse_uint took \"%s\"", bad_uint[i]);
  assert_int_equal(parse_int("-1000", -1000, 1000, &n), 0);
  assert_int_equal(n, -1000);
  assert_int_equal(parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &n), 0);
  assert_true(n == LLONG_MIN);
  static const char *const bad_int[] = { "-1001", "1001", "-", "--1", "+5", " 5", "-0x1", "1.0" };
  for (size_t i = 0; i < ELEMENTSOF(bad_int); i++)
    if (parse_int(bad_int[i], -1000, 1000, &n) == 0)
      fail_msg("parse_int took \"%s\"", bad_int[i]);
  assert_int_equal(parse_int("1", 2, 10, &n), -1);
  /* quoting: escaped, cut */
  char q[QUOTE_BUF];
  assert_string_equal(quote_into(q, "a\"b\\c\nd", QUOTE_CUT, true), "\"a\\\"b\\\\c\\x0ad\"");
  assert_string_equal(quote_into(q, "--x\n", QUOTE_CUT, false), "--x\\x0a");
  _cleanup_free_ char *long_s = xmalloc(100001);
  memset(long_s, 'a', 100000);
  long_s[100000] = '\0';
  assert_int_equal(strlen(quote_into(q, long_s, QUOTE_CUT, true)), QUOTE_CUT + 5);
  assert_true(endswith(QUOTE(long_s), "\"..."));
}

/* lib/resources: appc quantities, as rkt read them. */
static void test_resources(void **state)
{
  static const struct { const char *q; uint64_t bytes; } bytes[] = {
    { "1000", 1000 }, { "64M", 64000000 }, { "1Gi", 1073741824 }, { "1.5k", 1500 }, { "2Ki", 2048 },
  };
  static const char *const bad_bytes[] = { "", "M", "-1M", "12X", "1 M", "0", "lots", "+5", "0x10M", "1e3", " 5M",
                                           "inf", "nanM", "5M " };
  static const struct { const char *q; uint64_t m; } cpu[] = { { "2", 2000 }, { "0.5", 500 }, { "250m", 250 } };
  static const char *const bad_cpu[] = { "", "0", "0.0001", "2c", "-1", "m", "0x2", "1e3m", " 2", "+2" };
  uint64_t v;
  (void) state;
  for (size_t i = 0; i < ELEMENTSOF(bytes); i++)
    {
      podrun_error_t err = NULL;
      assert_int_equal(resource_parse_bytes(bytes[i].q, &v, &err), 0);
      assert_int_equal(v, bytes[i].bytes);
    }
  for (size_t i = 0; i < ELEMENTSOF(bad_bytes); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      if (resource_parse_bytes(bad_bytes[i], &v, &err) == 0)
        fail_msg("accepted memory \"%s\"", bad_bytes[i]);
      assert_non_null(strstr(err->msg, "memory size"));
    }
  for (size_t i = 0; i < ELEMENTSOF(cpu); i++)
    {
      podrun_error_t err = NULL;
      assert_int_equal(resource_parse_millicores(cpu[i].q, &v, &err), 0);
      assert_int_equal(v, cpu[i].m);
    }
  for (size_t i = 0; i < ELEMENTSOF(bad_cpu); i++)
    {
      _cleanup_error_ podrun_error_t err = NULL;
      if (resource_parse_millicores(bad_cpu[i], &v, &err) == 0)
        fail_msg("accepted cpu \"%s\"", bad_cpu[i]);
    }
}

static void test_cgroup_paths(void **state)
{
  const struct cgroup_hierarchy h = { "/sys/fs/cgroup/unified", true }, freezer = { "/sys/fs/cgroup/freezer", false };
  const char *uuid = "0123abcd-0000-4000-8000-00000000beef";
  static const struct { const char *dir; bool valid; } cases[] = {
    { "/sys/fs/cgroup/unified/podrun/0123abcd-0000-4000-8000-00000000beef", true },
    { "/sys/fs/cgroup/unified/system.slice/a.service/podrun/0123abcd-0000-4000-8000-00000000beef", true },
    { "/sys/fs/cgroup/unified/podrun/0123abcd-0000-4000-8000-00000000feed", false }, /* another pod's */
    { "/sys/fs/cgroup/unified/podrun/0123abcd-0000-4000-8000-00000000beef/_stage1", false },
    { "/sys/fs/cgroup/unified/../unified/podrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unified/a/./podrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unified//podrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unifiedx/podrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/memory/podrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unified/xpodrun/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unified/0123abcd-0000-4000-8000-00000000beef", false },
    { "/sys/fs/cgroup/unified/podrun/0123abcd-0000-4000-8000-00000000beef\n", false },
    { "podrun/0123abcd-0000-4000-8000-00000000beef", false },
  };
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    if (cgroup_pod_dir_valid(&h, cases[i].dir, uuid) != cases[i].valid)
      fail_msg("%s: expected %s", cases[i].dir, cases[i].valid ? "valid" : "invalid");

  _cleanup_free_ char *scope = cgroup_machine_scope(&h, uuid);
  assert_string_equal(scope, "/sys/fs/cgroup/unified/machine.slice/"
                             "machine-podrun\\x2d0123abcd\\x2d0000\\x2d4000\\x2d8000\\x2d00000000beef.scope");
  assert_null(cgroup_machine_scope(&freezer, uuid));

  /* the record of a pod directory, when it is the pod's own; else the default place */
  struct cgroup_hierarchy t;
  _cleanup_error_ podrun_error_t err = NULL;
  if (cgroup_tracking(&t, &err) < 0)
    return; /* a host without cgroups: no pod cgroup */
  _cleanup_free_ char *dir = make_tmpdir(), *def = xasprintf("%s/podrun/%s", t.mount, uuid);
  _cleanup_free_ char *svc = xasprintf("%s/system.slice/a.service/podrun/%s\n", t.mount, uuid);
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *none = cgroup_pod_dir(fd, uuid);
  assert_string_equal(none, def);
  assert_int_equal(fs_write_file_atomic_at(fd, CGROUP_RECORD, svc, strlen(svc), 0644, &err), 0);
  _cleanup_free_ char *recorded = cgroup_pod_dir(fd, uuid);
  svc[strlen(svc) - 1] = '\0';
  assert_string_equal(recorded, svc);
  const char *hostile = "/etc\n";
  assert_int_equal(fs_write_file_atomic_at(fd, CGROUP_RECORD, hostile, strlen(hostile), 0644, &err), 0);
  _cleanup_free_ char *refused = cgroup_pod_dir(fd, uuid);
  assert_string_equal(refused, def);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);

  _cleanup_free_ char *self = NULL;
  if (cgroup_of_pid(0, t.v2 ? "" : "freezer", &self, &err) == 0)
    assert_true(self[0] == '/');
}


/* Docker's masked and read-only paths, as this test knows them (not read
 * from lib/volumes.c: a path dropped from podrun's tables fails here). */
static const char *const want_masked[] = {
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug",
  "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const want_read_only[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sys/net", "/proc/sys/kernel", "/proc/sysrq-trigger",
};

static bool read_only_mount(const char *path)
{
  struct statvfs v;
  return statvfs(path, &v) == 0 && (v.f_flag & ST_RDONLY);
}

/* What an app would see of path: masked (/dev/null for a file, an empty
 * read-only tmpfs for a directory). */
static bool masked(const char *path)
{
  struct stat st;
  struct statfs fs;
  if (lstat(path, &st) < 0)
    return false;
  if (!S_ISDIR(st.st_mode))
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
  _cleanup_closedir_ DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
      return false;
  return d && statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC && read_only_mount(path);
}

/* In a mount namespace of its own: a fresh, writable procfs and the host's
 * /sys in an empty root, masked by volumes_mask_kernel_paths; then every
 * path of Docker's lists that this kernel has is masked or read-only, and
 * so is what is below /proc/sys (its net knobs: writable they would let an
 * app of a --net=none pod reconfigure its network). */
static int mask_child(void *arg)
{
  const char *root = arg;
  podrun_error_t err = NULL;
  bool had_masked[ELEMENTSOF(want_masked)], had_ro[ELEMENTSOF(want_read_only)];
  struct stat st;
  _cleanup_free_ char *proc = xasprintf("%s/proc", root), *sys = xasprintf("%s/sys", root);
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("tmpfs", root, "tmpfs", 0, "size=1m") < 0 || mkdir(proc, 0755) < 0 || mkdir(sys, 0755) < 0 ||
      mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
      mount("/sys", sys, NULL, MS_BIND | MS_REC, NULL) < 0)
    return fprintf(stderr, "set up: %s\n", strerror(errno)), 10;
  _cleanup_free_ char *proc_sys = xasprintf("%s/proc/sys", root);
  if (read_only_mount(proc_sys))
    return fprintf(stderr, "the fresh /proc/sys is read-only already: this test proves nothing\n"), 11;
  for (size_t i = 0; i < ELEMENTSOF(want_masked); i++)
    {
      _cleanup_free_ char *p = xasprintf("%s%s", root, want_masked[i]);
      had_masked[i] = lstat(p, &st) == 0;
    }
  for (size_t i = 0; i < ELEMENTSOF(want_read_only); i++)
    {
      _cleanup_free_ char *p = xasprintf("%s%s", root, want_read_only[i]);
      had_ro[i] = lstat(p, &st) == 0;
    }
  if (volumes_mask_kernel_paths(root, NULL, &err) < 0)
    return fprintf(stderr, "%s\n", err->msg), 12;
  int bad = 0;
  for (size_t i = 0; i < ELEMENTSOF(want_masked); i++)
    {
      _cleanup_free_ char *p = xasprintf("%s%s", root, want_masked[i]);
      if (had_masked[i] && !masked(p) && ++bad)
        fprintf(stderr, "%s is not masked\n", want_masked[i]);
    }
  for (size_t i = 0; i < ELEMENTSOF(want_read_only); i++)
    {
      _cleanup_free_ char *p = xasprintf("%s%s", root, want_read_only[i]);
      if (had_ro[i] && !read_only_mount(p) && ++bad)
        fprintf(stderr, "%s is not read-only\n", want_read_only[i]);
    }
  /* a knob itself refuses a writer (checked without writing it) */
  _cleanup_free_ char *knob = xasprintf("%s/proc/sys/net/ipv4/ip_forward", root);
  if (access(knob, F_OK) == 0 && (access(knob, W_OK) == 0 || errno != EROFS) && ++bad)
    fprintf(stderr, "/proc/sys/net/ipv4/ip_forward is writable\n");
  return bad ? 13 : 0;
}

static void test_mask_kernel_paths(void **state)
{
  char root[] = "/tmp/podrun-test-mask-XXXXXX";
  (void) state;
  if (geteuid() != 0)
    skip();
  assert_non_null(mkdtemp(root));
  int status;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(mask_child(root));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_int_equal(rmdir(root), 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

#define CAP(c) (1ULL << (c))

static void test_caps(void **state)
{
  uint64_t mask = 0;
  _cleanup_error_ podrun_error_t err = NULL;
  char *retain[] = { "CAP_SYS_ADMIN", "CAP_KILL", NULL }, *remove[] = { "CAP_KILL", NULL };
  char *unknown[] = { "CAP_NOPE", NULL };
  (void) state;

  assert_int_equal(caps_compute(NULL, NULL, &mask, &err), 0);
  size_t n = 0;
  for (const char *const *c = caps_appc_default; *c; c++)
    n++;
  assert_int_equal((size_t) __builtin_popcountll(mask), n);
  assert_int_equal(caps_compute(retain, remove, &mask, &err), 0);
  assert_int_equal(mask, CAP(CAP_SYS_ADMIN));
  assert_int_equal(caps_compute(NULL, remove, &mask, &err), 0);
  assert_false(mask & CAP(CAP_KILL));
  assert_true(mask & CAP(CAP_CHOWN));
  mask = 42;
  assert_int_equal(caps_compute(unknown, NULL, &mask, &err), -1);
  assert_non_null(strstr(err->msg, "\"CAP_NOPE\""));
  assert_int_equal(mask, 42);
  /* every number has its name, back and forth, in any case */
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    {
      assert_non_null(caps_to_name(c));
      assert_int_equal(caps_from_name(caps_to_name(c)), c);
    }
  assert_int_equal(caps_from_name("cap_net_admin"), CAP_NET_ADMIN);
  assert_int_equal(caps_from_name("NET_ADMIN"), -1);
  assert_null(caps_to_name(CAP_LAST_CAP + 1));
  assert_int_equal(caps_all(), (CAP(CAP_LAST_CAP) << 1) - 1);
}

static void test_syscall_names(void **state)
{
  (void) state;
  /* the generated table: names of this architecture and of others (i386's
   * vm86old, x86_64's epoll_ctl_old, arm's breakpoint) */
  static const char *const known[] = { "read", "openat", "mount", "vm86old", "epoll_ctl_old", "breakpoint",
                                       "_sysctl", "clone3" };
  for (size_t i = 0; i < ELEMENTSOF(known); i++)
    assert_true(syscalls_is_known(known[i]));
  assert_false(syscalls_is_known("nosuchcall"));
  assert_false(syscalls_is_known(""));
  assert_false(syscalls_is_known("@rkt/default-whitelist"));
  for (const char *const *s = syscalls_default_blocklist; *s; s++)
    assert_true(syscalls_is_known(*s));

  assert_int_equal(syscalls_errno_from_name("ENOSYS"), ENOSYS);
  assert_int_equal(syscalls_errno_from_name("EPERM"), EPERM);
  assert_int_equal(syscalls_errno_from_name("ENOTSUP"), ENOTSUP);
  assert_int_equal(syscalls_errno_from_name("EOPNOTSUPP"), EOPNOTSUPP);
  assert_int_equal(syscalls_errno_from_name("EWOULDBLOCK"), EAGAIN);
  assert_int_equal(syscalls_errno_from_name("EHWPOISON"), EHWPOISON);
  assert_int_equal(syscalls_errno_from_name("ENOPE"), -1);
  assert_int_equal(syscalls_errno_from_name("eperm"), -1);
  assert_int_equal(syscalls_errno_from_name(""), -1);
}

static struct syscalls_filter filter_of(bool retain, const char *errname, const char *items)
{
  _cleanup_free_ char *copy = xstrdup(items);
  _cleanup_strv_ char **set = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  struct syscalls_filter f = { 0 };
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    set = strv_push(set, t);
  if (syscalls_filter_from_set(set, retain, errname, &f, &err) < 0)
    fail_msg("%s: %s", items, err->msg);
  return f;
}

static void test_syscall_groups(void **state)
{
  struct syscalls_filter f;
  (void) state;

  /* a group is its members, groups in it expanded, each name once */
  f = filter_of(false, NULL, "@systemd/mount,mount,@systemd/keyring");
  assert_true(strv_contains(f.names, "umount2") && strv_contains(f.names, "pivot_root"));
  assert_true(strv_contains(f.names, "keyctl") && strv_contains(f.names, "add_key"));
  size_t mounts = 0;
  for (char **n = f.names; *n; n++)
    mounts += streq(*n, "mount");
  assert_int_equal(mounts, 1);
  assert_false(f.none || f.retain);
  assert_int_equal(f.errnum, 0); /* appc's default: kill */
  syscalls_filter_done(&f);
  f = filter_of(false, "EACCES", "@systemd/privileged");
  assert_true(strv_contains(f.names, "chown"));  /* @systemd/chown, in it */
  assert_true(strv_contains(f.names, "reboot")); /* @systemd/reboot */
  assert_int_equal(f.errnum, EACCES);
  for (char **n = f.names; *n; n++)
    assert_true(syscalls_is_known(*n)); /* what libseccomp lacks is left out */
  syscalls_filter_done(&f);
  f = filter_of(true, NULL, "@rkt/default-whitelist");
  assert_true(f.retain);
  assert_true(strv_contains(f.names, "read") && strv_contains(f.names, "epoll_wait"));
  assert_true(strv_contains(f.names, "breakpoint")); /* ARM's, as rkt had on ARM */
  assert_false(strv_contains(f.names, "mount"));
  syscalls_filter_done(&f);
  f = filter_of(true, NULL, "@docker/default-whitelist");
  assert_false(strv_contains(f.names, "breakpoint"));
  syscalls_filter_done(&f);
  f = filter_of(false, NULL, "@rkt/default-blacklist");
  struct syscalls_filter d = filter_of(false, NULL, "@docker/default-blacklist");
  assert_int_equal(strv_length(f.names), strv_length(d.names));
  syscalls_filter_done(&f);
  syscalls_filter_done(&d);
  /* appc's: all turns a retain set's filter off, empty is podrun's default */
  f = filter_of(true, NULL, "read,@appc.io/all");
  assert_true(f.none);
  syscalls_filter_done(&f);
  f = filter_of(false, NULL, "socket,@appc.io/empty");
  assert_false(f.none);
  assert_int_equal(strv_length(f.names), strv_length((char *const *) syscalls_default_blocklist));
  assert_false(strv_contains(f.names, "socket")); /* masked */
  assert_int_equal(f.errnum, EPERM);
  syscalls_filter_done(&f);
  f = filter_of(false, NULL, "@podrun/default-blocklist");
  assert_int_equal(strv_length(f.names), strv_length((char *const *) syscalls_default_blocklist));
  syscalls_filter_done(&f);

  static const struct
  {
    bool retain;
    const char *set, *errname, *why;
  } bad[] = {
    { false, "@appc.io/all", NULL, "belongs in a retain set" },
    { true, "@appc.io/empty", NULL, "belongs in a remove set" },
    { false, "@systemd/nosuch", NULL, "unknown syscall group \"@systemd/nosuch\"" },
    { false, "@systemd/known", NULL, "unknown syscall group" },
    { true, "@rkt", NULL, "unknown syscall group" },
    { false, "nosuchcall", NULL, "unknown syscall \"nosuchcall\"" },
    { false, "read", "EWHAT", "errno \"EWHAT\"" },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      char *set[] = { (char *) bad[i].set, NULL };
      _cleanup_error_ podrun_error_t err = NULL;
      f = (struct syscalls_filter){ .names = NULL };
      assert_int_equal(syscalls_filter_from_set(set, bad[i].retain, bad[i].errname, &f, &err), -1);
      if (!strstr(err->msg, bad[i].why))
        fail_msg("%s: \"%s\", expected \"%s\"", bad[i].set, err->msg, bad[i].why);
      assert_null(f.names);
    }
}

/* Documentation/seccomp-groups.md lists every group with exactly its members
 * (run from the repository root, as make check does). */
static void test_syscall_groups_documented(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *doc = NULL;
  (void) state;
  if (fs_read_file_at(AT_FDCWD, "Documentation/seccomp-groups.md", 1 << 20, &doc, NULL, &err) < 0)
    fail_msg("%s (run the test from the repository root)", err->msg);
  for (size_t i = 0; syscalls_group_name(i); i++)
    {
      const char *g = syscalls_group_name(i), *members = syscalls_group_members(g);
      _cleanup_free_ char *head = xasprintf("\n- **`%s`**", g), *tail = NULL;
      const char *line = strstr(doc, head), *end;
      if (!line)
        fail_msg("%s is not in Documentation/seccomp-groups.md", g);
      end = strchr(line + 1, '\n');
      _cleanup_free_ char *text = xstrndup(line + 1, end ? (size_t) (end - line - 1) : strlen(line + 1));
      if (!members && streq(g, "@podrun/default-blocklist"))
        {
          _cleanup_free_ char *list = xstrdup("");
          for (const char *const *s = syscalls_default_blocklist; *s; s++)
            {
              char *l = xasprintf("%s%s%s", list, *list ? " " : "", *s);
              free(list);
              list = l;
            }
          tail = xasprintf(": `%s`", list);
        }
      else if (members)
        tail = xasprintf(": `%s`", members);
      if (tail && !endswith(text, tail))
        fail_msg("%s: the page says \"%s\", the table \"%s\"", g, text, tail);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_set_and_wrap),
    cmocka_unit_test(test_uuid),
    cmocka_unit_test(test_read_write_atomic),
    cmocka_unit_test(test_rm_rf),
    cmocka_unit_test(test_lock),
    cmocka_unit_test(test_json_untrusted),
    cmocka_unit_test(test_strings),
    cmocka_unit_test(test_resources),
    cmocka_unit_test(test_cgroup_paths),
    cmocka_unit_test(test_mask_kernel_paths),
    cmocka_unit_test(test_caps),
    cmocka_unit_test(test_syscall_names),
    cmocka_unit_test(test_syscall_groups),
    cmocka_unit_test(test_syscall_groups_documented),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
