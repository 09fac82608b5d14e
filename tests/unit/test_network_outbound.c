/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of "npte network create --outbound" in src/network-registry.c,
 * src/network-index.c and src/network-script.c: the flag, its clashes with
 * slirp's 10.0.2.0/24 both ways, the index with and without "outbound" (an
 * index written before the field existed loads; a wrong type or a clash
 * makes it corrupt), the dry-run scripts that start and stop the slirp of
 * the infrastructure namespace, and the fixed MAC address of the bridges.
 *
 * Pure: no file, namespace or process is touched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "network-registry.h"
#include "network-script.h"
#include "npte-error.h"

int main (void);

#define NOW "2024-05-06T10:11:12Z"

/* An index as npte wrote it before "outbound" existed. */
static const char old_json[] =
  "{\"networks\":["
  "{\"name\":\"db\",\"subnet\":\"10.44.1.0/24\",\"gateway\":\"10.44.1.1\","
  "\"created_at\":\"2024-05-06T10:11:12Z\",\"members\":[]},"
  "{\"name\":\"web\",\"subnet\":\"192.168.7.0/28\",\"gateway\":\"192.168.7.14\","
  "\"created_at\":\"2024-02-29T23:59:59Z\",\"members\":["
  "{\"workspace\":\"a\",\"ip\":\"192.168.7.1\"}]}"
  "]}";

/* expect_error() - @error is NPTE_ERROR @code; it is cleared. */
static void
expect_error (GError **error, int code)
{
  assert_non_null (*error);
  assert_int_equal ((*error)->domain, NPTE_ERROR);
  assert_int_equal ((*error)->code, code);
  g_clear_error (error);
}

/* two() - "web" (10.44.0.0/24, two members) and "db" (192.168.50.0/29, one), not outbound. */
static NetIndex *
two (void)
{
  NetIndex *idx = net_index_new ();
  guint32 a;

  Network *w = net_index_add (idx, "web", NULL, NULL, FALSE, NOW, NULL);
  Network *d = net_index_add (idx, "db", "192.168.50.0/29", "192.168.50.6", FALSE, NOW, NULL);
  assert_non_null (w);
  assert_non_null (d);
  assert_true (net_join (w, "front", NULL, &a, NULL));
  assert_true (net_join (w, "api", NULL, &a, NULL));
  assert_true (net_join (d, "api", NULL, &a, NULL));
  return idx;
}

/* --outbound: the flag, its clashes with slirp's 10.0.2.0/24, and the index with and without it. */
static void
test_outbound_clashes (void **state)
{
  g_autoptr (NetIndex) idx = net_index_new ();
  GError *error = NULL;

  assert_false (net_index_has_outbound (idx));
  Network *o = net_index_add (idx, "o", NULL, NULL, TRUE, NOW, &error);
  assert_non_null (o);
  assert_true (o->outbound);
  assert_true (net_index_has_outbound (idx));
  /* An outbound network on or around 10.0.2.0/24 is a bad argument. */
  const char *const bad[] = { "10.0.2.0/24", "10.0.2.128/25", "10.0.0.0/16", "10.0.0.0/12", NULL };
  for (const char *const *b = bad; *b != NULL; b++)
    {
      assert_null (net_index_add (idx, "x", *b, NULL, TRUE, NOW, &error));
      assert_non_null (strstr (error->message, "overlaps 10.0.2.0/24"));
      expect_error (&error, EINVAL);
    }
  /* While one exists, no network may take 10.0.2.0/24. */
  assert_null (net_index_add (idx, "y", "10.0.2.0/28", NULL, FALSE, NOW, &error));
  assert_non_null (strstr (error->message, "--outbound network o"));
  expect_error (&error, EADDRINUSE);
  assert_non_null (net_index_add (idx, "z", "10.0.3.0/24", NULL, FALSE, NOW, NULL));
  assert_true (net_index_remove (idx, "o"));
  assert_false (net_index_has_outbound (idx));
  /* Without it, 10.0.2.0/28 is fine, and then no outbound network may come. */
  assert_non_null (net_index_add (idx, "y", "10.0.2.0/28", NULL, FALSE, NOW, NULL));
  assert_null (net_index_add (idx, "o", NULL, NULL, TRUE, NOW, &error));
  assert_non_null (strstr (error->message, "network y (10.0.2.0/28) overlaps 10.0.2.0/24"));
  expect_error (&error, EADDRINUSE);
  assert_non_null (net_index_add (idx, "p", NULL, NULL, FALSE, NOW, NULL));
}

