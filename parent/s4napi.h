/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_S4NAPI_H
#define NPTE_S4NAPI_H

#include <ev.h>
#include <glib.h>

#include "netcfg.h"
#include "portmgr.h"

/*
 * slirp4netns' JSON API ("npte slirp4netns --api-socket PATH"): one JSON
 * request per UNIX stream connection, one JSON reply, then the server
 * closes. add_hostfwd / list_hostfwd / remove_hostfwd are mapped onto the
 * port manager (the slirp port driver), with slirp4netns' reply and error
 * texts. See docs/slirp4netns-compat.md.
 *
 * The request handler is pure (bytes in, reply out, given a PortMgr) so
 * that it can be unit-tested and fuzzed; the server is the socket part.
 */

/* A request of this many bytes or more is answered "too large message". */
#define S4NAPI_MAX_REQUEST 4096

/**
 * s4napi_handle() - answer one request of the slirp4netns API
 * @mgr: the port manager the forwards live in
 * @net: the slirp network (its guest address is the default guest_addr;
 *       IPv6 guest addresses need @net->ipv6)
 * @req: the request bytes (need not be NUL-terminated; may be NULL if @len is 0)
 * @len: their count
 * @detail: (out) (optional) why an add failed, beyond the fixed reply text
 *          (the port manager's message), for the log; NULL when there is none
 *
 * Replies exactly as slirp4netns 1.3 does: {"return":{"id":N}},
 * {"entries":[...]}, {"return":{}} or {"error":{"desc":"bad request: ..."}}.
 * Extensions, only where slirp4netns answers an error: IPv6 host_addr and
 * guest_addr, and host_port 0, answered {"return":{"id":N,"host_port":P}}.
 *
 * Return: (transfer full) the reply, NUL-terminated JSON without a newline.
 */
char *s4napi_handle (PortMgr *mgr, const NetCfg *net, const char *req, gsize len,
                     GError **detail);

/**
 * s4napi_request_complete() - whether @req already holds one whole JSON value
 * @req: the bytes received so far
 * @len: their count
 *
 * Lets the server answer a client that does not shut its side down after
 * the request (slirp4netns answers after one read()).
 *
 * Return: TRUE if @req parses as JSON.
 */
gboolean s4napi_request_complete (const char *req, gsize len);

typedef struct S4nApiServer S4nApiServer;

/**
 * s4napi_server_new() - listen on @path (mode 0600) and serve from @loop
 * @loop: the parent's libev loop
 * @path: the socket path; a stale socket there is replaced, anything else
 *        is an error
 * @mgr: the port manager (borrowed, must outlive the server)
 * @net: the slirp network (borrowed, must outlive the server)
 * @error: error naming the path
 *
 * Non-blocking; each connection is bounded in bytes and time, and the
 * number of connections is bounded, so no client can stall the loop.
 *
 * Return: (transfer full) the server or NULL.
 */
S4nApiServer *s4napi_server_new (struct ev_loop *loop, const char *path, PortMgr *mgr,
                                 const NetCfg *net, GError **error);

/* s4napi_server_free() - close every connection and the socket, and unlink it. */
void s4napi_server_free (S4nApiServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (S4nApiServer, s4napi_server_free)

#endif /* NPTE_S4NAPI_H */
