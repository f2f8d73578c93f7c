/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command table and what every verb shares: flag parsing (global flags
 * before or after the verb), --help from the table, store opening, and the
 * one place where an error is printed and turned into exit code 254. */
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "podrun.h"

const char *arg_dir = "/var/lib/podrun";
const char *arg_local_config = "/etc/podrun";
const char *arg_system_config = PODRUN_LIBDIR;
bool arg_debug;
unsigned arg_insecure;
struct store *podrun_store;

static const char *arg_insecure_str;

static const struct opt global_opts[] = {
  { "dir", OPT_STRING, &arg_dir, "podrun's data directory (default /var/lib/podrun)", "DIR" },
  { "local-config", OPT_STRING, &arg_local_config, "local configuration directory (default /etc/podrun)", "DIR" },
  { "system-config", OPT_STRING, &arg_system_config, "system configuration directory (default /usr/lib/podrun)",
    "DIR" },
  { "debug", OPT_BOOL, &arg_debug, "print debug messages to stderr", NULL },
  { "insecure-options", OPT_STRING, &arg_insecure_str,
    "comma-separated checks to skip: none, image, tls, ondisk, http, pubkey, capabilities, paths, seccomp, all",
    "LIST" },
  { NULL },
};

static const struct cmd cmd_fetch_entry = { "fetch", cmd_fetch, "IMAGE...", "Fetch image(s) into the local store",
    "IMAGE is an ACI: a file (tar, optionally gzip, bzip2 or xz compressed), a file:// or\n"
    "https:// URL, or a NAME[:VERSION] found by appc discovery; or an OCI image:\n"
    "docker://[HOST[:PORT]/]NAME[:TAG|@DIGEST] (any Docker Registry v2 / OCI registry; without\n"
    "a HOST, defaultRegistry of registries.json in the configuration directories),\n"
    "oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE. Prints the id of each image,\n"
    "one per line: an ACI's sha512, an OCI image's config digest (sha256-…). Layers the store\n"
    "has are not fetched again; a name or id the store has is not fetched at all.\n\n"
    "Signatures: an ACI is verified against its detached signature (FILE.asc beside it, or\n"
    "--signature) and the keys trusted for a prefix of its name (podrun trust). A docker://\n"
    "image is judged by policy.json (reject, insecureAcceptAnything, signedBy; by default\n"
    "signedBy the trust store) and verified by its simple-signing signatures, from the\n"
    "lookaside registries.d/*.yaml names for it or the registry's signature extension,\n"
    "against the keys trusted for its HOST/REPO (a port's ':' written '-'). Unsigned or\n"
    "unverifiable images, OCI layouts and archives among them, need --insecure-options=image,\n"
    "which never overrides a policy's reject.\n"
    "A server without TLS needs --insecure-options=http, one whose certificate does not verify\n"
    "a CA in certs.d/HOST:PORT/ of the local configuration or --insecure-options=tls.\n"
    "Registry credentials: auth.d/*.json of the configuration directories, or --authfile.\n\n"
    "Examples:\n  podrun --insecure-options=image fetch build/busybox.aci\n"
    "  podrun --insecure-options=image,http fetch docker://127.0.0.1:5000/test/busybox:1",
    fetch_opts, NULL, 1, -1, CMD_STORE_RW };
