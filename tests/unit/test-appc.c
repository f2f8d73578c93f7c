/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/appc: image and pod manifests, the spec's name types and rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "appc.h"
#include "json-util.h"

/* JSON in C strings with ' for " (the fixtures never need a real '). */
static char *j(const char *s)
{
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

#define ID128 "8d3fffddf79e9a232ffd19f9ccaa4d6b37a6a243dbe0f23137b108a043d9da13121a9b505c804956b22e93c7f93969f4a7ba8ddea45bf4aab0bebc8f814e0990"

static const char image_full[] =
  "{'acKind':'ImageManifest','acVersion':'0.8.11','name':'example.com/reduce-worker',"
  " 'labels':[{'name':'version','value':'1.0.0'},{'name':'arch','value':'amd64'},{'name':'os','value':'linux'}],"
  " 'app':{'exec':['/usr/bin/reduce-worker','--quiet'],'user':'100','group':'300',"
  "  'supplementaryGIDs':[400,500],"
  "  'eventHandlers':[{'exec':['/usr/bin/data-downloader'],'name':'pre-start'},"
  "                   {'exec':['/usr/bin/deregister-worker','--verbose'],'name':'post-stop'}],"
  "  'workingDirectory':'/opt/work',"
  "  'environment':[{'name':'REDUCE_WORKER_DEBUG','value':'true'},{'name':'a.b-c','value':''}],"
  "  'isolators':[{'name':'resource/cpu','value':{'request':'250m','limit':'500m'}},"
  "               {'name':'os/linux/no-new-privileges','value':true}],"
  "  'mountPoints':[{'name':'work','path':'/var/lib/work','readOnly':true},{'name':'tmp','path':'/tmp'}],"
  "  'ports':[{'name':'health','port':4000,'protocol':'tcp','socketActivated':true},"
  "           {'name':'ftp-data','port':20000,'count':1000,'protocol':'tcp'}],"
  "  'userAnnotations':{'zeta':'z','alpha':'a'},'userLabels':{'tier':'web'},"
  "  'someExtension':{'ignored':[1,2,3]}},"
  " 'dependencies':[{'imageName':'example.com/reduce-worker-base','imageID':'sha512-" ID128 "',"
  "   'labels':[{'name':'os','value':'linux'},{'name':'env','value':'canary'}],'size':22017258},"
  "  {'imageName':'example.com/other'}],"
  " 'pathWhitelist':['/etc/ca/example.com/crt','/usr/bin/map-reduce-worker'],"
  " 'annotations':[{'name':'authors','value':'Carly Container <carly@example.com>'},"
  "   {'name':'created','value':'2014-10-27T19:32:27.67021798Z'},"
  "   {'name':'homepage','value':'https://example.com'},"
  "   {'name':'appc.io/executor/supports-systemd-notify','value':'false'}],"
  " 'x-unknown':42}";

static const char pod_full[] =
  "{'acVersion':'0.8.11+git','acKind':'PodManifest',"
  " 'apps':[{'name':'reduce-worker','image':{'name':'example.com/reduce-worker','id':'sha512-" ID128 "',"
  "   'labels':[{'name':'version','value':'1.0.0'}]},"
  "   'app':{'exec':['/bin/reduce-worker','--debug=true'],'group':'0','user':'0',"
  "     'mountPoints':[{'name':'work','path':'/var/lib/work'}]},"
  "   'readOnlyRootFS':true,"
  "   'mounts':[{'volume':'worklib','path':'/var/lib/work'},"
  "     {'volume':'scratch','path':'/scratch','appVolume':{'name':'scratch','kind':'empty','mode':'0700','uid':5,'gid':6}}]},"
  "  {'name':'backup','image':{'id':'sha512-d603c29df0'},'annotations':[{'name':'foo','value':'baz'}]}],"
  " 'volumes':[{'name':'worklib','kind':'host','source':'/opt/tenant1/work','readOnly':true,'recursive':false},"
  "   {'name':'buildoutput','kind':'empty'}],"
  " 'isolators':[{'name':'resource/memory','value':{'limit':'4G'}}],"
  " 'annotations':[{'name':'coreos.com/rkt/stage1/mutable','value':'false'}],"
  " 'ports':[{'name':'ftp','hostPort':2121,'hostIP':'127.0.0.1'},"
  "   {'name':'web','hostPort':8080,'podPort':{'name':'web','protocol':'tcp','port':80}}],"
  " 'userAnnotations':{'b':'2','a':'1'},'userLabels':{'team':'x'}}";

static struct appc_image_manifest *parse_image_ok(const char *text)
{
  _cleanup_free_ char *s = j(text);
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_image_manifest *m = NULL;

  if (appc_image_manifest_parse(s, strlen(s), &m, &err) < 0)
    fail_msg("unexpected error: %s", err->msg);
  return m;
}

static struct appc_pod_manifest *parse_pod_ok(const char *text)
{
  _cleanup_free_ char *s = j(text);
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_pod_manifest *m = NULL;

  if (appc_pod_manifest_parse(s, strlen(s), &m, &err) < 0)
    fail_msg("unexpected error: %s", err->msg);
  return m;
}

/* ---- deep equality for the round trips --------------------------------- */

static void assert_kvs_equal(const struct appc_kvs *a, const struct appc_kvs *b)
{
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++)
    {
      assert_string_equal(a->v[i].name, b->v[i].name);
      assert_string_equal(a->v[i].value, b->v[i].value);
    }
}

static void assert_strv_equal(char **a, char **b)
{
  assert_true((a == NULL) == (b == NULL));
  if (!a)
    return;
  assert_int_equal(strv_length(a), strv_length(b));
  for (size_t i = 0; a[i]; i++)
    assert_string_equal(a[i], b[i]);
}

static void assert_port_equal(const struct appc_port *a, const struct appc_port *b)
{
  assert_string_equal(a->name, b->name);
  assert_string_equal(a->protocol, b->protocol);
  assert_int_equal(a->port, b->port);
  assert_int_equal(a->count, b->count);
  assert_int_equal(a->socket_activated, b->socket_activated);
}

static void assert_isolators_equal(const struct appc_isolator *a, const struct appc_isolator *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      assert_string_equal(a[i].name, b[i].name);
      assert_true(json_equal(a[i].value, b[i].value));
    }
}

