/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * One frame per SOCK_SEQPACKET packet: a 12-byte ProtoHeader and a payload
 * whose layout is fixed by the type (see wire.h and docs/protocol.md). All
 * fields are read and written with memcpy(), never through casts, so the
 * buffers need no alignment.
 *
 * The encoder and the decoder share one set of value rules (check_values()):
 * whatever proto_encode() accepts, proto_decode() accepts (but for a HELLO
 * of another version, which tests need to build), and the decoder
 * accepts exactly one byte sequence per message, so decode(encode(m)) == m
 * and encode(decode(b)) == b. The fuzz target checks both.
 *
 * proto_recv() first takes every fd out of the control data, so that each
 * error path after it closes them all: a bad frame never leaks an fd into
 * the receiver.
 */
#include "wire.h"

#include "npte-error.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

static_assert (sizeof (ProtoHeader) == PROTO_HEADER_SIZE, "ProtoHeader must be 12 bytes");
static_assert (offsetof (ProtoHeader, type) == 0, "ProtoHeader.type at 0");
static_assert (offsetof (ProtoHeader, flags) == 2, "ProtoHeader.flags at 2");
static_assert (offsetof (ProtoHeader, id) == 4, "ProtoHeader.id at 4");
static_assert (offsetof (ProtoHeader, len) == 8, "ProtoHeader.len at 8");
static_assert (PROTO_MSG_MAX_ <= UINT16_MAX, "type must fit the u16 header field");
static_assert (sizeof (((ProtoMsg *) 0)->u.error.message) == PROTO_MAX_MESSAGE + 1,
               "room for the longest text and its NUL");
static_assert (PROTO_MAX_FDS <= 253, "the kernel passes at most SCM_MAX_FD (253) fds");

/* Fixed part of an ERROR payload: i32 errno, u32 text length. */
#define ERROR_FIXED 8u
static_assert (ERROR_FIXED + PROTO_MAX_MESSAGE <= PROTO_MAX_PAYLOAD,
               "the longest ERROR frame fits a payload");

/* Control buffer for PROTO_MAX_FDS fds, aligned for struct cmsghdr. */
typedef union {
  struct cmsghdr align;
  char buf[CMSG_SPACE (sizeof (int) * PROTO_MAX_FDS)];
} FdControl;

/* Payload bytes of each type; for ERROR only the fixed part before the text. */
static const uint32_t payload_size[PROTO_MSG_MAX_] = {
  [PROTO_MSG_HELLO] = 8,
  [PROTO_MSG_CMD_STARTED] = 4,
  [PROTO_MSG_SOCKETS_REQ] = 12,
  [PROTO_MSG_SOCKETS] = 12,
  [PROTO_MSG_ERROR] = ERROR_FIXED,
  [PROTO_MSG_CMD_EXITED] = 4,
  [PROTO_MSG_TAP] = 4,
  [PROTO_MSG_NS_READY] = 4,
};

static const char *const type_names[PROTO_MSG_MAX_] = {
  [PROTO_MSG_HELLO] = "HELLO",
  [PROTO_MSG_USERNS_READY] = "USERNS_READY",
  [PROTO_MSG_IDMAP_DONE] = "IDMAP_DONE",
  [PROTO_MSG_NS_READY] = "NS_READY",
  [PROTO_MSG_START_CMD] = "START_CMD",
  [PROTO_MSG_CMD_STARTED] = "CMD_STARTED",
  [PROTO_MSG_SOCKETS_REQ] = "SOCKETS_REQ",
  [PROTO_MSG_SOCKETS] = "SOCKETS",
  [PROTO_MSG_ERROR] = "ERROR",
  [PROTO_MSG_CMD_EXITED] = "CMD_EXITED",
  [PROTO_MSG_PING] = "PING",
  [PROTO_MSG_PONG] = "PONG",
  [PROTO_MSG_TAP] = "TAP",
};

static void
put_u32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, sizeof v);
}

static void
put_i32 (uint8_t *p, int32_t v)
{
  memcpy (p, &v, sizeof v);
}

