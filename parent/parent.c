/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (parent side of npte run)
 *
 *  1. Take the state dir (flock), export NPTE_STATE_DIR.
 *  2. socketpair(SEQPACKET); fork; the child sets PR_SET_PDEATHSIG and
 *     re-execs /proc/self/exe as "npte __npte-child" with its end on fd 3.
 *  3. Handshake, blocking with a time limit (see child.c and
 *     docs/protocol.md): HELLO both ways, USERNS_READY -> write id maps ->
 *     IDMAP_DONE, NS_READY. An ERROR frame from the child is printed once.
 *  4. The libev loop: the child link, the namespace socket pool, the port
 *     driver and every -p port, the API socket. Any failure up to here kills
 *     and reaps the child and exits 1.
 *  5. Write child_pid; enter the sandbox (sandbox.c; not with --no-sandbox
 *     or as npte slirp4netns), then START_CMD; on CMD_STARTED signal
 *     --ready-fd (attach: at once). So "ready" implies "sandboxed".
 *  6. Serve until the child exits; forward signals; --exit-fd HUP ends the
 *     run (SIGTERM, then SIGKILL after a grace period).
 */
#include "parent.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "builtin.h"
#include "child.h"
#include "config.h"
#include "idmap.h"
#include "link.h"
#include "log.h"
#include "npte-error.h"
#include "pool.h"
#include "portmgr.h"
#include "s4napi.h"
#include "sandbox.h"
#include "sigfwd.h"
#include "slirp.h"
#include "statedir.h"
#include "util.h"
#include "wire.h"

/* Longest the child may take for one handshake step. */
#define HANDSHAKE_TIMEOUT_MS 30000
/* Grace period between SIGTERM and SIGKILL when --exit-fd closes. */
#define EXIT_GRACE 5.0

typedef struct {
  const NpteRunOptions *opts;
  StateDir *sd;
  int sock;
  pid_t child_pid;
  struct ev_loop *loop;
  ChildLink *link;
  NsPool *pool;
  guint busy_window;      /* --busy-poll, NPTE_BUSY_POLL or the default, microseconds */
  BusyPoll *busy;
  Builtin *builtin;
  int tapfd;
  SlirpNet *slirp;
  PortMgr *mgr;
  ApiServer *api;
  S4nApiServer *s4napi;   /* npte slirp4netns: its JSON API instead */
  Sigfwd *sigfwd;
  NpteInfo info;
  char *info_dns[3];
  char *info_ip;
  char *info_gw;
  ev_child child_w;
  ev_io exit_w;
  ev_timer kill_w;
  int pidfd;
  ev_io pidfd_w;
  int exit_code;
  gboolean exit_requested;
  gboolean srcroute;     /* the child set up source-address routing */
  gboolean child_reported_error;
} Parent;

/* is_attach() - npte attach: no payload, no new namespaces. */
static gboolean
is_attach (const Parent *p)
{
  return p->opts->attach_pid > 0 || p->opts->attach_netns != NULL;
}