static void assert_app_equal(const struct appc_app *a, const struct appc_app *b)
{
  assert_true((a == NULL) == (b == NULL));
  if (!a)
    return;
  assert_strv_equal(a->exec, b->exec);
  assert_string_equal(a->user, b->user);
  assert_string_equal(a->group, b->group);
  assert_int_equal(a->n_supplementary_gids, b->n_supplementary_gids);
  for (size_t i = 0; i < a->n_supplementary_gids; i++)
    assert_int_equal(a->supplementary_gids[i], b->supplementary_gids[i]);
  assert_int_equal(a->n_event_handlers, b->n_event_handlers);
  for (size_t i = 0; i < a->n_event_handlers; i++)
    {
      assert_string_equal(a->event_handlers[i].name, b->event_handlers[i].name);
      assert_strv_equal(a->event_handlers[i].exec, b->event_handlers[i].exec);
    }
  assert_true(streq_ptr(a->working_directory, b->working_directory));
  assert_kvs_equal(&a->environment, &b->environment);
  assert_int_equal(a->n_mount_points, b->n_mount_points);
  for (size_t i = 0; i < a->n_mount_points; i++)
    {
      assert_string_equal(a->mount_points[i].name, b->mount_points[i].name);
      assert_string_equal(a->mount_points[i].path, b->mount_points[i].path);
      assert_int_equal(a->mount_points[i].read_only, b->mount_points[i].read_only);
    }
  assert_int_equal(a->n_ports, b->n_ports);
  for (size_t i = 0; i < a->n_ports; i++)
    assert_port_equal(&a->ports[i], &b->ports[i]);
  assert_int_equal(a->n_isolators, b->n_isolators);
  assert_isolators_equal(a->isolators, b->isolators, a->n_isolators);
  assert_kvs_equal(&a->user_annotations, &b->user_annotations);
  assert_kvs_equal(&a->user_labels, &b->user_labels);
}

static void assert_image_equal(const struct appc_image_manifest *a, const struct appc_image_manifest *b)
{
  assert_string_equal(a->ac_version, b->ac_version);
  assert_string_equal(a->name, b->name);
  assert_kvs_equal(&a->labels, &b->labels);
  assert_app_equal(a->app, b->app);
  assert_int_equal(a->n_dependencies, b->n_dependencies);
  for (size_t i = 0; i < a->n_dependencies; i++)
    {
      assert_string_equal(a->dependencies[i].image_name, b->dependencies[i].image_name);
      assert_true(streq_ptr(a->dependencies[i].image_id, b->dependencies[i].image_id));
      assert_kvs_equal(&a->dependencies[i].labels, &b->dependencies[i].labels);
      assert_int_equal(a->dependencies[i].size, b->dependencies[i].size);
    }
  assert_strv_equal(a->path_whitelist, b->path_whitelist);
  assert_kvs_equal(&a->annotations, &b->annotations);
}

static void assert_volume_equal(const struct appc_volume *a, const struct appc_volume *b)
{
  assert_true((a == NULL) == (b == NULL));
  if (!a)
    return;
  assert_string_equal(a->name, b->name);
  assert_int_equal(a->kind, b->kind);
  assert_true(streq_ptr(a->source, b->source));
  assert_int_equal(a->read_only, b->read_only);
  assert_int_equal(a->recursive, b->recursive);
  if (a->kind != APPC_VOLUME_EMPTY)
    return; /* mode, uid, gid mean nothing for host volumes */
  assert_int_equal(a->mode, b->mode);
  assert_int_equal(a->uid, b->uid);
  assert_int_equal(a->gid, b->gid);
}

static void assert_runtime_app_equal(const struct appc_runtime_app *a, const struct appc_runtime_app *b)
{
  assert_string_equal(a->name, b->name);
  assert_true(streq_ptr(a->image.name, b->image.name));
  assert_string_equal(a->image.id, b->image.id);
  assert_kvs_equal(&a->image.labels, &b->image.labels);
  assert_app_equal(a->app, b->app);
  assert_int_equal(a->read_only_rootfs, b->read_only_rootfs);
  assert_int_equal(a->n_mounts, b->n_mounts);
  for (size_t i = 0; i < a->n_mounts; i++)
    {
      assert_string_equal(a->mounts[i].volume, b->mounts[i].volume);
      assert_string_equal(a->mounts[i].path, b->mounts[i].path);
      assert_volume_equal(a->mounts[i].app_volume, b->mounts[i].app_volume);
    }
  assert_kvs_equal(&a->annotations, &b->annotations);
}

static void assert_pod_equal(const struct appc_pod_manifest *a, const struct appc_pod_manifest *b)
{
  assert_string_equal(a->ac_version, b->ac_version);
  assert_int_equal(a->n_apps, b->n_apps);
  for (size_t i = 0; i < a->n_apps; i++)
    assert_runtime_app_equal(&a->apps[i], &b->apps[i]);
  assert_int_equal(a->n_volumes, b->n_volumes);
  for (size_t i = 0; i < a->n_volumes; i++)
    assert_volume_equal(&a->volumes[i], &b->volumes[i]);
  assert_int_equal(a->n_isolators, b->n_isolators);
  assert_isolators_equal(a->isolators, b->isolators, a->n_isolators);
  assert_kvs_equal(&a->annotations, &b->annotations);
  assert_int_equal(a->n_ports, b->n_ports);
  for (size_t i = 0; i < a->n_ports; i++)
    {
      assert_string_equal(a->ports[i].name, b->ports[i].name);
      assert_int_equal(a->ports[i].host_port, b->ports[i].host_port);
      assert_true(streq_ptr(a->ports[i].host_ip, b->ports[i].host_ip));
      assert_true((a->ports[i].pod_port == NULL) == (b->ports[i].pod_port == NULL));
      if (a->ports[i].pod_port)
        assert_port_equal(a->ports[i].pod_port, b->ports[i].pod_port);
    }
  assert_kvs_equal(&a->user_annotations, &b->user_annotations);
  assert_kvs_equal(&a->user_labels, &b->user_labels);
}