static uint32_t
get_u32 (const uint8_t *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return v;
}

static int32_t
get_i32 (const uint8_t *p)
{
  int32_t v;

  memcpy (&v, p, sizeof v);
  return v;
}

static gboolean
type_is_valid (unsigned int type)
{
  return type > PROTO_MSG_INVALID && type < PROTO_MSG_MAX_;
}

const char *
proto_msg_type_name (unsigned int type)
{
  return type_is_valid (type) ? type_names[type] : "UNKNOWN";
}

void
proto_msg_init (ProtoMsg *msg, ProtoMsgType type, uint32_t id)
{
  memset (msg, 0, sizeof *msg);
  msg->type = type;
  msg->id = id;
  for (unsigned int i = 0; i < PROTO_MAX_FDS; i++)
    msg->fds[i] = -1;
  msg->n_fds = 0;
}

void
proto_msg_close_fds (ProtoMsg *msg)
{
  unsigned int n = MIN (msg->n_fds, PROTO_MAX_FDS);

  /* Only the first n_fds slots are owned: a zero-filled ProtoMsg must not
   * close fd 0. */
  for (unsigned int i = 0; i < n; i++)
    npte_close_fdp (&msg->fds[i]);
  for (unsigned int i = 0; i < PROTO_MAX_FDS; i++)
    msg->fds[i] = -1;
  msg->n_fds = 0;
}

/**
 * message_wire_len() - how many bytes of @text go on the wire
 * @text: NUL-terminated text (only its first PROTO_MAX_MESSAGE + 1 bytes are read)
 *
 * Texts longer than PROTO_MAX_MESSAGE are cut there, moved back to the start
 * of a UTF-8 sequence (at most 3 bytes) so a multi-byte character is never split.
 *
 * Return: the length, at most PROTO_MAX_MESSAGE.
 */
static gsize
message_wire_len (const char *text)
{
  gsize n = strnlen (text, PROTO_MAX_MESSAGE + 1);

  if (n <= PROTO_MAX_MESSAGE)
    return n;
  n = PROTO_MAX_MESSAGE;
  for (int back = 0; back < 3 && n > 0 && ((guchar) text[n] & 0xc0) == 0x80; back++)
    n--;
  return n;
}

static gboolean
pid_is_valid (uint32_t pid)
{
  /* 0 and values that are negative as pid_t would make kill() hit a group. */
  return pid >= 1 && pid <= G_MAXINT32;
}

/**
 * wait_status_is_valid() - is @status what waitpid() reports for a dead process
 * @status: raw wait status
 *
 * Return: TRUE for an exit (exit code in bits 8..15, low byte 0) or a death
 * by signal (signal 1..NSIG-1 in bits 0..6, optional core flag 0x80, bits
 * 8..15 clear). Stopped/continued statuses and bits above 15 are refused.
 */
static gboolean
wait_status_is_valid (int32_t status)
{
  uint32_t s = (uint32_t) status;
  uint32_t sig = s & 0x7f;

  if (s > 0xffff)
    return FALSE;
  if ((s & 0xff) == 0)
    return TRUE;
  return (s & 0xff00) == 0 && sig >= 1 && sig < NSIG;
}

static gboolean
check_sockets (const ProtoMsg *msg, int code, GError **error)
{
  const char *name = proto_msg_type_name (msg->type);
  uint32_t family = msg->u.sockets.family;
  uint32_t socktype = msg->u.sockets.socktype;
  uint32_t count = msg->u.sockets.count;

  if (family != AF_INET && family != AF_INET6)
    return npte_set_error (error, code,
                           "bad %s frame: address family %u is not AF_INET (%d) or AF_INET6 (%d)",
                           name, family, AF_INET, AF_INET6);
  if (socktype != SOCK_STREAM && socktype != SOCK_DGRAM)
    return npte_set_error (error, code,
                           "bad %s frame: socket type %u is not SOCK_STREAM (%d) or "
                           "SOCK_DGRAM (%d)",
                           name, socktype, SOCK_STREAM, SOCK_DGRAM);
  if (count == 0 || count > PROTO_MAX_FDS)
    return npte_set_error (error, code, "bad %s frame: socket count %u is not in 1..%u", name,
                           count, PROTO_MAX_FDS);
  return TRUE;
}

