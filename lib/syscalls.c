/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syscalls-internal.h"

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

#define APPC_ALL "@appc.io/all"
#define APPC_EMPTY "@appc.io/empty"
#define PODRUN_DEFAULT "@podrun/default-blocklist"
#define GROUP_DEPTH_MAX 8

static const struct syscalls_group *find_group(const char *name)
{
  for (const struct syscalls_group *g = syscalls_groups; g->name; g++)
    if (streq(g->name, name))
      return g;
  return NULL;
}

const char *syscalls_group_members(const char *group)
{
  const struct syscalls_group *g = find_group(group);
  return g ? g->members : NULL;
}

const char *syscalls_group_name(size_t i)
{
  for (size_t n = 0; syscalls_groups[n].name; n++)
    if (n == i)
      return syscalls_groups[n].name;
  return NULL;
}

static void add_name(char ***names, const char *name)
{
  if (!strv_contains(*names, name))
    *names = strv_push(*names, name);
}

/* One member of a set: a name (an unknown one is an error in the set itself,
 * and left out in a group, which may list other architectures' calls), or a
 * group, expanded. */
static int add_member(const char *name, bool in_group, int depth, char ***names, podrun_error_t *err)
{
  if (name[0] != '@')
    {
      if (syscalls_is_known(name))
        add_name(names, name);
      else if (!in_group)
        return podrun_error_set(err, 0, "unknown syscall %s", QUOTE(name));
      return 0;
    }
  if (streq(name, PODRUN_DEFAULT))
    {
      for (const char *const *s = syscalls_default_blocklist; *s; s++)
        add_name(names, *s);
      return 0;
    }
  const struct syscalls_group *g = find_group(name);
  if (!g || !g->members || depth > GROUP_DEPTH_MAX)
    return podrun_error_set(err, 0, "unknown syscall group %s (Documentation/seccomp-groups.md lists them)",
                            QUOTE(name));
  _cleanup_free_ char *copy = xstrdup(g->members);
  char *save = NULL;
  for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save))
    if (add_member(m, true, depth + 1, names, err) < 0)
      return -1;
  return 0;
}

static int expand(char *const *set, struct syscalls_filter *f, bool *ret_default, podrun_error_t *err)
{
  bool all = false, empty = false;
  for (size_t i = 0; set[i]; i++)
    {
      if (streq(set[i], APPC_ALL) || streq(set[i], APPC_EMPTY))
        {
          bool is_all = streq(set[i], APPC_ALL);
          if (is_all != f->retain)
            return podrun_error_set(err, 0, "%s belongs in a %s set (%s)", QUOTE(set[i]),
                                    is_all ? "retain" : "remove",
                                    is_all ? "it turns the filter off" : "it stands for podrun's default filter");
          all |= is_all;
          empty |= !is_all;
        }
      else if (add_member(set[i], false, 0, &f->names, err) < 0)
        return -1;
    }
  /* appc: each masks everything else in its set */
  f->none = all;
  if (empty)
    {
      strv_free(f->names);
      f->names = NULL;
      for (const char *const *s = syscalls_default_blocklist; *s; s++)
        add_name(&f->names, *s);
    }
  *ret_default = empty;
  return 0;
}

int syscalls_filter_from_set(char *const *set, bool retain, const char *errname, struct syscalls_filter *ret,
                             podrun_error_t *err)
{
  struct syscalls_filter f = { .retain = retain };
  bool is_default = false;

  if (!set || !set[0])
    return podrun_error_new(err, 0, "no syscalls listed");
  if (errname && *errname && (f.errnum = syscalls_errno_from_name(errname)) < 0)
    return podrun_error_new(err, 0, "errno %s is not an errno name podrun knows", QUOTE(errname));
  if (expand(set, &f, &is_default, err) < 0)
    {
      syscalls_filter_done(&f);
      return -1;
    }
  if (is_default && f.errnum == 0)
    f.errnum = EPERM;
  *ret = f;
  return 0;
}

int syscalls_filter_from_isolator(const char *isolator, const json_t *value, struct syscalls_filter *ret,
                                  podrun_error_t *err)
{
  json_t *set = json_object_get(value, "set"), *e = json_object_get(value, "errno"), *v;
  _cleanup_strv_ char **items = NULL;
  size_t i;

  if (!json_is_array(set) || json_array_size(set) == 0)
    return podrun_error_new(err, 0, "isolator %s: \"set\" must be a non-empty array of strings", isolator);
  json_array_foreach (set, i, v)
    {
      if (!json_is_string(v))
        return podrun_error_new(err, 0, "isolator %s: \"set\" must be a non-empty array of strings", isolator);
      items = strv_push(items, json_string_value(v));
    }
  if (e && !json_is_null(e) && (!json_is_string(e) || (*json_string_value(e) &&
                                                       syscalls_errno_from_name(json_string_value(e)) < 0)))
    return podrun_error_new(err, 0, "isolator %s: \"errno\" must name an errno like \"EPERM\"", isolator);
  if (syscalls_filter_from_set(items, strstr(isolator, "retain") != NULL, json_string_value(e), ret, err) < 0)
    return podrun_error_wrap(err, "isolator %s", isolator);
  return 0;
}

void syscalls_filter_done(struct syscalls_filter *f)
{
  strv_free(f->names);
  f->names = NULL;
}
