/* SPDX-License-Identifier: Apache-2.0 */
#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npte-error.h"
#include "util.h"

/* Files we own inside a state dir; removed at start (stale) and at exit. */
static const char *const statedir_files[]
    = { STATEDIR_CHILD_PID, STATEDIR_CHILD_PID ".tmp", STATEDIR_API_SOCK, STATEDIR_RESOLV_CONF,
        NULL };

char *
statedir_base (void)
{
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
  struct stat st;

  if (xdg != NULL && g_path_is_absolute (xdg) && stat (xdg, &st) == 0 && S_ISDIR (st.st_mode)
      && st.st_uid == getuid () && access (xdg, W_OK | X_OK) == 0)
    return g_build_filename (xdg, "npte", NULL);

  g_autofree char *name = g_strdup_printf ("npte-%u", (unsigned) getuid ());
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

/**
 * check_private_dir() - refuse a path that is a symlink, not a dir, or not ours
 * @path: directory path
 * @error: ENOTDIR / EPERM with the reason
 *
 * Return: TRUE if @path is a real directory owned by the caller.
 */
static gboolean
check_private_dir (const char *path, GError **error)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return npte_set_errno (error, errno, "state dir %s", path);
  if (S_ISLNK (st.st_mode))
    return npte_set_error (error, ENOTDIR, "state dir %s is a symlink; refusing to use it", path);
  if (!S_ISDIR (st.st_mode))
    return npte_set_error (error, ENOTDIR, "state dir %s is not a directory", path);
  if (st.st_uid != getuid ())
    return npte_set_error (error, EPERM,
                           "state dir %s is owned by uid %u, not by you (uid %u)", path,
                           (unsigned) st.st_uid, (unsigned) getuid ());
  return TRUE;
}

/**
 * ensure_dir() - create @path with mode 0700 if missing, then check it
 * @path: directory path
 * @error: error on failure
 *
 * Return: TRUE if @path is a private directory of ours.
 */
static gboolean
ensure_dir (const char *path, GError **error)
{
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create state dir %s", path);
  return check_private_dir (path, error);
}

/**
 * read_child_pid() - the pid written in @dir/child_pid, for messages
 * @dir: state dir path
 *
 * Return: the pid, or 0 if unknown.
 */
static int
read_child_pid (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, STATEDIR_CHILD_PID, NULL);
  g_autofree char *text = NULL;
  guint64 v = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT, &v, NULL))
    return 0;
  return (int) v;
}

/**
 * take_lock() - open @dir/lock (O_NOFOLLOW) and take an exclusive flock
 * @dir: state dir path
 * @error: EBUSY when another npte holds it
 *
 * Return: the lock fd, or -1.
 */
static int
take_lock (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, STATEDIR_LOCK, NULL);
  npte_autofd int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      npte_set_errno (error, errno, "open lock file %s", path);
      return -1;
    }
  for (int tries = 0;;)
    {
      struct stat fst, pst;

      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        {
          /* statedir_is_running() holds LOCK_SH for an instant: wait that out. */
          if (errno == EWOULDBLOCK && tries++ < 20)
            {
              g_usleep (5000);
              continue;
            }
          break;
        }
      /*
       * An npte that was closing may have unlinked the file we opened: then
       * our lock guards nothing. Locked and still the file at @path: ours.
       */
      if (fstat (fd, &fst) == 0 && stat (path, &pst) == 0 && fst.st_ino == pst.st_ino
          && fst.st_dev == pst.st_dev)
        return npte_steal_fd (&fd);
      npte_close_fdp (&fd);
      fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0)
        {
          npte_set_errno (error, errno, "open lock file %s", path);
          return -1;
        }
    }
  if (errno == EWOULDBLOCK)
    {
      int pid = read_child_pid (dir);
      if (pid > 0)
        npte_set_error (error, EBUSY, "another npte (child pid %d) is running with state dir %s",
                        pid, dir);
      else
        npte_set_error (error, EBUSY, "another npte is running with state dir %s", dir);
    }
  else
    npte_set_errno (error, errno, "lock %s", path);
  return -1;
}

/**
 * make_fresh_dir() - create a new private dir under statedir_base()
 * @error: error on failure
 *
 * Return: (transfer full) its path, or NULL.
 */
static char *
make_fresh_dir (GError **error)
{
  g_autofree char *base = statedir_base ();
  g_autofree char *tmpl = NULL;

  if (!ensure_dir (base, error))
    return NULL;
  tmpl = g_build_filename (base, "XXXXXX", NULL);
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      npte_set_errno (error, errno, "create state dir under %s", base);
      return NULL;
    }
  return g_steal_pointer (&tmpl);
}

/**
 * open_dirfds() - O_PATH fds of the state dir (and of its parent if we created it)
 * @sd: the state dir (path and created set; dir_fd, parent_fd and name are set here)
 * @error: error on failure
 *
 * statedir_close() works relative to these, so it needs no path.
 *
 * Return: TRUE on success.
 */
