/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: npte slirp4netns - a drop-in for the slirp4netns binary
 *
 * "npte slirp4netns ARGS", or npte run under the name slirp4netns or
 * npte-slirp4netns, takes slirp4netns 1.3's command line and behaves like
 * it towards its caller (rootlesskit, Podman, buildah):
 *
 *  1. Options are parsed as slirp4netns parses them (the same getopt
 *     letters and long names, options may follow the operands). Usage
 *     errors print the message on stderr and the usage on stdout, and exit
 *     1, as slirp4netns. Options npte cannot honour (--enable-sandbox,
 *     --enable-seccomp, --netns-type=tapfd, --target-type=bess) exit 1 with
 *     a message naming the option; --help does not list them, so callers
 *     that probe --help (rootlesskit's "auto", Podman) do not pass them.
 *  2. The start-up lines slirp4netns prints ("Starting slirp", "* MTU:",
 *     ...) are printed on stdout with the same text.
 *  3. parent_run() in attach mode does the rest: a child joins the target's
 *     user and network namespaces and opens the TAP (configured only with
 *     -c), the parent runs libslirp with the slirp port driver and serves
 *     slirp4netns' JSON API on -a PATH (parent/s4napi*.c), writes "1" to
 *     the ready fd, and exits 0 when the exit fd is closed, when the target
 *     process exits, or on SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <libslirp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "netcfg.h"
#include "npte-commit.h"
#include "parent.h"

/* slirp4netns' default MTU (npte run's --net=slirp defaults to 65520). */
#define S4N_DEFAULT_MTU 1500
/* The slirp4netns release whose command line and API npte follows. */
#define S4N_COMPAT_VERSION "1.3.0"
/* libslirp hands out 16 DHCP leases from the DHCP start address. */
#define S4N_DHCP_LEASES 16

typedef struct {
  const char *prog;       /* argv[0], for the usage */
  NpteRunOptions run;
  NetCfg net;
  gboolean configure;     /* -c */
  const char *netns_type; /* pid (default), path or tapfd */
  const char *mac;        /* --macaddress, needs -c */
} S4nArgs;

enum {
  OPT_CIDR = 256, OPT_DISABLE_HOST_LOOPBACK, OPT_NO_HOST_LOOPBACK, OPT_NETNS_TYPE,
  OPT_USERNS_PATH, OPT_ENABLE_SANDBOX, OPT_CREATE_SANDBOX, OPT_ENABLE_SECCOMP, OPT_OUTBOUND,
  OPT_OUTBOUND6, OPT_DISABLE_DNS, OPT_MACADDRESS, OPT_TARGET_TYPE, OPT_DEBUG,
};

static const struct option s4n_options[] = {
  { "configure", no_argument, NULL, 'c' },
  { "exit-fd", required_argument, NULL, 'e' },
  { "ready-fd", required_argument, NULL, 'r' },
  { "mtu", required_argument, NULL, 'm' },
  { "cidr", required_argument, NULL, OPT_CIDR },
  { "disable-host-loopback", no_argument, NULL, OPT_DISABLE_HOST_LOOPBACK },
  { "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
  { "netns-type", required_argument, NULL, OPT_NETNS_TYPE },
  { "userns-path", required_argument, NULL, OPT_USERNS_PATH },
  { "api-socket", required_argument, NULL, 'a' },
  { "enable-ipv6", no_argument, NULL, '6' },
  { "enable-sandbox", no_argument, NULL, OPT_ENABLE_SANDBOX },
  { "create-sandbox", no_argument, NULL, OPT_CREATE_SANDBOX },
  { "enable-seccomp", no_argument, NULL, OPT_ENABLE_SECCOMP },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'v' },
  { "outbound-addr", required_argument, NULL, OPT_OUTBOUND },
  { "outbound-addr6", required_argument, NULL, OPT_OUTBOUND6 },
  { "disable-dns", no_argument, NULL, OPT_DISABLE_DNS },
  { "macaddress", required_argument, NULL, OPT_MACADDRESS },
  { "target-type", required_argument, NULL, OPT_TARGET_TYPE },
  { "debug", no_argument, NULL, OPT_DEBUG },
  { NULL, 0, NULL, 0 },
};

/*
 * Callers detect features by searching --help for option names, so only
 * options npte honours are named here.
 */
static const char s4n_help_text[] =
  "User-mode networking for unprivileged network namespaces (npte, slirp4netns-compatible).\n"
  "\n"
  "-c, --configure          configure the TAP: up, MTU, address network+100, default route;\n"
  "                         and bring lo up (without -c the TAP is only created)\n"
  "-e, --exit-fd=FD         exit when FD is closed\n"
  "-r, --ready-fd=FD        write \"1\" to FD when the network and the API socket are up\n"
  "-m, --mtu=MTU            MTU of the network (default=%d, max=65521)\n"
  "-6, --enable-ipv6        enable IPv6 (prefix fd00::/64)\n"
  "-a, --api-socket=PATH    serve the JSON API (add_hostfwd, list_hostfwd, remove_hostfwd)\n"
  "--cidr=CIDR              IPv4 network (default=10.0.2.0/24)\n"
  "--disable-host-loopback  do not let the namespace reach 127.0.0.1:* of the host\n"
  "--netns-type=TYPE        type of the operand: pid or path (default=pid)\n"
  "--userns-path=PATH       user namespace to join (default: the PID's)\n"
  "--outbound-addr=IPv4     bind outbound IPv4 connections to this address or interface\n"
  "--outbound-addr6=IPv6    bind outbound IPv6 connections to this address or interface\n"
  "--disable-dns            no DNS forwarder on network+3\n"
  "--macaddress=MAC         MAC address of the TAP (only with -c)\n"
  "--target-type=TYPE       netns (the only type npte supports)\n"
  "--debug                  debug logging (npte)\n"
  "-h, --help               show this help and exit\n"
  "-v, --version            show version and exit\n"
  "\n"
  "TAPNAME defaults to tap0. Sandbox and seccomp modes are not provided by npte;\n"
  "see docs/slirp4netns-compat.md.\n";

/* s4n_usage() - slirp4netns' usage text on stdout. */
static void
s4n_usage (const char *prog)
{
  printf ("Usage: %s [OPTION]... PID|PATH [TAPNAME]\n", prog);
  printf (s4n_help_text, S4N_DEFAULT_MTU);
}

/**
 * s4n_usage_error() - as slirp4netns: the reason on stderr, usage on stdout, exit 1
 * @a: parsed arguments (for the program name)
 * @fmt: printf format of the reason
 */
G_NORETURN G_GNUC_PRINTF (2, 3) static void
s4n_usage_error (const S4nArgs *a, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  s4n_usage (a->prog);
  exit (EXIT_FAILURE);
}

/**
 * s4n_fail() - a bad value or an option npte cannot honour: message, exit 1
 * @fmt: printf format
 */
G_NORETURN G_GNUC_PRINTF (1, 2) static void
s4n_fail (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  npte_die ("%s", text);
}

/* s4n_version() - slirp4netns' machine-readable version lines. */
static void
s4n_version (void)
{
  printf ("slirp4netns version %s+npte.%s\n", S4N_COMPAT_VERSION, NPTE_VERSION);
  printf ("commit: %s\n", NPTE_COMMIT);
  printf ("libslirp: %s\n", slirp_version_string ());
  printf ("SLIRP_CONFIG_VERSION_MAX: %d\n", SLIRP_CONFIG_VERSION_MAX);
}

/**
 * parse_fd() - -e / -r: a non-negative integer naming an open fd, made close-on-exec
 * @a: parsed arguments
 * @text: the value
 * @name: "exit-fd" or "ready-fd"
 *
 * Return: the fd (exits 1 when bad).
 */
static int
parse_fd (const S4nArgs *a, const char *text, const char *name)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &v, NULL))
    s4n_usage_error (a, "%s must be a non-negative integer", name);
  if (fcntl ((int) v, F_SETFD, FD_CLOEXEC) < 0)
    s4n_fail ("--%s %s: not an open file descriptor", name, text);
  return (int) v;
}

