/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/network-registry.c and src/network-index.c: network names, addresses and subnets, the default
 * /24 of 10.44.0.0/16, overlaps, gateways, member allocation (lowest free,
 * reuse after leave, a full subnet, the /30 edge, the network, gateway and
 * broadcast addresses never handed out, --ip), the index JSON (round trip,
 * every truncation, wrong types, missing and unknown fields, inconsistent
 * contents), loading and saving files (a corrupt file is reported and left
 * alone). The hosts files and the dry-run scripts are in test_network_script.c.
 *
 * Each test works in a fresh private directory; no namespace is created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "network-helpers.h"
#include "network-registry.h"
#include "npte-error.h"

int main (void);

/* A valid index with two networks, compact, as a hand-written file may be. */
static const char good_json[] =
  "{\"networks\":["
  "{\"name\":\"db\",\"subnet\":\"10.44.1.0/24\",\"gateway\":\"10.44.1.1\","
  "\"created_at\":\"2024-05-06T10:11:12Z\",\"members\":[]},"
  "{\"name\":\"web\",\"subnet\":\"192.168.7.0/28\",\"gateway\":\"192.168.7.14\","
  "\"created_at\":\"2024-02-29T23:59:59Z\",\"members\":["
  "{\"workspace\":\"a\",\"ip\":\"192.168.7.1\"},{\"workspace\":\"b-2\",\"ip\":\"192.168.7.13\"}]}"
  "]}";


/* expect_error() - @error is NPTE_ERROR @code; it is cleared. */
static void
expect_error (GError **error, int code)
{
  assert_non_null (*error);
  assert_int_equal ((*error)->domain, NPTE_ERROR);
  assert_int_equal ((*error)->code, code);
  assert_true (g_utf8_validate ((*error)->message, -1, NULL));
  g_clear_error (error);
}

/* expected_name() - the rule, written independently: a DNS label of 1..63. */
static gboolean
expected_name (const char *s)
{
  gsize n = strlen (s);

  if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

static void
test_names (void **state)
{
  static const char *const cases[] = { "a", "web", "a-b", "0", "9net", "a--b", "-a", "a-", "A",
                                        "a.b", "a/b", "a b", "a_b", "", "..", "é", NULL };
  char buf[80];

  for (const char *const *c = cases; *c != NULL; c++)
    assert_int_equal (net_name_valid (*c, NULL), expected_name (*c));
  /* Every byte in the first, a middle and the last position. */
  for (int b = 1; b < 256; b++)
    for (int pos = 0; pos < 3; pos++)
      {
        g_strlcpy (buf, "xyz", sizeof buf);
        buf[pos] = (char) b;
        assert_int_equal (net_name_valid (buf, NULL), expected_name (buf));
      }
  for (gsize len = 60; len < 66; len++)
    {
      memset (buf, 'n', len);
      buf[len] = '\0';
      assert_int_equal (net_name_valid (buf, NULL), len <= NET_NAME_MAX);
    }
  GError *error = NULL;
  assert_false (net_name_valid (NULL, &error));
  expect_error (&error, EINVAL);
  assert_false (net_name_valid ("Bad\n", &error));
  assert_non_null (strstr (error->message, "\\n"));
  expect_error (&error, EINVAL);
}

static void
test_addresses (void **state)
{
  static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04",
                                     " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "0x1.2.3.4", "::1",
                                     "1..3.4", "4294967295", NULL };
  char buf[NET_IP_STRLEN];
  guint32 a;
  guint pfx;

  assert_int_equal (ip ("10.44.0.1"), 0x0a2c0001u);
  assert_int_equal (ip ("255.255.255.255"), 0xffffffffu);
  assert_string_equal (net_ip_str (0xc0a80701u, buf), "192.168.7.1");
  for (const char *const *b = bad; *b != NULL; b++)
    assert_false (net_ip_parse (*b, &a, NULL));

  assert_true (net_cidr_parse ("10.44.0.0/24", &a, &pfx, NULL));
  assert_int_equal (a, 0x0a2c0000u);
  assert_int_equal (pfx, 24);
  assert_true (net_cidr_parse ("10.0.0.0/8", &a, &pfx, NULL));
  assert_true (net_cidr_parse ("10.0.0.4/30", &a, &pfx, NULL));
  static const char *const bad_cidr[] = { "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.0/024",
                                          "10.0.0.0/24x", "10.0.0.0/ 24", "10.0.0.0/7",
                                          "10.0.0.0/31", "10.0.0.0/32", "10.0.0.0/0",
                                          "10.0.0.1/24", "10.0.0.0/24/24", "10.0.0/24", NULL };
  for (const char *const *b = bad_cidr; *b != NULL; b++)
    {
      GError *error = NULL;
      assert_false (net_cidr_parse (*b, &a, &pfx, &error));
      expect_error (&error, EINVAL);
    }
  GError *error = NULL;
  assert_false (net_cidr_parse ("10.44.3.7/24", &a, &pfx, &error));
  assert_non_null (strstr (error->message, "10.44.3.0/24"));
  g_clear_error (&error);
  assert_int_equal (net_mask (24), 0xffffff00u);
  assert_int_equal (net_broadcast (0x0a2c0000u, 24), 0x0a2c00ffu);
}

