/* SPDX-License-Identifier: Apache-2.0 */
#include "netns-registry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npte-error.h"
#include "statedir.h"
#include "util.h"

NetnsPaths *
netns_paths_new_for (const char *base, gboolean rootless)
{
  NetnsPaths *p = g_new0 (NetnsPaths, 1);

  p->base = g_strdup (base);
  p->reg = g_build_filename (base, "netns", NULL);
  p->lock = g_build_filename (base, "netns.lock", NULL);
  p->keeper_pid = g_build_filename (base, "netns-keeper.pid", NULL);
  p->keeper_mnt = g_build_filename (base, "netns-keeper", NULL);
  p->rootless = rootless;
  return p;
}

NetnsPaths *
netns_paths_new (void)
{
  const char *env = g_getenv ("NPTE_NETNS_RUN_DIR");
  gboolean rootless = geteuid () != 0;
  g_autofree char *base = NULL;

  if (env != NULL && g_path_is_absolute (env))
    base = g_strdup (env);
  else if (!rootless)
    base = g_strdup ("/run/npte");
  else
    base = statedir_base ();
  return netns_paths_new_for (base, rootless);
}

void
netns_paths_free (NetnsPaths *p)
{
  if (p == NULL)
    return;
  g_free (p->base);
  g_free (p->reg);
  g_free (p->lock);
  g_free (p->keeper_pid);
  g_free (p->keeper_mnt);
  g_free (p);
}

