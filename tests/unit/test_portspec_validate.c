/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/portspec.c, validation and conflicts: the rules with
 * their boundary values and exact messages, canonicalisation, the conflict
 * matrix; port ranges (counts, the 65535 edges, interval conflicts) and
 * reverse ports (validation, conflicts on the namespace side).
 */
#include "portspec-helpers.h"

int main (void);

/**
 * struct ValidateCase - a raw spec and what portspec_validate() says of it
 * @proto: protocol
 * @pip: parent IP text
 * @pport: parent port
 * @cip: child IP text
 * @cport: child port
 * @code: expected error code, 0 when the spec is valid
 * @message: expected message when @code is not 0
 */
typedef struct {
  PortProto proto;
  const char *pip;
  int pport;
  const char *cip;
  int cport;
  int code;
  const char *message;
} ValidateCase;

/* A pair of specs ('<' marks a reverse one) and whether they conflict. */
typedef struct {
  const char *a, *b;
  gboolean conflict;
} ConflictCase;

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

/**
 * assert_validates() - each spec of @cases, forward or reverse, validates as the case says
 * @cases: the table
 * @n: its size
 * @reverse: whether the specs are reverse ones
 */
static void
assert_validates (const ValidateCase *cases, gsize n, gboolean reverse)
{
  for (gsize i = 0; i < n; i++)
    {
      PortSpec spec = raw_spec (cases[i].proto, cases[i].pip, cases[i].pport, cases[i].cip,
                                cases[i].cport);

      spec.reverse = reverse;
      if (cases[i].code == 0)
        validate_ok (spec);
      else
        validate_fails (spec, cases[i].code, cases[i].message);
    }
}

/**
 * assert_conflicts() - each pair of @cases conflicts (both ways) as the case says
 * @cases: the table
 * @n: its size
 *
 * Also: a spec whose listening port is known conflicts with itself.
 */
static void
assert_conflicts (const ConflictCase *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      PortSpec a = spec_any (cases[i].a);
      PortSpec b = spec_any (cases[i].b);
      gboolean ab = portspec_conflicts (&a, &b);
      gboolean ba = portspec_conflicts (&b, &a);

      if (ab != cases[i].conflict || ba != cases[i].conflict)
        print_error ("%s vs %s: got %d/%d\n", cases[i].a, cases[i].b, ab, ba);
      assert_int_equal (ab, cases[i].conflict);
      assert_int_equal (ba, cases[i].conflict);
      assert_int_equal (portspec_conflicts (&a, &a),
                        (a.reverse ? a.child_port : a.parent_port) != 0);
    }
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
test_validate_proto (void **state)
{
  static const ValidateCase cases[] = {
    { PORT_PROTO_INVALID, "", 80, "", 80, EINVAL, "unknown proto: \"\"" },
    { (PortProto) 42, "", 80, "", 80, EINVAL, "unknown proto: \"42\"" },
    { (PortProto) -3, "", 80, "", 80, EINVAL, "unknown proto: \"-3\"" },
    { PORT_PROTO_TCP, "", 80, "", 80, 0, NULL },
    { PORT_PROTO_UDP, "", 80, "", 80, 0, NULL },
    { PORT_PROTO_SCTP, "", 80, "", 80, EPROTONOSUPPORT, "unsupported port protocol sctp" },
    { PORT_PROTO_SCTP4, "", 80, "", 80, EPROTONOSUPPORT, "unsupported port protocol sctp4" },
    { PORT_PROTO_SCTP6, "", 80, "", 80, EPROTONOSUPPORT, "unsupported port protocol sctp6" },
    /* Rule order: an unknown proto is reported before a bad IP. */
    { PORT_PROTO_INVALID, "bad", -1, "bad", -1, EINVAL, "unknown proto: \"\"" },
    /* Validation errors come before "unsupported" (as rootlesskit's driver check). */
    { PORT_PROTO_SCTP, "", 0, "", 0, EINVAL, "invalid ChildPort: 0" },
  };

  assert_validates (cases, G_N_ELEMENTS (cases), FALSE);
}