/**
 * set_outbound() - --outbound-addr[6]: an address, or an interface's first address
 * @net: network config
 * @text: the value
 * @v6: IPv6
 *
 * Exits 1 when @text is neither.
 */
static void
set_outbound (NetCfg *net, const char *text, gboolean v6)
{
  int family = v6 ? AF_INET6 : AF_INET;
  char buf[INET6_ADDRSTRLEN] = "";
  struct ifaddrs *list = NULL;
  unsigned char probe[sizeof (struct in6_addr)];

  if (inet_pton (family, text, probe) != 1 && getifaddrs (&list) == 0)
    {
      for (const struct ifaddrs *ifa = list; ifa != NULL && buf[0] == '\0'; ifa = ifa->ifa_next)
        if (ifa->ifa_addr != NULL && ifa->ifa_addr->sa_family == family
            && g_strcmp0 (ifa->ifa_name, text) == 0)
          inet_ntop (family, v6 ? (const void *) &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr
                                : (const void *) &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr,
                     buf, sizeof buf);
      freeifaddrs (list);
      if (buf[0] == '\0')
        s4n_fail ("--outbound-addr%s \"%s\": neither an IPv%d address nor an interface with one",
                  v6 ? "6" : "", text, v6 ? 6 : 4);
      text = buf;
    }
  g_autoptr (GError) error = NULL;
  if (!netcfg_set_outbound (net, text, v6, &error))
    s4n_fail ("%s", error->message);
}

