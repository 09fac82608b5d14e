/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink requests over libmnl: links (veth, bridge, up/down, MTU, MAC,
 * master), addresses, routes and neighbours, each one request answered by
 * one ACK. Errors carry the kernel's extended ack message when it sends
 * one (NETLINK_EXT_ACK). Dumps are in netlink-dump.c.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "npte-error.h"

typedef struct mnl_socket NpteMnl;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpteMnl, mnl_socket_close)

/* The kernel's answer to one request: errno (0 for an ACK) and its ext-ack text. */
typedef struct {
  int err;
  char msg[256];
} NetcfgAck;

static int
ext_ack_attr_cb (const struct nlattr *attr, void *data)
{
  NetcfgAck *ack = data;

  if (mnl_attr_get_type (attr) == NLMSGERR_ATTR_MSG
      && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0)
    g_strlcpy (ack->msg, mnl_attr_get_str (attr), sizeof ack->msg);
  return MNL_CB_OK;
}

/**
 * error_cb() - NLMSG_ERROR: the errno and, with NLM_F_ACK_TLVS, the ext-ack message
 * @nlh: the NLMSG_ERROR message
 * @data: NetcfgAck to fill
 *
 * Return: MNL_CB_STOP for an ACK, MNL_CB_ERROR (errno set) for an error.
 */
static int
error_cb (const struct nlmsghdr *nlh, void *data)
{
  NetcfgAck *ack = data;
  const struct nlmsgerr *e = mnl_nlmsg_get_payload (nlh);
  size_t len = mnl_nlmsg_get_payload_len (nlh);
  size_t off = sizeof *e;

  if (len < sizeof *e)
    {
      ack->err = EBADMSG;
      errno = EBADMSG;
      return MNL_CB_ERROR;
    }
  if (e->error == 0)
    return MNL_CB_STOP;
  ack->err = e->error < 0 ? -e->error : e->error;
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof (struct nlmsghdr))
    off += e->msg.nlmsg_len - sizeof (struct nlmsghdr);
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < len)
    mnl_attr_parse_payload ((const char *) e + off, len - off, ext_ack_attr_cb, ack);
  errno = ack->err;
  return MNL_CB_ERROR;
}

/**
 * ack_error() - set @error from a kernel error, with its ext-ack message if any
 * @error: (out) the error
 * @ack: the answer
 * @what: context
 *
 * Return: FALSE.
 */
static gboolean
ack_error (GError **error, const NetcfgAck *ack, const char *what)
{
  if (ack->msg[0] != '\0')
    return npte_set_error (error, ack->err, "%s: %s (%s)", what, ack->msg, g_strerror (ack->err));
  return npte_set_errno (error, ack->err, "%s", what);
}

gboolean
netcfg_transact (struct nlmsghdr *nlh, const char *what, GError **error)
{
  static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb };
  g_autoptr (NpteMnl) nl = mnl_socket_open (NETLINK_ROUTE);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned int seq = (unsigned int) time (NULL);
  NetcfgAck ack = { 0 };
  int one = 1;

  if (nl == NULL)
    return npte_set_errno (error, errno, "%s: open netlink socket", what);
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return npte_set_errno (error, errno, "%s: bind netlink socket", what);
  /* Best effort: older kernels just send no message. */
  setsockopt (mnl_socket_get_fd (nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    return npte_set_errno (error, errno, "%s: netlink send", what);
  for (int i = 0; i < 16; i++)
    {
      ssize_t n = mnl_socket_recvfrom (nl, buf, sizeof buf);
      if (n < 0)
        return npte_set_errno (error, errno, "%s: netlink receive", what);
      int r = mnl_cb_run2 (buf, (size_t) n, seq, mnl_socket_get_portid (nl), NULL, &ack, ctl_cb,
                           G_N_ELEMENTS (ctl_cb));
      if (r == MNL_CB_STOP)
        return TRUE;
      if (r < 0)
        {
          if (ack.err == 0)
            ack.err = errno != 0 ? errno : EPROTO;
          return ack_error (error, &ack, what);
        }
    }
  return npte_set_error (error, EPROTO, "%s: no answer from the kernel", what);
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
    npte_set_errno (error, errno == ENXIO ? ENODEV : errno, "link %s", ifname);
  return index;
}

/**
 * link_msg() - start an RTM_NEWLINK / RTM_DELLINK request
 * @buf: buffer of MNL_SOCKET_BUFFER_SIZE bytes
 * @type: RTM_NEWLINK or RTM_DELLINK
 * @flags: extra NLM_F_ flags
 * @index: ifindex, or 0 for a new link
 * @ifm: (out) the ifinfomsg header
 *
 * Return: the message header.
 */
static struct nlmsghdr *
link_msg (char *buf, guint16 type, guint16 flags, unsigned int index, struct ifinfomsg **ifm)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof **ifm);
  (*ifm)->ifi_family = AF_UNSPEC;
  (*ifm)->ifi_index = (int) index;
  return nlh;
}