/**
 * spawn_child() - fork and re-exec ourselves as the namespace child
 * @p: parent state (child_pid is set)
 * @child_sock: the child's end of the socketpair
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
spawn_child (Parent *p, int child_sock, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  pid_t self = getpid ();

  g_ptr_array_add (argv, g_strdup ("npte"));
  g_ptr_array_add (argv, g_strdup (CHILD_ARGV1));
  if (p->opts->debug)
    g_ptr_array_add (argv, g_strdup ("--debug"));
  if (p->opts->net != NULL)
    {
      netcfg_to_args (p->opts->net, argv);
      if (!p->opts->net->disable_dns && !is_attach (p))
        {
          g_ptr_array_add (argv, g_strdup ("--resolv"));
          g_ptr_array_add (argv, statedir_file (p->sd, STATEDIR_RESOLV_CONF));
        }
    }
  /* Rewriting routing in a namespace we were only attached to is not ours to do. */
  if (!p->opts->source_loopback && !is_attach (p)
      && g_strcmp0 (p->opts->port_driver, "builtin") == 0)
    g_ptr_array_add (argv, g_strdup ("--srcroute"));
  if (p->opts->attach_pid > 0)
    {
      g_ptr_array_add (argv, g_strdup ("--attach-pid"));
      g_ptr_array_add (argv, g_strdup_printf ("%d", p->opts->attach_pid));
    }
  if (p->opts->attach_netns != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--attach-netns"));
      g_ptr_array_add (argv, g_strdup (p->opts->attach_netns));
    }
  if (p->opts->userns_path != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--userns"));
      g_ptr_array_add (argv, g_strdup (p->opts->userns_path));
    }
  g_ptr_array_add (argv, g_strdup ("--"));
  for (char **a = p->opts->cmd_argv; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);

  pid_t pid = fork ();
  if (pid < 0)
    return npte_set_errno (error, errno, "fork");
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != self)
        _exit (1);
      if (child_sock == CHILD_SOCK_FD)
        fcntl (child_sock, F_SETFD, 0);
      else if (dup2 (child_sock, CHILD_SOCK_FD) < 0)
        _exit (1);
      execv ("/proc/self/exe", (char **) argv->pdata);
      _exit (127);
    }
  p->child_pid = pid;
  return TRUE;
}

/**
 * hs_recv() - receive one handshake frame of @type within the time limit
 * @p: parent state
 * @type: expected type
 * @out: (out) the frame
 * @error: error: the child's own ERROR text, EPIPE if it died, ETIMEDOUT
 *
 * Return: TRUE when the frame arrived.
 */
static gboolean
hs_recv (Parent *p, ProtoMsgType type, ProtoMsg *out, GError **error)
{
  struct pollfd pfd = { .fd = p->sock, .events = POLLIN };
  int r;

  do
    r = poll (&pfd, 1, HANDSHAKE_TIMEOUT_MS);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return npte_set_error (error, ETIMEDOUT, "the namespace process did not answer within %d s",
                           HANDSHAKE_TIMEOUT_MS / 1000);
  switch (proto_recv (p->sock, out, error))
    {
    case PROTO_RECV_OK:
      break;
    case PROTO_RECV_EOF:
      return npte_set_error (error, EPIPE, "the namespace process exited during start-up");
    case PROTO_RECV_ERROR:
    default:
      return FALSE;
    }
  if (out->type != PROTO_MSG_TAP)
    proto_msg_close_fds (out);
  if (out->type == PROTO_MSG_ERROR)
    {
      p->child_reported_error = TRUE;
      return npte_set_error (error, out->u.error.err, "%s", out->u.error.message);
    }
  if (out->type != type)
    {
      proto_msg_close_fds (out);
      return npte_set_error (error, EPROTO, "start-up: expected %s from the child, got %s",
                             proto_msg_type_name (type), proto_msg_type_name (out->type));
    }
  return TRUE;
}

/**
 * handshake() - steps HELLO .. NS_READY of the start-up
 * @p: parent state
 * @error: error on failure
 *
 * Return: TRUE when the namespaces are ready.
 */
static gboolean
handshake (Parent *p, GError **error)
{
  ProtoMsg msg;

  proto_msg_init (&msg, PROTO_MSG_HELLO, 0);
  msg.u.hello.version = PROTO_VERSION;
  msg.u.hello.pid = (uint32_t) getpid ();
  if (!proto_send (p->sock, &msg, NULL, 0, error) || !hs_recv (p, PROTO_MSG_HELLO, &msg, error))
    return FALSE;
  if (!is_attach (p))
    {
      if (!hs_recv (p, PROTO_MSG_USERNS_READY, &msg, error))
        return FALSE;
      if (!idmap_setup (p->child_pid, error))
        {
          g_prefix_error (error, "write the uid/gid maps of the child: ");
          return FALSE;
        }
      proto_msg_init (&msg, PROTO_MSG_IDMAP_DONE, 0);
      if (!proto_send (p->sock, &msg, NULL, 0, error))
        return FALSE;
    }
  if (p->opts->net != NULL)
    {
      if (!hs_recv (p, PROTO_MSG_TAP, &msg, error))
        return FALSE;
      p->tapfd = msg.fds[0];
    }
  if (!hs_recv (p, PROTO_MSG_NS_READY, &msg, error))
    return FALSE;
  p->srcroute = (msg.u.ns_ready.flags & PROTO_NS_SRCROUTE) != 0;
  return TRUE;
}

