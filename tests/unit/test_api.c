/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the REST API: api_handle() over a port manager with a fake
 * driver (every route, status code and negative case, and that a failed
 * request changes nothing; port ranges and reverse ports through the
 * "portCount" and "direction" extras), then the real server (api_server_new) on a
 * socket in a temporary directory, driven by an ev loop in a thread and
 * called with httpc_request().
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

#include "api.h"
#include "apijson.h"
#include "httpc.h"
#include "npte-error.h"
#include "util.h"

int main (void);

#define TIMEOUT_MS 10000

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
      return npte_set_error (error, EADDRINUSE, "listen tcp :%d: bind: address already in use",
                             entry->spec.parent_port);
    }
  /* The listening side picks the free port: the host's, or the namespace's for reverse. */
  if (entry->spec.reverse && entry->spec.child_port == 0)
    entry->spec.child_port = d->next_auto_port++;
  else if (!entry->spec.reverse && entry->spec.parent_port == 0)
    entry->spec.parent_port = d->next_auto_port++;
  entry->counters.conns_accepted = 7;
  entry->counters.bytes_in = 100;
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
  .name = "fake", .protos = fake_protos, .supports_reverse = TRUE, .open = fake_open,
  .close = fake_close,
};

static const char *const test_dns[] = { "10.0.2.3", NULL };
static const NpteInfo test_info = {
  .api_version = "1.1.1", .version = "0.1.0", .state_dir = "/tmp/npte-test", .child_pid = 99,
  .net_driver = "slirp", .net_dns = test_dns, .port_driver = "fake", .port_protos = fake_protos,
};

typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
} Fixture;

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->driver.next_auto_port = 40000;
  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
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
 * call() - api_handle() with a NUL-terminated body (or NULL)
 * @mgr: manager (may be NULL)
 * @method: method
 * @path: path
 * @body: body or NULL
 * @resp: (out) the response
 */
static void
call (PortMgr *mgr, const char *method, const char *path, const char *body, ApiResponse *resp)
{
  api_handle (mgr, &test_info, method, path, body, body != NULL ? strlen (body) : 0, resp);
}

/**
 * expect_error() - a request must fail with @status and a message containing @needle
 * @mgr: manager
 * @method: method
 * @path: path
 * @body: body or NULL
 * @status: expected HTTP status
 * @needle: substring of the "message"
 */
static void
expect_error (PortMgr *mgr, const char *method, const char *path, const char *body,
              unsigned int status, const char *needle)
{
  ApiResponse resp;
  g_autofree char *message = NULL;

  call (mgr, method, path, body, &resp);
  if (resp.status != status)
    fail_msg ("%s %s %s: status %u (%s), want %u", method, path, body ? body : "",
              resp.status, resp.body ? resp.body : "", status);
  assert_non_null (resp.body);
  assert_true (apijson_validate (resp.body, strlen (resp.body), NULL));
  assert_true (g_str_has_prefix (resp.body, "{\"message\":\""));
  message = apijson_error_decode (resp.body, strlen (resp.body));
  if (message[0] == '\0' || strstr (message, needle) == NULL)
    fail_msg ("%s %s %s: message \"%s\" lacks \"%s\"", method, path, body ? body : "", message,
              needle);
  assert_true (status == 405 || resp.allow == NULL);
  g_free (resp.body);
}

