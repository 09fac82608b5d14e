/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * A port spec is parsed from text (portspec-parse.c), or decoded from the
 * API's JSON, then validated here: portspec_validate() checks the proto,
 * addresses, ports and range, and rewrites the IPs in canonical form. An
 * IPv4-mapped IPv6 address ("::ffff:127.0.0.1") is canonicalised to the
 * IPv4 address, because that is what it reaches: conflicts, listen plans
 * and the loopback check then need no special case.
 *
 * A spec maps @count consecutive ports: parent_port + i <-> child_port + i.
 * A forward spec listens on the parent (host) side and dials the child
 * side; a reverse spec listens on the child (namespace) side and dials the
 * parent side. So in each direction one side may be 0 ("pick a free port",
 * only for a single port) and the dialled side must be a real port.
 *
 * Conflicts and listen plans (portspec-plan.c) work on the set of
 * addresses a listener covers, which models what the kernel refuses at
 * bind time.
 */
#include "portspec-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "npte-error.h"

/* Highest port number. */
#define MAX_PORT 65535

/*
 * Per proto: its name, transport, and the one address family it is
 * restricted to (0 = dual-stack).
 */
static const struct {
  const char *name;
  PortTransport transport;
  int family;
} protos[] = {
  [PORT_PROTO_INVALID] = { "", PORT_TRANSPORT_NONE, 0 },
  [PORT_PROTO_TCP] = { "tcp", PORT_TRANSPORT_TCP, 0 },
  [PORT_PROTO_TCP4] = { "tcp4", PORT_TRANSPORT_TCP, AF_INET },
  [PORT_PROTO_TCP6] = { "tcp6", PORT_TRANSPORT_TCP, AF_INET6 },
  [PORT_PROTO_UDP] = { "udp", PORT_TRANSPORT_UDP, 0 },
  [PORT_PROTO_UDP4] = { "udp4", PORT_TRANSPORT_UDP, AF_INET },
  [PORT_PROTO_UDP6] = { "udp6", PORT_TRANSPORT_UDP, AF_INET6 },
  [PORT_PROTO_SCTP] = { "sctp", PORT_TRANSPORT_SCTP, 0 },
  [PORT_PROTO_SCTP4] = { "sctp4", PORT_TRANSPORT_SCTP, AF_INET },
  [PORT_PROTO_SCTP6] = { "sctp6", PORT_TRANSPORT_SCTP, AF_INET6 },
};

/* proto_index() - @p as an index into protos[]; 0 (invalid) if out of range. */
static gsize
proto_index (PortProto p)
{
  if ((int) p <= PORT_PROTO_INVALID || (gsize) p >= G_N_ELEMENTS (protos))
    return PORT_PROTO_INVALID;
  return (gsize) p;
}

PortProto
portproto_from_string (const char *s)
{
  if (s == NULL)
    return PORT_PROTO_INVALID;
  for (gsize i = PORT_PROTO_INVALID + 1; i < G_N_ELEMENTS (protos); i++)
    if (strcmp (s, protos[i].name) == 0)
      return (PortProto) i;
  return PORT_PROTO_INVALID;
}

const char *
portproto_to_string (PortProto p)
{
  return protos[proto_index (p)].name;
}

PortTransport
portspec_proto_transport (PortProto p)
{
  return protos[proto_index (p)].transport;
}

int
portspec_proto_family (PortProto p)
{
  return protos[proto_index (p)].family;
}

gboolean
portproto_is_tcp (PortProto p)
{
  return portspec_proto_transport (p) == PORT_TRANSPORT_TCP;
}

gboolean
portproto_is_udp (PortProto p)
{
  return portspec_proto_transport (p) == PORT_TRANSPORT_UDP;
}

/*
 * portspec_count() - see portspec.h. Anything below 1 (0 = "not given", or
 * a negative count validation would refuse) is one port, so loops over a
 * range are never empty and never run wild on an unvalidated spec.
 */
int
portspec_count (const PortSpec *spec)
{
  return spec->count > 1 ? spec->count : 1;
}

char *
portspec_quote (const char *s, gsize len)
{
  g_autofree char *raw = g_strndup (s, MIN (len, PORTSPEC_QUOTE_MAX));
  g_autofree char *escaped = g_strescape (raw, NULL);

  return g_strdup_printf ("\"%s%s\"", escaped, len > PORTSPEC_QUOTE_MAX ? "..." : "");
}

gboolean
portspec_ip_parse (const char *buf, PortIp *out)
{
  gsize len = strnlen (buf, PORTSPEC_IP_MAX);
  char text[PORTSPEC_IP_MAX];

  memset (out, 0, sizeof *out);
  if (len == PORTSPEC_IP_MAX)
    return FALSE;
  if (len == 0)
    return TRUE;
  if (buf[0] == '[')
    {
      if (len < 3 || buf[len - 1] != ']')
        return FALSE;
      buf++;
      len -= 2;
    }
  memcpy (text, buf, len);
  text[len] = '\0';
  if (inet_pton (AF_INET, text, &out->u.v4) == 1)
    out->family = AF_INET;
  else if (inet_pton (AF_INET6, text, &out->u.v6) == 1)
    out->family = AF_INET6;
  else
    return FALSE;
  if (out->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&out->u.v6))
    {
      struct in_addr v4;

      memcpy (&v4, &out->u.v6.s6_addr[12], sizeof v4);
      out->family = AF_INET;
      out->u.v4 = v4;
    }
  return TRUE;
}

