/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETLINK_H
#define NPTE_NETLINK_H

#include <glib.h>

/*
 * Network configuration over rtnetlink with libmnl, in the namespace of the
 * calling process. No `ip` binary, no ioctls. Requests are in netlink.c,
 * dumps in netlink-dump.c. Errors carry the kernel's extended ack message
 * where it sends one: "add veth pair a/b: <kernel text> (File exists)".
 */

struct nlmsghdr;

/**
 * netcfg_transact() - send one rtnetlink request and wait for its ACK
 * @nlh: the request (NLM_F_ACK is added)
 * @what: context for the error message
 * @error: error carrying the kernel's errno and ext-ack message
 *
 * Return: TRUE when the kernel acknowledged the request.
 */
gboolean netcfg_transact (struct nlmsghdr *nlh, const char *what, GError **error);

/**
 * netcfg_link_up() - set IFF_UP on the link named @ifname
 * @ifname: e.g. "lo"
 * @error: error naming the link
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_up (const char *ifname, GError **error);

/**
 * netcfg_link_set_up() - set or clear IFF_UP on @ifname
 * @ifname: link name
 * @up: TRUE for up
 * @error: error naming the link
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_set_up (const char *ifname, gboolean up, GError **error);

/**
 * netcfg_link_set() - set MTU (if non-zero) and MAC (if non-NULL) of a link
 * @ifname: link name
 * @mtu: new MTU or 0
 * @mac: 6 bytes or NULL
 * @error: error naming the link
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_set (const char *ifname, unsigned int mtu, const guint8 *mac, GError **error);

/**
 * netcfg_link_set_master() - enslave @ifname to the bridge @master
 * @ifname: link name
 * @master: bridge name, or NULL to release @ifname from its master
 * @error: error naming both links
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_set_master (const char *ifname, const char *master, GError **error);

/**
 * netcfg_link_add_veth() - create a veth pair
 * @ifname: name of this end
 * @peer: name of the other end
 * @peer_netns_fd: network namespace fd the peer goes to, or -1 for this one
 * @error: error naming the pair
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_add_veth (const char *ifname, const char *peer, int peer_netns_fd,
                               GError **error);

/**
 * netcfg_link_add_bridge() - create a bridge
 * @ifname: its name
 * @error: error naming it
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_add_bridge (const char *ifname, GError **error);

/**
 * netcfg_link_del() - delete a link (a veth takes its peer with it)
 * @ifname: link name
 * @error: error naming it
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_del (const char *ifname, GError **error);

/**
 * netcfg_addr_add() - add an address to a link
 * @ifname: link name
 * @family: AF_INET or AF_INET6
 * @addr: struct in_addr / struct in6_addr
 * @prefix: prefix length
 * @error: error naming the address
 *
 * IPv6 addresses are added with IFA_F_NODAD so they are usable at once.
 *
 * Return: TRUE on success.
 */
gboolean netcfg_addr_add (const char *ifname, int family, const void *addr, unsigned int prefix,
                          GError **error);

/**
 * netcfg_addr_del() - remove an address from a link
 * @ifname: link name
 * @family: AF_INET or AF_INET6
 * @addr: struct in_addr / struct in6_addr
 * @prefix: prefix length
 * @error: error naming the address
 *
 * Return: TRUE on success.
 */
gboolean netcfg_addr_del (const char *ifname, int family, const void *addr, unsigned int prefix,
                          GError **error);

/**
 * struct NetcfgRoute - a route of the main table
 * @family: AF_INET or AF_INET6
 * @dst: destination prefix (in_addr / in6_addr); ignored when @dst_len is 0 (default)
 * @dst_len: prefix length, 0 for the default route
 * @gateway: next hop, or NULL for a route on the link (scope link)
 * @ifname: output link, or NULL to let the kernel pick it from @gateway
 * @table: routing table; 0 for the main table
 * @type: RTN_* route type; 0 for RTN_UNICAST (RTN_UNREACHABLE takes no link)
 * @metric: RTA_PRIORITY; 0 for none
 * @append: add after routes with the same destination and metric
 *          (NLM_F_APPEND) instead of failing with EEXIST; the first one
 *          stays in use, the next takes over when it goes
 */
