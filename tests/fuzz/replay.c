/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays saved fuzz inputs through a target's LLVMFuzzerTestOneInput, so
 * gcc builds (and `make check`) exercise every fuzz target without libFuzzer.
 * Usage: fuzz-<target> FILE|DIR…; prints one TAP line per input. A crash or a
 * sanitizer report aborts the run, which the test runner counts as failed. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_tests;

static int replay_file(const char *path)
{
  _cleanup_error_ podrun_error_t err = NULL;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;

  if (fs_read_file_at(AT_FDCWD, path, 64 << 20, &buf, &len, &err) < 0)
    {
      printf("not ok %d - %s # %s\n", ++n_tests, path, err->msg);
      return -1;
    }
  (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
  printf("ok %d - %s\n", ++n_tests, path);
  fflush(stdout);
  return 0;
}

static int replay(const char *path)
{
  struct stat st;
  int r = 0;

  if (stat(path, &st) < 0)
    {
      printf("not ok %d - %s # %s\n", ++n_tests, path, strerror(errno));
      return -1;
    }
  if (!S_ISDIR(st.st_mode))
    return replay_file(path);

  struct dirent **names = NULL;
  int n = scandir(path, &names, NULL, alphasort);
  for (int i = 0; i < n; i++)
    {
      if (names[i]->d_name[0] != '.')
        {
          _cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]->d_name);
          if (replay(p) < 0)
            r = -1;
        }
      free(names[i]);
    }
  free(names);
  return r;
}

int main(int argc, char **argv)
{
  int r = 0;
  for (int i = 1; i < argc; i++)
    if (replay(argv[i]) < 0)
      r = 1;
  printf("1..%d\n", n_tests);
  return r;
}
