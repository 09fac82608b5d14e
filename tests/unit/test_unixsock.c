/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of npte_listen_unix() and npte_unlink_unix() (src/unixsock.c), the listening sockets
 * of the REST and slirp4netns APIs: the socket works and is mode 0600; a stale socket is
 * replaced; a path that is too long, a regular file, a directory or a symlink in the way is
 * refused with the file left as it was; the socket is unlinked at the end only if it is still
 * the one bound.
 */
#include "npte-error.h"
#include "unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

int main (void);

static int
setup (void **state)
{
  char *dir = g_dir_make_tmp ("npte-unixsock-XXXXXX", NULL);

  if (dir == NULL)
    return -1;
  *state = dir;
  return 0;
}

static int
teardown (void **state)
{
  g_autofree char *dir = *state;
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  return system (cmd) == 0 ? 0 : -1;
}

/* Connect to @path and return whether it succeeded. */
static gboolean
can_connect (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean ok;

  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  ok = connect (fd, (struct sockaddr *) &sun, sizeof sun) == 0;
  close (fd);
  return ok;
}

static void
test_listen_mode_and_identity (void **state)
{
  g_autofree char *path = g_build_filename (*state, "api.sock", NULL);
  g_autoptr (GError) error = NULL;
  struct stat bound, now;

  int fd = npte_listen_unix (path, "API socket", 16, &bound, &error);
  assert_null (error);
  assert_true (fd >= 0);
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  assert_true (fcntl (fd, F_GETFL) & O_NONBLOCK);
  assert_int_equal (lstat (path, &now), 0);
  assert_true (S_ISSOCK (now.st_mode));
  assert_int_equal (now.st_mode & 07777, 0600);
  assert_int_equal (now.st_ino, bound.st_ino);
  assert_true (can_connect (path));
  close (fd);
  npte_unlink_unix (path, &bound);
  assert_int_equal (lstat (path, &now), -1);
  assert_int_equal (errno, ENOENT);
}

static void
test_stale_socket_replaced (void **state)
{
  g_autofree char *path = g_build_filename (*state, "api.sock", NULL);
  g_autoptr (GError) error = NULL;
  struct stat first, second;

  int fd1 = npte_listen_unix (path, "API socket", 16, &first, &error);
  assert_true (fd1 >= 0);
  close (fd1); /* the instance died: its socket file stays behind */
  int fd2 = npte_listen_unix (path, "API socket", 16, &second, &error);
  assert_null (error);
  assert_true (fd2 >= 0);
  assert_true (can_connect (path));
  /* The first instance's clean-up must not remove the second one's socket. */
  npte_unlink_unix (path, &first);
  assert_true (can_connect (path));
  npte_unlink_unix (path, &second);
  assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  close (fd2);
}

static void
test_path_too_long (void **state)
{
  g_autofree char *name = g_strnfill (sizeof ((struct sockaddr_un *) NULL)->sun_path, 'a');
  g_autofree char *path = g_build_filename (*state, name, NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;

  assert_int_equal (npte_listen_unix (path, "API socket", 16, &st, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, ENAMETOOLONG));
  assert_non_null (strstr (error->message, "API socket"));
  assert_non_null (strstr (error->message, "longer than 107 bytes"));
}

/* Something other than a socket at the path: refused, and left exactly as it was. */
static void
check_refused (const char *path)
{
  g_autoptr (GError) error = NULL;
  struct stat before, after, st;

  assert_int_equal (lstat (path, &before), 0);
  assert_int_equal (npte_listen_unix (path, "slirp4netns API socket", 16, &st, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, EEXIST));
  assert_non_null (strstr (error->message, "exists and is not a socket"));
  assert_non_null (strstr (error->message, "slirp4netns API socket"));
  assert_int_equal (lstat (path, &after), 0);
  assert_int_equal (before.st_ino, after.st_ino);
  assert_int_equal (before.st_mode, after.st_mode);
}

static void
test_not_a_socket_refused (void **state)
{
  g_autofree char *file = g_build_filename (*state, "file", NULL);
  g_autofree char *dir = g_build_filename (*state, "dir", NULL);
  g_autofree char *link = g_build_filename (*state, "link", NULL);
  g_autofree char *target = g_build_filename (*state, "target.sock", NULL);
  g_autofree char *contents = NULL;
  struct stat st;
  g_autoptr (GError) error = NULL;

  assert_true (g_file_set_contents (file, "keep me", -1, NULL));
  check_refused (file);
  assert_true (g_file_get_contents (file, &contents, NULL, NULL));
  assert_string_equal (contents, "keep me");

  assert_int_equal (mkdir (dir, 0700), 0);
  check_refused (dir);

  /* A symlink, even to a socket, is not replaced (nor followed). */
  int fd = npte_listen_unix (target, "API socket", 16, &st, &error);
  assert_true (fd >= 0);
  assert_int_equal (symlink (target, link), 0);
  check_refused (link);
  assert_true (can_connect (target));
  close (fd);
}

static void
test_missing_directory (void **state)
{
  g_autofree char *path = g_build_filename (*state, "no", "such", "api.sock", NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;

  assert_int_equal (npte_listen_unix (path, "API socket", 16, &st, &error), -1);
  assert_true (g_error_matches (error, NPTE_ERROR, ENOENT));
  assert_non_null (strstr (error->message, "bind"));
  npte_unlink_unix (NULL, &st); /* no path: nothing to do */
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_listen_mode_and_identity, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stale_socket_replaced, setup, teardown),
    cmocka_unit_test_setup_teardown (test_path_too_long, setup, teardown),
    cmocka_unit_test_setup_teardown (test_not_a_socket_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_directory, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
