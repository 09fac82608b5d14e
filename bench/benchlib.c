/* SPDX-License-Identifier: Apache-2.0 */
#include "benchlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double
bench_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

socklen_t
bench_make_addr (const char *host, int port, struct sockaddr_storage *ss)
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

void
bench_raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

double
bench_hist_pct (const unsigned *hist, long buckets, long n, double pct)
{
  long want = (long) (pct / 100.0 * (double) n), seen = 0;

  for (long i = 0; i < buckets; i++)
    {
      seen += hist[i];
      if (seen > want)
        return (double) i;
    }
  return (double) (buckets - 1);
}