/* serialise (sorted, as written to disk) -> parse -> equal */
static void roundtrip_image(const struct appc_image_manifest *m)
{
  _cleanup_json_ json_t *o = appc_image_manifest_to_json(m);
  _cleanup_free_ char *s = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_image_manifest_ struct appc_image_manifest *back = NULL;

  assert_non_null(o);
  s = json_dump_sorted(o, true);
  if (appc_image_manifest_parse(s, strlen(s), &back, &err) < 0)
    fail_msg("round trip: %s\n%s", err->msg, s);
  assert_image_equal(m, back);
  assert_int_equal(appc_image_manifest_validate(m, &err), 0);
}

static void roundtrip_pod(const struct appc_pod_manifest *m)
{
  _cleanup_json_ json_t *o = appc_pod_manifest_to_json(m);
  _cleanup_free_ char *s = NULL;
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_pod_manifest_ struct appc_pod_manifest *back = NULL;

  assert_non_null(o);
  s = json_dump_sorted(o, true);
  if (appc_pod_manifest_parse(s, strlen(s), &back, &err) < 0)
    fail_msg("round trip: %s\n%s", err->msg, s);
  assert_pod_equal(m, back);
  assert_int_equal(appc_pod_manifest_validate(m, &err), 0);
}

/* ---- valid manifests ---------------------------------------------------- */

static void test_image_full(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = parse_image_ok(image_full);
  const struct appc_app *a = m->app;

  assert_string_equal(m->ac_version, "0.8.11");
  assert_string_equal(m->name, "example.com/reduce-worker");
  assert_int_equal(m->labels.n, 3);
  assert_string_equal(appc_kvs_get(&m->labels, "os"), "linux");
  assert_null(appc_kvs_get(&m->labels, "nope"));
  assert_non_null(a);
  assert_string_equal(a->exec[0], "/usr/bin/reduce-worker");
  assert_string_equal(a->exec[1], "--quiet");
  assert_null(a->exec[2]);
  assert_string_equal(a->user, "100");
  assert_int_equal(a->n_supplementary_gids, 2);
  assert_int_equal(a->supplementary_gids[1], 500);
  assert_int_equal(a->n_event_handlers, 2);
  assert_string_equal(a->event_handlers[1].name, "post-stop");
  assert_string_equal(a->event_handlers[1].exec[1], "--verbose");
  assert_string_equal(a->working_directory, "/opt/work");
  assert_string_equal(appc_kvs_get(&a->environment, "a.b-c"), "");
  assert_int_equal(a->n_isolators, 2);
  assert_true(json_is_true(a->isolators[1].value));
  assert_int_equal(a->n_mount_points, 2);
  assert_true(a->mount_points[0].read_only);
  assert_false(a->mount_points[1].read_only);
  assert_int_equal(a->ports[0].count, 1); /* default */
  assert_true(a->ports[0].socket_activated);
  assert_int_equal(a->ports[1].count, 1000);
  assert_string_equal(a->user_annotations.v[0].name, "alpha"); /* sorted */
  assert_string_equal(appc_kvs_get(&a->user_labels, "tier"), "web");
  assert_int_equal(m->n_dependencies, 2);
  assert_int_equal(m->dependencies[0].size, 22017258);
  assert_null(m->dependencies[1].image_id);
  assert_int_equal(m->dependencies[1].size, 0);
  assert_int_equal(strv_length(m->path_whitelist), 2);
  assert_string_equal(appc_kvs_get(&m->annotations, "homepage"), "https://example.com");
  roundtrip_image(m);
}

static void test_image_minimal(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m =
    parse_image_ok("{'acKind':'ImageManifest','acVersion':'0.8.0','name':'busybox'}");

  assert_null(m->app);
  assert_null(m->path_whitelist);
  assert_int_equal(m->labels.n, 0);
  assert_int_equal(m->n_dependencies, 0);
  roundtrip_image(m);
}

/* null reads as absent (Go writes "volumes": null); unknown keys are skipped. */
static void test_nulls_and_extensions(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = parse_image_ok(
    "{'acKind':'ImageManifest','acVersion':'0.8.11','name':'x','labels':null,'annotations':null,"
    " 'app':{'exec':null,'user':'0','group':'0','eventHandlers':null,'future':{'a':[{}]}},'whatever':[null]}");
  _cleanup_pod_manifest_ struct appc_pod_manifest *p = parse_pod_ok(
    "{'acKind':'PodManifest','acVersion':'0.8.11','apps':[],'volumes':null,'isolators':null,"
    " 'annotations':null,'ports':null}");

  assert_non_null(m->app);
  assert_null(m->app->exec);
  assert_int_equal(m->labels.n, 0);
  assert_int_equal(p->n_apps, 0);
  roundtrip_image(m);
  roundtrip_pod(p);
}

/* The spec's own example spells it "supplementaryGids". */
static void test_supplementary_gids_alias(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = parse_image_ok(
    "{'acKind':'ImageManifest','acVersion':'0.8.11','name':'x','app':{'user':'0','group':'0',"
    " 'supplementaryGids':[7,8]}}");
  _cleanup_image_manifest_ struct appc_image_manifest *both = parse_image_ok(
    "{'acKind':'ImageManifest','acVersion':'0.8.11','name':'x','app':{'user':'0','group':'0',"
    " 'supplementaryGids':[7,8],'supplementaryGIDs':[9]}}");

  assert_int_equal(m->app->n_supplementary_gids, 2);
  assert_int_equal(m->app->supplementary_gids[0], 7);
  assert_int_equal(both->app->n_supplementary_gids, 1);
  assert_int_equal(both->app->supplementary_gids[0], 9);
}

