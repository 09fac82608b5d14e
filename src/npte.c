/* SPDX-License-Identifier: Apache-2.0 */
/* npte: the command line of the rootless networking helper. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "busypoll.h"
#include "commands.h"
#include "config.h"
#include "launch.h"
#include "log.h"
#include "netcfg.h"
#include "npte-error.h"
#include "parent.h"
#include "portspec.h"
#include "util.h"
#include "npte-commit.h"

/* The module's exports (src/launch.h): the launcher checks the first and calls the second. */
NPTE_CLI_EXPORT const char npte_cli_build_id[] = NPTE_VERSION " " NPTE_COMMIT;
NPTE_CLI_EXPORT int npte_cli_main (int argc, char **argv);

static const char usage_text[] =
  "Usage: npte run [OPTIONS] [--] CMD [ARG...]\n"
  "       npte attach [OPTIONS] PID|NETNS_PATH\n"
  "       npte netns create|destroy|list|exec|show|link|addr|route|neigh ...  (npte-netns(1))\n"
  "       npte network create|rm|ls|inspect|join|leave ...   (npte-network(1))\n"
  "       npte slirp4netns [SLIRP4NETNS OPTIONS] PID|PATH [TAPNAME]   (a slirp4netns drop-in)\n"
  "\n"
  "run: run CMD in a new user, network and mount namespace and forward host ports into it.\n"
  "attach: give an existing network namespace slirp networking (unless --net=none) and the\n"
  "port API, until that process exits, --exit-fd closes or a signal.\n"
  "\n"
  "Options:\n"
  "  -p, --publish SPEC      forward a port: [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO]\n"
  "                          (PROTO: tcp tcp4 tcp6 udp udp4 udp6; default tcp); repeatable\n"
  "      --net NAME          none: loopback only (default); slirp: outbound networking\n"
  "                          through libslirp on a TAP device\n"
  "      --port-driver NAME  builtin (default), slirp (with --net=slirp) or none\n"
  "      --state-dir DIR     state directory (default: a fresh dir under $XDG_RUNTIME_DIR/npte)\n"
  "      --ready-fd FD       write \"1\" to FD when ports, API and CMD are up\n"
  "      --exit-fd FD        stop (SIGTERM to CMD) when FD is closed\n"
  "      --api-socket PATH   serve the API on PATH instead of STATE/api.sock\n"
  "      --slirp4netns-api-socket PATH  also serve slirp4netns' JSON API on PATH\n"
  "                          (add_hostfwd/list_hostfwd/remove_hostfwd; with --net=slirp)\n"
  "      --source-address M  preserve (default): servers see the real client address\n"
  "                          (builtin driver); loopback: they see 127.0.0.1 / ::1\n"
  "      --userns-path PATH  (attach) the user namespace to join, default the PID's\n"
  "      --no-sandbox        do not confine npte once it is set up (see docs/security.md)\n"
  "      --busy-poll USEC    after a small message or a new connection, poll for up to USEC\n"
  "                          microseconds before sleeping (default 200 or $NPTE_BUSY_POLL;\n"
  "                          0: off)\n"
  "      --debug             debug logging\n"
  "\n"
  "With --net=slirp (defaults as slirp4netns):\n"
  "      --mtu N             MTU of the TAP device, 68..65521 (default 65520)\n"
  "      --cidr A.B.C.D/N    network (default 10.0.2.0/24: gateway .2, DNS .3, namespace .100)\n"
  "      --ipv6              IPv6 too (default prefix fd00::/64)\n"
  "      --cidr6 PREFIX/N    IPv6 prefix (implies --ipv6)\n"
  "      --disable-host-loopback  the namespace cannot reach the host's 127.0.0.1\n"
  "      --disable-dns       no DNS forwarder; resolv.conf is left alone\n"
  "      --outbound-addr A   bind outbound IPv4 connections to A\n"
  "      --outbound-addr6 A  bind outbound IPv6 connections to A\n"
  "      --mac MAC           MAC address of the TAP device\n"
  "      --ifname NAME       name of the TAP device (default tap0)\n"
  "  -h, --help              this help\n"
  "  -v, --version           print the version\n"
  "\n"
  "Manage forwards at run time with npte-port(1). See npte(1).\n";

