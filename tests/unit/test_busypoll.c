/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of adaptive busy polling (parent/busypoll.c): the policy on its own, with made-up
 * times (off, one spin, hits and misses, pauses and their doubling, bulk quiet), and the
 * libev glue on a real loop (spinning keeps the loop from sleeping and ends by itself).
 */
#include "busypoll.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

int main (void);

#define US 1e-6
#define LIMIT (200 * US)

/* One spin started at @t that finds nothing: polled until its deadline has passed. */
static void
miss_at (BusyPollPolicy *pol, double t)
{
  assert_true (busypoll_policy_kick (pol, t));
  assert_true (busypoll_policy_poll (pol, t + LIMIT / 2));
  assert_false (busypoll_policy_poll (pol, t + LIMIT));
}

static void
test_off (void **state)
{
  BusyPollPolicy pol;

  busypoll_policy_init (&pol, 0.);
  assert_false (busypoll_policy_kick (&pol, 1.));
  assert_false (busypoll_policy_poll (&pol, 1.));
  busypoll_policy_init (&pol, -1.);
  assert_true (pol.window == 0.);
  assert_false (busypoll_policy_kick (&pol, 1.));
}

static void
test_one_spin (void **state)
{
  BusyPollPolicy pol;

  busypoll_policy_init (&pol, LIMIT);
  assert_false (busypoll_policy_poll (&pol, 1.)); /* nothing happened yet: sleep */
  assert_true (busypoll_policy_kick (&pol, 1.));
  assert_true (busypoll_policy_poll (&pol, 1. + 10 * US));
  assert_true (busypoll_policy_poll (&pol, 1. + 199 * US));
  assert_false (busypoll_policy_poll (&pol, 1. + 200 * US));
  assert_int_equal (pol.misses, 1);
  assert_int_equal (pol.hits, 0);
  /* Once it stopped it stays stopped until the next kick. */
  assert_false (busypoll_policy_poll (&pol, 1. + 201 * US));
}

static void
test_hit_extends (void **state)
{
  BusyPollPolicy pol;

  busypoll_policy_init (&pol, LIMIT);
  assert_true (busypoll_policy_kick (&pol, 1.));
  /* More work of the same iteration is not a hit. */
  assert_true (busypoll_policy_kick (&pol, 1.));
  assert_int_equal (pol.hits, 0);
  /* Work a later iteration found is, and the window restarts from it. */
  assert_true (busypoll_policy_kick (&pol, 1. + 150 * US));
  assert_int_equal (pol.hits, 1);
  assert_true (busypoll_policy_poll (&pol, 1. + 300 * US));
  assert_false (busypoll_policy_poll (&pol, 1. + 350 * US));
  assert_int_equal (pol.misses, 1);
}

static void
test_misses_pause (void **state)
{
  BusyPollPolicy pol;
  double t = 1.;

  busypoll_policy_init (&pol, LIMIT);
  for (int i = 0; i < BUSYPOLL_SCORE_LIMIT / BUSYPOLL_MISS_COST - 1; i++, t += 1e-3)
    miss_at (&pol, t);
  assert_int_equal (pol.pauses, 0);
  miss_at (&pol, t);
  assert_int_equal (pol.pauses, 1);
  const double paused = t + LIMIT;
  /* During the pause work does not spin; after it, it does again. */
  assert_false (busypoll_policy_kick (&pol, paused + BUSYPOLL_BACKOFF_MIN / 2));
  assert_false (busypoll_policy_poll (&pol, paused + BUSYPOLL_BACKOFF_MIN / 2));
  assert_true (busypoll_policy_kick (&pol, paused + BUSYPOLL_BACKOFF_MIN));
}

static void
test_pauses_double (void **state)
{
  BusyPollPolicy pol;
  double t = 1.;
  double expect = BUSYPOLL_BACKOFF_MIN;

  busypoll_policy_init (&pol, LIMIT);
  for (int pause = 0; pause < 12; pause++)
    {
      for (int i = 0; i < BUSYPOLL_SCORE_LIMIT / BUSYPOLL_MISS_COST; i++)
        {
          miss_at (&pol, t);
          if (i + 1 < BUSYPOLL_SCORE_LIMIT / BUSYPOLL_MISS_COST)
            t += 1e-3;
        }
      t += LIMIT;
      assert_int_equal (pol.pauses, pause + 1);
      assert_true (pol.quiet_until - t > expect - US && pol.quiet_until - t < expect + US);
      t = pol.quiet_until;
      expect = MIN (expect * 2, BUSYPOLL_BACKOFF_MAX);
    }
  assert_true (pol.backoff == BUSYPOLL_BACKOFF_MAX);
}