/**
 * apply_value_option() - an option with a value that netcfg checks
 * @a: parsed arguments
 * @c: getopt code
 * @arg: the value
 *
 * Return: TRUE if @c was one of them.
 */
static gboolean
apply_value_option (S4nArgs *a, int c, const char *arg)
{
  g_autoptr (GError) error = NULL;

  switch (c)
    {
    case 'm':
      if (!netcfg_set_mtu (&a->net, arg, &error))
        s4n_usage_error (a, "MTU must be an integer in %d..%d", NETCFG_MTU_MIN, NETCFG_MTU_MAX);
      return TRUE;
    case OPT_CIDR:
      if (!netcfg_set_cidr (&a->net, arg, &error))
        s4n_fail ("%s", error->message);
      return TRUE;
    case 'a':
      if (arg[0] == '\0' || strlen (arg) >= 108)
        s4n_fail ("the specified API socket path is too long (>= 108) or empty: \"%s\"", arg);
      a->run.api_socket = arg;
      return TRUE;
    case OPT_USERNS_PATH:
      if (access (arg, F_OK) < 0)
        s4n_usage_error (a, "userns path doesn't exist: %s", arg);
      a->run.userns_path = arg;
      return TRUE;
    case OPT_NETNS_TYPE:
      if (strcmp (arg, "pid") != 0 && strcmp (arg, "path") != 0 && strcmp (arg, "tapfd") != 0)
        s4n_usage_error (a, "--netns-type must be pid, path or tapfd");
      a->netns_type = arg;
      return TRUE;
    case OPT_TARGET_TYPE:
      if (strcmp (arg, "bess") == 0)
        s4n_fail ("--target-type=bess (User-Mode-Linux BESS) is not supported by npte");
      if (strcmp (arg, "netns") != 0)
        s4n_usage_error (a, "--target-type must be either \"netns\" or \"bess\"");
      return TRUE;
    case OPT_OUTBOUND: set_outbound (&a->net, arg, FALSE); return TRUE;
    case OPT_OUTBOUND6: set_outbound (&a->net, arg, TRUE); return TRUE;
    case OPT_MACADDRESS: a->mac = arg; return TRUE;
    default: return FALSE;
    }
}

/**
 * apply_option() - one option of the slirp4netns command line
 * @a: parsed arguments
 * @c: getopt code
 * @arg: its value or NULL
 */
static void
apply_option (S4nArgs *a, int c, const char *arg)
{
  if (apply_value_option (a, c, arg))
    return;
  switch (c)
    {
    case 'c': a->configure = TRUE; break;
    case 'e': a->run.exit_fd = parse_fd (a, arg, "exit-fd"); break;
    case 'r': a->run.ready_fd = parse_fd (a, arg, "ready-fd"); break;
    case '6': a->net.ipv6 = TRUE; break;
    case OPT_NO_HOST_LOOPBACK:
      printf ("WARNING: --no-host-loopback is deprecated and will be removed in future releases, "
              "please use --disable-host-loopback instead.\n");
      a->net.disable_host_loopback = TRUE;
      break;
    case OPT_DISABLE_HOST_LOOPBACK: a->net.disable_host_loopback = TRUE; break;
    case OPT_DISABLE_DNS: a->net.disable_dns = TRUE; break;
    case OPT_DEBUG: a->run.debug = TRUE; break;
    case OPT_ENABLE_SANDBOX:
    case OPT_CREATE_SANDBOX:
      s4n_fail ("--%s is not supported by npte (no mount-namespace sandbox; see "
                "docs/slirp4netns-compat.md)",
                c == OPT_ENABLE_SANDBOX ? "enable-sandbox" : "create-sandbox");
    case OPT_ENABLE_SECCOMP:
      s4n_fail ("--enable-seccomp is not supported by npte (no seccomp filter; see "
                "docs/slirp4netns-compat.md)");
    case 'h': s4n_usage (a->prog); exit (EXIT_SUCCESS);
    case 'v': s4n_version (); exit (EXIT_SUCCESS);
    default: s4n_usage (a->prog); exit (EXIT_FAILURE); /* getopt printed why */
    }
}

/**
 * parse_operands() - PID|PATH [TAPNAME]
 * @a: parsed arguments (run.attach_pid or run.attach_netns is set)
 * @argc: count
 * @argv: vector; operands from optind
 */
