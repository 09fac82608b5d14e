/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scaleload: bounded clients and servers for the scale benchmark (bench/scale.py).
 *
 *   scaleload range-server ADDR LO HI PROTOS SECONDS
 *       listen on every port LO..HI of ADDR, for PROTOS "tcp", "udp" or "tcp,udp", with one
 *       epoll loop: a TCP connection gets back every byte it sends until it closes, a UDP
 *       datagram is sent back to its sender. Runs for SECONDS. With LO = HI it is the echo
 *       server of the active-connection test. File descriptors inherited from the helper
 *       (pasta 2023-03 passes one per forwarded port to its payload) are closed first, and
 *       their number is reported on stderr ("closed N inherited fds").
 *   scaleload probe ADDR PROTO SECONDS PORT[,PORT...]
 *       every port must answer: TCP connect, 1-byte echo, close; UDP one datagram and its
 *       reply. Refused or unanswered ports are tried again until SECONDS pass (the helper may
 *       still be starting). Prints
 *         ok N failed N done_mono T
 *       where T is CLOCK_MONOTONIC (s) when the last port answered. Exit 1 if any failed.
 *   scaleload echo-load ADDR PORT COUNT SECONDS INTERVAL_MS LEN
 *       open COUNT TCP connections (at most 256 connecting at once), check each with one
 *       LEN-byte echo, then for SECONDS let every connection send LEN bytes every INTERVAL_MS
 *       (spread evenly over the interval) and wait for them to come back, timing each
 *       round trip. A connection that fails, closes, or has a message unanswered 5 s after the
 *       last send is lost. Prints one line:
 *         conns N established N connect_failed N lost N msgs N late N avg_us X p50_us X
 *         p99_us X max_us X
 *       ("late": a send slot skipped because the previous echo was still outstanding).
 *       Exit 1 if a connection was lost or could not be established.
 *
 * All sockets are non-blocking under epoll; every mode raises its soft RLIMIT_NOFILE to the hard
 * limit and ends after its SECONDS (plus 10 s at most for connecting and draining).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

int main (int argc, char **argv);

#define MAX_EVENTS 512
#define MAX_CONNECTING 256
#define MAX_LEN 4096
/* Round-trip histogram: 1 µs buckets up to 2 s, then one overflow bucket. */
#define HIST_BUCKETS 2000001
/* An echo not back this long after the last send counts as lost. */
#define DRAIN_SECONDS 5.0

/* epoll data: the fd in the low 32 bits, its kind above. */
enum { K_TCP_LISTEN = 1, K_UDP = 2, K_CONN = 3 };

static int
add_fd (int ep, int fd, int kind, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.u64 = (uint64_t) kind << 32 | (uint32_t) fd };

  return epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev);
}

/* write_all() - write @n bytes of @buf to the non-blocking @fd, waiting up to 2 s for room. */
static int
write_all (int fd, const char *buf, size_t n)
{
  while (n > 0)
    {
      ssize_t w = write (fd, buf, n);
      if (w > 0)
        {
          buf += w;
          n -= (size_t) w;
          continue;
        }
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno != EAGAIN)
        return -1;
      if (poll (&p, 1, 2000) <= 0)
        return -1;
    }
  return 0;
}

/* ------------------------------------------------------------ range-server */

static int
listen_one (int ep, const char *host, int port, int type)
{
  struct sockaddr_storage ss;
  socklen_t len = bench_make_addr (host, port, &ss);
  int one = 1;
  int fd = socket (ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &ss, len) < 0
      || (type == SOCK_STREAM && listen (fd, 4096) < 0)
      || add_fd (ep, fd, type == SOCK_STREAM ? K_TCP_LISTEN : K_UDP, EPOLLIN) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
serve_event (int ep, int kind, int fd)
{
  char buf[MAX_LEN];

  if (kind == K_TCP_LISTEN)
    {
      for (int i = 0; i < 64; i++)
        {
          int c = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          const int one = 1;
          if (c < 0)
            return;
          setsockopt (c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (add_fd (ep, c, K_CONN, EPOLLIN) < 0)
            close (c);
        }
      return;
    }
  if (kind == K_UDP)
    {
      for (int i = 0; i < 64; i++)
        {
          struct sockaddr_storage from;
          socklen_t flen = sizeof from;
          ssize_t n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &flen);
          if (n < 0)
            return;
          if (sendto (fd, buf, (size_t) n, 0, (struct sockaddr *) &from, flen) < 0)
            {
              /* a reply that cannot be sent is the prober's loss to report */
            }
        }
      return;
    }
  ssize_t n = read (fd, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)
      || (n > 0 && write_all (fd, buf, (size_t) n) < 0))
    close (fd); /* closing removes it from the epoll set */
}

