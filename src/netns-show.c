/* SPDX-License-Identifier: Apache-2.0 */
#include "netns-show.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

void
netns_json_string (GString *out, const char *s)
{
  g_autofree char *fixed = NULL;

  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  if (!g_utf8_validate (s, -1, NULL))
    {
      fixed = g_utf8_make_valid (s, -1);
      s = fixed;
    }
  g_string_append_c (out, '"');
  for (const unsigned char *c = (const unsigned char *) s; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (out, "\\%c", *c);
      else if (*c < 0x20 || *c == 0x7f)
        g_string_append_printf (out, "\\u%04x", *c);
      else
        g_string_append_c (out, (char) *c);
    }
  g_string_append_c (out, '"');
}

/* A name from a table, or the number. */
typedef struct {
  unsigned int value;
  const char *name;
} NameOf;

/**
 * name_of() - look @value up in @table
 * @table: entries
 * @n: their number
 * @value: the value
 * @buf: room for the number when it is not in @table
 * @size: size of @buf
 *
 * Return: the name (static or @buf).
 */
static const char *
name_of (const NameOf *table, gsize n, unsigned int value, char *buf, gsize size)
{
  for (gsize i = 0; i < n; i++)
    if (table[i].value == value)
      return table[i].name;
  g_snprintf (buf, size, "%u", value);
  return buf;
}

static const NameOf protocols[] = {
  { RTPROT_UNSPEC, "unspec" }, { RTPROT_REDIRECT, "redirect" }, { RTPROT_KERNEL, "kernel" },
  { RTPROT_BOOT, "boot" },     { RTPROT_STATIC, "static" },     { RTPROT_RA, "ra" },
  { RTPROT_DHCP, "dhcp" },
};
static const NameOf scopes[] = {
  { RT_SCOPE_UNIVERSE, "universe" }, { RT_SCOPE_SITE, "site" }, { RT_SCOPE_LINK, "link" },
  { RT_SCOPE_HOST, "host" },         { RT_SCOPE_NOWHERE, "nowhere" },
};
static const NameOf types[] = {
  { RTN_UNICAST, "unicast" },         { RTN_LOCAL, "local" },       { RTN_BROADCAST, "broadcast" },
  { RTN_ANYCAST, "anycast" },         { RTN_MULTICAST, "multicast" }, { RTN_BLACKHOLE, "blackhole" },
  { RTN_UNREACHABLE, "unreachable" }, { RTN_PROHIBIT, "prohibit" },
};
static const NameOf operstates[] = {
  { IF_OPER_UNKNOWN, "unknown" }, { IF_OPER_NOTPRESENT, "notpresent" }, { IF_OPER_DOWN, "down" },
  { IF_OPER_LOWERLAYERDOWN, "lowerlayerdown" }, { IF_OPER_TESTING, "testing" },
  { IF_OPER_DORMANT, "dormant" }, { IF_OPER_UP, "up" },
};
static const NameOf nud_states[] = {
  { NUD_INCOMPLETE, "incomplete" }, { NUD_REACHABLE, "reachable" }, { NUD_STALE, "stale" },
  { NUD_DELAY, "delay" },           { NUD_PROBE, "probe" },         { NUD_FAILED, "failed" },
  { NUD_NOARP, "noarp" },           { NUD_PERMANENT, "permanent" }, { NUD_NONE, "none" },
};

#define NAME_OF(table, value, buf) \
  name_of ((table), G_N_ELEMENTS (table), (value), (buf), sizeof (buf))

/* format_ip() - (transfer full) the address text of @family. */
static char *
format_ip (int family, const guint8 *addr)
{
  char text[INET6_ADDRSTRLEN] = "";

  inet_ntop (family, addr, text, sizeof text);
  return g_strdup (text);
}

/* format_hw() - (transfer full) "aa:bb:..." of @len bytes, or NULL for none. */
static char *
format_hw (const guint8 *addr, unsigned int len)
{
  GString *s;

  if (len == 0)
    return NULL;
  s = g_string_new (NULL);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (s, "%s%02x", i > 0 ? ":" : "", addr[i]);
  return g_string_free (s, FALSE);
}

/* dev_name() - the name of link @index, "?" when the dump does not know it. */
static const char *
dev_name (const NetcfgDump *d, int index)
{
  const char *name = netcfg_link_name (d, index);

  return name != NULL ? name : "?";
}

static const char *
family_name (int family)
{
  return family == AF_INET6 ? "inet6" : "inet";
}

