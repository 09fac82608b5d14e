/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_BUILTIN_INTERNAL_H
#define NPTE_BUILTIN_INTERNAL_H

/* Shared between builtin.c, builtin-tcp.c and builtin-udp.c only. */

#include <sys/socket.h>

#include "builtin.h"
#include "porttable.h"

typedef struct {
  int rfd;
  int wfd;
} BuiltinPipe;

/* Datagrams read per recvmmsg() call, and the size of each buffer. */
#define BUILTIN_UDP_BATCH 32
#define BUILTIN_UDP_BUFSIZE 65536

struct Builtin {
  struct ev_loop *loop;
  NsPool *pool;
  BuiltinConfig config;
  GArray *spare_pipes;  /* empty BuiltinPipe kept for reuse */
  int pipe_size;        /* bytes each pipe holds */
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
 * builtin_listen() - create, bind and (for TCP) listen the host socket of @entry
 * @entry: the port; a parent port of 0 is replaced by the one the kernel chose
 * @error: EACCES for a privileged port (naming net.ipv4.ip_unprivileged_port_start),
 *         EADDRINUSE naming the address
 *
 * Return: the non-blocking socket, or -1.
 */
int builtin_listen (PortEntry *entry, GError **error);

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

gboolean builtin_tcp_open (Builtin *b, PortEntry *entry, GError **error);
void builtin_tcp_close (Builtin *b, PortEntry *entry);
gboolean builtin_udp_open (Builtin *b, PortEntry *entry, GError **error);
void builtin_udp_close (Builtin *b, PortEntry *entry);

#endif /* NPTE_BUILTIN_INTERNAL_H */
