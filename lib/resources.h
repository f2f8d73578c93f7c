/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "appc.h"
#include "error.h"

/* appc's resource isolators, as rkt read them:
 *   resource/memory     {"limit": "512M"}   bytes: k M G T (powers of 1000), Ki Mi Gi Ti (of 1024)
 *   resource/cpu        {"limit": "500m"}   cores: "2", "0.5" or millicores "500m"
 *   os/linux/cpu-shares 1024                the relative weight (cgroup v1 cpu.shares, 2…262144) */
#define RESOURCE_MEMORY "resource/memory"
#define RESOURCE_CPU "resource/cpu"
#define RESOURCE_CPU_SHARES "os/linux/cpu-shares"

int resource_parse_bytes(const char *q, uint64_t *ret, podrun_error_t *err);
int resource_parse_millicores(const char *q, uint64_t *ret, podrun_error_t *err);

/* What an app asks for; 0 for what it does not. */
struct app_resources
{
  uint64_t memory_bytes;
  uint64_t cpu_millicores;
  uint64_t cpu_shares;
};

int app_resources_from_isolators(const struct appc_app *app, struct app_resources *ret, podrun_error_t *err);
static inline bool app_resources_any(const struct app_resources *r)
{
  return r->memory_bytes || r->cpu_millicores || r->cpu_shares;
}
