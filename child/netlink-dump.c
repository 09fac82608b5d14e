/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink dumps over libmnl: links, addresses, routes of the main table
 * and neighbours of the namespace of the calling process, for
 * "npte netns show".
 */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

#include "npte-error.h"

typedef struct mnl_socket NpteMnlDump;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpteMnlDump, mnl_socket_close)

/* Receive buffer of a dump (libmnl's DUMP_BUF_SIZE, which 1.0.4 lacks). */
#define DUMP_BUF_SIZE 32768

/* Upper bound on receive calls of one dump: a namespace with that much is not ours. */
#define DUMP_MAX_READS 4096

/**
 * attr_copy() - copy a binary attribute of at most @max bytes
 * @attr: the attribute
 * @out: destination
 * @max: its size
 *
 * Return: the number of bytes copied (0 when the attribute is too long).
 */
static unsigned int
attr_copy (const struct nlattr *attr, guint8 *out, gsize max)
{
  gsize len = mnl_attr_get_payload_len (attr);

  if (len > max)
    return 0;
  memcpy (out, mnl_attr_get_payload (attr), len);
  return (unsigned int) len;
}

static int
linkinfo_cb (const struct nlattr *attr, void *data)
{
  NetcfgLinkInfo *l = data;

  if (mnl_attr_get_type (attr) == IFLA_INFO_KIND
      && mnl_attr_validate (attr, MNL_TYPE_STRING) == 0)
    {
      gsize n = MIN (sizeof l->kind - 1, (gsize) mnl_attr_get_payload_len (attr));
      memcpy (l->kind, mnl_attr_get_str (attr), n);
      l->kind[n] = '\0';
    }
  return MNL_CB_OK;
}

static int
link_attr_cb (const struct nlattr *attr, void *data)
{
  NetcfgLinkInfo *l = data;

  switch (mnl_attr_get_type (attr))
    {
    case IFLA_IFNAME:
      if (mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0)
        g_strlcpy (l->name, mnl_attr_get_str (attr), sizeof l->name);
      break;
    case IFLA_MTU:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) == 0)
        l->mtu = mnl_attr_get_u32 (attr);
      break;
    case IFLA_MASTER:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) == 0)
        l->master = (int) mnl_attr_get_u32 (attr);
      break;
    case IFLA_OPERSTATE:
      if (mnl_attr_validate (attr, MNL_TYPE_U8) == 0)
        l->operstate = mnl_attr_get_u8 (attr);
      break;
    case IFLA_ADDRESS:
      l->addr_len = attr_copy (attr, l->addr, sizeof l->addr);
      break;
    case IFLA_LINKINFO:
      if (mnl_attr_validate (attr, MNL_TYPE_NESTED) == 0)
        mnl_attr_parse_nested (attr, linkinfo_cb, l);
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

static int
link_cb (const struct nlmsghdr *nlh, void *data)
{
  NetcfgDump *d = data;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload (nlh);
  NetcfgLinkInfo l = { 0 };

  if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len (nlh) < sizeof *ifm)
    return MNL_CB_OK;
  l.index = ifm->ifi_index;
  l.flags = ifm->ifi_flags;
  mnl_attr_parse (nlh, sizeof *ifm, link_attr_cb, &l);
  g_array_append_val (d->links, l);
  return MNL_CB_OK;
}

/* An address being parsed: IFA_LOCAL wins over IFA_ADDRESS (the peer on point-to-point). */
typedef struct {
  NetcfgAddrInfo a;
  gboolean has_local;
} AddrParse;

static int
addr_attr_cb (const struct nlattr *attr, void *data)
{
  AddrParse *p = data;
  guint16 type = mnl_attr_get_type (attr);

  if (type == IFA_LOCAL)
    p->has_local = attr_copy (attr, p->a.addr, sizeof p->a.addr) > 0;
  else if (type == IFA_ADDRESS && !p->has_local)
    attr_copy (attr, p->a.addr, sizeof p->a.addr);
  return MNL_CB_OK;
}

static int
addr_cb (const struct nlmsghdr *nlh, void *data)
{
  NetcfgDump *d = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload (nlh);
  AddrParse p = { { 0 }, FALSE };

  if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len (nlh) < sizeof *ifa)
    return MNL_CB_OK;
  mnl_attr_parse (nlh, sizeof *ifa, addr_attr_cb, &p);
  p.a.index = (int) ifa->ifa_index;
  p.a.family = ifa->ifa_family;
  p.a.prefix = ifa->ifa_prefixlen;
  p.a.scope = ifa->ifa_scope;
  g_array_append_val (d->addrs, p.a);
  return MNL_CB_OK;
}

/* Route attributes, with the table number that RTA_TABLE may widen. */
typedef struct {
  NetcfgRouteInfo r;
  guint32 table;
} RouteParse;

static int
route_attr_cb (const struct nlattr *attr, void *data)
{
  RouteParse *p = data;

  switch (mnl_attr_get_type (attr))
    {
    case RTA_DST:
      attr_copy (attr, p->r.dst, sizeof p->r.dst);
      break;
    case RTA_GATEWAY:
      p->r.has_gateway = attr_copy (attr, p->r.gateway, sizeof p->r.gateway) > 0;
      break;
    case RTA_OIF:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) == 0)
        p->r.oif = (int) mnl_attr_get_u32 (attr);
      break;
    case RTA_TABLE:
      if (mnl_attr_validate (attr, MNL_TYPE_U32) == 0)
        p->table = mnl_attr_get_u32 (attr);
      break;
    default:
      break;
    }
  return MNL_CB_OK;
}

