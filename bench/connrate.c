/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connrate: bounded connection benchmarks, client and server.
 *
 *   connrate server ADDR PORT SECONDS
 *       accept; read 1 byte; write it back; close (for SECONDS)
 *   connrate client ADDR PORT COUNT [MAXSECONDS]
 *       COUNT sequential connect / 1-byte request / 1-byte reply / close, stopping early after
 *       MAXSECONDS. Prints one line:
 *         cycles N first1000 R tail_from F tail R total R failures N p50_us X p99_us Y head R
 *       first1000 is the rate (cycles/s) of cycles 0..999, tail the rate of cycles F..N-1 with
 *       F = 90% of COUNT (cycles 90 000-100 000 for COUNT 100 000), total the rate of all,
 *       head the rate of the first 10% of COUNT (0 if the run stopped before their end).
 *   connrate hold-server ADDR PORT SECONDS
 *       accept; read 1 byte; write it back; keep the connection open (for SECONDS)
 *   connrate hold ADDR PORT COUNT SECONDS
 *       open COUNT connections, each checked with a 1-byte echo, and keep them open. Prints
 *       "held N failures N" once they are all up, then waits until stdin closes or SECONDS pass.
 *
 *   connrate udp-recv ADDR PORT SECONDS FILE [RCVBUF]
 *       count the datagrams sent by udp-send. Creates FILE.ready at the first probe, and
 *       writes "received N bytes B seconds S" to FILE at the end marker or after SECONDS.
 *       RCVBUF sets SO_RCVBUF (the kernel caps it at net.core.rmem_max), so that a receiver
 *       that is not scheduled for a while does not lose what the forwarder delivered.
 *   connrate udp-send ADDR PORT RATE_BPS LEN SECONDS FILE
 *       probe until FILE.ready exists, then send LEN-byte datagrams paced at RATE_BPS bits/s
 *       for SECONDS, then end markers. Prints "sent N bytes B seconds S".
 *       The UDP pair is one-way on purpose: no reply has to come back through the forwarder.
 *
 * Every socket has 2 s send/receive timeouts so that a stalled forwarder cannot hang a run.
 * SIGPIPE is ignored: a write to a reset connection fails with EPIPE and counts as a failure.
 * The hold modes raise their soft RLIMIT_NOFILE to the hard limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

int main (int argc, char **argv);

/* Per-cycle latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket. */
#define HIST_BUCKETS 100001

