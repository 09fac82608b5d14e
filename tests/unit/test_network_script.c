/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/network-script.c and the name helpers of src/network-registry.c it uses:
 * the hosts files (members of every network of a namespace, merged with its own entries), the
 * link and infrastructure names, and the dry-run scripts. No namespace is created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "network-helpers.h"
#include "network-registry.h"
#include "network-script.h"

int main (void);

static void
test_hosts (void **state)
{
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *api = net_hosts_render (idx, "api");
  g_autofree char *front = net_hosts_render (idx, "front");
  g_autofree char *pg = net_hosts_render (idx, "pg");

  assert_null (net_hosts_render (idx, "nobody"));
  assert_true (g_str_has_prefix (api, NET_HOSTS_BEGIN "api "));
  assert_true (g_str_has_suffix (api, NET_HOSTS_END));
  /* api is in both networks: it sees everyone, under both names. */
  assert_non_null (strstr (api, "\n10.44.0.2\tfront front.web\n"));
  assert_non_null (strstr (api, "\n10.44.0.3\tapi api.web\n"));
  assert_non_null (strstr (api, "\n192.168.50.1\tapi api.db\n"));
  assert_non_null (strstr (api, "\n192.168.50.5\tpg pg.db\n"));
  /* front and pg share no network: neither sees the other. */
  assert_null (strstr (front, "pg"));
  assert_null (strstr (pg, "front"));
  assert_non_null (strstr (pg, "api api.db"));
  assert_null (strstr (pg, "api.web"));
}

static void
test_hosts_merge (void **state)
{
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *block = net_hosts_render (idx, "pg");
  g_autofree char *fresh = net_hosts_merge (NULL, block);
  g_autofree char *expect_fresh = g_strconcat (NET_PLAIN_HOSTS, block, NULL);
  static const char own[] = "127.0.0.1 localhost\n10.1.1.1 cache";

  /* No file: the localhost lines, then the block; leaving removes the file again. */
  assert_string_equal (fresh, expect_fresh);
  assert_null (net_hosts_merge (fresh, NULL));
  assert_null (net_hosts_merge (NULL, NULL));
  assert_null (net_hosts_merge ("", NULL));
  /* A file of the user's own keeps its lines around the block, before and after. */
  g_autofree char *mine = net_hosts_merge (own, block);
  g_autofree char *expect_mine = g_strconcat (own, "\n", block, NULL);
  assert_string_equal (mine, expect_mine);
  g_autofree char *mine2 = net_hosts_merge (mine, block);
  assert_string_equal (mine2, mine);
  g_autofree char *with_tail = g_strconcat (mine, "10.2.2.2 after\n", NULL);
  g_autoptr (NetIndex) other = sample ();
  net_leave (net_index_find (other, "db"), "api");
  g_autofree char *block2 = net_hosts_render (other, "pg");
  g_autofree char *replaced = net_hosts_merge (with_tail, block2);
  g_autofree char *expect_replaced = g_strconcat (own, "\n10.2.2.2 after\n", block2, NULL);
  assert_string_equal (replaced, expect_replaced);
  g_autofree char *gone = net_hosts_merge (replaced, NULL);
  g_autofree char *expect_gone = g_strconcat (own, "\n10.2.2.2 after\n", NULL);
  assert_string_equal (gone, expect_gone);
  /* A block cut short (no end line) is dropped to the end. */
  g_autofree char *cut = g_strndup (fresh, strlen (fresh) - 5);
  assert_null (net_hosts_merge (cut, NULL));
}

static void
test_link_and_infra_names (void **state)
{
  g_autoptr (NetIndex) idx = sample ();
  const Network *w = net_index_find (idx, "web");
  g_autoptr (NetnsPaths) root = netns_paths_new_for ("/run/npte", FALSE);
  g_autoptr (NetnsPaths) other = netns_paths_new_for ("/tmp/x/run", FALSE);
  g_autoptr (NetnsPaths) user = netns_paths_new_for ("/run/user/1000/npte", TRUE);
  char buf[NET_IFNAME_LEN];

  net_ifname_bridge (w, buf);
  assert_string_equal (buf, "nb-0a2c0000");
  net_ifname_member (w, buf);
  assert_string_equal (buf, "nw-0a2c0000");
  net_ifname_host (ip ("255.255.255.254"), buf);
  assert_string_equal (buf, "nh-fffffffe");
  g_autofree char *a = net_infra_name (root);
  g_autofree char *b = net_infra_name (other);
  g_autofree char *c = net_infra_name (user);
  assert_string_equal (a, "npte.networks");
  assert_true (g_str_has_prefix (b, "npte.networks-") && strlen (b) == 22);
  assert_string_equal (c, "npte.networks");
  /* Never a valid namespace name, so it cannot collide with one. */
  assert_false (netns_name_valid (a, NULL) || netns_name_valid (b, NULL));
  g_autoptr (NetnsPaths) p = netns_paths_new_for ("/b", TRUE);
  g_autofree char *path = net_index_path (p);
  assert_string_equal (path, "/b/networks.json");
  g_autofree char *now = net_now ();
  g_autofree char *json = g_strdup_printf ("{\"networks\":[{\"name\":\"a\",\"subnet\":"
                                           "\"10.0.0.0/24\",\"gateway\":\"10.0.0.1\","
                                           "\"created_at\":\"%s\",\"members\":[]}]}", now);
  g_autoptr (NetIndex) parsed = net_index_parse (json, strlen (json), NULL);
  assert_non_null (parsed);
}