/* close_inherited() - close every fd above stderr; how many there were. */
static int
close_inherited (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;

  if (d != NULL)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        if (atoi (e->d_name) > 2 && atoi (e->d_name) != dirfd (d))
          n++;
      closedir (d);
    }
  close_range (3, ~0U, 0);
  return n;
}

static int
range_server (const char *host, int lo, int hi, const char *protos, double seconds)
{
  int tcp = strstr (protos, "tcp") != NULL, udp = strstr (protos, "udp") != NULL;
  double end = bench_now () + seconds;
  int inherited = close_inherited ();
  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event evs[MAX_EVENTS];

  if (inherited > 0)
    fprintf (stderr, "scaleload range-server: closed %d inherited fds\n", inherited);
  bench_raise_nofile ();
  if (ep < 0 || lo < 1 || hi > 65535 || lo > hi || (!tcp && !udp))
    {
      fprintf (stderr, "scaleload range-server: bad arguments\n");
      return 2;
    }
  for (int p = lo; p <= hi; p++)
    if ((tcp && listen_one (ep, host, p, SOCK_STREAM) < 0)
        || (udp && listen_one (ep, host, p, SOCK_DGRAM) < 0))
      {
        fprintf (stderr, "scaleload range-server: port %d: %s\n", p, strerror (errno));
        return 1;
      }
  while (bench_now () < end)
    {
      int n = epoll_wait (ep, evs, MAX_EVENTS, 200);
      for (int i = 0; i < n; i++)
        serve_event (ep, (int) (evs[i].data.u64 >> 32), (int) (uint32_t) evs[i].data.u64);
    }
  return 0;
}

/* ------------------------------------------------------------ probe */

/* probe_once() - one echo through @port; 0 if it answered. */
static int
probe_once (const char *host, int port, int udp)
{
  struct sockaddr_storage ss;
  socklen_t len = bench_make_addr (host, port, &ss);
  int fd = socket (ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  const struct timeval tv = { .tv_usec = 300000 };
  char b = 'p';
  int ok = -1;

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &ss, len) == 0 && write (fd, &b, 1) == 1
      && read (fd, &b, 1) == 1 && b == 'p')
    ok = 0;
  close (fd);
  return ok;
}

static int
probe (const char *host, const char *proto, double seconds, const char *list)
{
  int udp = strcmp (proto, "udp") == 0;
  double end = bench_now () + seconds, done = 0;
  int *ports = NULL, n = 0, ok = 0, failed = 0;
  char *copy = strdup (list), *save = NULL;

  if (copy == NULL || (!udp && strcmp (proto, "tcp") != 0))
    return 2;
  for (char *t = strtok_r (copy, ",", &save); t != NULL; t = strtok_r (NULL, ",", &save))
    {
      int *grown = realloc (ports, (size_t) (n + 1) * sizeof *ports);
      if (grown == NULL)
        return 1;
      ports = grown;
      ports[n++] = atoi (t);
    }
  free (copy);
  for (int i = 0; i < n; i++)
    {
      int answered = 0;
      for (;;)
        {
          if (probe_once (host, ports[i], udp) == 0)
            {
              answered = 1;
              break;
            }
          if (bench_now () > end)
            break;
          usleep (20000);
        }
      if (!answered)
        {
          failed++;
          fprintf (stderr, "scaleload probe: %s port %d did not answer\n", proto, ports[i]);
          continue;
        }
      ok++;
      done = bench_now ();
    }
  printf ("ok %d failed %d done_mono %.6f\n", ok, failed, done);
  free (ports);
  return failed > 0 ? 1 : 0;
}

/* ------------------------------------------------------------ echo-load */

