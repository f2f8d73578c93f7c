/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --net and --port: which CNI networks a pod joins, from the built-in
 * default networks and <local-config>/net.d, and the host ports forwarded
 * to it (lib/cni.h does the plugins' work). */
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cni.h"
#include "fs.h"
#include "json-util.h"
#include "log.h"

bool net_is_cni(const char *net)
{
  return net && !streq(net, "host") && !streq(net, "none");
}

/* ---- --port ------------------------------------------------------------ */

static int port_flag(const char *spec, struct appc_exposed_port *ret, podrun_error_t *err)
{
  const char *colon = strchr(spec, ':'), *last = strrchr(spec, ':');
  unsigned long long port = 0;
  if (!colon || colon == spec)
    return podrun_error_set(err, 0, "--port=%s: NAME:[HOSTIP:]HOSTPORT", ESCAPE(spec));
  _cleanup_free_ char *name = xstrndup(spec, (size_t) (colon - spec)), *ip = NULL;
  if (last != colon)
    {
      struct in_addr a;
      ip = xstrndup(colon + 1, (size_t) (last - colon - 1));
      if (inet_pton(AF_INET, ip, &a) != 1)
        return podrun_error_set(err, 0, "--port=%s: %s is not an IPv4 address", ESCAPE(spec), QUOTE(ip));
    }
  if (parse_uint(last + 1, 65535, &port) < 0 || port == 0)
    return podrun_error_set(err, 0, "--port=%s: the host port is a number, 1 to 65535", ESCAPE(spec));
  if (!appc_name_is_valid(name))
    return podrun_error_set(err, 0, "--port=%s: %s is not a port name", ESCAPE(spec), QUOTE(name));
  *ret = (struct appc_exposed_port){ .name = TAKE_PTR(name), .host_port = (unsigned) port, .host_ip = TAKE_PTR(ip) };
  return 0;
}

int net_ports_from_flags(struct appc_pod_manifest *m, char **ports, podrun_error_t *err)
{
  size_t n = strv_length(ports);
  if (!n)
    return 0;
  m->ports = xzalloc(n * sizeof(*m->ports));
  for (size_t i = 0; i < n; i++)
    {
      if (port_flag(ports[i], &m->ports[m->n_ports], err) < 0)
        return -1;
      for (size_t k = 0; k < m->n_ports; k++)
        if (streq(m->ports[k].name, m->ports[m->n_ports].name))
          {
            podrun_error_set(err, 0, "--port=%s: port %s is given twice", ESCAPE(ports[i]), QUOTE(m->ports[k].name));
            free(m->ports[m->n_ports].name);
            free(m->ports[m->n_ports].host_ip);
            return -1;
          }
      m->n_ports++;
    }
  return 0;
}

/* The apps' port of that name. */
static const struct appc_port *app_port(const struct appc_pod_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->n_apps; i++)
    for (size_t k = 0; m->apps[i].app && k < m->apps[i].app->n_ports; k++)
      if (streq(m->apps[i].app->ports[k].name, name))
        return &m->apps[i].app->ports[k];
  return NULL;
}

static char *declared_ports(const struct appc_pod_manifest *m)
{
  char *list = NULL;
  for (size_t i = 0; i < m->n_apps; i++)
    for (size_t k = 0; m->apps[i].app && k < m->apps[i].app->n_ports; k++)
      {
        const struct appc_port *p = &m->apps[i].app->ports[k];
        char *l = xasprintf("%s%s%s (%u/%s)", list ? list : "", list ? ", " : "", p->name, p->port, p->protocol);
        free(list);
        list = l;
      }
  return list;
}

static int check_ports(const char *net, const struct appc_pod_manifest *m, podrun_error_t *err)
{
  for (size_t i = 0; i < m->n_ports; i++)
    {
      const struct appc_exposed_port *e = &m->ports[i];
      if (!net_is_cni(net))
        return podrun_error_set(err, 0, "--port=%s:%u: the pod is on --net=%s, which has no ports to forward "
                                        "(--port needs a CNI network)", e->name, e->host_port, net);
      const struct appc_port *p = app_port(m, e->name);
      if (!p)
        {
          _cleanup_free_ char *list = declared_ports(m);
          return podrun_error_set(err, 0, "--port=%s:%u: no app of the pod declares a port %s (%s%s)", e->name,
                                  e->host_port, QUOTE(e->name), list ? "declared: " : "its images declare none",
                                  list ? list : "");
        }
      if (!streq(p->protocol, "tcp") && !streq(p->protocol, "udp"))
        return podrun_error_set(err, 0, "--port=%s:%u: its protocol is %s; only tcp and udp are forwarded", e->name,
                                e->host_port, QUOTE(p->protocol));
      if ((unsigned long) e->host_port + p->count > 65536)
        return podrun_error_set(err, 0, "--port=%s:%u: the port is a range of %u, which does not fit above %u",
                                e->name, e->host_port, p->count, e->host_port);
    }
  return 0;
}

