/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (the slirp4netns API request handler)
 *
 * One request in, one reply out, nothing else: no sockets, no logging.
 *
 *  1. A request of S4NAPI_MAX_REQUEST bytes or more is "too large". The
 *     request ends at its first NUL byte, as slirp4netns reads it as a C
 *     string.
 *  2. It must be strict JSON ("cannot parse JSON"), be an object
 *     ("json_object() failed") and name a string "execute" ("no execute
 *     found"); "arguments" is an object or treated as empty.
 *  3. add_hostfwd checks its arguments in slirp4netns' order (proto,
 *     host_addr, host_port, guest_addr, guest_port), so the first bad one
 *     is named, then adds the forward through the port manager. An IPv4
 *     host_addr becomes tcp4/udp4 (slirp4netns binds IPv4 only), an IPv6
 *     one tcp6/udp6 (IPv6 only), so 0.0.0.0 and :: on one port coexist.
 *     Host and guest address are of one family: libslirp 4.7 gives a
 *     forwarded connection the family of the client's address, so an IPv4
 *     guest behind an IPv6 (or dual-stack) listener would not work. The
 *     guest address is always stored, the default one too, so the listing
 *     shows what the forward connects to.
 *  4. list_hostfwd lists every port of the manager, by id; ids are the
 *     port manager's (from 1, never reused), which is what slirp4netns
 *     does as well.
 *  5. remove_hostfwd removes one id.
 *
 * A field that is absent or JSON null is "absent"; a field of the wrong
 * type is bad (slirp4netns would have read it as absent: for host_addr
 * that would bind every address, so npte refuses instead).
 */
#include "s4napi.h"

#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "apijson.h"
#include "npte-error.h"

#define ADD_ERROR(field) \
  "{\"error\":{\"desc\":\"bad request: add_hostfwd: bad arguments." field "\"}}"

/* The state of one field of a request. */
typedef enum {
  FIELD_ABSENT,
  FIELD_OK,
  FIELD_BAD,
} FieldState;

/**
 * error_reply() - {"error":{"desc":@desc}}
 * @desc: the description, plain text without quotes or backslashes
 *
 * Return: (transfer full) the reply.
 */
static char *
error_reply (const char *desc)
{
  return g_strdup_printf ("{\"error\":{\"desc\":\"%s\"}}", desc);
}

/**
 * member() - the member @name of @obj, unless absent or JSON null
 * @obj: an object, or NULL (no members)
 * @name: member name
 *
 * Return: (transfer none) the node or NULL.
 */
static JsonNode *
member (JsonObject *obj, const char *name)
{
  JsonNode *node;

  if (obj == NULL || !json_object_has_member (obj, name))
    return NULL;
  node = json_object_get_member (obj, name);
  return JSON_NODE_HOLDS_NULL (node) ? NULL : node;
}

/**
 * get_string() - a string member
 * @obj: object or NULL
 * @name: member name
 * @out: (out) the string (borrowed) or NULL
 *
 * Return: FIELD_ABSENT, FIELD_OK, or FIELD_BAD when it is not a string.
 */
static FieldState
get_string (JsonObject *obj, const char *name, const char **out)
{
  JsonNode *node = member (obj, name);

  *out = NULL;
  if (node == NULL)
    return FIELD_ABSENT;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FIELD_BAD;
  *out = json_node_get_string (node);
  return FIELD_OK;
}

/**
 * get_int() - an integral number member in @min..@max
 * @obj: object or NULL
 * @name: member name
 * @min: smallest accepted value
 * @max: largest accepted value
 * @out: (out) the value
 *
 * 80 and 80.0 are accepted; 80.5, "80", true and out-of-range are not.
 *
 * Return: FIELD_ABSENT, FIELD_OK or FIELD_BAD.
 */
static FieldState
get_int (JsonObject *obj, const char *name, gint64 min, gint64 max, gint64 *out)
{
  JsonNode *node = member (obj, name);
  GType type;

  *out = 0;
  if (node == NULL)
    return FIELD_ABSENT;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FIELD_BAD;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (node);
      /* In range first, so the cast is defined; then integral. */
      if (!(d >= (double) min && d <= (double) max) || d != (double) (gint64) d)
        return FIELD_BAD;
      *out = (gint64) d;
    }
  else
    return FIELD_BAD;
  return *out >= min && *out <= max ? FIELD_OK : FIELD_BAD;
}

/**
 * canonical_ip() - parse an IPv4 or IPv6 address into its canonical text
 * @text: the address
 * @out: (out) canonical text; an IPv4-mapped IPv6 address becomes IPv4
 * @loopback: (out) whether it is a loopback address
 *
 * Return: AF_INET, AF_INET6, or 0 when @text is not an address.
 */
