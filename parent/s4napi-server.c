/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (the slirp4netns API socket)
 *
 * slirp4netns serves its API inline: accept(), one blocking read(), answer,
 * close, so one silent client stops its whole network. npte serves the
 * same protocol from the parent's libev loop without ever blocking:
 *
 *  1. The listening socket is non-blocking; up to S4N_ACCEPT_BATCH clients
 *     are accepted per wake-up, and at most S4N_MAX_CONNS are open at
 *     once: at the limit the listener is not watched (clients wait in the
 *     backlog). EMFILE and friends pause accepting briefly, logged once.
 *  2. A connection reads into a S4NAPI_MAX_REQUEST buffer. It is answered
 *     when the client shuts its side down (EOF), when the buffer is full
 *     ("too large message"), or as soon as the bytes are one whole JSON
 *     object (slirp4netns answers after one read, so clients that wait for
 *     the reply without shutting down work too).
 *  3. The reply is written without blocking, then the write side is shut
 *     down; further input is read and dropped until EOF (at most
 *     S4N_DRAIN_MAX bytes), so the client never sees a reset for bytes
 *     it sent after a "too large" request.
 *  4. Every connection has S4N_TIMEOUT seconds in all. At the deadline a
 *     partial request is answered (best effort, one write) and the
 *     connection is closed.
 *  5. A peer of another uid (SO_PEERCRED) is answered with an error,
 *     unless it is root; the socket is mode 0600 anyway.
 */
#include "s4napi.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "npte-error.h"
#include "unixsock.h"
#include "util.h"

/* Seconds a connection may take, from accept to close. */
#define S4N_TIMEOUT 5.0
/* Connections open at once; more wait in the listen backlog. */
#define S4N_MAX_CONNS 64
/* Clients accepted per wake-up. */
#define S4N_ACCEPT_BATCH 16
/* Pause after EMFILE/ENFILE/ENOBUFS/ENOMEM from accept. */
#define S4N_ACCEPT_PAUSE 0.1
/* Bytes read and dropped after the request before the connection is closed. */
#define S4N_DRAIN_MAX (1024 * 1024)

struct S4nApiServer {
  struct ev_loop *loop;
  PortMgr *mgr;
  const NetCfg *net;
  char *path;
  struct stat bound; /* the socket file we bound (npte_unlink_unix()) */
  int fd;
  ev_io accept_w;
  ev_timer pause_w;
  GQueue conns; /* S4nConn, links embedded */
  gboolean accept_error_logged;
};

typedef struct {
  S4nApiServer *server;
  GList link;
  int fd;
  ev_io io;
  ev_timer deadline;
  char buf[S4NAPI_MAX_REQUEST];
  gsize len;
  char *reply;      /* NULL until answered */
  gsize reply_len;
  gsize reply_off;
  gsize drained;
  gboolean complete; /* buf holds one whole JSON object or array */
  gboolean eof;
  gboolean shut;    /* write side shut down after the reply */
} S4nConn;

static void accept_update (S4nApiServer *server);

/**
 * conn_close() - close and free @c; the server may accept again
 * @c: the connection
 */
static void
conn_close (S4nConn *c)
{
  S4nApiServer *server = c->server;

  ev_io_stop (server->loop, &c->io);
  ev_timer_stop (server->loop, &c->deadline);
  close (c->fd);
  g_queue_unlink (&server->conns, &c->link);
  g_free (c->reply);
  g_free (c);
  accept_update (server);
}

/**
 * conn_answer() - handle the request read so far and queue the reply
 * @c: the connection (no reply yet)
 */