/**
 * check_values() - the value rules shared by the encoder and the decoder
 * @msg: message of a valid type, payload filled in
 * @code: error code to report (EINVAL when encoding, EPROTO when decoding)
 * @error: error naming the field
 *
 * HELLO's version is not checked here: that is a peer compatibility check
 * done by the decoder only, so tests can still build a frame of another version.
 *
 * Return: TRUE if every field holds an allowed value.
 */
static gboolean
check_values (const ProtoMsg *msg, int code, GError **error)
{
  const char *name = proto_msg_type_name (msg->type);

  switch (msg->type)
    {
    case PROTO_MSG_HELLO:
    case PROTO_MSG_CMD_STARTED:
      {
        uint32_t pid = msg->type == PROTO_MSG_HELLO ? msg->u.hello.pid : msg->u.cmd_started.pid;

        if (!pid_is_valid (pid))
          return npte_set_error (error, code, "bad %s frame: pid %u is not in 1..%d", name, pid,
                                 G_MAXINT32);
        return TRUE;
      }
    case PROTO_MSG_SOCKETS_REQ:
    case PROTO_MSG_SOCKETS:
      return check_sockets (msg, code, error);
    case PROTO_MSG_ERROR:
      if (msg->u.error.err <= 0)
        return npte_set_error (error, code, "bad ERROR frame: errno %d is not positive",
                               msg->u.error.err);
      return TRUE;
    case PROTO_MSG_CMD_EXITED:
      if (!wait_status_is_valid (msg->u.cmd_exited.status))
        return npte_set_error (error, code,
                               "bad CMD_EXITED frame: 0x%x is not the wait status of a process "
                               "that exited or was killed",
                               (unsigned int) msg->u.cmd_exited.status);
      return TRUE;
    case PROTO_MSG_TAP:
      if (msg->u.tap.mtu < PROTO_TAP_MTU_MIN || msg->u.tap.mtu > PROTO_TAP_MTU_MAX)
        return npte_set_error (error, code, "bad TAP frame: mtu %u is not in %u..%u",
                               msg->u.tap.mtu, PROTO_TAP_MTU_MIN, PROTO_TAP_MTU_MAX);
      return TRUE;
    case PROTO_MSG_NS_READY:
      if (msg->u.ns_ready.flags & ~PROTO_NS_FLAGS_ALL)
        return npte_set_error (error, code, "bad NS_READY frame: unknown flags 0x%x",
                               msg->u.ns_ready.flags);
      return TRUE;
    case PROTO_MSG_USERNS_READY:
    case PROTO_MSG_IDMAP_DONE:
    case PROTO_MSG_START_CMD:
    case PROTO_MSG_PING:
    case PROTO_MSG_PONG:
    case PROTO_MSG_INVALID:
    case PROTO_MSG_MAX_:
      break;
    }
  return TRUE;
}

/* Write the payload of @msg at @p; the caller checked the room. */
static void
encode_payload (const ProtoMsg *msg, uint8_t *p, gsize text_len)
{
  switch (msg->type)
    {
    case PROTO_MSG_HELLO:
      put_u32 (p, msg->u.hello.version);
      put_u32 (p + 4, msg->u.hello.pid);
      break;
    case PROTO_MSG_CMD_STARTED:
      put_u32 (p, msg->u.cmd_started.pid);
      break;
    case PROTO_MSG_SOCKETS_REQ:
    case PROTO_MSG_SOCKETS:
      put_u32 (p, msg->u.sockets.family);
      put_u32 (p + 4, msg->u.sockets.socktype);
      put_u32 (p + 8, msg->u.sockets.count);
      break;
    case PROTO_MSG_ERROR:
      put_i32 (p, msg->u.error.err);
      put_u32 (p + 4, (uint32_t) text_len);
      memcpy (p + ERROR_FIXED, msg->u.error.message, text_len);
      break;
    case PROTO_MSG_CMD_EXITED:
      put_i32 (p, msg->u.cmd_exited.status);
      break;
    case PROTO_MSG_TAP:
      put_u32 (p, msg->u.tap.mtu);
      break;
    case PROTO_MSG_NS_READY:
      put_u32 (p, msg->u.ns_ready.flags);
      break;
    case PROTO_MSG_USERNS_READY:
    case PROTO_MSG_IDMAP_DONE:
    case PROTO_MSG_START_CMD:
    case PROTO_MSG_PING:
    case PROTO_MSG_PONG:
    case PROTO_MSG_INVALID:
    case PROTO_MSG_MAX_:
      break;
    }
}

