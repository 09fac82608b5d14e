/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Decoding the control API's JSON
 *
 * Every input first passes apijson_validate() (apijson-scan.c: UTF-8 and a
 * strict RFC 8259 check covering json-glib's leniencies), then json-glib
 * builds the tree, and each struct is filled the way Go's encoding/json
 * fills it: keys match field names case-insensitively (with Go's folding of
 * U+017F and U+212A), unknown keys are ignored, null and missing members
 * leave the zero value, and a member of the wrong JSON type is an error
 * naming the field. (json-glib keeps one value per exact key, so of two
 * keys differing only in case the one that came first in the text wins
 * where Go would take the last; nobody sends that.)
 *
 * Encoding lives in apijson-encode.c.
 */
#include "apijson.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <limits.h>
#include <string.h>

#include "npte-error.h"

/* Bytes of a too-long IP string quoted in its error message. */
#define IP_QUOTE_MAX 64

/**
 * json_load() - validate strictly, then parse with json-glib
 * @json: text
 * @len: its length
 * @error: EINVAL naming the problem
 *
 * Return: (transfer full) the parser (its root may be a null node), or NULL.
 */
static JsonParser *
json_load (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;

  if (!apijson_validate (json, len, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local))
    {
      npte_set_error (error, EINVAL, "invalid JSON: %s", local->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    {
      npte_set_error (error, EINVAL, "invalid JSON: empty input");
      return NULL;
    }
  return g_steal_pointer (&parser);
}

/**
 * key_matches() - whether a JSON key selects @field, as Go matches them
 * @key: the key (valid UTF-8)
 * @field: the ASCII field name
 *
 * ASCII letters compare case-insensitively; U+017F (long s) folds to 's'
 * and U+212A (Kelvin sign) to 'k', which is what Go's case folding adds.
 *
 * Return: TRUE on a match.
 */
static gboolean
key_matches (const char *key, const char *field)
{
  const char *k = key;

  for (const char *f = field; *f != '\0'; f++)
    {
      char want = g_ascii_tolower (*f);
      if (*k == '\0')
        return FALSE;
      gunichar c = g_utf8_get_char (k);
      k = g_utf8_next_char (k);
      if (c < 0x80)
        {
          if (g_ascii_tolower ((char) c) != want)
            return FALSE;
        }
      else if (!((c == 0x17F && want == 's') || (c == 0x212A && want == 'k')))
        return FALSE;
    }
  return *k == '\0';
}

/* kind_name() - the JSON type of @node as Go names it in errors. */
static const char *
kind_name (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      break;
    }
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_STRING)
    return "string";
  if (t == G_TYPE_BOOLEAN)
    return "bool";
  return "number";
}

static gboolean
wrong_type (JsonNode *node, const char *field, const char *type, GError **error)
{
  return npte_set_error (error, EINVAL, "json: cannot unmarshal %s into field \"%s\" of type %s",
                         kind_name (node), field, type);
}

/**
 * member_int() - an integer member within [@min, @max]
 * @node: the member
 * @field: its name, for messages
 * @min: lowest value accepted
 * @max: highest value accepted
 * @out: (out) the value; untouched for null
 * @error: EINVAL for another type, a fraction or a value out of range
 *
 * Return: TRUE on success.
 */
static gboolean
member_int (JsonNode *node, const char *field, gint64 min, gint64 max, gint64 *out,
            GError **error)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) == G_TYPE_STRING
      || json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return wrong_type (node, field, "int", error);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node));
      return npte_set_error (error, EINVAL,
                             "json: cannot unmarshal number %s into field \"%s\" of type int",
                             buf, field);
    }
  gint64 v = json_node_get_int (node);
  if (v < min || v > max)
    return npte_set_error (error, EINVAL,
                           "json: cannot unmarshal number %" G_GINT64_FORMAT
                           " into field \"%s\" of type int (out of range)", v, field);
  *out = v;
  return TRUE;
}

/**
 * member_string() - a string member
 * @node: the member
 * @field: its name, for messages
 * @out: (out) borrowed string; untouched for null
 * @error: EINVAL for another type
 *
 * Return: TRUE on success.
 */
static gboolean
member_string (JsonNode *node, const char *field, const char **out, GError **error)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return wrong_type (node, field, "string", error);
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
member_bool (JsonNode *node, const char *field, gboolean *out, GError **error)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return wrong_type (node, field, "bool", error);
  *out = json_node_get_boolean (node);
  return TRUE;
}

