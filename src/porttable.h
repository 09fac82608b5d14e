/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_PORTTABLE_H
#define NPTE_PORTTABLE_H

#include <glib.h>

#include "portspec.h"

/*
 * The table of published ports: ids (from 1, never reused), specs, live
 * counters and an opaque driver handle per entry. No I/O here.
 */

typedef struct {
  guint64 conns_accepted; /* TCP connections accepted / UDP flows created */
  guint64 conns_active;   /* currently open */
  guint64 bytes_in;       /* host -> namespace */
  guint64 bytes_out;      /* namespace -> host */
  guint64 errors;         /* failed connects, accept errors, dropped datagrams */
} PortCounters;

typedef struct {
  int id;
  PortSpec spec;          /* parent_port is the real port once published */
  PortCounters counters;
  gpointer handle;        /* owned by the driver */
} PortEntry;

typedef struct PortTable PortTable;

PortTable *porttable_new (void);
void porttable_free (PortTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortTable, porttable_free)

/**
 * porttable_check() - whether @spec may be added next to the existing entries
 * @table: the table
 * @spec: a validated spec (parent port 0 never conflicts)
 * @error: EADDRINUSE "conflict with ID N (SPEC)"
 *
 * Return: TRUE if no entry conflicts (see portspec_conflicts()).
 */
gboolean porttable_check (const PortTable *table, const PortSpec *spec, GError **error);

/**
 * porttable_add() - insert @spec under the next id
 * @table: the table
 * @spec: the spec, copied
 *
 * Return: (transfer none) the new entry; valid until removed.
 */
PortEntry *porttable_add (PortTable *table, const PortSpec *spec);

/**
 * porttable_lookup() - the entry with @id
 * @table: the table
 * @id: port id
 *
 * Return: (transfer none) the entry or NULL.
 */
PortEntry *porttable_lookup (const PortTable *table, int id);

/**
 * porttable_remove() - drop the entry with @id (the caller closed its handle)
 * @table: the table
 * @id: port id
 *
 * Return: TRUE if it existed.
 */
gboolean porttable_remove (PortTable *table, int id);

/**
 * porttable_rollback() - undo the porttable_add() that returned @id
 * @table: the table
 * @id: id of the entry to drop
 *
 * For an entry whose id was never shown to anyone (its driver failed to
 * open it): drops the entry like porttable_remove() and, if @id is the
 * most recently allocated id, gives it back, so a failed add does not use
 * up an id. Ids that were handed out are never reused.
 *
 * Return: TRUE if it existed.
 */
gboolean porttable_rollback (PortTable *table, int id);

/**
 * porttable_list() - every entry ordered by id
 * @table: the table
 *
 * Return: (transfer container) array of PortEntry* (borrowed pointers).
 */
GPtrArray *porttable_list (const PortTable *table);

guint porttable_size (const PortTable *table);

#endif /* NPTE_PORTTABLE_H */
