/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * One request per connection, all under one deadline:
 *
 *  1. connect a non-blocking AF_UNIX stream socket (retrying EAGAIN, which a
 *     full listen backlog gives, until the deadline);
 *  2. send the request with MSG_NOSIGNAL, waiting in poll() when the socket
 *     is full. If the server hangs up before taking the whole body (it may
 *     have answered early, e.g. 413), stop sending and read its answer;
 *  3. read into a buffer until the response is complete: the head ends at
 *     an empty line; the body is framed by Transfer-Encoding: chunked
 *     (decoded incrementally), Content-Length, or the end of the stream.
 *     1xx interim responses are skipped. ECONNRESET after the server closed
 *     counts as the end of the stream (Linux reports it once our data was
 *     left unread, after the queued response bytes).
 *
 * The head is capped at HTTPC_MAX_HEAD and the body at HTTPC_MAX_BODY.
 */
#include "httpc.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "npte-error.h"
#include "util.h"

#define HTTPC_MAX_HEAD (64 * 1024)
#define HTTPC_MAX_BODY (16 * 1024 * 1024)
/* Longest chunk-size or trailer line. */
#define HTTPC_MAX_LINE 4096
#define HTTPC_READ_SIZE (64 * 1024)

/* One connection and its deadline. */
typedef struct {
  int fd;
  const char *path;
  gint64 deadline; /* g_get_monotonic_time() value, or 0 for none */
  int timeout_ms;
} Conn;

/* The parsed response head. */
typedef struct {
  unsigned int status;
  char *content_type;
  gboolean chunked;
  gboolean has_length;
  guint64 length;
} Head;

typedef enum {
  CHUNK_SIZE,
  CHUNK_DATA,
  CHUNK_DATA_END,
  CHUNK_TRAILER,
  CHUNK_DONE,
} ChunkState;

/* Incremental chunked-body decoder. */
typedef struct {
  ChunkState state;
  guint64 left; /* bytes left in the current chunk */
} Chunked;

void
httpc_response_clear (HttpcResponse *resp)
{
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->body, g_free);
  resp->status = 0;
  resp->body_len = 0;
}

/**
 * conn_wait() - poll @c->fd for @events until the deadline
 * @c: connection
 * @events: POLLIN or POLLOUT
 * @what: "sending the request to" / "waiting for a response from", for messages
 * @error: ETIMEDOUT naming the socket
 *
 * Return: TRUE when the fd is ready (or has an error/hang-up to report).
 */
static gboolean
conn_wait (const Conn *c, short events, const char *what, GError **error)
{
  struct pollfd pfd = { .fd = c->fd, .events = events };

  for (;;)
    {
      int ms = -1;
      if (c->deadline != 0)
        {
          gint64 left = c->deadline - g_get_monotonic_time ();
          if (left <= 0)
            return npte_set_error (error, ETIMEDOUT, "timed out after %d ms %s %s",
                                   c->timeout_ms, what, c->path);
          ms = (int) MIN ((left + 999) / 1000, G_MAXINT);
        }
      int n = poll (&pfd, 1, ms);
      if (n > 0)
        return TRUE;
      if (n < 0 && errno != EINTR)
        return npte_set_errno (error, errno, "poll on %s", c->path);
    }
}

/**
 * conn_open() - connect to the UNIX socket @c->path
 * @c: connection; c->fd is set on success
 * @error: ENAMETOOLONG, ETIMEDOUT, or the connect errno naming the path
 *
 * Return: TRUE on success.
 */
static gboolean
conn_open (Conn *c, GError **error)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = -1;
  gsize len = strlen (c->path);

  if (len == 0 || len >= sizeof sun.sun_path)
    return npte_set_error (error, ENAMETOOLONG,
                           "cannot connect to %s: socket path is empty or longer than %zu bytes",
                           c->path, sizeof sun.sun_path - 1);
  memcpy (sun.sun_path, c->path, len);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return npte_set_errno (error, errno, "socket");
  while (connect (fd, (struct sockaddr *) &sun, sizeof sun) < 0)
    {
      int errsv = errno;
      if (errsv == EINTR)
        continue;
      if (errsv != EAGAIN)
        return npte_set_errno (error, errsv, "cannot connect to %s", c->path);
      /* The listen backlog is full: try again shortly. */
      if (c->deadline != 0 && g_get_monotonic_time () >= c->deadline)
        return npte_set_error (error, ETIMEDOUT, "timed out after %d ms connecting to %s",
                               c->timeout_ms, c->path);
      g_usleep (10 * 1000);
    }
  c->fd = npte_steal_fd (&fd);
  return TRUE;
}

