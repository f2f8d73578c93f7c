/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control channel's frames (kvm.h): both ends read what the other
 * wrote as untrusted bytes, bounded. */
#include "kvm.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

static int write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t k = write(fd, p, len);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0 && errno == EAGAIN) /* a non-blocking fd (the guest's ports) */
        {
          struct pollfd pfd = { .fd = fd, .events = POLLOUT };
          if ((poll(&pfd, 1, -1) < 0 && errno != EINTR) || (pfd.revents & (POLLHUP | POLLERR)))
            return -1; /* the other end went */
          continue;
        }
      if (k <= 0)
        return -1;
      p += k;
      len -= (size_t) k;
    }
  return 0;
}

/* 1 when all of it came, 0 at end of file before any byte, -1 else */
static int read_all(int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t k = read(fd, p + got, len - got);
      if (k < 0 && errno == EINTR)
        continue;
      if (k < 0)
        return -1;
      if (k == 0)
        return got == 0 ? 0 : -1;
      got += (size_t) k;
    }
  return 1;
}

int kvm_frame_write(int fd, char type, const void *buf, size_t len)
{
  while (len > KVM_FRAME_MAX)
    {
      if (kvm_frame_write(fd, type, buf, KVM_FRAME_MAX) < 0)
        return -1;
      buf = (const char *) buf + KVM_FRAME_MAX;
      len -= KVM_FRAME_MAX;
    }
  unsigned char head[5] = { (unsigned char) type, (unsigned char) (len >> 24), (unsigned char) (len >> 16),
                            (unsigned char) (len >> 8), (unsigned char) len };
  return write_all(fd, head, sizeof(head)) < 0 || write_all(fd, buf, len) < 0 ? -1 : 0;
}

int kvm_frame_read(int fd, char *ret_type, char **ret_buf, size_t *ret_len)
{
  unsigned char head[5];
  int r = read_all(fd, head, sizeof(head));
  if (r <= 0)
    return r;
  size_t len = (size_t) head[1] << 24 | (size_t) head[2] << 16 | (size_t) head[3] << 8 | head[4];
  if (len > KVM_FRAME_MAX)
    return -1;
  char *buf = malloc(len + 1);
  if (!buf)
    abort();
  if (len > 0 && read_all(fd, buf, len) != 1)
    {
      free(buf);
      return -1;
    }
  buf[len] = '\0';
  *ret_type = (char) head[0];
  *ret_buf = buf;
  *ret_len = len;
  return 1;
}

ssize_t kvm_frame_parse(const char *buf, size_t len, char *ret_type, size_t *ret_payload)
{
  if (len < 5)
    return 0;
  const unsigned char *h = (const unsigned char *) buf;
  size_t n = (size_t) h[1] << 24 | (size_t) h[2] << 16 | (size_t) h[3] << 8 | h[4];
  if (n > KVM_FRAME_MAX)
    return -1;
  if (len < 5 + n)
    return 0;
  *ret_type = (char) h[0];
  *ret_payload = n;
  return (ssize_t) (5 + n);
}

size_t kvm_frame_head(char head[5], char type, size_t len)
{
  head[0] = type;
  head[1] = (char) (len >> 24);
  head[2] = (char) (len >> 16);
  head[3] = (char) (len >> 8);
  head[4] = (char) len;
  return 5;
}
