/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "npte-error.h"

const char *
npte_sockaddr_format (const struct sockaddr *sa, char *buf)
{
  char ip[INET6_ADDRSTRLEN];

  if (sa->sa_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;
      inet_ntop (AF_INET, &sin->sin_addr, ip, sizeof ip);
      g_snprintf (buf, NPTE_SOCKADDR_STRLEN, "%s:%u", ip, ntohs (sin->sin_port));
    }
  else if (sa->sa_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;
      inet_ntop (AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
      g_snprintf (buf, NPTE_SOCKADDR_STRLEN, "[%s]:%u", ip, ntohs (sin6->sin6_port));
    }
  else
    g_snprintf (buf, NPTE_SOCKADDR_STRLEN, "(family %d)", sa->sa_family);
  return buf;
}

gboolean
npte_write_all (int fd, const void *buf, gsize len, GError **error)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return npte_set_errno (error, errno, "write to fd %d", fd);
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
npte_set_nonblock (int fd, GError **error)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags < 0 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return npte_set_errno (error, errno, "fcntl O_NONBLOCK on fd %d", fd);
  return TRUE;
}

gboolean
npte_parse_fd (const char *text, int *out, GError **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &v, NULL))
    return npte_set_error (error, EINVAL, "invalid fd number \"%s\"", text);
  if (fcntl ((int) v, F_GETFD) < 0)
    return npte_set_errno (error, errno, "fd %d", (int) v);
  *out = (int) v;
  return TRUE;
}

guint64
npte_raise_nofile (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return 1024;
  if (rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        getrlimit (RLIMIT_NOFILE, &rl);
    }
  return rl.rlim_cur;
}
