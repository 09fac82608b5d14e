/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/netns-cfg.c and src/netns-show.c: the grammar of
 * "npte netns link|addr|route|neigh" (every form, and the errors that must
 * exit 2 before anything happens), the iproute2 command each change is
 * rendered as for --dry-run, and the text and JSON renderings of a dump,
 * including names that need JSON escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "netns-cfg.h"
#include "netns-show.h"
#include "npte-error.h"

int main (void);

/**
 * parse_line() - netns_cfg_parse() of a space-separated line
 * @line: "addr add web v0 10.0.0.1/24"
 * @op: (out) the change
 * @error: error
 *
 * Return: its result.
 */
static gboolean
parse_line (const char *line, NetnsCfgOp *op, GError **error)
{
  g_auto (GStrv) words = g_strsplit (line, " ", -1);

  return netns_cfg_parse ((int) g_strv_length (words), words, op, error);
}

/**
 * ip_line() - parse @line and render its ip command as one line
 * @line: the words
 * @other_ref: peer namespace reference
 *
 * Return: (transfer full) "ip ..." joined with spaces.
 */
static char *
ip_line (const char *line, const char *other_ref)
{
  NetnsCfgOp op;
  g_autoptr (GError) error = NULL;

  if (!parse_line (line, &op, &error))
    fail_msg ("%s: %s", line, error->message);
  g_auto (GStrv) args = netns_cfg_ip_args (&op, other_ref);
  return g_strjoinv (" ", args);
}

