/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_WIRE_H
#define NPTE_WIRE_H

#include <glib.h>
#include <stdint.h>

/*
 * DOC: The parent/child wire protocol
 *
 * One AF_UNIX SOCK_SEQPACKET socketpair; every packet is one frame:
 *
 *   struct ProtoHeader { u16 type; u16 flags; u32 id; u32 len; }   12 bytes
 *   payload[len]                                                   len <= PROTO_MAX_PAYLOAD
 *
 * Integers are in host byte order (both ends are the same binary on the
 * same host). Each type has a fixed payload layout, checked exactly by the
 * decoder; strings are length-prefixed and NUL-terminated by the decoder.
 * fds travel as SCM_RIGHTS on the same packet; the receiver checks the
 * cmsg level/type, and the count the message announces, and closes any
 * extras. EOF means the peer died. See docs/protocol.md.
 */

#define PROTO_VERSION 1u
#define PROTO_HEADER_SIZE 12u
#define PROTO_MAX_PAYLOAD 4096u
#define PROTO_MAX_FRAME (PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD)
#define PROTO_MAX_FDS 64u          /* fds in one SOCKETS frame */
/*
 * SO_RCVBUF the child asks for on pooled datagram sockets, and the parent on its own UDP
 * sockets: a burst of datagrams waits in the kernel while the relay is off the CPU. The
 * kernel clamps it to net.core.rmem_max (and doubles it).
 */
#define PROTO_UDP_RCVBUF (4 * 1024 * 1024)
#define PROTO_MAX_MESSAGE 1024u    /* bytes of an ERROR message text */
/* NS_READY flags: source-address routing (rules and table 100) is set up. */
#define PROTO_NS_SRCROUTE 1u
#define PROTO_NS_FLAGS_ALL PROTO_NS_SRCROUTE
#define PROTO_TAP_MTU_MIN 68u      /* MTU range of a TAP frame (libslirp's) */
#define PROTO_TAP_MTU_MAX 65521u

typedef enum {
  PROTO_MSG_INVALID = 0,
  PROTO_MSG_HELLO = 1,        /* both ways: {u32 version, u32 pid} */
  PROTO_MSG_USERNS_READY,     /* C->P: child is in its new user ns; write the id maps. {} */
  PROTO_MSG_IDMAP_DONE,       /* P->C: maps written. {} */
  PROTO_MSG_NS_READY,         /* C->P: net+mount ns made, lo up. {u32 flags: PROTO_NS_*} */
  PROTO_MSG_START_CMD,        /* P->C: ports and API are up; run the payload. {} */
  PROTO_MSG_CMD_STARTED,      /* C->P: {u32 pid} (pid as seen by the parent) */
  PROTO_MSG_SOCKETS_REQ,      /* P->C: {u32 family, u32 socktype, u32 count} */
  PROTO_MSG_SOCKETS,          /* C->P: {u32 family, u32 socktype, u32 count} + count fds */
  PROTO_MSG_ERROR,            /* either way: {i32 errno, u32 len, char text[len]} */
  PROTO_MSG_CMD_EXITED,       /* C->P: {i32 wait status} */
  PROTO_MSG_PING,             /* either way, {} ; answered with PONG, same id */
  PROTO_MSG_PONG,             /* {} */
  PROTO_MSG_TAP,              /* C->P: {u32 mtu} + the TAP fd, before NS_READY with --net=slirp */
  PROTO_MSG_MAX_
} ProtoMsgType;

typedef struct {
  uint16_t type;
  uint16_t flags;   /* must be 0 in version 1 */
  uint32_t id;      /* request id; a reply (SOCKETS, ERROR, PONG) carries the request's id */
  uint32_t len;     /* payload bytes after the header */
} ProtoHeader;

