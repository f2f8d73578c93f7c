/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM on the pod's CNI networks (Documentation/stage1-kvm.md,
 * "Networks"): stage0 made the pod's network namespace and ran the CNI
 * plugins, which left a veth end (eth0, eth1 …) there with the pod's
 * address. For each, run makes a tap in that namespace and joins the two
 * with tc: an ingress qdisc on each and a u32 filter that matches every
 * frame and redirects it (mirred) to the other's egress. Whatever reaches
 * the veth goes to the tap, which qemu reads, and what the guest sends goes
 * out through the veth, unchanged: the guest's NIC has the veth's MAC and
 * the address the plugins gave the veth, so the host's side (routes, ARP,
 * portmap's DNAT, the masquerade rule) is exactly as for an nspawn pod. The
 * namespace's own stack sees none of it. qemu gets the tap's fd; it never
 * enters the namespace, and the tap goes with the last fd (qemu's and
 * run's), the veth with CNI DEL, the namespace with its unmount.
 *
 * rtnetlink by hand (no static libmnl or libnl in Debian for the static
 * stage1 binary): three message kinds, acknowledged one by one. */
#include "kvm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "fs.h"
#include "log.h"
#include "pod.h"

#define NL_BUF 4096

struct nlreq
{
  struct nlmsghdr *h;
  char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static struct rtattr *attr_put(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
  size_t off = NLMSG_ALIGN(r->h->nlmsg_len);
  if (off + RTA_SPACE(len) > sizeof(r->buf))
    abort(); /* fixed messages, far below the buffer */
  struct rtattr *a = (struct rtattr *) (r->buf + off);
  a->rta_type = type;
  a->rta_len = (unsigned short) RTA_LENGTH(len);
  if (len)
    memcpy(RTA_DATA(a), data, len);
  r->h->nlmsg_len = (uint32_t) (off + RTA_SPACE(len));
  return a;
}

static struct rtattr *nest_start(struct nlreq *r, unsigned short type)
{
  return attr_put(r, type, NULL, 0);
}

static void nest_end(struct nlreq *r, struct rtattr *a)
{
  a->rta_len = (unsigned short) (r->buf + r->h->nlmsg_len - (char *) a);
}

static struct tcmsg *tc_start(struct nlreq *r, uint16_t type, int ifindex, uint32_t parent, uint32_t handle,
                              uint32_t info)
{
  memset(r->buf, 0, sizeof(r->buf));
  r->h = (struct nlmsghdr *) r->buf;
  r->h->nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
  r->h->nlmsg_type = type;
  r->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  struct tcmsg *t = NLMSG_DATA(r->h);
  *t = (struct tcmsg){ .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent,
                       .tcm_handle = handle, .tcm_info = info };
  return t;
}

/* Sends the request, waits for its acknowledgement: 0, or -errno. A tc
 * module the kernel loaded on the way says EAGAIN: the request is sent again. */
static int nl_talk(int fd, struct nlreq *r)
{
  static uint32_t seq;
  for (int attempt = 0; attempt < 5; attempt++)
    {
      r->h->nlmsg_seq = ++seq;
      if (send(fd, r->buf, r->h->nlmsg_len, 0) < 0)
        return -errno;
      for (;;)
        {
          char ans[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
          ssize_t k = recv(fd, ans, sizeof(ans), 0);
          if (k < 0 && errno == EINTR)
            continue;
          if (k < 0)
            return -errno;
          int len = (int) k, e = 1;
          for (struct nlmsghdr *h = (struct nlmsghdr *) ans; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
            if (h->nlmsg_seq == seq && h->nlmsg_type == NLMSG_ERROR &&
                h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)))
              e = ((struct nlmsgerr *) NLMSG_DATA(h))->error;
          if (e == 1)
            continue; /* not our answer */
          if (e == -EAGAIN)
            break;
          return e;
        }
    }
  return -EAGAIN;
}

static int add_ingress(int nl, int ifindex)
{
  struct nlreq r;
  tc_start(&r, RTM_NEWQDISC, ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), 0);
  attr_put(&r, TCA_KIND, "ingress", sizeof("ingress"));
  return nl_talk(nl, &r);
}

/* On from's ingress: every frame (a u32 key with a zero mask), stolen and
 * put on to's egress. */
static int add_redirect(int nl, int from, int to)
{
  /* a selector with one key (mask 0, value 0: any frame) */
  char sel[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)] = { 0 };
  struct tc_u32_sel head = { .flags = TC_U32_TERMINAL, .nkeys = 1 };
  memcpy(sel, &head, sizeof(head));
  struct tc_mirred mirred = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR, .ifindex = (uint32_t) to };
  struct nlreq r;
  tc_start(&r, RTM_NEWTFILTER, from, TC_H_MAKE(TC_H_INGRESS, 0), 0, TC_H_MAKE(1u << 16, htons(ETH_P_ALL)));
  attr_put(&r, TCA_KIND, "u32", sizeof("u32"));
  struct rtattr *opts = nest_start(&r, TCA_OPTIONS);
  attr_put(&r, TCA_U32_SEL, sel, sizeof(sel));
  struct rtattr *acts = nest_start(&r, TCA_U32_ACT);
  struct rtattr *act = nest_start(&r, 1);
  attr_put(&r, TCA_ACT_KIND, "mirred", sizeof("mirred"));
  struct rtattr *aopts = nest_start(&r, TCA_ACT_OPTIONS);
  attr_put(&r, TCA_MIRRED_PARMS, &mirred, sizeof(mirred));
  nest_end(&r, aopts);
  nest_end(&r, act);
  nest_end(&r, acts);
  nest_end(&r, opts);
  return nl_talk(nl, &r);
}

