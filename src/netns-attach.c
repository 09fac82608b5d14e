/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "npte attach" for a namespace of the registry (docs/netns.md, Port
 * forwarding): started detached with --ready-fd, its stderr in
 * NAME.d/attach.log, its state dir NAME.state; stopped by SIGTERM (then
 * SIGKILL) to its child, waiting until the state-dir lock is released.
 */
#include "netns-attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns-ops.h"
#include "npte-error.h"
#include "statedir.h"
#include "util.h"

/* Longest "npte attach" may take to become ready. */
#define ATTACH_READY_MS 30000
/* How long its exit is waited for, per signal. */
#define ATTACH_STOP_MS 5000

/**
 * attach_argv() - "npte attach --net=... --state-dir ... --ready-fd FD [--userns-path U] PATH"
 * @p: paths
 * @keeper: rootless: the keeper
 * @name: name
 * @slirp: --net=slirp
 * @ready_fd: write end of the ready pipe
 *
 * Return: (transfer full) the argv.
 */
static GPtrArray *
attach_argv (const NetnsPaths *p, pid_t keeper, const char *name, gboolean slirp, int ready_fd)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("npte"));
  g_ptr_array_add (argv, g_strdup ("attach"));
  g_ptr_array_add (argv, g_strdup (slirp ? "--net=slirp" : "--net=none"));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, netns_state_dir (p, name));
  g_ptr_array_add (argv, g_strdup ("--ready-fd"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", ready_fd));
  if (p->rootless)
    {
      g_ptr_array_add (argv, g_strdup ("--userns-path"));
      g_ptr_array_add (argv, g_strdup_printf ("/proc/%d/ns/user", (int) keeper));
    }
  g_ptr_array_add (argv, netns_ops_host_path (p, keeper, name));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/**
 * spawn_attach() - fork and exec "npte attach", detached, stderr to @log_fd
 * @argv: from attach_argv()
 * @ready_fd: its --ready-fd (made inheritable in the child)
 * @log_fd: its stderr
 *
 * Return: the pid, or -1 (errno set).
 */
static pid_t
spawn_attach (GPtrArray *argv, int ready_fd, int log_fd)
{
  pid_t pid = fork ();

  if (pid != 0)
    return pid;
  setsid ();
  int null = open ("/dev/null", O_RDWR);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || dup2 (log_fd, 2) < 0)
    _exit (127);
  fcntl (ready_fd, F_SETFD, 0);
  execv ("/proc/self/exe", (char **) argv->pdata);
  _exit (127);
}

/**
 * wait_ready() - wait for "1" on the ready pipe
 * @fd: read end
 *
 * Return: TRUE when it came.
 */
static gboolean
wait_ready (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  char c = 0;
  int r;

  do
    r = poll (&pfd, 1, ATTACH_READY_MS);
  while (r < 0 && errno == EINTR);
  return r > 0 && read (fd, &c, 1) == 1 && c == '1';
}

/**
 * attach_failure() - the last line "npte attach" logged, for the error
 * @log: the log file
 *
 * Return: (transfer full) the line, or a generic text.
 */
static char *
attach_failure (const char *log)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (log, &text, NULL, NULL) || text[0] == '\0')
    return g_strdup ("it exited without a message");
  g_strchomp (text);
  const char *nl = strrchr (text, '\n');
  return g_strdup (nl != NULL ? nl + 1 : text);
}

/**
 * netns_attach_start() - step 3 of create: "npte attach" serving the namespace's port API
 * @p: paths
 * @keeper: rootless: the keeper
 * @name: name
 * @slirp: --net=slirp
 * @error: error with the attach's own message
 *
 * Return: TRUE when it is ready.
 */
gboolean
netns_attach_start (const NetnsPaths *p, pid_t keeper, const char *name, gboolean slirp,
              GError **error)
{
  g_autofree char *conf = netns_conf_dir (p, name);
  g_autofree char *log = g_build_filename (conf, "attach.log", NULL);
  g_autofree char *resolv = g_build_filename (conf, "resolv.conf", NULL);
  int rp[2];

  if (mkdir (conf, 0755) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create %s", conf);
  if (slirp && !g_file_set_contents (resolv, "nameserver 10.0.2.3\n", -1, NULL))
    return npte_set_error (error, EIO, "cannot write %s", resolv);
  npte_autofd int log_fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                                 0644);
  if (log_fd < 0)
    return npte_set_errno (error, errno, "open %s", log);
  if (pipe2 (rp, O_CLOEXEC) < 0)
    return npte_set_errno (error, errno, "pipe");
  npte_autofd int ready_r = rp[0];
  g_autoptr (GPtrArray) argv = attach_argv (p, keeper, name, slirp, rp[1]);
  pid_t pid = spawn_attach (argv, rp[1], log_fd);
  int errsv = errno;
  close (rp[1]);
  if (pid < 0)
    return npte_set_errno (error, errsv, "start npte attach");
  if (wait_ready (ready_r))
    return TRUE;
  kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  g_autofree char *why = attach_failure (log);
  return npte_set_error (error, EIO, "the port API of namespace %s did not start: %s", name, why);
}

/**
 * netns_attach_stop() - SIGTERM (then SIGKILL) to the attach's child; wait for its lock to go
 * @p: paths
 * @name: name
 */
void
netns_attach_stop (const NetnsPaths *p, const char *name)
{
  g_autofree char *state = netns_state_dir (p, name);
  g_autofree char *pidfile = g_build_filename (state, STATEDIR_CHILD_PID, NULL);
  g_autofree char *text = NULL;
  guint64 pid = 0;
  const int sigs[] = { SIGTERM, SIGKILL };

  if (!statedir_is_running (state))
    return;
  if (g_file_get_contents (pidfile, &text, NULL, NULL))
    g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXINT, &pid, NULL);
  for (gsize s = 0; s < G_N_ELEMENTS (sigs) && pid > 0; s++)
    {
      kill ((pid_t) pid, sigs[s]);
      for (int waited = 0; waited < ATTACH_STOP_MS; waited += 10)
        {
          if (!statedir_is_running (state))
            return;
          g_usleep (10000);
        }
    }
}

