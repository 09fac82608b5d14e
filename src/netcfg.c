/* SPDX-License-Identifier: Apache-2.0 */
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "npte-error.h"

/**
 * v4_offset() - @net + @n as an IPv4 address
 * @net: network address
 * @n: host offset
 *
 * Return: the address.
 */
static struct in_addr
v4_offset (struct in_addr net, guint32 n)
{
  struct in_addr a = { .s_addr = htonl (ntohl (net.s_addr) + n) };
  return a;
}

/**
 * v6_offset() - @net with its last 32 bits set to @n
 * @net: prefix
 * @n: host part
 *
 * Return: the address.
 */
static struct in6_addr
v6_offset (const struct in6_addr *net, guint32 n)
{
  struct in6_addr a = *net;
  guint32 be;

  memcpy (&be, &net->s6_addr[12], 4);
  be = htonl (ntohl (be) + n);
  memcpy (&a.s6_addr[12], &be, 4);
  return a;
}

static void
derive_v4 (NetCfg *cfg)
{
  cfg->gateway = v4_offset (cfg->network, 2);
  cfg->dns = v4_offset (cfg->network, 3);
  cfg->dhcp_start = v4_offset (cfg->network, 15);
  cfg->guest = v4_offset (cfg->network, 100);
}

static void
derive_v6 (NetCfg *cfg)
{
  cfg->gateway6 = v6_offset (&cfg->network6, 2);
  cfg->dns6 = v6_offset (&cfg->network6, 3);
  cfg->guest6 = v6_offset (&cfg->network6, 0x100);
}

void
netcfg_init_defaults (NetCfg *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  g_strlcpy (cfg->ifname, "tap0", sizeof cfg->ifname);
  cfg->mtu = NETCFG_DEFAULT_MTU;
  inet_pton (AF_INET, "10.0.2.0", &cfg->network);
  cfg->prefix = 24;
  derive_v4 (cfg);
  inet_pton (AF_INET6, "fd00::", &cfg->network6);
  cfg->prefix6 = 64;
  derive_v6 (cfg);
}

/**
 * split_cidr() - "ADDR/N" into a copy of ADDR and N
 * @text: input
 * @addr: (out) newly allocated address text
 * @prefix: (out) N
 * @max: largest N accepted
 *
 * Return: TRUE if well formed.
 */
static gboolean
split_cidr (const char *text, char **addr, guint64 *prefix, guint max)
{
  const char *slash = strchr (text, '/');

  if (slash == NULL || slash == text)
    return FALSE;
  if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, max, prefix, NULL))
    return FALSE;
  *addr = g_strndup (text, (gsize) (slash - text));
  return TRUE;
}

gboolean
netcfg_set_cidr (NetCfg *cfg, const char *text, GError **error)
{
  g_autofree char *addr = NULL;
  guint64 prefix;
  struct in_addr net;

  if (!split_cidr (text, &addr, &prefix, 32) || inet_pton (AF_INET, addr, &net) != 1)
    return npte_set_error (error, EINVAL, "invalid --cidr \"%s\": expected A.B.C.D/N", text);
  if (prefix < 1 || prefix > 25)
    return npte_set_error (error, EINVAL,
                           "invalid --cidr \"%s\": the prefix length must be 1..25 so that the "
                           "namespace address (network + 100) fits",
                           text);
  guint32 mask = prefix == 0 ? 0 : htonl (~0u << (32 - prefix));
  if ((net.s_addr & ~mask) != 0)
    return npte_set_error (error, EINVAL, "invalid --cidr \"%s\": host bits are set (not a network "
                           "address)", text);
  cfg->network = net;
  cfg->prefix = (unsigned int) prefix;
  derive_v4 (cfg);
  return TRUE;
}

gboolean
netcfg_set_cidr6 (NetCfg *cfg, const char *text, GError **error)
{
  g_autofree char *addr = NULL;
  guint64 prefix;
  struct in6_addr net;

  if (!split_cidr (text, &addr, &prefix, 128) || inet_pton (AF_INET6, addr, &net) != 1)
    return npte_set_error (error, EINVAL, "invalid --cidr6 \"%s\": expected PREFIX/N", text);
  if (prefix < 8 || prefix > 120)
    return npte_set_error (error, EINVAL, "invalid --cidr6 \"%s\": the prefix length must be 8..120",
                           text);
  for (guint bit = (guint) prefix; bit < 128; bit++)
    if (net.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
      return npte_set_error (error, EINVAL,
                             "invalid --cidr6 \"%s\": host bits are set (not a prefix)", text);
  if (IN6_IS_ADDR_LOOPBACK (&net) || IN6_IS_ADDR_MULTICAST (&net) || IN6_IS_ADDR_UNSPECIFIED (&net))
    return npte_set_error (error, EINVAL, "invalid --cidr6 \"%s\": not a unicast prefix", text);
  cfg->network6 = net;
  cfg->prefix6 = (unsigned int) prefix;
  derive_v6 (cfg);
  return TRUE;
}

gboolean
netcfg_set_mtu (NetCfg *cfg, const char *text, GError **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, NETCFG_MTU_MIN, NETCFG_MTU_MAX, &v, NULL))
    return npte_set_error (error, EINVAL, "invalid --mtu \"%s\": must be %d..%d", text,
                           NETCFG_MTU_MIN, NETCFG_MTU_MAX);
  cfg->mtu = (unsigned int) v;
  return TRUE;
}

