/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (child side)
 *
 * The parent forks and re-execs this binary as "npte __npte-child" with the
 * socketpair on fd 3 and PR_SET_PDEATHSIG already set. Then, in order:
 *
 *  1. P->C HELLO, C->P HELLO: versions match.
 *  2. unshare(CLONE_NEWUSER); PDEATHSIG again (the credential change
 *     cleared it); C->P USERNS_READY.
 *  3. The parent writes uid_map/gid_map; P->C IDMAP_DONE. We are now uid 0
 *     with every capability inside our user namespace.
 *  4. unshare(CLONE_NEWNET | CLONE_NEWNS); make / rprivate; mount a sysfs
 *     of the new netns; bring lo up over netlink; C->P NS_READY.
 *  5. Serve: SOCKETS_REQ -> create unconnected sockets in this namespace
 *     and pass them (SOCKETS); START_CMD -> fork and exec the payload
 *     (CMD_STARTED); when it exits, CMD_EXITED and exit with its status.
 *
 * Any set-up failure is sent as one ERROR frame (id 0) and the child exits
 * 1: the parent prints it, once. EOF from the parent means it died: the
 * payload is killed and the child exits.
 */
#include "child.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "netcfg.h"
#include "netlink.h"
#include "npte-error.h"
#include "sigfwd.h"
#include "srcroute.h"
#include "tap.h"
#include "util.h"
#include "wire.h"

typedef struct {
  struct ev_loop *loop;
  int sock;
  pid_t parent_pid;
  char **cmd_argv;
  pid_t cmd_pid;
  int exit_code;
  ev_io sock_w;
  ev_child cmd_w;
  Sigfwd *sigfwd;
  gboolean slirp;       /* --tap given: create and pass a TAP device */
  NetCfg net;
  const char *resolv;   /* resolv.conf to bind-mount, or NULL */
  int attach_pid;       /* npte attach: join this process' namespaces */
  const char *attach_netns;
  const char *userns;
  gboolean srcroute;    /* --srcroute: set up source-address routing */
} Child;

/**
 * child_fail() - report a set-up failure to the parent and exit 1
 * @c: child state
 * @error: the failure (consumed)
 */
G_NORETURN static void
child_fail (const Child *c, GError *error)
{
  if (!proto_send_error (c->sock, 0, error))
    npte_err ("%s", error->message); /* the parent is gone: say it here */
  g_error_free (error);
  exit (1);
}

/**
 * child_send() - send @msg, waiting briefly if the socket is full
 * @c: child state
 * @msg: message
 * @fds: fds to pass or NULL
 * @n_fds: their count
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
child_send (const Child *c, const ProtoMsg *msg, const int *fds, unsigned n_fds, GError **error)
{
  for (int tries = 0;; tries++)
    {
      g_autoptr (GError) local = NULL;
      if (proto_send (c->sock, msg, fds, n_fds, &local))
        return TRUE;
      if (!g_error_matches (local, NPTE_ERROR, EAGAIN) || tries > 100)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_usleep (10000);
    }
}

/**
 * expect() - block until the parent sends a frame of @type
 * @c: child state
 * @type: the expected type
 * @error: error on EOF, an ERROR frame, or another type
 *
 * Return: TRUE when it arrived.
 */
static gboolean
expect (const Child *c, ProtoMsgType type, GError **error)
{
  ProtoMsg msg;

  switch (proto_recv (c->sock, &msg, error))
    {
    case PROTO_RECV_OK:
      break;
    case PROTO_RECV_EOF:
      return npte_set_error (error, EPIPE, "parent closed the connection");
    case PROTO_RECV_ERROR:
    default:
      return FALSE;
    }
  proto_msg_close_fds (&msg);
  if (msg.type == PROTO_MSG_ERROR)
    return npte_set_error (error, msg.u.error.err, "%s", msg.u.error.message);
  if (msg.type != type)
    return npte_set_error (error, EPROTO, "expected %s from the parent, got %s",
                           proto_msg_type_name (type), proto_msg_type_name (msg.type));
  return TRUE;
}

/**
 * send_simple() - send an empty-payload frame or die
 * @c: child state
 * @type: frame type
 */
static void
send_simple (const Child *c, ProtoMsgType type)
{
  ProtoMsg msg;
  GError *error = NULL;

  proto_msg_init (&msg, type, 0);
  if (!child_send (c, &msg, NULL, 0, &error))
    child_fail (c, error);
}

/**
 * read_sysctl() - first line of a /proc/sys file, or NULL
 * @path: file
 *
 * Return: (transfer full) stripped contents or NULL.
 */
