/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the HTTP client: a server thread in the test serves canned
 * responses over a UNIX socket in a temporary directory, so framing
 * (Content-Length, chunked, close-delimited), error paths (truncation,
 * garbage, timeout, missing socket) and the request bytes are all checked.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "httpc.h"
#include "npte-error.h"
#include "util.h"

int main (void);

#define TIMEOUT_MS 5000

/* What the server thread does with its one connection. */
typedef struct {
  const char *response;   /* bytes to send (NUL-terminated) */
  gsize response_len;     /* 0 = strlen (response) */
  gboolean read_body;     /* read the request body announced by Content-Length */
  gboolean trickle;       /* send the response one byte at a time */
  gboolean never_answer;  /* keep the connection open until the client leaves */
  GString *request;       /* (out) the request head and body as received */
} Script;

/* Per-test fixture: a temporary dir with a listening socket. */
typedef struct {
  char *dir;
  char *path;
  int listen_fd;
  GThread *thread;
  Script script;
} Fixture;

/**
 * read_request() - read a request head and (optionally) its body
 * @fd: the connection
 * @script: where to store it and whether to read the body
 */
static void
read_request (int fd, Script *script)
{
  char buf[4096];
  gsize body_need = 0;
  const char *end = NULL;

  while (end == NULL)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n <= 0)
        return;
      g_string_append_len (script->request, buf, n);
      end = strstr (script->request->str, "\r\n\r\n");
    }
  const char *cl = strstr (script->request->str, "Content-Length: ");
  if (cl != NULL)
    body_need = (gsize) g_ascii_strtoull (cl + 16, NULL, 10);
  gsize head_len = (gsize) (end + 4 - script->request->str);
  while (script->read_body && script->request->len < head_len + body_need)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n <= 0)
        return;
      g_string_append_len (script->request, buf, n);
    }
}

static gpointer
server_thread (gpointer data)
{
  Fixture *fx = data;
  Script *script = &fx->script;
  npte_autofd int fd = accept4 (fx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  gsize len;

  if (fd < 0)
    return NULL;
  read_request (fd, script);
  if (script->never_answer)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char c;
      /* Wait until the client gives up and closes (or 10 s pass). */
      while (poll (&pfd, 1, 10000) > 0 && read (fd, &c, 1) > 0)
        ;
      return NULL;
    }
  len = script->response_len != 0 ? script->response_len : strlen (script->response);
  if (!script->trickle)
    (void) !send (fd, script->response, len, MSG_NOSIGNAL);
  else
    for (gsize i = 0; i < len; i++)
      {
        (void) !send (fd, script->response + i, 1, MSG_NOSIGNAL);
        g_usleep (200);
      }
  return NULL;
}

static int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);
  struct sockaddr_un sun = { .sun_family = AF_UNIX };

  fx->dir = g_dir_make_tmp ("npte-httpc-XXXXXX", NULL);
  assert_non_null (fx->dir);
  fx->path = g_build_filename (fx->dir, "api.sock", NULL);
  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  fx->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (fx->listen_fd >= 0);
  assert_int_equal (bind (fx->listen_fd, (struct sockaddr *) &sun, sizeof sun), 0);
  assert_int_equal (listen (fx->listen_fd, 8), 0);
  fx->script.request = g_string_new (NULL);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fx = *state;

  if (fx->thread != NULL)
    g_thread_join (fx->thread);
  close (fx->listen_fd);
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_string_free (fx->script.request, TRUE);
  g_free (fx->path);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/* serve() - start the server thread answering with @response. */
static void
serve (Fixture *fx, const char *response)
{
  fx->script.response = response;
  fx->thread = g_thread_new ("server", server_thread, fx);
}

/* finish() - wait for the server thread to be done with its connection. */
static void
finish (Fixture *fx)
{
  g_thread_join (fx->thread);
  fx->thread = NULL;
}

/**
 * request_fails() - run a GET that must fail with @code and a message containing @needle
 * @fx: fixture (server already started)
 * @code: expected errno code
 * @needle: substring of the message
 */
static void
request_fails (Fixture *fx, int code, const char *needle)
{
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;

  assert_false (httpc_request (fx->path, "GET", "/v1/info", NULL, TIMEOUT_MS, &resp, &error));
  assert_non_null (error);
  if (error->code != code || strstr (error->message, needle) == NULL)
    fail_msg ("got (%d) \"%s\", want (%d) \"...%s...\"", error->code, error->message, code, needle);
  assert_null (resp.body);
  finish (fx);
}