/* name_char_ok() - whether @c may appear in a name (not as the first character if '-'). */
static gboolean
name_char_ok (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

gboolean
netns_name_valid (const char *name, GError **error)
{
  if (name == NULL || name[0] == '\0')
    return npte_set_error (error, EINVAL, "empty namespace name");
  gsize len = strlen (name);
  g_autofree char *shown = g_strescape (name, NULL);
  if (len > NETNS_NAME_MAX)
    return npte_set_error (error, EINVAL,
                           "invalid namespace name \"%.20s...\": longer than %d characters",
                           shown, NETNS_NAME_MAX);
  for (gsize i = 0; i < len; i++)
    if (!name_char_ok (name[i]) || (i == 0 && name[i] == '-'))
      return npte_set_error (error, EINVAL,
                             "invalid namespace name \"%s\": use a-z, 0-9 and '-', starting "
                             "with a letter or digit (at most %d characters)",
                             shown, NETNS_NAME_MAX);
  return TRUE;
}

char *
netns_marker_path (const NetnsPaths *p, const char *name)
{
  return g_build_filename (p->reg, name, NULL);
}

char *
netns_conf_dir (const NetnsPaths *p, const char *name)
{
  g_autofree char *leaf = g_strconcat (name, ".d", NULL);
  return g_build_filename (p->reg, leaf, NULL);
}

char *
netns_state_dir (const NetnsPaths *p, const char *name)
{
  g_autofree char *leaf = g_strconcat (name, ".state", NULL);
  return g_build_filename (p->reg, leaf, NULL);
}

char *
netns_ns_path (const NetnsPaths *p, const char *name)
{
  if (p->rootless)
    return g_build_filename (p->keeper_mnt, name, NULL);
  return g_build_filename (NETNS_RUN_DIR, name, NULL);
}

NetnsMarkerState
netns_marker_check (const NetnsPaths *p, const char *name, GError **error)
{
  g_autofree char *path = netns_marker_path (p, name);
  npte_autofd int fd = open (path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;

  if (fd < 0 && errno == ENOENT)
    return NETNS_MARKER_ABSENT;
  if (fd < 0)
    {
      npte_set_errno (error, errno, "marker %s of namespace %s", path, name);
      return NETNS_MARKER_BAD;
    }
  if (fstat (fd, &st) < 0)
    {
      npte_set_errno (error, errno, "marker %s of namespace %s", path, name);
      return NETNS_MARKER_BAD;
    }
  if (S_ISREG (st.st_mode))
    return NETNS_MARKER_PRESENT;
  if (S_ISLNK (st.st_mode))
    npte_set_error (error, ELOOP, "the marker %s of namespace %s is a symlink, not a regular "
                    "file; refusing to follow it (remove it by hand)", path, name);
  else if (S_ISDIR (st.st_mode))
    npte_set_error (error, EISDIR, "the marker %s of namespace %s is a directory, not a "
                    "regular file (remove it by hand)", path, name);
  else
    npte_set_error (error, EINVAL, "the marker %s of namespace %s is not a regular file "
                    "(remove it by hand)", path, name);
  return NETNS_MARKER_BAD;
}

gboolean
netns_require_managed (const NetnsPaths *p, const char *name, GError **error)
{
  switch (netns_marker_check (p, name, error))
    {
    case NETNS_MARKER_PRESENT:
      return TRUE;
    case NETNS_MARKER_ABSENT:
      return npte_set_error (error, ENOENT, "namespace %s is not managed by npte", name);
    case NETNS_MARKER_BAD:
    default:
      return FALSE;
    }
}

gboolean
netns_marker_create (const NetnsPaths *p, const char *name, GError **error)
{
  g_autofree char *path = netns_marker_path (p, name);
  npte_autofd int fd
      = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0)
    return npte_set_errno (error, errno, "create marker %s", path);
  return TRUE;
}

gboolean
netns_marker_remove (const NetnsPaths *p, const char *name, GError **error)
{
  g_autofree char *path = netns_marker_path (p, name);

  if (unlink (path) < 0 && errno != ENOENT)
    return npte_set_errno (error, errno, "remove marker %s", path);
  return TRUE;
}

/**
 * ensure_dir() - create @path (one level) if missing and check it is ours
 * @path: directory
 * @mode: mode for mkdir
 * @error: error naming the path
 *
 * Return: TRUE if @path is a real directory owned by the caller.
 */
static gboolean
ensure_dir (const char *path, mode_t mode, GError **error)
{
  struct stat st;

  if (mkdir (path, mode) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create directory %s", path);
  if (lstat (path, &st) < 0)
    return npte_set_errno (error, errno, "directory %s", path);
  if (!S_ISDIR (st.st_mode))
    return npte_set_error (error, ENOTDIR, "%s is not a directory (a symlink?); refusing to "
                           "use it", path);
  if (st.st_uid != geteuid ())
    return npte_set_error (error, EPERM, "directory %s is owned by uid %u, not by you (uid %u)",
                           path, (unsigned) st.st_uid, (unsigned) geteuid ());
  return TRUE;
}

int
netns_lock (const NetnsPaths *p, int timeout_ms, GError **error)
{
  mode_t mode = p->rootless ? 0700 : 0755;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gulong pause_us = 1000;

  if (!ensure_dir (p->base, mode, error) || !ensure_dir (p->reg, mode, error))
    return -1;
  npte_autofd int fd = open (p->lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      npte_set_errno (error, errno, "open lock file %s", p->lock);
      return -1;
    }
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        {
          npte_set_errno (error, errno, "lock %s", p->lock);
          return -1;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          npte_set_error (error, ETIMEDOUT, "another npte holds the namespace lock %s for "
                          "more than %d s", p->lock, timeout_ms / 1000);
          return -1;
        }
      g_usleep (pause_us);
      pause_us = MIN (pause_us * 2, 20000);
    }
  return npte_steal_fd (&fd);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
netns_registry_list (const NetnsPaths *p, GPtrArray **skipped, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (p->reg, 0, &local);
  const char *name;

  if (dir == NULL && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      npte_set_error (error, EIO, "read the namespace registry: %s", local->message);
      return NULL;
    }
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (!netns_name_valid (name, NULL))
        continue;
      switch (netns_marker_check (p, name, NULL))
        {
        case NETNS_MARKER_PRESENT:
          g_ptr_array_add (out, g_strdup (name));
          break;
        case NETNS_MARKER_BAD:
          g_ptr_array_add (bad, g_strdup (name));
          break;
        case NETNS_MARKER_ABSENT:
        default:
          break;
        }
    }
  g_ptr_array_sort (out, compare_names);
  g_ptr_array_sort (bad, compare_names);
  if (skipped != NULL)
    *skipped = g_steal_pointer (&bad);
  return g_steal_pointer (&out);
}
