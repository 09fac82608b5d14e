/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the control API's JSON, the other documents and the
 * encoders: exact PortSpec encodings and round trips, PortStatus and its
 * list (Go's key folding), error bodies, NpteInfo, pretty-printing; the
 * extras "portCount" and "direction" in encodings, a 10 000-port range as
 * one object.
 */
#include "apijson-helpers.h"

int main (void);

/**
 * assert_encodes() - @spec encodes to exactly @want, which decodes back to @spec
 * @spec: the spec
 * @want: its JSON
 */
static void
assert_encodes (const PortSpec *spec, const char *want)
{
  g_autofree char *json = apijson_spec_encode (spec);
  PortSpec back;

  assert_string_equal (json, want);
  assert_true (decode_spec (json, &back, NULL));
  assert_spec_eq (&back, spec);
}

static void
test_spec_encode (void **state)
{
  PortSpec full = make_spec (PORT_PROTO_TCP, "127.0.0.1", 8080, "10.0.2.100", 80);
  PortSpec min = make_spec (PORT_PROTO_UDP, "", 0, "", 53);
  PortSpec zero = { 0 };

  assert_encodes (&full, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,"
                         "\"childIP\":\"10.0.2.100\",\"childPort\":80}");
  assert_encodes (&min, "{\"proto\":\"udp\",\"childPort\":53}");
  assert_encodes (&zero, "{}");
}

static PortEntry
make_entry (int id, PortSpec spec)
{
  PortEntry e = { .id = id, .spec = spec };

  e.counters.conns_accepted = 10;
  e.counters.conns_active = 2;
  e.counters.bytes_in = 1234567890123ULL;
  e.counters.bytes_out = 42;
  e.counters.errors = 1;
  return e;
}

static void
assert_entry_eq (const PortEntry *a, const PortEntry *b)
{
  assert_int_equal (a->id, b->id);
  assert_spec_eq (&a->spec, &b->spec);
  assert_memory_equal (&a->counters, &b->counters, sizeof a->counters);
}

/**
 * assert_status_encodes() - @e encodes to exactly @want, which decodes back to @e
 * @e: the entry
 * @want: its JSON
 */
static void
assert_status_encodes (const PortEntry *e, const char *want)
{
  g_autofree char *json = apijson_status_encode (e);
  PortEntry back;

  assert_string_equal (json, want);
  assert_true (apijson_status_decode (json, strlen (json), &back, NULL));
  assert_entry_eq (&back, e);
}

/**
 * list_round_trip() - the list of @a and @b encodes to JSON that decodes back to them
 * @a: first entry
 * @b: second entry
 *
 * Return: (transfer full) the JSON of the list.
 */
static char *
list_round_trip (PortEntry *a, PortEntry *b)
{
  g_autoptr (GPtrArray) two = g_ptr_array_new ();
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;
  char *json;

  g_ptr_array_add (two, a);
  g_ptr_array_add (two, b);
  json = apijson_status_list_encode (two);
  back = apijson_status_list_decode (json, strlen (json), &error);
  assert_null (error);
  assert_non_null (back);
  assert_int_equal (back->len, 2);
  assert_entry_eq (g_ptr_array_index (back, 0), a);
  assert_entry_eq (g_ptr_array_index (back, 1), b);
  return json;
}

static void
test_status_encode (void **state)
{
  PortEntry e = make_entry (3, make_spec (PORT_PROTO_TCP4, "", 8080, "", 80));
  g_autofree char *json = NULL;

  assert_status_encodes (&e, "{\"id\":3,\"spec\":{\"proto\":\"tcp4\",\"parentPort\":8080,"
                             "\"childPort\":80},\"stats\":{\"connsAccepted\":10,"
                             "\"connsActive\":2,\"bytesIn\":1234567890123,\"bytesOut\":42,"
                             "\"errors\":1}}");
  e.counters.bytes_out = G_MAXUINT64; /* clamped to what JSON readers take */
  json = apijson_status_encode (&e);
  assert_non_null (strstr (json, "\"bytesOut\":9223372036854775807"));
}

static void
test_status_decode (void **state)
{
  static const JsonNeedle bad[] = {
    { "{\"id\":\"1\"}", "field \"id\"" },
    { "{\"id\":1.5}", "field \"id\"" },
    { "{\"spec\":[]}", "into field \"spec\"" },
    { "{\"spec\":{\"childPort\":\"80\"}}", "field \"childPort\"" },
    { "{\"stats\":5}", "field \"stats\"" },
    { "{\"stats\":{\"bytesIn\":-1}}", "field \"bytesIn\"" },
    { "{\"stats\":{\"errors\":\"0\"}}", "field \"errors\"" },
    { "[]", "cannot unmarshal array into PortStatus" },
    { "{\"id\":1", "JSON" },
  };
  PortEntry e;

  /* rootlesskit's shape: no stats; an unknown proto is kept as INVALID. */
  assert_true (apijson_status_decode (LIT ("{\"ID\":7,\"Spec\":{\"proto\":\"quic\",\"parentPort\":1,"
                                      "\"childPort\":2}}"), &e, NULL));
  assert_int_equal (e.id, 7);
  assert_int_equal (e.spec.proto, PORT_PROTO_INVALID);
  assert_int_equal (e.spec.child_port, 2);
  assert_int_equal (e.counters.conns_accepted, 0);
  /* Go's folding: U+017F (long s) matches 's', U+212A (Kelvin) matches 'k'. */
  assert_true (apijson_status_decode (LIT ("{\"\xc5\xbfpec\":{\"proto\":\"udp\"},\"\xc5\xbftat\xc5\xbf\":"
                                      "{\"errors\":4}}"), &e, NULL));
  assert_int_equal (e.spec.proto, PORT_PROTO_UDP);
  assert_int_equal (e.counters.errors, 4);
  assert_true (apijson_status_decode (LIT ("null"), &e, NULL));
  assert_int_equal (e.id, 0);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      assert_false (apijson_status_decode (bad[i].json, strlen (bad[i].json), &e, &error));
      assert_einval (error, bad[i].json, bad[i].needle);
    }
}