static int
canonical_ip (const char *text, char out[PORTSPEC_IP_MAX], gboolean *loopback)
{
  struct in_addr v4;
  struct in6_addr v6;

  if (inet_pton (AF_INET, text, &v4) != 1 && inet_pton (AF_INET6, text, &v6) == 1)
    {
      if (!IN6_IS_ADDR_V4MAPPED (&v6))
        {
          inet_ntop (AF_INET6, &v6, out, PORTSPEC_IP_MAX);
          *loopback = IN6_IS_ADDR_LOOPBACK (&v6);
          return AF_INET6;
        }
      memcpy (&v4, &v6.s6_addr[12], sizeof v4);
    }
  else if (inet_pton (AF_INET, text, &v4) != 1)
    return 0;
  inet_ntop (AF_INET, &v4, out, PORTSPEC_IP_MAX);
  *loopback = (ntohl (v4.s_addr) >> 24) == 127;
  return AF_INET;
}

/**
 * parse_host_addr() - arguments.host_addr into @spec->parent_ip
 * @net: the slirp network
 * @args: the arguments or NULL
 * @spec: (out) parent_ip
 *
 * Defaults to 0.0.0.0, as slirp4netns. IPv6 (an extension) needs -6:
 * libslirp 4.7 forwards an IPv6 client only to an IPv6 guest address.
 *
 * Return: AF_INET or AF_INET6, or 0 when bad.
 */
static int
parse_host_addr (const NetCfg *net, JsonObject *args, PortSpec *spec)
{
  const char *host;
  gboolean loopback;
  int family;

  if (get_string (args, "host_addr", &host) == FIELD_BAD)
    return 0;
  if (host == NULL || host[0] == '\0')
    host = "0.0.0.0";
  family = canonical_ip (host, spec->parent_ip, &loopback);
  return family == AF_INET6 && !net->ipv6 ? 0 : family;
}

/**
 * parse_guest_addr() - arguments.guest_addr into @spec->child_ip
 * @net: the slirp network (default guest addresses)
 * @args: the arguments or NULL
 * @host_family: the host address's family, which the guest's must match
 *               (libslirp 4.7 cannot forward across families)
 * @spec: (out) child_ip
 *
 * Defaults to the namespace's own address (network + 100, or the IPv6
 * prefix + ::100 that -c assigns), which is then stored, so the listing
 * shows it. Loopback addresses are refused: slirp cannot reach the
 * namespace's loopback.
 *
 * Return: TRUE if good.
 */
static gboolean
parse_guest_addr (const NetCfg *net, JsonObject *args, int host_family, PortSpec *spec)
{
  g_autofree char *guest_default = host_family == AF_INET6
                                       ? netcfg_format_ip (AF_INET6, &net->guest6)
                                       : netcfg_format_ip (AF_INET, &net->guest);
  const char *guest;
  gboolean loopback;

  if (get_string (args, "guest_addr", &guest) == FIELD_BAD)
    return FALSE;
  if (guest == NULL || guest[0] == '\0')
    guest = guest_default;
  return canonical_ip (guest, spec->child_ip, &loopback) == host_family && !loopback;
}

/**
 * add_hostfwd() - "add_hostfwd": validate, add through the port manager
 * @mgr: port manager
 * @net: the slirp network
 * @args: the arguments object or NULL
 * @detail: (out) (optional) the port manager's error when the add fails
 *
 * Return: (transfer full) the reply.
 */
static char *
add_hostfwd (PortMgr *mgr, const NetCfg *net, JsonObject *args, GError **detail)
{
  PortSpec spec = { 0 };
  const char *proto;
  gint64 host_port, guest_port;
  int family;
  gboolean udp;
  const PortEntry *entry;

  /* In slirp4netns' order, so the same field is named first. */
  if (get_string (args, "proto", &proto) != FIELD_OK
      || (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0))
    return g_strdup (ADD_ERROR ("proto"));
  udp = strcmp (proto, "udp") == 0;
  family = parse_host_addr (net, args, &spec);
  if (family == 0)
    return g_strdup (ADD_ERROR ("host_addr"));
  /* host_port 0 picks a free port: an extension (slirp4netns refuses 0). */
  if (get_int (args, "host_port", 0, 65535, &host_port) != FIELD_OK)
    return g_strdup (ADD_ERROR ("host_port"));
  if (!parse_guest_addr (net, args, family, &spec))
    return g_strdup (ADD_ERROR ("guest_addr"));
  if (get_int (args, "guest_port", 1, 65535, &guest_port) != FIELD_OK)
    return g_strdup (ADD_ERROR ("guest_port"));
  if (family == AF_INET6)
    spec.proto = udp ? PORT_PROTO_UDP6 : PORT_PROTO_TCP6;
  else
    spec.proto = udp ? PORT_PROTO_UDP4 : PORT_PROTO_TCP4;
  spec.parent_port = (int) host_port;
  spec.child_port = (int) guest_port;
  entry = portmgr_add (mgr, &spec, detail);
  if (entry == NULL)
    return error_reply ("bad request: add_hostfwd: slirp_add_hostfwd failed");
  if (host_port == 0)
    return g_strdup_printf ("{\"return\":{\"id\":%d,\"host_port\":%d}}", entry->id,
                            entry->spec.parent_port);
  return g_strdup_printf ("{\"return\":{\"id\":%d}}", entry->id);
}