/* A JSON object being written. */
typedef struct {
  GString *out;
  gboolean first;
} JObj;

static void
jkey (JObj *o, const char *key)
{
  g_string_append_printf (o->out, "%s\"%s\":", o->first ? "{" : ",", key);
  o->first = FALSE;
}

static void
jstr (JObj *o, const char *key, const char *value)
{
  jkey (o, key);
  netns_json_string (o->out, value);
}

static void
jint (JObj *o, const char *key, gint64 value)
{
  jkey (o, key);
  g_string_append_printf (o->out, "%" G_GINT64_FORMAT, value);
}

static void
jend (JObj *o)
{
  g_string_append (o->out, o->first ? "{}" : "}");
}

/**
 * json_links() - the "links" array
 * @d: dump
 * @out: output
 */
static void
json_links (const NetcfgDump *d, GString *out)
{
  char buf[16];

  for (guint i = 0; i < d->links->len; i++)
    {
      const NetcfgLinkInfo *l = &g_array_index (d->links, NetcfgLinkInfo, i);
      g_autofree char *mac = format_hw (l->addr, l->addr_len);
      JObj o = { out, TRUE };
      g_string_append (out, i > 0 ? "," : "");
      jint (&o, "index", l->index);
      jstr (&o, "name", l->name);
      jstr (&o, "kind", l->kind[0] != '\0' ? l->kind : NULL);
      jint (&o, "mtu", l->mtu);
      jkey (&o, "up");
      g_string_append (out, (l->flags & IFF_UP) ? "true" : "false");
      jstr (&o, "operstate", NAME_OF (operstates, l->operstate, buf));
      jstr (&o, "mac", mac);
      jstr (&o, "master", l->master > 0 ? netcfg_link_name (d, l->master) : NULL);
      jend (&o);
    }
}

/**
 * json_addrs() - the "addresses" array
 * @d: dump
 * @out: output
 */
static void
json_addrs (const NetcfgDump *d, GString *out)
{
  char buf[16];

  for (guint i = 0; i < d->addrs->len; i++)
    {
      const NetcfgAddrInfo *a = &g_array_index (d->addrs, NetcfgAddrInfo, i);
      g_autofree char *ip = format_ip (a->family, a->addr);
      JObj o = { out, TRUE };
      g_string_append (out, i > 0 ? "," : "");
      jstr (&o, "dev", netcfg_link_name (d, a->index));
      jstr (&o, "family", family_name (a->family));
      jstr (&o, "address", ip);
      jint (&o, "prefix", a->prefix);
      jstr (&o, "scope", NAME_OF (scopes, a->scope, buf));
      jend (&o);
    }
}

/* route_dst() - (transfer full) "default" or "ADDR/PREFIX". */
static char *
route_dst (const NetcfgRouteInfo *r)
{
  g_autofree char *ip = format_ip (r->family, r->dst);

  if (r->dst_len == 0)
    return g_strdup ("default");
  return g_strdup_printf ("%s/%u", ip, r->dst_len);
}

/**
 * json_routes() - the "routes" array
 * @d: dump
 * @out: output
 */
static void
json_routes (const NetcfgDump *d, GString *out)
{
  char b1[16], b2[16], b3[16];

  for (guint i = 0; i < d->routes->len; i++)
    {
      const NetcfgRouteInfo *r = &g_array_index (d->routes, NetcfgRouteInfo, i);
      g_autofree char *dst = route_dst (r);
      g_autofree char *gw = r->has_gateway ? format_ip (r->family, r->gateway) : NULL;
      JObj o = { out, TRUE };
      g_string_append (out, i > 0 ? "," : "");
      jstr (&o, "family", family_name (r->family));
      jstr (&o, "dst", dst);
      jstr (&o, "gateway", gw);
      jstr (&o, "dev", r->oif > 0 ? netcfg_link_name (d, r->oif) : NULL);
      jstr (&o, "protocol", NAME_OF (protocols, r->protocol, b1));
      jstr (&o, "scope", NAME_OF (scopes, r->scope, b2));
      jstr (&o, "type", NAME_OF (types, r->type, b3));
      jend (&o);
    }
}

/**
 * json_neighs() - the "neighbours" array
 * @d: dump
 * @out: output
 */
