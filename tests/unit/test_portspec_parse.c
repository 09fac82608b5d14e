/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/portspec.c, the parsers: protocol names, both textual
 * syntaxes (every example of the rootlesskit reference, valid and
 * rejected, with the exact messages) and port ranges in them (every
 * rejected form and the 65535 edges).
 */
#include "portspec-helpers.h"

int main (void);

#define SPEC_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO], e.g. 8080:80/tcp"
#define MAPPING_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT, e.g. 8080:80"
#define IPV6_HINT " (IPv6 addresses go in brackets, e.g. [::1]:8080:80)"

/* A spec portspec_parse() accepts, and the fields it must give. */
typedef struct {
  const char *text;
  PortProto proto;
  const char *pip;
  int pport;
  const char *cip;
  int cport;
  int count;
} ParseOk;

/* A spec portspec_parse() refuses, and the whole message. */
typedef struct {
  const char *text;
  const char *message;
} ParseBad;

/* A "PROTO MAPPING" pair portspec_parse_args() accepts, and the fields it must give. */
typedef struct {
  const char *proto, *mapping;
  PortProto want;
  const char *pip;
  int pport;
  const char *cip;
  int cport;
  int count;
} ArgsOk;

/**
 * assert_parses() - every spec of @cases parses to its fields, as a forward spec
 * @cases: the table
 * @n: its size
 */
static void
assert_parses (const ParseOk *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      memset (&spec, 0xaa, sizeof spec);
      if (!portspec_parse (cases[i].text, &spec, &error))
        print_error ("%s: %s\n", cases[i].text, error->message);
      assert_null (error);
      assert_spec (&spec, cases[i].proto, cases[i].pip, cases[i].pport, cases[i].cip,
                   cases[i].cport);
      assert_int_equal (spec.count, cases[i].count);
      assert_false (spec.reverse);
    }
}

/**
 * assert_parse_fails() - portspec_parse (@text) fails with EINVAL and @message
 * @text: the spec
 * @message: the whole expected message
 *
 * The output spec is left alone on failure.
 */
static void
assert_parse_fails (const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = raw_spec (PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);

  assert_false (portspec_parse (text, &spec, &error));
  assert_non_null (error);
  assert_true (g_error_matches (error, NPTE_ERROR, EINVAL));
  assert_string_equal (error->message, message);
  assert_spec (&spec, PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);
  assert_int_equal (spec.count, 0);
}

/**
 * assert_args_parse() - every pair of @cases parses to its fields
 * @cases: the table
 * @n: its size
 */
static void
assert_args_parse (const ArgsOk *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      assert_true (portspec_parse_args (cases[i].proto, cases[i].mapping, &spec, &error));
      assert_null (error);
      assert_spec (&spec, cases[i].want, cases[i].pip, cases[i].pport, cases[i].cip,
                   cases[i].cport);
      assert_int_equal (spec.count, cases[i].count);
    }
}

/**
 * assert_args_fail() - portspec_parse_args (@proto, @mapping) fails with EINVAL and @message
 * @proto: the proto argument
 * @mapping: the mapping argument
 * @message: the whole expected message
 */
static void
assert_args_fail (const char *proto, const char *mapping, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = raw_spec (PORT_PROTO_UDP, "", 1, "", 2);

  assert_false (portspec_parse_args (proto, mapping, &spec, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EINVAL));
  assert_string_equal (error->message, message);
  assert_spec (&spec, PORT_PROTO_UDP, "", 1, "", 2);
}

