/* SPDX-License-Identifier: Apache-2.0 */
/* npte: the command line of the rootless networking helper. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "npte-error.h"
#include "parent.h"
#include "portspec.h"
#include "util.h"

int main (int argc, char **argv);

static const char usage_text[] =
  "Usage: npte run [OPTIONS] [--] CMD [ARG...]\n"
  "\n"
  "Run CMD in a new user, network and mount namespace and forward host ports into it.\n"
  "\n"
  "Options:\n"
  "  -p, --publish SPEC      forward a port: [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO]\n"
  "                          (PROTO: tcp tcp4 tcp6 udp udp4 udp6; default tcp); repeatable\n"
  "      --net none          network: loopback only (default)\n"
  "      --port-driver NAME  builtin (default) or none\n"
  "      --state-dir DIR     state directory (default: a fresh dir under $XDG_RUNTIME_DIR/npte)\n"
  "      --ready-fd FD       write \"1\" to FD when ports, API and CMD are up\n"
  "      --exit-fd FD        stop (SIGTERM to CMD) when FD is closed\n"
  "      --debug             debug logging\n"
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
 * cmd_run() - "npte run": parse options, then parent_run()
 * @argc: count (argv[0] is "run")
 * @argv: vector
 *
 * Return: exit code.
 */
static int
cmd_run (int argc, char **argv)
{
  enum { OPT_NET = 256, OPT_PORT_DRIVER, OPT_STATE_DIR, OPT_READY_FD, OPT_EXIT_FD, OPT_DEBUG };
  static const struct option longopts[] = {
    { "publish", required_argument, NULL, 'p' },
    { "net", required_argument, NULL, OPT_NET },
    { "port-driver", required_argument, NULL, OPT_PORT_DRIVER },
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { "ready-fd", required_argument, NULL, OPT_READY_FD },
    { "exit-fd", required_argument, NULL, OPT_EXIT_FD },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  g_autoptr (GArray) publish = g_array_new (FALSE, TRUE, sizeof (PortSpec));
  NpteRunOptions opts = { .port_driver = "builtin", .ready_fd = -1, .exit_fd = -1 };
  int c;

  optind = 1;
  while ((c = getopt_long (argc, argv, "+p:h", longopts, NULL)) != -1)
    {
      switch (c)
        {
        case 'p':
          add_publish (publish, optarg);
          break;
        case OPT_NET:
          if (strcmp (optarg, "none") != 0)
            usage_error ("unknown --net \"%s\" (supported: none)", optarg);
          break;
        case OPT_PORT_DRIVER:
          if (strcmp (optarg, "builtin") != 0 && strcmp (optarg, "none") != 0)
            usage_error ("unknown --port-driver \"%s\" (supported: builtin, none)", optarg);
          opts.port_driver = optarg;
          break;
        case OPT_STATE_DIR:
          if (optarg[0] == '\0')
            usage_error ("%s--state-dir must not be empty", "");
          opts.state_dir = optarg;
          break;
        case OPT_READY_FD:
          opts.ready_fd = parse_fd_option ("--ready-fd", optarg);
          break;
        case OPT_EXIT_FD:
          opts.exit_fd = parse_fd_option ("--exit-fd", optarg);
          break;
        case OPT_DEBUG:
          opts.debug = TRUE;
          break;
        case 'h':
          fputs (usage_text, stdout);
          return 0;
        default:
          fprintf (stderr, "Try 'npte --help'.\n");
          return 2;
        }
    }
  if (optind >= argc)
    usage_error ("%smissing command to run (npte run [OPTIONS] -- CMD [ARG...])", "");
  if (publish->len > 0 && strcmp (opts.port_driver, "none") == 0)
    usage_error ("%s--publish needs a port driver (not --port-driver=none)", "");
  opts.cmd_argv = &argv[optind];
  opts.publish = publish;
  npte_log_init (NULL, opts.debug);
  return parent_run (&opts);
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], CHILD_ARGV1) == 0)
    return child_main (argc, argv);
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
  fprintf (stderr, "npte: unknown command \"%s\"\nTry 'npte --help'.\n", argv[1]);
  return 2;
}
