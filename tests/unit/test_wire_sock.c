/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of proto_send() and proto_recv() on a real AF_UNIX SOCK_SEQPACKET
 * socketpair: fd passing (SOCKETS and TAP), the closing of every fd that
 * arrives with a bad frame, the sender's fd checks, EOF, EAGAIN, EPIPE.
 * The codec itself (proto_encode()/proto_decode() on buffers) is tested in
 * test_wire.c.
 */
#include "npte-error.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

int main (void);

/* Write a frame with an arbitrary header; returns its size. */
static gsize
frame (uint8_t *buf, uint16_t type, uint16_t flags, uint32_t id, uint32_t len_field,
       const void *payload, gsize plen)
{
  ProtoHeader h = { .type = type, .flags = flags, .id = id, .len = len_field };

  memcpy (buf, &h, sizeof h);
  if (plen > 0)
    memcpy (buf + sizeof h, payload, plen);
  return sizeof h + plen;
}

/* Payload of three u32 values. */
static gsize
frame3 (uint8_t *buf, uint16_t type, uint32_t a, uint32_t b, uint32_t c)
{
  uint32_t p[3] = { a, b, c };

  return frame (buf, type, 0, 9, sizeof p, p, sizeof p);
}

/* ---- real SOCK_SEQPACKET socketpair ---- */

static unsigned int
count_open_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  unsigned int n = 0;

  assert_non_null (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
make_pair (int sv[2], int extra_flags)
{
  assert_int_equal (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | extra_flags, 0, sv), 0);
}

static void
close_pair (int sv[2])
{
  close (sv[0]);
  close (sv[1]);
}

/* sendmsg() of raw bytes and fds, bypassing proto_send()'s checks. */
static void
raw_send (int sock, const void *data, gsize len, const int *fds, unsigned int n_fds)
{
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (int) * 128)];
  } control;
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  assert_true (n_fds <= 128);
  if (n_fds > 0)
    {
      struct cmsghdr *c;

      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
      c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * n_fds);
    }
  assert_int_equal (sendmsg (sock, &mh, MSG_NOSIGNAL), (ssize_t) len);
}

