/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETWORK_OPS_H
#define NPTE_NETWORK_OPS_H

#include <glib.h>

#include "netns-registry.h"
#include "network-registry.h"

/*
 * The live side of "npte network" (docs/networks.md): one infrastructure
 * namespace (net_infra_name()) holds a bridge per network with the gateway
 * address; each member is a veth pair, one end on the bridge, the other in
 * the member namespace with the member's address. The work is done in
 * forked helpers (netns_ops_run_in()). Everything here runs under the
 * global lock; the index is the caller's.
 */

/**
 * network_ops_ensure_live() - rebuild the live state from @idx if it is gone
 * @p: paths
 * @idx: the index
 * @error: error when the infrastructure namespace cannot be made
 *
 * When @idx has networks and the infrastructure namespace is gone (the
 * keeper was killed or restarted, or root's binding was removed), it is
 * made again with every bridge; members whose namespaces went with the
 * keeper are revived (netns_ops_revive()), and every member gets its veth
 * and address back, and its hosts file. With an --outbound network, its
 * slirp is started again (also when only it had stopped). A member or a
 * slirp that cannot be restored is a warning. Rootless, the keeper is
 * started when none runs.
 *
 * Return: TRUE when the infrastructure namespace is there.
 */
gboolean network_ops_ensure_live (const NetnsPaths *p, const NetIndex *idx, GError **error);

/**
 * network_ops_create() - the bridge of @n, with its gateway address, up
 * @p: paths
 * @n: the network
 * @error: error
 *
 * The infrastructure namespace is made first when needed, and its slirp
 * started when @n is --outbound and it does not run.
 *
 * Return: TRUE on success.
 */
gboolean network_ops_create (const NetnsPaths *p, const Network *n, GError **error);

/**
 * network_ops_remove() - remove every member's veth and the bridge of @n
 * @p: paths
 * @n: the network
 * @last: no other network is left: remove the infrastructure namespace too
 *        (rootless, the keeper stops when it has nothing else)
 * @stop_slirp: no --outbound network is left: stop the slirp of the
 *              infrastructure namespace (always done with @last)
 * @error: error
 *
 * Return: TRUE on success (also when the infrastructure namespace is gone).
 */
gboolean network_ops_remove (const NetnsPaths *p, const Network *n, gboolean last,
                             gboolean stop_slirp, GError **error);

/**
 * network_ops_join() - the veth of member @workspace with address @ip, if not there yet
 * @p: paths
 * @n: the network
 * @workspace: managed namespace
 * @ip: its address
 * @error: error (a stale namespace, the kernel's ext-ack message)
 *
 * Return: TRUE on success.
 */
gboolean network_ops_join (const NetnsPaths *p, const Network *n, const char *workspace,
                           guint32 ip, GError **error);

/**
 * network_ops_leave() - remove the veth of the member with address @ip
 * @p: paths
 * @n: the network
 * @ip: the member's address
 * @error: error
 *
 * Return: TRUE on success (also when there is nothing to remove).
 */
gboolean network_ops_leave (const NetnsPaths *p, const Network *n, guint32 ip, GError **error);

/**
 * network_ops_write_hosts() - rewrite NAME.d/hosts of each of @workspaces from @idx
 * @p: paths
 * @idx: the index
 * @workspaces: names (repeats are fine); unmanaged ones are skipped
 *
 * The file is rewritten in place, so commands that "npte netns exec" started
 * earlier (which see it bound on /etc/hosts) see the change. A namespace in
 * no network any more loses the file. Failures are warnings.
 */
void network_ops_write_hosts (const NetnsPaths *p, const NetIndex *idx,
                              const GPtrArray *workspaces);

/**
 * network_leave_all() - "npte netns destroy" hook: @workspace leaves every network
 * @p: paths
 * @workspace: the namespace being destroyed
 * @error: a corrupt index (reported, left alone), or why the index cannot be written
 *
 * The caller holds the global lock. No index file: nothing to do.
 *
 * Return: TRUE on success.
 */
gboolean network_leave_all (const NetnsPaths *p, const char *workspace, GError **error);

#endif /* NPTE_NETWORK_OPS_H */