/**
 * conn_send() - send all of @data, or stop early if the server hung up
 * @c: connection
 * @data: bytes
 * @len: their number
 * @error: ETIMEDOUT or a send error other than EPIPE/ECONNRESET
 *
 * Return: TRUE if everything was sent or the server closed its end (its
 * answer, if any, is then read as usual).
 */
static gboolean
conn_send (const Conn *c, const char *data, gsize len, GError **error)
{
  while (len > 0)
    {
      ssize_t n = send (c->fd, data, len, MSG_NOSIGNAL);
      if (n >= 0)
        {
          data += n;
          len -= (gsize) n;
          continue;
        }
      if (errno == EINTR)
        continue;
      if (errno == EPIPE || errno == ECONNRESET)
        return TRUE;
      if (errno != EAGAIN)
        return npte_set_errno (error, errno, "send to %s", c->path);
      if (!conn_wait (c, POLLOUT, "sending the request to", error))
        return FALSE;
    }
  return TRUE;
}

/**
 * conn_read() - read what is available into @buf, waiting until the deadline
 * @c: connection
 * @buf: buffer; data is appended
 * @eof: (out) set when the server closed the stream
 * @error: ETIMEDOUT or a read error
 *
 * Return: TRUE on success (new data or end of stream).
 */
static gboolean
conn_read (const Conn *c, GByteArray *buf, gboolean *eof, GError **error)
{
  guint8 tmp[HTTPC_READ_SIZE];

  for (;;)
    {
      ssize_t n = recv (c->fd, tmp, sizeof tmp, 0);
      if (n > 0)
        {
          g_byte_array_append (buf, tmp, (guint) n);
          return TRUE;
        }
      if (n == 0 || errno == ECONNRESET)
        {
          *eof = TRUE;
          return TRUE;
        }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN)
        return npte_set_errno (error, errno, "read from %s", c->path);
      if (!conn_wait (c, POLLIN, "waiting for a response from", error))
        return FALSE;
    }
}

/**
 * find_head_end() - where the body starts, after the empty line ending the head
 * @buf: received bytes
 * @len: their number
 *
 * Return: the offset of the body, or 0 if the head is not complete yet.
 */
static gsize
find_head_end (const guint8 *buf, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (buf[i] != '\n')
        continue;
      if (i + 1 < len && buf[i + 1] == '\n')
        return i + 2;
      if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
        return i + 3;
    }
  return 0;
}

/**
 * parse_status_line() - "HTTP/1.x NNN reason"
 * @line: the line without its end
 * @head: (out) head->status
 * @error: EPROTO quoting the line
 *
 * Return: TRUE if well-formed.
 */
static gboolean
parse_status_line (const char *line, Head *head, GError **error)
{
  const char *p = line + 9;

  if (strncmp (line, "HTTP/1.", 7) != 0 || !g_ascii_isdigit (line[7]) || line[8] != ' '
      || !g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]) || !g_ascii_isdigit (p[2])
      || (p[3] != '\0' && p[3] != ' ') || p[0] == '0')
    {
      g_autofree char *q = g_strescape (line, NULL);
      return npte_set_error (error, EPROTO, "malformed HTTP status line \"%.80s\"", q);
    }
  head->status = (unsigned int) ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
  return TRUE;
}

/**
 * parse_header() - take in one "Name: value" line
 * @line: the line without its end
 * @head: (inout) framing and content type so far
 * @error: EPROTO for a malformed line, a bad or conflicting Content-Length,
 *         or an unsupported transfer coding
 *
 * Return: TRUE on success.
 */
static gboolean
parse_header (char *line, Head *head, GError **error)
{
  char *colon = strchr (line, ':');
  char *value;

  if (line[0] == ' ' || line[0] == '\t')
    return TRUE; /* obsolete line folding: ignore the continuation */
  if (colon == NULL || colon == line)
    {
      g_autofree char *q = g_strescape (line, NULL);
      return npte_set_error (error, EPROTO, "malformed HTTP header line \"%.80s\"", q);
    }
  *colon = '\0';
  value = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "Content-Length") == 0)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &v, NULL)
          || (head->has_length && v != head->length))
        return npte_set_error (error, EPROTO, "bad Content-Length \"%.40s\" in the response", value);
      head->has_length = TRUE;
      head->length = v;
    }
  else if (g_ascii_strcasecmp (line, "Transfer-Encoding") == 0)
    {
      if (g_ascii_strcasecmp (value, "chunked") != 0)
        return npte_set_error (error, EPROTO, "unsupported Transfer-Encoding \"%.40s\"", value);
      head->chunked = TRUE;
    }
  else if (g_ascii_strcasecmp (line, "Content-Type") == 0)
    {
      g_free (head->content_type);
      head->content_type = g_strdup (value);
    }
  return TRUE;
}