/* list_json() - the body of GET /v1/ports (asserting 200). */
static char *
list_json (PortMgr *mgr)
{
  ApiResponse resp;

  call (mgr, "GET", "/v1/ports", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_non_null (resp.body);
  return resp.body;
}

/* add() - POST @body, assert 201 and return the new id. */
static int
add (PortMgr *mgr, const char *body)
{
  ApiResponse resp;
  PortEntry e;

  call (mgr, "POST", "/v1/ports", body, &resp);
  if (resp.status != 201)
    fail_msg ("POST %s: %u %s", body, resp.status, resp.body);
  assert_true (apijson_status_decode (resp.body, strlen (resp.body), &e, NULL));
  g_free (resp.body);
  return e.id;
}

static void
test_get_info (void **state)
{
  Fixture *fx = *state;
  g_autofree char *want = apijson_info_encode (&test_info);
  ApiResponse resp;

  call (fx->mgr, "GET", "/v1/info", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_string_equal (resp.body, want);
  assert_null (resp.allow);
  g_free (resp.body);
  /* Info does not depend on a port driver; a query string is ignored. */
  call (NULL, "GET", "/v1/info?pretty=1", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_string_equal (resp.body, want);
  g_free (resp.body);
  api_handle (fx->mgr, NULL, "GET", "/v1/info", NULL, 0, &resp);
  assert_int_equal (resp.status, 500);
  g_free (resp.body);
}

static void
test_list_empty (void **state)
{
  Fixture *fx = *state;
  g_autofree char *json = list_json (fx->mgr);

  assert_string_equal (json, "[]");
}

static void
test_add_list_remove (void **state)
{
  Fixture *fx = *state;
  g_autofree char *list = NULL;
  ApiResponse resp;

  call (fx->mgr, "POST", "/v1/ports",
        "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,\"childPort\":80}", &resp);
  assert_int_equal (resp.status, 201);
  assert_string_equal (resp.body, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                                  "\"parentPort\":8080,\"childPort\":80},\"stats\":{"
                                  "\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                                  "\"bytesOut\":0,\"errors\":0}}");
  g_free (resp.body);
  assert_int_equal (add (fx->mgr, "{\"Proto\":\"udp\",\"ParentPort\":5353,\"ChildPort\":53}"), 2);
  list = list_json (fx->mgr);
  assert_string_equal (list, "[{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                             "\"parentPort\":8080,\"childPort\":80},\"stats\":{"
                             "\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                             "\"bytesOut\":0,\"errors\":0}},{\"id\":2,\"spec\":{\"proto\":\"udp\","
                             "\"parentPort\":5353,\"childPort\":53},\"stats\":{"
                             "\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                             "\"bytesOut\":0,\"errors\":0}}]");
  g_free (list);

  call (fx->mgr, "DELETE", "/v1/ports/1", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_null (resp.body);
  assert_int_equal (fx->driver.closed, 1);
  list = list_json (fx->mgr);
  assert_non_null (strstr (list, "\"id\":2"));
  assert_null (strstr (list, "\"id\":1"));
  expect_error (fx->mgr, "DELETE", "/v1/ports/1", NULL, 400, "unknown id: 1");
  /* Leading zeros are the same id; a query string is ignored. */
  call (fx->mgr, "DELETE", "/v1/ports/002?force=1", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_null (resp.body);
  g_free (list);
  list = list_json (fx->mgr);
  assert_string_equal (list, "[]");
  /* Ids are not reused. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 3);
}

/* Every field missing in turn: only proto and childPort are required. */
static void
test_add_each_field_missing (void **state)
{
  Fixture *fx = *state;
  g_autofree char *before = list_json (fx->mgr);
  g_autofree char *after = NULL;
  ApiResponse resp;

  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,\"childIP\":\"127.0.0.2\","
                "\"childPort\":80}", 400, "unknown proto: \"\"");
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,"
                "\"childIP\":\"127.0.0.2\"}", 400, "invalid ChildPort: 0");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
  /* parentIP missing: all addresses. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8081,\"childIP\":\"127.0.0.2\","
                                  "\"childPort\":80}"), 1);
  /* childIP missing: the default target. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8082,"
                                  "\"childPort\":80}"), 2);
  /* parentPort missing: 0, an automatic port, which the driver picks. */
  call (fx->mgr, "POST", "/v1/ports",
        "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"childIP\":\"127.0.0.2\",\"childPort\":80}",
        &resp);
  assert_int_equal (resp.status, 201);
  assert_non_null (strstr (resp.body, "\"parentPort\":40000"));
  g_free (resp.body);
}

static void
test_add_bad_requests_change_nothing (void **state)
{
  static const struct {
    const char *body, *needle;
  } cases[] = {
    { "{not json", "invalid JSON" },
    { "", "invalid JSON: empty input" },
    { "[]", "cannot unmarshal array into PortSpec" },
    { "null", "unknown proto" },
    { "{\"proto\":\"tcp\",\"parentPort\":\"80\",\"childPort\":80}", "field \"parentPort\"" },
    { "{\"proto\":5,\"parentPort\":80,\"childPort\":80}", "field \"proto\"" },
    { "{\"proto\":\"tcp\",\"parentIP\":1,\"childPort\":80}", "field \"parentIP\"" },
    { "{\"proto\":\"tcp\",\"childIP\":[],\"childPort\":80}", "field \"childIP\"" },
    { "{\"proto\":\"tcp\",\"childPort\":\"80\"}", "field \"childPort\"" },
    { "{\"proto\":\"tcp\",\"childPort\":80.5}", "field \"childPort\"" },
    { "{\"proto\":\"TCP\",\"childPort\":80}", "unknown proto: \"TCP\"" },
    { "{\"proto\":\"tcp\",\"parentPort\":70000,\"childPort\":80}", "invalid ParentPort: 70000" },
    { "{\"proto\":\"tcp\",\"parentPort\":-1,\"childPort\":80}", "invalid ParentPort: -1" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":65536}", "invalid ChildPort: 65536" },
    { "{\"proto\":\"tcp\",\"parentIP\":\"bad\",\"parentPort\":80,\"childPort\":80}", "ParentIP" },
    { "{\"proto\":\"tcp\",\"childIP\":\"1.2.3.4.5\",\"parentPort\":80,\"childPort\":80}", "ChildIP" },
    { "{\"proto\":\"sctp\",\"parentPort\":80,\"childPort\":80}", "sctp" },
    { "{\"proto\":\"\xff\xfe\",\"parentPort\":1,\"childPort\":1}", "invalid UTF-8" },
    { "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}", "conflict with ID 1" },
  };
  Fixture *fx = *state;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 1);
  before = list_json (fx->mgr);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_error (fx->mgr, "POST", "/v1/ports", cases[i].body, 400, cases[i].needle);
  expect_error (fx->mgr, "POST", "/v1/ports", NULL, 400, "empty input");
  /* The driver fails to open: 400 with its message, and the id is not used up. */
  fx->driver.fail_next = TRUE;
  expect_error (fx->mgr, "POST", "/v1/ports", "{\"proto\":\"udp\",\"parentPort\":53,\"childPort\":53}",
                400, "address already in use");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
  assert_int_equal (fx->driver.opened, 1);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"udp\",\"parentPort\":53,\"childPort\":53}"), 2);
}

static void
test_remove_bad_ids (void **state)
{
  static const char *const bad[] = {
    "abc", "-1", "+1", "1x", "x1", "1.0", "%20", " 1", "1 ", "0x1", "99999999999", "2147483648",
    "\xff", "1\n",
  };
  Fixture *fx = *state;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 1);
  before = list_json (fx->mgr);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = g_strconcat ("/v1/ports/", bad[i], NULL);
      expect_error (fx->mgr, "DELETE", path, NULL, 400, "bad id ");
    }
  expect_error (fx->mgr, "DELETE", "/v1/ports/abc", NULL, 400,
                "bad id abc: not a positive decimal number");
  expect_error (fx->mgr, "DELETE", "/v1/ports/99999999999", NULL, 400,
                "bad id 99999999999: out of range");
  expect_error (fx->mgr, "DELETE", "/v1/ports/0", NULL, 400, "unknown id: 0");
  expect_error (fx->mgr, "DELETE", "/v1/ports/2", NULL, 400, "unknown id: 2");
  expect_error (fx->mgr, "DELETE", "/v1/ports/2147483647", NULL, 400, "unknown id: 2147483647");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
  assert_int_equal (fx->driver.closed, 0);
}