static char *
read_sysctl (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/**
 * userns_error() - an actionable error for a failed unshare(CLONE_NEWUSER)
 * @errsv: errno of the failure
 *
 * Return: (transfer full) the error, naming the sysctl that disables user namespaces.
 */
static GError *
userns_error (int errsv)
{
  g_autofree char *clone = read_sysctl ("/proc/sys/kernel/unprivileged_userns_clone");
  g_autofree char *maxns = read_sysctl ("/proc/sys/user/max_user_namespaces");
  g_autofree char *aa = read_sysctl ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  GError *error = NULL;

  if (g_strcmp0 (clone, "0") == 0)
    npte_set_errno (&error, errsv, "cannot create a user namespace: unprivileged user namespaces "
                    "are disabled (sysctl kernel.unprivileged_userns_clone=0; set it to 1)");
  else if (g_strcmp0 (maxns, "0") == 0)
    npte_set_errno (&error, errsv, "cannot create a user namespace: user.max_user_namespaces is 0 "
                    "(set the sysctl user.max_user_namespaces to e.g. 28633)");
  else if (g_strcmp0 (aa, "1") == 0)
    npte_set_errno (&error, errsv, "cannot create a user namespace: AppArmor restricts "
                    "unprivileged user namespaces (sysctl "
                    "kernel.apparmor_restrict_unprivileged_userns=1); add an AppArmor profile "
                    "for npte or set it to 0");
  else
    npte_set_errno (&error, errsv, "cannot create a user namespace (unshare CLONE_NEWUSER)");
  return error;
}

/**
 * set_pdeathsig() - die with the parent; exit now if it is already gone
 * @c: child state
 */
static void
set_pdeathsig (const Child *c)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != c->parent_pid)
    _exit (1);
}

/**
 * setup_tap() - create the TAP device, pass it to the parent, point DNS at slirp
 * @c: child state
 */
static void
setup_tap (Child *c)
{
  GError *error = NULL;
  ProtoMsg msg;
  npte_autofd int fd = tap_setup (&c->net, &error);

  if (fd < 0)
    child_fail (c, error);
  proto_msg_init (&msg, PROTO_MSG_TAP, 0);
  msg.u.tap.mtu = c->net.mtu;
  if (!child_send (c, &msg, &fd, 1, &error))
    child_fail (c, error);
  if (c->resolv != NULL && !tap_bind_resolv_conf (c->resolv, &error))
    {
      npte_warn ("%s; DNS inside the namespace uses the host's resolv.conf", error->message);
      g_clear_error (&error);
    }
}

/**
 * send_ns_ready() - NS_READY, after setting up source routing if asked to
 * @c: child state
 *
 * A failure of the source routing is not fatal: NS_READY then says the
 * parent must not bind client addresses, and servers see loopback.
 */
static void
send_ns_ready (Child *c)
{
  ProtoMsg msg;
  GError *error = NULL;

  proto_msg_init (&msg, PROTO_MSG_NS_READY, 0);
  if (c->srcroute)
    {
      if (srcroute_setup (&error))
        msg.u.ns_ready.flags |= PROTO_NS_SRCROUTE;
      else
        {
          npte_warn ("%s; servers in the namespace will see connections from loopback",
                     error->message);
          g_clear_error (&error);
        }
    }
  if (!child_send (c, &msg, NULL, 0, &error))
    child_fail (c, error);
}

/**
 * join_ns() - setns() into the namespace at @path unless we are in it already
 * @path: /proc/PID/ns/... or a bind mount
 * @nstype: CLONE_NEWUSER or CLONE_NEWNET
 * @error: error naming the path
 *
 * Return: TRUE on success.
 */
