/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's state directory <root>/<ID>/ and what is read from it. */
#include "oci.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "fs.h"
#include "lock.h"
#include "pod.h"
#include "stage0/pod-setup.h"

void oci_state_done(struct oci_state *s)
{
  free(s->id);
  free(s->bundle);
  free(s->uuid);
  free(s->flavor);
  free(s->created);
  json_decref(s->annotations);
  json_decref(s->hooks);
  if (s->dirfd >= 0)
    close(s->dirfd);
  *s = (struct oci_state){ .dirfd = -1 };
}

int oci_id_check(const char *id, podrun_error_t *err)
{
  if (!id || !*id)
    return podrun_error_new(err, 0, "give the container ID");
  if (id[0] == '.' || strlen(id) > 1024)
    return podrun_error_new(err, 0, "container ID %s: may not begin with '.' (or be longer than 1024)", ESCAPE(id));
  for (const char *p = id; *p; p++)
    if (!isalnum((unsigned char) *p) && !strchr("_+-.", *p))
      return podrun_error_new(err, 0, "container ID %s: letters, digits, '_', '+', '-' and '.' only", ESCAPE(id));
  return 0;
}

static int open_root(podrun_error_t *err)
{
  if (fs_mkdir_p(arg_root, 0700, err) < 0)
    return -1;
  int fd = open(arg_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return podrun_error_set(err, errno, "--root %s", QUOTE(arg_root));
  return fd;
}

int oci_state_dir_create(const char *id, int *ret_dirfd, podrun_error_t *err)
{
  _cleanup_close_ int root = -1, fd = -1;
  if (oci_id_check(id, err) < 0 || (root = open_root(err)) < 0)
    return -1;
  if (mkdirat(root, id, 0700) < 0)
    return errno == EEXIST ? podrun_error_new(err, EEXIST, "container %s already exists", ESCAPE(id))
                           : podrun_error_set(err, errno, "make the state of container %s", ESCAPE(id));
  fd = openat(root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || lock_fd(fd, LOCK_MODE_EXCLUSIVE, false, err) < 0)
    {
      int e = errno;
      (void) unlinkat(root, id, AT_REMOVEDIR);
      return fd < 0 ? podrun_error_set(err, e, "container %s", ESCAPE(id)) : -1;
    }
  *ret_dirfd = TAKE_FD(fd);
  return 0;
}

static char *str_of(json_t *j, const char *key)
{
  const char *s = json_string_value(json_object_get(j, key));
  return s ? xstrdup(s) : NULL;
}

static int state_load(const char *id, bool reader, struct oci_state *ret, podrun_error_t *err)
{
  _cleanup_close_ int root = -1, fd = -1;
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  _cleanup_error_ podrun_error_t busy = NULL;
  size_t len = 0;

  if (oci_id_check(id, err) < 0 || (root = open_root(err)) < 0)
    return -1;
  fd = openat(root, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? podrun_error_new(err, ENOENT, "container %s does not exist", ESCAPE(id))
                           : podrun_error_set(err, errno, "container %s", ESCAPE(id));
  /* a reader does not wait for the verb that holds it (create, while its
   * hooks run, which may ask for the state): what it saved, atomically */
  if (lock_fd(fd, LOCK_MODE_EXCLUSIVE, reader, &busy) < 0 && (!reader || busy->status != EWOULDBLOCK))
    return *err = TAKE_PTR(busy), -1;
  if (fs_read_file_at(fd, OCI_STATE_FILE, 1 << 20, &text, &len, err) < 0 ||
      json_parse_untrusted(text, len, OCI_STATE_FILE, &j, err) < 0)
    return podrun_error_wrap(err, "container %s", ESCAPE(id));
  json_t *pid = json_object_get(j, "pid"), *start = json_object_get(j, "pid_start");
  *ret = (struct oci_state){
    .id = xstrdup(id),
    .bundle = str_of(j, "bundle"),
    .uuid = str_of(j, "pod"),
    .flavor = str_of(j, "stage1"),
    .created = str_of(j, "created"),
    .pid = (pid_t) json_integer_value(pid),
    .pid_start = (unsigned long long) json_integer_value(start),
    .annotations = json_incref(json_object_get(j, "annotations")),
    .hooks = json_incref(json_object_get(j, "hooks")),
    .dirfd = TAKE_FD(fd),
    .creating = json_is_true(json_object_get(j, "creating")),
  };
  return 0;
}

int oci_state_load(const char *id, struct oci_state *ret, podrun_error_t *err)
{
  return state_load(id, false, ret, err);
}

int oci_state_read(const char *id, struct oci_state *ret, podrun_error_t *err)
{
  return state_load(id, true, ret, err);
}

int oci_state_save(const struct oci_state *s, podrun_error_t *err)
{
  _cleanup_json_ json_t *j = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:I,s:I,s:O?,s:O?}", "id", s->id, "bundle", s->bundle,
                                       "pod", s->uuid, "stage1", s->flavor, "created", s->created, "pid",
                                       (json_int_t) s->pid, "pid_start", (json_int_t) s->pid_start, "annotations",
                                       s->annotations, "hooks", s->hooks);
  if (!j)
    return podrun_error_set(err, 0, "container %s: its state is not UTF-8", ESCAPE(s->id));
  if (s->creating)
    json_object_set_new(j, "creating", json_true());
  _cleanup_free_ char *text = json_dump_sorted(j, false);
  return fs_write_file_atomic_at(s->dirfd, OCI_STATE_FILE, text, strlen(text), 0600, err);
}