G_NORETURN static void
usage_error (const char *fmt, const char *arg)
{
  fprintf (stderr, "npte: ");
  fprintf (stderr, fmt, arg);
  fprintf (stderr, "\nTry 'npte --help'.\n");
  exit (2);
}

/**
 * add_publish() - parse and validate one -p SPEC into @out
 * @out: array of PortSpec
 * @text: the argument
 *
 * Exits 2 with the reason on a bad spec.
 */
static void
add_publish (GArray *out, const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  if (!portspec_parse (text, &spec, &error) || !portspec_validate (&spec, &error))
    {
      fprintf (stderr, "npte: invalid --publish \"%s\": %s\n", text, error->message);
      exit (2);
    }
  g_array_append_val (out, spec);
}

/**
 * parse_fd_option() - --ready-fd / --exit-fd value; the fd is made close-on-exec
 * @name: option name for messages
 * @text: the value
 *
 * Return: the fd (exits 2 when bad).
 */
static int
parse_fd_option (const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  int fd;

  if (!npte_parse_fd (text, &fd, &error))
    {
      fprintf (stderr, "npte: invalid %s: %s\n", name, error->message);
      exit (2);
    }
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

/**
 * parse_busy_poll() - the --busy-poll value
 * @text: the value
 *
 * Return: the window in microseconds (exits 2 when bad).
 */
static int
parse_busy_poll (const char *text)
{
  g_autoptr (GError) error = NULL;
  guint us;

  if (!busypoll_parse_us (text, &us, &error))
    {
      fprintf (stderr, "npte: invalid --busy-poll \"%s\": %s\n", text, error->message);
      exit (2);
    }
  return (int) us;
}

enum {
  OPT_NET = 256, OPT_PORT_DRIVER, OPT_STATE_DIR, OPT_READY_FD, OPT_EXIT_FD, OPT_DEBUG,
  OPT_MTU, OPT_CIDR, OPT_CIDR6, OPT_IPV6, OPT_DISABLE_HOST_LOOPBACK, OPT_DISABLE_DNS,
  OPT_OUTBOUND, OPT_OUTBOUND6, OPT_MAC, OPT_IFNAME, OPT_USERNS_PATH, OPT_API_SOCKET,
  OPT_SOURCE_ADDRESS, OPT_S4N_API_SOCKET, OPT_NO_SANDBOX, OPT_BUSY_POLL,
};

static const struct option run_options[] = {
  { "publish", required_argument, NULL, 'p' },
  { "net", required_argument, NULL, OPT_NET },
  { "port-driver", required_argument, NULL, OPT_PORT_DRIVER },
  { "state-dir", required_argument, NULL, OPT_STATE_DIR },
  { "ready-fd", required_argument, NULL, OPT_READY_FD },
  { "exit-fd", required_argument, NULL, OPT_EXIT_FD },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { "mtu", required_argument, NULL, OPT_MTU },
  { "cidr", required_argument, NULL, OPT_CIDR },
  { "cidr6", required_argument, NULL, OPT_CIDR6 },
  { "ipv6", no_argument, NULL, OPT_IPV6 },
  { "enable-ipv6", no_argument, NULL, OPT_IPV6 },
  { "disable-host-loopback", no_argument, NULL, OPT_DISABLE_HOST_LOOPBACK },
  { "disable-dns", no_argument, NULL, OPT_DISABLE_DNS },
  { "outbound-addr", required_argument, NULL, OPT_OUTBOUND },
  { "outbound-addr6", required_argument, NULL, OPT_OUTBOUND6 },
  { "mac", required_argument, NULL, OPT_MAC },
  { "macaddress", required_argument, NULL, OPT_MAC },
  { "ifname", required_argument, NULL, OPT_IFNAME },
  { "userns-path", required_argument, NULL, OPT_USERNS_PATH },
  { "api-socket", required_argument, NULL, OPT_API_SOCKET },
  { "source-address", required_argument, NULL, OPT_SOURCE_ADDRESS },
  { "slirp4netns-api-socket", required_argument, NULL, OPT_S4N_API_SOCKET },
  { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
  { "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'v' },
  { NULL, 0, NULL, 0 },
};

/* What cmd_run() collects before it can check combinations. */
typedef struct {
  NpteRunOptions run;
  NetCfg net;
  const char *net_name;
  gboolean port_driver_given;
  gboolean net_option_given;   /* an option that only makes sense with --net=slirp */
} RunArgs;

/**
 * apply_net_option() - one of the --net=slirp options
 * @ra: collected arguments
 * @opt: option code
 * @arg: its value (may be NULL for flags)
 *
 * Exits 2 on a bad value.
 *
 * Return: TRUE if @opt was a network option.
 */
static gboolean
apply_net_option (RunArgs *ra, int opt, const char *arg)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;

  switch (opt)
    {
    case OPT_MTU: ok = netcfg_set_mtu (&ra->net, arg, &error); break;
    case OPT_CIDR: ok = netcfg_set_cidr (&ra->net, arg, &error); break;
    case OPT_CIDR6:
      ok = netcfg_set_cidr6 (&ra->net, arg, &error);
      ra->net.ipv6 = TRUE;
      break;
    case OPT_IPV6: ra->net.ipv6 = TRUE; break;
    case OPT_DISABLE_HOST_LOOPBACK: ra->net.disable_host_loopback = TRUE; break;
    case OPT_DISABLE_DNS: ra->net.disable_dns = TRUE; break;
    case OPT_OUTBOUND: ok = netcfg_set_outbound (&ra->net, arg, FALSE, &error); break;
    case OPT_OUTBOUND6: ok = netcfg_set_outbound (&ra->net, arg, TRUE, &error); break;
    case OPT_MAC: ok = netcfg_set_mac (&ra->net, arg, &error); break;
    case OPT_IFNAME: ok = netcfg_set_ifname (&ra->net, arg, &error); break;
    default: return FALSE;
    }
  if (!ok)
    {
      fprintf (stderr, "npte: %s\n", error->message);
      exit (2);
    }
  ra->net_option_given = TRUE;
  return TRUE;
}

/**
 * apply_option() - one option of "npte run" that is not a network option
 * @ra: collected arguments
 * @c: getopt code
 * @publish: -p specs collected so far
 *
 * Return: -1 to go on, or an exit code (--help, a bad option).
 */
static int
apply_option (RunArgs *ra, int c, GArray *publish)
{
  switch (c)
    {
    case 'p': add_publish (publish, optarg); break;
    case OPT_NET:
      if (strcmp (optarg, "none") != 0 && strcmp (optarg, "slirp") != 0
          && strcmp (optarg, "slirp4netns") != 0)
        usage_error ("unknown --net \"%s\" (supported: none, slirp)", optarg);
      ra->net_name = strcmp (optarg, "none") == 0 ? "none" : "slirp";
      break;
    case OPT_PORT_DRIVER:
      if (strcmp (optarg, "builtin") != 0 && strcmp (optarg, "slirp") != 0
          && strcmp (optarg, "none") != 0)
        usage_error ("unknown --port-driver \"%s\" (supported: builtin, slirp, none)", optarg);
      ra->run.port_driver = optarg;
      ra->port_driver_given = TRUE;
      break;
    case OPT_STATE_DIR:
      if (optarg[0] == '\0')
        usage_error ("%s--state-dir must not be empty", "");
      ra->run.state_dir = optarg;
      break;
    case OPT_READY_FD: ra->run.ready_fd = parse_fd_option ("--ready-fd", optarg); break;
    case OPT_EXIT_FD: ra->run.exit_fd = parse_fd_option ("--exit-fd", optarg); break;
    case OPT_DEBUG: ra->run.debug = TRUE; break;
    case OPT_NO_SANDBOX: ra->run.no_sandbox = TRUE; break;
    case OPT_BUSY_POLL: ra->run.busy_poll_us = parse_busy_poll (optarg); break;
    case OPT_USERNS_PATH: ra->run.userns_path = optarg; break;
    case OPT_S4N_API_SOCKET:
      if (optarg[0] == '\0' || strlen (optarg) >= 108)
        usage_error ("invalid --slirp4netns-api-socket \"%s\": 1..107 characters", optarg);
      ra->run.s4n_api_socket = optarg;
      break;
    case OPT_SOURCE_ADDRESS:
      if (strcmp (optarg, "preserve") != 0 && strcmp (optarg, "loopback") != 0)
        usage_error ("unknown --source-address \"%s\" (supported: preserve, loopback)", optarg);
      ra->run.source_loopback = strcmp (optarg, "loopback") == 0;
      break;
    case OPT_API_SOCKET:
      if (optarg[0] == '\0' || strlen (optarg) >= 108)
        usage_error ("invalid --api-socket \"%s\": 1..107 characters", optarg);
      ra->run.api_socket = optarg;
      break;
    case 'h': fputs (usage_text, stdout); return 0;
    case 'v': printf ("npte version %s\n", NPTE_VERSION); return 0;
    default:
      if (!apply_net_option (ra, c, optarg))
        {
          fprintf (stderr, "Try 'npte --help'.\n");
          return 2;
        }
      break;
    }
  return -1;
}

/**
 * check_combination() - reject option combinations that cannot work
 * @ra: collected arguments
 * @n_publish: number of -p specs
 */
static void
check_combination (const RunArgs *ra, guint n_publish)
{
  gboolean slirp = g_strcmp0 (ra->net_name, "slirp") == 0;

  if (ra->net_option_given && !slirp)
    usage_error ("%snetwork options (--mtu, --cidr, --ipv6, ...) need --net=slirp", "");
  if (ra->run.s4n_api_socket != NULL && !slirp)
    usage_error ("%s--slirp4netns-api-socket needs --net=slirp", "");
  if (ra->run.s4n_api_socket != NULL && strcmp (ra->run.port_driver, "none") == 0)
    usage_error ("%s--slirp4netns-api-socket needs a port driver", "");
  if (strcmp (ra->run.port_driver, "slirp") == 0 && !slirp)
    usage_error ("%s--port-driver=slirp needs --net=slirp", "");
  if (n_publish > 0 && strcmp (ra->run.port_driver, "none") == 0)
    usage_error ("%s--publish needs a port driver (not --port-driver=none)", "");
}

/**
 * cmd_run() - "npte run": parse options, then parent_run()
 * @argc: count (argv[0] is "run")
 * @argv: vector
 *
 * Return: exit code.
 */
static int
cmd_run (int argc, char **argv)
{
  g_autoptr (GArray) publish = g_array_new (FALSE, TRUE, sizeof (PortSpec));
  RunArgs ra = { .run = { .port_driver = "builtin", .ready_fd = -1, .exit_fd = -1,
                          .busy_poll_us = -1 } };
  int c;

  netcfg_init_defaults (&ra.net);
  opterr = 1;
  optind = 1;
  while ((c = getopt_long (argc, argv, "+p:hv", run_options, NULL)) != -1)
    {
      int rc = apply_option (&ra, c, publish);
      if (rc >= 0)
        return rc;
    }
  if (optind >= argc)
    usage_error ("%smissing command to run (npte run [OPTIONS] -- CMD [ARG...])", "");
  if (ra.run.userns_path != NULL)
    usage_error ("%s--userns-path is for npte attach", "");
  check_combination (&ra, publish->len);
  ra.run.cmd_argv = &argv[optind];
  ra.run.publish = publish;
  if (g_strcmp0 (ra.net_name, "slirp") == 0)
    ra.run.net = &ra.net;
  npte_log_init (NULL, ra.run.debug);
  if (ra.run.net != NULL && !ra.net.disable_host_loopback)
    {
      g_autofree char *gw = netcfg_format_ip (AF_INET, &ra.net.gateway);
      npte_warn ("the host's loopback (127.0.0.1) is reachable from the namespace as %s; use "
                 "--disable-host-loopback to prevent it",
                 gw);
    }
  return parent_run (&ra.run);
}

/**
 * cmd_attach() - "npte attach [OPTIONS] PID|NETNS_PATH"
 * @argc: count (argv[0] is "attach")
 * @argv: vector
 *
 * Gives an existing network namespace slirp networking (unless --net=none)
 * and the port API, as "slirp4netns PID" does.
 *
 * Return: exit code.
 */
static int
cmd_attach (int argc, char **argv)
{
  g_autoptr (GArray) publish = g_array_new (FALSE, TRUE, sizeof (PortSpec));
  RunArgs ra = { .run = { .port_driver = "builtin", .ready_fd = -1, .exit_fd = -1,
                          .busy_poll_us = -1 },
                 .net_name = "slirp" };
  guint64 pid;
  int c;

  netcfg_init_defaults (&ra.net);
  optind = 1;
  while ((c = getopt_long (argc, argv, "+p:hv", run_options, NULL)) != -1)
    {
      int rc = apply_option (&ra, c, publish);
      if (rc >= 0)
        return rc;
    }
  if (argc - optind != 1)
    usage_error ("%sexpected one PID or network namespace path (npte attach [OPTIONS] "
                 "PID|NETNS_PATH)", "");
  check_combination (&ra, publish->len);
  const char *target = argv[optind];
  if (g_ascii_string_to_unsigned (target, 10, 1, G_MAXINT, &pid, NULL))
    {
      if (kill ((pid_t) pid, 0) < 0 && errno == ESRCH)
        usage_error ("no process %s", target);
      ra.run.attach_pid = (int) pid;
    }
  else if (access (target, F_OK) == 0)
    ra.run.attach_netns = target;
  else
    usage_error ("\"%s\" is neither a PID nor an existing namespace path", target);
  ra.run.publish = publish;
  if (g_strcmp0 (ra.net_name, "slirp") == 0)
    ra.run.net = &ra.net;
  npte_log_init (NULL, ra.run.debug);
  return parent_run (&ra.run);
}

/* Sub-commands in files of their own; add one line per command. */
const NpteCommand npte_commands[] = {
  { "slirp4netns", cmd_slirp4netns },
  { "netns", cmd_netns },
  { "__netns-keeper", cmd_netns_keeper },
  { "network", cmd_network },
  { NULL, NULL },
};

/**
 * npte_cli_main() - every npte command but the namespace child (src/npte-launch.c runs that)
 * @argc: argument count, as main()'s
 * @argv: arguments, as main()'s
 *
 * Return: the process exit status.
 */
int
npte_cli_main (int argc, char **argv)
{
  const char *base = argc >= 1 ? strrchr (argv[0], '/') : NULL;
  base = base != NULL ? base + 1 : argc >= 1 ? argv[0] : "";
  if (strcmp (base, "slirp4netns") == 0 || strcmp (base, "npte-slirp4netns") == 0)
    return cmd_slirp4netns (argc, argv);
  npte_log_init (NULL, FALSE);
  if (argc < 2)
    {
      fputs (usage_text, stderr);
      return 2;
    }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-v") == 0
      || strcmp (argv[1], "version") == 0)
    {
      printf ("npte version %s\n", NPTE_VERSION);
      return 0;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      fputs (usage_text, stdout);
      return 0;
    }
  if (strcmp (argv[1], "run") == 0)
    return cmd_run (argc - 1, argv + 1);
  if (strcmp (argv[1], "attach") == 0)
    return cmd_attach (argc - 1, argv + 1);
  for (const NpteCommand *c = npte_commands; c->name != NULL; c++)
    if (strcmp (argv[1], c->name) == 0)
      return c->main (argc - 1, argv + 1);
  fprintf (stderr, "npte: unknown command \"%s\"\nTry 'npte --help'.\n", argv[1]);
  return 2;
}
