/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the control API's JSON, decoding a PortSpec the Go way:
 * every field missing, each field of the wrong type, numbers, case-insensitive
 * keys, unknown keys, strict syntax, nesting and UTF-8; npte's extras
 * "portCount" and "direction" (values, wrong types, bad values).
 */
#include "apijson-helpers.h"

int main (void);

/**
 * assert_spec_fails() - @body must be refused with EINVAL mentioning @needle
 * @body: request body (NUL-terminated)
 * @needle: substring the message must contain
 */
static void
assert_spec_fails (const char *body, const char *needle)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  if (decode_spec (body, &spec, &error))
    fail_msg ("accepted %s", body);
  assert_einval (error, body, needle);
}

/**
 * assert_all_fail() - each body of @cases is refused as assert_spec_fails() checks
 * @cases: the table
 * @n: its size
 */
static void
assert_all_fail (const JsonNeedle *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    assert_spec_fails (cases[i].json, cases[i].needle);
}

static void
test_spec_full (void **state)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;
  PortSpec want = make_spec (PORT_PROTO_TCP6, "::1", 8080, "10.0.2.100", 80);

  assert_true (decode_spec ("{\"proto\":\"tcp6\",\"parentIP\":\"::1\",\"parentPort\":8080,"
                            "\"childIP\":\"10.0.2.100\",\"childPort\":80}",
                            &spec, &error));
  assert_null (error);
  assert_spec_eq (&spec, &want);
}

/* Every field missing in turn: the others are read, the missing one is zero. */
static void
test_spec_each_field_missing (void **state)
{
  static const char *const members[] = {
    "\"proto\":\"udp\"", "\"parentIP\":\"127.0.0.1\"", "\"parentPort\":5353",
    "\"childIP\":\"::2\"", "\"childPort\":53",
  };
  const PortSpec full = make_spec (PORT_PROTO_UDP, "127.0.0.1", 5353, "::2", 53);

  for (guint skip = 0; skip < G_N_ELEMENTS (members); skip++)
    {
      g_autoptr (GString) body = g_string_new ("{");
      g_autoptr (GError) error = NULL;
      PortSpec want = full, spec;

      for (guint i = 0; i < G_N_ELEMENTS (members); i++)
        if (i != skip)
          g_string_append_printf (body, "%s%s", body->len > 1 ? "," : "", members[i]);
      g_string_append_c (body, '}');
      switch (skip)
        {
        case 0: want.proto = PORT_PROTO_INVALID; break;
        case 1: want.parent_ip[0] = '\0'; break;
        case 2: want.parent_port = 0; break;
        case 3: want.child_ip[0] = '\0'; break;
        default: want.child_port = 0; break;
        }
      assert_true (decode_spec (body->str, &spec, &error));
      assert_spec_eq (&spec, &want);
    }
}

static void
test_spec_empty_object_and_null (void **state)
{
  const PortSpec zero = { 0 };
  PortSpec spec;

  memset (&spec, 0x55, sizeof spec);
  assert_true (decode_spec ("{}", &spec, NULL));
  assert_spec_eq (&spec, &zero);
  memset (&spec, 0x55, sizeof spec);
  /* Go decodes a top-level null into a struct as "no change": zero value. */
  assert_true (decode_spec (" null ", &spec, NULL));
  assert_spec_eq (&spec, &zero);
  assert_true (decode_spec ("{\"proto\":null,\"parentIP\":null,\"parentPort\":null,"
                            "\"childIP\":null,\"childPort\":null}",
                            &spec, NULL));
  assert_spec_eq (&spec, &zero);
}

