/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny static program that apps run in tests to report what they see, as
 * one JSON object on stdout, so tests assert facts rather than exit codes
 * (crun's tests/init.c idea). Standalone: libc only, statically linked.
 *
 *   probe                 print the report
 *   probe exit N          print the report, exit with N
 *   probe sleep S         print the report, sleep S seconds, exit 0
 *   probe try-mkdir PATH  report errno of mkdir(PATH) as "try_errno"
 *   probe raise N         no report: die of signal N (default action, no core
 *                         file), else exit 0
 *   probe notify S MSG…   sleep S seconds, send the MSGs as one datagram (one a
 *                         line) to $NOTIFY_SOCKET, print the report with
 *                         "notify_errno", then sleep until killed
 *   probe notify-every S MSG…
 *                         send the MSGs now and every S seconds after, until
 *                         killed, after printing the report
 *   probe accept          accept connections on fd 3 (socket activation's first
 *                         socket) until killed, writing the report to each, with
 *                         "fd3_listening" (SO_ACCEPTCONN of fd 3)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static void json_str(const char *s)
{
  putchar('"');
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        printf("\\%c", c);
      else if (c < 0x20)
        printf("\\u%04x", c);
      else
        putchar(c);
    }
  putchar('"');
}

static void key(const char *k, int *first)
{
  printf("%s", *first ? "" : ",");
  *first = 0;
  json_str(k);
  putchar(':');
}

/* "CapEff:\t0000003fffffffff" and friends, as strings. */
static void status_fields(int *first)
{
  static const char *const wanted[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Seccomp", "NoNewPrivs" };
  char line[512];
  FILE *f = fopen("/proc/self/status", "re");
  while (f && fgets(line, sizeof(line), f))
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
      {
        size_t l = strlen(wanted[i]);
        if (strncmp(line, wanted[i], l) == 0 && line[l] == ':')
          {
            char *v = line + l + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            key(wanted[i], first);
            json_str(v);
          }
      }
  if (f)
    fclose(f);
}

static void mounts(int *first)
{
  char line[4096];
  int f2 = 1;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  key("mounts", first);
  putchar('[');
  while (f && fgets(line, sizeof(line), f))
    {
      /* id parent major:minor root mountpoint options ... */
      char *save = NULL, *tok = strtok_r(line, " ", &save);
      for (int i = 0; tok && i < 4; i++)
        tok = strtok_r(NULL, " ", &save);
      if (!tok)
        continue;
      char *opts = strtok_r(NULL, " ", &save);
      printf("%s{\"path\":", f2 ? "" : ",");
      f2 = 0;
      json_str(tok);
      printf(",\"options\":");
      json_str(opts ? opts : "");
      putchar('}');
    }
  putchar(']');
  if (f)
    fclose(f);
}

static void namespaces(int *first)
{
  static const char *const ns[] = { "mnt", "pid", "net", "uts", "ipc", "user", "cgroup" };
  int f2 = 1;
  key("ns", first);
  putchar('{');
  for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
    {
      char p[64], target[128];
      snprintf(p, sizeof(p), "/proc/self/ns/%s", ns[i]);
      ssize_t n = readlink(p, target, sizeof(target) - 1);
      if (n < 0)
        continue;
      target[n] = '\0';
      key(ns[i], &f2);
      json_str(target);
    }
  putchar('}');
}

static void ids(int *first)
{
  gid_t groups[256];
  int n = getgroups(256, groups);
  key("uid", first);
  printf("%u", (unsigned) getuid());
  key("gid", first);
  printf("%u", (unsigned) getgid());
  key("groups", first);
  putchar('[');
  for (int i = 0; i < n; i++)
    printf("%s%u", i ? "," : "", (unsigned) groups[i]);
  putchar(']');
  key("pid", first);
  printf("%d", (int) getpid());
  key("ppid", first);
  printf("%d", (int) getppid());
}

static void environment(int *first)
{
  int f2 = 1;
  key("env", first);
  putchar('{');
  for (char **e = environ; e && *e; e++)
    {
      char *eq = strchr(*e, '=');
      if (!eq)
        continue;
      *eq = '\0';
      key(*e, &f2);
      json_str(eq + 1);
      *eq = '=';
    }
  putchar('}');
}

/* Dies of sig as its default action says, as an app that gets it would. */
static int raise_default(int sig)
{
  sigset_t all;
  sigfillset(&all);
  setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
  signal(sig, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
  raise(sig);
  return 0;
}

/* sd_notify's protocol, by hand (the probe links libc alone). */
static int notify(int n, char **msgs)
{
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char text[4096] = "";
  if (!path || strlen(path) >= sizeof(addr.sun_path))
    return EINVAL;
  strcpy(addr.sun_path, path);
  for (int i = 0; i < n; i++)
    {
      if (i)
        strncat(text, "\n", sizeof(text) - strlen(text) - 1);
      strncat(text, msgs[i], sizeof(text) - strlen(text) - 1);
    }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, text, strlen(text), 0, (struct sockaddr *) &addr, sizeof(addr)) < 0)
    return errno;
  close(fd);
  return 0;
}

