/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/portspec.c: both parsers (every example of the
 * rootlesskit reference, valid and rejected), validation rules with their
 * boundary values and exact messages, canonicalisation, the conflict
 * matrix, format round-trips, listen plans and child targets; port ranges
 * (parsing, every rejected form, the 65535 edges, interval conflicts, plans
 * at an index) and reverse ports (validation, conflicts on the namespace
 * side, listen plans and host targets).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "npte-error.h"
#include "portspec.h"

int main (void);

#define SPEC_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO], e.g. 8080:80/tcp"
#define MAPPING_FORM "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT, e.g. 8080:80"
#define IPV6_HINT " (IPv6 addresses go in brackets, e.g. [::1]:8080:80)"

/* spec_from() - parse and validate @text, failing the test if it does not. */
static PortSpec
spec_from (const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  if (!portspec_parse (text, &spec, &error) || !portspec_validate (&spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/* spec_any() - spec_from(), for a reverse spec when @text starts with '<'. */
static PortSpec
spec_any (const char *text)
{
  g_autoptr (GError) error = NULL;
  gboolean reverse = text[0] == '<';
  PortSpec spec;

  if (!portspec_parse (text + reverse, &spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  spec.reverse = reverse;
  if (!portspec_validate (&spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/* raw_spec() - an unvalidated spec built field by field. */
static PortSpec
raw_spec (PortProto proto, const char *pip, int pport, const char *cip, int cport)
{
  PortSpec spec;

  memset (&spec, 0, sizeof spec);
  spec.proto = proto;
  g_strlcpy (spec.parent_ip, pip, sizeof spec.parent_ip);
  spec.parent_port = pport;
  g_strlcpy (spec.child_ip, cip, sizeof spec.child_ip);
  spec.child_port = cport;
  return spec;
}

/* assert_spec() - @spec has exactly these fields. */
static void
assert_spec (const PortSpec *spec, PortProto proto, const char *pip, int pport, const char *cip,
             int cport)
{
  assert_int_equal (spec->proto, proto);
  assert_string_equal (spec->parent_ip, pip);
  assert_int_equal (spec->parent_port, pport);
  assert_string_equal (spec->child_ip, cip);
  assert_int_equal (spec->child_port, cport);
}

/* sockaddr_text() - "ip port" of an AF_INET/AF_INET6 address. */
static char *
sockaddr_text (const struct sockaddr_storage *ss, socklen_t len)
{
  char ip[INET6_ADDRSTRLEN] = "";

  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

      assert_int_equal (len, sizeof *sin);
      inet_ntop (AF_INET, &sin->sin_addr, ip, sizeof ip);
      return g_strdup_printf ("%s %u", ip, ntohs (sin->sin_port));
    }
  assert_int_equal (ss->ss_family, AF_INET6);
  {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

    assert_int_equal (len, sizeof *sin6);
    inet_ntop (AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    return g_strdup_printf ("%s %u", ip, ntohs (sin6->sin6_port));
  }
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

static const struct {
  const char *text;
  PortProto proto;
  const char *pip;
  int pport;
  const char *cip;
  int cport;
} parse_ok[] = {
  /* rootlesskit TestParsePortSpec and hack/integration-port.sh */
  { "127.0.0.1:8080:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80 },
  { "127.0.0.1:8080:80/tcp4", PORT_PROTO_TCP4, "127.0.0.1", 8080, "", 80 },
  { "127.0.0.1:8080:10.0.2.100:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "10.0.2.100", 80 },
  { "[::1]:8080:80/tcp", PORT_PROTO_TCP, "::1", 8080, "", 80 },
  { "[::1]:8080:[::2]:80/udp", PORT_PROTO_UDP, "::1", 8080, "::2", 80 },
  { "[::]:8080:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "", 80 },
  { "[::]:8080:[::1]:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "::1", 80 },
  { "[::]:8080:[127.0.0.1]:80/tcp6", PORT_PROTO_TCP6, "::", 8080, "127.0.0.1", 80 },
  { "0.0.0.0:8080:[::1]:80/tcp4", PORT_PROTO_TCP4, "0.0.0.0", 8080, "::1", 80 },
  { ":8080:80/tcp", PORT_PROTO_TCP, "", 8080, "", 80 },
  /* our additions */
  { "8080:80/tcp", PORT_PROTO_TCP, "", 8080, "", 80 },
  { "8080:80", PORT_PROTO_TCP, "", 8080, "", 80 },
  { "127.0.0.1:8080:80", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80 },
  { "8080:10.0.2.100:80/udp", PORT_PROTO_UDP, "", 8080, "10.0.2.100", 80 },
  { "8080:[::1]:80/udp6", PORT_PROTO_UDP6, "", 8080, "::1", 80 },
  { ":8080:10.0.2.100:80/tcp", PORT_PROTO_TCP, "", 8080, "10.0.2.100", 80 },
  { "[127.0.0.1]:8080:80/tcp", PORT_PROTO_TCP, "127.0.0.1", 8080, "", 80 },
  { "0:80/tcp", PORT_PROTO_TCP, "", 0, "", 80 },
  { "65535:65535/udp4", PORT_PROTO_UDP4, "", 65535, "", 65535 },
  { "99999:0/tcp", PORT_PROTO_TCP, "", 99999, "", 0 }, /* ranges are validation's job */
  { "08080:00080/tcp", PORT_PROTO_TCP, "", 8080, "", 80 },
  { "1.2.3.4:1:2/sctp", PORT_PROTO_SCTP, "1.2.3.4", 1, "", 2 },
  { "bad:1:2/tcp", PORT_PROTO_TCP, "bad", 1, "", 2 }, /* IPs are validation's job */
  { "[fe80::1%eth0]:1:2/tcp", PORT_PROTO_TCP, "fe80::1%eth0", 1, "", 2 },
};

static void
test_parse_valid (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (parse_ok); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      memset (&spec, 0xaa, sizeof spec);
      if (!portspec_parse (parse_ok[i].text, &spec, &error))
        print_error ("%s: %s\n", parse_ok[i].text, error->message);
      assert_null (error);
      assert_spec (&spec, parse_ok[i].proto, parse_ok[i].pip, parse_ok[i].pport, parse_ok[i].cip,
                   parse_ok[i].cport);
      assert_int_equal (spec.count, 1);
      assert_false (spec.reverse);
    }
}

static const struct {
  const char *text;
  const char *message;
} parse_bad[] = {
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
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec = raw_spec (PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);

      assert_false (portspec_parse (parse_bad[i].text, &spec, &error));
      assert_non_null (error);
      assert_true (g_error_matches (error, NPTE_ERROR, EINVAL));
      assert_string_equal (error->message, parse_bad[i].message);
      /* @out is left alone on failure. */
      assert_spec (&spec, PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);
    }
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
  static const struct {
    const char *proto, *mapping;
    PortProto want;
    const char *pip;
    int pport;
    const char *cip;
    int cport;
  } ok[] = {
    { "tcp", "9090:80", PORT_PROTO_TCP, "", 9090, "", 80 },
    { "tcp", "127.0.0.1:9090:80", PORT_PROTO_TCP, "127.0.0.1", 9090, "", 80 },
    { "tcp", "[::1]:9090:[::1]:80", PORT_PROTO_TCP, "::1", 9090, "::1", 80 },
    { "tcp", "0:80", PORT_PROTO_TCP, "", 0, "", 80 },
    { "udp6", "[::1]:53:53", PORT_PROTO_UDP6, "::1", 53, "", 53 },
    { "tcp4", "9090:10.0.2.100:80", PORT_PROTO_TCP4, "", 9090, "10.0.2.100", 80 },
    { "udp", ":9090:80", PORT_PROTO_UDP, "", 9090, "", 80 },
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

  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      assert_true (portspec_parse_args (ok[i].proto, ok[i].mapping, &spec, &error));
      assert_null (error);
      assert_spec (&spec, ok[i].want, ok[i].pip, ok[i].pport, ok[i].cip, ok[i].cport);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec = raw_spec (PORT_PROTO_UDP, "", 1, "", 2);

      assert_false (portspec_parse_args (bad[i].proto, bad[i].mapping, &spec, &error));
      assert_true (g_error_matches (error, NPTE_ERROR, EINVAL));
      assert_string_equal (error->message, bad[i].message);
      assert_spec (&spec, PORT_PROTO_UDP, "", 1, "", 2);
    }
}

/* validate_fails() - validating @spec fails with @code and @message and leaves it unchanged. */
static void
validate_fails (PortSpec spec, int code, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec before = spec;

  assert_false (portspec_validate (&spec, &error));
  assert_non_null (error);
  assert_int_equal (error->domain, NPTE_ERROR);
  assert_int_equal (error->code, code);
  assert_string_equal (error->message, message);
  assert_memory_equal (&spec, &before, sizeof spec);
}

/* validate_ok() - validating @spec succeeds. */
static void
validate_ok (PortSpec spec)
{
  g_autoptr (GError) error = NULL;

  if (!portspec_validate (&spec, &error))
    print_error ("unexpected: %s\n", error->message);
  assert_null (error);
}

static void
test_validate_proto (void **state)
{
  validate_fails (raw_spec (PORT_PROTO_INVALID, "", 80, "", 80), EINVAL, "unknown proto: \"\"");
  validate_fails (raw_spec ((PortProto) 42, "", 80, "", 80), EINVAL, "unknown proto: \"42\"");
  validate_fails (raw_spec ((PortProto) -3, "", 80, "", 80), EINVAL, "unknown proto: \"-3\"");
  validate_ok (raw_spec (PORT_PROTO_TCP, "", 80, "", 80));
  validate_ok (raw_spec (PORT_PROTO_UDP, "", 80, "", 80));
  validate_fails (raw_spec (PORT_PROTO_SCTP, "", 80, "", 80), EPROTONOSUPPORT,
                  "unsupported port protocol sctp");
  validate_fails (raw_spec (PORT_PROTO_SCTP4, "", 80, "", 80), EPROTONOSUPPORT,
                  "unsupported port protocol sctp4");
  validate_fails (raw_spec (PORT_PROTO_SCTP6, "", 80, "", 80), EPROTONOSUPPORT,
                  "unsupported port protocol sctp6");
  /* Rule order: an unknown proto is reported before a bad IP. */
  validate_fails (raw_spec (PORT_PROTO_INVALID, "bad", -1, "bad", -1), EINVAL,
                  "unknown proto: \"\"");
  /* Validation errors come before "unsupported" (as rootlesskit's driver check). */
  validate_fails (raw_spec (PORT_PROTO_SCTP, "", 0, "", 0), EINVAL, "invalid ChildPort: 0");
}

static void
test_validate_ips (void **state)
{
  PortSpec unterminated = raw_spec (PORT_PROTO_TCP, "", 80, "", 80);

  validate_fails (raw_spec (PORT_PROTO_TCP, "bad", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"bad\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "", 80, "999.1.1.1", 80), EINVAL,
                  "invalid ChildIP: \"999.1.1.1\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "bad", 80, "worse", 80), EINVAL,
                  "invalid ParentIP: \"bad\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "fe80::1%eth0", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"fe80::1%eth0\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "127.0.0.01", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"127.0.0.01\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "1.2.3", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"1.2.3\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, " 1.2.3.4", 80, "", 80), EINVAL,
                  "invalid ParentIP: \" 1.2.3.4\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "[]", 80, "", 80), EINVAL, "invalid ParentIP: \"[]\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "[::1", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"[::1\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "8080", 80, "", 80), EINVAL,
                  "invalid ParentIP: \"8080\"");
  validate_fails (raw_spec (PORT_PROTO_TCP, "", 80, "a\"b\n", 80), EINVAL,
                  "invalid ChildIP: \"a\\\"b\\n\"");
  /* Buffers without a NUL (from a careless caller) are invalid, not overrun. */
  memset (unterminated.parent_ip, '1', sizeof unterminated.parent_ip);
  {
    g_autofree char *ones = g_strnfill (PORTSPEC_IP_MAX, '1');
    g_autofree char *msg = g_strdup_printf ("invalid ParentIP: \"%s\"", ones);

    validate_fails (unterminated, EINVAL, msg);
  }
}

static void
test_validate_ports (void **state)
{
  static const int bad_ports[] = { -200, -1, 65536, 1000000, G_MININT, G_MAXINT };
  static const int good_ports[] = { 1, 20, 500, 1337, 65000, 65535 };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_ports); i++)
    {
      g_autofree char *pmsg = g_strdup_printf ("invalid ParentPort: %d", bad_ports[i]);
      g_autofree char *cmsg = g_strdup_printf ("invalid ChildPort: %d", bad_ports[i]);

      validate_fails (raw_spec (PORT_PROTO_TCP, "", bad_ports[i], "", 80), EINVAL, pmsg);
      validate_fails (raw_spec (PORT_PROTO_UDP, "", 80, "", bad_ports[i]), EINVAL, cmsg);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (good_ports); i++)
    {
      validate_ok (raw_spec (PORT_PROTO_TCP, "", good_ports[i], "", 80));
      validate_ok (raw_spec (PORT_PROTO_TCP, "", 80, "", good_ports[i]));
    }
  /* Parent port 0 = auto; child port 0 is never valid. */
  validate_ok (raw_spec (PORT_PROTO_TCP, "", 0, "", 80));
  validate_fails (raw_spec (PORT_PROTO_TCP, "", 80, "", 0), EINVAL, "invalid ChildPort: 0");
  /* ParentPort is checked before ChildPort. */
  validate_fails (raw_spec (PORT_PROTO_TCP, "", -200, "", 0), EINVAL,
                  "invalid ParentPort: -200");
}

static void
test_validate_family (void **state)
{
  validate_fails (raw_spec (PORT_PROTO_TCP4, "::1", 80, "", 80), EINVAL,
                  "invalid ParentIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only "
                  "proto (use tcp or tcp6)");
  validate_fails (raw_spec (PORT_PROTO_UDP4, "::", 80, "", 80), EINVAL,
                  "invalid ParentIP \"::\" for proto udp4: an IPv6 address with an IPv4-only "
                  "proto (use udp or udp6)");
  validate_fails (raw_spec (PORT_PROTO_TCP6, "127.0.0.1", 80, "", 80), EINVAL,
                  "invalid ParentIP \"127.0.0.1\" for proto tcp6: an IPv4 address with an "
                  "IPv6-only proto (use tcp or tcp4)");
  validate_fails (raw_spec (PORT_PROTO_UDP6, "0.0.0.0", 80, "", 80), EINVAL,
                  "invalid ParentIP \"0.0.0.0\" for proto udp6: an IPv4 address with an "
                  "IPv6-only proto (use udp or udp4)");
  /* A v4-mapped address is the IPv4 address. */
  validate_fails (raw_spec (PORT_PROTO_TCP6, "::ffff:127.0.0.1", 80, "", 80), EINVAL,
                  "invalid ParentIP \"127.0.0.1\" for proto tcp6: an IPv4 address with an "
                  "IPv6-only proto (use tcp or tcp4)");
  validate_ok (raw_spec (PORT_PROTO_TCP4, "::ffff:127.0.0.1", 80, "", 80));
  validate_ok (raw_spec (PORT_PROTO_TCP4, "", 80, "", 80));
  validate_ok (raw_spec (PORT_PROTO_TCP6, "", 80, "", 80));
  validate_ok (raw_spec (PORT_PROTO_TCP, "::1", 80, "", 80));
  validate_ok (raw_spec (PORT_PROTO_UDP, "127.0.0.1", 80, "", 80));
  /* The child IP family is free (rootlesskit's own integration test). */
  validate_ok (raw_spec (PORT_PROTO_TCP4, "0.0.0.0", 8080, "::1", 80));
  validate_ok (raw_spec (PORT_PROTO_TCP6, "::", 8080, "127.0.0.1", 80));
}

static void
test_validate_canonical (void **state)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    { "", "" },
    { "::0001", "::1" },
    { "[::1]", "::1" },
    { "0:0:0:0:0:0:0:1", "::1" },
    { "0000::", "::" },
    { "FE80::1", "fe80::1" },
    { "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
    { "::ffff:127.0.0.1", "127.0.0.1" },
    { "::FFFF:7f00:1", "127.0.0.1" },
    { "[::ffff:10.0.2.100]", "10.0.2.100" },
    { "[127.0.0.1]", "127.0.0.1" },
    { "10.0.2.100", "10.0.2.100" },
    { "::7f00:1", "::127.0.0.1" }, /* v4-compatible: IPv6, not mapped */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec = raw_spec (PORT_PROTO_UDP, cases[i].in, 80, cases[i].in, 81);

      assert_true (portspec_validate (&spec, &error));
      assert_spec (&spec, PORT_PROTO_UDP, cases[i].out, 80, cases[i].out, 81);
      /* Idempotent. */
      assert_true (portspec_validate (&spec, &error));
      assert_spec (&spec, PORT_PROTO_UDP, cases[i].out, 80, cases[i].out, 81);
    }
}

static const struct {
  const char *a, *b;
  gboolean conflict;
} conflict_cases[] = {
  /* transport */
  { "8080:80/tcp", "8080:80/udp", FALSE },
  { "8080:80/tcp4", "8080:80/udp4", FALSE },
  { "127.0.0.1:8080:80/udp4", "8080:80/tcp", FALSE },
  /* ports: parent port decides, child port does not */
  { "8080:80/tcp", "8080:80/tcp", TRUE },
  { "8080:80/tcp", "8080:81/tcp", TRUE },
  { "8080:80/tcp", "8081:80/tcp", FALSE },
  { "0:80/tcp", "0:80/tcp", FALSE },
  { "127.0.0.1:0:80/tcp4", "127.0.0.1:0:80/tcp4", FALSE },
  /* split stacks */
  { "0.0.0.0:8080:80/tcp4", "[::]:8080:80/tcp6", FALSE },
  { "8080:80/tcp4", "8080:80/tcp6", FALSE },
  { "8080:80/udp4", "8080:80/udp6", FALSE },
  { "8080:80/tcp4", "8080:80/tcp4", TRUE },
  { "8080:80/tcp6", "[::]:8080:80/tcp6", TRUE },
  /* dual stack vs one stack */
  { "8080:80/tcp", "8080:80/tcp4", TRUE },
  { "8080:80/tcp", "8080:80/tcp6", TRUE },
  { "8080:80/udp", "8080:80/udp6", TRUE },
  { "[::]:8080:80/tcp6", "[::]:8080:80/tcp", TRUE },
  /* the three spellings of "all addresses" for plain tcp */
  { ":8080:80/tcp", "0.0.0.0:8080:80/tcp", TRUE },
  { ":8080:80/tcp", "[::]:8080:80/tcp", TRUE },
  { "0.0.0.0:8080:80/tcp", "[::]:8080:80/tcp", TRUE },
  /* specific vs wildcard */
  { "127.0.0.1:8080:80/tcp", "0.0.0.0:8080:80/tcp", TRUE },
  { "127.0.0.1:8080:80/tcp", "[::]:8080:80/tcp", TRUE },
  { "127.0.0.1:8080:80/tcp", "8080:80/tcp4", TRUE },
  { "127.0.0.1:8080:80/tcp", "8080:80/tcp6", FALSE },
  { "127.0.0.1:8080:80/tcp4", "[::]:8080:80/tcp6", FALSE },
  { "[::1]:8080:80/tcp", "0.0.0.0:8080:80/tcp", TRUE },
  { "[::1]:8080:80/tcp", "0.0.0.0:8080:80/tcp4", FALSE },
  { "[::1]:8080:80/tcp6", "8080:80/tcp6", TRUE },
  { "[::1]:8080:80/tcp6", "0.0.0.0:8080:80/tcp4", FALSE },
  { "[::]:8080:80/tcp6", "127.0.0.1:8080:80/tcp", FALSE },
  { "127.0.0.1:8080:80/udp4", "8080:80/udp", TRUE },
  /* specific vs specific */
  { "127.0.0.1:8080:80/tcp", "127.0.0.2:8080:80/tcp", FALSE },
  { "127.0.0.1:8080:80/tcp", "127.0.0.1:8080:80/tcp4", TRUE },
  { "127.0.0.1:8080:80/tcp", "127.0.0.1:8080:81/tcp", TRUE },
  { "[::1]:8080:80/tcp", "[::1]:8080:80/tcp6", TRUE },
  { "[::1]:8080:80/tcp", "[::2]:8080:80/tcp", FALSE },
  { "[::1]:8080:80/tcp", "127.0.0.1:8080:80/tcp", FALSE },
  { "[::0001]:8080:80/tcp", "[0:0:0:0:0:0:0:1]:8080:80/tcp", TRUE },
  /* v4-mapped is the IPv4 address */
  { "[::ffff:127.0.0.1]:8080:80/tcp", "127.0.0.1:8080:80/tcp4", TRUE },
  { "[::ffff:127.0.0.1]:8080:80/tcp", "127.0.0.2:8080:80/tcp", FALSE },
  { "[::ffff:127.0.0.1]:8080:80/tcp", "8080:80/tcp6", FALSE },
};

static void
test_conflicts_matrix (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (conflict_cases); i++)
    {
      PortSpec a = spec_from (conflict_cases[i].a);
      PortSpec b = spec_from (conflict_cases[i].b);
      gboolean ab = portspec_conflicts (&a, &b);
      gboolean ba = portspec_conflicts (&b, &a);

      if (ab != conflict_cases[i].conflict || ba != conflict_cases[i].conflict)
        print_error ("%s vs %s: got %d/%d\n", conflict_cases[i].a, conflict_cases[i].b, ab, ba);
      assert_int_equal (ab, conflict_cases[i].conflict);
      assert_int_equal (ba, conflict_cases[i].conflict);
    }
}

static void
test_conflicts_raw (void **state)
{
  /* Not canonicalised: the rule still compares addresses, not strings. */
  PortSpec mapped = raw_spec (PORT_PROTO_TCP, "::ffff:127.0.0.1", 8080, "", 80);
  PortSpec v4 = raw_spec (PORT_PROTO_TCP4, "127.0.0.1", 8080, "", 80);
  PortSpec padded = raw_spec (PORT_PROTO_TCP6, "::0001", 8080, "", 80);
  PortSpec short6 = raw_spec (PORT_PROTO_TCP, "[::1]", 8080, "", 80);
  PortSpec invalid = raw_spec (PORT_PROTO_INVALID, "", 8080, "", 80);
  PortSpec sctp = raw_spec (PORT_PROTO_SCTP, "", 8080, "", 80);
  PortSpec tcp = raw_spec (PORT_PROTO_TCP, "", 8080, "", 80);

  assert_true (portspec_conflicts (&mapped, &v4));
  assert_true (portspec_conflicts (&padded, &short6));
  assert_false (portspec_conflicts (&invalid, &invalid));
  assert_false (portspec_conflicts (&sctp, &tcp));
  assert_true (portspec_conflicts (&sctp, &sctp));
}

static const struct {
  const char *in, *out;
} format_cases[] = {
  { "127.0.0.1:8080:80/tcp", "127.0.0.1:8080:80/tcp" },
  { "127.0.0.1:8080:10.0.2.100:80/tcp", "127.0.0.1:8080:10.0.2.100:80/tcp" },
  { ":8080:80/tcp", "8080:80/tcp" },
  { "8080:80", "8080:80/tcp" },
  { "[::0001]:8080:[::2]:80/udp", "[::1]:8080:[::2]:80/udp" },
  { "[127.0.0.1]:8080:80/tcp4", "127.0.0.1:8080:80/tcp4" },
  { "[::]:8080:[127.0.0.1]:80/tcp6", "[::]:8080:127.0.0.1:80/tcp6" },
  { "0.0.0.0:8080:[::1]:80/tcp4", "0.0.0.0:8080:[::1]:80/tcp4" },
  { "8080:[::1]:80/udp6", "8080:[::1]:80/udp6" },
  { "8080:10.0.2.100:80/udp", "8080:10.0.2.100:80/udp" },
  { "[::ffff:1.2.3.4]:1:2/udp4", "1.2.3.4:1:2/udp4" },
  { "0:80/tcp", "0:80/tcp" },
  { "65535:65535/udp", "65535:65535/udp" },
};

static void
test_format_round_trip (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (format_cases); i++)
    {
      PortSpec spec = spec_from (format_cases[i].in);
      g_autofree char *text = portspec_format (&spec);
      PortSpec again;

      assert_string_equal (text, format_cases[i].out);
      again = spec_from (text);
      assert_spec (&again, spec.proto, spec.parent_ip, spec.parent_port, spec.child_ip,
                   spec.child_port);
    }
}

static void
test_format_raw (void **state)
{
  PortSpec spec = raw_spec (PORT_PROTO_SCTP6, "fe80::1", 1, "", 2);
  g_autofree char *text = portspec_format (&spec);
  g_autofree char *invalid = NULL;

  assert_string_equal (text, "[fe80::1]:1:2/sctp6");
  spec = raw_spec (PORT_PROTO_INVALID, "", 1, "", 2);
  invalid = portspec_format (&spec);
  assert_string_equal (invalid, "1:2/");
}

static void
test_listen_plan (void **state)
{
  static const struct {
    const char *spec;
    int family, socktype;
    gboolean v6only;
    const char *addr;
  } cases[] = {
    { "8080:80/tcp", AF_INET6, SOCK_STREAM, FALSE, ":: 8080" },
    { "0.0.0.0:8080:80/tcp", AF_INET6, SOCK_STREAM, FALSE, ":: 8080" },
    { "[::]:8080:80/udp", AF_INET6, SOCK_DGRAM, FALSE, ":: 8080" },
    { "8080:80/tcp4", AF_INET, SOCK_STREAM, FALSE, "0.0.0.0 8080" },
    { "0.0.0.0:8080:80/udp4", AF_INET, SOCK_DGRAM, FALSE, "0.0.0.0 8080" },
    { "8080:80/tcp6", AF_INET6, SOCK_STREAM, TRUE, ":: 8080" },
    { "[::]:8080:80/udp6", AF_INET6, SOCK_DGRAM, TRUE, ":: 8080" },
    { "127.0.0.1:8080:80/tcp", AF_INET, SOCK_STREAM, FALSE, "127.0.0.1 8080" },
    { "127.0.0.1:8080:80/tcp4", AF_INET, SOCK_STREAM, FALSE, "127.0.0.1 8080" },
    { "10.1.2.3:53:53/udp", AF_INET, SOCK_DGRAM, FALSE, "10.1.2.3 53" },
    { "[::1]:8080:80/tcp", AF_INET6, SOCK_STREAM, TRUE, "::1 8080" },
    { "[::1]:8080:80/tcp6", AF_INET6, SOCK_STREAM, TRUE, "::1 8080" },
    { "[::ffff:10.0.0.1]:8080:80/tcp", AF_INET, SOCK_STREAM, FALSE, "10.0.0.1 8080" },
    { "0:80/tcp", AF_INET6, SOCK_STREAM, FALSE, ":: 0" },
    { "65535:80/udp6", AF_INET6, SOCK_DGRAM, TRUE, ":: 65535" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PortSpec spec = spec_from (cases[i].spec);
      PortListenPlan plan;
      g_autofree char *addr = NULL;

      memset (&plan, 0xaa, sizeof plan);
      portspec_listen_plan (&spec, &plan);
      addr = sockaddr_text (&plan.addr, plan.addrlen);
      if (strcmp (addr, cases[i].addr) != 0)
        print_error ("%s\n", cases[i].spec);
      assert_int_equal (plan.family, cases[i].family);
      assert_int_equal (plan.addr.ss_family, cases[i].family);
      assert_int_equal (plan.socktype, cases[i].socktype);
      assert_int_equal (plan.v6only, cases[i].v6only);
      assert_string_equal (addr, cases[i].addr);
    }
}

static void
test_child_target (void **state)
{
  static const struct {
    const char *spec, *addr;
  } cases[] = {
    /* wildcard parent: loopback of the proto's family */
    { "8080:80/tcp", "127.0.0.1 80" },
    { "8080:80/udp", "127.0.0.1 80" },
    { "8080:80/tcp4", "127.0.0.1 80" },
    { "8080:80/udp4", "127.0.0.1 80" },
    { "8080:80/tcp6", "::1 80" },
    { "8080:80/udp6", "::1 80" },
    { "0.0.0.0:8080:80/tcp", "127.0.0.1 80" },
    { "[::]:8080:80/tcp", "127.0.0.1 80" },
    { "[::]:8080:80/tcp6", "::1 80" },
    { "0.0.0.0:8080:80/udp4", "127.0.0.1 80" },
    /* loopback parent: dial the same address in the namespace (rootlesskit #477) */
    { "127.0.0.1:8080:80/tcp", "127.0.0.1 80" },
    { "127.0.0.2:8080:80/tcp", "127.0.0.2 80" },
    { "127.255.0.9:8080:80/udp4", "127.255.0.9 80" },
    { "[::1]:8080:80/tcp", "::1 80" },
    { "[::ffff:127.0.0.3]:8080:80/tcp", "127.0.0.3 80" },
    /* other specific parent: that address does not exist inside; loopback of its family */
    { "192.168.1.5:8080:80/tcp", "127.0.0.1 80" },
    { "192.168.1.5:8080:80/udp4", "127.0.0.1 80" },
    { "128.0.0.1:8080:80/tcp", "127.0.0.1 80" },
    { "[2001:db8::1]:8080:80/tcp6", "::1 80" },
    { "[2001:db8::1]:8080:80/tcp", "::1 80" },
    { "[::ffff:10.0.0.1]:8080:80/tcp", "127.0.0.1 80" },
    /* child IP given: it wins, whatever its family */
    { "192.168.1.5:8080:10.0.2.100:80/tcp", "10.0.2.100 80" },
    { "[::]:8080:[127.0.0.1]:80/tcp6", "127.0.0.1 80" },
    { "0.0.0.0:8080:[::1]:80/tcp4", "::1 80" },
    { "8080:[::1]:80/tcp", "::1 80" },
    { "8080:10.0.2.100:65535/udp", "10.0.2.100 65535" },
    { "0:10.0.2.100:1/udp", "10.0.2.100 1" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PortSpec spec = spec_from (cases[i].spec);
      struct sockaddr_storage ss;
      socklen_t len = 0;
      g_autofree char *addr = NULL;

      memset (&ss, 0xaa, sizeof ss);
      portspec_child_target (&spec, &ss, &len);
      addr = sockaddr_text (&ss, len);
      if (strcmp (addr, cases[i].addr) != 0)
        print_error ("%s\n", cases[i].spec);
      assert_string_equal (addr, cases[i].addr);
    }
}

static const struct {
  const char *text;
  PortProto proto;
  const char *pip;
  int pport;
  const char *cip;
  int cport;
  int count;
} range_ok[] = {
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
  for (gsize i = 0; i < G_N_ELEMENTS (range_ok); i++)
    {
      g_autoptr (GError) error = NULL;
      PortSpec spec;

      memset (&spec, 0xaa, sizeof spec);
      if (!portspec_parse (range_ok[i].text, &spec, &error))
        print_error ("%s: %s\n", range_ok[i].text, error->message);
      assert_null (error);
      assert_spec (&spec, range_ok[i].proto, range_ok[i].pip, range_ok[i].pport, range_ok[i].cip,
                   range_ok[i].cport);
      assert_int_equal (spec.count, range_ok[i].count);
      assert_false (spec.reverse);
    }
}

static const struct {
  const char *text;
  const char *message; /* after "invalid port spec \"TEXT\": " */
} range_bad[] = {
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
      g_autoptr (GError) error = NULL;
      g_autofree char *want = g_strdup_printf ("invalid port spec \"%s\": %s", range_bad[i].text,
                                               range_bad[i].message);
      PortSpec spec = raw_spec (PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);

      assert_false (portspec_parse (range_bad[i].text, &spec, &error));
      assert_true (g_error_matches (error, NPTE_ERROR, EINVAL));
      assert_string_equal (error->message, want);
      assert_spec (&spec, PORT_PROTO_UDP, "9.9.9.9", 1, "", 2);
      assert_int_equal (spec.count, 0);
    }
  /* Unbracketed IPv6 still gets its hint. */
  {
    g_autoptr (GError) error = NULL;
    PortSpec spec;

    assert_false (portspec_parse ("::1:8000-8009:80-89/tcp", &spec, &error));
    assert_string_equal (error->message, "invalid port spec \"::1:8000-8009:80-89/tcp\": too many "
                                         "':'-separated parts" IPV6_HINT);
  }
}

static void
test_parse_args_ranges (void **state)
{
  static const struct {
    const char *proto, *mapping;
    int pport, cport, count;
  } ok[] = {
    { "tcp", "8000-8009:9000-9009", 8000, 9000, 10 },
    { "udp6", "[::1]:53-54:[::1]:5353-5354", 53, 5353, 2 },
    { "tcp4", "8000-8001:10.0.2.100:80-81", 8000, 80, 2 },
    { "tcp", "127.0.0.1:8000-8000:80-80", 8000, 80, 1 },
  };
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      assert_true (portspec_parse_args (ok[i].proto, ok[i].mapping, &spec, &error));
      assert_int_equal (spec.parent_port, ok[i].pport);
      assert_int_equal (spec.child_port, ok[i].cport);
      assert_int_equal (spec.count, ok[i].count);
    }
  assert_true (portspec_parse_args ("tcp", "8080:80", &spec, &error));
  assert_int_equal (spec.count, 1);
  assert_false (portspec_parse_args ("tcp", "8000-8009:80-85", &spec, &error));
  assert_string_equal (error->message, "invalid port mapping \"8000-8009:80-85\": port ranges must "
                                       "have the same length: 8000-8009 (10) vs 80-85 (6)");
  g_clear_error (&error);
  assert_false (portspec_parse_args ("tcp", "8001-8000:80-81", &spec, &error));
  assert_string_equal (error->message, "invalid port mapping \"8001-8000:80-81\": ParentPort range "
                                       "\"8001-8000\" ends before it starts");
}

/* ranged() - raw_spec() with a count. */
static PortSpec
ranged (PortProto proto, int pport, int cport, int count)
{
  PortSpec spec = raw_spec (proto, "", pport, "", cport);

  spec.count = count;
  return spec;
}

/* reversed() - raw_spec() of a reverse spec. */
static PortSpec
reversed (PortProto proto, const char *pip, int pport, const char *cip, int cport)
{
  PortSpec spec = raw_spec (proto, pip, pport, cip, cport);

  spec.reverse = TRUE;
  return spec;
}

static void
test_validate_ranges (void **state)
{
  static const int bad_counts[] = { -1, -65535, 65536, 100000, G_MININT, G_MAXINT };
  PortSpec spec;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_counts); i++)
    {
      g_autofree char *msg = g_strdup_printf ("invalid PortCount: %d (1-65535)", bad_counts[i]);

      validate_fails (ranged (PORT_PROTO_TCP, 1, 1, bad_counts[i]), EINVAL, msg);
    }
  /* 0 means 1 and is stored as 1; the largest range covers every port from 1. */
  spec = ranged (PORT_PROTO_TCP, 8080, 80, 0);
  assert_true (portspec_validate (&spec, NULL));
  assert_int_equal (spec.count, 1);
  validate_ok (ranged (PORT_PROTO_TCP, 1, 1, 65535));
  validate_ok (ranged (PORT_PROTO_UDP, 65526, 65526, 10));
  validate_ok (ranged (PORT_PROTO_UDP, 65535, 1, 1));
  validate_ok (ranged (PORT_PROTO_UDP, 1, 65535, 1));
  validate_ok (ranged (PORT_PROTO_TCP, 2, 1, 65534));
  /* The last port of either side must be <= 65535. */
  validate_fails (ranged (PORT_PROTO_TCP, 1, 2, 65535), EINVAL,
                  "invalid ChildPort range: 2-65536 (ports end at 65535)");
  validate_fails (ranged (PORT_PROTO_UDP, 65527, 1, 10), EINVAL,
                  "invalid ParentPort range: 65527-65536 (ports end at 65535)");
  validate_fails (ranged (PORT_PROTO_UDP, 1, 65527, 10), EINVAL,
                  "invalid ChildPort range: 65527-65536 (ports end at 65535)");
  validate_fails (ranged (PORT_PROTO_TCP, 65535, 80, 2), EINVAL,
                  "invalid ParentPort range: 65535-65536 (ports end at 65535)");
  /* Port 0 (auto) cannot start a range. */
  validate_fails (ranged (PORT_PROTO_TCP, 0, 80, 10), EINVAL,
                  "invalid ParentPort range: 0-9 (port 0 picks one free port; a range needs "
                  "its first port)");
  validate_ok (ranged (PORT_PROTO_TCP, 0, 80, 1));
  /* Order: IPs, then the count, then the ports. */
  spec = ranged (PORT_PROTO_TCP, -1, 0, -1);
  validate_fails (spec, EINVAL, "invalid PortCount: -1 (1-65535)");
  g_strlcpy (spec.parent_ip, "bad", sizeof spec.parent_ip);
  validate_fails (spec, EINVAL, "invalid ParentIP: \"bad\"");
  validate_fails (ranged (PORT_PROTO_TCP, 70000, 80, 2), EINVAL, "invalid ParentPort: 70000");
  validate_fails (ranged (PORT_PROTO_TCP, 80, 0, 2), EINVAL, "invalid ChildPort: 0");
  validate_fails (ranged (PORT_PROTO_SCTP, 80, 80, 2), EPROTONOSUPPORT,
                  "unsupported port protocol sctp");
  /* What the parser let through is refused here. */
  {
    g_autoptr (GError) error = NULL;

    assert_true (portspec_parse ("0-65535:0-65535/tcp", &spec, NULL));
    assert_false (portspec_validate (&spec, &error));
    assert_string_equal (error->message, "invalid PortCount: 65536 (1-65535)");
  }
}

static void
test_validate_reverse (void **state)
{
  PortSpec spec;

  /* The host side is dialled: a real port. The namespace side listens: 0 = auto. */
  validate_fails (reversed (PORT_PROTO_TCP, "", 0, "", 5432), EINVAL,
                  "invalid ParentPort: 0 (a reverse port connects to this host port, so it must "
                  "be given)");
  validate_fails (reversed (PORT_PROTO_TCP, "", -1, "", 5432), EINVAL, "invalid ParentPort: -1");
  validate_fails (reversed (PORT_PROTO_TCP, "", 65536, "", 5432), EINVAL,
                  "invalid ParentPort: 65536");
  validate_fails (reversed (PORT_PROTO_TCP, "", 5432, "", -1), EINVAL, "invalid ChildPort: -1");
  validate_fails (reversed (PORT_PROTO_TCP, "", 5432, "", 65536), EINVAL,
                  "invalid ChildPort: 65536");
  validate_ok (reversed (PORT_PROTO_TCP, "", 5432, "", 0));
  validate_ok (reversed (PORT_PROTO_UDP, "", 1, "", 65535));
  validate_ok (reversed (PORT_PROTO_UDP, "", 65535, "", 1));
  /* Ranges, with the same edges; auto cannot start one. */
  spec = reversed (PORT_PROTO_TCP, "", 5000, "", 0);
  spec.count = 10;
  validate_fails (spec, EINVAL, "invalid ChildPort range: 0-9 (port 0 picks one free port; a "
                                "range needs its first port)");
  spec.child_port = 65526;
  validate_ok (spec);
  spec.child_port = 65527;
  validate_fails (spec, EINVAL, "invalid ChildPort range: 65527-65536 (ports end at 65535)");
  spec.child_port = 6000;
  spec.parent_port = 65530;
  validate_fails (spec, EINVAL, "invalid ParentPort range: 65530-65539 (ports end at 65535)");
  /* The host target: "" is loopback; a wildcard is no address to connect to. */
  validate_fails (reversed (PORT_PROTO_TCP, "0.0.0.0", 5432, "", 5432), EINVAL,
                  "invalid ParentIP \"0.0.0.0\" for a reverse port: it is the host address to "
                  "connect to, so it cannot be a wildcard (leave it out for loopback)");
  validate_fails (reversed (PORT_PROTO_TCP6, "[0::0]", 5432, "", 5432), EINVAL,
                  "invalid ParentIP \"::\" for a reverse port: it is the host address to "
                  "connect to, so it cannot be a wildcard (leave it out for loopback)");
  validate_fails (reversed (PORT_PROTO_UDP, "::ffff:0.0.0.0", 5432, "", 5432), EINVAL,
                  "invalid ParentIP \"0.0.0.0\" for a reverse port: it is the host address to "
                  "connect to, so it cannot be a wildcard (leave it out for loopback)");
  validate_ok (reversed (PORT_PROTO_TCP, "192.168.1.5", 5432, "", 5432));
  /* The family rule applies to the listening side (ChildIP); the target's is free. */
  validate_fails (reversed (PORT_PROTO_TCP4, "", 5432, "::1", 5432), EINVAL,
                  "invalid ChildIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only "
                  "proto (use tcp or tcp6)");
  validate_fails (reversed (PORT_PROTO_UDP6, "", 5432, "127.0.0.1", 5432), EINVAL,
                  "invalid ChildIP \"127.0.0.1\" for proto udp6: an IPv4 address with an "
                  "IPv6-only proto (use udp or udp4)");
  validate_ok (reversed (PORT_PROTO_TCP4, "::1", 5432, "", 5432));
  validate_ok (reversed (PORT_PROTO_TCP6, "127.0.0.1", 5432, "[::]", 5432));
  validate_ok (reversed (PORT_PROTO_TCP4, "::1", 5432, "0.0.0.0", 5432));
  validate_fails (reversed (PORT_PROTO_SCTP, "", 5432, "", 5432), EPROTONOSUPPORT,
                  "unsupported port protocol sctp");
  /* Canonical IPs and a plain TRUE after validation. */
  spec = reversed (PORT_PROTO_TCP, "::ffff:127.0.0.1", 5432, "[::0001]", 0);
  spec.reverse = 7;
  assert_true (portspec_validate (&spec, NULL));
  assert_spec (&spec, PORT_PROTO_TCP, "127.0.0.1", 5432, "::1", 0);
  assert_int_equal (spec.reverse, TRUE);
  assert_int_equal (spec.count, 1);
}

/* Conflicts of ranges and reverse specs; '<' marks a reverse spec. */
static const struct {
  const char *a, *b;
  gboolean conflict;
} range_conflicts[] = {
  /* intervals */
  { "8000-8009:80-89/tcp", "8000:80/tcp", TRUE },
  { "8000-8009:80-89/tcp", "8009:80/tcp", TRUE },
  { "8000-8009:80-89/tcp", "8010:80/tcp", FALSE },
  { "8000-8009:80-89/tcp", "7999:80/tcp", FALSE },
  { "8000-8009:80-89/tcp", "7990-7999:80-89/tcp", FALSE },
  { "8000-8009:80-89/tcp", "7990-8000:80-90/tcp", TRUE },
  { "8000-8009:80-89/tcp", "8009-8018:80-89/tcp", TRUE },
  { "8000-8009:80-89/tcp", "8010-8019:80-89/tcp", FALSE },
  { "8000-8009:80-89/tcp", "8003-8004:80-81/tcp", TRUE },
  { "8000-8009:80-89/tcp", "1-65535:1-65535/tcp", TRUE },
  { "8000-8009:80-89/tcp", "65535:1/tcp", FALSE },
  { "1-65535:1-65535/tcp", "65535:1/tcp", TRUE },
  { "1-65535:1-65535/tcp", "0:1/tcp", FALSE },
  /* child ports do not matter for a forward spec */
  { "8000-8009:80-89/tcp", "9000-9009:80-89/tcp", FALSE },
  /* the address and proto rules still apply */
  { "8000-8009:80-89/tcp", "8005:80/udp", FALSE },
  { "8000-8009:80-89/tcp4", "8005:80/tcp6", FALSE },
  { "8000-8009:80-89/tcp", "8005:80/tcp6", TRUE },
  { "127.0.0.1:8000-8009:80-89/tcp", "127.0.0.2:8005:80/tcp", FALSE },
  { "127.0.0.1:8000-8009:80-89/tcp", "8005:80/tcp4", TRUE },
  { "127.0.0.1:8000-8009:80-89/tcp", "8005:80/tcp6", FALSE },
  { "[::1]:8000-8009:80-89/udp", "[::]:8009-8010:1-2/udp6", TRUE },
  /* reverse against reverse: the child (namespace) side */
  { "<5432:5432/tcp", "<6543:5432/tcp", TRUE },
  { "<5432:5432/tcp", "<5432:5433/tcp", FALSE },
  { "<5432:5432/tcp", "<5432:5432/udp", FALSE },
  { "<5432:5432/tcp4", "<5432:5432/tcp6", FALSE },
  { "<5432:5432/tcp", "<5432:5432/tcp6", TRUE },
  { "<5432:5432/tcp", "<5432:5432/udp4", FALSE },
  { "<5432:5432/tcp", "<1:127.0.0.1:5432/tcp4", TRUE },
  { "<5432:5432/tcp", "<1:[::1]:5432/tcp", TRUE },
  { "<5432:5432/tcp", "<1:127.0.0.2:5432/tcp", FALSE },
  { "<5432:5432/tcp", "<1:10.0.2.100:5432/tcp", FALSE },
  { "<5432:5432/tcp", "<1:0.0.0.0:5432/tcp", TRUE },
  { "<5432:5432/tcp4", "<1:[::]:5432/tcp6", FALSE },
  { "<5432:5432/tcp6", "<1:0.0.0.0:5432/tcp4", FALSE },
  { "<5432:10.0.2.100:5432/tcp", "<1:10.0.2.100:5432/tcp4", TRUE },
  { "<5432:[::1]:5432/tcp", "<5432:5432/tcp4", FALSE },
  { "<5432:0/tcp", "<5432:0/tcp", FALSE },
  { "<8000-8009:9000-9009/tcp", "<1:9009/tcp", TRUE },
  { "<8000-8009:9000-9009/tcp", "<1:9010/tcp", FALSE },
  { "<8000-8009:9000-9009/tcp", "<8000-8009:9010-9019/tcp", FALSE },
  { "<8000-8009:9000-9009/udp", "<1-10:8991-9000/udp", TRUE },
  /* forward and reverse never conflict */
  { "<5432:5432/tcp", "5432:5432/tcp", FALSE },
  { "<127.0.0.1:5432:5432/tcp", "127.0.0.1:5432:5432/tcp", FALSE },
  { "<8000-8009:9000-9009/tcp", "9000-9009:8000-8009/tcp", FALSE },
};

static void
test_conflicts_ranges_reverse (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (range_conflicts); i++)
    {
      PortSpec a = spec_any (range_conflicts[i].a);
      PortSpec b = spec_any (range_conflicts[i].b);
      gboolean ab = portspec_conflicts (&a, &b);
      gboolean ba = portspec_conflicts (&b, &a);

      if (ab != range_conflicts[i].conflict || ba != range_conflicts[i].conflict)
        print_error ("%s vs %s: got %d/%d\n", range_conflicts[i].a, range_conflicts[i].b, ab, ba);
      assert_int_equal (ab, range_conflicts[i].conflict);
      assert_int_equal (ba, range_conflicts[i].conflict);
      /* A spec whose listening port is known conflicts with itself. */
      assert_int_equal (portspec_conflicts (&a, &a),
                        (a.reverse ? a.child_port : a.parent_port) != 0);
    }
}

static void
test_format_ranges (void **state)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    { "127.0.0.1:8000-8009:80-89/tcp", "127.0.0.1:8000-8009:80-89/tcp" },
    { "8000-8009:9000-9009", "8000-8009:9000-9009/tcp" },
    { "8000-8000:80-80/udp", "8000:80/udp" },
    { "08000-08009:00080-00089/udp4", "8000-8009:80-89/udp4" },
    { "[::0001]:1-2:[::2]:3-4/udp6", "[::1]:1-2:[::2]:3-4/udp6" },
    { "8000-8001:10.0.2.100:80-81/tcp", "8000-8001:10.0.2.100:80-81/tcp" },
    { "1-65535:1-65535/tcp", "1-65535:1-65535/tcp" },
  };
  PortSpec spec;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = NULL;
      PortSpec again;

      spec = spec_from (cases[i].in);
      text = portspec_format (&spec);
      assert_string_equal (text, cases[i].out);
      again = spec_from (text);
      assert_spec (&again, spec.proto, spec.parent_ip, spec.parent_port, spec.child_ip,
                   spec.child_port);
      assert_int_equal (again.count, spec.count);
    }
  /* Total on unvalidated counts; the direction is not part of the text. */
  spec = ranged (PORT_PROTO_TCP, 8080, 80, -3);
  {
    g_autofree char *neg = portspec_format (&spec);
    g_autofree char *rev = NULL;

    assert_string_equal (neg, "8080:80/tcp");
    spec = spec_any ("<127.0.0.1:5000-5001:6000-6001/udp");
    rev = portspec_format (&spec);
    assert_string_equal (rev, "127.0.0.1:5000-5001:6000-6001/udp");
  }
  assert_int_equal (portspec_count (&spec), 2);
  spec.count = 0;
  assert_int_equal (portspec_count (&spec), 1);
  spec.count = -5;
  assert_int_equal (portspec_count (&spec), 1);
  spec.count = PORTSPEC_MAX_COUNT;
  assert_int_equal (portspec_count (&spec), PORTSPEC_MAX_COUNT);
}

/* plan_text() - "ip port" of @plan, checking its family fields agree. */
static char *
plan_text (const PortListenPlan *plan)
{
  assert_int_equal (plan->addr.ss_family, plan->family);
  return sockaddr_text (&plan->addr, plan->addrlen);
}

static void
test_plans_at_index (void **state)
{
  static const struct {
    const char *spec;
    int index;
    const char *listen, *target;
  } cases[] = {
    { "127.0.0.1:8000-8009:80-89/tcp", 0, "127.0.0.1 8000", "127.0.0.1 80" },
    { "127.0.0.1:8000-8009:80-89/tcp", 9, "127.0.0.1 8009", "127.0.0.1 89" },
    { "8000-8009:9000-9009/udp", 5, ":: 8005", "127.0.0.1 9005" },
    { "8000-8009:9000-9009/udp6", 3, ":: 8003", "::1 9003" },
    { "[::1]:8000-8001:10.0.2.100:80-81/tcp", 1, "::1 8001", "10.0.2.100 81" },
    { "0.0.0.0:20000-29999:20000-29999/tcp4", 9999, "0.0.0.0 29999", "127.0.0.1 29999" },
    { "65526-65535:1-10/tcp", 9, ":: 65535", "127.0.0.1 10" },
    { "1-65535:1-65535/tcp", 65534, ":: 65535", "127.0.0.1 65535" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PortSpec spec = spec_from (cases[i].spec);
      PortListenPlan plan, plan0;
      struct sockaddr_storage ss, ss0;
      socklen_t len = 0, len0 = 0;
      g_autofree char *listen = NULL;
      g_autofree char *target = NULL;

      portspec_listen_plan_at (&spec, cases[i].index, &plan);
      portspec_child_target_at (&spec, cases[i].index, &ss, &len);
      listen = plan_text (&plan);
      target = sockaddr_text (&ss, len);
      assert_string_equal (listen, cases[i].listen);
      assert_string_equal (target, cases[i].target);
      /* Index 0 is what the single-port functions give. */
      portspec_listen_plan_at (&spec, 0, &plan);
      portspec_listen_plan (&spec, &plan0);
      assert_memory_equal (&plan, &plan0, sizeof plan);
      portspec_child_target_at (&spec, 0, &ss, &len);
      portspec_child_target (&spec, &ss0, &len0);
      assert_int_equal (len, len0);
      assert_memory_equal (&ss, &ss0, len);
    }
}

static void
test_reverse_listen (void **state)
{
  static const struct {
    const char *spec;
    int index;
    int n;
    const char *addr[2];
    gboolean v6only[2];
    int socktype;
  } cases[] = {
    { "5432:5432/tcp", 0, 2, { "127.0.0.1 5432", "::1 5432" }, { FALSE, TRUE }, SOCK_STREAM },
    { "5432:5432/udp", 0, 2, { "127.0.0.1 5432", "::1 5432" }, { FALSE, TRUE }, SOCK_DGRAM },
    { "5432:5432/tcp4", 0, 1, { "127.0.0.1 5432" }, { FALSE }, SOCK_STREAM },
    { "5432:5432/udp4", 0, 1, { "127.0.0.1 5432" }, { FALSE }, SOCK_DGRAM },
    { "5432:5432/tcp6", 0, 1, { "::1 5432" }, { TRUE }, SOCK_STREAM },
    { "[::1]:5432:5432/udp6", 0, 1, { "::1 5432" }, { TRUE }, SOCK_DGRAM },
    { "5432:10.0.2.100:5432/tcp", 0, 1, { "10.0.2.100 5432" }, { FALSE }, SOCK_STREAM },
    { "5432:127.0.0.2:5432/tcp", 0, 1, { "127.0.0.2 5432" }, { FALSE }, SOCK_STREAM },
    { "5432:[::1]:5432/tcp", 0, 1, { "::1 5432" }, { TRUE }, SOCK_STREAM },
    { "5432:[::ffff:127.0.0.1]:5432/tcp", 0, 1, { "127.0.0.1 5432" }, { FALSE }, SOCK_STREAM },
    /* a wildcard listens as a forward spec's wildcard does */
    { "5432:0.0.0.0:5432/tcp", 0, 1, { ":: 5432" }, { FALSE }, SOCK_STREAM },
    { "5432:0.0.0.0:5432/tcp4", 0, 1, { "0.0.0.0 5432" }, { FALSE }, SOCK_STREAM },
    { "5432:[::]:5432/udp6", 0, 1, { ":: 5432" }, { TRUE }, SOCK_DGRAM },
    /* ranges, and the auto port */
    { "5000-5009:6000-6009/tcp", 9, 2, { "127.0.0.1 6009", "::1 6009" }, { FALSE, TRUE },
      SOCK_STREAM },
    { "5000-5009:[::1]:6000-6009/udp", 4, 1, { "::1 6004" }, { TRUE }, SOCK_DGRAM },
    { "5432:0/tcp", 0, 2, { "127.0.0.1 0", "::1 0" }, { FALSE, TRUE }, SOCK_STREAM },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat ("<", cases[i].spec, NULL);
      PortSpec spec = spec_any (text);
      PortListenPlan plans[2];
      int n;

      memset (plans, 0xaa, sizeof plans);
      n = portspec_reverse_listen (&spec, cases[i].index, plans);
      if (n != cases[i].n)
        print_error ("%s: %d plans\n", cases[i].spec, n);
      assert_int_equal (n, cases[i].n);
      for (int k = 0; k < n; k++)
        {
          g_autofree char *addr = plan_text (&plans[k]);

          if (strcmp (addr, cases[i].addr[k]) != 0)
            print_error ("%s plan %d: %s\n", cases[i].spec, k, addr);
          assert_string_equal (addr, cases[i].addr[k]);
          assert_int_equal (plans[k].v6only, cases[i].v6only[k]);
          assert_int_equal (plans[k].socktype, cases[i].socktype);
          assert_true (plans[k].family == AF_INET6 || !plans[k].v6only);
        }
    }
}

static void
test_reverse_target (void **state)
{
  static const struct {
    const char *spec;
    int index;
    const char *addr;
  } cases[] = {
    { "5432:5432/tcp", 0, "127.0.0.1 5432" },
    { "5432:5432/udp", 0, "127.0.0.1 5432" },
    { "5432:5432/tcp4", 0, "127.0.0.1 5432" },
    { "5432:5432/tcp6", 0, "::1 5432" },
    { "5432:5432/udp6", 0, "::1 5432" },
    { "127.0.0.1:5432:5432/tcp", 0, "127.0.0.1 5432" },
    { "192.168.1.5:5432:5432/tcp", 0, "192.168.1.5 5432" },
    { "[::1]:5432:5432/tcp4", 0, "::1 5432" },
    { "[2001:db8::5]:53:53/udp6", 0, "2001:db8::5 53" },
    { "[::ffff:10.0.0.1]:53:53/udp", 0, "10.0.0.1 53" },
    { "127.0.0.1:5000-5009:6000-6009/tcp", 5, "127.0.0.1 5005" },
    { "65526-65535:1-10/udp", 9, "127.0.0.1 65535" },
    { "5432:0/tcp", 0, "127.0.0.1 5432" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strconcat ("<", cases[i].spec, NULL);
      PortSpec spec = spec_any (text);
      struct sockaddr_storage ss;
      socklen_t len = 0;
      g_autofree char *addr = NULL;

      memset (&ss, 0xaa, sizeof ss);
      portspec_reverse_target (&spec, cases[i].index, &ss, &len);
      addr = sockaddr_text (&ss, len);
      if (strcmp (addr, cases[i].addr) != 0)
        print_error ("%s\n", cases[i].spec);
      assert_string_equal (addr, cases[i].addr);
    }
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
    cmocka_unit_test (test_validate_proto),
    cmocka_unit_test (test_validate_ips),
    cmocka_unit_test (test_validate_ports),
    cmocka_unit_test (test_validate_family),
    cmocka_unit_test (test_validate_canonical),
    cmocka_unit_test (test_conflicts_matrix),
    cmocka_unit_test (test_conflicts_raw),
    cmocka_unit_test (test_format_round_trip),
    cmocka_unit_test (test_format_raw),
    cmocka_unit_test (test_listen_plan),
    cmocka_unit_test (test_child_target),
    cmocka_unit_test (test_parse_ranges),
    cmocka_unit_test (test_parse_ranges_rejected),
    cmocka_unit_test (test_parse_args_ranges),
    cmocka_unit_test (test_validate_ranges),
    cmocka_unit_test (test_validate_reverse),
    cmocka_unit_test (test_conflicts_ranges_reverse),
    cmocka_unit_test (test_format_ranges),
    cmocka_unit_test (test_plans_at_index),
    cmocka_unit_test (test_reverse_listen),
    cmocka_unit_test (test_reverse_target),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
