/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Routing of the REST API
 *
 * api_handle() maps one complete request to one response, with no I/O, so
 * every route is unit-tested and fuzzed without sockets (the HTTP side is
 * in api-server.c). Routes and codes follow rootlesskit's gorilla/mux
 * router: a path that matches with the wrong method is 405, a path that
 * matches nothing is 404, and "{id}" matches one non-empty segment. Every
 * error body is {"message": ...}. Success bodies are JSON, except DELETE,
 * whose 200 has an empty body. GET /v1/ports returns "[]" rather than
 * rootlesskit's "null" when empty: both decode to an empty list in Go.
 */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "apijson.h"
#include "npte-error.h"

#define PORTS_PATH "/v1/ports"
#define PORT_PREFIX "/v1/ports/"
#define INFO_PATH "/v1/info"

#define NO_DRIVER_MESSAGE "no port driver is available"

/* Longest piece of client text (a path, an id) repeated in a message. */
#define ECHO_MAX 128

static void
respond (ApiResponse *resp, unsigned int status, char *body)
{
  resp->status = status;
  resp->body = body;
}

/**
 * respond_error() - an error response {"message": formatted text}
 * @resp: (out) the response
 * @status: HTTP status
 * @fmt: printf format of the message
 */
static void G_GNUC_PRINTF (3, 4)
respond_error (ApiResponse *resp, unsigned int status, const char *fmt, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  respond (resp, status, apijson_error_encode (message));
}

/**
 * echo() - client text made safe to repeat in a message
 * @text: the text (may hold any bytes)
 *
 * Return: (transfer full) @text with non-printable bytes escaped, cut to
 * ECHO_MAX bytes.
 */
static char *
echo (const char *text)
{
  g_autofree char *cut = g_strndup (text, ECHO_MAX);
  g_autofree char *escaped = g_strescape (cut, NULL);

  if (strlen (text) > ECHO_MAX)
    return g_strconcat (escaped, "...", NULL);
  return g_steal_pointer (&escaped);
}

static void
handle_list (PortMgr *mgr, ApiResponse *resp)
{
  g_autoptr (GPtrArray) entries = portmgr_list (mgr);

  respond (resp, 200, apijson_status_list_encode (entries));
}

/**
 * handle_add() - POST /v1/ports: decode, add, answer 201 with the PortStatus
 * @mgr: port manager
 * @body: request body
 * @body_len: its length
 * @resp: (out) 201, or 400 with the decode or add error
 */
static void
handle_add (PortMgr *mgr, const char *body, gsize body_len, ApiResponse *resp)
{
  g_autoptr (GError) error = NULL;
  const PortEntry *entry;
  PortSpec spec;

  if (!apijson_spec_decode (body, body_len, &spec, &error))
    {
      respond_error (resp, 400, "%s", error->message);
      return;
    }
  entry = portmgr_add (mgr, &spec, &error);
  if (entry == NULL)
    {
      respond_error (resp, 400, "%s", error != NULL ? error->message : "cannot add the port");
      return;
    }
  respond (resp, 201, apijson_status_encode (entry));
}

/**
 * parse_id() - a port id from the URL: plain decimal digits, leading zeros allowed
 * @text: the path segment
 * @out: (out) the id
 * @error: EINVAL "bad id X: ..."
 *
 * Signs and anything but digits are refused (rootlesskit's strconv.Atoi
 * would take "+1" and "-1"; no client sends those on purpose).
 *
 * Return: TRUE on success.
 */
static gboolean
parse_id (const char *text, int *out, GError **error)
{
  g_autofree char *shown = echo (text);
  guint64 v;

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return npte_set_error (error, EINVAL, "bad id %s: not a positive decimal number", shown);
  while (text[0] == '0' && text[1] != '\0')
    text++;
  if (strlen (text) > 10 || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &v, NULL))
    return npte_set_error (error, EINVAL, "bad id %s: out of range", shown);
  *out = (int) v;
  return TRUE;
}

/**
 * handle_remove() - DELETE /v1/ports/{id}
 * @mgr: port manager
 * @id_text: the {id} path segment
 * @resp: (out) 200 with an empty body, or 400 for a bad or unknown id
 */
static void
handle_remove (PortMgr *mgr, const char *id_text, ApiResponse *resp)
{
  g_autoptr (GError) error = NULL;
  int id = 0;

  if (!parse_id (id_text, &id, &error) || !portmgr_remove (mgr, id, &error))
    {
      respond_error (resp, 400, "%s", error->message);
      return;
    }
  respond (resp, 200, NULL);
}

/**
 * route_ports() - the /v1/ports and /v1/ports/{id} routes
 * @mgr: port manager (NULL = no driver)
 * @method: request method
 * @id_text: NULL for /v1/ports, else the {id} segment
 * @body: request body
 * @body_len: its length
 * @resp: (out) the response
 */
static void
route_ports (PortMgr *mgr, const char *method, const char *id_text, const char *body,
             gsize body_len, ApiResponse *resp)
{
  gboolean get = strcmp (method, "GET") == 0;
  gboolean post = strcmp (method, "POST") == 0;
  gboolean del = strcmp (method, "DELETE") == 0;

  if ((id_text == NULL && !get && !post) || (id_text != NULL && !del))
    {
      g_autofree char *m = echo (method);
      resp->allow = id_text == NULL ? "GET, POST" : "DELETE";
      respond_error (resp, 405, "method %s is not allowed on %s (allowed: %s)", m,
                     id_text == NULL ? PORTS_PATH : PORTS_PATH "/{id}", resp->allow);
      return;
    }
  if (mgr == NULL)
    respond_error (resp, 400, NO_DRIVER_MESSAGE);
  else if (get)
    handle_list (mgr, resp);
  else if (post)
    handle_add (mgr, body, body_len, resp);
  else
    handle_remove (mgr, id_text, resp);
}

/**
 * route_info() - GET /v1/info
 * @info: what to report (NULL: 500)
 * @method: request method
 * @resp: (out) the response
 */
static void
route_info (const NpteInfo *info, const char *method, ApiResponse *resp)
{
  if (strcmp (method, "GET") != 0)
    {
      g_autofree char *m = echo (method);
      resp->allow = "GET";
      respond_error (resp, 405, "method %s is not allowed on %s (allowed: GET)", m, INFO_PATH);
    }
  else if (info == NULL)
    respond_error (resp, 500, "no info is available");
  else
    respond (resp, 200, apijson_info_encode (info));
}

void
api_handle (PortMgr *mgr, const NpteInfo *info, const char *method, const char *path,
            const char *body, gsize body_len, ApiResponse *resp)
{
  g_autofree char *p = g_strdup (path != NULL ? path : "");
  char *query = strchr (p, '?');

  memset (resp, 0, sizeof *resp);
  if (method == NULL)
    method = "";
  if (query != NULL)
    *query = '\0';
  if (strcmp (p, PORTS_PATH) == 0)
    route_ports (mgr, method, NULL, body, body_len, resp);
  else if (g_str_has_prefix (p, PORT_PREFIX) && p[strlen (PORT_PREFIX)] != '\0'
           && strchr (p + strlen (PORT_PREFIX), '/') == NULL)
    route_ports (mgr, method, p + strlen (PORT_PREFIX), body, body_len, resp);
  else if (strcmp (p, INFO_PATH) == 0)
    route_info (info, method, resp);
  else
    {
      g_autofree char *shown = echo (p);
      respond_error (resp, 404, "not found: %s", shown);
    }
}