static void
test_not_found (void **state)
{
  static const char *const paths[] = {
    "/", "", "/v1", "/v1/", "/v1/info/", "/v2/ports", "/v1/portsx", "/v1/ports/", "/v1/ports//1",
    "/v1/ports/1/", "/v1/ports/1/x", "v1/ports", "/V1/PORTS", "//v1/ports", "/v1/ports/../info",
    "/v1/infox",
  };
  Fixture *fx = *state;
  g_autofree char *before = list_json (fx->mgr);
  g_autofree char *after = NULL;
  ApiResponse resp;

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      expect_error (fx->mgr, "GET", paths[i], NULL, 404, "not found: ");
      expect_error (fx->mgr, "DELETE", paths[i], NULL, 404, "not found: ");
      expect_error (fx->mgr, "POST", paths[i], "{\"proto\":\"tcp\",\"childPort\":1}", 404,
                    "not found: ");
    }
  expect_error (fx->mgr, "GET", "/nope?x", NULL, 404, "not found: /nope");
  api_handle (fx->mgr, &test_info, NULL, NULL, NULL, 0, &resp);
  assert_int_equal (resp.status, 404);
  g_free (resp.body);
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
}

static void
test_wrong_method (void **state)
{
  static const struct {
    const char *method, *path, *allow;
  } cases[] = {
    { "PUT", "/v1/ports", "GET, POST" }, { "DELETE", "/v1/ports", "GET, POST" },
    { "PATCH", "/v1/ports", "GET, POST" }, { "HEAD", "/v1/ports", "GET, POST" },
    { "get", "/v1/ports", "GET, POST" }, { "", "/v1/ports", "GET, POST" },
    { "GET", "/v1/ports/1", "DELETE" }, { "POST", "/v1/ports/1", "DELETE" },
    { "PUT", "/v1/ports/abc", "DELETE" }, { "POST", "/v1/info", "GET" },
    { "DELETE", "/v1/info", "GET" }, { "OPTIONS", "/v1/info?x", "GET" },
  };
  Fixture *fx = *state;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 1);
  before = list_json (fx->mgr);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      ApiResponse resp;
      expect_error (fx->mgr, cases[i].method, cases[i].path, "{}", 405, "is not allowed");
      call (fx->mgr, cases[i].method, cases[i].path, NULL, &resp);
      assert_string_equal (resp.allow, cases[i].allow);
      g_free (resp.body);
    }
  expect_error (fx->mgr, "PUT", "/v1/ports", NULL, 405,
                "method PUT is not allowed on /v1/ports (allowed: GET, POST)");
  /* Even without a driver, the route decides first. */
  expect_error (NULL, "PUT", "/v1/ports/1", NULL, 405, "allowed: DELETE");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
}

