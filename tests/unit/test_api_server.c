/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the real REST API server (api_server_new) on a socket in a
 * temporary directory, driven by an ev loop in a thread and called with
 * httpc_request(): socket mode, routes, the body limit, raw HTTP (chunked,
 * keep-alive, garbage), a slow client, and the socket path.
 */
#include "api-helpers.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "httpc.h"
#include "util.h"

int main (void);

#define TIMEOUT_MS 10000

typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
  char *dir;
  char *path;
  struct ev_loop *loop;
  ev_async stop;
  ApiServer *server;
  GThread *thread;
} ServerFixture;

static void
on_stop (struct ev_loop *loop, ev_async *w, int revents)
{
  ev_break (loop, EVBREAK_ALL);
}

static gpointer
loop_thread (gpointer data)
{
  ServerFixture *fx = data;

  ev_run (fx->loop, 0);
  return NULL;
}

static int
server_setup (void **state)
{
  ServerFixture *fx = g_new0 (ServerFixture, 1);
  g_autoptr (GError) error = NULL;

  fx->driver.next_auto_port = 40000;
  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
  fx->dir = g_dir_make_tmp ("npte-api-XXXXXX", NULL);
  fx->path = g_build_filename (fx->dir, "api.sock", NULL);
  fx->loop = ev_loop_new (EVFLAG_AUTO);
  fx->server = api_server_new (fx->loop, fx->path, fx->mgr, &test_info, &error);
  if (fx->server == NULL)
    fail_msg ("api_server_new: %s", error->message);
  ev_async_init (&fx->stop, on_stop);
  ev_async_start (fx->loop, &fx->stop);
  fx->thread = g_thread_new ("ev", loop_thread, fx);
  *state = fx;
  return 0;
}

static int
server_teardown (void **state)
{
  ServerFixture *fx = *state;

  ev_async_send (fx->loop, &fx->stop);
  g_thread_join (fx->thread);
  api_server_free (fx->server);
  /* The socket is gone once the server is freed. */
  assert_false (g_file_test (fx->path, G_FILE_TEST_EXISTS));
  ev_loop_destroy (fx->loop);
  portmgr_free (fx->mgr);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
  g_free (fx);
  return 0;
}

/**
 * request() - one request to the test server; asserts that it completed
 * @fx: fixture
 * @method: method
 * @path: path
 * @body: body or NULL
 * @resp: (out) response
 */
static void
request (ServerFixture *fx, const char *method, const char *path, const char *body,
         HttpcResponse *resp)
{
  g_autoptr (GError) error = NULL;

  if (!httpc_request (fx->path, method, path, body, TIMEOUT_MS, resp, &error))
    fail_msg ("%s %s: %s", method, path, error->message);
}

/**
 * request_json() - request() answered with @status and a JSON content type
 * @fx: fixture
 * @method: method
 * @path: path
 * @body: request body or NULL
 * @status: expected HTTP status
 * @resp: (out) response
 */
static void
request_json (ServerFixture *fx, const char *method, const char *path, const char *body,
              unsigned int status, HttpcResponse *resp)
{
  request (fx, method, path, body, resp);
  assert_int_equal (resp->status, status);
  assert_string_equal (resp->content_type, "application/json");
}

/**
 * expect_http() - one request to the test server answers @status with exactly @want
 * @fx: fixture
 * @method: method
 * @path: path
 * @body: request body or NULL
 * @status: expected HTTP status
 * @want: expected response body, or NULL not to check it
 */
static void
expect_http (ServerFixture *fx, const char *method, const char *path, const char *body,
             unsigned int status, const char *want)
{
  g_auto (HttpcResponse) r = { 0 };

  request (fx, method, path, body, &r);
  assert_int_equal (r.status, status);
  if (want != NULL)
    assert_string_equal (r.body, want);
}

/**
 * raw_request() - send raw text on a new connection and read until EOF
 * @fx: fixture
 * @raw: request text
 *
 * Return: (transfer full) what the server sent.
 */
static GString *
raw_request (ServerFixture *fx, const char *raw)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = { .tv_sec = 10 };
  GString *out = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void) !send (fd, raw, strlen (raw), MSG_NOSIGNAL);
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  return out;
}

static void
test_server_socket_mode (void **state)
{
  ServerFixture *fx = *state;
  struct stat st;

  assert_int_equal (lstat (fx->path, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0600);
}

static void
test_server_routes (void **state)
{
  ServerFixture *fx = *state;
  g_autofree char *info = apijson_info_encode (&test_info);
  g_auto (HttpcResponse) r = { 0 };

  request_json (fx, "GET", "/v1/info", NULL, 200, &r);
  assert_string_equal (r.body, info);
  httpc_response_clear (&r);

  expect_http (fx, "GET", "/v1/ports", NULL, 200, "[]");

  request_json (fx, "POST", "/v1/ports", "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}",
                201, &r);
  assert_true (g_str_has_prefix (r.body, "{\"id\":1,\"spec\":{\"proto\":\"tcp\",\"parentPort\":8080,"));
  httpc_response_clear (&r);

  request (fx, "GET", "/v1/ports", NULL, &r);
  assert_int_equal (r.status, 200);
  g_autoptr (GPtrArray) list = apijson_status_list_decode (r.body, r.body_len, NULL);
  assert_int_equal (list->len, 1);
  httpc_response_clear (&r);

  request_json (fx, "POST", "/v1/ports", "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":81}",
                400, &r);
  assert_non_null (strstr (r.body, "conflict with ID 1"));
  httpc_response_clear (&r);

  request (fx, "DELETE", "/v1/ports/1", NULL, &r);
  assert_int_equal (r.status, 200);
  assert_int_equal (r.body_len, 0);
  httpc_response_clear (&r);

  expect_http (fx, "DELETE", "/v1/ports/1", NULL, 400, "{\"message\":\"unknown id: 1\"}");
  expect_http (fx, "GET", "/v1/nope", NULL, 404, "{\"message\":\"not found: /v1/nope\"}");
  expect_http (fx, "PUT", "/v1/info", "{}", 405, NULL);
  expect_http (fx, "GET", "/v1/ports", NULL, 200, "[]");
}