gboolean
netcfg_set_mac (NetCfg *cfg, const char *text, GError **error)
{
  unsigned int b[6];
  char tail;

  if (strlen (text) != 17
      || sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                 &tail) != 6)
    return npte_set_error (error, EINVAL, "invalid --mac \"%s\": expected xx:xx:xx:xx:xx:xx", text);
  for (int i = 0; i < 17; i++)
    if ((i % 3 == 2) != (text[i] == ':') || (i % 3 != 2 && !g_ascii_isxdigit (text[i])))
      return npte_set_error (error, EINVAL, "invalid --mac \"%s\": expected xx:xx:xx:xx:xx:xx",
                             text);
  if (b[0] & 1)
    return npte_set_error (error, EINVAL, "invalid --mac \"%s\": a multicast address", text);
  for (int i = 0; i < 6; i++)
    cfg->mac[i] = (guint8) b[i];
  cfg->has_mac = TRUE;
  return TRUE;
}

gboolean
netcfg_set_ifname (NetCfg *cfg, const char *text, GError **error)
{
  gsize len = strlen (text);

  if (len == 0 || len > NETCFG_IFNAME_MAX || strpbrk (text, "/: \t\n") != NULL
      || strcmp (text, ".") == 0 || strcmp (text, "..") == 0)
    return npte_set_error (error, EINVAL,
                           "invalid --ifname \"%s\": 1..15 characters, no '/', ':' or spaces",
                           text);
  g_strlcpy (cfg->ifname, text, sizeof cfg->ifname);
  return TRUE;
}

gboolean
netcfg_set_outbound (NetCfg *cfg, const char *text, gboolean v6, GError **error)
{
  if (v6)
    {
      memset (&cfg->outbound6, 0, sizeof cfg->outbound6);
      cfg->outbound6.sin6_family = AF_INET6;
      if (inet_pton (AF_INET6, text, &cfg->outbound6.sin6_addr) != 1)
        return npte_set_error (error, EINVAL, "invalid --outbound-addr6 \"%s\": not an IPv6 "
                               "address", text);
      cfg->has_outbound6 = TRUE;
      return TRUE;
    }
  memset (&cfg->outbound, 0, sizeof cfg->outbound);
  cfg->outbound.sin_family = AF_INET;
  if (inet_pton (AF_INET, text, &cfg->outbound.sin_addr) != 1)
    return npte_set_error (error, EINVAL, "invalid --outbound-addr \"%s\": not an IPv4 address",
                           text);
  cfg->has_outbound = TRUE;
  return TRUE;
}

char *
netcfg_format_ip (int family, const void *addr)
{
  char buf[INET6_ADDRSTRLEN];

  inet_ntop (family, addr, buf, sizeof buf);
  return g_strdup (buf);
}

void
netcfg_to_args (const NetCfg *cfg, GPtrArray *args)
{
  g_ptr_array_add (args, g_strdup ("--tap"));
  g_ptr_array_add (args, g_strdup (cfg->ifname));
  g_ptr_array_add (args, g_strdup ("--mtu"));
  g_ptr_array_add (args, g_strdup_printf ("%u", cfg->mtu));
  g_ptr_array_add (args, g_strdup ("--cidr"));
  g_autofree char *net = netcfg_format_ip (AF_INET, &cfg->network);
  g_ptr_array_add (args, g_strdup_printf ("%s/%u", net, cfg->prefix));
  if (cfg->ipv6)
    {
      g_autofree char *net6 = netcfg_format_ip (AF_INET6, &cfg->network6);
      g_ptr_array_add (args, g_strdup ("--cidr6"));
      g_ptr_array_add (args, g_strdup_printf ("%s/%u", net6, cfg->prefix6));
    }
  if (cfg->no_configure)
    {
      g_ptr_array_add (args, g_strdup ("--configure"));
      g_ptr_array_add (args, g_strdup ("no"));
    }
  if (cfg->has_mac)
    {
      g_ptr_array_add (args, g_strdup ("--mac"));
      g_ptr_array_add (args, g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x", cfg->mac[0],
                                              cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4],
                                              cfg->mac[5]));
    }
}

gboolean
netcfg_from_arg (NetCfg *cfg, const char *name, const char *value, GError **error)
{
  if (g_strcmp0 (name, "--tap") == 0)
    return netcfg_set_ifname (cfg, value, error);
  if (g_strcmp0 (name, "--mtu") == 0)
    return netcfg_set_mtu (cfg, value, error);
  if (g_strcmp0 (name, "--cidr") == 0)
    return netcfg_set_cidr (cfg, value, error);
  if (g_strcmp0 (name, "--cidr6") == 0)
    {
      cfg->ipv6 = TRUE;
      return netcfg_set_cidr6 (cfg, value, error);
    }
  if (g_strcmp0 (name, "--mac") == 0)
    return netcfg_set_mac (cfg, value, error);
  if (g_strcmp0 (name, "--configure") == 0 && (g_strcmp0 (value, "yes") == 0
                                               || g_strcmp0 (value, "no") == 0))
    {
      cfg->no_configure = g_strcmp0 (value, "no") == 0;
      return TRUE;
    }
  return npte_set_error (error, EINVAL, "unknown network option %s", name);
}
