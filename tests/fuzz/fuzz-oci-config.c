/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun-oci's config.json (oci/config.c): any input is a pod manifest the
 * appc parser takes and whose app's isolators stage2 takes as they are
 * (the seccomp profile, masked paths, tmpfs mounts podrun-oci checked at
 * create), or one error line that names config.json. */
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "appc.h"
#include "fs.h"
#include "oci/config.h"
#include "stage2/app-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "sha512-" \
  "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static char bundle[64];

static void remove_bundle(void)
{
  podrun_error_t err = NULL;
  (void) fs_rm_rf_at(AT_FDCWD, bundle, &err);
  podrun_error_free(&err);
}

/* A bundle with a rootfs, made once (root.path "rootfs" then exists). */
static void make_bundle(void)
{
  snprintf(bundle, sizeof(bundle), "/tmp/podrun-fuzz-oci-XXXXXX");
  if (!mkdtemp(bundle))
    abort();
  _cleanup_free_ char *root = xasprintf("%s/rootfs", bundle);
  if (mkdir(root, 0755) < 0)
    abort();
  atexit(remove_bundle);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct oci_spec c = { 0 };
  podrun_error_t err = NULL;

  if (!bundle[0])
    make_bundle();
  if (oci_spec_parse(bundle, (const char *) data, size, ID, &c, &err) < 0)
    {
      if (!err || !startswith(err->msg, "config.json") || strchr(err->msg, '\n'))
        abort();
      podrun_error_free(&err);
      return 0;
    }
  _cleanup_free_ char *text = json_dumps(c.pod_manifest, JSON_COMPACT);
  _cleanup_pod_manifest_ struct appc_pod_manifest *m = NULL;
  if (!text || appc_pod_manifest_parse(text, strlen(text), &m, &err) < 0 || m->n_apps != 1)
    abort(); /* what the mapping made, the pod's stage1 reads */
  struct app_config ac;
  if (!m->apps[0].app || app_config_from_isolators(m->apps[0].app, false, &ac, &err) < 0)
    abort(); /* and stage2 */
  if (ac.seccomp_profile.profile)
    for (size_t i = 0; i < ac.seccomp_profile.n_rules; i++)
      if (!ac.seccomp_profile.rules[i].names || ac.seccomp_profile.rules[i].n_args > SYSCALLS_ARGS_MAX)
        abort();
  app_config_done(&ac);
  oci_spec_done(&c);
  return 0;
}
