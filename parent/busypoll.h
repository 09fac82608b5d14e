/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_BUSYPOLL_H
#define NPTE_BUSYPOLL_H

#include <ev.h>
#include <glib.h>

/*
 * Busy polling of the parent's loop (docs/performance.md, "Busy polling").
 *
 * A relay wakes up for every message it passes on; on a virtual machine each wake-up of a
 * sleeping process costs more than the work it does. After latency-bound work (a small
 * message, a new connection) the loop keeps polling without sleeping for a short window, so
 * the next message of a request/response exchange is picked up at once. Spins that keep
 * finding nothing pause spinning for a back-off that doubles while it goes on, so a quiet or
 * slow flow costs next to no CPU. Bulk transfers do not spin (they never sleep for long).
 */

/* Default spin window, microseconds (--busy-poll). */
#define BUSYPOLL_DEFAULT_US 200
/* Largest window --busy-poll accepts, microseconds. */
#define BUSYPOLL_MAX_US 1000000
/* Score of a spin that found nothing (a hit pays off 1), and the score that pauses spinning. */
#define BUSYPOLL_MISS_COST 4
#define BUSYPOLL_SCORE_LIMIT 16
/* The first pause, and the longest (each pause in a row doubles), seconds. */
#define BUSYPOLL_BACKOFF_MIN 10e-3
#define BUSYPOLL_BACKOFF_MAX 1.0
/* After bulk work, no spinning for this long, seconds. */
#define BUSYPOLL_BULK_QUIET 2e-3

/* The policy, apart from the loop (unit-tested on its own). Times are seconds. */
typedef struct {
  double window;        /* how long a spin lasts; 0: busy polling is off */
  double start;         /* when the current spin started */
  double deadline;      /* spin until then */
  double quiet_until;   /* no spinning until then (bulk work, or a back-off) */
  double backoff;       /* the next back-off */
  guint score;          /* misses cost BUSYPOLL_MISS_COST, hits pay off 1 */
  guint streak;         /* hits since the last miss */
  gboolean spinning;
  guint64 hits;         /* spins that found work */
  guint64 misses;       /* spins that found nothing */
  guint64 pauses;       /* back-offs */
} BusyPollPolicy;

void busypoll_policy_init (BusyPollPolicy *pol, double window);
gboolean busypoll_policy_kick (BusyPollPolicy *pol, double now);
void busypoll_policy_bulk (BusyPollPolicy *pol, double now);
gboolean busypoll_policy_poll (BusyPollPolicy *pol, double now);

gboolean busypoll_parse_us (const char *text, guint *out, GError **error);
gboolean busypoll_window_from_env (guint *out, GError **error);

typedef struct BusyPoll BusyPoll;

BusyPoll *busypoll_new (struct ev_loop *loop, guint window_us);
void busypoll_free (BusyPoll *bp);
void busypoll_kick (BusyPoll *bp);
void busypoll_bulk (BusyPoll *bp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BusyPoll, busypoll_free)

#endif /* NPTE_BUSYPOLL_H */