typedef struct {
  int fd;
  int state;      /* 0 connecting, 1 checking, 2 idle, 3 waiting for an echo, -1 lost */
  int got;        /* bytes of the outstanding echo received */
  double sent_at; /* when the outstanding message went out */
} Conn;

typedef struct {
  Conn *conns;
  long count, established, connect_failed, lost, msgs, late, connecting, next_connect;
  unsigned *hist;
  double sum_us, max_us;
  int ep, len;
  char msg[MAX_LEN];
  struct sockaddr_storage ss;
  socklen_t sslen;
} Load;

static void
lose (Load *ld, Conn *c)
{
  if (c->state == 0)
    {
      ld->connect_failed++;
      ld->connecting--;
    }
  else if (c->state > 0)
    ld->lost++;
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  c->state = -1;
}

static void
record (Load *ld, double us)
{
  long b = (long) us;

  ld->hist[b < HIST_BUCKETS - 1 ? b : HIST_BUCKETS - 1]++;
  ld->sum_us += us;
  if (us > ld->max_us)
    ld->max_us = us;
  ld->msgs++;
}

/* send_msg() - send the message on @c (idle or just connected) and start its clock. */
static void
send_msg (Load *ld, Conn *c, int next_state)
{
  c->got = 0;
  c->sent_at = bench_now ();
  if (write_all (c->fd, ld->msg, (size_t) ld->len) < 0)
    {
      lose (ld, c);
      return;
    }
  c->state = next_state;
}

static void
start_connects (Load *ld)
{
  const int one = 1;

  while (ld->connecting < MAX_CONNECTING && ld->next_connect < ld->count)
    {
      Conn *c = &ld->conns[ld->next_connect];
      c->fd = socket (ld->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      c->state = 0;
      ld->connecting++;
      if (c->fd < 0)
        {
          lose (ld, c);
          ld->next_connect++;
          continue;
        }
      setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t) ld->next_connect };
      if ((connect (c->fd, (struct sockaddr *) &ld->ss, ld->sslen) < 0 && errno != EINPROGRESS)
          || epoll_ctl (ld->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        lose (ld, c);
      ld->next_connect++;
    }
}

/* conn_event() - readiness on connection @i. */
static void
conn_event (Load *ld, long i, uint32_t events, int timing)
{
  Conn *c = &ld->conns[i];
  char buf[MAX_LEN];

  if (c->state < 0)
    return;
  if (c->state == 0)
    {
      int err = 0;
      socklen_t el = sizeof err;
      struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t) i };
      if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0
          || (events & (EPOLLERR | EPOLLHUP)) || epoll_ctl (ld->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        {
          lose (ld, c);
          return;
        }
      ld->connecting--;
      send_msg (ld, c, 1);
      return;
    }
  ssize_t n = read (c->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0 || c->state == 2)
    {
      lose (ld, c); /* EOF, error, or bytes nobody asked for */
      return;
    }
  c->got += (int) n;
  if (c->got < ld->len)
    return;
  if (c->got > ld->len)
    {
      lose (ld, c);
      return;
    }
  if (c->state == 1)
    ld->established++;
  else if (timing)
    record (ld, (bench_now () - c->sent_at) * 1e6);
  c->state = 2;
}

/* pump() - handle the events that come within @seconds (waiting to the microsecond). */
static void
pump (Load *ld, double seconds, int timing)
{
  struct epoll_event evs[MAX_EVENTS];
  struct timespec ts = { 0, 0 };

  if (seconds > 0)
    {
      ts.tv_sec = (time_t) seconds;
      ts.tv_nsec = (long) ((seconds - (double) ts.tv_sec) * 1e9);
    }
  int n = epoll_pwait2 (ld->ep, evs, MAX_EVENTS, &ts, NULL);

  for (int i = 0; i < n; i++)
    conn_event (ld, (long) evs[i].data.u64, evs[i].events, timing);
}

/* connect_all() - open and check every connection, for up to 10 s + 1 ms per connection. */
static void
connect_all (Load *ld)
{
  double give_up = bench_now () + 10 + (double) ld->count / 1000;

  while (bench_now () < give_up)
    {
      start_connects (ld);
      if (ld->next_connect == ld->count && ld->established + ld->connect_failed + ld->lost
                                                == ld->count)
        break;
      pump (ld, 0.05, 0);
    }
  for (long i = 0; i < ld->count; i++)
    if (ld->conns[i].state == 0 || ld->conns[i].state == 1)
      {
        if (ld->conns[i].state == 1)
          ld->conns[i].state = 0; /* never answered its check: it was not established */
        ld->connecting++;
        lose (ld, &ld->conns[i]);
      }
}