/* A hit after every miss does not pay for the misses: paced traffic pauses too. */
static void
test_hit_miss_pattern_pauses (void **state)
{
  BusyPollPolicy pol;
  double t = 1.;
  int rounds = 0;

  busypoll_policy_init (&pol, LIMIT);
  while (pol.pauses == 0 && rounds < 100)
    {
      assert_true (busypoll_policy_kick (&pol, t));           /* request passed on */
      assert_true (busypoll_policy_kick (&pol, t + 20 * US)); /* answer: a hit */
      assert_true (busypoll_policy_poll (&pol, t + 100 * US));
      assert_false (busypoll_policy_poll (&pol, t + 220 * US)); /* next request: too late */
      t += 500 * US;
      rounds++;
    }
  assert_int_equal (pol.pauses, 1);
  assert_int_equal (rounds, 5); /* +4 -1 per round: 16 after 5 misses */
  /* The pattern never has BUSYPOLL_SCORE_LIMIT hits in a row: the back-off keeps growing. */
  assert_true (pol.backoff == 2 * BUSYPOLL_BACKOFF_MIN);
}

static void
test_hits_reset_backoff (void **state)
{
  BusyPollPolicy pol;
  double t = 1.;

  busypoll_policy_init (&pol, LIMIT);
  for (int i = 0; i < BUSYPOLL_SCORE_LIMIT / BUSYPOLL_MISS_COST; i++, t += 1e-3)
    miss_at (&pol, t);
  assert_true (pol.backoff == 2 * BUSYPOLL_BACKOFF_MIN);
  t = pol.quiet_until;
  assert_true (busypoll_policy_kick (&pol, t));
  for (int i = 1; i < BUSYPOLL_SCORE_LIMIT; i++)
    {
      assert_true (busypoll_policy_kick (&pol, t + i * 30 * US));
      assert_true (pol.backoff == 2 * BUSYPOLL_BACKOFF_MIN);
    }
  assert_true (busypoll_policy_kick (&pol, t + BUSYPOLL_SCORE_LIMIT * 30 * US));
  assert_true (pol.backoff == BUSYPOLL_BACKOFF_MIN);
  assert_int_equal (pol.score, 0);
}

static void
test_bulk_quiet (void **state)
{
  BusyPollPolicy pol;

  busypoll_policy_init (&pol, LIMIT);
  assert_true (busypoll_policy_kick (&pol, 1.));
  busypoll_policy_bulk (&pol, 1. + 10 * US);
  assert_false (busypoll_policy_poll (&pol, 1. + 11 * US));
  assert_int_equal (pol.misses, 0); /* stopped by bulk work, not a miss */
  assert_false (busypoll_policy_kick (&pol, 1. + 10 * US + BUSYPOLL_BULK_QUIET / 2));
  /* More bulk work extends the quiet time, a pause never shortens it. */
  busypoll_policy_bulk (&pol, 1.001);
  assert_false (busypoll_policy_kick (&pol, 1.001 + BUSYPOLL_BULK_QUIET / 2));
  assert_true (busypoll_policy_kick (&pol, 1.001 + BUSYPOLL_BULK_QUIET));
}

static void
count_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  (*(int *) w->data)++;
}

/*
 * The glue: after a kick the loop does not sleep (each iteration returns at once) for about
 * the window, then sleeps again (the next iteration waits for a timer 1 s away). The window
 * is 50 ms, so that an iteration under valgrind or sanitizers still fits in it many times.
 */
static void
test_loop_spins_then_sleeps (void **state)
{
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  g_autoptr (BusyPoll) bp = busypoll_new (loop, 50000);
  ev_timer later;
  int fired = 0;
  int spins = 0;

  ev_timer_init (&later, count_cb, 1., 0.);
  later.data = &fired;
  ev_timer_start (loop, &later);
  /* Kicks come from watchers, where the loop's time is fresh; here it must be refreshed. */
  ev_now_update (loop);
  const ev_tstamp t0 = ev_now (loop);
  ev_tstamp last_quick = t0;
  busypoll_kick (bp);
  while (fired == 0 && spins < 10000000)
    {
      const ev_tstamp before = ev_time ();
      ev_run (loop, EVRUN_ONCE);
      if (fired == 0)
        {
          assert_true (ev_time () - before < 0.5); /* did not sleep */
          last_quick = ev_time ();
          spins++;
        }
    }
  assert_int_equal (fired, 1);
  assert_true (spins > 1);
  /* It spun for the 50 ms window (the clock is read once per iteration), not until the timer. */
  assert_true (last_quick - t0 >= 0.049);
  assert_true (last_quick - t0 < 0.5);
  busypoll_kick (NULL); /* no poller: nothing happens */
  g_clear_pointer (&bp, busypoll_free);
  ev_loop_destroy (loop);
}

