/* SPDX-License-Identifier: Apache-2.0 */
#include "netns-cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"
#include "netns-registry.h"
#include "npte-error.h"

/* Words of one parse: a cursor over argv with error helpers. */
typedef struct {
  int argc;
  char **argv;
  int i;
} Words;

/* next_word() - the next word, or NULL at the end. */
static const char *
next_word (Words *w)
{
  return w->i < w->argc ? w->argv[w->i++] : NULL;
}

/**
 * need_word() - the next word, or a usage error naming what was expected
 * @w: cursor
 * @what: "IFNAME", "CIDR", ...
 * @error: EINVAL
 *
 * Return: the word, or NULL.
 */
static const char *
need_word (Words *w, const char *what, GError **error)
{
  const char *s = next_word (w);

  if (s == NULL)
    npte_set_error (error, EINVAL, "missing %s", what);
  return s;
}

/**
 * parse_ifname() - a link name: 1..15 characters, no '/', ':' or white space
 * @text: the word
 * @out: (out) buffer of 16 bytes
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_ifname (const char *text, char *out, GError **error)
{
  gsize len;

  if (text == NULL)
    return FALSE; /* need_word() said what is missing */
  len = strlen (text);
  if (len == 0 || len > 15 || strcmp (text, ".") == 0 || strcmp (text, "..") == 0)
    return npte_set_error (error, EINVAL, "invalid link name \"%s\": 1 to 15 characters", text);
  for (const char *c = text; *c != '\0'; c++)
    if (*c == '/' || *c == ':' || g_ascii_isspace (*c) || !g_ascii_isprint (*c))
      return npte_set_error (error, EINVAL, "invalid link name \"%s\": no '/', ':' or "
                             "white space", text);
  g_strlcpy (out, text, 16);
  return TRUE;
}

/**
 * parse_ip() - an IPv4 or IPv6 address with an optional /PREFIX
 * @text: "10.0.0.1/24", "fd00::1", ...
 * @addr: (out) 16 bytes
 * @family: (out) AF_INET or AF_INET6
 * @prefix: (out) the prefix, the full length when absent; NULL: no prefix allowed
 * @error: EINVAL naming @text
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_ip (const char *text, guint8 *addr, int *family, unsigned int *prefix, GError **error)
{
  g_autofree char *ip = g_strdup (text);
  char *slash = ip != NULL ? strchr (ip, '/') : NULL;
  guint64 plen = 0;

  if (ip == NULL)
    return FALSE; /* need_word() said what is missing */
  if (slash != NULL)
    *slash = '\0';
  memset (addr, 0, 16);
  if (inet_pton (AF_INET, ip, addr) == 1)
    *family = AF_INET;
  else if (inet_pton (AF_INET6, ip, addr) == 1)
    *family = AF_INET6;
  else
    return npte_set_error (error, EINVAL, "invalid IP address \"%s\"", text);
  unsigned int max = *family == AF_INET ? 32 : 128;
  if (slash != NULL
      && (prefix == NULL || !g_ascii_string_to_unsigned (slash + 1, 10, 0, max, &plen, NULL)))
    return npte_set_error (error, EINVAL, prefix == NULL ? "\"%s\": no /PREFIX here"
                                                         : "invalid prefix length in \"%s\"",
                           text);
  if (prefix != NULL)
    *prefix = slash != NULL ? (unsigned int) plen : max;
  return TRUE;
}

/**
 * parse_mac() - "aa:bb:cc:dd:ee:ff"
 * @text: the word
 * @mac: (out) 6 bytes
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_mac (const char *text, guint8 *mac, GError **error)
{
  unsigned int b[6];
  char end;

  if (strlen (text) != 17
      || sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                 &end) != 6)
    return npte_set_error (error, EINVAL, "invalid MAC address \"%s\" (aa:bb:cc:dd:ee:ff)",
                           text);
  for (int i = 0; i < 6; i++)
    mac[i] = (guint8) b[i];
  return TRUE;
}

/**
 * parse_ns() - a namespace name word
 * @text: the word (may be NULL)
 * @out: (out) 64-byte buffer
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_ns (const char *text, char *out, GError **error)
{
  if (text == NULL)
    return FALSE; /* need_word() said what is missing */
  if (!netns_name_valid (text, error))
    return FALSE;
  g_strlcpy (out, text, 64);
  return TRUE;
}

/* no_more() - a usage error unless every word was used. */
static gboolean
no_more (Words *w, GError **error)
{
  if (w->i < w->argc)
    return npte_set_error (error, EINVAL, "unexpected \"%s\"", w->argv[w->i]);
  return TRUE;
}

