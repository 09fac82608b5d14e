/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Parsing the textual port spec syntaxes
 *
 * A mapping is first split into at most four ':'-separated fields, where a
 * field in brackets ("[::1]") may itself contain ':'. The number of fields
 * then decides which field is which:
 *
 *   2  PARENTPORT:CHILDPORT
 *   3  PARENTIP:PARENTPORT:CHILDPORT   (also ":PARENTPORT:CHILDPORT")
 *      PARENTPORT:CHILDIP:CHILDPORT    (first field a port, second not)
 *   4  PARENTIP:PARENTPORT:CHILDIP:CHILDPORT
 *
 * A port field is a number ("8080") or a range ("8000-8009"); an IP never
 * looks like either. The two sides of a mapping must span the same number
 * of ports, which becomes PortSpec.count.
 *
 * Parsing is syntactic only (ports are 1-5 digits, IP fields are taken as
 * text); portspec_validate() checks port values and addresses. The ends of
 * a range are checked here, because the range has to make sense to give a
 * count at all.
 */
#include "portspec-internal.h"

#include <errno.h>
#include <string.h>

#include "npte-error.h"

/* At most this many ':'-separated fields in a mapping. */
#define MAX_FIELDS 4
/* Longest port number, in digits. */
#define MAX_PORT_DIGITS 5
/* Highest port number. */
#define MAX_PORT 65535

#define SPEC_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO], e.g. 8080:80/tcp"
#define MAPPING_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT, e.g. 8080:80"
#define IPV6_HINT " (IPv6 addresses go in brackets, e.g. [::1]:8080:80)"

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

/* A parsed port field: its first port and how many ports it spans. */
typedef struct {
  int first;
  int count;
} Ports;

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
              g_autofree char *q = portspec_quote (p, strlen (p));
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
          g_autofree char *q = portspec_quote (f->start, f->len);
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