gssize
proto_encode (const ProtoMsg *msg, uint8_t *buf, gsize buflen, GError **error)
{
  ProtoHeader h;
  gsize text_len = 0;
  uint32_t plen;

  g_return_val_if_fail (msg != NULL, -1);
  g_return_val_if_fail (buf != NULL || buflen == 0, -1);

  if (!type_is_valid ((unsigned int) msg->type))
    {
      npte_set_error (error, EINVAL, "cannot encode message type %u: unknown type",
                      (unsigned int) msg->type);
      return -1;
    }
  if (!check_values (msg, EINVAL, error))
    return -1;
  if (msg->type == PROTO_MSG_ERROR)
    text_len = message_wire_len (msg->u.error.message);
  plen = payload_size[msg->type] + (uint32_t) text_len;
  if (buflen < PROTO_HEADER_SIZE + plen)
    {
      npte_set_error (error, ENOBUFS,
                      "cannot encode %s: the frame needs %u bytes, the buffer has %zu",
                      proto_msg_type_name (msg->type), PROTO_HEADER_SIZE + plen, (size_t) buflen);
      return -1;
    }
  h = (ProtoHeader){ .type = (uint16_t) msg->type, .flags = 0, .id = msg->id, .len = plen };
  memcpy (buf, &h, sizeof h);
  encode_payload (msg, buf + PROTO_HEADER_SIZE, text_len);
  return (gssize) (PROTO_HEADER_SIZE + plen);
}

/**
 * decode_error_payload() - parse the payload of an ERROR frame
 * @p: payload
 * @plen: its size, at least ERROR_FIXED
 * @out: message whose u.error is filled (text NUL-terminated)
 * @error: EPROTO on a text length that is too big or does not match the
 *         payload, or a NUL inside the text
 *
 * Return: TRUE on success.
 */
static gboolean
decode_error_payload (const uint8_t *p, uint32_t plen, ProtoMsg *out, GError **error)
{
  uint32_t text_len = get_u32 (p + 4);
  const uint8_t *text = p + ERROR_FIXED;
  const uint8_t *nul;

  if (text_len > PROTO_MAX_MESSAGE)
    return npte_set_error (error, EPROTO, "bad ERROR frame: text length %u exceeds the maximum %u",
                           text_len, PROTO_MAX_MESSAGE);
  if (text_len != plen - ERROR_FIXED)
    return npte_set_error (error, EPROTO,
                           "bad ERROR frame: text length %u does not match the %u bytes left in "
                           "the payload",
                           text_len, plen - ERROR_FIXED);
  nul = memchr (text, '\0', text_len);
  if (nul != NULL)
    return npte_set_error (error, EPROTO, "bad ERROR frame: NUL byte inside the text at offset %td",
                           nul - text);
  out->u.error.err = get_i32 (p);
  memcpy (out->u.error.message, text, text_len);
  out->u.error.message[text_len] = '\0';
  return TRUE;
}