static void
test_content_length (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;

  serve (fx, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
             "\r\n{}extra bytes beyond the length");
  assert_true (httpc_request (fx->path, "GET", "/v1/info", NULL, TIMEOUT_MS, &resp, &error));
  assert_null (error);
  assert_int_equal (resp.status, 200);
  assert_string_equal (resp.content_type, "application/json");
  assert_string_equal (resp.body, "{}");
  assert_int_equal (resp.body_len, 2);
  finish (fx);
  assert_string_equal (fx->script.request->str,
                       "GET /v1/info HTTP/1.1\r\nHost: npte\r\nConnection: close\r\n"
                       "Accept: application/json\r\n\r\n");
}

static void
test_post_body (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  const char *body = "{\"proto\":\"tcp\"}";

  fx->script.read_body = TRUE;
  serve (fx, "HTTP/1.1 201 Created\r\ncontent-length: 9\r\nCONTENT-TYPE: text/plain\r\n"
             "X-Other:  x \r\n\r\n{\"id\":1}\n");
  assert_true (httpc_request (fx->path, "POST", "/v1/ports", body, TIMEOUT_MS, &resp, NULL));
  assert_int_equal (resp.status, 201);
  assert_string_equal (resp.content_type, "text/plain");
  assert_string_equal (resp.body, "{\"id\":1}\n");
  finish (fx);
  assert_string_equal (fx->script.request->str,
                       "POST /v1/ports HTTP/1.1\r\nHost: npte\r\nConnection: close\r\n"
                       "Accept: application/json\r\nContent-Type: application/json\r\n"
                       "Content-Length: 15\r\n\r\n{\"proto\":\"tcp\"}");
}

static void
test_chunked (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };

  fx->script.trickle = TRUE;
  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "4\r\nWiki\r\n5;name=value\r\npedia\r\nD \r\n in\r\n\r\nchunks\r\n0\r\n"
             "X-Trailer: yes\r\n\r\n");
  assert_true (httpc_request (fx->path, "GET", "/", NULL, TIMEOUT_MS, &resp, NULL));
  assert_int_equal (resp.status, 200);
  assert_null (resp.content_type);
  assert_string_equal (resp.body, "Wikipedia in\r\n\r\nchunks");
  assert_int_equal (resp.body_len, 22);
  finish (fx);
}

static void
test_chunked_bad (void **state)
{
  Fixture *fx = *state;

  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
  request_fails (fx, EPROTO, "chunk size");
  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");
  request_fails (fx, EPROTO, "missing CRLF");
  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  request_fails (fx, EPROTO, "unsupported Transfer-Encoding");
  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2000000\r\n");
  request_fails (fx, EMSGSIZE, "larger than");
}

static void
test_close_delimited (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };

  /* LF-only line ends and no length: the body runs to the end of the stream. */
  serve (fx, "HTTP/1.0 404 Not Found\nContent-Type: text/plain\n\n404 page not found\n");
  assert_true (httpc_request (fx->path, "DELETE", "/v1/ports/1", NULL, TIMEOUT_MS, &resp, NULL));
  assert_int_equal (resp.status, 404);
  assert_string_equal (resp.body, "404 page not found\n");
  finish (fx);
}

