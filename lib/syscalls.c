/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syscalls.h"

#include <errno.h>
#include <string.h>

#include "util.h"

#include "syscall-names.h" /* generated: $(BUILD)/gen/ */

static int cmp_name(const void *key, const void *elem)
{
  return strcmp(key, *(const char *const *) elem);
}

bool syscalls_is_known(const char *name)
{
  return bsearch(name, syscall_names, ELEMENTSOF(syscall_names), sizeof(syscall_names[0]), cmp_name) != NULL;
}

int syscalls_errno_from_name(const char *name)
{
  static const struct
  {
    const char *name;
    int value;
  } aliases[] = {
    { "ENOTSUP", ENOTSUP }, { "EWOULDBLOCK", EWOULDBLOCK }, { "EDEADLOCK", EDEADLOCK },
  };
  for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
    if (streq(name, aliases[i].name))
      return aliases[i].value;
  if (name[0] != 'E')
    return -1;
  for (int e = 1; e < 512; e++)
    {
      const char *n = strerrorname_np(e);
      if (n && streq(n, name))
        return e;
    }
  return -1;
}

const char *const syscalls_default_blocklist[] = {
  "_sysctl", "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
  "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy", "init_module",
  "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount",
  "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
  "open_tree", "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace",
  "query_module", "quotactl", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "stime",
  "swapoff", "swapon", "sysfs", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86",
  "vm86old", NULL,
};