/* Check the payload size for @type and fill out->u from it. */
static gboolean
decode_payload (ProtoMsgType type, const uint8_t *p, uint32_t plen, ProtoMsg *out,
                GError **error)
{
  const char *name = proto_msg_type_name (type);

  if (type == PROTO_MSG_ERROR)
    {
      if (plen < ERROR_FIXED)
        return npte_set_error (error, EPROTO,
                               "bad ERROR frame: payload is %u bytes, needs at least %u", plen,
                               ERROR_FIXED);
      return decode_error_payload (p, plen, out, error);
    }
  if (plen != payload_size[type])
    return npte_set_error (error, EPROTO, "bad %s frame: payload is %u bytes, expected %u", name,
                           plen, payload_size[type]);
  switch (type)
    {
    case PROTO_MSG_HELLO:
      out->u.hello.version = get_u32 (p);
      out->u.hello.pid = get_u32 (p + 4);
      break;
    case PROTO_MSG_CMD_STARTED:
      out->u.cmd_started.pid = get_u32 (p);
      break;
    case PROTO_MSG_SOCKETS_REQ:
    case PROTO_MSG_SOCKETS:
      out->u.sockets.family = get_u32 (p);
      out->u.sockets.socktype = get_u32 (p + 4);
      out->u.sockets.count = get_u32 (p + 8);
      break;
    case PROTO_MSG_CMD_EXITED:
      out->u.cmd_exited.status = get_i32 (p);
      break;
    case PROTO_MSG_TAP:
      out->u.tap.mtu = get_u32 (p);
      break;
    case PROTO_MSG_NS_READY:
      out->u.ns_ready.flags = get_u32 (p);
      break;
    case PROTO_MSG_ERROR:
    case PROTO_MSG_USERNS_READY:
    case PROTO_MSG_IDMAP_DONE:
    case PROTO_MSG_START_CMD:
    case PROTO_MSG_PING:
    case PROTO_MSG_PONG:
    case PROTO_MSG_INVALID:
    case PROTO_MSG_MAX_:
      break;
    }
  return TRUE;
}

/**
 * decode_header() - read and check the header of a frame of @len bytes
 * @buf: frame
 * @len: bytes received
 * @h: (out) the header
 * @error: EPROTO for a short frame, an oversized or wrong length field, an
 *         unknown type, a HELLO of another version or non-zero flags
 *
 * The version of a HELLO is checked before its flags and size: the first
 * payload word of HELLO is the version in every protocol version, so a peer
 * of another version is reported as a version mismatch.
 *
 * Return: TRUE if the header is valid.
 */
static gboolean
decode_header (const uint8_t *buf, gsize len, ProtoHeader *h, GError **error)
{
  if (len < PROTO_HEADER_SIZE)
    return npte_set_error (error, EPROTO,
                           "bad frame: short frame of %zu bytes, the header needs %u",
                           (size_t) len, PROTO_HEADER_SIZE);
  memcpy (h, buf, sizeof *h);
  if (h->len > PROTO_MAX_PAYLOAD)
    return npte_set_error (error, EPROTO, "bad frame: payload length %u exceeds the maximum %u",
                           h->len, PROTO_MAX_PAYLOAD);
  if (h->len != len - PROTO_HEADER_SIZE)
    return npte_set_error (error, EPROTO,
                           "bad frame: length field says %u payload bytes but %zu arrived", h->len,
                           (size_t) (len - PROTO_HEADER_SIZE));
  if (!type_is_valid (h->type))
    return npte_set_error (error, EPROTO, "bad frame: unknown message type %u", h->type);
  if (h->type == PROTO_MSG_HELLO && h->len >= 4)
    {
      uint32_t version = get_u32 (buf + PROTO_HEADER_SIZE);

      if (version != PROTO_VERSION)
        return npte_set_error (error, EPROTO,
                               "protocol version mismatch: the peer speaks version %u, this npte "
                               "speaks version %u (parent and child must be the same npte binary)",
                               version, PROTO_VERSION);
    }
  if (h->flags != 0)
    return npte_set_error (error, EPROTO, "bad %s frame: flags 0x%x, must be 0",
                           proto_msg_type_name (h->type), h->flags);
  return TRUE;
}

