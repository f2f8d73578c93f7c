/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/pod: pod directories, states from locks, transitions, prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fs.h"
#include "pod.h"
#include "userns.h"

static int setup(void **state)
{
  char *d = xstrdup("/tmp/podrun-test-pod-XXXXXX");
  assert_non_null(mkdtemp(d));
  *state = d;
  return 0;
}

static int teardown(void **state)
{
  podrun_error_t err = NULL;
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, *state, &err), 0);
  free(*state);
  return 0;
}

static void test_lifecycle(void **state)
{
  _cleanup_free_ char *pods = xasprintf("%s/pods", (char *) *state);
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_pod_ struct pod *p = NULL, *q = NULL;
  struct stat st;

  assert_int_equal(pod_create(pods, &p, &err), 0);
  assert_true(uuid_is_valid(p->uuid));
  assert_int_equal(p->state, POD_EMBRYO);
  assert_int_equal(pod_transition(p, POD_PREPARING, &err), 0);
  /* locked by us: seen as preparing by another open file description */
  assert_int_equal(pod_load(pods, p->uuid, &q, &err), 0);
  assert_int_equal(q->state, POD_PREPARING);
  pod_free(TAKE_PTR(q));
  assert_int_equal(pod_transition(p, POD_PREPARED, &err), 0);
  assert_int_equal(pod_transition(p, POD_RUNNING, &err), 0);
  assert_int_equal(stat(p->path, &st), 0);
  assert_non_null(strstr(p->path, "/run/"));
  assert_int_equal(pod_load(pods, p->uuid, &q, &err), 0);
  assert_int_equal(q->state, POD_RUNNING);
  pod_free(TAKE_PTR(q));
  /* the lock goes with its holder: then the pod is exited */
  pod_free(TAKE_PTR(p));
  char prefix[9];
  struct pod **v = NULL;
  size_t n = 0;
  assert_int_equal(pod_list(pods, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(v[0]->state, POD_EXITED);
  /* by unique prefix */
  snprintf(prefix, sizeof(prefix), "%.8s", v[0]->uuid);
  assert_int_equal(pod_load(pods, prefix, &q, &err), 0);
  assert_string_equal(q->uuid, v[0]->uuid);
  pod_list_free(v, n);
}

static void test_aborted_prepare_and_transition_needs_lock(void **state)
{
  _cleanup_free_ char *pods = xasprintf("%s/pods", (char *) *state);
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_pod_ struct pod *q = NULL;
  char uuid[UUID_STRING_LEN + 1];

  pid_t pid = fork();
  if (pid == 0)
    {
      struct pod *p = NULL;
      podrun_error_t e = NULL;
      if (pod_create(pods, &p, &e) < 0 || pod_transition(p, POD_PREPARING, &e) < 0)
        _exit(1);
      raise(SIGKILL); /* dies while preparing */
    }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  struct pod **v = NULL;
  size_t n = 0;
  assert_int_equal(pod_list(pods, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(v[0]->state, POD_ABORTED_PREPARE);
  snprintf(uuid, sizeof(uuid), "%s", v[0]->uuid);
  pod_list_free(v, n);
  assert_int_equal(pod_load(pods, uuid, &q, &err), 0);
  assert_int_equal(pod_transition(q, POD_GARBAGE, &err), -1);
  assert_non_null(strstr(err->msg, "without its lock"));
}

static void test_bad_and_ambiguous(void **state)
{
  _cleanup_free_ char *pods = xasprintf("%s/pods", (char *) *state);
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_pod_ struct pod *q = NULL;
  struct pod *made[17] = { 0 };
  char one[2] = { 0 };

  assert_int_equal(pod_load(pods, "", &q, &err), -1);
  podrun_error_free(&err);
  assert_int_equal(pod_load(pods, "zzzz", &q, &err), -1);
  assert_int_equal(err->status, ENOENT);
  podrun_error_free(&err);
  assert_int_equal(pod_load(pods, "../../etc", &q, &err), -1);
  podrun_error_free(&err);
  /* 17 pods: two of them share a first hex digit, whose prefix is ambiguous */
  for (size_t i = 0; i < ELEMENTSOF(made); i++)
    {
      assert_int_equal(pod_create(pods, &made[i], &err), 0);
      for (size_t j = 0; j < i && !one[0]; j++)
        if (made[j]->uuid[0] == made[i]->uuid[0])
          one[0] = made[i]->uuid[0];
    }
  assert_true(one[0] != 0);
  assert_int_equal(pod_load(pods, one, &q, &err), -1);
  assert_non_null(strstr(err->msg, "matches"));
  for (size_t i = 0; i < ELEMENTSOF(made); i++)
    pod_free(made[i]);
}

/* The contract's run flags, parsed once for every stage1 flavor. */
static void test_stage1_run_args(void **state)
{
  static const char *const uuid = "5f0b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";
  _cleanup_error_ podrun_error_t err = NULL;
  {
    char *argv[] = { "run", "--debug", "--net=none", "--hostname=box", "--interactive", "--dns=192.0.2.1",
                     "--dns=192.0.2.2", "--dns-search=example.com", "--dns-opt=ndots:2",
                     "--hosts-entry=192.0.2.9=db", "--private-users=524288:65536", (char *) uuid, NULL };
    _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
    assert_int_equal(stage1_run_args_parse(ELEMENTSOF(argv) - 1, argv, &a, &err), 0);
    assert_string_equal(a.net, "none");
    assert_string_equal(a.hostname, "box");
    assert_string_equal(a.uuid, uuid);
    assert_true(a.debug && a.interactive);
    assert_int_equal(strv_length(a.dns), 2);
    assert_string_equal(a.dns_search[0], "example.com");
    assert_string_equal(a.dns_opt[0], "ndots:2");
    assert_string_equal(a.hosts[0], "192.0.2.9=db");
    assert_int_equal(a.userns_shift, 524288);
    assert_false(a.disable_caps || a.disable_paths || a.disable_seccomp);
  }
  {
    char *argv[] = { "run", STAGE1_DISABLE_CAPS, STAGE1_DISABLE_PATHS, STAGE1_DISABLE_SECCOMP, (char *) uuid, NULL };
    _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
    assert_int_equal(stage1_run_args_parse(ELEMENTSOF(argv) - 1, argv, &a, &err), 0);
    assert_true(a.disable_caps && a.disable_paths && a.disable_seccomp);
  }
  {
    char *argv[] = { "run", (char *) uuid, NULL };
    _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
    assert_int_equal(stage1_run_args_parse(2, argv, &a, &err), 0);
    assert_null(a.net); /* each flavor has its default */
    assert_int_equal(a.userns_shift, 0);
  }
  /* refused, each with a message naming what */
  static const char *const bad[][2] = {
    { "--net=none", "not-a-uuid" },          { "--bogus", NULL },
    { "--private-users=0:65536", NULL },     { "--private-users=524289:65536", NULL },
    { "--private-users=524288:1000", NULL }, { "--private-users=4294901760:65536", NULL },
    { "--private-users=abc", NULL },         { "--private-users=524288:", NULL },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      char *argv[] = { "run", (char *) bad[i][0], (char *) (bad[i][1] ? bad[i][1] : uuid), NULL };
      _cleanup_(stage1_run_args_done) struct stage1_run_args a = { 0 };
      assert_int_equal(stage1_run_args_parse(3, argv, &a, &err), -1);
      assert_non_null(strstr(err->msg, bad[i][1] ? bad[i][1] : bad[i][0]));
      podrun_error_free(&err);
    }
  char *none[] = { "run", NULL };
  struct stage1_run_args a = { 0 };
  assert_int_equal(stage1_run_args_parse(1, none, &a, &err), -1);
  assert_non_null(strstr(err->msg, "usage"));
}

/* stage1/run-flags: one flag a line; the range is found among them. */
static void test_run_flags(void **state)
{
  _cleanup_free_ char *dir = xasprintf("%s/pod", (char *) *state), *s1 = xasprintf("%s/stage1", dir);
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_strv_ char **flags = NULL;
  _cleanup_close_ int fd = -1;
  uid_t shift = 1;

  assert_int_equal(fs_mkdir_p(s1, 0755, &err), 0);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(pod_read_run_flags(fd, &flags, &err), -1); /* none yet */
  podrun_error_free(&err);
  assert_int_equal(fs_write_file_atomic_at(fd, "stage1/run-flags", "", 0, 0644, &err), 0);
  assert_int_equal(pod_read_run_flags(fd, &flags, &err), 0);
  assert_int_equal(strv_length(flags), 0);
  assert_int_equal(userns_from_flags(flags, &shift, &err), 0);
  assert_int_equal(shift, 0);
  strv_free(TAKE_PTR(flags));
  static const char text[] = "--net=none\n--private-users=1048576:65536\n";
  assert_int_equal(fs_write_file_atomic_at(fd, "stage1/run-flags", text, strlen(text), 0644, &err), 0);
  assert_int_equal(userns_read_pod(fd, &shift, &err), 0);
  assert_int_equal(shift, 1048576);
  /* enter reads them back as run parsed them: --insecure-options among them */
  struct stage1_run_args a = { 0 };
  assert_int_equal(stage1_run_args_read(fd, &a, &err), 0);
  assert_false(a.disable_caps || a.disable_paths || a.disable_seccomp);
  assert_int_equal(a.userns_shift, 1048576);
  static const char insecure[] = "--disable-capabilities-restriction\n--disable-seccomp\n";
  assert_int_equal(fs_write_file_atomic_at(fd, "stage1/run-flags", insecure, strlen(insecure), 0644, &err), 0);
  assert_int_equal(stage1_run_args_read(fd, &a, &err), 0);
  assert_true(a.disable_caps && a.disable_seccomp && !a.disable_paths);
  static const char bad[] = "--net=none\n--bogus\n";
  assert_int_equal(fs_write_file_atomic_at(fd, "stage1/run-flags", bad, strlen(bad), 0644, &err), 0);
  assert_int_equal(stage1_run_args_read(fd, &a, &err), -1);
  assert_non_null(strstr(err->msg, "\"--bogus\""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_aborted_prepare_and_transition_needs_lock, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_and_ambiguous, setup, teardown),
    cmocka_unit_test(test_stage1_run_args),
    cmocka_unit_test_setup_teardown(test_run_flags, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