static void
test_no_driver (void **state)
{
  expect_error (NULL, "GET", "/v1/ports", NULL, 400, "no port driver is available");
  expect_error (NULL, "POST", "/v1/ports", "{\"proto\":\"tcp\",\"childPort\":80}", 400,
                "no port driver is available");
  expect_error (NULL, "POST", "/v1/ports", "{bad", 400, "no port driver is available");
  expect_error (NULL, "DELETE", "/v1/ports/1", NULL, 400, "no port driver is available");
  expect_error (NULL, "GET", "/v1/nope", NULL, 404, "not found");
}

/* count_objects() - how many PortStatus objects a list body holds. */
static guint
count_objects (const char *list)
{
  g_autoptr (GPtrArray) entries = apijson_status_list_decode (list, strlen (list), NULL);

  assert_non_null (entries);
  return entries->len;
}

static void
test_add_ranges (void **state)
{
  Fixture *fx = *state;
  g_autofree char *list = NULL;
  ApiResponse resp;

  call (fx->mgr, "POST", "/v1/ports",
        "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8000,\"childPort\":80,"
        "\"portCount\":10}", &resp);
  assert_int_equal (resp.status, 201);
  assert_string_equal (resp.body, "{\"id\":1,\"spec\":{\"proto\":\"tcp\","
                                  "\"parentIP\":\"127.0.0.1\",\"parentPort\":8000,"
                                  "\"childPort\":80,\"portCount\":10},"
                                  "\"stats\":{\"connsAccepted\":7,\"connsActive\":0,"
                                  "\"bytesIn\":100,\"bytesOut\":0,\"errors\":0}}");
  g_free (resp.body);
  assert_int_equal (fx->driver.opened, 1);
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"tcp4\",\"parentPort\":8009,\"childPort\":1}", 400,
                "conflict with ID 1 (127.0.0.1:8000-8009:80-89/tcp)");
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"tcp\",\"parentPort\":7991,\"childPort\":1,\"portCount\":10}", 400,
                "conflict with ID 1 (127.0.0.1:8000-8009:80-89/tcp)");
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":7990,\"childPort\":1,"
                                  "\"portCount\":10}"), 2);
  /* portCount 1 is the same as leaving it out. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"udp\",\"parentPort\":8000,\"childPort\":1,"
                                  "\"portCount\":1}"), 3);
  list = list_json (fx->mgr);
  assert_non_null (strstr (list, "\"id\":3,\"spec\":{\"proto\":\"udp\",\"parentPort\":8000,"
                                 "\"childPort\":1},"));
  g_free (list);
  /* A 10 000-port range: one request, one open, one object, one delete. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                                  "\"parentPort\":20000,\"childPort\":20000,\"portCount\":10000}"),
                    4);
  assert_int_equal (fx->driver.opened, 4);
  list = list_json (fx->mgr);
  assert_int_equal (count_objects (list), 4);
  assert_non_null (strstr (list, "\"parentPort\":20000,\"childPort\":20000,\"portCount\":10000}"));
  g_free (list);
  call (fx->mgr, "DELETE", "/v1/ports/4", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_int_equal (fx->driver.closed, 1);
  list = list_json (fx->mgr);
  assert_int_equal (count_objects (list), 3);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":25000,\"childPort\":1}"), 5);
}

static void
test_add_reverse (void **state)
{
  Fixture *fx = *state;
  g_autofree char *list = NULL;
  ApiResponse resp;

  call (fx->mgr, "POST", "/v1/ports",
        "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":5432,\"childPort\":5432,"
        "\"direction\":\"reverse\"}", &resp);
  assert_int_equal (resp.status, 201);
  assert_string_equal (resp.body, "{\"id\":1,\"spec\":{\"proto\":\"tcp\","
                                  "\"parentIP\":\"127.0.0.1\",\"parentPort\":5432,"
                                  "\"childPort\":5432,"
                                  "\"direction\":\"reverse\"},\"stats\":{\"connsAccepted\":7,"
                                  "\"connsActive\":0,\"bytesIn\":100,\"bytesOut\":0,"
                                  "\"errors\":0}}");
  g_free (resp.body);
  /* The same numbers forward: no conflict; "forward" is the default spelled out. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":5432,\"childPort\":5432,"
                                  "\"direction\":\"forward\"}"), 2);
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"tcp6\",\"parentPort\":1,\"childPort\":5432,"
                "\"direction\":\"reverse\"}", 400,
                "conflict with ID 1 (reverse 127.0.0.1:5432:5432/tcp)");
  /* Auto port inside the namespace, and a reverse range. */
  call (fx->mgr, "POST", "/v1/ports",
        "{\"proto\":\"udp\",\"parentPort\":53,\"direction\":\"reverse\"}", &resp);
  assert_int_equal (resp.status, 201);
  assert_non_null (strstr (resp.body, "\"parentPort\":53,\"childPort\":40000,"
                                      "\"direction\":\"reverse\"}"));
  g_free (resp.body);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":6000,\"childPort\":6000,"
                                  "\"portCount\":100,\"direction\":\"reverse\"}"), 4);
  list = list_json (fx->mgr);
  assert_int_equal (count_objects (list), 4);
  assert_non_null (strstr (list, "\"portCount\":100,\"direction\":\"reverse\"}"));
  call (fx->mgr, "DELETE", "/v1/ports/1", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp6\",\"parentPort\":1,\"childPort\":5432,"
                                  "\"direction\":\"reverse\"}"), 5);
}