static void
test_server_body_limit (void **state)
{
  ServerFixture *fx = *state;
  const char *spec = "{\"proto\":\"tcp\",\"parentPort\":8080,\"childPort\":80}";
  g_autoptr (GString) body = g_string_new (spec);
  g_auto (HttpcResponse) r = { 0 };
  g_autoptr (GString) raw = NULL;

  /* One byte over the limit: 413 and nothing added. */
  while (body->len < API_MAX_BODY + 1)
    g_string_append_c (body, ' ');
  request_json (fx, "POST", "/v1/ports", body->str, 413, &r);
  assert_string_equal (r.body, "{\"message\":\"request body too large (the limit is 65536 bytes)\"}");
  httpc_response_clear (&r);
  /* Far over (4 MiB): the client still gets the answer. */
  while (body->len < 4 * 1024 * 1024)
    g_string_append (body, "                                ");
  expect_http (fx, "POST", "/v1/ports", body->str, 413, NULL);
  expect_http (fx, "GET", "/v1/ports", NULL, 200, "[]");

  /* Exactly the limit is fine. */
  g_string_truncate (body, API_MAX_BODY);
  expect_http (fx, "POST", "/v1/ports", body->str, 201, NULL);

  /* A huge announced length is refused before any body is sent. */
  raw = raw_request (fx, "POST /v1/ports HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  assert_true (g_str_has_prefix (raw->str, "HTTP/1.1 413 "));
}

static void
test_server_raw_requests (void **state)
{
  static const char chunked[]
    = "POST /v1/ports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "10\r\n{\"proto\":\"udp\",\r\n1f\r\n\"parentPort\":53,\"childPort\":53}\r\n0\r\n\r\n";
  static const char keepalive[]
    = "GET /v1/ports HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/info HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n";
  ServerFixture *fx = *state;
  g_autoptr (GString) out = NULL;

  /* A chunked request body is reassembled. */
  out = raw_request (fx, chunked);
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 201 "));
  assert_non_null (strstr (out->str, "\"parentPort\":53"));
  g_string_free (out, TRUE);
  /* Two requests on one connection, as Go's client may do. */
  out = raw_request (fx, keepalive);
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 200 "));
  assert_non_null (strstr (out->str, "\"apiVersion\":\"1.1.1\""));
  g_string_free (out, TRUE);
  /* Garbage gets an HTTP error from libmicrohttpd, and the server lives on. */
  out = raw_request (fx, "\x16\x03\x01garbage\r\n\r\n");
  if (out->len > 0 && !g_str_has_prefix (out->str, "HTTP/1.1 4"))
    fail_msg ("garbage got %s", out->str);
  g_string_free (out, TRUE);
  out = raw_request (fx, "GET /v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert_true (g_str_has_prefix (out->str, "HTTP/1.1 200 "));
}

static void
test_server_slow_client (void **state)
{
  ServerFixture *fx = *state;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gint64 start;

  g_strlcpy (sun.sun_path, fx->path, sizeof sun.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  assert_int_equal (send (fd, "GET /v1/in", 10, MSG_NOSIGNAL), 10);
  /* Half a request on one connection does not hold up the others. */
  start = g_get_monotonic_time ();
  for (int i = 0; i < 200; i++)
    expect_http (fx, "GET", "/v1/info", NULL, 200, NULL);
  assert_true (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC);
}

static void
test_server_path_handling (void **state)
{
  g_autofree char *dir = g_dir_make_tmp ("npte-api-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "api.sock", NULL);
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  struct ev_loop *loop = ev_loop_new (EVFLAG_AUTO);
  g_autoptr (GError) error = NULL;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  ApiServer *server;
  int fd;
  g_autoptr (GString) longpath = g_string_new (dir);

  /* A stale socket (its server gone) is replaced. */
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  assert_int_equal (bind (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  close (fd);
  server = api_server_new (loop, path, NULL, &test_info, &error);
  assert_non_null (server);
  api_server_free (server);
  assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Something else at the path is not removed. */
  assert_true (g_file_set_contents (file, "keep", -1, NULL));
  assert_null (api_server_new (loop, file, NULL, &test_info, &error));
  assert_int_equal (error->code, EEXIST);
  assert_non_null (strstr (error->message, file));
  assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_clear_error (&error);

  while (longpath->len < 120)
    g_string_append (longpath, "/xxxxxxxxxx");
  assert_null (api_server_new (loop, longpath->str, NULL, &test_info, &error));
  assert_int_equal (error->code, ENAMETOOLONG);
  g_clear_error (&error);

  g_unlink (file);
  g_rmdir (dir);
  ev_loop_destroy (loop);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_server_socket_mode, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_routes, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_body_limit, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_raw_requests, server_setup, server_teardown),
    cmocka_unit_test_setup_teardown (test_server_slow_client, server_setup, server_teardown),
    cmocka_unit_test (test_server_path_handling),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
