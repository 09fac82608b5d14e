/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_BUILTIN_H
#define NPTE_BUILTIN_H

#include <ev.h>
#include <glib.h>

#include "busypoll.h"
#include "pool.h"
#include "portmgr.h"

/*
 * The builtin port driver: the parent listens on the host; each TCP
 * connection or UDP flow gets a socket the child made inside the namespace
 * (from the pool), which the parent connects to the target itself. TCP
 * bytes move with splice(2) through pipes; UDP with recvmmsg/sendmmsg and a
 * bounded flow table with idle timeouts.
 */

typedef struct Builtin Builtin;

typedef struct {
  guint udp_max_flows;        /* per port; the oldest flow is evicted beyond it */
  double udp_idle_timeout;    /* seconds without traffic either way */
  gboolean preserve_source;   /* bind namespace sockets to the client's address (the child set
                                 up source routing, see child/srcroute.h) */
  BusyPoll *busy;             /* told about latency- and throughput-bound work (borrowed;
                                 NULL: none) */
} BuiltinConfig;

#define BUILTIN_UDP_MAX_FLOWS_DEFAULT 4096
#define BUILTIN_UDP_IDLE_TIMEOUT_DEFAULT 60.0

/**
 * builtin_new() - a builtin driver instance
 * @loop: the parent's loop
 * @pool: namespace socket pool (borrowed; must outlive the driver's ports)
 * @config: tuning, or NULL for the defaults
 *
 * Return: (transfer full) the driver, for use with builtin_ops.
 */
Builtin *builtin_new (struct ev_loop *loop, NsPool *pool, const BuiltinConfig *config);
void builtin_free (Builtin *b);

extern const PortDriverOps builtin_ops;

#endif /* NPTE_BUILTIN_H */
