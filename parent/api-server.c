/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * The REST API is served by libmicrohttpd in "external epoll" mode, on the
 * parent's libev loop, with no threads:
 *
 *  1. api_server_new() binds the UNIX socket itself (umask 0177, then chmod
 *     0600; a stale socket file is replaced, anything else at the path is
 *     an error) and hands the listening fd to MHD (MHD_OPTION_LISTEN_SOCKET).
 *  2. MHD keeps every connection in one epoll fd. An ev_io watches it and
 *     calls MHD_run(); after every run an ev_timer is re-armed from
 *     MHD_get_timeout(), which also covers work MHD has pending without
 *     new events (timeout 0) and idle connections (30 s timeout, so a
 *     client that sends half a request is dropped).
 *  3. MHD calls on_request() several times per request: first with the
 *     head (peer credentials are checked here: another uid gets 403), then
 *     with body pieces, which are kept up to API_MAX_BODY and discarded
 *     beyond (413 when complete, so a client that sends everything first
 *     still reads the answer), and finally with no data: api_handle()
 *     routes the request and the answer is queued.
 *  4. api_server_free() stops the watchers, takes the listening fd back
 *     (MHD_quiesce_daemon), stops MHD, which closes the connections, and
 *     unlinks the socket if it is still ours.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "npte-error.h"
#include "unixsock.h"
#include "util.h"
#include "apijson.h"

/* Idle seconds before MHD drops a connection. */
#define API_CONNECTION_TIMEOUT 30
#define API_CONNECTION_LIMIT 1024
/* Per-connection memory of MHD (request head and read buffer). */
#define API_CONNECTION_MEMORY (64 * 1024)
/* A body announced or sent beyond this is refused at once and the connection closed. */
#define API_DRAIN_MAX (16 * 1024 * 1024)

struct ApiServer {
  struct ev_loop *loop;
  char *path;
  struct stat bound; /* the socket file we bound (npte_unlink_unix()) */
  struct MHD_Daemon *daemon;
  ev_io io;
  ev_timer timer;
  PortMgr *mgr;
  const NpteInfo *info;
};

/* One request in progress. */
typedef struct {
  GByteArray *body;
  guint64 received;
  gboolean too_large;
  gboolean answered; /* a response was queued before the body was read */
} ApiRequest;

/**
 * queue_response() - queue @body (taken over) as the answer on @conn
 * @conn: the connection
 * @status: HTTP status
 * @body: (transfer full) JSON text, or NULL for an empty body
 * @allow: value of an Allow header, or NULL
 *
 * Return: MHD's result.
 */
static enum MHD_Result
queue_response (struct MHD_Connection *conn, unsigned int status, char *body, const char *allow)
{
  struct MHD_Response *r;
  enum MHD_Result ret;

  if (body != NULL)
    r = MHD_create_response_from_buffer_with_free_callback (strlen (body), body, g_free);
  else
    r = MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
  if (r == NULL)
    {
      g_free (body);
      return MHD_NO;
    }
  if (body != NULL)
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  if (allow != NULL)
    MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, allow);
  ret = MHD_queue_response (conn, status, r);
  MHD_destroy_response (r);
  return ret;
}

/**
 * queue_error() - queue {"message": @message} with @status
 * @conn: the connection
 * @status: HTTP status
 * @message: the message
 *
 * Return: MHD's result.
 */
static enum MHD_Result
queue_error (struct MHD_Connection *conn, unsigned int status, const char *message)
{
  return queue_response (conn, status, apijson_error_encode (message), NULL);
}

/**
 * peer_denied() - why the peer of @conn may not use the API, if it may not
 * @conn: the connection
 *
 * Only our own uid and root may talk to us (the socket is 0600 in a 0700
 * dir already; this also holds if someone loosens the modes).
 *
 * Return: (transfer full) the reason, or NULL if the peer is allowed.
 */
