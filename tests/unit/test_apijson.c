/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the control API's JSON: Go-compatible decoding (every field
 * missing, each field of the wrong type, case-insensitive keys, unknown
 * keys, strict syntax), exact encodings, and round trips; npte's PortSpec
 * extras "portCount" and "direction" (values, wrong types, bad values,
 * omission, round trips, a 10 000-port range as one object).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "apijson.h"
#include "npte-error.h"

int main (void);

/* LIT() - a string literal and its length, for the (text, len) decoders. */
#define LIT(s) (s), (sizeof (s) - 1)

/* decode_spec() - apijson_spec_decode() on a NUL-terminated body. */
static gboolean
decode_spec (const char *body, PortSpec *spec, GError **error)
{
  return apijson_spec_decode (body, strlen (body), spec, error);
}

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
  assert_non_null (error);
  assert_int_equal (error->code, EINVAL);
  if (strstr (error->message, needle) == NULL)
    fail_msg ("body %s: message \"%s\" lacks \"%s\"", body, error->message, needle);
}

static void
assert_spec_eq (const PortSpec *a, const PortSpec *b)
{
  assert_int_equal (a->proto, b->proto);
  assert_string_equal (a->parent_ip, b->parent_ip);
  assert_int_equal (a->parent_port, b->parent_port);
  assert_string_equal (a->child_ip, b->child_ip);
  assert_int_equal (a->child_port, b->child_port);
  assert_int_equal (portspec_count (a), portspec_count (b));
  assert_int_equal (!a->reverse, !b->reverse);
}