static void
test_add_extras_bad_requests_change_nothing (void **state)
{
  static const struct {
    const char *body, *needle;
  } cases[] = {
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"direction\":\"up\"}",
      "unknown direction: \"up\"" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"direction\":\"REVERSE\"}",
      "unknown direction" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"direction\":1}",
      "field \"direction\" of type string" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"direction\":true}",
      "field \"direction\"" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"portCount\":\"2\"}",
      "field \"portCount\" of type int" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"portCount\":2.5}",
      "field \"portCount\"" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"portCount\":0}",
      "invalid PortCount: 0" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":80,\"portCount\":-1}",
      "invalid PortCount: -1 (1-65535)" },
    { "{\"proto\":\"tcp\",\"parentPort\":1,\"childPort\":1,\"portCount\":65536}",
      "invalid PortCount: 65536 (1-65535)" },
    { "{\"proto\":\"tcp\",\"parentPort\":1,\"childPort\":1,\"portCount\":99999999999}",
      "field \"portCount\"" },
    { "{\"proto\":\"tcp\",\"parentPort\":65530,\"childPort\":80,\"portCount\":10}",
      "invalid ParentPort range: 65530-65539 (ports end at 65535)" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"childPort\":65530,\"portCount\":10}",
      "invalid ChildPort range: 65530-65539 (ports end at 65535)" },
    { "{\"proto\":\"tcp\",\"childPort\":80,\"portCount\":10}",
      "invalid ParentPort range: 0-9 (port 0 picks one free port" },
    { "{\"proto\":\"tcp\",\"childPort\":80,\"direction\":\"reverse\"}",
      "invalid ParentPort: 0 (a reverse port connects to this host port" },
    { "{\"proto\":\"tcp\",\"parentPort\":80,\"portCount\":2,\"direction\":\"reverse\"}",
      "invalid ChildPort range: 0-1" },
    { "{\"proto\":\"tcp\",\"parentIP\":\"0.0.0.0\",\"parentPort\":80,\"direction\":\"reverse\"}",
      "invalid ParentIP \"0.0.0.0\" for a reverse port" },
    { "{\"proto\":\"udp\",\"parentIP\":\"::\",\"parentPort\":80,\"direction\":\"reverse\"}",
      "invalid ParentIP \"::\" for a reverse port" },
    { "{\"proto\":\"tcp4\",\"parentPort\":80,\"childIP\":\"::1\",\"direction\":\"reverse\"}",
      "invalid ChildIP \"::1\" for proto tcp4" },
    { "{\"proto\":\"tcp\",\"parentPort\":7005,\"childPort\":1}", "conflict with ID 1" },
    { "{\"proto\":\"tcp\",\"parentPort\":1,\"childPort\":6005,\"direction\":\"reverse\"}",
      "conflict with ID 2 (reverse 6000-6009:6000-6009/tcp)" },
  };
  Fixture *fx = *state;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":7000,\"childPort\":7000,"
                                  "\"portCount\":10}"), 1);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":6000,\"childPort\":6000,"
                                  "\"portCount\":10,\"direction\":\"reverse\"}"), 2);
  before = list_json (fx->mgr);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_error (fx->mgr, "POST", "/v1/ports", cases[i].body, 400, cases[i].needle);
  /* A range the driver fails to open leaves nothing and uses up no id. */
  fx->driver.fail_next = TRUE;
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"udp\",\"parentPort\":9000,\"childPort\":9000,\"portCount\":100}", 400,
                "address already in use");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
  assert_int_equal (fx->driver.opened, 2);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"udp\",\"parentPort\":9000,\"childPort\":9000,"
                                  "\"portCount\":100}"), 3);
}


