/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ACI scan and extraction on untrusted bytes: a refusal always says why;
 * whatever the scan accepts, the extraction (same checks, plus the disk) also
 * accepts, and writes nothing outside its target directory. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fs.h"
#include "store/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-scan", MFD_CLOEXEC);
  if (fd < 0 || write(fd, data, size) != (ssize_t) size || lseek(fd, 0, SEEK_SET) != 0)
    abort();
  return fd;
}

static bool dir_is_empty(const char *path)
{
  _cleanup_closedir_ DIR *d = opendir(path);
  struct dirent *de;
  if (!d)
    abort();
  while ((de = readdir(d)))
    if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
      return false;
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* small caps keep a fuzzer from writing gigabytes */
  struct extract_opts opts = { .max_entry_size = 1 << 20, .max_total_size = 8 << 20, .max_entries = 4096 };
  _cleanup_close_ int fd = input_fd(data, size);
  _cleanup_free_ char *manifest = NULL;
  podrun_error_t err = NULL;

  if (extract_scan_fd(fd, &opts, &manifest, NULL, &err) < 0)
    {
      if (!err || !err->msg || !*err->msg)
        abort();
      podrun_error_free(&err);
      return 0;
    }

  /* <tmp>/target gets the image; <tmp>/target's sibling must stay empty.
   * Both ways: into a fresh directory without libarchive's symlink walk (as
   * render does), and with it (as into a directory that may hold anything). */
  for (int fresh = 0; fresh <= 1; fresh++)
    {
      char tmp[] = "/tmp/podrun-fuzz-scan-XXXXXX";
      if (!mkdtemp(tmp))
        abort();
      _cleanup_free_ char *target = xasprintf("%s/target", tmp), *sibling = xasprintf("%s/sibling", tmp);
      if (mkdir(target, 0755) < 0 || mkdir(sibling, 0755) < 0)
        abort();
      _cleanup_close_ int dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0 || lseek(fd, 0, SEEK_SET) != 0)
        abort();
      opts.fresh_target = fresh;
      if (extract_to_dir_fd(fd, dfd, &opts, &err) < 0)
        {
          fprintf(stderr, "scanned fine, but extraction (fresh_target=%d) failed: %s\n", fresh, err->msg);
          abort();
        }
      if (!dir_is_empty(sibling))
        abort();
      if (fs_rm_rf_at(AT_FDCWD, tmp, &err) < 0)
        abort();
    }
  return 0;
}
