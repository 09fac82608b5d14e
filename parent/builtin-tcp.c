/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builtin TCP forwarding: accept on the host, connect a pooled namespace
 * socket to the target, then move bytes both ways with splice(2) through a
 * pipe per direction. Pipes are taken lazily (an idle connection holds
 * none) and reused. Back-pressure is natural: a full pipe stops reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "builtin-internal.h"
#include "log.h"
#include "npte-error.h"
#include "util.h"

/* Accept paused this long after EMFILE/ENFILE/ENOBUFS/ENOMEM. */
#define TCP_ACCEPT_BACKOFF 0.1
/* Seconds between two warnings about fd pressure on one port. */
#define PRESSURE_LOG_INTERVAL 10.0
/* Connections accepted per wake-up before other work gets a turn. */
#define TCP_ACCEPT_BATCH 128
/*
 * Pipes' worth of bytes one dir_move() call passes on before other work gets a
 * turn (256 KiB, or 1 MiB once a bulk flow's pipe grew): a bulk flow alone on
 * the loop could otherwise keep splicing for 100 ms and more while API requests
 * and other connections wait.
 */
#define TCP_MOVE_BUDGET_PIPES 1
/* A direction that filled its whole pipe this many times is bulk: its pipe grows. */
#define TCP_BULK_FILLS 2
/* A wake-up that moved at least this much is throughput-bound work (busypoll.h). */
#define TCP_BUSY_BULK_BYTES 65536

typedef struct TcpPort TcpPort;
typedef struct TcpConn TcpConn;

typedef struct {
  int src;
  int dst;
  BuiltinPipe pipe;
  gboolean moved_last;  /* this direction moved bytes more recently than the other */
  size_t pending;       /* bytes in the pipe */
  gboolean eof;         /* src sent FIN */
  gboolean shut;        /* FIN passed on to dst */
  guint fills;          /* reads that filled the whole pipe */
  gboolean bulk;        /* its pipe grew: kept until the connection ends */
  gboolean want_read;   /* wait for src to be readable */
  gboolean want_write;  /* wait for dst to be writable */
  guint64 *bytes;
} TcpDir;

/* What a connection needs only while it waits for a pooled socket (rare: the pool is empty). */
typedef struct {
  NsPoolWaiter waiter;
  struct sockaddr_storage client;
} TcpWait;

/* Kept small: 10 000 idle connections hold 10 000 of these (docs/performance.md). */
struct TcpConn {
  TcpPort *port;
  GList link;           /* in port->conns */
  int cfd;              /* host client */
  int nfd;              /* namespace side */
  TcpWait *wait;        /* while waiting for a pool socket, else NULL */
  ev_io cw;             /* cfd: up's reads, down's writes */
  ev_io nw;             /* nfd: down's reads, up's writes */
  TcpDir up;            /* client -> namespace */
  TcpDir down;          /* namespace -> client */
};

struct TcpPort {
  Builtin *b;
  PortEntry *entry;
  int lfd;
  ev_io accept_w;
  ev_timer backoff_w;
  gboolean announce;    /* a pressure warning was printed: say when accepting resumes */
  ev_tstamp last_warn;  /* pressure warnings: at most one per PRESSURE_LOG_INTERVAL */
  struct sockaddr_storage target;
  socklen_t target_len;
  gboolean reverse;     /* lfd is in the namespace; upstream sockets are made on the host */
  GQueue conns;
};

/**
 * set_linger0() - make close() send RST instead of FIN
 * @fd: a TCP socket
 */