/**
 * parse_link_add() - "IFNAME type veth peer PEER [netns OTHER]" or "IFNAME type bridge"
 * @w: cursor after NAME
 * @op: change being filled
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_link_add (Words *w, NetnsCfgOp *op, GError **error)
{
  const char *s;

  if (!parse_ifname (need_word (w, "IFNAME", error), op->ifname, error))
    return FALSE;
  if ((s = need_word (w, "\"type veth\" or \"type bridge\"", error)) == NULL)
    return FALSE;
  if (strcmp (s, "type") != 0)
    return npte_set_error (error, EINVAL, "expected \"type veth\" or \"type bridge\"");
  if ((s = need_word (w, "link type (veth or bridge)", error)) == NULL)
    return FALSE;
  if (strcmp (s, "bridge") == 0)
    {
      op->kind = NETNS_CFG_LINK_ADD_BRIDGE;
      return no_more (w, error);
    }
  if (strcmp (s, "veth") != 0)
    return npte_set_error (error, EINVAL, "unsupported link type \"%s\" (veth or bridge)", s);
  op->kind = NETNS_CFG_LINK_ADD_VETH;
  s = next_word (w);
  if (s == NULL || strcmp (s, "peer") != 0)
    return npte_set_error (error, EINVAL, "a veth needs \"peer PEERNAME\"");
  if (!parse_ifname (need_word (w, "PEERNAME", error), op->peer, error))
    return FALSE;
  if ((s = next_word (w)) == NULL)
    return TRUE;
  if (strcmp (s, "netns") != 0)
    return npte_set_error (error, EINVAL, "unexpected \"%s\" (netns OTHER?)", s);
  if (!parse_ns (need_word (w, "OTHER", error), op->other_ns, error))
    return FALSE;
  if (strcmp (op->other_ns, op->ns) == 0)
    op->other_ns[0] = '\0';
  return no_more (w, error);
}

/**
 * parse_link_set() - "IFNAME up|down|mtu N|master BRIDGE|nomaster"
 * @w: cursor after NAME
 * @op: change being filled
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_link_set (Words *w, NetnsCfgOp *op, GError **error)
{
  const char *s;
  guint64 mtu;

  if (!parse_ifname (need_word (w, "IFNAME", error), op->ifname, error)
      || (s = need_word (w, "up, down, mtu N, master BRIDGE or nomaster", error)) == NULL)
    return FALSE;
  if (strcmp (s, "up") == 0)
    op->kind = NETNS_CFG_LINK_UP;
  else if (strcmp (s, "down") == 0)
    op->kind = NETNS_CFG_LINK_DOWN;
  else if (strcmp (s, "nomaster") == 0)
    op->kind = NETNS_CFG_LINK_NOMASTER;
  else if (strcmp (s, "master") == 0)
    {
      op->kind = NETNS_CFG_LINK_MASTER;
      if (!parse_ifname (need_word (w, "BRIDGE", error), op->peer, error))
        return FALSE;
    }
  else if (strcmp (s, "mtu") == 0)
    {
      op->kind = NETNS_CFG_LINK_MTU;
      if ((s = need_word (w, "MTU", error)) == NULL)
        return FALSE;
      if (!g_ascii_string_to_unsigned (s, 10, 68, 65535, &mtu, NULL))
        return npte_set_error (error, EINVAL, "invalid MTU \"%s\" (68..65535)", s);
      op->mtu = (unsigned int) mtu;
    }
  else
    return npte_set_error (error, EINVAL, "unknown link setting \"%s\" (up, down, mtu N, master "
                           "BRIDGE, nomaster)", s);
  return no_more (w, error);
}

/**
 * parse_link() - "link add|del|set NAME ..."
 * @w: cursor after "link"
 * @op: change being filled
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_link (Words *w, NetnsCfgOp *op, GError **error)
{
  const char *action = need_word (w, "action (add, del, set)", error);

  if (action == NULL || !parse_ns (need_word (w, "NAME", error), op->ns, error))
    return FALSE;
  if (strcmp (action, "add") == 0)
    return parse_link_add (w, op, error);
  if (strcmp (action, "set") == 0)
    return parse_link_set (w, op, error);
  if (strcmp (action, "del") == 0 || strcmp (action, "delete") == 0)
    {
      op->kind = NETNS_CFG_LINK_DEL;
      return parse_ifname (need_word (w, "IFNAME", error), op->ifname, error)
             && no_more (w, error);
    }
  return npte_set_error (error, EINVAL, "unknown link action \"%s\" (add, del, set)", action);
}

/**
 * parse_add_del() - "add" / "del" of addr, route, neigh
 * @w: cursor
 * @add: (out) TRUE for add
 * @op: change: its namespace is parsed too
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_add_del (Words *w, gboolean *add, NetnsCfgOp *op, GError **error)
{
  const char *action = need_word (w, "action (add or del)", error);

  if (action == NULL)
    return FALSE;
  if (strcmp (action, "add") == 0)
    *add = TRUE;
  else if (strcmp (action, "del") == 0 || strcmp (action, "delete") == 0)
    *add = FALSE;
  else
    return npte_set_error (error, EINVAL, "unknown action \"%s\" (add or del)", action);
  return parse_ns (need_word (w, "NAME", error), op->ns, error);
}

/**
 * parse_route() - "route add|del NAME DEST|default [via GW] [dev IFNAME]"
 * @w: cursor after "route"
 * @op: change being filled
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_route (Words *w, NetnsCfgOp *op, GError **error)
{
  gboolean add = FALSE;
  const char *dest, *s;
  int gw_family = 0;

  if (!parse_add_del (w, &add, op, error) || (dest = need_word (w, "DEST", error)) == NULL)
    return FALSE;
  op->kind = add ? NETNS_CFG_ROUTE_ADD : NETNS_CFG_ROUTE_DEL;
  if (strcmp (dest, "default") != 0 && !parse_ip (dest, op->addr, &op->family, &op->prefix, error))
    return FALSE;
  while ((s = next_word (w)) != NULL)
    {
      if (strcmp (s, "via") == 0 && !op->has_gw)
        {
          if (!parse_ip (need_word (w, "GW", error), op->gw, &gw_family, NULL, error))
            return FALSE;
          op->has_gw = TRUE;
        }
      else if (strcmp (s, "dev") == 0 && op->ifname[0] == '\0')
        {
          if (!parse_ifname (need_word (w, "IFNAME", error), op->ifname, error))
            return FALSE;
        }
      else
        return npte_set_error (error, EINVAL, "unexpected \"%s\" (via GW, dev IFNAME)", s);
    }
  if (op->family == 0)
    op->family = gw_family != 0 ? gw_family : AF_INET; /* "default" */
  if (op->has_gw && gw_family != op->family)
    return npte_set_error (error, EINVAL, "the gateway and %s are of different families", dest);
  if (add && !op->has_gw && op->ifname[0] == '\0')
    return npte_set_error (error, EINVAL, "a route needs \"via GW\" or \"dev IFNAME\"");
  return TRUE;
}

