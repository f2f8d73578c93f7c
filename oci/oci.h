/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "json-util.h"

/* podrun-oci: the OCI runtime command line (runc's) over podrun's pods
 * (Documentation/oci-runtime.md). The container ID's state is <root>/<ID>/
 * (state.json, exec.fifo until start); the pod it runs in is a podrun pod
 * in the podrun directory <root>/.podrun (its store holds the stage1
 * images), so `podrun --dir=<root>/.podrun list` shows them. */

#define OCI_VERSION "1.0.2"
#define OCI_PODRUN_DIR ".podrun"
#define OCI_STATE_FILE "state.json"
#define OCI_FIFO "exec.fifo"

extern const char *arg_root; /* --root */

/* The global flags for the verbs. */
struct oci_cmd
{
  const char *name;
  int (*run)(int argc, char **argv, podrun_error_t *err);
  const char *usage;
};

/* What <root>/<ID>/state.json keeps. */
struct oci_state
{
  char *id, *bundle, *uuid, *flavor, *created; /* created: RFC 3339 */
  pid_t pid;                                   /* 0 until create forked it */
  unsigned long long pid_start;                /* its start time (/proc/PID/stat), against pid reuse */
  json_t *annotations;
  json_t *hooks;                               /* {"poststart": […], "poststop": […]} */
  int dirfd;                                   /* <root>/<ID>, flocked while a verb changes it */
  bool creating;                               /* create's hooks run: the status is "creating" */
};

void oci_state_done(struct oci_state *s);

/* runc's rule: letters, digits, '_', '+', '-', '.', not beginning with '.'. */
int oci_id_check(const char *id, podrun_error_t *err);

/* <root>/<ID>: made (exclusive; EEXIST: "already exists"), or opened, and
 * flocked exclusively. */
int oci_state_dir_create(const char *id, int *ret_dirfd, podrun_error_t *err);
int oci_state_load(const char *id, struct oci_state *ret, podrun_error_t *err);
/* The same for a verb that only reads (state, list): without the lock when
 * another verb holds it (create, whose hooks may ask), what it last saved. */
int oci_state_read(const char *id, struct oci_state *ret, podrun_error_t *err);
int oci_state_save(const struct oci_state *s, podrun_error_t *err);

/* "creating", "created", "running" or "stopped". */
const char *oci_state_status(const struct oci_state *s);

/* The runtime spec's state of the container, as `state` prints it and the
 * hooks get it on stdin. */
json_t *oci_state_json(const struct oci_state *s);

/* The start time of a process (field 22 of /proc/PID/stat), 0 if it is
 * gone or a zombie. */
unsigned long long oci_pid_start(pid_t pid);

/* Removes <root>/<ID> whatever it holds. */
int oci_state_remove(const char *id, podrun_error_t *err);

/* hooks.c: runs the hooks (an array of config.json's, hooks.KIND) in
 * order, each with the state on stdin, within its timeout; the first that
 * fails is the error: `hooks.KIND[I] "PATH": exited with status N`. */
int oci_hooks_run(json_t *hooks, const char *kind, const struct oci_state *s, podrun_error_t *err);

/* console.c: a new pty whose master goes to the unix socket at path (as
 * SCM_RIGHTS, runc's --console-socket); *ret_slave: its other side. */
int oci_console_send(const char *path, int *ret_slave, podrun_error_t *err);
/* In a child: the pty slave as stdio and controlling terminal of a new session. */
int oci_console_take(int slave);

/* The pod's cgroup processes, recursively (the pod: its uuid). */
int oci_pod_pids(const char *uuid, pid_t **ret, size_t *ret_n, podrun_error_t *err);

/* The host pid of the app's process of a running container (nspawn, fly;
 * a kvm pod's is in its VM), checked to be in the pod's cgroup. */
int oci_app_pid(const struct oci_state *st, pid_t *ret, podrun_error_t *err);

/* Parses "9", "KILL", "SIGKILL". */
int oci_signal_parse(const char *s, int *ret, podrun_error_t *err);

/* The verbs. */
int oci_create(int argc, char **argv, podrun_error_t *err);
int oci_start(int argc, char **argv, podrun_error_t *err);
int oci_state_cmd(int argc, char **argv, podrun_error_t *err);
int oci_list(int argc, char **argv, podrun_error_t *err);
int oci_kill(int argc, char **argv, podrun_error_t *err);
int oci_delete(int argc, char **argv, podrun_error_t *err);
int oci_exec(int argc, char **argv, podrun_error_t *err);
int oci_ps(int argc, char **argv, podrun_error_t *err);
int oci_features(int argc, char **argv, podrun_error_t *err);

/* Verb arguments, runc's way: "--flag VALUE", "--flag=VALUE" or a bool
 * "--flag"; the first non-flag ends the flags. *i is the index of the
 * flag; returns the value (moving *i) or NULL for a bool. */
struct oci_opt
{
  const char *name;
  bool has_value;
  const char **value; /* has_value */
  bool *flag;         /* !has_value */
};
/* Parses the verb's flags from argv[1…]; *ret_first: the first argument
 * after them. Unknown flags: one error naming them. */
int oci_parse(const char *verb, const struct oci_opt *opts, int argc, char **argv, int *ret_first, podrun_error_t *err);
/* The same for a verb of one container ID, whose state it loads. */
int oci_parse_one(const char *verb, const struct oci_opt *opts, int argc, char **argv, struct oci_state *ret,
                  podrun_error_t *err);
