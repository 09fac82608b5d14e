/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * A port spec is parsed in two steps. The text is first split into at most
 * four ':'-separated fields, where a field in brackets ("[::1]") may itself
 * contain ':'. The number of fields then decides which field is which:
 *
 *   2  PARENTPORT:CHILDPORT
 *   3  PARENTIP:PARENTPORT:CHILDPORT   (also ":PARENTPORT:CHILDPORT")
 *      PARENTPORT:CHILDIP:CHILDPORT    (first field a number, second not)
 *   4  PARENTIP:PARENTPORT:CHILDIP:CHILDPORT
 *
 * Parsing is syntactic only (ports are 1-5 digits, IP fields are taken as
 * text); portspec_validate() checks ranges and addresses and rewrites the
 * IPs in canonical form. An IPv4-mapped IPv6 address ("::ffff:127.0.0.1")
 * is canonicalised to the IPv4 address, because that is what it reaches:
 * conflicts, listen plans and the loopback check then need no special case.
 *
 * Conflicts and listen plans work on the set of addresses a listener covers
 * (see spec_coverage()), which models what the kernel refuses at bind time.
 */
#include "portspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "npte-error.h"

/* At most this many ':'-separated fields in a mapping. */
#define MAX_FIELDS 4
/* Longest port number, in digits. */
#define MAX_PORT_DIGITS 5
/* Longest piece of user text quoted in an error message. */
#define QUOTE_MAX 64

#define SPEC_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO], e.g. 8080:80/tcp"
#define MAPPING_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT, e.g. 8080:80"
#define IPV6_HINT " (IPv6 addresses go in brackets, e.g. [::1]:8080:80)"

/* The transport a proto binds; listeners of different transports never clash. */
typedef enum {
  TRANSPORT_NONE = 0,
  TRANSPORT_TCP,
  TRANSPORT_UDP,
  TRANSPORT_SCTP,
} Transport;

/*
 * Per proto: its name, transport, and the one address family it is
 * restricted to (0 = dual-stack).
 */
static const struct {
  const char *name;
  Transport transport;
  int family;
} protos[] = {
  [PORT_PROTO_INVALID] = { "", TRANSPORT_NONE, 0 },
  [PORT_PROTO_TCP] = { "tcp", TRANSPORT_TCP, 0 },
  [PORT_PROTO_TCP4] = { "tcp4", TRANSPORT_TCP, AF_INET },
  [PORT_PROTO_TCP6] = { "tcp6", TRANSPORT_TCP, AF_INET6 },
  [PORT_PROTO_UDP] = { "udp", TRANSPORT_UDP, 0 },
  [PORT_PROTO_UDP4] = { "udp4", TRANSPORT_UDP, AF_INET },
  [PORT_PROTO_UDP6] = { "udp6", TRANSPORT_UDP, AF_INET6 },
  [PORT_PROTO_SCTP] = { "sctp", TRANSPORT_SCTP, 0 },
  [PORT_PROTO_SCTP4] = { "sctp4", TRANSPORT_SCTP, AF_INET },
  [PORT_PROTO_SCTP6] = { "sctp6", TRANSPORT_SCTP, AF_INET6 },
};

/* A parsed IP; family 0 means "none given" (""). */
typedef struct {
  int family;
  union {
    struct in_addr v4;
    struct in6_addr v6;
  } u;
} IpAddr;

/* The addresses a listener covers: all of IPv4, all of IPv6, or one address. */
typedef struct {
  gboolean all4;
  gboolean all6;
  IpAddr one;
} Coverage;

/* One ':'-separated field of a mapping; @start is not NUL-terminated. */
typedef struct {
  const char *start;
  gsize len;
  gboolean bracketed;
} Field;

typedef enum {
  ROLE_PARENT_IP,
  ROLE_PARENT_PORT,
  ROLE_CHILD_IP,
  ROLE_CHILD_PORT,
} Role;

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

/* proto_transport() - the transport of @p; TRANSPORT_NONE if invalid. */
static Transport
proto_transport (PortProto p)
{
  return protos[proto_index (p)].transport;
}

/* proto_family() - AF_INET for the *4 protos, AF_INET6 for *6, else 0. */
static int
proto_family (PortProto p)
{
  return protos[proto_index (p)].family;
}

gboolean
portproto_is_tcp (PortProto p)
{
  return proto_transport (p) == TRANSPORT_TCP;
}

