/* SPDX-License-Identifier: Apache-2.0 */
#include "link.h"

#include <errno.h>
#include <poll.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

/* A request the child has not answered in this many seconds is failed. */
#define LINK_REQUEST_TIMEOUT 5.0

typedef struct {
  ChildLinkSocketsFunc func;
  gpointer user_data;
  ev_tstamp sent;
} PendingRequest;

struct ChildLink {
  struct ev_loop *loop;
  int sock;
  ev_io watcher;
  const ChildLinkEvents *events;
  gpointer user_data;
  uint32_t next_id;
  GHashTable *pending; /* id -> PendingRequest* */
  gboolean dead;
  ev_tstamp last_warn;   /* bad-frame warnings: at most one per 10 s */
  ev_timer expire_w;     /* fails requests older than LINK_REQUEST_TIMEOUT */
};

/**
 * link_send() - send one frame; if the socket is full, wait up to 1 s for room
 * @link: the link
 * @msg: frame
 * @error: error on failure
 *
 * Return: TRUE if sent.
 */
static gboolean
link_send (ChildLink *link, const ProtoMsg *msg, GError **error)
{
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      struct pollfd pfd = { .fd = link->sock, .events = POLLOUT };

      if (link->dead)
        return npte_set_error (error, EPIPE, "the child process is gone");
      if (proto_send (link->sock, msg, NULL, 0, &local))
        return TRUE;
      if (!g_error_matches (local, NPTE_ERROR, EAGAIN) || poll (&pfd, 1, 1000) <= 0)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
}

gboolean
childlink_send_simple (ChildLink *link, ProtoMsgType type, GError **error)
{
  ProtoMsg msg;

  proto_msg_init (&msg, type, link->next_id++);
  return link_send (link, &msg, error);
}

gboolean
childlink_request_sockets (ChildLink *link, int family, int socktype, unsigned int count,
                           ChildLinkSocketsFunc func, gpointer user_data, GError **error)
{
  ProtoMsg msg;
  uint32_t id = link->next_id++;

  proto_msg_init (&msg, PROTO_MSG_SOCKETS_REQ, id);
  msg.u.sockets.family = (uint32_t) family;
  msg.u.sockets.socktype = (uint32_t) socktype;
  msg.u.sockets.count = count;
  if (!link_send (link, &msg, error))
    return FALSE;
  PendingRequest *p = g_new0 (PendingRequest, 1);
  p->func = func;
  p->user_data = user_data;
  p->sent = ev_now (link->loop);
  if (!ev_is_active (&link->expire_w))
    ev_timer_start (link->loop, &link->expire_w);
  g_hash_table_insert (link->pending, GUINT_TO_POINTER (id), p);
  return TRUE;
}

/**
 * link_reply() - hand a SOCKETS or ERROR reply to the request it answers
 * @link: the link
 * @msg: the frame (fds are taken from it)
 *
 * Return: TRUE if a pending request matched @msg's id.
 */
static gboolean
link_reply (ChildLink *link, ProtoMsg *msg)
{
  PendingRequest *p = g_hash_table_lookup (link->pending, GUINT_TO_POINTER (msg->id));

  if (p == NULL)
    return FALSE;
  g_hash_table_steal (link->pending, GUINT_TO_POINTER (msg->id));
  if (msg->type == PROTO_MSG_SOCKETS)
    {
      p->func (p->user_data, msg->fds, msg->n_fds, NULL);
      msg->n_fds = 0; /* now owned by the callee */
    }
  else
    {
      g_autoptr (GError) error = NULL;
      npte_set_error (&error, msg->u.error.err, "%s", msg->u.error.message);
      p->func (p->user_data, NULL, 0, error);
    }
  g_free (p);
  return TRUE;
}

/**
 * link_dispatch() - act on one frame from the child
 * @link: the link
 * @msg: the frame
 */
static void
link_dispatch (ChildLink *link, ProtoMsg *msg)
{
  switch (msg->type)
    {
    case PROTO_MSG_SOCKETS:
      if (!link_reply (link, msg))
        npte_warn ("child sent sockets nobody asked for (id %u)", msg->id);
      break;
    case PROTO_MSG_ERROR:
      if (!link_reply (link, msg) && link->events->error != NULL)
        link->events->error (link->user_data, msg->u.error.err, msg->u.error.message);
      break;
    case PROTO_MSG_CMD_STARTED:
      link->events->cmd_started (link->user_data, (pid_t) msg->u.cmd_started.pid);
      break;
    case PROTO_MSG_CMD_EXITED:
      link->events->cmd_exited (link->user_data, msg->u.cmd_exited.status);
      break;
    case PROTO_MSG_PONG:
      break;
    case PROTO_MSG_TAP:
    case PROTO_MSG_INVALID:
    case PROTO_MSG_HELLO:
    case PROTO_MSG_USERNS_READY:
    case PROTO_MSG_IDMAP_DONE:
    case PROTO_MSG_NS_READY:
    case PROTO_MSG_START_CMD:
    case PROTO_MSG_SOCKETS_REQ:
    case PROTO_MSG_PING:
    case PROTO_MSG_MAX_:
    default:
      npte_warn ("unexpected %s from the child", proto_msg_type_name (msg->type));
      break;
    }
}