/**
 * parse_neigh() - "neigh add NAME IP lladdr MAC dev IFNAME" / "neigh del NAME IP dev IFNAME"
 * @w: cursor after "neigh"
 * @op: change being filled
 * @error: EINVAL
 *
 * Return: TRUE if valid.
 */
static gboolean
parse_neigh (Words *w, NetnsCfgOp *op, GError **error)
{
  gboolean add = FALSE;
  const char *s;

  if (!parse_add_del (w, &add, op, error)
      || !parse_ip (need_word (w, "IP", error), op->addr, &op->family, NULL, error))
    return FALSE;
  op->kind = add ? NETNS_CFG_NEIGH_ADD : NETNS_CFG_NEIGH_DEL;
  op->prefix = op->family == AF_INET ? 32 : 128;
  while ((s = next_word (w)) != NULL)
    {
      if (strcmp (s, "lladdr") == 0 && !op->has_mac)
        {
          if ((s = need_word (w, "MAC", error)) == NULL || !parse_mac (s, op->mac, error))
            return FALSE;
          op->has_mac = TRUE;
        }
      else if (strcmp (s, "dev") == 0 && op->ifname[0] == '\0')
        {
          if (!parse_ifname (need_word (w, "IFNAME", error), op->ifname, error))
            return FALSE;
        }
      else
        return npte_set_error (error, EINVAL, "unexpected \"%s\" (lladdr MAC, dev IFNAME)", s);
    }
  if (op->ifname[0] == '\0')
    return npte_set_error (error, EINVAL, "a neighbour needs \"dev IFNAME\"");
  if (add && !op->has_mac)
    return npte_set_error (error, EINVAL, "a static neighbour needs \"lladdr MAC\"");
  return TRUE;
}

