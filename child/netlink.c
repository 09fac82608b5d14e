/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <time.h>

#include "npte-error.h"

typedef struct mnl_socket NpteMnl;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpteMnl, mnl_socket_close)

/**
 * netcfg_transact() - send one request and wait for its ACK
 * @nlh: the request, with NLM_F_ACK set by this function
 * @what: context for error messages
 * @error: error carrying the kernel's errno
 *
 * Return: TRUE when the kernel acknowledged the request.
 */
gboolean
netcfg_transact (struct nlmsghdr *nlh, const char *what, GError **error)
{
  g_autoptr (NpteMnl) nl = mnl_socket_open (NETLINK_ROUTE);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int seq = (unsigned int) time (NULL);

  if (nl == NULL)
    return npte_set_errno (error, errno, "%s: open netlink socket", what);
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return npte_set_errno (error, errno, "%s: bind netlink socket", what);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    return npte_set_errno (error, errno, "%s: netlink send", what);
  ssize_t n = mnl_socket_recvfrom (nl, buf, sizeof buf);
  if (n < 0)
    return npte_set_errno (error, errno, "%s: netlink receive", what);
  if (mnl_cb_run (buf, (size_t) n, seq, mnl_socket_get_portid (nl), NULL, NULL) < 0)
    return npte_set_errno (error, errno, "%s", what);
  return TRUE;
}

gboolean
netcfg_link_up (const char *ifname, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int index = if_nametoindex (ifname);

  if (index == 0)
    return npte_set_errno (error, errno, "link %s", ifname);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = (int) index;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  g_autofree char *what = g_strdup_printf ("set link %s up", ifname);
  return netcfg_transact (nlh, what, error);
}

/**
 * link_index() - ifindex of @ifname
 * @ifname: link name
 * @error: ENODEV naming the link
 *
 * Return: the index, or 0 on error.
 */
static unsigned int
link_index (const char *ifname, GError **error)
{
  unsigned int index = if_nametoindex (ifname);

  if (index == 0)
    npte_set_errno (error, errno, "link %s", ifname);
  return index;
}

gboolean
netcfg_link_set (const char *ifname, unsigned int mtu, const guint8 *mac, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = (int) index;
  if (mtu > 0)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  if (mac != NULL)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  g_autofree char *what = g_strdup_printf ("configure link %s", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_addr_add (const char *ifname, int family, const void *addr, unsigned int prefix,
                 GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int index = link_index (ifname, error);
  const size_t alen = family == AF_INET6 ? 16 : 4;

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = (unsigned char) family;
  ifa->ifa_prefixlen = (unsigned char) prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  if (family == AF_INET6)
    ifa->ifa_flags = IFA_F_NODAD;
  mnl_attr_put (nlh, IFA_LOCAL, alen, addr);
  mnl_attr_put (nlh, IFA_ADDRESS, alen, addr);
  g_autofree char *what = g_strdup_printf ("add address to %s", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_route_add_default (const char *ifname, int family, const void *gateway, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = (unsigned char) family;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put (nlh, RTA_GATEWAY, family == AF_INET6 ? 16 : 4, gateway);
  mnl_attr_put_u32 (nlh, RTA_OIF, index);
  g_autofree char *what = g_strdup_printf ("add default route via %s", ifname);
  return netcfg_transact (nlh, what, error);
}
