/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
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
static gboolean
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