static void
parse_operands (S4nArgs *a, int argc, char **argv)
{
  const char *target = optind < argc ? argv[optind] : NULL;
  g_autoptr (GError) error = NULL;
  guint64 pid;

  if (g_strcmp0 (a->netns_type, "tapfd") == 0)
    s4n_fail ("--netns-type=tapfd is not supported by npte: give the namespace as a PID or "
              "with --netns-type=path, and npte opens the TAP in it");
  if (target == NULL)
    s4n_usage_error (a, "missing PID or PATH");
  if (a->netns_type == NULL || strcmp (a->netns_type, "pid") == 0)
    {
      if (!g_ascii_string_to_unsigned (target, 10, 1, G_MAXINT, &pid, NULL))
        s4n_usage_error (a, "PID must be a positive integer");
      a->run.attach_pid = (int) pid;
    }
  else if (access (target, F_OK) < 0)
    s4n_usage_error (a, "existing path expected when --netns-type=path: %s: %s", target,
                     g_strerror (errno));
  else
    a->run.attach_netns = target;
  if (optind + 1 < argc && !netcfg_set_ifname (&a->net, argv[optind + 1], &error))
    s4n_fail ("invalid TAPNAME: %s", error->message);
  if (argc - optind > 2)
    printf ("WARNING: too many arguments\n");
}

/**
 * print_startup() - slirp4netns' start-up lines, on stdout
 * @a: parsed arguments
 */
static void
print_startup (const S4nArgs *a)
{
  const NetCfg *n = &a->net;
  struct in_addr mask = { .s_addr = htonl (~0u << (32 - n->prefix)) };
  struct in_addr dhcp_end = { .s_addr = htonl (ntohl (n->dhcp_start.s_addr) + S4N_DHCP_LEASES
                                               - 1) };
  const struct { const char *label; const struct in_addr *addr; } lines[] = {
    { "Network:        ", &n->network }, { "Netmask:        ", &mask },
    { "Gateway:        ", &n->gateway }, { "DNS:            ", &n->dns },
    { "DHCP begin:     ", &n->dhcp_start }, { "DHCP end:       ", &dhcp_end },
    { "Recommended IP: ", &n->guest },
  };

  printf ("Starting slirp\n* MTU:             %u\n", n->mtu);
  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *ip = netcfg_format_ip (AF_INET, lines[i].addr);
      printf ("* %s %s\n", lines[i].label, ip);
    }
  if (a->run.api_socket != NULL)
    printf ("* API Socket:      %s\n", a->run.api_socket);
  if (n->has_outbound)
    {
      g_autofree char *ip = netcfg_format_ip (AF_INET, &n->outbound.sin_addr);
      printf ("* Outbound IPv4:    %s\n", ip);
    }
  if (n->has_outbound6)
    {
      g_autofree char *ip = netcfg_format_ip (AF_INET6, &n->outbound6.sin6_addr);
      printf ("* Outbound IPv6:    %s\n", ip);
    }
  if (n->has_mac)
    printf ("* MAC address:     %02x:%02x:%02x:%02x:%02x:%02x\n", n->mac[0], n->mac[1],
            n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
  if (!n->disable_host_loopback)
    {
      g_autofree char *gw = netcfg_format_ip (AF_INET, &n->gateway);
      printf ("WARNING: 127.0.0.1:* on the host is accessible as %s (set --disable-host-loopback "
              "to prohibit connecting to 127.0.0.1:*)\n", gw);
    }
  fflush (stdout);
}

int
cmd_slirp4netns (int argc, char **argv)
{
  S4nArgs a = { .prog = argv[0],
                .run = { .port_driver = "slirp", .ready_fd = -1, .exit_fd = -1,
                         .slirp4netns = TRUE, .busy_poll_us = -1 } };
  g_autoptr (GError) error = NULL;
  int c;

  netcfg_init_defaults (&a.net);
  a.net.mtu = S4N_DEFAULT_MTU;
  npte_log_init (NULL, FALSE);
  opterr = 1;
  optind = 1;
  while ((c = getopt_long (argc, argv, "ce:r:m:a:6hv", s4n_options, NULL)) != -1)
    apply_option (&a, c, optarg);
  if (a.mac != NULL && !a.configure)
    s4n_usage_error (&a, "--macaddr cannot be specified when --configure or -c is not specified");
  if (a.mac != NULL && !netcfg_set_mac (&a.net, a.mac, &error))
    s4n_fail ("%s", error->message);
  parse_operands (&a, argc, argv);
  a.net.no_configure = !a.configure;
  a.run.net = &a.net;
  npte_log_init (NULL, a.run.debug);
  print_startup (&a);
  return parent_run (&a.run);
}
