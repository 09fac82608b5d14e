/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the slirp4netns JSON API: s4napi_handle() over a port
 * manager with a fake driver (every request form, every error text, every
 * field missing or of the wrong type, the size limit, IPv6 and port 0, and
 * that a failed request changes nothing), then the real server
 * (s4napi_server_new) on a socket in a temporary directory, driven by an
 * ev loop in a thread.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "npte-error.h"
#include "s4napi.h"
#include "util.h"

int main (void);

#define ADD_BAD(field) \
  "{\"error\":{\"desc\":\"bad request: add_hostfwd: bad arguments." field "\"}}"
#define ERR(desc) "{\"error\":{\"desc\":\"bad request: " desc "\"}}"

/* A port driver that opens nothing; it can be told to fail the next open. */
typedef struct {
  int opened;
  int closed;
  gboolean fail_next;
  int next_auto_port;
} FakeDriver;

static gboolean
fake_open (gpointer driver, PortEntry *entry, GError **error)
{
  FakeDriver *d = driver;

  if (d->fail_next)
    {
      d->fail_next = FALSE;
      return npte_set_error (error, EADDRINUSE, "cannot listen on %s:%d: in use",
                             entry->spec.parent_ip, entry->spec.parent_port);
    }
  if (entry->spec.parent_port == 0)
    entry->spec.parent_port = d->next_auto_port++;
  d->opened++;
  return TRUE;
}

static void
fake_close (gpointer driver, PortEntry *entry)
{
  FakeDriver *d = driver;

  d->closed++;
}

static const char *const fake_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };
static const PortDriverOps fake_ops = {
  .name = "slirp", .protos = fake_protos, .disallow_loopback_child_ip = TRUE,
  .open = fake_open, .close = fake_close,
};

typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
  NetCfg net;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->driver.next_auto_port = 40000;
  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
  netcfg_init_defaults (&fx->net);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  portmgr_free (fx->mgr);
  g_free (fx);
  return 0;
}

/**
 * handle() - s4napi_handle() on a NUL-terminated request
 * @fx: fixture
 * @req: the request
 *
 * Return: (transfer full) the reply.
 */
static char *
handle (Fixture *fx, const char *req)
{
  return s4napi_handle (fx->mgr, &fx->net, req, strlen (req), NULL);
}

/**
 * expect() - @req is answered exactly @reply
 * @fx: fixture
 * @req: the request
 * @reply: the expected reply
 */
static void
expect (Fixture *fx, const char *req, const char *reply)
{
  g_autofree char *got = handle (fx, req);

  if (g_strcmp0 (got, reply) != 0)
    fail_msg ("request %s\n  got      %s\n  expected %s", req, got, reply);
}

/**
 * entry() - the port with @id
 * @fx: fixture
 * @id: port id
 *
 * Return: (transfer none) the entry; fails the test when there is none.
 */
static const PortEntry *
entry (Fixture *fx, int id)
{
  g_autoptr (GPtrArray) list = portmgr_list (fx->mgr);

  for (guint i = 0; i < list->len; i++)
    if (((const PortEntry *) g_ptr_array_index (list, i))->id == id)
      return g_ptr_array_index (list, i);
  fail_msg ("no port %d", id);
  return NULL;
}

static guint
n_ports (Fixture *fx)
{
  g_autoptr (GPtrArray) list = portmgr_list (fx->mgr);

  return list->len;
}

