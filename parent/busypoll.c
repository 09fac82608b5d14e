/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Busy polling (busypoll.h): an ev_idle watcher at the lowest priority keeps libev
 * polling with a zero timeout while the policy says to spin; libev stops sleeping while any
 * idle watcher is active, and every other watcher still runs first.
 */
#include "busypoll.h"

#include "log.h"
#include "npte-error.h"

struct BusyPoll {
  struct ev_loop *loop;
  BusyPollPolicy pol;
  ev_idle idle_w;
  guint64 spins;        /* polls without sleeping, for the --debug summary */
};

/**
 * busypoll_policy_init() - a policy that has seen no work yet
 * @pol: the policy
 * @window: spin window, seconds (0: never spin)
 */
void
busypoll_policy_init (BusyPollPolicy *pol, double window)
{
  *pol = (BusyPollPolicy) { .window = MAX (window, 0.), .backoff = BUSYPOLL_BACKOFF_MIN };
}

/**
 * busypoll_policy_kick() - latency-bound work happened at @now
 * @pol: the policy
 * @now: the loop's time (the same for all work of one loop iteration)
 *
 * Work found by a spin (in a later loop iteration than the one that started it) is a hit: it
 * pays off one point of the miss score, and BUSYPOLL_SCORE_LIMIT hits in a row start the
 * back-off over. Then the loop spins for the whole window, unless bulk work or a back-off
 * keeps it quiet.
 *
 * Return: TRUE if the loop should spin now.
 */
gboolean
busypoll_policy_kick (BusyPollPolicy *pol, double now)
{
  if (pol->window <= 0.)
    return FALSE;
  if (pol->spinning && now > pol->start)
    {
      pol->hits++;
      if (pol->score > 0)
        pol->score--;
      if (++pol->streak >= BUSYPOLL_SCORE_LIMIT)
        pol->backoff = BUSYPOLL_BACKOFF_MIN;
    }
  pol->spinning = now >= pol->quiet_until;
  if (pol->spinning)
    {
      pol->start = now;
      pol->deadline = now + pol->window;
    }
  return pol->spinning;
}

/**
 * busypoll_policy_bulk() - throughput-bound work happened at @now: stop spinning for a while
 * @pol: the policy
 * @now: the loop's time
 *
 * A bulk flow keeps the loop busy by itself; spinning between its wake-ups would only take
 * CPU time from the processes at both ends.
 */
void
busypoll_policy_bulk (BusyPollPolicy *pol, double now)
{
  pol->quiet_until = MAX (pol->quiet_until, now + BUSYPOLL_BULK_QUIET);
  pol->spinning = FALSE;
}

/**
 * busypoll_policy_poll() - the loop found nothing to do at @now: spin on?
 * @pol: the policy
 * @now: the loop's time
 *
 * A spin that reaches the end of its window found nothing: a miss, which adds
 * BUSYPOLL_MISS_COST to the score (a miss wastes a whole window, a hit saves one wake-up).
 * A score of BUSYPOLL_SCORE_LIMIT (four misses in a row, or fewer than BUSYPOLL_MISS_COST hits
 * per miss for a while) means spinning does not pay for this traffic: it pauses for the
 * back-off, which doubles each time up to BUSYPOLL_BACKOFF_MAX, so traffic that spinning
 * cannot help costs a few windows a second at most.
 *
 * Return: TRUE to poll again without sleeping, FALSE to sleep until the next event.
 */
gboolean
busypoll_policy_poll (BusyPollPolicy *pol, double now)
{
  if (!pol->spinning)
    return FALSE;
  if (now < pol->deadline)
    return TRUE;
  pol->spinning = FALSE;
  pol->misses++;
  pol->streak = 0;
  if ((pol->score += BUSYPOLL_MISS_COST) >= BUSYPOLL_SCORE_LIMIT)
    {
      pol->pauses++;
      pol->quiet_until = MAX (pol->quiet_until, now + pol->backoff);
      pol->backoff = MIN (pol->backoff * 2., BUSYPOLL_BACKOFF_MAX);
      pol->score = 0;
    }
  return FALSE;
}