static void
test_parse_render (void **state)
{
  static const char *const cases[][2] = {
    { "link add web v0 type veth peer v1", "ip link add v0 type veth peer name v1" },
    { "link add web v0 type veth peer v1 netns db",
      "ip link add v0 type veth peer name v1 netns REF" },
    { "link add web v0 type veth peer v1 netns web", "ip link add v0 type veth peer name v1" },
    { "link add web br0 type bridge", "ip link add br0 type bridge" },
    { "link del web v0", "ip link del v0" },
    { "link set web v0 up", "ip link set v0 up" },
    { "link set web v0 down", "ip link set v0 down" },
    { "link set web v0 mtu 9000", "ip link set v0 mtu 9000" },
    { "link set web v0 master br0", "ip link set v0 master br0" },
    { "link set web v0 nomaster", "ip link set v0 nomaster" },
    { "addr add web v0 10.0.0.1/24", "ip addr add 10.0.0.1/24 dev v0" },
    { "addr add web v0 10.0.0.1", "ip addr add 10.0.0.1/32 dev v0" },
    { "addr add web v0 fd00::1/64", "ip addr add fd00::1/64 dev v0 nodad" },
    { "addr del web v0 fd00::1/64", "ip addr del fd00::1/64 dev v0" },
    { "route add web default via 10.0.0.254",
      "ip -4 route add default via 10.0.0.254 proto static" },
    { "route add web default via fd00::fe dev v0",
      "ip -6 route add default via fd00::fe dev v0 proto static" },
    { "route add web 192.168.0.0/16 via 10.0.0.2 dev v0",
      "ip -4 route add 192.168.0.0/16 via 10.0.0.2 dev v0 proto static" },
    { "route add web 192.168.7.7 dev v0", "ip -4 route add 192.168.7.7/32 dev v0 proto static" },
    { "route del web 192.168.0.0/16", "ip -4 route del 192.168.0.0/16" },
    { "route del web default via 10.0.0.254", "ip -4 route del default via 10.0.0.254" },
    { "neigh add web 10.0.0.9 lladdr 02:00:00:AA:bb:09 dev v0",
      "ip neigh add 10.0.0.9 lladdr 02:00:00:aa:bb:09 dev v0" },
    { "neigh add web fd00::9 dev v0 lladdr 02:00:00:00:00:09",
      "ip neigh add fd00::9 lladdr 02:00:00:00:00:09 dev v0" },
    { "neigh del web 10.0.0.9 dev v0", "ip neigh del 10.0.0.9 dev v0" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = ip_line (cases[i][0], "REF");
      assert_string_equal (got, cases[i][1]);
    }
}

static void
test_parse_fields (void **state)
{
  NetnsCfgOp op;
  guint8 want[16] = { 0 };

  assert_true (parse_line ("route add web 10.1.0.0/16 via 10.0.0.2 dev v0", &op, NULL));
  assert_int_equal (op.kind, NETNS_CFG_ROUTE_ADD);
  assert_string_equal (op.ns, "web");
  assert_string_equal (op.ifname, "v0");
  assert_int_equal (op.family, AF_INET);
  assert_int_equal (op.prefix, 16);
  inet_pton (AF_INET, "10.1.0.0", want);
  assert_memory_equal (op.addr, want, 4);
  assert_true (op.has_gw);

  assert_true (parse_line ("link add web v0 type veth peer v1 netns db", &op, NULL));
  assert_int_equal (op.kind, NETNS_CFG_LINK_ADD_VETH);
  assert_string_equal (op.peer, "v1");
  assert_string_equal (op.other_ns, "db");

  assert_true (parse_line ("link set web v0 mtu 1280", &op, NULL));
  assert_int_equal (op.mtu, 1280);
}

static void
test_parse_errors (void **state)
{
  static const char *const bad[] = {
    "",
    "bogus add web",
    "link",
    "link add",
    "link add ../x v0 type bridge",
    "link add Web v0 type bridge",
    "link add web v0",
    "link add web v0 type",
    "link add web v0 type dummy",
    "link add web v0 type veth",
    "link add web v0 type veth peer",
    "link add web v0 type veth peer v1 netns",
    "link add web v0 type veth peer v1 netns a/b",
    "link add web v0 type veth peer v1 netns db extra",
    "link add web v0 type bridge extra",
    "link add web a/b type bridge",
    "link add web 0123456789abcdef type bridge",
    "link add web .. type bridge",
    "link set web v0",
    "link set web v0 sideways",
    "link set web v0 mtu",
    "link set web v0 mtu 12",
    "link set web v0 mtu 70000",
    "link set web v0 mtu x",
    "link set web v0 up down",
    "link set web v0 master",
    "link del web",
    "link move web v0",
    "addr add web v0",
    "addr add web v0 10.0.0.300/24",
    "addr add web v0 10.0.0.1/33",
    "addr add web v0 fd00::1/129",
    "addr add web v0 10.0.0.1/24 extra",
    "addr swap web v0 10.0.0.1/24",
    "addr add web",
    "route add web",
    "route add web default",
    "route add web 10.0.0.0/8",
    "route add web default via",
    "route add web default via 10.0.0.1/24",
    "route add web default via nothere",
    "route add web 10.0.0.0/8 via fd00::1",
    "route add web default via 10.0.0.1 via 10.0.0.2",
    "route add web default via 10.0.0.1 dev",
    "route add web default via 10.0.0.1 metric 5",
    "neigh add web 10.0.0.9 dev v0",
    "neigh add web 10.0.0.9 lladdr 02:00:00:00:00:09",
    "neigh add web 10.0.0.9 lladdr 02:00:00:00:00 dev v0",
    "neigh add web 10.0.0.9 lladdr 02:00:00:00:00:0g dev v0",
    "neigh add web 10.0.0.9/24 lladdr 02:00:00:00:00:09 dev v0",
    "neigh del web 10.0.0.9",
  };
  NetnsCfgOp op;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      if (parse_line (bad[i], &op, &error))
        fail_msg ("accepted: \"%s\"", bad[i]);
      assert_int_equal (error->code, EINVAL);
    }
}

