/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_STATEDIR_H
#define NPTE_STATEDIR_H

#include <glib.h>

/*
 * The state directory of one running npte: "lock" (flock held for the whole
 * run), "child_pid", "api.sock". Default location: a fresh private dir under
 * statedir_base().
 */

#define STATEDIR_LOCK "lock"
#define STATEDIR_CHILD_PID "child_pid"
#define STATEDIR_API_SOCK "api.sock"
#define STATEDIR_RESOLV_CONF "resolv.conf"

typedef struct {
  char *path;         /* absolute path */
  int lock_fd;        /* holds LOCK_EX for the life of the run */
  gboolean created;   /* we made the directory, so we remove it at the end */
  /*
   * O_PATH directory fds: statedir_close() works relative to them, so the
   * clean-up still works when the path is not reachable any more (the
   * parent's sandbox pivots to an empty root). -1 when not open.
   */
  int dir_fd;         /* the state dir */
  int parent_fd;      /* its parent, only when @created (for the rmdir) */
  char *name;         /* its name inside the parent */
} StateDir;

/**
 * statedir_base() - where default state dirs live
 *
 * $XDG_RUNTIME_DIR/npte when XDG_RUNTIME_DIR is set and usable, else
 * $TMPDIR/npte-UID (or /tmp/npte-UID). Not created here.
 *
 * Return: (transfer full) the path.
 */
char *statedir_base (void);

/**
 * statedir_open() - create or reuse a state dir and take its lock
 * @path: the --state-dir value, or NULL for a fresh dir under statedir_base()
 * @error: EBUSY "another npte (pid N) is running with state dir X" when the
 *         lock is held; ENOTDIR/EPERM for a path that is a symlink, not a
 *         directory, or owned by another user
 *
 * A given @path is created (mode 0700) if missing; stale files from an npte
 * that was SIGKILLed (child_pid, api.sock) are removed once the lock is ours.
 *
 * Return: (transfer full) the state dir, or NULL.
 */
StateDir *statedir_open (const char *path, GError **error);

/**
 * statedir_write_child_pid() - write "child_pid" (decimal, mode 0444)
 * @sd: state dir
 * @pid: the child's pid
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
gboolean statedir_write_child_pid (const StateDir *sd, int pid, GError **error);

/**
 * statedir_file() - path of @name inside @sd
 * @sd: state dir
 * @name: file name
 *
 * Return: (transfer full) the path.
 */
char *statedir_file (const StateDir *sd, const char *name);

/*
 * statedir_close() - remove our files (and the dir if we created it), drop the lock, free.
 * Works through dir_fd/parent_fd, not the path; the dir is removed only if
 * the name in the parent is still the directory we opened.
 */
void statedir_close (StateDir *sd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StateDir, statedir_close)

/**
 * statedir_list_running() - state dirs under statedir_base() whose lock is held
 * @error: error when the base dir cannot be read (a missing base is not an error)
 *
 * Return: (transfer full) array of g_free-able absolute paths, sorted; NULL on error.
 */
GPtrArray *statedir_list_running (GError **error);

/**
 * statedir_is_running() - whether some process holds the lock of @path
 * @path: a state dir
 *
 * Return: TRUE if the lock file exists and is locked.
 */
gboolean statedir_is_running (const char *path);

#endif /* NPTE_STATEDIR_H */
