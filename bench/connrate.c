/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connrate: a bounded connection-rate benchmark pair.
 *   connrate server ADDR PORT SECONDS   accept; read 1 byte; write 1 byte; close (for SECONDS)
 *   connrate client ADDR PORT COUNT     COUNT sequential connect/1-byte request/1-byte reply/close
 * The client prints "first1000 <conn/s> last10pct <conn/s> total <conn/s>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main (int argc, char **argv);

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static socklen_t
make_addr (const char *host, int port, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (strchr (host, ':') != NULL)
    {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((uint16_t) port);
      inet_pton (AF_INET6, host, &s6->sin6_addr);
      return sizeof *s6;
    }
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons ((uint16_t) port);
  inet_pton (AF_INET, host, &s4->sin_addr);
  return sizeof *s4;
}

static int
server (const char *host, int port, double seconds)
{
  struct sockaddr_storage ss;
  socklen_t len = make_addr (host, port, &ss);
  int one = 1;
  int l = socket (ss.ss_family, SOCK_STREAM, 0);
  double end = now () + seconds;

  setsockopt (l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (l, (struct sockaddr *) &ss, len) < 0 || listen (l, 4096) < 0)
    {
      perror ("connrate server: bind/listen");
      return 1;
    }
  while (now () < end)
    {
      struct pollfd pfd = { .fd = l, .events = POLLIN };
      if (poll (&pfd, 1, 200) <= 0)
        continue;
      int c = accept (l, NULL, NULL);
      if (c < 0)
        continue;
      char b;
      struct pollfd cp = { .fd = c, .events = POLLIN };
      if (poll (&cp, 1, 2000) > 0 && read (c, &b, 1) == 1)
        {
          ssize_t w = write (c, &b, 1);
          (void) w;
        }
      close (c);
    }
  return 0;
}

static int
client (const char *host, int port, long count)
{
  struct sockaddr_storage ss;
  socklen_t len = make_addr (host, port, &ss);
  double t0 = now (), t1000 = 0, tlast = 0;
  long tail_start = count - count / 10, failures = 0;

  for (long i = 0; i < count; i++)
    {
      if (i == tail_start)
        tlast = now ();
      int s = socket (ss.ss_family, SOCK_STREAM, 0);
      int one = 1;
      char b = 'x';
      setsockopt (s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect (s, (struct sockaddr *) &ss, len) < 0 || write (s, &b, 1) != 1
          || read (s, &b, 1) != 1)
        failures++;
      close (s);
      if (i + 1 == 1000)
        t1000 = now ();
    }
  double t = now ();
  printf ("first1000 %.0f last10pct %.0f total %.0f failures %ld\n",
          t1000 > 0 ? 1000 / (t1000 - t0) : 0, count / 10 / (t - tlast), count / (t - t0),
          failures);
  return failures > count / 100 ? 1 : 0;
}

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "server") == 0)
    return server (argv[2], atoi (argv[3]), atof (argv[4]));
  if (argc == 5 && strcmp (argv[1], "client") == 0)
    return client (argv[2], atoi (argv[3]), atol (argv[4]));
  fprintf (stderr, "usage: connrate server ADDR PORT SECONDS | client ADDR PORT COUNT\n");
  return 2;
}
