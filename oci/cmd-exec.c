/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: a process in the running container, through the stage1's enter
 * entrypoint (as `podrun enter`): in the app's namespaces, root and
 * cgroup, as its user, with its capabilities, seccomp filter,
 * environment and working directory. */
#include "oci.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appc.h"
#include "fs.h"
#include "log.h"
#include "stage0/pod-setup.h"
#include "stage0/pods.h"
#include "stage0/podrun.h"

extern int oci_exit_code;

static const char *arg_process, *arg_pid_file, *arg_console_socket, *arg_preserve_fds, *arg_cwd;
static bool arg_detach, arg_tty;

struct exec_process
{
  char **args;
  bool terminal;
  json_t *j; /* process.json, NULL: args from the command line */
};

static void exec_process_done(struct exec_process *p)
{
  strv_free(p->args);
  json_decref(p->j);
}

static int read_process(int argc, char **argv, int first, struct exec_process *ret, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0, i;
  json_t *e;

  if (!arg_process)
    {
      for (int k = first + 1; k < argc; k++)
        ret->args = strv_push(ret->args, argv[k]);
      ret->terminal = arg_tty;
      return ret->args ? 0 : podrun_error_new(err, 0, "exec: give --process or a command");
    }
  if (first + 1 < argc)
    return podrun_error_new(err, 0, "exec: --process or a command, not both");
  if (fs_read_file_at(AT_FDCWD, arg_process, OCI_CONFIG_MAX, &text, &len, err) < 0 ||
      json_parse_untrusted(text, len, "--process", &ret->j, err) < 0)
    return -1;
  json_t *args = json_object_get(ret->j, "args");
  json_array_foreach (args, i, e)
    if (json_is_string(e))
      ret->args = strv_push(ret->args, json_string_value(e));
  if (!ret->args || json_array_size(args) != strv_length(ret->args))
    return podrun_error_new(err, 0, "exec: --process %s: args is not an array of strings", QUOTE(arg_process));
  ret->terminal = json_is_true(json_object_get(ret->j, "terminal"));
  return 0;
}

/* What the process asks for beyond its args must be what the app has
 * (enter runs as the app runs): another user is refused; another cwd or
 * environment is said. */
static int check_like_app(struct pod *p, const struct exec_process *proc, podrun_error_t *err)
{
  _cleanup_(appc_pod_manifest_freep) struct appc_pod_manifest *m = NULL;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  json_t *user = json_object_get(proc->j, "user");
  const char *cwd = proc->j ? json_string_value(json_object_get(proc->j, "cwd")) : arg_cwd;

  if (fs_read_file_at(p->dirfd, "pod", JSON_MAX_INPUT, &text, &len, err) < 0 ||
      appc_pod_manifest_parse(text, len, &m, err) < 0)
    return -1;
  const struct appc_app *app = m->apps[0].app;
  if (user)
    {
      _cleanup_free_ char *u = xasprintf("%lld", (long long) json_integer_value(json_object_get(user, "uid")));
      _cleanup_free_ char *g = xasprintf("%lld", (long long) json_integer_value(json_object_get(user, "gid")));
      if (!streq(u, app->user) || !streq(g, app->group))
        return podrun_error_new(err, 0, "exec: process.user %s:%s: a process in the container runs as its app, %s:%s",
                                u, g, app->user, app->group);
    }
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get(proc->j, "env"), i, e)
    {
      const char *kv = json_string_value(e), *eq = kv ? strchr(kv, '=') : NULL;
      _cleanup_free_ char *name = eq ? xstrndup(kv, (size_t) (eq - kv)) : NULL;
      const char *have = name ? appc_kvs_get(&app->environment, name) : NULL;
      if (kv && (!have || !streq(have, eq + 1)))
        {
          log_warning("exec: process.env %s: the process gets the app's environment", QUOTE(kv));
          break;
        }
    }
  if (cwd && app->working_directory && !streq(cwd, app->working_directory))
    log_warning("exec: cwd %s: the process starts in the app's working directory, %s", QUOTE(cwd),
                QUOTE(app->working_directory));
  return 0;
}