static void
test_spec_wrong_types (void **state)
{
  static const JsonNeedle cases[] = {
    { "{\"proto\":5}", "cannot unmarshal number into field \"proto\" of type string" },
    { "{\"proto\":true}", "cannot unmarshal bool into field \"proto\"" },
    { "{\"proto\":[\"tcp\"]}", "cannot unmarshal array into field \"proto\"" },
    { "{\"parentIP\":1}", "cannot unmarshal number into field \"parentIP\"" },
    { "{\"parentIP\":{}}", "cannot unmarshal object into field \"parentIP\"" },
    { "{\"parentPort\":\"80\"}", "cannot unmarshal string into field \"parentPort\" of type int" },
    { "{\"parentPort\":false}", "cannot unmarshal bool into field \"parentPort\"" },
    { "{\"parentPort\":[80]}", "cannot unmarshal array into field \"parentPort\"" },
    { "{\"childIP\":true}", "cannot unmarshal bool into field \"childIP\"" },
    { "{\"childPort\":{\"a\":1}}", "cannot unmarshal object into field \"childPort\"" },
    { "{\"childPort\":\"x\"}", "cannot unmarshal string into field \"childPort\"" },
    { "[]", "cannot unmarshal array into PortSpec" },
    { "\"tcp\"", "cannot unmarshal string into PortSpec" },
    { "80", "cannot unmarshal number into PortSpec" },
    { "true", "cannot unmarshal bool into PortSpec" },
  };

  assert_all_fail (cases, G_N_ELEMENTS (cases));
}

static void
test_spec_numbers (void **state)
{
  PortSpec spec;

  assert_spec_fails ("{\"parentPort\":1.5}", "number 1.5 into field \"parentPort\"");
  assert_spec_fails ("{\"childPort\":1e99}", "into field \"childPort\"");
  assert_spec_fails ("{\"childPort\":1e2}", "number 100 into field \"childPort\"");
  assert_spec_fails ("{\"childPort\":80.0}", "number 80 into field \"childPort\"");
  assert_spec_fails ("{\"parentPort\":2147483648}", "2147483648 into field \"parentPort\"");
  assert_spec_fails ("{\"parentPort\":-2147483649}", "field \"parentPort\"");
  assert_spec_fails ("{\"parentPort\":99999999999999999999}",
                     "number 99999999999999999999 of field \"parentPort\" is out of range");
  assert_spec_fails ("{\"parentPort\":-99999999999999999999}", "out of range");
  assert_true (decode_spec ("{\"parentPort\":2147483647,\"childPort\":-2147483648}", &spec, NULL));
  assert_int_equal (spec.parent_port, G_MAXINT);
  assert_int_equal (spec.child_port, G_MININT);
  /* Decoding does not validate: a negative port is the validator's business. */
  assert_true (decode_spec ("{\"parentPort\":-5,\"childPort\":-0}", &spec, NULL));
  assert_int_equal (spec.parent_port, -5);
  assert_int_equal (spec.child_port, 0);
  /* A huge or fractional number in an unknown field is fine. */
  assert_true (decode_spec ("{\"foo\":1e999,\"bar\":0.5,\"childPort\":1}", &spec, NULL));
  assert_int_equal (spec.child_port, 1);
}

static void
test_spec_case_insensitive (void **state)
{
  PortSpec spec;
  PortSpec want = make_spec (PORT_PROTO_UDP4, "127.0.0.1", 8053, "10.0.2.3", 53);

  assert_true (decode_spec ("{\"PROTO\":\"udp4\",\"ParentIp\":\"127.0.0.1\",\"PARENTPORT\":8053,"
                            "\"childip\":\"10.0.2.3\",\"cHiLdPoRt\":53}",
                            &spec, NULL));
  assert_spec_eq (&spec, &want);
  /* The value is case-sensitive, as in rootlesskit. */
  assert_spec_fails ("{\"proto\":\"TCP\"}", "unknown proto: \"TCP\"");
  /* Near misses of key names are unknown keys, hence ignored. */
  assert_true (decode_spec ("{\"proto \":\"x\",\"parent_port\":\"y\",\"Pröto\":1}", &spec, NULL));
  assert_int_equal (spec.proto, PORT_PROTO_INVALID);
}

static void
test_spec_unknown_keys (void **state)
{
  PortSpec spec;

  assert_true (decode_spec ("{\"foo\":{\"bar\":[1,2,{\"x\":null}]},\"proto\":\"tcp\","
                            "\"id\":\"ignored\",\"childPort\":80,\"\":0}",
                            &spec, NULL));
  assert_int_equal (spec.proto, PORT_PROTO_TCP);
  assert_int_equal (spec.child_port, 80);
}