/**
 * kill_and_reap() - make sure the child is gone (start-up failure path)
 * @p: parent state
 */
static void
kill_and_reap (Parent *p)
{
  if (p->child_pid <= 0)
    return;
  kill (p->child_pid, SIGKILL);
  while (waitpid (p->child_pid, NULL, 0) < 0 && errno == EINTR)
    ;
  p->child_pid = 0;
}

/**
 * signal_ready() - write "1" to --ready-fd and close it
 * @p: parent state
 */
static void
signal_ready (const Parent *p)
{
  g_autoptr (GError) error = NULL;

  if (p->opts->ready_fd < 0)
    return;
  if (!npte_write_all (p->opts->ready_fd, "1", 1, &error))
    npte_warn ("--ready-fd: %s", error->message);
  close (p->opts->ready_fd);
}

static void
on_cmd_started (gpointer user_data, pid_t pid)
{
  npte_debug ("payload started, pid %d", (int) pid);
  signal_ready (user_data);
}

static void
on_cmd_exited (gpointer user_data, int wait_status)
{
  npte_debug ("payload exited, wait status 0x%x", wait_status);
}

static void
on_child_error (gpointer user_data, int err, const char *message)
{
  Parent *p = user_data;

  p->child_reported_error = TRUE;
  npte_err ("%s", message);
}

static void
on_child_eof (gpointer user_data)
{
  npte_debug ("the child closed its socket");
}

static const ChildLinkEvents parent_link_events = {
  .cmd_started = on_cmd_started,
  .cmd_exited = on_cmd_exited,
  .error = on_child_error,
  .eof = on_child_eof,
};

static void
child_exited_cb (struct ev_loop *loop, ev_child *w, int revents)
{
  Parent *p = w->data;
  int st = w->rstatus;

  ev_child_stop (loop, w);
  p->child_pid = 0;
  if (WIFEXITED (st))
    p->exit_code = WEXITSTATUS (st);
  else if (WIFSIGNALED (st))
    {
      npte_err ("the namespace process (pid %d) was killed by signal %d (%s); "
                "the namespace and its payload are gone",
                w->rpid, WTERMSIG (st), g_strsignal (WTERMSIG (st)));
      p->exit_code = 1;
    }
  if (p->exit_requested)
    p->exit_code = 0;
  ev_break (loop, EVBREAK_ALL);
}

static void
kill_timer_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  Parent *p = w->data;

  if (p->child_pid > 0)
    kill (p->child_pid, SIGKILL);
}

static void
exit_fd_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  Parent *p = w->data;
  char buf[64];
  ssize_t n = read (w->fd, buf, sizeof buf);

  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
    return;
  ev_io_stop (loop, w);
  npte_debug ("--exit-fd closed: stopping");
  p->exit_requested = TRUE;
  if (p->child_pid > 0)
    kill (p->child_pid, SIGTERM);
  ev_timer_start (loop, &p->kill_w);
}

static void
parent_signal_cb (int signo, int code, gpointer user_data)
{
  Parent *p = user_data;

  if (is_attach (p))
    {
      /* No payload to forward to: a terminating signal ends the attachment. */
      if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP || signo == SIGQUIT)
        {
          p->exit_requested = TRUE;
          if (p->child_pid > 0)
            kill (p->child_pid, SIGTERM);
        }
      return;
    }
  if (p->child_pid > 0 && sigfwd_should_forward (signo, code))
    kill (p->child_pid, signo);
}

static void
target_exited_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  Parent *p = w->data;

  ev_io_stop (loop, w);
  npte_debug ("the attached process %d exited", p->opts->attach_pid);
  p->exit_requested = TRUE;
  if (p->child_pid > 0)
    kill (p->child_pid, SIGTERM);
}