static void
test_create_defaults_and_overlap (void **state)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  GError *error = NULL;
  char buf[NET_IP_STRLEN];

  /* The default is the lowest free /24 of 10.44.0.0/16, gateway its first host. */
  Network *a = net_index_add (idx, "a", NULL, NULL, FALSE, NOW, &error);
  assert_non_null (a);
  g_autofree char *sa = net_subnet_str (a);
  assert_string_equal (sa, "10.44.0.0/24");
  assert_string_equal (net_ip_str (a->gateway, buf), "10.44.0.1");
  /* A /23 at 10.44.2.0 takes two /24s; the next default skips it. */
  assert_non_null (net_index_add (idx, "b", "10.44.2.0/23", NULL, FALSE, NOW, NULL));
  Network *c = net_index_add (idx, "c", NULL, NULL, FALSE, NOW, NULL);
  Network *d = net_index_add (idx, "d", NULL, NULL, FALSE, NOW, NULL);
  assert_int_equal (c->net, ip ("10.44.1.0"));
  assert_int_equal (d->net, ip ("10.44.4.0"));
  /* Overlaps in every direction are refused, naming the other network. */
  static const char *const overlapping[] = { "10.44.0.0/24", "10.44.0.128/25", "10.44.0.0/16",
                                             "10.0.0.0/8", "10.44.3.0/24", "10.44.2.252/30",
                                             NULL };
  for (const char *const *o = overlapping; *o != NULL; o++)
    {
      assert_null (net_index_add (idx, "x", *o, NULL, FALSE, NOW, &error));
      assert_non_null (strstr (error->message, "overlaps"));
      expect_error (&error, EADDRINUSE);
    }
  assert_non_null (net_index_add (idx, "e", "10.45.0.0/16", NULL, FALSE, NOW, NULL));
  assert_true (net_overlap (ip ("10.0.0.0"), 8, ip ("10.200.0.0"), 16));
  assert_true (net_overlap (ip ("10.200.0.0"), 16, ip ("10.0.0.0"), 8));
  assert_false (net_overlap (ip ("10.0.0.0"), 25, ip ("10.0.0.128"), 25));
  /* Names: taken, invalid. */
  assert_null (net_index_add (idx, "a", "172.16.0.0/24", NULL, FALSE, NOW, &error));
  expect_error (&error, EEXIST);
  assert_null (net_index_add (idx, "-x", "172.16.0.0/24", NULL, FALSE, NOW, &error));
  expect_error (&error, EINVAL);
  /* Sorted by name. */
  for (guint i = 1; i < idx->networks->len; i++)
    assert_true (strcmp (((Network *) g_ptr_array_index (idx->networks, i - 1))->name,
                         ((Network *) g_ptr_array_index (idx->networks, i))->name) < 0);
}

static void
test_gateways (void **state)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  GError *error = NULL;
  static const char *const bad[] = { "172.16.0.0", "172.16.0.255", "172.16.1.1", "172.16.0.1x",
                                     NULL };

  Network *n = net_index_add (idx, "g", "172.16.0.0/24", "172.16.0.254", FALSE, NOW, NULL);
  assert_non_null (n);
  assert_int_equal (n->gateway, ip ("172.16.0.254"));
  for (const char *const *b = bad; *b != NULL; b++)
    {
      assert_null (net_index_add (idx, "h", "172.17.0.0/24", *b, FALSE, NOW, &error));
      expect_error (&error, EINVAL);
    }
  /* A gateway without a subnet must lie in the default one. */
  assert_null (net_index_add (idx, "h", NULL, "10.44.1.1", FALSE, NOW, &error));
  expect_error (&error, EINVAL);
  assert_non_null (net_index_add (idx, "h", NULL, "10.44.0.77", FALSE, NOW, NULL));
  assert_int_equal (idx->networks->len, 2);
}

