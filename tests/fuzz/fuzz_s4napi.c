/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: s4napi_handle(), the slirp4netns JSON API, over a port
 * manager with a fake driver.
 *
 * Input: the first byte sets options (bit 0: IPv6 in the namespace), the
 * rest is up to MAX_REQUESTS requests separated by the byte 0x1e (ASCII
 * record separator).
 *
 * Checked for every request: the reply is one JSON object, either an error
 * that is byte for byte {"error":{"desc":TEXT}} with a TEXT slirp4netns
 * uses, or {"entries":[...]} or {"return":{...}};
 * a request of S4NAPI_MAX_REQUEST bytes or more is "too large"; a failed
 * request leaves the port list exactly as it was; an add adds one port
 * under a new, larger id and reports host_port exactly when the request
 * asked for port 0; a remove removes one port; and the list stays ordered
 * by id with as many entries as the driver has open.
 *
 * Each input gets a fresh port manager and frees everything it allocated,
 * so inputs do not depend on one another and libFuzzer sees as many frees
 * as mallocs (an input that keeps memory is re-run under LeakSanitizer).
 * The list reply is a function of the port table alone (the options are
 * fixed for the input), so it is fetched
 * and parsed only when the table changed; a request that must not change
 * the table is checked against a byte copy of every entry instead, which
 * is as strict as comparing list texts and much cheaper.
 */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npte-error.h"
#include "s4napi.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_REQUESTS 16
#define SEPARATOR 0x1e

#define CHECK(cond) \
  do { if (!(cond)) { fprintf (stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort (); } } while (0)

typedef struct {
  int open;
  int next_auto_port;
} FakeDriver;

/* Opens nothing; fails for parent ports ending in 13 to exercise rollback. */
static gboolean
fake_open (gpointer driver, PortEntry *entry, GError **error)
{
  FakeDriver *d = driver;

  CHECK (entry->spec.proto != PORT_PROTO_INVALID);
  CHECK (entry->spec.child_ip[0] != '\0');
  CHECK (entry->spec.child_port >= 1 && entry->spec.child_port <= 65535);
  if (entry->spec.parent_port % 100 == 13)
    return npte_set_error (error, EADDRINUSE, "bind: address already in use");
  if (entry->spec.parent_port == 0)
    entry->spec.parent_port = 40000 + (d->next_auto_port++ % 10000);
  d->open++;
  return TRUE;
}

static void
fake_close (gpointer driver, PortEntry *entry)
{
  FakeDriver *d = driver;

  d->open--;
}

static const char *const fake_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };
static const PortDriverOps fake_ops = {
  .name = "slirp", .protos = fake_protos, .disallow_loopback_child_ip = TRUE,
  .open = fake_open, .close = fake_close,
};

static const char *const error_texts[] = {
  "bad request: too large message",
  "bad request: cannot parse JSON",
  "bad request: json_object() failed",
  "bad request: no execute found",
  "bad request: unknown execute",
  "bad request: add_hostfwd: bad arguments.proto",
  "bad request: add_hostfwd: bad arguments.host_addr",
  "bad request: add_hostfwd: bad arguments.host_port",
  "bad request: add_hostfwd: bad arguments.guest_addr",
  "bad request: add_hostfwd: bad arguments.guest_port",
  "bad request: add_hostfwd: slirp_add_hostfwd failed",
  "bad request: remove_hostfwd: bad arguments.id",
};

static FakeDriver driver;
static PortMgr *mgr;
static NetCfg net;
static int max_id;

/* parse() - @text as a JSON object, or abort. */
static JsonObject *
parse (JsonParser *parser, const char *text)
{
  JsonNode *root;

  CHECK (g_utf8_validate (text, -1, NULL));
  CHECK (json_parser_load_from_data (parser, text, -1, NULL));
  root = json_parser_get_root (parser);
  CHECK (root != NULL && JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

/**
 * check_list() - the shape of a list_hostfwd reply
 * @reply: the reply
 *
 * One member "entries", as many as the driver has open, each with six
 * members, ordered by id.
 */
static void
check_list (const char *reply)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = parse (parser, reply);
  JsonArray *entries;

  CHECK (json_object_get_size (obj) == 1 && json_object_has_member (obj, "entries"));
  entries = json_object_get_array_member (obj, "entries");
  CHECK ((int) json_array_get_length (entries) == driver.open);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *e = json_array_get_object_element (entries, i);
      CHECK (json_object_get_size (e) == 6);
      if (i > 0)
        CHECK (json_object_get_int_member (e, "id")
               > json_object_get_int_member (json_array_get_object_element (entries, i - 1),
                                             "id"));
    }
}

/* list() - list_hostfwd's reply; checks its shape. */
static char *
list (void)
{
  char *reply = s4napi_handle (mgr, &net, "{\"execute\":\"list_hostfwd\"}", 26, NULL);

  check_list (reply);
  return reply;
}

/* snapshot() - the bytes of every entry in the table, in id order. */
static GByteArray *
snapshot (void)
{
  g_autoptr (GPtrArray) entries = portmgr_list (mgr);
  GByteArray *bytes = g_byte_array_sized_new (entries->len * (guint) sizeof (PortEntry));

  for (guint i = 0; i < entries->len; i++)
    g_byte_array_append (bytes, g_ptr_array_index (entries, i), sizeof (PortEntry));
  return bytes;
}