/* runtimeConfig.portMappings, as the portmap plugin takes them. */
static json_t *port_mappings(const struct appc_pod_manifest *m)
{
  json_t *v = json_array();
  for (size_t i = 0; i < m->n_ports; i++)
    {
      const struct appc_exposed_port *e = &m->ports[i];
      const struct appc_port *p = app_port(m, e->name);
      for (unsigned k = 0; p && k < p->count; k++)
        {
          json_t *o = json_pack("{s:i,s:i,s:s}", "hostPort", (json_int_t) (e->host_port + k), "containerPort",
                                (json_int_t) (p->port + k), "protocol", p->protocol);
          if (e->host_ip)
            json_object_set_new(o, "hostIP", json_string(e->host_ip));
          json_array_append_new(v, o);
        }
    }
  return v;
}

/* ---- networks ---------------------------------------------------------- */

struct net_req
{
  char *name, *args;
};

static void reqs_free(struct net_req *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free(v[i].name);
      free(v[i].args);
    }
  free(v);
}

/* CNI_ARGS: K=V pairs separated by ';', printable, no blanks. */
static bool args_valid(const char *s)
{
  _cleanup_free_ char *copy = xstrdup(s);
  char *save = NULL;
  size_t n = 0;
  for (const char *c = s; *c; c++)
    if ((unsigned char) *c <= ' ' || *c == 0x7f)
      return false;
  for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save), n++)
    if (kv[0] == '=' || !strchr(kv, '='))
      return false;
  return n > 0 && s[strlen(s) - 1] != ';';
}

static int parse_spec(const char *spec, struct net_req **ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_free_ char *copy = xstrdup(spec);
  struct net_req *v = NULL;
  size_t n = 0;
  char *save = NULL;

  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    {
      char *colon = strchr(w, ':');
      if (colon)
        *colon = '\0';
      v = xrealloc(v, (n + 1) * sizeof(*v));
      v[n++] = (struct net_req){ xstrdup(w), colon ? xstrdup(colon + 1) : NULL };
      if (!cni_name_is_valid(w))
        goto bad;
      if (colon && !args_valid(colon + 1))
        {
          podrun_error_set(err, 0, "--net=%s: the arguments of network %s are K=V pairs separated by ';'",
                           ESCAPE(spec), QUOTE(w));
          goto fail;
        }
      for (size_t k = 0; k + 1 < n; k++)
        if (streq(v[k].name, w))
          {
            podrun_error_set(err, 0, "--net=%s: network %s is given twice", ESCAPE(spec), QUOTE(w));
            goto fail;
          }
      if ((streq(w, "host") || streq(w, "none") || streq(w, "all")) && (colon || strchr(spec, ',')))
        {
          podrun_error_set(err, 0, "--net=%s: %s goes alone, without arguments", ESCAPE(spec), w);
          goto fail;
        }
    }
  if (n == 0 || n > CNI_MAX_NETWORKS || spec[strlen(spec) - 1] == ',')
    goto bad;
  *ret = v;
  *ret_n = n;
  return 0;
bad:
  podrun_error_set(err, 0, "--net=%s: host, none, or up to %d network names (NAME or NAME:K=V;K2=V2) separated by ','",
                   ESCAPE(spec), CNI_MAX_NETWORKS);
fail:
  reqs_free(v, n);
  return -1;
}

/* The networks of net.d: each file's conflist and path, in file name order. */
struct netd
{
  json_t **confs;
  char **files;
  size_t n;
};

