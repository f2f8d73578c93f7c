/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "caps.h"

#include <linux/capability.h>
#include <strings.h>

#define CAP_ENTRY(c) [c] = #c

/* Indexed by number. The kernel headers this is built against name them
 * all, up to CAP_LAST_CAP. */
static const char *const cap_names[] = {
  CAP_ENTRY(CAP_CHOWN),
  CAP_ENTRY(CAP_DAC_OVERRIDE),
  CAP_ENTRY(CAP_DAC_READ_SEARCH),
  CAP_ENTRY(CAP_FOWNER),
  CAP_ENTRY(CAP_FSETID),
  CAP_ENTRY(CAP_KILL),
  CAP_ENTRY(CAP_SETGID),
  CAP_ENTRY(CAP_SETUID),
  CAP_ENTRY(CAP_SETPCAP),
  CAP_ENTRY(CAP_LINUX_IMMUTABLE),
  CAP_ENTRY(CAP_NET_BIND_SERVICE),
  CAP_ENTRY(CAP_NET_BROADCAST),
  CAP_ENTRY(CAP_NET_ADMIN),
  CAP_ENTRY(CAP_NET_RAW),
  CAP_ENTRY(CAP_IPC_LOCK),
  CAP_ENTRY(CAP_IPC_OWNER),
  CAP_ENTRY(CAP_SYS_MODULE),
  CAP_ENTRY(CAP_SYS_RAWIO),
  CAP_ENTRY(CAP_SYS_CHROOT),
  CAP_ENTRY(CAP_SYS_PTRACE),
  CAP_ENTRY(CAP_SYS_PACCT),
  CAP_ENTRY(CAP_SYS_ADMIN),
  CAP_ENTRY(CAP_SYS_BOOT),
  CAP_ENTRY(CAP_SYS_NICE),
  CAP_ENTRY(CAP_SYS_RESOURCE),
  CAP_ENTRY(CAP_SYS_TIME),
  CAP_ENTRY(CAP_SYS_TTY_CONFIG),
  CAP_ENTRY(CAP_MKNOD),
  CAP_ENTRY(CAP_LEASE),
  CAP_ENTRY(CAP_AUDIT_WRITE),
  CAP_ENTRY(CAP_AUDIT_CONTROL),
  CAP_ENTRY(CAP_SETFCAP),
  CAP_ENTRY(CAP_MAC_OVERRIDE),
  CAP_ENTRY(CAP_MAC_ADMIN),
  CAP_ENTRY(CAP_SYSLOG),
  CAP_ENTRY(CAP_WAKE_ALARM),
  CAP_ENTRY(CAP_BLOCK_SUSPEND),
  CAP_ENTRY(CAP_AUDIT_READ),
#ifdef CAP_PERFMON
  CAP_ENTRY(CAP_PERFMON),
#endif
#ifdef CAP_BPF
  CAP_ENTRY(CAP_BPF),
#endif
#ifdef CAP_CHECKPOINT_RESTORE
  CAP_ENTRY(CAP_CHECKPOINT_RESTORE),
#endif
};
_Static_assert(ELEMENTSOF(cap_names) == CAP_LAST_CAP + 1, "a capability without a name");
_Static_assert(CAP_LAST_CAP < 64, "capability masks are 64 bits");

const char *const caps_appc_default[] = {
  "CAP_AUDIT_WRITE", "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
  "CAP_KILL",        "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_NET_BIND_SERVICE", "CAP_SETUID",
  "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETFCAP",     "CAP_SYS_CHROOT",       NULL,
};

int caps_from_name(const char *name)
{
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (cap_names[c] && strcasecmp(name, cap_names[c]) == 0)
      return c;
  return -1;
}

const char *caps_to_name(int cap)
{
  return cap >= 0 && cap <= CAP_LAST_CAP ? cap_names[cap] : NULL;
}

uint64_t caps_all(void)
{
  return ~0ULL >> (63 - CAP_LAST_CAP);
}

static int mask_of(char *const *names, uint64_t *mask, podrun_error_t *err)
{
  for (size_t i = 0; names && names[i]; i++)
    {
      int c = caps_from_name(names[i]);
      if (c < 0)
        return podrun_error_set(err, 0, "unknown capability %s", QUOTE(names[i]));
      *mask |= 1ULL << c;
    }
  return 0;
}

int caps_compute(char *const *retain, char *const *remove, uint64_t *ret_mask, podrun_error_t *err)
{
  uint64_t keep = 0, drop = 0;
  if (mask_of(retain ? retain : (char *const *) caps_appc_default, &keep, err) < 0 || mask_of(remove, &drop, err) < 0)
    return -1;
  *ret_mask = keep & ~drop;
  return 0;
}