static PortSpec
make_spec (PortProto proto, const char *pip, int pport, const char *cip, int cport)
{
  PortSpec s = { .proto = proto, .parent_port = pport, .child_port = cport };

  g_strlcpy (s.parent_ip, pip, sizeof s.parent_ip);
  g_strlcpy (s.child_ip, cip, sizeof s.child_ip);
  return s;
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
  static const struct {
    const char *body, *needle;
  } cases[] = {
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

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_spec_fails (cases[i].body, cases[i].needle);
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
test_spec_encode (void **state)
{
  PortSpec full = make_spec (PORT_PROTO_TCP, "127.0.0.1", 8080, "10.0.2.100", 80);
  PortSpec min = make_spec (PORT_PROTO_UDP, "", 0, "", 53);
  PortSpec zero = { 0 };
  g_autofree char *a = apijson_spec_encode (&full);
  g_autofree char *b = apijson_spec_encode (&min);
  g_autofree char *c = apijson_spec_encode (&zero);
  PortSpec back;

  assert_string_equal (a, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8080,"
                          "\"childIP\":\"10.0.2.100\",\"childPort\":80}");
  assert_string_equal (b, "{\"proto\":\"udp\",\"childPort\":53}");
  assert_string_equal (c, "{}");
  assert_true (decode_spec (a, &back, NULL));
  assert_spec_eq (&back, &full);
  assert_true (decode_spec (b, &back, NULL));
  assert_spec_eq (&back, &min);
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

static void
test_status_encode (void **state)
{
  PortEntry e = make_entry (3, make_spec (PORT_PROTO_TCP4, "", 8080, "", 80));
  g_autofree char *json = apijson_status_encode (&e);
  PortEntry back;

  assert_string_equal (json, "{\"id\":3,\"spec\":{\"proto\":\"tcp4\",\"parentPort\":8080,"
                             "\"childPort\":80},\"stats\":{\"connsAccepted\":10,"
                             "\"connsActive\":2,\"bytesIn\":1234567890123,\"bytesOut\":42,"
                             "\"errors\":1}}");
  assert_true (apijson_status_decode (json, strlen (json), &back, NULL));
  assert_entry_eq (&back, &e);
  e.counters.bytes_out = G_MAXUINT64; /* clamped to what JSON readers take */
  g_free (json);
  json = apijson_status_encode (&e);
  assert_non_null (strstr (json, "\"bytesOut\":9223372036854775807"));
}

static void
test_status_decode (void **state)
{
  static const struct {
    const char *json, *needle;
  } bad[] = {
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
      assert_int_equal (error->code, EINVAL);
      if (strstr (error->message, bad[i].needle) == NULL)
        fail_msg ("%s: \"%s\" lacks \"%s\"", bad[i].json, error->message, bad[i].needle);
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
  g_autoptr (GPtrArray) empty = g_ptr_array_new ();
  g_autoptr (GPtrArray) two = g_ptr_array_new ();
  PortEntry a = make_entry (1, make_spec (PORT_PROTO_TCP, "", 8080, "", 80));
  PortEntry b = make_entry (5, make_spec (PORT_PROTO_UDP6, "::1", 5353, "::1", 53));
  g_autofree char *e1 = apijson_status_list_encode (empty);
  g_autofree char *e2 = apijson_status_list_encode (NULL);
  g_autofree char *json = NULL;
  g_autoptr (GPtrArray) back = NULL;
  g_autoptr (GError) error = NULL;

  assert_string_equal (e1, "[]");
  assert_string_equal (e2, "[]");
  g_ptr_array_add (two, &a);
  g_ptr_array_add (two, &b);
  json = apijson_status_list_encode (two);
  back = apijson_status_list_decode (json, strlen (json), &error);
  assert_non_null (back);
  assert_int_equal (back->len, 2);
  assert_entry_eq (g_ptr_array_index (back, 0), &a);
  assert_entry_eq (g_ptr_array_index (back, 1), &b);
  g_clear_pointer (&back, g_ptr_array_unref);

  back = apijson_status_list_decode (LIT ("[]"), NULL);
  assert_int_equal (back->len, 0);
  g_clear_pointer (&back, g_ptr_array_unref);
  back = apijson_status_list_decode (LIT ("null"), NULL); /* rootlesskit's empty list */
  assert_int_equal (back->len, 0);
  g_clear_pointer (&back, g_ptr_array_unref);
  back = apijson_status_list_decode (LIT ("[null]"), NULL);
  assert_int_equal (back->len, 1);
  g_clear_pointer (&back, g_ptr_array_unref);

  assert_null (apijson_status_list_decode (LIT ("{}"), &error));
  assert_int_equal (error->code, EINVAL);
  g_clear_error (&error);
  assert_null (apijson_status_list_decode (LIT ("[1]"), &error));
  assert_non_null (strstr (error->message, "PortStatus[0]"));
  g_clear_error (&error);
  assert_null (apijson_status_list_decode (LIT ("[{},{\"id\":\"x\"}]"), &error));
  assert_non_null (strstr (error->message, "field \"id\""));
  g_clear_error (&error);
  assert_null (apijson_status_list_decode (LIT ("["), &error));
}

static void
test_error_encode_decode (void **state)
{
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
  g_free (m);
  m = apijson_error_decode (LIT ("{\"Message\":\"conflict with ID 1\"}\n"));
  assert_string_equal (m, "conflict with ID 1");
  g_free (m);
  m = apijson_error_decode (LIT ("404 page not found\n"));
  assert_string_equal (m, "404 page not found");
  g_free (m);
  m = apijson_error_decode (LIT ("{\"message\":5}"));
  assert_string_equal (m, "{\"message\":5}");
  g_free (m);
  m = apijson_error_decode (LIT ("bad \xff\0x"));
  assert_true (g_utf8_validate (m, -1, NULL));
  assert_string_equal (m, "bad \xef\xbf\xbd\xef\xbf\xbdx");
  g_free (m);
  m = apijson_error_decode (LIT (""));
  assert_string_equal (m, "");
  g_free (m);
  m = apijson_error_decode (NULL, 0);
  assert_string_equal (m, "");
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
  static const struct {
    const char *body, *needle;
  } cases[] = {
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

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_spec_fails (cases[i].body, cases[i].needle);
}

static void
test_spec_extras_encode (void **state)
{
  PortSpec range = make_spec (PORT_PROTO_TCP, "127.0.0.1", 8000, "", 80);
  PortSpec rev = make_spec (PORT_PROTO_UDP6, "::1", 53, "::1", 5353);
  PortSpec one = make_spec (PORT_PROTO_TCP, "", 8080, "", 80);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *d = NULL;
  PortSpec back;

  range.count = 10;
  rev.count = 2;
  rev.reverse = TRUE;
  one.count = 1;
  a = apijson_spec_encode (&range);
  b = apijson_spec_encode (&rev);
  c = apijson_spec_encode (&one);
  assert_string_equal (a, "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":8000,"
                          "\"childPort\":80,\"portCount\":10}");
  assert_string_equal (b, "{\"proto\":\"udp6\",\"parentIP\":\"::1\",\"parentPort\":53,"
                          "\"childIP\":\"::1\",\"childPort\":5353,\"portCount\":2,"
                          "\"direction\":\"reverse\"}");
  /* One forward port is written exactly as rootlesskit writes it. */
  assert_string_equal (c, "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}");
  assert_true (decode_spec (a, &back, NULL));
  assert_spec_eq (&back, &range);
  assert_true (decode_spec (b, &back, NULL));
  assert_spec_eq (&back, &rev);
  assert_true (decode_spec (c, &back, NULL));
  assert_spec_eq (&back, &one);
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
  g_autoptr (GPtrArray) two = g_ptr_array_new ();
  g_autoptr (GPtrArray) back = NULL;
  g_autofree char *json = NULL;
  g_autofree char *one = NULL;
  PortEntry e;

  a.spec.count = 10000;
  b.spec.reverse = TRUE;
  one = apijson_status_encode (&a);
  assert_string_equal (one, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\","
                            "\"parentPort\":20000,\"childPort\":20000,\"portCount\":10000},"
                            "\"stats\":{\"connsAccepted\":10,\"connsActive\":2,"
                            "\"bytesIn\":1234567890123,\"bytesOut\":42,\"errors\":1}}");
  assert_true (apijson_status_decode (one, strlen (one), &e, NULL));
  assert_entry_eq (&e, &a);
  /* A 10 000-port range is one object in the list. */
  g_ptr_array_add (two, &a);
  g_ptr_array_add (two, &b);
  json = apijson_status_list_encode (two);
  assert_non_null (strstr (json, "\"portCount\":10000}"));
  assert_non_null (strstr (json, "\"childPort\":5432,\"direction\":\"reverse\"}"));
  back = apijson_status_list_decode (json, strlen (json), NULL);
  assert_non_null (back);
  assert_int_equal (back->len, 2);
  assert_entry_eq (g_ptr_array_index (back, 0), &a);
  assert_entry_eq (g_ptr_array_index (back, 1), &b);
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
    cmocka_unit_test (test_spec_encode),
    cmocka_unit_test (test_status_encode),
    cmocka_unit_test (test_status_decode),
    cmocka_unit_test (test_key_folding),
    cmocka_unit_test (test_status_list),
    cmocka_unit_test (test_error_encode_decode),
    cmocka_unit_test (test_info_encode),
    cmocka_unit_test (test_info_decode),
    cmocka_unit_test (test_pretty),
    cmocka_unit_test (test_spec_extras_decode),
    cmocka_unit_test (test_spec_extras_bad),
    cmocka_unit_test (test_spec_extras_encode),
    cmocka_unit_test (test_status_extras),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