/* run_rounds() - every live connection sends every @interval s, for @seconds, then drains. */
static void
run_rounds (Load *ld, double seconds, double interval)
{
  double t0 = bench_now (), end = t0 + seconds, step = interval / (double) ld->count;
  long slot = 0;

  while (bench_now () < end)
    {
      double due = t0 + (double) slot * step;
      while (due <= bench_now () && due < end)
        {
          Conn *c = &ld->conns[slot % ld->count];
          if (c->state == 2)
            send_msg (ld, c, 3);
          else if (c->state == 3)
            ld->late++;
          slot++;
          due = t0 + (double) slot * step;
        }
      pump (ld, due - bench_now (), 1);
    }
  double drain_end = bench_now () + DRAIN_SECONDS;
  long waiting = 1;
  while (waiting > 0 && bench_now () < drain_end)
    {
      pump (ld, 0.05, 1);
      waiting = 0;
      for (long i = 0; i < ld->count; i++)
        waiting += ld->conns[i].state == 3;
    }
  for (long i = 0; i < ld->count; i++)
    if (ld->conns[i].state == 3)
      lose (ld, &ld->conns[i]);
}

static int
echo_load (const char *host, int port, long count, double seconds, double interval_ms, int len)
{
  Load ld = { .count = count, .len = len };

  bench_raise_nofile ();
  if (count < 1 || len < 1 || len > MAX_LEN || interval_ms <= 0)
    {
      fprintf (stderr, "scaleload echo-load: bad arguments\n");
      return 2;
    }
  ld.conns = calloc ((size_t) count, sizeof *ld.conns);
  ld.hist = calloc (HIST_BUCKETS, sizeof *ld.hist);
  ld.ep = epoll_create1 (EPOLL_CLOEXEC);
  if (ld.conns == NULL || ld.hist == NULL || ld.ep < 0)
    return 1;
  memset (ld.msg, 'm', sizeof ld.msg);
  ld.sslen = bench_make_addr (host, port, &ld.ss);
  for (long i = 0; i < count; i++)
    ld.conns[i].fd = -1;
  connect_all (&ld);
  run_rounds (&ld, seconds, interval_ms / 1000.0);
  printf ("conns %ld established %ld connect_failed %ld lost %ld msgs %ld late %ld avg_us %.1f "
          "p50_us %.0f p99_us %.0f max_us %.0f\n",
          count, ld.established, ld.connect_failed, ld.lost, ld.msgs, ld.late,
          ld.msgs ? ld.sum_us / (double) ld.msgs : 0, bench_hist_pct (ld.hist, HIST_BUCKETS, ld.msgs, 50),
          bench_hist_pct (ld.hist, HIST_BUCKETS, ld.msgs, 99), ld.max_us);
  for (long i = 0; i < count; i++)
    if (ld.conns[i].fd >= 0)
      close (ld.conns[i].fd);
  free (ld.conns);
  free (ld.hist);
  return ld.lost > 0 || ld.established < count ? 1 : 0;
}

int
main (int argc, char **argv)
{
  if (argc == 7 && strcmp (argv[1], "range-server") == 0)
    return range_server (argv[2], atoi (argv[3]), atoi (argv[4]), argv[5], atof (argv[6]));
  if (argc == 6 && strcmp (argv[1], "probe") == 0)
    return probe (argv[2], argv[3], atof (argv[4]), argv[5]);
  if (argc == 8 && strcmp (argv[1], "echo-load") == 0)
    return echo_load (argv[2], atoi (argv[3]), atol (argv[4]), atof (argv[5]), atof (argv[6]),
                      atoi (argv[7]));
  fprintf (stderr, "usage: scaleload range-server ADDR LO HI tcp|udp|tcp,udp SECONDS\n"
                   "       scaleload probe ADDR tcp|udp SECONDS PORT[,PORT...]\n"
                   "       scaleload echo-load ADDR PORT COUNT SECONDS INTERVAL_MS LEN\n");
  return 2;
}