typedef struct {
  int family;
  const void *dst;
  unsigned int dst_len;
  const void *gateway;
  const char *ifname;
  unsigned int table;
  unsigned char type;
  unsigned int metric;
  gboolean append;
} NetcfgRoute;

/**
 * netcfg_route_change() - add or delete a route (protocol static, table main)
 * @add: TRUE to add (fails if it exists), FALSE to delete
 * @r: the route
 * @error: error naming the route
 *
 * Return: TRUE on success.
 */
gboolean netcfg_route_change (gboolean add, const NetcfgRoute *r, GError **error);

/**
 * netcfg_rule_iif() - add or delete the IPv4 policy rule "iif @ifname lookup @table"
 * @add: TRUE to add (fails with EEXIST if it exists), FALSE to delete
 * @ifname: input link the rule matches (it need not exist)
 * @table: the table it sends lookups to
 * @priority: the rule's priority
 * @error: error naming the rule
 *
 * Return: TRUE on success.
 */
gboolean netcfg_rule_iif (gboolean add, const char *ifname, unsigned int table,
                          unsigned int priority, GError **error);

/**
 * netcfg_route_add_default() - default route via @gateway on @ifname
 * @ifname: link name
 * @family: AF_INET or AF_INET6
 * @gateway: struct in_addr / struct in6_addr
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
gboolean netcfg_route_add_default (const char *ifname, int family, const void *gateway,
                                   GError **error);

/**
 * netcfg_neigh_change() - add or delete a permanent (static) neighbour entry
 * @add: TRUE to add (fails if it exists), FALSE to delete
 * @ifname: link name
 * @family: AF_INET or AF_INET6
 * @addr: the neighbour's IP (in_addr / in6_addr)
 * @mac: 6 bytes (ignored for delete)
 * @error: error naming the entry
 *
 * Return: TRUE on success.
 */
gboolean netcfg_neigh_change (gboolean add, const char *ifname, int family, const void *addr,
                              const guint8 *mac, GError **error);

/* One link of a dump. */
typedef struct {
  int index;
  char name[16];          /* IFNAMSIZ */
  char kind[16];          /* IFLA_INFO_KIND ("veth", "bridge") or "" */
  unsigned int mtu;
  unsigned int flags;     /* IFF_* */
  unsigned char operstate;/* IF_OPER_* */
  int master;             /* ifindex of the master, 0 for none */
  unsigned int addr_len;  /* link-layer address */
  guint8 addr[32];
} NetcfgLinkInfo;

/* One address of a dump. */
typedef struct {
  int index;
  int family;
  unsigned int prefix;
  unsigned int scope;     /* RT_SCOPE_* */
  guint8 addr[16];
} NetcfgAddrInfo;

/* One route of the main table. */
typedef struct {
  int family;
  unsigned int dst_len;
  guint8 dst[16];
  gboolean has_gateway;
  guint8 gateway[16];
  int oif;                /* 0: none */
  unsigned int protocol;  /* RTPROT_* */
  unsigned int scope;     /* RT_SCOPE_* */
  unsigned int type;      /* RTN_* */
} NetcfgRouteInfo;

/* One neighbour entry. */
typedef struct {
  int index;
  int family;
  guint8 dst[16];
  unsigned int lladdr_len;
  guint8 lladdr[32];
  unsigned int state;     /* NUD_* */
} NetcfgNeighInfo;

/* What netcfg_dump() returns: GArrays of the structs above, in the kernel's order. */
typedef struct {
  GArray *links;
  GArray *addrs;
  GArray *routes;
  GArray *neighs;
} NetcfgDump;

/**
 * netcfg_dump() - every link, address, main-table route and neighbour of this namespace
 * @error: error on failure
 *
 * Return: (transfer full) the dump, or NULL.
 */
NetcfgDump *netcfg_dump (GError **error);

/* netcfg_dump_free() - free a dump (NULL is fine). */
void netcfg_dump_free (NetcfgDump *dump);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetcfgDump, netcfg_dump_free)

/**
 * netcfg_link_name() - the name of link @index in @dump
 * @dump: a dump
 * @index: ifindex
 *
 * Return: the name, or NULL if @index is not in @dump.
 */
const char *netcfg_link_name (const NetcfgDump *dump, int index);

#endif /* NPTE_NETLINK_H */