static const struct cmd cmd_run_entry = { "run", cmd_run, "IMAGE [app flags] [-- args… ---] [IMAGE [app flags] …]", "Run images as a pod",
    "Creates a pod of one app per IMAGE and runs it in the foreground: podrun is replaced by\n"
    "the pod's stage1 and exits with the pod's exit code (the first failing app's, else 0);\n"
    "podrun's own errors exit 254. IMAGE is a name or id in the store, or what fetch takes (an\n"
    "ACI file, an https:// URL, a name found by discovery, docker://…, oci:DIR[:TAG] …),\n"
    "fetched and verified first when the store lacks it (see fetch and --pull-policy).\n"
    "App flags before the first IMAGE apply\n"
    "to every app; after an IMAGE, to that app. \"--\" starts the app's arguments, \"---\" ends them.\n"
    "The pod's network: nspawn's default is --net=default, a network namespace of the pod's own\n"
    "with an address of 172.16.28.0/24 and NAT (a CNI network; before, the host's network was\n"
    "the default: give --net=host for it); fly always shares the host's (Documentation/networking.md).\n\n"
    "Examples:\n"
    "  podrun run --stage1=fly podrun.test/busybox --exec=/bin/echo -- hello ---\n"
    "  podrun run podrun.test/busybox --exec=/bin/busybox -- ip -4 -o addr show eth0 ---\n"
    "  podrun run --volume data,kind=host,source=/srv/data podrun.test/busybox --mount volume=data,target=/var/db \\\n"
    "      --exec=/bin/ls -- /var/db",
    run_opts, NULL, 0, -1, CMD_STORE_RW | CMD_RAW_TAIL };
static const struct cmd cmd_prepare_entry = { "prepare", cmd_prepare, "IMAGE [app flags] [-- args… ---] [IMAGE …]", "Prepare a pod to run later",
    "Like run, but stops once the pod is ready and prints its UUID; start it with run-prepared.\n"
    "A prepared pod not started within --expire-prepared (default 24h) is removed by gc.\n\n"
    "Example:\n  uuid=$(podrun prepare podrun.test/busybox) && podrun run-prepared $uuid",
    run_opts, NULL, 0, -1, CMD_STORE_RW | CMD_RAW_TAIL };
static const struct cmd cmd_run_prepared_entry = { "run-prepared", cmd_run_prepared, "UUID", "Run a prepared pod",
    "Starts the pod exactly as prepare set it up: its apps, volumes, stage1 and pod flags\n"
    "(--net, --hostname, --interactive) were fixed then, so run-prepared takes none of them.\n"
    "--mds-register alone may be given again: it overrides prepare's.\n"
    "UUID may be a unique prefix.\n\nExample:\n  podrun run-prepared 5f0b", run_prepared_opts, NULL, 1, 1, CMD_STORE_RW };
/* trust (stage0/cmd-trust.c) */
static const struct cmd cmd_trust_entry = { "trust", cmd_trust, "--prefix=PREFIX KEY... | --root KEY... | --list | --remove FINGERPRINT...",
  "Trust keys to sign images",
  "A signed image is fetched without --insecure-options=image when its signature (IMAGE.asc)\n"
  "is good and made by a key trusted for a prefix of the image's name (whole path components:\n"
  "example.com trusts example.com/app, not example.community) or by a root key, and that key\n"
  "is neither expired nor revoked. KEY is a file or an https URL holding one armored OpenPGP\n"
  "public key (gpg --armor --export); http only with --insecure-options=http or pubkey. With\n"
  "--prefix and no KEY, the keys the prefix's appc discovery names (ac-discovery-pubkeys).\n\n"
  "Each key's fingerprint and user id are shown and confirmation is asked on the terminal,\n"
  "unless --skip-fingerprint-review; without a terminal that flag is required.\n"
  "--insecure-options=pubkey does not skip the review (it is rkt's flag for fetching keys\n"
  "over insecure connections). Keys are kept in trustedkeys/prefix.d/<prefix with / as ,>/\n"
  "and trustedkeys/root.d/ of the local configuration, one file per key named by its\n"
  "fingerprint; the system configuration's trustedkeys/ is read too, never changed: an empty\n"
  "file of a system key's name in the local set masks that key.\n"
  "--list prints PREFIX ((root) for root keys), FINGERPRINT, UID and FILE. See\n"
  "Documentation/signing.md.\n\n"
  "Examples:\n  podrun trust --list\n  podrun trust --list --format=json",
  trust_opts, NULL, 0, -1, 0,};
