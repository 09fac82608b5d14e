/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the frame codec of proto/wire.c: proto_encode() and
 * proto_decode() on buffers (the fd counts are passed in, no fd is real),
 * and the fd ownership of ProtoMsg. proto_send()/proto_recv() on a real
 * socketpair are tested in test_wire_sock.c.
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
  else if (type == PROTO_MSG_TAP)
    s->msg.u.tap.mtu = 65520, s->n_fds = 1, s->plen = 4;
  else if (type == PROTO_MSG_NS_READY)
    s->msg.u.ns_ready.flags = PROTO_NS_SRCROUTE, s->plen = 4;
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
  assert_string_equal (proto_msg_type_name (PROTO_MSG_TAP), "TAP");
  assert_string_equal (proto_msg_type_name (PROTO_MSG_TAP + 1), "UNKNOWN");
  /* every known type has a name */
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    assert_string_not_equal (proto_msg_type_name (t), "UNKNOWN");
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
test_ns_ready_flags (void **state)
{
  static const struct {
    uint32_t flags;
    gboolean ok;
  } cases[] = {
    { 0, TRUE }, { PROTO_NS_SRCROUTE, TRUE }, { 2, FALSE }, { 3, FALSE }, { 0x80000000u, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      uint8_t buf[64];
      ProtoMsg out;
      g_autoptr (GError) error = NULL;
      gsize n = frame (buf, PROTO_MSG_NS_READY, 0, 1, 4, &cases[i].flags, 4);

      proto_msg_init (&out, PROTO_MSG_INVALID, 0);
      if (cases[i].ok)
        {
          assert_true (proto_decode (buf, n, 0, &out, &error));
          assert_int_equal (out.u.ns_ready.flags, cases[i].flags);
        }
      else
        assert_decode_fails (buf, n, 0, "bad NS_READY frame: unknown flags");
    }
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
  /* fds on every type but SOCKETS and TAP, SOCKETS_REQ included */
  for (unsigned int t = PROTO_MSG_HELLO; t < PROTO_MSG_MAX_; t++)
    {
      uint8_t fbuf[PROTO_MAX_FRAME];
      Sample s;
      gssize len;

      make_sample ((ProtoMsgType) t, &s);
      if (s.n_fds > 0)
        continue; /* the fd-carrying types: above and test_tap_values_and_fd_counts */
      assert_true (t != PROTO_MSG_SOCKETS && t != PROTO_MSG_TAP);
      len = proto_encode (&s.msg, fbuf, sizeof fbuf, NULL);
      assert_true (len > 0);
      assert_decode_fails (fbuf, (gsize) len, 1, "it carries no fds but 1 arrived");
      assert_decode_fails (fbuf, (gsize) len, 2, "it carries no fds but 2 arrived");
    }
}

/* A TAP frame with @mtu as its payload. */
static gsize
tap_frame (uint8_t *buf, uint32_t mtu)
{
  return frame (buf, PROTO_MSG_TAP, 0, 9, 4, &mtu, 4);
}

static void
test_tap_values_and_fd_counts (void **state)
{
  const uint32_t good[] = { PROTO_TAP_MTU_MIN, 1500, 65520, PROTO_TAP_MTU_MAX };
  const uint32_t bad[] = { 0, 1, PROTO_TAP_MTU_MIN - 1, PROTO_TAP_MTU_MAX + 1, 0x80000000u,
                           UINT32_MAX };
  uint8_t buf[64], want[16];
  uint32_t u32;
  uint16_t u16;
  char needle[96];
  gsize n;

  /* the wire value and the layout: type 13, one u32 */
  assert_int_equal (PROTO_MSG_TAP, 13);
  assert_int_equal (PROTO_TAP_MTU_MIN, 68);
  assert_int_equal (PROTO_TAP_MTU_MAX, 65521);
  n = tap_frame (buf, 1500);
  u16 = 13, memcpy (want, &u16, 2);
  u16 = 0, memcpy (want + 2, &u16, 2);
  u32 = 9, memcpy (want + 4, &u32, 4);
  u32 = 4, memcpy (want + 8, &u32, 4);
  u32 = 1500, memcpy (want + 12, &u32, 4);
  assert_int_equal (n, 16);
  assert_memory_equal (buf, want, 16);

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      uint8_t again[64];
      ProtoMsg out;

      n = tap_frame (buf, good[i]);
      proto_msg_init (&out, PROTO_MSG_INVALID, 0);
      assert_true (proto_decode (buf, n, 1, &out, NULL));
      assert_int_equal (out.type, PROTO_MSG_TAP);
      assert_int_equal (out.id, 9);
      assert_int_equal (out.u.tap.mtu, good[i]);
      assert_int_equal (out.n_fds, 0); /* decode never touches the fds */
      assert_int_equal (proto_encode (&out, again, sizeof again, NULL), (gssize) n);
      assert_memory_equal (again, buf, n);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      n = tap_frame (buf, bad[i]);
      g_snprintf (needle, sizeof needle, "bad TAP frame: mtu %u is not in 68..65521", bad[i]);
      assert_decode_fails (buf, n, 1, needle);
      /* the values are checked before the fd count */
      assert_decode_fails (buf, n, 0, needle);
      assert_decode_fails (buf, n, 2, needle);
    }

  /* exactly one fd */
  n = tap_frame (buf, 1500);
  assert_decode_fails (buf, n, 0, "bad TAP frame: it carries 1 fd but 0 arrived");
  assert_decode_fails (buf, n, 2, "bad TAP frame: it carries 1 fd but 2 arrived");
  assert_decode_fails (buf, n, PROTO_MAX_FDS, "it carries 1 fd but 64 arrived");
  assert_decode_fails (buf, n, PROTO_MAX_FDS + 1, "it carries 1 fd but 65 arrived");

  /* the payload size is checked before the values and the fd count */
  n = frame (buf, PROTO_MSG_TAP, 0, 9, 0, NULL, 0);
  assert_decode_fails (buf, n, 2, "bad TAP frame: payload is 0 bytes, expected 4");
  n = frame3 (buf, PROTO_MSG_TAP, 1500, 0, 0);
  assert_decode_fails (buf, n, 0, "bad TAP frame: payload is 12 bytes, expected 4");
  /* and the flags before everything in the payload */
  n = frame (buf, PROTO_MSG_TAP, 1, 9, 4, &(uint32_t){ 1 }, 4);
  assert_decode_fails (buf, n, 0, "bad TAP frame: flags 0x1, must be 0");
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
  /* TAP: the mtu bounds are the decoder's; a bare proto_msg_init() (mtu 0) is refused */
  proto_msg_init (&msg, PROTO_MSG_TAP, 1);
  assert_encode_fails (&msg, sizeof buf, EINVAL, "bad TAP frame: mtu 0 is not in 68..65521");
  msg.u.tap.mtu = PROTO_TAP_MTU_MIN - 1;
  assert_encode_fails (&msg, sizeof buf, EINVAL, "mtu 67 is not in 68..65521");
  msg.u.tap.mtu = PROTO_TAP_MTU_MAX + 1;
  assert_encode_fails (&msg, sizeof buf, EINVAL, "mtu 65522 is not in 68..65521");
  msg.u.tap.mtu = PROTO_TAP_MTU_MIN;
  assert_int_equal (proto_encode (&msg, buf, sizeof buf, NULL), 16);
  msg.u.tap.mtu = PROTO_TAP_MTU_MAX;
  assert_encode_fails (&msg, 15, ENOBUFS, "cannot encode TAP: the frame needs 16 bytes");
  assert_int_equal (proto_encode (&msg, buf, 16, NULL), 16);
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
    cmocka_unit_test (test_ns_ready_flags),
    cmocka_unit_test (test_error_text_lengths),
    cmocka_unit_test (test_error_encode_truncates),
    cmocka_unit_test (test_sockets_values_and_fd_counts),
    cmocka_unit_test (test_tap_values_and_fd_counts),
    cmocka_unit_test (test_version_mismatch),
    cmocka_unit_test (test_pid_and_status_values),
    cmocka_unit_test (test_encode_errors),
    cmocka_unit_test (test_msg_init_close),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