static gboolean
join_ns (const char *path, int nstype, GError **error)
{
  const char *self = nstype == CLONE_NEWUSER ? "/proc/self/ns/user" : "/proc/self/ns/net";
  struct stat a, b;
  npte_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return npte_set_errno (error, errno, "open namespace %s", path);
  if (fstat (fd, &a) == 0 && stat (self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
    return TRUE; /* already there; setns into one's own user ns fails */
  if (setns (fd, nstype) < 0)
    return npte_set_errno (error, errno, "join namespace %s", path);
  return TRUE;
}

/**
 * attach_namespaces() - npte attach: join the target's user and net namespaces
 * @c: child state
 */
static void
attach_namespaces (Child *c)
{
  GError *error = NULL;
  g_autofree char *userns = NULL;
  g_autofree char *netns = NULL;

  if (c->attach_pid > 0)
    {
      userns = g_strdup_printf ("/proc/%d/ns/user", c->attach_pid);
      netns = g_strdup_printf ("/proc/%d/ns/net", c->attach_pid);
    }
  else
    netns = g_strdup (c->attach_netns);
  if (c->userns != NULL)
    {
      g_free (userns);
      userns = g_strdup (c->userns);
    }
  if ((userns != NULL && !join_ns (userns, CLONE_NEWUSER, &error))
      || !join_ns (netns, CLONE_NEWNET, &error))
    child_fail (c, error);
  set_pdeathsig (c);
  /* slirp4netns without -c leaves the namespace's links alone. */
  if (!(c->slirp && c->net.no_configure) && !netcfg_link_up ("lo", &error))
    child_fail (c, error);
  if (c->slirp)
    setup_tap (c);
  send_ns_ready (c);
}

/**
 * setup_namespaces() - steps 2 to 4 of the theory of operation
 * @c: child state
 */
static void
setup_namespaces (Child *c)
{
  GError *error = NULL;

  if (unshare (CLONE_NEWUSER) < 0)
    child_fail (c, userns_error (errno));
  set_pdeathsig (c);
  send_simple (c, PROTO_MSG_USERNS_READY);
  if (!expect (c, PROTO_MSG_IDMAP_DONE, &error))
    child_fail (c, error);

  if (unshare (CLONE_NEWNET | CLONE_NEWNS) < 0)
    {
      npte_set_errno (&error, errno, "cannot create network and mount namespaces");
      child_fail (c, error);
    }
  if (mount ("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      npte_set_errno (&error, errno, "make / private in the new mount namespace");
      child_fail (c, error);
    }
  /* A sysfs of our own netns, so /sys/class/net shows our links; optional. */
  if (mount ("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    npte_debug ("mount sysfs on /sys: %s (keeping the host's)", g_strerror (errno));
  if (!netcfg_link_up ("lo", &error))
    child_fail (c, error);
  if (c->slirp)
    setup_tap (c);
  send_ns_ready (c);
}

/**
 * handle_sockets_req() - create @count unconnected sockets here and pass them
 * @c: child state
 * @req: the SOCKETS_REQ frame
 */
static void
handle_sockets_req (Child *c, const ProtoMsg *req)
{
  const int one = 1, udp_rcvbuf = PROTO_UDP_RCVBUF;
  int fds[PROTO_MAX_FDS];
  unsigned int n = 0;
  int errsv = 0;
  g_autoptr (GError) error = NULL;

  for (; n < req->u.sockets.count; n++)
    {
      fds[n] = socket ((int) req->u.sockets.family,
                       (int) req->u.sockets.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fds[n] < 0)
        {
          errsv = errno;
          break;
        }
      /* What every relayed flow wants, set here, off the parent's hot path. */
      if (req->u.sockets.socktype == SOCK_STREAM)
        setsockopt (fds[n], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      else
        setsockopt (fds[n], SOL_SOCKET, SO_RCVBUF, &udp_rcvbuf, sizeof udp_rcvbuf);
    }
  if (n == 0)
    {
      npte_set_errno (&error, errsv, "create sockets in the namespace");
      proto_send_error (c->sock, req->id, error);
      return;
    }
  ProtoMsg msg;
  proto_msg_init (&msg, PROTO_MSG_SOCKETS, req->id);
  msg.u.sockets = req->u.sockets;
  msg.u.sockets.count = n;
  if (!child_send (c, &msg, fds, n, &error))
    {
      /* e.g. ETOOMANYREFS (too many fds in flight): answer anyway, without fds. */
      npte_debug ("pass sockets to the parent: %s", error->message);
      proto_send_error (c->sock, req->id, error);
    }
  for (unsigned int i = 0; i < n; i++)
    close (fds[i]);
}

/**
 * exec_payload() - in the forked payload process: exec CMD or report why not
 * @c: child state
 * @errfd: CLOEXEC pipe to report the exec errno on
 */
G_NORETURN static void
exec_payload (const Child *c, int errfd)
{
  pid_t child_pid = getppid ();
  int errsv;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != child_pid)
    _exit (1);
  sigfwd_reset_for_exec ();
  execvp (c->cmd_argv[0], c->cmd_argv);
  errsv = errno;
  if (write (errfd, &errsv, sizeof errsv) < 0)
    _exit (127);
  _exit (errsv == ENOENT ? 127 : 126);
}

static void
cmd_exited_cb (struct ev_loop *loop, ev_child *w, int revents)
{
  Child *c = w->data;
  ProtoMsg msg;
  g_autoptr (GError) error = NULL;

  ev_child_stop (loop, w);
  proto_msg_init (&msg, PROTO_MSG_CMD_EXITED, 0);
  msg.u.cmd_exited.status = w->rstatus;
  if (!child_send (c, &msg, NULL, 0, &error))
    npte_debug ("report payload exit: %s", error->message);
  if (WIFEXITED (w->rstatus))
    c->exit_code = WEXITSTATUS (w->rstatus);
  else if (WIFSIGNALED (w->rstatus))
    c->exit_code = 128 + WTERMSIG (w->rstatus);
  else
    c->exit_code = 1;
  c->cmd_pid = 0;
  ev_break (loop, EVBREAK_ALL);
}

/**
 * start_payload() - fork and exec CMD; answer CMD_STARTED or ERROR
 * @c: child state
 * @req: the START_CMD frame
 */
static void
start_payload (Child *c, const ProtoMsg *req)
{
  int errpipe[2];
  g_autoptr (GError) error = NULL;

  if (c->cmd_pid > 0 || pipe2 (errpipe, O_CLOEXEC) < 0)
    {
      npte_set_errno (&error, c->cmd_pid > 0 ? EALREADY : errno, "start the command");
      proto_send_error (c->sock, req->id, error);
      return;
    }
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (errpipe[0]);
      exec_payload (c, errpipe[1]);
    }
  int errsv = errno;
  close (errpipe[1]);
  if (pid < 0)
    {
      close (errpipe[0]);
      npte_set_errno (&error, errsv, "fork the command");
      proto_send_error (c->sock, req->id, error);
      return;
    }
  c->cmd_pid = pid;
  ev_child_init (&c->cmd_w, cmd_exited_cb, pid, 0);
  c->cmd_w.data = c;
  ev_child_start (c->loop, &c->cmd_w);

  int exec_errno = 0;
  ssize_t n;
  do
    n = read (errpipe[0], &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  close (errpipe[0]);
  if (n == (ssize_t) sizeof exec_errno)
    {
      npte_set_errno (&error, exec_errno, "cannot run %s", c->cmd_argv[0]);
      proto_send_error (c->sock, req->id, error);
      return;
    }
  ProtoMsg msg;
  proto_msg_init (&msg, PROTO_MSG_CMD_STARTED, req->id);
  msg.u.cmd_started.pid = (uint32_t) pid;
  if (!child_send (c, &msg, NULL, 0, &error))
    npte_warn ("report payload start: %s", error->message);
}

/**
 * parent_gone() - the parent died: kill the payload and leave
 * @c: child state
 */
G_NORETURN static void
parent_gone (const Child *c)
{
  if (c->cmd_pid > 0)
    kill (c->cmd_pid, SIGKILL);
  _exit (1);
}

static void
sock_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  Child *c = w->data;

  for (int i = 0; i < 64; i++)
    {
      ProtoMsg msg;
      g_autoptr (GError) error = NULL;
      ProtoRecvResult r = proto_recv (c->sock, &msg, &error);

      if (r == PROTO_RECV_EOF)
        parent_gone (c);
      if (r == PROTO_RECV_ERROR)
        {
          if (g_error_matches (error, NPTE_ERROR, EAGAIN))
            return;
          npte_warn ("bad frame from the parent: %s", error->message);
          continue;
        }
      switch (msg.type)
        {
        case PROTO_MSG_SOCKETS_REQ:
          handle_sockets_req (c, &msg);
          break;
        case PROTO_MSG_START_CMD:
          start_payload (c, &msg);
          break;
        case PROTO_MSG_PING:
          {
            ProtoMsg pong;
            proto_msg_init (&pong, PROTO_MSG_PONG, msg.id);
            child_send (c, &pong, NULL, 0, NULL);
            break;
          }
        case PROTO_MSG_INVALID:
        case PROTO_MSG_HELLO:
        case PROTO_MSG_USERNS_READY:
        case PROTO_MSG_IDMAP_DONE:
        case PROTO_MSG_NS_READY:
        case PROTO_MSG_CMD_STARTED:
        case PROTO_MSG_SOCKETS:
        case PROTO_MSG_ERROR:
        case PROTO_MSG_CMD_EXITED:
        case PROTO_MSG_PONG:
        case PROTO_MSG_TAP:
        case PROTO_MSG_MAX_:
        default:
          npte_warn ("unexpected %s from the parent", proto_msg_type_name (msg.type));
          break;
        }
      proto_msg_close_fds (&msg);
    }
}

static void
child_signal_cb (int signo, int code, gpointer user_data)
{
  Child *c = user_data;

  if (c->attach_pid > 0 || c->attach_netns != NULL)
    {
      /* npte attach: the parent's SIGTERM means we are done. */
      if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP)
        {
          c->exit_code = 0;
          ev_break (c->loop, EVBREAK_ALL);
        }
      return;
    }
  if (c->cmd_pid > 0 && sigfwd_should_forward (signo, code))
    kill (c->cmd_pid, signo);
}

/**
 * parse_args() - "[--debug] [--resolv PATH] [NETWORK OPTIONS] -- CMD ARG..."
 * @c: child state to fill
 * @argc: count
 * @argv: vector (argv[1] is CHILD_ARGV1)
 * @debug: (out) whether --debug was given
 * @error: EINVAL for a bad network option or a missing command
 *
 * NETWORK OPTIONS (from netcfg_to_args()) mean --net=slirp: make a TAP.
 *
 * Return: TRUE if the options are good and a command was given.
 */
static gboolean
parse_args (Child *c, int argc, char **argv, gboolean *debug, GError **error)
{
  netcfg_init_defaults (&c->net);
  for (int i = 2; i < argc; i++)
    {
      if (g_strcmp0 (argv[i], "--debug") == 0)
        *debug = TRUE;
      else if (g_strcmp0 (argv[i], "--") == 0)
        {
          c->cmd_argv = &argv[i + 1];
          if (i + 1 < argc || c->attach_pid > 0 || c->attach_netns != NULL)
            return TRUE;
          break;
        }
      else if (g_strcmp0 (argv[i], "--srcroute") == 0)
        c->srcroute = TRUE;
      else if (i + 1 < argc && g_strcmp0 (argv[i], "--resolv") == 0)
        c->resolv = argv[++i];
      else if (i + 1 < argc && g_strcmp0 (argv[i], "--attach-pid") == 0)
        {
          guint64 pid;
          if (!g_ascii_string_to_unsigned (argv[++i], 10, 1, G_MAXINT, &pid, NULL))
            return npte_set_error (error, EINVAL, "internal: bad --attach-pid %s", argv[i]);
          c->attach_pid = (int) pid;
        }
      else if (i + 1 < argc && g_strcmp0 (argv[i], "--attach-netns") == 0)
        c->attach_netns = argv[++i];
      else if (i + 1 < argc && g_strcmp0 (argv[i], "--userns") == 0)
        c->userns = argv[++i];
      else if (i + 1 < argc && g_str_has_prefix (argv[i], "--"))
        {
          if (!netcfg_from_arg (&c->net, argv[i], argv[i + 1], error))
            return FALSE;
          c->slirp = TRUE;
          i++;
        }
    }
  return npte_set_error (error, EINVAL, "internal: the child was started without a command");
}

int
child_main (int argc, char **argv)
{
  Child c = { .sock = CHILD_SOCK_FD, .exit_code = 1 };
  gboolean debug = FALSE;
  GError *error = NULL;
  ProtoMsg msg;

  c.parent_pid = getppid ();
  if (!parse_args (&c, argc, argv, &debug, &error))
    child_fail (&c, error);
  npte_log_init ("child", debug);
  fcntl (c.sock, F_SETFD, FD_CLOEXEC);
  npte_raise_nofile ();

  if (!expect (&c, PROTO_MSG_HELLO, &error))
    child_fail (&c, error);
  proto_msg_init (&msg, PROTO_MSG_HELLO, 0);
  msg.u.hello.version = PROTO_VERSION;
  msg.u.hello.pid = (uint32_t) getpid ();
  if (!child_send (&c, &msg, NULL, 0, &error))
    child_fail (&c, error);
  if (c.attach_pid > 0 || c.attach_netns != NULL)
    attach_namespaces (&c);
  else
    setup_namespaces (&c);

  c.loop = ev_default_loop (EVFLAG_AUTO);
  c.sigfwd = sigfwd_new (c.loop, child_signal_cb, &c, &error);
  if (c.sigfwd == NULL || !npte_set_nonblock (c.sock, &error))
    child_fail (&c, error);
  ev_io_init (&c.sock_w, sock_cb, c.sock, EV_READ);
  c.sock_w.data = &c;
  ev_io_start (c.loop, &c.sock_w);
  ev_run (c.loop, 0);
  sigfwd_free (c.sigfwd);
  return c.exit_code;
}