/**
 * link_fail_pending_with() - fail every pending request with @error
 * @link: the link
 * @error: what the callbacks receive
 */
static void
link_fail_pending_with (ChildLink *link, const GError *error)
{
  GHashTableIter it;
  gpointer value;

  while (g_hash_table_size (link->pending) > 0)
    {
      g_hash_table_iter_init (&it, link->pending);
      if (!g_hash_table_iter_next (&it, NULL, &value))
        break;
      PendingRequest p = *(PendingRequest *) value;
      g_hash_table_iter_remove (&it);
      p.func (p.user_data, NULL, 0, error);
    }
}

/**
 * link_fail_pending() - fail every pending request: the child is gone
 * @link: the link
 */
static void
link_fail_pending (ChildLink *link)
{
  g_autoptr (GError) error = NULL;

  npte_set_error (&error, EPIPE, "the child process is gone");
  link_fail_pending_with (link, error);
}

static void
link_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  ChildLink *link = w->data;

  for (int i = 0; i < 64; i++)
    {
      ProtoMsg msg;
      g_autoptr (GError) error = NULL;
      ProtoRecvResult r = proto_recv (link->sock, &msg, &error);

      if (r == PROTO_RECV_EOF)
        {
          ev_io_stop (loop, w);
          link->dead = TRUE;
          link_fail_pending (link);
          link->events->eof (link->user_data);
          return;
        }
      if (r == PROTO_RECV_ERROR)
        {
          if (g_error_matches (error, NPTE_ERROR, EAGAIN))
            return;
          /*
           * A lost reply (e.g. a SOCKETS frame truncated because this
           * process is out of fds) would leave its request pending for
           * ever: fail every pending request; the pool retries later.
           */
          if (link->last_warn == 0 || ev_now (loop) - link->last_warn >= 10.0)
            {
              if (g_error_matches (error, NPTE_ERROR, EMFILE))
                npte_warn ("namespace sockets from the child were lost: %s", error->message);
              else
                npte_warn ("bad frame from the child: %s", error->message);
            }
          link->last_warn = ev_now (loop);
          link_fail_pending_with (link, error);
          return;
        }
      link_dispatch (link, &msg);
      proto_msg_close_fds (&msg);
    }
}

gboolean
childlink_wait (ChildLink *link, int timeout_ms, GError **error)
{
  struct pollfd pfd = { .fd = link->sock, .events = POLLIN };
  int r;

  if (link->dead)
    return npte_set_error (error, EPIPE, "the child process is gone");
  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return npte_set_errno (error, errno, "wait for the child");
  if (r == 0)
    return npte_set_error (error, ETIMEDOUT, "the child did not answer within %d ms", timeout_ms);
  link_cb (link->loop, &link->watcher, EV_READ);
  return TRUE;
}

/**
 * expire_cb() - fail requests the child never answered (a lost reply)
 *
 * A lost reply would otherwise keep its request pending for ever and the
 * pool waiting for it. The timer runs only while requests are pending.
 */
static void
expire_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  ChildLink *link = w->data;
  const ev_tstamp now = ev_now (loop);
  g_autoptr (GError) error = NULL;
  GHashTableIter it;
  gpointer key, value;
  GArray *expired = g_array_new (FALSE, FALSE, sizeof (gpointer));

  g_hash_table_iter_init (&it, link->pending);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (now - ((PendingRequest *) value)->sent >= LINK_REQUEST_TIMEOUT)
      g_array_append_val (expired, key);
  npte_set_error (&error, ETIMEDOUT, "the child did not answer within %.0f s",
                  LINK_REQUEST_TIMEOUT);
  for (guint i = 0; i < expired->len; i++)
    {
      gpointer k = g_array_index (expired, gpointer, i);
      PendingRequest *p = g_hash_table_lookup (link->pending, k);
      if (p == NULL)
        continue;
      g_hash_table_steal (link->pending, k);
      p->func (p->user_data, NULL, 0, error);
      g_free (p);
    }
  g_array_unref (expired);
  if (g_hash_table_size (link->pending) == 0)
    ev_timer_stop (loop, w);
}

ChildLink *
childlink_new (struct ev_loop *loop, int sock, const ChildLinkEvents *events, gpointer user_data)
{
  ChildLink *link = g_new0 (ChildLink, 1);

  link->loop = loop;
  link->sock = sock;
  link->events = events;
  link->user_data = user_data;
  link->next_id = 1000;
  link->pending = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  npte_set_nonblock (sock, NULL);
  ev_io_init (&link->watcher, link_cb, sock, EV_READ);
  link->watcher.data = link;
  ev_io_start (loop, &link->watcher);
  ev_timer_init (&link->expire_w, expire_cb, 1.0, 1.0);
  link->expire_w.data = link;
  return link;
}

void
childlink_free (ChildLink *link)
{
  if (link == NULL)
    return;
  ev_io_stop (link->loop, &link->watcher);
  ev_timer_stop (link->loop, &link->expire_w);
  link->dead = TRUE;
  link_fail_pending (link);
  g_hash_table_unref (link->pending);
  g_free (link);
}