/* ------------------------------------------------------------------------ */
/* The real server                                                          */

typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
  char *dir;
  char *path;
  struct ev_loop *loop;
  ev_async stop;
  ApiServer *server;
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

  fx->driver.next_auto_port = 40000;
  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
  fx->dir = g_dir_make_tmp ("npte-api-XXXXXX", NULL);
  fx->path = g_build_filename (fx->dir, "api.sock", NULL);
  fx->loop = ev_loop_new (EVFLAG_AUTO);
  fx->server = api_server_new (fx->loop, fx->path, fx->mgr, &test_info, &error);
  if (fx->server == NULL)
    fail_msg ("api_server_new: %s", error->message);
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
  api_server_free (fx->server);
  /* The socket is gone once the server is freed. */
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
 * request() - one request to the test server; asserts that it completed
 * @fx: fixture
 * @method: method
 * @path: path
 * @body: body or NULL
 * @resp: (out) response
 */
static void
request (ServerFixture *fx, const char *method, const char *path, const char *body,
         HttpcResponse *resp)
{
  g_autoptr (GError) error = NULL;

  if (!httpc_request (fx->path, method, path, body, TIMEOUT_MS, resp, &error))
    fail_msg ("%s %s: %s", method, path, error->message);
}

/**
 * raw_request() - send raw text on a new connection and read until EOF
 * @fx: fixture
 * @raw: request text
 *
 * Return: (transfer full) what the server sent.
 */