unsigned long long oci_pid_start(pid_t pid)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int) pid), *text = NULL;
  _cleanup_error_ podrun_error_t e = NULL;
  unsigned long long start = 0;
  char state = 0;

  if (pid <= 0 || fs_read_file_at(AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
    return 0;
  const char *p = strrchr(text, ')'); /* the command may hold anything */
  if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &state,
                   &start) != 2)
    return 0;
  return state == 'Z' || state == 'X' ? 0 : start;
}

const char *oci_state_status(const struct oci_state *s)
{
  if (s->pid <= 0)
    return "creating";
  if (oci_pid_start(s->pid) != s->pid_start)
    return "stopped";
  if (s->creating)
    return "creating"; /* the create hooks run */
  return faccessat(s->dirfd, OCI_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? "created" : "running";
}

json_t *oci_state_json(const struct oci_state *s)
{
  const char *status = oci_state_status(s);
  json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s?,s:s?,s:O?}", "ociVersion", OCI_VERSION, "id", s->id, "status", status,
                        "pid", (json_int_t) (streq(status, "stopped") ? 0 : s->pid), "bundle", s->bundle, "created",
                        s->created, "annotations", s->annotations);
  if (j && s->bundle)
    {
      /* runc's extras, which go-runc reads */
      _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", s->bundle);
      json_object_set_new(j, "rootfs", json_string(rootfs));
      json_object_set_new(j, "owner", json_string(""));
    }
  return j;
}

int oci_state_remove(const char *id, podrun_error_t *err)
{
  _cleanup_close_ int root = open(arg_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return podrun_error_set(err, errno, "--root %s", QUOTE(arg_root));
  return fs_rm_rf_at(root, id, err);
}

/* ---- the pod's processes ---- */

static void pids_below(const char *dir, pid_t **v, size_t *n)
{
  _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
  FILE *f = fopen(procs, "re");
  int pid;
  if (f)
    {
      while (fscanf(f, "%d", &pid) == 1)
        {
          *v = xrealloc(*v, sizeof(pid_t) * (*n + 1));
          (*v)[(*n)++] = pid;
        }
      fclose(f);
    }
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (de->d_type == DT_DIR && de->d_name[0] != '.')
      {
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
        pids_below(sub, v, n);
      }
  if (d)
    closedir(d);
}

int oci_pod_pids(const char *uuid, pid_t **ret, size_t *ret_n, podrun_error_t *err)
{
  struct cgroup_hierarchy h;
  _cleanup_free_ char *pods = pods_dir(), *dir = NULL;
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_error_ podrun_error_t gone = NULL;
  pid_t *v = NULL;
  size_t n = 0;

  if (cgroup_tracking(&h, err) < 0)
    return -1;
  if (uuid && pod_load(pods, uuid, &p, &gone) == 0)
    dir = cgroup_pod_dir(p->dirfd, uuid);
  if (dir && cgroup_pod_dir_valid(&h, dir, uuid))
    pids_below(dir, &v, &n);
  *ret = v;
  *ret_n = n;
  return 0;
}

/* The depth of pid's pid namespace (the entries of its NSpid line), 0 if gone. */
static size_t ns_depth(pid_t pid)
{
  _cleanup_free_ char *path = xasprintf("/proc/%d/status", (int) pid), *text = NULL;
  _cleanup_error_ podrun_error_t ignored = NULL;
  if (fs_read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, &ignored) < 0)
    return 0;
  const char *l = strstr(text, "\nNSpid:");
  size_t n = 0;
  for (l = l ? l + strlen("\nNSpid:") : NULL; l && *l && *l != '\n';)
    {
      l += strspn(l, " \t");
      if (*l >= '0' && *l <= '9')
        n++;
      l += strcspn(l, " \t\n");
    }
  return n;
}

