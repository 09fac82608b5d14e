/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/statedir.c, given dirs (statedir_open (path)): created
 * and removed again, relative, pre-existing (kept, only our files go),
 * a missing parent, refusal of symlinks, non-directories and other users'
 * dirs, a symlinked parent, and a "lock" entry that cannot be opened.
 * See statedir-helpers.h for the private TMPDIR these run in.
 */
#include "statedir-helpers.h"

int main (void);

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

  assert_true (statedir_write_child_pid (sd, pid, &error));
  assert_null (error);
  add_leftovers (sd->path);
}

/* A missing path is created 0700 and removed again by statedir_close(). */
static void
test_open_path_created (void **state)
{
  Fixture *f = *state;
  g_autofree char *path = in (f->xdg, "run1");
  StateDir *sd = open_ok (path);

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
  g_autofree char *path = in (f->xdg, "mine");
  g_autofree char *keep = in (path, "keep");
  StateDir *sd;

  make_dir (path, 0755);
  write_text (keep, "data", 0644);
  sd = open_ok (path);
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
  g_autofree char *path = in (f->xdg, "run");
  g_autofree char *other = in (path, "other");
  StateDir *sd = open_ok (path);

  assert_true (sd->created);
  write_text (other, "x", 0600);
  statedir_close (sd);
  assert_entries (path, "other");
  assert_text (other, "x");

  /* statedir_close (NULL) is a no-op; g_autoptr closes. */
  statedir_close (NULL);
  {
    g_autoptr (StateDir) auto_sd = open_ok (path);

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
  g_autofree char *parent = in (f->xdg, "missing");
  g_autofree char *path = in (parent, "sub");
  g_autofree char *message = g_strdup_printf ("create state dir %s: %s", path, g_strerror (ENOENT));

  assert_open_fails (path, ENOENT, message);
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
      g_autofree char *path = g_strdup_printf ("%s/case%zu", f->xdg, i);
      g_autofree char *target = in (f->xdg, "target");
      Refusal why = REFUSED_NOT_DIR;

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
          why = REFUSED_SYMLINK;
          break;
        case PATH_SYMLINK_TO_FILE:
          write_text (target, "payload", 0600);
          assert_int_equal (symlink (target, path), 0);
          why = REFUSED_SYMLINK;
          break;
        case PATH_DANGLING_SYMLINK:
          assert_int_equal (symlink (target, path), 0);
          why = REFUSED_SYMLINK;
          break;
        case PATH_OTHER_OWNER:
          make_dir (path, 0777);
          if (!give_away (path))
            continue;
          why = REFUSED_OWNER;
          break;
        default:
          fail ();
        }

      assert_refused (path, why, path);
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
  g_autofree char *real = in (f->xdg, "real");
  g_autofree char *link = in (f->xdg, "link");
  g_autofree char *path = in (link, "sd");
  g_autofree char *real_sd = in (real, "sd");
  StateDir *sd;

  make_dir (real, 0700);
  assert_int_equal (symlink (real, link), 0);
  sd = open_ok (path);
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
      assert_open_fails (path, cases[i].code, message);
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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_open_path_created, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_path_relative, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_path_existing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_close_keeps_foreign_files, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_missing_parent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_symlinked_parent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_bad_lock, setup, teardown),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
