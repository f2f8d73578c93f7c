/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"
#include "store/store.h"

#define PODRUN_VERSION "0.1.0"
#define APPC_VERSION "0.8.11"
#define STAGE1_INTERFACE_VERSION 1

/* Global flags, accepted before and after the verb. */
extern const char *arg_dir;
extern const char *arg_local_config;
extern const char *arg_system_config;
extern bool arg_debug;
extern unsigned arg_insecure; /* INSECURE_* bits */

enum
{
  INSECURE_IMAGE = 1 << 0,
  INSECURE_TLS = 1 << 1,
  INSECURE_ONDISK = 1 << 2,
  INSECURE_HTTP = 1 << 3,
  INSECURE_PUBKEY = 1 << 4,
  INSECURE_CAPABILITIES = 1 << 5,
  INSECURE_PATHS = 1 << 6,
  INSECURE_SECCOMP = 1 << 7,
  INSECURE_ALL = 0xff,
};

enum opt_type
{
  OPT_BOOL,     /* --x, --x=true|false */
  OPT_STRING,   /* --x=V or --x V */
  OPT_DURATION, /* Go-style: 0, 90s, 30m, 24h, 1h30m, 500ms → int64 microseconds */
  OPT_STRV,     /* repeatable: each value appended to a char ** */
  OPT_OPTIONAL, /* --x (= its implicit value, else "true") or --x=V, never the next argument */
};

struct opt
{
  const char *name;
  enum opt_type type;
  void *target; /* bool *, const char **, int64_t * */
  const char *help;
  const char *metavar;
  const char *implicit; /* OPT_OPTIONAL: the value of --x alone (NULL: "true") */
};

struct cmd;
typedef int (*cmd_fn)(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);

enum cmd_flags
{
  CMD_STORE_RW = 1 << 0, /* opens the store for writing (creates it) */
  CMD_STORE_RO = 1 << 1, /* opens the store read-only (a missing store is empty) */
  CMD_RAW_TAIL = 1 << 2, /* flags stop at the first argument; the rest is the verb's (run) */
};

struct cmd
{
  const char *name;
  cmd_fn fn;         /* NULL for a group of subcommands */
  const char *usage; /* arguments after the verb */
  const char *summary;
  const char *description; /* NULL, or a longer text with examples */
  const struct opt *opts;  /* NULL-name terminated, may be NULL */
  const struct cmd *const *subcmds; /* NULL-terminated */
  int min_args, max_args;    /* max -1: unlimited */
  unsigned flags;
};

/* The store the command table opened for the running verb (CMD_STORE_*). */
extern struct store *podrun_store;

int podrun_main(int argc, char **argv);

/* Parses one flag at argv[*i] against opts (then the global flags), taking
 * its value from the next argument when needed. */
int parse_flag(const char *verb, const struct opt *opts, int argc, char **argv, int *i, podrun_error_t *err);

/* --format: NULL, "json" or "json-pretty". */
int check_format(const char *format, podrun_error_t *err);

/* For verbs that go on after a failure: one line per failure, in order.
 * The error kept before is logged now, e is kept as the verb's (the last
 * one, printed when the verb returns). e is consumed. */
void keep_error(podrun_error_t *err, podrun_error_t *e, int *failed);

/* true/false, yes/no, on/off, 1/0, y/n, t/f, in any case. */
int parse_boolean(const char *s, bool *ret, podrun_error_t *err);
int parse_duration(const char *s, int64_t *ret_usec, podrun_error_t *err);
int parse_insecure_options(const char *s, unsigned *ret, podrun_error_t *err);
/* "5 minutes ago"-style, or RFC 3339 when full. buf ≥ 64. */
const char *format_time(char *buf, size_t len, int64_t usec, bool full);
const char *format_time_rfc3339(char *buf, size_t len, int64_t usec);

/* Verbs (one file each: stage0/cmd-<verb>.c). */
extern const struct cmd cmd_image;
extern const struct cmd cmd_generate;
/* podrun called as podrun-generator: the systemd generator of pod units
 * (stage0/cmd-generate.c). */
int podrun_generator(int argc, char **argv);
extern const struct opt fetch_opts[];
int cmd_fetch(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
int cmd_version(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
int cmd_help(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
int cmd_run(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
int cmd_prepare(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
int cmd_run_prepared(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
extern const struct opt run_opts[];
extern const struct opt run_prepared_opts[];
int cmd_metadata_service(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
extern const struct opt metadata_service_opts[];
int cmd_trust(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err);
extern const struct opt trust_opts[];
extern const struct cmd cmd_policy;
extern const struct cmd cmd_list, cmd_status, cmd_rm, cmd_gc, cmd_cat_manifest, cmd_stop, cmd_enter, cmd_export, cmd_logs;
