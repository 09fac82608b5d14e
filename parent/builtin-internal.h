/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_BUILTIN_INTERNAL_H
#define NPTE_BUILTIN_INTERNAL_H

/* Shared between builtin.c, builtin-tcp.c and builtin-udp.c only. */

#include <sys/socket.h>

#include "builtin.h"
#include "portspec.h"
#include "porttable.h"

typedef struct {
  int rfd;
  int wfd;
  int size;             /* bytes it holds (F_SETPIPE_SZ) */
} BuiltinPipe;

/* Datagrams read per recvmmsg() call, and the size of each buffer. */
#define BUILTIN_UDP_BATCH 32
#define BUILTIN_UDP_BUFSIZE 65536

struct Builtin {
  struct ev_loop *loop;
  NsPool *pool;
  BuiltinConfig config;
  GArray *spare_pipes;  /* empty BuiltinPipe kept for reuse */
  int pipe_size;        /* bytes a new pipe holds */
  int bulk_pipe_size;   /* what builtin_pipe_grow() asks for; 0 once that failed */
  guint8 *udp_bufs;     /* BUILTIN_UDP_BATCH x BUILTIN_UDP_BUFSIZE, shared by all UDP ports */
  gboolean transparent_failed; /* logged once */
};

/**
 * builtin_pipe_get() - an empty pipe, reused or new
 * @b: driver
 * @p: (out) the pipe
 *
 * Return: TRUE on success (errno set on failure).
 */
gboolean builtin_pipe_get (Builtin *b, BuiltinPipe *p);

/**
 * builtin_pipe_put() - give a pipe back; it is kept only when @empty
 * @b: driver
 * @p: the pipe (reset to -1)
 * @empty: whether no bytes are left in it
 */
void builtin_pipe_put (Builtin *b, BuiltinPipe *p, gboolean empty);

/**
 * builtin_pipe_grow() - give a bulk flow's pipe the bulk size
 * @b: driver
 * @p: the pipe (its size updated)
 *
 * A bigger pipe moves more per splice() and per wake-up. Growing fails when the user's pipe
 * budget (fs.pipe-user-pages-soft) or fs.pipe-max-size does not allow it; npte then stops
 * trying for this instance.
 *
 * Return: TRUE if the pipe is now bigger.
 */
gboolean builtin_pipe_grow (Builtin *b, BuiltinPipe *p);

/**
 * builtin_udp_rcvbuf() - a large receive buffer for a UDP socket of the relay
 * @fd: the socket
 *
 * PROTO_UDP_RCVBUF, clamped by the kernel to net.core.rmem_max: at 1 Gbit/s of 1400-byte
 * datagrams the default 208 KiB overflows after about 1 ms off the CPU. Memory is used only
 * while datagrams wait.
 */
void builtin_udp_rcvbuf (int fd);

/**
 * builtin_bind_plan() - bind (and for TCP listen) a socket of one listener
 * @entry: the port (for messages; a port 0 is filled in when @fill_port)
 * @plan: address, family, socket type, v6only
 * @fd: a socket to use (a namespace socket from the pool, for reverse
 *      ports), or -1 to create one on the host
 * @fill_port: write the kernel-chosen port back (parent_port for forward,
 *             child_port for reverse) when the plan's port is 0
 * @error: EACCES for a privileged host port (naming
 *         net.ipv4.ip_unprivileged_port_start), EADDRINUSE naming the address
 *
 * Return: the non-blocking socket (@fd or a new one), or -1 (@fd closed).
 */
int builtin_bind_plan (PortEntry *entry, const PortListenPlan *plan, int fd, gboolean fill_port,
                       GError **error);

/*
 * One listener: a port entry has one per port of its range (two per port for
 * a reverse port listening on both 127.0.0.1 and ::1). Forward: @lfd is on
 * the host and every flow connects a pooled namespace socket to @target.
 * Reverse: @lfd lives in the namespace and every flow connects a host
 * socket to @target.
 */
gpointer builtin_tcp_listener_new (Builtin *b, PortEntry *entry, int lfd, gboolean reverse,
                                   const struct sockaddr_storage *target, socklen_t target_len);
void builtin_tcp_listener_free (Builtin *b, gpointer listener);
gpointer builtin_udp_listener_new (Builtin *b, PortEntry *entry, int lfd, gboolean reverse,
                                   const struct sockaddr_storage *target, socklen_t target_len);
void builtin_udp_listener_free (Builtin *b, gpointer listener);

/**
 * builtin_preserve_source() - bind a namespace socket to the client's address
 * @b: driver (does nothing unless config.preserve_source)
 * @fd: unconnected namespace socket of the target's family
 * @client: the client's address as accepted / received
 * @target: where @fd will connect
 *
 * So the server in the namespace sees the real client. Only for loopback
 * targets (the child's source routing covers replies from loopback), and
 * only when the client's family matches the target's (v4-mapped IPv6
 * clients count as IPv4). A non-loopback client needs IP_TRANSPARENT; a
 * loopback one other than the target address is simply bound. Any failure
 * leaves @fd unbound: the server then sees loopback, as without this.
 */
void builtin_preserve_source (Builtin *b, int fd, const struct sockaddr_storage *client,
                              const struct sockaddr_storage *target);


#endif /* NPTE_BUILTIN_INTERNAL_H */
