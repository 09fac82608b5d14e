/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: The network index file
 *
 * Read: the text passes the strict JSON check (apijson_validate(): RFC 8259,
 * no NUL, 64-bit integers, bounded depth) before json-glib parses it; then
 * every object must have exactly its fields with their types, and every
 * network must pass net_network_check() against the ones before it. Any
 * problem makes the whole index unreadable: npte reports it, naming the
 * file, and changes nothing, so a corrupt or truncated index is never
 * overwritten.
 *
 * Write: the whole text goes to BASE/networks.json.tmp, which is fsync()ed
 * and rename()d over the index; then the directory is fsync()ed. An empty
 * index removes the file. The caller holds the global lock.
 */
#include "network-registry.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apijson.h"
#include "npte-error.h"
#include "util.h"

static const char *const top_fields[] = { "networks", NULL };
static const char *const network_fields[] = { "name", "subnet", "gateway", "created_at",
                                              "members", NULL };
/* Fields a network may lack: an index written before they existed has none. */
static const char *const network_optional[] = { "outbound", NULL };
static const char *const member_fields[] = { "workspace", "ip", NULL };

/**
 * check_fields() - @o has exactly the fields @fields, and maybe some of @optional
 * @o: object
 * @fields: NULL-terminated names
 * @optional: (nullable) NULL-terminated names of fields it may have
 * @where: "networks[2]", for the message
 * @error: EINVAL naming an unknown or a missing field
 *
 * Return: TRUE if it has.
 */
static gboolean
check_fields (JsonObject *o, const char *const *fields, const char *const *optional,
              const char *where, GError **error)
{
  g_autoptr (GList) names = json_object_get_members (o);

  for (const char *const *f = fields; *f != NULL; f++)
    if (!json_object_has_member (o, *f))
      return npte_set_error (error, EINVAL, "%s: missing field \"%s\"", where, *f);
  for (GList *l = names; l != NULL; l = l->next)
    if (!g_strv_contains (fields, l->data)
        && (optional == NULL || !g_strv_contains (optional, l->data)))
      {
        g_autofree char *shown = g_strescape (l->data, NULL);
        return npte_set_error (error, EINVAL, "%s: unknown field \"%.40s\"", where, shown);
      }
  return TRUE;
}

/**
 * get_string() - the string field @key of @o
 * @o: object (it has @key)
 * @key: field
 * @where: for the message
 * @error: EINVAL when it is not a string
 *
 * Return: (transfer none) the string, or NULL.
 */
static const char *
get_string (JsonObject *o, const char *key, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (o, key);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      npte_set_error (error, EINVAL, "%s: field \"%s\" is not a string", where, key);
      return NULL;
    }
  return json_node_get_string (node);
}

/**
 * get_optional_bool() - the boolean field @key of @o, FALSE when it is missing
 * @o: object
 * @key: field
 * @value: (out) its value
 * @where: for the message
 * @error: EINVAL when it is there but not true or false
 *
 * Return: TRUE on success.
 */
static gboolean
get_optional_bool (JsonObject *o, const char *key, gboolean *value, const char *where,
                   GError **error)
{
  JsonNode *node = json_object_get_member (o, key);

  *value = FALSE;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return npte_set_error (error, EINVAL, "%s: field \"%s\" is not true or false", where, key);
  *value = json_node_get_boolean (node);
  return TRUE;
}

/**
 * get_array() - the array field @key of @o
 * @o: object (it has @key)
 * @key: field
 * @where: for the message
 * @error: EINVAL when it is not an array
 *
 * Return: (transfer none) the array, or NULL.
 */
static JsonArray *
get_array (JsonObject *o, const char *key, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (o, key);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      npte_set_error (error, EINVAL, "%s: field \"%s\" is not an array", where, key);
      return NULL;
    }
  return json_node_get_array (node);
}

/**
 * get_object() - element @i of @a as an object
 * @a: array
 * @i: index
 * @where: for the message
 * @error: EINVAL when it is not an object
 *
 * Return: (transfer none) the object, or NULL.
 */
static JsonObject *
get_object (JsonArray *a, guint i, const char *where, GError **error)
{
  JsonNode *node = json_array_get_element (a, i);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      npte_set_error (error, EINVAL, "%s is not an object", where);
      return NULL;
    }
  return json_node_get_object (node);
}

