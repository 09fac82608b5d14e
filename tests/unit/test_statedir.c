/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/statedir.c: where state dirs live (XDG_RUNTIME_DIR or
 * $TMPDIR/npte-UID), fresh and given dirs, the lock (EBUSY naming the path
 * and the child pid), stale files from a killed npte, refusal of symlinks,
 * non-directories and other users' dirs, child_pid, statedir_is_running()
 * and statedir_list_running().
 *
 * Everything happens in a private directory that main() makes and exports
 * as TMPDIR before GLib first reads it (g_get_tmp_dir() caches its answer),
 * so the $TMPDIR/npte-UID fallback never touches the real /tmp/npte-UID.
 * Each test gets a fresh XDG_RUNTIME_DIR inside it.
 *
 * flock() locks belong to an open file description, so a second
 * statedir_open() of the same dir in this process conflicts with the first,
 * as a second npte would.
 *
 * Cases that need another uid (a dir owned by 65534) run only as root;
 * cases that rely on permission bits (an unwritable dir) run only as an
 * unprivileged user. The binary passes either way.
 */
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

int main (void);

/* The uid other users' dirs are given to (nobody), as root only. */
#define OTHER_UID 65534

/* Private TMPDIR of this run, made by main(). */
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

static gboolean
is_root (void)
{
  return geteuid () == 0;
}