static void
test_add_defaults (void **state)
{
  Fixture *fx = *state;
  const PortEntry *e;

  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":8080,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":1}}");
  e = entry (fx, 1);
  assert_int_equal (e->spec.proto, PORT_PROTO_TCP4); /* slirp4netns binds IPv4 only */
  assert_string_equal (e->spec.parent_ip, "0.0.0.0");
  assert_int_equal (e->spec.parent_port, 8080);
  assert_string_equal (e->spec.child_ip, "10.0.2.100");
  assert_int_equal (e->spec.child_port, 80);
  /* "" and null mean absent, as in slirp4netns. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\",\"host_addr\":\"\","
              "\"host_port\":53,\"guest_addr\":null,\"guest_port\":53}}",
          "{\"return\":{\"id\":2}}");
  e = entry (fx, 2);
  assert_int_equal (e->spec.proto, PORT_PROTO_UDP4);
  assert_string_equal (e->spec.parent_ip, "0.0.0.0");
  assert_string_equal (e->spec.child_ip, "10.0.2.100");
  /* Explicit addresses; ports given as 8081.0 are integers too. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":"
              "\"127.0.0.2\",\"host_port\":8081.0,\"guest_addr\":\"10.0.2.5\",\"guest_port\":81}}",
          "{\"return\":{\"id\":3}}");
  e = entry (fx, 3);
  assert_string_equal (e->spec.parent_ip, "127.0.0.2");
  assert_int_equal (e->spec.parent_port, 8081);
  assert_string_equal (e->spec.child_ip, "10.0.2.5");
  /* A custom --cidr moves the default guest address. */
  g_assert_true (netcfg_set_cidr (&fx->net, "192.168.7.0/24", NULL));
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":8082,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":4}}");
  assert_string_equal (entry (fx, 4)->spec.child_ip, "192.168.7.100");
}