static void report(int try_errno, int notify_errno);

static int accept_loop(void)
{
  int listening = 0;
  socklen_t len = sizeof(listening);
  if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
    listening = -errno;
  for (;;)
    {
      int c = accept(3, NULL, NULL);
      if (c < 0)
        return 1;
      fflush(stdout);
      int saved = dup(1);
      dup2(c, 1);
      close(c);
      report(-1, -1);
      printf("{\"fd3_listening\": %d}\n", listening);
      fflush(stdout);
      dup2(saved, 1);
      close(saved);
    }
}

int main(int argc, char **argv)
{
  int try_errno = -1, notify_errno = -1;

  if (argc >= 3 && strcmp(argv[1], "raise") == 0)
    return raise_default(atoi(argv[2]));
  if (argc >= 3 && strcmp(argv[1], "try-mkdir") == 0)
    try_errno = mkdir(argv[2], 0755) < 0 ? errno : 0;
  if (argc >= 2 && strcmp(argv[1], "accept") == 0)
    return accept_loop();
  if (argc >= 4 && strcmp(argv[1], "notify-every") == 0)
    {
      report(-1, notify(argc - 3, argv + 3));
      for (;;)
        {
          sleep((unsigned) atoi(argv[2]));
          (void) notify(argc - 3, argv + 3);
        }
    }
  if (argc >= 4 && strcmp(argv[1], "notify") == 0)
    {
      sleep((unsigned) atoi(argv[2]));
      notify_errno = notify(argc - 3, argv + 3);
    }
  report(try_errno, notify_errno);
  if (argc >= 3 && strcmp(argv[1], "exit") == 0)
    return atoi(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "sleep") == 0)
    sleep((unsigned) atoi(argv[2]));
  if (argc >= 4 && strcmp(argv[1], "notify") == 0)
    for (;;)
      pause();
  return 0;
}

static void report(int try_errno, int notify_errno)
{
  char buf[PATH_MAX];
  int first = 1;
  putchar('{');
  ids(&first);
  key("cwd", &first);
  json_str(getcwd(buf, sizeof(buf)) ? buf : "");
  key("hostname", &first);
  json_str(gethostname(buf, sizeof(buf)) == 0 ? buf : "");
  key("no_new_privs", &first);
  printf("%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  if (try_errno >= 0)
    {
      key("try_errno", &first);
      printf("%d", try_errno);
    }
  if (notify_errno >= 0)
    {
      key("notify_errno", &first);
      printf("%d", notify_errno);
    }
  status_fields(&first);
  namespaces(&first);
  environment(&first);
  mounts(&first);
  printf("}\n");
  fflush(stdout);
}
