/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the unit tests of src/statedir.c (test_statedir_*.c).
 *
 * Everything happens in a private directory that the group fixture makes and
 * exports as TMPDIR (group_setup()) before GLib first reads it
 * (g_get_tmp_dir() caches its answer), so the $TMPDIR/npte-UID fallback
 * never touches the real /tmp/npte-UID. Each test gets a fresh
 * XDG_RUNTIME_DIR inside it (setup()/teardown()).
 *
 * flock() locks belong to an open file description, so a second
 * statedir_open() of the same dir in this process conflicts with the first,
 * as a second npte would.
 *
 * Cases that need another uid (a dir owned by 65534) run only as root;
 * cases that rely on permission bits (an unwritable dir) run only as an
 * unprivileged user. The binaries pass either way.
 *
 * Each test file is its own program, so these are static inline.
 */
#ifndef NPTE_TEST_STATEDIR_HELPERS_H
#define NPTE_TEST_STATEDIR_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npte-error.h"
#include "statedir.h"

/* The uid other users' dirs are given to (nobody), as root only. */
#define OTHER_UID 65534

/* What a running npte writes to resolv.conf. */
#define RESOLV_TEXT "nameserver 10.0.2.3\n"

/* Private TMPDIR of this run, made by group_setup(). */
static char *test_root;

/**
 * struct Fixture - per-test state
 * @xdg: a fresh XDG_RUNTIME_DIR (mode 0700, ours), exported
 * @base: @xdg/npte, what statedir_base() should return
 * @fallback: $TMPDIR/npte-UID, the base when XDG_RUNTIME_DIR is unusable
 */
typedef struct {
  char *xdg;
  char *base;
  char *fallback;
} Fixture;

static inline gboolean
is_root (void)
{
  return geteuid () == 0;
}

/* rm_one() - nftw() callback of rm_rf(). */
static inline int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_DP)
    return rmdir (path) < 0 && errno != ENOENT ? -1 : 0;
  return unlink (path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm_rf() - remove @path and everything below it, without following symlinks. */
static inline void
rm_rf (const char *path)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return;
  if (nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
    print_error ("cannot remove %s: %s\n", path, g_strerror (errno));
}

static inline int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree char *uid_name = g_strdup_printf ("npte-%u", (unsigned) getuid ());

  f->xdg = g_dir_make_tmp ("xdg-XXXXXX", NULL);
  if (f->xdg == NULL)
    return -1;
  f->base = g_build_filename (f->xdg, "npte", NULL);
  f->fallback = g_build_filename (test_root, uid_name, NULL);
  g_setenv ("XDG_RUNTIME_DIR", f->xdg, TRUE);
  *state = f;
  return 0;
}

static inline int
teardown (void **state)
{
  Fixture *f = *state;

  g_unsetenv ("XDG_RUNTIME_DIR");
  rm_rf (f->xdg);
  rm_rf (f->fallback);
  g_free (f->xdg);
  g_free (f->base);
  g_free (f->fallback);
  g_free (f);
  return 0;
}

/* in() - (transfer full) @dir/@name. */
static inline char *
in (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

/**
 * assert_error() - @error is exactly (NPTE_ERROR, @code, @message)
 * @error: the error
 * @code: expected errno value
 * @message: expected message
 */
static inline void
assert_error (const GError *error, int code, const char *message)
{
  assert_non_null (error);
  if (error->domain != NPTE_ERROR || error->code != code || strcmp (error->message, message) != 0)
    print_error ("error %s/%d \"%s\", want %d \"%s\"\n", g_quark_to_string (error->domain),
                 error->code, error->message, code, message);
  assert_true (error->domain == NPTE_ERROR);
  assert_int_equal (error->code, code);
  assert_string_equal (error->message, message);
}

/**
 * assert_node() - @path exists (not followed) with type @type and permissions @perm
 * @path: the path
 * @type: S_IFDIR, S_IFREG, S_IFSOCK ...
 * @perm: expected mode & 07777
 * @uid: expected owner
 */
static inline void
assert_node (const char *path, mode_t type, mode_t perm, uid_t uid)
{
  struct stat st;

  /* Noreturn on NULL, so -fsanitize=undefined's nonnull check on lstat() leaves no NULL path. */
  g_assert (path != NULL);
  if (lstat (path, &st) < 0)
    print_error ("%s: %s\n", path, g_strerror (errno));
  assert_int_equal (lstat (path, &st), 0);
  if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != perm)
    print_error ("%s: mode 0%o, want 0%o\n", path, (unsigned) st.st_mode, (unsigned) (type | perm));
  assert_int_equal (st.st_mode & S_IFMT, type);
  assert_int_equal (st.st_mode & 07777, perm);
  assert_int_equal (st.st_uid, uid);
}