static void
set_timeouts (int fd)
{
  const struct timeval tv = { .tv_sec = 2 };
  const int one = 1;

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int
listen_on (const char *host, int port)
{
  struct sockaddr_storage ss;
  socklen_t len = bench_make_addr (host, port, &ss);
  int one = 1;
  int l = socket (ss.ss_family, SOCK_STREAM, 0);

  setsockopt (l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (l, (struct sockaddr *) &ss, len) < 0 || listen (l, 4096) < 0)
    {
      perror ("connrate server: bind/listen");
      return -1;
    }
  return l;
}

/* echo_one() - read one byte from @c (waiting up to 2 s) and write it back. */
static int
echo_one (int c)
{
  char b;
  struct pollfd cp = { .fd = c, .events = POLLIN };

  set_timeouts (c);
  if (poll (&cp, 1, 2000) > 0 && read (c, &b, 1) == 1 && write (c, &b, 1) == 1)
    return 0;
  return -1;
}

static int
server (const char *host, int port, double seconds, int hold)
{
  double end = bench_now () + seconds;
  int l, *held = NULL;
  long nheld = 0, cap = 0;

  if (hold)
    bench_raise_nofile ();
  l = listen_on (host, port);
  if (l < 0)
    return 1;
  while (bench_now () < end)
    {
      struct pollfd pfd = { .fd = l, .events = POLLIN };
      if (poll (&pfd, 1, 200) <= 0)
        continue;
      int c = accept (l, NULL, NULL);
      if (c < 0)
        {
          if (errno == EMFILE || errno == ENFILE)
            usleep (10000);
          continue;
        }
      if (echo_one (c) < 0 || !hold)
        {
          close (c);
          continue;
        }
      if (nheld == cap)
        {
          cap = cap ? cap * 2 : 1024;
          held = realloc (held, (size_t) cap * sizeof *held);
          if (held == NULL)
            return 1;
        }
      held[nheld++] = c;
    }
  for (long i = 0; i < nheld; i++)
    close (held[i]);
  free (held);
  return 0;
}

/* one_cycle() - connect, 1-byte request, 1-byte reply; the socket or -1. */
static int
one_cycle (const struct sockaddr_storage *ss, socklen_t len)
{
  int s = socket (ss->ss_family, SOCK_STREAM, 0);
  char b = 'x';

  if (s < 0)
    return -1;
  set_timeouts (s);
  if (connect (s, (const struct sockaddr *) ss, len) < 0 || write (s, &b, 1) != 1
      || read (s, &b, 1) != 1)
    {
      close (s);
      return -1;
    }
  return s;
}

static int
client (const char *host, int port, long count, double maxseconds)
{
  struct sockaddr_storage ss;
  socklen_t len = bench_make_addr (host, port, &ss);
  double t0 = bench_now (), t1000 = 0, thead = 0, ttail = 0, deadline = t0 + maxseconds;
  long head_to = count / 10, tail_from = count - count / 10, failures = 0, i;
  unsigned *hist = calloc (HIST_BUCKETS, sizeof *hist);

  if (hist == NULL)
    return 1;
  for (i = 0; i < count; i++)
    {
      double c0 = bench_now ();
      if (i == tail_from)
        ttail = c0;
      if ((i & 255) == 0 && c0 > deadline)
        break;
      int s = one_cycle (&ss, len);
      if (s < 0)
        failures++;
      else
        close (s);
      double c1 = bench_now ();
      long us = (long) ((c1 - c0) * 1e6);
      hist[us < HIST_BUCKETS - 1 ? us : HIST_BUCKETS - 1]++;
      if (i + 1 == 1000)
        t1000 = c1;
      if (i + 1 == head_to)
        thead = c1;
    }
  double t = bench_now ();
  if (ttail == 0)       /* stopped early: the tail is the last 10% done */
    {
      tail_from = i - i / 10;
      ttail = t - (t - t0) / 10;
    }
  printf ("cycles %ld first1000 %.0f tail_from %ld tail %.0f total %.0f failures %ld "
          "p50_us %.0f p99_us %.0f head %.0f\n",
          i, t1000 > 0 ? 1000 / (t1000 - t0) : 0, tail_from,
          i > tail_from ? (double) (i - tail_from) / (t - ttail) : 0, i / (t - t0), failures,
          bench_hist_pct (hist, HIST_BUCKETS, i, 50), bench_hist_pct (hist, HIST_BUCKETS, i, 99),
          thead > 0 ? (double) head_to / (thead - t0) : 0);
  free (hist);
  return failures > i / 100 ? 1 : 0;
}

static int
hold (const char *host, int port, long count, double seconds)
{
  struct sockaddr_storage ss;
  socklen_t len = bench_make_addr (host, port, &ss);
  double end = bench_now () + seconds;
  long failures = 0, n = 0;
  int *fds = calloc ((size_t) count, sizeof *fds);

  if (fds == NULL)
    return 1;
  bench_raise_nofile ();
  for (long i = 0; i < count && bench_now () < end; i++)
    {
      int s = one_cycle (&ss, len);
      if (s < 0)
        failures++;
      else
        fds[n++] = s;
    }
  printf ("held %ld failures %ld\n", n, failures);
  fflush (stdout);
  while (bench_now () < end)
    {
      struct pollfd p = { .fd = 0, .events = POLLIN };
      char b[64];
      int ms = (int) ((end - bench_now ()) * 1000) + 1;
      if (poll (&p, 1, ms) > 0 && read (0, b, sizeof b) <= 0)
        break;
    }
  for (long i = 0; i < n; i++)
    close (fds[i]);
  free (fds);
  return failures > 0 ? 1 : 0;
}

/* UDP datagram kinds: the first byte of each datagram. */
#define UDP_PROBE 'P'
#define UDP_DATA 'D'
#define UDP_END 'E'
#define UDP_BATCH 32
#define UDP_MAXLEN 65507

static int
udp_socket (const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
  *len = bench_make_addr (host, port, ss);
  return socket (ss->ss_family, SOCK_DGRAM, 0);
}

static int
udp_recv (const char *host, int port, double seconds, const char *file, int rcvbuf)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int s = udp_socket (host, port, &ss, &len);
  double end = bench_now () + seconds, first = 0, last = 0;
  long n = 0, bytes = 0;
  int ready = 0, done = 0;
  static char bufs[UDP_BATCH][2048];
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];
  char path[4096];

  if (s < 0 || bind (s, (struct sockaddr *) &ss, len) < 0)
    {
      perror ("connrate udp-recv: bind");
      return 1;
    }
  for (int i = 0; i < UDP_BATCH; i++)
    {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof bufs[i];
      memset (&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  const struct timeval tv = { .tv_usec = 100000 };
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (rcvbuf > 0)
    setsockopt (s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  while (!done && bench_now () < end)
    {
      int k = recvmmsg (s, msgs, UDP_BATCH, MSG_WAITFORONE, NULL);
      double t = bench_now ();
      for (int i = 0; i < k; i++)
        {
          /* the datagram's real length is msg_len; buffers hold only the head */
          char kind = bufs[i][0];
          if (kind == UDP_PROBE && !ready)
            {
              snprintf (path, sizeof path, "%s.ready", file);
              FILE *f = fopen (path, "w");
              if (f != NULL)
                fclose (f);
              ready = 1;
            }
          else if (kind == UDP_DATA)
            {
              if (n == 0)
                first = t;
              last = t;
              n++;
              bytes += msgs[i].msg_len;
            }
          else if (kind == UDP_END)
            done = 1;
        }
    }
  FILE *f = fopen (file, "w");
  if (f == NULL)
    return 1;
  fprintf (f, "received %ld bytes %ld seconds %.6f\n", n, bytes, last - first);
  fclose (f);
  return 0;
}

static int
udp_send (const char *host, int port, double rate, int dlen, double seconds, const char *file)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int s = udp_socket (host, port, &ss, &len);
  static char buf[UDP_MAXLEN];
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov = { .iov_base = buf, .iov_len = (size_t) dlen };
  char path[4096];
  struct stat st;
  long sent = 0;

  if (s < 0 || dlen < 1 || dlen > UDP_MAXLEN || connect (s, (struct sockaddr *) &ss, len) < 0)
    {
      perror ("connrate udp-send");
      return 1;
    }
  snprintf (path, sizeof path, "%s.ready", file);
  double give_up = bench_now () + 10;
  buf[0] = UDP_PROBE;
  while (stat (path, &st) < 0)
    {
      if (bench_now () > give_up)
        {
          fprintf (stderr, "connrate udp-send: the receiver never saw a probe\n");
          return 1;
        }
      if (send (s, buf, 1, 0) < 0)
        usleep (1000);
      usleep (20000);
    }
  memset (buf, 'x', sizeof buf);
  buf[0] = UDP_DATA;
  for (int i = 0; i < UDP_BATCH; i++)
    {
      memset (&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov;
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  const double per_s = rate / 8.0 / dlen;
  double t0 = bench_now (), t = t0;
  while ((t = bench_now ()) < t0 + seconds)
    {
      long due = (long) ((t - t0) * per_s) - sent;
      if (due <= 0)
        {
          struct timespec ts = { 0, 20000 };
          nanosleep (&ts, NULL);
          continue;
        }
      int k = sendmmsg (s, msgs, due < UDP_BATCH ? (unsigned) due : UDP_BATCH, 0);
      if (k > 0)
        sent += k;
      else if (errno == ECONNREFUSED || errno == ENOBUFS || errno == EAGAIN)
        sent += due < UDP_BATCH ? due : UDP_BATCH; /* offered, dropped on the way */
    }
  double el = bench_now () - t0;
  usleep (200000);
  buf[0] = UDP_END;
  for (int i = 0; i < 5; i++)
    {
      if (send (s, buf, 1, 0) < 0)
        {
          /* ignore: the receiver also stops at its deadline */
        }
      usleep (20000);
    }
  printf ("sent %ld bytes %ld seconds %.6f\n", sent, sent * (long) dlen, el);
  return 0;
}

int
main (int argc, char **argv)
{
  /* A connection the forwarder resets is a counted failure, not a silent death by SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  if ((argc == 6 || argc == 7) && strcmp (argv[1], "udp-recv") == 0)
    return udp_recv (argv[2], atoi (argv[3]), atof (argv[4]), argv[5],
                     argc == 7 ? atoi (argv[6]) : 0);
  if (argc == 8 && strcmp (argv[1], "udp-send") == 0)
    return udp_send (argv[2], atoi (argv[3]), atof (argv[4]), atoi (argv[5]), atof (argv[6]),
                     argv[7]);
  if (argc == 5 && strcmp (argv[1], "server") == 0)
    return server (argv[2], atoi (argv[3]), atof (argv[4]), 0);
  if (argc == 5 && strcmp (argv[1], "hold-server") == 0)
    return server (argv[2], atoi (argv[3]), atof (argv[4]), 1);
  if ((argc == 5 || argc == 6) && strcmp (argv[1], "client") == 0)
    return client (argv[2], atoi (argv[3]), atol (argv[4]), argc == 6 ? atof (argv[5]) : 1e9);
  if (argc == 6 && strcmp (argv[1], "hold") == 0)
    return hold (argv[2], atoi (argv[3]), atol (argv[4]), atof (argv[5]));
  fprintf (stderr, "usage: connrate server|hold-server ADDR PORT SECONDS\n"
                   "       connrate client ADDR PORT COUNT [MAXSECONDS]\n"
                   "       connrate hold ADDR PORT COUNT SECONDS\n"
                   "       connrate udp-recv ADDR PORT SECONDS FILE [RCVBUF]\n"
                   "       connrate udp-send ADDR PORT RATE_BPS LEN SECONDS FILE\n");
  return 2;
}