static void
assert_recv_fails (int sock, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  ProtoMsg out;

  assert_int_equal (proto_recv (sock, &out, &error), PROTO_RECV_ERROR);
  assert_non_null (error);
  assert_int_equal (error->code, code);
  if (strstr (error->message, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", error->message, needle);
  assert_int_equal (out.n_fds, 0);
}

/* Send a SOCKETS frame with @n real TCP sockets; check what arrives. */
static void
check_fd_passing (unsigned int n)
{
  g_autoptr (GError) error = NULL;
  int sv[2], sent[PROTO_MAX_FDS];
  ProtoMsg msg, out;
  unsigned int before = count_open_fds ();

  make_pair (sv, 0);
  for (unsigned int i = 0; i < n; i++)
    assert_true ((sent[i] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0);
  proto_msg_init (&msg, PROTO_MSG_SOCKETS, 31);
  msg.u.sockets.family = AF_INET;
  msg.u.sockets.socktype = SOCK_STREAM;
  msg.u.sockets.count = n;
  if (!proto_send (sv[0], &msg, sent, n, &error))
    fail_msg ("send: %s", error->message);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_OK);
  assert_null (error);
  assert_int_equal (out.type, PROTO_MSG_SOCKETS);
  assert_int_equal (out.id, 31);
  assert_int_equal (out.u.sockets.count, n);
  assert_int_equal (out.n_fds, n);
  for (unsigned int i = 0; i < n; i++)
    {
      struct stat a, b;

      assert_int_equal (fstat (out.fds[i], &a), 0);
      assert_int_equal (fstat (sent[i], &b), 0);
      assert_true (S_ISSOCK (a.st_mode));
      assert_int_equal (a.st_ino, b.st_ino); /* same socket, same order */
      assert_int_equal (fcntl (out.fds[i], F_GETFD), FD_CLOEXEC);
      for (unsigned int j = 0; j < n; j++)
        assert_int_not_equal (out.fds[i], sent[j]);
      for (unsigned int j = 0; j < i; j++)
        assert_int_not_equal (out.fds[i], out.fds[j]);
    }
  for (unsigned int i = n; i < PROTO_MAX_FDS; i++)
    assert_int_equal (out.fds[i], -1);
  proto_msg_close_fds (&out);
  assert_int_equal (out.n_fds, 0);
  assert_int_equal (out.fds[0], -1);
  for (unsigned int i = 0; i < n; i++)
    close (sent[i]);
  close_pair (sv);
  assert_int_equal (count_open_fds (), before);
}

static void
test_sock_one_fd (void **state)
{
  check_fd_passing (1);
}

static void
test_sock_max_fds (void **state)
{
  check_fd_passing (PROTO_MAX_FDS);
}

/* The numbers the next @n fds would get (the kernel hands out the lowest free). */
static void
next_free_fds (int any_fd, int *out, unsigned int n)
{
  for (unsigned int i = 0; i < n; i++)
    assert_true ((out[i] = dup (any_fd)) >= 0);
  for (unsigned int i = 0; i < n; i++)
    close (out[i]);
}

/* Raw-send @frame with @n_send fds; the receiver must fail with @needle and leak nothing. */
static void
check_bad_frame_closes_fds (const uint8_t *buf, gsize len, unsigned int n_send, const char *needle)
{
  int sv[2], fds[PROTO_MAX_FDS + 8], slots[PROTO_MAX_FDS];
  unsigned int before, n_slots = MIN (n_send, PROTO_MAX_FDS);

  make_pair (sv, 0);
  assert_true ((fds[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  for (unsigned int i = 1; i < n_send; i++)
    fds[i] = fds[0]; /* the same fd many times still arrives as distinct fds */
  raw_send (sv[0], buf, len, fds, n_send);
  close (fds[0]);
  before = count_open_fds ();
  next_free_fds (sv[0], slots, n_slots);
  assert_recv_fails (sv[1], EPROTO, needle);
  assert_int_equal (count_open_fds (), before);
  for (unsigned int i = 0; i < n_slots; i++)
    {
      errno = 0;
      assert_int_equal (fcntl (slots[i], F_GETFD), -1);
      assert_int_equal (errno, EBADF);
    }
  close_pair (sv);
}

static void
test_sock_fds_on_wrong_type_closed (void **state)
{
  uint8_t buf[64];
  gsize n;

  n = frame (buf, PROTO_MSG_PING, 0, 1, 0, NULL, 0);
  check_bad_frame_closes_fds (buf, n, 3, "bad PING frame: it carries no fds but 3 arrived");
  n = frame3 (buf, PROTO_MSG_SOCKETS_REQ, AF_INET, SOCK_STREAM, 2);
  check_bad_frame_closes_fds (buf, n, 2, "bad SOCKETS_REQ frame: it carries no fds but 2 arrived");
  n = frame3 (buf, PROTO_MSG_SOCKETS, AF_INET, SOCK_STREAM, 3);
  check_bad_frame_closes_fds (buf, n, 2, "announces 3 fds but 2 arrived");
  check_bad_frame_closes_fds ((const uint8_t *) "garbage!", 8, 4, "short frame of 8 bytes");
}

static void
test_sock_too_many_fds (void **state)
{
  uint8_t buf[64];
  gsize n = frame3 (buf, PROTO_MSG_SOCKETS, AF_INET, SOCK_STREAM, PROTO_MAX_FDS);

  /* 65 fds overflow the control buffer: MSG_CTRUNC, the 64 that came are closed */
  check_bad_frame_closes_fds (buf, n, PROTO_MAX_FDS + 1, "control data (fds) truncated");
}

/* Whether this process runs under valgrind (its header is there wherever valgrind is). */
static gboolean
running_on_valgrind (void)
{
#if __has_include(<valgrind/valgrind.h>)
  return RUNNING_ON_VALGRIND != 0;
#else
  return FALSE;
#endif
}

/* Out of fds while receiving: the kernel installs what it can and drops the rest. The
 * receiver says so (EMFILE, naming the limit), closes what came, and leaks nothing. */
static void
test_sock_out_of_fds (void **state)
{
  uint8_t buf[64];
  gsize n = frame3 (buf, PROTO_MSG_SOCKETS, AF_INET, SOCK_STREAM, 10);
  int sv[2], fds[10], probe;
  struct rlimit old, low;
  unsigned int before;

  make_pair (sv, 0);
  assert_true ((fds[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  for (unsigned int i = 1; i < 10; i++)
    fds[i] = fds[0];
  raw_send (sv[0], buf, n, fds, 10);
  close (fds[0]);
  before = count_open_fds ();
  /* Room for 3 of the 10: the limit is 3 above the lowest free fd (no gaps below it here). */
  assert_true ((probe = dup (sv[0])) >= 0);
  close (probe);
  assert_int_equal (getrlimit (RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = (rlim_t) probe + 3;
  assert_int_equal (setrlimit (RLIMIT_NOFILE, &low), 0);
  /* valgrind keeps its own fd table: the kernel never sees the lowered limit. */
  if (running_on_valgrind ())
    {
      assert_int_equal (setrlimit (RLIMIT_NOFILE, &old), 0);
      close_pair (sv);
      print_message ("under valgrind RLIMIT_NOFILE does not reach the kernel: case not run\n");
      skip ();
    }
  {
    g_autofree char *needle = g_strdup_printf ("out of file descriptors (RLIMIT_NOFILE %d)",
                                               probe + 3);
    assert_recv_fails (sv[1], EMFILE, needle);
  }
  assert_int_equal (setrlimit (RLIMIT_NOFILE, &old), 0);
  assert_int_equal (count_open_fds (), before);
  close_pair (sv);
}

static void
assert_send_fails (int sock, const ProtoMsg *msg, const int *fds, unsigned int n_fds,
                   const char *message)
{
  g_autoptr (GError) error = NULL;

  assert_false (proto_send (sock, msg, fds, n_fds, &error));
  assert_non_null (error);
  assert_true (error->domain == NPTE_ERROR);
  assert_int_equal (error->code, EINVAL);
  if (strstr (error->message, message) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", error->message, message);
}

static void
test_sock_send_checks_fds (void **state)
{
  g_autoptr (GError) error = NULL;
  int sv[2], fd = 0, two[2] = { 0, 0 };
  ProtoMsg msg, out;

  make_pair (sv, SOCK_NONBLOCK);
  proto_msg_init (&msg, PROTO_MSG_PING, 1);
  assert_send_fails (sv[0], &msg, &fd, 1, "cannot send PING: this type carries no fds (1 given)");
  proto_msg_init (&msg, PROTO_MSG_SOCKETS, 1);
  msg.u.sockets.family = AF_INET6;
  msg.u.sockets.socktype = SOCK_DGRAM;
  msg.u.sockets.count = 5;
  assert_send_fails (sv[0], &msg, &fd, 1,
                     "cannot send SOCKETS: it announces 5 fds but 1 were given");
  /* TAP carries exactly one fd */
  proto_msg_init (&msg, PROTO_MSG_TAP, 1);
  msg.u.tap.mtu = 1500;
  assert_send_fails (sv[0], &msg, NULL, 0, "cannot send TAP: it carries 1 fd, 0 given");
  assert_send_fails (sv[0], &msg, two, 2, "cannot send TAP: it carries 1 fd, 2 given");
  /* ... and a valid mtu */
  msg.u.tap.mtu = PROTO_TAP_MTU_MAX + 1;
  assert_send_fails (sv[0], &msg, &fd, 1, "bad TAP frame: mtu 65522 is not in 68..65521");
  /* nothing went out */
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_ERROR);
  assert_int_equal (error->code, EAGAIN);
  close_pair (sv);
}

/* Send a TAP frame with one fd (a character device, like /dev/net/tun); check what arrives. */
static void
check_tap_passing (uint32_t mtu)
{
  g_autoptr (GError) error = NULL;
  int sv[2], tap;
  ProtoMsg msg, out;
  struct stat a, b;
  unsigned int before = count_open_fds ();

  make_pair (sv, 0);
  assert_true ((tap = open ("/dev/null", O_RDWR | O_CLOEXEC)) >= 0);
  proto_msg_init (&msg, PROTO_MSG_TAP, 0);
  msg.u.tap.mtu = mtu;
  if (!proto_send (sv[0], &msg, &tap, 1, &error))
    fail_msg ("send: %s", error->message);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_OK);
  assert_null (error);
  assert_int_equal (out.type, PROTO_MSG_TAP);
  assert_int_equal (out.id, 0);
  assert_int_equal (out.u.tap.mtu, mtu);
  assert_int_equal (out.n_fds, 1);
  /* a valid fd under a new number, open on the same file, close-on-exec */
  assert_true (out.fds[0] >= 0);
  assert_int_not_equal (out.fds[0], tap);
  assert_int_not_equal (out.fds[0], sv[0]);
  assert_int_not_equal (out.fds[0], sv[1]);
  assert_int_equal (fstat (out.fds[0], &a), 0);
  assert_int_equal (fstat (tap, &b), 0);
  assert_true (S_ISCHR (a.st_mode));
  assert_int_equal (a.st_rdev, b.st_rdev);
  assert_int_equal (a.st_ino, b.st_ino);
  assert_int_equal (fcntl (out.fds[0], F_GETFD), FD_CLOEXEC);
  assert_int_equal (fcntl (out.fds[0], F_GETFL) & O_ACCMODE, O_RDWR);
  for (unsigned int i = 1; i < PROTO_MAX_FDS; i++)
    assert_int_equal (out.fds[i], -1);
  /* the sender's fd is untouched and still its own */
  assert_true (fcntl (tap, F_GETFD) >= 0);
  assert_int_equal (count_open_fds (), before + 4);
  proto_msg_close_fds (&out);
  assert_int_equal (out.n_fds, 0);
  assert_int_equal (out.fds[0], -1);
  close (tap);
  close_pair (sv);
  assert_int_equal (count_open_fds (), before);
}

static void
test_sock_tap (void **state)
{
  check_tap_passing (1500);
  check_tap_passing (65520);
  check_tap_passing (PROTO_TAP_MTU_MIN);
  check_tap_passing (PROTO_TAP_MTU_MAX);
}

static gsize
tap_frame (uint8_t *buf, uint32_t mtu)
{
  return frame (buf, PROTO_MSG_TAP, 0, 1, 4, &mtu, 4);
}

static void
test_sock_tap_bad_frames_closed (void **state)
{
  uint8_t buf[64];
  gsize n;

  /* 0 or 2 fds: every fd that came is closed */
  n = tap_frame (buf, 1500);
  check_bad_frame_closes_fds (buf, n, 0, "bad TAP frame: it carries 1 fd but 0 arrived");
  check_bad_frame_closes_fds (buf, n, 2, "bad TAP frame: it carries 1 fd but 2 arrived");
  check_bad_frame_closes_fds (buf, n, PROTO_MAX_FDS, "it carries 1 fd but 64 arrived");
  /* one fd, but an mtu out of bounds: the fd is closed too */
  n = tap_frame (buf, PROTO_TAP_MTU_MIN - 1);
  check_bad_frame_closes_fds (buf, n, 1, "bad TAP frame: mtu 67 is not in 68..65521");
  n = tap_frame (buf, PROTO_TAP_MTU_MAX + 1);
  check_bad_frame_closes_fds (buf, n, 1, "bad TAP frame: mtu 65522 is not in 68..65521");
  n = tap_frame (buf, 0);
  check_bad_frame_closes_fds (buf, n, 2, "bad TAP frame: mtu 0 is not in 68..65521");
  /* a wrong payload size */
  n = frame (buf, PROTO_MSG_TAP, 0, 1, 0, NULL, 0);
  check_bad_frame_closes_fds (buf, n, 1, "bad TAP frame: payload is 0 bytes, expected 4");
}

static void
test_sock_garbage (void **state)
{
  int sv[2];
  uint8_t junk[40];
  ProtoMsg out;

  make_pair (sv, 0);
  assert_int_equal (send (sv[0], "hello", 5, 0), 5);
  assert_recv_fails (sv[1], EPROTO, "short frame of 5 bytes");
  memset (junk, 0xa5, sizeof junk);
  assert_int_equal (send (sv[0], junk, sizeof junk, 0), (ssize_t) sizeof junk);
  assert_recv_fails (sv[1], EPROTO, "bad frame");
  /* the socket still works after a bad frame */
  frame (junk, PROTO_MSG_PING, 0, 7, 0, NULL, 0);
  assert_int_equal (send (sv[0], junk, PROTO_HEADER_SIZE, 0), PROTO_HEADER_SIZE);
  assert_int_equal (proto_recv (sv[1], &out, NULL), PROTO_RECV_OK);
  assert_int_equal (out.type, PROTO_MSG_PING);
  assert_int_equal (out.id, 7);
  close_pair (sv);
}

static void
test_sock_eof (void **state)
{
  g_autoptr (GError) error = NULL;
  int sv[2];
  ProtoMsg msg, out;

  make_pair (sv, 0);
  proto_msg_init (&msg, PROTO_MSG_PONG, 5);
  assert_true (proto_send (sv[0], &msg, NULL, 0, NULL));
  close (sv[0]);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_OK);
  assert_int_equal (out.type, PROTO_MSG_PONG);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_EOF);
  assert_null (error);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_EOF);
  /* sending to a dead peer: EPIPE, and no SIGPIPE kills the test */
  assert_false (proto_send (sv[1], &msg, NULL, 0, &error));
  assert_int_equal (error->code, EPIPE);
  close (sv[1]);
}

static void
test_sock_eagain (void **state)
{
  g_autoptr (GError) error = NULL;
  int sv[2];
  ProtoMsg msg, out;
  unsigned int sent = 0;

  make_pair (sv, SOCK_NONBLOCK);
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_ERROR);
  assert_true (error->domain == NPTE_ERROR);
  assert_int_equal (error->code, EAGAIN);
  g_clear_error (&error);
  proto_msg_init (&msg, PROTO_MSG_PING, 1);
  while (proto_send (sv[0], &msg, NULL, 0, &error))
    assert_true (++sent < 1000000);
  assert_true (sent > 0);
  assert_int_equal (error->code, EAGAIN);
  close_pair (sv);
}

static void
test_sock_oversized (void **state)
{
  static uint8_t big[PROTO_MAX_FRAME + 100];

  /* bigger than the receive buffer: MSG_TRUNC, and its fds are closed */
  frame (big, PROTO_MSG_PING, 0, 1, sizeof big - PROTO_HEADER_SIZE, NULL, 0);
  check_bad_frame_closes_fds (big, sizeof big, 2, "bad frame: data truncated");
  /* one byte over the maximum fits the buffer and fails on the length */
  frame (big, PROTO_MSG_PING, 0, 1, PROTO_MAX_PAYLOAD + 1, NULL, 0);
  check_bad_frame_closes_fds (big, PROTO_MAX_FRAME + 1, 1, "payload length 4097 exceeds");
}

static void
test_sock_foreign_cmsg (void **state)
{
  int sv[2], on = 1;
  ProtoMsg msg;

  make_pair (sv, 0);
  assert_int_equal (setsockopt (sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  proto_msg_init (&msg, PROTO_MSG_PING, 1);
  assert_true (proto_send (sv[0], &msg, NULL, 0, NULL));
  assert_recv_fails (sv[1], EPROTO, "unexpected control message (level 1, type 2)");
  close_pair (sv);
}

static void
test_sock_empty_packet_with_fd (void **state)
{
  int sv[2], fd;
  unsigned int before;
  ProtoMsg out;

  make_pair (sv, 0);
  assert_true ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  raw_send (sv[0], "", 0, &fd, 1);
  close (fd);
  before = count_open_fds ();
  assert_int_equal (proto_recv (sv[1], &out, NULL), PROTO_RECV_EOF);
  assert_int_equal (out.n_fds, 0);
  assert_int_equal (count_open_fds (), before);
  close_pair (sv);
}

static void
test_sock_send_error (void **state)
{
  g_autoptr (GError) npte = NULL;
  g_autoptr (GError) foreign = NULL;
  g_autofree char *longtext = g_strnfill (2000, 'z');
  int sv[2];
  ProtoMsg out;

  make_pair (sv, 0);
  npte_set_error (&npte, EADDRINUSE, "port 8080: address in use");
  assert_true (proto_send_error (sv[0], 12, npte));
  assert_int_equal (proto_recv (sv[1], &out, NULL), PROTO_RECV_OK);
  assert_int_equal (out.type, PROTO_MSG_ERROR);
  assert_int_equal (out.id, 12);
  assert_int_equal (out.u.error.err, EADDRINUSE);
  assert_string_equal (out.u.error.message, "port 8080: address in use");

  g_set_error_literal (&foreign, G_FILE_ERROR, G_FILE_ERROR_FAILED, longtext);
  assert_true (proto_send_error (sv[0], 0, foreign));
  assert_int_equal (proto_recv (sv[1], &out, NULL), PROTO_RECV_OK);
  assert_int_equal (out.id, 0);
  assert_int_equal (out.u.error.err, EIO);
  assert_int_equal (strlen (out.u.error.message), PROTO_MAX_MESSAGE);
  assert_int_equal (strncmp (out.u.error.message, longtext, PROTO_MAX_MESSAGE), 0);

  close (sv[1]);
  assert_false (proto_send_error (sv[0], 1, npte));
  close (sv[0]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_sock_one_fd),
    cmocka_unit_test (test_sock_max_fds),
    cmocka_unit_test (test_sock_fds_on_wrong_type_closed),
    cmocka_unit_test (test_sock_too_many_fds),
    cmocka_unit_test (test_sock_send_checks_fds),
    cmocka_unit_test (test_sock_tap),
    cmocka_unit_test (test_sock_tap_bad_frames_closed),
    cmocka_unit_test (test_sock_garbage),
    cmocka_unit_test (test_sock_eof),
    cmocka_unit_test (test_sock_eagain),
    cmocka_unit_test (test_sock_oversized),
    cmocka_unit_test (test_sock_foreign_cmsg),
    cmocka_unit_test (test_sock_empty_packet_with_fd),
    cmocka_unit_test (test_sock_send_error),
    cmocka_unit_test (test_sock_out_of_fds),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