int oci_app_pid(const struct oci_state *st, pid_t *ret, podrun_error_t *err)
{
  _cleanup_free_ char *pods = pods_dir();
  _cleanup_pod_ struct pod *p = NULL;
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  pid_t app = 0;

  if (pod_load(pods, st->uuid, &p, err) < 0)
    return -1;
  pid_t pid = pod_read_pid(p->dirfd);
  if (pid > 0 && streq(st->flavor, "fly"))
    app = pid; /* fly's pid: the app's process itself */
  else if (pid > 0 && streq(st->flavor, "nspawn"))
    {
      /* the pod's init → the app's pid-init (pid 1 of a pid namespace of
       * its own, deeper) → the app, its first child */
      pid_t children[64];
      size_t depth = ns_depth(pid), k = proc_children(pid, children, ELEMENTSOF(children));
      for (size_t i = 0; depth && i < k && app <= 0; i++)
        if (ns_depth(children[i]) > depth)
          app = proc_first_child(children[i]);
    }
  if (app <= 0)
    return podrun_error_new(err, ESRCH, "container %s: its app's process is not there", ESCAPE(st->id));
  /* only a process of the pod's own cgroup */
  if (oci_pod_pids(st->uuid, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (pids[i] == app)
      {
        *ret = app;
        return 0;
      }
  return podrun_error_new(err, ESRCH, "container %s: its app's process is not in the pod's cgroup", ESCAPE(st->id));
}

/* ---- arguments ---- */

int oci_signal_parse(const char *s, int *ret, podrun_error_t *err)
{
  unsigned long long n;
  if (parse_uint(s, 64, &n) == 0 && n > 0 && n < NSIG)
    return *ret = (int) n, 0;
  const char *name = startswith(s, "SIG") ? s + 3 : s;
  for (int sig = 1; sig < NSIG; sig++)
    {
      const char *abbrev = sigabbrev_np(sig);
      if (abbrev && strcasecmp(abbrev, name) == 0)
        return *ret = sig, 0;
    }
  return podrun_error_new(err, 0, "signal %s: not a signal name or number", ESCAPE(s));
}

int oci_parse(const char *verb, const struct oci_opt *opts, int argc, char **argv, int *ret_first, podrun_error_t *err)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
    {
      const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1), *eq = strchr(a, '=');
      size_t len = eq ? (size_t) (eq - a) : strlen(a);
      const struct oci_opt *o = opts;
      if (streq(argv[i], "--"))
        {
          i++;
          break;
        }
      for (; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, a, len) == 0)
          break;
      if (!o || !o->name)
        return podrun_error_new(err, 0, "%s: unknown flag %s", verb, ESCAPE(argv[i]));
      if (!o->has_value)
        {
          if (eq)
            {
              bool b;
              if (!streq(eq + 1, "true") && !streq(eq + 1, "false"))
                return podrun_error_new(err, 0, "%s: --%s: true or false", verb, o->name);
              b = streq(eq + 1, "true");
              *o->flag = b;
            }
          else
            *o->flag = true;
          continue;
        }
      if (eq)
        *o->value = eq + 1;
      else if (i + 1 < argc)
        *o->value = argv[++i];
      else
        return podrun_error_new(err, 0, "%s: --%s needs a value", verb, o->name);
    }
  *ret_first = i;
  return 0;
}

int oci_parse_one(const char *verb, const struct oci_opt *opts, int argc, char **argv, struct oci_state *ret,
                  podrun_error_t *err)
{
  int first;
  if (oci_parse(verb, opts, argc, argv, &first, err) < 0)
    return -1;
  if (first != argc - 1)
    return podrun_error_new(err, 0, "%s: give one container ID", verb);
  return oci_state_load(argv[first], ret, err);
}
