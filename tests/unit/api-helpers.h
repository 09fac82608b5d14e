/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the unit tests of the REST API (test_api_*.c): a port
 * driver that opens nothing, the NpteInfo the API reports, a port manager
 * fixture, and api_handle() wrappers that check the response.
 * Each test file is its own program, so these are static inline.
 */
#ifndef NPTE_TEST_API_HELPERS_H
#define NPTE_TEST_API_HELPERS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "apijson.h"
#include "npte-error.h"

/* A port driver that opens nothing; it can be told to fail the next open. */
typedef struct {
  int opened;
  int closed;
  gboolean fail_next;
  int next_auto_port;
} FakeDriver;

static inline gboolean
fake_open (gpointer driver, PortEntry *entry, GError **error)
{
  FakeDriver *d = driver;

  if (d->fail_next)
    {
      d->fail_next = FALSE;
      return npte_set_error (error, EADDRINUSE, "listen tcp :%d: bind: address already in use",
                             entry->spec.parent_port);
    }
  /* The listening side picks the free port: the host's, or the namespace's for reverse. */
  if (entry->spec.reverse && entry->spec.child_port == 0)
    entry->spec.child_port = d->next_auto_port++;
  else if (!entry->spec.reverse && entry->spec.parent_port == 0)
    entry->spec.parent_port = d->next_auto_port++;
  entry->counters.conns_accepted = 7;
  entry->counters.bytes_in = 100;
  d->opened++;
  return TRUE;
}

static inline void
fake_close (gpointer driver, PortEntry *entry)
{
  FakeDriver *d = driver;

  d->closed++;
}

static const char *const fake_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };
static const PortDriverOps fake_ops = {
  .name = "fake", .protos = fake_protos, .supports_reverse = TRUE, .open = fake_open,
  .close = fake_close,
};

static const char *const test_dns[] = { "10.0.2.3", NULL };
static const NpteInfo test_info = {
  .api_version = "1.1.1", .version = "0.1.0", .state_dir = "/tmp/npte-test", .child_pid = 99,
  .net_driver = "slirp", .net_dns = test_dns, .port_driver = "fake", .port_protos = fake_protos,
};

typedef struct {
  FakeDriver driver;
  PortMgr *mgr;
} Fixture;

static inline int
setup (void **state)
{
  Fixture *fx = g_new0 (Fixture, 1);

  fx->driver.next_auto_port = 40000;
  fx->mgr = portmgr_new (&fake_ops, &fx->driver);
  *state = fx;
  return 0;
}

static inline int
teardown (void **state)
{
  Fixture *fx = *state;

  portmgr_free (fx->mgr);
  g_free (fx);
  return 0;
}

/**
 * call() - api_handle() with a NUL-terminated body (or NULL)
 * @mgr: manager (may be NULL)
 * @method: method
 * @path: path
 * @body: body or NULL
 * @resp: (out) the response
 */
static inline void
call (PortMgr *mgr, const char *method, const char *path, const char *body, ApiResponse *resp)
{
  api_handle (mgr, &test_info, method, path, body, body != NULL ? strlen (body) : 0, resp);
}

/**
 * expect_error() - a request must fail with @status and a message containing @needle
 * @mgr: manager
 * @method: method
 * @path: path
 * @body: body or NULL
 * @status: expected HTTP status
 * @needle: substring of the "message"
 */
static inline void
expect_error (PortMgr *mgr, const char *method, const char *path, const char *body,
              unsigned int status, const char *needle)
{
  ApiResponse resp;
  g_autofree char *message = NULL;

  call (mgr, method, path, body, &resp);
  if (resp.status != status)
    fail_msg ("%s %s %s: status %u (%s), want %u", method, path, body ? body : "",
              resp.status, resp.body ? resp.body : "", status);
  assert_non_null (resp.body);
  assert_true (apijson_validate (resp.body, strlen (resp.body), NULL));
  assert_true (g_str_has_prefix (resp.body, "{\"message\":\""));
  message = apijson_error_decode (resp.body, strlen (resp.body));
  if (message[0] == '\0' || strstr (message, needle) == NULL)
    fail_msg ("%s %s %s: message \"%s\" lacks \"%s\"", method, path, body ? body : "", message,
              needle);
  assert_true (status == 405 || resp.allow == NULL);
  g_free (resp.body);
}