gboolean
netcfg_link_set_up (const char *ifname, gboolean up, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, 0, index, &ifm);
  ifm->ifi_flags = up ? IFF_UP : 0;
  ifm->ifi_change = IFF_UP;
  g_autofree char *what = g_strdup_printf ("set link %s %s", ifname, up ? "up" : "down");
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_link_up (const char *ifname, GError **error)
{
  return netcfg_link_set_up (ifname, TRUE, error);
}

gboolean
netcfg_link_set (const char *ifname, unsigned int mtu, const guint8 *mac, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, 0, index, &ifm);
  if (mtu > 0)
    mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  if (mac != NULL)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  g_autofree char *what = g_strdup_printf ("configure link %s", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_link_set_master (const char *ifname, const char *master, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  unsigned int index = link_index (ifname, error);
  unsigned int master_index = 0;

  if (index == 0)
    return FALSE;
  if (master != NULL && (master_index = link_index (master, error)) == 0)
    return FALSE;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, 0, index, &ifm);
  mnl_attr_put_u32 (nlh, IFLA_MASTER, master_index);
  g_autofree char *what = master != NULL
                              ? g_strdup_printf ("set master of %s to %s", ifname, master)
                              : g_strdup_printf ("release %s from its master", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_link_add_veth (const char *ifname, const char *peer, int peer_netns_fd, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, &ifm);

  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  struct nlattr *info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  struct nlattr *peer_attr = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header (nlh, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer);
  if (peer_netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (guint32) peer_netns_fd);
  mnl_attr_nest_end (nlh, peer_attr);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, info);
  g_autofree char *what = g_strdup_printf ("add veth pair %s/%s", ifname, peer);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_link_add_bridge (const char *ifname, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, &ifm);

  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  struct nlattr *info = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, info);
  g_autofree char *what = g_strdup_printf ("add bridge %s", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_link_del (const char *ifname, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = link_msg (buf, RTM_DELLINK, 0, index, &ifm);
  g_autofree char *what = g_strdup_printf ("delete link %s", ifname);
  return netcfg_transact (nlh, what, error);
}

/**
 * addr_change() - RTM_NEWADDR / RTM_DELADDR of @addr/@prefix on @ifname
 * @add: TRUE to add
 * @ifname: link name
 * @family: AF_INET or AF_INET6
 * @addr: struct in_addr / struct in6_addr
 * @prefix: prefix length
 * @error: error naming the address
 *
 * Return: TRUE on success.
 */
static gboolean
addr_change (gboolean add, const char *ifname, int family, const void *addr, unsigned int prefix,
             GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned int index = link_index (ifname, error);
  const size_t alen = family == AF_INET6 ? 16 : 4;

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = (unsigned char) family;
  ifa->ifa_prefixlen = (unsigned char) prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  if (family == AF_INET6 && add)
    ifa->ifa_flags = IFA_F_NODAD;
  mnl_attr_put (nlh, IFA_LOCAL, alen, addr);
  mnl_attr_put (nlh, IFA_ADDRESS, alen, addr);
  inet_ntop (family, addr, text, sizeof text);
  g_autofree char *what = g_strdup_printf ("%s address %s/%u %s %s", add ? "add" : "delete",
                                           text, prefix, add ? "to" : "from", ifname);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_addr_add (const char *ifname, int family, const void *addr, unsigned int prefix,
                 GError **error)
{
  return addr_change (TRUE, ifname, family, addr, prefix, error);
}

gboolean
netcfg_addr_del (const char *ifname, int family, const void *addr, unsigned int prefix,
                 GError **error)
{
  return addr_change (FALSE, ifname, family, addr, prefix, error);
}

/**
 * route_what() - "add route 10.0.0.0/24 via 10.0.0.1 dev v0" for messages
 * @add: add or delete
 * @r: the route
 *
 * Return: (transfer full) the text.
 */
static char *
route_what (gboolean add, const NetcfgRoute *r)
{
  char dst[INET6_ADDRSTRLEN] = "default", gw[INET6_ADDRSTRLEN] = "";
  GString *s = g_string_new (add ? "add route " : "delete route ");

  if (r->type == RTN_UNREACHABLE)
    g_string_append (s, "unreachable ");

  if (r->dst_len > 0)
    inet_ntop (r->family, r->dst, dst, sizeof dst);
  g_string_append (s, dst);
  if (r->dst_len > 0)
    g_string_append_printf (s, "/%u", r->dst_len);
  if (r->gateway != NULL && inet_ntop (r->family, r->gateway, gw, sizeof gw) != NULL)
    g_string_append_printf (s, " via %s", gw);
  if (r->ifname != NULL)
    g_string_append_printf (s, " dev %s", r->ifname);
  if (r->metric != 0)
    g_string_append_printf (s, " metric %u", r->metric);
  if (r->table != 0 && r->table != RT_TABLE_MAIN)
    g_string_append_printf (s, " table %u", r->table);
  return g_string_free (s, FALSE);
}

gboolean
netcfg_route_change (gboolean add, const NetcfgRoute *r, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  const size_t alen = r->family == AF_INET6 ? 16 : 4;
  unsigned int index = 0;

  if (r->ifname != NULL && (index = link_index (r->ifname, error)) == 0)
    return FALSE;
  const unsigned int table = r->table != 0 ? r->table : RT_TABLE_MAIN;
  const unsigned char type = r->type != 0 ? r->type : RTN_UNICAST;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST
                     | (!add ? 0 : r->append ? NLM_F_CREATE | NLM_F_APPEND
                                             : NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = (unsigned char) r->family;
  rtm->rtm_dst_len = (unsigned char) r->dst_len;
  rtm->rtm_table = table < 256 ? (unsigned char) table : RT_TABLE_UNSPEC;
  rtm->rtm_protocol = add ? RTPROT_STATIC : RTPROT_UNSPEC;
  /* A delete matches any scope, as "ip route del" does. */
  rtm->rtm_scope = !add ? RT_SCOPE_NOWHERE
                   : r->gateway != NULL || type != RTN_UNICAST ? RT_SCOPE_UNIVERSE
                                                               : RT_SCOPE_LINK;
  rtm->rtm_type = type;
  if (r->dst_len > 0)
    mnl_attr_put (nlh, RTA_DST, alen, r->dst);
  if (r->gateway != NULL)
    mnl_attr_put (nlh, RTA_GATEWAY, alen, r->gateway);
  if (index > 0)
    mnl_attr_put_u32 (nlh, RTA_OIF, index);
  if (r->metric != 0)
    mnl_attr_put_u32 (nlh, RTA_PRIORITY, r->metric);
  if (table >= 256)
    mnl_attr_put_u32 (nlh, RTA_TABLE, table);
  g_autofree char *what = route_what (add, r);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_rule_iif (gboolean add, const char *ifname, unsigned int table, unsigned int priority,
                 GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header (nlh, sizeof *frh);
  frh->family = AF_INET;
  frh->table = table < 256 ? (unsigned char) table : RT_TABLE_UNSPEC;
  frh->action = FR_ACT_TO_TBL;
  mnl_attr_put_strz (nlh, FRA_IIFNAME, ifname);
  mnl_attr_put_u32 (nlh, FRA_TABLE, table);
  mnl_attr_put_u32 (nlh, FRA_PRIORITY, priority);
  g_autofree char *what = g_strdup_printf ("%s rule iif %s lookup %u priority %u",
                                           add ? "add" : "delete", ifname, table, priority);
  return netcfg_transact (nlh, what, error);
}

gboolean
netcfg_route_add_default (const char *ifname, int family, const void *gateway, GError **error)
{
  const NetcfgRoute r = { .family = family, .gateway = gateway, .ifname = ifname };

  return netcfg_route_change (TRUE, &r, error);
}

gboolean
netcfg_neigh_change (gboolean add, const char *ifname, int family, const void *addr,
                     const guint8 *mac, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned int index = link_index (ifname, error);

  if (index == 0)
    return FALSE;
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = add ? RTM_NEWNEIGH : RTM_DELNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header (nlh, sizeof *ndm);
  ndm->ndm_family = (unsigned char) family;
  ndm->ndm_ifindex = (int) index;
  ndm->ndm_state = NUD_PERMANENT;
  ndm->ndm_type = RTN_UNICAST;
  mnl_attr_put (nlh, NDA_DST, family == AF_INET6 ? 16 : 4, addr);
  if (add && mac != NULL)
    mnl_attr_put (nlh, NDA_LLADDR, 6, mac);
  inet_ntop (family, addr, text, sizeof text);
  g_autofree char *what = g_strdup_printf ("%s neighbour %s on %s", add ? "add" : "delete", text,
                                           ifname);
  return netcfg_transact (nlh, what, error);
}