/* assert_absent() - nothing at all (not even a dangling symlink) is at @path. */
static inline void
assert_absent (const char *path)
{
  struct stat st;

  g_assert (path != NULL);
  if (lstat (path, &st) == 0)
    print_error ("%s exists\n", path);
  assert_int_equal (lstat (path, &st), -1);
  assert_int_equal (errno, ENOENT);
}

/* assert_text() - @path holds exactly @want. */
static inline void
assert_text (const char *path, const char *want)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL))
    print_error ("cannot read %s\n", path);
  assert_non_null (text);
  assert_int_equal (len, strlen (want));
  assert_string_equal (text, want);
}

/* sort_strv() - sort the first @n strings of @v by strcmp() (insertion sort: a handful). */
static inline void
sort_strv (char **v, guint n)
{
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && strcmp (v[j - 1], v[j]) > 0; j--)
      {
        char *t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
}

/**
 * assert_entries() - the entries of @dir are exactly @want
 * @dir: a directory
 * @want: space-separated sorted names, "" for an empty dir
 */
static inline void
assert_entries (const char *dir, const char *want)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *got = NULL;
  const char *name;

  if (d == NULL)
    print_error ("cannot list %s\n", dir);
  assert_non_null (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  sort_strv ((char **) names->pdata, names->len);
  g_ptr_array_add (names, NULL);
  got = g_strjoinv (" ", (char **) names->pdata);
  if (strcmp (got, want) != 0)
    print_error ("%s holds \"%s\", want \"%s\"\n", dir, got, want);
  assert_string_equal (got, want);
}

/* write_text() - create @path (mode @mode) holding @text; fails the test on error. */
static inline void
write_text (const char *path, const char *text, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  assert_int_equal (fchmod (fd, mode), 0);
  assert_int_equal (close (fd), 0);
}

/* make_socket() - bind an AF_UNIX socket at @path and close it, as a killed npte leaves it. */
static inline void
make_socket (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_true (strlen (path) < sizeof sun.sun_path);
  strcpy (sun.sun_path, path);
  assert_int_equal (bind (fd, (struct sockaddr *) &sun, sizeof sun), 0);
  close (fd);
}

/* make_dir() - mkdir @path with @mode (umask 022 is in force) and fail the test on error. */
static inline void
make_dir (const char *path, mode_t mode)
{
  assert_int_equal (mkdir (path, mode), 0);
  assert_int_equal (chmod (path, mode), 0);
}

/**
 * add_leftovers() - the files besides child_pid that a running npte puts in @dir
 * @dir: a state dir
 *
 * A bound (and closed) api.sock and resolv.conf.
 */
static inline void
add_leftovers (const char *dir)
{
  g_autofree char *sock = in (dir, STATEDIR_API_SOCK);
  g_autofree char *resolv = in (dir, STATEDIR_RESOLV_CONF);

  make_socket (sock);
  write_text (resolv, RESOLV_TEXT, 0644);
}

/**
 * give_away() - chown @path to OTHER_UID
 * @path: the path
 *
 * Return: TRUE on success; FALSE (with a note) when not root or the uid is
 *         not mapped here, so the caller skips the case.
 */