static void
test_add_ipv6 (void **state)
{
  Fixture *fx = *state;
  const PortEntry *e;

  /* An IPv6 host address (extension) needs -6 ... */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"::\","
              "\"host_port\":8080,\"guest_port\":80}}", ADD_BAD ("host_addr"));
  fx->net.ipv6 = TRUE;
  /* ... and is tcp6, IPv6 only, so :: and 0.0.0.0 coexist; the guest defaults to ::100. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"::\","
              "\"host_port\":8080,\"guest_port\":80}}", "{\"return\":{\"id\":1}}");
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":"
              "\"0.0.0.0\",\"host_port\":8080,\"guest_port\":80}}", "{\"return\":{\"id\":2}}");
  e = entry (fx, 1);
  assert_int_equal (e->spec.proto, PORT_PROTO_TCP6);
  assert_string_equal (e->spec.parent_ip, "::");
  assert_string_equal (e->spec.child_ip, "fd00::100");
  assert_string_equal (entry (fx, 2)->spec.child_ip, "10.0.2.100");
  /* Canonical text; an IPv4-mapped address is IPv4. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\",\"host_addr\":"
              "\"0:0::0:1\",\"host_port\":53,\"guest_addr\":\"fd00:0::100\",\"guest_port\":53}}",
          "{\"return\":{\"id\":3}}");
  e = entry (fx, 3);
  assert_int_equal (e->spec.proto, PORT_PROTO_UDP6);
  assert_string_equal (e->spec.parent_ip, "::1");
  assert_string_equal (e->spec.child_ip, "fd00::100");
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":"
              "\"::ffff:127.0.0.1\",\"host_port\":9000,\"guest_port\":80}}",
          "{\"return\":{\"id\":4}}");
  e = entry (fx, 4);
  assert_int_equal (e->spec.proto, PORT_PROTO_TCP4);
  assert_string_equal (e->spec.parent_ip, "127.0.0.1");
  assert_string_equal (e->spec.child_ip, "10.0.2.100");
  /* Host and guest of different families: libslirp 4.7 cannot forward that. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":9001,"
              "\"guest_addr\":\"fd00::100\",\"guest_port\":80}}", ADD_BAD ("guest_addr"));
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"::1\","
              "\"host_port\":9001,\"guest_addr\":\"10.0.2.100\",\"guest_port\":80}}",
          ADD_BAD ("guest_addr"));
  assert_int_equal (n_ports (fx), 4);
}

static void
test_add_port_zero (void **state)
{
  Fixture *fx = *state;

  /* host_port 0 (extension): a free port, reported in the reply. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":0,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":1,\"host_port\":40000}}");
  assert_int_equal (entry (fx, 1)->spec.parent_port, 40000);
  expect (fx, "{\"execute\":\"list_hostfwd\"}",
          "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":40000,"
          "\"guest_addr\":\"10.0.2.100\",\"guest_port\":80}]}");
}

/* Every argument missing, null where that is an error, of the wrong type, or out of range. */
static const struct {
  const char *args;
  const char *reply;
} add_cases[] = {
  { "", ADD_BAD ("proto") },
  { "\"proto\":null,\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":\"sctp\",\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":\"TCP\",\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":\"tcp4\",\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":6,\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":[\"tcp\"],\"host_port\":1,\"guest_port\":1", ADD_BAD ("proto") },
  { "\"proto\":\"tcp\",\"host_addr\":\"1.2.3\",\"host_port\":1,\"guest_port\":1",
    ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"host_addr\":\"localhost\",\"host_port\":1,\"guest_port\":1",
    ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"host_addr\":\"fe80::1%lo\",\"host_port\":1,\"guest_port\":1",
    ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"host_addr\":127,\"host_port\":1,\"guest_port\":1", ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"host_addr\":{},\"host_port\":1,\"guest_port\":1", ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":null,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":\"80\",\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":true,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":-1,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":65536,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":80.5,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":1e300,\"guest_port\":1", ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":\"10.0.2\",\"guest_port\":1",
    ADD_BAD ("guest_addr") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":5,\"guest_port\":1", ADD_BAD ("guest_addr") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":\"127.0.0.1\",\"guest_port\":1",
    ADD_BAD ("guest_addr") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":\"::1\",\"guest_port\":1",
    ADD_BAD ("guest_addr") },
  { "\"proto\":\"tcp\",\"host_port\":1", ADD_BAD ("guest_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_port\":0", ADD_BAD ("guest_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_port\":65536", ADD_BAD ("guest_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_port\":\"1\"", ADD_BAD ("guest_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_port\":null", ADD_BAD ("guest_port") },
  /* The first bad field in slirp4netns' order is named. */
  { "\"proto\":\"x\",\"host_addr\":\"x\",\"host_port\":0.5,\"guest_port\":0", ADD_BAD ("proto") },
  { "\"proto\":\"tcp\",\"host_addr\":\"x\",\"host_port\":0.5,\"guest_port\":0",
    ADD_BAD ("host_addr") },
  { "\"proto\":\"tcp\",\"host_port\":0.5,\"guest_addr\":\"x\",\"guest_port\":0",
    ADD_BAD ("host_port") },
  { "\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":0",
    ADD_BAD ("guest_addr") },
};

static void
test_add_bad_arguments (void **state)
{
  Fixture *fx = *state;

  for (gsize i = 0; i < G_N_ELEMENTS (add_cases); i++)
    {
      g_autofree char *req = g_strdup_printf (
        "{\"execute\":\"add_hostfwd\",\"arguments\":{%s}}", add_cases[i].args);
      expect (fx, req, add_cases[i].reply);
    }
  /* No arguments at all, or arguments that are not an object. */
  expect (fx, "{\"execute\":\"add_hostfwd\"}", ADD_BAD ("proto"));
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":null}", ADD_BAD ("proto"));
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":[1]}", ADD_BAD ("proto"));
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":\"tcp\"}", ADD_BAD ("proto"));
  assert_int_equal (n_ports (fx), 0);
  assert_int_equal (fx->driver.opened, 0);
}

static void
test_add_fails (void **state)
{
  Fixture *fx = *state;
  const char *add = "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                    "\"host_addr\":\"127.0.0.1\",\"host_port\":8080,\"guest_port\":80}}";
  g_autoptr (GError) detail = NULL;
  g_autofree char *reply = NULL;

  /* The driver fails: slirp4netns' text, the reason in @detail, no id used up. */
  fx->driver.fail_next = TRUE;
  reply = s4napi_handle (fx->mgr, &fx->net, add, strlen (add), &detail);
  assert_string_equal (reply, ERR ("add_hostfwd: slirp_add_hostfwd failed"));
  assert_non_null (detail);
  assert_true (g_error_matches (detail, NPTE_ERROR, EADDRINUSE));
  assert_non_null (strstr (detail->message, "127.0.0.1:8080"));
  expect (fx, add, "{\"return\":{\"id\":1}}");
  /* The same forward again conflicts (libslirp's bind would fail). */
  g_clear_error (&detail);
  g_clear_pointer (&reply, g_free);
  reply = s4napi_handle (fx->mgr, &fx->net, add, strlen (add), &detail);
  assert_string_equal (reply, ERR ("add_hostfwd: slirp_add_hostfwd failed"));
  assert_true (g_error_matches (detail, NPTE_ERROR, EADDRINUSE));
  assert_int_equal (n_ports (fx), 1);
  /* A success leaves @detail alone. */
  g_clear_error (&detail);
  g_clear_pointer (&reply, g_free);
  reply = s4napi_handle (fx->mgr, &fx->net, "{\"execute\":\"list_hostfwd\"}", 26, &detail);
  assert_null (detail);
}

static void
test_list (void **state)
{
  Fixture *fx = *state;
  PortSpec spec = { .proto = PORT_PROTO_TCP6, .parent_port = 7000, .child_port = 70 };

  expect (fx, "{\"execute\":\"list_hostfwd\"}", "{\"entries\":[]}");
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":8080,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":1}}");
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\",\"host_addr\":"
              "\"127.0.0.1\",\"host_port\":5353,\"guest_addr\":\"10.0.2.7\",\"guest_port\":53}}",
          "{\"return\":{\"id\":2}}");
  /* A port added otherwise, without addresses: the defaults of its family are shown. */
  fx->net.ipv6 = TRUE;
  assert_non_null (portmgr_add (fx->mgr, &spec, NULL));
  /* Arguments of list_hostfwd are ignored, as in slirp4netns. */
  expect (fx, "{\"execute\":\"list_hostfwd\",\"arguments\":{\"id\":1}}",
          "{\"entries\":["
          "{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"0.0.0.0\",\"host_port\":8080,"
          "\"guest_addr\":\"10.0.2.100\",\"guest_port\":80},"
          "{\"id\":2,\"proto\":\"udp\",\"host_addr\":\"127.0.0.1\",\"host_port\":5353,"
          "\"guest_addr\":\"10.0.2.7\",\"guest_port\":53},"
          "{\"id\":3,\"proto\":\"tcp\",\"host_addr\":\"::\",\"host_port\":7000,"
          "\"guest_addr\":\"fd00::100\",\"guest_port\":70}]}");
}