static GString *
raw_request (ServerFixture *fx, const char *raw)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = 10 };
  GString *out = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void) !send (fd, raw, strlen (raw), MSG_NOSIGNAL);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  return out;
}

static void
test_server_socket_mode (void **state)
{
  ServerFixture *fx = *state;
  struct stat st;

  assert_int_equal (lstat (fx->path, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0600);
}

static void
test_server_routes (void **state)
{
  ServerFixture *fx = *state;
  g_autofree char *info = apijson_info_encode (&test_info);
  g_auto (HttpcResponse) r = { 0 };

  request (fx, "GET", "/v1/info", NULL, &r);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.content_type, "application/json");
  assert_string_equal (r.body, info);
  httpc_response_clear (&r);

  request (fx, "GET", "/v1/ports", NULL, &r);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.body, "[]");
  httpc_response_clear (&r);

  request (fx, "POST", "/v1/ports", "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}", &r);
  assert_int_equal (r.status, 201);
  assert_string_equal (r.content_type, "application/json");
  assert_true (g_str_has_prefix (r.body, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentPort\":8080,"));
  httpc_response_clear (&r);

  request (fx, "GET", "/v1/ports", NULL, &r);
  assert_int_equal (r.status, 200);
  g_autoptr (GPtrArray) list = apijson_status_list_decode (r.body, r.body_len, NULL);
  assert_int_equal (list->len, 1);
  httpc_response_clear (&r);

  request (fx, "POST", "/v1/ports", "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":81}", &r);
  assert_int_equal (r.status, 400);
  assert_string_equal (r.content_type, "application/json");
  assert_non_null (strstr (r.body, "conflict with ID 1"));
  httpc_response_clear (&r);

  request (fx, "DELETE", "/v1/ports/1", NULL, &r);
  assert_int_equal (r.status, 200);
  assert_int_equal (r.body_len, 0);
  httpc_response_clear (&r);

  request (fx, "DELETE", "/v1/ports/1", NULL, &r);
  assert_int_equal (r.status, 400);
  assert_string_equal (r.body, "{\"message\":\"unknown id: 1\"}");
  httpc_response_clear (&r);

  request (fx, "GET", "/v1/nope", NULL, &r);
  assert_int_equal (r.status, 404);
  assert_string_equal (r.body, "{\"message\":\"not found: /v1/nope\"}");
  httpc_response_clear (&r);

  request (fx, "PUT", "/v1/info", "{}", &r);
  assert_int_equal (r.status, 405);
  httpc_response_clear (&r);

  request (fx, "GET", "/v1/ports", NULL, &r);
  assert_string_equal (r.body, "[]");
}