static void test_pod_full(void **state)
{
  _cleanup_pod_manifest_ struct appc_pod_manifest *m = parse_pod_ok(pod_full);
  const struct appc_runtime_app *a = &m->apps[0];

  assert_string_equal(m->ac_version, "0.8.11+git");
  assert_int_equal(m->n_apps, 2);
  assert_string_equal(a->name, "reduce-worker");
  assert_string_equal(a->image.name, "example.com/reduce-worker");
  assert_string_equal(a->image.id, "sha512-" ID128);
  assert_string_equal(appc_kvs_get(&a->image.labels, "version"), "1.0.0");
  assert_non_null(a->app);
  assert_string_equal(a->app->exec[0], "/bin/reduce-worker");
  assert_true(a->read_only_rootfs);
  assert_int_equal(a->n_mounts, 2);
  assert_null(a->mounts[0].app_volume);
  assert_int_equal(a->mounts[1].app_volume->kind, APPC_VOLUME_EMPTY);
  assert_int_equal(a->mounts[1].app_volume->mode, 0700);
  assert_int_equal(a->mounts[1].app_volume->uid, 5);
  assert_int_equal(a->mounts[1].app_volume->gid, 6);
  assert_null(m->apps[1].image.name);
  assert_null(m->apps[1].app);
  assert_false(m->apps[1].read_only_rootfs);
  assert_string_equal(appc_kvs_get(&m->apps[1].annotations, "foo"), "baz");
  /* volumes: explicit and default values */
  assert_int_equal(m->volumes[0].kind, APPC_VOLUME_HOST);
  assert_string_equal(m->volumes[0].source, "/opt/tenant1/work");
  assert_true(m->volumes[0].read_only);
  assert_false(m->volumes[0].recursive);
  assert_int_equal(m->volumes[1].kind, APPC_VOLUME_EMPTY);
  assert_null(m->volumes[1].source);
  assert_false(m->volumes[1].read_only);
  assert_int_equal(m->volumes[1].mode, 0755);
  assert_int_equal(m->volumes[1].uid, 0);
  assert_string_equal(m->isolators[0].name, "resource/memory");
  assert_string_equal(appc_kvs_get(&m->annotations, "coreos.com/rkt/stage1/mutable"), "false");
  assert_int_equal(m->ports[0].host_port, 2121);
  assert_string_equal(m->ports[0].host_ip, "127.0.0.1");
  assert_null(m->ports[0].pod_port);
  assert_int_equal(m->ports[1].pod_port->port, 80);
  assert_int_equal(m->ports[1].pod_port->count, 1);
  assert_string_equal(m->user_annotations.v[0].name, "a");
  assert_string_equal(appc_kvs_get(&m->user_labels, "team"), "x");
  roundtrip_pod(m);
}

static void test_host_volume_recursive_default(void **state)
{
  _cleanup_pod_manifest_ struct appc_pod_manifest *m = parse_pod_ok(
    "{'acKind':'PodManifest','acVersion':'0.8.11','apps':[],"
    " 'volumes':[{'name':'v','kind':'host','source':'/srv'}]}");

  assert_true(m->volumes[0].recursive);
  roundtrip_pod(m);
}

/* ---- invalid manifests: one per rule ------------------------------------ */

struct bad
{
  bool pod;
  const char *json;
  const char *want; /* a substring of the message, ' for " */
};

#define IM "'acKind':'ImageManifest','acVersion':'0.8.11'"
#define IMN IM ",'name':'x'"
#define APP(x) "{" IMN ",'app':{'user':'0','group':'0'," x "}}"
#define PM "'acKind':'PodManifest','acVersion':'0.8.11'"
#define POD(x) "{" PM ",'apps':[]," x "}"
#define PAPP(x) "{" PM ",'apps':[{'name':'a','image':{'id':'sha512-ab'}," x "}]}"