gboolean
netns_cfg_parse (int argc, char **argv, NetnsCfgOp *op, GError **error)
{
  Words w = { argc, argv, 1 };
  gboolean add = FALSE;

  memset (op, 0, sizeof *op);
  if (argc < 1)
    return npte_set_error (error, EINVAL, "missing object (link, addr, route, neigh)");
  if (strcmp (argv[0], "link") == 0)
    return parse_link (&w, op, error);
  if (strcmp (argv[0], "route") == 0)
    return parse_route (&w, op, error);
  if (strcmp (argv[0], "neigh") == 0)
    return parse_neigh (&w, op, error);
  if (strcmp (argv[0], "addr") != 0 && strcmp (argv[0], "address") != 0)
    return npte_set_error (error, EINVAL, "unknown object \"%s\"", argv[0]);
  if (!parse_add_del (&w, &add, op, error)
      || !parse_ifname (need_word (&w, "IFNAME", error), op->ifname, error)
      || !parse_ip (need_word (&w, "ADDR[/PREFIX]", error), op->addr, &op->family, &op->prefix,
                    error))
    return FALSE;
  op->kind = add ? NETNS_CFG_ADDR_ADD : NETNS_CFG_ADDR_DEL;
  return no_more (&w, error);
}

/**
 * route_apply() - netcfg_route_change() for a route change
 * @op: the change
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
route_apply (const NetnsCfgOp *op, GError **error)
{
  const NetcfgRoute r = {
    .family = op->family,
    .dst = op->addr,
    .dst_len = op->prefix,
    .gateway = op->has_gw ? op->gw : NULL,
    .ifname = op->ifname[0] != '\0' ? op->ifname : NULL,
  };

  return netcfg_route_change (op->kind == NETNS_CFG_ROUTE_ADD, &r, error);
}

gboolean
netns_cfg_apply (const NetnsCfgOp *op, int other_fd, GError **error)
{
  switch (op->kind)
    {
    case NETNS_CFG_LINK_ADD_VETH:
      return netcfg_link_add_veth (op->ifname, op->peer, other_fd, error);
    case NETNS_CFG_LINK_ADD_BRIDGE:
      return netcfg_link_add_bridge (op->ifname, error);
    case NETNS_CFG_LINK_DEL:
      return netcfg_link_del (op->ifname, error);
    case NETNS_CFG_LINK_UP:
    case NETNS_CFG_LINK_DOWN:
      return netcfg_link_set_up (op->ifname, op->kind == NETNS_CFG_LINK_UP, error);
    case NETNS_CFG_LINK_MTU:
      return netcfg_link_set (op->ifname, op->mtu, NULL, error);
    case NETNS_CFG_LINK_MASTER:
    case NETNS_CFG_LINK_NOMASTER:
      return netcfg_link_set_master (op->ifname,
                                     op->kind == NETNS_CFG_LINK_MASTER ? op->peer : NULL, error);
    case NETNS_CFG_ADDR_ADD:
      return netcfg_addr_add (op->ifname, op->family, op->addr, op->prefix, error);
    case NETNS_CFG_ADDR_DEL:
      return netcfg_addr_del (op->ifname, op->family, op->addr, op->prefix, error);
    case NETNS_CFG_ROUTE_ADD:
    case NETNS_CFG_ROUTE_DEL:
      return route_apply (op, error);
    case NETNS_CFG_NEIGH_ADD:
    case NETNS_CFG_NEIGH_DEL:
      return netcfg_neigh_change (op->kind == NETNS_CFG_NEIGH_ADD, op->ifname, op->family,
                                  op->addr, op->has_mac ? op->mac : NULL, error);
    default:
      return npte_set_error (error, EINVAL, "unknown change %d", (int) op->kind);
    }
}

/**
 * format_ip() - "10.0.0.1" or with @prefix "10.0.0.0/24"
 * @op: the change (family)
 * @addr: 16 bytes
 * @prefix: prefix length, or -1 for none
 *
 * Return: (transfer full) the text.
 */
static char *
format_ip (const NetnsCfgOp *op, const guint8 *addr, int prefix)
{
  char text[INET6_ADDRSTRLEN] = "";

  inet_ntop (op->family, addr, text, sizeof text);
  if (prefix < 0)
    return g_strdup (text);
  return g_strdup_printf ("%s/%d", text, prefix);
}

/**
 * add_words() - append NULL-terminated words to @v
 * @v: argv being built
 * @first: first word, then more, NULL-terminated
 */
static void G_GNUC_NULL_TERMINATED
add_words (GPtrArray *v, const char *first, ...)
{
  va_list ap;

  va_start (ap, first);
  for (const char *s = first; s != NULL; s = va_arg (ap, const char *))
    g_ptr_array_add (v, g_strdup (s));
  va_end (ap);
}

/**
 * route_ip_args() - "ip -4|-6 route add|del DEST [via GW] [dev IF] [proto static]"
 * @op: the change
 * @v: argv being built
 */
