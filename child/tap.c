/* SPDX-License-Identifier: Apache-2.0 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "netlink.h"
#include "npte-error.h"
#include "util.h"

/**
 * tap_open() - open /dev/net/tun and create the TAP link @ifname
 * @ifname: link name
 * @error: error on failure
 *
 * Return: the fd or -1.
 */
static int
tap_open (const char *ifname, GError **error)
{
  struct ifreq ifr;
  npte_autofd int fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == EACCES || errsv == EPERM)
        npte_set_errno (error, errsv,
                        "cannot open /dev/net/tun (rootless use needs it mode 0666: run "
                        "'chmod 0666 /dev/net/tun' as root)");
      else
        npte_set_errno (error, errsv, "cannot open /dev/net/tun");
      return -1;
    }
  memset (&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, ifname, sizeof ifr.ifr_name);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      npte_set_errno (error, errno, "create TAP device %s", ifname);
      return -1;
    }
  return npte_steal_fd (&fd);
}

int
tap_setup (const NetCfg *cfg, GError **error)
{
  npte_autofd int fd = tap_open (cfg->ifname, error);

  if (fd < 0)
    return -1;
  if (cfg->no_configure)
    return npte_steal_fd (&fd);
  if (!netcfg_link_set (cfg->ifname, cfg->mtu, cfg->has_mac ? cfg->mac : NULL, error)
      || !netcfg_link_up (cfg->ifname, error)
      || !netcfg_addr_add (cfg->ifname, AF_INET, &cfg->guest, cfg->prefix, error)
      || !netcfg_route_add_default (cfg->ifname, AF_INET, &cfg->gateway, error))
    return -1;
  if (cfg->ipv6
      && (!netcfg_addr_add (cfg->ifname, AF_INET6, &cfg->guest6, cfg->prefix6, error)
          || !netcfg_route_add_default (cfg->ifname, AF_INET6, &cfg->gateway6, error)))
    return -1;
  return npte_steal_fd (&fd);
}

gboolean
tap_bind_resolv_conf (const char *path, GError **error)
{
  if (mount (path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
    return npte_set_errno (error, errno, "bind-mount %s on /etc/resolv.conf", path);
  return TRUE;
}
