/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The apps' /etc files that the pod flags write (--hostname, --dns*,
 * --hosts-entry), on the host, into each app's rootfs before the pod
 * starts: the same for every flavor that has a UTS namespace or a VM. */
#include "stage1.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs.h"
#include "pod.h"
#include "volumes.h"

/* A volume is mounted on root/etc/name (podman binds its own /etc/hosts):
 * the file is the volume's. */
static bool is_mount_root(int dir, const char *name)
{
  struct statx stx;
  return statx(dir, name, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Replaces root/etc/name (a symlink there is replaced, never followed),
 * owned by the pod's root; a volume's file mounted there stays. */
static int write_etc(const char *root, const char *name, const char *text, uid_t shift, podrun_error_t *err)
{
  _cleanup_close_ int etc = volumes_open_target(root, "/etc", false, err);
  if (etc < 0)
    return -1;
  _cleanup_close_ int dir = openat(etc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0 && is_mount_root(dir, name))
    return 0;
  if (dir < 0 || (unlinkat(dir, name, 0) < 0 && errno != ENOENT))
    return podrun_error_set(err, errno, "/etc/%s", name);
  _cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || (shift && fchown(fd, shift, shift) < 0))
    return podrun_error_set(err, errno, "/etc/%s", name);
  return fs_write_all(fd, text, strlen(text), err);
}

static char *read_host_file(const char *path, podrun_error_t *err)
{
  char *text = NULL;
  return fs_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0 ? NULL : text;
}

static void print_words(FILE *f, const char *key, char **words)
{
  if (!words)
    return;
  fputs(key, f);
  for (size_t i = 0; words[i]; i++)
    fprintf(f, " %s", words[i]);
  fputc('\n', f);
}

int stage1_write_etc_file(const char *root, const char *name, const char *text, uid_t shift, podrun_error_t *err)
{
  return write_etc(root, name, text, shift, err);
}

int stage1_write_app_etc(const struct stage1_run_args *a, const char *root, const char *hostname,
                         const char *default_nameserver, podrun_error_t *err)
{
  _cleanup_free_ char *name = xasprintf("%s\n", hostname), *resolv = NULL, *hosts = NULL;
  _cleanup_free_ char *image_hosts = xasprintf("%s/etc/hosts", root);
  bool dns_file = a->dns && (streq(a->dns[0], "host") || streq(a->dns[0], "none"));
  bool hosts_file = a->hosts && streq(a->hosts[0], "host");
  size_t len;
  struct stat st;

  if (write_etc(root, "hostname", name, a->userns_shift, err) < 0)
    return -1;
  if (dns_file && streq(a->dns[0], "host") && !(resolv = read_host_file("/etc/resolv.conf", err)))
    return -1;
  if (dns_file && !resolv)
    resolv = xstrdup(""); /* none */
  else if (!dns_file && (a->dns || a->dns_search || a->dns_opt))
    {
      FILE *f = open_memstream(&resolv, &len);
      if (!f)
        abort(); /* out of memory, as x*alloc */
      fputs("# written by podrun from --dns, --dns-search and --dns-opt\n", f);
      for (size_t i = 0; a->dns && a->dns[i]; i++)
        fprintf(f, "nameserver %s\n", a->dns[i]);
      print_words(f, "search", a->dns_search);
      print_words(f, "options", a->dns_opt);
      fclose(f);
    }
  else if (!dns_file && default_nameserver)
    resolv = xasprintf("# written by podrun: the pod's network's resolver\nnameserver %s\n", default_nameserver);
  if (hosts_file && !(hosts = read_host_file("/etc/hosts", err)))
    return -1;
  if (!hosts_file && (a->hosts || lstat(image_hosts, &st) < 0))
    {
      FILE *f = open_memstream(&hosts, &len);
      if (!f)
        abort();
      fprintf(f, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", hostname);
      for (size_t i = 0; a->hosts && a->hosts[i]; i++)
        {
          const char *eq = strchr(a->hosts[i], '=');
          fprintf(f, "%.*s\t%s\n", (int) (eq - a->hosts[i]), a->hosts[i], eq + 1);
        }
      fclose(f);
    }
  if ((resolv && write_etc(root, "resolv.conf", resolv, a->userns_shift, err) < 0) ||
      (hosts && write_etc(root, "hosts", hosts, a->userns_shift, err) < 0))
    return -1;
  return 0;
}