static void
test_validate_ips (void **state)
{
  static const ValidateCase cases[] = {
    { PORT_PROTO_TCP, "bad", 80, "", 80, EINVAL, "invalid ParentIP: \"bad\"" },
    { PORT_PROTO_TCP, "", 80, "999.1.1.1", 80, EINVAL, "invalid ChildIP: \"999.1.1.1\"" },
    { PORT_PROTO_TCP, "bad", 80, "worse", 80, EINVAL, "invalid ParentIP: \"bad\"" },
    { PORT_PROTO_TCP, "fe80::1%eth0", 80, "", 80, EINVAL, "invalid ParentIP: \"fe80::1%eth0\"" },
    { PORT_PROTO_TCP, "127.0.0.01", 80, "", 80, EINVAL, "invalid ParentIP: \"127.0.0.01\"" },
    { PORT_PROTO_TCP, "1.2.3", 80, "", 80, EINVAL, "invalid ParentIP: \"1.2.3\"" },
    { PORT_PROTO_TCP, " 1.2.3.4", 80, "", 80, EINVAL, "invalid ParentIP: \" 1.2.3.4\"" },
    { PORT_PROTO_TCP, "[]", 80, "", 80, EINVAL, "invalid ParentIP: \"[]\"" },
    { PORT_PROTO_TCP, "[::1", 80, "", 80, EINVAL, "invalid ParentIP: \"[::1\"" },
    { PORT_PROTO_TCP, "8080", 80, "", 80, EINVAL, "invalid ParentIP: \"8080\"" },
    { PORT_PROTO_TCP, "", 80, "a\"b\n", 80, EINVAL, "invalid ChildIP: \"a\\\"b\\n\"" },
  };
  PortSpec unterminated = raw_spec (PORT_PROTO_TCP, "", 80, "", 80);
  g_autofree char *ones = g_strnfill (PORTSPEC_IP_MAX, '1');
  g_autofree char *msg = g_strdup_printf ("invalid ParentIP: \"%s\"", ones);

  assert_validates (cases, G_N_ELEMENTS (cases), FALSE);
  /* Buffers without a NUL (from a careless caller) are invalid, not overrun. */
  memset (unterminated.parent_ip, '1', sizeof unterminated.parent_ip);
  validate_fails (unterminated, EINVAL, msg);
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
  static const ValidateCase cases[] = {
    { PORT_PROTO_TCP4, "::1", 80, "", 80, EINVAL,
      "invalid ParentIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only proto (use tcp "
      "or tcp6)" },
    { PORT_PROTO_UDP4, "::", 80, "", 80, EINVAL,
      "invalid ParentIP \"::\" for proto udp4: an IPv6 address with an IPv4-only proto (use udp "
      "or udp6)" },
    { PORT_PROTO_TCP6, "127.0.0.1", 80, "", 80, EINVAL,
      "invalid ParentIP \"127.0.0.1\" for proto tcp6: an IPv4 address with an IPv6-only proto "
      "(use tcp or tcp4)" },
    { PORT_PROTO_UDP6, "0.0.0.0", 80, "", 80, EINVAL,
      "invalid ParentIP \"0.0.0.0\" for proto udp6: an IPv4 address with an IPv6-only proto "
      "(use udp or udp4)" },
    /* A v4-mapped address is the IPv4 address. */
    { PORT_PROTO_TCP6, "::ffff:127.0.0.1", 80, "", 80, EINVAL,
      "invalid ParentIP \"127.0.0.1\" for proto tcp6: an IPv4 address with an IPv6-only proto "
      "(use tcp or tcp4)" },
    { PORT_PROTO_TCP4, "::ffff:127.0.0.1", 80, "", 80, 0, NULL },
    { PORT_PROTO_TCP4, "", 80, "", 80, 0, NULL },
    { PORT_PROTO_TCP6, "", 80, "", 80, 0, NULL },
    { PORT_PROTO_TCP, "::1", 80, "", 80, 0, NULL },
    { PORT_PROTO_UDP, "127.0.0.1", 80, "", 80, 0, NULL },
    /* The child IP family is free (rootlesskit's own integration test). */
    { PORT_PROTO_TCP4, "0.0.0.0", 8080, "::1", 80, 0, NULL },
    { PORT_PROTO_TCP6, "::", 8080, "127.0.0.1", 80, 0, NULL },
  };

  assert_validates (cases, G_N_ELEMENTS (cases), FALSE);
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

static const ConflictCase conflict_cases[] = {
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
  assert_conflicts (conflict_cases, G_N_ELEMENTS (conflict_cases));
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
  static const ValidateCase cases[] = {
    /* The host side is dialled: a real port. The namespace side listens: 0 = auto. */
    { PORT_PROTO_TCP, "", 0, "", 5432, EINVAL,
      "invalid ParentPort: 0 (a reverse port connects to this host port, so it must be given)" },
    { PORT_PROTO_TCP, "", -1, "", 5432, EINVAL, "invalid ParentPort: -1" },
    { PORT_PROTO_TCP, "", 65536, "", 5432, EINVAL, "invalid ParentPort: 65536" },
    { PORT_PROTO_TCP, "", 5432, "", -1, EINVAL, "invalid ChildPort: -1" },
    { PORT_PROTO_TCP, "", 5432, "", 65536, EINVAL, "invalid ChildPort: 65536" },
    { PORT_PROTO_TCP, "", 5432, "", 0, 0, NULL },
    { PORT_PROTO_UDP, "", 1, "", 65535, 0, NULL },
    { PORT_PROTO_UDP, "", 65535, "", 1, 0, NULL },
    /* The host target: "" is loopback; a wildcard is no address to connect to. */
    { PORT_PROTO_TCP, "0.0.0.0", 5432, "", 5432, EINVAL,
      "invalid ParentIP \"0.0.0.0\" for a reverse port: it is the host address to connect to, so "
      "it cannot be a wildcard (leave it out for loopback)" },
    { PORT_PROTO_TCP6, "[0::0]", 5432, "", 5432, EINVAL,
      "invalid ParentIP \"::\" for a reverse port: it is the host address to connect to, so it "
      "cannot be a wildcard (leave it out for loopback)" },
    { PORT_PROTO_UDP, "::ffff:0.0.0.0", 5432, "", 5432, EINVAL,
      "invalid ParentIP \"0.0.0.0\" for a reverse port: it is the host address to connect to, so "
      "it cannot be a wildcard (leave it out for loopback)" },
    { PORT_PROTO_TCP, "192.168.1.5", 5432, "", 5432, 0, NULL },
    /* The family rule applies to the listening side (ChildIP); the target's is free. */
    { PORT_PROTO_TCP4, "", 5432, "::1", 5432, EINVAL,
      "invalid ChildIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only proto (use tcp "
      "or tcp6)" },
    { PORT_PROTO_UDP6, "", 5432, "127.0.0.1", 5432, EINVAL,
      "invalid ChildIP \"127.0.0.1\" for proto udp6: an IPv4 address with an IPv6-only proto "
      "(use udp or udp4)" },
    { PORT_PROTO_TCP4, "::1", 5432, "", 5432, 0, NULL },
    { PORT_PROTO_TCP6, "127.0.0.1", 5432, "[::]", 5432, 0, NULL },
    { PORT_PROTO_TCP4, "::1", 5432, "0.0.0.0", 5432, 0, NULL },
    { PORT_PROTO_SCTP, "", 5432, "", 5432, EPROTONOSUPPORT, "unsupported port protocol sctp" },
  };
  PortSpec spec;

  assert_validates (cases, G_N_ELEMENTS (cases), TRUE);
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
  /* Canonical IPs and a plain TRUE after validation. */
  spec = reversed (PORT_PROTO_TCP, "::ffff:127.0.0.1", 5432, "[::0001]", 0);
  spec.reverse = 7;
  assert_true (portspec_validate (&spec, NULL));
  assert_spec (&spec, PORT_PROTO_TCP, "127.0.0.1", 5432, "::1", 0);
  assert_int_equal (spec.reverse, TRUE);
  assert_int_equal (spec.count, 1);
}

/* Conflicts of ranges and reverse specs; '<' marks a reverse spec. */
static const ConflictCase range_conflicts[] = {
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
  assert_conflicts (range_conflicts, G_N_ELEMENTS (range_conflicts));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_validate_proto),
    cmocka_unit_test (test_validate_ips),
    cmocka_unit_test (test_validate_ports),
    cmocka_unit_test (test_validate_family),
    cmocka_unit_test (test_validate_canonical),
    cmocka_unit_test (test_conflicts_matrix),
    cmocka_unit_test (test_conflicts_raw),
    cmocka_unit_test (test_validate_ranges),
    cmocka_unit_test (test_validate_reverse),
    cmocka_unit_test (test_conflicts_ranges_reverse),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