static _noreturn_ void exec_enter(struct pod *p, const char *enter, char **argv, int slave)
{
  if (fchdir(p->dirfd) < 0 || (slave >= 0 && oci_console_take(slave) < 0))
    {
      log_error("exec: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  execv(enter, argv);
  log_error("exec %s: %s", QUOTE(enter), strerror(errno));
  _exit(PODRUN_EXIT_ERROR);
}

static int enter_argv(struct pod *p, char *const *args, char **ret_enter, char ***ret_argv, podrun_error_t *err)
{
  _cleanup_store_ struct store *s = NULL;
  _cleanup_free_ char *id = NULL;
  pid_t pid = pod_read_pid(p->dirfd);

  if (pid <= 0)
    return podrun_error_new(err, 0, "pod %s has no pid (yet)", p->uuid);
  if (fs_read_file_at(p->dirfd, "stage1/image-id", 256, &id, NULL, err) < 0 ||
      store_open(arg_dir, 0, &s, err) < 0 || stage1_entrypoint(s, id, "enter", ret_enter, err) < 0)
    return podrun_error_wrap(err, "pod %s", p->uuid);
  _cleanup_free_ char *pid_arg = xasprintf("--pid=%d", (int) pid);
  char **v = strv_push(strv_push(strv_push(strv_push(NULL, *ret_enter), pid_arg), "--app=" OCI_APP_NAME), "--");
  for (size_t i = 0; args[i]; i++)
    v = strv_push(v, args[i]);
  *ret_argv = v;
  return 0;
}

static int run_exec(struct oci_state *st, const struct exec_process *proc, podrun_error_t *err)
{
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ char *pods = pods_dir(), *enter = NULL;
  _cleanup_strv_ char **argv = NULL;
  _cleanup_close_ int slave = -1;
  int status;

  if (pod_load(pods, st->uuid, &p, err) < 0 || check_like_app(p, proc, err) < 0 ||
      enter_argv(p, proc->args, &enter, &argv, err) < 0)
    return -1;
  if (proc->terminal && (!arg_console_socket || oci_console_send(arg_console_socket, &slave, err) < 0))
    return arg_console_socket ? -1 : podrun_error_new(err, 0, "exec: a terminal needs --console-socket");
  close(st->dirfd); /* its lock is the verbs', not the process's */
  st->dirfd = -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    exec_enter(p, enter, argv, slave);
  if (arg_pid_file)
    {
      _cleanup_free_ char *text = xasprintf("%d", (int) pid);
      if (fs_write_file_atomic_at(AT_FDCWD, arg_pid_file, text, strlen(text), 0644, err) < 0)
        return kill(pid, SIGKILL), -1;
    }
  if (arg_detach)
    return 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait");
  oci_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}

int oci_exec(int argc, char **argv, podrun_error_t *err)
{
  const struct oci_opt opts[] = {
    { "process", true, &arg_process },
    { "p", true, &arg_process },
    { "pid-file", true, &arg_pid_file },
    { "console-socket", true, &arg_console_socket },
    { "preserve-fds", true, &arg_preserve_fds },
    { "cwd", true, &arg_cwd },
    { "detach", false, .flag = &arg_detach },
    { "d", false, .flag = &arg_detach },
    { "tty", false, .flag = &arg_tty },
    { "t", false, .flag = &arg_tty },
    { NULL },
  };
  _cleanup_(oci_state_done) struct oci_state st = { .dirfd = -1 };
  _cleanup_(exec_process_done) struct exec_process proc = { 0 };
  unsigned long long n = 0;
  int first;

  if (oci_parse("exec", opts, argc, argv, &first, err) < 0)
    return -1;
  if (first >= argc)
    return podrun_error_new(err, 0, "exec: give the container ID");
  if (arg_preserve_fds && (parse_uint(arg_preserve_fds, 1024, &n) < 0 || n > 0))
    return podrun_error_new(err, 0, "exec: --preserve-fds=%s: passing extra fds is not supported",
                            ESCAPE(arg_preserve_fds));
  if (read_process(argc, argv, first, &proc, err) < 0 || oci_state_load(argv[first], &st, err) < 0)
    return -1;
  const char *status = oci_state_status(&st);
  if (!streq(status, "running"))
    return podrun_error_new(err, 0, "container %s is %s, not running", ESCAPE(st.id), status);
  return run_exec(&st, &proc, err);
}