static void netd_done(struct netd *d)
{
  for (size_t i = 0; i < d->n; i++)
    json_decref(d->confs[i]);
  free(d->confs);
  strv_free(d->files);
  *d = (struct netd){ 0 };
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static const char *conf_name(json_t *conf)
{
  return json_string_value(json_object_get(conf, "name"));
}

/* Every .conf and .conflist of net.d (a missing net.d has none); one that
 * does not parse, or names a missing plugin, is an error naming it. */
static int netd_load(struct netd *d, podrun_error_t *err)
{
  _cleanup_free_ char *dir = xasprintf("%s/net.d", arg_local_config);
  _cleanup_closedir_ DIR *dp = opendir(dir);
  _cleanup_strv_ char **names = NULL;
  struct dirent *de;

  if (!dp)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "open %s", QUOTE(dir));
  while ((de = readdir(dp)))
    if (de->d_name[0] != '.' && (endswith(de->d_name, ".conf") || endswith(de->d_name, ".conflist")))
      names = strv_push(names, de->d_name);
  if (names)
    qsort(names, strv_length(names), sizeof(char *), cmp_str);
  for (size_t i = 0; names && names[i]; i++)
    {
      _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]), *text = NULL;
      json_t *conf = NULL;
      size_t len = 0;
      if (fs_read_file_at(AT_FDCWD, path, JSON_MAX_INPUT, &text, &len, err) < 0 ||
          cni_conf_parse(text, len, QUOTE(path), &conf, err) < 0)
        return -1;
      for (size_t k = 0; k < d->n; k++)
        if (streq(conf_name(d->confs[k]), conf_name(conf)))
          {
            podrun_error_set(err, 0, "%s: network %s is %s's too", QUOTE(path), QUOTE(conf_name(conf)),
                             QUOTE(d->files[k]));
            json_decref(conf);
            return -1;
          }
      d->confs = xrealloc(d->confs, (d->n + 1) * sizeof(*d->confs));
      d->confs[d->n++] = conf;
      d->files = strv_push(d->files, path);
    }
  return 0;
}

/* The host's resolvers the pod can reach: its nameservers but the loopback
 * ones (127.0.0.0/8, ::1: the host's own, out of the pod's reach), its
 * search and options. NULL when none is left. */
static json_t *host_dns(void)
{
  _cleanup_fclose_ FILE *f = fopen("/etc/resolv.conf", "re");
  _cleanup_free_ char *line = NULL;
  json_t *ns = json_array(), *search = json_array(), *options = json_array();
  size_t cap = 0;

  while (f && getline(&line, &cap, f) > 0)
    {
      char *save = NULL, *key = strtok_r(line, " \t\n", &save), *w;
      if (!key || key[0] == '#' || key[0] == ';')
        continue;
      if (streq(key, "search"))
        json_array_clear(search);
      while ((w = strtok_r(NULL, " \t\n", &save)))
        {
          struct in6_addr a;
          if (streq(key, "nameserver") && !startswith(w, "127.") && !streq(w, "::1") &&
              (inet_pton(AF_INET, w, &a) == 1 || inet_pton(AF_INET6, w, &a) == 1))
            json_array_append_new(ns, json_string(w));
          else if (streq(key, "search") || streq(key, "domain"))
            json_array_append_new(search, json_string(w));
          else if (streq(key, "options"))
            json_array_append_new(options, json_string(w));
        }
    }
  if (json_array_size(ns) == 0)
    {
      json_decref(ns);
      json_decref(search);
      json_decref(options);
      return NULL;
    }
  return json_pack("{s:o,s:o,s:o}", "nameservers", ns, "search", search, "options", options);
}

/* default: a ptp pair and an address of NET_DEFAULT_SUBNET, NAT to the
 * outside (rkt's); default-restricted: the same on NET_RESTRICTED_SUBNET
 * without NAT and with no route beyond its subnet: it reaches the host. */