static void
test_allocation (void **state)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  Network *n = net_index_add (idx, "n", "10.9.0.0/24", NULL, FALSE, NOW, NULL);
  GError *error = NULL;
  guint32 a, b, c, again;

  assert_true (net_join (n, "a", NULL, &a, NULL));
  assert_true (net_join (n, "b", NULL, &b, NULL));
  assert_true (net_join (n, "c", NULL, &c, NULL));
  assert_int_equal (a, ip ("10.9.0.2"));
  assert_int_equal (b, ip ("10.9.0.3"));
  assert_int_equal (c, ip ("10.9.0.4"));
  /* Joining again keeps the address, with or without the same --ip. */
  assert_true (net_join (n, "b", NULL, &again, NULL));
  assert_int_equal (again, b);
  assert_true (net_join (n, "b", "10.9.0.3", &again, NULL));
  assert_false (net_join (n, "b", "10.9.0.9", &again, &error));
  expect_error (&error, EEXIST);
  assert_int_equal (n->members->len, 3);
  /* A leave frees the address for the next join; the others keep theirs. */
  assert_true (net_leave (n, "b"));
  assert_false (net_leave (n, "b"));
  assert_true (net_join (n, "d", NULL, &again, NULL));
  assert_int_equal (again, b);
  assert_int_equal (net_member_find (n, "a")->ip, a);
  assert_int_equal (net_member_find (n, "c")->ip, c);
  /* --ip: free, taken, network, gateway, broadcast, outside, invalid. */
  assert_true (net_join (n, "e", "10.9.0.200", &again, NULL));
  assert_int_equal (again, ip ("10.9.0.200"));
  assert_false (net_join (n, "f", "10.9.0.200", &again, &error));
  assert_non_null (strstr (error->message, "taken by e"));
  expect_error (&error, EADDRINUSE);
  static const char *const bad[] = { "10.9.0.0", "10.9.0.1", "10.9.0.255", "10.9.1.2", "x", NULL };
  for (const char *const *w = bad; *w != NULL; w++)
    {
      assert_false (net_join (n, "f", *w, &again, &error));
      expect_error (&error, EINVAL);
    }
  assert_false (net_join (n, "Bad", NULL, &again, &error));
  expect_error (&error, EINVAL);
  /* Members stay sorted by address. */
  for (guint i = 1; i < n->members->len; i++)
    assert_true (((NetMember *) g_ptr_array_index (n->members, i - 1))->ip
                 < ((NetMember *) g_ptr_array_index (n->members, i))->ip);
}

/**
 * fill() - join members until the network is full; check every address
 * @n: network
 *
 * Return: how many joined.
 */
static guint
fill (Network *n)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  const guint32 bcast = net_broadcast (n->net, n->prefix);
  GError *error = NULL;
  guint32 a;
  guint count = 0;

  for (;;)
    {
      g_autofree char *ws = g_strdup_printf ("m%u", count);
      if (!net_join (n, ws, NULL, &a, &error))
        break;
      assert_true (a > n->net && a < bcast && a != n->gateway);
      assert_true (g_hash_table_add (seen, GUINT_TO_POINTER (a)));
      count++;
      assert_true (count < 70000);
    }
  assert_non_null (strstr (error->message, "is full"));
  expect_error (&error, ENOSPC);
  return count;
}

