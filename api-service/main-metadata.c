/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-metadata: the App Container metadata service
 * (Documentation/metadata-service.md). It binds its sockets (or takes
 * systemd's), drops root for good (it reads nothing but what registrations
 * give it), and serves until SIGTERM or SIGINT. */
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "http.h"
#include "log.h"
#include "mds.h"

#define PODRUN_METADATA_VERSION "0.1.0"

static char **arg_listen;
static const char *arg_user;

static void help(void)
{
  printf("Usage: podrun-metadata [OPTIONS]\n\n"
         "Serves the App Container metadata service to the pods that `podrun run --mds-register`\n"
         "registers (see metadata-service.md).\n\n"
         "Options:\n"
         "  --listen=unix:PATH|tcp:HOST:PORT  where to listen (repeatable): unix sockets take root's\n"
         "                                    registrations, TCP the pods' requests (default\n"
         "                                    unix:" MDS_DEFAULT_SOCKET " and " MDS_DEFAULT_TCP
         ",\n"
         "                                    or the sockets systemd passes)\n"
         "  --user=USER                       the user to run as after binding (default\n"
         "                                    podrun-metadata, else nobody)\n"
         "  --debug                           log at debug level\n"
         "  --version                         print the version\n"
         "  --help                            this text\n");
}

static int parse_args(int argc, char **argv, podrun_error_t *err)
{
  enum { ARG_LISTEN = 256, ARG_USER, ARG_DEBUG, ARG_VERSION, ARG_HELP };
  static const struct option opts[] = {
    { "listen", required_argument, NULL, ARG_LISTEN }, { "user", required_argument, NULL, ARG_USER },
    { "debug", no_argument, NULL, ARG_DEBUG },         { "version", no_argument, NULL, ARG_VERSION },
    { "help", no_argument, NULL, ARG_HELP },           { NULL },
  };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
    switch (c)
      {
      case ARG_LISTEN: arg_listen = strv_push(arg_listen, optarg); break;
      case ARG_USER: arg_user = optarg; break;
      case ARG_DEBUG: log_set_level(LOG_LEVEL_DEBUG); break;
      case ARG_VERSION: printf("podrun-metadata %s\n", PODRUN_METADATA_VERSION); return 1;
      case ARG_HELP: help(); return 1;
      default:
        return podrun_error_new(err, EINVAL, "unknown option %s (see --help)", QUOTE(argv[optind - 1]));
      }
  if (optind < argc)
    return podrun_error_new(err, EINVAL, "unexpected argument %s (see --help)", QUOTE(argv[optind]));
  return 0;
}

/* --user, else podrun-metadata, else nobody: its uid and primary gid. */
static int resolve_user(uid_t *ret_uid, gid_t *ret_gid, podrun_error_t *err)
{
  unsigned long long n;
  struct passwd *pw = arg_user ? getpwnam(arg_user) : getpwnam("podrun-metadata") ?: getpwnam("nobody");
  if (pw)
    *ret_uid = pw->pw_uid, *ret_gid = pw->pw_gid;
  else if (arg_user && parse_uint(arg_user, 0xfffffffe, &n) == 0)
    *ret_uid = (uid_t) n, *ret_gid = (gid_t) n;
  else
    return podrun_error_new(err, ENOENT, "--user=%s: no such user", ESCAPE(arg_user ? arg_user : "nobody"));
  if (*ret_uid == 0 || *ret_gid == 0)
    return podrun_error_new(err, EINVAL, "--user=%s: the service does not run as root", ESCAPE(arg_user ?: "root"));
  return 0;
}

struct listeners
{
  struct api_listener *reg, *pods; /* unix, TCP */
  size_t n_reg, n_pods;
};

static void add_listener(struct listeners *l, struct api_listener x, bool unix_socket)
{
  struct api_listener **v = unix_socket ? &l->reg : &l->pods;
  size_t *n = unix_socket ? &l->n_reg : &l->n_pods;
  *v = xrealloc(*v, sizeof(**v) * (*n + 1));
  (*v)[(*n)++] = x;
}

/* close_fds: false once served (libmicrohttpd closed them as it stopped). */
static void listeners_done(struct listeners *l, bool close_fds)
{
  for (size_t i = 0; i < l->n_reg; i++)
    (void) (close_fds && close(l->reg[i].fd)), free(l->reg[i].spec);
  for (size_t i = 0; i < l->n_pods; i++)
    (void) (close_fds && close(l->pods[i].fd)), free(l->pods[i].spec);
  free(l->reg);
  free(l->pods);
}

/* A unix socket of root's alone: mode 0600 (api_listen gives 0660, group root's). */
static int listen_one(const char *spec, struct listeners *l, podrun_error_t *err)
{
  struct api_listener x;
  if (api_listen(spec, (gid_t) -1, &x, err) < 0)
    return -1;
  const char *path = startswith(spec, "unix:");
  if (path && chmod(path, 0600) < 0)
    {
      int e = errno;
      close(x.fd), free(x.spec);
      return podrun_error_set(err, e, "chmod %s", QUOTE(path));
    }
  add_listener(l, x, path != NULL);
  return 0;
}

