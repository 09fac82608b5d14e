/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the namespace socket pool (parent/pool.c) over the child link (parent/link.c),
 * against a fake child: a thread on the other end of a real SEQPACKET socketpair that answers
 * SOCKETS_REQ as the real child does (or with an error, or by hanging up, as told).
 * Covered: nspool_take_sync() with an empty stock, across several batches, when the child
 * answers an error or is gone; waiters queued before it are served first.
 */
#include "link.h"
#include "npte-error.h"
#include "pool.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

int main (void);

typedef enum {
  FAKE_ANSWER, /* answer every SOCKETS_REQ with its count of sockets */
  FAKE_ERROR,  /* answer with ERROR (EMFILE) */
  FAKE_HANGUP, /* close the socket at the first request */
} FakeMode;

typedef struct {
  int sock;
  FakeMode mode;
  int requests;   /* SOCKETS_REQ frames seen */
  int sockets;    /* sockets sent */
  GThread *thread;
} FakeChild;

typedef struct {
  struct ev_loop *loop;
  int psock; /* the parent's end: the link does not own it */
  ChildLink *link;
  NsPool *pool;
  FakeChild child;
} Fixture;

static gpointer
fake_child_main (gpointer data)
{
  FakeChild *fc = data;

  for (;;)
    {
      ProtoMsg req;
      g_autoptr (GError) error = NULL;
      ProtoRecvResult r = proto_recv (fc->sock, &req, &error);

      if (r != PROTO_RECV_OK)
        break;
      proto_msg_close_fds (&req);
      if (req.type != PROTO_MSG_SOCKETS_REQ)
        continue;
      g_atomic_int_inc (&fc->requests);
      if (fc->mode == FAKE_HANGUP)
        break;
      if (fc->mode == FAKE_ERROR)
        {
          g_autoptr (GError) e = NULL;
          npte_set_error (&e, EMFILE, "create sockets in the namespace: Too many open files");
          proto_send_error (fc->sock, req.id, e);
          continue;
        }
      int fds[PROTO_MAX_FDS];
      unsigned int n = MIN (req.u.sockets.count, PROTO_MAX_FDS);
      for (unsigned int i = 0; i < n; i++)
        fds[i] = socket ((int) req.u.sockets.family,
                         (int) req.u.sockets.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ProtoMsg msg;
      proto_msg_init (&msg, PROTO_MSG_SOCKETS, req.id);
      msg.u.sockets = req.u.sockets;
      msg.u.sockets.count = n;
      /* Counted before they are sent, so the parent never sees more than the count. */
      g_atomic_int_add (&fc->sockets, (int) n);
      proto_send (fc->sock, &msg, fds, n, NULL);
      for (unsigned int i = 0; i < n; i++)
        close (fds[i]);
    }
  close (fc->sock);
  return NULL;
}

static void ev_started (gpointer u, pid_t pid) {}
static void ev_exited (gpointer u, int st) {}
static void ev_error (gpointer u, int err, const char *m) {}
static void ev_eof (gpointer u) {}
static const ChildLinkEvents events = { ev_started, ev_exited, ev_error, ev_eof };

static Fixture *
fixture_new (FakeMode mode)
{
  Fixture *f = g_new0 (Fixture, 1);
  int sv[2];

  assert_int_equal (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  f->psock = sv[0];
  f->loop = ev_loop_new (EVFLAG_AUTO);
  f->link = childlink_new (f->loop, sv[0], &events, NULL);
  f->pool = nspool_new (f->link);
  f->child.sock = sv[1];
  f->child.mode = mode;
  f->child.thread = g_thread_new ("fake-child", fake_child_main, &f->child);
  return f;
}

static void
fixture_free (Fixture *f)
{
  nspool_free (f->pool);
  childlink_free (f->link);
  close (f->psock); /* the fake child sees EOF and ends */
  g_thread_join (f->child.thread);
  ev_loop_destroy (f->loop);
  g_free (f);
}

static gboolean
is_socket_of (int fd, int family, int socktype)
{
  int v = 0;
  socklen_t len = sizeof v;

  if (getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != family)
    return FALSE;
  len = sizeof v;
  return getsockopt (fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == socktype;
}

static void
test_take_sync_empty_stock (void **state)
{
  Fixture *f = fixture_new (FAKE_ANSWER);
  g_autoptr (GError) error = NULL;

  assert_int_equal (nspool_stock (f->pool, AF_INET6, SOCK_DGRAM), 0);
  int fd = nspool_take_sync (f->pool, AF_INET6, SOCK_DGRAM, &error);
  assert_null (error);
  assert_true (fd >= 0);
  assert_true (is_socket_of (fd, AF_INET6, SOCK_DGRAM));
  assert_int_equal (g_atomic_int_get (&f->child.requests), 1);
  assert_int_equal (nspool_stock (f->pool, AF_INET6, SOCK_DGRAM), PROTO_MAX_FDS - 1);
  /* The other kinds were not touched. */
  assert_int_equal (nspool_stock (f->pool, AF_INET, SOCK_STREAM), 0);
  assert_int_equal (nspool_stock (f->pool, AF_INET, SOCK_DGRAM), 0);
  close (fd);
  fixture_free (f);
}

static void
test_take_sync_many_batches (void **state)
{
  Fixture *f = fixture_new (FAKE_ANSWER);
  const int want = 3 * PROTO_MAX_FDS + 5; /* more than three batches */
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);

  for (int i = 0; i < want; i++)
    {
      g_autoptr (GError) error = NULL;
      int fd = nspool_take_sync (f->pool, AF_INET, SOCK_STREAM, &error);
      assert_null (error);
      assert_true (is_socket_of (fd, AF_INET, SOCK_STREAM));
      assert_false (g_hash_table_contains (seen, GINT_TO_POINTER (fd)));
      g_hash_table_add (seen, GINT_TO_POINTER (fd));
    }
  assert_int_equal (g_hash_table_size (seen), want);
  /* Every socket the fake child sent is either taken or in stock: none lost or doubled. */
  assert_int_equal (g_atomic_int_get (&f->child.sockets),
                    want + (int) nspool_stock (f->pool, AF_INET, SOCK_STREAM));
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, seen);
  while (g_hash_table_iter_next (&it, &key, NULL))
    close (GPOINTER_TO_INT (key));
  fixture_free (f);
}

typedef struct {
  int fd;
  int calls;
} WaiterResult;

static void
waiter_cb (gpointer user_data, int fd)
{
  WaiterResult *r = user_data;

  r->fd = fd;
  r->calls++;
}

static void
test_take_sync_serves_earlier_waiters_first (void **state)
{
  Fixture *f = fixture_new (FAKE_ANSWER);
  NsPoolWaiter w;
  WaiterResult r = { -1, 0 };
  g_autoptr (GError) error = NULL;

  nspool_wait (f->pool, AF_INET, SOCK_DGRAM, &w, waiter_cb, &r);
  int fd = nspool_take_sync (f->pool, AF_INET, SOCK_DGRAM, &error);
  assert_null (error);
  assert_int_equal (r.calls, 1);
  assert_true (r.fd >= 0);
  assert_int_not_equal (r.fd, fd);
  assert_int_equal (g_atomic_int_get (&f->child.requests), 1);
  assert_int_equal (nspool_stock (f->pool, AF_INET, SOCK_DGRAM), PROTO_MAX_FDS - 2);
  close (fd);
  close (r.fd);
  fixture_free (f);
}

static void
test_take_sync_child_error (void **state)
{
  Fixture *f = fixture_new (FAKE_ERROR);
  g_autoptr (GError) error = NULL;

  assert_int_equal (nspool_take_sync (f->pool, AF_INET, SOCK_STREAM, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, EMFILE));
  assert_string_equal (error->message,
                       "no namespace socket: create sockets in the namespace: Too many open files");
  /* The pool asked once and gave up: no busy loop of requests. */
  assert_int_equal (g_atomic_int_get (&f->child.requests), 1);
  fixture_free (f);
}

static void
test_take_sync_child_gone (void **state)
{
  Fixture *f = fixture_new (FAKE_HANGUP);
  g_autoptr (GError) error = NULL;

  assert_int_equal (nspool_take_sync (f->pool, AF_INET6, SOCK_STREAM, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, EPIPE));
  assert_non_null (strstr (error->message, "no namespace socket"));
  g_clear_error (&error);
  /* Once the link is dead, a second call fails at once. */
  assert_int_equal (nspool_take_sync (f->pool, AF_INET6, SOCK_STREAM, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, EPIPE));
  fixture_free (f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_take_sync_empty_stock),
    cmocka_unit_test (test_take_sync_many_batches),
    cmocka_unit_test (test_take_sync_serves_earlier_waiters_first),
    cmocka_unit_test (test_take_sync_child_error),
    cmocka_unit_test (test_take_sync_child_gone),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
