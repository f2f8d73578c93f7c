/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/cni (configurations, the DNS of results) and stage0/net (--net and
 * --port as the user writes them): what is refused, and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cni.h"
#include "fs.h"
#include "stage0/net.h"

static bool have_plugins(void)
{
  return access(CNI_PLUGIN_DIR "/ptp", X_OK) == 0 && access(CNI_PLUGIN_DIR "/host-local", X_OK) == 0;
}

static void test_names(void **state)
{
  assert_true(cni_name_is_valid("default"));
  assert_true(cni_name_is_valid("a.b_c-1"));
  assert_false(cni_name_is_valid(""));
  assert_false(cni_name_is_valid("-x"));
  assert_false(cni_name_is_valid("../x"));
  assert_false(cni_name_is_valid("a b"));
  assert_false(cni_name_is_valid("a/b"));
}

/* *msg holds the error of a refused text */
static int parse(const char *text, json_t **ret, char **msg)
{
  podrun_error_t err = NULL;
  int r = cni_conf_parse(text, strlen(text), "t.conf", ret, &err);
  *msg = err ? xstrdup(err->msg) : NULL;
  podrun_error_free(&err);
  return r;
}

static void refused(const char *text, const char *why)
{
  json_t *j = NULL;
  _cleanup_free_ char *msg = NULL;
  assert_int_equal(parse(text, &j, &msg), -1);
  assert_null(j);
  if (!strstr(msg, why))
    fail_msg("%s: %s, not %s", text, msg, why);
  assert_non_null(strstr(msg, "t.conf")); /* it names the file */
}

static void test_conf(void **state)
{
  json_t *j = NULL;
  _cleanup_free_ char *msg = NULL;
  if (!have_plugins())
    skip();
  /* a .conf becomes a list of one, name and version at the top */
  assert_int_equal(parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"ptp\",\"ipam\":{\"type\":\"host-local\"}}",
                         &j, &msg), 0);
  json_t *plugins = json_object_get(j, "plugins");
  assert_int_equal(json_array_size(plugins), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(plugins, 0), "type")), "ptp");
  assert_null(json_object_get(json_array_get(plugins, 0), "name"));
  assert_string_equal(json_string_value(json_object_get(j, "name")), "n");
  json_decref(j);
  refused("{", "invalid JSON");
  refused("[]", "not a JSON object");
  refused("{\"cniVersion\":\"1.0.0\",\"type\":\"ptp\"}", "no \"name\"");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"a b\",\"type\":\"ptp\"}", "not a network name");
  refused("{\"name\":\"n\",\"type\":\"ptp\"}", "no \"cniVersion\"");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", "has no \"type\"");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"../../bin/sh\"}", "is not a plugin name");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"no-such\"}", "plugin \"no-such\": no executable");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"ptp\",\"ipam\":{\"type\":\"nope\"}}",
          "plugin \"nope\": no executable");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"ptp\",\"ipam\":{}}", "its \"ipam\" has no \"type\"");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[]}", "not a list of plugins");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"},3]}", "plugin 2 has no \"type\"");
  refused("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"name\":\"m\",\"type\":\"ptp\"}", "invalid JSON");
}

/* the apps' resolv.conf from the results: every network's, once each, no
 * word that would make a line of its own */
static void test_resolv_conf(void **state)
{
  char dir[] = "/tmp/podrun-test-cni-XXXXXX";
  _cleanup_error_ podrun_error_t err = NULL;
  assert_non_null(mkdtemp(dir));
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_null(cni_resolv_conf(fd)); /* no net-info.json */
  static const char info[] =
    "{\"networks\":[{\"result\":{\"dns\":{\"nameservers\":[\"192.0.2.1\",\"192.0.2.2\"],\"search\":[\"a.test\"]}}},"
    "{\"result\":{\"dns\":{\"nameservers\":[\"192.0.2.2\",\"192.0.2.3\\nnameserver 6.6.6.6\"],"
    "\"search\":[\"b.test\",\"x y\"],\"options\":[\"ndots:2\"]}}},{}]}";
  assert_int_equal(fs_write_file_atomic_at(fd, CNI_NET_INFO, info, strlen(info), 0644, &err), 0);
  _cleanup_free_ char *text = cni_resolv_conf(fd);
  assert_non_null(text);
  assert_string_equal(text, "# written by podrun from the DNS of the pod's CNI networks\n"
                            "nameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch a.test b.test\noptions ndots:2\n");
  static const char none[] = "{\"networks\":[{\"result\":{\"ips\":[{\"address\":\"10.0.0.2/24\"}]}}]}";
  assert_int_equal(fs_write_file_atomic_at(fd, CNI_NET_INFO, none, strlen(none), 0644, &err), 0);
  assert_null(cni_resolv_conf(fd)); /* no nameserver: the image's own file stays */
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
}

