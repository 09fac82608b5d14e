/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_API_H
#define NPTE_API_H

#include <ev.h>
#include <glib.h>

#include "info.h"
#include "portmgr.h"

/*
 * The REST API on $STATE/api.sock: rootlesskit's /v1/ports and /v1/info,
 * HTTP/1.1 over a UNIX socket, served by libmicrohttpd (epoll mode, no
 * threads) from the parent's libev loop.
 */

/* Largest request body accepted; larger gets 413. */
#define API_MAX_BODY (64 * 1024)

/* A response: status code and JSON body (may be empty for 200 DELETE). */
typedef struct {
  unsigned int status;
  char *body;   /* (owned) NULL = empty body */
  const char *allow; /* (static) for 405: the methods the path takes ("GET, POST"); else NULL */
} ApiResponse;

/**
 * api_handle() - route one complete request; no sockets involved
 * @mgr: the port manager (NULL = no port driver: /v1/ports answers 400)
 * @info: what /v1/info reports (child_pid etc. are read at call time)
 * @method: "GET", "POST", "DELETE", ...
 * @path: URL path ("/v1/ports/3"); a query string is ignored
 * @body: request body (may be NULL when @body_len is 0)
 * @body_len: its length
 * @resp: (out) status and body; free resp->body with g_free()
 *
 * Status codes as rootlesskit: GET /v1/ports 200, POST 201 (400 on any
 * error), DELETE /v1/ports/{id} 200 with an empty body (400 on bad or
 * unknown id), GET /v1/info 200; unknown path 404, wrong method 405.
 */
void api_handle (PortMgr *mgr, const NpteInfo *info, const char *method,
                 const char *path, const char *body, gsize body_len, ApiResponse *resp);

typedef struct ApiServer ApiServer;

/**
 * api_server_new() - listen on @socket_path (mode 0600) and serve from @loop
 * @loop: the parent's libev loop
 * @socket_path: path of the UNIX socket (an existing stale socket is replaced)
 * @mgr: port manager (borrowed, may be NULL)
 * @info: info (borrowed; must outlive the server)
 * @error: error on failure
 *
 * Peers with another uid (SO_PEERCRED) get 403 unless they are root.
 *
 * Return: (transfer full) the server or NULL.
 */
ApiServer *api_server_new (struct ev_loop *loop, const char *socket_path, PortMgr *mgr,
                           const NpteInfo *info, GError **error);

/* api_server_free() - stop serving, close connections, unlink the socket. */
void api_server_free (ApiServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ApiServer, api_server_free)

#endif /* NPTE_API_H */
