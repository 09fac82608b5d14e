/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_HTTPC_H
#define NPTE_HTTPC_H

#include <glib.h>

/*
 * A minimal blocking HTTP/1.1 client over a UNIX socket, enough for the
 * control API (one request per connection, Content-Length or close-delimited
 * bodies, chunked transfer decoding). Used by npte-port and the tests.
 */

typedef struct {
  unsigned int status;
  char *content_type;  /* (owned) may be NULL */
  char *body;          /* (owned) NUL-terminated */
  gsize body_len;
} HttpcResponse;

void httpc_response_clear (HttpcResponse *resp);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HttpcResponse, httpc_response_clear)

/**
 * httpc_request() - send one request and read the whole response
 * @socket_path: UNIX socket path
 * @method: "GET", "POST", "DELETE"
 * @path: "/v1/ports"
 * @body: request body or NULL (sent as application/json)
 * @timeout_ms: overall timeout
 * @resp: (out) the response
 * @error: error (ENOENT/ECONNREFUSED naming the socket, ETIMEDOUT, EPROTO)
 *
 * Return: TRUE if a complete response was read (any status).
 */
gboolean httpc_request (const char *socket_path, const char *method, const char *path,
                        const char *body, int timeout_ms, HttpcResponse *resp,
                        GError **error);

#endif /* NPTE_HTTPC_H */