gboolean
portproto_is_udp (PortProto p)
{
  return proto_transport (p) == TRANSPORT_UDP;
}

/**
 * quote() - @s as a quoted, escaped and bounded string for an error message
 * @s: text, not necessarily NUL-terminated
 * @len: its length
 *
 * Return: (transfer full) "\"text\"", with "..." inside the quotes if cut.
 */
static char *
quote (const char *s, gsize len)
{
  g_autofree char *raw = g_strndup (s, MIN (len, QUOTE_MAX));
  g_autofree char *escaped = g_strescape (raw, NULL);

  return g_strdup_printf ("\"%s%s\"", escaped, len > QUOTE_MAX ? "..." : "");
}

/**
 * ip_parse() - parse an IP field of a spec
 * @buf: the field, NUL-terminated within PORTSPEC_IP_MAX bytes; "[...]" is
 *       accepted around the address
 * @out: (out) the address; family 0 for ""
 *
 * An IPv4-mapped IPv6 address is returned as the IPv4 address.
 *
 * Return: TRUE if @buf is empty or a valid address.
 */
static gboolean
ip_parse (const char *buf, IpAddr *out)
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

/**
 * ip_format() - canonical text of @ip
 * @ip: address; family 0 gives ""
 * @buf: (out) PORTSPEC_IP_MAX bytes
 */
static void
ip_format (const IpAddr *ip, char buf[PORTSPEC_IP_MAX])
{
  buf[0] = '\0';
  if (ip->family != 0)
    inet_ntop (ip->family, &ip->u, buf, PORTSPEC_IP_MAX);
}

/* ip_is_loopback() - TRUE for 127.0.0.0/8 and ::1. */
static gboolean
ip_is_loopback (const IpAddr *ip)
{
  if (ip->family == AF_INET)
    return (ntohl (ip->u.v4.s_addr) >> 24) == 127;
  return ip->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK (&ip->u.v6);
}