static void
route_ip_args (const NetnsCfgOp *op, GPtrArray *v)
{
  gboolean add = op->kind == NETNS_CFG_ROUTE_ADD;
  g_autofree char *dst = op->prefix == 0 ? g_strdup ("default")
                                         : format_ip (op, op->addr, (int) op->prefix);

  add_words (v, op->family == AF_INET6 ? "-6" : "-4", "route", add ? "add" : "del", dst, NULL);
  if (op->has_gw)
    {
      g_autofree char *gw = format_ip (op, op->gw, -1);
      add_words (v, "via", gw, NULL);
    }
  if (op->ifname[0] != '\0')
    add_words (v, "dev", op->ifname, NULL);
  if (add)
    add_words (v, "proto", "static", NULL);
}

/**
 * link_ip_args() - the "ip link ..." words of a link change
 * @op: the change
 * @other_ref: peer namespace reference
 * @v: argv being built
 */
static void
link_ip_args (const NetnsCfgOp *op, const char *other_ref, GPtrArray *v)
{
  g_autofree char *mtu = g_strdup_printf ("%u", op->mtu);

  switch (op->kind)
    {
    case NETNS_CFG_LINK_ADD_VETH:
      add_words (v, "link", "add", op->ifname, "type", "veth", "peer", "name", op->peer, NULL);
      if (op->other_ns[0] != '\0')
        add_words (v, "netns", other_ref, NULL);
      break;
    case NETNS_CFG_LINK_ADD_BRIDGE:
      add_words (v, "link", "add", op->ifname, "type", "bridge", NULL);
      break;
    case NETNS_CFG_LINK_DEL: add_words (v, "link", "del", op->ifname, NULL); break;
    case NETNS_CFG_LINK_UP: add_words (v, "link", "set", op->ifname, "up", NULL); break;
    case NETNS_CFG_LINK_DOWN: add_words (v, "link", "set", op->ifname, "down", NULL); break;
    case NETNS_CFG_LINK_MTU: add_words (v, "link", "set", op->ifname, "mtu", mtu, NULL); break;
    case NETNS_CFG_LINK_MASTER:
      add_words (v, "link", "set", op->ifname, "master", op->peer, NULL);
      break;
    case NETNS_CFG_LINK_NOMASTER:
      add_words (v, "link", "set", op->ifname, "nomaster", NULL);
      break;
    case NETNS_CFG_ADDR_ADD:
    case NETNS_CFG_ADDR_DEL:
    case NETNS_CFG_ROUTE_ADD:
    case NETNS_CFG_ROUTE_DEL:
    case NETNS_CFG_NEIGH_ADD:
    case NETNS_CFG_NEIGH_DEL:
    default:
      break;
    }
}

char **
netns_cfg_ip_args (const NetnsCfgOp *op, const char *other_ref)
{
  GPtrArray *v = g_ptr_array_new ();
  g_autofree char *ip = format_ip (op, op->addr, -1);
  g_autofree char *cidr = format_ip (op, op->addr, (int) op->prefix);
  g_autofree char *mac = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x", op->mac[0],
                                          op->mac[1], op->mac[2], op->mac[3], op->mac[4],
                                          op->mac[5]);

  g_ptr_array_add (v, g_strdup ("ip"));
  switch (op->kind)
    {
    case NETNS_CFG_ADDR_ADD:
      add_words (v, "addr", "add", cidr, "dev", op->ifname, NULL);
      if (op->family == AF_INET6)
        add_words (v, "nodad", NULL);
      break;
    case NETNS_CFG_ADDR_DEL: add_words (v, "addr", "del", cidr, "dev", op->ifname, NULL); break;
    case NETNS_CFG_ROUTE_ADD:
    case NETNS_CFG_ROUTE_DEL:
      route_ip_args (op, v);
      break;
    case NETNS_CFG_NEIGH_ADD:
      add_words (v, "neigh", "add", ip, "lladdr", mac, "dev", op->ifname, NULL);
      break;
    case NETNS_CFG_NEIGH_DEL: add_words (v, "neigh", "del", ip, "dev", op->ifname, NULL); break;
    case NETNS_CFG_LINK_ADD_VETH:
    case NETNS_CFG_LINK_ADD_BRIDGE:
    case NETNS_CFG_LINK_DEL:
    case NETNS_CFG_LINK_UP:
    case NETNS_CFG_LINK_DOWN:
    case NETNS_CFG_LINK_MTU:
    case NETNS_CFG_LINK_MASTER:
    case NETNS_CFG_LINK_NOMASTER:
    default:
      link_ip_args (op, other_ref, v);
      break;
    }
  g_ptr_array_add (v, NULL);
  return (char **) g_ptr_array_free (v, FALSE);
}
