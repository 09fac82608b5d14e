/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETLINK_H
#define NPTE_NETLINK_H

#include <glib.h>

/*
 * Network configuration over rtnetlink with libmnl, in the namespace of the
 * calling process. No `ip` binary, no ioctls.
 */

struct nlmsghdr;

/**
 * netcfg_transact() - send one rtnetlink request and wait for its ACK
 * @nlh: the request (NLM_F_ACK is added)
 * @what: context for the error message
 * @error: error carrying the kernel's errno
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

#endif /* NPTE_NETLINK_H */