typedef struct {
  ProtoMsgType type;
  uint32_t id;
  union {
    struct { uint32_t version; uint32_t pid; } hello;
    struct { uint32_t pid; } cmd_started;
    struct { uint32_t family; uint32_t socktype; uint32_t count; } sockets; /* REQ and reply */
    struct { int32_t err; char message[PROTO_MAX_MESSAGE + 1]; } error;
    struct { int32_t status; } cmd_exited;
    struct { uint32_t mtu; } tap;
    struct { uint32_t flags; } ns_ready;
  } u;
  int fds[PROTO_MAX_FDS];   /* received fds (SOCKETS); owned by the message */
  unsigned int n_fds;
} ProtoMsg;

/**
 * proto_msg_init() - zero @msg for @type with request @id (fds set to -1)
 * @msg: message
 * @type: its type
 * @id: request id
 */
void proto_msg_init (ProtoMsg *msg, ProtoMsgType type, uint32_t id);

/* proto_msg_close_fds() - close every fd still owned by @msg. */
void proto_msg_close_fds (ProtoMsg *msg);

/* proto_msg_type_name() - "HELLO", ...; "UNKNOWN" for a bad value. */
const char *proto_msg_type_name (unsigned int type);

/**
 * proto_encode() - write the frame for @msg into @buf (fds are not encoded)
 * @msg: message; for ERROR the message text is truncated to PROTO_MAX_MESSAGE
 * @buf: output buffer
 * @buflen: its size (PROTO_MAX_FRAME is always enough)
 * @error: EINVAL for an unknown type, ENOBUFS when @buf is too small
 *
 * Return: bytes written, or -1.
 */
gssize proto_encode (const ProtoMsg *msg, uint8_t *buf, gsize buflen, GError **error);

/**
 * proto_decode() - parse and check one frame
 * @buf: the frame bytes
 * @len: how many bytes were received
 * @n_fds: how many fds arrived with it (checked against what the type announces)
 * @out: (out) decoded message (fds not touched)
 * @error: EPROTO naming what is wrong: short frame, length field that does
 *         not match, unknown type, non-zero flags, wrong payload size for the
 *         type, bad string length, fd count mismatch or fds on a type that
 *         carries none
 *
 * Return: TRUE if the frame is valid.
 */
gboolean proto_decode (const uint8_t *buf, gsize len, unsigned int n_fds, ProtoMsg *out,
                       GError **error);

/**
 * proto_send() - encode and send @msg with @fds as SCM_RIGHTS
 * @sock: the SEQPACKET socket
 * @msg: message
 * @fds: fds to pass (not closed), or NULL
 * @n_fds: how many (at most PROTO_MAX_FDS)
 * @error: error (EPIPE when the peer is gone)
 *
 * Blocks if the socket is blocking; retries EINTR.
 *
 * Return: TRUE on success.
 */
gboolean proto_send (int sock, const ProtoMsg *msg, const int *fds, unsigned int n_fds,
                     GError **error);

typedef enum {
  PROTO_RECV_OK = 1,
  PROTO_RECV_EOF = 0,      /* the peer closed: it died */
  PROTO_RECV_ERROR = -1,   /* *error set; EAGAIN on a non-blocking socket with nothing to read */
} ProtoRecvResult;

/**
 * proto_recv() - receive and decode one frame with its fds
 * @sock: the SEQPACKET socket
 * @out: (out) the message; its fds (MSG_CMSG_CLOEXEC) are owned by @out
 * @error: error on PROTO_RECV_ERROR: EPROTO for a bad frame (truncated,
 *         MSG_CTRUNC, wrong cmsg level/type, see proto_decode()), with every
 *         received fd closed
 *
 * Return: a ProtoRecvResult.
 */
ProtoRecvResult proto_recv (int sock, ProtoMsg *out, GError **error);

/**
 * proto_send_error() - send an ERROR frame carrying @err's code and message
 * @sock: socket
 * @id: request id it answers (0 for none)
 * @err: the error (code = errno value)
 *
 * Return: TRUE if sent.
 */
gboolean proto_send_error (int sock, uint32_t id, const GError *err);

#endif /* NPTE_WIRE_H */
