/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of proto/wire.c: the frame codec on buffers, then proto_send() and
 * proto_recv() on a real AF_UNIX SOCK_SEQPACKET socketpair, including fd
 * passing and the closing of fds that arrive with a bad frame.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

int main (void);

/* One valid message of every type, with the payload size it encodes to. */
typedef struct {
  ProtoMsg msg;
  unsigned int n_fds;
  uint32_t plen;
} Sample;

static void
make_sample (ProtoMsgType type, Sample *s)
{
  proto_msg_init (&s->msg, type, 1000 + type);
  s->n_fds = 0;
  s->plen = 0;
  if (type == PROTO_MSG_HELLO)
    {
      s->msg.u.hello.version = PROTO_VERSION;
      s->msg.u.hello.pid = 4242;
      s->plen = 8;
    }
  else if (type == PROTO_MSG_CMD_STARTED)
    s->msg.u.cmd_started.pid = 77, s->plen = 4;
  else if (type == PROTO_MSG_CMD_EXITED)
    s->msg.u.cmd_exited.status = 3 << 8, s->plen = 4;
  else if (type == PROTO_MSG_SOCKETS_REQ || type == PROTO_MSG_SOCKETS)
    {
      s->msg.u.sockets.family = AF_INET6;
      s->msg.u.sockets.socktype = SOCK_DGRAM;
      s->msg.u.sockets.count = 5;
      s->n_fds = type == PROTO_MSG_SOCKETS ? 5 : 0;
      s->plen = 12;
    }
  else if (type == PROTO_MSG_ERROR)
    {
      s->msg.u.error.err = EADDRINUSE;
      strcpy (s->msg.u.error.message, "port 8080: address in use");
      s->plen = 8 + 25;
    }
}

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