/* A dump with one of everything, and a link whose name needs escaping. */
static NetcfgDump *
fake_dump (void)
{
  NetcfgDump *d = g_new0 (NetcfgDump, 1);
  NetcfgLinkInfo lo = { .index = 1, .name = "lo", .mtu = 65536, .flags = IFF_UP,
                        .operstate = IF_OPER_UNKNOWN };
  NetcfgLinkInfo v0 = { .index = 2, .name = "v\"0", .kind = "veth", .mtu = 1500, .flags = IFF_UP,
                        .operstate = IF_OPER_UP, .master = 3, .addr_len = 6,
                        .addr = { 2, 0, 0, 0, 0, 1 } };
  NetcfgLinkInfo br = { .index = 3, .name = "br\x01", .kind = "bridge", .mtu = 1500 };
  NetcfgAddrInfo a = { .index = 2, .family = AF_INET, .prefix = 24, .scope = RT_SCOPE_UNIVERSE };
  NetcfgRouteInfo r = { .family = AF_INET, .dst_len = 0, .has_gateway = TRUE, .oif = 2,
                        .protocol = RTPROT_STATIC, .scope = RT_SCOPE_UNIVERSE,
                        .type = RTN_UNICAST };
  NetcfgNeighInfo n = { .index = 2, .family = AF_INET, .lladdr_len = 6,
                        .lladdr = { 2, 0, 0, 0, 0, 9 }, .state = NUD_PERMANENT };

  inet_pton (AF_INET, "10.0.0.1", a.addr);
  inet_pton (AF_INET, "10.0.0.254", r.gateway);
  inet_pton (AF_INET, "10.0.0.9", n.dst);
  d->links = g_array_new (FALSE, TRUE, sizeof (NetcfgLinkInfo));
  d->addrs = g_array_new (FALSE, TRUE, sizeof (NetcfgAddrInfo));
  d->routes = g_array_new (FALSE, TRUE, sizeof (NetcfgRouteInfo));
  d->neighs = g_array_new (FALSE, TRUE, sizeof (NetcfgNeighInfo));
  g_array_append_val (d->links, lo);
  g_array_append_val (d->links, v0);
  g_array_append_val (d->links, br);
  g_array_append_val (d->addrs, a);
  g_array_append_val (d->routes, r);
  g_array_append_val (d->neighs, n);
  return d;
}

static void
test_show_json (void **state)
{
  g_autoptr (NetcfgDump) d = fake_dump ();
  g_autofree char *json = netns_show_render (d, TRUE);

  assert_non_null (strstr (json, "{\"links\":[{\"index\":1,\"name\":\"lo\",\"kind\":null,"
                                 "\"mtu\":65536,\"up\":true,\"operstate\":\"unknown\","
                                 "\"mac\":null,\"master\":null}"));
  assert_non_null (strstr (json, "\"name\":\"v\\\"0\",\"kind\":\"veth\""));
  assert_non_null (strstr (json, "\"mac\":\"02:00:00:00:00:01\",\"master\":\"br\\u0001\""));
  assert_non_null (strstr (json, "\"addresses\":[{\"dev\":\"v\\\"0\",\"family\":\"inet\","
                                 "\"address\":\"10.0.0.1\",\"prefix\":24,\"scope\":\"universe\"}]"));
  assert_non_null (strstr (json, "\"routes\":[{\"family\":\"inet\",\"dst\":\"default\","
                                 "\"gateway\":\"10.0.0.254\",\"dev\":\"v\\\"0\","
                                 "\"protocol\":\"static\",\"scope\":\"universe\","
                                 "\"type\":\"unicast\"}]"));
  assert_non_null (strstr (json, "\"neighbours\":[{\"dev\":\"v\\\"0\",\"family\":\"inet\","
                                 "\"address\":\"10.0.0.9\",\"lladdr\":\"02:00:00:00:00:09\","
                                 "\"state\":\"permanent\"}]}\n"));
}

static void
test_show_text (void **state)
{
  g_autoptr (NetcfgDump) d = fake_dump ();
  g_autofree char *text = netns_show_render (d, FALSE);

  assert_non_null (strstr (text, "links:\n  1: lo UP mtu 65536 state unknown\n"));
  assert_non_null (strstr (text, "  2: v\"0 (veth) UP mtu 1500 state up master br\x01 lladdr "
                                 "02:00:00:00:00:01\n"));
  assert_non_null (strstr (text, "addresses:\n  v\"0 inet 10.0.0.1/24 scope universe\n"));
  assert_non_null (strstr (text, "routes:\n  default via 10.0.0.254 dev v\"0 proto static scope "
                                 "universe\n"));
  assert_non_null (strstr (text, "neighbours:\n  10.0.0.9 dev v\"0 lladdr 02:00:00:00:00:09 "
                                 "permanent\n"));
}

static void
test_json_string (void **state)
{
  g_autoptr (GString) s = g_string_new (NULL);

  netns_json_string (s, "a\"b\\c\n\x7f");
  g_string_append_c (s, ' ');
  netns_json_string (s, NULL);
  g_string_append_c (s, ' ');
  netns_json_string (s, "bad\xff utf8");
  assert_string_equal (s->str, "\"a\\\"b\\\\c\\u000a\\u007f\" null \"bad\xef\xbf\xbd utf8\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_render),
    cmocka_unit_test (test_parse_fields),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_show_json),
    cmocka_unit_test (test_show_text),
    cmocka_unit_test (test_json_string),
  };

  /* A GError set twice (or any GLib warning) is a bug: abort the test. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