static char *
peer_denied (struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci
    = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  struct ucred cred;
  socklen_t len = sizeof cred;

  if (ci == NULL || getsockopt (ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return g_strdup ("permission denied: cannot read the peer's credentials");
  if (cred.uid == 0 || cred.uid == getuid () || cred.uid == geteuid ())
    return NULL;
  return g_strdup_printf ("permission denied: uid %u may not use the API of uid %u",
                          (unsigned int) cred.uid, (unsigned int) geteuid ());
}

/**
 * on_first_call() - set up a new request; refuse it early if need be
 * @conn: the connection
 * @req: the new request
 *
 * Return: MHD's result.
 */
static enum MHD_Result
on_first_call (struct MHD_Connection *conn, ApiRequest *req)
{
  g_autofree char *denied = peer_denied (conn);
  const char *cl = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
  guint64 announced = 0;

  if (denied != NULL)
    {
      npte_warn ("api: %s", denied);
      req->answered = TRUE;
      return queue_error (conn, MHD_HTTP_FORBIDDEN, denied);
    }
  if (cl != NULL && g_ascii_string_to_unsigned (cl, 10, 0, G_MAXUINT64, &announced, NULL)
      && announced > API_DRAIN_MAX)
    {
      req->answered = TRUE;
      return queue_error (conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    }
  return MHD_YES;
}

/**
 * on_upload() - take one piece of the request body
 * @req: the request
 * @data: the piece
 * @size: (inout) its size; set to 0 (all taken)
 *
 * Return: MHD_YES, or MHD_NO to drop a connection that keeps sending far
 * beyond the limit.
 */
static enum MHD_Result
on_upload (ApiRequest *req, const char *data, size_t *size)
{
  req->received += *size;
  if (!req->too_large && !req->answered && req->received <= API_MAX_BODY)
    g_byte_array_append (req->body, (const guint8 *) data, (guint) *size);
  else if (!req->too_large)
    {
      req->too_large = TRUE;
      g_byte_array_set_size (req->body, 0);
    }
  *size = 0;
  return req->received > API_DRAIN_MAX ? MHD_NO : MHD_YES;
}

/* implements MHD_AccessHandlerCallback */
static enum MHD_Result
on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
            const char *version, const char *upload_data, size_t *upload_data_size,
            void **con_cls)
{
  ApiServer *server = cls;
  ApiRequest *req = *con_cls;
  ApiResponse resp;

  if (req == NULL)
    {
      req = g_new0 (ApiRequest, 1);
      req->body = g_byte_array_new ();
      *con_cls = req;
      return on_first_call (conn, req);
    }
  if (*upload_data_size > 0)
    return on_upload (req, upload_data, upload_data_size);
  if (req->answered)
    return MHD_YES;
  if (req->too_large)
    {
      npte_debug ("api: %s %s: body of %" G_GUINT64_FORMAT " bytes refused", method, url,
                  req->received);
      g_autofree char *message
        = g_strdup_printf ("request body too large (the limit is %d bytes)", API_MAX_BODY);
      return queue_error (conn, MHD_HTTP_CONTENT_TOO_LARGE, message);
    }
  api_handle (server->mgr, server->info, method, url, (const char *) req->body->data,
              req->body->len, &resp);
  npte_debug ("api: %s %s -> %u", method, url, resp.status);
  return queue_response (conn, resp.status, resp.body, resp.allow);
}

/* implements MHD_RequestCompletedCallback */
static void
on_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  ApiRequest *req = *con_cls;

  if (req == NULL)
    return;
  g_byte_array_unref (req->body);
  g_free (req);
  *con_cls = NULL;
}

/* implements MHD_LogCallback: MHD's messages are about clients, so debug only. */
static void
on_mhd_log (void *cls, const char *fmt, va_list ap)
{
  g_autofree char *text = NULL;

  if (!npte_log_debug_enabled ())
    return;
  text = g_strdup_vprintf (fmt, ap);
  g_strchomp (text);
  npte_debug ("api: libmicrohttpd: %s", text);
}

/**
 * server_run() - let MHD do its work, then re-arm the timer from its timeout
 * @server: the server
 */
static void
server_run (ApiServer *server)
{
  MHD_UNSIGNED_LONG_LONG ms = 0;

  MHD_run (server->daemon);
  ev_timer_stop (server->loop, &server->timer);
  if (MHD_get_timeout (server->daemon, &ms) == MHD_YES)
    {
      ev_timer_set (&server->timer, (ev_tstamp) ms / 1000.0, 0.);
      ev_timer_start (server->loop, &server->timer);
    }
}

static void
on_epoll_ready (struct ev_loop *loop, ev_io *w, int revents)
{
  server_run (w->data);
}

static void
on_timer (struct ev_loop *loop, ev_timer *w, int revents)
{
  server_run (w->data);
}

/**
 * start_daemon() - start MHD on @listen_fd in external epoll mode
 * @server: the server (server->daemon is set)
 * @listen_fd: the listening socket, owned by MHD from now on
 * @error: EIO if MHD refuses to start
 *
 * Return: TRUE on success.
 */
static gboolean
start_daemon (ApiServer *server, int listen_fd, GError **error)
{
  const union MHD_DaemonInfo *di;

  server->daemon = MHD_start_daemon (
    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, server,
    MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) API_CONNECTION_TIMEOUT,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned int) API_CONNECTION_LIMIT,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) API_CONNECTION_MEMORY,
    MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
    MHD_OPTION_END);
  if (server->daemon == NULL)
    {
      /* Whether MHD closed the fd on failure is not documented: close it if not. */
      if (fcntl (listen_fd, F_GETFD) >= 0)
        close (listen_fd);
      return npte_set_error (error, EIO, "cannot start the HTTP server on %s (libmicrohttpd)",
                             server->path);
    }
  di = MHD_get_daemon_info (server->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  if (di == NULL || di->epoll_fd < 0)
    return npte_set_error (error, EIO, "libmicrohttpd gave no epoll fd");
  ev_io_init (&server->io, on_epoll_ready, di->epoll_fd, EV_READ);
  server->io.data = server;
  /* Requests are served before the data path's callbacks of the same loop turn. */
  ev_set_priority (&server->io, EV_MAXPRI);
  ev_io_start (server->loop, &server->io);
  ev_init (&server->timer, on_timer);
  server->timer.data = server;
  ev_set_priority (&server->timer, EV_MAXPRI);
  return TRUE;
}

ApiServer *
api_server_new (struct ev_loop *loop, const char *socket_path, PortMgr *mgr,
                const NpteInfo *info, GError **error)
{
  g_autoptr (ApiServer) server = g_new0 (ApiServer, 1);
  int fd;

  server->loop = loop;
  server->mgr = mgr;
  server->info = info;
  fd = npte_listen_unix (socket_path, "API socket", 128, &server->bound, error);
  if (fd < 0)
    return NULL;
  server->path = g_strdup (socket_path);
  if (!start_daemon (server, fd, error))
    return NULL;
  server_run (server);
  return g_steal_pointer (&server);
}

void
api_server_free (ApiServer *server)
{
  if (server == NULL)
    return;
  if (server->daemon != NULL)
    {
      MHD_socket fd;

      ev_io_stop (server->loop, &server->io);
      ev_timer_stop (server->loop, &server->timer);
      fd = MHD_quiesce_daemon (server->daemon);
      MHD_stop_daemon (server->daemon);
      if (fd != MHD_INVALID_SOCKET)
        close (fd);
    }
  npte_unlink_unix (server->path, &server->bound);
  g_free (server->path);
  g_free (server);
}
