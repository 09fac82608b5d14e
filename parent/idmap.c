/* SPDX-License-Identifier: Apache-2.0 */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

GArray *
idmap_parse_subid (const char *content, const char *name, guint32 id)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (IdRange));
  g_auto (GStrv) lines = g_strsplit (content != NULL ? content : "", "\n", -1);
  char idtext[16];

  g_snprintf (idtext, sizeof idtext, "%u", id);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (g_strstrip (*l), ":", -1);
      guint64 start, count;

      if (g_strv_length (f) != 3 || f[0][0] == '#')
        continue;
      if (g_strcmp0 (f[0], idtext) != 0 && (name == NULL || g_strcmp0 (f[0], name) != 0))
        continue;
      if (!g_ascii_string_to_unsigned (f[1], 10, 0, G_MAXUINT32, &start, NULL)
          || !g_ascii_string_to_unsigned (f[2], 10, 1, G_MAXUINT32, &count, NULL)
          || start + count > G_MAXUINT32)
        continue;
      IdRange r = { (guint32) start, (guint32) count };
      g_array_append_val (out, r);
    }
  return out;
}

char **
idmap_helper_args (guint32 id, const GArray *ranges)
{
  GPtrArray *args = g_ptr_array_new ();
  guint64 next = 1;

  g_ptr_array_add (args, g_strdup ("0"));
  g_ptr_array_add (args, g_strdup_printf ("%u", id));
  g_ptr_array_add (args, g_strdup ("1"));
  for (guint i = 0; i < ranges->len; i++)
    {
      const IdRange *r = &g_array_index (ranges, IdRange, i);
      if (next + r->count > G_MAXUINT32)
        break;
      g_ptr_array_add (args, g_strdup_printf ("%" G_GUINT64_FORMAT, next));
      g_ptr_array_add (args, g_strdup_printf ("%u", r->start));
      g_ptr_array_add (args, g_strdup_printf ("%u", r->count));
      next += r->count;
    }
  g_ptr_array_add (args, NULL);
  return (char **) g_ptr_array_free (args, FALSE);
}

/**
 * write_proc_file() - write @text to /proc/@pid/@name
 * @pid: target process
 * @name: "uid_map", "gid_map", "setgroups"
 * @text: contents
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
write_proc_file (pid_t pid, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  npte_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return npte_set_errno (error, errno, "open %s", path);
  if (write (fd, text, strlen (text)) != (ssize_t) strlen (text))
    return npte_set_errno (error, errno, "write \"%s\" to %s", text, path);
  return TRUE;
}

/* One newuidmap or newgidmap run, started by helper_start() and reaped by helper_finish(). */
typedef struct {
  const char *name;
  GPid pid;
  int err_fd;
} HelperRun;

/**
 * helper_start() - start newuidmap or newgidmap for @pid without waiting for it
 * @h: (out) the run; h->pid is 0 when it could not start
 * @helper: "newuidmap" or "newgidmap"
 * @pid: target
 * @triples: from idmap_helper_args()
 * @error: error when it cannot be started
 *
 * Both helpers are setuid programs that take a millisecond or two each to start; running
 * them side by side takes that off npte's start-up once.
 *
 * Return: TRUE if the helper is running.
 */
static gboolean
helper_start (HelperRun *h, const char *helper, pid_t pid, char **triples, GError **error)
{
  g_autofree char *path = g_find_program_in_path (helper);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;

  h->name = helper;
  h->pid = 0;
  h->err_fd = -1;
  if (path == NULL)
    return npte_set_error (error, ENOENT, "%s not found", helper);
  g_ptr_array_add (argv, g_strdup (path));
  g_ptr_array_add (argv, g_strdup_printf ("%d", (int) pid));
  for (char **t = triples; *t != NULL; t++)
    g_ptr_array_add (argv, g_strdup (*t));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                 NULL, &h->pid, NULL, NULL, &h->err_fd, &local))
    {
      h->pid = 0;
      return npte_set_error (error, EIO, "run %s: %s", helper, local->message);
    }
  return TRUE;
}

/**
 * helper_finish() - wait for a helper started by helper_start()
 * @h: the run
 * @error: error including the helper's stderr
 *
 * Return: TRUE if the helper exited 0.
 */