/**
 * member_object() - an object member (or null)
 * @node: the member
 * @field: its name, for messages
 * @out: (out) the object, or NULL for null
 * @error: EINVAL for another type
 *
 * Return: TRUE on success.
 */
static gboolean
member_object (JsonNode *node, const char *field, JsonObject **out, GError **error)
{
  *out = NULL;
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return wrong_type (node, field, "object", error);
  *out = json_node_get_object (node);
  return TRUE;
}

/**
 * copy_ip() - store an IP string member in a PortSpec buffer
 * @text: the string (NULL = missing, leaves "")
 * @label: "ParentIP" or "ChildIP", for rootlesskit's message
 * @buf: PORTSPEC_IP_MAX bytes
 * @error: EINVAL when it cannot be an address (too long)
 *
 * Return: TRUE on success.
 */
static gboolean
copy_ip (const char *text, const char *label, char *buf, GError **error)
{
  if (text == NULL)
    return TRUE;
  if (strlen (text) >= PORTSPEC_IP_MAX)
    {
      /* Quote at most IP_QUOTE_MAX bytes, cut on a character boundary: the message is UTF-8. */
      gsize n = MIN (strlen (text), IP_QUOTE_MAX);

      while (n > 0 && ((guchar) text[n] & 0xc0) == 0x80)
        n--;
      return npte_set_error (error, EINVAL, "invalid %s: \"%.*s%s\"", label, (int) n, text,
                             text[n] != '\0' ? "..." : "");
    }
  g_strlcpy (buf, text, PORTSPEC_IP_MAX);
  return TRUE;
}

/**
 * spec_count() - decode the npte extra "portCount" of a PortSpec
 * @spec: spec being filled
 * @node: the member
 * @error: EINVAL for another type, and for an explicit 0 (leave the member
 *         out for one port); other bad counts are portspec_validate()'s
 *
 * Return: TRUE on success.
 */
static gboolean
spec_count (PortSpec *spec, JsonNode *node, GError **error)
{
  gint64 v = spec->count;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!member_int (node, "portCount", INT_MIN, INT_MAX, &v, error))
    return FALSE;
  if (v == 0)
    return npte_set_error (error, EINVAL, "invalid PortCount: 0 (1-%d; leave it out for one port)",
                           PORTSPEC_MAX_COUNT);
  spec->count = (int) v;
  return TRUE;
}

/**
 * spec_direction() - decode the npte extra "direction" of a PortSpec
 * @spec: spec being filled
 * @node: the member
 * @strict: an unknown direction is an error (server side) or forward
 *          (client side, like an unknown proto there)
 * @error: EINVAL for another type or, when @strict, an unknown value
 *
 * "reverse" sets spec->reverse; "forward" and "" (what a Go client without
 * omitempty sends) clear it. The value is case-sensitive, as proto's is.
 *
 * Return: TRUE on success.
 */
static gboolean
spec_direction (PortSpec *spec, JsonNode *node, gboolean strict, GError **error)
{
  const char *str = NULL;

  if (!member_string (node, "direction", &str, error))
    return FALSE;
  if (str == NULL)
    return TRUE;
  spec->reverse = strcmp (str, "reverse") == 0;
  if (strict && !spec->reverse && *str != '\0' && strcmp (str, "forward") != 0)
    {
      g_autofree char *q = g_strescape (str, NULL);
      return npte_set_error (error, EINVAL, "unknown direction: \"%.64s\" (forward or reverse)",
                             q);
    }
  return TRUE;
}

/**
 * spec_member() - decode one member of a PortSpec object
 * @spec: spec being filled
 * @name: member key
 * @node: member value
 * @strict_proto: an unknown proto or direction is an error (server side),
 *                or PORT_PROTO_INVALID / forward (client side)
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success (unknown keys are ignored).
 */