/**
 * watch_target() - npte attach PID: end when that process exits (pidfd)
 * @p: parent state
 * @error: error when the process is already gone
 *
 * Return: TRUE on success.
 */
static gboolean
watch_target (Parent *p, GError **error)
{
  if (p->opts->attach_pid <= 0)
    return TRUE;
  p->pidfd = (int) syscall (SYS_pidfd_open, p->opts->attach_pid, 0);
  if (p->pidfd < 0)
    return npte_set_errno (error, errno, "watch process %d", p->opts->attach_pid);
  fcntl (p->pidfd, F_SETFD, FD_CLOEXEC);
  ev_io_init (&p->pidfd_w, target_exited_cb, p->pidfd, EV_READ);
  p->pidfd_w.data = p;
  ev_io_start (p->loop, &p->pidfd_w);
  return TRUE;
}

/**
 * fill_info() - what /v1/info reports, from the options and the drivers
 * @p: parent state (info strings live in p->info_strings)
 */
static void
fill_info (Parent *p)
{
  static const char *const none_dns[] = { NULL };
  const NetCfg *net = p->opts->net;
  const PortDriverOps *ops = p->mgr != NULL ? portmgr_ops (p->mgr) : NULL;

  p->info = (NpteInfo){
    .api_version = NPTE_API_VERSION,
    .version = NPTE_VERSION,
    .state_dir = p->sd != NULL ? p->sd->path : NULL,
    .child_pid = p->child_pid,
    .net_driver = net != NULL ? "slirp" : "none",
    .net_dns = none_dns,
    .port_driver = ops != NULL ? ops->name : NULL,
    .port_protos = ops != NULL ? ops->protos : NULL,
    .disallow_loopback_child_ip = ops != NULL && ops->disallow_loopback_child_ip,
  };
  if (net != NULL)
    {
      p->info_dns[0] = net->disable_dns ? NULL : netcfg_format_ip (AF_INET, &net->dns);
      p->info_dns[1] = net->disable_dns || !net->ipv6 ? NULL
                                                      : netcfg_format_ip (AF_INET6, &net->dns6);
      p->info_ip = netcfg_format_ip (AF_INET, &net->guest);
      p->info_gw = netcfg_format_ip (AF_INET, &net->gateway);
      p->info.net_dns = (const char *const *) p->info_dns;
      p->info.net_child_ip = p->info_ip;
      p->info.net_gateway = p->info_gw;
      p->info.net_mtu = (int) net->mtu;
    }
}

/**
 * write_resolv_conf() - $STATE/resolv.conf naming the slirp DNS addresses
 * @p: parent state
 * @error: error on failure
 *
 * Return: TRUE on success (or when there is nothing to write).
 */
static gboolean
write_resolv_conf (Parent *p, GError **error)
{
  const NetCfg *net = p->opts->net;

  if (net == NULL || net->disable_dns || is_attach (p))
    return TRUE;
  g_autofree char *path = statedir_file (p->sd, STATEDIR_RESOLV_CONF);
  g_autofree char *dns = netcfg_format_ip (AF_INET, &net->dns);
  g_autofree char *dns6 = netcfg_format_ip (AF_INET6, &net->dns6);
  g_autofree char *text = g_strdup_printf ("nameserver %s\n%s%s%s", dns,
                                           net->ipv6 ? "nameserver " : "", net->ipv6 ? dns6 : "",
                                           net->ipv6 ? "\n" : "");
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents (path, text, -1, &local))
    return npte_set_error (error, EIO, "write %s: %s", path, local->message);
  return TRUE;
}

/**
 * enter_sandbox() - confine the parent, now that everything is set up
 * @p: parent state
 *
 * Never fatal: sandbox_enter() warns once about a layer it had to skip.
 */
static void
enter_sandbox (const Parent *p)
{
  SandboxConfig cfg = { .child_pid = p->child_pid };

  /* npte slirp4netns has its own contract (no --enable-sandbox yet). */
  if (p->opts->no_sandbox || p->opts->slirp4netns)
    return;
  if (p->sd != NULL)
    {
      sandbox_add_dir (&cfg, p->sd->dir_fd, SANDBOX_DIR_UNLINK);
      sandbox_add_dir (&cfg, p->sd->parent_fd, SANDBOX_DIR_RMDIR);
    }
  sandbox_enter (&cfg);
}