static void
test_no_body_statuses (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };

  /* 100 Continue is skipped; 204 has no body even without a length. */
  serve (fx, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  assert_true (httpc_request (fx->path, "DELETE", "/v1/ports/2", NULL, TIMEOUT_MS, &resp, NULL));
  assert_int_equal (resp.status, 204);
  assert_non_null (resp.body);
  assert_string_equal (resp.body, "");
  assert_int_equal (resp.body_len, 0);
  finish (fx);
  /* Empty 200 body with Content-Length: 0, as npte answers DELETE. */
  httpc_response_clear (&resp);
  serve (fx, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  assert_true (httpc_request (fx->path, "DELETE", "/v1/ports/2", NULL, TIMEOUT_MS, &resp, NULL));
  assert_int_equal (resp.status, 200);
  assert_int_equal (resp.body_len, 0);
  finish (fx);
}

static void
test_truncated (void **state)
{
  Fixture *fx = *state;

  serve (fx, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  request_fails (fx, EPROTO, "got 3 of 10 body bytes");
  serve (fx, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
  request_fails (fx, EPROTO, "truncated chunked response");
  serve (fx, "HTTP/1.1 200 OK\r\nContent-Le");
  request_fails (fx, EPROTO, "in the middle of the response head");
  serve (fx, "");
  request_fails (fx, EPROTO, "without a response");
}

static void
test_garbage (void **state)
{
  static const char nul_head[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
  Fixture *fx = *state;
  static const char *const bad[] = {
    "HTTP/1.1 abc OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 200\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      serve (fx, bad[i]);
      request_fails (fx, EPROTO, "malformed HTTP status line");
    }
  serve (fx, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n");
  request_fails (fx, EPROTO, "malformed HTTP header line");
  serve (fx, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");
  request_fails (fx, EPROTO, "bad Content-Length");
  serve (fx, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
  request_fails (fx, EPROTO, "bad Content-Length");
  serve (fx, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n");
  request_fails (fx, EMSGSIZE, "larger than");
  fx->script.response_len = sizeof nul_head - 1;
  serve (fx, nul_head);
  request_fails (fx, EPROTO, "NUL byte");
}

static void
test_huge_head (void **state)
{
  Fixture *fx = *state;
  g_autoptr (GString) resp = g_string_new ("HTTP/1.1 200 OK\r\n");

  while (resp->len < 70 * 1024)
    g_string_append (resp, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
  serve (fx, resp->str);
  request_fails (fx, EPROTO, "larger than");
}

static void
test_timeout (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  fx->script.never_answer = TRUE;
  serve (fx, "");
  assert_false (httpc_request (fx->path, "GET", "/v1/info", NULL, 200, &resp, &error));
  elapsed = g_get_monotonic_time () - start;
  assert_int_equal (error->code, ETIMEDOUT);
  assert_non_null (strstr (error->message, "timed out after 200 ms"));
  assert_non_null (strstr (error->message, fx->path));
  assert_true (elapsed >= 200 * 1000);
  assert_true (elapsed < 3 * G_USEC_PER_SEC);
  finish (fx);
}

static void
test_missing_socket (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (fx->dir, "nope.sock", NULL);
  g_autoptr (GString) longpath = g_string_new ("/tmp/");

  assert_false (httpc_request (path, "GET", "/v1/info", NULL, TIMEOUT_MS, &resp, &error));
  assert_int_equal (error->code, ENOENT);
  assert_non_null (strstr (error->message, path));
  g_clear_error (&error);

  /* A path that exists but is no socket. */
  assert_false (httpc_request (fx->dir, "GET", "/v1/info", NULL, TIMEOUT_MS, &resp, &error));
  assert_int_equal (error->code, ECONNREFUSED);
  assert_non_null (strstr (error->message, fx->dir));
  g_clear_error (&error);

  while (longpath->len < 200)
    g_string_append (longpath, "x");
  assert_false (httpc_request (longpath->str, "GET", "/", NULL, TIMEOUT_MS, &resp, &error));
  assert_int_equal (error->code, ENAMETOOLONG);
}

static void
test_refused_stale_socket (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;

  /* A socket file whose server is gone: ECONNREFUSED naming the path. */
  close (fx->listen_fd);
  fx->listen_fd = -1;
  assert_false (httpc_request (fx->path, "GET", "/v1/info", NULL, TIMEOUT_MS, &resp, &error));
  assert_int_equal (error->code, ECONNREFUSED);
  assert_non_null (strstr (error->message, fx->path));
}

static void
test_early_answer (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_malloc (4 * 1024 * 1024 + 1);

  /* The server answers 413 after the head and hangs up without reading the
   * 4 MiB body: the client must still report the answer. */
  memset (big, 'x', 4 * 1024 * 1024);
  big[4 * 1024 * 1024] = '\0';
  serve (fx, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 17\r\n\r\n{\"message\":\"big\"}");
  assert_true (httpc_request (fx->path, "POST", "/v1/ports", big, TIMEOUT_MS, &resp, &error));
  assert_null (error);
  assert_int_equal (resp.status, 413);
  assert_string_equal (resp.body, "{\"message\":\"big\"}");
  finish (fx);
}

static void
test_bad_request_args (void **state)
{
  Fixture *fx = *state;
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;

  assert_false (httpc_request (fx->path, "GET", "/v1/info HTTP/1.0\r\nX: y", NULL, 100, &resp,
                               &error));
  assert_int_equal (error->code, EINVAL);
  g_clear_error (&error);
  assert_false (httpc_request (fx->path, "G ET", "/", NULL, 100, &resp, &error));
  assert_int_equal (error->code, EINVAL);
  g_clear_error (&error);
  assert_false (httpc_request (fx->path, "GET", "v1/info", NULL, 100, &resp, &error));
  assert_int_equal (error->code, EINVAL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_content_length, setup, teardown),
    cmocka_unit_test_setup_teardown (test_post_body, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chunked, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chunked_bad, setup, teardown),
    cmocka_unit_test_setup_teardown (test_close_delimited, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_body_statuses, setup, teardown),
    cmocka_unit_test_setup_teardown (test_truncated, setup, teardown),
    cmocka_unit_test_setup_teardown (test_garbage, setup, teardown),
    cmocka_unit_test_setup_teardown (test_huge_head, setup, teardown),
    cmocka_unit_test_setup_teardown (test_timeout, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_socket, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refused_stale_socket, setup, teardown),
    cmocka_unit_test_setup_teardown (test_early_answer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_request_args, setup, teardown),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