static gboolean
spec_member (PortSpec *spec, const char *name, JsonNode *node, gboolean strict_proto,
             GError **error)
{
  const char *str = NULL;
  gint64 v = 0;

  if (key_matches (name, "proto"))
    {
      if (!member_string (node, "proto", &str, error))
        return FALSE;
      if (str == NULL)
        return TRUE;
      spec->proto = portproto_from_string (str);
      if (strict_proto && spec->proto == PORT_PROTO_INVALID)
        {
          g_autofree char *q = g_strescape (str, NULL);
          return npte_set_error (error, EINVAL, "unknown proto: \"%.64s\"", q);
        }
    }
  else if (key_matches (name, "parentIP"))
    {
      return member_string (node, "parentIP", &str, error)
             && copy_ip (str, "ParentIP", spec->parent_ip, error);
    }
  else if (key_matches (name, "childIP"))
    {
      return member_string (node, "childIP", &str, error)
             && copy_ip (str, "ChildIP", spec->child_ip, error);
    }
  else if (key_matches (name, "parentPort"))
    {
      v = spec->parent_port;
      if (!member_int (node, "parentPort", INT_MIN, INT_MAX, &v, error))
        return FALSE;
      spec->parent_port = (int) v;
    }
  else if (key_matches (name, "childPort"))
    {
      v = spec->child_port;
      if (!member_int (node, "childPort", INT_MIN, INT_MAX, &v, error))
        return FALSE;
      spec->child_port = (int) v;
    }
  else if (key_matches (name, "portCount"))
    return spec_count (spec, node, error);
  else if (key_matches (name, "direction"))
    return spec_direction (spec, node, strict_proto, error);
  return TRUE;
}

/**
 * spec_from_node() - fill @out from a PortSpec node (object or null)
 * @node: the node
 * @what: what the node is, for messages ("PortSpec", "field \"spec\"")
 * @strict_proto: see spec_member()
 * @out: (out) the spec; members not present keep their value
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
spec_from_node (JsonNode *node, const char *what, gboolean strict_proto, PortSpec *out,
                GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return npte_set_error (error, EINVAL, "json: cannot unmarshal %s into %s (expected an object)",
                           kind_name (node), what);
  json_object_iter_init_ordered (&iter, json_node_get_object (node));
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (!spec_member (out, name, member, strict_proto, error))
      return FALSE;
  return TRUE;
}

gboolean
apijson_spec_decode (const char *body, gsize len, PortSpec *out, GError **error)
{
  g_autoptr (JsonParser) parser = json_load (body, len, error);

  memset (out, 0, sizeof *out);
  if (parser == NULL)
    return FALSE;
  return spec_from_node (json_parser_get_root (parser), "PortSpec", TRUE, out, error);
}

/**
 * stats_from_object() - fill the counters from a "stats" object
 * @obj: the object (NULL = absent)
 * @c: (out) counters
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
stats_from_object (JsonObject *obj, PortCounters *c, GError **error)
{
  static const char *const names[] = {
    "connsAccepted", "connsActive", "bytesIn", "bytesOut", "errors",
  };
  guint64 *slots[] = {
    &c->conns_accepted, &c->conns_active, &c->bytes_in, &c->bytes_out, &c->errors,
  };
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (obj == NULL)
    return TRUE;
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (key_matches (name, names[i]))
        {
          gint64 v = (gint64) *slots[i];
          if (!member_int (member, names[i], 0, G_MAXINT64, &v, error))
            return FALSE;
          *slots[i] = (guint64) v;
        }
  return TRUE;
}

/**
 * status_from_node() - fill @out from a PortStatus node (object or null)
 * @node: the node
 * @what: for messages ("PortStatus", "PortStatus[3]")
 * @out: (out) the entry (zeroed by the caller); members not present keep
 *       their value
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
status_from_node (JsonNode *node, const char *what, PortEntry *out, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return npte_set_error (error, EINVAL, "json: cannot unmarshal %s into %s (expected an object)",
                           kind_name (node), what);
  json_object_iter_init_ordered (&iter, json_node_get_object (node));
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      JsonObject *obj = NULL;
      gint64 v = 0;
      gboolean ok = TRUE;

      if (key_matches (name, "id"))
        {
          v = out->id;
          ok = member_int (member, "id", INT_MIN, INT_MAX, &v, error);
          out->id = (int) v;
        }
      else if (key_matches (name, "spec"))
        ok = spec_from_node (member, "field \"spec\"", FALSE, &out->spec, error);
      else if (key_matches (name, "stats"))
        ok = member_object (member, "stats", &obj, error)
             && stats_from_object (obj, &out->counters, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

gboolean
apijson_status_decode (const char *json, gsize len, PortEntry *out, GError **error)
{
  g_autoptr (JsonParser) parser = json_load (json, len, error);

  memset (out, 0, sizeof *out);
  if (parser == NULL)
    return FALSE;
  return status_from_node (json_parser_get_root (parser), "PortStatus", out, error);
}

GPtrArray *
apijson_status_list_decode (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_load (json, len, error);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  JsonNode *root;
  JsonArray *array;

  if (parser == NULL)
    return NULL;
  root = json_parser_get_root (parser);
  if (JSON_NODE_HOLDS_NULL (root))
    return g_steal_pointer (&list);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      npte_set_error (error, EINVAL,
                      "json: cannot unmarshal %s into a PortStatus list (expected an array)",
                      kind_name (root));
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree PortEntry *entry = g_new0 (PortEntry, 1);
      g_autofree char *what = g_strdup_printf ("PortStatus[%u]", i);

      if (!status_from_node (json_array_get_element (array, i), what, entry, error))
        return NULL;
      g_ptr_array_add (list, g_steal_pointer (&entry));
    }
  return g_steal_pointer (&list);
}

char *
apijson_error_decode (const char *json, gsize len)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  if (json == NULL)
    return g_strdup ("");
  parser = json_load (json, len, NULL);
  root = parser != NULL ? json_parser_get_root (parser) : NULL;
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;
      const char *message = NULL;

      json_object_iter_init_ordered (&iter, json_node_get_object (root));
      while (json_object_iter_next_ordered (&iter, &name, &member))
        if (key_matches (name, "message"))
          member_string (member, "message", &message, NULL);
      if (message != NULL)
        return g_strdup (message);
    }
  return g_strstrip (g_utf8_make_valid (json, (gssize) MIN (len, (gsize) G_MAXSSIZE)));
}

/* An NpteInfo that owns its strings; apijson_info_free() casts back. */
typedef struct {
  NpteInfo info; /* must stay first */
  GStringChunk *strings;
  GPtrArray *net_dns;     /* NULL-terminated, or NULL */
  GPtrArray *port_protos; /* NULL-terminated, or NULL */
} InfoBox;