static void
set_linger0 (int fd)
{
  const struct linger lg = { .l_onoff = 1, .l_linger = 0 };

  if (fd >= 0)
    setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/**
 * conn_close() - tear down one connection
 * @c: the connection (freed)
 * @reset: reset both ends (an error happened) rather than close them cleanly
 */
static void
conn_close (TcpConn *c, gboolean reset)
{
  TcpPort *port = c->port;
  struct ev_loop *loop = port->b->loop;

  if (c->wait != NULL)
    {
      nspool_cancel (port->b->pool, &c->wait->waiter);
      g_clear_pointer (&c->wait, g_free);
    }
  ev_io_stop (loop, &c->cw);
  ev_io_stop (loop, &c->nw);
  builtin_pipe_put (port->b, &c->up.pipe, c->up.pending == 0);
  builtin_pipe_put (port->b, &c->down.pipe, c->down.pending == 0);
  if (reset)
    {
      set_linger0 (c->cfd);
      set_linger0 (c->nfd);
    }
  npte_close_fdp (&c->cfd);
  npte_close_fdp (&c->nfd);
  g_queue_unlink (&port->conns, &c->link);
  port->entry->counters.conns_active--;
  g_free (c);
}

/**
 * conn_error() - count an error and reset the connection
 * @c: the connection (freed)
 * @what: what failed, for the debug log
 * @errsv: errno
 */
static void
conn_error (TcpConn *c, const char *what, int errsv)
{
  npte_debug ("port %d: %s: %s", c->port->entry->id, what, g_strerror (errsv));
  if (errsv != ECONNRESET && errsv != EPIPE)
    c->port->entry->counters.errors++;
  conn_close (c, TRUE);
}

/**
 * dir_move() - splice what can move now from src to the pipe to dst
 * @c: connection
 * @d: direction
 *
 * A short read means the source is drained and a short write that the
 * destination is full: neither is tried again in this call, which saves
 * the syscall that would only return EAGAIN (libev is level-triggered and
 * calls again when there is more). After TCP_MOVE_BUDGET_PIPES pipes' worth
 * of bytes the call also stops: dir_pump() leaves the read or write watcher
 * on, so the level-triggered loop comes back to this flow once every other
 * ready watcher had its turn.
 *
 * Return: 0 when nothing more can move now or the budget is spent, or an
 * errno on a fatal error.
 */
static int
dir_move (TcpConn *c, TcpDir *d)
{
  size_t cap = (size_t) d->pipe.size;
  size_t budget = cap * TCP_MOVE_BUDGET_PIPES;
  gboolean drained = FALSE; /* a read came back short: the source is empty for now */
  gboolean full = FALSE;    /* a write came back short: the destination is full */

  for (;;)
    {
      gboolean progress = FALSE;

      if (!d->eof && !drained && d->pending < cap)
        {
          const size_t want = cap - d->pending;
          ssize_t n = splice (d->src, NULL, d->pipe.wfd, NULL, want,
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n > 0)
            {
              d->pending += (size_t) n;
              progress = TRUE;
              drained = (size_t) n < want;
              if (d->pending == cap && ++d->fills >= TCP_BULK_FILLS && !d->bulk
                  && builtin_pipe_grow (c->port->b, &d->pipe))
                {
                  d->bulk = TRUE;
                  cap = (size_t) d->pipe.size;
                }
            }
          else if (n == 0)
            d->eof = TRUE, progress = TRUE;
          else if (errno == EAGAIN)
            drained = TRUE;
          else if (errno != EINTR)
            return errno;
        }
      if (d->pending > 0 && !full)
        {
          ssize_t m = splice (d->pipe.rfd, NULL, d->dst, NULL, d->pending,
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (m > 0)
            {
              d->pending -= (size_t) m;
              *d->bytes += (guint64) m;
              progress = TRUE;
              full = d->pending > 0;
              if ((size_t) m >= budget)
                return 0;
              budget -= (size_t) m;
            }
          else if (m < 0 && errno == EAGAIN)
            full = TRUE;
          else if (m < 0 && errno != EINTR)
            return errno;
        }
      if (!progress)
        return 0;
    }
}

static void conn_watch (TcpConn *c);

/**
 * dir_busy() - tell busy polling what one wake-up of @d moved
 * @c: connection
 * @d: direction
 * @moved: bytes it passed on
 *
 * A large move, or a direction whose pipe grew, is bulk. Small messages that take turns
 * (request, response, request...) are latency-bound: the next one is likely soon. Small
 * messages that keep going the same way are a stream: spinning between them would only take
 * CPU from the two ends. Wake-ups that moved nothing (a FIN, a connection completing) are
 * latency-bound too.
 */
static void
dir_busy (TcpConn *c, TcpDir *d, guint64 moved)
{
  BusyPoll *busy = c->port->b->config.busy;
  TcpDir *other = d == &c->up ? &c->down : &c->up;

  if (d->bulk || moved >= TCP_BUSY_BULK_BYTES || (moved > 0 && d->moved_last))
    busypoll_bulk (busy);
  else
    busypoll_kick (busy);
  if (moved > 0)
    {
      d->moved_last = TRUE;
      other->moved_last = FALSE;
    }
}

/**
 * dir_pump() - move data for one direction and set its watchers
 * @c: connection
 * @d: direction
 *
 * Reads only while the pipe is empty: a read that fails with EAGAIN on a
 * partly full pipe cannot tell "no data" from "no room", so with bytes
 * pending we wait for the destination instead (no busy loop).
 *
 * Return: FALSE if the connection was closed (do not touch @c).
 */
static gboolean
dir_pump (TcpConn *c, TcpDir *d)
{
  TcpDir *other = d == &c->up ? &c->down : &c->up;

  if (d->pipe.rfd < 0 && !d->eof)
    {
      if (!builtin_pipe_get (c->port->b, &d->pipe))
        {
          conn_error (c, "create pipe", errno);
          return FALSE;
        }
    }
  const guint64 before = *d->bytes;
  int err = dir_move (c, d);
  if (err != 0)
    {
      conn_error (c, "splice", err);
      return FALSE;
    }
  dir_busy (c, d, *d->bytes - before);
  /*
   * An empty pipe goes back to the spares, so idle connections hold none; a bulk flow keeps
   * its grown pipe (an empty pipe holds no pages, only its place in the user's pipe budget).
   */
  if (d->pending == 0 && !d->bulk)
    builtin_pipe_put (c->port->b, &d->pipe, TRUE);
  if (d->eof && d->pending == 0 && !d->shut)
    {
      /* The last direction to finish needs no FIN of its own: close() sends it. */
      if (!other->shut)
        shutdown (d->dst, SHUT_WR);
      d->shut = TRUE;
    }
  if (d->shut && other->shut)
    {
      conn_close (c, FALSE);
      return FALSE;
    }
  d->want_read = !d->eof && d->pending == 0;
  d->want_write = d->pending > 0;
  conn_watch (c);
  return TRUE;
}

/**
 * watch_fd() - (re)arm one fd's watcher for @events (0: stop it)
 * @loop: the loop
 * @w: the watcher
 * @fd: its fd (-1: not connected yet, nothing to watch)
 * @events: EV_READ and/or EV_WRITE
 */
static void
watch_fd (struct ev_loop *loop, ev_io *w, int fd, int events)
{
  if (fd < 0 || (ev_is_active (w) && (w->events & (EV_READ | EV_WRITE)) == events))
    return;
  ev_io_stop (loop, w);
  if (events == 0)
    return;
  ev_io_set (w, fd, events);
  ev_io_start (loop, w);
}

/**
 * conn_watch() - arm the two fds' watchers for what the two directions wait for
 * @c: connection
 *
 * One watcher per fd: the client's fd carries up's reads and down's writes, the namespace
 * socket down's reads and up's writes. libev merges watchers of one fd into one epoll entry
 * anyway; one each saves 96 bytes per connection.
 */
static void
conn_watch (TcpConn *c)
{
  struct ev_loop *loop = c->port->b->loop;

  watch_fd (loop, &c->cw, c->cfd,
            (c->up.want_read ? EV_READ : 0) | (c->down.want_write ? EV_WRITE : 0));
  watch_fd (loop, &c->nw, c->nfd,
            (c->down.want_read ? EV_READ : 0) | (c->up.want_write ? EV_WRITE : 0));
}

static void
client_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  TcpConn *c = w->data;

  if ((revents & EV_READ) && !dir_pump (c, &c->up))
    return;
  if (revents & EV_WRITE)
    dir_pump (c, &c->down);
}

static void
ns_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  TcpConn *c = w->data;

  if ((revents & EV_READ) && !dir_pump (c, &c->down))
    return;
  if (revents & EV_WRITE)
    dir_pump (c, &c->up);
}