static void
test_scripts (void **state)
{
  g_autoptr (NetnsPaths) root = netns_paths_new_for ("/srv/npte", FALSE);
  g_autoptr (NetnsPaths) user = netns_paths_new_for ("/run/user/1000/npte", TRUE);
  g_autoptr (NetIndex) idx = sample ();
  g_autofree char *before = net_index_to_json (idx);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, before, -1);
  Network *n = net_index_add (idx, "new", "10.77.0.0/24", NULL, FALSE, NOW, NULL);
  g_autofree char *rc = network_script_create (root, "/usr/bin/npte", before, idx, n);
  g_autofree char *uc = network_script_create (user, "/usr/bin/npte", NULL, idx, n);
  g_autofree char *guard = g_strdup_printf ("test \"$h\" = \"%s  -\" ||", sum);

  assert_true (g_str_has_prefix (rc, "#!/bin/sh\n"));
  assert_non_null (strstr (rc, "flock -w 60 9"));
  assert_non_null (strstr (rc, guard));
  assert_non_null (strstr (uc, "test \"$h\" = \"none\" ||"));
  assert_non_null (strstr (rc, "ip -n npte.networks-"));
  assert_non_null (strstr (rc, " link add nb-0a4d0000 address 02:6e:0a:4d:00:01 type bridge\n"));
  assert_non_null (strstr (rc, " addr add 10.77.0.1/24 dev nb-0a4d0000\n"));
  assert_non_null (strstr (uc, "K=$(\"$NPTE\" __netns-keeper 9>&-)\n"));
  assert_non_null (strstr (uc, "--net=\"/proc/$K/root\"\"/run/user/1000/npte/netns-keeper/"
                               "npte.networks\" ip link set nb-0a4d0000 up\n"));
  assert_non_null (strstr (rc, "mv -f \"/srv/npte/networks.json.tmp\" \"/srv/npte/networks.json\"\n"));
  /* The JSON in the script is the new index, single-quoted. */
  g_autofree char *after = net_index_to_json (idx);
  g_autofree char *quoted = g_strdup_printf ("printf '%%s' '%s' >", after);
  assert_non_null (strstr (rc, quoted));

  /* rm --force of db: its members' veths, the bridge; api keeps web in its hosts. */
  g_autoptr (NetIndex) gone_idx = sample ();
  Network *db = net_index_find (idx, "db");
  guint at = 0;
  assert_true (g_ptr_array_find (idx->networks, db, &at));
  g_autoptr (Network) gone = g_ptr_array_steal_index (idx->networks, at);
  g_autoptr (GHashTable) old = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *api_block = net_hosts_render (idx, "api");
  g_autofree char *pg_block = net_hosts_render (gone_idx, "pg");
  g_autofree char *api_old = net_hosts_merge ("10.3.3.3 mine\n", api_block);
  g_autofree char *pg_old = net_hosts_merge (NULL, pg_block);
  g_hash_table_insert (old, (gpointer) "api", api_old);
  g_hash_table_insert (old, (gpointer) "pg", pg_old);
  g_autofree char *rr = network_script_rm (root, "/usr/bin/npte", before, idx, gone, old);
  g_autofree char *ur = network_script_rm (user, "/usr/bin/npte", before, idx, gone, old);
  assert_non_null (strstr (rr, "# npte network rm db --force (dry run)"));
  assert_non_null (strstr (rr, " link del nh-c0a83201 2>/dev/null || :\n"));
  assert_non_null (strstr (rr, " link del nh-c0a83205 2>/dev/null || :\n"));
  assert_non_null (strstr (rr, " link del nb-c0a83200 2>/dev/null || :\n"));
  assert_null (strstr (rr, "ip netns del"));
  assert_non_null (strstr (rr, "api api.web"));
  assert_non_null (strstr (rr, "10.3.3.3 mine\n"));
  assert_non_null (strstr (rr, "pg.d/hosts\"; rm -f"));
  assert_non_null (strstr (ur, "if K=$(\"$NPTE\" __netns-keeper --find 2>/dev/null); then\n"));
  assert_non_null (strstr (rr, " rule del iif nb-c0a83200 lookup 4400 priority 4400 2>/dev/null"));
  assert_non_null (strstr (rr, " route del unreachable 192.168.50.0/29 table 4400 2>/dev/null"));
  assert_null (strstr (rr, "stop their slirp"));
  assert_null (strstr (rc, "attach --net=slirp"));
  assert_non_null (strstr (rc, " route replace unreachable 10.77.0.0/24 table 4400\n"));
  assert_null (strstr (rc, " rule add"));

}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hosts),
    cmocka_unit_test (test_hosts_merge),
    cmocka_unit_test (test_link_and_infra_names),
    cmocka_unit_test (test_scripts),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