/**
 * busypoll_parse_us() - a spin window given as text (--busy-poll, NPTE_BUSY_POLL)
 * @text: decimal microseconds, 0..BUSYPOLL_MAX_US
 * @out: (out) the window
 * @error: error on failure
 *
 * Return: TRUE if @text is a valid window.
 */
gboolean
busypoll_parse_us (const char *text, guint *out, GError **error)
{
  guint64 us;

  if (!g_ascii_string_to_unsigned (text, 10, 0, BUSYPOLL_MAX_US, &us, error))
    {
      g_prefix_error (error, "a window in microseconds, 0..%u: ", (guint) BUSYPOLL_MAX_US);
      return FALSE;
    }
  *out = (guint) us;
  return TRUE;
}

/**
 * busypoll_window_from_env() - the spin window when no --busy-poll was given
 * @error: error when NPTE_BUSY_POLL is set but invalid
 * @out: (out) NPTE_BUSY_POLL if set, else BUSYPOLL_DEFAULT_US
 *
 * The variable reaches npte where its command line cannot, as when a launcher runs it as
 * slirp4netns.
 *
 * Return: TRUE on success.
 */
gboolean
busypoll_window_from_env (guint *out, GError **error)
{
  const char *env = g_getenv ("NPTE_BUSY_POLL");

  *out = BUSYPOLL_DEFAULT_US;
  if (env == NULL)
    return TRUE;
  if (!busypoll_parse_us (env, out, error))
    {
      g_prefix_error (error, "invalid NPTE_BUSY_POLL \"%s\": ", env);
      return FALSE;
    }
  return TRUE;
}

static void
idle_cb (struct ev_loop *loop, ev_idle *w, int revents)
{
  BusyPoll *bp = w->data;

  bp->spins++;
  if (!busypoll_policy_poll (&bp->pol, ev_now (loop)))
    ev_idle_stop (loop, w);
}

/**
 * busypoll_new() - busy polling for @loop
 * @loop: the loop
 * @window_us: the spin window in microseconds (at most BUSYPOLL_MAX_US); 0 turns busy polling
 *            off (kicks then cost a comparison)
 *
 * Return: (transfer full) the poller.
 */
BusyPoll *
busypoll_new (struct ev_loop *loop, guint window_us)
{
  BusyPoll *bp = g_new0 (BusyPoll, 1);

  bp->loop = loop;
  busypoll_policy_init (&bp->pol, MIN (window_us, BUSYPOLL_MAX_US) * 1e-6);
  ev_idle_init (&bp->idle_w, idle_cb);
  ev_set_priority (&bp->idle_w, EV_MINPRI);
  bp->idle_w.data = bp;
  return bp;
}

void
busypoll_free (BusyPoll *bp)
{
  if (bp == NULL)
    return;
  ev_idle_stop (bp->loop, &bp->idle_w);
  if (bp->pol.window > 0.)
    npte_debug ("busy polling: %" G_GUINT64_FORMAT " polls without sleeping, %" G_GUINT64_FORMAT
                " hits, %" G_GUINT64_FORMAT " misses, %" G_GUINT64_FORMAT " pauses",
                bp->spins, bp->pol.hits, bp->pol.misses, bp->pol.pauses);
  g_free (bp);
}

/**
 * busypoll_kick() - latency-bound work just happened (NULL @bp: nothing)
 * @bp: the poller, or NULL
 */
void
busypoll_kick (BusyPoll *bp)
{
  if (bp == NULL || bp->pol.window <= 0.)
    return;
  if (busypoll_policy_kick (&bp->pol, ev_now (bp->loop)))
    {
      if (!ev_is_active (&bp->idle_w))
        ev_idle_start (bp->loop, &bp->idle_w);
    }
  else
    ev_idle_stop (bp->loop, &bp->idle_w);
}

/**
 * busypoll_bulk() - throughput-bound work just happened (NULL @bp: nothing)
 * @bp: the poller, or NULL
 */
void
busypoll_bulk (BusyPoll *bp)
{
  if (bp == NULL || bp->pol.window <= 0.)
    return;
  busypoll_policy_bulk (&bp->pol, ev_now (bp->loop));
  ev_idle_stop (bp->loop, &bp->idle_w);
}

