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

static const struct
{
  const char *name;
  enum syscalls_action action;
} profile_actions[] = {
  { "SCMP_ACT_ALLOW", SYSCALLS_ACT_ALLOW },
  { "SCMP_ACT_ERRNO", SYSCALLS_ACT_ERRNO },
  { "SCMP_ACT_KILL", SYSCALLS_ACT_KILL_THREAD },
  { "SCMP_ACT_KILL_THREAD", SYSCALLS_ACT_KILL_THREAD },
  { "SCMP_ACT_KILL_PROCESS", SYSCALLS_ACT_KILL_PROCESS },
  { "SCMP_ACT_TRAP", SYSCALLS_ACT_TRAP },
  { "SCMP_ACT_LOG", SYSCALLS_ACT_LOG },
};

static const char *const profile_cmps[] = {
  [SYSCALLS_CMP_NE] = "SCMP_CMP_NE", [SYSCALLS_CMP_LT] = "SCMP_CMP_LT", [SYSCALLS_CMP_LE] = "SCMP_CMP_LE",
  [SYSCALLS_CMP_EQ] = "SCMP_CMP_EQ", [SYSCALLS_CMP_GE] = "SCMP_CMP_GE", [SYSCALLS_CMP_GT] = "SCMP_CMP_GT",
  [SYSCALLS_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

/* The OCI names of the architectures libseccomp has; lowercased after the
 * prefix, each is libseccomp's own name. */
static const char *const profile_archs[] = {
  "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",       "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",   "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",   "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

static int profile_action(const json_t *v, const char *what, enum syscalls_action *ret, podrun_error_t *err)
{
  const char *name = json_string_value(v);
  if (!name)
    return podrun_error_new(err, 0, "%s: missing or not a string", what);
  for (size_t i = 0; i < ELEMENTSOF(profile_actions); i++)
    if (streq(name, profile_actions[i].name))
      {
        *ret = profile_actions[i].action;
        return 0;
      }
  return podrun_error_new(err, 0, "%s %s: not supported (SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_THREAD, _KILL_PROCESS, "
                                  "_TRAP or _LOG)",
                          what, QUOTE(name));
}

/* errnoRet, defaultErrnoRet: what the call returns (-errno); EPERM when not
 * given, as runc; only with SCMP_ACT_ERRNO. */
static int profile_errno(const json_t *v, enum syscalls_action action, const char *what, int *ret, podrun_error_t *err)
{
  *ret = EPERM;
  if (!v || json_is_null(v))
    return 0;
  if (action != SYSCALLS_ACT_ERRNO)
    return podrun_error_new(err, 0, "%s: only for SCMP_ACT_ERRNO", what);
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4095)
    return podrun_error_new(err, 0, "%s: not an errno number (0 to 4095)", what);
  *ret = (int) json_integer_value(v);
  return 0;
}

static int profile_u64(const json_t *v, bool needed, const char *what, uint64_t *ret, podrun_error_t *err)
{
  *ret = 0;
  if (!v && !needed)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return podrun_error_new(err, 0, "%s: not a number from 0 to 2^63-1", what);
  *ret = (uint64_t) json_integer_value(v);
  return 0;
}

static int profile_args(const json_t *args, const char *what, struct syscalls_rule *r, podrun_error_t *err)
{
  size_t i;
  json_t *a;
  if (!args || json_is_null(args))
    return 0;
  if (!json_is_array(args) || json_array_size(args) > SYSCALLS_ARGS_MAX)
    return podrun_error_new(err, 0, "%s.args: not an array of at most %d conditions", what, SYSCALLS_ARGS_MAX);
  json_array_foreach (args, i, a)
    {
      _cleanup_free_ char *w = xasprintf("%s.args[%zu]", what, i);
      json_t *index = json_object_get(a, "index");
      const char *op = json_string_value(json_object_get(a, "op"));
      struct syscalls_arg *c = &r->args[r->n_args];
      size_t k;
      if (!json_is_object(a))
        return podrun_error_new(err, 0, "%s: not an object", w);
      if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) >= SYSCALLS_ARGS_MAX)
        return podrun_error_new(err, 0, "%s.index: not a number from 0 to %d", w, SYSCALLS_ARGS_MAX - 1);
      c->index = (unsigned) json_integer_value(index);
      if (!op)
        return podrun_error_new(err, 0, "%s.op: missing or not a string", w);
      for (k = 0; k < ELEMENTSOF(profile_cmps); k++)
        if (streq(op, profile_cmps[k]))
          break;
      if (k == ELEMENTSOF(profile_cmps))
        return podrun_error_new(err, 0, "%s.op %s: not an operator (SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT or _MASKED_EQ)",
                                w, QUOTE(op));
      c->op = (enum syscalls_cmp) k;
      if (profile_u64(json_object_get(a, "value"), true, "value", &c->value, err) < 0 ||
          profile_u64(json_object_get(a, "valueTwo"), false, "valueTwo", &c->value_two, err) < 0)
        return podrun_error_wrap(err, "%s", w);
      r->n_args++;
    }
  return 0;
}