/* rm_one() - nftw() callback of rm_rf(). */
static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_DP)
    return rmdir (path) < 0 && errno != ENOENT ? -1 : 0;
  return unlink (path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm_rf() - remove @path and everything below it, without following symlinks. */
static void
rm_rf (const char *path)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return;
  if (nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
    print_error ("cannot remove %s: %s\n", path, g_strerror (errno));
}

static int
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

static int
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
static char *
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
static void
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
static void
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
static void
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
static void
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
static void
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
static void
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
static void
write_text (const char *path, const char *text, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  assert_int_equal (fchmod (fd, mode), 0);
  assert_int_equal (close (fd), 0);
}

/* make_socket() - bind an AF_UNIX socket at @path and close it, as a killed npte leaves it. */
static void
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
static void
make_dir (const char *path, mode_t mode)
{
  assert_int_equal (mkdir (path, mode), 0);
  assert_int_equal (chmod (path, mode), 0);
}

/**
 * add_run_files() - what a running npte puts in its state dir
 * @sd: open state dir
 * @pid: pid for child_pid
 *
 * child_pid (via statedir_write_child_pid()), a bound api.sock and resolv.conf.
 */
static void
add_run_files (const StateDir *sd, int pid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sock = statedir_file (sd, STATEDIR_API_SOCK);
  g_autofree char *resolv = statedir_file (sd, STATEDIR_RESOLV_CONF);

  assert_true (statedir_write_child_pid (sd, pid, &error));
  assert_null (error);
  make_socket (sock);
  write_text (resolv, "nameserver 10.0.2.3\n", 0644);
}

/**
 * give_away() - chown @path to OTHER_UID
 * @path: the path
 *
 * Return: TRUE on success; FALSE (with a note) when not root or the uid is
 *         not mapped here, so the caller skips the case.
 */
static gboolean
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
static gboolean
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

/* ------------------------------------------------------------------------- */
/* statedir_base() */

static void
test_base_xdg (void **state)
{
  Fixture *f = *state;
  g_autofree char *base = statedir_base ();
  g_autofree char *link = in (test_root, "xdg-link");
  g_autofree char *slash = g_strconcat (f->xdg, "/", NULL);

  assert_string_equal (base, f->base);
  /* Not created here. */
  assert_absent (f->base);

  /* A trailing slash is fine. */
  g_setenv ("XDG_RUNTIME_DIR", slash, TRUE);
  g_free (base);
  base = statedir_base ();
  assert_string_equal (base, f->base);

  /* XDG_RUNTIME_DIR itself may be a symlink to a usable dir (stat(), not lstat()). */
  assert_int_equal (symlink (f->xdg, link), 0);
  g_setenv ("XDG_RUNTIME_DIR", link, TRUE);
  g_free (base);
  base = statedir_base ();
  {
    g_autofree char *want = in (link, "npte");
    assert_string_equal (base, want);
  }
  assert_int_equal (unlink (link), 0);
}

/** enum XdgKind - unusable XDG_RUNTIME_DIR values for test_base_fallback() */
typedef enum {
  XDG_UNSET,
  XDG_EMPTY,
  XDG_RELATIVE,
  XDG_MISSING,
  XDG_REGULAR_FILE,
  XDG_SYMLINK_TO_FILE,
  XDG_NOT_WRITABLE,
  XDG_NOT_SEARCHABLE,
  XDG_OTHER_OWNER,
} XdgKind;

static void
test_base_fallback (void **state)
{
  Fixture *f = *state;
  static const struct {
    const char *desc;
    XdgKind kind;
  } cases[] = {
    { "unset", XDG_UNSET },
    { "empty", XDG_EMPTY },
    { "relative", XDG_RELATIVE },
    { "missing", XDG_MISSING },
    { "regular file", XDG_REGULAR_FILE },
    { "symlink to a file", XDG_SYMLINK_TO_FILE },
    { "not writable", XDG_NOT_WRITABLE },
    { "not searchable", XDG_NOT_SEARCHABLE },
    { "owned by another uid", XDG_OTHER_OWNER },
  };
  g_autofree char *old_cwd = g_get_current_dir ();

  /* main() exported TMPDIR before anything read it: the fallback is under it. */
  assert_string_equal (g_get_tmp_dir (), test_root);
  {
    g_autofree char *want = g_strdup_printf ("%s/npte-%u", test_root, (unsigned) getuid ());
    assert_string_equal (f->fallback, want);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/case%zu", f->xdg, i);
      g_autofree char *file = in (f->xdg, "file");
      g_autofree char *base = NULL;
      const char *value = path;

      switch (cases[i].kind)
        {
        case XDG_UNSET:
          value = NULL;
          break;
        case XDG_EMPTY:
          value = "";
          break;
        case XDG_RELATIVE:
          /* Relative, even though it names a usable dir of ours from the cwd. */
          make_dir (path, 0700);
          assert_int_equal (chdir (f->xdg), 0);
          value = strrchr (path, '/') + 1;
          break;
        case XDG_MISSING:
          break;
        case XDG_REGULAR_FILE:
          write_text (path, "", 0600);
          break;
        case XDG_SYMLINK_TO_FILE:
          write_text (file, "", 0600);
          assert_int_equal (symlink (file, path), 0);
          break;
        case XDG_NOT_WRITABLE:
          /* Root passes access(W_OK) whatever the mode. */
          if (is_root ())
            continue;
          make_dir (path, 0500);
          break;
        case XDG_NOT_SEARCHABLE:
          if (is_root ())
            continue;
          make_dir (path, 0600);
          break;
        case XDG_OTHER_OWNER:
          make_dir (path, 0700);
          if (!give_away (path))
            continue;
          break;
        default:
          fail ();
        }
      if (value == NULL)
        g_unsetenv ("XDG_RUNTIME_DIR");
      else
        g_setenv ("XDG_RUNTIME_DIR", value, TRUE);
      base = statedir_base ();
      assert_int_equal (chdir (old_cwd), 0);
      if (strcmp (base, f->fallback) != 0)
        print_error ("XDG_RUNTIME_DIR %s: base %s\n", cases[i].desc, base);
      assert_string_equal (base, f->fallback);
      assert_absent (f->fallback);
      chmod (path, 0700);
    }
}

/* ------------------------------------------------------------------------- */
/* statedir_open (NULL) */

static void
test_open_fresh (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  StateDir *a = statedir_open (NULL, &error);
  StateDir *b = NULL;
  g_autofree char *a_dir = NULL;
  g_autofree char *a_lock = NULL;

  assert_null (error);
  assert_non_null (a);
  /* The base is created, private. */
  assert_node (f->base, S_IFDIR, 0700, getuid ());
  /* A fresh dir directly under the base, private, with the lock held. */
  a_dir = g_path_get_dirname (a->path);
  assert_string_equal (a_dir, f->base);
  assert_true (g_path_is_absolute (a->path));
  assert_true (a->created);
  assert_node (a->path, S_IFDIR, 0700, getuid ());
  a_lock = in (a->path, STATEDIR_LOCK);
  assert_node (a_lock, S_IFREG, 0600, getuid ());
  assert_entries (a->path, "lock");
  assert_true (a->lock_fd >= 0);
  assert_int_equal (fcntl (a->lock_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_true (lock_is_held (a->path));

  /* Another fresh dir is a different one and does not conflict. */
  b = statedir_open (NULL, &error);
  assert_null (error);
  assert_non_null (b);
  assert_string_not_equal (a->path, b->path);
  assert_true (b->created);
  assert_true (lock_is_held (b->path));

  /* Closing removes each dir, keeps the base. */
  {
    g_autofree char *a_path = g_strdup (a->path);
    g_autofree char *b_path = g_strdup (b->path);

    statedir_close (a);
    assert_absent (a_path);
    assert_node (b_path, S_IFDIR, 0700, getuid ());
    statedir_close (b);
    assert_absent (b_path);
  }
  assert_node (f->base, S_IFDIR, 0700, getuid ());
  assert_entries (f->base, "");
}

/* Without XDG_RUNTIME_DIR the fresh dir is made under $TMPDIR/npte-UID. */
static void
test_open_fresh_fallback (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  StateDir *sd;

  g_unsetenv ("XDG_RUNTIME_DIR");
  sd = statedir_open (NULL, &error);
  assert_null (error);
  assert_non_null (sd);
  dir = g_path_get_dirname (sd->path);
  assert_string_equal (dir, f->fallback);
  assert_node (f->fallback, S_IFDIR, 0700, getuid ());
  assert_node (sd->path, S_IFDIR, 0700, getuid ());
  assert_true (sd->created);
  path = g_strdup (sd->path);
  statedir_close (sd);
  assert_absent (path);
  assert_entries (f->fallback, "");
  /* Nothing went to XDG_RUNTIME_DIR. */
  assert_entries (f->xdg, "");
}

/** enum BaseKind - unusable bases for test_open_fresh_bad_base() */
typedef enum {
  BASE_SYMLINK,
  BASE_DANGLING_SYMLINK,
  BASE_REGULAR_FILE,
  BASE_OTHER_OWNER,
  BASE_FALLBACK_SYMLINK,
} BaseKind;

static void
test_open_fresh_bad_base (void **state)
{
  Fixture *f = *state;
  static const BaseKind kinds[] = {
    BASE_SYMLINK, BASE_DANGLING_SYMLINK, BASE_REGULAR_FILE, BASE_OTHER_OWNER, BASE_FALLBACK_SYMLINK,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *target = in (f->xdg, "target");
      g_autofree char *message = NULL;
      const char *base = f->base;
      int code = ENOTDIR;
      StateDir *sd;

      switch (kinds[i])
        {
        case BASE_SYMLINK:
          make_dir (target, 0700);
          assert_int_equal (symlink (target, base), 0);
          message = g_strdup_printf ("state dir %s is a symlink; refusing to use it", base);
          break;
        case BASE_DANGLING_SYMLINK:
          assert_int_equal (symlink (target, base), 0);
          message = g_strdup_printf ("state dir %s is a symlink; refusing to use it", base);
          break;
        case BASE_REGULAR_FILE:
          write_text (base, "x", 0600);
          message = g_strdup_printf ("state dir %s is not a directory", base);
          break;
        case BASE_OTHER_OWNER:
          make_dir (base, 0700);
          if (!give_away (base))
            {
              rm_rf (base);
              continue;
            }
          code = EPERM;
          message = g_strdup_printf ("state dir %s is owned by uid %d, not by you (uid %u)", base,
                                     OTHER_UID, (unsigned) getuid ());
          break;
        case BASE_FALLBACK_SYMLINK:
          /* Someone planted $TMPDIR/npte-UID as a symlink to a dir of ours. */
          g_unsetenv ("XDG_RUNTIME_DIR");
          base = f->fallback;
          make_dir (target, 0700);
          assert_int_equal (symlink (target, base), 0);
          message = g_strdup_printf ("state dir %s is a symlink; refusing to use it", base);
          break;
        default:
          fail ();
        }

      sd = statedir_open (NULL, &error);
      assert_null (sd);
      assert_error (error, code, message);
      /* Nothing was made through the symlink or in the foreign dir. */
      if (kinds[i] == BASE_DANGLING_SYMLINK)
        assert_absent (target);
      else if (kinds[i] == BASE_SYMLINK || kinds[i] == BASE_FALLBACK_SYMLINK)
        assert_entries (target, "");
      else if (kinds[i] == BASE_OTHER_OWNER)
        assert_entries (base, "");
      else
        assert_text (base, "x");

      rm_rf (base);
      rm_rf (target);
      g_setenv ("XDG_RUNTIME_DIR", f->xdg, TRUE);
    }
}

/* ------------------------------------------------------------------------- */
/* statedir_open (path) */

/* A missing path is created 0700 and removed again by statedir_close(). */
static void
test_open_path_created (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "run1");
  StateDir *sd;

  sd = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (sd);
  assert_string_equal (sd->path, path);
  assert_true (sd->created);
  assert_node (path, S_IFDIR, 0700, getuid ());
  assert_entries (path, "lock");
  assert_true (lock_is_held (path));
  /* The base was not involved. */
  assert_absent (f->base);

  add_run_files (sd, 4242);
  assert_entries (path, "api.sock child_pid lock resolv.conf");

  statedir_close (sd);
  assert_absent (path);
  assert_entries (f->xdg, "");
}

/* A relative path is made absolute against the current directory. */
static void
test_open_path_relative (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *old_cwd = g_get_current_dir ();
  g_autofree char *cwd = NULL;
  g_autofree char *want = NULL;
  StateDir *sd;

  assert_int_equal (chdir (f->xdg), 0);
  cwd = g_get_current_dir ();
  want = in (cwd, "rel");
  sd = statedir_open ("rel", &error);
  assert_int_equal (chdir (old_cwd), 0);
  assert_null (error);
  assert_non_null (sd);
  assert_string_equal (sd->path, want);
  assert_true (sd->created);
  assert_node (want, S_IFDIR, 0700, getuid ());
  /* Works after a chdir: the path was made absolute. */
  statedir_close (sd);
  assert_absent (want);
}

/* A pre-existing dir is used as it is and kept; only our files go. */
static void
test_open_path_existing (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "mine");
  g_autofree char *keep = in (path, "keep");
  StateDir *sd;

  make_dir (path, 0755);
  write_text (keep, "data", 0644);
  sd = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (sd);
  assert_string_equal (sd->path, path);
  assert_false (sd->created);
  /* The mode is not changed. */
  assert_node (path, S_IFDIR, 0755, getuid ());
  assert_entries (path, "keep lock");

  add_run_files (sd, 7);
  assert_entries (path, "api.sock child_pid keep lock resolv.conf");

  statedir_close (sd);
  assert_node (path, S_IFDIR, 0755, getuid ());
  assert_entries (path, "keep");
  assert_text (keep, "data");
}

/* A dir we created is not removed when something else was put in it. */
static void
test_close_keeps_foreign_files (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "run");
  g_autofree char *other = in (path, "other");
  StateDir *sd = statedir_open (path, &error);

  assert_non_null (sd);
  assert_true (sd->created);
  write_text (other, "x", 0600);
  statedir_close (sd);
  assert_entries (path, "other");
  assert_text (other, "x");

  /* statedir_close (NULL) is a no-op; g_autoptr closes. */
  statedir_close (NULL);
  {
    g_autoptr (StateDir) auto_sd = statedir_open (path, &error);
    assert_non_null (auto_sd);
    assert_false (auto_sd->created);
  }
  assert_entries (path, "other");
  assert_false (statedir_is_running (path));
}

