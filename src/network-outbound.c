/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Outbound access through the infrastructure namespace
 *
 * A member of an --outbound network has a default route via the network's
 * gateway, the bridge's address in the infrastructure namespace. There the
 * packet is routed to the slirp TAP device and libslirp opens a socket on
 * the host for it, like for "npte run --net=slirp". libslirp does not check
 * the source address of what the TAP device sends (only the destination
 * matters to it: 10.0.2.2 is the host's loopback, 10.0.2.3 its DNS
 * forwarder); it answers to the source and finds its Ethernet address by
 * ARP, asking from 10.0.2.2. Proxy ARP on the TAP device answers for every
 * address the infrastructure namespace routes elsewhere — the members — so
 * the answers come back through it and are routed to the bridge. No address
 * translation is needed, and none is available without nftables.
 *
 * Isolation: forwarding is enabled per device, on the TAP device and the
 * bridges of --outbound networks only, so the members of other networks can
 * route nowhere. Traffic that comes in on an --outbound bridge looks up
 * NET_OUTBOUND_TABLE first, where every network's subnet is unreachable, so
 * it leaves only through slirp and never reaches another network's bridge.
 * Within a network the bridge switches frames and nothing is routed.
 */
#include "network-outbound.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <unistd.h>

#include "netlink.h"
#include "netns-ops.h"
#include "network-registry.h"
#include "npte-error.h"
#include "statedir.h"
#include "util.h"

/**
 * sysctl_set() - write @value to /proc/sys/net/ipv4/@key of the current network namespace
 * @key: "conf/tap0/forwarding"
 * @value: "1"
 * @error: error naming the setting
 *
 * /proc/sys/net shows the namespace of the process that opens it; its
 * owner (rootless: the keeper's user namespace) may write it.
 *
 * Return: TRUE on success.
 */
static gboolean
sysctl_set (const char *key, const char *value, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/sys/net/ipv4/%s", key);
  npte_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return npte_set_errno (error, errno, "set %s", path);
  if (!npte_write_all (fd, value, strlen (value), error))
    {
      g_prefix_error (error, "set %s: ", path);
      return FALSE;
    }
  return TRUE;
}

/**
 * ignore() - @ok, or TRUE when the error is @code (consumed)
 * @ok: the result
 * @local: (transfer full) (nullable) its error
 * @code: the errno that means "already so"
 * @code2: another one, or 0
 * @error: the error otherwise
 *
 * Return: TRUE when @ok or the error is one of the codes.
 */
static gboolean
ignore (gboolean ok, GError *local, int code, int code2, GError **error)
{
  if (ok)
    return TRUE;
  if (npte_error_code (local) == code || (code2 != 0 && npte_error_code (local) == code2))
    {
      g_error_free (local);
      return TRUE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

/**
 * unreachable_route() - add or delete "unreachable NET/PREFIX table NET_OUTBOUND_TABLE"
 * @add: add (an existing one is fine) or delete (a missing one is fine)
 * @net: network address
 * @prefix: prefix length
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
unreachable_route (gboolean add, guint32 net, guint prefix, GError **error)
{
  struct in_addr dst = { htonl (net) };
  const NetcfgRoute r = { .family = AF_INET, .dst = &dst, .dst_len = prefix,
                          .table = NET_OUTBOUND_TABLE, .type = RTN_UNREACHABLE };
  GError *local = NULL;
  gboolean ok = netcfg_route_change (add, &r, &local);

  return add ? ignore (ok, local, EEXIST, 0, error) : ignore (ok, local, ESRCH, ENOENT, error);
}

gboolean
net_outbound_bridge_up (const char *bridge, guint32 net, guint prefix, gboolean outbound,
                        GError **error)
{
  GError *local = NULL;
  g_autofree char *fwd = g_strdup_printf ("conf/%s/forwarding", bridge);

  if (!unreachable_route (TRUE, net, prefix, error))
    return FALSE;
  if (!outbound)
    return TRUE;
  gboolean ok = netcfg_rule_iif (TRUE, bridge, NET_OUTBOUND_TABLE, NET_OUTBOUND_RULE_PRIORITY,
                                 &local);
  return ignore (ok, local, EEXIST, 0, error) && sysctl_set (fwd, "1", error);
}

gboolean
net_outbound_bridge_down (const char *bridge, guint32 net, guint prefix, GError **error)
{
  GError *local = NULL;
  gboolean ok = netcfg_rule_iif (FALSE, bridge, NET_OUTBOUND_TABLE, NET_OUTBOUND_RULE_PRIORITY,
                                 &local);

  return ignore (ok, local, ENOENT, ESRCH, error) && unreachable_route (FALSE, net, prefix, error);
}

gboolean
net_outbound_member_route (const char *peer, guint32 gateway, GError **error)
{
  struct in_addr gw = { htonl (gateway) };
  const NetcfgRoute r = { .family = AF_INET, .gateway = &gw, .ifname = peer,
                          .metric = NET_OUTBOUND_METRIC, .append = TRUE };
  GError *local = NULL;
  gboolean ok = netcfg_route_change (TRUE, &r, &local);

  return ignore (ok, local, EEXIST, 0, error);
}

gboolean
net_outbound_slirp_link (GError **error)
{
  return sysctl_set ("conf/" NET_SLIRP_IFNAME "/forwarding", "1", error)
         && sysctl_set ("conf/" NET_SLIRP_IFNAME "/proxy_arp", "1", error)
         && sysctl_set ("neigh/" NET_SLIRP_IFNAME "/proxy_delay", "0", error);
}

gboolean
network_outbound_running (const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *state = netns_state_dir (p, infra);

  return statedir_is_running (state);
}

gboolean
network_outbound_start (const NetnsPaths *p, GError **error)
{
  g_autofree char *infra = net_infra_name (p);

  if (netns_ops_attach_start (p, infra, error))
    return TRUE;
  g_prefix_error (error, "cannot start the slirp of the --outbound networks: ");
  return FALSE;
}

void
network_outbound_stop (const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);

  netns_ops_attach_stop (p, infra);
}
