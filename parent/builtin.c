/* SPDX-License-Identifier: Apache-2.0 */
#include "builtin-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

/* Bytes per splice pipe; a failing F_SETPIPE_SZ keeps the default. */
#define BUILTIN_PIPE_SIZE (256 * 1024)
/* Bytes per pipe of a bulk flow (builtin_pipe_grow()): the default fs.pipe-max-size. */
#define BUILTIN_BULK_PIPE_SIZE (1024 * 1024)
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
      b->bulk_pipe_size = 0;
    }
  p->rfd = fds[0];
  p->wfd = fds[1];
  p->size = b->pipe_size;
  return TRUE;
}

gboolean
builtin_pipe_grow (Builtin *b, BuiltinPipe *p)
{
  if (b->bulk_pipe_size <= p->size)
    return FALSE;
  int got = fcntl (p->wfd, F_SETPIPE_SZ, b->bulk_pipe_size);
  if (got < 0)
    {
      npte_debug ("F_SETPIPE_SZ %d: %s; bulk flows keep %d-byte pipes", b->bulk_pipe_size,
                  g_strerror (errno), p->size);
      b->bulk_pipe_size = 0;
      return FALSE;
    }
  p->size = got;
  return TRUE;
}

void
builtin_pipe_put (Builtin *b, BuiltinPipe *p, gboolean empty)
{
  if (p->rfd < 0)
    return;
  /* Spares are of the normal size: a bulk pipe shrinks back (it is empty) or goes. */
  if (empty && p->size > b->pipe_size)
    {
      int got = fcntl (p->wfd, F_SETPIPE_SZ, b->pipe_size);
      empty = got > 0;
      if (got > 0)
        p->size = got;
    }
  if (empty && b->spare_pipes->len < BUILTIN_SPARE_PIPES)
    g_array_append_val (b->spare_pipes, *p);
  else
    {
      close (p->rfd);
      close (p->wfd);
    }
  p->rfd = p->wfd = -1;
}

void
builtin_udp_rcvbuf (int fd)
{
  const int size = PROTO_UDP_RCVBUF;

  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

int
builtin_bind_plan (PortEntry *entry, const PortListenPlan *plan, int fd_in, gboolean fill_port,
                   GError **error)
{
  char addr[NPTE_SOCKADDR_STRLEN];
  const int one = 1;
  npte_autofd int fd = fd_in;

  npte_sockaddr_format ((const struct sockaddr *) &plan->addr, addr);
  if (fd < 0)
    fd = socket (plan->family, plan->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      npte_set_errno (error, errno, "socket for %s", addr);
      return -1;
    }
  if (plan->family == AF_INET6)
    {
      const int v6only = plan->v6only ? 1 : 0;
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
  if (plan->socktype == SOCK_STREAM)
    {
      setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      /* Accepted connections inherit it: no setsockopt() per connection. */
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  else
    builtin_udp_rcvbuf (fd);
  if (bind (fd, (const struct sockaddr *) &plan->addr, plan->addrlen) < 0)
    {
      int errsv = errno;
      if (entry->spec.reverse)
        npte_set_errno (error, errsv, "bind %s/%s inside the namespace", addr,
                        portproto_to_string (entry->spec.proto));
      else
        {
          /* The message names the port of the range that failed. */
          PortSpec failed = entry->spec;
          failed.parent_port = ntohs (plan->family == AF_INET6
                                       ? ((const struct sockaddr_in6 *) &plan->addr)->sin6_port
                                       : ((const struct sockaddr_in *) &plan->addr)->sin_port);
          failed.count = 1;
          portmgr_bind_error (&failed, errsv, addr, error);
        }
      return -1;
    }
  if (plan->socktype == SOCK_STREAM && listen (fd, 4096) < 0)
    {
      npte_set_errno (error, errno, "listen on %s", addr);
      return -1;
    }
  if (fill_port)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
        {
          npte_set_errno (error, errno, "getsockname");
          return -1;
        }
      int port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                 : ((struct sockaddr_in *) &ss)->sin_port);
      if (entry->spec.reverse)
        entry->spec.child_port = port;
      else
        entry->spec.parent_port = port;
    }
  return npte_steal_fd (&fd);
}

/**
 * count_open_fds() - how many fds this process has open now
 *
 * Return: the count (from /proc/self/fd), or 0 if unknown.
 */
static guint
count_open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  struct rlimit rl;
  guint n = 0;

  if (dir != NULL)
    {
      while (g_dir_read_name (dir) != NULL)
        n++;
      return n;
    }
  /* No /proc (the sandbox): probe the fd table, bounded by the soft limit. */
  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return 0;
  const int top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576 ? 1048576
                                                                        : (int) rl.rlim_cur;
  for (int fd = 0; fd < top; fd++)
    if (fcntl (fd, F_GETFD) >= 0)
      n++;
  return n;
}

/**
 * check_fd_budget() - fail at once when a port would need more fds than are left
 * @entry: the port
 * @listeners: how many listening sockets it needs
 * @error: EMFILE naming the limit, the need and how to raise it
 *
 * Return: TRUE if there is room (with a margin for flows and the API).
 */