static const struct bad bad_manifests[] = {
  /* top level */
  { false, "[]", "image manifest: must be a JSON object" },
  { false, "{" IM "}", "image manifest: 'name': is required" },
  { false, "{'acVersion':'0.8.11','name':'x'}", "'acKind': is required" },
  { false, "{'acKind':'PodManifest','acVersion':'0.8.11','name':'x'}", "'acKind': must be 'ImageManifest', not 'PodManifest'" },
  { true, "{'acKind':'ImageManifest','acVersion':'0.8.11','apps':[]}", "pod manifest: 'acKind': must be 'PodManifest'" },
  { false, "{'acKind':'ImageManifest','name':'x'}", "'acVersion': is required" },
  { false, "{'acKind':'ImageManifest','acVersion':'0.8','name':'x'}", "'acVersion': '0.8' is not a valid SemVer" },
  { false, "{'acKind':'ImageManifest','acVersion':'0.08.1','name':'x'}", "is not a valid SemVer" },
  { false, "{'acKind':'ImageManifest','acVersion':'v0.8.1','name':'x'}", "is not a valid SemVer" },
  { false, "{'acKind':'ImageManifest','acVersion':'0.7.4','name':'x'}", "'acVersion': '0.7.4' is not supported" },
  { false, "{'acKind':'ImageManifest','acVersion':'1.0.0','name':'x'}", "'1.0.0' is not supported" },
  { false, "{'acKind':'ImageManifest','acVersion':8,'name':'x'}", "'acVersion': must be a string" },
  { false, "{" IM ",'name':'Foo Bar'}", "image manifest: 'name': 'Foo Bar' is not a valid AC identifier" },
  { false, "{" IM ",'name':'-x'}", "'name': '-x' is not a valid AC identifier" },
  { false, "{" IM ",'name':['x']}", "'name': must be a string" },
  /* labels */
  { false, "{" IMN ",'labels':{}}", "'labels': must be an array" },
  { false, "{" IMN ",'labels':[1]}", "'labels[0]': must be an object" },
  { false, "{" IMN ",'labels':[{'name':'Version','value':'1'}]}", "'labels[0].name': 'Version' is not a valid AC identifier" },
  { false, "{" IMN ",'labels':[{'name':'v'}]}", "'labels[0].value': is required" },
  { false, "{" IMN ",'labels':[{'name':'v','value':1}]}", "'labels[0].value': must be a string" },
  { false, "{" IMN ",'labels':[{'name':'name','value':'y'}]}", "'labels[0].name': a label may not be called 'name'" },
  { false, "{" IMN ",'labels':[{'name':'v','value':'1'},{'name':'v','value':'2'}]}", "'labels': 'v' appears twice" },
  { false, "{" IMN ",'labels':[{'name':'os','value':'plan9'}]}", "'labels': os 'plan9' is not supported" },
  { false, "{" IMN ",'labels':[{'name':'os','value':'linux'},{'name':'arch','value':'x86_64'}]}",
    "'labels': arch 'x86_64' is not valid for os 'linux'" },
  /* app */
  { false, "{" IMN ",'app':[]}", "'app': must be an object" },
  { false, "{" IMN ",'app':{'group':'0'}}", "'app.user': is required" },
  { false, "{" IMN ",'app':{'user':'0'}}", "'app.group': is required" },
  { false, "{" IMN ",'app':{'user':'','group':'0'}}", "'app.user': must not be empty" },
  { false, APP("'exec':'/bin/sh'"), "'app.exec': must be an array" },
  { false, APP("'exec':['/bin/sh',1]"), "'app.exec[1]': must be a string" },
  { false, APP("'exec':['bin/sh']"), "'app.exec[0]': 'bin/sh' must be an absolute path or a command name" },
  { false, APP("'exec':['']"), "'app.exec[0]': must not be empty" },
  { false, APP("'supplementaryGIDs':[1,-2]"), "'app.supplementaryGIDs[1]': -2 is not between 0 and" },
  { false, APP("'supplementaryGIDs':[1.5]"), "'app.supplementaryGIDs[0]': must be an integer" },
  { false, APP("'supplementaryGIDs':[4294967295]"), "'app.supplementaryGIDs[0]': 4294967295 is not between" },
  { false, APP("'eventHandlers':[{'name':'pre-stop','exec':['/x']}]"), "'app.eventHandlers[0].name': 'pre-stop' is not an event" },
  { false, APP("'eventHandlers':[{'name':'pre-start'}]"), "'app.eventHandlers[0].exec': is required" },
  { false, APP("'eventHandlers':[{'name':'pre-start','exec':[]}]"), "'app.eventHandlers[0].exec': must not be empty" },
  { false, APP("'eventHandlers':[{'name':'pre-start','exec':['/a']},{'name':'pre-start','exec':['/b']}]"),
    "'app.eventHandlers': 'pre-start' appears twice" },
  { false, APP("'workingDirectory':'opt'"), "'app.workingDirectory': 'opt' must be an absolute path" },
  { false, APP("'environment':[{'name':'1X','value':''}]"), "'app.environment[0].name': '1X' is not a valid environment variable name" },
  { false, APP("'environment':[{'name':'A B','value':''}]"), "is not a valid environment variable name" },
  { false, APP("'environment':[{'name':'A','value':''},{'name':'A','value':'b'}]"), "'app.environment': 'A' appears twice" },
  { false, APP("'mountPoints':[{'name':'a.b','path':'/x'}]"), "'app.mountPoints[0].name': 'a.b' is not a valid AC name" },
  { false, APP("'mountPoints':[{'name':'ab','path':'x'}]"), "'app.mountPoints[0].path': 'x' must be an absolute path" },
  { false, APP("'mountPoints':[{'name':'ab','path':'/x','readOnly':'yes'}]"), "'app.mountPoints[0].readOnly': must be a boolean" },
  { false, APP("'ports':[{'name':'p','protocol':'tcp','port':0}]"), "'app.ports[0].port': 0 is not between 1 and 65535" },
  { false, APP("'ports':[{'name':'p','protocol':'tcp','port':65536}]"), "'app.ports[0].port': 65536 is not between" },
  { false, APP("'ports':[{'name':'p','port':80}]"), "'app.ports[0].protocol': is required" },
  { false, APP("'ports':[{'name':'p','protocol':'tcp','port':65000,'count':600}]"), "'app.ports[0]': port range 65000-65599 ends above 65535" },
  { false, APP("'ports':[{'name':'p','protocol':'tcp','port':80,'count':-1}]"), "'app.ports[0].count': -1 is not between" },
  { false, APP("'ports':[{'name':'p','protocol':'tcp','port':80,'socketActivated':1}]"), "'app.ports[0].socketActivated': must be a boolean" },
  { false, APP("'isolators':[{'name':'Resource/CPU','value':1}]"), "'app.isolators[0].name': 'Resource/CPU' is not a valid AC identifier" },
  { false, APP("'isolators':[{'name':'resource/cpu'}]"), "'app.isolators[0].value': is required" },
  { false, APP("'userAnnotations':{'a':1}"), "'app.userAnnotations': 'a' must map to a string" },
  { false, APP("'userLabels':[]"), "'app.userLabels': must be an object" },
  /* dependencies */
  { false, "{" IMN ",'dependencies':[{'imageID':'sha512-ab'}]}", "'dependencies[0].imageName': is required" },
  { false, "{" IMN ",'dependencies':[{'imageName':'a','imageID':'sha1-ab'}]}", "'dependencies[0].imageID': 'sha1-ab' is not a valid image id" },
  { false, "{" IMN ",'dependencies':[{'imageName':'a','imageID':'sha512-AB'}]}", "is not a valid image id" },
  { false, "{" IMN ",'dependencies':[{'imageName':'a','size':-5}]}", "'dependencies[0].size': -5 is not between" },
  { false, "{" IMN ",'dependencies':[{'imageName':'a','size':1e3}]}", "'dependencies[0].size': must be an integer" },
  { false, "{" IMN ",'dependencies':[{'imageName':'a','labels':[{'name':'arch','value':'amd64'},{'name':'os','value':'darwin'}]}]}",
    "'dependencies[0].labels': arch 'amd64' is not valid for os 'darwin'" },
  /* pathWhitelist, annotations */
  { false, "{" IMN ",'pathWhitelist':['/a','b']}", "'pathWhitelist[1]': 'b' must be an absolute path" },
  { false, "{" IMN ",'annotations':[{'name':'a b','value':'x'}]}", "'annotations[0].name': 'a b' is not a valid AC identifier" },
  { false, "{" IMN ",'annotations':[{'name':'a','value':'x'},{'name':'a','value':'y'}]}", "'annotations': 'a' appears twice" },
  { false, "{" IMN ",'annotations':[{'name':'created','value':'yesterday'}]}", "'annotations[0].value': 'yesterday' is not an RFC 3339" },
  { false, "{" IMN ",'annotations':[{'name':'homepage','value':'ftp://x'}]}", "'annotations[0].value': 'ftp://x' is not an http or https URL" },
  /* pod manifest */
  { true, "{" PM "}", "pod manifest: 'apps': is required" },
  { true, "{" PM ",'apps':{}}", "'apps': must be an array" },
  { true, "{" PM ",'apps':[{'image':{'id':'sha512-ab'}}]}", "'apps[0].name': is required" },
  { true, "{" PM ",'apps':[{'name':'My App','image':{'id':'sha512-ab'}}]}", "'apps[0].name': 'My App' is not a valid AC name" },
  { true, "{" PM ",'apps':[{'name':'example.com/a','image':{'id':'sha512-ab'}}]}", "is not a valid AC name" },
  { true, "{" PM ",'apps':[{'name':'a'}]}", "'apps[0].image': is required" },
  { true, "{" PM ",'apps':[{'name':'a','image':{'name':'x'}}]}", "'apps[0].image.id': is required" },
  { true, "{" PM ",'apps':[{'name':'a','image':{'id':'sha512-'}}]}", "'apps[0].image.id': 'sha512-' is not a valid image id" },
  { true, "{" PM ",'apps':[{'name':'a','image':{'id':'sha512-ab','name':'X'}}]}", "'apps[0].image.name': 'X' is not a valid AC identifier" },
  { true, "{" PM ",'apps':[{'name':'a','image':{'id':'sha512-ab'}},{'name':'a','image':{'id':'sha512-cd'}}]}", "'apps': 'a' appears twice" },
  { true, PAPP("'app':{'user':'0'}"), "'apps[0].app.group': is required" },
  { true, PAPP("'readOnlyRootFS':'true'"), "'apps[0].readOnlyRootFS': must be a boolean" },
  { true, PAPP("'mounts':[{'volume':'v'}]"), "'apps[0].mounts[0].path': is required" },
  { true, PAPP("'mounts':[{'volume':'V','path':'/x'}]"), "'apps[0].mounts[0].volume': 'V' is not a valid AC name" },
  { true, PAPP("'mounts':[{'volume':'v','path':'/x','appVolume':{'name':'v','kind':'host'}}]"),
    "'apps[0].mounts[0].appVolume': a host volume needs a 'source'" },
  { true, PAPP("'annotations':[{'name':'a','value':'1'},{'name':'a','value':'2'}]"), "'apps[0].annotations': 'a' appears twice" },
  { true, POD("'volumes':[{'name':'v','kind':'tmpfs'}]"), "'volumes[0].kind': 'tmpfs' is not a volume kind" },
  { true, POD("'volumes':[{'name':'v'}]"), "'volumes[0].kind': is required" },
  { true, POD("'volumes':[{'name':'v','kind':'host'}]"), "'volumes[0]': a host volume needs a 'source'" },
  { true, POD("'volumes':[{'name':'v','kind':'host','source':'rel'}]"), "'volumes[0].source': 'rel' must be an absolute path" },
  { true, POD("'volumes':[{'name':'v','kind':'host','source':'/a','mode':'0755'}]"), "'volumes[0]': a host volume takes no 'mode'" },
  { true, POD("'volumes':[{'name':'v','kind':'host','source':'/a','uid':0}]"), "a host volume takes no 'uid'" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','source':'/a'}]"), "'volumes[0]': an empty volume takes no 'source'" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','mode':'0999'}]"), "'volumes[0].mode': '0999' is not a file mode" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','mode':'17777'}]"), "is not a file mode" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','mode':755}]"), "'volumes[0].mode': must be a string" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','uid':-1}]"), "'volumes[0].uid': -1 is not between" },
  { true, POD("'volumes':[{'name':'v','kind':'empty','gid':99999999999}]"), "'volumes[0].gid': 99999999999 is not between" },
  { true, POD("'volumes':[{'name':'v','kind':'empty'},{'name':'v','kind':'empty'}]"), "'volumes': 'v' appears twice" },
  { true, POD("'isolators':[{'name':'','value':1}]"), "'isolators[0].name': '' is not a valid AC identifier" },
  { true, POD("'annotations':[{'name':'A','value':'1'}]"), "'annotations[0].name': 'A' is not a valid AC identifier" },
  { true, POD("'ports':[{'name':'p'}]"), "'ports[0].hostPort': is required" },
  { true, POD("'ports':[{'name':'p','hostPort':70000}]"), "'ports[0].hostPort': 70000 is not between 1 and 65535" },
  { true, POD("'ports':[{'name':'p','hostPort':80,'hostIP':'::1'}]"), "'ports[0].hostIP': '::1' is not an IPv4 address" },
  { true, POD("'ports':[{'name':'p','hostPort':80,'podPort':{'name':'p','protocol':'tcp'}}]"), "'ports[0].podPort.port': is required" },
  { true, POD("'ports':[{'name':'p','hostPort':80},{'name':'p','hostPort':81}]"), "'ports': 'p' appears twice" },
  { true, POD("'userLabels':{'a':null}"), "'userLabels': 'a' must map to a string" },
  /* JSON level */
  { false, "{" IMN ",'name':'y'}", "image manifest: invalid JSON at line 1" },
  { false, "{" IMN, "image manifest: invalid JSON" },
  { false, "", "image manifest: invalid JSON" },
  { false, "{" IMN ",'labels':[{'name':'a','value':'1','value':'2'}]}", "duplicate object key" },
  { false, "{" IMN ",'x':123456789012345678901234567890}", "too big" },
};

