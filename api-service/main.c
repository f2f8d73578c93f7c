/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-api: the read-only HTTP/JSON API over pods, images and their
 * events (Documentation/api.md). It binds its sockets (or takes systemd's),
 * drops root, and serves until SIGTERM or SIGINT. */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fs.h"
#include "http.h"
#include "log.h"
#include "pod.h"
#include "service.h"

static char **arg_listen;
static const char *arg_dir = "/var/lib/podrun";
static const char *arg_user, *arg_group;
static const char *arg_openapi;
static const char *arg_system_config = PODRUN_LIBDIR;
static struct api_http_limits arg_limits;

static void help(void)
{
  printf("Usage: podrun-api [OPTIONS]\n\n"
         "Serves a read-only HTTP/JSON API over podrun's pods, images and events (see api.md).\n\n"
         "Options:\n"
         "  --listen=unix:PATH|tcp:HOST:PORT  where to listen (repeatable; default unix:/run/podrun/api.sock,\n"
         "                                    or the sockets systemd passes)\n"
         "  --dir=DIR                         podrun's data directory (default /var/lib/podrun)\n"
         "  --user=USER                       the user to run as after binding (default podrun-api, else nobody)\n"
         "  --group=GROUP                     the group to run as and own unix sockets (default podrun)\n"
         "  --max-connections=N               connections per listener (default %u)\n"
         "  --max-streams=N                   logs?follow and events streams at once (default %u)\n"
         "  --request-timeout=SECONDS         time a client has to send its request (default %u)\n"
         "  --openapi=FILE                    the OpenAPI document to serve (default the one built in)\n"
         "  --debug                           log at debug level\n"
         "  --version                         print the version\n"
         "  --help                            this text\n",
         arg_limits.max_connections, arg_limits.max_streams, arg_limits.request_timeout);
}

static int parse_count(const char *name, const char *v, unsigned max, unsigned *ret, podrun_error_t *err)
{
  unsigned long long n;
  if (parse_uint(v, max, &n) < 0 || n == 0)
    return podrun_error_new(err, EINVAL, "--%s=%s: expected a number from 1 to %u", name, ESCAPE(v), max);
  *ret = (unsigned) n;
  return 0;
}

static int parse_args(int argc, char **argv, podrun_error_t *err)
{
  enum { ARG_LISTEN = 256, ARG_DIR, ARG_USER, ARG_GROUP, ARG_MAXC, ARG_MAXS, ARG_TIMEOUT, ARG_OPENAPI, ARG_DEBUG,
         ARG_VERSION, ARG_HELP };
  static const struct option opts[] = {
    { "listen", required_argument, NULL, ARG_LISTEN },
    { "dir", required_argument, NULL, ARG_DIR },
    { "user", required_argument, NULL, ARG_USER },
    { "group", required_argument, NULL, ARG_GROUP },
    { "max-connections", required_argument, NULL, ARG_MAXC },
    { "max-streams", required_argument, NULL, ARG_MAXS },
    { "request-timeout", required_argument, NULL, ARG_TIMEOUT },
    { "openapi", required_argument, NULL, ARG_OPENAPI },
    { "debug", no_argument, NULL, ARG_DEBUG },
    { "version", no_argument, NULL, ARG_VERSION },
    { "help", no_argument, NULL, ARG_HELP },
    { NULL },
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
    switch (c)
      {
      case ARG_LISTEN: arg_listen = strv_push(arg_listen, optarg); break;
      case ARG_DIR: arg_dir = optarg; break;
      case ARG_USER: arg_user = optarg; break;
      case ARG_GROUP: arg_group = optarg; break;
      case ARG_OPENAPI: arg_openapi = optarg; break;
      case ARG_MAXC:
        if (parse_count("max-connections", optarg, 65536, &arg_limits.max_connections, err) < 0)
          return -1;
        break;
      case ARG_MAXS:
        if (parse_count("max-streams", optarg, 65536, &arg_limits.max_streams, err) < 0)
          return -1;
        break;
      case ARG_TIMEOUT:
        if (parse_count("request-timeout", optarg, 3600, &arg_limits.request_timeout, err) < 0)
          return -1;
        break;
      case ARG_DEBUG: log_set_level(LOG_LEVEL_DEBUG); break;
      case ARG_VERSION: printf("podrun-api %s\n", PODRUN_API_VERSION); return 1;
      case ARG_HELP: help(); return 1;
      default:
        return podrun_error_new(err, EINVAL, "unknown option %s (see --help)", QUOTE(argv[optind - 1]));
      }
  if (optind < argc)
    return podrun_error_new(err, EINVAL, "unexpected argument %s (see --help)", QUOTE(argv[optind]));
  if (!*arg_dir || arg_dir[0] != '/')
    return podrun_error_new(err, EINVAL, "--dir=%s: expected an absolute path", ESCAPE(arg_dir));
  return 0;
}

/* A user or group by name or number. */
static int lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
  unsigned long long n;
  struct passwd *pw = getpwnam(name);
  if (pw)
    return *ret_uid = pw->pw_uid, *ret_gid = pw->pw_gid, 0;
  if (parse_uint(name, 0xfffffffe, &n) == 0)
    return *ret_uid = (uid_t) n, *ret_gid = (gid_t) n, 0;
  return -1;
}

static int lookup_group(const char *name, gid_t *ret)
{
  unsigned long long n;
  struct group *gr = getgrnam(name);
  if (gr)
    return *ret = gr->gr_gid, 0;
  if (parse_uint(name, 0xfffffffe, &n) == 0)
    return *ret = (gid_t) n, 0;
  return -1;
}

/* Who to become after binding: --user, else podrun-api, else nobody; --group, else podrun. */
static int resolve_identity(uid_t *ret_uid, gid_t *ret_gid, podrun_error_t *err)
{
  gid_t primary;
  if (arg_user ? lookup_user(arg_user, ret_uid, &primary) < 0
               : lookup_user("podrun-api", ret_uid, &primary) < 0 && lookup_user("nobody", ret_uid, &primary) < 0)
    return podrun_error_new(err, ENOENT, "--user=%s: no such user", ESCAPE(arg_user ? arg_user : "nobody"));
  if (*ret_uid == 0)
    return podrun_error_new(err, EINVAL, "--user=%s: the service does not run as root", ESCAPE(arg_user));
  if (lookup_group(arg_group ? arg_group : "podrun", ret_gid) < 0)
    return podrun_error_new(err, ENOENT, "%s%s: no such group (groupadd --system podrun, or --group=GROUP)",
                            arg_group ? "--group=" : "group ", ESCAPE(arg_group ? arg_group : "podrun"));
  if (*ret_gid == 0)
    return podrun_error_new(err, EINVAL, "--group=%s: the service does not run as group root", ESCAPE(arg_group));
  return 0;
}

/* Confines the service before it drops root: a mount namespace of its own
 * whose root is a tmpfs holding only a recursive read-only clone of --dir at
 * its own path, a read-only /proc (for /proc/locks), and an empty tmpfs of the
 * service's, /snapshots, for copies of an index in use. The capability it keeps to read root's pod
 * directories then reaches nothing else on the host, and no write under --dir
 * is possible whatever a file's mode says. */
static int confine(uid_t uid, gid_t gid, podrun_error_t *err)
{
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
  _cleanup_free_ char *data = xasprintf("/tmp%s", arg_dir);

  if (unshare(CLONE_NEWNS) < 0)
    return podrun_error_set(err, errno, "confine the service: a mount namespace of its own");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return podrun_error_set(err, errno, "confine the service: make its mounts private");
  /* a --dir that does not exist yet is made as podrun would make it, so that what
   * podrun creates there later is seen (the directory itself, nothing under it) */
  if (access(arg_dir, F_OK) < 0 && errno == ENOENT && fs_mkdir_p(arg_dir, 0755, err) < 0)
    return -1;
  _cleanup_close_ int dir = open_tree(AT_FDCWD, arg_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (dir < 0)
    return podrun_error_set(err, errno, "confine the service: clone %s", QUOTE(arg_dir));
  _cleanup_close_ int proc = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (proc < 0)
    return podrun_error_set(err, errno, "confine the service: clone /proc");
  if (mount_setattr(dir, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0 ||
      mount_setattr(proc, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
    return podrun_error_set(err, errno, "confine the service: make its mounts read-only");
  /* the new root, over /tmp in this namespace only */
  _cleanup_free_ char *tmp_opts = xasprintf("mode=0700,uid=%u,gid=%u,size=64m", (unsigned) uid, (unsigned) gid);
  if (mount("podrun-api", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m") < 0)
    return podrun_error_set(err, errno, "confine the service: mount its root");
  if (fs_mkdir_p(data, 0755, err) < 0)
    return -1;
  if (mkdir("/tmp/proc", 0555) < 0 || mkdir("/tmp/snapshots", 0700) < 0 ||
      mount("podrun-api", "/tmp/snapshots", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, tmp_opts) < 0)
    return podrun_error_set(err, errno, "confine the service: make its root");
  if (move_mount(dir, "", AT_FDCWD, data, MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
      move_mount(proc, "", AT_FDCWD, "/tmp/proc", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return podrun_error_set(err, errno, "confine the service: attach its mounts");
  if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    return podrun_error_set(err, errno, "confine the service: enter its root");
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return podrun_error_set(err, errno, "confine the service: make its root read-only");
  return 0;
}

static int bind_all(gid_t gid, struct api_listener **ret, size_t *ret_n, podrun_error_t *err)
{
  if (!arg_listen)
    {
      if (api_listen_inherited(ret, ret_n, err) < 0)
        return -1;
      if (*ret_n)
        return 0;
      free(*ret);
      (void) mkdir("/run/podrun", 0755);
      arg_listen = strv_push(NULL, "unix:/run/podrun/api.sock");
    }
  size_t n = strv_length(arg_listen);
  struct api_listener *v = xzalloc(sizeof(*v) * (n + 1));
  for (size_t i = 0; i < n; i++)
    if (api_listen(arg_listen[i], gid, &v[i], err) < 0)
      {
        for (size_t k = 0; k < i; k++)
          close(v[k].fd), free(v[k].spec);
        free(v);
        return -1;
      }
  *ret = v;
  *ret_n = n;
  return 0;
}

/* Every request through the API's route table. */
static void handle(void *userdata, const struct api_http_request *req, struct api_reply *ret)
{
  api_handle(api_routes, userdata, req->method, req->target, req->n_headers, ret);
}

static int run(int argc, char **argv, podrun_error_t *err)
{
  struct api_listener *ls = NULL;
  struct api_context ctx;
  size_t n = 0;
  uid_t uid = 0;
  gid_t gid = (gid_t) -1;
  sigset_t mask;
  int sig, r;

  arg_limits = API_HTTP_LIMITS_DEFAULT;
  if ((r = parse_args(argc, argv, err)) != 0)
    return r < 0 ? -1 : 0;
  bool root = geteuid() == 0;
  if (root && resolve_identity(&uid, &gid, err) < 0)
    return -1;
  if (bind_all(gid, &ls, &n, err) < 0)
    return -1;
  api_context_init(&ctx, arg_dir);
  api_context_probe(&ctx, arg_system_config);
  pod_probe_without_locking(true); /* it never takes a pod's lock, not even to look */
  ctx.max_streams = arg_limits.max_streams;
  ctx.openapi = arg_openapi ? xstrdup(arg_openapi) : NULL;
  if (root && (confine(uid, gid, err) < 0 || api_drop_root(uid, gid, CAP_DAC_READ_SEARCH, err) < 0))
    {
      api_context_done(&ctx);
      return -1;
    }
  /* its own directory, for copies of an index another podrun is writing */
  const char *tmp = root ? "/snapshots" : getenv("RUNTIME_DIRECTORY") ?: getenv("TMPDIR") ?: "/tmp";
  ctx.tmpdir = xasprintf("%s/podrun-api.XXXXXX", tmp);
  if (!mkdtemp(ctx.tmpdir))
    {
      log_warning("mkdtemp %s: %s; an index in use by a podrun cannot be read", ctx.tmpdir, strerror(errno));
      free(ctx.tmpdir);
      ctx.tmpdir = NULL;
    }
  api_block_signals(&mask);
  r = api_http_start(ls, n, &arg_limits, handle, &ctx, &ctx.http, err);
  if (r >= 0)
    {
      for (size_t i = 0; i < n; i++)
        log_info("listening on %s", ls[i].spec);
      while (sigwait(&mask, &sig) == 0 && sig == SIGHUP)
        ;
      api_http_stop(ctx.http);
    }
  for (size_t i = 0; i < n; i++)
    free(ls[i].spec);
  free(ls);
  api_context_done(&ctx);
  return r;
}

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  log_set_program("podrun-api");
  if (run(argc, argv, &err) < 0)
    {
      fprintf(stderr, "podrun-api: %s\n", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  strv_free(arg_listen);
  return 0;
}