static int
route_cb (const struct nlmsghdr *nlh, void *data)
{
  NetcfgDump *d = data;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload (nlh);
  RouteParse p = { { 0 }, 0 };

  if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len (nlh) < sizeof *rtm)
    return MNL_CB_OK;
  p.table = rtm->rtm_table;
  mnl_attr_parse (nlh, sizeof *rtm, route_attr_cb, &p);
  if (p.table != RT_TABLE_MAIN)
    return MNL_CB_OK;
  p.r.family = rtm->rtm_family;
  p.r.dst_len = rtm->rtm_dst_len;
  p.r.protocol = rtm->rtm_protocol;
  p.r.scope = rtm->rtm_scope;
  p.r.type = rtm->rtm_type;
  g_array_append_val (d->routes, p.r);
  return MNL_CB_OK;
}

static int
neigh_attr_cb (const struct nlattr *attr, void *data)
{
  NetcfgNeighInfo *n = data;

  if (mnl_attr_get_type (attr) == NDA_DST)
    attr_copy (attr, n->dst, sizeof n->dst);
  else if (mnl_attr_get_type (attr) == NDA_LLADDR)
    n->lladdr_len = attr_copy (attr, n->lladdr, sizeof n->lladdr);
  return MNL_CB_OK;
}

static int
neigh_cb (const struct nlmsghdr *nlh, void *data)
{
  NetcfgDump *d = data;
  const struct ndmsg *ndm = mnl_nlmsg_get_payload (nlh);
  NetcfgNeighInfo n = { 0 };

  if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len (nlh) < sizeof *ndm)
    return MNL_CB_OK;
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
    return MNL_CB_OK; /* bridge fdb entries */
  n.index = ndm->ndm_ifindex;
  n.family = ndm->ndm_family;
  n.state = ndm->ndm_state;
  mnl_attr_parse (nlh, sizeof *ndm, neigh_attr_cb, &n);
  g_array_append_val (d->neighs, n);
  return MNL_CB_OK;
}

/**
 * dump_one() - one NLM_F_DUMP request, every answer through @cb
 * @nl: bound netlink socket
 * @type: RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE or RTM_GETNEIGH
 * @hdrlen: size of the family header that follows nlmsghdr
 * @cb: data callback
 * @d: the dump being filled
 * @error: error on failure
 *
 * Return: TRUE when NLMSG_DONE arrived.
 */
static gboolean
dump_one (struct mnl_socket *nl, guint16 type, gsize hdrlen, mnl_cb_t cb, NetcfgDump *d,
          GError **error)
{
  g_autofree char *buf = g_malloc (DUMP_BUF_SIZE);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  unsigned int seq = (unsigned int) time (NULL) + type;

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  /* Every family header starts with its family byte: AF_UNSPEC means all. */
  guint8 *fam = mnl_nlmsg_put_extra_header (nlh, hdrlen);
  fam[0] = AF_UNSPEC;
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    return npte_set_errno (error, errno, "netlink dump request");
  for (int i = 0; i < DUMP_MAX_READS; i++)
    {
      ssize_t n = mnl_socket_recvfrom (nl, buf, DUMP_BUF_SIZE);
      if (n < 0)
        return npte_set_errno (error, errno, "netlink dump");
      int r = mnl_cb_run (buf, (size_t) n, seq, mnl_socket_get_portid (nl), cb, d);
      if (r == MNL_CB_STOP)
        return TRUE;
      if (r < 0)
        return npte_set_errno (error, errno, "netlink dump");
    }
  return npte_set_error (error, E2BIG, "netlink dump: too many answers");
}

NetcfgDump *
netcfg_dump (GError **error)
{
  g_autoptr (NpteMnlDump) nl = mnl_socket_open (NETLINK_ROUTE);
  g_autoptr (NetcfgDump) d = g_new0 (NetcfgDump, 1);

  d->links = g_array_new (FALSE, TRUE, sizeof (NetcfgLinkInfo));
  d->addrs = g_array_new (FALSE, TRUE, sizeof (NetcfgAddrInfo));
  d->routes = g_array_new (FALSE, TRUE, sizeof (NetcfgRouteInfo));
  d->neighs = g_array_new (FALSE, TRUE, sizeof (NetcfgNeighInfo));
  if (nl == NULL)
    {
      npte_set_errno (error, errno, "open netlink socket");
      return NULL;
    }
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      npte_set_errno (error, errno, "bind netlink socket");
      return NULL;
    }
  if (!dump_one (nl, RTM_GETLINK, sizeof (struct ifinfomsg), link_cb, d, error)
      || !dump_one (nl, RTM_GETADDR, sizeof (struct ifaddrmsg), addr_cb, d, error)
      || !dump_one (nl, RTM_GETROUTE, sizeof (struct rtmsg), route_cb, d, error)
      || !dump_one (nl, RTM_GETNEIGH, sizeof (struct ndmsg), neigh_cb, d, error))
    return NULL;
  return g_steal_pointer (&d);
}

void
netcfg_dump_free (NetcfgDump *dump)
{
  if (dump == NULL)
    return;
  g_clear_pointer (&dump->links, g_array_unref);
  g_clear_pointer (&dump->addrs, g_array_unref);
  g_clear_pointer (&dump->routes, g_array_unref);
  g_clear_pointer (&dump->neighs, g_array_unref);
  g_free (dump);
}

const char *
netcfg_link_name (const NetcfgDump *dump, int index)
{
  for (guint i = 0; dump != NULL && i < dump->links->len; i++)
    {
      const NetcfgLinkInfo *l = &g_array_index (dump->links, NetcfgLinkInfo, i);
      if (l->index == index)
        return l->name;
    }
  return NULL;
}
