/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by test_network_registry.c and test_network_script.c (include after cmocka.h). */
#ifndef NPTE_TEST_NETWORK_HELPERS_H
#define NPTE_TEST_NETWORK_HELPERS_H

#include "network-registry.h"

/* The creation time the tests give networks. */
#define NOW "2024-05-06T10:11:12Z"

/* ip() - parse a dotted quad that the test knows is valid. */
static inline guint32
ip (const char *s)
{
  guint32 a = 0;

  assert_true (net_ip_parse (s, &a, NULL));
  return a;
}

/* sample() - an index built through the API. */
static inline NetIndex *
sample (void)
{
  NetIndex *idx = net_index_new ();
  guint32 a;

  Network *w = net_index_add (idx, "web", NULL, NULL, FALSE, NOW, NULL);
  Network *d = net_index_add (idx, "db", "192.168.50.0/29", "192.168.50.6", FALSE, NOW, NULL);
  assert_true (net_join (w, "front", NULL, &a, NULL));
  assert_true (net_join (w, "api", NULL, &a, NULL));
  assert_true (net_join (d, "api", NULL, &a, NULL));
  assert_true (net_join (d, "pg", "192.168.50.5", &a, NULL));
  assert_non_null (net_index_add (idx, "empty", "172.20.0.0/16", NULL, FALSE, NOW, NULL));
  return idx;
}

#endif /* NPTE_TEST_NETWORK_HELPERS_H */