/* list_json() - the body of GET /v1/ports (asserting 200). */
static inline char *
list_json (PortMgr *mgr)
{
  ApiResponse resp;

  call (mgr, "GET", "/v1/ports", NULL, &resp);
  assert_int_equal (resp.status, 200);
  assert_non_null (resp.body);
  return resp.body;
}

/* add() - POST @body, assert 201 and return the new id. */
static inline int
add (PortMgr *mgr, const char *body)
{
  ApiResponse resp;
  PortEntry e;

  call (mgr, "POST", "/v1/ports", body, &resp);
  if (resp.status != 201)
    fail_msg ("POST %s: %u %s", body, resp.status, resp.body);
  assert_true (apijson_status_decode (resp.body, strlen (resp.body), &e, NULL));
  g_free (resp.body);
  return e.id;
}


/**
 * expect_response() - api_handle() answers @status with exactly @want (or no body)
 * @mgr: manager
 * @method: method
 * @path: path
 * @body: request body or NULL
 * @status: expected HTTP status
 * @want: expected response body, or NULL for none
 */
static inline void
expect_response (PortMgr *mgr, const char *method, const char *path, const char *body,
                 unsigned int status, const char *want)
{
  ApiResponse resp;

  call (mgr, method, path, body, &resp);
  if (resp.status != status)
    fail_msg ("%s %s %s: status %u (%s), want %u", method, path, body ? body : "", resp.status,
              resp.body ? resp.body : "", status);
  assert_true (status == 405 || resp.allow == NULL);
  if (want == NULL)
    assert_null (resp.body);
  else
    assert_string_equal (resp.body, want);
  g_free (resp.body);
}

/**
 * expect_created() - POST @body answers 201 with a body that contains @needle
 * @mgr: manager
 * @body: request body
 * @needle: substring of the response body
 */
static inline void
expect_created (PortMgr *mgr, const char *body, const char *needle)
{
  ApiResponse resp;

  call (mgr, "POST", "/v1/ports", body, &resp);
  assert_int_equal (resp.status, 201);
  if (strstr (resp.body, needle) == NULL)
    fail_msg ("POST %s: %s lacks %s", body, resp.body, needle);
  g_free (resp.body);
}

/* A request body the API must refuse, and a substring of its message. */
typedef struct {
  const char *body, *needle;
} BadPost;

/**
 * expect_bad_posts_change_nothing() - each of @cases and a failing driver get 400, and
 *                                     leave the list as it was
 * @fx: fixture
 * @cases: refused bodies
 * @n: size of @cases
 * @body: a valid body the driver then fails to open once, and opens the next time
 * @id: the id @body must get then (no id was used up)
 */
static inline void
expect_bad_posts_change_nothing (Fixture *fx, const BadPost *cases, gsize n, const char *body,
                                 int id)
{
  g_autofree char *before = list_json (fx->mgr);
  g_autofree char *after = NULL;
  int opened = fx->driver.opened;

  for (gsize i = 0; i < n; i++)
    expect_error (fx->mgr, "POST", "/v1/ports", cases[i].body, 400, cases[i].needle);
  fx->driver.fail_next = TRUE;
  expect_error (fx->mgr, "POST", "/v1/ports", body, 400, "address already in use");
  after = list_json (fx->mgr);
  assert_string_equal (after, before);
  assert_int_equal (fx->driver.opened, opened);
  assert_int_equal (add (fx->mgr, body), id);
}

#endif /* NPTE_TEST_API_HELPERS_H */