static void
conn_answer (S4nConn *c)
{
  g_autoptr (GError) detail = NULL;

  if (npte_log_debug_enabled ())
    {
      g_autofree char *head = g_strndup (c->buf, MIN (c->len, 512));
      g_autofree char *text = g_strescape (head, NULL);
      npte_debug ("api: request: %s", text);
    }
  c->reply = s4napi_handle (c->server->mgr, c->server->net, c->buf, c->len, &detail);
  c->reply_len = strlen (c->reply);
  if (detail != NULL)
    npte_warn ("api: add_hostfwd: %s", detail->message);
  npte_debug ("api: reply: %s", c->reply);
}

/**
 * conn_read() - read what is available: the request, or input to drop
 * @c: the connection
 *
 * Stops early when the request is whole or the buffer full, so it is
 * answered before more is read.
 *
 * Return: FALSE if the connection failed and must be closed.
 */
static gboolean
conn_read (S4nConn *c)
{
  while (!c->eof)
    {
      /* Once answered, the request buffer takes the input to drop. */
      gboolean request = c->reply == NULL;
      char *dst = request ? c->buf + c->len : c->buf;
      gsize room = request ? sizeof c->buf - c->len : sizeof c->buf;
      ssize_t n;

      if (room == 0)
        return TRUE;
      n = read (c->fd, dst, room);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      if (n == 0)
        c->eof = TRUE;
      else if (!request)
        {
          c->drained += (gsize) n;
          if (c->drained > S4N_DRAIN_MAX)
            return FALSE;
        }
      else
        {
          c->len += (gsize) n;
          c->complete = s4napi_request_complete (c->buf, c->len);
          if (c->len == sizeof c->buf || c->complete)
            return TRUE;
        }
    }
  return TRUE;
}

/**
 * conn_write() - write what is left of the reply, then shut down writing
 * @c: the connection (answered)
 *
 * Return: FALSE if the connection failed and must be closed.
 */
static gboolean
conn_write (S4nConn *c)
{
  while (c->reply_off < c->reply_len)
    {
      ssize_t n = send (c->fd, c->reply + c->reply_off, c->reply_len - c->reply_off,
                        MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      c->reply_off += (gsize) n;
    }
  if (!c->shut)
    {
      shutdown (c->fd, SHUT_WR);
      c->shut = TRUE;
    }
  return TRUE;
}

/**
 * conn_step() - advance @c after an event, and watch what it waits for
 * @c: the connection
 */
static void
conn_step (S4nConn *c)
{
  int events;

  if (!conn_read (c))
    {
      conn_close (c);
      return;
    }
  if (c->reply == NULL && (c->eof || c->complete || c->len == sizeof c->buf))
    conn_answer (c);
  if (c->reply != NULL && !conn_write (c))
    {
      conn_close (c);
      return;
    }
  if (c->shut && c->eof)
    {
      conn_close (c);
      return;
    }
  events = (c->eof ? 0 : EV_READ) | (c->reply != NULL && !c->shut ? EV_WRITE : 0);
  if (events != (c->io.events & (EV_READ | EV_WRITE)) || !ev_is_active (&c->io))
    {
      ev_io_stop (c->server->loop, &c->io);
      ev_io_set (&c->io, c->fd, events);
      ev_io_start (c->server->loop, &c->io);
    }
}

static void
conn_io_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  conn_step (w->data);
}

static void
conn_deadline_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  S4nConn *c = w->data;

  npte_debug ("api: connection timed out after %.0f s", S4N_TIMEOUT);
  if (c->reply == NULL && c->len > 0)
    {
      conn_answer (c);
      conn_write (c);
    }
  conn_close (c);
}

/**
 * peer_allowed() - whether the client on @fd may use the API
 * @fd: the accepted socket
 * @why: (out) the refusal, for the reply
 *
 * Return: TRUE for our own uid and root.
 */
static gboolean
peer_allowed (int fd, char **why)
{
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    {
      *why = g_strdup ("permission denied: cannot read the peer's credentials");
      return FALSE;
    }
  if (cred.uid == 0 || cred.uid == getuid () || cred.uid == geteuid ())
    return TRUE;
  *why = g_strdup_printf ("permission denied: uid %u may not use the API of uid %u",
                          (unsigned int) cred.uid, (unsigned int) geteuid ());
  return FALSE;
}