static void
test_proto_names (void **state)
{
  static const struct {
    const char *name;
    PortProto proto;
    gboolean tcp, udp;
  } cases[] = {
    { "tcp", PORT_PROTO_TCP, TRUE, FALSE },     { "tcp4", PORT_PROTO_TCP4, TRUE, FALSE },
    { "tcp6", PORT_PROTO_TCP6, TRUE, FALSE },   { "udp", PORT_PROTO_UDP, FALSE, TRUE },
    { "udp4", PORT_PROTO_UDP4, FALSE, TRUE },   { "udp6", PORT_PROTO_UDP6, FALSE, TRUE },
    { "sctp", PORT_PROTO_SCTP, FALSE, FALSE },  { "sctp4", PORT_PROTO_SCTP4, FALSE, FALSE },
    { "sctp6", PORT_PROTO_SCTP6, FALSE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      assert_int_equal (portproto_from_string (cases[i].name), cases[i].proto);
      assert_string_equal (portproto_to_string (cases[i].proto), cases[i].name);
      assert_int_equal (portproto_is_tcp (cases[i].proto), cases[i].tcp);
      assert_int_equal (portproto_is_udp (cases[i].proto), cases[i].udp);
    }
  /* Case-sensitive, exact, like rootlesskit. */
  assert_int_equal (portproto_from_string (""), PORT_PROTO_INVALID);
  assert_int_equal (portproto_from_string ("TCP"), PORT_PROTO_INVALID);
  assert_int_equal (portproto_from_string ("NaN"), PORT_PROTO_INVALID);
  assert_int_equal (portproto_from_string ("tcp "), PORT_PROTO_INVALID);
  assert_int_equal (portproto_from_string ("tcp46"), PORT_PROTO_INVALID);
  assert_int_equal (portproto_from_string (NULL), PORT_PROTO_INVALID);
  assert_string_equal (portproto_to_string (PORT_PROTO_INVALID), "");
  assert_string_equal (portproto_to_string ((PortProto) 42), "");
  assert_string_equal (portproto_to_string ((PortProto) -1), "");
  assert_false (portproto_is_tcp (PORT_PROTO_INVALID));
  assert_false (portproto_is_udp ((PortProto) 42));
}

static const ParseOk parse_ok[] = {
  /* rootlesskit TestParsePortSpec and hack/integration-port.sh */
  { "127.0.0.1:8080:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80, 1 },
  { "127.0.0.1:8080:80/tcp4", PORT_PROTO_TCP4, "127.0.0.1", 8080, "", 80, 1 },
  { "127.0.0.1:8080:10.0.2.100:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "10.0.2.100", 80, 1 },
  { "[::1]:8080:80/tcp", PORT_PROTO_TCP, "::1", 8080, "", 80, 1 },
  { "[::1]:8080:[::2]:80/udp", PORT_PROTO_UDP, "::1", 8080, "::2", 80, 1 },
  { "[::]:8080:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "", 80, 1 },
  { "[::]:8080:[::1]:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "::1", 80, 1 },
  { "[::]:8080:[127.0.0.1]:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "127.0.0.1", 80, 1 },
  { "0.0.0.0:8080:[::1]:80/tcp4", PORT_PROTO_TCP4, "0.0.0.0", 8080, "::1", 80, 1 },
  { ":8080:80/tcp", PORT_PROTO_TCP, "", 8080, "", 80, 1 },
  /* our additions */
  { "8080:80/tcp", PORT_PROTO_TCP, "", 8080, "", 80, 1 },
  { "8080:80", PORT_PROTO_TCP, "", 8080, "", 80, 1 },
  { "127.0.0.1:8080:80", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80, 1 },
  { "8080:10.0.2.100:80/udp", PORT_PROTO_UDP, "", 8080, "10.0.2.100", 80, 1 },
  { "8080:[::1]:80/udp6", PORT_PROTO_UDP6, "", 8080, "::1", 80, 1 },
  { ":8080:10.0.2.100:80/tcp", PORT_PROTO_TCP, "", 8080, "10.0.2.100", 80, 1 },
  { "[127.0.0.1]:8080:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80, 1 },
  { "0:80/tcp", PORT_PROTO_TCP, "", 0, "", 80, 1 },
  { "65535:65535/udp4", PORT_PROTO_UDP4, "", 65535, "", 65535, 1 },
  { "99999:0/tcp", PORT_PROTO_TCP, "", 99999, "", 0, 1 }, /* ranges are validation's job */
  { "08080:00080/tcp", PORT_PROTO_TCP, "", 8080, "", 80, 1 },
  { "1.2.3.4:1:2/sctp", PORT_PROTO_SCTP, "1.2.3.4", 1, "", 2, 1 },
  { "bad:1:2/tcp", PORT_PROTO_TCP, "bad", 1, "", 2, 1 }, /* IPs are validation's job */
  { "[fe80::1%eth0]:1:2/tcp", PORT_PROTO_TCP, "fe80::1%eth0", 1, "", 2, 1 },
};

static void
test_parse_valid (void **state)
{
  assert_parses (parse_ok, G_N_ELEMENTS (parse_ok));
}

static const ParseBad parse_bad[] = {
  { "", "empty port spec, expected " SPEC_FORM },
  { "bad", "invalid port spec \"bad\": expected " SPEC_FORM },
  { "8080", "invalid port spec \"8080\": expected " SPEC_FORM },
  { "8080/tcp", "invalid port spec \"8080/tcp\": expected " SPEC_FORM },
  { "a/tcp,b/tcp", "invalid port spec \"a/tcp,b/tcp\": one port spec per argument (found ',')" },
  { "8080:80/tcp,8081:81/tcp",
    "invalid port spec \"8080:80/tcp,8081:81/tcp\": one port spec per argument (found ',')" },
  { "8080:80/tcp ", "invalid port spec \"8080:80/tcp \": unknown proto: \"tcp \"" },
  { "8080:80/TCP", "invalid port spec \"8080:80/TCP\": unknown proto: \"TCP\"" },
  { "8080:80/tcp/udp", "invalid port spec \"8080:80/tcp/udp\": unknown proto: \"tcp/udp\"" },
  { "8080:80/", "invalid port spec \"8080:80/\": missing proto after '/'" },
  { "+8080:80/tcp", "invalid port spec \"+8080:80/tcp\": ParentPort \"+8080\" is not a number" },
  { "8080:+80/tcp", "invalid port spec \"8080:+80/tcp\": ChildPort \"+80\" is not a number" },
  { "-1:80/tcp", "invalid port spec \"-1:80/tcp\": ParentPort \"-1\" is not a number" },
  { "8080:-80/tcp", "invalid port spec \"8080:-80/tcp\": ChildPort \"-80\" is not a number" },
  { " 8080:80/tcp", "invalid port spec \" 8080:80/tcp\": ParentPort \" 8080\" is not a number" },
  { "8080: 80/tcp", "invalid port spec \"8080: 80/tcp\": ChildPort \" 80\" is not a number" },
  { "8080 :80/tcp", "invalid port spec \"8080 :80/tcp\": ParentPort \"8080 \" is not a number" },
  { "8080:80x/tcp", "invalid port spec \"8080:80x/tcp\": ChildPort \"80x\" is not a number" },
  { "0x50:80/tcp", "invalid port spec \"0x50:80/tcp\": ParentPort \"0x50\" is not a number" },
  { "123456:80/tcp",
    "invalid port spec \"123456:80/tcp\": ParentPort \"123456\" is out of range (0-65535)" },
  { "80:1000000/tcp",
    "invalid port spec \"80:1000000/tcp\": ChildPort \"1000000\" is out of range (0-65535)" },
  { "8080:/tcp", "invalid port spec \"8080:/tcp\": missing ChildPort" },
  { ":80/tcp", "invalid port spec \":80/tcp\": missing ParentPort" },
  { ":8080:/tcp", "invalid port spec \":8080:/tcp\": missing ChildPort" },
  { "1.2.3.4::80/tcp", "invalid port spec \"1.2.3.4::80/tcp\": missing ParentPort" IPV6_HINT },
  { "8080:80:/tcp", "invalid port spec \"8080:80:/tcp\": missing ChildPort" },
  { "::1:8080:80/tcp",
    "invalid port spec \"::1:8080:80/tcp\": too many ':'-separated parts" IPV6_HINT },
  { "fe80::1:8080:80", "invalid port spec \"fe80::1:8080:80\": too many ':'-separated parts" IPV6_HINT },
  { "::1:80/tcp", "invalid port spec \"::1:80/tcp\": missing ParentPort" IPV6_HINT },
  { "1.2.3.4:8080:5.6.7.8:80:90/tcp",
    "invalid port spec \"1.2.3.4:8080:5.6.7.8:80:90/tcp\": too many ':'-separated parts" IPV6_HINT },
  { "[]:8080:80/tcp", "invalid port spec \"[]:8080:80/tcp\": empty brackets \"[]\"" },
  { "1.2.3.4:8080:[]:80/tcp", "invalid port spec \"1.2.3.4:8080:[]:80/tcp\": empty brackets \"[]\"" },
  { "[::1:8080:80/tcp", "invalid port spec \"[::1:8080:80/tcp\": '[' without a closing ']'" },
  { "[::1]8080:80/tcp", "invalid port spec \"[::1]8080:80/tcp\": unexpected \"8080:80\" after ']'" },
  { "a[b:8080:80/tcp", "invalid port spec \"a[b:8080:80/tcp\": misplaced bracket in \"a[b\"" },
  { "[[::1]:8080:80/tcp", "invalid port spec \"[[::1]:8080:80/tcp\": misplaced bracket in \"[::1\"" },
  { "8080:[80]/tcp", "invalid port spec \"8080:[80]/tcp\": ChildPort in brackets \"80\" is not a number" },
  { "[8080]:80/tcp",
    "invalid port spec \"[8080]:80/tcp\": ParentPort in brackets \"8080\" is not a number" },
  { "8080::80/tcp",
    "invalid port spec \"8080::80/tcp\": empty ChildIP (leave it out instead)" IPV6_HINT },
  { "[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa]:1:2",
    "invalid port spec \"[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa]:1:2\": ParentIP "
    "\"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa\" is too long" },
  { "a\tb:1:2/\n", "invalid port spec \"a\\tb:1:2/\\n\": unknown proto: \"\\n\"" },
};

static void
test_parse_rejected (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (parse_bad); i++)
    assert_parse_fails (parse_bad[i].text, parse_bad[i].message);
}

static void
test_parse_long_text_is_cut (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strnfill (200, '7');
  PortSpec spec;

  assert_false (portspec_parse (text, &spec, &error));
  assert_true (g_str_has_prefix (error->message, "invalid port spec \"7777"));
  assert_non_null (strstr (error->message, "7777...\": expected "));
  assert_true (strlen (error->message) < 250);
}

static void
test_parse_args (void **state)
{
  static const ArgsOk ok[] = {
    { "tcp", "9090:80", PORT_PROTO_TCP, "", 9090, "", 80, 1 },
    { "tcp", "127.0.0.1:9090:80", PORT_PROTO_TCP, "127.0.0.1", 9090, "", 80, 1 },
    { "tcp", "[::1]:9090:[::1]:80", PORT_PROTO_TCP, "::1", 9090, "::1", 80, 1 },
    { "tcp", "0:80", PORT_PROTO_TCP, "", 0, "", 80, 1 },
    { "udp6", "[::1]:53:53", PORT_PROTO_UDP6, "::1", 53, "", 53, 1 },
    { "tcp4", "9090:10.0.2.100:80", PORT_PROTO_TCP4, "", 9090, "10.0.2.100", 80, 1 },
    { "udp", ":9090:80", PORT_PROTO_UDP, "", 9090, "", 80, 1 },
  };
  static const struct {
    const char *proto, *mapping, *message;
  } bad[] = {
    { "TCP", "9090:80", "unknown proto: \"TCP\"" },
    { "", "9090:80", "unknown proto: \"\"" },
    { "tcp ", "9090:80", "unknown proto: \"tcp \"" },
    { "tcp", "", "empty port mapping, expected " MAPPING_FORM },
    { "tcp", "9090", "invalid port mapping \"9090\": expected " MAPPING_FORM },
    { "tcp", "9090:80/tcp",
      "invalid port mapping \"9090:80/tcp\": the proto is a separate argument, expected "
      MAPPING_FORM },
    { "tcp", "1:2,3:4", "invalid port mapping \"1:2,3:4\": one mapping per argument (found ',')" },
    { "tcp", "::1:9090:80",
      "invalid port mapping \"::1:9090:80\": too many ':'-separated parts" IPV6_HINT },
    { "tcp", "9090:x", "invalid port mapping \"9090:x\": ChildPort \"x\" is not a number" },
    { "tcp", "[]:9090:80", "invalid port mapping \"[]:9090:80\": empty brackets \"[]\"" },
  };

  assert_args_parse (ok, G_N_ELEMENTS (ok));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_args_fail (bad[i].proto, bad[i].mapping, bad[i].message);
}

static const ParseOk range_ok[] = {
  { "127.0.0.1:8000-8009:80-89/tcp", PORT_PROTO_TCP, "127.0.0.1", 8000, "", 80, 10 },
  { "8000-8009:9000-9009/udp", PORT_PROTO_UDP, "", 8000, "", 9000, 10 },
  { "8000-8009:9000-9009", PORT_PROTO_TCP, "", 8000, "", 9000, 10 },
  { ":8000-8001:80-81/tcp4", PORT_PROTO_TCP4, "", 8000, "", 80, 2 },
  { "8000-8009:10.0.2.100:80-89/tcp", PORT_PROTO_TCP, "", 8000, "10.0.2.100", 80, 10 },
  { "8000-8001:[::1]:80-81/udp6", PORT_PROTO_UDP6, "", 8000, "::1", 80, 2 },
  { "[::1]:8000-8001:[::2]:80-81/udp", PORT_PROTO_UDP, "::1", 8000, "::2", 80, 2 },
  { "1.2.3.4:8000-8001:5.6.7.8:80-81/tcp", PORT_PROTO_TCP, "1.2.3.4", 8000, "5.6.7.8", 80, 2 },
  { "8000-8000:80-80/tcp", PORT_PROTO_TCP, "", 8000, "", 80, 1 },
  { "08000-08009:00080-00089/tcp", PORT_PROTO_TCP, "", 8000, "", 80, 10 },
  { "65526-65535:1-10/udp", PORT_PROTO_UDP, "", 65526, "", 1, 10 },
  { "1-65535:1-65535/tcp", PORT_PROTO_TCP, "", 1, "", 1, 65535 },
  { "0-65535:0-65535/tcp", PORT_PROTO_TCP, "", 0, "", 0, 65536 }, /* validation refuses */
  { "0-9:80-89/tcp", PORT_PROTO_TCP, "", 0, "", 80, 10 },          /* validation refuses */
  { "1-2:3-4/sctp", PORT_PROTO_SCTP, "", 1, "", 3, 2 },
};

static void
test_parse_ranges (void **state)
{
  assert_parses (range_ok, G_N_ELEMENTS (range_ok));
}

/* Rejected ranges; the message is what follows "invalid port spec \"TEXT\": ". */
static const ParseBad range_bad[] = {
  { "8000-8009:80/tcp", "port ranges must have the same length: 8000-8009 (10) vs 80 (1)" },
  { "8000:80-89/tcp", "port ranges must have the same length: 8000 (1) vs 80-89 (10)" },
  { "8000-8009:80-85", "port ranges must have the same length: 8000-8009 (10) vs 80-85 (6)" },
  { "127.0.0.1:8000-8009:80-85/tcp",
    "port ranges must have the same length: 8000-8009 (10) vs 80-85 (6)" },
  { "08000-08001:80-82", "port ranges must have the same length: 8000-8001 (2) vs 80-82 (3)" },
  { "8000-8009:10.0.2.100:80/udp",
    "port ranges must have the same length: 8000-8009 (10) vs 80 (1)" },
  { "8009-8000:80-89/tcp", "ParentPort range \"8009-8000\" ends before it starts" },
  { "8000-8009:89-80/tcp", "ChildPort range \"89-80\" ends before it starts" },
  { "1-0:1-0", "ParentPort range \"1-0\" ends before it starts" },
  { "8000-70000:80-62080", "ParentPort range \"8000-70000\" is out of range (0-65535)" },
  { "80-62080:8000-70000", "ChildPort range \"8000-70000\" is out of range (0-65535)" },
  { "65535-65536:1-2", "ParentPort range \"65535-65536\" is out of range (0-65535)" },
  { "65536-65537:1-2", "ParentPort range \"65536-65537\" is out of range (0-65535)" },
  { "70000-60000:1-2", "ParentPort range \"70000-60000\" is out of range (0-65535)" },
  { "123456-123457:1-2", "ParentPort range \"123456-123457\" is out of range (0-65535)" },
  { "1-123456:1-2", "ParentPort range \"1-123456\" is out of range (0-65535)" },
  { "8000-:80", "ParentPort range \"8000-\" is not a range such as 8000-8009" },
  { "8000--8009:80", "ParentPort range \"8000--8009\" is not a range such as 8000-8009" },
  { "8000-8009-8010:80", "ParentPort range \"8000-8009-8010\" is not a range such as 8000-8009" },
  { "8000-x:80", "ParentPort range \"8000-x\" is not a range such as 8000-8009" },
  { "8000- 8009:80", "ParentPort range \"8000- 8009\" is not a range such as 8000-8009" },
  { "8000-+8009:80", "ParentPort range \"8000-+8009\" is not a range such as 8000-8009" },
  { "80:8000-", "ChildPort range \"8000-\" is not a range such as 8000-8009" },
  { "-8000:80", "ParentPort \"-8000\" is not a number" },
  { "8000:-80", "ChildPort \"-80\" is not a number" },
  { " 8000-8009:80-89", "ParentPort \" 8000-8009\" is not a number" },
  { "[8000-8009]:80-89", "ParentPort in brackets \"8000-8009\" is not a number" },
  { "8000-8009:[80-89]", "ChildPort in brackets \"80-89\" is not a number" },
  /* a field error comes before the length check */
  { "8000-8009:89-80", "ChildPort range \"89-80\" ends before it starts" },
};

static void
test_parse_ranges_rejected (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (range_bad); i++)
    {
      g_autofree char *want = g_strdup_printf ("invalid port spec \"%s\": %s", range_bad[i].text,
                                               range_bad[i].message);

      assert_parse_fails (range_bad[i].text, want);
    }
  /* Unbracketed IPv6 still gets its hint. */
  assert_parse_fails ("::1:8000-8009:80-89/tcp", "invalid port spec \"::1:8000-8009:80-89/tcp\": "
                                                 "too many ':'-separated parts" IPV6_HINT);
}

static void
test_parse_args_ranges (void **state)
{
  static const ArgsOk ok[] = {
    { "tcp", "8000-8009:9000-9009", PORT_PROTO_TCP, "", 8000, "", 9000, 10 },
    { "udp6", "[::1]:53-54:[::1]:5353-5354", PORT_PROTO_UDP6, "::1", 53, "::1", 5353, 2 },
    { "tcp4", "8000-8001:10.0.2.100:80-81", PORT_PROTO_TCP4, "", 8000, "10.0.2.100", 80, 2 },
    { "tcp", "127.0.0.1:8000-8000:80-80", PORT_PROTO_TCP, "127.0.0.1", 8000, "", 80, 1 },
    { "tcp", "8080:80", PORT_PROTO_TCP, "", 8080, "", 80, 1 },
  };

  assert_args_parse (ok, G_N_ELEMENTS (ok));
  assert_args_fail ("tcp", "8000-8009:80-85", "invalid port mapping \"8000-8009:80-85\": port "
                                              "ranges must have the same length: 8000-8009 (10) "
                                              "vs 80-85 (6)");
  assert_args_fail ("tcp", "8001-8000:80-81", "invalid port mapping \"8001-8000:80-81\": "
                                              "ParentPort range \"8001-8000\" ends before it "
                                              "starts");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_proto_names),
    cmocka_unit_test (test_parse_valid),
    cmocka_unit_test (test_parse_rejected),
    cmocka_unit_test (test_parse_long_text_is_cut),
    cmocka_unit_test (test_parse_args),
    cmocka_unit_test (test_parse_ranges),
    cmocka_unit_test (test_parse_ranges_rejected),
    cmocka_unit_test (test_parse_args_ranges),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