static void
test_remove (void **state)
{
  Fixture *fx = *state;
  static const char *const bad_ids[] = {
    "", "\"id\":null", "\"id\":\"1\"", "\"id\":0", "\"id\":-1", "\"id\":1.5", "\"id\":true",
    "\"id\":[1]", "\"id\":2", "\"id\":4294967297", "\"id\":1e30",
  };

  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":8080,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":1}}");
  for (gsize i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autofree char *req = g_strdup_printf (
        "{\"execute\":\"remove_hostfwd\",\"arguments\":{%s}}", bad_ids[i]);
      expect (fx, req, ERR ("remove_hostfwd: bad arguments.id"));
    }
  expect (fx, "{\"execute\":\"remove_hostfwd\"}", ERR ("remove_hostfwd: bad arguments.id"));
  assert_int_equal (n_ports (fx), 1);
  expect (fx, "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":1.0}}", "{\"return\":{}}");
  assert_int_equal (fx->driver.closed, 1);
  expect (fx, "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":1}}",
          ERR ("remove_hostfwd: bad arguments.id"));
  /* Ids are never reused. */
  expect (fx, "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_port\":8080,"
              "\"guest_port\":80}}", "{\"return\":{\"id\":2}}");
}

static void
test_top_level_errors (void **state)
{
  Fixture *fx = *state;
  g_autofree char *empty = s4napi_handle (fx->mgr, &fx->net, NULL, 0, NULL);

  assert_string_equal (empty, ERR ("cannot parse JSON"));
  expect (fx, "", ERR ("cannot parse JSON"));
  expect (fx, "   \n", ERR ("cannot parse JSON"));
  expect (fx, "{", ERR ("cannot parse JSON"));
  expect (fx, "{\"execute\":\"list_hostfwd\"", ERR ("cannot parse JSON"));
  expect (fx, "{'execute':'list_hostfwd'}", ERR ("cannot parse JSON"));
  expect (fx, "{\"execute\":\"list_hostfwd\",}", ERR ("cannot parse JSON"));
  expect (fx, "{\"execute\":\"list_hostfwd\"} {}", ERR ("cannot parse JSON"));
  expect (fx, "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":99999999999999999999}}",
          ERR ("cannot parse JSON")); /* beyond 64 bits */
  expect (fx, "\xff\xfe{}", ERR ("cannot parse JSON"));
  expect (fx, "[]", ERR ("json_object() failed"));
  expect (fx, "\"add_hostfwd\"", ERR ("json_object() failed"));
  expect (fx, "42", ERR ("json_object() failed"));
  expect (fx, "null", ERR ("json_object() failed"));
  expect (fx, "{}", ERR ("no execute found"));
  expect (fx, "{\"execute\":null}", ERR ("no execute found"));
  expect (fx, "{\"execute\":1}", ERR ("no execute found"));
  expect (fx, "{\"execute\":[\"list_hostfwd\"]}", ERR ("no execute found"));
  expect (fx, "{\"Execute\":\"list_hostfwd\"}", ERR ("no execute found"));
  expect (fx, "{\"execute\":\"bad\"}", ERR ("unknown execute"));
  expect (fx, "{\"execute\":\"\"}", ERR ("unknown execute"));
  expect (fx, "{\"execute\":\"LIST_HOSTFWD\"}", ERR ("unknown execute"));
  /* Whitespace and a trailing newline (Go's json.Encoder) are fine. */
  expect (fx, " { \"execute\" : \"list_hostfwd\" }\n", "{\"entries\":[]}");
}

