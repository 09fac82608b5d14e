/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/netns-registry.c and src/netns-script.c: namespace
 * names (every byte in the first and in a later position, every length
 * around the limit, the classic escapes), the paths layout and
 * NPTE_NETNS_RUN_DIR, markers (missing, regular, symlink to a file,
 * dangling symlink, directory, FIFO; O_EXCL creation), the global lock
 * (directories and their modes, a second holder times out, a symlinked
 * base or lock file is refused), the registry listing, and the --dry-run
 * scripts: their RequireManaged guard is run with sh against every kind
 * of marker, and tricky paths survive the quoting.
 *
 * Each test works in a fresh private directory; nothing outside it is
 * touched, and no namespace is created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns-registry.h"
#include "netns-script.h"
#include "npte-error.h"
#include "util.h"

int main (void);

/* Per-test state: a private dir and paths below it. */
typedef struct {
  char *dir;
  NetnsPaths *p;
} Fixture;

static int
setup (void **state)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autofree char *base = NULL;

  f->dir = g_dir_make_tmp ("npte-netns-reg-XXXXXX", NULL);
  assert_non_null (f->dir);
  base = g_build_filename (f->dir, "base", NULL);
  f->p = netns_paths_new_for (base, geteuid () != 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *f = *state;
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  assert_int_equal (system (cmd), 0);
  netns_paths_free (f->p);
  g_free (f->dir);
  g_free (f);
  return 0;
}

/* expected_valid() - the rule, written independently: [a-z0-9][a-z0-9-]{0,62}. */
static gboolean
expected_valid (const char *s)
{
  gsize n = strlen (s);

  if (n < 1 || n > 63)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      gboolean alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
      if (!alnum && !(i > 0 && s[i] == '-'))
        return FALSE;
    }
  return TRUE;
}

static void
test_name_every_byte (void **state)
{
  for (int c = 1; c < 256; c++)
    {
      char first[3] = { (char) c, 'a', '\0' };
      char later[4] = { 'a', (char) c, 'b', '\0' };
      char last[3] = { '0', (char) c, '\0' };
      g_autoptr (GError) error = NULL;

      assert_int_equal (netns_name_valid (first, NULL), expected_valid (first));
      assert_int_equal (netns_name_valid (later, NULL), expected_valid (later));
      assert_int_equal (netns_name_valid (last, &error), expected_valid (last));
      if (!expected_valid (last))
        {
          assert_non_null (error);
          assert_int_equal (error->code, EINVAL);
        }
    }
}

static void
test_name_lengths (void **state)
{
  for (int len = 0; len <= 300; len++)
    {
      g_autofree char *name = g_strnfill ((gsize) len, 'a');
      g_autoptr (GError) error = NULL;

      assert_int_equal (netns_name_valid (name, &error), len >= 1 && len <= 63);
      if (len == 0)
        assert_non_null (strstr (error->message, "empty"));
      if (len > 63)
        assert_non_null (strstr (error->message, "longer than 63"));
    }
  assert_false (netns_name_valid (NULL, NULL));
}