void
apijson_info_free (NpteInfo *info)
{
  InfoBox *box = (InfoBox *) info;

  if (box == NULL)
    return;
  g_string_chunk_free (box->strings);
  if (box->net_dns != NULL)
    g_ptr_array_unref (box->net_dns);
  if (box->port_protos != NULL)
    g_ptr_array_unref (box->port_protos);
  g_free (box);
}

/**
 * info_string() - decode a string member into storage owned by @box
 * @box: the info being filled
 * @node: the member
 * @field: its name, for messages
 * @slot: (out) where the string goes; untouched for null
 * @error: EINVAL for another type
 *
 * Return: TRUE on success.
 */
static gboolean
info_string (InfoBox *box, JsonNode *node, const char *field, const char **slot, GError **error)
{
  const char *str = NULL;

  if (!member_string (node, field, &str, error))
    return FALSE;
  if (str != NULL)
    *slot = g_string_chunk_insert (box->strings, str);
  return TRUE;
}

/**
 * info_strv() - decode an array-of-strings member
 * @box: the info being filled
 * @node: the member
 * @field: its name, for messages
 * @slot: (inout) the NULL-terminated array, replaced; untouched for null
 * @error: EINVAL for another type or a non-string element
 *
 * Return: TRUE on success.
 */
static gboolean
info_strv (InfoBox *box, JsonNode *node, const char *field, GPtrArray **slot, GError **error)
{
  g_autoptr (GPtrArray) vec = NULL;
  JsonArray *array;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return wrong_type (node, field, "[]string", error);
  array = json_node_get_array (node);
  vec = g_ptr_array_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *what = g_strdup_printf ("%s[%u]", field, i);
      const char *str = "";

      if (!member_string (json_array_get_element (array, i), what, &str, error))
        return FALSE;
      g_ptr_array_add (vec, g_string_chunk_insert (box->strings, str));
    }
  g_ptr_array_add (vec, NULL);
  if (*slot != NULL)
    g_ptr_array_unref (*slot);
  *slot = g_steal_pointer (&vec);
  return TRUE;
}