static void
test_key_folding (void **state)
{
  PortEntry e;

  /* Kelvin sign K (U+212A) does not match 's'; "spéc" is unknown. */
  assert_true (apijson_status_decode (LIT ("{\"sp\xc3\xa9" "c\":{\"proto\":1}}"), &e, NULL));
  g_autofree char *kelvin = apijson_error_decode (LIT ("{\"\xe2\x84\xaa\":1}"));
  g_autofree char *msg = apijson_error_decode (LIT ("{\"me\xc5\xbf\xc5\xbf" "age\":\"folded\"}"));
  assert_string_equal (kelvin, "{\"\xe2\x84\xaa\":1}");
  assert_string_equal (msg, "folded");
}

static void
test_status_list (void **state)
{
  static const struct {
    const char *json;
    gsize size;
    guint len;
  } lists[] = {
    { LIT ("[]"), 0 },
    { LIT ("null"), 0 }, /* rootlesskit's empty list */
    { LIT ("[null]"), 1 },
  };
  static const JsonNeedle bad[] = {
    { "{}", "" },
    { "[1]", "PortStatus[0]" },
    { "[{},{\"id\":\"x\"}]", "field \"id\"" },
    { "[", "" },
  };
  g_autoptr (GPtrArray) empty = g_ptr_array_new ();
  PortEntry a = make_entry (1, make_spec (PORT_PROTO_TCP, "", 8080, "", 80));
  PortEntry b = make_entry (5, make_spec (PORT_PROTO_UDP6, "::1", 5353, "::1", 53));
  g_autofree char *e1 = apijson_status_list_encode (empty);
  g_autofree char *e2 = apijson_status_list_encode (NULL);
  g_autofree char *json = NULL;

  assert_string_equal (e1, "[]");
  assert_string_equal (e2, "[]");
  json = list_round_trip (&a, &b);
  for (gsize i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      g_autoptr (GPtrArray) back = apijson_status_list_decode (lists[i].json, lists[i].size, NULL);

      assert_non_null (back);
      assert_int_equal (back->len, lists[i].len);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      assert_null (apijson_status_list_decode (bad[i].json, strlen (bad[i].json), &error));
      assert_einval (error, bad[i].json, bad[i].needle);
    }
}

