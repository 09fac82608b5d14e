/* SPDX-License-Identifier: Apache-2.0 */
#include "pool.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"

/* Refill when fewer than this many are pooled; ask for a batch of this size. */
#define POOL_LOW_WATER 16u
#define POOL_BATCH PROTO_MAX_FDS
#define POOL_KINDS 4

typedef struct NsPoolKind NsPoolKind;

struct NsPoolKind {
  NsPool *pool;
  int family;
  int socktype;
  GArray *fds;          /* stack of pooled fds */
  GQueue waiters;       /* NsPoolWaiter, FIFO */
  gboolean in_flight;   /* a SOCKETS_REQ is outstanding */
  gboolean failing;     /* the last refill failed; log once */
};

struct NsPool {
  ChildLink *link;
  NsPoolKind kinds[POOL_KINDS];
};

static int
kind_index (int family, int socktype)
{
  return (family == AF_INET6 ? 2 : 0) + (socktype == SOCK_DGRAM ? 1 : 0);
}

static void refill (NsPoolKind *k);

/**
 * serve_waiters() - hand pooled sockets to waiters in FIFO order
 * @k: the kind
 */
static void
serve_waiters (NsPoolKind *k)
{
  while (k->fds->len > 0 && k->waiters.head != NULL)
    {
      GList *l = g_queue_pop_head_link (&k->waiters);
      NsPoolWaiter *w = l->data;
      int fd = g_array_index (k->fds, int, k->fds->len - 1);
      g_array_set_size (k->fds, k->fds->len - 1);
      w->func (w->user_data, fd);
    }
}

/**
 * fail_waiters() - call every waiter with -1 (the child cannot make sockets)
 * @k: the kind
 */
static void
fail_waiters (NsPoolKind *k)
{
  while (k->waiters.head != NULL)
    {
      GList *l = g_queue_pop_head_link (&k->waiters);
      NsPoolWaiter *w = l->data;
      w->func (w->user_data, -1);
    }
}

static void
refill_done (gpointer user_data, int *fds, unsigned int n_fds, const GError *error)
{
  NsPoolKind *k = user_data;

  k->in_flight = FALSE;
  if (error != NULL)
    {
      /* EPIPE: the child is gone, which the parent reports on its own. */
      if (!k->failing && !g_error_matches (error, NPTE_ERROR, EPIPE))
        npte_warn ("namespace socket pool: %s", error->message);
      k->failing = TRUE;
      fail_waiters (k);
      return;
    }
  k->failing = FALSE;
  g_array_append_vals (k->fds, fds, n_fds);
  serve_waiters (k);
  if (k->waiters.head != NULL || k->fds->len < POOL_LOW_WATER)
    refill (k);
}

/**
 * refill() - ask the child for a batch unless one is already coming
 * @k: the kind
 */
static void
refill (NsPoolKind *k)
{
  g_autoptr (GError) error = NULL;

  if (k->in_flight)
    return;
  if (!childlink_request_sockets (k->pool->link, k->family, k->socktype, POOL_BATCH, refill_done,
                                  k, &error))
    {
      if (!k->failing)
        npte_warn ("namespace socket pool: %s", error->message);
      k->failing = TRUE;
      fail_waiters (k);
      return;
    }
  k->in_flight = TRUE;
}

NsPool *
nspool_new (ChildLink *link)
{
  NsPool *pool = g_new0 (NsPool, 1);

  pool->link = link;
  for (int i = 0; i < POOL_KINDS; i++)
    {
      NsPoolKind *k = &pool->kinds[i];
      k->pool = pool;
      k->family = i >= 2 ? AF_INET6 : AF_INET;
      k->socktype = (i % 2) ? SOCK_DGRAM : SOCK_STREAM;
      k->fds = g_array_new (FALSE, FALSE, sizeof (int));
      g_queue_init (&k->waiters);
    }
  return pool;
}

void
nspool_free (NsPool *pool)
{
  if (pool == NULL)
    return;
  for (int i = 0; i < POOL_KINDS; i++)
    {
      NsPoolKind *k = &pool->kinds[i];
      for (guint j = 0; j < k->fds->len; j++)
        close (g_array_index (k->fds, int, j));
      g_array_unref (k->fds);
      g_queue_clear (&k->waiters);
    }
  g_free (pool);
}

int
nspool_take (NsPool *pool, int family, int socktype)
{
  NsPoolKind *k = &pool->kinds[kind_index (family, socktype)];
  int fd = -1;

  if (k->fds->len > 0 && k->waiters.head == NULL)
    {
      fd = g_array_index (k->fds, int, k->fds->len - 1);
      g_array_set_size (k->fds, k->fds->len - 1);
    }
  if (k->fds->len < POOL_LOW_WATER)
    refill (k);
  return fd;
}

void
nspool_wait (NsPool *pool, int family, int socktype, NsPoolWaiter *w, NsPoolReadyFunc func,
             gpointer user_data)
{
  NsPoolKind *k = &pool->kinds[kind_index (family, socktype)];

  w->func = func;
  w->user_data = user_data;
  w->kind = kind_index (family, socktype);
  w->link.data = w;
  w->link.prev = w->link.next = NULL;
  g_queue_push_tail_link (&k->waiters, &w->link);
  refill (k);
}

void
nspool_cancel (NsPool *pool, NsPoolWaiter *w)
{
  g_queue_unlink (&pool->kinds[w->kind].waiters, &w->link);
}

void
nspool_prefill (NsPool *pool, int family, int socktype)
{
  NsPoolKind *k = &pool->kinds[kind_index (family, socktype)];

  if (k->fds->len < POOL_LOW_WATER)
    refill (k);
}

guint
nspool_stock (const NsPool *pool, int family, int socktype)
{
  return pool->kinds[kind_index (family, socktype)].fds->len;
}