static void
test_full_and_edges (void **state)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  GError *error = NULL;
  guint32 a;

  /* /30: network, gateway, one member, broadcast. */
  Network *n30 = net_index_add (idx, "p30", "10.1.0.4/30", NULL, FALSE, NOW, NULL);
  assert_int_equal (fill (n30), 1);
  assert_int_equal (net_member_find (n30, "m0")->ip, ip ("10.1.0.6"));
  /* The gateway at the top of a /30 leaves the first host. */
  Network *top = net_index_add (idx, "top", "10.1.0.8/30", "10.1.0.10", FALSE, NOW, NULL);
  assert_int_equal (fill (top), 1);
  assert_int_equal (net_member_find (top, "m0")->ip, ip ("10.1.0.9"));
  /* A /28 with the gateway in the middle: 14 hosts, 13 members, none of the three. */
  Network *n28 = net_index_add (idx, "p28", "10.1.1.0/28", "10.1.1.7", FALSE, NOW, NULL);
  assert_int_equal (fill (n28), 13);
  /* Full fails closed and changes nothing; a leave makes room for exactly one. */
  assert_false (net_join (n28, "late", NULL, &a, &error));
  expect_error (&error, ENOSPC);
  assert_int_equal (n28->members->len, 13);
  assert_true (net_leave (n28, "m5"));
  assert_true (net_join (n28, "late", NULL, &a, NULL));
  assert_false (net_join (n28, "later", NULL, &a, &error));
  expect_error (&error, ENOSPC);
  /* A /24 has 253 member addresses. */
  Network *n24 = net_index_add (idx, "p24", "10.2.0.0/24", NULL, FALSE, NOW, NULL);
  assert_int_equal (fill (n24), 253);
}

static void
test_round_trip (void **state)
{
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *json = net_index_to_json (idx);
  g_autoptr (NetIndex) back = net_index_parse (json, strlen (json), NULL);
  g_autoptr (NetIndex) good = NULL;

  assert_non_null (back);
  g_autofree char *json2 = net_index_to_json (back);
  assert_string_equal (json, json2);
  assert_true (g_str_has_suffix (json, "}\n"));
  /* A hand-written file keeps its order through parse and write. */
  good = net_index_parse (good_json, strlen (good_json), NULL);
  assert_non_null (good);
  assert_int_equal (good->networks->len, 2);
  g_autofree char *gj = net_index_to_json (good);
  g_autoptr (NetIndex) gb = net_index_parse (gj, strlen (gj), NULL);
  g_autofree char *gj2 = net_index_to_json (gb);
  assert_string_equal (gj, gj2);
  assert_non_null (strstr (gj, "\"workspace\" : \"b-2\""));
  /* The one-line forms parse as the same networks. */
  g_autofree char *arr = net_networks_to_json (idx);
  g_autofree char *wrapped = g_strdup_printf ("{\"networks\":%s}", arr);
  g_autoptr (NetIndex) w = net_index_parse (wrapped, strlen (wrapped), NULL);
  g_autofree char *wj = net_index_to_json (w);
  assert_string_equal (wj, json);
  g_autofree char *one = net_network_to_json (net_index_find (idx, "db"));
  assert_null (strchr (one, '\n'));
  assert_non_null (strstr (one, "\"members\":[{\"workspace\":\"api\",\"ip\":\"192.168.50.1\"},"
                                "{\"workspace\":\"pg\",\"ip\":\"192.168.50.5\"}]"));
  /* An empty index. */
  g_autoptr (NetIndex) none = net_index_parse ("{\"networks\":[]}", 15, NULL);
  assert_non_null (none);
  assert_int_equal (none->networks->len, 0);
}

/* expect_corrupt() - @json does not parse: EINVAL whose message has @needle. */
static void
expect_corrupt (const char *json, const char *needle)
{
  GError *error = NULL;
  g_autoptr (NetIndex) idx = net_index_parse (json, strlen (json), &error);

  if (idx != NULL)
    fail_msg ("accepted: %s", json);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    fail_msg ("\"%s\" not in \"%s\"", needle, error->message);
  expect_error (&error, EINVAL);
}

static void
test_truncated (void **state)
{
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *json = net_index_to_json (idx);
  gsize len = strlen (json) - 1; /* without the final newline */

  for (gsize cut = 0; cut < len; cut++)
    {
      GError *error = NULL;
      g_autoptr (NetIndex) back = net_index_parse (json, cut, &error);
      assert_null (back);
      expect_error (&error, EINVAL);
    }
  expect_corrupt ("", "empty");
  expect_corrupt ("{\"networks\":[", "end of input");
}

