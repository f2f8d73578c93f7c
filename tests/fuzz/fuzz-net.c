/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What pod networking parses: the input as a --net value, as a --port value,
 * and as a CNI configuration (.conf or .conflist). A --net that net_check
 * takes is made only of network names and K=V arguments; every refusal
 * says why. Runs with an empty local configuration (no net.d). */
#include <stdint.h>

#include "cni.h"
#include "stage0/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup((const char *) data, size);
  struct appc_pod_manifest m = { 0 };
  podrun_error_t err = NULL;
  json_t *conf = NULL;

  arg_local_config = "/nonexistent/podrun-fuzz-net";
  if (net_check(s, &m, &err) == 0 && net_is_cni(s) && strpbrk(s, " \t\n"))
    abort(); /* no blank in a network list */
  if (err && !*err->msg)
    abort();
  podrun_error_free(&err);
  char *ports[] = { s, NULL };
  if (net_ports_from_flags(&m, ports, &err) == 0 && (m.n_ports != 1 || !m.ports[0].host_port))
    abort();
  for (size_t i = 0; i < m.n_ports; i++)
    {
      free(m.ports[i].name);
      free(m.ports[i].host_ip);
    }
  free(m.ports);
  podrun_error_free(&err);
  if (cni_conf_parse(s, size, "fuzz.conf", &conf, &err) == 0 &&
      !json_array_size(json_object_get(conf, "plugins")))
    abort(); /* what parses has a plugin */
  json_decref(conf);
  podrun_error_free(&err);
  return 0;
}