static inline gboolean
give_away (const char *path)
{
  if (!is_root ())
    return FALSE;
  if (lchown (path, OTHER_UID, OTHER_UID) < 0)
    {
      print_message ("cannot chown %s to %d (%s): skipping that case\n", path, OTHER_UID,
                     g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* lock_is_held() - whether the exclusive lock of @dir/lock is taken (probing with a new fd). */
static inline gboolean
lock_is_held (const char *dir)
{
  g_autofree char *path = in (dir, STATEDIR_LOCK);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  gboolean held;

  if (fd < 0)
    return FALSE;
  held = flock (fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  close (fd);
  return held;
}

/**
 * open_ok() - statedir_open (@path), which must succeed
 * @path: the dir, or NULL for a fresh one
 *
 * Return: (transfer full) the open state dir.
 */
static inline StateDir *
open_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  StateDir *sd = statedir_open (path, &error);

  if (sd == NULL)
    print_error ("open %s: %s\n", path != NULL ? path : "(fresh)", error->message);
  assert_null (error);
  assert_non_null (sd);
  return sd;
}

/**
 * assert_open_fails() - statedir_open (@path) fails with exactly (@code, @message)
 * @path: the dir
 * @code: expected errno value
 * @message: expected message
 */
static inline void
assert_open_fails (const char *path, int code, const char *message)
{
  g_autoptr (GError) error = NULL;
  StateDir *sd = statedir_open (path, &error);

  if (sd != NULL)
    print_error ("%s: opened, want error %d\n", path != NULL ? path : "(fresh)", code);
  assert_null (sd);
  assert_error (error, code, message);
}

/** enum Refusal - why statedir_open() refuses a state dir or base */
typedef enum {
  REFUSED_SYMLINK,
  REFUSED_NOT_DIR,
  REFUSED_OWNER,
} Refusal;

/**
 * assert_refused() - statedir_open (@path) refuses @dir for @why, with its exact error
 * @path: what to open, or NULL for a fresh dir
 * @why: the reason
 * @dir: the dir the message must name (@path, or the base for a fresh dir)
 */
static inline void
assert_refused (const char *path, Refusal why, const char *dir)
{
  g_autofree char *message = NULL;

  switch (why)
    {
    case REFUSED_SYMLINK:
      message = g_strdup_printf ("state dir %s is a symlink; refusing to use it", dir);
      break;
    case REFUSED_NOT_DIR:
      message = g_strdup_printf ("state dir %s is not a directory", dir);
      break;
    case REFUSED_OWNER:
      message = g_strdup_printf ("state dir %s is owned by uid %d, not by you (uid %u)", dir,
                                 OTHER_UID, (unsigned) getuid ());
      break;
    default:
      fail ();
    }
  assert_open_fails (path, why == REFUSED_OWNER ? EPERM : ENOTDIR, message);
}

/**
 * group_setup() - make the private TMPDIR of this run and export it (cmocka group fixture)
 * @state: unused
 *
 * Runs before any test, hence before anything calls g_get_tmp_dir(), which
 * caches its answer.
 *
 * Return: 0, or -1 (with a message) if the dir cannot be made.
 */
static inline int
group_setup (void **state)
{
  const char *parent = g_getenv ("TMPDIR");
  g_autofree char *tmpl = NULL;

  if (parent == NULL || *parent == '\0')
    parent = "/tmp";
  tmpl = g_build_filename (parent, "test_statedir-XXXXXX", NULL);
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      fprintf (stderr, "mkdtemp %s: %s\n", tmpl, g_strerror (errno));
      return -1;
    }
  test_root = g_steal_pointer (&tmpl);
  g_unsetenv ("G_TEST_TMPDIR");
  g_setenv ("TMPDIR", test_root, TRUE);
  g_unsetenv ("XDG_RUNTIME_DIR");
  umask (022);
  return 0;
}

/* group_teardown() - remove the private TMPDIR and everything in it (cmocka group fixture). */
static inline int
group_teardown (void **state)
{
  rm_rf (test_root);
  g_clear_pointer (&test_root, g_free);
  return 0;
}

#endif /* NPTE_TEST_STATEDIR_HELPERS_H */