/* A path whose parent is missing is not created (no mkdir -p). */
static void
test_open_missing_parent (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *parent = in (f->xdg, "missing");
  g_autofree char *path = in (parent, "sub");
  g_autofree char *message = g_strdup_printf ("create state dir %s: %s", path, g_strerror (ENOENT));

  assert_null (statedir_open (path, &error));
  assert_error (error, ENOENT, message);
  assert_absent (parent);
}

/** enum PathKind - paths statedir_open() must refuse, for test_open_refused() */
typedef enum {
  PATH_REGULAR_FILE,
  PATH_FIFO,
  PATH_SOCKET,
  PATH_SYMLINK_TO_DIR,
  PATH_SYMLINK_TO_FILE,
  PATH_DANGLING_SYMLINK,
  PATH_OTHER_OWNER,
} PathKind;

static void
test_open_refused (void **state)
{
  Fixture *f = *state;
  static const PathKind kinds[] = {
    PATH_REGULAR_FILE,    PATH_FIFO,             PATH_SOCKET,      PATH_SYMLINK_TO_DIR,
    PATH_SYMLINK_TO_FILE, PATH_DANGLING_SYMLINK, PATH_OTHER_OWNER,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_strdup_printf ("%s/case%zu", f->xdg, i);
      g_autofree char *target = in (f->xdg, "target");
      g_autofree char *symlink_msg
          = g_strdup_printf ("state dir %s is a symlink; refusing to use it", path);
      g_autofree char *notdir_msg = g_strdup_printf ("state dir %s is not a directory", path);
      g_autofree char *owner_msg
          = g_strdup_printf ("state dir %s is owned by uid %d, not by you (uid %u)", path,
                             OTHER_UID, (unsigned) getuid ());
      const char *message = notdir_msg;
      int code = ENOTDIR;

      switch (kinds[i])
        {
        case PATH_REGULAR_FILE:
          write_text (path, "payload", 0600);
          break;
        case PATH_FIFO:
          assert_int_equal (mkfifo (path, 0600), 0);
          break;
        case PATH_SOCKET:
          make_socket (path);
          break;
        case PATH_SYMLINK_TO_DIR:
          make_dir (target, 0700);
          assert_int_equal (symlink (target, path), 0);
          message = symlink_msg;
          break;
        case PATH_SYMLINK_TO_FILE:
          write_text (target, "payload", 0600);
          assert_int_equal (symlink (target, path), 0);
          message = symlink_msg;
          break;
        case PATH_DANGLING_SYMLINK:
          assert_int_equal (symlink (target, path), 0);
          message = symlink_msg;
          break;
        case PATH_OTHER_OWNER:
          make_dir (path, 0777);
          if (!give_away (path))
            continue;
          code = EPERM;
          message = owner_msg;
          break;
        default:
          fail ();
        }

      assert_null (statedir_open (path, &error));
      assert_error (error, code, message);
      assert_false (statedir_is_running (path));

      /* Nothing was created or removed, through a symlink or otherwise. */
      switch (kinds[i])
        {
        case PATH_REGULAR_FILE:
          assert_text (path, "payload");
          break;
        case PATH_FIFO:
          assert_node (path, S_IFIFO, 0600, getuid ());
          break;
        case PATH_SOCKET:
          assert_int_equal (access (path, F_OK), 0);
          break;
        case PATH_SYMLINK_TO_DIR:
          assert_entries (target, "");
          break;
        case PATH_SYMLINK_TO_FILE:
          assert_text (target, "payload");
          break;
        case PATH_DANGLING_SYMLINK:
          assert_absent (target);
          break;
        case PATH_OTHER_OWNER:
          assert_entries (path, "");
          assert_node (path, S_IFDIR, 0777, OTHER_UID);
          break;
        default:
          fail ();
        }
      /* The path itself is still there, whatever it is. */
      {
        struct stat st;
        assert_int_equal (lstat (path, &st), 0);
      }
      rm_rf (path);
      rm_rf (target);
    }
}

