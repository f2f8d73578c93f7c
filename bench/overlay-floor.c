/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's share of the layered start (bench/run.sh, row 7): what a pod's
 * start asks of overlayfs for its app's root, done without podrun, on the same
 * layer trees, so that the row can say how much of the difference between a
 * 5-layer pod and a one-layer pod is the kernel's own.
 *
 *   overlay-floor RUNS SCRATCH JSON NAME LOWERS NAME LOWERS
 *
 * LOWERS: the layer trees, top first, separated by ':' (overlayfs's order).
 * Each run, for each of the two in turn (A B, then B A, ...): open each tree
 * O_PATH, mount an overlay of them over a fresh upper directory as podrun does
 * (fsopen, "lowerdir=/proc/self/fd/N:...", fsmount, nodev and nosuid), make the
 * app's proc, sys and dev, look up what the start of /bin/true looks up
 * (bin/true through its symlink, etc/passwd, etc/group), and close it all,
 * which unmounts the overlay. JSON gets bench/alternate.py's export (each run's
 * wall and CPU time), which bench/report.py reads. The upper directories are
 * removed after each run, outside the time. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOWERS 12 /* "lowerdir=" in one fsconfig value: at most 256 bytes */

static void die(const char *what)
{
  fprintf(stderr, "overlay-floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double clock_s(clockid_t id)
{
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st, (void) ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* one start's overlay work on LOWERS (a copy, cut at ':') */
static void one_start(char *lowers, const char *scratch)
{
  int fds[MAX_LOWERS], n = 0;
  char spec[4096] = "";
  for (char *l = strtok(lowers, ":"); l; l = strtok(NULL, ":"))
    {
      if (n == MAX_LOWERS)
        die("too many lower directories");
      if ((fds[n] = open(l, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        die(l);
      size_t len = strlen(spec);
      snprintf(spec + len, sizeof(spec) - len, "%s/proc/self/fd/%d", n ? ":" : "", fds[n]);
      n++;
    }
  char *upper, *work;
  if (asprintf(&upper, "%s/upper", scratch) < 0 || asprintf(&work, "%s/work", scratch) < 0)
    die("asprintf");
  if (mkdir(scratch, 0700) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
    die(scratch);
  int fs = syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", spec, 0) < 0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    die("overlay");
  int mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (mnt < 0)
    die("fsmount");
  close(fs);
  static const char *const dirs[] = { "proc", "sys", "dev" };
  for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
    if (mkdirat(mnt, dirs[i], 0755) < 0)
      die(dirs[i]);
  struct stat st;
  if (fstatat(mnt, "bin/true", &st, 0) < 0)
    die("bin/true");
  fstatat(mnt, "etc/passwd", &st, 0);
  fstatat(mnt, "etc/group", &st, 0);
  close(mnt);
  for (int i = 0; i < n; i++)
    close(fds[i]);
  free(upper);
  free(work);
}

int main(int argc, char **argv)
{
  if (argc != 8)
    {
      fprintf(stderr, "usage: overlay-floor RUNS SCRATCH JSON NAME LOWERS NAME LOWERS\n");
      return 2;
    }
  int runs = atoi(argv[1]);
  const char *scratch = argv[2], *name[2] = { argv[4], argv[6] }, *lowers[2] = { argv[5], argv[7] };
  if (runs < 1)
    return 2;
  double *wall[2], *cpu[2];
  for (int k = 0; k < 2; k++)
    {
      wall[k] = calloc(runs, sizeof(double));
      cpu[k] = calloc(runs, sizeof(double));
    }
  char *dir;
  if ((mkdir(scratch, 0700) < 0 && errno != EEXIST) || asprintf(&dir, "%s/run", scratch) < 0)
    die(scratch);
  for (int r = 0; r < runs; r++)
    for (int i = 0; i < 2; i++)
      {
        int k = (r + i) % 2;
        char *copy = strdup(lowers[k]);
        double w = clock_s(CLOCK_MONOTONIC), c = clock_s(CLOCK_THREAD_CPUTIME_ID);
        one_start(copy, dir);
        cpu[k][r] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c;
        wall[k][r] = clock_s(CLOCK_MONOTONIC) - w;
        free(copy);
        if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
          die(dir);
      }
  FILE *f = fopen(argv[3], "w");
  if (!f)
    die(argv[3]);
  fprintf(f, "{\"results\": [");
  for (int k = 0; k < 2; k++)
    {
      double sum = 0;
      for (int r = 0; r < runs; r++)
        sum += cpu[k][r];
      /* the CPU time is all the kernel's: "system", as hyperfine would say */
      fprintf(f, "%s\n {\"command\": \"%s\", \"user\": 0, \"system\": %.9f, \"times\": [", k ? "," : "", name[k],
              sum / runs);
      for (int r = 0; r < runs; r++)
        fprintf(f, "%s%.9f", r ? ", " : "", wall[k][r]);
      fprintf(f, "], \"cpu_times\": [");
      for (int r = 0; r < runs; r++)
        fprintf(f, "%s%.9f", r ? ", " : "", cpu[k][r]);
      fprintf(f, "]}");
    }
  fprintf(f, "\n]}\n");
  if (fclose(f) != 0)
    die(argv[3]);
  return 0;
}