static void test_invalid(void **state)
{
  for (size_t i = 0; i < ELEMENTSOF(bad_manifests); i++)
    {
      const struct bad *b = &bad_manifests[i];
      _cleanup_free_ char *s = j(b->json), *want = j(b->want);
      _cleanup_error_ podrun_error_t err = NULL;
      struct appc_image_manifest *im = (void *) 0x1;
      struct appc_pod_manifest *pm = (void *) 0x1;
      int r = b->pod ? appc_pod_manifest_parse(s, strlen(s), &pm, &err)
                     : appc_image_manifest_parse(s, strlen(s), &im, &err);

      if (r != -1 || !err)
        fail_msg("#%zu accepted: %s", i, s);
      if (!strstr(err->msg, want))
        fail_msg("#%zu: message\n  %s\nlacks\n  %s", i, err->msg, want);
      assert_true(startswith(err->msg, b->pod ? "pod manifest: " : "image manifest: ") != NULL);
      assert_ptr_equal(b->pod ? (void *) pm : (void *) im, (void *) 0x1); /* ret untouched */
    }
}

static void test_user_strings_quoted(void **state)
{
  _cleanup_free_ char *s = j("{" IM ",'name':'a\\u0001\\\"b'}");
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *longname = NULL;
  struct appc_image_manifest *m = NULL;

  assert_int_equal(appc_image_manifest_parse(s, strlen(s), &m, &err), -1);
  assert_string_equal(err->msg, "image manifest: \"name\": \"a\\x01\\\"b\" is not a valid AC identifier");
  podrun_error_free(&err);
  /* long values are cut, on a UTF-8 boundary */
  free(s);
  longname = xmalloc(400);
  memset(longname, 'X', 63);
  strcpy(longname + 63, "\xc3\xa9");
  memset(longname + 65, 'Y', 200);
  longname[265] = '\0';
  s = xasprintf("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\"}", longname);
  assert_int_equal(appc_image_manifest_parse(s, strlen(s), &m, &err), -1);
  assert_non_null(strstr(err->msg, "XXX\"... is not a valid"));
  assert_null(strstr(err->msg, "\xc3"));
}