static gboolean
helper_finish (HelperRun *h, GError **error)
{
  g_autoptr (GString) err_out = g_string_new (NULL);
  char buf[512];
  ssize_t n;
  int status = 0;

  /* The helpers print a line at most: reading one to EOF cannot block the other. */
  while ((n = read (h->err_fd, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      if (err_out->len < 4096)
        g_string_append_len (err_out, buf, n);
    }
  close (h->err_fd);
  while (waitpid (h->pid, &status, 0) < 0)
    if (errno != EINTR)
      return npte_set_errno (error, errno, "wait for %s", h->name);
  g_spawn_close_pid (h->pid);
  if (!g_spawn_check_wait_status (status, NULL))
    return npte_set_error (error, EPERM, "%s failed: %s", h->name, g_strstrip (err_out->str));
  return TRUE;
}

/**
 * read_subid_ranges() - ranges of /etc/sub{u,g}id for @name / @id
 * @file: "/etc/subuid" or "/etc/subgid"
 * @name: user or group name, may be NULL
 * @id: numeric id
 *
 * Return: (transfer full) the ranges (empty when the file is missing).
 */
static GArray *
read_subid_ranges (const char *file, const char *name, guint32 id)
{
  g_autofree char *content = NULL;

  if (!g_file_get_contents (file, &content, NULL, NULL))
    return g_array_new (FALSE, TRUE, sizeof (IdRange));
  return idmap_parse_subid (content, name, id);
}

/**
 * start_one() - start the helper for one map (uid or gid), when the user has ranges
 * @h: (out) the run; h->pid is 0 when none is running
 * @pid: target
 * @is_uid: TRUE for the uid map
 *
 * A helper that cannot start is warned about; finish_one() then writes the single-id map.
 */
static void
start_one (HelperRun *h, pid_t pid, gboolean is_uid)
{
  guint32 id = is_uid ? getuid () : getgid ();
  /* newuidmap and newgidmap both key /etc/subuid and /etc/subgid by login name or uid. */
  const struct passwd *pw = getpwuid (getuid ());
  g_autofree char *user_name = g_strdup (pw != NULL ? pw->pw_name : NULL);
  g_autoptr (GArray) ranges
      = read_subid_ranges (is_uid ? "/etc/subuid" : "/etc/subgid", user_name, getuid ());
  g_autoptr (GError) local = NULL;

  h->pid = 0;
  if (ranges->len == 0)
    return;
  g_auto (GStrv) triples = idmap_helper_args (id, ranges);
  if (!helper_start (h, is_uid ? "newuidmap" : "newgidmap", pid, triples, &local))
    npte_warn ("%s; falling back to mapping only your own id", local->message);
}

/**
 * finish_one() - wait for one map's helper, or write the single-id map when there was none
 * or it failed
 * @h: the run from start_one()
 * @pid: target
 * @is_uid: TRUE for the uid map
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
finish_one (HelperRun *h, pid_t pid, gboolean is_uid, GError **error)
{
  guint32 id = is_uid ? getuid () : getgid ();
  g_autofree char *single = g_strdup_printf ("0 %u 1\n", id);
  g_autoptr (GError) local = NULL;

  if (h->pid != 0)
    {
      if (helper_finish (h, &local))
        return TRUE;
      npte_warn ("%s; falling back to mapping only your own id", local->message);
    }
  if (!is_uid && !write_proc_file (pid, "setgroups", "deny", error))
    return FALSE;
  return write_proc_file (pid, is_uid ? "uid_map" : "gid_map", single, error);
}

gboolean
idmap_setup (pid_t pid, GError **error)
{
  HelperRun uid = { 0 }, gid = { 0 };

  if (geteuid () == 0)
    {
      /* Root: an identity map of every id. */
      return write_proc_file (pid, "uid_map", "0 0 4294967295\n", error)
             && write_proc_file (pid, "gid_map", "0 0 4294967295\n", error);
    }
  start_one (&uid, pid, TRUE);
  start_one (&gid, pid, FALSE);
  gboolean ok = finish_one (&uid, pid, TRUE, error);
  /* Always reap the gid helper, even when the uid map failed. */
  if (!ok)
    {
      if (gid.pid != 0)
        helper_finish (&gid, NULL);
      return FALSE;
    }
  return finish_one (&gid, pid, FALSE, error);
}