/* A symlink higher up in the path is fine; the path is kept as given. */
static void
test_open_symlinked_parent (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *real = in (f->xdg, "real");
  g_autofree char *link = in (f->xdg, "link");
  g_autofree char *path = in (link, "sd");
  g_autofree char *real_sd = in (real, "sd");
  StateDir *sd;

  make_dir (real, 0700);
  assert_int_equal (symlink (real, link), 0);
  sd = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (sd);
  assert_string_equal (sd->path, path);
  assert_true (sd->created);
  assert_true (statedir_is_running (real_sd));
  statedir_close (sd);
  assert_absent (real_sd);
}

/** enum LockKind - a "lock" entry that cannot be opened, for test_open_bad_lock() */
typedef enum {
  LOCK_SYMLINK_TO_FILE,
  LOCK_DANGLING_SYMLINK,
  LOCK_DIRECTORY,
} LockKind;

/* "lock" is opened with O_NOFOLLOW: a planted symlink is not followed. */
static void
test_open_bad_lock (void **state)
{
  Fixture *f = *state;
  static const struct {
    LockKind kind;
    int code;
  } cases[] = {
    { LOCK_SYMLINK_TO_FILE, ELOOP },
    { LOCK_DANGLING_SYMLINK, ELOOP },
    { LOCK_DIRECTORY, EISDIR },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_strdup_printf ("%s/case%zu", f->xdg, i);
      g_autofree char *lock = in (path, STATEDIR_LOCK);
      g_autofree char *target = in (f->xdg, "target");
      g_autofree char *message
          = g_strdup_printf ("open lock file %s: %s", lock, g_strerror (cases[i].code));

      make_dir (path, 0700);
      switch (cases[i].kind)
        {
        case LOCK_SYMLINK_TO_FILE:
          write_text (target, "precious", 0600);
          assert_int_equal (symlink (target, lock), 0);
          break;
        case LOCK_DANGLING_SYMLINK:
          assert_int_equal (symlink (target, lock), 0);
          break;
        case LOCK_DIRECTORY:
          make_dir (lock, 0700);
          break;
        default:
          fail ();
        }
      assert_null (statedir_open (path, &error));
      assert_error (error, cases[i].code, message);
      /* The pre-existing dir and its lock entry are left alone. */
      assert_entries (path, "lock");
      if (cases[i].kind == LOCK_SYMLINK_TO_FILE)
        assert_text (target, "precious");
      if (cases[i].kind == LOCK_DANGLING_SYMLINK)
        assert_absent (target);
      rm_rf (path);
      rm_rf (target);
    }
}