static void
test_outbound_index (void **state)
{
  g_autoptr (NetIndex) idx = two ();
  GError *error = NULL;

  net_index_find (idx, "web")->outbound = TRUE;
  g_autofree char *json = net_index_to_json (idx);
  assert_non_null (strstr (json, "\"outbound\" : true"));
  assert_non_null (strstr (json, "\"outbound\" : false"));
  g_autoptr (NetIndex) back = net_index_parse (json, strlen (json), NULL);
  assert_non_null (back);
  assert_true (net_index_find (back, "web")->outbound);
  assert_false (net_index_find (back, "db")->outbound);
  g_autofree char *json2 = net_index_to_json (back);
  assert_string_equal (json, json2);
  g_autofree char *one = net_network_to_json (net_index_find (idx, "web"));
  assert_non_null (strstr (one, "\"outbound\":true,\"members\":"));
  g_autofree char *arr = net_networks_to_json (idx);
  assert_non_null (strstr (arr, "\"outbound\":false"));

  /* An index written before the field existed loads, as not outbound, and is written with it. */
  g_autoptr (NetIndex) old = net_index_parse (old_json, strlen (old_json), NULL);
  assert_non_null (old);
  assert_false (net_index_find (old, "db")->outbound);
  assert_false (net_index_has_outbound (old));
  g_autofree char *oj = net_index_to_json (old);
  assert_non_null (strstr (oj, "\"outbound\" : false"));

  /* Only true or false; and an outbound network must leave 10.0.2.0/24 alone. */
  static const char *const bad[] = {
    "{\"networks\":[{\"name\":\"n\",\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":\"yes\",\"members\":[]}]}",
    "{\"networks\":[{\"name\":\"n\",\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":1,\"members\":[]}]}",
    "{\"networks\":[{\"name\":\"n\",\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":null,\"members\":[]}]}",
    "{\"networks\":[{\"name\":\"n\",\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":[],\"members\":[]}]}",
    "{\"networks\":[{\"name\":\"n\",\"subnet\":\"10.0.2.0/24\",\"gateway\":\"10.0.2.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":true,\"members\":[]}]}",
    "{\"networks\":[{\"name\":\"a\",\"subnet\":\"10.0.2.0/28\",\"gateway\":\"10.0.2.1\","
    "\"created_at\":\"" NOW "\",\"members\":[]},"
    "{\"name\":\"b\",\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.1.0.1\","
    "\"created_at\":\"" NOW "\",\"outbound\":true,\"members\":[]}]}",
    NULL,
  };
  static const char *const why[] = { "not true or false", "not true or false",
                                     "not true or false", "not true or false",
                                     "overlaps 10.0.2.0/24", "overlaps 10.0.2.0/24", NULL };
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (NetIndex) x = net_index_parse (bad[i], strlen (bad[i]), &error);
      assert_null (x);
      if (why[i] != NULL)
        assert_non_null (strstr (error->message, why[i]));
      expect_error (&error, EINVAL);
    }
}

