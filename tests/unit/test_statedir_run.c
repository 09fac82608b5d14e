/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/statedir.c, a running npte's dir: the lock (EBUSY
 * naming the path and the child pid), stale files from a killed npte,
 * child_pid and statedir_file(), statedir_is_running() and
 * statedir_list_running(). See statedir-helpers.h for the private TMPDIR
 * these run in.
 */
#include "statedir-helpers.h"

int main (void);

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
  StateDir *first = open_ok (path);
  StateDir *again;

  add_leftovers (path);

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

      if (c->child_pid != NULL)
        print_message ("child_pid \"%s\"\n", c->child_pid);
      assert_open_fails (path, EBUSY, message);

      /* The failed open took nothing away from the running one. */
      assert_entries (path, c->child_pid != NULL ? "api.sock child_pid lock resolv.conf"
                                                 : "api.sock lock resolv.conf");
      assert_text (resolv, RESOLV_TEXT);
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

    assert_open_fails (path, EBUSY, message);

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
  again = open_ok (path);
  assert_true (again->created);
  statedir_close (again);
  assert_absent (path);
}

/* A dir left by an npte that was killed: stale files go, the rest stays. */
static void
test_open_stale (void **state)
{
  Fixture *f = *state;
  g_autofree char *path = in (f->xdg, "crashed");
  g_autofree char *lock = in (path, STATEDIR_LOCK);
  g_autofree char *child_pid = in (path, STATEDIR_CHILD_PID);
  g_autofree char *keep = in (path, "keep");
  StateDir *sd;

  make_dir (path, 0700);
  write_text (lock, "", 0600);
  write_text (child_pid, "999", 0444);
  add_leftovers (path);
  write_text (keep, "k", 0600);
  assert_false (statedir_is_running (path));

  sd = open_ok (path);
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
  if (!g_file_set_contents (resolv, RESOLV_TEXT, -1, &error))
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
  assert_open_fails (path, EBUSY, message);

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

  sd = open_ok (path);
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
  g_autoptr (StateDir) sd = open_ok (path);
  g_autofree char *child_pid = in (path, "child_pid");
  g_autofree char *tmp = in (path, "child_pid.tmp");

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
  sd = open_ok (path);
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
    sds[i] = open_ok (NULL);
  /* Named dirs under the base count too; one outside it does not. */
  named = in (f->base, "zzz-named");
  named_a = in (f->base, "000-named");
  sds[4] = open_ok (named);
  sds[5] = open_ok (named_a);
  {
    g_autoptr (StateDir) out = open_ok (outside);

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
  StateDir *sds[2] = { NULL };

  g_unsetenv ("XDG_RUNTIME_DIR");
  assert_absent (f->fallback);
  assert_running (sds, 0);
  sds[0] = open_ok (NULL);
  sds[1] = open_ok (NULL);
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
    cmocka_unit_test_setup_teardown (test_open_busy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_stale, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_after_kill, setup, teardown),
    cmocka_unit_test_setup_teardown (test_write_child_pid, setup, teardown),
    cmocka_unit_test_setup_teardown (test_is_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running_fallback, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_running_bad_base, setup, teardown),
  };

  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
