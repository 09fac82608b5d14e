/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/portspec.c, what a spec turns into: format round-trips
 * (single ports and ranges), listen plans and child targets (also at an
 * index of a range), and a reverse port's listen plans and host targets.
 */
#include "portspec-helpers.h"

#include <arpa/inet.h>

int main (void);

/* An input spec and the text portspec_format() gives for it. */
typedef struct {
  const char *in, *out;
} FormatCase;

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

/* plan_text() - "ip port" of @plan, checking its family fields agree. */
static char *
plan_text (const PortListenPlan *plan)
{
  assert_int_equal (plan->addr.ss_family, plan->family);
  return sockaddr_text (&plan->addr, plan->addrlen);
}

/**
 * assert_addr() - @ss is the address "ip port" @want
 * @ss: the address
 * @len: its length
 * @want: "ip port"
 * @spec: the spec it came from, for the failure message
 */
static void
assert_addr (const struct sockaddr_storage *ss, socklen_t len, const char *want, const char *spec)
{
  g_autofree char *addr = sockaddr_text (ss, len);

  if (strcmp (addr, want) != 0)
    print_error ("%s: %s\n", spec, addr);
  assert_string_equal (addr, want);
}

/**
 * assert_formats() - each spec of @cases formats as the case says, and that text parses back
 * @cases: the table
 * @n: its size
 */
static void
assert_formats (const FormatCase *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      PortSpec spec = spec_any (cases[i].in);
      g_autofree char *text = portspec_format (&spec);
      PortSpec again;

      assert_string_equal (text, cases[i].out);
      again = spec_any (text);
      assert_spec (&again, spec.proto, spec.parent_ip, spec.parent_port, spec.child_ip,
                   spec.child_port);
      assert_int_equal (again.count, spec.count);
    }
}

static void
test_format_round_trip (void **state)
{
  static const FormatCase cases[] = {
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

  assert_formats (cases, G_N_ELEMENTS (cases));
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
test_format_ranges (void **state)
{
  static const FormatCase cases[] = {
    { "127.0.0.1:8000-8009:80-89/tcp", "127.0.0.1:8000-8009:80-89/tcp" },
    { "8000-8009:9000-9009", "8000-8009:9000-9009/tcp" },
    { "8000-8000:80-80/udp", "8000:80/udp" },
    { "08000-08009:00080-00089/udp4", "8000-8009:80-89/udp4" },
    { "[::0001]:1-2:[::2]:3-4/udp6", "[::1]:1-2:[::2]:3-4/udp6" },
    { "8000-8001:10.0.2.100:80-81/tcp", "8000-8001:10.0.2.100:80-81/tcp" },
    { "1-65535:1-65535/tcp", "1-65535:1-65535/tcp" },
  };
  PortSpec spec;

  assert_formats (cases, G_N_ELEMENTS (cases));
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
      PortSpec spec = spec_any (cases[i].spec);
      PortListenPlan plan;

      memset (&plan, 0xaa, sizeof plan);
      portspec_listen_plan (&spec, &plan);
      assert_addr (&plan.addr, plan.addrlen, cases[i].addr, cases[i].spec);
      assert_int_equal (plan.family, cases[i].family);
      assert_int_equal (plan.addr.ss_family, cases[i].family);
      assert_int_equal (plan.socktype, cases[i].socktype);
      assert_int_equal (plan.v6only, cases[i].v6only);
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
      PortSpec spec = spec_any (cases[i].spec);
      struct sockaddr_storage ss;
      socklen_t len = 0;

      memset (&ss, 0xaa, sizeof ss);
      portspec_child_target (&spec, &ss, &len);
      assert_addr (&ss, len, cases[i].addr, cases[i].spec);
    }
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
      PortSpec spec = spec_any (cases[i].spec);
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

      memset (&ss, 0xaa, sizeof ss);
      portspec_reverse_target (&spec, cases[i].index, &ss, &len);
      assert_addr (&ss, len, cases[i].addr, cases[i].spec);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_format_round_trip),
    cmocka_unit_test (test_format_raw),
    cmocka_unit_test (test_format_ranges),
    cmocka_unit_test (test_listen_plan),
    cmocka_unit_test (test_child_target),
    cmocka_unit_test (test_plans_at_index),
    cmocka_unit_test (test_reverse_listen),
    cmocka_unit_test (test_reverse_target),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