static void
test_error_encode_decode (void **state)
{
  /* Error bodies from npte, rootlesskit and Go's HTTP server, and not JSON at all. */
  static const struct {
    const char *body;
    gsize len;
    const char *message;
  } cases[] = {
    { LIT ("{\"Message\":\"conflict with ID 1\"}\n"), "conflict with ID 1" },
    { LIT ("404 page not found\n"), "404 page not found" },
    { LIT ("{\"message\":5}"), "{\"message\":5}" },
    { LIT ("bad \xff\0x"), "bad \xef\xbf\xbd\xef\xbf\xbdx" },
    { LIT (""), "" },
    { NULL, 0, "" },
  };
  g_autofree char *a = apijson_error_encode ("bad \"x\"\\\n\t\x01\x1f\x7f \xe2\x80\xa8 \xc3\xa9");
  g_autofree char *b = apijson_error_encode (NULL);
  g_autofree char *c = apijson_error_encode ("bad \xff utf8");
  g_autofree char *m = NULL;

  assert_string_equal (a, "{\"message\":\"bad \\\"x\\\"\\\\\\n\\t\\u0001\\u001f\x7f \\u2028 \xc3\xa9\"}");
  assert_true (apijson_validate (a, strlen (a), NULL));
  assert_string_equal (b, "{\"message\":\"\"}");
  assert_string_equal (c, "{\"message\":\"bad \xef\xbf\xbd utf8\"}");
  m = apijson_error_decode (a, strlen (a));
  assert_string_equal (m, "bad \"x\"\\\n\t\x01\x1f\x7f \xe2\x80\xa8 \xc3\xa9");
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = apijson_error_decode (cases[i].body, cases[i].len);

      assert_true (g_utf8_validate (message, -1, NULL));
      assert_string_equal (message, cases[i].message);
    }
}

static const char *const test_dns[] = { "10.0.2.3", NULL };
static const char *const test_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };

static NpteInfo
full_info (void)
{
  NpteInfo info = {
    .api_version = "1.1.1", .version = "0.1.0", .state_dir = "/run/user/1000/npte/x",
    .child_pid = 4242, .net_driver = "slirp", .net_dns = test_dns, .net_child_ip = "10.0.2.100",
    .net_gateway = "10.0.2.2", .net_mtu = 65520, .port_driver = "builtin",
    .port_protos = test_protos, .disallow_loopback_child_ip = TRUE,
  };
  return info;
}