static gboolean
open_dirfds (StateDir *sd, GError **error)
{
  struct stat dst, nst;

  sd->dir_fd = open (sd->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sd->dir_fd < 0 || fstat (sd->dir_fd, &dst) < 0)
    return npte_set_errno (error, errno, "open state dir %s", sd->path);
  if (!sd->created)
    return TRUE;
  g_autofree char *parent = g_path_get_dirname (sd->path);
  sd->name = g_path_get_basename (sd->path);
  sd->parent_fd = open (parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sd->parent_fd < 0)
    return npte_set_errno (error, errno, "open %s", parent);
  if (fstatat (sd->parent_fd, sd->name, &nst, AT_SYMLINK_NOFOLLOW) < 0 || nst.st_dev != dst.st_dev
      || nst.st_ino != dst.st_ino)
    return npte_set_error (error, EBUSY, "state dir %s was replaced while npte opened it",
                           sd->path);
  return TRUE;
}

StateDir *
statedir_open (const char *path, GError **error)
{
  g_autofree char *dir = NULL;
  gboolean created = FALSE;

  if (path == NULL)
    {
      dir = make_fresh_dir (error);
      if (dir == NULL)
        return NULL;
      created = TRUE;
    }
  else
    {
      g_autofree char *cwd = g_get_current_dir ();
      dir = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (cwd, path, NULL);
      /* "link/" would make lstat() follow a symlink: check the name itself. */
      for (gsize n = strlen (dir); n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';
      if (access (dir, F_OK) < 0 && errno == ENOENT)
        created = TRUE;
      if (!ensure_dir (dir, error))
        return NULL;
    }

  int lock_fd = take_lock (dir, error);
  if (lock_fd < 0)
    {
      if (created)
        rmdir (dir);
      return NULL;
    }

  g_autoptr (StateDir) sd = g_new0 (StateDir, 1);
  sd->path = g_steal_pointer (&dir);
  sd->lock_fd = lock_fd;
  sd->created = created;
  sd->dir_fd = sd->parent_fd = -1;
  if (!open_dirfds (sd, error))
    {
      /* Nothing of ours is in it yet but the lock: leave the place as we found it. */
      g_autofree char *lock = g_build_filename (sd->path, STATEDIR_LOCK, NULL);
      g_autofree char *made = sd->created ? g_strdup (sd->path) : NULL;

      unlink (lock);
      sd->created = FALSE;
      g_clear_pointer (&sd, statedir_close);
      if (made != NULL)
        rmdir (made);
      return NULL;
    }
  /* The lock is ours: anything left is stale, from an npte that was killed. */
  for (const char *const *f = statedir_files; *f != NULL; f++)
    unlinkat (sd->dir_fd, *f, 0);
  return g_steal_pointer (&sd);
}

char *
statedir_file (const StateDir *sd, const char *name)
{
  return g_build_filename (sd->path, name, NULL);
}

gboolean
statedir_write_child_pid (const StateDir *sd, int pid, GError **error)
{
  g_autofree char *path = statedir_file (sd, STATEDIR_CHILD_PID);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  g_autofree char *text = g_strdup_printf ("%d", pid);
  unlink (tmp); /* a leftover of a killed run is mode 0444 */
  npte_autofd int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0444);

  if (fd < 0)
    return npte_set_errno (error, errno, "create %s", tmp);
  if (!npte_write_all (fd, text, strlen (text), error))
    {
      unlink (tmp);
      return FALSE;
    }
  if (rename (tmp, path) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return npte_set_errno (error, errsv, "rename %s", tmp);
    }
  return TRUE;
}

/**
 * remove_dir() - rmdir the state dir, if its name still names the dir we opened
 * @sd: the state dir (created by us)
 */
static void
remove_dir (const StateDir *sd)
{
  struct stat dst, nst;

  if (sd->parent_fd < 0 || fstat (sd->dir_fd, &dst) < 0
      || fstatat (sd->parent_fd, sd->name, &nst, AT_SYMLINK_NOFOLLOW) < 0
      || nst.st_dev != dst.st_dev || nst.st_ino != dst.st_ino)
    return;
  unlinkat (sd->parent_fd, sd->name, AT_REMOVEDIR);
}

void
statedir_close (StateDir *sd)
{
  if (sd == NULL)
    return;
  if (sd->dir_fd >= 0)
    {
      for (const char *const *f = statedir_files; *f != NULL; f++)
        unlinkat (sd->dir_fd, *f, 0);
      unlinkat (sd->dir_fd, STATEDIR_LOCK, 0);
      if (sd->created)
        remove_dir (sd);
    }
  npte_close_fdp (&sd->lock_fd);
  npte_close_fdp (&sd->dir_fd);
  npte_close_fdp (&sd->parent_fd);
  g_free (sd->name);
  g_free (sd->path);
  g_free (sd);
}

gboolean
statedir_is_running (const char *path)
{
  g_autofree char *lock = g_build_filename (path, STATEDIR_LOCK, NULL);
  npte_autofd int fd = open (lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    return FALSE;
  if (flock (fd, LOCK_SH | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  return FALSE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
statedir_list_running (GError **error)
{
  g_autofree char *base = statedir_base ();
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (base, 0, &local);
  const char *name;

  if (dir == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&out);
      npte_set_error (error, EIO, "read %s: %s", base, local->message);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (base, name, NULL);
      if (statedir_is_running (p))
        g_ptr_array_add (out, g_steal_pointer (&p));
    }
  g_ptr_array_sort (out, compare_strings);
  return g_steal_pointer (&out);
}
