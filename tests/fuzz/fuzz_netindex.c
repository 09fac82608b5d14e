/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the network index parser (src/network-index.c). Beyond "no
 * crash": a failure is EINVAL with a UTF-8 message; what is accepted
 * re-encodes to strictly valid JSON that parses again to the same text (a
 * fixed point), every member has a hosts file naming it, and the index
 * stays consistent through a join (a free host address, or ENOSPC), a
 * leave and a new default network (the next free /24, or ENOSPC). The
 * same bytes, as the text of a hosts file, go through net_hosts_merge():
 * npte's block ends up there exactly once, merging again changes nothing,
 * and removing it leaves no block behind.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "network-registry.h"
#include "npte-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  do { if (!(cond)) { fprintf (stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort (); } } while (0)

/* reencode() - @idx as JSON, which must parse again to the same text. Return: (transfer full). */
static char *
reencode (const NetIndex *idx)
{
  g_autofree char *json = net_index_to_json (idx);
  g_autoptr (NetIndex) back = NULL;
  g_autofree char *again = NULL;

  CHECK (apijson_validate (json, strlen (json), NULL));
  back = net_index_parse (json, strlen (json), NULL);
  CHECK (back != NULL);
  again = net_index_to_json (back);
  CHECK (strcmp (json, again) == 0);
  return g_steal_pointer (&json);
}

/* check_hosts() - every member's hosts file lists it under its network. */
static void
check_hosts (const NetIndex *idx)
{
  char buf[NET_IP_STRLEN];

  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      for (guint j = 0; j < n->members->len; j++)
        {
          const NetMember *m = g_ptr_array_index (n->members, j);
          g_autofree char *hosts = net_hosts_render (idx, m->workspace);
          g_autofree char *line = g_strdup_printf ("%s\t%s %s.%s\n", net_ip_str (m->ip, buf),
                                                   m->workspace, m->workspace, n->name);
          CHECK (hosts != NULL && g_utf8_validate (hosts, -1, NULL));
          CHECK (strstr (hosts, line) != NULL);
        }
    }
}

/* mutate() - a join, a leave, a default and an --outbound network keep the index consistent. */
static void
mutate (NetIndex *idx)
{
  g_autoptr (GError) error = NULL;
  guint32 ip;

  if (idx->networks->len > 0)
    {
      Network *n = g_ptr_array_index (idx->networks, 0);
      if (net_join (n, "fuzz-joiner", NULL, &ip, &error))
        {
          CHECK ((ip & net_mask (n->prefix)) == n->net && ip != n->net && ip != n->gateway
                 && ip != net_broadcast (n->net, n->prefix));
          g_free (reencode (idx));
          CHECK (net_leave (n, "fuzz-joiner"));
        }
      else
        CHECK (error->code == ENOSPC);
      g_clear_error (&error);
    }
  Network *d = net_index_add (idx, "fuzz-default", NULL, NULL, FALSE, "2024-01-01T00:00:00Z", &error);
  if (d == NULL)
    CHECK (error->code == ENOSPC || error->code == EEXIST);
  else
    CHECK (d->prefix == 24 && (d->net & 0xffff0000u) == 0x0a2c0000u);
  g_free (reencode (idx));
  g_clear_error (&error);
  /* An --outbound one: refused only next to a network on slirp's 10.0.2.0/24. */
  Network *o = net_index_add (idx, "fuzz-outbound", NULL, NULL, TRUE, "2024-01-01T00:00:00Z",
                              &error);
  if (o == NULL)
    CHECK (error->code == ENOSPC || error->code == EEXIST || error->code == EADDRINUSE);
  else
    CHECK (o->outbound && !net_overlap (o->net, o->prefix, NET_SLIRP_ADDR, NET_SLIRP_PREFIX));
  g_free (reencode (idx));
}

/* count() - occurrences of @needle in @hay. */
static guint
count (const char *hay, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (hay, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* fuzz_merge() - @data as an existing hosts file. */
static void
fuzz_merge (const uint8_t *data, size_t size)
{
  static const char block[] = NET_HOSTS_BEGIN "x (written by npte)\n10.0.0.2\tx x.n\n"
                              NET_HOSTS_END;
  g_autofree char *old = g_strndup ((const char *) data, size);
  g_autofree char *merged = net_hosts_merge (old, block);
  g_autofree char *again = NULL;
  g_autofree char *removed = NULL;

  CHECK (merged != NULL && g_str_has_suffix (merged, block));
  /* Other lines that look like a block start are the user's; only npte's first block goes. */
  if (count (old, NET_HOSTS_BEGIN) == 0)
    CHECK (count (merged, NET_HOSTS_BEGIN) == 1);
  again = net_hosts_merge (merged, block);
  if (count (old, NET_HOSTS_BEGIN) == 0)
    CHECK (strcmp (again, merged) == 0);
  removed = net_hosts_merge (merged, NULL);
  if (count (old, NET_HOSTS_BEGIN) == 0 && removed != NULL)
    CHECK (strstr (removed, NET_HOSTS_BEGIN) == NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NetIndex) idx = net_index_parse ((const char *) data, size, &error);

  fuzz_merge (data, size);
  if (idx == NULL)
    {
      CHECK (error != NULL && error->domain == NPTE_ERROR && error->code == EINVAL);
      CHECK (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  CHECK (apijson_validate ((const char *) data, size, NULL));
  g_free (reencode (idx));
  check_hosts (idx);
  mutate (idx);
  return 0;
}
