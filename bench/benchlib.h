/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark programs (connrate, scaleload, apirate). */
#ifndef NPTE_BENCHLIB_H
#define NPTE_BENCHLIB_H

#include <sys/socket.h>

/* bench_now() - CLOCK_MONOTONIC in seconds. */
double bench_now (void);

/**
 * bench_make_addr() - an IPv4 or IPv6 socket address (a ':' in @host means IPv6)
 * @host: numeric address
 * @port: port
 * @ss: (out) the address
 *
 * Return: its length.
 */
socklen_t bench_make_addr (const char *host, int port, struct sockaddr_storage *ss);

/* bench_raise_nofile() - raise the soft RLIMIT_NOFILE to the hard limit. */
void bench_raise_nofile (void);

/**
 * bench_hist_pct() - a percentile of a histogram of 1-unit buckets
 * @hist: the buckets (the last one also holds everything beyond)
 * @buckets: how many
 * @n: the number of samples in it
 * @pct: the percentile, 0..100
 *
 * Return: the bucket index the percentile falls in.
 */
double bench_hist_pct (const unsigned *hist, long buckets, long n, double pct);

#endif /* NPTE_BENCHLIB_H */
