/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What podrun-api and podrun-metadata do alike as processes, once their
 * sockets are bound: drop root, and take their ending signals in the main
 * thread. */
#include <grp.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "http.h"

int api_drop_root(uid_t uid, gid_t gid, int keep, podrun_error_t *err)
{
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if (c != keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return podrun_error_set(err, errno, "drop capability %d from the bounding set", (int) c);
  if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0)
    return podrun_error_set(err, errno, "become group %u", (unsigned) gid);
  if ((keep >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) || setresuid(uid, uid, uid) < 0)
    return podrun_error_set(err, errno, "become user %u", (unsigned) uid);
  if (keep >= 0)
    {
      cap_t caps = cap_init();
      cap_value_t v[] = { keep };
      int r = caps && cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_SET) == 0 &&
                      cap_set_flag(caps, CAP_PERMITTED, 1, v, CAP_SET) == 0
                  ? cap_set_proc(caps)
                  : -1;
      int e = errno;
      if (caps)
        cap_free(caps);
      if (r < 0)
        return podrun_error_set(err, e, "keep capability %d", keep);
      if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return podrun_error_set(err, errno, "prctl");
    }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return podrun_error_set(err, errno, "prctl");
  if (setuid(0) == 0)
    return podrun_error_new(err, EPERM, "could become root again after dropping it");
  return 0;
}

void api_block_signals(sigset_t *mask)
{
  sigemptyset(mask);
  sigaddset(mask, SIGTERM);
  sigaddset(mask, SIGINT);
  sigaddset(mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, mask, NULL);
  signal(SIGPIPE, SIG_IGN);
}
