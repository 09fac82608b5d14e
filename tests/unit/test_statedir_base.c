/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/statedir.c, where state dirs live: statedir_base()
 * (XDG_RUNTIME_DIR or $TMPDIR/npte-UID, and every unusable
 * XDG_RUNTIME_DIR) and fresh dirs made under the base (statedir_open (NULL)),
 * with refusal of a base that is a symlink, not a directory or another
 * user's. See statedir-helpers.h for the private TMPDIR these run in.
 */
#include "statedir-helpers.h"

int main (void);

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

  /* group_setup() exported TMPDIR before anything read it: the fallback is under it. */
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
  StateDir *a = open_ok (NULL);
  StateDir *b = NULL;
  g_autofree char *a_dir = NULL;
  g_autofree char *a_lock = NULL;

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
  b = open_ok (NULL);
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
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  StateDir *sd;

  g_unsetenv ("XDG_RUNTIME_DIR");
  sd = open_ok (NULL);
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
      g_autofree char *target = in (f->xdg, "target");
      const char *base = f->base;
      Refusal why = REFUSED_SYMLINK;

      switch (kinds[i])
        {
        case BASE_SYMLINK:
          make_dir (target, 0700);
          assert_int_equal (symlink (target, base), 0);
          break;
        case BASE_DANGLING_SYMLINK:
          assert_int_equal (symlink (target, base), 0);
          break;
        case BASE_REGULAR_FILE:
          write_text (base, "x", 0600);
          why = REFUSED_NOT_DIR;
          break;
        case BASE_OTHER_OWNER:
          make_dir (base, 0700);
          if (!give_away (base))
            {
              rm_rf (base);
              continue;
            }
          why = REFUSED_OWNER;
          break;
        case BASE_FALLBACK_SYMLINK:
          /* Someone planted $TMPDIR/npte-UID as a symlink to a dir of ours. */
          g_unsetenv ("XDG_RUNTIME_DIR");
          base = f->fallback;
          make_dir (target, 0700);
          assert_int_equal (symlink (target, base), 0);
          break;
        default:
          fail ();
        }

      assert_refused (NULL, why, base);
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

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_base_xdg, setup, teardown),
    cmocka_unit_test_setup_teardown (test_base_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_fresh_bad_base, setup, teardown),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
