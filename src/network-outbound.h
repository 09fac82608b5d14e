/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETWORK_OUTBOUND_H
#define NPTE_NETWORK_OUTBOUND_H

#include <glib.h>

#include "netns-registry.h"

/*
 * Outbound access of "npte network create --outbound" (docs/networks.md,
 * Outbound): while an --outbound network exists, the infrastructure
 * namespace has a slirp of its own — the "npte attach --net=slirp" of a
 * managed namespace, on the TAP device NET_SLIRP_IFNAME with 10.0.2.100/24
 * and a default route via 10.0.2.2 — and routes the members of --outbound
 * networks to it. libslirp accepts packets from any source address and
 * answers them by ARP, so the member addresses need no translation: the
 * TAP device answers slirp's ARP requests for them (proxy ARP).
 *
 * The net_outbound_*() steps run inside a helper that is in the
 * infrastructure namespace (or, for the member route, in the member's);
 * the network_outbound_*() ones run in npte, under the global lock.
 */

/* The TAP device of the infrastructure namespace's slirp ("npte attach"'s default). */
#define NET_SLIRP_IFNAME "tap0"

/**
 * net_outbound_bridge_up() - routing of a network's bridge; in the infrastructure namespace
 * @bridge: the bridge ("nb-NET")
 * @net: the network address
 * @prefix: its prefix length
 * @outbound: whether the network is --outbound
 * @error: error
 *
 * Every network's subnet is unreachable in NET_OUTBOUND_TABLE, so traffic from
 * an --outbound bridge never reaches another network. An --outbound bridge
 * forwards (net.ipv4.conf.BRIDGE.forwarding) and its traffic looks up
 * NET_OUTBOUND_TABLE first ("iif BRIDGE" rule), then the main table with
 * slirp's default route. Other bridges do not forward at all. Idempotent.
 *
 * Return: TRUE on success.
 */
gboolean net_outbound_bridge_up (const char *bridge, guint32 net, guint prefix, gboolean outbound,
                                 GError **error);

/**
 * net_outbound_bridge_down() - undo net_outbound_bridge_up(); missing pieces are fine
 * @bridge: the bridge
 * @net: the network address
 * @prefix: its prefix length
 * @error: error
 *
 * Return: TRUE on success.
 */
gboolean net_outbound_bridge_down (const char *bridge, guint32 net, guint prefix,
                                   GError **error);

/**
 * net_outbound_member_route() - the default route of a member; in the member's namespace
 * @peer: the member's link to the network ("nw-NET")
 * @gateway: the network's gateway
 * @error: error
 *
 * Metric NET_OUTBOUND_METRIC, appended: a default route the member has
 * already (its own slirp's, metric 0, or an earlier --outbound network's)
 * stays in use. An existing identical route is fine.
 *
 * Return: TRUE on success.
 */
gboolean net_outbound_member_route (const char *peer, guint32 gateway, GError **error);

/**
 * net_outbound_slirp_link() - make the slirp TAP device route for the members
 * @error: error (the TAP device is missing: the slirp is not running)
 *
 * In the infrastructure namespace: forwarding, proxy ARP without delay on
 * NET_SLIRP_IFNAME, so that slirp's ARP requests for member addresses are
 * answered at once with its own address.
 *
 * Return: TRUE on success.
 */
gboolean net_outbound_slirp_link (GError **error);

/**
 * network_outbound_running() - whether the slirp of the infrastructure namespace runs
 * @p: paths
 *
 * Return: TRUE when its attach holds its state-dir lock.
 */
gboolean network_outbound_running (const NetnsPaths *p);

/**
 * network_outbound_start() - (re)start the slirp of the infrastructure namespace
 * @p: paths
 * @error: error with the attach's own message
 *
 * The infrastructure namespace must exist. A running one is stopped first
 * (after a rebuild it serves the old namespace).
 *
 * Return: TRUE when its TAP device is up.
 */
gboolean network_outbound_start (const NetnsPaths *p, GError **error);

/**
 * network_outbound_stop() - stop it and remove its state dir and log
 * @p: paths
 */
void network_outbound_stop (const NetnsPaths *p);

#endif /* NPTE_NETWORK_OUTBOUND_H */