gboolean
proto_decode (const uint8_t *buf, gsize len, unsigned int n_fds, ProtoMsg *out, GError **error)
{
  ProtoHeader h = { 0 };
  ProtoMsgType type;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!decode_header (buf, len, &h, error))
    return FALSE;
  type = (ProtoMsgType) h.type;
  if (n_fds > 0 && type != PROTO_MSG_SOCKETS && type != PROTO_MSG_TAP)
    return npte_set_error (error, EPROTO, "bad %s frame: it carries no fds but %u arrived",
                           proto_msg_type_name (type), n_fds);
  out->type = type;
  out->id = h.id;
  memset (&out->u, 0, sizeof out->u);
  if (!decode_payload (type, buf + PROTO_HEADER_SIZE, h.len, out, error))
    return FALSE;
  if (!check_values (out, EPROTO, error))
    return FALSE;
  if (type == PROTO_MSG_TAP && n_fds != 1)
    return npte_set_error (error, EPROTO, "bad TAP frame: it carries 1 fd but %u arrived", n_fds);
  if (type == PROTO_MSG_SOCKETS && out->u.sockets.count != n_fds)
    return npte_set_error (error, EPROTO, "bad SOCKETS frame: it announces %u fds but %u arrived",
                           out->u.sockets.count, n_fds);
  return TRUE;
}

/* EINVAL unless @n_fds fds are exactly what @msg announces. */
static gboolean
check_send_fds (const ProtoMsg *msg, const int *fds, unsigned int n_fds, GError **error)
{
  const char *name = proto_msg_type_name (msg->type);

  if (n_fds > 0 && fds == NULL)
    return npte_set_error (error, EINVAL, "cannot send %s: %u fds but no array", name, n_fds);
  if (msg->type == PROTO_MSG_SOCKETS)
    {
      if (n_fds != msg->u.sockets.count)
        return npte_set_error (error, EINVAL,
                               "cannot send SOCKETS: it announces %u fds but %u were given",
                               msg->u.sockets.count, n_fds);
    }
  else if (msg->type == PROTO_MSG_TAP)
    {
      if (n_fds != 1)
        return npte_set_error (error, EINVAL, "cannot send TAP: it carries 1 fd, %u given", n_fds);
    }
  else if (n_fds > 0)
    return npte_set_error (error, EINVAL, "cannot send %s: this type carries no fds (%u given)",
                           name, n_fds);
  return TRUE;
}

gboolean
proto_send (int sock, const ProtoMsg *msg, const int *fds, unsigned int n_fds, GError **error)
{
  uint8_t buf[PROTO_MAX_FRAME];
  FdControl control;
  struct iovec iov;
  struct msghdr mh = { 0 };
  gssize len;
  ssize_t sent;

  g_return_val_if_fail (msg != NULL, FALSE);

  if (!check_send_fds (msg, fds, n_fds, error))
    return FALSE;
  len = proto_encode (msg, buf, sizeof buf, error);
  if (len < 0)
    return FALSE;
  iov = (struct iovec){ .iov_base = buf, .iov_len = (size_t) len };
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (n_fds > 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
      cmsg = CMSG_FIRSTHDR (&mh);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
      memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
    }
  do
    sent = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0)
    {
      int errsv = errno;

      return npte_set_errno (error, errsv, "send %s frame", proto_msg_type_name (msg->type));
    }
  if (sent != len)
    return npte_set_error (error, EIO, "send %s frame: short send of %zd of %zd bytes",
                           proto_msg_type_name (msg->type), sent, (ssize_t) len);
  return TRUE;
}

static void
close_fds (int *fds, unsigned int n)
{
  for (unsigned int i = 0; i < n; i++)
    npte_close_fdp (&fds[i]);
}

/**
 * take_fds() - move every fd of the control data of @mh into @fds
 * @mh: the received message header
 * @fds: (out) at least PROTO_MAX_FDS slots
 * @n_fds: (out) how many were stored
 * @error: EPROTO for a control message that is not SOL_SOCKET/SCM_RIGHTS or
 *         more than PROTO_MAX_FDS fds
 *
 * On failure every received fd, stored or not, is closed and *@n_fds is 0.
 *
 * Return: TRUE on success.
 */
