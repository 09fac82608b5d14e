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
/* nspool_take_sync() gives up after this long without a socket. */
#define POOL_SYNC_TIMEOUT_MS 5000

typedef struct NsPoolKind NsPoolKind;

struct NsPoolKind {
  NsPool *pool;
  int family;
  int socktype;
  GArray *fds;          /* stack of pooled fds */
  GQueue waiters;       /* NsPoolWaiter, FIFO */
  gboolean in_flight;   /* a SOCKETS_REQ is outstanding */
  gboolean failing;     /* the last refill failed; log once */
  GError *last_error;   /* why, while failing */
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
      g_clear_error (&k->last_error);
      k->last_error = g_error_copy (error);
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
      g_clear_error (&k->last_error);
      k->last_error = g_steal_pointer (&error);
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
      g_clear_error (&k->last_error);
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

/**
 * take_sync_failed() - the error of nspool_take_sync() when the child refused or could not be
 * asked
 * @k: the kind
 * @error: set from the kind's last error
 *
 * Return: -1.
 */
static int
take_sync_failed (const NsPoolKind *k, GError **error)
{
  if (k->last_error == NULL)
    {
      npte_set_error (error, EIO, "no namespace socket: the child refused");
      return -1;
    }
  npte_set_error (error, k->last_error->code, "no namespace socket: %s", k->last_error->message);
  return -1;
}

int
nspool_take_sync (NsPool *pool, int family, int socktype, GError **error)
{
  NsPoolKind *k = &pool->kinds[kind_index (family, socktype)];
  const gint64 deadline = g_get_monotonic_time () + (gint64) POOL_SYNC_TIMEOUT_MS * 1000;

  for (;;)
    {
      int fd = nspool_take (pool, family, socktype);
      if (fd >= 0)
        return fd;
      /* nspool_take() asked for a batch unless one is coming; failing to ask is final. */
      if (!k->in_flight)
        return take_sync_failed (k, error);
      while (k->in_flight)
        {
          gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
          if (left_ms <= 0)
            {
              npte_set_error (error, ETIMEDOUT, "no namespace socket within %d ms",
                              POOL_SYNC_TIMEOUT_MS);
              return -1;
            }
          if (!childlink_wait (pool->link, (int) left_ms, error))
            {
              g_prefix_error (error, "no namespace socket: ");
              return -1;
            }
        }
      /* The batch waited for was refused: asking again would only loop. */
      if (k->failing && k->fds->len == 0)
        return take_sync_failed (k, error);
    }
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