static void
test_info_encode (void **state)
{
  NpteInfo info = full_info ();
  NpteInfo bare = { .api_version = "1.1.1", .child_pid = 7 };
  NpteInfo nodns = { .net_driver = "none", .port_driver = "builtin" };
  g_autofree char *a = apijson_info_encode (&info);
  g_autofree char *b = apijson_info_encode (&bare);
  g_autofree char *c = apijson_info_encode (&nodns);

  assert_string_equal (a, "{\"apiVersion\":\"1.1.1\",\"version\":\"0.1.0\",\"stateDir\":"
                          "\"/run/user/1000/npte/x\",\"childPID\":4242,\"networkDriver\":{"
                          "\"driver\":\"slirp\",\"dns\":[\"10.0.2.3\"],\"childIP\":\"10.0.2.100\","
                          "\"gateway\":\"10.0.2.2\",\"mtu\":65520},\"portDriver\":{\"driver\":"
                          "\"builtin\",\"protos\":[\"tcp\",\"tcp4\",\"tcp6\",\"udp\",\"udp4\","
                          "\"udp6\"],\"disallowLoopbackChildIP\":true}}");
  assert_string_equal (b, "{\"apiVersion\":\"1.1.1\",\"childPID\":7}");
  assert_string_equal (c, "{\"childPID\":0,\"networkDriver\":{\"driver\":\"none\"},\"portDriver\":"
                          "{\"driver\":\"builtin\",\"protos\":[]}}");
  info.state_dir = "/tmp/\xff\x01";
  g_free (a);
  a = apijson_info_encode (&info);
  assert_true (apijson_validate (a, strlen (a), NULL));
  assert_non_null (strstr (a, "\"/tmp/\xef\xbf\xbd\\u0001\""));
}

static void
test_info_decode (void **state)
{
  NpteInfo info = full_info ();
  g_autofree char *json = apijson_info_encode (&info);
  NpteInfo *back = apijson_info_decode (json, strlen (json), NULL);
  g_autoptr (GError) error = NULL;

  assert_non_null (back);
  assert_string_equal (back->api_version, "1.1.1");
  assert_string_equal (back->version, "0.1.0");
  assert_string_equal (back->state_dir, info.state_dir);
  assert_int_equal (back->child_pid, 4242);
  assert_string_equal (back->net_driver, "slirp");
  assert_string_equal (back->net_dns[0], "10.0.2.3");
  assert_null (back->net_dns[1]);
  assert_string_equal (back->net_child_ip, "10.0.2.100");
  assert_string_equal (back->net_gateway, "10.0.2.2");
  assert_int_equal (back->net_mtu, 65520);
  assert_string_equal (back->port_driver, "builtin");
  assert_string_equal (back->port_protos[5], "udp6");
  assert_null (back->port_protos[6]);
  assert_true (back->disallow_loopback_child_ip);
  apijson_info_free (back);

  /* rootlesskit's documented example; networkDriver absent (--net=host). */
  back = apijson_info_decode (LIT ("{\"apiVersion\":\"1.1.0\",\"portDriver\":{\"driver\":\"builtin\","
                              "\"protos\":[\"tcp\",\"udp\"]},\"dynamicChildIP\":true}"), NULL);
  assert_non_null (back);
  assert_null (back->net_driver);
  assert_null (back->version);
  assert_string_equal (back->port_protos[1], "udp");
  apijson_info_free (back);
  back = apijson_info_decode (LIT ("{\"portDriver\":{}}"), NULL);
  assert_string_equal (back->port_driver, "");
  assert_null (back->port_protos);
  apijson_info_free (back);

  assert_null (apijson_info_decode (LIT ("{\"childPID\":\"1\"}"), &error));
  assert_non_null (strstr (error->message, "field \"childPID\""));
  g_clear_error (&error);
  assert_null (apijson_info_decode (LIT ("{\"portDriver\":{\"protos\":[\"tcp\",1]}}"), &error));
  assert_non_null (strstr (error->message, "field \"protos[1]\""));
  g_clear_error (&error);
  assert_null (apijson_info_decode (LIT ("{\"networkDriver\":[]}"), &error));
  assert_non_null (strstr (error->message, "field \"networkDriver\""));
  g_clear_error (&error);
  assert_null (apijson_info_decode (LIT ("[]"), &error));
  apijson_info_free (NULL);
}

static void
test_pretty (void **state)
{
  static const char in[] = " {\"a\":[1,{}, [ ] ,\"x,:{}\\\"\"],\"b\":{\"c\":null}} ";
  g_autofree char *out = apijson_pretty (in, sizeof in - 1);

  assert_string_equal (out, "{\n    \"a\": [\n        1,\n        {},\n        [],\n"
                            "        \"x,:{}\\\"\"\n    ],\n    \"b\": {\n        \"c\": null\n"
                            "    }\n}");
  assert_null (apijson_pretty ("{", 1));
  g_free (out);
  out = apijson_pretty ("[]", 2);
  assert_string_equal (out, "[]");
}