/* With busy polling off, a kick does not keep the loop awake: EVRUN_ONCE blocks on a timer. */
static void
test_loop_off_sleeps (void **state)
{
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  g_autoptr (BusyPoll) bp = busypoll_new (loop, 0);
  ev_timer soon;
  int fired = 0;

  ev_timer_init (&soon, count_cb, 0.02, 0.);
  soon.data = &fired;
  ev_timer_start (loop, &soon);
  busypoll_kick (bp);
  const ev_tstamp t0 = ev_time ();
  ev_run (loop, EVRUN_ONCE);
  assert_int_equal (fired, 1);
  assert_true (ev_time () - t0 >= 0.015);
  g_clear_pointer (&bp, busypoll_free);
  ev_loop_destroy (loop);
}

/* Spinning with a timer due: the timer still fires on time (spinning never starves watchers). */
static void
test_loop_spin_runs_timers (void **state)
{
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  g_autoptr (BusyPoll) bp = busypoll_new (loop, BUSYPOLL_MAX_US);
  ev_timer soon;
  int fired = 0;

  ev_timer_init (&soon, count_cb, 0.005, 0.);
  soon.data = &fired;
  ev_timer_start (loop, &soon);
  busypoll_kick (bp);
  const ev_tstamp t0 = ev_time ();
  while (fired == 0 && ev_time () - t0 < 2.)
    ev_run (loop, EVRUN_ONCE);
  assert_int_equal (fired, 1);
  assert_true (ev_time () - t0 < 0.5);
  g_clear_pointer (&bp, busypoll_free);
  ev_loop_destroy (loop);
}

static void
test_parse (void **state)
{
  static const char *const bad[] = { "", "x", "-1", "+5", " 5", "5 ", "1e3", "0x10", "1000001",
                                     "99999999999999999999", "5us" };
  guint us = 7;

  assert_true (busypoll_parse_us ("0", &us, NULL));
  assert_int_equal (us, 0);
  assert_true (busypoll_parse_us ("200", &us, NULL));
  assert_int_equal (us, 200);
  assert_true (busypoll_parse_us ("1000000", &us, NULL));
  assert_int_equal (us, BUSYPOLL_MAX_US);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      us = 7;
      assert_false (busypoll_parse_us (bad[i], &us, &error));
      assert_non_null (error);
      assert_non_null (strstr (error->message, "0..1000000"));
      assert_int_equal (us, 7); /* untouched */
    }
}

static void
test_window_from_env (void **state)
{
  g_autoptr (GError) error = NULL;
  guint us = 7;

  g_unsetenv ("NPTE_BUSY_POLL");
  assert_true (busypoll_window_from_env (&us, NULL));
  assert_int_equal (us, BUSYPOLL_DEFAULT_US);
  g_setenv ("NPTE_BUSY_POLL", "0", TRUE);
  assert_true (busypoll_window_from_env (&us, NULL));
  assert_int_equal (us, 0);
  g_setenv ("NPTE_BUSY_POLL", "50", TRUE);
  assert_true (busypoll_window_from_env (&us, NULL));
  assert_int_equal (us, 50);
  g_setenv ("NPTE_BUSY_POLL", "lots", TRUE);
  assert_false (busypoll_window_from_env (&us, &error));
  assert_non_null (strstr (error->message, "invalid NPTE_BUSY_POLL \"lots\""));
  g_unsetenv ("NPTE_BUSY_POLL");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_off),
    cmocka_unit_test (test_one_spin),
    cmocka_unit_test (test_hit_extends),
    cmocka_unit_test (test_misses_pause),
    cmocka_unit_test (test_pauses_double),
    cmocka_unit_test (test_hit_miss_pattern_pauses),
    cmocka_unit_test (test_hits_reset_backoff),
    cmocka_unit_test (test_bulk_quiet),
    cmocka_unit_test (test_loop_spins_then_sleeps),
    cmocka_unit_test (test_loop_off_sleeps),
    cmocka_unit_test (test_loop_spin_runs_timers),
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_window_from_env),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