static void
test_server_body_limit (void **state)
{
  ServerFixture *fx = *state;
  const char *spec = "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}";
  g_autoptr (GString) body = g_string_new (spec);
  g_auto (HttpcResponse) r = { 0 };
  g_autoptr (GString) raw = NULL;

  /* One byte over the limit: 413 and nothing added. */
  while (body->len < API_MAX_BODY + 1)
    g_string_append_c (body, ' ');
  request (fx, "POST", "/v1/ports", body->str, &r);
  assert_int_equal (r.status, 413);
  assert_string_equal (r.content_type, "application/json");
  assert_string_equal (r.body, "{\"message\":\"request body too large (the limit is 65536 bytes)\"}");
  httpc_response_clear (&r);
  /* Far over (4 MiB): the client still gets the answer. */
  while (body->len < 4 * 1024 * 1024)
    g_string_append (body, "                                ");
  request (fx, "POST", "/v1/ports", body->str, &r);
  assert_int_equal (r.status, 413);
  httpc_response_clear (&r);
  request (fx, "GET", "/v1/ports", NULL, &r);
  assert_string_equal (r.body, "[]");
  httpc_response_clear (&r);

  /* Exactly the limit is fine. */
  g_string_truncate (body, API_MAX_BODY);
  request (fx, "POST", "/v1/ports", body->str, &r);
  assert_int_equal (r.status, 201);
  httpc_response_clear (&r);

  /* A huge announced length is refused before any body is sent. */
  raw = raw_request (fx, "POST /v1/ports HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  assert_true (g_str_has_prefix (raw->str, "HTTP/1.1 413 "));
}

static void
test_server_raw_requests (void **state)
{
  static const char chunked[]
    = "POST /v1/ports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "10\r\n{\"proto\":\"udp\",\r\n1f\r\n\"parentPort\":53,\"childPort\":53}\r\n0\r\n\r\n";
  static const char keepalive[]
    = "GET /v1/ports HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/info HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n";
  ServerFixture *fx = *state;
  g_autoptr (GString) out = NULL;

  /* A chunked request body is reassembled. */
  out = raw_request (fx, chunked);
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 201 "));
  assert_non_null (strstr (out->str, "\"parentPort\":53"));
  g_string_free (out, TRUE);
  /* Two requests on one connection, as Go's client may do. */
  out = raw_request (fx, keepalive);
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 200 "));
  assert_non_null (strstr (out->str, "\"apiVersion\":\"1.1.1\""));
  g_string_free (out, TRUE);
  /* Garbage gets an HTTP error from libmicrohttpd, and the server lives on. */
  out = raw_request (fx, "\x16\x03\x01garbage\r\n\r\n");
  if (out->len > 0 && !g_str_has_prefix (out->str, "HTTP/1.1 4"))
    fail_msg ("garbage got %s", out->str);
  g_string_free (out, TRUE);
  out = raw_request (fx, "GET /v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 200 "));
}

static void
test_server_slow_client (void **state)
{
  ServerFixture *fx = *state;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_auto (HttpcResponse) r = { 0 };
  gint64 start;

  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  assert_int_equal (send (fd, "GET /v1/in", 10, MSG_NOSIGNAL), 10);
  /* Half a request on one connection does not hold up the others. */
  start = g_get_monotonic_time ();
  for (int i = 0; i < 200; i++)
    {
      request (fx, "GET", "/v1/info", NULL, &r);
      assert_int_equal (r.status, 200);
      httpc_response_clear (&r);
    }
  assert_true (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC);
}

static void
test_server_path_handling (void **state)
{
  g_autofree char *dir = g_dir_make_tmp ("npte-api-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "api.sock", NULL);
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  g_autoptr (GError) error = NULL;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  ApiServer *server;
  int fd;
  g_autoptr (GString) longpath = g_string_new (dir);

  /* A stale socket (its server gone) is replaced. */
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  assert_int_equal (bind (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  close (fd);
  server = api_server_new (loop, path, NULL, &test_info, &error);
  assert_non_null (server);
  api_server_free (server);
  assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Something else at the path is not removed. */
  assert_true (g_file_set_contents (file, "keep", -1, NULL));
  assert_null (api_server_new (loop, file, NULL, &test_info, &error));
  assert_int_equal (error->code, EEXIST);
  assert_non_null (strstr (error->message, file));
  assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_clear_error (&error);

  while (longpath->len < 120)
    g_string_append (longpath, "/xxxxxxxxxx");
  assert_null (api_server_new (loop, longpath->str, NULL, &test_info, &error));
  assert_int_equal (error->code, ENAMETOOLONG);
  g_clear_error (&error);

  g_unlink (file);
  g_rmdir (dir);
  ev_loop_destroy (loop);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_get_info, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_empty, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_list_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_each_field_missing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_bad_requests_change_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove_bad_ids, setup, teardown),
    cmocka_unit_test_setup_teardown (test_not_found, setup, teardown),
    cmocka_unit_test_setup_teardown (test_wrong_method, setup, teardown),
    cmocka_unit_test (test_no_driver),
    cmocka_unit_test_setup_teardown (test_add_ranges, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_reverse, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_extras_bad_requests_change_nothing, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_server_socket_mode, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_routes, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_body_limit, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_raw_requests, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_slow_client, server_setup, server_teardown),
    cmocka_unit_test (test_server_path_handling),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
