/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the REST API's routes: api_handle() over a port manager
 * with a fake driver (every route, status code and negative case, and that
 * a failed request changes nothing).
 */
#include "api-helpers.h"

int main (void);

/* with_one_port() - add the port 8080:80/tcp (id 1) and return the list (transfer full). */
static char *
with_one_port (Fixture *fx)
{
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 1);
  return list_json (fx->mgr);
}

static void
test_get_info (void **state)
{
  Fixture *fx = *state;
  g_autofree char *want = apijson_info_encode (&test_info);
  ApiResponse resp;

  expect_response (fx->mgr, "GET", "/v1/info", NULL, 200, want);
  /* Info does not depend on a port driver; a query string is ignored. */
  expect_response (NULL, "GET", "/v1/info?pretty=1", NULL, 200, want);
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

  expect_response (fx->mgr, "POST", "/v1/ports",
                   "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,"
                   "\"childPort\":80}", 201,
                   "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                   "\"parentPort\":8080,\"childPort\":80},\"stats\":{"
                   "\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                   "\"bytesOut\":0,\"errors\":0}}");
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

  expect_response (fx->mgr, "DELETE", "/v1/ports/1", NULL, 200, NULL);
  assert_int_equal (fx->driver.closed, 1);
  list = list_json (fx->mgr);
  assert_non_null (strstr (list, "\"id\":2"));
  assert_null (strstr (list, "\"id\":1"));
  expect_error (fx->mgr, "DELETE", "/v1/ports/1", NULL, 400, "unknown id: 1");
  /* Leading zeros are the same id; a query string is ignored. */
  expect_response (fx->mgr, "DELETE", "/v1/ports/002?force=1", NULL, 200, NULL);
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
  expect_created (fx->mgr,
                  "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"childIP\":\"127.0.0.2\","
                  "\"childPort\":80}", "\"parentPort\":40000");
}

static void
test_add_bad_requests_change_nothing (void **state)
{
  static const BadPost cases[] = {
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
    { NULL, "empty input" },
  };
  Fixture *fx = *state;

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}"), 1);
  assert_int_equal (fx->driver.opened, 1);
  /* The driver fails to open: 400 with its message, and the id is not used up. */
  expect_bad_posts_change_nothing (fx, cases, G_N_ELEMENTS (cases),
                                   "{\"proto\":\"udp\",\"parentPort\":53,\"childPort\":53}", 2);
}

static void
test_remove_bad_ids (void **state)
{
  static const char *const bad[] = {
    "abc", "-1", "+1", "1x", "x1", "1.0", "%20", " 1", "1 ", "0x1", "99999999999", "2147483648",
    "\xff", "1\n",
  };
  Fixture *fx = *state;
  g_autofree char *before = with_one_port (fx);
  g_autofree char *after = NULL;

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
  g_autofree char *before = with_one_port (fx);
  g_autofree char *after = NULL;

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
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