/* In the pod's network namespace (the caller's for the moment): the tap,
 * up with the veth's MTU, and the two redirects. */
static int connect_here(const char *veth, const char *tap_name, struct kvm_nic *nic, podrun_error_t *err)
{
  _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  _cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct ifreq ifr = { 0 };
  int r;

  if (sock < 0 || nl < 0)
    return podrun_error_set(err, errno, "sockets in the pod's network namespace");
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", veth);
  if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
    return podrun_error_set(err, errno, "the pod's interface %s", veth);
  const unsigned char *mac = (const unsigned char *) ifr.ifr_hwaddr.sa_data;
  snprintf(nic->mac, sizeof(nic->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5]);
  if (ioctl(sock, SIOCGIFMTU, &ifr) < 0)
    return podrun_error_set(err, errno, "the MTU of %s", veth);
  nic->mtu = (unsigned) ifr.ifr_mtu;
  int veth_index = (int) if_nametoindex(veth);
  if (veth_index <= 0)
    return podrun_error_set(err, errno, "the pod's interface %s", veth);

  /* opened here: the tap is made in the namespace of the file's socket */
  _cleanup_close_ int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  struct ifreq t = { .ifr_flags = IFF_TAP | IFF_NO_PI };
  snprintf(t.ifr_name, sizeof(t.ifr_name), "%s", tap_name);
  if (tap < 0 || ioctl(tap, TUNSETIFF, &t) < 0)
    return podrun_error_set(err, errno, "make the tap %s (/dev/net/tun)", tap_name);
  struct ifreq up = { .ifr_mtu = (int) nic->mtu };
  snprintf(up.ifr_name, sizeof(up.ifr_name), "%s", tap_name);
  if (ioctl(sock, SIOCSIFMTU, &up) < 0)
    return podrun_error_set(err, errno, "the MTU of %s", tap_name);
  if (ioctl(sock, SIOCGIFFLAGS, &up) < 0)
    return podrun_error_set(err, errno, "the flags of %s", tap_name);
  up.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &up) < 0)
    return podrun_error_set(err, errno, "bring %s up", tap_name);
  int tap_index = (int) if_nametoindex(tap_name);
  if (tap_index <= 0)
    return podrun_error_set(err, errno, "the tap %s", tap_name);
  if ((r = add_ingress(nl, veth_index)) < 0 || (r = add_ingress(nl, tap_index)) < 0)
    return podrun_error_set(err, -r, "tc: an ingress qdisc on %s and %s", veth, tap_name);
  if ((r = add_redirect(nl, veth_index, tap_index)) < 0 || (r = add_redirect(nl, tap_index, veth_index)) < 0)
    return podrun_error_set(err, -r, "tc: the redirects between %s and %s", veth, tap_name);
  nic->tap_fd = TAKE_FD(tap);
  return 0;
}

int kvm_nic_connect(const char *netns_path, const char *veth, size_t index, struct kvm_nic *nic, podrun_error_t *err)
{
  _cleanup_close_ int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int ns = open(netns_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_free_ char *tap = xasprintf("tap%zu", index);
  if (host < 0 || ns < 0)
    return podrun_error_set(err, errno, "open the pod's network namespace");
  if (setns(ns, CLONE_NEWNET) < 0)
    return podrun_error_set(err, errno, "join the pod's network namespace");
  int r = connect_here(veth, tap, nic, err);
  if (setns(host, CLONE_NEWNET) < 0)
    {
      /* never go on in the pod's namespace */
      log_error("back to the host's network namespace: %s", strerror(errno));
      _exit(PODRUN_EXIT_ERROR);
    }
  return r;
}
