/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_CFG_H
#define NPTE_NETNS_CFG_H

#include <glib.h>

/*
 * One configuration change of "npte netns link|addr|route|neigh": parsed
 * from the command line once, then either applied over netlink inside the
 * namespace (netns_cfg_apply()) or rendered as the equivalent iproute2
 * command for --dry-run (netns_cfg_ip_args()). Both read the same struct,
 * so the live verb and its script cannot drift apart.
 */

typedef enum {
  NETNS_CFG_LINK_ADD_VETH,
  NETNS_CFG_LINK_ADD_BRIDGE,
  NETNS_CFG_LINK_DEL,
  NETNS_CFG_LINK_UP,
  NETNS_CFG_LINK_DOWN,
  NETNS_CFG_LINK_MTU,
  NETNS_CFG_LINK_MASTER,
  NETNS_CFG_LINK_NOMASTER,
  NETNS_CFG_ADDR_ADD,
  NETNS_CFG_ADDR_DEL,
  NETNS_CFG_ROUTE_ADD,
  NETNS_CFG_ROUTE_DEL,
  NETNS_CFG_NEIGH_ADD,
  NETNS_CFG_NEIGH_DEL,
} NetnsCfgKind;

typedef struct {
  NetnsCfgKind kind;
  char ns[64];        /* the namespace (validated) */
  char ifname[16];    /* the link ("" for a route without dev) */
  char peer[16];      /* veth peer or master bridge */
  char other_ns[64];  /* namespace of the veth peer, "" for the same one */
  unsigned int mtu;
  int family;         /* AF_INET / AF_INET6 of addr (and gw) */
  guint8 addr[16];    /* address, route destination or neighbour IP */
  unsigned int prefix;/* its prefix length (route: 0 for default) */
  gboolean has_gw;
  guint8 gw[16];
  gboolean has_mac;
  guint8 mac[6];
} NetnsCfgOp;

/**
 * netns_cfg_parse() - parse "link|addr|route|neigh ACTION NAME ..." into @op
 * @argc: number of words
 * @argv: words: argv[0] is the object ("link", ...), argv[1] the action
 * @op: (out) the change
 * @error: EINVAL with a usage message (the caller exits 2)
 *
 * Grammar:
 *   link add NAME IFNAME type veth peer PEER [netns OTHER]
 *   link add NAME IFNAME type bridge
 *   link del NAME IFNAME
 *   link set NAME IFNAME up|down|mtu N|master BRIDGE|nomaster
 *   addr add|del NAME IFNAME ADDR[/PREFIX]
 *   route add|del NAME DEST[/PREFIX]|default [via GW] [dev IFNAME]
 *   neigh add NAME IP lladdr MAC dev IFNAME
 *   neigh del NAME IP dev IFNAME
 * Namespace names are validated; link names are 1..15 characters without
 * '/', ':' or white space.
 *
 * Return: TRUE if the words form a valid change.
 */
gboolean netns_cfg_parse (int argc, char **argv, NetnsCfgOp *op, GError **error);

/**
 * netns_cfg_apply() - make the change over netlink, in the current network namespace
 * @op: the change
 * @other_fd: fd of the veth peer's namespace (-1 when none)
 * @error: error, with the kernel's ext-ack message where there is one
 *
 * Return: TRUE on success.
 */
gboolean netns_cfg_apply (const NetnsCfgOp *op, int other_fd, GError **error);

/**
 * netns_cfg_ip_args() - the iproute2 command doing the same, for scripts
 * @op: the change
 * @other_ref: what to give "ip ... netns" for the peer's namespace (a name
 *             or a path), used when op->other_ns is set
 *
 * Return: (transfer full) NULL-terminated argv starting with "ip".
 */
char **netns_cfg_ip_args (const NetnsCfgOp *op, const char *other_ref);

#endif /* NPTE_NETNS_CFG_H */