static void
assert_decode_fails (const uint8_t *buf, gsize len, unsigned int n_fds, const char *needle)
{
  g_autoptr (GError) error = NULL;
  ProtoMsg out;

  proto_msg_init (&out, PROTO_MSG_INVALID, 0);
  if (proto_decode (buf, len, n_fds, &out, &error))
    fail_msg ("decode of %zu bytes accepted, expected an error with \"%s\"", (size_t) len, needle);
  assert_non_null (error);
  assert_true (error->domain == NPTE_ERROR);
  assert_int_equal (error->code, EPROTO);
  if (strstr (error->message, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", error->message, needle);
  assert_int_equal (out.n_fds, 0);
}

static void
assert_same_msg (const ProtoMsg *a, const ProtoMsg *b)
{
  assert_int_equal (a->type, b->type);
  assert_int_equal (a->id, b->id);
  assert_memory_equal (&a->u, &b->u, sizeof a->u);
}

static void
test_header_layout (void **state)
{
  uint8_t buf[PROTO_MAX_FRAME], want[20];
  uint16_t u16;
  uint32_t u32;
  ProtoMsg msg;

  assert_int_equal (sizeof (ProtoHeader), PROTO_HEADER_SIZE);
  proto_msg_init (&msg, PROTO_MSG_HELLO, 0x01020304);
  msg.u.hello.version = PROTO_VERSION;
  msg.u.hello.pid = 0x0a0b0c0d;
  assert_int_equal (proto_encode (&msg, buf, sizeof buf, NULL), 20);
  u16 = PROTO_MSG_HELLO, memcpy (want, &u16, 2);
  u16 = 0, memcpy (want + 2, &u16, 2);
  u32 = 0x01020304, memcpy (want + 4, &u32, 4);
  u32 = 8, memcpy (want + 8, &u32, 4);
  u32 = PROTO_VERSION, memcpy (want + 12, &u32, 4);
  u32 = 0x0a0b0c0d, memcpy (want + 16, &u32, 4);
  assert_memory_equal (buf, want, sizeof want);
}

static void
test_roundtrip_every_type (void **state)
{
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    {
      g_autoptr (GError) error = NULL;
      uint8_t buf[PROTO_MAX_FRAME], again[PROTO_MAX_FRAME];
      Sample s;
      ProtoMsg out;
      gssize n;

      make_sample ((ProtoMsgType) t, &s);
      n = proto_encode (&s.msg, buf, sizeof buf, &error);
      assert_null (error);
      assert_int_equal (n, PROTO_HEADER_SIZE + s.plen);
      proto_msg_init (&out, PROTO_MSG_INVALID, 0);
      memset (&out.u, 0x55, sizeof out.u);
      if (!proto_decode (buf, (gsize) n, s.n_fds, &out, &error))
        fail_msg ("%s: %s", proto_msg_type_name (t), error->message);
      assert_same_msg (&s.msg, &out);
      assert_int_equal (out.n_fds, 0);
      assert_int_equal (out.fds[0], -1);
      assert_int_equal (proto_encode (&out, again, sizeof again, NULL), n);
      assert_memory_equal (buf, again, (size_t) n);
    }
}

static void
test_truncated_every_length (void **state)
{
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    {
      uint8_t buf[PROTO_MAX_FRAME];
      Sample s;
      gssize n;

      make_sample ((ProtoMsgType) t, &s);
      n = proto_encode (&s.msg, buf, sizeof buf, NULL);
      assert_true (n > 0);
      for (gsize len = 0; len < (gsize) n; len++)
        assert_decode_fails (buf, len, s.n_fds,
                             len < PROTO_HEADER_SIZE ? "short frame" : "length field");
    }
}

static void
test_oversized (void **state)
{
  static uint8_t payload[PROTO_MAX_PAYLOAD + 1];
  uint8_t buf[PROTO_MAX_FRAME + 1];
  gsize n;

  n = frame (buf, PROTO_MSG_PING, 0, 1, PROTO_MAX_PAYLOAD + 1, payload, sizeof payload);
  assert_decode_fails (buf, n, 0, "payload length 4097 exceeds the maximum 4096");
  n = frame (buf, PROTO_MSG_PING, 0, 1, UINT32_MAX, NULL, 0);
  assert_decode_fails (buf, n, 0, "payload length 4294967295 exceeds");
}

static void
test_lying_length (void **state)
{
  uint8_t buf[64];
  uint32_t pid = 5;
  gsize n;

  n = frame (buf, PROTO_MSG_CMD_STARTED, 0, 1, 5, &pid, 4);
  assert_decode_fails (buf, n, 0, "length field says 5 payload bytes but 4 arrived");
  n = frame (buf, PROTO_MSG_CMD_STARTED, 0, 1, 3, &pid, 4);
  assert_decode_fails (buf, n, 0, "length field says 3 payload bytes but 4 arrived");
  n = frame (buf, PROTO_MSG_PING, 0, 1, 0, &pid, 4);
  assert_decode_fails (buf, n, 0, "length field says 0 payload bytes but 4 arrived");
}

static void
test_unknown_type (void **state)
{
  const uint16_t bad[] = { 0, PROTO_MSG_MAX_, PROTO_MSG_MAX_ + 1, 0xffff };
  uint8_t buf[PROTO_HEADER_SIZE];
  char needle[64];

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      frame (buf, bad[i], 0, 1, 0, NULL, 0);
      g_snprintf (needle, sizeof needle, "unknown message type %u", bad[i]);
      assert_decode_fails (buf, sizeof buf, 0, needle);
    }
  assert_string_equal (proto_msg_type_name (0), "UNKNOWN");
  assert_string_equal (proto_msg_type_name (PROTO_MSG_MAX_), "UNKNOWN");
  assert_string_equal (proto_msg_type_name (PROTO_MSG_HELLO), "HELLO");
  assert_string_equal (proto_msg_type_name (PROTO_MSG_PONG), "PONG");
}

static void
test_nonzero_flags (void **state)
{
  uint8_t buf[PROTO_HEADER_SIZE];

  frame (buf, PROTO_MSG_PING, 1, 1, 0, NULL, 0);
  assert_decode_fails (buf, sizeof buf, 0, "bad PING frame: flags 0x1, must be 0");
  frame (buf, PROTO_MSG_START_CMD, 0x8000, 1, 0, NULL, 0);
  assert_decode_fails (buf, sizeof buf, 0, "flags 0x8000");
}

static void
test_wrong_payload_size (void **state)
{
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    {
      uint8_t payload[16] = { 0 }, buf[64];
      Sample s;
      uint32_t sizes[3];
      gsize n_sizes = 0;

      if (t == PROTO_MSG_ERROR)
        continue; /* variable size: test_error_text_lengths */
      make_sample ((ProtoMsgType) t, &s);
      /* a correct first word, so a HELLO is not reported as a version mismatch */
      memcpy (payload, &(uint32_t){ PROTO_VERSION }, 4);
      sizes[n_sizes++] = s.plen + 1;
      if (s.plen > 0)
        {
          sizes[n_sizes++] = s.plen - 1;
          sizes[n_sizes++] = 0;
        }
      for (gsize i = 0; i < n_sizes; i++)
        {
          gsize n = frame (buf, (uint16_t) t, 0, 1, sizes[i], payload, sizes[i]);
          char needle[64];

          g_snprintf (needle, sizeof needle, "bad %s frame: payload is %u bytes, expected %u",
                      proto_msg_type_name (t), sizes[i], s.plen);
          assert_decode_fails (buf, n, s.n_fds, needle);
        }
    }
}

/* An ERROR frame with errno @err, text length field @tlen and @n text bytes. */
static gsize
error_frame (uint8_t *buf, int32_t err, uint32_t tlen, const char *text, gsize n)
{
  uint8_t payload[PROTO_MAX_PAYLOAD];

  memcpy (payload, &err, 4);
  memcpy (payload + 4, &tlen, 4);
  memcpy (payload + 8, text, n);
  return frame (buf, PROTO_MSG_ERROR, 0, 3, (uint32_t) (8 + n), payload, 8 + n);
}

static void
test_error_text_lengths (void **state)
{
  uint8_t buf[PROTO_MAX_FRAME];
  char text[PROTO_MAX_MESSAGE + 2];
  ProtoMsg out;
  gsize n;

  memset (text, 'e', sizeof text);
  n = error_frame (buf, EIO, 6, "abcde", 5);
  assert_decode_fails (buf, n, 0, "text length 6 does not match the 5 bytes left");
  n = error_frame (buf, EIO, 4, "abcde", 5);
  assert_decode_fails (buf, n, 0, "text length 4 does not match the 5 bytes left");
  n = error_frame (buf, EIO, PROTO_MAX_MESSAGE + 1, text, PROTO_MAX_MESSAGE + 1);
  assert_decode_fails (buf, n, 0, "text length 1025 exceeds the maximum 1024");
  n = error_frame (buf, EIO, 5, "ab\0de", 5);
  assert_decode_fails (buf, n, 0, "NUL byte inside the text at offset 2");
  n = error_frame (buf, 0, 3, "abc", 3);
  assert_decode_fails (buf, n, 0, "errno 0 is not positive");
  n = error_frame (buf, -EIO, 3, "abc", 3);
  assert_decode_fails (buf, n, 0, "errno -5 is not positive");
  n = frame (buf, PROTO_MSG_ERROR, 0, 3, 7, "\5\0\0\0\0\0\0", 7);
  assert_decode_fails (buf, n, 0, "payload is 7 bytes, needs at least 8");

  /* valid: empty text, and the longest text, NUL-terminated on decode */
  n = error_frame (buf, ENOENT, 0, "", 0);
  proto_msg_init (&out, PROTO_MSG_INVALID, 0);
  memset (out.u.error.message, 'X', sizeof out.u.error.message);
  assert_true (proto_decode (buf, n, 0, &out, NULL));
  assert_int_equal (out.u.error.err, ENOENT);
  assert_string_equal (out.u.error.message, "");
  n = error_frame (buf, ENOENT, PROTO_MAX_MESSAGE, text, PROTO_MAX_MESSAGE);
  memset (out.u.error.message, 'X', sizeof out.u.error.message);
  assert_true (proto_decode (buf, n, 0, &out, NULL));
  assert_int_equal (strlen (out.u.error.message), PROTO_MAX_MESSAGE);
  assert_int_equal (out.u.error.message[PROTO_MAX_MESSAGE], '\0');
}

static void
test_error_encode_truncates (void **state)
{
  uint8_t buf[PROTO_MAX_FRAME];
  ProtoMsg msg, out;

  /* ASCII: cut at exactly PROTO_MAX_MESSAGE bytes (the field holds 1025 chars, unterminated) */
  proto_msg_init (&msg, PROTO_MSG_ERROR, 1);
  msg.u.error.err = E2BIG;
  memset (msg.u.error.message, 'x', sizeof msg.u.error.message);
  assert_int_equal (proto_encode (&msg, buf, sizeof buf, NULL), 12 + 8 + PROTO_MAX_MESSAGE);
  assert_true (proto_decode (buf, 12 + 8 + PROTO_MAX_MESSAGE, 0, &out, NULL));
  assert_int_equal (strlen (out.u.error.message), PROTO_MAX_MESSAGE);

  /* a 2-byte UTF-8 character across the limit is dropped whole */
  memset (msg.u.error.message, 'y', sizeof msg.u.error.message);
  memcpy (msg.u.error.message + PROTO_MAX_MESSAGE - 1, "\xc3\xa9", 2);
  assert_int_equal (proto_encode (&msg, buf, sizeof buf, NULL), 12 + 8 + PROTO_MAX_MESSAGE - 1);
  /* a character ending exactly at the limit is kept */
  memset (msg.u.error.message, 'y', sizeof msg.u.error.message);
  memcpy (msg.u.error.message + PROTO_MAX_MESSAGE - 2, "\xc3\xa9", 2);
  assert_int_equal (proto_encode (&msg, buf, sizeof buf, NULL), 12 + 8 + PROTO_MAX_MESSAGE);
}

static void
test_sockets_values_and_fd_counts (void **state)
{
  uint8_t buf[64];
  gsize n;

  n = frame3 (buf, PROTO_MSG_SOCKETS, AF_INET, SOCK_STREAM, 3);
  assert_decode_fails (buf, n, 0, "announces 3 fds but 0 arrived");
  assert_decode_fails (buf, n, 2, "announces 3 fds but 2 arrived");
  assert_decode_fails (buf, n, 4, "announces 3 fds but 4 arrived");
  assert_true (proto_decode (buf, n, 3, &(ProtoMsg){ 0 }, NULL));

  for (unsigned int t = PROTO_MSG_SOCKETS_REQ; t <= PROTO_MSG_SOCKETS; t++)
    {
      unsigned int fds = t == PROTO_MSG_SOCKETS ? 1 : 0;

      n = frame3 (buf, (uint16_t) t, AF_INET, SOCK_STREAM, 0);
      assert_decode_fails (buf, n, 0, "socket count 0 is not in 1..64");
      n = frame3 (buf, (uint16_t) t, AF_INET, SOCK_STREAM, PROTO_MAX_FDS + 1);
      assert_decode_fails (buf, n, fds ? PROTO_MAX_FDS + 1 : 0, "socket count 65 is not in 1..64");
      n = frame3 (buf, (uint16_t) t, AF_UNIX, SOCK_STREAM, 1);
      assert_decode_fails (buf, n, fds, "address family 1 is not AF_INET");
      n = frame3 (buf, (uint16_t) t, 0, SOCK_STREAM, 1);
      assert_decode_fails (buf, n, fds, "address family 0");
      n = frame3 (buf, (uint16_t) t, AF_INET6, SOCK_RAW, 1);
      assert_decode_fails (buf, n, fds, "socket type 3 is not SOCK_STREAM");
      n = frame3 (buf, (uint16_t) t, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 1);
      assert_decode_fails (buf, n, fds, "socket type");
      n = frame3 (buf, (uint16_t) t, AF_INET6, SOCK_DGRAM, PROTO_MAX_FDS);
      assert_true (proto_decode (buf, n, t == PROTO_MSG_SOCKETS ? PROTO_MAX_FDS : 0,
                                 &(ProtoMsg){ 0 }, NULL));
    }
  /* fds on every type but SOCKETS, SOCKETS_REQ included */
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    {
      uint8_t fbuf[PROTO_MAX_FRAME];
      Sample s;
      gssize len;

      if (t == PROTO_MSG_SOCKETS)
        continue;
      make_sample ((ProtoMsgType) t, &s);
      len = proto_encode (&s.msg, fbuf, sizeof fbuf, NULL);
      assert_true (len > 0);
      assert_decode_fails (fbuf, (gsize) len, 1, "it carries no fds but 1 arrived");
    }
}

static void
test_version_mismatch (void **state)
{
  uint8_t buf[64];
  uint32_t p[4] = { 2, 100, 0, 0 };
  gsize n;

  n = frame (buf, PROTO_MSG_HELLO, 0, 1, 8, p, 8);
  assert_decode_fails (buf, n, 0,
                       "protocol version mismatch: the peer speaks version 2, "
                       "this npte speaks version 1");
  p[0] = 0;
  n = frame (buf, PROTO_MSG_HELLO, 0, 1, 8, p, 8);
  assert_decode_fails (buf, n, 0, "peer speaks version 0");
  /* a future HELLO with a longer payload and flags is still a version mismatch */
  p[0] = 7;
  n = frame (buf, PROTO_MSG_HELLO, 4, 1, 16, p, 16);
  assert_decode_fails (buf, n, 0, "peer speaks version 7");
}

static void
test_pid_and_status_values (void **state)
{
  const int32_t good[] = { 0, 1 << 8, 255 << 8, 9, 0x80 | 11, 64 };
  const int32_t bad[] = { 0x7f, 0x137f, 0xffff, 0x10000, -1, 0x0109, 65, 0x80 };
  uint8_t buf[64];
  uint32_t p[2] = { PROTO_VERSION, 0 };
  gsize n;

  n = frame (buf, PROTO_MSG_HELLO, 0, 1, 8, p, 8);
  assert_decode_fails (buf, n, 0, "bad HELLO frame: pid 0 is not in 1..2147483647");
  p[1] = 0x80000000u;
  n = frame (buf, PROTO_MSG_HELLO, 0, 1, 8, p, 8);
  assert_decode_fails (buf, n, 0, "pid 2147483648 is not");
  n = frame (buf, PROTO_MSG_CMD_STARTED, 0, 1, 4, &(uint32_t){ 0 }, 4);
  assert_decode_fails (buf, n, 0, "bad CMD_STARTED frame: pid 0");
  n = frame (buf, PROTO_MSG_CMD_STARTED, 0, 1, 4, &(uint32_t){ UINT32_MAX }, 4);
  assert_decode_fails (buf, n, 0, "pid 4294967295");
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      ProtoMsg out;

      n = frame (buf, PROTO_MSG_CMD_EXITED, 0, 1, 4, &good[i], 4);
      assert_true (proto_decode (buf, n, 0, &out, NULL));
      assert_int_equal (out.u.cmd_exited.status, good[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      n = frame (buf, PROTO_MSG_CMD_EXITED, 0, 1, 4, &bad[i], 4);
      assert_decode_fails (buf, n, 0, "is not the wait status");
    }
}

static void
assert_encode_fails (const ProtoMsg *msg, gsize buflen, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  uint8_t buf[PROTO_MAX_FRAME];

  assert_int_equal (proto_encode (msg, buf, buflen, &error), -1);
  assert_non_null (error);
  assert_int_equal (error->code, code);
  if (strstr (error->message, needle) == NULL)
    fail_msg ("error \"%s\" does not contain \"%s\"", error->message, needle);
}

static void
test_encode_errors (void **state)
{
  uint8_t buf[PROTO_MAX_FRAME];
  ProtoMsg msg;
  Sample s;

  proto_msg_init (&msg, PROTO_MSG_INVALID, 1);
  assert_encode_fails (&msg, sizeof buf, EINVAL, "cannot encode message type 0: unknown type");
  proto_msg_init (&msg, PROTO_MSG_MAX_, 1);
  assert_encode_fails (&msg, sizeof buf, EINVAL, "unknown type");
  make_sample (PROTO_MSG_HELLO, &s);
  assert_encode_fails (&s.msg, 19, ENOBUFS,
                       "cannot encode HELLO: the frame needs 20 bytes, the buffer has 19");
  assert_int_equal (proto_encode (&s.msg, buf, 20, NULL), 20);
  make_sample (PROTO_MSG_PING, &s);
  assert_encode_fails (&s.msg, 11, ENOBUFS, "needs 12 bytes");
  assert_int_equal (proto_encode (&s.msg, buf, 12, NULL), 12);
  make_sample (PROTO_MSG_ERROR, &s);
  s.msg.u.error.err = 0;
  assert_encode_fails (&s.msg, sizeof buf, EINVAL, "errno 0 is not positive");
  make_sample (PROTO_MSG_SOCKETS_REQ, &s);
  s.msg.u.sockets.count = 0;
  assert_encode_fails (&s.msg, sizeof buf, EINVAL, "socket count 0");
  make_sample (PROTO_MSG_CMD_STARTED, &s);
  s.msg.u.cmd_started.pid = 0;
  assert_encode_fails (&s.msg, sizeof buf, EINVAL, "pid 0");
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

static void
test_sock_send_checks_fds (void **state)
{
  g_autoptr (GError) error = NULL;
  int sv[2], fd = 0;
  ProtoMsg msg, out;
  Sample s;

  make_pair (sv, SOCK_NONBLOCK);
  proto_msg_init (&msg, PROTO_MSG_PING, 1);
  assert_false (proto_send (sv[0], &msg, &fd, 1, &error));
  assert_int_equal (error->code, EINVAL);
  assert_string_equal (error->message, "cannot send PING: this type carries no fds (1 given)");
  g_clear_error (&error);
  make_sample (PROTO_MSG_SOCKETS, &s);
  assert_false (proto_send (sv[0], &s.msg, &fd, 1, &error));
  assert_string_equal (error->message, "cannot send SOCKETS: it announces 5 fds but 1 were given");
  g_clear_error (&error);
  /* nothing went out */
  assert_int_equal (proto_recv (sv[1], &out, &error), PROTO_RECV_ERROR);
  assert_int_equal (error->code, EAGAIN);
  close_pair (sv);
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

static void
test_msg_init_close (void **state)
{
  ProtoMsg msg;
  int fd;

  memset (&msg, 0x7f, sizeof msg);
  proto_msg_init (&msg, PROTO_MSG_CMD_EXITED, 99);
  assert_int_equal (msg.type, PROTO_MSG_CMD_EXITED);
  assert_int_equal (msg.id, 99);
  assert_int_equal (msg.n_fds, 0);
  assert_int_equal (msg.u.cmd_exited.status, 0);
  for (unsigned int i = 0; i < PROTO_MAX_FDS; i++)
    assert_int_equal (msg.fds[i], -1);
  assert_true ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  msg.fds[0] = fd;
  msg.fds[1] = -1; /* stolen by the caller */
  msg.n_fds = 2;
  proto_msg_close_fds (&msg);
  assert_int_equal (fcntl (fd, F_GETFD), -1);
  assert_int_equal (msg.n_fds, 0);
  assert_int_equal (msg.fds[0], -1);
  /* a zero-filled message owns nothing: fd 0 stays open */
  memset (&msg, 0, sizeof msg);
  proto_msg_close_fds (&msg);
  assert_true (fcntl (0, F_GETFD) >= 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_header_layout),
    cmocka_unit_test (test_roundtrip_every_type),
    cmocka_unit_test (test_truncated_every_length),
    cmocka_unit_test (test_oversized),
    cmocka_unit_test (test_lying_length),
    cmocka_unit_test (test_unknown_type),
    cmocka_unit_test (test_nonzero_flags),
    cmocka_unit_test (test_wrong_payload_size),
    cmocka_unit_test (test_error_text_lengths),
    cmocka_unit_test (test_error_encode_truncates),
    cmocka_unit_test (test_sockets_values_and_fd_counts),
    cmocka_unit_test (test_version_mismatch),
    cmocka_unit_test (test_pid_and_status_values),
    cmocka_unit_test (test_encode_errors),
    cmocka_unit_test (test_msg_init_close),
    cmocka_unit_test (test_sock_one_fd),
    cmocka_unit_test (test_sock_max_fds),
    cmocka_unit_test (test_sock_fds_on_wrong_type_closed),
    cmocka_unit_test (test_sock_too_many_fds),
    cmocka_unit_test (test_sock_send_checks_fds),
    cmocka_unit_test (test_sock_garbage),
    cmocka_unit_test (test_sock_eof),
    cmocka_unit_test (test_sock_eagain),
    cmocka_unit_test (test_sock_oversized),
    cmocka_unit_test (test_sock_foreign_cmsg),
    cmocka_unit_test (test_sock_empty_packet_with_fd),
    cmocka_unit_test (test_sock_send_error),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
