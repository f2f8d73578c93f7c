/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "overlay.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "userns.h"

void overlay_lowers_done(struct overlay_lowers *l)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->fds[i] >= 0)
      close(l->fds[i]);
  free(l->fds);
  free(l->spec);
  *l = (struct overlay_lowers){ 0 };
}

int overlay_lowers_open(char *const *layers, int usernsfd, struct overlay_lowers *ret, podrun_error_t *err)
{
  struct overlay_lowers l = { .n = strv_length(layers) };

  if (l.n == 0)
    return podrun_error_new(err, EINVAL, "an overlay of no layers");
  l.fds = xmalloc(sizeof(int) * l.n);
  for (size_t i = 0; i < l.n; i++)
    l.fds[i] = -1;
  l.spec = xstrdup("");
  for (size_t i = 0; i < l.n; i++)
    {
      const char *layer = layers[l.n - 1 - i];
      if (usernsfd >= 0)
        {
          if (userns_idmapped_tree(layer, usernsfd, &l.fds[i], err) < 0)
            goto fail;
        }
      else if ((l.fds[i] = open(layer, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        {
          podrun_error_set(err, errno, "open layer %s", QUOTE(layer));
          goto fail;
        }
      char *next = xasprintf("%s%s/proc/self/fd/%d", l.spec, i ? ":" : "", l.fds[i]);
      free(l.spec);
      l.spec = next;
    }
  /* what mount(2) takes: a page of options, the upper and work dirs too */
  if (strlen(l.spec) > 3000)
    {
      podrun_error_new(err, E2BIG, "%zu layers: more than overlayfs can stack in one mount", l.n);
      goto fail;
    }
  *ret = l;
  return 0;
fail:
  overlay_lowers_done(&l);
  return -1;
}

int overlay_mount_detached(const char *spec, int *ret_mntfd, podrun_error_t *err)
{
  _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  _cleanup_free_ char *copy = xstrdup(spec);
  /* fsconfig takes at most 256 bytes of value: a longer list goes one
   * layer at a time ("lowerdir+", Linux 6.8) */
  bool whole = strlen(spec) < 256;

  if (fs < 0)
    return podrun_error_set(err, errno, "overlay");
  for (char *part = copy, *next; part; part = next)
    {
      next = whole ? NULL : strchr(part, ':');
      if (next)
        *next++ = '\0';
      if (fsconfig(fs, FSCONFIG_SET_STRING, whole ? "lowerdir" : "lowerdir+", part, 0) < 0)
        return podrun_error_set(err, errno, "overlay of %s", whole ? "its layers" : "more than a few layers");
    }
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return podrun_error_set(err, errno, "overlay");
  *ret_mntfd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (*ret_mntfd < 0)
    return podrun_error_set(err, errno, "mount an overlay");
  return 0;
}