/**
 * parse_members() - the "members" array into @n
 * @a: the array
 * @n: network
 * @where: "networks[2]"
 * @error: EINVAL
 *
 * Return: TRUE on success.
 */
static gboolean
parse_members (JsonArray *a, Network *n, const char *where, GError **error)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      g_autofree char *mw = g_strdup_printf ("%s.members[%u]", where, i);
      JsonObject *o = get_object (a, i, mw, error);
      const char *ws, *ip;
      guint32 addr;

      if (o == NULL || !check_fields (o, member_fields, NULL, mw, error)
          || (ws = get_string (o, "workspace", mw, error)) == NULL
          || (ip = get_string (o, "ip", mw, error)) == NULL)
        return FALSE;
      if (!net_ip_parse (ip, &addr, error))
        {
          g_prefix_error (error, "%s: ", mw);
          return FALSE;
        }
      net_network_add_member (n, ws, addr);
    }
  return TRUE;
}

/**
 * parse_network() - one element of "networks"
 * @o: the object
 * @where: "networks[2]"
 * @error: EINVAL
 *
 * Return: (transfer full) the network (not checked against others yet), or NULL.
 */
static Network *
parse_network (JsonObject *o, const char *where, GError **error)
{
  g_autoptr (Network) n = net_network_new ();
  const char *name, *subnet, *gw, *created;
  JsonArray *members;

  if (!check_fields (o, network_fields, network_optional, where, error)
      || !get_optional_bool (o, "outbound", &n->outbound, where, error)
      || (name = get_string (o, "name", where, error)) == NULL
      || (subnet = get_string (o, "subnet", where, error)) == NULL
      || (gw = get_string (o, "gateway", where, error)) == NULL
      || (created = get_string (o, "created_at", where, error)) == NULL
      || (members = get_array (o, "members", where, error)) == NULL)
    return NULL;
  n->name = g_strdup (name);
  n->created_at = g_strdup (created);
  if (!net_cidr_parse (subnet, &n->net, &n->prefix, error)
      || !net_ip_parse (gw, &n->gateway, error))
    {
      g_prefix_error (error, "%s: ", where);
      return NULL;
    }
  if (!parse_members (members, n, where, error))
    return NULL;
  return g_steal_pointer (&n);
}

/**
 * parse_root() - the top-level object into a new index
 * @root: the root node
 * @error: EINVAL
 *
 * Return: (transfer full) the index, or NULL.
 */
static NetIndex *
parse_root (JsonNode *root, GError **error)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  JsonObject *top;
  JsonArray *nets;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      npte_set_error (error, EINVAL, "the index is not a JSON object");
      return NULL;
    }
  top = json_node_get_object (root);
  if (!check_fields (top, top_fields, NULL, "the index", error)
      || (nets = get_array (top, "networks", "the index", error)) == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (nets); i++)
    {
      g_autofree char *where = g_strdup_printf ("networks[%u]", i);
      JsonObject *o = get_object (nets, i, where, error);
      g_autoptr (Network) n = o != NULL ? parse_network (o, where, error) : NULL;

      if (n == NULL)
        return NULL;
      if (!net_network_check (idx, n, error))
        {
          g_prefix_error (error, "%s: ", where);
          return NULL;
        }
      g_ptr_array_add (idx->networks, g_steal_pointer (&n));
    }
  return g_steal_pointer (&idx);
}

NetIndex *
net_index_parse (const char *json, gsize len, GError **error)
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
  return parse_root (json_parser_get_root (parser), error);
}

/**
 * add_network() - @n as an object member of the builder's current array
 * @b: builder
 * @n: network
 */
static void
add_network (JsonBuilder *b, const Network *n)
{
  g_autofree char *subnet = net_subnet_str (n);
  char buf[NET_IP_STRLEN];

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, n->name);
  json_builder_set_member_name (b, "subnet");
  json_builder_add_string_value (b, subnet);
  json_builder_set_member_name (b, "gateway");
  json_builder_add_string_value (b, net_ip_str (n->gateway, buf));
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, n->created_at);
  json_builder_set_member_name (b, "outbound");
  json_builder_add_boolean_value (b, n->outbound);
  json_builder_set_member_name (b, "members");
  json_builder_begin_array (b);
  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "workspace");
      json_builder_add_string_value (b, m->workspace);
      json_builder_set_member_name (b, "ip");
      json_builder_add_string_value (b, net_ip_str (m->ip, buf));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/**
 * generate() - the builder's document as text
 * @b: builder, complete
 * @pretty: indented, ending in a newline
 *
 * Return: (transfer full) the text.
 */