void
portspec_ip_or_empty (const char *buf, PortIp *out)
{
  if (!portspec_ip_parse (buf, out))
    memset (out, 0, sizeof *out);
}

void
portspec_ip_format (const PortIp *ip, char buf[PORTSPEC_IP_MAX])
{
  buf[0] = '\0';
  if (ip->family != 0)
    inet_ntop (ip->family, &ip->u, buf, PORTSPEC_IP_MAX);
}

gboolean
portspec_ip_is_loopback (const PortIp *ip)
{
  if (ip->family == AF_INET)
    return (ntohl (ip->u.v4.s_addr) >> 24) == 127;
  return ip->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK (&ip->u.v6);
}

gboolean
portspec_ip_is_wildcard (const PortIp *ip)
{
  if (ip->family == AF_INET)
    return ip->u.v4.s_addr == htonl (INADDR_ANY);
  if (ip->family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED (&ip->u.v6);
  return TRUE;
}

gboolean
portspec_ip_equal (const PortIp *a, const PortIp *b)
{
  if (a->family != b->family || a->family == 0)
    return FALSE;
  if (a->family == AF_INET)
    return a->u.v4.s_addr == b->u.v4.s_addr;
  return IN6_ARE_ADDR_EQUAL (&a->u.v6, &b->u.v6);
}

void
portspec_ip_loopback (int family, PortIp *out)
{
  memset (out, 0, sizeof *out);
  out->family = family == AF_INET6 ? AF_INET6 : AF_INET;
  if (out->family == AF_INET6)
    out->u.v6 = in6addr_loopback;
  else
    out->u.v4.s_addr = htonl (INADDR_LOOPBACK);
}

void
portspec_append_ports (GString *s, int port, int count)
{
  if (count > 1)
    g_string_append_printf (s, "%d-%d", port, port + count - 1);
  else
    g_string_append_printf (s, "%d", port);
}

/**
 * check_family() - the listening side's IP agrees with a *4 or *6 proto
 * @spec: the spec
 * @ip: the parsed IP of the side that listens (ParentIP forward, ChildIP reverse)
 * @label: "ParentIP" or "ChildIP"
 * @error: EINVAL
 *
 * Return: TRUE if they agree (or the IP is "").
 */
static gboolean
check_family (const PortSpec *spec, const PortIp *ip, const char *label, GError **error)
{
  int family = portspec_proto_family (spec->proto);
  const char *name = portproto_to_string (spec->proto);
  int base = (int) strlen (name) - 1; /* "tcp" of "tcp4" */
  char text[PORTSPEC_IP_MAX];

  if (family == 0 || ip->family == 0 || ip->family == family)
    return TRUE;
  portspec_ip_format (ip, text);
  if (family == AF_INET)
    return npte_set_error (error, EINVAL,
                           "invalid %s \"%s\" for proto %s: an IPv6 address with an "
                           "IPv4-only proto (use %.*s or %.*s6)",
                           label, text, name, base, name, base, name);
  return npte_set_error (error, EINVAL,
                         "invalid %s \"%s\" for proto %s: an IPv4 address with an "
                         "IPv6-only proto (use %.*s or %.*s4)",
                         label, text, name, base, name, base, name);
}

/**
 * check_ip() - parse one IP of a spec for validation
 * @buf: the spec's field
 * @label: "ParentIP" or "ChildIP"
 * @out: (out) the address
 * @error: EINVAL `invalid ParentIP: "X"`
 *
 * Return: TRUE if valid.
 */
static gboolean
check_ip (const char *buf, const char *label, PortIp *out, GError **error)
{
  if (!portspec_ip_parse (buf, out))
    {
      g_autofree char *q = portspec_quote (buf, strnlen (buf, PORTSPEC_IP_MAX));
      return npte_set_error (error, EINVAL, "invalid %s: %s", label, q);
    }
  return TRUE;
}

/**
 * check_port() - one side's port and range
 * @port: its first port
 * @count: the spec's count (1..PORTSPEC_MAX_COUNT)
 * @may_be_auto: whether this side listens, so 0 means "pick a free port"
 * @label: "ParentPort" or "ChildPort"
 * @error: EINVAL "invalid ParentPort: N", or "invalid ParentPort range: A-B ..."
 *
 * Return: TRUE if valid.
 */
static gboolean
check_port (int port, int count, gboolean may_be_auto, const char *label, GError **error)
{
  if (port < (may_be_auto ? 0 : 1) || port > MAX_PORT)
    return npte_set_error (error, EINVAL, "invalid %s: %d", label, port);
  if (port == 0 && count > 1)
    return npte_set_error (error, EINVAL,
                           "invalid %s range: 0-%d (port 0 picks one free port; a range needs "
                           "its first port)", label, count - 1);
  if (port > MAX_PORT - (count - 1))
    return npte_set_error (error, EINVAL, "invalid %s range: %d-%d (ports end at 65535)", label,
                           port, port + count - 1);
  return TRUE;
}

/**
 * check_ports() - count, then ParentPort, then ChildPort
 * @spec: the spec
 * @error: EINVAL
 *
 * Forward: the parent side listens (0 = auto), the child port is dialled.
 * Reverse: the child side listens (0 = auto), the parent port is dialled.
 *
 * Return: TRUE if valid.
 */
static gboolean
check_ports (const PortSpec *spec, GError **error)
{
  int count = portspec_count (spec);

  if (spec->count < 0 || spec->count > PORTSPEC_MAX_COUNT)
    return npte_set_error (error, EINVAL, "invalid PortCount: %d (1-%d)", spec->count,
                           PORTSPEC_MAX_COUNT);
  if (spec->reverse && spec->parent_port == 0)
    return npte_set_error (error, EINVAL,
                           "invalid ParentPort: 0 (a reverse port connects to this host port, "
                           "so it must be given)");
  return check_port (spec->parent_port, count, !spec->reverse, "ParentPort", error)
         && check_port (spec->child_port, count, spec->reverse, "ChildPort", error);
}

/**
 * check_reverse_target() - the host address a reverse spec connects to
 * @ip: its parsed ParentIP
 * @error: EINVAL for a wildcard
 *
 * "" is the default (loopback); 0.0.0.0 and :: are no address to connect to.
 *
 * Return: TRUE if valid.
 */
static gboolean
check_reverse_target (const PortIp *ip, GError **error)
{
  char text[PORTSPEC_IP_MAX];

  if (ip->family == 0 || !portspec_ip_is_wildcard (ip))
    return TRUE;
  portspec_ip_format (ip, text);
  return npte_set_error (error, EINVAL,
                         "invalid ParentIP \"%s\" for a reverse port: it is the host address to "
                         "connect to, so it cannot be a wildcard (leave it out for loopback)",
                         text);
}

/*
 * portspec_validate() - see portspec.h. The checks run in rootlesskit's
 * order (proto, ParentIP, ChildIP, ParentPort, ChildPort; the count just
 * before the ports), then sctp, then the family rule on the listening
 * side, then the reverse target. @spec is only rewritten when it is valid:
 * canonical IPs, and count 0 becomes 1.
 */
gboolean
portspec_validate (PortSpec *spec, GError **error)
{
  PortIp parent, child;
  const char *name = portproto_to_string (spec->proto);

  if (*name == '\0')
    {
      if (spec->proto == PORT_PROTO_INVALID)
        return npte_set_error (error, EINVAL, "unknown proto: \"\"");
      return npte_set_error (error, EINVAL, "unknown proto: \"%d\"", (int) spec->proto);
    }
  if (!check_ip (spec->parent_ip, "ParentIP", &parent, error)
      || !check_ip (spec->child_ip, "ChildIP", &child, error) || !check_ports (spec, error))
    return FALSE;
  if (portspec_proto_transport (spec->proto) == PORT_TRANSPORT_SCTP)
    return npte_set_error (error, EPROTONOSUPPORT, "unsupported port protocol %s", name);
  if (spec->reverse)
    {
      if (!check_family (spec, &child, "ChildIP", error) || !check_reverse_target (&parent, error))
        return FALSE;
    }
  else if (!check_family (spec, &parent, "ParentIP", error))
    return FALSE;
  portspec_ip_format (&parent, spec->parent_ip);
  portspec_ip_format (&child, spec->child_ip);
  spec->count = portspec_count (spec);
  spec->reverse = spec->reverse != FALSE;
  return TRUE;
}

/* append_ip() - @ip to @s, in brackets if it has a ':', then ':'; nothing for "". */
static void
append_ip (GString *s, const char *ip)
{
  int len = (int) strnlen (ip, PORTSPEC_IP_MAX);

  if (len == 0)
    return;
  if (memchr (ip, ':', (gsize) len) != NULL)
    g_string_append_printf (s, "[%.*s]:", len, ip);
  else
    g_string_append_printf (s, "%.*s:", len, ip);
}

/*
 * portspec_format() - see portspec.h. An empty ParentIP is left out
 * ("8080:80/tcp"), a range is written A-B on both sides, and
 * portspec_parse() reads the text back as the same spec. The direction is
 * not part of the text (the CLI's --reverse and the API's "direction" carry
 * it).
 */
char *
portspec_format (const PortSpec *spec)
{
  GString *s = g_string_new (NULL);
  int count = portspec_count (spec);

  append_ip (s, spec->parent_ip);
  portspec_append_ports (s, spec->parent_port, count);
  g_string_append_c (s, ':');
  append_ip (s, spec->child_ip);
  portspec_append_ports (s, spec->child_port, count);
  g_string_append_printf (s, "/%s", portproto_to_string (spec->proto));
  return g_string_free (s, FALSE);
}