/* ------------------------------------------------------------------------- */
/* The lock */

/**
 * struct BusyCase - what a second npte reports, by the contents of child_pid
 * @child_pid: contents written to child_pid, or NULL for no file
 * @pid: the pid the message must name, or 0 for none
 */
typedef struct {
  const char *child_pid;
  int pid;
} BusyCase;

static void
test_open_busy (void **state)
{
  Fixture *f = *state;
  static const BusyCase cases[] = {
    { NULL, 0 },
    { "4242", 4242 },
    { "4242\n", 4242 },
    { " 17 \n", 17 },
    { "1", 1 },
    { "2147483647", 2147483647 },
    { "2147483648", 0 },
    { "0", 0 },
    { "-5", 0 },
    { "+5", 0 },
    { "", 0 },
    { "abc", 0 },
    { "12abc", 0 },
    { "0x10", 0 },
    { "1 2", 0 },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "busy");
  g_autofree char *child_pid = in (path, STATEDIR_CHILD_PID);
  g_autofree char *sock = in (path, STATEDIR_API_SOCK);
  g_autofree char *resolv = in (path, STATEDIR_RESOLV_CONF);
  StateDir *first = statedir_open (path, &error);
  StateDir *again;

  assert_null (error);
  assert_non_null (first);
  make_socket (sock);
  write_text (resolv, "nameserver 10.0.2.3\n", 0644);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = NULL;
      const BusyCase *c = &cases[i];

      unlink (child_pid);
      if (c->child_pid != NULL)
        write_text (child_pid, c->child_pid, 0444);
      if (c->pid > 0)
        message = g_strdup_printf ("another npte (child pid %d) is running with state dir %s",
                                   c->pid, path);
      else
        message = g_strdup_printf ("another npte is running with state dir %s", path);

      again = statedir_open (path, &error);
      if (again != NULL)
        print_error ("child_pid \"%s\": second open succeeded\n",
                     c->child_pid != NULL ? c->child_pid : "(none)");
      assert_null (again);
      assert_error (error, EBUSY, message);
      g_clear_error (&error);

      /* The failed open took nothing away from the running one. */
      assert_entries (path, c->child_pid != NULL ? "api.sock child_pid lock resolv.conf"
                                                 : "api.sock lock resolv.conf");
      assert_text (resolv, "nameserver 10.0.2.3\n");
      if (c->child_pid != NULL)
        assert_text (child_pid, c->child_pid);
      /* bind() made it 0777 & ~umask. */
      assert_node (sock, S_IFSOCK, 0755, getuid ());
    }

  /* Written by statedir_write_child_pid() itself. */
  assert_true (statedir_write_child_pid (first, 31337, &error));
  {
    g_autofree char *message
        = g_strdup_printf ("another npte (child pid 31337) is running with state dir %s", path);
    g_autofree char *old_cwd = g_get_current_dir ();

    assert_null (statedir_open (path, &error));
    assert_error (error, EBUSY, message);
    g_clear_error (&error);

    /* Another spelling of the same dir: the message names the absolute path. */
    assert_int_equal (chdir (f->xdg), 0);
    again = statedir_open ("busy", &error);
    assert_int_equal (chdir (old_cwd), 0);
    assert_null (again);
    assert_error (error, EBUSY, message);
    g_clear_error (&error);
  }
  assert_true (lock_is_held (path));
  assert_true (statedir_is_running (path));

  /* Once the first is closed, the dir can be opened again. */
  statedir_close (first);
  assert_absent (path);
  again = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (again);
  assert_true (again->created);
  statedir_close (again);
  assert_absent (path);
}