static void
test_name_cases (void **state)
{
  static const char *const bad[] = { "../x", "a/b", "..", ".", "/", "A", "aB", "-a", "a b",
                                     "a.b", "a_b", "a\nb", "caf\xc3\xa9", "a\x7f", "x:y", "\t" };
  static const char *const good[] = { "a", "0", "a-", "a--b", "0-0", "netns-1", "z9" };
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_false (netns_name_valid (bad[i], NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    assert_true (netns_name_valid (good[i], NULL));
  assert_false (netns_name_valid ("../x", &error));
  assert_non_null (strstr (error->message, "\"../x\""));
}

static void
test_paths (void **state)
{
  Fixture *f = *state;
  g_autofree char *m = netns_marker_path (f->p, "ns1");
  g_autofree char *c = netns_conf_dir (f->p, "ns1");
  g_autofree char *s = netns_state_dir (f->p, "ns1");
  g_autofree char *n = netns_ns_path (f->p, "ns1");
  g_autofree char *reg = g_build_filename (f->p->base, "netns", NULL);
  g_autofree char *want_m = g_build_filename (reg, "ns1", NULL);
  g_autofree char *want_c = g_build_filename (reg, "ns1.d", NULL);
  g_autofree char *want_s = g_build_filename (reg, "ns1.state", NULL);
  g_autofree char *want_n = f->p->rootless
                                ? g_build_filename (f->p->base, "netns-keeper", "ns1", NULL)
                                : g_strdup ("/run/netns/ns1");

  assert_string_equal (f->p->reg, reg);
  assert_string_equal (m, want_m);
  assert_string_equal (c, want_c);
  assert_string_equal (s, want_s);
  assert_string_equal (n, want_n);
  assert_true (g_str_has_suffix (f->p->lock, "/base/netns.lock"));
  assert_true (g_str_has_suffix (f->p->keeper_pid, "/base/netns-keeper.pid"));
}

static void
test_paths_env (void **state)
{
  Fixture *f = *state;
  g_autofree char *old = g_strdup (g_getenv ("NPTE_NETNS_RUN_DIR"));

  g_setenv ("NPTE_NETNS_RUN_DIR", f->dir, TRUE);
  g_autoptr (NetnsPaths) p = netns_paths_new ();
  assert_string_equal (p->base, f->dir);
  assert_int_equal (p->rootless, geteuid () != 0);
  /* A relative value is ignored: never a registry relative to the cwd. */
  g_setenv ("NPTE_NETNS_RUN_DIR", "relative/dir", TRUE);
  g_autoptr (NetnsPaths) q = netns_paths_new ();
  assert_true (g_path_is_absolute (q->base));
  if (old != NULL)
    g_setenv ("NPTE_NETNS_RUN_DIR", old, TRUE);
  else
    g_unsetenv ("NPTE_NETNS_RUN_DIR");
}

/* make_reg() - create BASE/netns. */
static void
make_reg (const Fixture *f)
{
  assert_int_equal (g_mkdir_with_parents (f->p->reg, 0700), 0);
}

static void
test_marker_kinds (void **state)
{
  Fixture *f = *state;
  g_autofree char *m = netns_marker_path (f->p, "m");
  g_autofree char *target = g_build_filename (f->dir, "target", NULL);
  GError *error = NULL;

  make_reg (f);
  assert_int_equal (netns_marker_check (f->p, "m", NULL), NETNS_MARKER_ABSENT);
  assert_false (netns_require_managed (f->p, "m", &error));
  assert_int_equal (error->code, ENOENT);
  assert_string_equal (error->message, "namespace m is not managed by npte");
  g_clear_error (&error);

  assert_true (netns_marker_create (f->p, "m", NULL));
  assert_int_equal (netns_marker_check (f->p, "m", NULL), NETNS_MARKER_PRESENT);
  assert_true (netns_require_managed (f->p, "m", NULL));
  assert_false (netns_marker_create (f->p, "m", &error)); /* O_EXCL */
  assert_int_equal (error->code, EEXIST);
  g_clear_error (&error);
  assert_true (netns_marker_remove (f->p, "m", NULL));
  assert_true (netns_marker_remove (f->p, "m", NULL)); /* already gone: fine */

  /* A symlink to a regular file is not a marker, and is never followed. */
  assert_true (g_file_set_contents (target, "", 0, NULL));
  assert_int_equal (symlink (target, m), 0);
  assert_int_equal (netns_marker_check (f->p, "m", &error), NETNS_MARKER_BAD);
  assert_int_equal (error->code, ELOOP);
  assert_non_null (strstr (error->message, "symlink"));
  g_clear_error (&error);
  assert_false (netns_require_managed (f->p, "m", &error));
  assert_int_equal (error->code, ELOOP);
  g_clear_error (&error);
  assert_false (netns_marker_create (f->p, "m", NULL));
  unlink (m);

  /* Dangling symlink. */
  assert_int_equal (symlink ("/nonexistent/npte", m), 0);
  assert_int_equal (netns_marker_check (f->p, "m", &error), NETNS_MARKER_BAD);
  assert_int_equal (error->code, ELOOP);
  g_clear_error (&error);
  assert_false (netns_marker_create (f->p, "m", NULL));
  unlink (m);

  /* Directory. */
  assert_int_equal (mkdir (m, 0700), 0);
  assert_int_equal (netns_marker_check (f->p, "m", &error), NETNS_MARKER_BAD);
  assert_int_equal (error->code, EISDIR);
  assert_non_null (strstr (error->message, "directory"));
  g_clear_error (&error);
  assert_false (netns_require_managed (f->p, "m", NULL));
  rmdir (m);

  /* FIFO: checked without opening it for reading (which would block). */
  assert_int_equal (mkfifo (m, 0600), 0);
  assert_int_equal (netns_marker_check (f->p, "m", &error), NETNS_MARKER_BAD);
  assert_int_equal (error->code, EINVAL);
  g_clear_error (&error);
  unlink (m);
}

static void
test_lock (void **state)
{
  Fixture *f = *state;
  GError *error = NULL;
  struct stat st;
  mode_t want = f->p->rootless ? 0700 : 0755;

  int fd = netns_lock (f->p, 1000, &error);
  assert_true (fd >= 0);
  assert_int_equal (stat (f->p->base, &st), 0);
  assert_int_equal (st.st_mode & 0777, want);
  assert_int_equal (stat (f->p->reg, &st), 0);
  assert_int_equal (st.st_mode & 0777, want);
  assert_int_equal (lstat (f->p->lock, &st), 0);
  assert_true (S_ISREG (st.st_mode));

  /* A second holder (another open file description) waits, then gives up. */
  gint64 t0 = g_get_monotonic_time ();
  assert_int_equal (netns_lock (f->p, 200, &error), -1);
  assert_int_equal (error->code, ETIMEDOUT);
  assert_true (g_get_monotonic_time () - t0 >= 150000);
  g_clear_error (&error);
  close (fd);
  fd = netns_lock (f->p, 1000, NULL);
  assert_true (fd >= 0);
  close (fd);
}

static void
test_lock_refuses_symlinks (void **state)
{
  Fixture *f = *state;
  g_autofree char *elsewhere = g_build_filename (f->dir, "elsewhere", NULL);
  g_autofree char *file = g_build_filename (f->dir, "file", NULL);
  GError *error = NULL;

  /* The base is a symlink to a real directory. */
  assert_int_equal (mkdir (elsewhere, 0700), 0);
  assert_int_equal (symlink (elsewhere, f->p->base), 0);
  assert_int_equal (netns_lock (f->p, 100, &error), -1);
  assert_int_equal (error->code, ENOTDIR);
  g_clear_error (&error);
  unlink (f->p->base);

  /* The lock file is a symlink. */
  assert_int_equal (mkdir (f->p->base, 0700), 0);
  assert_true (g_file_set_contents (file, "", 0, NULL));
  assert_int_equal (symlink (file, f->p->lock), 0);
  assert_int_equal (netns_lock (f->p, 100, &error), -1);
  assert_int_equal (error->code, ELOOP);
  g_clear_error (&error);
}

static void
test_list (void **state)
{
  Fixture *f = *state;
  g_autoptr (GPtrArray) skipped = NULL;
  g_autoptr (GPtrArray) names = NULL;
  static const char *const markers[] = { "zeta", "alpha", "m-1", "0" };
  g_autofree char *dir_marker = netns_marker_path (f->p, "dirmark");
  g_autofree char *link_marker = netns_marker_path (f->p, "linkmark");
  g_autofree char *conf = netns_conf_dir (f->p, "alpha");
  g_autofree char *state_dir = netns_state_dir (f->p, "alpha");
  g_autofree char *upper = g_build_filename (f->p->reg, "Upper", NULL);

  /* A missing registry is an empty one. */
  names = netns_registry_list (f->p, NULL, NULL);
  assert_non_null (names);
  assert_int_equal (names->len, 0);
  g_clear_pointer (&names, g_ptr_array_unref);

  make_reg (f);
  for (gsize i = 0; i < G_N_ELEMENTS (markers); i++)
    assert_true (netns_marker_create (f->p, markers[i], NULL));
  assert_int_equal (mkdir (dir_marker, 0700), 0);
  assert_int_equal (symlink ("/etc/hostname", link_marker), 0);
  assert_int_equal (mkdir (conf, 0700), 0);
  assert_int_equal (mkdir (state_dir, 0700), 0);
  assert_true (g_file_set_contents (upper, "", 0, NULL));

  names = netns_registry_list (f->p, &skipped, NULL);
  assert_int_equal (names->len, 4);
  assert_string_equal (g_ptr_array_index (names, 0), "0");
  assert_string_equal (g_ptr_array_index (names, 1), "alpha");
  assert_string_equal (g_ptr_array_index (names, 2), "m-1");
  assert_string_equal (g_ptr_array_index (names, 3), "zeta");
  assert_int_equal (skipped->len, 2);
  assert_string_equal (g_ptr_array_index (skipped, 0), "dirmark");
  assert_string_equal (g_ptr_array_index (skipped, 1), "linkmark");
}

/**
 * run_sh() - run @script with sh; return its exit status
 * @script: the script
 * @out: (out) (optional) its stdout+stderr
 *
 * Return: the exit status.
 */
static int
run_sh (const char *script, char **out)
{
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autofree char *o = NULL, *e = NULL;
  int status = 0;

  assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                             &status, NULL));
  if (out != NULL)
    *out = g_strconcat (o, e, NULL);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

static void
test_quote (void **state)
{
  static const char *const words[] = { "plain", "with space", "d\"q", "dollar $HOME", "back`tick`",
                                       "back\\slash", "single'quote", "new\nline", "!bang", "",
                                       "*glob?", "semi;colon&amp|pipe" };

  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    {
      g_autofree char *q = netns_sh_quote (words[i]);
      g_autofree char *w = netns_sh_word (words[i]);
      g_autofree char *script = g_strdup_printf ("printf '%%s|' %s %s", q, w);
      g_autofree char *out = NULL;
      g_autofree char *want = g_strdup_printf ("%s|%s|", words[i], words[i]);
      assert_int_equal (run_sh (script, &out), 0);
      assert_string_equal (out, want);
    }
  g_autofree char *plain = netns_sh_word ("10.0.0.1/24");
  assert_string_equal (plain, "10.0.0.1/24");
}

static void
test_guard_text (void **state)
{
  Fixture *f = *state;
  g_autofree char *guard = netns_script_guard (f->p, "web");
  g_autofree char *m = netns_marker_path (f->p, "web");
  g_autofree char *want = g_strdup_printf (
      "test -f \"%s\" || { echo \"npte: namespace web is not managed by npte\" >&2; exit 2; }\n", m);

  assert_non_null (strstr (guard, want));
}

/**
 * check_guard() - the guard of "g" against one kind of marker
 * @f: fixture
 * @want: expected exit status
 * @needle: expected in the output
 */
static void
check_guard (const Fixture *f, int want, const char *needle)
{
  g_autofree char *guard = netns_script_guard (f->p, "g");
  g_autofree char *script = g_strconcat (guard, "echo passed\n", NULL);
  g_autofree char *out = NULL;

  assert_int_equal (run_sh (script, &out), want);
  assert_non_null (strstr (out, needle));
}

static void
test_guard_runs (void **state)
{
  Fixture *f = *state;
  g_autofree char *m = netns_marker_path (f->p, "g");
  g_autofree char *target = g_build_filename (f->dir, "t", NULL);

  make_reg (f);
  check_guard (f, 2, "namespace g is not managed by npte");
  assert_true (netns_marker_create (f->p, "g", NULL));
  check_guard (f, 0, "passed");
  unlink (m);
  assert_true (g_file_set_contents (target, "", 0, NULL));
  assert_int_equal (symlink (target, m), 0);
  check_guard (f, 2, "not a regular file");
  unlink (m);
  assert_int_equal (mkdir (m, 0700), 0);
  check_guard (f, 2, "not a regular file");
}

static void
test_guard_tricky_base (void **state)
{
  Fixture *f = *state;
  g_autofree char *base = g_build_filename (f->dir, "we ird$x \"q\" `b` \\", NULL);
  g_autoptr (NetnsPaths) p = netns_paths_new_for (base, TRUE);
  g_autofree char *guard = netns_script_guard (p, "g");
  g_autofree char *script = g_strconcat (guard, "echo passed\n", NULL);

  assert_int_equal (g_mkdir_with_parents (p->reg, 0700), 0);
  assert_int_equal (run_sh (script, NULL), 2);
  assert_true (netns_marker_create (p, "g", NULL));
  assert_int_equal (run_sh (script, NULL), 0);
}

static void
test_script_create (void **state)
{
  Fixture *f = *state;
  g_autoptr (NetnsPaths) root = netns_paths_new_for ("/srv/npte", FALSE);
  g_autoptr (NetnsPaths) user = netns_paths_new_for ("/run/user/1000/npte", TRUE);
  g_autofree char *r = netns_script_create (root, "/usr/bin/npte", "web", FALSE);
  g_autofree char *u = netns_script_create (user, "/usr/bin/npte", "web", TRUE);

  (void) f;
  assert_true (g_str_has_prefix (r, "#!/bin/sh\n"));
  assert_non_null (strstr (r, "set -e\n"));
  assert_non_null (strstr (r, "NPTE_NETNS_RUN_DIR=\"/srv/npte\"; export NPTE_NETNS_RUN_DIR\n"));
  assert_non_null (strstr (r, "exec 9>>\"/srv/npte/netns.lock\"\nflock -w 60 9"));
  assert_non_null (strstr (r, "test ! -e \"/srv/npte/netns/web\" || {"));
  assert_non_null (strstr (r, "ip netns add web\nip -n web link set lo up\n"));
  assert_non_null (strstr (r, "attach --net=none --state-dir \"/srv/npte/netns/web.state\" "
                              "\"/run/netns/web\""));
  assert_true (g_str_has_suffix (r, "(set -C && : > \"/srv/npte/netns/web\")\n"));
  /* The marker is written last, after the kernel work. */
  assert_true (strstr (r, "ip netns add") < strstr (r, "set -C"));

  assert_non_null (strstr (u, "(umask 077 && mkdir -p \"/run/user/1000/npte/netns\")"));
  assert_non_null (strstr (u, "K=$(\"$NPTE\" __netns-keeper 9>&-)\n"));
  assert_non_null (strstr (u, "nsenter -t \"$K\" -U -m --preserve-credentials sh -c "));
  assert_non_null (strstr (u, "unshare --net=\"$1\" ip link set lo up"));
  assert_non_null (strstr (u, "--net=slirp"));
  assert_non_null (strstr (u, "--userns-path \"/proc/$K/ns/user\" "
                              "\"/proc/$K/root\"\"/run/user/1000/npte/netns-keeper/web\""));
  assert_non_null (strstr (u, "nameserver 10.0.2.3"));
  /* The long-lived processes must not inherit the lock. */
  assert_non_null (strstr (u, "9>&- &\n"));
  assert_null (strstr (u, "ip netns"));
}

static void
test_script_destroy_and_cfg (void **state)
{
  g_autoptr (NetnsPaths) root = netns_paths_new_for ("/srv/npte", FALSE);
  g_autoptr (NetnsPaths) user = netns_paths_new_for ("/run/user/1000/npte", TRUE);
  g_autofree char *rd = netns_script_destroy (root, "/usr/bin/npte", "web");
  g_autofree char *ud = netns_script_destroy (user, "/usr/bin/npte", "web");
  char *argv[] = { (char *) "link", (char *) "add", (char *) "web", (char *) "v0",
                   (char *) "type", (char *) "veth", (char *) "peer", (char *) "v1",
                   (char *) "netns", (char *) "db", NULL };
  NetnsCfgOp op;

  assert_non_null (strstr (rd, "test -f \"/srv/npte/netns/web\" || { echo \"npte: namespace web "
                               "is not managed by npte\" >&2; exit 2; }"));
  assert_non_null (strstr (rd, "ip netns del web"));
  assert_true (g_str_has_suffix (rd, "rm -f \"/srv/npte/netns/web\"\n"));
  assert_true (strstr (rd, "ip netns del") < strstr (rd, "rm -f \"/srv/npte/netns/web\""));
  assert_non_null (strstr (ud, "__netns-keeper --find"));
  assert_non_null (strstr (ud, "umount -l"));

  assert_true (netns_cfg_parse (10, argv, &op, NULL));
  g_autofree char *rc = netns_script_cfg (root, "/usr/bin/npte", &op);
  g_autofree char *uc = netns_script_cfg (user, "/usr/bin/npte", &op);
  /* Both namespaces are guarded. */
  assert_non_null (strstr (rc, "namespace web is not managed"));
  assert_non_null (strstr (rc, "namespace db is not managed"));
  assert_non_null (strstr (rc, "ip -n web link add v0 type veth peer name v1 netns db\n"));
  assert_non_null (strstr (uc, "\"$NPTE\" netns exec web ip link add v0 type veth peer name v1 "
                               "netns /run/user/1000/npte/netns-keeper/db\n"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_name_every_byte),
    cmocka_unit_test (test_name_lengths),
    cmocka_unit_test (test_name_cases),
    cmocka_unit_test_setup_teardown (test_paths, setup, teardown),
    cmocka_unit_test_setup_teardown (test_paths_env, setup, teardown),
    cmocka_unit_test_setup_teardown (test_marker_kinds, setup, teardown),
    cmocka_unit_test_setup_teardown (test_lock, setup, teardown),
    cmocka_unit_test_setup_teardown (test_lock_refuses_symlinks, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list, setup, teardown),
    cmocka_unit_test (test_quote),
    cmocka_unit_test_setup_teardown (test_guard_text, setup, teardown),
    cmocka_unit_test_setup_teardown (test_guard_runs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_guard_tricky_base, setup, teardown),
    cmocka_unit_test_setup_teardown (test_script_create, setup, teardown),
    cmocka_unit_test (test_script_destroy_and_cfg),
  };

  /* A GError set twice (or any GLib warning) is a bug: abort the test. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
