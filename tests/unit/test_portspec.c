/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/portspec.c: both parsers (every example of the
 * rootlesskit reference, valid and rejected), validation rules with their
 * boundary values and exact messages, canonicalisation, the conflict
 * matrix, format round-trips, listen plans and child targets.
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
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