static void
test_wrong_types_and_fields (void **state)
{
  static const struct {
    const char *json;
    const char *needle;
  } cases[] = {
    { "[]", "not a JSON object" },
    { "null", "not a JSON object" },
    { "{\"networks\":{}}", "\"networks\" is not an array" },
    { "{\"networks\":null}", "not an array" },
    { "{}", "missing field \"networks\"" },
    { "{\"networks\":[],\"extra\":1}", "unknown field \"extra\"" },
    { "{\"networks\":[7]}", "networks[0] is not an object" },
    { "{\"networks\":[{\"name\":1,\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[]}]}", "\"name\" is not a string" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":[],\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[]}]}", "\"subnet\" is not a string" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":{}}]}", "\"members\" is not an array" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[{\"workspace\":\"x\",\"ip\":167772162}]}]}",
      "\"ip\" is not a string" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[{\"workspace\":\"x\"}]}]}",
      "members[0]: missing field \"ip\"" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[[]]}]}", "members[0] is not an object" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"" NOW "\",\"members\":[],\"\\u00e9\":0}]}", "unknown field \"\\303\\251\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_corrupt (cases[i].json, cases[i].needle);
  /* Each field of a network and of a member, left out. */
  static const char *const fields[] = { "name", "subnet", "gateway", "created_at", "members",
                                        "workspace", "ip" };
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *key = g_strdup_printf ("\"%s\":", fields[i]);
      g_autofree char *renamed = g_strdup_printf ("\"%.*sX\":", (int) strlen (fields[i]) - 1,
                                                  fields[i]);
      g_auto (GStrv) parts = g_strsplit (good_json, key, 2);
      g_autofree char *json = g_strjoinv (renamed, parts);
      g_autofree char *needle = g_strdup_printf ("missing field \"%s\"", fields[i]);
      expect_corrupt (json, needle);
    }
}

static void
test_inconsistent (void **state)
{
#define NET(name, subnet, gw, members) \
  "{\"name\":\"" name "\",\"subnet\":\"" subnet "\",\"gateway\":\"" gw "\",\"created_at\":\"" \
  NOW "\",\"members\":[" members "]}"
#define MEM(ws, ip) "{\"workspace\":\"" ws "\",\"ip\":\"" ip "\"}"
  static const struct {
    const char *json;
    const char *needle;
  } cases[] = {
    { "{\"networks\":[" NET ("a", "10.0.0.1/24", "10.0.0.2", "") "]}", "not a network address" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/31", "10.0.0.1", "") "]}", "prefix length" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.1.1", "") "]}", "outside the subnet" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.255", "") "]}", "broadcast" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.0", "") "]}", "network address" },
    { "{\"networks\":[" NET ("A", "10.0.0.0/24", "10.0.0.1", "") "]}", "invalid network name" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "010.0.0.1", "") "]}", "invalid IPv4" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", "") "," NET ("a", "10.1.0.0/24",
      "10.1.0.1", "") "]}", "listed twice" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/16", "10.0.0.1", "") "," NET ("b", "10.0.9.0/24",
      "10.0.9.1", "") "]}", "networks a and b overlap" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x", "10.0.0.1")) "]}",
      "gateway address" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x", "10.0.0.255")) "]}",
      "broadcast" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x", "10.0.3.2")) "]}",
      "outside" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x", "10.0.0.2") ","
      MEM ("x", "10.0.0.3")) "]}", "listed twice" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x", "10.0.0.2") ","
      MEM ("y", "10.0.0.2")) "]}", "same address" },
    { "{\"networks\":[" NET ("a", "10.0.0.0/24", "10.0.0.1", MEM ("x.y", "10.0.0.2")) "]}",
      "invalid namespace name" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"2024-02-30T00:00:00Z\",\"members\":[]}]}", "created_at" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"yesterday\",\"members\":[]}]}", "created_at" },
    { "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
      "\"created_at\":\"2024-05-06 10:11:12\",\"members\":[]}]}", "created_at" },
    { "{\"networks\":[]} x", "invalid JSON" },
    { "{\"networks\":[],}", "invalid JSON" },
    { "{'networks':[]}", "invalid JSON" },
  };
#undef NET
#undef MEM

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    expect_corrupt (cases[i].json, cases[i].needle);
}