static void
test_spec_bad_strings (void **state)
{
  assert_spec_fails ("{\"proto\":\"\"}", "unknown proto: \"\"");
  assert_spec_fails ("{\"proto\":\"tcp\\u0001\"}", "unknown proto: \"tcp\\001\"");
  assert_spec_fails ("{\"parentIP\":\"1111:2222:3333:4444:5555:6666:7777:8888:9999:0000\"}",
                     "invalid ParentIP");
  assert_spec_fails ("{\"childIP\":\"1111:2222:3333:4444:5555:6666:7777:8888:9999:0000\"}",
                     "invalid ChildIP");
  /* A long value is quoted cut at 64 bytes, on a character boundary (the message is UTF-8). */
  {
    g_autoptr (GError) error = NULL;
    PortSpec spec;

    assert_false (decode_spec ("{\"childIP\":\"000000000000000000000000000000000000000000000000000"
                               "0000000000000\u00e9\"}", &spec, &error));
    assert_true (g_utf8_validate (error->message, -1, NULL));
    assert_string_equal (error->message, "invalid ChildIP: \"000000000000000000000000000000000000"
                                         "0000000000000000000000000000...\"");
    g_clear_error (&error);
    assert_false (decode_spec ("{\"parentIP\":"
                               "\"1111:2222:3333:4444:5555:6666:7777:8888:9999:000\u00e9\"}",
                               &spec, &error));
    assert_string_equal (error->message, "invalid ParentIP: \"1111:2222:3333:4444:5555:6666:7777:"
                                         "8888:9999:000\u00e9\"");
  }
}

static void
test_bad_json (void **state)
{
  static const char *const bodies[] = {
    "", " ", "\n", "{", "}", "{\"proto\":}", "{\"proto\" \"tcp\"}", "{'proto':'tcp'}",
    "/*c*/{}", "{} /* c */", "# c\n{}", "{\"a\":0x10}", "{\"a\":010}", "{\"a\":01}", "{} {}",
    "{}x", "{\"a\":1,}", "[1,]", "[,1]", "tru", "nul", "True", "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\'\"}", "{\"a\":\"\x01\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\\u0000\"}",
    "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
    "{\"a\":\"\\u12\"}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":+1}",
    "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":1e}", "{\"a\":1e+}", "{a:1}", "{\"a\":1 \"b\":2}",
    "{\"a\"}", "[1 2]", "\"unterminated", "{\"a\":[}", "\xef\xbb\xbf{}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    assert_spec_fails (bodies[i], "JSON");
}

static void
test_nesting_limit (void **state)
{
  g_autoptr (GString) ok = g_string_new ("{\"a\":");
  g_autoptr (GString) deep = NULL;
  PortSpec spec;

  for (int i = 0; i < 63; i++)
    g_string_append_c (ok, '[');
  for (int i = 0; i < 63; i++)
    g_string_append_c (ok, ']');
  g_string_append_c (ok, '}');
  assert_true (decode_spec (ok->str, &spec, NULL));
  deep = g_string_new (NULL);
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  assert_spec_fails (deep->str, "nested deeper than 64");
}

static void
test_non_utf8 (void **state)
{
  static const char body_nul[] = "{\"proto\":\"tcp\"}\0";
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  assert_spec_fails ("{\"proto\":\"\xff\"}", "invalid UTF-8 at offset 10");
  assert_spec_fails ("{\"proto\":\"tcp\",\"x\":\"\xc3\x28\"}", "invalid UTF-8");
  assert_spec_fails ("{\"\xed\xa0\x80\":1}", "invalid UTF-8"); /* encoded surrogate */
  assert_false (apijson_spec_decode (body_nul, sizeof body_nul - 1, &spec, &error));
  assert_int_equal (error->code, EINVAL);
  g_clear_error (&error);
  /* Valid non-ASCII text is fine (in an unknown key and value). */
  assert_true (decode_spec ("{\"h\xc3\xa9\":\"\xe2\x82\xac\\u00e9\\ud83d\\ude00\",\"proto\":\"tcp\"}",
                            &spec, NULL));
  /* Not NUL-terminated: only @len bytes are read. */
  assert_true (apijson_spec_decode ("{\"proto\":\"udp\"}garbage", 15, &spec, NULL));
  assert_int_equal (spec.proto, PORT_PROTO_UDP);
  assert_false (apijson_spec_decode (NULL, 0, &spec, NULL));
}

