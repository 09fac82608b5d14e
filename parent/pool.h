/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_POOL_H
#define NPTE_POOL_H

#include <glib.h>

#include "link.h"

/*
 * A pool of unconnected sockets created by the child inside the namespace
 * (a socket keeps the netns it was made in). The parent connect()s them
 * itself when a client arrives, so a new connection costs no round trip
 * to the child. The pool refills in batches, ahead of need.
 */

typedef struct NsPool NsPool;

/* Called when a socket is ready for a waiter: @fd is owned by the callee, -1 on failure. */
typedef void (*NsPoolReadyFunc) (gpointer user_data, int fd);

/* Embed in the waiting object; valid until called or cancelled. */
typedef struct {
  GList link;
  NsPoolReadyFunc func;
  gpointer user_data;
  int kind;
} NsPoolWaiter;

NsPool *nspool_new (ChildLink *link);
/*
 * nspool_free() - close every pooled socket; pending waiters are dropped uncalled.
 * Free the ChildLink first: that answers any request still out while the pool exists.
 */
void nspool_free (NsPool *pool);

/**
 * nspool_take() - a namespace socket now, if one is pooled
 * @pool: the pool
 * @family: AF_INET or AF_INET6
 * @socktype: SOCK_STREAM or SOCK_DGRAM
 *
 * Starts a refill when the stock runs low.
 *
 * Return: an fd owned by the caller, or -1 when the pool is empty.
 */
int nspool_take (NsPool *pool, int family, int socktype);

/**
 * nspool_wait() - be called back with a socket as soon as one arrives
 * @pool: the pool
 * @family: AF_INET or AF_INET6
 * @socktype: SOCK_STREAM or SOCK_DGRAM
 * @w: waiter storage (owned by the caller)
 * @func: callback
 * @user_data: its data
 */
void nspool_wait (NsPool *pool, int family, int socktype, NsPoolWaiter *w,
                  NsPoolReadyFunc func, gpointer user_data);

/**
 * nspool_take_sync() - a pooled socket now, waiting for the child if the stock is empty
 * @pool: the pool
 * @family: AF_INET or AF_INET6
 * @socktype: SOCK_STREAM or SOCK_DGRAM
 * @error: error when the child cannot make one (or does not answer within 5 s)
 *
 * For callers that must answer synchronously (opening a reverse port or range): blocks the
 * event loop for a round trip to the child per batch of 64. Waiters queued before it are
 * served first.
 *
 * Return: the fd (owned by the caller), or -1 with @error set.
 */
int nspool_take_sync (NsPool *pool, int family, int socktype, GError **error);

/* nspool_cancel() - forget a waiter that was not called yet. */
void nspool_cancel (NsPool *pool, NsPoolWaiter *w);

/* nspool_prefill() - start filling the stock for (@family, @socktype). */
void nspool_prefill (NsPool *pool, int family, int socktype);

/* nspool_stock() - pooled sockets of a kind (for tests and debugging). */
guint nspool_stock (const NsPool *pool, int family, int socktype);

#endif /* NPTE_POOL_H */