static void
json_neighs (const NetcfgDump *d, GString *out)
{
  char buf[16];

  for (guint i = 0; i < d->neighs->len; i++)
    {
      const NetcfgNeighInfo *n = &g_array_index (d->neighs, NetcfgNeighInfo, i);
      g_autofree char *ip = format_ip (n->family, n->dst);
      g_autofree char *ll = format_hw (n->lladdr, n->lladdr_len);
      JObj o = { out, TRUE };
      g_string_append (out, i > 0 ? "," : "");
      jstr (&o, "dev", netcfg_link_name (d, n->index));
      jstr (&o, "family", family_name (n->family));
      jstr (&o, "address", ip);
      jstr (&o, "lladdr", ll);
      jstr (&o, "state", NAME_OF (nud_states, n->state, buf));
      jend (&o);
    }
}

/**
 * text_links() - "links:" section
 * @d: dump
 * @out: output
 */
static void
text_links (const NetcfgDump *d, GString *out)
{
  char buf[16];

  g_string_append (out, "links:\n");
  for (guint i = 0; i < d->links->len; i++)
    {
      const NetcfgLinkInfo *l = &g_array_index (d->links, NetcfgLinkInfo, i);
      g_autofree char *mac = format_hw (l->addr, l->addr_len);
      const char *master = l->master > 0 ? netcfg_link_name (d, l->master) : NULL;
      g_string_append_printf (out, "  %d: %s", l->index, l->name);
      if (l->kind[0] != '\0')
        g_string_append_printf (out, " (%s)", l->kind);
      g_string_append_printf (out, " %s mtu %u state %s", (l->flags & IFF_UP) ? "UP" : "DOWN",
                              l->mtu, NAME_OF (operstates, l->operstate, buf));
      if (master != NULL)
        g_string_append_printf (out, " master %s", master);
      if (mac != NULL)
        g_string_append_printf (out, " lladdr %s", mac);
      g_string_append_c (out, '\n');
    }
}

/**
 * text_rest() - "addresses:", "routes:" and "neighbours:" sections
 * @d: dump
 * @out: output
 */
static void
text_rest (const NetcfgDump *d, GString *out)
{
  char b1[16], b2[16];

  g_string_append (out, "addresses:\n");
  for (guint i = 0; i < d->addrs->len; i++)
    {
      const NetcfgAddrInfo *a = &g_array_index (d->addrs, NetcfgAddrInfo, i);
      g_autofree char *ip = format_ip (a->family, a->addr);
      g_string_append_printf (out, "  %s %s %s/%u scope %s\n", dev_name (d, a->index),
                              family_name (a->family), ip, a->prefix,
                              NAME_OF (scopes, a->scope, b1));
    }
  g_string_append (out, "routes:\n");
  for (guint i = 0; i < d->routes->len; i++)
    {
      const NetcfgRouteInfo *r = &g_array_index (d->routes, NetcfgRouteInfo, i);
      g_autofree char *dst = route_dst (r);
      g_autofree char *gw = r->has_gateway ? format_ip (r->family, r->gateway) : NULL;
      const char *dev = r->oif > 0 ? dev_name (d, r->oif) : NULL;
      g_string_append_printf (out, "  %s%s%s%s%s proto %s scope %s\n", dst, gw ? " via " : "",
                              gw ? gw : "", dev ? " dev " : "", dev ? dev : "",
                              NAME_OF (protocols, r->protocol, b1), NAME_OF (scopes, r->scope, b2));
    }
  g_string_append (out, "neighbours:\n");
  for (guint i = 0; i < d->neighs->len; i++)
    {
      const NetcfgNeighInfo *n = &g_array_index (d->neighs, NetcfgNeighInfo, i);
      g_autofree char *ip = format_ip (n->family, n->dst);
      g_autofree char *ll = format_hw (n->lladdr, n->lladdr_len);
      g_string_append_printf (out, "  %s dev %s%s%s %s\n", ip, dev_name (d, n->index),
                              ll ? " lladdr " : "", ll ? ll : "",
                              NAME_OF (nud_states, n->state, b1));
    }
}

char *
netns_show_render (const NetcfgDump *dump, gboolean json)
{
  GString *out = g_string_new (NULL);

  if (!json)
    {
      text_links (dump, out);
      text_rest (dump, out);
      return g_string_free (out, FALSE);
    }
  g_string_append (out, "{\"links\":[");
  json_links (dump, out);
  g_string_append (out, "],\"addresses\":[");
  json_addrs (dump, out);
  g_string_append (out, "],\"routes\":[");
  json_routes (dump, out);
  g_string_append (out, "],\"neighbours\":[");
  json_neighs (dump, out);
  g_string_append (out, "]}\n");
  return g_string_free (out, FALSE);
}