static json_t *builtin_conf(const char *name, bool with_portmap)
{
  bool restricted = streq(name, "default-restricted");
  const char *subnet = restricted ? NET_RESTRICTED_SUBNET : NET_DEFAULT_SUBNET;
  /* ptp routes the subnet through the host itself: that is all a restricted pod gets */
  json_t *ipam = json_pack("{s:s,s:s,s:[[{s:s}]],s:o}", "type", "host-local", "dataDir", NET_IPAM_DIR, "ranges",
                           "subnet", subnet, "routes",
                           restricted ? json_array() : json_pack("[{s:s}]", "dst", "0.0.0.0/0"));
  /* NAT by podrun's one rule for the subnet (cni.h), not ptp's per-pod chains */
  json_t *ptp = json_pack("{s:s,s:b,s:o}", "type", "ptp", "ipMasq", 0, "ipam", ipam);
  json_t *dns = host_dns();
  if (dns)
    json_object_set_new(ptp, "dns", dns);
  json_t *plugins = json_pack("[o]", ptp);
  if (with_portmap)
    json_array_append_new(plugins, json_pack("{s:s,s:{s:b}}", "type", "portmap", "capabilities", "portMappings", 1));
  return json_pack("{s:s,s:s,s:o}", "cniVersion", CNI_VERSION, "name", name, "plugins", plugins);
}

static char *netd_list(const struct netd *d)
{
  char *list = NULL;
  for (size_t i = 0; i < d->n; i++)
    {
      char *l = xasprintf("%s%s%s", list ? list : "", list ? ", " : "", conf_name(d->confs[i]));
      free(list);
      list = l;
    }
  return list;
}

static void nets_free(struct cni_net *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    cni_net_done(&v[i]);
  free(v);
}

static void add_net(struct cni_net **v, size_t *n, json_t *conf, const char *file, const char *args)
{
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  (*v)[*n] = (struct cni_net){ xstrdup(conf_name(conf)), xstrdup(file), xasprintf("eth%zu", *n),
                               args ? xstrdup(args) : NULL, conf };
  (*n)++;
}

/* The portMappings go to each plugin that declares the capability. */
static int give_ports(struct cni_net *v, size_t n, const struct appc_pod_manifest *m, podrun_error_t *err)
{
  bool taken = false;
  if (!m->n_ports)
    return 0;
  for (size_t i = 0; i < n; i++)
    {
      size_t k;
      json_t *p;
      json_array_foreach (json_object_get(v[i].conf, "plugins"), k, p)
        if (json_is_true(json_object_get(json_object_get(p, "capabilities"), "portMappings")))
          {
            json_t *rc = json_object_get(p, "runtimeConfig");
            if (!json_is_object(rc))
              json_object_set_new(p, "runtimeConfig", rc = json_object());
            json_object_set_new(rc, "portMappings", port_mappings(m));
            taken = true;
          }
    }
  if (!taken)
    return podrun_error_set(err, 0, "--port=%s:%u: none of the pod's networks has a plugin that forwards ports "
                                    "(\"capabilities\": {\"portMappings\": true}, as portmap)",
                            m->ports[0].name, m->ports[0].host_port);
  return 0;
}

/* The networks of spec, in order, each with its conflist (a copy, which
 * the pod directory keeps), interface name and arguments. */
static int resolve(const char *spec, const struct appc_pod_manifest *m, struct cni_net **ret, size_t *ret_n,
                   podrun_error_t *err)
{
  _cleanup_(netd_done) struct netd d = { 0 };
  struct net_req *reqs = NULL;
  struct cni_net *v = NULL;
  size_t n_reqs = 0, n = 0;

  if (parse_spec(spec, &reqs, &n_reqs, err) < 0)
    return -1;
  if (netd_load(&d, err) < 0)
    goto fail;
  for (size_t i = 0; i < n_reqs; i++)
    {
      const char *name = reqs[i].name;
      size_t k = 0;
      while (k < d.n && !streq(conf_name(d.confs[k]), name))
        k++;
      if (streq(name, "all"))
        {
          if (d.n == 0)
            {
              podrun_error_set(err, 0, "--net=all: there is no network in %s/net.d", QUOTE(arg_local_config));
              goto fail;
            }
          for (k = 0; k < d.n; k++)
            add_net(&v, &n, json_deep_copy(d.confs[k]), d.files[k], NULL);
        }
      else if (k < d.n) /* net.d's own, a default it redefines included */
        add_net(&v, &n, json_deep_copy(d.confs[k]), d.files[k], reqs[i].args);
      else if (streq(name, NET_DEFAULT) || streq(name, "default-restricted"))
        {
          add_net(&v, &n, builtin_conf(name, m->n_ports > 0), "built-in", reqs[i].args);
          if (streq(name, NET_DEFAULT))
            {
              v[n - 1].masq_subnet = xstrdup(NET_DEFAULT_SUBNET);
              v[n - 1].ipam_dir = xstrdup(NET_IPAM_DIR "/" NET_DEFAULT);
            }
        }
      else
        {
          _cleanup_free_ char *list = netd_list(&d);
          _cleanup_free_ char *dir = xasprintf("%s/net.d", arg_local_config);
          podrun_error_set(err, 0, "--net=%s: no network %s in %s (%s%s%s)", ESCAPE(spec), QUOTE(name), QUOTE(dir),
                           list ? "it has " : "it has none", list ? list : "",
                           "; built in: default, default-restricted");
          goto fail;
        }
    }
  if (n > CNI_MAX_NETWORKS)
    {
      podrun_error_set(err, 0, "--net=%s: more than %d networks", ESCAPE(spec), CNI_MAX_NETWORKS);
      goto fail;
    }
  if (give_ports(v, n, m, err) < 0)
    goto fail;
  reqs_free(reqs, n_reqs);
  *ret = v;
  *ret_n = n;
  return 0;
fail:
  reqs_free(reqs, n_reqs);
  nets_free(v, n);
  return -1;
}

