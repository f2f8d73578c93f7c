/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM's size from the apps' resource isolators (--memory, --cpu): the
 * sum of the apps' memory limits plus what the guest itself needs, and as
 * many vCPUs as the apps' CPU limits add up to (rounded up, at most the
 * host's CPUs). Without limits: KVM_MEMORY_DEFAULT_MIB and one vCPU. */
#include "kvm.h"

#include <unistd.h>

#include "resources.h"

int kvm_vm_size(const struct appc_pod_manifest *m, unsigned *ret_mib, unsigned *ret_cpus, podrun_error_t *err)
{
  uint64_t bytes = 0, millicores = 0;
  bool all_memory = m->n_apps > 0;
  for (size_t i = 0; i < m->n_apps; i++)
    {
      struct app_resources r = { 0 };
      if (app_resources_from_isolators(m->apps[i].app, &r, err) < 0)
        return podrun_error_wrap(err, "app %s", m->apps[i].name);
      all_memory &= r.memory_bytes > 0;
      bytes += r.memory_bytes;
      millicores += r.cpu_millicores;
    }
  uint64_t mib = all_memory ? KVM_MEMORY_BASE_MIB + (bytes + (1 << 20) - 1) / (1 << 20) : KVM_MEMORY_DEFAULT_MIB;
  if (all_memory && mib < KVM_MEMORY_DEFAULT_MIB)
    mib = KVM_MEMORY_DEFAULT_MIB; /* the limits hold inside; the guest needs room of its own */
  if (mib > 1 << 20)
    return podrun_error_new(err, 0, "the pod's memory limits add up to %llu MiB: more than a VM gets",
                            (unsigned long long) mib);
  long host = sysconf(_SC_NPROCESSORS_ONLN);
  uint64_t cpus = millicores ? (millicores + 999) / 1000 : 1;
  if (host > 0 && cpus > (uint64_t) host)
    cpus = (uint64_t) host;
  *ret_mib = (unsigned) mib;
  *ret_cpus = (unsigned) cpus;
  return 0;
}