/**
 * conn_start_relay() - the namespace side is connected: start moving bytes
 * @c: connection
 */
static void
conn_start_relay (TcpConn *c)
{
  c->down.want_read = TRUE;
  /* Clients often send their request with the connection: move it now, saving a wake-up. */
  dir_pump (c, &c->up);
}

/**
 * conn_connect() - an upstream socket for @c: connect it to the target and relay
 * @c: the connection
 * @fd: the socket (a pooled namespace socket, or a host socket for a reverse port), or -1
 *      when there is none
 * @client: the client's address (for source-address preservation)
 */
static void
conn_connect (TcpConn *c, int fd, const struct sockaddr_storage *client)
{
  if (fd < 0)
    {
      conn_error (c, "no namespace socket", EMFILE);
      return;
    }
  c->nfd = fd;
  /* TCP_NODELAY: the child sets it on every pooled stream socket (child.c). */
  if (!c->port->reverse)
    builtin_preserve_source (c->port->b, fd, client, &c->port->target);
  c->up.dst = c->down.src = fd;
  if (connect (fd, (struct sockaddr *) &c->port->target, c->port->target_len) < 0
      && errno != EINPROGRESS)
    {
      c->port->entry->counters.errors++;
      npte_debug ("port %d: connect: %s", c->port->entry->id, g_strerror (errno));
      conn_close (c, TRUE);
      return;
    }
  /*
   * Relay at once, without waiting for the connection: writes to it fail
   * with EAGAIN until it is established (then its write watcher fires),
   * and a refused connection shows up as a read error, counted and
   * passed on to the client as a reset.
   */
  conn_start_relay (c);
}

