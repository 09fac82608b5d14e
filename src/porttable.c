/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table of published ports. Entries live in a GTree keyed by id, so
 * lookup and removal are O(log n) and listing is ordered by id for free.
 * Entries are allocated one by one, so a PortEntry pointer stays valid
 * (drivers keep it to update the counters) until the entry is removed.
 *
 * porttable_check() is linear in the number of entries: with 10 000 ports
 * that is 10 000 cheap port comparisons per add, well under a millisecond.
 * A port range is one entry, and portspec_conflicts() compares two ranges
 * as intervals, so a 10 000-port range costs one comparison per entry, not
 * one per port. An index by parent port would make the check constant,
 * but the parent port of an auto-port (0) entry only becomes known after
 * the driver opened it.
 */
#include "porttable.h"

#include <errno.h>

#include "npte-error.h"

struct PortTable {
  GTree *entries; /* GINT_TO_POINTER (id) -> PortEntry * (owned) */
  int next_id;    /* the id the next porttable_add() hands out */
};

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
  g_tree_destroy (table->entries);
  g_free (table);
}

/* State of one porttable_check() walk. */
typedef struct {
  const PortSpec *spec;
  const PortEntry *hit;
} CheckWalk;

/* check_one() - GTraverseFunc: stop at the first entry conflicting with walk->spec. */
static gboolean
check_one (gpointer key, gpointer value, gpointer data)
{
  CheckWalk *walk = data;
  const PortEntry *entry = value;

  if (portspec_conflicts (&entry->spec, walk->spec))
    {
      walk->hit = entry;
      return TRUE;
    }
  return FALSE;
}

/*
 * porttable_check() - see porttable.h. The entry named in the error is
 * the lowest conflicting id; a reverse entry is shown as "reverse SPEC",
 * since its text alone reads like a forward port.
 */
gboolean
porttable_check (const PortTable *table, const PortSpec *spec, GError **error)
{
  CheckWalk walk = { .spec = spec, .hit = NULL };
  g_autofree char *text = NULL;

  g_tree_foreach (table->entries, check_one, &walk);
  if (walk.hit == NULL)
    return TRUE;
  text = portspec_format (&walk.hit->spec);
  return npte_set_error (error, EADDRINUSE, "conflict with ID %d (%s%s)", walk.hit->id,
                         walk.hit->spec.reverse ? "reverse " : "", text);
}

PortEntry *
porttable_add (PortTable *table, const PortSpec *spec)
{
  PortEntry *entry = g_new0 (PortEntry, 1);

  g_assert (table->next_id < G_MAXINT);
  entry->id = table->next_id++;
  entry->spec = *spec;
  g_tree_insert (table->entries, GINT_TO_POINTER (entry->id), entry);
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
