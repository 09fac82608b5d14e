/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETCFG_H
#define NPTE_NETCFG_H

#include <glib.h>
#include <netinet/in.h>

/*
 * Addressing of the slirp network (--net=slirp), with slirp4netns'
 * defaults: 10.0.2.0/24, gateway .2, DNS .3, namespace address .100;
 * IPv6 fd00::/64 with ::2, ::3 and ::100. Pure functions, unit-tested.
 */

#define NETCFG_DEFAULT_MTU 65520
#define NETCFG_MTU_MIN 68
#define NETCFG_MTU_MAX 65521
#define NETCFG_IFNAME_MAX 15

typedef struct {
  char ifname[NETCFG_IFNAME_MAX + 1];
  unsigned int mtu;
  gboolean has_mac;
  guint8 mac[6];
  /* IPv4 */
  struct in_addr network;
  unsigned int prefix;
  struct in_addr gateway;   /* network + 2: the host as seen from the namespace */
  struct in_addr dns;       /* network + 3 */
  struct in_addr guest;     /* network + 100: the namespace's address */
  struct in_addr dhcp_start;/* network + 15 */
  /* IPv6 */
  gboolean ipv6;
  struct in6_addr network6;
  unsigned int prefix6;
  struct in6_addr gateway6;
  struct in6_addr dns6;
  struct in6_addr guest6;
  /* behaviour */
  gboolean no_configure;    /* TAP only: no MTU, MAC, address, route (slirp4netns without -c) */
  gboolean disable_host_loopback;
  gboolean disable_dns;
  gboolean has_outbound;
  struct sockaddr_in outbound;
  gboolean has_outbound6;
  struct sockaddr_in6 outbound6;
} NetCfg;

/* netcfg_init_defaults() - fill @cfg with the slirp4netns-compatible defaults. */
void netcfg_init_defaults (NetCfg *cfg);

/**
 * netcfg_set_cidr() - set the IPv4 network from "A.B.C.D/N"
 * @cfg: config (network, prefix and the derived addresses are updated)
 * @text: CIDR; N in 1..25 so that .100 fits; A.B.C.D must be the network address
 * @error: EINVAL naming the problem
 *
 * Return: TRUE on success.
 */
gboolean netcfg_set_cidr (NetCfg *cfg, const char *text, GError **error);

/**
 * netcfg_set_cidr6() - set the IPv6 prefix from "PREFIX/N" (N in 8..120)
 * @cfg: config (the derived ::2, ::3, ::100 are updated)
 * @text: CIDR6; the host bits must be zero
 * @error: EINVAL naming the problem
 *
 * Return: TRUE on success.
 */
gboolean netcfg_set_cidr6 (NetCfg *cfg, const char *text, GError **error);

/* netcfg_set_mtu() - parse and range-check (68..65521) an MTU. */
gboolean netcfg_set_mtu (NetCfg *cfg, const char *text, GError **error);

/* netcfg_set_mac() - parse "xx:xx:xx:xx:xx:xx" (unicast only). */
gboolean netcfg_set_mac (NetCfg *cfg, const char *text, GError **error);

/* netcfg_set_ifname() - a valid Linux interface name (1..15 chars, no '/', ':' or space). */
gboolean netcfg_set_ifname (NetCfg *cfg, const char *text, GError **error);

/* netcfg_set_outbound() - IPv4 (or, with @v6, IPv6) address outbound connections bind to. */
gboolean netcfg_set_outbound (NetCfg *cfg, const char *text, gboolean v6, GError **error);

/**
 * netcfg_to_args() - the child's command-line options for this config
 * @cfg: config
 * @args: array of g_free-able strings to append "--tap NAME --mtu N ..." to
 */
void netcfg_to_args (const NetCfg *cfg, GPtrArray *args);

/**
 * netcfg_from_arg() - apply one child option (from netcfg_to_args())
 * @cfg: config
 * @name: option name, e.g. "--tap"
 * @value: its value
 * @error: EINVAL for an unknown option or a bad value
 *
 * Return: TRUE on success.
 */
gboolean netcfg_from_arg (NetCfg *cfg, const char *name, const char *value, GError **error);

/* netcfg_format_ip() - (transfer full) text of an IPv4 or IPv6 address. */
char *netcfg_format_ip (int family, const void *addr);

#endif /* NPTE_NETCFG_H */