static void
test_outbound_scripts (void **state)
{
  g_autoptr (NetnsPaths) root = netns_paths_new_for ("/srv/npte", FALSE);
  g_autoptr (NetnsPaths) user = netns_paths_new_for ("/run/user/1000/npte", TRUE);
  g_autoptr (NetIndex) idx = two ();
  g_autofree char *before = net_index_to_json (idx);
  g_autoptr (GHashTable) old = g_hash_table_new (g_str_hash, g_str_equal);
  guint at = 0;

  Network *o = net_index_add (idx, "out", "10.78.0.0/24", NULL, TRUE, NOW, NULL);
  assert_non_null (o);
  g_autofree char *oc = network_script_create (root, "/usr/bin/npte", before, idx, o);
  g_autofree char *uoc = network_script_create (user, "/usr/bin/npte", before, idx, o);
  const char *slirp = strstr (oc, "setsid \"$NPTE\" attach --net=slirp --state-dir "
                                  "\"/srv/npte/netns/npte.networks-");
  assert_non_null (slirp);
  assert_true (slirp > strstr (oc, "ip netns add npte.networks-"));
  assert_non_null (strstr (oc, "sh -c 'echo 1 > /proc/sys/net/ipv4/conf/tap0/proxy_arp'\n"));
  assert_non_null (strstr (oc, "sh -c 'echo 0 > /proc/sys/net/ipv4/neigh/tap0/proxy_delay'\n"));
  assert_non_null (strstr (oc, " rule add iif nb-0a4e0000 lookup 4400 priority 4400\n"));
  assert_non_null (strstr (oc, "sh -c 'echo 1 > /proc/sys/net/ipv4/conf/nb-0a4e0000/forwarding'\n"));
  assert_non_null (strstr (uoc, "--userns-path \"/proc/$K/ns/user\" \"/proc/$K/root\""
                                "\"/run/user/1000/npte/netns-keeper/npte.networks\" "));
  g_autofree char *ojs = net_index_to_json (idx);
  g_autofree char *oq = g_strdup_printf ("printf '%%s' '%s' >", ojs);
  assert_non_null (strstr (oc, oq));
  assert_true (g_ptr_array_find (idx->networks, o, &at));
  g_autoptr (Network) ogone = g_ptr_array_steal_index (idx->networks, at);
  g_autofree char *orm = network_script_rm (root, "/usr/bin/npte", before, idx, ogone, old);
  assert_non_null (strstr (orm, "# No --outbound network is left: stop their slirp.\n"));
  assert_non_null (strstr (orm, "rm -rf \"/srv/npte/netns/npte.networks-"));
  /* A second --outbound network: removing one leaves the slirp to the other. */
  Network *o2 = net_index_add (idx, "out2", "10.79.0.0/24", NULL, TRUE, NOW, NULL);
  Network *o3 = net_index_add (idx, "out3", "10.80.0.0/24", NULL, TRUE, NOW, NULL);
  assert_non_null (o2);
  assert_non_null (o3);
  assert_true (g_ptr_array_find (idx->networks, o3, &at));
  g_autoptr (Network) o3gone = g_ptr_array_steal_index (idx->networks, at);
  g_autofree char *rm3 = network_script_rm (root, "/usr/bin/npte", before, idx, o3gone, old);
  assert_null (strstr (rm3, "stop their slirp"));
  assert_non_null (strstr (rm3, " rule del iif nb-0a500000 lookup 4400 priority 4400"));
  /* Creating one while the slirp may run starts it only when its lock is free. */
  g_autofree char *oc2 = network_script_create (root, "/usr/bin/npte", before, idx, o2);
  assert_non_null (strstr (oc2, "if ! { test -e \"/srv/npte/netns/npte.networks-"));
}

static void
test_bridge_mac (void **state)
{
  guint8 mac[6];
  Network gw = { .gateway = 0xc0a80afeu };
  net_bridge_mac (&gw, mac);
  const guint8 want[6] = { 0x02, 0x6e, 0xc0, 0xa8, 0x0a, 0xfe };
  assert_memory_equal (mac, want, 6);
  g_autoptr (NetIndex) idx = two ();
  guint8 w[6], d[6];
  net_bridge_mac (net_index_find (idx, "web"), w);
  net_bridge_mac (net_index_find (idx, "db"), d);
  const guint8 want_w[6] = { 0x02, 0x6e, 0x0a, 0x2c, 0x00, 0x01 };
  assert_memory_equal (w, want_w, 6);
  assert_memory_not_equal (w, d, 6);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_outbound_clashes),
    cmocka_unit_test (test_outbound_index),
    cmocka_unit_test (test_outbound_scripts),
    cmocka_unit_test (test_bridge_mac),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