static void test_size_cap(void **state)
{
  size_t len = JSON_MAX_INPUT + 1;
  _cleanup_free_ char *big = xmalloc(len + 1);
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_pod_manifest *m = NULL;
  const char *head = "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],\"pad\":\"";

  memset(big, 'a', len);
  memcpy(big, head, strlen(head));
  memcpy(big + len - 2, "\"}", 2);
  big[len] = '\0';
  assert_int_equal(appc_pod_manifest_parse(big, len, &m, &err), -1);
  assert_non_null(strstr(err->msg, "pod manifest: larger than"));
  assert_null(m);
}

/* ---- the name types ----------------------------------------------------- */

static void test_ac_names(void **state)
{
  static const char *const names_ok[] = { "a", "database", "product-database", "a-b-c", "0", "9x", "a1-2b",
                                          "a--b" /* as the reference implementation */ };
  static const char *const names_bad[] = { "", "-a", "a-", "-", "A", "a.b", "a/b", "a_b", "a b", "é", "a\n" };
  static const char *const ids_ok[] = {
    "database", "example.com/database", "example.com/~user/app_v1", "sub-domain.example.com/org/product/release",
    "coreos.com/rkt/stage1/run", "a.b-c~d/e_f", "0", "a//b", "a._b",
  };
  static const char *const ids_bad[] = {
    "", "/a", "a/", "~", "Example.com", "a:b", "a b", "a@b", ".a", "a~", "a\n", "a%2f", "é",
  };

  for (size_t i = 0; i < ELEMENTSOF(names_ok); i++)
    assert_true(appc_name_is_valid(names_ok[i]));
  for (size_t i = 0; i < ELEMENTSOF(names_bad); i++)
    assert_false(appc_name_is_valid(names_bad[i]));
  for (size_t i = 0; i < ELEMENTSOF(ids_ok); i++)
    assert_true(appc_identifier_is_valid(ids_ok[i]));
  for (size_t i = 0; i < ELEMENTSOF(ids_bad); i++)
    assert_false(appc_identifier_is_valid(ids_bad[i]));
  /* every AC Name is an AC Identifier */
  for (size_t i = 0; i < ELEMENTSOF(names_ok); i++)
    assert_true(appc_identifier_is_valid(names_ok[i]));
  assert_false(appc_name_is_valid(NULL));
  assert_false(appc_identifier_is_valid(NULL));
}

static void test_image_ids_and_env(void **state)
{
  _cleanup_free_ char *too_long = xasprintf("sha512-%s0", ID128);

  assert_true(appc_image_id_is_valid("sha512-" ID128));
  assert_true(appc_image_id_is_valid("sha512-a"));
  assert_false(appc_image_id_is_valid(too_long));
  assert_false(appc_image_id_is_valid("sha512-"));
  assert_false(appc_image_id_is_valid("sha512-abcg"));
  assert_false(appc_image_id_is_valid("sha512-ABC"));
  /* an OCI image's: its config's sha256 */
  assert_true(appc_image_id_is_valid("sha256-abc"));
  _cleanup_free_ char *full256 = xasprintf("sha256-%.64s", ID128), *too_long256 = xasprintf("sha256-%.64s0", ID128);
  assert_true(appc_image_id_is_valid(full256));
  assert_false(appc_image_id_is_valid(too_long256));
  assert_false(appc_image_id_is_valid("sha1-abc"));
  assert_false(appc_image_id_is_valid("abc"));
  assert_false(appc_image_id_is_valid(NULL));

  assert_true(appc_env_name_is_valid("PATH"));
  assert_true(appc_env_name_is_valid("_x"));
  assert_true(appc_env_name_is_valid("a.b-c9"));
  assert_false(appc_env_name_is_valid(""));
  assert_false(appc_env_name_is_valid("9a"));
  assert_false(appc_env_name_is_valid("-a"));
  assert_false(appc_env_name_is_valid("a=b"));
  assert_false(appc_env_name_is_valid("a b"));
}

static void test_os_arch(void **state)
{
  static const char *const ok[][2] = {
    { "linux", "amd64" },   { "linux", "i386" },    { "linux", "aarch64" }, { "linux", "aarch64_be" },
    { "linux", "armv6l" },  { "linux", "armv7l" },  { "linux", "armv7b" },  { "linux", "ppc64" },
    { "linux", "ppc64le" }, { "linux", "s390x" },   { "freebsd", "amd64" }, { "freebsd", "i386" },
    { "freebsd", "arm" },   { "darwin", "x86_64" }, { "darwin", "i386" },   { "linux", NULL },
    { "freebsd", NULL },    { "darwin", NULL },
  };
  static const char *const bad[][2] = {
    { "linux", "x86_64" }, { "linux", "arm64" }, { "linux", "" },       { "darwin", "amd64" },
    { "freebsd", "arm64" }, { "windows", "amd64" }, { "Linux", "amd64" }, { "", NULL },
    { NULL, "amd64" },
  };

  for (size_t i = 0; i < ELEMENTSOF(ok); i++)
    assert_true(appc_os_arch_is_valid(ok[i][0], ok[i][1]));
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    assert_false(appc_os_arch_is_valid(bad[i][0], bad[i][1]));
}

/* arch alone is not an error: the spec says it only means something with os. */
static void test_arch_without_os(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m =
    parse_image_ok("{" IMN ",'labels':[{'name':'arch','value':'anything'}]}");
  assert_string_equal(appc_kvs_get(&m->labels, "arch"), "anything");
}