/**
 * start_apis() - the REST API, and slirp4netns' JSON API where asked for
 * @p: parent state (loop, port manager and info set up)
 * @error: error on failure (start-up: fatal)
 *
 * npte slirp4netns serves only slirp4netns' API (at its --api-socket); npte run and attach
 * serve the REST API at STATE/api.sock or --api-socket, and slirp4netns' too with
 * --slirp4netns-api-socket.
 *
 * Return: TRUE on success.
 */
static gboolean
start_apis (Parent *p, GError **error)
{
  if (p->opts->slirp4netns)
    {
      if (p->opts->api_socket != NULL
          && (p->s4napi = s4napi_server_new (p->loop, p->opts->api_socket, p->mgr, p->opts->net,
                                             error)) == NULL)
        return FALSE;
      return TRUE;
    }
  g_autofree char *sock_path = p->opts->api_socket != NULL
                                  ? g_strdup (p->opts->api_socket)
                                  : statedir_file (p->sd, STATEDIR_API_SOCK);
  p->api = api_server_new (p->loop, sock_path, p->mgr, &p->info, error);
  if (p->api == NULL)
    return FALSE;
  /* Tools written for slirp4netns drive the same ports through its JSON API. */
  if (p->opts->s4n_api_socket != NULL && p->mgr != NULL && p->opts->net != NULL
      && (p->s4napi = s4napi_server_new (p->loop, p->opts->s4n_api_socket, p->mgr, p->opts->net,
                                         error))
             == NULL)
    return FALSE;
  return TRUE;
}

/**
 * start_serving() - loop, link, pool, ports, API; then START_CMD
 * @p: parent state
 * @error: error on failure (start-up: fatal)
 *
 * Return: TRUE when everything is up and the payload was asked to start.
 */
static gboolean
start_serving (Parent *p, GError **error)
{
  p->loop = ev_default_loop (EVFLAG_AUTO);
  p->link = childlink_new (p->loop, p->sock, &parent_link_events, p);
  p->pool = nspool_new (p->link);
  p->busy = busypoll_new (p->loop, p->busy_window);
  if (p->opts->net != NULL)
    {
      p->slirp = slirpnet_new (p->loop, npte_steal_fd (&p->tapfd), p->opts->net, p->busy,
                               error);
      if (p->slirp == NULL)
        return FALSE;
    }
  if (g_strcmp0 (p->opts->port_driver, "builtin") == 0)
    {
      BuiltinConfig bc = {
        .udp_max_flows = BUILTIN_UDP_MAX_FLOWS_DEFAULT,
        .udp_idle_timeout = BUILTIN_UDP_IDLE_TIMEOUT_DEFAULT,
        .preserve_source = p->srcroute,
        .busy = p->busy,
      };
      p->builtin = builtin_new (p->loop, p->pool, &bc);
      p->mgr = portmgr_new (&builtin_ops, p->builtin);
    }
  else if (g_strcmp0 (p->opts->port_driver, "slirp") == 0)
    p->mgr = portmgr_new (&slirp_port_ops, p->slirp);
  for (guint i = 0; p->opts->publish != NULL && i < p->opts->publish->len; i++)
    {
      const PortSpec *spec = &g_array_index (p->opts->publish, PortSpec, i);
      g_autofree char *text = portspec_format (spec);
      if (p->mgr == NULL)
        return npte_set_error (error, EINVAL, "cannot publish %s: --port-driver=none", text);
      if (portmgr_add (p->mgr, spec, error) == NULL)
        {
          g_prefix_error (error, "cannot publish %s: ", text);
          return FALSE;
        }
    }
  fill_info (p);
  if (!start_apis (p, error))
    return FALSE;
  p->sigfwd = sigfwd_new (p->loop, parent_signal_cb, p, error);
  if (p->sigfwd == NULL)
    return FALSE;
  ev_child_init (&p->child_w, child_exited_cb, p->child_pid, 0);
  p->child_w.data = p;
  ev_child_start (p->loop, &p->child_w);
  ev_timer_init (&p->kill_w, kill_timer_cb, EXIT_GRACE, 0.);
  p->kill_w.data = p;
  if (p->opts->exit_fd >= 0)
    {
      ev_io_init (&p->exit_w, exit_fd_cb, p->opts->exit_fd, EV_READ);
      p->exit_w.data = p;
      ev_io_start (p->loop, &p->exit_w);
    }
  /* Before the payload runs, so it can rely on finding it. */
  if (p->sd != NULL && !statedir_write_child_pid (p->sd, p->child_pid, error))
    return FALSE;
  if (is_attach (p) && !watch_target (p, error))
    return FALSE;
  if (is_attach (p))
    {
      enter_sandbox (p);
      signal_ready (p);
      return TRUE;
    }
  /*
   * START first, the sandbox second: the payload starts while the parent confines itself,
   * and the parent reads no input (no connection, API request or frame) until its loop
   * runs, after both.
   */
  if (!childlink_send_simple (p->link, PROTO_MSG_START_CMD, error))
    return FALSE;
  enter_sandbox (p);
  return TRUE;
}

