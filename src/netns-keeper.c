/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (the rootless keeper)
 *
 * An unprivileged user cannot bind-mount a network namespace on the host,
 * so npte keeps one process per user that owns a user namespace and a
 * private mount namespace, as rootless Podman's pause process does. Start,
 * under the global registry lock:
 *
 *  1. The starting npte creates BASE/netns-keeper (0700), a socketpair, and
 *     forks; the new process calls setsid(), points 0-2 at /dev/null, keeps
 *     its end of the socketpair on fd 3 and execs "npte __netns-keeper
 *     --serve BASE". No PDEATHSIG: it outlives the npte that started it.
 *  2. Keeper: unshare(CLONE_NEWUSER); sends 'U'.
 *  3. Starter: idmap_setup() on the keeper's pid, as npte run does for its
 *     child; sends 'M'.
 *  4. Keeper: unshare(CLONE_NEWNS); "/" becomes rslave (host mounts still
 *     propagate in, nothing propagates out); a tmpfs (mode 0700) on
 *     BASE/netns-keeper, made shared so the mount namespaces of "npte netns
 *     exec" see later binds and unbinds; flock(LOCK_EX) on
 *     BASE/netns-keeper.pid and its pid written there; sends 'R'.
 *  5. Keeper: pause() forever. A failure sends 'E' and a message instead.
 *
 * Network namespaces are bind mounts of /proc/self/ns/net on files of the
 * tmpfs. They live as long as the keeper's mount namespace: if the keeper
 * is killed they go (unless a process still runs inside), and the markers
 * left behind are reported as stale by "npte netns list".
 */
#include "netns-keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"
#include "npte-error.h"
#include "util.h"

/* The keeper's end of the start-up socket. */
#define KEEPER_SOCK_FD 3
/* Longest the keeper may take for one start-up step. */
#define KEEPER_TIMEOUT_MS 30000
/* How long netns_keeper_stop_if_idle() waits for the keeper to go, per signal. */
#define KEEPER_STOP_MS 5000

