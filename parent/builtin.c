/* SPDX-License-Identifier: Apache-2.0 */
#include "builtin-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

/* Bytes per splice pipe; a failing F_SETPIPE_SZ keeps the default. */
#define BUILTIN_PIPE_SIZE (256 * 1024)
/* Empty pipes kept for reuse by new connections. */
#define BUILTIN_SPARE_PIPES 1024

static const char *const builtin_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };

gboolean
builtin_pipe_get (Builtin *b, BuiltinPipe *p)
{
  int fds[2];

  if (b->spare_pipes->len > 0)
    {
      *p = g_array_index (b->spare_pipes, BuiltinPipe, b->spare_pipes->len - 1);
      g_array_set_size (b->spare_pipes, b->spare_pipes->len - 1);
      return TRUE;
    }
  if (pipe2 (fds, O_NONBLOCK | O_CLOEXEC) < 0)
    return FALSE;
  if (fcntl (fds[1], F_SETPIPE_SZ, b->pipe_size) < 0 && b->pipe_size > 65536)
    {
      /* Over the per-user pipe budget: fall back to the default size from now on. */
      npte_debug ("F_SETPIPE_SZ %d: %s; using 64 KiB pipes", b->pipe_size, g_strerror (errno));
      b->pipe_size = 65536;
    }
  p->rfd = fds[0];
  p->wfd = fds[1];
  return TRUE;
}

void
builtin_pipe_put (Builtin *b, BuiltinPipe *p, gboolean empty)
{
  if (p->rfd < 0)
    return;
  if (empty && b->spare_pipes->len < BUILTIN_SPARE_PIPES)
    g_array_append_val (b->spare_pipes, *p);
  else
    {
      close (p->rfd);
      close (p->wfd);
    }
  p->rfd = p->wfd = -1;
}

int
builtin_listen (PortEntry *entry, GError **error)
{
  PortListenPlan plan;
  char addr[NPTE_SOCKADDR_STRLEN];
  const int one = 1;

  portspec_listen_plan (&entry->spec, &plan);
  npte_sockaddr_format ((struct sockaddr *) &plan.addr, addr);
  npte_autofd int fd = socket (plan.family, plan.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      npte_set_errno (error, errno, "socket for %s", addr);
      return -1;
    }
  if (plan.family == AF_INET6)
    {
      const int v6only = plan.v6only ? 1 : 0;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
  if (plan.socktype == SOCK_STREAM)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &plan.addr, plan.addrlen) < 0)
    {
      portmgr_bind_error (&entry->spec, errno, addr, error);
      return -1;
    }
  if (plan.socktype == SOCK_STREAM && listen (fd, 4096) < 0)
    {
      npte_set_errno (error, errno, "listen on %s", addr);
      return -1;
    }
  if (entry->spec.parent_port == 0)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
        {
          npte_set_errno (error, errno, "getsockname");
          return -1;
        }
      entry->spec.parent_port = ntohs (ss.ss_family == AF_INET6
                                           ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                           : ((struct sockaddr_in *) &ss)->sin_port);
    }
  return npte_steal_fd (&fd);
}

/**
 * unmap_v4() - a v4-mapped IPv6 address as plain IPv4, in place
 * @ss: address
 */
static void
unmap_v4 (struct sockaddr_storage *ss)
{
  const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) ss;

  if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&s6->sin6_addr))
    {
      struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = s6->sin6_port };
      memcpy (&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
      memset (ss, 0, sizeof *ss);
      memcpy (ss, &s4, sizeof s4);
    }
}

/* sockaddr_is_loopback() - 127.0.0.0/8 or ::1. */
static gboolean
sockaddr_is_loopback (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return (ntohl (((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
  return ss->ss_family == AF_INET6
         && IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) ss)->sin6_addr);
}

/* same_ip() - whether two addresses of one family have the same IP. */
static gboolean
same_ip (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *) a)->sin_addr.s_addr
           == ((const struct sockaddr_in *) b)->sin_addr.s_addr;
  return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
                 &((const struct sockaddr_in6 *) b)->sin6_addr, 16)
         == 0;
}

void
builtin_preserve_source (Builtin *b, int fd, const struct sockaddr_storage *client,
                         const struct sockaddr_storage *target)
{
  struct sockaddr_storage c = *client;
  const int one = 1;

  if (!b->config.preserve_source)
    return;
  unmap_v4 (&c);
  if (c.ss_family != target->ss_family || !sockaddr_is_loopback (target) || same_ip (&c, target))
    return;
  socklen_t len = c.ss_family == AF_INET6 ? sizeof (struct sockaddr_in6)
                                          : sizeof (struct sockaddr_in);
  if (!sockaddr_is_loopback (&c))
    {
      int r = c.ss_family == AF_INET6
                  ? setsockopt (fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
                  : setsockopt (fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
      if (r < 0)
        {
          if (!b->transparent_failed)
            npte_warn ("IP_TRANSPARENT: %s; servers see connections from loopback",
                       g_strerror (errno));
          b->transparent_failed = TRUE;
          return;
        }
    }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &c, len) == 0)
    return;
  /* The client's port is taken inside (TIME_WAIT, a listener): keep its address. */
  if (c.ss_family == AF_INET6)
    ((struct sockaddr_in6 *) &c)->sin6_port = 0;
  else
    ((struct sockaddr_in *) &c)->sin_port = 0;
  if (bind (fd, (struct sockaddr *) &c, len) < 0)
    npte_debug ("bind to the client address: %s", g_strerror (errno));
}

static gboolean
builtin_open (gpointer driver, PortEntry *entry, GError **error)
{
  Builtin *b = driver;

  if (portproto_is_tcp (entry->spec.proto))
    return builtin_tcp_open (b, entry, error);
  if (portproto_is_udp (entry->spec.proto))
    return builtin_udp_open (b, entry, error);
  return npte_set_error (error, EPROTONOSUPPORT, "unsupported port protocol %s",
                         portproto_to_string (entry->spec.proto));
}

static void
builtin_close (gpointer driver, PortEntry *entry)
{
  Builtin *b = driver;

  if (portproto_is_tcp (entry->spec.proto))
    builtin_tcp_close (b, entry);
  else if (portproto_is_udp (entry->spec.proto))
    builtin_udp_close (b, entry);
}

const PortDriverOps builtin_ops = {
  .name = "builtin",
  .protos = builtin_protos,
  .disallow_loopback_child_ip = FALSE,
  .open = builtin_open,
  .close = builtin_close,
};

Builtin *
builtin_new (struct ev_loop *loop, NsPool *pool, const BuiltinConfig *config)
{
  Builtin *b = g_new0 (Builtin, 1);

  b->loop = loop;
  b->pool = pool;
  b->config.udp_max_flows = BUILTIN_UDP_MAX_FLOWS_DEFAULT;
  b->config.udp_idle_timeout = BUILTIN_UDP_IDLE_TIMEOUT_DEFAULT;
  if (config != NULL)
    b->config = *config;
  b->spare_pipes = g_array_new (FALSE, FALSE, sizeof (BuiltinPipe));
  b->pipe_size = BUILTIN_PIPE_SIZE;
  return b;
}

void
builtin_free (Builtin *b)
{
  if (b == NULL)
    return;
  for (guint i = 0; i < b->spare_pipes->len; i++)
    {
      BuiltinPipe *p = &g_array_index (b->spare_pipes, BuiltinPipe, i);
      close (p->rfd);
      close (p->wfd);
    }
  g_array_unref (b->spare_pipes);
  g_free (b->udp_bufs);
  g_free (b);
}