static void
test_spec_extras_decode (void **state)
{
  static const struct {
    const char *body;
    int count;
    gboolean reverse;
  } cases[] = {
    { "{\"portCount\":10,\"direction\":\"reverse\"}", 10, TRUE },
    { "{\"portCount\":1}", 1, FALSE },
    { "{\"portCount\":65535}", 65535, FALSE },
    { "{\"direction\":\"forward\"}", 0, FALSE },
    { "{\"direction\":\"\"}", 0, FALSE }, /* a Go client without omitempty */
    { "{\"direction\":null,\"portCount\":null}", 0, FALSE },
    { "{\"PORTCOUNT\":3,\"Direction\":\"reverse\"}", 3, TRUE },
    { "{\"portcount\":2,\"DIRECTION\":\"forward\"}", 2, FALSE },
    { "{\"direction\":\"reverse\",\"direction \":\"x\",\"port_count\":\"y\"}", 0, TRUE },
    /* decoding does not validate: the validator refuses these with its own message */
    { "{\"portCount\":-1}", -1, FALSE },
    { "{\"portCount\":65536}", 65536, FALSE },
    { "{\"portCount\":2147483647}", G_MAXINT, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      memset (&spec, 0x55, sizeof spec);
      if (!decode_spec (cases[i].body, &spec, &error))
        fail_msg ("%s: %s", cases[i].body, error->message);
      assert_int_equal (spec.count, cases[i].count);
      assert_int_equal (spec.reverse, cases[i].reverse);
    }
  /* The full request a reverse range sends. */
  {
    PortSpec spec;
    PortSpec want = make_spec (PORT_PROTO_UDP6, "::1", 5300, "", 0);

    want.count = 10;
    want.reverse = TRUE;
    assert_true (decode_spec ("{\"proto\":\"udp6\",\"parentIP\":\"::1\",\"parentPort\":5300,"
                              "\"portCount\":10,\"direction\":\"reverse\"}", &spec, NULL));
    assert_spec_eq (&spec, &want);
  }
}

static void
test_spec_extras_bad (void **state)
{
  static const JsonNeedle cases[] = {
    { "{\"portCount\":\"10\"}", "cannot unmarshal string into field \"portCount\" of type int" },
    { "{\"portCount\":true}", "cannot unmarshal bool into field \"portCount\" of type int" },
    { "{\"portCount\":[10]}", "cannot unmarshal array into field \"portCount\"" },
    { "{\"portCount\":{}}", "cannot unmarshal object into field \"portCount\"" },
    { "{\"portCount\":1.5}", "number 1.5 into field \"portCount\"" },
    { "{\"portCount\":10.0}", "number 10 into field \"portCount\"" },
    { "{\"portCount\":2147483648}", "2147483648 into field \"portCount\"" },
    { "{\"portCount\":-2147483649}", "into field \"portCount\"" },
    { "{\"portCount\":0}", "invalid PortCount: 0 (1-65535; leave it out for one port)" },
    { "{\"portCount\":-0}", "invalid PortCount: 0" },
    { "{\"direction\":1}", "cannot unmarshal number into field \"direction\" of type string" },
    { "{\"direction\":true}", "cannot unmarshal bool into field \"direction\" of type string" },
    { "{\"direction\":[\"reverse\"]}", "cannot unmarshal array into field \"direction\"" },
    { "{\"direction\":{}}", "cannot unmarshal object into field \"direction\"" },
    { "{\"direction\":\"Reverse\"}", "unknown direction: \"Reverse\" (forward or reverse)" },
    { "{\"direction\":\"both\"}", "unknown direction: \"both\"" },
    { "{\"direction\":\"reverse \"}", "unknown direction: \"reverse \"" },
    { "{\"direction\":\"in\\n\"}", "unknown direction: \"in\\n\"" },
    { "{\"direction\":\"<-\"}", "unknown direction: \"<-\"" },
  };

  assert_all_fail (cases, G_N_ELEMENTS (cases));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_spec_full),
    cmocka_unit_test (test_spec_each_field_missing),
    cmocka_unit_test (test_spec_empty_object_and_null),
    cmocka_unit_test (test_spec_wrong_types),
    cmocka_unit_test (test_spec_numbers),
    cmocka_unit_test (test_spec_case_insensitive),
    cmocka_unit_test (test_spec_unknown_keys),
    cmocka_unit_test (test_spec_bad_strings),
    cmocka_unit_test (test_bad_json),
    cmocka_unit_test (test_nesting_limit),
    cmocka_unit_test (test_non_utf8),
    cmocka_unit_test (test_spec_extras_decode),
    cmocka_unit_test (test_spec_extras_bad),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