static void test_semver(void **state)
{
  static const char *const ok[] = { "0.8.0", "0.8.11", "0.8.11+git", "0.9.0-rc.1+build.5", "1.2.3", "10.20.30",
                                    "1.0.0-alpha-a.b-c", "1.0.0+001", "0.0.0" };
  static const char *const bad[] = { "", "0.8", "0.8.", "0.8.1.2", "00.8.1", "0.08.1", "0.8.01", "v0.8.1",
                                     "0.8.1-", "0.8.1+", "0.8.1-01", "0.8.1-a..b", "0.8.1 ", "0.8.x",
                                     "99999999999999999999999.0.0" };
  unsigned long major = 99, minor = 99;

  for (size_t i = 0; i < ELEMENTSOF(ok); i++)
    if (!appc_semver_parse(ok[i], NULL, NULL))
      fail_msg("rejected %s", ok[i]);
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    if (appc_semver_parse(bad[i], NULL, NULL))
      fail_msg("accepted %s", bad[i]);
  assert_true(appc_semver_parse("0.8.11+git", &major, &minor));
  assert_int_equal(major, 0);
  assert_int_equal(minor, 8);
  assert_true(appc_version_is_supported("0.8.0"));
  assert_true(appc_version_is_supported("0.8.11+git"));
  assert_true(appc_version_is_supported("0.9.1"));
  assert_false(appc_version_is_supported("0.7.9"));
  assert_false(appc_version_is_supported("1.0.0"));
  assert_false(appc_version_is_supported("0.0.0"));
  assert_false(appc_version_is_supported("junk"));
}

static void test_annotation_formats(void **state)
{
  _cleanup_image_manifest_ struct appc_image_manifest *m = parse_image_ok(
    "{" IMN ",'annotations':[{'name':'created','value':'2015-05-18T13:49:28.351729952-04:00'},"
    " {'name':'documentation','value':'http://example.com/docs'}]}");
  static const char *const bad_dates[] = { "2015-13-01T00:00:00Z", "2015-05-18 13:49:28Z", "2015-05-18T13:49:28",
                                           "2015-05-18T13:49:28+0400", "2015-05-18T25:00:00Z", "2015-05-18T13:49:28.Z" };

  assert_string_equal(appc_kvs_get(&m->annotations, "documentation"), "http://example.com/docs");
  for (size_t i = 0; i < ELEMENTSOF(bad_dates); i++)
    {
      _cleanup_free_ char *s = xasprintf("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"x\","
                                         "\"annotations\":[{\"name\":\"created\",\"value\":\"%s\"}]}",
                                         bad_dates[i]);
      _cleanup_error_ podrun_error_t err = NULL;
      struct appc_image_manifest *bad = NULL;
      if (appc_image_manifest_parse(s, strlen(s), &bad, &err) == 0)
        fail_msg("accepted %s", bad_dates[i]);
    }
}

/* ---- building in C, validate, serialise --------------------------------- */

static void test_build_and_validate(void **state)
{
  _cleanup_error_ podrun_error_t err = NULL;
  struct appc_kv label = { (char *) "os", (char *) "linux" };
  struct appc_volume vol = { .name = (char *) "data", .kind = APPC_VOLUME_EMPTY, .mode = 0750, .uid = 1, .gid = 2 };
  struct appc_runtime_app app = { .name = (char *) "web", .image = { .id = (char *) "sha512-abc" } };
  struct appc_pod_manifest pod = {
    .ac_version = (char *) APPC_VERSION, .apps = &app, .n_apps = 1, .volumes = &vol, .n_volumes = 1,
  };
  struct appc_image_manifest im = { .ac_version = (char *) APPC_VERSION, .name = (char *) "example.com/x",
                                    .labels = { &label, 1 } };
  _cleanup_json_ json_t *o = appc_pod_manifest_to_json(&pod);
  _cleanup_free_ char *s = json_dump_sorted(o, false);

  assert_string_equal(s, "{\"acKind\":\"PodManifest\",\"acVersion\":\"" APPC_VERSION "\",\"apps\":[{\"image\":"
                         "{\"id\":\"sha512-abc\"},\"name\":\"web\"}],\"volumes\":[{\"gid\":2,\"kind\":\"empty\","
                         "\"mode\":\"0750\",\"name\":\"data\",\"readOnly\":false,\"recursive\":false,\"uid\":1}]}");
  assert_int_equal(appc_pod_manifest_validate(&pod, &err), 0);
  roundtrip_pod(&pod);
  assert_int_equal(appc_image_manifest_validate(&im, &err), 0);
  roundtrip_image(&im);

  app.name = (char *) "Web";
  assert_int_equal(appc_pod_manifest_validate(&pod, &err), -1);
  assert_string_equal(err->msg, "pod manifest: \"apps[0].name\": \"Web\" is not a valid AC name");
  podrun_error_free(&err);
  app.name = NULL;
  assert_int_equal(appc_pod_manifest_validate(&pod, &err), -1);
  assert_string_equal(err->msg, "pod manifest: \"apps[0].name\": is required");
  podrun_error_free(&err);
  label.value = (char *) "\xff";
  assert_null(appc_image_manifest_to_json(&im));
  assert_int_equal(appc_image_manifest_validate(&im, &err), -1);
  assert_non_null(strstr(err->msg, "UTF-8"));
}

static void test_free_null(void **state)
{
  appc_image_manifest_free(NULL);
  appc_pod_manifest_free(NULL);
  assert_null(appc_kvs_get(NULL, "x"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_image_full),
    cmocka_unit_test(test_image_minimal),
    cmocka_unit_test(test_nulls_and_extensions),
    cmocka_unit_test(test_supplementary_gids_alias),
    cmocka_unit_test(test_pod_full),
    cmocka_unit_test(test_host_volume_recursive_default),
    cmocka_unit_test(test_invalid),
    cmocka_unit_test(test_user_strings_quoted),
    cmocka_unit_test(test_size_cap),
    cmocka_unit_test(test_ac_names),
    cmocka_unit_test(test_image_ids_and_env),
    cmocka_unit_test(test_os_arch),
    cmocka_unit_test(test_arch_without_os),
    cmocka_unit_test(test_semver),
    cmocka_unit_test(test_annotation_formats),
    cmocka_unit_test(test_build_and_validate),
    cmocka_unit_test(test_free_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