/**
 * info_net_driver() - decode the "networkDriver" object
 * @box: the info being filled
 * @obj: the object
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
info_net_driver (InfoBox *box, JsonObject *obj, GError **error)
{
  NpteInfo *info = &box->info;
  JsonObjectIter iter;
  const char *name;
  JsonNode *m;
  gint64 mtu = info->net_mtu;

  if (info->net_driver == NULL)
    info->net_driver = "";
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &name, &m))
    {
      gboolean ok = TRUE;
      if (key_matches (name, "driver"))
        ok = info_string (box, m, "driver", &info->net_driver, error);
      else if (key_matches (name, "dns"))
        ok = info_strv (box, m, "dns", &box->net_dns, error);
      else if (key_matches (name, "childIP"))
        ok = info_string (box, m, "childIP", &info->net_child_ip, error);
      else if (key_matches (name, "gateway"))
        ok = info_string (box, m, "gateway", &info->net_gateway, error);
      else if (key_matches (name, "mtu"))
        ok = member_int (m, "mtu", INT_MIN, INT_MAX, &mtu, error);
      if (!ok)
        return FALSE;
    }
  info->net_mtu = (int) mtu;
  info->net_dns = box->net_dns != NULL ? (const char *const *) box->net_dns->pdata : NULL;
  return TRUE;
}

/**
 * info_port_driver() - decode the "portDriver" object
 * @box: the info being filled
 * @obj: the object
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success.
 */
static gboolean
info_port_driver (InfoBox *box, JsonObject *obj, GError **error)
{
  NpteInfo *info = &box->info;
  JsonObjectIter iter;
  const char *name;
  JsonNode *m;

  if (info->port_driver == NULL)
    info->port_driver = "";
  json_object_iter_init_ordered (&iter, obj);
  while (json_object_iter_next_ordered (&iter, &name, &m))
    {
      gboolean ok = TRUE;
      if (key_matches (name, "driver"))
        ok = info_string (box, m, "driver", &info->port_driver, error);
      else if (key_matches (name, "protos"))
        ok = info_strv (box, m, "protos", &box->port_protos, error);
      else if (key_matches (name, "disallowLoopbackChildIP"))
        ok = member_bool (m, "disallowLoopbackChildIP", &info->disallow_loopback_child_ip, error);
      if (!ok)
        return FALSE;
    }
  info->port_protos
    = box->port_protos != NULL ? (const char *const *) box->port_protos->pdata : NULL;
  return TRUE;
}

/**
 * info_member() - decode one top-level member of an Info object
 * @box: the info being filled
 * @name: member key
 * @m: member value
 * @error: EINVAL naming the field
 *
 * Return: TRUE on success (unknown keys are ignored).
 */
static gboolean
info_member (InfoBox *box, const char *name, JsonNode *m, GError **error)
{
  NpteInfo *info = &box->info;
  JsonObject *obj = NULL;
  gint64 pid = info->child_pid;

  if (key_matches (name, "apiVersion"))
    return info_string (box, m, "apiVersion", &info->api_version, error);
  if (key_matches (name, "version"))
    return info_string (box, m, "version", &info->version, error);
  if (key_matches (name, "stateDir"))
    return info_string (box, m, "stateDir", &info->state_dir, error);
  if (key_matches (name, "childPID"))
    {
      if (!member_int (m, "childPID", INT_MIN, INT_MAX, &pid, error))
        return FALSE;
      info->child_pid = (int) pid;
      return TRUE;
    }
  if (key_matches (name, "networkDriver"))
    return member_object (m, "networkDriver", &obj, error)
           && (obj == NULL || info_net_driver (box, obj, error));
  if (key_matches (name, "portDriver"))
    return member_object (m, "portDriver", &obj, error)
           && (obj == NULL || info_port_driver (box, obj, error));
  return TRUE;
}

NpteInfo *
apijson_info_decode (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_load (json, len, error);
  InfoBox *box;
  JsonNode *root;
  JsonObjectIter iter;
  const char *name;
  JsonNode *m;

  if (parser == NULL)
    return NULL;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      npte_set_error (error, EINVAL, "json: cannot unmarshal %s into Info (expected an object)",
                      kind_name (root));
      return NULL;
    }
  box = g_new0 (InfoBox, 1);
  box->strings = g_string_chunk_new (256);
  json_object_iter_init_ordered (&iter, json_node_get_object (root));
  while (json_object_iter_next_ordered (&iter, &name, &m))
    if (!info_member (box, name, m, error))
      {
        apijson_info_free (&box->info);
        return NULL;
      }
  return &box->info;
}
