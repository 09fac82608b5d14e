/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table of published ports. Entries live in a GTree keyed by id, so
 * lookup and removal are O(log n) and listing is ordered by id for free.
 * Entries are allocated one by one, so a PortEntry pointer stays valid
 * (drivers keep it to update the counters) until the entry is removed.
 *
 * porttable_check() does not compare a new spec with every entry. Entries
 * of one port whose listening port is known when they are added (the
 * common case, and what a client adding thousands of ports one by one
 * makes) are indexed by that port in a hash table: a spec is compared only
 * with the entries on the ports it covers, or with all of them when it
 * covers more ports than there are such entries. Ranges and auto-port
 * entries (port 0 until the driver opened them) are compared one by one:
 * a range is one entry whatever its length, and auto ports are rare.
 * Before this index 10 000 single-port adds cost O(n^2): 35 µs per add at
 * 1 000 entries, 126 µs at 10 000 (bench/scale.py, api-range).
 */
#include "porttable.h"

#include <errno.h>

#include "npte-error.h"

struct PortTable {
  GTree *entries;      /* GINT_TO_POINTER (id) -> PortEntry * (owned) */
  int next_id;         /* the id the next porttable_add() hands out */
  GHashTable *singles; /* GINT_TO_POINTER (listening port) -> GPtrArray of PortEntry * */
  guint n_singles;     /* entries in singles */
  GPtrArray *others;   /* ranges and auto-port entries (PortEntry *) */
};

/* listen_port() - the first port of the side of @spec that listens (0: not picked yet). */
static int
listen_port (const PortSpec *spec)
{
  return spec->reverse ? spec->child_port : spec->parent_port;
}

/* compare_ids() - GCompareDataFunc for int keys stored with GINT_TO_POINTER. */
static gint
compare_ids (gconstpointer a, gconstpointer b, gpointer user_data)
{
  int ia = GPOINTER_TO_INT (a);
  int ib = GPOINTER_TO_INT (b);

  return (ia > ib) - (ia < ib);
}

/**
 * porttable_new() - an empty table
 *
 * Return: (transfer full) the table; free with porttable_free().
 */
PortTable *
porttable_new (void)
{
  PortTable *table = g_new0 (PortTable, 1);

  table->entries = g_tree_new_full (compare_ids, NULL, NULL, g_free);
  table->next_id = 1;
  table->singles = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                          (GDestroyNotify) g_ptr_array_unref);
  table->others = g_ptr_array_new ();
  return table;
}

/**
 * porttable_free() - free @table and its entries (not the driver handles)
 * @table: the table, or NULL
 */
void
porttable_free (PortTable *table)
{
  if (table == NULL)
    return;
  g_hash_table_destroy (table->singles);
  g_ptr_array_unref (table->others);
  g_tree_destroy (table->entries);
  g_free (table);
}

/* consider() - make @entry the hit if it conflicts with @spec and has a lower id. */
static void
consider (const PortEntry *entry, const PortSpec *spec, const PortEntry **hit)
{
  if ((*hit == NULL || entry->id < (*hit)->id) && portspec_conflicts (&entry->spec, spec))
    *hit = entry;
}

/* consider_all() - consider() every entry of the GPtrArray @entries. */
static void
consider_all (const GPtrArray *entries, const PortSpec *spec, const PortEntry **hit)
{
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    consider (g_ptr_array_index (entries, i), spec, hit);
}

/*
 * porttable_check() - see porttable.h. The entry named in the error is
 * the lowest conflicting id; a reverse entry is shown as "reverse SPEC",
 * since its text alone reads like a forward port.
 */
