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

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_aborted_prepare_and_transition_needs_lock, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bad_and_ambiguous, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