static gboolean
check_fd_budget (const PortEntry *entry, guint listeners, GError **error)
{
  struct rlimit rl;
  const guint margin = 256;

  if (listeners < 64 || getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
    return TRUE;
  guint open_now = count_open_fds ();
  if ((guint64) open_now + listeners + margin <= rl.rlim_cur)
    return TRUE;
  return npte_set_error (error, EMFILE,
                         "port %d needs %u file descriptors (one per port of the range) but only "
                         "%" G_GUINT64_FORMAT " of the limit of %" G_GUINT64_FORMAT
                         " are free (RLIMIT_NOFILE soft %" G_GUINT64_FORMAT ", hard %"
                         G_GUINT64_FORMAT "); raise the limit (ulimit -Hn, or LimitNOFILE= in a "
                         "systemd unit) or publish a smaller range",
                         entry->id, listeners,
                         (guint64) rl.rlim_cur > open_now + margin
                             ? (guint64) rl.rlim_cur - open_now - margin : 0,
                         (guint64) rl.rlim_cur, (guint64) rl.rlim_cur, (guint64) rl.rlim_max);
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

/**
 * listener_new() - one listener of @entry, TCP or UDP by its proto
 * @b: driver
 * @entry: the port
 * @lfd: bound socket (consumed)
 * @target: where its flows connect
 * @len: length of @target
 *
 * Return: (transfer full) the listener.
 */
static gpointer
listener_new (Builtin *b, PortEntry *entry, int lfd, const struct sockaddr_storage *target,
              socklen_t len)
{
  if (portproto_is_tcp (entry->spec.proto))
    return builtin_tcp_listener_new (b, entry, lfd, entry->spec.reverse, target, len);
  return builtin_udp_listener_new (b, entry, lfd, entry->spec.reverse, target, len);
}

/**
 * open_reverse_at() - the namespace listeners of port @index of a reverse spec
 * @b: driver
 * @entry: the port
 * @index: port of the range
 * @out: listeners so far (appended to)
 * @error: EAGAIN when the namespace socket pool is empty, or a bind error
 *
 * The listening socket is a pooled namespace socket, bound and listened by
 * the parent: it stays in the namespace it was made in.
 *
 * Return: TRUE on success.
 */
static gboolean
open_reverse_at (Builtin *b, PortEntry *entry, int index, GPtrArray *out, GError **error)
{
  PortListenPlan plans[2];
  struct sockaddr_storage target;
  socklen_t len;
  int n = portspec_reverse_listen (&entry->spec, index, plans);

  portspec_reverse_target (&entry->spec, index, &target, &len);
  for (int i = 0; i < n; i++)
    {
      int fd = nspool_take_sync (b->pool, plans[i].family, plans[i].socktype, error);
      if (fd < 0)
        return FALSE;
      /* A child port 0 (auto) is filled by the first listener; the second uses it. */
      if (i > 0 && entry->spec.child_port > 0)
        portspec_reverse_listen (&entry->spec, index, plans);
      fd = builtin_bind_plan (entry, &plans[i], fd, entry->spec.child_port == 0, error);
      if (fd < 0)
        return FALSE;
      g_ptr_array_add (out, listener_new (b, entry, fd, &target, len));
    }
  return TRUE;
}

static void
free_listeners (Builtin *b, const PortEntry *entry, GPtrArray *ls)
{
  for (guint i = 0; i < ls->len; i++)
    {
      if (portproto_is_tcp (entry->spec.proto))
        builtin_tcp_listener_free (b, g_ptr_array_index (ls, i));
      else
        builtin_udp_listener_free (b, g_ptr_array_index (ls, i));
    }
  g_ptr_array_unref (ls);
}

static gboolean
builtin_open (gpointer driver, PortEntry *entry, GError **error)
{
  Builtin *b = driver;
  const int count = portspec_count (&entry->spec);
  GPtrArray *ls = g_ptr_array_sized_new ((guint) count);

  if (!portproto_is_tcp (entry->spec.proto) && !portproto_is_udp (entry->spec.proto))
    return npte_set_error (error, EPROTONOSUPPORT, "unsupported port protocol %s",
                           portproto_to_string (entry->spec.proto));
  if (!check_fd_budget (entry, (guint) count * (entry->spec.reverse ? 2u : 1u), error))
    goto fail;
  for (int i = 0; i < count; i++)
    {
      if (entry->spec.reverse)
        {
          if (!open_reverse_at (b, entry, i, ls, error))
            goto fail;
          continue;
        }
      PortListenPlan plan;
      struct sockaddr_storage target;
      socklen_t len;
      portspec_listen_plan_at (&entry->spec, i, &plan);
      portspec_child_target_at (&entry->spec, i, &target, &len);
      int fd = builtin_bind_plan (entry, &plan, -1, count == 1 && entry->spec.parent_port == 0,
                                  error);
      if (fd < 0)
        goto fail;
      g_ptr_array_add (ls, listener_new (b, entry, fd, &target, len));
    }
  entry->handle = ls;
  return TRUE;

fail:
  free_listeners (b, entry, ls);
  return FALSE;
}

static void
builtin_close (gpointer driver, PortEntry *entry)
{
  if (entry->handle != NULL)
    free_listeners (driver, entry, entry->handle);
  entry->handle = NULL;
}

const PortDriverOps builtin_ops = {
  .name = "builtin",
  .supports_reverse = TRUE,
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
  /*
   * Nothing is pooled up front: a forward prefills the kind it dials when it opens, and a
   * reverse port takes its namespace sockets with nspool_take_sync(). Four kinds of 64
   * idle sockets would cost every instance 256 fds and a millisecond at start and exit.
   */
  b->pipe_size = BUILTIN_PIPE_SIZE;
  b->bulk_pipe_size = BUILTIN_BULK_PIPE_SIZE;
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
