/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1/common: the entrypoint dispatch, stage2's command line, and the
 * pod's exit code from the pod init's records, as every flavor uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fs.h"
#include "pod.h"
#include "stage1/common/stage1.h"
#include "stage2/stage2.h"

static int setup(void **state)
{
  char *d = xstrdup("/tmp/podrun-test-stage1-XXXXXX");
  assert_non_null(mkdtemp(d));
  assert_int_equal(chdir(d), 0); /* the records are relative to the pod directory, the working directory */
  *state = d;
  return 0;
}

static int teardown(void **state)
{
  podrun_error_t err = NULL;
  assert_int_equal(chdir("/"), 0);
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, *state, &err), 0);
  free(*state);
  return 0;
}

static char *joined(char **v)
{
  char *s = xstrdup("");
  for (size_t i = 0; v[i]; i++)
    {
      char *t = xasprintf("%s%s%s", s, i ? " " : "", v[i]);
      free(s);
      s = t;
    }
  return s;
}

/* What the pod init and fly start is what stage2 parses back, in the order
 * the contract writes it. */
static void test_stage2_argv(void **state)
{
  char *handler[] = { "/bin/sh", "-c", "echo -- hi", NULL };
  const struct stage2_args cases[] = {
    { .pod_manifest = "/podrun/pod", .app = "web", .root = "/opt/stage2/web/rootfs", .default_seccomp = true,
      .pid_init = true, .host_network = true },
    { .pod_manifest = "pod", .app = "tool", .root = "/r", .keep_caps_by_default = true, .disable_caps = true,
      .disable_seccomp = true },
    { .pod_manifest = "/podrun/pod", .app = "a", .root = "/x", .pid_init = true, .disable_paths = true,
      .cmd = handler },
  };
  static const char *const expected[] = {
    "/stage2 --pod-manifest=/podrun/pod --app=web --root=/opt/stage2/web/rootfs --default-seccomp --pid-init "
    "--host-network",
    "/stage2 --pod-manifest=pod --app=tool --root=/r --keep-caps-by-default --disable-capabilities-restriction "
    "--disable-seccomp",
    "/stage2 --pod-manifest=/podrun/pod --app=a --root=/x --pid-init --disable-paths -- /bin/sh -c echo -- hi",
  };
  for (size_t i = 0; i < ELEMENTSOF(cases); i++)
    {
      _cleanup_strv_ char **v = stage1_stage2_argv("/stage2", &cases[i]);
      _cleanup_free_ char *line = joined(v);
      _cleanup_error_ podrun_error_t err = NULL;
      struct stage2_args back = { 0 };
      assert_string_equal(line, expected[i]);
      assert_int_equal(stage2_parse_args((int) strv_length(v), v, &back, &err), 0);
      assert_string_equal(back.pod_manifest, cases[i].pod_manifest);
      assert_string_equal(back.app, cases[i].app);
      assert_string_equal(back.root, cases[i].root);
      assert_int_equal(back.keep_caps_by_default, cases[i].keep_caps_by_default);
      assert_int_equal(back.default_seccomp, cases[i].default_seccomp);
      assert_int_equal(back.pid_init, cases[i].pid_init);
      assert_int_equal(back.host_network, cases[i].host_network);
      assert_int_equal(back.disable_caps, cases[i].disable_caps);
      assert_int_equal(back.disable_paths, cases[i].disable_paths);
      assert_int_equal(back.disable_seccomp, cases[i].disable_seccomp);
      assert_int_equal(strv_length(back.cmd), strv_length(cases[i].cmd));
      for (size_t k = 0; cases[i].cmd && cases[i].cmd[k]; k++)
        assert_string_equal(back.cmd[k], cases[i].cmd[k]);
    }
}

static struct appc_pod_manifest *two_apps(void)
{
  static const char text[] =
    "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":["
    "{\"name\":\"first\",\"image\":{\"id\":\"sha512-aa\"}},{\"name\":\"second\",\"image\":{\"id\":\"sha512-bb\"}}]}";
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_pod_manifest *m = NULL;
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, "pod", text, strlen(text), 0644, &err), 0);
  assert_int_equal(stage1_read_pod("pod", &m, &err), 0);
  assert_int_equal(m->n_apps, 2);
  return m;
}

static void put(const char *path, const char *text)
{
  _cleanup_error_ podrun_error_t err = NULL;
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644, &err), 0);
}

static int pod_code(const struct appc_pod_manifest *m)
{
  _cleanup_error_ podrun_error_t err = NULL;
  int code = -1;
  assert_int_equal(stage1_pod_exit_code(m, "rt", &code, &err), 0);
  return code;
}

/* The pod's code is the first failure the init saw, else the first failed
 * record in the manifest's order, else 0; an init that was killed leaves
 * its unrecorded apps killed with it (137, recorded), one that exited of
 * its own accord left them never started. */
static void test_pod_exit_code(void **state)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = two_apps();
  _cleanup_error_ podrun_error_t err = NULL;

  assert_int_equal(fs_mkdir_p("rt", 0755, &err), 0);
  assert_int_equal(fs_mkdir_p("status", 0755, &err), 0);
  put("rt/" STAGE1_DONE, "");
  put("status/first", "0\n");
  assert_int_equal(pod_code(m), 0); /* second never started */
  assert_int_equal(stage1_read_code("status/second"), -1);
  put("status/second", "3\n");
  assert_int_equal(pod_code(m), 3);
  assert_int_equal(stage1_write_code("rt/" STAGE1_EXIT_CODE, 143, &err), 0);
  assert_int_equal(pod_code(m), 143); /* the first failure, whichever app it was */
  assert_int_equal(unlink("rt/" STAGE1_EXIT_CODE), 0);
  assert_int_equal(unlink("rt/" STAGE1_DONE), 0);
  assert_int_equal(unlink("status/second"), 0);
  put("status/first", "not a number\n");
  assert_int_equal(pod_code(m), 137); /* killed with the init: both */
  assert_int_equal(stage1_read_code("status/first"), 137);
  assert_int_equal(stage1_read_code("status/second"), 137);
  put("status/first", "256\n");
  assert_int_equal(stage1_read_code("status/first"), -1);
}