/* ip_is_wildcard() - TRUE for "", 0.0.0.0 and ::. */
static gboolean
ip_is_wildcard (const IpAddr *ip)
{
  if (ip->family == AF_INET)
    return ip->u.v4.s_addr == htonl (INADDR_ANY);
  if (ip->family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED (&ip->u.v6);
  return TRUE;
}

/* ip_equal() - TRUE if @a and @b are the same (non-empty) address. */
static gboolean
ip_equal (const IpAddr *a, const IpAddr *b)
{
  if (a->family != b->family || a->family == 0)
    return FALSE;
  if (a->family == AF_INET)
    return a->u.v4.s_addr == b->u.v4.s_addr;
  return IN6_ARE_ADDR_EQUAL (&a->u.v6, &b->u.v6);
}

/**
 * spec_parent_ip() - the parent IP of @spec, "" if it does not parse
 * @spec: the spec
 * @out: (out) the address
 *
 * Only unvalidated specs have a bad IP; treating it as "" keeps the
 * plan functions total.
 */
static void
spec_parent_ip (const PortSpec *spec, IpAddr *out)
{
  if (!ip_parse (spec->parent_ip, out))
    memset (out, 0, sizeof *out);
}

/**
 * spec_coverage() - the addresses the parent listener of @spec covers
 * @spec: a validated spec
 * @cov: (out) the coverage
 *
 * A wildcard ("", 0.0.0.0, ::) covers the families @spec's proto allows:
 * both for plain tcp/udp (one dual-stack socket), one for the *4 / *6
 * protos. A specific address covers itself.
 */
static void
spec_coverage (const PortSpec *spec, Coverage *cov)
{
  IpAddr ip;
  int family = proto_family (spec->proto);

  memset (cov, 0, sizeof *cov);
  spec_parent_ip (spec, &ip);
  if (ip_is_wildcard (&ip))
    {
      cov->all4 = family != AF_INET6;
      cov->all6 = family != AF_INET;
    }
  else
    cov->one = ip;
}

/* coverage_has() - TRUE if @cov covers the specific address @ip. */
static gboolean
coverage_has (const Coverage *cov, const IpAddr *ip)
{
  if (ip->family == AF_INET && cov->all4)
    return TRUE;
  if (ip->family == AF_INET6 && cov->all6)
    return TRUE;
  return ip_equal (&cov->one, ip);
}

gboolean
portspec_conflicts (const PortSpec *a, const PortSpec *b)
{
  Transport t = proto_transport (a->proto);
  Coverage ca, cb;

  /* Cheap tests first: porttable_check() calls this for every entry. */
  if (a->parent_port == 0 || a->parent_port != b->parent_port)
    return FALSE;
  if (t == TRANSPORT_NONE || t != proto_transport (b->proto))
    return FALSE;
  spec_coverage (a, &ca);
  spec_coverage (b, &cb);
  if ((ca.all4 && cb.all4) || (ca.all6 && cb.all6))
    return TRUE;
  if (ca.one.family != 0 && coverage_has (&cb, &ca.one))
    return TRUE;
  return cb.one.family != 0 && coverage_has (&ca, &cb.one);
}

/**
 * split_fields() - split a mapping into ':'-separated fields
 * @s: the mapping, NUL-terminated
 * @fields: (out) MAX_FIELDS fields
 * @n_fields: (out) how many were found (at least 1)
 * @error: EINVAL for bad brackets or too many fields
 *
 * Return: TRUE on success.
 */
static gboolean
split_fields (const char *s, Field *fields, guint *n_fields, GError **error)
{
  const char *p = s;
  guint n = 0;

  for (;;)
    {
      Field *f = &fields[n];

      if (n == MAX_FIELDS)
        return npte_set_error (error, EINVAL, "too many ':'-separated parts" IPV6_HINT);
      if (*p == '[')
        {
          const char *end = strchr (p + 1, ']');

          if (end == NULL)
            return npte_set_error (error, EINVAL, "'[' without a closing ']'");
          if (end == p + 1)
            return npte_set_error (error, EINVAL, "empty brackets \"[]\"");
          f->start = p + 1;
          f->len = (gsize) (end - p - 1);
          f->bracketed = TRUE;
          p = end + 1;
          if (*p != ':' && *p != '\0')
            {
              g_autofree char *q = quote (p, strlen (p));
              return npte_set_error (error, EINVAL, "unexpected %s after ']'", q);
            }
        }
      else
        {
          f->start = p;
          f->len = strcspn (p, ":");
          f->bracketed = FALSE;
          p += f->len;
        }
      if (memchr (f->start, '[', f->len) != NULL || memchr (f->start, ']', f->len) != NULL)
        {
          g_autofree char *q = quote (f->start, f->len);
          return npte_set_error (error, EINVAL, "misplaced bracket in %s", q);
        }
      n++;
      if (*p == '\0')
        break;
      p++; /* the ':' */
    }
  *n_fields = n;
  return TRUE;
}

/* field_is_number() - TRUE if @f is unbracketed, non-empty and all digits. */
static gboolean
field_is_number (const Field *f)
{
  if (f->bracketed || f->len == 0)
    return FALSE;
  for (gsize i = 0; i < f->len; i++)
    if (!g_ascii_isdigit (f->start[i]))
      return FALSE;
  return TRUE;
}

/**
 * assign_roles() - decide which field is which, from their number
 * @fields: the fields
 * @n: how many (1..MAX_FIELDS)
 * @roles: (out) the role of each field
 * @form: the expected syntax, for the error message
 * @error: EINVAL if there are too few fields
 *
 * Return: TRUE on success.
 */
static gboolean
assign_roles (const Field *fields, guint n, Role *roles, const char *form, GError **error)
{
  switch (n)
    {
    case 2:
      roles[0] = ROLE_PARENT_PORT;
      roles[1] = ROLE_CHILD_PORT;
      return TRUE;
    case 3:
      /* "8080:10.0.2.100:80" vs "127.0.0.1:8080:80": an IP is never all digits. */
      if (field_is_number (&fields[0]) && !field_is_number (&fields[1]))
        {
          roles[0] = ROLE_PARENT_PORT;
          roles[1] = ROLE_CHILD_IP;
        }
      else
        {
          roles[0] = ROLE_PARENT_IP;
          roles[1] = ROLE_PARENT_PORT;
        }
      roles[2] = ROLE_CHILD_PORT;
      return TRUE;
    case 4:
      roles[0] = ROLE_PARENT_IP;
      roles[1] = ROLE_PARENT_PORT;
      roles[2] = ROLE_CHILD_IP;
      roles[3] = ROLE_CHILD_PORT;
      return TRUE;
    default:
      return npte_set_error (error, EINVAL, "expected %s", form);
    }
}

/**
 * parse_port_field() - a port number field
 * @f: the field
 * @label: "ParentPort" or "ChildPort"
 * @out: (out) the value (0..99999; the range is checked by validation)
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
parse_port_field (const Field *f, const char *label, int *out, GError **error)
{
  int value = 0;

  if (f->len == 0 && !f->bracketed)
    return npte_set_error (error, EINVAL, "missing %s", label);
  if (!field_is_number (f))
    {
      g_autofree char *q = quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s%s is not a number", label,
                             f->bracketed ? "in brackets " : "", q);
    }
  if (f->len > MAX_PORT_DIGITS)
    {
      g_autofree char *q = quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s is out of range (0-65535)", label, q);
    }
  for (gsize i = 0; i < f->len; i++)
    value = value * 10 + (f->start[i] - '0');
  *out = value;
  return TRUE;
}

/**
 * parse_ip_field() - an IP field, copied as text (checked by validation)
 * @f: the field
 * @label: "ParentIP" or "ChildIP"
 * @empty_ok: whether an empty, unbracketed field means "unspecified"
 * @buf: (out) PORTSPEC_IP_MAX bytes
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
parse_ip_field (const Field *f, const char *label, gboolean empty_ok, char *buf,
                GError **error)
{
  if (f->len == 0 && !empty_ok)
    return npte_set_error (error, EINVAL, "empty %s (leave it out instead)", label);
  if (f->len >= PORTSPEC_IP_MAX)
    {
      g_autofree char *q = quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s is too long", label, q);
    }
  memcpy (buf, f->start, f->len);
  buf[f->len] = '\0';
  return TRUE;
}

/**
 * parse_mapping() - parse "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT"
 * @mapping: the text
 * @form: the syntax to name in "expected ..." errors
 * @out: (out) IPs and ports; the proto is left alone
 * @error: EINVAL naming the bad part, without the mapping itself
 *
 * Return: TRUE on success.
 */
static gboolean
parse_mapping (const char *mapping, const char *form, PortSpec *out, GError **error)
{
  Field fields[MAX_FIELDS];
  Role roles[MAX_FIELDS];
  guint n = 0;

  if (!split_fields (mapping, fields, &n, error) || !assign_roles (fields, n, roles, form, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      gboolean ok = FALSE;

      switch (roles[i])
        {
        case ROLE_PARENT_IP:
          ok = parse_ip_field (&fields[i], "ParentIP", !fields[i].bracketed, out->parent_ip, error);
          break;
        case ROLE_PARENT_PORT:
          ok = parse_port_field (&fields[i], "ParentPort", &out->parent_port, error);
          break;
        case ROLE_CHILD_IP:
          ok = parse_ip_field (&fields[i], "ChildIP", FALSE, out->child_ip, error);
          break;
        case ROLE_CHILD_PORT:
          ok = parse_port_field (&fields[i], "ChildPort", &out->child_port, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/**
 * parse_mapping_hinted() - parse_mapping(), adding the IPv6 bracket hint
 * @mapping: the text
 * @form: the syntax to name in "expected ..." errors
 * @out: (out) IPs and ports
 * @error: EINVAL
 *
 * When the mapping has a "::" outside brackets, the user most likely wrote
 * an IPv6 address without brackets; say so.
 *
 * Return: TRUE on success.
 */
static gboolean
parse_mapping_hinted (const char *mapping, const char *form, PortSpec *out, GError **error)
{
  GError *local = NULL;

  if (parse_mapping (mapping, form, out, &local))
    return TRUE;
  if (strstr (mapping, "::") != NULL && strchr (mapping, '[') == NULL
      && !g_str_has_suffix (local->message, IPV6_HINT))
    {
      g_autofree char *msg = local->message;

      local->message = g_strconcat (msg, IPV6_HINT, NULL);
    }
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
portspec_parse (const char *text, PortSpec *out, GError **error)
{
  g_autofree char *mapping = NULL;
  g_autofree char *q = NULL;
  const char *slash;
  PortSpec spec = { .proto = PORT_PROTO_TCP };

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  if (*text == '\0')
    return npte_set_error (error, EINVAL, "empty port spec, expected " SPEC_FORM);
  q = quote (text, strlen (text));
  if (strchr (text, ',') != NULL)
    return npte_set_error (error, EINVAL,
                           "invalid port spec %s: one port spec per argument (found ',')", q);
  slash = strchr (text, '/');
  mapping = slash != NULL ? g_strndup (text, (gsize) (slash - text)) : g_strdup (text);
  if (!parse_mapping_hinted (mapping, SPEC_FORM, &spec, error))
    {
      g_prefix_error (error, "invalid port spec %s: ", q);
      return FALSE;
    }
  if (slash != NULL)
    {
      g_autofree char *pq = quote (slash + 1, strlen (slash + 1));

      if (slash[1] == '\0')
        return npte_set_error (error, EINVAL, "invalid port spec %s: missing proto after '/'", q);
      spec.proto = portproto_from_string (slash + 1);
      if (spec.proto == PORT_PROTO_INVALID)
        return npte_set_error (error, EINVAL, "invalid port spec %s: unknown proto: %s", q, pq);
    }
  *out = spec;
  return TRUE;
}

gboolean
portspec_parse_args (const char *proto, const char *mapping, PortSpec *out, GError **error)
{
  g_autofree char *q = NULL;
  PortSpec spec = { .proto = PORT_PROTO_INVALID };

  g_return_val_if_fail (proto != NULL && mapping != NULL && out != NULL, FALSE);
  spec.proto = portproto_from_string (proto);
  if (spec.proto == PORT_PROTO_INVALID)
    {
      g_autofree char *pq = quote (proto, strlen (proto));
      return npte_set_error (error, EINVAL, "unknown proto: %s", pq);
    }
  if (*mapping == '\0')
    return npte_set_error (error, EINVAL, "empty port mapping, expected " MAPPING_FORM);
  q = quote (mapping, strlen (mapping));
  if (strchr (mapping, ',') != NULL)
    return npte_set_error (error, EINVAL,
                           "invalid port mapping %s: one mapping per argument (found ',')", q);
  if (strchr (mapping, '/') != NULL)
    return npte_set_error (error, EINVAL,
                           "invalid port mapping %s: the proto is a separate argument, "
                           "expected " MAPPING_FORM, q);
  if (!parse_mapping_hinted (mapping, MAPPING_FORM, &spec, error))
    {
      g_prefix_error (error, "invalid port mapping %s: ", q);
      return FALSE;
    }
  *out = spec;
  return TRUE;
}

/**
 * check_family() - a *4 proto needs an IPv4 parent IP, a *6 proto an IPv6 one
 * @spec: the spec
 * @parent: its parsed parent IP
 * @error: EINVAL
 *
 * Return: TRUE if they agree (or the IP is "").
 */
static gboolean
check_family (const PortSpec *spec, const IpAddr *parent, GError **error)
{
  int family = proto_family (spec->proto);
  const char *name = portproto_to_string (spec->proto);
  int base = (int) strlen (name) - 1; /* "tcp" of "tcp4" */
  char text[PORTSPEC_IP_MAX];

  if (family == 0 || parent->family == 0 || parent->family == family)
    return TRUE;
  ip_format (parent, text);
  if (family == AF_INET)
    return npte_set_error (error, EINVAL,
                           "invalid ParentIP \"%s\" for proto %s: an IPv6 address with an "
                           "IPv4-only proto (use %.*s or %.*s6)",
                           text, name, base, name, base, name);
  return npte_set_error (error, EINVAL,
                         "invalid ParentIP \"%s\" for proto %s: an IPv4 address with an "
                         "IPv6-only proto (use %.*s or %.*s4)",
                         text, name, base, name, base, name);
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
check_ip (const char *buf, const char *label, IpAddr *out, GError **error)
{
  if (!ip_parse (buf, out))
    {
      g_autofree char *q = quote (buf, strnlen (buf, PORTSPEC_IP_MAX));
      return npte_set_error (error, EINVAL, "invalid %s: %s", label, q);
    }
  return TRUE;
}

/*
 * portspec_validate() - see portspec.h. The checks run in rootlesskit's
 * order (proto, ParentIP, ChildIP, ParentPort, ChildPort), then sctp, then
 * the family rule; @spec is only rewritten when it is valid.
 */
gboolean
portspec_validate (PortSpec *spec, GError **error)
{
  IpAddr parent, child;
  const char *name = portproto_to_string (spec->proto);

  if (*name == '\0')
    {
      if (spec->proto == PORT_PROTO_INVALID)
        return npte_set_error (error, EINVAL, "unknown proto: \"\"");
      return npte_set_error (error, EINVAL, "unknown proto: \"%d\"", (int) spec->proto);
    }
  if (!check_ip (spec->parent_ip, "ParentIP", &parent, error)
      || !check_ip (spec->child_ip, "ChildIP", &child, error))
    return FALSE;
  if (spec->parent_port < 0 || spec->parent_port > 65535)
    return npte_set_error (error, EINVAL, "invalid ParentPort: %d", spec->parent_port);
  if (spec->child_port <= 0 || spec->child_port > 65535)
    return npte_set_error (error, EINVAL, "invalid ChildPort: %d", spec->child_port);
  if (proto_transport (spec->proto) == TRANSPORT_SCTP)
    return npte_set_error (error, EPROTONOSUPPORT, "unsupported port protocol %s", name);
  if (!check_family (spec, &parent, error))
    return FALSE;
  ip_format (&parent, spec->parent_ip);
  ip_format (&child, spec->child_ip);
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
 * ("8080:80/tcp"), which portspec_parse() reads back as the same spec.
 */
char *
portspec_format (const PortSpec *spec)
{
  GString *s = g_string_new (NULL);

  append_ip (s, spec->parent_ip);
  g_string_append_printf (s, "%d:", spec->parent_port);
  append_ip (s, spec->child_ip);
  g_string_append_printf (s, "%d/%s", spec->child_port, portproto_to_string (spec->proto));
  return g_string_free (s, FALSE);
}

/**
 * set_sockaddr() - fill @ss with @ip (or a wildcard of @family) and @port
 * @ss: (out) the address
 * @len: (out) its length
 * @family: AF_INET or AF_INET6; used when @ip is NULL
 * @ip: the address, or NULL for the wildcard of @family
 * @port: port in host order
 */
static void
set_sockaddr (struct sockaddr_storage *ss, socklen_t *len, int family, const IpAddr *ip,
              int port)
{
  memset (ss, 0, sizeof *ss);
  if (ip != NULL)
    family = ip->family;
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;

      sin->sin_family = AF_INET;
      sin->sin_port = htons ((uint16_t) port);
      sin->sin_addr.s_addr = ip != NULL ? ip->u.v4.s_addr : htonl (INADDR_ANY);
      *len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons ((uint16_t) port);
      sin6->sin6_addr = ip != NULL ? ip->u.v6 : in6addr_any;
      *len = sizeof *sin6;
    }
}

void
portspec_listen_plan (const PortSpec *spec, PortListenPlan *plan)
{
  int family = proto_family (spec->proto);
  IpAddr ip;

  memset (plan, 0, sizeof *plan);
  plan->socktype = portproto_is_udp (spec->proto) ? SOCK_DGRAM : SOCK_STREAM;
  spec_parent_ip (spec, &ip);
  if (ip_is_wildcard (&ip))
    {
      /* Plain tcp/udp: one dual-stack socket on "::"; tcp6/udp6: IPv6 only. */
      plan->family = family == AF_INET ? AF_INET : AF_INET6;
      plan->v6only = family == AF_INET6;
      set_sockaddr (&plan->addr, &plan->addrlen, plan->family, NULL, spec->parent_port);
    }
  else
    {
      plan->family = ip.family;
      plan->v6only = ip.family == AF_INET6;
      set_sockaddr (&plan->addr, &plan->addrlen, 0, &ip, spec->parent_port);
    }
}

void
portspec_child_target (const PortSpec *spec, struct sockaddr_storage *addr,
                       socklen_t *addrlen)
{
  IpAddr ip;

  if (ip_parse (spec->child_ip, &ip) && ip.family != 0)
    {
      set_sockaddr (addr, addrlen, 0, &ip, spec->child_port);
      return;
    }
  spec_parent_ip (spec, &ip);
  if (!ip_is_wildcard (&ip) && ip_is_loopback (&ip))
    {
      /* rootlesskit PR #477: -p 127.0.0.2:8080:80 reaches 127.0.0.2:80 inside. */
      set_sockaddr (addr, addrlen, 0, &ip, spec->child_port);
      return;
    }
  /* A host address that is not loopback does not exist inside the namespace. */
  int family = ip_is_wildcard (&ip) ? proto_family (spec->proto) : ip.family;
  memset (&ip, 0, sizeof ip);
  ip.family = family == AF_INET6 ? AF_INET6 : AF_INET;
  if (ip.family == AF_INET6)
    ip.u.v6 = in6addr_loopback;
  else
    ip.u.v4.s_addr = htonl (INADDR_LOOPBACK);
  set_sockaddr (addr, addrlen, 0, &ip, spec->child_port);
}
