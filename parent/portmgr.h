/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_PORTMGR_H
#define NPTE_PORTMGR_H

#include <glib.h>

#include "porttable.h"

/*
 * The port manager: AddPort / ListPorts / RemovePort over one port driver.
 * Validation, conflict checks, ids and counters live here, the same for
 * every driver; a driver only opens and closes the forward itself.
 */

typedef struct {
  const char *name;              /* "builtin", "slirp" */
  const char *const *protos;     /* NULL-terminated, e.g. {"tcp","tcp4",...,NULL} */
  gboolean disallow_loopback_child_ip;
  gboolean supports_reverse;     /* namespace -> host ports */
  /**
   * open() - start forwarding @entry->spec
   * @driver: driver instance
   * @entry: the table entry; the driver fills entry->spec.parent_port when
   *         it was 0, sets entry->handle, and updates entry->counters
   * @error: error with an actionable message
   */
  gboolean (*open) (gpointer driver, PortEntry *entry, GError **error);
  /* close() - stop forwarding, close the listener and every flow; synchronous. */
  void (*close) (gpointer driver, PortEntry *entry);
} PortDriverOps;

typedef struct PortMgr PortMgr;

/**
 * portmgr_new() - a manager over @ops
 * @ops: driver operations (static)
 * @driver: instance passed to @ops
 *
 * Return: (transfer full) the manager.
 */
PortMgr *portmgr_new (const PortDriverOps *ops, gpointer driver);

/* portmgr_free() - close every port, then free. */
void portmgr_free (PortMgr *mgr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PortMgr, portmgr_free)

/**
 * portmgr_add() - validate, check conflicts, open, and record a port
 * @mgr: manager
 * @spec: the requested spec (validated and canonicalised here)
 * @error: EINVAL (validation), EADDRINUSE (conflict or bind), EACCES
 *         (privileged port; the message names
 *         net.ipv4.ip_unprivileged_port_start), EPROTONOSUPPORT
 *
 * Return: (transfer none) the new entry, or NULL.
 */
const PortEntry *portmgr_add (PortMgr *mgr, const PortSpec *spec, GError **error);

/**
 * portmgr_remove() - close and forget port @id; returns after the listener
 *                    is closed and its flows torn down
 * @mgr: manager
 * @id: port id
 * @error: ENOENT "unknown id: N"
 *
 * Return: TRUE on success.
 */
gboolean portmgr_remove (PortMgr *mgr, int id, GError **error);

/* portmgr_list() - (transfer container) entries ordered by id. */
GPtrArray *portmgr_list (const PortMgr *mgr);

const PortDriverOps *portmgr_ops (const PortMgr *mgr);

/**
 * portmgr_bind_error() - the error for a failed bind of a port's host socket
 * @spec: the port
 * @errsv: errno of bind()
 * @addr: the address text ("127.0.0.1:80")
 * @error: (out) EACCES for a privileged port, with rootlesskit's advice naming
 *         net.ipv4.ip_unprivileged_port_start; EADDRINUSE naming the address;
 *         otherwise the errno text
 *
 * Shared by every driver so users see one wording.
 *
 * Return: FALSE.
 */
gboolean portmgr_bind_error (const PortSpec *spec, int errsv, const char *addr, GError **error);

#endif /* NPTE_PORTMGR_H */