/* A dir left by an npte that was killed: stale files go, the rest stays. */
static void
test_open_stale (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "crashed");
  g_autofree char *lock = in (path, STATEDIR_LOCK);
  g_autofree char *child_pid = in (path, STATEDIR_CHILD_PID);
  g_autofree char *sock = in (path, STATEDIR_API_SOCK);
  g_autofree char *resolv = in (path, STATEDIR_RESOLV_CONF);
  g_autofree char *keep = in (path, "keep");
  StateDir *sd;

  make_dir (path, 0700);
  write_text (lock, "", 0600);
  write_text (child_pid, "999", 0444);
  make_socket (sock);
  write_text (resolv, "nameserver 10.0.2.3\n", 0644);
  write_text (keep, "k", 0600);
  assert_false (statedir_is_running (path));

  sd = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (sd);
  assert_false (sd->created);
  assert_entries (path, "keep lock");
  assert_true (statedir_is_running (path));

  statedir_close (sd);
  assert_entries (path, "keep");
  assert_text (keep, "k");
}

/**
 * crashing_child() - in a forked child: open @path, write child_pid, bind
 *                    api.sock, write resolv.conf, report on @fd, then wait
 *                    to be killed (or for the test process to die)
 * @path: state dir
 * @fd: write end of the report pipe
 */
G_GNUC_NORETURN static void
crashing_child (const char *path, int fd)
{
  GError *error = NULL;
  StateDir *sd = statedir_open (path, &error);
  char ok = '1';
  char *sock;
  char *resolv;
  int s;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };

  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () == 1)
    _exit (1);
  if (sd == NULL || !statedir_write_child_pid (sd, getpid (), &error))
    _exit (2);
  resolv = statedir_file (sd, STATEDIR_RESOLV_CONF);
  if (!g_file_set_contents (resolv, "nameserver 10.0.2.3\n", -1, &error))
    _exit (5);
  sock = statedir_file (sd, STATEDIR_API_SOCK);
  s = socket (AF_UNIX, SOCK_STREAM, 0);
  g_strlcpy (sun.sun_path, sock, sizeof sun.sun_path);
  if (s < 0 || bind (s, (struct sockaddr *) &sun, sizeof sun) < 0 || listen (s, 1) < 0)
    _exit (3);
  if (write (fd, &ok, 1) != 1)
    _exit (4);
  for (;;)
    pause ();
}

/* Another process holds the dir, then is SIGKILLed: its leftovers are reclaimed. */
static void
test_open_after_kill (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->base, "killed");
  g_autofree char *message = NULL;
  g_autoptr (GPtrArray) running = NULL;
  int pipefd[2];
  char byte = 0;
  int status = 0;
  pid_t pid;
  StateDir *sd;

  make_dir (f->base, 0700);
  assert_int_equal (pipe2 (pipefd, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      close (pipefd[0]);
      crashing_child (path, pipefd[1]);
    }
  close (pipefd[1]);
  assert_int_equal (read (pipefd[0], &byte, 1), 1);
  close (pipefd[0]);

  /* Running: seen by the probes, and a second open names its pid. */
  assert_true (statedir_is_running (path));
  running = statedir_list_running (&error);
  assert_non_null (running);
  assert_int_equal (running->len, 1);
  assert_string_equal (g_ptr_array_index (running, 0), path);
  message = g_strdup_printf ("another npte (child pid %d) is running with state dir %s", (int) pid,
                             path);
  assert_null (statedir_open (path, &error));
  assert_error (error, EBUSY, message);
  g_clear_error (&error);

  /* SIGKILL: no cleanup ran, the lock went with the process. */
  assert_int_equal (kill (pid, SIGKILL), 0);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);
  assert_entries (path, "api.sock child_pid lock resolv.conf");
  assert_false (statedir_is_running (path));
  g_ptr_array_unref (running);
  running = statedir_list_running (&error);
  assert_non_null (running);
  assert_int_equal (running->len, 0);

  sd = statedir_open (path, &error);
  assert_null (error);
  assert_non_null (sd);
  /* The killed npte made the dir; for this one it already existed. */
  assert_false (sd->created);
  assert_entries (path, "lock");
  statedir_close (sd);
  assert_entries (path, "");
}

