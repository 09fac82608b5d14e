/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apirate: drive a rootlesskit-style port API (npte's or rootlesskit's api.sock) over its UNIX
 * socket with raw HTTP/1.1, for the scale benchmark (bench/scale.py).
 *
 *   apirate req SOCK METHOD PATH [BODY]
 *       one request on a new connection. Prints
 *         status N us X bytes N id N
 *       (bytes: the response body; id: the first "id" number in it, -1 if none), and on the
 *       next line the body itself if it is at most 4 KiB.
 *   apirate rate SOCK PAIRS_PER_S SECONDS LO HI close|keepalive
 *       add+remove pairs paced at PAIRS_PER_S for SECONDS: POST /v1/ports of
 *       {"proto":"tcp","parentIP":"127.0.0.1","parentPort":P,"childPort":P} (P cycles over
 *       LO..HI, explicit ports), which must answer 201 with an id, then DELETE /v1/ports/ID,
 *       which must answer 200. "close": a new connection per request, as a client process
 *       such as rootlessctl makes; "keepalive": one connection for all. If the server falls
 *       behind, requests go out back to back (the achieved rate is then below the asked one);
 *       PAIRS_PER_S 0 sends them back to back from the start (the most the server can do).
 *       Prints
 *         pairs N seconds S rate R failures N avg_us X p50_us X p99_us X max_us X
 *       over every request (adds and removes). Exit 1 on any failure.
 *   apirate bulk SOCK add|remove LO HI close|keepalive
 *       add: POST one single-port spec for each port LO..HI; remove: DELETE ids LO..HI. Prints
 *         requests N failures N seconds S first_id N last_id N p99_us X
 *
 * Every socket has 5 s send and receive timeouts; rate stops at SECONDS + 10 at the latest.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

int main (int argc, char **argv);

/* Latency histogram: 1 µs buckets up to 2 s, then one overflow bucket. */
#define HIST_BUCKETS 2000001
/* Failed requests described on stderr; the rest are only counted. */
#define MAX_ERROR_LINES 10

static long error_lines;

typedef struct {
  const char *path;
  int keepalive;
  int fd;          /* the kept-alive connection, or -1 */
  char *buf;       /* response buffer */
  size_t cap, len; /* its size and the bytes in it */
  size_t body_off; /* where the body of the last response starts */
  size_t body_len;
} Client;

typedef struct {
  unsigned *hist;
  long n;
  double sum_us, max_us;
} Stats;

static int
dial (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  const struct timeval tv = { .tv_sec = 5 };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0 || strlen (path) >= sizeof sa.sun_path)
    return -1;
  strcpy (sa.sun_path, path);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* fill() - read more into cl->buf; bytes read, 0 at EOF, -1 on error. */
static ssize_t
fill (Client *cl, int fd)
{
  if (cl->cap - cl->len < 65536)
    {
      size_t cap = cl->cap ? cl->cap * 2 : 262144;
      char *b = realloc (cl->buf, cap);
      if (b == NULL)
        return -1;
      cl->buf = b;
      cl->cap = cap;
    }
  ssize_t n = read (fd, cl->buf + cl->len, cl->cap - cl->len - 1);
  if (n > 0)
    cl->len += (size_t) n;
  return n;
}

/* header_value() - the value of header @name in the head @head (NUL-terminated), or NULL. */
static const char *
header_value (const char *head, const char *name)
{
  size_t nl = strlen (name);

  for (const char *p = strstr (head, "\r\n"); p != NULL; p = strstr (p + 2, "\r\n"))
    if (strncasecmp (p + 2, name, nl) == 0 && p[2 + nl] == ':')
      return p + 3 + nl;
  return NULL;
}

/*
 * request() - one request and its whole response; the HTTP status, or -1.
 * The body is at cl->buf + cl->body_off, cl->body_len bytes (NUL-terminated).
 */
