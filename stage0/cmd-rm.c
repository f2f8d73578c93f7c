/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "pod-setup.h"
#include "pods.h"

static const char *arg_uuid_file;

static int rm_one(struct pod *p, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t busy = NULL;
  /* The exclusive lock proves nobody runs, prepares or removes it now. */
  if (pod_lock(p, true, true, &busy) < 0)
    {
      if (busy->status == EWOULDBLOCK)
        return podrun_error_new(err, EBUSY, "pod %s is %s; stop it first (podrun stop %s)", p->uuid,
                                pod_state_to_string(p->state), p->uuid);
      *err = TAKE_PTR(busy);
      return -1;
    }
  if (access(p->path, F_OK) < 0)
    return podrun_error_new(err, ENOENT, "pod %s: removed meanwhile", p->uuid);
  return pod_destroy(podrun_store, p, err);
}

static int rm(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  struct pod **v = NULL;
  size_t n = 0;
  int failed = 0;

  if (pods_load_args(argc, argv, arg_uuid_file, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      if (rm_one(v[i], &e) == 0)
        {
          printf("%s\n", v[i]->uuid);
          continue;
        }
      keep_error(err, &e, &failed);
    }
  pod_list_free(v, n);
  return failed ? -1 : 0;
}

static const struct opt rm_opts[] = {
  { "uuid-file", OPT_STRING, &arg_uuid_file, "read a pod's UUID from this file", "FILE" },
  { NULL },
};

const struct cmd cmd_rm = {
  "rm", rm, "UUID...", "Remove pods",
  "Removes pods that are not running (exited, prepared, or left over). A running pod is\n"
  "refused: stop it first. Prints the UUID of each pod removed.\n\nExample:\n  podrun rm 5f0b",
  rm_opts, NULL, 0, -1, CMD_STORE_RW,
};
