/* SPDX-License-Identifier: Apache-2.0 */
/* The listening UNIX sockets of npte's two APIs (REST and slirp4netns'). */
#include "unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "npte-error.h"
#include "util.h"

/**
 * remove_stale() - remove a stale socket at @path, refuse anything else there
 * @path: the socket path
 * @what: what the socket is, for messages
 * @error: EEXIST when something other than a socket is in the way
 *
 * Return: TRUE if @path is free now.
 */
static gboolean
remove_stale (const char *path, const char *what, GError **error)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return npte_set_errno (error, errno, "%s %s: stat", what, path);
    }
  if (!S_ISSOCK (st.st_mode))
    return npte_set_error (error, EEXIST, "%s %s: the path exists and is not a socket; remove "
                           "it or choose another path", what, path);
  if (unlink (path) < 0 && errno != ENOENT)
    return npte_set_errno (error, errno, "%s %s: remove the stale socket", what, path);
  return TRUE;
}

int
npte_listen_unix (const char *path, const char *what, int backlog, struct stat *st_out,
                  GError **error)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  npte_autofd int fd = -1;
  mode_t old_umask;
  int r, errsv;

  if (strlen (path) >= sizeof sun.sun_path)
    {
      npte_set_error (error, ENAMETOOLONG, "%s %s: the path is longer than %zu bytes", what,
                      path, sizeof sun.sun_path - 1);
      return -1;
    }
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  if (!remove_stale (path, what, error))
    return -1;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      npte_set_errno (error, errno, "%s %s: socket", what, path);
      return -1;
    }
  old_umask = umask (0177);
  r = bind (fd, (struct sockaddr *) &sun, sizeof sun);
  errsv = errno;
  umask (old_umask);
  if (r < 0)
    {
      npte_set_errno (error, errsv, "%s %s: bind", what, path);
      return -1;
    }
  if (chmod (path, 0600) < 0 || lstat (path, st_out) < 0 || listen (fd, backlog) < 0)
    {
      npte_set_errno (error, errno, "%s %s: listen", what, path);
      unlink (path);
      return -1;
    }
  return npte_steal_fd (&fd);
}

void
npte_unlink_unix (const char *path, const struct stat *bound)
{
  struct stat st;

  /* The inode number alone can be reused at once by a replacement (tmpfs does): the change
   * time, taken after the chmod, tells them apart. */
  if (path != NULL && lstat (path, &st) == 0 && st.st_dev == bound->st_dev
      && st.st_ino == bound->st_ino && st.st_ctim.tv_sec == bound->st_ctim.tv_sec
      && st.st_ctim.tv_nsec == bound->st_ctim.tv_nsec)
    unlink (path);
}
