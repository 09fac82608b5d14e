/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (npte netns exec)
 *
 *  1. Open the namespace file from outside (netns_ops_open(): rootless via
 *     /proc/KEEPER/root/..., which needs no mount namespace change), and
 *     remember the working directory.
 *  2. Rootless: setns() into the keeper's user namespace (uid 0 there, with
 *     its capabilities) and its mount namespace (the keeper's tmpfs becomes
 *     visible, so "ip ... netns PATH" works on the other namespaces).
 *  3. unshare(CLONE_NEWNS) and make "/" rslave: our binds stay ours, later
 *     unbinds in the keeper (destroy) still reach us.
 *  4. setns() into the network namespace; mount its sysfs on /sys
 *     (optional); bind NAME.d/hosts and NAME.d/resolv.conf on /etc, as
 *     "ip netns exec" does with /etc/netns/NAME.
 *  5. chdir() back, fork, exec CMD; forward signals (src/sigfwd.c) and exit
 *     with CMD's status, 128+N for a signal.
 */
#include "netns-ops.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netns-keeper.h"
#include "npte-error.h"
#include "sigfwd.h"
#include "util.h"

/* Files of NAME.d bound on /etc/FILE. */
static const char *const etc_files[] = { "hosts", "resolv.conf", NULL };

typedef struct {
  pid_t pid;
  int status;
  ev_child child_w;
} ExecRun;

/**
 * join_keeper() - step 2: the keeper's user and mount namespaces
 * @p: paths
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
join_keeper (const NetnsPaths *p, GError **error)
{
  pid_t keeper = netns_keeper_find (p);
  g_autofree char *user = g_strdup_printf ("/proc/%d/ns/user", (int) keeper);
  g_autofree char *mnt = g_strdup_printf ("/proc/%d/ns/mnt", (int) keeper);
  npte_autofd int ufd = keeper > 0 ? open (user, O_RDONLY | O_CLOEXEC) : -1;
  npte_autofd int mfd = keeper > 0 ? open (mnt, O_RDONLY | O_CLOEXEC) : -1;

  if (ufd < 0 || mfd < 0)
    return npte_set_errno (error, keeper > 0 ? errno : ESRCH, "open the keeper's namespaces");
  if (setns (ufd, CLONE_NEWUSER) < 0)
    return npte_set_errno (error, errno, "join the keeper's user namespace");
  if (setns (mfd, CLONE_NEWNS) < 0)
    return npte_set_errno (error, errno, "join the keeper's mount namespace");
  return TRUE;
}

/**
 * bind_etc_files() - bind NAME.d/hosts and NAME.d/resolv.conf on /etc (best effort)
 * @p: paths
 * @name: namespace
 */
static void
bind_etc_files (const NetnsPaths *p, const char *name)
{
  g_autofree char *conf = netns_conf_dir (p, name);

  for (const char *const *f = etc_files; *f != NULL; f++)
    {
      g_autofree char *src = g_build_filename (conf, *f, NULL);
      g_autofree char *dst = g_build_filename ("/etc", *f, NULL);
      struct stat st;

      if (lstat (src, &st) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (mount (src, dst, NULL, MS_BIND, NULL) < 0)
        npte_warn ("bind %s on %s: %s", src, dst, g_strerror (errno));
    }
}

/**
 * enter_namespaces() - steps 1 to 4 and the chdir of step 5
 * @p: paths
 * @name: namespace
 * @error: error
 *
 * Return: TRUE when this process is inside.
 */
static gboolean
enter_namespaces (const NetnsPaths *p, const char *name, GError **error)
{
  g_autofree char *cwd = g_get_current_dir ();
  npte_autofd int netfd = netns_ops_open (p, name, error);

  if (netfd < 0)
    return FALSE;
  if (p->rootless && !join_keeper (p, error))
    return FALSE;
  if (unshare (CLONE_NEWNS) < 0)
    return npte_set_errno (error, errno, "create a mount namespace");
  if (mount ("none", "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return npte_set_errno (error, errno, "make / a slave mount");
  if (setns (netfd, CLONE_NEWNET) < 0)
    return npte_set_errno (error, errno, "join the network namespace of %s", name);
  if (mount ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    npte_debug ("mount sysfs on /sys: %s (keeping the old one)", g_strerror (errno));
  bind_etc_files (p, name);
  if (chdir (cwd) < 0 && chdir ("/") < 0)
    return npte_set_errno (error, errno, "chdir /");
  return TRUE;
}

static void
exec_signal_cb (int signo, int code, gpointer user_data)
{
  const ExecRun *run = user_data;

  if (run->pid > 0 && sigfwd_should_forward (signo, code))
    kill (run->pid, signo);
}

static void
exec_child_cb (struct ev_loop *loop, ev_child *w, int revents)
{
  ExecRun *run = w->data;

  ev_child_stop (loop, w);
  run->status = w->rstatus;
  run->pid = 0;
  ev_break (loop, EVBREAK_ALL);
}

/**
 * exec_cmd() - in the forked process: exec @argv or report errno on @errfd
 * @argv: command
 * @errfd: CLOEXEC pipe
 * @parent: the npte process
 */
G_NORETURN static void
exec_cmd (char **argv, int errfd, pid_t parent)
{
  int errsv;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
  sigfwd_reset_for_exec ();
  execvp (argv[0], argv);
  errsv = errno;
  if (write (errfd, &errsv, sizeof errsv) < 0)
    _exit (127);
  _exit (errsv == ENOENT ? 127 : 126);
}

/**
 * run_cmd() - step 5: fork, exec, forward signals, wait
 * @argv: command
 * @error: error when it cannot be forked
 *
 * Return: the exit code, or -1.
 */
static int
run_cmd (char **argv, GError **error)
{
  struct ev_loop *loop = ev_default_loop (EVFLAG_AUTO);
  ExecRun run = { 0 };
  g_autoptr (Sigfwd) sf = sigfwd_new (loop, exec_signal_cb, &run, error);
  int ep[2], exec_errno = 0;

  if (sf == NULL)
    return -1;
  if (pipe2 (ep, O_CLOEXEC) < 0)
    {
      npte_set_errno (error, errno, "pipe");
      return -1;
    }
  pid_t self = getpid ();
  run.pid = fork ();
  if (run.pid == 0)
    {
      close (ep[0]);
      exec_cmd (argv, ep[1], self);
    }
  int errsv = errno;
  close (ep[1]);
  if (run.pid < 0)
    {
      close (ep[0]);
      npte_set_errno (error, errsv, "fork");
      return -1;
    }
  ev_child_init (&run.child_w, exec_child_cb, run.pid, 0);
  run.child_w.data = &run;
  ev_child_start (loop, &run.child_w);
  while (read (ep[0], &exec_errno, sizeof exec_errno) < 0 && errno == EINTR)
    ;
  close (ep[0]);
  if (exec_errno != 0)
    npte_err ("cannot run %s: %s", argv[0], g_strerror (exec_errno));
  ev_run (loop, 0);
  if (WIFEXITED (run.status))
    return WEXITSTATUS (run.status);
  if (WIFSIGNALED (run.status))
    return 128 + WTERMSIG (run.status);
  return 1;
}

int
netns_ops_exec (const NetnsPaths *p, const char *name, char **argv, GError **error)
{
  if (!enter_namespaces (p, name, error))
    return -1;
  g_setenv ("NPTE_NETNS", name, TRUE);
  return run_cmd (argv, error);
}
