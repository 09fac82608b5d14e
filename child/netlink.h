/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETLINK_H
#define NPTE_NETLINK_H

#include <glib.h>

/*
 * Network configuration over rtnetlink with libmnl, in the namespace of the
 * calling process. No `ip` binary, no ioctls.
 */

/**
 * netcfg_link_up() - set IFF_UP on the link named @ifname
 * @ifname: e.g. "lo"
 * @error: error naming the link
 *
 * Return: TRUE on success.
 */
gboolean netcfg_link_up (const char *ifname, GError **error);

#endif /* NPTE_NETLINK_H */