/**
 * conn_got_socket() - the pool's answer to a waiting connection
 * @user_data: the connection
 * @fd: the socket, or -1 when the pool failed
 */
static void
conn_got_socket (gpointer user_data, int fd)
{
  TcpConn *c = user_data;
  g_autofree TcpWait *w = g_steal_pointer (&c->wait);

  conn_connect (c, fd, &w->client);
}

/**
 * dir_init() - set up one direction's fds
 * @d: direction
 * @src: source fd (-1 until known)
 * @dst: destination fd (-1 until known)
 * @bytes: counter to add moved bytes to
 */
static void
dir_init (TcpDir *d, int src, int dst, guint64 *bytes)
{
  d->src = src;
  d->dst = dst;
  d->pipe.rfd = d->pipe.wfd = -1;
  d->bytes = bytes;
}

/**
 * conn_new() - take over an accepted client connection
 * @port: the port
 * @cfd: the accepted socket (non-blocking)
 * @client: its peer address
 */
static void
conn_new (TcpPort *port, int cfd, const struct sockaddr_storage *client)
{
  TcpConn *c = g_new0 (TcpConn, 1);
  int fd;

  /* TCP_NODELAY: inherited from the listener (builtin_bind_plan()). */
  c->port = port;
  c->cfd = cfd;
  c->nfd = -1;
  c->link.data = c;
  dir_init (&c->up, cfd, -1, &port->entry->counters.bytes_in);
  dir_init (&c->down, -1, cfd, &port->entry->counters.bytes_out);
  ev_io_init (&c->cw, client_cb, cfd, 0);
  ev_io_init (&c->nw, ns_cb, -1, 0);
  c->cw.data = c->nw.data = c;
  g_queue_push_tail_link (&port->conns, &c->link);
  port->entry->counters.conns_accepted++;
  port->entry->counters.conns_active++;

  if (port->reverse)
    {
      /* Namespace -> host: the upstream socket is an ordinary host socket. */
      const int one = 1;
      fd = socket (port->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        conn_error (c, "socket", errno);
      else
        {
          setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_connect (c, fd, client);
        }
      return;
    }
  fd = nspool_take (port->b->pool, port->target.ss_family, SOCK_STREAM);
  if (fd >= 0)
    conn_connect (c, fd, client);
  else
    {
      c->wait = g_new (TcpWait, 1);
      c->wait->client = *client;
      nspool_wait (port->b->pool, port->target.ss_family, SOCK_STREAM, &c->wait->waiter,
                   conn_got_socket, c);
    }
}

static void
backoff_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  TcpPort *port = w->data;

  ev_io_start (loop, &port->accept_w);
}

