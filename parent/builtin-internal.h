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

gboolean builtin_tcp_open (Builtin *b, PortEntry *entry, GError **error);
void builtin_tcp_close (Builtin *b, PortEntry *entry);
gboolean builtin_udp_open (Builtin *b, PortEntry *entry, GError **error);
void builtin_udp_close (Builtin *b, PortEntry *entry);

#endif /* NPTE_BUILTIN_INTERNAL_H */