static void
test_size_limit_and_nul (void **state)
{
  Fixture *fx = *state;
  g_autofree char *req = g_malloc (S4NAPI_MAX_REQUEST + 2);
  const char *head = "{\"execute\":\"list_hostfwd\",\"pad\":\"";
  g_autofree char *reply = NULL;
  gsize len;

  /* 4095 bytes are a request (slirp4netns reads into 4096 and needs the NUL) ... */
  len = S4NAPI_MAX_REQUEST - 1;
  memset (req, 'x', len);
  memcpy (req, head, strlen (head));
  memcpy (req + len - 2, "\"}", 2);
  reply = s4napi_handle (fx->mgr, &fx->net, req, len, NULL);
  assert_string_equal (reply, "{\"entries\":[]}");
  /* ... 4096 are too many, however they end. */
  g_clear_pointer (&reply, g_free);
  len = S4NAPI_MAX_REQUEST;
  memset (req, 'x', len);
  memcpy (req, head, strlen (head));
  memcpy (req + len - 2, "\"}", 2);
  reply = s4napi_handle (fx->mgr, &fx->net, req, len, NULL);
  assert_string_equal (reply, ERR ("too large message"));
  g_clear_pointer (&reply, g_free);
  reply = s4napi_handle (fx->mgr, &fx->net, req, len + 1, NULL);
  assert_string_equal (reply, ERR ("too large message"));
  /* slirp4netns reads the request as a C string: it ends at a NUL. */
  g_clear_pointer (&reply, g_free);
  reply = s4napi_handle (fx->mgr, &fx->net, "{\"execute\":\"list_hostfwd\"}\0junk", 31, NULL);
  assert_string_equal (reply, "{\"entries\":[]}");
  g_clear_pointer (&reply, g_free);
  reply = s4napi_handle (fx->mgr, &fx->net, "{\"execute\"\0:\"list_hostfwd\"}", 27, NULL);
  assert_string_equal (reply, ERR ("cannot parse JSON"));
}