/* ------------------------------------------------------------------------- */
/* child_pid, statedir_file() */

static void
test_write_child_pid (void **state)
{
  Fixture *f = *state;
  static const struct {
    int pid;
    const char *text;
  } cases[] = {
    { 1, "1" },
    { 4242, "4242" },
    { 65536, "65536" },
    { 2147483647, "2147483647" },
    { 7, "7" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "pid");
  g_autoptr (StateDir) sd = statedir_open (path, &error);
  g_autofree char *child_pid = in (path, "child_pid");
  g_autofree char *tmp = in (path, "child_pid.tmp");

  assert_non_null (sd);
  {
    g_autofree char *file = statedir_file (sd, STATEDIR_API_SOCK);
    g_autofree char *want = g_strdup_printf ("%s/api.sock", path);
    assert_string_equal (file, want);
    g_free (file);
    file = statedir_file (sd, "x");
    g_free (want);
    want = g_strdup_printf ("%s/x", path);
    assert_string_equal (file, want);
  }

  /* Each write replaces the last one (rename over the read-only file). */
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      assert_true (statedir_write_child_pid (sd, cases[i].pid, &error));
      assert_null (error);
      assert_text (child_pid, cases[i].text);
      assert_node (child_pid, S_IFREG, 0444, getuid ());
      assert_absent (tmp);
      assert_entries (path, "child_pid lock");
    }

  /* A dir we cannot write to (root could). */
  if (!is_root ())
    {
      g_autofree char *message
          = g_strdup_printf ("create %s: %s", tmp, g_strerror (EACCES));

      assert_int_equal (chmod (path, 0500), 0);
      assert_false (statedir_write_child_pid (sd, 99, &error));
      assert_int_equal (chmod (path, 0700), 0);
      assert_error (error, EACCES, message);
      assert_text (child_pid, "7");
      assert_absent (tmp);
    }
}

/* ------------------------------------------------------------------------- */
/* statedir_is_running(), statedir_list_running() */

static void
test_is_running (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = in (f->xdg, "r");
  g_autofree char *missing = in (f->xdg, "missing");
  g_autofree char *empty = in (f->xdg, "empty");
  g_autofree char *unlocked = in (f->xdg, "unlocked");
  g_autofree char *unlocked_lock = in (unlocked, STATEDIR_LOCK);
  g_autofree char *file = in (f->xdg, "file");
  g_autofree char *link = in (f->xdg, "lockdir");
  g_autofree char *link_lock = in (link, STATEDIR_LOCK);
  g_autofree char *path_lock = in (path, STATEDIR_LOCK);
  StateDir *sd;

  assert_false (statedir_is_running (path));
  sd = statedir_open (path, &error);
  assert_non_null (sd);
  assert_true (statedir_is_running (path));
  /* The probe does not take the lock away. */
  assert_true (statedir_is_running (path));
  assert_true (lock_is_held (path));

  /* A "lock" that is a symlink to a held lock does not count (O_NOFOLLOW). */
  make_dir (link, 0700);
  assert_int_equal (symlink (path_lock, link_lock), 0);
  assert_false (statedir_is_running (link));

  statedir_close (sd);
  assert_false (statedir_is_running (path));

  assert_false (statedir_is_running (missing));
  make_dir (empty, 0700);
  assert_false (statedir_is_running (empty));
  make_dir (unlocked, 0700);
  write_text (unlocked_lock, "", 0600);
  assert_false (statedir_is_running (unlocked));
  /* The probe left no lock behind. */
  assert_false (lock_is_held (unlocked));
  write_text (file, "", 0600);
  assert_false (statedir_is_running (file));
}

/* paths_sorted() - (transfer full) the paths of @sds, sorted by strcmp(). */
static char **
paths_sorted (StateDir **sds, guint n)
{
  char **v = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    v[i] = g_strdup (sds[i]->path);
  sort_strv (v, n);
  return v;
}

/**
 * assert_running() - statedir_list_running() is exactly the paths of @sds, sorted
 * @sds: open state dirs (NULL entries are skipped)
 * @n: size of @sds
 */
static void
assert_running (StateDir **sds, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = statedir_list_running (&error);
  g_autofree StateDir **live = g_new0 (StateDir *, n + 1);
  g_auto (GStrv) want = NULL;
  guint m = 0;

  for (guint i = 0; i < n; i++)
    if (sds[i] != NULL)
      live[m++] = sds[i];
  want = paths_sorted (live, m);
  assert_null (error);
  assert_non_null (list);
  if (list->len != m)
    print_error ("%u running, want %u\n", list->len, m);
  assert_int_equal (list->len, m);
  for (guint i = 0; i < m; i++)
    assert_string_equal (g_ptr_array_index (list, i), want[i]);
  for (guint i = 1; i < list->len; i++)
    assert_true (strcmp (g_ptr_array_index (list, i - 1), g_ptr_array_index (list, i)) < 0);
}