/* unchanged() - whether the table still holds exactly @before. */
static gboolean
unchanged (const GByteArray *before)
{
  g_autoptr (GByteArray) now = snapshot ();

  return now->len == before->len
         && (now->len == 0 || memcmp (now->data, before->data, now->len) == 0);
}

/**
 * asked_port_zero() - whether @req is an add_hostfwd with host_port exactly 0
 * @req: the request (NUL-terminated)
 *
 * Return: TRUE if so.
 */
static gboolean
asked_port_zero (const char *req)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root, *port;
  JsonObject *args;

  if (!json_parser_load_from_data (parser, req, -1, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  port = json_object_get_member (json_node_get_object (root), "arguments");
  if (port == NULL || !JSON_NODE_HOLDS_OBJECT (port))
    return FALSE;
  args = json_node_get_object (port);
  port = json_object_get_member (args, "host_port");
  return port != NULL && JSON_NODE_HOLDS_VALUE (port)
         && ((json_node_get_value_type (port) == G_TYPE_INT64 && json_node_get_int (port) == 0)
             || (json_node_get_value_type (port) == G_TYPE_DOUBLE
                 && json_node_get_double (port) == 0.0));
}

/**
 * check_return() - a {"return":{...}} reply, against the change in the port list
 * @ret: the "return" object
 * @req: the request
 * @before: ports open before
 */
static void
check_return (JsonObject *ret, const char *req, int before)
{
  if (json_object_get_size (ret) == 0)
    {
      CHECK (driver.open == before - 1); /* remove_hostfwd */
      return;
    }
  CHECK (driver.open == before + 1); /* add_hostfwd */
  int id = (int) json_object_get_int_member (ret, "id");
  CHECK (id > max_id);
  max_id = id;
  gboolean zero = asked_port_zero (req);
  CHECK (json_object_get_size (ret) == (zero ? 2u : 1u));
  if (zero)
    CHECK (json_object_get_int_member (ret, "host_port") >= 40000);
}

/**
 * known_error() - which of error_texts @reply is, exactly
 * @reply: a reply
 *
 * Return: the index in error_texts of the error @reply is, byte for byte
 * {"error":{"desc":"TEXT"}}, or -1 if it is no such error.
 */
static int
known_error (const char *reply)
{
  static const char prefix[] = "{\"error\":{\"desc\":\"";
  static const char suffix[] = "\"}}";
  gsize len = strlen (reply);

  if (!g_str_has_prefix (reply, prefix) || !g_str_has_suffix (reply, suffix))
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (error_texts); i++)
    if (len == strlen (prefix) + strlen (error_texts[i]) + strlen (suffix)
        && strncmp (reply + strlen (prefix), error_texts[i], strlen (error_texts[i])) == 0)
      return (int) i;
  return -1;
}

/**
 * one_request() - handle @req and check the invariants
 * @current: (transfer full) the list reply for the table as it is
 * @req: request bytes
 * @len: their count
 *
 * Return: (transfer full) the list reply for the table afterwards.
 */
static char *
one_request (char *current, const char *req, gsize len)
{
  g_autofree char *old = current;
  int before = driver.open;
  g_autoptr (GByteArray) table = snapshot ();
  g_autoptr (GError) detail = NULL;
  g_autofree char *reply = s4napi_handle (mgr, &net, req, len, &detail);
  int error = known_error (reply);
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *nul_terminated = NULL;
  JsonObject *obj;

  if (error >= 0)
    {
      CHECK (driver.open == before && unchanged (table));
      CHECK ((len >= S4NAPI_MAX_REQUEST) == (error == 0));
      CHECK ((detail != NULL) == (strcmp (error_texts[error], "bad request: add_hostfwd: "
                                                              "slirp_add_hostfwd failed") == 0));
      return g_steal_pointer (&old);
    }
  /* Anything else is one JSON object: the list or a return, never another error. */
  parser = json_parser_new ();
  obj = parse (parser, reply);
  CHECK (json_object_get_size (obj) == 1 && !json_object_has_member (obj, "error"));
  CHECK (len < S4NAPI_MAX_REQUEST && detail == NULL);
  if (json_object_has_member (obj, "entries"))
    {
      CHECK (strcmp (reply, old) == 0);
      CHECK (driver.open == before && unchanged (table));
      return g_steal_pointer (&old);
    }
  nul_terminated = g_strndup (req, len);
  check_return (json_object_get_object_member (obj, "return"), nul_terminated, before);
  return list ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *p, *end;
  g_autofree char *current = NULL;
  static gboolean initialised;

  if (!initialised)
    {
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      initialised = TRUE;
    }
  driver.next_auto_port = 0;
  max_id = 0;
  mgr = portmgr_new (&fake_ops, &driver);
  netcfg_init_defaults (&net);
  if (size > 0)
    {
      net.ipv6 = (data[0] & 1) != 0;
      data++;
      size--;
    }
  current = list ();
  p = (const char *) data;
  end = p + size;
  for (int n = 0; n < MAX_REQUESTS && p <= end; n++)
    {
      const char *sep = memchr (p, SEPARATOR, (size_t) (end - p));
      const char *stop = sep != NULL ? sep : end;

      current = one_request (g_steal_pointer (&current), p, (gsize) (stop - p));
      if (sep == NULL)
        break;
      p = sep + 1;
    }
  portmgr_free (mgr);
  mgr = NULL;
  CHECK (driver.open == 0);
  return 0;
}
