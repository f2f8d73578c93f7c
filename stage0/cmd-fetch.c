/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image-fetch.h"

int cmd_fetch(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  for (int i = 0; i < argc; i++)
    {
      _cleanup_free_ char *id = NULL;
      if (image_fetch(podrun_store, argv[i], &id, err) < 0)
        return -1;
      printf("%s\n", id);
      fflush(stdout);
    }
  return 0;
}

const struct opt fetch_opts[] = { FETCH_OPTS, { NULL } };