/**
 * parse_head() - parse the status line and headers
 * @buf: the head, ending with its empty line
 * @len: its length
 * @head: (out) the head; the caller frees head->content_type
 * @error: EPROTO
 *
 * Return: TRUE on success.
 */
static gboolean
parse_head (const guint8 *buf, gsize len, Head *head, GError **error)
{
  g_autofree char *text = g_strndup ((const char *) buf, len);
  g_auto (GStrv) lines = NULL;

  memset (head, 0, sizeof *head);
  if (memchr (buf, '\0', len) != NULL)
    return npte_set_error (error, EPROTO, "NUL byte in the HTTP response head");
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize n = strlen (lines[i]);
      if (n > 0 && lines[i][n - 1] == '\r')
        lines[i][n - 1] = '\0';
      if (i == 0)
        {
          if (!parse_status_line (lines[0], head, error))
            return FALSE;
        }
      else if (lines[i][0] != '\0' && !parse_header (lines[i], head, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * take_line() - the next line of @buf from @*pos, without its end
 * @buf: bytes
 * @len: their number
 * @pos: (inout) start; moved past the line end when a line was found
 * @line_len: (out) length of the line without "\r\n"
 * @error: EPROTO when a line is longer than HTTPC_MAX_LINE
 *
 * Return: 1 if a line was taken, 0 if more data is needed, -1 on error.
 */
static int
take_line (const guint8 *buf, gsize len, gsize *pos, gsize *line_len, GError **error)
{
  const guint8 *nl = memchr (buf + *pos, '\n', len - *pos);

  if (nl == NULL)
    {
      if (len - *pos > HTTPC_MAX_LINE)
        {
          npte_set_error (error, EPROTO, "chunked body: line too long");
          return -1;
        }
      return 0;
    }
  *line_len = (gsize) (nl - (buf + *pos));
  if (*line_len > 0 && buf[*pos + *line_len - 1] == '\r')
    (*line_len)--;
  *pos = (gsize) (nl - buf) + 1;
  return 1;
}

/**
 * chunk_size() - parse a chunk-size line ("1a", "1a;ext=1")
 * @line: the line
 * @len: its length
 * @out: (out) the size
 * @error: EPROTO
 *
 * Return: TRUE on success.
 */
static gboolean
chunk_size (const guint8 *line, gsize len, guint64 *out, GError **error)
{
  guint64 v = 0;
  gsize i = 0;

  for (; i < len && g_ascii_isxdigit (line[i]); i++)
    {
      if (i >= 15)
        return npte_set_error (error, EPROTO, "chunked body: chunk size too large");
      v = v * 16 + (guint64) g_ascii_xdigit_value ((char) line[i]);
    }
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  if (i == 0 || (i < len && line[i] != ';'))
    return npte_set_error (error, EPROTO, "chunked body: malformed chunk size line");
  *out = v;
  return TRUE;
}

/**
 * chunked_feed() - decode as much of a chunked body as @buf holds
 * @ch: decoder state
 * @buf: undecoded body bytes
 * @len: their number
 * @out: decoded body; data is appended
 * @consumed: (out) bytes of @buf used up (the caller drops them)
 * @error: EPROTO for bad framing, EMSGSIZE past HTTPC_MAX_BODY
 *
 * Return: TRUE on success; ch->state is CHUNK_DONE once the body is complete.
 */
static gboolean
chunked_feed (Chunked *ch, const guint8 *buf, gsize len, GByteArray *out, gsize *consumed,
              GError **error)
{
  gsize pos = 0, line_len = 0;
  int r;

  while (ch->state != CHUNK_DONE)
    {
      gsize start = pos;
      if (ch->state == CHUNK_DATA)
        {
          gsize n = (gsize) MIN (ch->left, (guint64) (len - pos));
          if (n == 0)
            break;
          g_byte_array_append (out, buf + pos, (guint) n);
          pos += n;
          ch->left -= n;
          if (ch->left == 0)
            ch->state = CHUNK_DATA_END;
          continue;
        }
      if ((r = take_line (buf, len, &pos, &line_len, error)) <= 0)
        {
          if (r < 0)
            return FALSE;
          break;
        }
      if (ch->state == CHUNK_SIZE)
        {
          if (!chunk_size (buf + start, line_len, &ch->left, error))
            return FALSE;
          if (ch->left > HTTPC_MAX_BODY || out->len + ch->left > HTTPC_MAX_BODY)
            return npte_set_error (error, EMSGSIZE, "response body larger than %d bytes",
                                   HTTPC_MAX_BODY);
          ch->state = ch->left == 0 ? CHUNK_TRAILER : CHUNK_DATA;
        }
      else if (ch->state == CHUNK_DATA_END)
        {
          if (line_len != 0)
            return npte_set_error (error, EPROTO, "chunked body: missing CRLF after a chunk");
          ch->state = CHUNK_SIZE;
        }
      else if (line_len == 0) /* CHUNK_TRAILER: an empty line ends the body */
        ch->state = CHUNK_DONE;
    }
  *consumed = pos;
  return TRUE;
}

/* What has been received of one response. */
typedef struct {
  const char *path;    /* the socket, for messages */
  gboolean head_request;
  GByteArray *raw;     /* received bytes not yet consumed */
  gsize body_start;    /* offset of the body in raw; 0 until the head is in */
  Head head;
  gboolean no_body;
  Chunked ch;
  GByteArray *decoded; /* chunked body, decoded */
  gboolean eof;
} Reader;

/**
 * reader_head() - parse the head once it is complete, skipping 1xx responses
 * @r: reader
 * @error: EPROTO for a bad or oversized head, EMSGSIZE for a huge Content-Length
 *
 * Return: TRUE on success (r->body_start stays 0 while the head is incomplete).
 */
static gboolean
reader_head (Reader *r, GError **error)
{
  while (r->body_start == 0)
    {
      gsize end = find_head_end (r->raw->data, r->raw->len);
      if (end == 0)
        {
          if (r->raw->len > HTTPC_MAX_HEAD)
            return npte_set_error (error, EPROTO, "HTTP response head from %s is larger than %d bytes",
                                   r->path, HTTPC_MAX_HEAD);
          return TRUE;
        }
      g_clear_pointer (&r->head.content_type, g_free);
      if (!parse_head (r->raw->data, end, &r->head, error))
        return FALSE;
      if (r->head.status == 101)
        return npte_set_error (error, EPROTO, "unexpected HTTP 101 (protocol switch) from %s", r->path);
      if (r->head.status >= 200)
        r->body_start = end;
      else
        g_byte_array_remove_range (r->raw, 0, (guint) end); /* interim response */
    }
  r->no_body = r->head_request || r->head.status == 204 || r->head.status == 304;
  if (!r->no_body && !r->head.chunked && r->head.has_length && r->head.length > HTTPC_MAX_BODY)
    return npte_set_error (error, EMSGSIZE, "response body from %s is larger than %d bytes",
                           r->path, HTTPC_MAX_BODY);
  return TRUE;
}

/**
 * reader_step() - take in what has been received
 * @r: reader
 * @done: (out) set when the response is complete
 * @error: EPROTO (malformed or truncated), EMSGSIZE (too large)
 *
 * Return: TRUE on success.
 */
static gboolean
reader_step (Reader *r, gboolean *done, GError **error)
{
  gsize have;

  if (r->body_start == 0 && !reader_head (r, error))
    return FALSE;
  if (r->body_start == 0)
    {
      if (!r->eof)
        return TRUE;
      if (r->raw->len == 0)
        return npte_set_error (error, EPROTO, "%s closed the connection without a response", r->path);
      return npte_set_error (error, EPROTO, "%s closed the connection in the middle of the response head",
                             r->path);
    }
  have = r->raw->len - r->body_start;
  if (r->no_body)
    *done = TRUE;
  else if (r->head.chunked)
    {
      gsize used = 0;
      if (!chunked_feed (&r->ch, r->raw->data + r->body_start, have, r->decoded, &used, error))
        return FALSE;
      g_byte_array_remove_range (r->raw, (guint) r->body_start, (guint) used);
      *done = r->ch.state == CHUNK_DONE || (r->eof && r->ch.state == CHUNK_TRAILER);
      if (!*done && r->eof)
        return npte_set_error (error, EPROTO, "truncated chunked response from %s", r->path);
    }
  else if (r->head.has_length)
    {
      *done = have >= r->head.length;
      if (!*done && r->eof)
        return npte_set_error (error, EPROTO,
                               "truncated response from %s: got %" G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT
                               " body bytes", r->path, have, r->head.length);
    }
  else
    {
      if (have > HTTPC_MAX_BODY)
        return npte_set_error (error, EMSGSIZE, "response body from %s is larger than %d bytes",
                               r->path, HTTPC_MAX_BODY);
      *done = r->eof;
    }
  return TRUE;
}

/**
 * reader_finish() - move the complete response into @resp
 * @r: reader (its buffers are taken over or left to the caller to free)
 * @resp: (out) the response
 */
static void
reader_finish (Reader *r, HttpcResponse *resp)
{
  GByteArray *body;

  if (r->head.chunked && !r->no_body)
    body = g_steal_pointer (&r->decoded);
  else
    {
      gsize n = r->no_body ? 0 : r->raw->len - r->body_start;
      if (r->head.has_length && !r->no_body)
        n = (gsize) r->head.length;
      body = g_byte_array_sized_new ((guint) n + 1);
      g_byte_array_append (body, r->raw->data + r->body_start, (guint) n);
    }
  resp->status = r->head.status;
  resp->content_type = g_steal_pointer (&r->head.content_type);
  resp->body_len = body->len;
  g_byte_array_append (body, (const guint8 *) "", 1);
  resp->body = (char *) g_byte_array_free (body, FALSE);
}

/**
 * read_response() - read one complete response
 * @c: connection
 * @head_request: the request was HEAD (no body follows)
 * @resp: (out) the response
 * @error: ETIMEDOUT, EPROTO, EMSGSIZE or a read error
 *
 * Return: TRUE on success.
 */
static gboolean
read_response (const Conn *c, gboolean head_request, HttpcResponse *resp, GError **error)
{
  Reader r = {
    .path = c->path, .head_request = head_request,
    .raw = g_byte_array_new (), .decoded = g_byte_array_new (),
  };
  gboolean done = FALSE, ok = TRUE;

  while (ok && !done)
    {
      ok = reader_step (&r, &done, error);
      if (ok && !done)
        ok = conn_read (c, r.raw, &r.eof, error);
    }
  if (ok)
    reader_finish (&r, resp);
  g_byte_array_unref (r.raw);
  if (r.decoded != NULL)
    g_byte_array_unref (r.decoded);
  g_free (r.head.content_type);
  return ok;
}

/* is_token() - whether @s is a non-empty HTTP token (method name). */
static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && strchr ("!#$%&'*+-.^_`|~", *s) == NULL)
      return FALSE;
  return TRUE;
}

/* is_target() - whether @s is an origin-form request target without spaces or controls. */
static gboolean
is_target (const char *s)
{
  if (*s != '/')
    return FALSE;
  for (; *s != '\0'; s++)
    if ((guchar) *s <= 0x20 || *s == 0x7f)
      return FALSE;
  return TRUE;
}

gboolean
httpc_request (const char *socket_path, const char *method, const char *path,
               const char *body, int timeout_ms, HttpcResponse *resp, GError **error)
{
  Conn c = { .fd = -1, .path = socket_path, .timeout_ms = timeout_ms };
  npte_autofd int fd = -1;
  g_autoptr (GString) req = NULL;

  memset (resp, 0, sizeof *resp);
  if (!is_token (method) || !is_target (path))
    return npte_set_error (error, EINVAL, "invalid HTTP request \"%.16s %.80s\"", method, path);
  if (timeout_ms > 0)
    c.deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  if (!conn_open (&c, error))
    return FALSE;
  fd = c.fd;
  req = g_string_new (NULL);
  g_string_append_printf (req, "%s %s HTTP/1.1\r\nHost: npte\r\nConnection: close\r\n"
                               "Accept: application/json\r\n", method, path);
  if (body != NULL)
    g_string_append_printf (req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                            strlen (body));
  else if (strcmp (method, "POST") == 0 || strcmp (method, "PUT") == 0)
    g_string_append (req, "Content-Length: 0\r\n");
  g_string_append (req, "\r\n");
  if (body != NULL)
    g_string_append (req, body);
  if (!conn_send (&c, req->str, req->len, error))
    return FALSE;
  return read_response (&c, strcmp (method, "HEAD") == 0, resp, error);
}