static gboolean
take_fds (struct msghdr *mh, int *fds, unsigned int *n_fds, GError **error)
{
  int bad_level = 0, bad_type = 0;
  gboolean foreign = FALSE, too_many = FALSE;

  *n_fds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (mh); c != NULL; c = CMSG_NXTHDR (mh, c))
    {
      gsize n;

      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        {
          if (!foreign)
            bad_level = c->cmsg_level, bad_type = c->cmsg_type;
          foreign = TRUE;
          continue;
        }
      n = c->cmsg_len >= CMSG_LEN (0) ? (c->cmsg_len - CMSG_LEN (0)) / sizeof (int) : 0;
      for (gsize i = 0; i < n; i++)
        {
          int fd;

          memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
          if (*n_fds < PROTO_MAX_FDS)
            fds[(*n_fds)++] = fd;
          else
            {
              npte_close_fdp (&fd);
              too_many = TRUE;
            }
        }
    }
  if (!foreign && !too_many)
    return TRUE;
  close_fds (fds, *n_fds);
  *n_fds = 0;
  if (foreign)
    return npte_set_error (error, EPROTO,
                           "bad frame: unexpected control message (level %d, type %d), only "
                           "SCM_RIGHTS is allowed",
                           bad_level, bad_type);
  return npte_set_error (error, EPROTO, "bad frame: more than %u fds arrived", PROTO_MAX_FDS);
}

ProtoRecvResult
proto_recv (int sock, ProtoMsg *out, GError **error)
{
  uint8_t buf[PROTO_MAX_FRAME + 1];
  FdControl control;
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
  struct msghdr mh = { 0 };
  int fds[PROTO_MAX_FDS];
  unsigned int n_fds;
  ssize_t n;

  g_return_val_if_fail (out != NULL, PROTO_RECV_ERROR);

  proto_msg_init (out, PROTO_MSG_INVALID, 0);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.buf;
  mh.msg_controllen = sizeof control.buf;
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int errsv = errno;

      npte_set_errno (error, errsv, "receive a frame");
      return PROTO_RECV_ERROR;
    }
  if (!take_fds (&mh, fds, &n_fds, error))
    return PROTO_RECV_ERROR;
  if (n == 0)
    {
      /* On SEQPACKET a 0-byte read is the peer's close; peers never send empty frames. */
      close_fds (fds, n_fds);
      return PROTO_RECV_EOF;
    }
  if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC && n_fds < PROTO_MAX_FDS)
    {
      /* Room was left for the fds, yet some were dropped: the kernel could not install them. */
      struct rlimit rl = { 0 };
      close_fds (fds, n_fds);
      getrlimit (RLIMIT_NOFILE, &rl);
      npte_set_error (error, EMFILE,
                      "a frame's fds were dropped: this process is out of file descriptors "
                      "(RLIMIT_NOFILE %llu)", (unsigned long long) rl.rlim_cur);
      return PROTO_RECV_ERROR;
    }
  if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    {
      close_fds (fds, n_fds);
      npte_set_error (error, EPROTO,
                      "bad frame: %s truncated (a frame is at most %u bytes with %u fds)",
                      (mh.msg_flags & MSG_TRUNC) ? "data" : "control data (fds)", PROTO_MAX_FRAME,
                      PROTO_MAX_FDS);
      return PROTO_RECV_ERROR;
    }
  if (!proto_decode (buf, (gsize) n, n_fds, out, error))
    {
      close_fds (fds, n_fds);
      return PROTO_RECV_ERROR;
    }
  memcpy (out->fds, fds, sizeof (int) * n_fds);
  out->n_fds = n_fds;
  return PROTO_RECV_OK;
}

gboolean
proto_send_error (int sock, uint32_t id, const GError *err)
{
  ProtoMsg msg;
  const char *text;

  g_return_val_if_fail (err != NULL, FALSE);

  proto_msg_init (&msg, PROTO_MSG_ERROR, id);
  msg.u.error.err = npte_error_code (err);
  text = err->message != NULL ? err->message : "";
  /* msg is zero-filled, so the copied text stays NUL-terminated. */
  memcpy (msg.u.error.message, text, message_wire_len (text));
  return proto_send (sock, &msg, NULL, 0, NULL);
}