/**
 * teardown() - close everything in dependency order
 * @p: parent state
 */
static void
teardown (Parent *p)
{
  g_clear_pointer (&p->api, api_server_free);
  g_clear_pointer (&p->s4napi, s4napi_server_free);
  g_clear_pointer (&p->mgr, portmgr_free);
  g_clear_pointer (&p->builtin, builtin_free);
  g_clear_pointer (&p->slirp, slirpnet_free);
  g_clear_pointer (&p->busy, busypoll_free);
  npte_close_fdp (&p->tapfd);
  g_clear_pointer (&p->info_dns[0], g_free);
  g_clear_pointer (&p->info_dns[1], g_free);
  g_clear_pointer (&p->info_ip, g_free);
  g_clear_pointer (&p->info_gw, g_free);
  g_clear_pointer (&p->link, childlink_free);
  g_clear_pointer (&p->pool, nspool_free);
  g_clear_pointer (&p->sigfwd, sigfwd_free);
  if (p->loop != NULL)
    {
      ev_io_stop (p->loop, &p->pidfd_w);
      ev_child_stop (p->loop, &p->child_w);
      ev_timer_stop (p->loop, &p->kill_w);
    }
  kill_and_reap (p);
  npte_close_fdp (&p->sock);
  npte_close_fdp (&p->pidfd);
  g_clear_pointer (&p->sd, statedir_close);
}

int
parent_run (const NpteRunOptions *opts)
{
  Parent p = { .opts = opts, .sock = -1, .tapfd = -1, .pidfd = -1, .exit_code = 1 };
  g_autoptr (GError) error = NULL;
  int sv[2];

  signal (SIGPIPE, SIG_IGN);
  npte_raise_nofile ();
  /* A bad NPTE_BUSY_POLL is reported before anything is created. */
  p.busy_window = (guint) MAX (opts->busy_poll_us, 0);
  if (opts->busy_poll_us < 0 && !busypoll_window_from_env (&p.busy_window, &error))
    goto fail;
  if (!opts->slirp4netns)
    {
      p.sd = statedir_open (opts->state_dir, &error);
      if (p.sd == NULL)
        npte_die_error (g_steal_pointer (&error));
      g_setenv ("NPTE_STATE_DIR", p.sd->path, TRUE);
    }
  if (!write_resolv_conf (&p, &error))
    goto fail;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      npte_set_errno (&error, errno, "socketpair");
      goto fail;
    }
  p.sock = sv[0];
  gboolean spawned = spawn_child (&p, sv[1], &error);
  close (sv[1]);
  if (!spawned || !handshake (&p, &error) || !start_serving (&p, &error))
    goto fail;
  ev_run (p.loop, 0);
  teardown (&p);
  return p.exit_code;

fail:
  npte_err ("%s", error->message);
  teardown (&p);
  return 1;
}