static int bind_all(struct listeners *l, podrun_error_t *err)
{
  if (!arg_listen)
    {
      struct api_listener *v = NULL;
      size_t n = 0;
      if (api_listen_inherited(&v, &n, err) < 0)
        return -1;
      for (size_t i = 0; i < n; i++)
        {
          /* a TCP one by its address: registrants are told where pods reach it */
          char *tcp = api_tcp_spec(v[i].fd);
          if (tcp)
            free(v[i].spec), v[i].spec = tcp;
          add_listener(l, v[i], sd_is_socket_unix(v[i].fd, SOCK_STREAM, 1, NULL, 0) > 0);
        }
      free(v);
      if (n)
        return 0;
      (void) mkdir("/run/podrun", 0755);
      arg_listen = strv_push(strv_push(NULL, "unix:" MDS_DEFAULT_SOCKET), MDS_DEFAULT_TCP);
    }
  for (size_t i = 0; arg_listen[i]; i++)
    if (listen_one(arg_listen[i], l, err) < 0)
      return -1;
  if (!l->n_pods)
    return podrun_error_new(err, EINVAL, "no TCP socket to serve pods on (--listen=tcp:HOST:PORT)");
  if (!l->n_reg)
    return podrun_error_new(err, EINVAL, "no unix socket for registrations (--listen=unix:PATH)");
  return 0;
}

static atomic_bool stopping;

static void *reaper(void *arg)
{
  while (!atomic_load(&stopping))
    (void) mds_reap(arg, 250);
  return NULL;
}

static int serve(struct listeners *l, struct mds *m, sigset_t *mask, podrun_error_t *err)
{
  struct api_http_limits reg = API_HTTP_LIMITS_DEFAULT, pods = API_HTTP_LIMITS_DEFAULT;
  struct api_http *h_reg = NULL, *h_pods = NULL;
  pthread_t t;
  int sig;
  reg.max_body_bytes = MDS_MAX_REGISTRATION;
  pods.max_body_bytes = MDS_MAX_FORM;
  /* a pod (an address) cannot take every connection there is from the others */
  pods.max_per_ip = MDS_MAX_PER_POD;
  if (api_http_start(l->reg, l->n_reg, &reg, mds_handle_register, m, &h_reg, err) < 0)
    return -1;
  if (api_http_start(l->pods, l->n_pods, &pods, mds_handle_pod, m, &h_pods, err) < 0)
    {
      api_http_stop(h_reg);
      return -1;
    }
  if (pthread_create(&t, NULL, reaper, m) != 0)
    {
      api_http_stop(h_pods);
      api_http_stop(h_reg);
      return podrun_error_new(err, EAGAIN, "start the reaper thread");
    }
  for (size_t i = 0; i < l->n_reg; i++)
    log_info("registrations on %s", l->reg[i].spec);
  for (size_t i = 0; i < l->n_pods; i++)
    log_info("pods on %s", l->pods[i].spec);
  (void) sd_notify(0, "READY=1");
  while (sigwait(mask, &sig) == 0 && sig == SIGHUP)
    ;
  (void) sd_notify(0, "STOPPING=1");
  atomic_store(&stopping, true);
  pthread_join(t, NULL);
  api_http_stop(h_pods);
  api_http_stop(h_reg);
  return 0;
}

static int run(int argc, char **argv, podrun_error_t *err)
{
  struct listeners l = { 0 };
  _cleanup_strv_ char **tcp = NULL;
  uid_t uid = 0;
  gid_t gid = 0;
  sigset_t mask;
  int r;

  if ((r = parse_args(argc, argv, err)) != 0)
    return r < 0 ? -1 : 0;
  bool root = geteuid() == 0;
  if (root && resolve_user(&uid, &gid, err) < 0)
    return -1;
  if (bind_all(&l, err) < 0 || (root && api_drop_root(uid, gid, -1, err) < 0))
    {
      listeners_done(&l, true);
      return -1;
    }
  for (size_t i = 0; i < l.n_pods; i++)
    tcp = strv_push(tcp, l.pods[i].spec);
  struct mds *m = mds_new(tcp);
  api_block_signals(&mask);
  r = serve(&l, m, &mask, err);
  mds_free(m);
  listeners_done(&l, false);
  return r;
}

int main(int argc, char **argv)
{
  _cleanup_error_ podrun_error_t err = NULL;
  log_set_program("podrun-metadata");
  if (run(argc, argv, &err) < 0)
    {
      fprintf(stderr, "podrun-metadata: %s\n", err->msg);
      return PODRUN_EXIT_ERROR;
    }
  strv_free(arg_listen);
  return 0;
}
