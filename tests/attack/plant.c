/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an attacking app plants over the pod's own binaries (escape plant):
 * if anything ever runs it, it leaves evidence of what it could do and exits
 * 99. Static, libc only.
 *
 * The evidence, "evidence-<pid>" with the program's argv, capabilities,
 * no_new_privs, seccomp, uid map, cgroups, user namespace, and what a forged
 * file handle opens on each mount point, goes into every directory that
 * exists of: $PODRUN_ATTACK_EVIDENCE (the host volume's path, when run from
 * the host or with the caller's environment), /opt/stage2/<app>/rootfs/out
 * (that volume seen from the pod's root), /out; and a line on stderr. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy_file(FILE *out, const char *label, const char *path)
{
  char buf[4096];
  FILE *f = fopen(path, "re");
  fprintf(out, "== %s\n", label);
  while (f && fgets(buf, sizeof(buf), f))
    fputs(buf, out);
  if (f)
    fclose(f);
}

/* open_by_handle_at on every mount point: inode 2, FILEID_INO32_GEN. */
static void handles(FILE *out)
{
  char line[4096];
  FILE *f = fopen("/proc/self/mountinfo", "re");
  fprintf(out, "== open_by_handle_at\n");
  while (f && fgets(line, sizeof(line), f))
    {
      char mp[PATH_MAX];
      if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
        continue;
      int mfd = open(mp, O_RDONLY | O_CLOEXEC);
      union
      {
        struct file_handle fh;
        char buf[sizeof(struct file_handle) + 8];
      } h;
      const unsigned int ino_gen[2] = { 2, 0 };
      h.fh.handle_bytes = sizeof(ino_gen);
      h.fh.handle_type = 1;
      memcpy(h.fh.f_handle, ino_gen, sizeof(ino_gen));
      int fd = mfd < 0 ? -1 : open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          DIR *d = fdopendir(fd);
          struct dirent *de;
          fprintf(out, "%s: opened:", mp);
          for (int i = 0; d && i < 12 && (de = readdir(d)); i++)
            fprintf(out, " %s", de->d_name);
          fputc('\n', out);
          if (d)
            closedir(d);
        }
      else
        fprintf(out, "%s: %s\n", mp, strerror(errno));
      if (mfd >= 0)
        close(mfd);
    }
  if (f)
    fclose(f);
}

static void evidence(const char *dir, int argc, char **argv)
{
  char path[PATH_MAX], exe[PATH_MAX] = "";
  snprintf(path, sizeof(path), "%s/evidence-%d", dir, (int) getpid());
  FILE *out = fopen(path, "we");
  if (!out)
    return;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  exe[n > 0 ? n : 0] = '\0';
  fprintf(out, "planted program ran: exe %s, argv:", exe);
  for (int i = 0; i < argc; i++)
    fprintf(out, " %s", argv[i]);
  fputc('\n', out);
  copy_file(out, "status", "/proc/self/status");
  copy_file(out, "uid_map", "/proc/self/uid_map");
  copy_file(out, "cgroup", "/proc/self/cgroup");
  n = readlink("/proc/self/ns/user", exe, sizeof(exe) - 1);
  exe[n > 0 ? n : 0] = '\0';
  fprintf(out, "== user namespace %s\n", exe);
  handles(out);
  fclose(out);
}

int main(int argc, char **argv)
{
  const char *env = getenv("PODRUN_ATTACK_EVIDENCE");
  fprintf(stderr, "PLANTED PROGRAM RAN: %s (pid %d, uid %d)\n", argv[0], (int) getpid(), (int) getuid());
  if (env)
    evidence(env, argc, argv);
  evidence("/out", argc, argv);
  DIR *d = opendir("/opt/stage2");
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (de->d_name[0] != '.')
      {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "/opt/stage2/%s/rootfs/out", de->d_name);
        evidence(dir, argc, argv);
      }
  if (d)
    closedir(d);
  return 99;
}