static int profile_rule(const json_t *e, const char *what, struct syscalls_filter *f, podrun_error_t *err)
{
  json_t *names = json_object_get(e, "names"), *n;
  struct syscalls_rule r = { 0 };
  size_t i;

  if (!json_is_object(e))
    return podrun_error_new(err, 0, "%s: not an object", what);
  if (!json_is_array(names) || json_array_size(names) == 0)
    return podrun_error_new(err, 0, "%s.names: not a non-empty array of syscall names", what);
  _cleanup_free_ char *aw = xasprintf("%s.action", what), *ew = xasprintf("%s.errnoRet", what);
  if (profile_action(json_object_get(e, "action"), aw, &r.action, err) < 0 ||
      profile_errno(json_object_get(e, "errnoRet"), r.action, ew, &r.errnum, err) < 0 ||
      profile_args(json_object_get(e, "args"), what, &r, err) < 0)
    return -1;
  json_array_foreach (names, i, n)
    {
      const char *name = json_string_value(n);
      if (!name || !*name)
        {
          strv_free(r.names);
          return podrun_error_new(err, 0, "%s.names[%zu]: not a syscall name", what, i);
        }
      if (syscalls_is_known(name))
        add_name(&r.names, name);
      else
        f->n_unknown++;
    }
  if (!r.names) /* none this libseccomp knows */
    return 0;
  f->rules = xrealloc(f->rules, (f->n_rules + 1) * sizeof(*f->rules));
  f->rules[f->n_rules++] = r;
  return 0;
}

static int profile_strings(const json_t *v, const char *what, char ***ret, podrun_error_t *err)
{
  size_t i;
  json_t *s;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return podrun_error_new(err, 0, "%s: not an array of strings", what);
  json_array_foreach (v, i, s)
    {
      if (!json_is_string(s))
        return podrun_error_new(err, 0, "%s: not an array of strings", what);
      *ret = strv_push(*ret, json_string_value(s));
    }
  return 0;
}

static int profile_parse(const json_t *value, struct syscalls_filter *f, podrun_error_t *err)
{
  json_t *calls = json_object_get(value, "syscalls"), *e;
  _cleanup_strv_ char **archs = NULL, **flags = NULL;
  const char *key;
  json_t *v;
  size_t i;

  if (!json_is_object(value))
    return podrun_error_new(err, 0, "not an object");
  json_object_foreach ((json_t *) value, key, v)
    if (!streq(key, "defaultAction") && !streq(key, "defaultErrnoRet") && !streq(key, "architectures") &&
        !streq(key, "flags") && !streq(key, "syscalls") &&
        !((streq(key, "listenerPath") || streq(key, "listenerMetadata")) && !json_string_length(v)))
      return podrun_error_new(err, 0, "%s: not supported", QUOTE(key));
  if (profile_action(json_object_get(value, "defaultAction"), "defaultAction", &f->default_action, err) < 0 ||
      profile_errno(json_object_get(value, "defaultErrnoRet"), f->default_action, "defaultErrnoRet",
                    &f->default_errnum, err) < 0 ||
      profile_strings(json_object_get(value, "architectures"), "architectures", &archs, err) < 0 ||
      profile_strings(json_object_get(value, "flags"), "flags", &flags, err) < 0)
    return -1;
  for (size_t a = 0; archs && archs[a]; a++)
    {
      size_t k;
      for (k = 0; k < ELEMENTSOF(profile_archs); k++)
        if (streq(archs[a], profile_archs[k]))
          break;
      if (k == ELEMENTSOF(profile_archs))
        return podrun_error_new(err, 0, "architectures: %s is not an architecture libseccomp has", QUOTE(archs[a]));
      _cleanup_free_ char *lower = xstrdup(archs[a] + strlen("SCMP_ARCH_"));
      for (char *c = lower; *c; c++)
        *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
      add_name(&f->architectures, lower);
    }
  for (size_t k = 0; flags && flags[k]; k++)
    {
      if (streq(flags[k], "SECCOMP_FILTER_FLAG_TSYNC"))
        f->tsync = true;
      else if (streq(flags[k], "SECCOMP_FILTER_FLAG_LOG"))
        f->log = true;
      else if (streq(flags[k], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
        f->spec_allow = true;
      else
        return podrun_error_new(err, 0, "flags: %s is not supported (SECCOMP_FILTER_FLAG_TSYNC, _LOG or _SPEC_ALLOW)",
                                QUOTE(flags[k]));
    }
  if (calls && !json_is_null(calls) && !json_is_array(calls))
    return podrun_error_new(err, 0, "syscalls: not an array");
  json_array_foreach (calls, i, e)
    {
      _cleanup_free_ char *w = xasprintf("syscalls[%zu]", i);
      if (profile_rule(e, w, f, err) < 0)
        return -1;
    }
  return 0;
}

int syscalls_filter_from_profile(const json_t *value, struct syscalls_filter *ret, podrun_error_t *err)
{
  struct syscalls_filter f = { .profile = true };
  if (profile_parse(value, &f, err) < 0)
    {
      syscalls_filter_done(&f);
      return -1;
    }
  *ret = f;
  return 0;
}

int syscalls_filter_from_isolator(const char *isolator, const json_t *value, struct syscalls_filter *ret,
                                  podrun_error_t *err)
{
  if (streq(isolator, SYSCALLS_PROFILE_ISOLATOR))
    return syscalls_filter_from_profile(value, ret, err) < 0 ? podrun_error_wrap(err, "isolator %s", isolator) : 0;
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
  for (size_t i = 0; i < f->n_rules; i++)
    strv_free(f->rules[i].names);
  free(f->rules);
  f->rules = NULL;
  f->n_rules = 0;
  strv_free(f->architectures);
  f->architectures = NULL;
}