/**
 * append_entry() - one list_hostfwd entry, as slirp4netns serializes it
 * @s: the reply so far
 * @net: the slirp network (addresses of entries that name none)
 * @e: the port
 */
static void
append_entry (GString *s, const NetCfg *net, const PortEntry *e)
{
  gboolean v6 = e->spec.proto == PORT_PROTO_TCP6 || e->spec.proto == PORT_PROTO_UDP6;
  g_autofree char *guest = NULL;
  const char *host = e->spec.parent_ip;

  if (host[0] == '\0')
    host = v6 ? "::" : "0.0.0.0";
  if (e->spec.child_ip[0] != '\0')
    guest = g_strdup (e->spec.child_ip);
  else
    guest = v6 ? netcfg_format_ip (AF_INET6, &net->guest6) : netcfg_format_ip (AF_INET, &net->guest);
  g_string_append_printf (s,
                          "{\"id\":%d,\"proto\":\"%s\",\"host_addr\":\"%s\",\"host_port\":%d,"
                          "\"guest_addr\":\"%s\",\"guest_port\":%d}",
                          e->id, portproto_is_udp (e->spec.proto) ? "udp" : "tcp", host,
                          e->spec.parent_port, guest, e->spec.child_port);
}

/**
 * list_hostfwd() - "list_hostfwd": every port, by id
 * @mgr: port manager
 * @net: the slirp network
 *
 * The released slirp4netns answers {"entries":[...]} without the
 * {"return":...} envelope its manual shows; npte answers the same bytes
 * (see docs/slirp4netns-compat.md).
 *
 * Return: (transfer full) the reply.
 */
static char *
list_hostfwd (const PortMgr *mgr, const NetCfg *net)
{
  g_autoptr (GPtrArray) list = portmgr_list (mgr);
  GString *s = g_string_new ("{\"entries\":[");

  for (guint i = 0; i < list->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, ',');
      append_entry (s, net, g_ptr_array_index (list, i));
    }
  g_string_append (s, "]}");
  return g_string_free (s, FALSE);
}

/**
 * remove_hostfwd() - "remove_hostfwd": remove arguments.id
 * @mgr: port manager
 * @args: the arguments object or NULL
 *
 * Return: (transfer full) the reply.
 */
static char *
remove_hostfwd (PortMgr *mgr, JsonObject *args)
{
  gint64 id;

  if (get_int (args, "id", 1, G_MAXINT, &id) != FIELD_OK || !portmgr_remove (mgr, (int) id, NULL))
    return error_reply ("bad request: remove_hostfwd: bad arguments.id");
  return g_strdup ("{\"return\":{}}");
}

/**
 * parse_json() - parse @len bytes of @req
 * @req: text
 * @len: its length
 *
 * Strict JSON first (apijson_validate(): RFC 8259, nesting at most 64
 * deep), as json-glib alone would take 'single quotes' and the like.
 *
 * Return: (transfer full) the root node, or NULL when it does not parse
 *         or is empty.
 */
static JsonNode *
parse_json (const char *req, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();

  if (len == 0 || !apijson_validate (req, len, NULL)
      || !json_parser_load_from_data (parser, req, (gssize) len, NULL))
    return NULL;
  return json_parser_steal_root (parser);
}

gboolean
s4napi_request_complete (const char *req, gsize len)
{
  g_autoptr (JsonNode) root = NULL;

  len = req != NULL ? strnlen (req, len) : 0;
  root = parse_json (req, len);
  /* A scalar could be the prefix of a longer one ("12" of "123"): wait for EOF. */
  return root != NULL && (JSON_NODE_HOLDS_OBJECT (root) || JSON_NODE_HOLDS_ARRAY (root));
}

char *
s4napi_handle (PortMgr *mgr, const NetCfg *net, const char *req, gsize len, GError **detail)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj, *args = NULL;
  JsonNode *args_node;
  const char *execute;

  g_return_val_if_fail (mgr != NULL && net != NULL, NULL);
  g_return_val_if_fail (detail == NULL || *detail == NULL, NULL);
  if (len >= S4NAPI_MAX_REQUEST)
    return error_reply ("bad request: too large message");
  len = req != NULL ? strnlen (req, len) : 0;
  root = parse_json (req, len);
  if (root == NULL)
    return error_reply ("bad request: cannot parse JSON");
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return error_reply ("bad request: json_object() failed");
  obj = json_node_get_object (root);
  if (get_string (obj, "execute", &execute) != FIELD_OK)
    return error_reply ("bad request: no execute found");
  args_node = member (obj, "arguments");
  if (args_node != NULL && JSON_NODE_HOLDS_OBJECT (args_node))
    args = json_node_get_object (args_node);
  if (strcmp (execute, "add_hostfwd") == 0)
    return add_hostfwd (mgr, net, args, detail);
  if (strcmp (execute, "list_hostfwd") == 0)
    return list_hostfwd (mgr, net);
  if (strcmp (execute, "remove_hostfwd") == 0)
    return remove_hostfwd (mgr, args);
  return error_reply ("bad request: unknown execute");
}