static void
test_spec_extras_encode (void **state)
{
  PortSpec range = make_spec (PORT_PROTO_TCP, "127.0.0.1", 8000, "", 80);
  PortSpec rev = make_spec (PORT_PROTO_UDP6, "::1", 53, "::1", 5353);
  PortSpec one = make_spec (PORT_PROTO_TCP, "", 8080, "", 80);
  g_autofree char *d = NULL;
  PortSpec back;

  range.count = 10;
  rev.count = 2;
  rev.reverse = TRUE;
  one.count = 1;
  assert_encodes (&range, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8000,"
                          "\"childPort\":80,\"portCount\":10}");
  assert_encodes (&rev, "{\"proto\":\"udp6\",\"parentIP\":\"::1\",\"parentPort\":53,"
                        "\"childIP\":\"::1\",\"childPort\":5353,\"portCount\":2,"
                        "\"direction\":\"reverse\"}");
  /* One forward port is written exactly as rootlesskit writes it. */
  assert_encodes (&one, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}");
  /* An unvalidated count round-trips too; 0 (not given) is omitted. */
  one.count = -7;
  d = apijson_spec_encode (&one);
  assert_non_null (strstr (d, "\"portCount\":-7"));
  assert_true (decode_spec (d, &back, NULL));
  assert_int_equal (back.count, -7);
  g_free (d);
  one.count = 0;
  d = apijson_spec_encode (&one);
  assert_null (strstr (d, "portCount"));
}

static void
test_status_extras (void **state)
{
  PortEntry a = make_entry (1, make_spec (PORT_PROTO_TCP, "127.0.0.1", 20000, "", 20000));
  PortEntry b = make_entry (2, make_spec (PORT_PROTO_TCP, "", 5432, "", 5432));
  g_autofree char *json = NULL;
  PortEntry e;

  a.spec.count = 10000;
  b.spec.reverse = TRUE;
  assert_status_encodes (&a, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                             "\"parentPort\":20000,\"childPort\":20000,\"portCount\":10000},"
                             "\"stats\":{\"connsAccepted\":10,\"connsActive\":2,"
                             "\"bytesIn\":1234567890123,\"bytesOut\":42,\"errors\":1}}");
  /* A 10 000-port range is one object in the list. */
  json = list_round_trip (&a, &b);
  assert_non_null (strstr (json, "\"portCount\":10000}"));
  assert_non_null (strstr (json, "\"childPort\":5432,\"direction\":\"reverse\"}"));
  /* Client side: an unknown direction reads as forward, like an unknown proto is kept. */
  assert_true (apijson_status_decode (LIT ("{\"id\":3,\"spec\":{\"direction\":\"sideways\"}}"), &e,
                                      NULL));
  assert_false (e.spec.reverse);
  assert_false (apijson_status_decode (LIT ("{\"spec\":{\"direction\":5}}"), &e, NULL));
  assert_false (apijson_status_decode (LIT ("{\"spec\":{\"portCount\":0}}"), &e, NULL));
  assert_false (apijson_status_decode (LIT ("{\"spec\":{\"portCount\":\"2\"}}"), &e, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_spec_encode),
    cmocka_unit_test (test_status_encode),
    cmocka_unit_test (test_status_decode),
    cmocka_unit_test (test_key_folding),
    cmocka_unit_test (test_status_list),
    cmocka_unit_test (test_error_encode_decode),
    cmocka_unit_test (test_info_encode),
    cmocka_unit_test (test_info_decode),
    cmocka_unit_test (test_pretty),
    cmocka_unit_test (test_spec_extras_encode),
    cmocka_unit_test (test_status_extras),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