/**
 * accept_pressure() - out of fds or memory: pause accepting, never die
 * @port: the port
 * @errsv: errno of accept()
 *
 * Pending clients stay in the kernel's backlog and are served when the
 * pause ends. A storm logs one warning (and one line when it is over) per
 * PRESSURE_LOG_INTERVAL, not one per failed accept.
 */
static void
accept_pressure (TcpPort *port, int errsv)
{
  const ev_tstamp now = ev_now (port->b->loop);

  port->entry->counters.errors++;
  if (port->last_warn == 0 || now - port->last_warn >= PRESSURE_LOG_INTERVAL)
    {
      npte_warn ("port %d: accept: %s; pausing new connections for %d ms at a time until "
                 "resources free up",
                 port->entry->id, g_strerror (errsv), (int) (TCP_ACCEPT_BACKOFF * 1000));
      port->last_warn = now;
      port->announce = TRUE;
    }
  ev_io_stop (port->b->loop, &port->accept_w);
  ev_timer_set (&port->backoff_w, TCP_ACCEPT_BACKOFF, 0.);
  ev_timer_start (port->b->loop, &port->backoff_w);
}

static void
accept_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  TcpPort *port = w->data;

  busypoll_kick (port->b->config.busy);
  for (int i = 0; i < TCP_ACCEPT_BATCH; i++)
    {
      struct sockaddr_storage client;
      socklen_t len = sizeof client;
      int fd = accept4 (port->lfd, (struct sockaddr *) &client, &len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          int errsv = errno;
          if (errsv == EAGAIN || errsv == EINTR || errsv == ECONNABORTED)
            {
              if (errsv == EAGAIN)
                return;
              continue;
            }
          if (errsv == EMFILE || errsv == ENFILE || errsv == ENOBUFS || errsv == ENOMEM)
            accept_pressure (port, errsv);
          else
            {
              port->entry->counters.errors++;
              npte_debug ("port %d: accept: %s", port->entry->id, g_strerror (errsv));
            }
          return;
        }
      if (port->announce)
        {
          npte_info ("port %d: accepting connections again", port->entry->id);
          port->announce = FALSE;
        }
      conn_new (port, fd, &client);
    }
}

gpointer
builtin_tcp_listener_new (Builtin *b, PortEntry *entry, int lfd, gboolean reverse,
                          const struct sockaddr_storage *target, socklen_t target_len)
{
  TcpPort *port = g_new0 (TcpPort, 1);

  port->b = b;
  port->entry = entry;
  port->lfd = lfd;
  port->reverse = reverse;
  port->target = *target;
  port->target_len = target_len;
  g_queue_init (&port->conns);
  ev_io_init (&port->accept_w, accept_cb, lfd, EV_READ);
  port->accept_w.data = port;
  ev_timer_init (&port->backoff_w, backoff_cb, TCP_ACCEPT_BACKOFF, 0.);
  port->backoff_w.data = port;
  ev_io_start (b->loop, &port->accept_w);
  if (!reverse)
    nspool_prefill (b->pool, port->target.ss_family, SOCK_STREAM);
  return port;
}

void
builtin_tcp_listener_free (Builtin *b, gpointer listener)
{
  TcpPort *port = listener;

  ev_io_stop (b->loop, &port->accept_w);
  ev_timer_stop (b->loop, &port->backoff_w);
  close (port->lfd);
  while (port->conns.head != NULL)
    conn_close (port->conns.head->data, FALSE);
  g_free (port);
}
