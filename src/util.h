/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_UTIL_H
#define NPTE_UTIL_H

#include <errno.h>
#include <glib.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * fd ownership. GLib 2.74 has no g_autofd, so:
 *   npte_autofd int fd = open (...);
 *   return npte_steal_fd (&fd);
 */
static inline void
npte_close_fdp (int *fdp)
{
  if (*fdp >= 0)
    {
      int errsv = errno;
      close (*fdp);
      errno = errsv;
      *fdp = -1;
    }
}

#define npte_autofd __attribute__ ((cleanup (npte_close_fdp)))

static inline int
npte_steal_fd (int *fdp)
{
  int fd = *fdp;
  *fdp = -1;
  return fd;
}

/* Longest text npte_sockaddr_format() writes, NUL included: "[v6%scope]:65535". */
#define NPTE_SOCKADDR_STRLEN 80

/**
 * npte_sockaddr_format() - "1.2.3.4:80" or "[::1]:80" for an AF_INET/AF_INET6 address
 * @sa: the address
 * @buf: output buffer of at least NPTE_SOCKADDR_STRLEN bytes
 *
 * Return: @buf.
 */
const char *npte_sockaddr_format (const struct sockaddr *sa, char *buf);

/**
 * npte_write_all() - write all of @len bytes, retrying EINTR and short writes
 * @fd: file descriptor (blocking)
 * @buf: data
 * @len: size of @buf
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
gboolean npte_write_all (int fd, const void *buf, gsize len, GError **error);

/**
 * npte_set_nonblock() - set O_NONBLOCK on @fd
 * @fd: file descriptor
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
gboolean npte_set_nonblock (int fd, GError **error);

/**
 * npte_parse_fd() - parse a decimal fd number given on the command line
 * @text: the argument
 * @out: where to store it
 * @error: error on failure (names the bad text)
 *
 * Return: TRUE if @text is a non-negative integer naming an open fd.
 */
gboolean npte_parse_fd (const char *text, int *out, GError **error);

/**
 * npte_raise_nofile() - raise the soft RLIMIT_NOFILE to the hard limit
 *
 * Return: the new soft limit.
 */
guint64 npte_raise_nofile (void);

#endif /* NPTE_UTIL_H */