/* Per-test state: a private dir. */
typedef struct {
  char *dir;
  char *path;
} Fixture;

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);

  f->dir = g_dir_make_tmp ("npte-net-reg-XXXXXX", NULL);
  assert_non_null (f->dir);
  f->path = g_build_filename (f->dir, NET_INDEX_FILE, NULL);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  assert_int_equal (system (cmd), 0);
  g_free (f->path);
  g_free (f->dir);
  g_free (f);
  return 0;
}

static void
test_save_load (void **state)
{
  Fixture *f = *state;
  g_autoptr (NetIndex) idx = sample ();
  g_autoptr (NetIndex) missing = net_index_load (f->path, NULL);
  g_autofree char *tmp = g_strconcat (f->path, ".tmp", NULL);
  struct stat st;

  /* A missing file is an empty index. */
  assert_non_null (missing);
  assert_int_equal (missing->networks->len, 0);
  assert_true (net_index_save (f->path, idx, NULL));
  assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  g_autoptr (NetIndex) back = net_index_load (f->path, NULL);
  g_autofree char *a = net_index_to_json (idx);
  g_autofree char *b = net_index_to_json (back);
  assert_string_equal (a, b);
  /* The file is replaced by rename: a new inode each time. */
  assert_int_equal (stat (f->path, &st), 0);
  ino_t first = st.st_ino;
  assert_true (net_index_save (f->path, back, NULL));
  assert_int_equal (stat (f->path, &st), 0);
  assert_true (st.st_ino != first);
  /* An empty index removes the file. */
  g_autoptr (NetIndex) empty = net_index_new ();
  assert_true (net_index_save (f->path, empty, NULL));
  assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  assert_true (net_index_save (f->path, empty, NULL));
}

/* expect_load_fails() - @contents in the index file: load fails naming it, file unchanged. */
static void
expect_load_fails (const Fixture *f, const char *contents, gsize len, const char *needle)
{
  GError *error = NULL;
  g_autofree char *after = NULL;
  gsize after_len;

  assert_true (g_file_set_contents (f->path, contents, (gssize) len, NULL));
  assert_null (net_index_load (f->path, &error));
  assert_non_null (error);
  assert_non_null (strstr (error->message, f->path));
  if (strstr (error->message, needle) == NULL)
    fail_msg ("\"%s\" not in \"%s\"", needle, error->message);
  g_clear_error (&error);
  assert_true (g_file_get_contents (f->path, &after, &after_len, NULL));
  assert_int_equal (after_len, len);
  assert_memory_equal (after, contents, len);
}

static void
test_load_corrupt (void **state)
{
  Fixture *f = *state;
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *json = net_index_to_json (idx);
  g_autofree char *link = g_build_filename (f->dir, "link.json", NULL);
  GError *error = NULL;

  expect_load_fails (f, "", 0, "corrupt (empty)");
  expect_load_fails (f, json, strlen (json) / 2, "corrupt");
  expect_load_fails (f, json, strlen (json) / 2, "unexpected end of input");
  expect_load_fails (f, "{\"networks\":[{\"name\":5,\"subnet\":\"\",\"gateway\":\"\","
                     "\"created_at\":\"\",\"members\":[]}]}", 79, "is not a string");
  expect_load_fails (f, "{\"networks\":[]}\0x", 17, "invalid JSON");
  expect_load_fails (f, "\xff\xfe{", 3, "invalid JSON");
  /* Not a regular file, or a symlink: refused. */
  assert_int_equal (unlink (f->path), 0);
  assert_int_equal (mkdir (f->path, 0700), 0);
  assert_null (net_index_load (f->path, &error));
  assert_non_null (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  assert_int_equal (rmdir (f->path), 0);
  assert_true (g_file_set_contents (link, json, -1, NULL));
  assert_int_equal (symlink (link, f->path), 0);
  assert_null (net_index_load (f->path, &error));
  g_clear_error (&error);
  /* save() does not write through the symlink either (its temp file is new). */
  assert_int_equal (unlink (f->path), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_addresses),
    cmocka_unit_test (test_create_defaults_and_overlap),
    cmocka_unit_test (test_gateways),
    cmocka_unit_test (test_allocation),
    cmocka_unit_test (test_full_and_edges),
    cmocka_unit_test (test_round_trip),
    cmocka_unit_test (test_truncated),
    cmocka_unit_test (test_wrong_types_and_fields),
    cmocka_unit_test (test_inconsistent),
    cmocka_unit_test_setup_teardown (test_save_load, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_corrupt, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