static void
test_list_running (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  StateDir *sds[6] = { NULL };
  g_autofree char *named = NULL;
  g_autofree char *named_a = NULL;
  g_autofree char *stale = NULL;
  g_autofree char *stale_lock = NULL;
  g_autofree char *file = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *outside = in (f->xdg, "outside");

  /* A missing base is not an error. */
  assert_absent (f->base);
  assert_running (sds, 0);

  for (guint i = 0; i < 4; i++)
    {
      sds[i] = statedir_open (NULL, &error);
      assert_null (error);
      assert_non_null (sds[i]);
    }
  /* Named dirs under the base count too; one outside it does not. */
  named = in (f->base, "zzz-named");
  named_a = in (f->base, "000-named");
  sds[4] = statedir_open (named, &error);
  assert_non_null (sds[4]);
  sds[5] = statedir_open (named_a, &error);
  assert_non_null (sds[5]);
  {
    g_autoptr (StateDir) out = statedir_open (outside, &error);
    assert_non_null (out);

    /* Not running: a stale dir, a file, an empty dir. */
    stale = in (f->base, "stale");
    stale_lock = in (stale, STATEDIR_LOCK);
    make_dir (stale, 0700);
    write_text (stale_lock, "", 0600);
    file = in (f->base, "file");
    write_text (file, "", 0600);
    empty = in (f->base, "empty");
    make_dir (empty, 0700);

    assert_running (sds, G_N_ELEMENTS (sds));
  }

  /* Closing drops them one by one. */
  statedir_close (sds[2]);
  sds[2] = NULL;
  assert_running (sds, G_N_ELEMENTS (sds));
  statedir_close (sds[4]);
  sds[4] = NULL;
  assert_running (sds, G_N_ELEMENTS (sds));
  for (guint i = 0; i < G_N_ELEMENTS (sds); i++)
    {
      statedir_close (sds[i]);
      sds[i] = NULL;
    }
  assert_running (sds, G_N_ELEMENTS (sds));
  assert_entries (f->base, "empty file stale");
}

/* Under the fallback base, and with no base at all. */
static void
test_list_running_fallback (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  StateDir *sds[2] = { NULL };

  g_unsetenv ("XDG_RUNTIME_DIR");
  assert_absent (f->fallback);
  assert_running (sds, 0);
  sds[0] = statedir_open (NULL, &error);
  sds[1] = statedir_open (NULL, &error);
  assert_non_null (sds[0]);
  assert_non_null (sds[1]);
  assert_running (sds, 2);

  /* The XDG base is another place: nothing runs there. */
  g_setenv ("XDG_RUNTIME_DIR", f->xdg, TRUE);
  assert_running (sds, 0);

  statedir_close (sds[0]);
  statedir_close (sds[1]);
}

/* A base that cannot be listed is an error (EIO naming the base). */
static void
test_list_running_bad_base (void **state)
{
  Fixture *f = *state;
  g_autoptr (GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("read %s: ", f->base);
  GPtrArray *list;

  write_text (f->base, "", 0600);
  list = statedir_list_running (&error);
  assert_null (list);
  assert_non_null (error);
  assert_true (error->domain == NPTE_ERROR);
  assert_int_equal (error->code, EIO);
  if (!g_str_has_prefix (error->message, prefix))
    print_error ("message \"%s\"\n", error->message);
  assert_true (g_str_has_prefix (error->message, prefix));
  assert_non_null (strstr (error->message, g_strerror (ENOTDIR)));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_base_xdg, setup, teardown),
    cmocka_unit_test_setup_teardown (test_base_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh_bad_base, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_path_created, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_path_relative, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_path_existing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_close_keeps_foreign_files, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_missing_parent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_symlinked_parent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_bad_lock, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_busy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_stale, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_after_kill, setup, teardown),
    cmocka_unit_test_setup_teardown (test_write_child_pid, setup, teardown),
    cmocka_unit_test_setup_teardown (test_is_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running_bad_base, setup, teardown),
  };
  const char *parent = g_getenv ("TMPDIR");
  g_autofree char *tmpl = NULL;
  int failed;

  if (parent == NULL || *parent == '\0')
    parent = "/tmp";
  tmpl = g_build_filename (parent, "test_statedir-XXXXXX", NULL);
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      fprintf (stderr, "mkdtemp %s: %s\n", tmpl, g_strerror (errno));
      return 1;
    }
  test_root = tmpl;
  /* Before anything calls g_get_tmp_dir(), which caches its answer. */
  g_unsetenv ("G_TEST_TMPDIR");
  g_setenv ("TMPDIR", test_root, TRUE);
  g_unsetenv ("XDG_RUNTIME_DIR");
  umask (022);

  failed = cmocka_run_group_tests (tests, NULL, NULL);
  rm_rf (test_root);
  return failed;
}