/* all_digits() - TRUE if @s (@len bytes) is non-empty and all ASCII digits. */
static gboolean
all_digits (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* field_is_number() - TRUE if @f is unbracketed, non-empty and all digits. */
static gboolean
field_is_number (const Field *f)
{
  return !f->bracketed && all_digits (f->start, f->len);
}

/* field_range_dash() - the '-' of a field that tries to be a range "A-B", or NULL. */
static const char *
field_range_dash (const Field *f)
{
  if (f->bracketed || f->len == 0 || !g_ascii_isdigit (f->start[0]))
    return NULL;
  return memchr (f->start, '-', f->len);
}

/* field_is_port() - TRUE if @f is a port number or a range of them ("8000-8009"). */
static gboolean
field_is_port (const Field *f)
{
  const char *dash = field_range_dash (f);

  if (dash == NULL)
    return field_is_number (f);
  return all_digits (f->start, (gsize) (dash - f->start))
         && all_digits (dash + 1, f->len - (gsize) (dash - f->start) - 1);
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
      /* "8080:10.0.2.100:80" vs "127.0.0.1:8080:80": an IP is never a port or range. */
      if (field_is_port (&fields[0]) && !field_is_port (&fields[1]))
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

/* digits_value() - the value of @len (1..MAX_PORT_DIGITS) ASCII digits. */
static int
digits_value (const char *s, gsize len)
{
  int value = 0;

  for (gsize i = 0; i < len; i++)
    value = value * 10 + (s[i] - '0');
  return value;
}

/**
 * parse_range_field() - a port range field "A-B"
 * @f: the field (field_range_dash() is not NULL)
 * @label: "ParentPort" or "ChildPort"
 * @out: (out) first port and count
 * @error: EINVAL naming the field
 *
 * Both ends are 0..65535 and B >= A.
 *
 * Return: TRUE on success.
 */
static gboolean
parse_range_field (const Field *f, const char *label, Ports *out, GError **error)
{
  const char *dash = field_range_dash (f);
  gsize alen = (gsize) (dash - f->start);
  gsize blen = f->len - alen - 1;
  g_autofree char *q = portspec_quote (f->start, f->len);
  int a, b;

  if (!field_is_port (f))
    return npte_set_error (error, EINVAL, "%s range %s is not a range such as 8000-8009", label,
                           q);
  if (alen > MAX_PORT_DIGITS || blen > MAX_PORT_DIGITS)
    return npte_set_error (error, EINVAL, "%s range %s is out of range (0-65535)", label, q);
  a = digits_value (f->start, alen);
  b = digits_value (dash + 1, blen);
  if (a > MAX_PORT || b > MAX_PORT)
    return npte_set_error (error, EINVAL, "%s range %s is out of range (0-65535)", label, q);
  if (b < a)
    return npte_set_error (error, EINVAL, "%s range %s ends before it starts", label, q);
  out->first = a;
  out->count = b - a + 1;
  return TRUE;
}

/**
 * parse_port_field() - a port number field, or a range of ports
 * @f: the field
 * @label: "ParentPort" or "ChildPort"
 * @out: (out) first port (0..99999; a single port's range is checked by
 *       validation) and count (1 for a single port)
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
parse_port_field (const Field *f, const char *label, Ports *out, GError **error)
{
  if (f->len == 0 && !f->bracketed)
    return npte_set_error (error, EINVAL, "missing %s", label);
  if (field_range_dash (f) != NULL)
    return parse_range_field (f, label, out, error);
  if (!field_is_number (f))
    {
      g_autofree char *q = portspec_quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s%s is not a number", label,
                             f->bracketed ? "in brackets " : "", q);
    }
  if (f->len > MAX_PORT_DIGITS)
    {
      g_autofree char *q = portspec_quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s is out of range (0-65535)", label, q);
    }
  out->first = digits_value (f->start, f->len);
  out->count = 1;
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
      g_autofree char *q = portspec_quote (f->start, f->len);
      return npte_set_error (error, EINVAL, "%s %s is too long", label, q);
    }
  memcpy (buf, f->start, f->len);
  buf[f->len] = '\0';
  return TRUE;
}

/**
 * check_lengths() - both sides of a mapping span the same number of ports
 * @parent: the parent port field
 * @child: the child port field
 * @error: EINVAL "port ranges must have the same length: 8000-8009 (10) vs 80-85 (6)"
 *
 * Return: TRUE if they do.
 */
static gboolean
check_lengths (const Ports *parent, const Ports *child, GError **error)
{
  g_autoptr (GString) a = NULL;
  g_autoptr (GString) b = NULL;

  if (parent->count == child->count)
    return TRUE;
  a = g_string_new (NULL);
  b = g_string_new (NULL);
  portspec_append_ports (a, parent->first, parent->count);
  portspec_append_ports (b, child->first, child->count);
  return npte_set_error (error, EINVAL, "port ranges must have the same length: %s (%d) vs %s (%d)",
                         a->str, parent->count, b->str, child->count);
}

/**
 * parse_mapping() - parse "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT"
 * @mapping: the text
 * @form: the syntax to name in "expected ..." errors
 * @out: (out) IPs, ports and count; the proto is left alone
 * @error: EINVAL naming the bad part, without the mapping itself
 *
 * Return: TRUE on success.
 */
static gboolean
parse_mapping (const char *mapping, const char *form, PortSpec *out, GError **error)
{
  Field fields[MAX_FIELDS];
  Role roles[MAX_FIELDS];
  Ports parent = { 0, 1 }, child = { 0, 1 };
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
          ok = parse_port_field (&fields[i], "ParentPort", &parent, error);
          break;
        case ROLE_CHILD_IP:
          ok = parse_ip_field (&fields[i], "ChildIP", FALSE, out->child_ip, error);
          break;
        case ROLE_CHILD_PORT:
          ok = parse_port_field (&fields[i], "ChildPort", &child, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        return FALSE;
    }
  if (!check_lengths (&parent, &child, error))
    return FALSE;
  out->parent_port = parent.first;
  out->child_port = child.first;
  out->count = parent.count;
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
  PortSpec spec = { .proto = PORT_PROTO_TCP, .count = 1 };

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  if (*text == '\0')
    return npte_set_error (error, EINVAL, "empty port spec, expected " SPEC_FORM);
  q = portspec_quote (text, strlen (text));
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
      g_autofree char *pq = portspec_quote (slash + 1, strlen (slash + 1));

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
  PortSpec spec = { .proto = PORT_PROTO_INVALID, .count = 1 };

  g_return_val_if_fail (proto != NULL && mapping != NULL && out != NULL, FALSE);
  spec.proto = portproto_from_string (proto);
  if (spec.proto == PORT_PROTO_INVALID)
    {
      g_autofree char *pq = portspec_quote (proto, strlen (proto));
      return npte_set_error (error, EINVAL, "unknown proto: %s", pq);
    }
  if (*mapping == '\0')
    return npte_set_error (error, EINVAL, "empty port mapping, expected " MAPPING_FORM);
  q = portspec_quote (mapping, strlen (mapping));
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