/* a process whose environment names the pod is a plugin at work for it */
static void test_plugins_at_work(void **state)
{
  assert_false(cni_plugins_at_work("00000000-0000-4000-8000-00000000cafe"));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    {
      char *argv[] = { (char *) "sleep", (char *) "5", NULL };
      char *env[] = { (char *) "CNI_CONTAINERID=00000000-0000-4000-8000-00000000cafe", NULL };
      execve("/bin/sleep", argv, env);
      _exit(127);
    }
  bool seen = false;
  for (int i = 0; i < 100 && !seen; i++)
    {
      seen = cni_plugins_at_work("00000000-0000-4000-8000-00000000cafe");
      if (!seen)
        usleep(10000);
    }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  assert_true(seen);
  assert_false(cni_plugins_at_work("00000000-0000-4000-8000-00000000cafe"));
}

static void net_refused(const char *net, const struct appc_pod_manifest *m, const char *why)
{
  podrun_error_t err = NULL;
  assert_int_equal(net_check(net, m, &err), -1);
  if (!strstr(err->msg, why))
    fail_msg("--net=%s: %s, not %s", net, err->msg, why);
  podrun_error_free(&err);
}

static void test_net_flags(void **state)
{
  char dir[] = "/tmp/podrun-test-cni-XXXXXX";
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_pod_manifest m = { 0 };
  if (!have_plugins())
    skip();
  assert_non_null(mkdtemp(dir));
  arg_local_config = dir; /* no net.d: the built-in networks only */
  assert_int_equal(net_check("default", &m, &err), 0);
  assert_int_equal(net_check("default-restricted", &m, &err), 0);
  assert_int_equal(net_check("host", &m, &err), 0);
  assert_int_equal(net_check("default:IgnoreUnknown=1;A=b", &m, &err), 0);
  net_refused("", &m, "up to 16 network names");
  net_refused("default,", &m, "up to 16 network names");
  net_refused("a b", &m, "up to 16 network names");
  net_refused("default,default", &m, "network \"default\" is given twice");
  net_refused("host,default", &m, "host goes alone");
  net_refused("all:K=V", &m, "all goes alone");
  net_refused("default:K", &m, "K=V pairs");
  net_refused("default:K=V;", &m, "K=V pairs");
  net_refused("default:=V", &m, "K=V pairs");
  net_refused("nosuch", &m, "no network \"nosuch\"");
  net_refused("all", &m, "there is no network in");
  net_refused("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", &m, "up to 16 network names");
  /* --port: the image's names only, and a network that forwards */
  struct appc_port port = { .name = (char *) "http", .protocol = (char *) "tcp", .port = 80, .count = 1 };
  struct appc_app app = { .ports = &port, .n_ports = 1 };
  struct appc_runtime_app ra = { .name = (char *) "web", .app = &app };
  char *ports[] = { (char *) "http:8080", NULL }, *other[] = { (char *) "web:8080", NULL };
  struct appc_pod_manifest pm = { .apps = &ra, .n_apps = 1 };
  assert_int_equal(net_ports_from_flags(&pm, ports, &err), 0);
  assert_int_equal(net_check("default", &pm, &err), 0);
  net_refused("host", &pm, "the pod is on --net=host");
  net_refused("none", &pm, "the pod is on --net=none");
  free(pm.ports[0].name);
  free(pm.ports);
  struct appc_pod_manifest pm2 = { .apps = &ra, .n_apps = 1 };
  assert_int_equal(net_ports_from_flags(&pm2, other, &err), 0);
  net_refused("default", &pm2, "no app of the pod declares a port \"web\" (declared: http (80/tcp))");
  free(pm2.ports[0].name);
  free(pm2.ports);
  static const char *const bad_ports[] = { "http", "http:", ":80", "http:0", "http:65536", "http:1.2.3:80",
                                           "Http:80", "http:80x" };
  for (size_t i = 0; i < sizeof(bad_ports) / sizeof(*bad_ports); i++)
    {
      struct appc_pod_manifest pm3 = { 0 };
      char *v[] = { (char *) bad_ports[i], NULL };
      podrun_error_t e = NULL;
      if (net_ports_from_flags(&pm3, v, &e) != -1)
        fail_msg("--port=%s was taken", bad_ports[i]);
      podrun_error_free(&e);
      free(pm3.ports);
    }
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &err), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_conf),
    cmocka_unit_test(test_resolv_conf),
    cmocka_unit_test(test_plugins_at_work),
    cmocka_unit_test(test_net_flags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
