/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_UNIXSOCK_H
#define NPTE_UNIXSOCK_H

#include <glib.h>
#include <sys/stat.h>

/**
 * npte_listen_unix() - a non-blocking listening UNIX socket at @path, mode 0600
 * @path: the socket path
 * @what: what the socket is, for messages (e.g. "API socket")
 * @backlog: listen() backlog
 * @st_out: (out) the socket file's stat, so that its owner can later tell that the file at
 *          @path is still the one it made (device, inode and change time)
 * @error: ENAMETOOLONG (no room in sun_path), EEXIST (something other than a socket is at
 *         @path: it is left alone), or the errno of the call that failed, naming @path
 *
 * A stale socket at @path (one left by a killed instance) is replaced. The socket is bound
 * under umask 0177, so it is never reachable with wider permissions, not even for a moment.
 *
 * Return: the fd (close-on-exec), or -1 with @error set.
 */
int npte_listen_unix (const char *path, const char *what, int backlog, struct stat *st_out,
                      GError **error);

/**
 * npte_unlink_unix() - remove the socket file at @path if it is still the one npte bound
 * @path: the socket path (NULL: nothing to do)
 * @bound: the stat npte_listen_unix() gave
 *
 * Another instance may have replaced the file since (a restart with the same path): that
 * one is left alone.
 */
void npte_unlink_unix (const char *path, const struct stat *bound);

#endif /* NPTE_UNIXSOCK_H */