static void
test_request_complete (void **state)
{
  assert_true (s4napi_request_complete ("{\"execute\":\"list_hostfwd\"}", 26));
  assert_true (s4napi_request_complete ("{\"execute\":\"list_hostfwd\"}\n", 27));
  assert_true (s4napi_request_complete ("[1]", 3));
  assert_true (s4napi_request_complete ("{}", 2));
  assert_false (s4napi_request_complete ("{\"execute\":\"list_hostfwd\"", 25));
  assert_false (s4napi_request_complete ("{\"execute\":\"list_hos", 20));
  /* A scalar may be the start of a longer one: wait for the end of the input. */
  assert_false (s4napi_request_complete ("12", 2));
  assert_false (s4napi_request_complete ("\"x\"", 3));
  assert_false (s4napi_request_complete ("", 0));
  assert_false (s4napi_request_complete (NULL, 0));
  assert_false (s4napi_request_complete ("garbage", 7));
  assert_true (s4napi_request_complete ("{}\0xx", 5));
}

/* The real server, on an ev loop in a thread. */
typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
  NetCfg net;
  char *dir;
  char *path;
  struct ev_loop *loop;
  ev_async stop;
  S4nApiServer *server;
  GThread *thread;
} ServerFixture;

static void
on_stop (struct ev_loop *loop, ev_async *w, int revents)
{
  ev_break (loop, EVBREAK_ALL);
}

static gpointer
loop_thread (gpointer data)
{
  ServerFixture *fx = data;

  ev_run (fx->loop, 0);
  return NULL;
}