static int
request (Client *cl, const char *method, const char *path, const char *body)
{
  char head[512];
  size_t blen = body ? strlen (body) : 0;
  int fd = cl->keepalive ? cl->fd : -1;
  int hl = snprintf (head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: localhost\r\n%s%sContent-Length: %zu\r\n\r\n",
                     method, path, cl->keepalive ? "" : "Connection: close\r\n",
                     body ? "Content-Type: application/json\r\n" : "", blen);

  if (fd < 0 && (fd = dial (cl->path)) < 0)
    return -1;
  if (cl->keepalive)
    cl->fd = fd;
  cl->len = 0;
  int status = -1;
  if (write (fd, head, (size_t) hl) != hl || (blen && write (fd, body, blen) != (ssize_t) blen))
    goto out;
  char *end = NULL;
  while (end == NULL)
    {
      if (fill (cl, fd) <= 0)
        goto out;
      cl->buf[cl->len] = '\0';
      end = strstr (cl->buf, "\r\n\r\n");
    }
  *end = '\0';
  cl->body_off = (size_t) (end + 4 - cl->buf);
  const char *cls = header_value (cl->buf, "Content-Length");
  if (strncmp (cl->buf, "HTTP/1.", 7) != 0 || strlen (cl->buf) < 12)
    goto out;
  if (cls != NULL)
    {
      size_t want = cl->body_off + strtoul (cls, NULL, 10);
      while (cl->len < want)
        if (fill (cl, fd) <= 0)
          goto out;
    }
  else if (cl->keepalive)
    goto out; /* a chunked answer: only the close mode reads those (to EOF) */
  else
    while (fill (cl, fd) > 0)
      ;
  cl->buf[cl->len] = '\0';
  cl->body_len = cl->len - cl->body_off;
  status = atoi (cl->buf + 9);
out:
  if (!cl->keepalive || status < 0)
    {
      close (fd);
      cl->fd = -1;
    }
  return status;
}

/* body_id() - the first "id" number in the last response body, or -1. */
static long
body_id (const Client *cl)
{
  const char *p = strstr (cl->buf + cl->body_off, "\"id\"");

  if (p == NULL)
    return -1;
  p += 4;
  while (*p == ' ' || *p == ':')
    p++;
  return isdigit ((unsigned char) *p) ? strtol (p, NULL, 10) : -1;
}

static void
stats_add (Stats *st, double us)
{
  long b = (long) us;

  st->hist[b < HIST_BUCKETS - 1 ? b : HIST_BUCKETS - 1]++;
  st->n++;
  st->sum_us += us;
  if (us > st->max_us)
    st->max_us = us;
}

static double
stats_pct (const Stats *st, double pct)
{
  return bench_hist_pct (st->hist, HIST_BUCKETS, st->n, pct);
}

/* timed() - request() timed into @st; the status. */
static int
timed (Client *cl, Stats *st, const char *method, const char *path, const char *body)
{
  double t0 = bench_now ();
  int status = request (cl, method, path, body);

  stats_add (st, (bench_now () - t0) * 1e6);
  return status;
}

/* add_port() - POST a single-port spec for @port; its id, or -1 (reported on stderr). */
static long
add_port (Client *cl, Stats *st, int port)
{
  char body[160];

  snprintf (body, sizeof body,
            "{\"proto\":\"tcp\",\"parentIP\":\"127.0.0.1\",\"parentPort\":%d,\"childPort\":%d}",
            port, port);
  int status = timed (cl, st, "POST", "/v1/ports", body);
  long id = status == 201 ? body_id (cl) : -1;
  if (id < 0 && error_lines++ < MAX_ERROR_LINES)
    fprintf (stderr, "apirate: POST port %d: status %d %.200s\n", port, status,
             status > 0 ? cl->buf + cl->body_off : "(no answer)");
  return id;
}

static int
remove_id (Client *cl, Stats *st, long id)
{
  char path[64];

  snprintf (path, sizeof path, "/v1/ports/%ld", id);
  int status = timed (cl, st, "DELETE", path, NULL);
  if (status != 200 && error_lines++ < MAX_ERROR_LINES)
    fprintf (stderr, "apirate: DELETE id %ld: status %d %.200s\n", id, status,
             status > 0 ? cl->buf + cl->body_off : "(no answer)");
  return status == 200 ? 0 : -1;
}