static void test_exit_code(void **state)
{
  assert_int_equal(stage1_exit_code(W_EXITCODE(3, 0)), 3);
  assert_int_equal(stage1_exit_code(W_EXITCODE(0, 0)), 0);
  assert_int_equal(stage1_exit_code(W_EXITCODE(0, SIGKILL)), 137);
  assert_int_equal(stage1_exit_code(W_EXITCODE(0, SIGTERM)), 143);
}

static int called;

static int run_one(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  called = 1;
  *ret_exit = 42;
  return 0;
}

static int fail_one(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  called = 2;
  return podrun_error_new(err, 0, "no");
}

/* stage1_main with its stderr (the one error line) into *ret_stderr. */
static int main_said(const struct stage1_entrypoint *table, size_t n, char **argv, char **ret_stderr)
{
  _cleanup_error_ podrun_error_t err = NULL;
  char path[] = "/tmp/podrun-test-stage1-err-XXXXXX";
  int fd = mkstemp(path), saved = dup(STDERR_FILENO);
  assert_true(fd >= 0 && saved >= 0);
  assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
  int code = stage1_main(table, n, (int) strv_length(argv), argv);
  assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
  close(saved);
  close(fd);
  assert_int_equal(fs_read_file_at(AT_FDCWD, path, 4096, ret_stderr, NULL, &err), 0);
  assert_int_equal(unlink(path), 0);
  return code;
}

/* The entrypoint is the name a binary is called as; an error or an
 * unknown name exits 254 with one line saying why. */
static void test_main(void **state)
{
  static const struct stage1_entrypoint table[] = {
    { "run", "podrun-stage1", run_one },
    { "stop", "podrun-stage1", fail_one },
  };
  char *run[] = { "/nspawn/run", "uuid", NULL }, *stop[] = { "stop", NULL }, *other[] = { "/nspawn/init", NULL };
  char *said = NULL;
  called = 0;
  assert_int_equal(main_said(table, ELEMENTSOF(table), run, &said), 42);
  assert_int_equal(called, 1);
  assert_string_equal(said, "");
  free(said);
  assert_int_equal(main_said(table, ELEMENTSOF(table), stop, &said), PODRUN_EXIT_ERROR);
  assert_int_equal(called, 2);
  assert_string_equal(said, "podrun-stage1: no\n");
  free(said);
  called = 0;
  assert_int_equal(main_said(table, ELEMENTSOF(table), other, &said), PODRUN_EXIT_ERROR);
  assert_int_equal(called, 0);
  assert_string_equal(said, "podrun-stage1: called as \"init\": not run or stop\n");
  free(said);
  static const struct stage1_entrypoint any[] = { { NULL, "podrun-init", run_one } };
  assert_int_equal(main_said(any, ELEMENTSOF(any), other, &said), 42);
  free(said);
}

static void on_usr1(int sig)
{
  (void) sig;
}

/* A program run in process after a fork gets what its exec would have
 * given it: the close-on-exec fds closed, the others kept; a caught signal
 * back to its default, an ignored one still ignored; its name. */
static void test_as_if_executed(void **state)
{
  int kept[2], closed[2];
  assert_int_equal(pipe(kept), 0);
  assert_int_equal(pipe2(closed, O_CLOEXEC), 0);
  struct sigaction caught = { .sa_handler = on_usr1 }, old1, old2;
  assert_int_equal(sigaction(SIGUSR1, &caught, &old1), 0);
  assert_int_equal(sigaction(SIGUSR2, &(struct sigaction){ .sa_handler = SIG_IGN }, &old2), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    {
      struct sigaction sa1, sa2;
      char comm[17] = "";
      int bad = stage1_as_if_executed("podrun-test") < 0;
      bad |= (fcntl(kept[0], F_GETFD) < 0) << 1 | (fcntl(kept[1], F_GETFD) < 0) << 2;
      bad |= (fcntl(closed[0], F_GETFD) >= 0) << 3 | (fcntl(closed[1], F_GETFD) >= 0) << 4;
      bad |= (sigaction(SIGUSR1, NULL, &sa1) < 0 || sa1.sa_handler != SIG_DFL) << 5;
      bad |= (sigaction(SIGUSR2, NULL, &sa2) < 0 || sa2.sa_handler != SIG_IGN) << 6;
      bad |= (prctl(PR_GET_NAME, comm) < 0 || strcmp(comm, "podrun-test") != 0) << 7;
      _exit(bad);
    }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  /* the caller's own state is its own */
  assert_true(fcntl(closed[0], F_GETFD) >= 0);
  struct sigaction now;
  assert_int_equal(sigaction(SIGUSR1, NULL, &now), 0);
  assert_ptr_equal(now.sa_handler, on_usr1);
  sigaction(SIGUSR1, &old1, NULL);
  sigaction(SIGUSR2, &old2, NULL);
  for (int i = 0; i < 2; i++)
    close(kept[i]), close(closed[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_stage2_argv),
    cmocka_unit_test_setup_teardown(test_pod_exit_code, setup, teardown),
    cmocka_unit_test(test_exit_code),
    cmocka_unit_test(test_main),
    cmocka_unit_test(test_as_if_executed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