int net_check(const char *net, const struct appc_pod_manifest *m, podrun_error_t *err)
{
  struct cni_net *v = NULL;
  size_t n = 0;
  if (check_ports(net, m, err) < 0)
    return -1;
  if (!net_is_cni(net))
    return 0;
  if (resolve(net, m, &v, &n, err) < 0)
    return -1;
  nets_free(v, n);
  return 0;
}

/* ---- host ports ------------------------------------------------------ */

/* A bound socket per host port, held by the stage1 for the pod's life: a
 * port another pod (or anything on the host) has is refused here, before
 * the portmap plugin would redirect it. */
static int bind_ports(const struct appc_pod_manifest *m, int **ret_fds, size_t *ret_n, podrun_error_t *err)
{
  int *fds = NULL;
  size_t n = 0;
  for (size_t i = 0; i < m->n_ports; i++)
    {
      const struct appc_exposed_port *e = &m->ports[i];
      const struct appc_port *p = app_port(m, e->name);
      for (unsigned k = 0; p && k < p->count; k++)
        {
          bool tcp = streq(p->protocol, "tcp");
          struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) (e->host_port + k)) };
          if (e->host_ip)
            (void) inet_pton(AF_INET, e->host_ip, &sa.sin_addr);
          int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
          fds = xrealloc(fds, (n + 1) * sizeof(*fds));
          if (fd >= 0)
            fds[n++] = fd;
          if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
            {
              int e2 = errno;
              for (size_t j = 0; j < n; j++)
                close(fds[j]);
              free(fds);
              return podrun_error_set(err, e2, "--port=%s:%s%s%u: host port %u/%s", e->name,
                                      e->host_ip ? e->host_ip : "", e->host_ip ? ":" : "", e->host_port,
                                      e->host_port + k, p->protocol);
            }
        }
    }
  *ret_fds = fds;
  *ret_n = n;
  return 0;
}

int net_pod_setup(struct pod *p, const char *net, const struct appc_pod_manifest *m, int **ret_fds,
                  size_t *ret_n_fds, podrun_error_t *err)
{
  struct cni_net *v = NULL;
  size_t n = 0, n_fds = 0;
  int *fds = NULL;

  /* what an earlier, killed start left (a prepared pod's run-prepared) */
  if (net_pod_teardown(p, err) < 0)
    return -1;
  if (resolve(net, m, &v, &n, err) < 0 || bind_ports(m, &fds, &n_fds, err) < 0)
    goto fail;
  if (cni_pod_setup(p->dirfd, p->path, p->uuid, v, n, err) < 0)
    {
      for (size_t i = 0; i < n_fds; i++)
        close(fds[i]);
      free(fds);
      goto fail;
    }
  nets_free(v, n);
  *ret_fds = fds;
  *ret_n_fds = n_fds;
  return 0;
fail:
  nets_free(v, n);
  return podrun_error_wrap(err, "pod %s", p->uuid);
}

int net_pod_teardown(struct pod *p, podrun_error_t *err)
{
  struct stat st;
  if (fstatat(p->dirfd, CNI_NET_INFO, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
      fstatat(p->dirfd, CNI_NETNS_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  return cni_pod_teardown(p->dirfd, p->path, p->uuid, -1, err);
}