static int
server_setup (void **state)
{
  ServerFixture *fx = g_new0 (ServerFixture, 1);
  g_autoptr (GError) error = NULL;

  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
  netcfg_init_defaults (&fx->net);
  fx->dir = g_dir_make_tmp ("npte-s4napi-XXXXXX", NULL);
  fx->path = g_build_filename (fx->dir, "api.sock", NULL);
  /* A stale socket from a killed run is replaced. */
  {
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    npte_autofd int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
    assert_int_equal (bind (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  }
  fx->loop = ev_loop_new (EVFLAG_AUTO);
  fx->server = s4napi_server_new (fx->loop, fx->path, fx->mgr, &fx->net, &error);
  if (fx->server == NULL)
    fail_msg ("s4napi_server_new: %s", error->message);
  ev_async_init (&fx->stop, on_stop);
  ev_async_start (fx->loop, &fx->stop);
  fx->thread = g_thread_new ("ev", loop_thread, fx);
  *state = fx;
  return 0;
}

static int
server_teardown (void **state)
{
  ServerFixture *fx = *state;

  ev_async_send (fx->loop, &fx->stop);
  g_thread_join (fx->thread);
  s4napi_server_free (fx->server);
  assert_false (g_file_test (fx->path, G_FILE_TEST_EXISTS));
  ev_loop_destroy (fx->loop);
  portmgr_free (fx->mgr);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/**
 * client_connect() - a blocking client with a 10 s receive timeout
 * @fx: fixture
 *
 * Return: the fd.
 */
static int
client_connect (ServerFixture *fx)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 10 };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/**
 * read_reply() - everything the server sends until it closes; fails on a reset
 * @fd: the client
 *
 * Return: (transfer full) the reply text.
 */
static char *
read_reply (int fd)
{
  GString *s = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (s, buf, n);
  if (n < 0)
    fail_msg ("read the reply: %s (so far: %s)", g_strerror (errno), s->str);
  return g_string_free (s, FALSE);
}

/**
 * call() - send @len bytes of @req, shut down (if @shut), read the reply
 * @fx: fixture
 * @req: request
 * @len: its length
 * @shut: shutdown(SHUT_WR) after the request
 *
 * Return: (transfer full) the reply.
 */
static char *
call (ServerFixture *fx, const char *req, gsize len, gboolean shut)
{
  npte_autofd int fd = client_connect (fx);
  gsize off = 0;

  while (off < len)
    {
      ssize_t n = write (fd, req + off, len - off);
      assert_true (n > 0);
      off += (gsize) n;
    }
  if (shut)
    shutdown (fd, SHUT_WR);
  return read_reply (fd);
}

static void
test_server_requests (void **state)
{
  ServerFixture *fx = *state;
  const char *add = "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                    "\"host_port\":8080,\"guest_port\":80}}";
  g_autofree char *r1 = call (fx, add, strlen (add), TRUE);
  /* A client that waits for the reply without shutting down its side. */
  g_autofree char *r2 = call (fx, "{\"execute\":\"list_hostfwd\"}", 26, FALSE);
  g_autofree char *r3 = call (fx, "{\"execute\":\"bad\"}", 17, TRUE);
  g_autofree char *r4 = call (fx, "", 0, TRUE);
  struct stat st;

  assert_string_equal (r1, "{\"return\":{\"id\":1}}");
  assert_non_null (strstr (r2, "\"host_port\":8080"));
  assert_string_equal (r3, ERR ("unknown execute"));
  assert_string_equal (r4, ERR ("cannot parse JSON"));
  assert_int_equal (lstat (fx->path, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
}

static void
test_server_too_large (void **state)
{
  ServerFixture *fx = *state;
  gsize len = 256 * 1024;
  g_autofree char *big = g_malloc (len);
  g_autofree char *reply = NULL;

  /* Far more than the limit: answered, and the rest is read so the client sees no reset. */
  memset (big, ' ', len);
  reply = call (fx, big, len, TRUE);
  assert_string_equal (reply, ERR ("too large message"));
}

static void
test_server_partial_request (void **state)
{
  ServerFixture *fx = *state;
  npte_autofd int idle = client_connect (fx);
  npte_autofd int half = client_connect (fx);
  g_autofree char *other = NULL;
  g_autofree char *late = NULL;
  gint64 start = g_get_monotonic_time ();

  /* Idle and half-sent clients do not hold up others ... */
  assert_int_equal (write (half, "{\"execute\":", 11), 11);
  other = call (fx, "{\"execute\":\"list_hostfwd\"}", 26, TRUE);
  assert_string_equal (other, "{\"entries\":[]}");
  assert_true (g_get_monotonic_time () - start < G_USEC_PER_SEC);
  /* ... and are answered and closed at the deadline. */
  late = read_reply (half);
  assert_string_equal (late, ERR ("cannot parse JSON"));
  g_free (late);
  late = read_reply (idle);
  assert_string_equal (late, "");
}

static void
test_server_path_errors (void **state)
{
  g_autofree char *dir = g_dir_make_tmp ("npte-s4napi-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "not-a-socket", NULL);
  g_autofree char *longpath = g_strnfill (200, 'a');
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  FakeDriver driver = { 0 };
  PortMgr *mgr = portmgr_new (&fake_ops, &driver);
  NetCfg net;
  GError *error = NULL;

  netcfg_init_defaults (&net);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  assert_null (s4napi_server_new (loop, file, mgr, &net, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EEXIST));
  assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_clear_error (&error);
  assert_null (s4napi_server_new (loop, longpath, mgr, &net, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, ENAMETOOLONG));
  g_clear_error (&error);
  g_unlink (file);
  g_rmdir (dir);
  portmgr_free (mgr);
  ev_loop_destroy (loop);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_add_defaults, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_ipv6, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_port_zero, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_bad_arguments, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_fails, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_top_level_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_size_limit_and_nul, setup, teardown),
    cmocka_unit_test (test_request_complete),
    cmocka_unit_test_setup_teardown (test_server_requests, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_too_large, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_partial_request, server_setup, server_teardown),
    cmocka_unit_test (test_server_path_errors),
  };

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
