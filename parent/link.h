/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_LINK_H
#define NPTE_LINK_H

#include <ev.h>
#include <glib.h>
#include <sys/types.h>

#include "wire.h"

/*
 * The parent's end of the socketpair once the handshake is done: frames
 * from the child are read on the libev loop and dispatched; requests with
 * a reply (SOCKETS_REQ) are matched to their callbacks by request id.
 */

typedef struct {
  void (*cmd_started) (gpointer user_data, pid_t pid);
  void (*cmd_exited) (gpointer user_data, int wait_status);
  /* An ERROR frame that answers no pending request (e.g. exec failed). */
  void (*error) (gpointer user_data, int err, const char *message);
  /* The child closed the socket: it died or is exiting. */
  void (*eof) (gpointer user_data);
} ChildLinkEvents;

/* Reply to childlink_request_sockets(): @fds are owned by the callee; on failure n_fds is 0 and @error set. */
typedef void (*ChildLinkSocketsFunc) (gpointer user_data, int *fds, unsigned int n_fds,
                                      const GError *error);

typedef struct ChildLink ChildLink;

/**
 * childlink_new() - start reading frames from @sock on @loop
 * @loop: the parent's loop
 * @sock: the parent's end of the socketpair (made non-blocking; borrowed)
 * @events: callbacks (static)
 * @user_data: passed to @events
 *
 * Return: (transfer full) the link.
 */
ChildLink *childlink_new (struct ev_loop *loop, int sock, const ChildLinkEvents *events,
                          gpointer user_data);
void childlink_free (ChildLink *link);

/**
 * childlink_send_simple() - send a frame without payload (START_CMD, PING)
 * @link: the link
 * @type: frame type
 * @error: error (EPIPE when the child is gone)
 *
 * Return: TRUE if sent.
 */
gboolean childlink_send_simple (ChildLink *link, ProtoMsgType type, GError **error);

/**
 * childlink_request_sockets() - ask the child for @count unconnected sockets
 * @link: the link
 * @family: AF_INET or AF_INET6
 * @socktype: SOCK_STREAM or SOCK_DGRAM
 * @count: 1..PROTO_MAX_FDS
 * @func: called once with the reply
 * @user_data: its data
 * @error: error when the request could not be sent
 *
 * Return: TRUE if the request is under way.
 */
gboolean childlink_request_sockets (ChildLink *link, int family, int socktype, unsigned int count,
                                    ChildLinkSocketsFunc func, gpointer user_data,
                                    GError **error);

/**
 * childlink_wait() - block until the child sends something, and dispatch it
 * @link: the link
 * @timeout_ms: longest wait
 * @error: ETIMEDOUT, EPIPE (the child is gone) or a poll error
 *
 * For the rare synchronous caller that needs a reply before it can return (the pool, when
 * a reverse port needs more namespace sockets than it holds). Everything received is
 * dispatched exactly as the event loop would, events and other replies included.
 *
 * Return: TRUE if something was received (and dispatched).
 */
gboolean childlink_wait (ChildLink *link, int timeout_ms, GError **error);

#endif /* NPTE_LINK_H */