pid_t
netns_keeper_find (const NetnsPaths *p)
{
  npte_autofd int fd = open (p->keeper_pid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char buf[32];
  guint64 pid;

  if (fd < 0)
    return 0;
  if (flock (fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
    return 0; /* nobody holds it: no keeper */
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  if (!g_ascii_string_to_unsigned (g_strstrip (buf), 10, 1, G_MAXINT, &pid, NULL))
    return 0;
  return (pid_t) pid;
}

/**
 * expect_tag() - wait for one start-up message from the keeper
 * @sock: our end
 * @tag: 'U' or 'R'
 * @error: the keeper's own 'E' message, EPIPE if it died, ETIMEDOUT
 *
 * Return: TRUE when @tag arrived.
 */
static gboolean
expect_tag (int sock, char tag, GError **error)
{
  struct pollfd pfd = { .fd = sock, .events = POLLIN };
  char buf[1024];
  ssize_t n;
  int r;

  do
    r = poll (&pfd, 1, KEEPER_TIMEOUT_MS);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return npte_set_error (error, ETIMEDOUT, "the namespace keeper did not answer within %d s",
                           KEEPER_TIMEOUT_MS / 1000);
  do
    n = read (sock, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return npte_set_error (error, EPIPE, "the namespace keeper exited during start-up");
  buf[n] = '\0';
  if (buf[0] == 'E')
    return npte_set_error (error, EPERM, "namespace keeper: %s", buf + 1);
  if (buf[0] != tag)
    return npte_set_error (error, EPROTO, "namespace keeper: unexpected start-up message");
  return TRUE;
}

/**
 * spawn_keeper() - fork and exec "npte __netns-keeper --serve BASE", detached
 * @p: paths
 * @keeper_sock: the keeper's end of the socketpair
 *
 * Return: its pid, or -1 (errno set).
 */
static pid_t
spawn_keeper (const NetnsPaths *p, int keeper_sock)
{
  char *const argv[] = { (char *) "npte", (char *) "__netns-keeper", (char *) "--serve",
                         p->base, NULL };
  pid_t pid = fork ();

  if (pid != 0)
    return pid;
  setsid ();
  int null = open ("/dev/null", O_RDWR);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || dup2 (null, 2) < 0)
    _exit (127);
  if (keeper_sock == KEEPER_SOCK_FD)
    fcntl (keeper_sock, F_SETFD, 0);
  else if (dup2 (keeper_sock, KEEPER_SOCK_FD) < 0)
    _exit (127);
  execv ("/proc/self/exe", argv);
  _exit (127);
}

/**
 * ensure_mnt_dir() - create BASE/netns-keeper (0700) and check it is a real directory
 * @p: paths
 * @error: error naming it
 *
 * Return: TRUE on success.
 */
static gboolean
ensure_mnt_dir (const NetnsPaths *p, GError **error)
{
  struct stat st;

  if (mkdir (p->keeper_mnt, 0700) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create %s", p->keeper_mnt);
  if (lstat (p->keeper_mnt, &st) < 0)
    return npte_set_errno (error, errno, "%s", p->keeper_mnt);
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
    return npte_set_error (error, ENOTDIR, "%s is not a directory of yours; refusing to use it",
                           p->keeper_mnt);
  return TRUE;
}

pid_t
netns_keeper_ensure (const NetnsPaths *p, GError **error)
{
  pid_t pid = netns_keeper_find (p);
  int sv[2];

  if (pid > 0)
    return pid;
  if (!ensure_mnt_dir (p, error))
    return 0;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    {
      npte_set_errno (error, errno, "socketpair");
      return 0;
    }
  npte_autofd int sock = sv[0];
  pid = spawn_keeper (p, sv[1]);
  int errsv = errno;
  close (sv[1]);
  if (pid < 0)
    {
      npte_set_errno (error, errsv, "start the namespace keeper");
      return 0;
    }
  if (expect_tag (sock, 'U', error) && idmap_setup (pid, error)
      && npte_write_all (sock, "M", 1, error) && expect_tag (sock, 'R', error))
    return pid;
  g_prefix_error (error, "cannot start the namespace keeper: ");
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

/**
 * keeper_idle() - whether the keeper's tmpfs holds no namespace file
 * @p: paths
 * @pid: the keeper
 *
 * Return: TRUE when it is empty (or cannot be read: the keeper is going).
 */
static gboolean
keeper_idle (const NetnsPaths *p, pid_t pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/root%s", (int) pid, p->keeper_mnt);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);

  return d == NULL || g_dir_read_name (d) == NULL;
}

/**
 * wait_keeper_gone() - wait until the keeper's pidfile lock is released
 * @p: paths
 * @timeout_ms: limit
 *
 * Return: TRUE when it is gone.
 */
static gboolean
wait_keeper_gone (const NetnsPaths *p, int timeout_ms)
{
  for (int waited = 0; waited < timeout_ms; waited += 10)
    {
      if (netns_keeper_find (p) == 0)
        return TRUE;
      g_usleep (10000);
    }
  return netns_keeper_find (p) == 0;
}

gboolean
netns_keeper_stop_if_idle (const NetnsPaths *p, GError **error)
{
  pid_t pid = netns_keeper_find (p);

  if (pid == 0 || !keeper_idle (p, pid))
    return TRUE;
  kill (pid, SIGTERM);
  if (wait_keeper_gone (p, KEEPER_STOP_MS))
    return TRUE;
  kill (pid, SIGKILL);
  if (wait_keeper_gone (p, KEEPER_STOP_MS))
    return TRUE;
  return npte_set_error (error, ETIMEDOUT, "the namespace keeper (pid %d) does not exit",
                         (int) pid);
}

/**
 * keeper_fail() - in the keeper: report @what and errno to the starter, exit 1
 * @sock: start-up socket
 * @what: the step that failed
 */
G_NORETURN static void
keeper_fail (int sock, const char *what)
{
  g_autofree char *msg = g_strdup_printf ("E%s: %s", what, g_strerror (errno));

  if (write (sock, msg, strlen (msg)) < 0)
    _exit (1);
  _exit (1);
}

/**
 * keeper_lock_pidfile() - take BASE/netns-keeper.pid for good and write our pid
 * @p: paths
 *
 * Return: the fd (kept open for the keeper's life), or -1 (errno set).
 */
static int
keeper_lock_pidfile (const NetnsPaths *p)
{
  g_autofree char *text = g_strdup_printf ("%d\n", (int) getpid ());
  int fd = open (p->keeper_pid, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return -1;
  /* netns_keeper_find() holds LOCK_SH for an instant: wait that out. */
  for (int tries = 0; flock (fd, LOCK_EX | LOCK_NB) < 0; tries++)
    {
      if (errno != EWOULDBLOCK || tries > 200)
        return -1;
      g_usleep (5000);
    }
  if (ftruncate (fd, 0) < 0 || pwrite (fd, text, strlen (text), 0) != (ssize_t) strlen (text))
    return -1;
  return fd;
}

/**
 * keeper_serve() - steps 2, 4 and 5 of the theory of operation
 * @base: BASE
 *
 * Return: never on success; 1 on failure (reported on the socket).
 */
static int
keeper_serve (const char *base)
{
  g_autoptr (NetnsPaths) p = netns_paths_new_for (base, TRUE);
  const int sock = KEEPER_SOCK_FD;
  char c;

  fcntl (sock, F_SETFD, FD_CLOEXEC);
  close_range (KEEPER_SOCK_FD + 1, ~0U, 0); /* hold nothing of the starter's */
  signal (SIGHUP, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);
  if (chdir ("/") < 0)
    keeper_fail (sock, "chdir /");
  if (unshare (CLONE_NEWUSER) < 0)
    keeper_fail (sock, "create a user namespace (are unprivileged user namespaces disabled? "
                       "see the sysctls kernel.unprivileged_userns_clone and "
                       "user.max_user_namespaces)");
  if (write (sock, "U", 1) != 1 || read (sock, &c, 1) != 1 || c != 'M')
    _exit (1);
  if (unshare (CLONE_NEWNS) < 0)
    keeper_fail (sock, "create a mount namespace");
  if (mount ("none", "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    keeper_fail (sock, "make / a slave mount");
  if (mount ("tmpfs", p->keeper_mnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
    keeper_fail (sock, "mount a tmpfs on the keeper directory");
  if (mount ("none", p->keeper_mnt, NULL, MS_SHARED, NULL) < 0)
    keeper_fail (sock, "make the keeper tmpfs shared");
  int pidfd = keeper_lock_pidfile (p);
  if (pidfd < 0)
    keeper_fail (sock, "lock the keeper pid file");
  if (write (sock, "R", 1) != 1)
    _exit (1);
  close (sock);
  for (;;)
    pause ();
}

int
netns_keeper_main (int argc, char **argv)
{
  g_autoptr (NetnsPaths) p = NULL;
  g_autoptr (GError) error = NULL;
  pid_t pid;

  if (argc == 3 && strcmp (argv[1], "--serve") == 0 && g_path_is_absolute (argv[2]))
    return keeper_serve (argv[2]);
  p = netns_paths_new ();
  if (!p->rootless)
    {
      fprintf (stderr, "npte: error: root needs no namespace keeper\n");
      return 1;
    }
  if (argc == 2 && strcmp (argv[1], "--find") == 0)
    pid = netns_keeper_find (p);
  else if (argc == 1)
    pid = netns_keeper_ensure (p, &error);
  else
    {
      fprintf (stderr, "Usage: npte __netns-keeper [--find]\n");
      return 2;
    }
  if (pid == 0)
    {
      fprintf (stderr, "npte: error: %s\n",
               error != NULL ? error->message : "the namespace keeper is not running");
      return 1;
    }
  printf ("%d\n", (int) pid);
  return 0;
}
