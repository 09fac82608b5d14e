/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_SRCROUTE_H
#define NPTE_SRCROUTE_H

#include <glib.h>

/**
 * srcroute_setup() - let replies to preserved client addresses come back locally
 * @error: error when the kernel refuses (then addresses are not preserved)
 *
 * In the current (namespace's) network namespace, over netlink:
 *   rule  from 127.0.0.0/8 lookup 100       route local default dev lo table 100
 *   rule  from ::1/128 lookup 100           route local ::/0 dev lo table 100
 * A server bound to loopback that answers a client address the parent bound
 * with IP_TRANSPARENT then has its replies delivered locally, to the
 * parent's socket, instead of being routed away. Only packets with a
 * loopback source are affected; those could never leave the namespace.
 * IPv6 is best effort (skipped when the namespace has IPv6 disabled).
 *
 * Return: TRUE when the IPv4 part is in place.
 */
gboolean srcroute_setup (GError **error);

/* The routing table srcroute_setup() uses. */
#define SRCROUTE_TABLE 100

#endif /* NPTE_SRCROUTE_H */