static int
one_request (Client *cl, const char *method, const char *path, const char *body)
{
  double t0 = bench_now ();
  int status = request (cl, method, path, body);
  double us = (bench_now () - t0) * 1e6;

  printf ("status %d us %.0f bytes %zu id %ld\n", status, us, status > 0 ? cl->body_len : 0,
          status > 0 ? body_id (cl) : -1L);
  if (status > 0 && cl->body_len <= 4096)
    printf ("%s\n", cl->buf + cl->body_off);
  if (status >= 400)
    fprintf (stderr, "apirate: %s %s: %.300s\n", method, path, cl->buf + cl->body_off);
  return status >= 200 && status < 300 ? 0 : 1;
}

static int
rate (Client *cl, Stats *st, double per_s, double seconds, int lo, int hi)
{
  double t0 = bench_now (), hard_end = t0 + seconds + 10;
  long pairs = 0, failures = 0;

  while (bench_now () < t0 + seconds && bench_now () < hard_end)
    {
      double due = per_s > 0 ? t0 + (double) pairs / per_s : 0;
      double wait = due - bench_now ();
      if (wait > 0)
        {
          struct timespec ts = { (time_t) wait, (long) ((wait - (double) (time_t) wait) * 1e9) };
          nanosleep (&ts, NULL);
        }
      long id = add_port (cl, st, lo + (int) (pairs % (hi - lo + 1)));
      if (id < 0 || remove_id (cl, st, id) < 0)
        failures++;
      pairs++;
    }
  double el = bench_now () - t0;
  printf ("pairs %ld seconds %.3f rate %.1f failures %ld avg_us %.1f p50_us %.0f p99_us %.0f "
          "max_us %.0f\n",
          pairs, el, (double) pairs / el, failures, st->n ? st->sum_us / (double) st->n : 0,
          stats_pct (st, 50), stats_pct (st, 99), st->max_us);
  return failures > 0 ? 1 : 0;
}

static int
bulk (Client *cl, Stats *st, const char *what, long lo, long hi)
{
  int add = strcmp (what, "add") == 0;
  long failures = 0, first = -1, last = -1;
  double t0 = bench_now ();

  if (!add && strcmp (what, "remove") != 0)
    return 2;
  for (long i = lo; i <= hi; i++)
    {
      if (add)
        {
          long id = add_port (cl, st, (int) i);
          if (id < 0)
            failures++;
          else
            {
              first = first < 0 ? id : first;
              last = id;
            }
        }
      else if (remove_id (cl, st, i) < 0)
        failures++;
    }
  printf ("requests %ld failures %ld seconds %.3f first_id %ld last_id %ld p99_us %.0f\n",
          hi - lo + 1, failures, bench_now () - t0, first, last, stats_pct (st, 99));
  return failures > 0 ? 1 : 0;
}

int
main (int argc, char **argv)
{
  Client cl = { .fd = -1 };
  Stats st = { 0 };
  int rc = 2;

  if (argc < 3)
    goto usage;
  cl.path = argv[2];
  if ((argc == 5 || argc == 6) && strcmp (argv[1], "req") == 0)
    return one_request (&cl, argv[3], argv[4], argc == 6 ? argv[5] : NULL);
  st.hist = calloc (HIST_BUCKETS, sizeof *st.hist);
  if (st.hist == NULL)
    return 1;
  if (argc == 8 && strcmp (argv[1], "rate") == 0)
    {
      cl.keepalive = strcmp (argv[7], "keepalive") == 0;
      if (atof (argv[3]) >= 0 && atoi (argv[5]) > 0 && atoi (argv[6]) >= atoi (argv[5]))
        rc = rate (&cl, &st, atof (argv[3]), atof (argv[4]), atoi (argv[5]), atoi (argv[6]));
    }
  else if (argc == 7 && strcmp (argv[1], "bulk") == 0)
    {
      cl.keepalive = strcmp (argv[6], "keepalive") == 0;
      rc = bulk (&cl, &st, argv[3], atol (argv[4]), atol (argv[5]));
    }
  free (st.hist);
  free (cl.buf);
  if (rc != 2)
    return rc;
usage:
  fprintf (stderr, "usage: apirate req SOCK METHOD PATH [BODY]\n"
                   "       apirate rate SOCK PAIRS_PER_S SECONDS LO HI close|keepalive\n"
                   "       apirate bulk SOCK add|remove LO HI close|keepalive\n");
  return 2;
}
