/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_TAP_H
#define NPTE_TAP_H

#include <glib.h>

#include "netcfg.h"

/**
 * tap_setup() - create and configure the TAP device of the slirp network
 * @cfg: addressing (the child's view: ifname, MTU, MAC, addresses, routes)
 * @error: error; a /dev/net/tun permission problem says how to fix it
 *
 * Creates @cfg->ifname in the current network namespace, sets MTU and MAC,
 * brings it up, adds the namespace addresses (.100, and ::100 with IPv6)
 * and default routes via the gateway, all over netlink. With
 * @cfg->no_configure it only creates (or attaches to) the device.
 *
 * Return: the TAP fd (non-blocking), or -1.
 */
int tap_setup (const NetCfg *cfg, GError **error);

/**
 * tap_bind_resolv_conf() - bind-mount @path over /etc/resolv.conf
 * @path: a resolv.conf naming the slirp DNS address
 * @error: error on failure
 *
 * Only in the child's own mount namespace.
 *
 * Return: TRUE on success.
 */
gboolean tap_bind_resolv_conf (const char *path, GError **error);

#endif /* NPTE_TAP_H */