/**
 * conn_new() - start serving the accepted socket @fd
 * @server: the server
 * @fd: the client (non-blocking; owned from now on)
 */
static void
conn_new (S4nApiServer *server, int fd)
{
  S4nConn *c = g_new0 (S4nConn, 1);
  g_autofree char *why = NULL;

  c->server = server;
  c->fd = fd;
  c->link.data = c;
  g_queue_push_tail_link (&server->conns, &c->link);
  if (!peer_allowed (fd, &why))
    {
      npte_warn ("api: %s", why);
      c->reply = g_strdup_printf ("{\"error\":{\"desc\":\"%s\"}}", why);
      c->reply_len = strlen (c->reply);
    }
  ev_io_init (&c->io, conn_io_cb, fd, EV_READ);
  c->io.data = c;
  ev_timer_init (&c->deadline, conn_deadline_cb, S4N_TIMEOUT, 0.);
  c->deadline.data = c;
  ev_timer_start (server->loop, &c->deadline);
  conn_step (c);
}

/**
 * accept_update() - watch the listener only below the connection limit
 * and while accepting is not paused
 * @server: the server
 */
static void
accept_update (S4nApiServer *server)
{
  gboolean want = server->fd >= 0 && server->conns.length < S4N_MAX_CONNS
                  && !ev_is_active (&server->pause_w);

  if (want && !ev_is_active (&server->accept_w))
    ev_io_start (server->loop, &server->accept_w);
  else if (!want && ev_is_active (&server->accept_w))
    ev_io_stop (server->loop, &server->accept_w);
}

static void
pause_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  accept_update (w->data);
}

static void
accept_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  S4nApiServer *server = w->data;

  for (int i = 0; i < S4N_ACCEPT_BATCH && server->conns.length < S4N_MAX_CONNS; i++)
    {
      int fd = accept4 (server->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd >= 0)
        {
          server->accept_error_logged = FALSE;
          conn_new (server, fd);
          continue;
        }
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        {
          if (!server->accept_error_logged)
            npte_warn ("api: accept on %s: %s; pausing briefly", server->path,
                       g_strerror (errno));
          server->accept_error_logged = TRUE;
          ev_timer_start (loop, &server->pause_w);
        }
      break;
    }
  accept_update (server);
}

S4nApiServer *
s4napi_server_new (struct ev_loop *loop, const char *path, PortMgr *mgr, const NetCfg *net,
                   GError **error)
{
  g_autoptr (S4nApiServer) server = g_new0 (S4nApiServer, 1);

  g_return_val_if_fail (mgr != NULL && net != NULL, NULL);
  server->loop = loop;
  server->mgr = mgr;
  server->net = net;
  g_queue_init (&server->conns);
  ev_io_init (&server->accept_w, accept_cb, -1, EV_READ);
  server->accept_w.data = server;
  ev_timer_init (&server->pause_w, pause_cb, S4N_ACCEPT_PAUSE, 0.);
  server->pause_w.data = server;
  server->fd = npte_listen_unix (path, "slirp4netns API socket", 128, &server->bound, error);
  if (server->fd < 0)
    return NULL;
  server->path = g_strdup (path);
  ev_io_set (&server->accept_w, server->fd, EV_READ);
  accept_update (server);
  return g_steal_pointer (&server);
}

void
s4napi_server_free (S4nApiServer *server)
{
  if (server == NULL)
    return;
  while (server->conns.head != NULL)
    conn_close (server->conns.head->data);
  ev_io_stop (server->loop, &server->accept_w);
  ev_timer_stop (server->loop, &server->pause_w);
  npte_close_fdp (&server->fd);
  npte_unlink_unix (server->path, &server->bound);
  g_free (server->path);
  g_free (server);
}