/* metadata-service (stage0/cmd-metadata.c) */
static const struct cmd cmd_metadata_service_entry = { "metadata-service", cmd_metadata_service, "",
    "Run the appc metadata service",
    "Runs podrun-metadata, the App Container metadata service, in the foreground (it is the\n"
    "binary installed beside podrun; this is rkt's name for it). Pods started with\n"
    "run --mds-register are registered with it on its unix socket (root's) and ask it, at\n"
    "their AC_METADATA_URL, for their manifests, uuid, annotations and HMAC signatures.\n"
    "It drops root once its sockets are bound. See Documentation/metadata-service.md.",
    metadata_service_opts, NULL, 0, 0, 0 };
static const struct cmd cmd_version_entry = { "version", cmd_version, "", "Print the version", NULL, NULL, NULL, 0, 0, 0 };
static const struct cmd cmd_help_entry = { "help", cmd_help, "[COMMAND...]", "Show help for podrun or a command", NULL, NULL, NULL, 0, -1, 0 };

static const struct cmd *const cmd_table[] = {
  &cmd_run_entry,
  &cmd_prepare_entry,
  &cmd_run_prepared_entry,
  &cmd_list,
  &cmd_status,
  &cmd_enter,
  &cmd_export,
  &cmd_logs,
  &cmd_stop,
  &cmd_cat_manifest,
  &cmd_rm,
  &cmd_gc,
  &cmd_fetch_entry,
  &cmd_image,
  &cmd_generate,
  &cmd_trust_entry,
  &cmd_policy,
  &cmd_metadata_service_entry,
  &cmd_version_entry,
  &cmd_help_entry,
  NULL,
};

static const struct cmd root_cmd = {
  "podrun", NULL, "COMMAND", "a pod-native container runtime", NULL, NULL, cmd_table, 0, 0, 0,
};

static void print_opts(FILE *f, const struct opt *opts)
{
  for (const struct opt *o = opts; o && o->name; o++)
    {
      _cleanup_free_ char *flag = o->type == OPT_BOOL       ? xasprintf("--%s", o->name)
                                  : o->type == OPT_OPTIONAL ? xasprintf("--%s[=%s]", o->name, o->metavar)
                                                            : xasprintf("--%s=%s", o->name, o->metavar ? o->metavar : "VALUE");
      fprintf(f, "  %-28s %s\n", flag, o->help);
    }
}

static void print_help(FILE *f, const char *path, const struct cmd *cmd)
{
  fprintf(f, "Usage: %s%s%s%s\n\n%s%s\n", path, cmd->opts ? " [flags]" : "", *cmd->usage ? " " : "", cmd->usage,
          cmd == &root_cmd ? "podrun: " : "", cmd->summary);
  if (cmd->description)
    fprintf(f, "\n%s\n", cmd->description);
  if (cmd->subcmds)
    {
      fprintf(f, "\nCommands:\n");
      for (const struct cmd *const *c = cmd->subcmds; *c; c++)
        fprintf(f, "  %-14s %s\n", (*c)->name, (*c)->summary);
    }
  if (cmd->opts)
    {
      fprintf(f, "\nFlags:\n");
      print_opts(f, cmd->opts);
    }
  fprintf(f, "\nGlobal flags:\n");
  print_opts(f, global_opts);
  if (cmd->subcmds)
    fprintf(f, "\nRun '%s COMMAND --help' for more about a command.\n", path);
}