static char *
generate (JsonBuilder *b, gboolean pretty)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, pretty ? "\n" : "", NULL);
}

/**
 * networks_array() - every network of @idx as the builder's current value
 * @b: builder
 * @idx: index
 */
static void
networks_array (JsonBuilder *b, const NetIndex *idx)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < idx->networks->len; i++)
    add_network (b, g_ptr_array_index (idx->networks, i));
  json_builder_end_array (b);
}

char *
net_index_to_json (const NetIndex *idx)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "networks");
  networks_array (b, idx);
  json_builder_end_object (b);
  return generate (b, TRUE);
}

char *
net_networks_to_json (const NetIndex *idx)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  networks_array (b, idx);
  return generate (b, FALSE);
}

char *
net_network_to_json (const Network *n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  add_network (b, n);
  return generate (b, FALSE);
}

/**
 * read_index_file() - the bytes of the index file
 * @path: the file
 * @text: (out) its contents (NULL when the file does not exist)
 * @len: (out) their length
 * @error: error for anything but a missing file
 *
 * Return: TRUE on success.
 */
static gboolean
read_index_file (const char *path, char **text, gsize *len, GError **error)
{
  npte_autofd int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[16384];
  struct stat st;

  *text = NULL;
  *len = 0;
  if (fd < 0 && errno == ENOENT)
    return TRUE;
  if (fd < 0)
    return npte_set_errno (error, errno, "open the network index %s", path);
  if (fstat (fd, &st) < 0)
    return npte_set_errno (error, errno, "the network index %s", path);
  if (!S_ISREG (st.st_mode))
    return npte_set_error (error, EINVAL, "the network index %s is not a regular file; npte "
                           "leaves it alone", path);
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return npte_set_errno (error, errno, "read the network index %s", path);
      if (n == 0)
        break;
      if (buf->len + (gsize) n > NET_INDEX_MAX_BYTES)
        return npte_set_error (error, EFBIG, "the network index %s is corrupt: larger than "
                               "%" G_GSIZE_FORMAT " bytes; npte does not change it", path,
                               NET_INDEX_MAX_BYTES);
      g_byte_array_append (buf, chunk, (guint) n);
    }
  *len = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  *text = (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
  return TRUE;
}

NetIndex *
net_index_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  gsize len;
  NetIndex *idx;

  if (!read_index_file (path, &text, &len, error))
    return NULL;
  if (text == NULL)
    return net_index_new ();
  idx = net_index_parse (text, len, &local);
  if (idx == NULL)
    npte_set_error (error, npte_error_code (local), "the network index %s is corrupt%s: %s. "
                    "npte does not change it: repair it, or move it away to start without "
                    "networks", path, len == 0 ? " (empty)" : "", local->message);
  return idx;
}

/**
 * sync_dir() - fsync the directory of @path, so a rename or unlink in it is durable
 * @path: a file in it
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
sync_dir (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  npte_autofd int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) < 0)
    return npte_set_errno (error, errno, "sync %s", dir);
  return TRUE;
}

gboolean
net_index_save (const char *path, const NetIndex *idx, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  g_autofree char *text = NULL;

  if (idx->networks->len == 0)
    {
      if (unlink (path) < 0 && errno != ENOENT)
        return npte_set_errno (error, errno, "remove the network index %s", path);
      return sync_dir (path, error);
    }
  text = net_index_to_json (idx);
  npte_autofd int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return npte_set_errno (error, errno, "create %s", tmp);
  if (!npte_write_all (fd, text, strlen (text), error) || fsync (fd) < 0
      || close (npte_steal_fd (&fd)) < 0)
    {
      if (error != NULL && *error == NULL)
        npte_set_errno (error, errno, "write %s", tmp);
      else
        g_prefix_error (error, "write %s: ", tmp);
      unlink (tmp);
      return FALSE;
    }
  if (rename (tmp, path) < 0)
    {
      npte_set_errno (error, errno, "rename %s to %s", tmp, path);
      unlink (tmp);
      return FALSE;
    }
  return sync_dir (path, error);
}
