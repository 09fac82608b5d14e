/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the REST API's PortSpec extras: port ranges and reverse
 * ports through "portCount" and "direction" in api_handle() (conflicts,
 * automatic ports, one object per range), and every bad value of them
 * changing nothing.
 */
#include "api-helpers.h"

int main (void);

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

  expect_response (fx->mgr, "POST", "/v1/ports",
                   "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8000,"
                   "\"childPort\":80,\"portCount\":10}", 201,
                   "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                   "\"parentPort\":8000,\"childPort\":80,\"portCount\":10},"
                   "\"stats\":{\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                   "\"bytesOut\":0,\"errors\":0}}");
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
  expect_response (fx->mgr, "DELETE", "/v1/ports/4", NULL, 200, NULL);
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

  expect_response (fx->mgr, "POST", "/v1/ports",
                   "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":5432,"
                   "\"childPort\":5432,\"direction\":\"reverse\"}", 201,
                   "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                   "\"parentPort\":5432,\"childPort\":5432,\"direction\":\"reverse\"},"
                   "\"stats\":{\"connsAccepted\":7,\"connsActive\":0,\"bytesIn\":100,"
                   "\"bytesOut\":0,\"errors\":0}}");
  /* The same numbers forward: no conflict; "forward" is the default spelled out. */
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":5432,\"childPort\":5432,"
                                  "\"direction\":\"forward\"}"), 2);
  expect_error (fx->mgr, "POST", "/v1/ports",
                "{\"proto\":\"tcp6\",\"parentPort\":1,\"childPort\":5432,"
                "\"direction\":\"reverse\"}", 400,
                "conflict with ID 1 (reverse 127.0.0.1:5432:5432/tcp)");
  /* Auto port inside the namespace, and a reverse range. */
  expect_created (fx->mgr, "{\"proto\":\"udp\",\"parentPort\":53,\"direction\":\"reverse\"}",
                  "\"parentPort\":53,\"childPort\":40000,\"direction\":\"reverse\"}");
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":6000,\"childPort\":6000,"
                                  "\"portCount\":100,\"direction\":\"reverse\"}"), 4);
  list = list_json (fx->mgr);
  assert_int_equal (count_objects (list), 4);
  assert_non_null (strstr (list, "\"portCount\":100,\"direction\":\"reverse\"}"));
  expect_response (fx->mgr, "DELETE", "/v1/ports/1", NULL, 200, NULL);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp6\",\"parentPort\":1,\"childPort\":5432,"
                                  "\"direction\":\"reverse\"}"), 5);
}

static void
test_add_extras_bad_requests_change_nothing (void **state)
{
  static const BadPost cases[] = {
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

  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":7000,\"childPort\":7000,"
                                  "\"portCount\":10}"), 1);
  assert_int_equal (add (fx->mgr, "{\"proto\":\"tcp\",\"parentPort\":6000,\"childPort\":6000,"
                                  "\"portCount\":10,\"direction\":\"reverse\"}"), 2);
  assert_int_equal (fx->driver.opened, 2);
  /* A range the driver fails to open leaves nothing and uses up no id. */
  expect_bad_posts_change_nothing (fx, cases, G_N_ELEMENTS (cases),
                                   "{\"proto\":\"udp\",\"parentPort\":9000,\"childPort\":9000,"
                                   "\"portCount\":100}", 3);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_add_ranges, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_reverse, setup, teardown),
    cmocka_unit_test_setup_teardown (test_add_extras_bad_requests_change_nothing, setup,
                                     teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