gboolean
porttable_check (const PortTable *table, const PortSpec *spec, GError **error)
{
  const PortEntry *hit = NULL;
  const int first = listen_port (spec);
  const int count = portspec_count (spec);
  g_autofree char *text = NULL;

  consider_all (table->others, spec, &hit);
  /* A spec whose port is still 0 conflicts with nothing (portspec_conflicts()). */
  if (first != 0 && (guint) count <= table->n_singles)
    {
      for (int port = first; port < first + count; port++)
        consider_all (g_hash_table_lookup (table->singles, GINT_TO_POINTER (port)), spec, &hit);
    }
  else if (first != 0)
    {
      GHashTableIter iter;
      gpointer bucket;

      g_hash_table_iter_init (&iter, table->singles);
      while (g_hash_table_iter_next (&iter, NULL, &bucket))
        consider_all (bucket, spec, &hit);
    }
  if (hit == NULL)
    return TRUE;
  text = portspec_format (&hit->spec);
  return npte_set_error (error, EADDRINUSE, "conflict with ID %d (%s%s)", hit->id,
                         hit->spec.reverse ? "reverse " : "", text);
}

/* index_entry() - put the new @entry in the port index or with the others. */
static void
index_entry (PortTable *table, PortEntry *entry)
{
  const int port = listen_port (&entry->spec);
  GPtrArray *bucket;

  if (port == 0 || portspec_count (&entry->spec) != 1)
    {
      g_ptr_array_add (table->others, entry);
      return;
    }
  bucket = g_hash_table_lookup (table->singles, GINT_TO_POINTER (port));
  if (bucket == NULL)
    {
      bucket = g_ptr_array_new ();
      g_hash_table_insert (table->singles, GINT_TO_POINTER (port), bucket);
    }
  g_ptr_array_add (bucket, entry);
  table->n_singles++;
}

/*
 * unindex_entry() - take @entry out of the index. An auto-port entry got
 * its port after it was indexed with the others: it is not in the bucket
 * of that port, so it is looked for there first and then among the others.
 */
static void
unindex_entry (PortTable *table, PortEntry *entry)
{
  gpointer key = GINT_TO_POINTER (listen_port (&entry->spec));
  GPtrArray *bucket = g_hash_table_lookup (table->singles, key);

  if (bucket != NULL && g_ptr_array_remove_fast (bucket, entry))
    {
      table->n_singles--;
      if (bucket->len == 0)
        g_hash_table_remove (table->singles, key);
      return;
    }
  g_ptr_array_remove_fast (table->others, entry);
}

PortEntry *
porttable_add (PortTable *table, const PortSpec *spec)
{
  PortEntry *entry = g_new0 (PortEntry, 1);

  g_assert (table->next_id < G_MAXINT);
  entry->id = table->next_id++;
  entry->spec = *spec;
  g_tree_insert (table->entries, GINT_TO_POINTER (entry->id), entry);
  index_entry (table, entry);
  return entry;
}

PortEntry *
porttable_lookup (const PortTable *table, int id)
{
  return g_tree_lookup (table->entries, GINT_TO_POINTER (id));
}

gboolean
porttable_remove (PortTable *table, int id)
{
  PortEntry *entry = porttable_lookup (table, id);

  if (entry == NULL)
    return FALSE;
  unindex_entry (table, entry);
  return g_tree_remove (table->entries, GINT_TO_POINTER (id));
}

gboolean
porttable_rollback (PortTable *table, int id)
{
  if (!porttable_remove (table, id))
    return FALSE;
  if (id == table->next_id - 1)
    table->next_id--;
  return TRUE;
}

/* list_one() - GTraverseFunc: append the entry to the GPtrArray in @data. */
static gboolean
list_one (gpointer key, gpointer value, gpointer data)
{
  g_ptr_array_add (data, value);
  return FALSE;
}

GPtrArray *
porttable_list (const PortTable *table)
{
  GPtrArray *list = g_ptr_array_sized_new (g_tree_nnodes (table->entries));

  g_tree_foreach (table->entries, list_one, list);
  return list;
}

guint
porttable_size (const PortTable *table)
{
  return (guint) g_tree_nnodes (table->entries);
}