static const struct cmd *find_cmd(const struct cmd *const *table, const char *name)
{
  for (const struct cmd *const *c = table; c && *c; c++)
    if (streq((*c)->name, name))
      return *c;
  return NULL;
}

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t len)
{
  for (const struct opt *o = opts; o && o->name; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

static int parse_bool(const char *flag, const char *v, bool *ret, podrun_error_t *err)
{
  if (!v)
    return *ret = true, 0;
  if (parse_boolean(v, ret, err) < 0)
    return podrun_error_wrap(err, "flag --%s", flag);
  return 0;
}

static int set_opt(const struct opt *o, const char *v, podrun_error_t *err)
{
  switch (o->type)
    {
    case OPT_BOOL:
      return parse_bool(o->name, v, o->target, err);
    case OPT_STRING:
      *(const char **) o->target = v;
      return 0;
    case OPT_OPTIONAL:
      *(const char **) o->target = v ? v : o->implicit ? o->implicit : "true";
      return 0;
    case OPT_DURATION:
      if (parse_duration(v, o->target, err) < 0)
        return podrun_error_wrap(err, "flag --%s", o->name);
      return 0;
    case OPT_STRV:
      *(char ***) o->target = strv_push(*(char ***) o->target, v);
      return 0;
    }
  return 0;
}

int parse_flag(const char *verb, const struct opt *opts, int argc, char **argv, int *i, podrun_error_t *err)
{
  const char *a = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
  const char *eq = strchr(a, '=');
  size_t len = eq ? (size_t) (eq - a) : strlen(a);
  const struct opt *o = find_opt(opts, a, len);
  const char *v = eq ? eq + 1 : NULL;

  if (!o)
    o = find_opt(global_opts, a, len);
  if (!o)
    {
      _cleanup_free_ char *flag = xstrndup(argv[*i], len + (size_t) (a - argv[*i]));
      return podrun_error_set(err, 0, "unknown flag %s for %s; see '--help'", QUOTE(flag), QUOTE(verb));
    }
  if (!v && o->type != OPT_BOOL && o->type != OPT_OPTIONAL)
    {
      if (*i + 1 >= argc)
        return podrun_error_set(err, 0, "flag --%s needs a value", o->name);
      v = argv[++*i];
    }
  return set_opt(o, v, err);
}

struct invocation
{
  const struct cmd *cmd;
  char path[256]; /* "podrun image list" */
  char **args;
  int nargs;
  bool help;
};

static int parse_command_line(int argc, char **argv, struct invocation *inv, podrun_error_t *err)
{
  bool dashdash = false;

  inv->cmd = &root_cmd;
  snprintf(inv->path, sizeof(inv->path), "podrun");
  inv->args = xzalloc(sizeof(char *) * (size_t) (argc + 1));
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (!dashdash && streq(a, "--"))
        dashdash = true;
      else if (!dashdash && (streq(a, "-h") || streq(a, "--help")))
        inv->help = true;
      else if (!dashdash && a[0] == '-' && a[1])
        {
          /* errors name the command as typed: "image list", not "list" */
          const char *verb = inv->cmd == &root_cmd ? inv->path : inv->path + strlen("podrun ");
          if (parse_flag(verb, inv->cmd->opts, argc, argv, &i, err) < 0)
            return -1;
        }
      else if (!inv->cmd->subcmds && (inv->cmd->flags & CMD_RAW_TAIL))
        {
          /* run IMAGE [app flags] [-- args ---] …: the verb parses the rest */
          while (i < argc)
            inv->args[inv->nargs++] = argv[i++];
        }
      else if (inv->cmd->subcmds && inv->nargs == 0)
        {
          const struct cmd *c = find_cmd(inv->cmd->subcmds, a);
          if (!c)
            return podrun_error_set(err, 0, "unknown command %s for %s; see '%s help'", QUOTE(a), QUOTE(inv->path),
                                    inv->path);
          inv->cmd = c;
          size_t l = strlen(inv->path);
          snprintf(inv->path + l, sizeof(inv->path) - l, " %s", c->name);
        }
      else
        inv->args[inv->nargs++] = argv[i];
    }
  return 0;
}

static int check_args(const struct invocation *inv, podrun_error_t *err)
{
  const struct cmd *c = inv->cmd;
  if (inv->nargs < c->min_args || (c->max_args >= 0 && inv->nargs > c->max_args))
    return podrun_error_set(err, 0, "%s: %s arguments; usage: %s %s", inv->path,
                            inv->nargs < c->min_args ? "missing" : "too many", inv->path, c->usage);
  return 0;
}

/* --dir, --local-config, --system-config: a directory (or nothing yet),
 * absolute from here on, since the stage1 runs from the pod's directory. */
static int check_dir_flag(const char *name, const char **value, podrun_error_t *err)
{
  static char *owned[3];
  static size_t n_owned;
  struct stat st;
  char cwd[4096];

  if (!**value)
    return podrun_error_new(err, EINVAL, "--%s=: an empty path; give a directory", name);
  if (stat(*value, &st) == 0 && !S_ISDIR(st.st_mode))
    return podrun_error_new(err, ENOTDIR, "--%s=%s: not a directory", name, ESCAPE(*value));
  if (**value == '/')
    return 0;
  if (!getcwd(cwd, sizeof(cwd)))
    return podrun_error_set(err, errno, "--%s=%s: the current directory", name, ESCAPE(*value));
  if (n_owned < ELEMENTSOF(owned))
    *value = owned[n_owned++] = xasprintf("%s/%s", cwd, *value);
  return 0;
}

static int check_global_flags(podrun_error_t *err)
{
  if (check_dir_flag("dir", &arg_dir, err) < 0 || check_dir_flag("local-config", &arg_local_config, err) < 0 ||
      check_dir_flag("system-config", &arg_system_config, err) < 0)
    return -1;
  return 0;
}

static int open_store(unsigned flags, podrun_error_t *err)
{
  _cleanup_free_ char *idx = xasprintf("%s/cas/index.db", arg_dir);
  if (flags & CMD_STORE_RW)
    return store_open(arg_dir, 0, &podrun_store, err);
  if (!(flags & CMD_STORE_RO))
    return 0;
  /* Read-only verbs on a store that was never created see an empty one. */
  if (access(idx, F_OK) < 0 && errno == ENOENT)
    return 0;
  return store_open(arg_dir, STORE_READONLY, &podrun_store, err);
}

static int run(int argc, char **argv, podrun_error_t *err)
{
  struct invocation inv = { 0 };
  int r;

  r = parse_command_line(argc, argv, &inv, err);
  _cleanup_free_ char **args = inv.args;
  if (r < 0)
    return -1;
  if (arg_debug)
    log_set_level(LOG_LEVEL_DEBUG);
  if (arg_insecure_str && parse_insecure_options(arg_insecure_str, &arg_insecure, err) < 0)
    return -1;
  if (inv.help || (!inv.cmd->fn && inv.cmd == &root_cmd))
    {
      print_help(stdout, inv.path, inv.cmd);
      return 0;
    }
  if (!inv.cmd->fn)
    return podrun_error_set(err, 0, "%s: missing command; see '%s --help'", inv.path, inv.path);
  if (check_args(&inv, err) < 0 || check_global_flags(err) < 0 || open_store(inv.cmd->flags, err) < 0)
    return -1;
  r = inv.cmd->fn(inv.cmd, inv.nargs, inv.args, err);
  store_close(TAKE_PTR(podrun_store));
  return r;
}

int cmd_help(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  const struct cmd *c = &root_cmd;
  char path[256] = "podrun";

  for (int i = 0; i < argc; i++)
    {
      c = find_cmd(c->subcmds, argv[i]);
      if (!c)
        return podrun_error_set(err, 0, "help: unknown command %s", QUOTE(argv[i]));
      size_t l = strlen(path);
      snprintf(path + l, sizeof(path) - l, " %s", c->name);
    }
  print_help(stdout, path, c);
  return 0;
}

int cmd_version(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  printf("podrun Version: %s\nappc Version: %s\nstage1 interface version: %d\n", PODRUN_VERSION, APPC_VERSION,
         STAGE1_INTERFACE_VERSION);
  return 0;
}

int podrun_main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;

  log_set_program("podrun");
  if (run(argc, argv, &err) < 0)
    {
      log_error("%s", err ? err->msg : "failed");
      return PODRUN_EXIT_ERROR;
    }
  if (fflush(stdout) != 0)
    {
      log_error("write to stdout: %s", strerror(errno));
      return PODRUN_EXIT_ERROR;
    }
  return 0;
}
