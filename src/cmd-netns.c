/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "npte netns": managed named network namespaces (docs/netns.md).
 *
 * Every verb follows the same order: parse and validate every argument
 * (names first, so no path can leave the registry); --dry-run prints the
 * script and stops, taking no lock; take the global lock (state-changing
 * verbs and list); RequireManaged; kernel work; marker work. Usage errors,
 * invalid names and unmanaged or broken markers exit 2, other failures 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "netns-cfg.h"
#include "netns-keeper.h"
#include "netns-ops.h"
#include "netns-registry.h"
#include "netns-script.h"
#include "netns-show.h"
#include "network-ops.h"
#include "npte-error.h"
#include "util.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char netns_usage[] =
  "Usage: npte netns create NAME [--net=none|slirp] [--dry-run]\n"
  "       npte netns destroy NAME [--dry-run]\n"
  "       npte netns list [--json]\n"
  "       npte netns exec NAME [--] CMD [ARG...]\n"
  "       npte netns show NAME [--json]\n"
  "       npte netns link add NAME IFNAME type veth peer PEER [netns OTHER] [--dry-run]\n"
  "       npte netns link add NAME IFNAME type bridge [--dry-run]\n"
  "       npte netns link del NAME IFNAME [--dry-run]\n"
  "       npte netns link set NAME IFNAME up|down|mtu N|master BRIDGE|nomaster [--dry-run]\n"
  "       npte netns addr add|del NAME IFNAME ADDR/PREFIX [--dry-run]\n"
  "       npte netns route add|del NAME DEST|default [via GW] [dev IFNAME] [--dry-run]\n"
  "       npte netns neigh add NAME IP lladdr MAC dev IFNAME [--dry-run]\n"
  "       npte netns neigh del NAME IP dev IFNAME [--dry-run]\n"
  "\n"
  "Named network namespaces that npte creates and manages, rootless or as root.\n"
  "NAME: [a-z0-9][a-z0-9-]{0,62}. --dry-run prints a POSIX sh script that does the same\n"
  "and changes nothing. Ports: npte-port --netns NAME add|ls|rm. See npte-netns(1).\n";

/* Flags taken out of the words. */
typedef struct {
  gboolean help;
  gboolean dry_run;
  gboolean json;
  const char *net;   /* --net value, or NULL */
} Flags;

/* usage() - a usage error of npte netns; returns EXIT_USAGE. */
#define usage(...) npte_usage_error ("netns", __VA_ARGS__)

/* fail() - print the error once and return @code. */
#define fail(error, code) npte_fail ((error), (code))

/**
 * split_flags() - take --dry-run, --json and --net[=]X out of @argv
 * @argc: count
 * @argv: words after the verb
 * @flags: (out) flags
 * @words: (out) the other words, NULL-terminated
 *
 * Anything else, "-x" included, is a word: a misspelt option then fails the
 * name or grammar check, with exit status 2 like any usage error.
 */
static void
split_flags (int argc, char **argv, Flags *flags, GPtrArray *words)
{
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        flags->help = TRUE;
      else if (strcmp (a, "--dry-run") == 0)
        flags->dry_run = TRUE;
      else if (strcmp (a, "--json") == 0)
        flags->json = TRUE;
      else if (g_str_has_prefix (a, "--net="))
        flags->net = a + 6;
      else if (strcmp (a, "--net") == 0 && i + 1 < argc)
        flags->net = argv[++i];
      else
        g_ptr_array_add (words, argv[i]);
    }
  g_ptr_array_add (words, NULL);
}

/**
 * lock_or_fail() - take the global lock
 * @p: paths
 * @fd: (out) the lock fd
 *
 * Return: -1 on success, else the exit code (the error was printed).
 */
static int
lock_or_fail (const NetnsPaths *p, int *fd)
{
  GError *error = NULL;

  *fd = netns_lock (p, NETNS_LOCK_TIMEOUT_MS, &error);
  return *fd >= 0 ? -1 : fail (error, EXIT_FAIL);
}

/* print_script() - write a dry-run script to stdout. Return: 0. */
static int
print_script (char *script)
{
  fputs (script, stdout);
  g_free (script);
  return 0;
}

/* self_path() - (transfer full) the absolute path of this npte binary, for scripts. */
static char *
self_path (void)
{
  char *path = g_file_read_link ("/proc/self/exe", NULL);

  return path != NULL ? path : g_strdup ("npte");
}

/**
 * verb_create() - npte netns create NAME [--net=none|slirp] [--dry-run]
 * @p: paths
 * @words: positional words
 * @flags: flags
 *
 * Return: exit code.
 */
static int
verb_create (const NetnsPaths *p, char **words, const Flags *flags)
{
  GError *error = NULL;
  npte_autofd int lock = -1;
  gboolean slirp = g_strcmp0 (flags->net, "slirp") == 0;
  int rc;

  if (g_strv_length (words) != 1)
    return usage ("usage: npte netns create NAME [--net=none|slirp] [--dry-run]");
  if (!netns_name_valid (words[0], &error))
    return fail (error, EXIT_USAGE);
  if (flags->net != NULL && !slirp && strcmp (flags->net, "none") != 0)
    return usage ("unknown --net \"%s\" (none or slirp)", flags->net);
  if (flags->dry_run)
    {
      g_autofree char *npte = self_path ();
      return print_script (netns_script_create (p, npte, words[0], slirp));
    }
  if ((rc = lock_or_fail (p, &lock)) >= 0)
    return rc;
  switch (netns_marker_check (p, words[0], &error))
    {
    case NETNS_MARKER_PRESENT:
      npte_set_error (&error, EEXIST, "namespace %s exists already", words[0]);
      return fail (error, EXIT_FAIL);
    case NETNS_MARKER_BAD:
      return fail (error, EXIT_USAGE);
    case NETNS_MARKER_ABSENT:
    default:
      break;
    }
  if (!netns_ops_create (p, words[0], slirp, &error))
    return fail (error, EXIT_FAIL);
  if (!netns_marker_create (p, words[0], &error))
    {
      netns_ops_destroy (p, words[0], NULL);
      return fail (error, EXIT_FAIL);
    }
  return 0;
}

/**
 * verb_destroy() - npte netns destroy NAME [--dry-run]
 * @p: paths
 * @words: positional words
 * @flags: flags
 *
 * Return: exit code.
 */
static int
verb_destroy (const NetnsPaths *p, char **words, const Flags *flags)
{
  GError *error = NULL;
  npte_autofd int lock = -1;
  int rc;

  if (g_strv_length (words) != 1)
    return usage ("usage: npte netns destroy NAME [--dry-run]");
  if (!netns_name_valid (words[0], &error))
    return fail (error, EXIT_USAGE);
  if (flags->dry_run)
    {
      g_autofree char *npte = self_path ();
      return print_script (netns_script_destroy (p, npte, words[0]));
    }
  if ((rc = lock_or_fail (p, &lock)) >= 0)
    return rc;
  if (!netns_require_managed (p, words[0], &error))
    return fail (error, EXIT_USAGE);
  /* It leaves its networks first: a corrupt network index stops it here, unchanged. */
  if (!network_leave_all (p, words[0], &error))
    return fail (error, EXIT_FAIL);
  if (!netns_ops_destroy (p, words[0], &error) || !netns_marker_remove (p, words[0], &error))
    return fail (error, EXIT_FAIL);
  return 0;
}

/**
 * print_list() - the list, as text or JSON
 * @p: paths
 * @names: managed names, sorted
 * @json: JSON output
 */
static void
print_list (const NetnsPaths *p, const GPtrArray *names, gboolean json)
{
  g_autoptr (GString) out = g_string_new (json ? "[" : "");

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      npte_autofd int fd = netns_ops_open (p, name, NULL);
      if (!json)
        {
          g_string_append_printf (out, "%s%s\n", name, fd >= 0 ? "" : " (stale)");
          continue;
        }
      g_autofree char *state = netns_state_dir (p, name);
      g_autofree char *sock = g_build_filename (state, "api.sock", NULL);
      g_string_append (out, i > 0 ? ",{\"name\":" : "{\"name\":");
      netns_json_string (out, name);
      g_string_append_printf (out, ",\"state\":\"%s\",\"apiSocket\":", fd >= 0 ? "active"
                                                                                 : "stale");
      netns_json_string (out, sock);
      g_string_append (out, "}");
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
}

/**
 * verb_list() - npte netns list [--json]
 * @p: paths
 * @words: positional words (none)
 * @flags: flags
 *
 * Return: exit code.
 */
static int
verb_list (const NetnsPaths *p, char **words, const Flags *flags)
{
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (GPtrArray) skipped = NULL;
  int rc;

  if (words[0] != NULL || flags->dry_run)
    return usage ("usage: npte netns list [--json]");
  if ((rc = lock_or_fail (p, &lock)) >= 0)
    return rc;
  g_autoptr (GPtrArray) names = netns_registry_list (p, &skipped, &error);
  if (names == NULL)
    return fail (error, EXIT_FAIL);
  for (guint i = 0; i < skipped->len; i++)
    npte_warn ("ignoring %s: its marker is not a regular file",
               (char *) g_ptr_array_index (skipped, i));
  print_list (p, names, flags->json);
  return 0;
}

/**
 * verb_show() - npte netns show NAME [--json]
 * @p: paths
 * @words: positional words
 * @flags: flags
 *
 * Return: exit code.
 */
static int
verb_show (const NetnsPaths *p, char **words, const Flags *flags)
{
  GError *error = NULL;

  if (g_strv_length (words) != 1 || flags->dry_run)
    return usage ("usage: npte netns show NAME [--json]");
  if (!netns_name_valid (words[0], &error))
    return fail (error, EXIT_USAGE);
  if (!netns_require_managed (p, words[0], &error))
    return fail (error, EXIT_USAGE);
  g_autofree char *text = netns_ops_show (p, words[0], flags->json, &error);
  if (text == NULL)
    return fail (error, EXIT_FAIL);
  fputs (text, stdout);
  return 0;
}

/**
 * verb_exec() - npte netns exec NAME [--] CMD [ARG...]
 * @p: paths
 * @argc: count of the words after "exec"
 * @argv: the words (options of CMD are CMD's)
 *
 * Return: CMD's exit status, or 1/2 for npte's own failures.
 */
static int
verb_exec (const NetnsPaths *p, int argc, char **argv)
{
  GError *error = NULL;
  int i = 0;

  if (argc < 1)
    return usage ("usage: npte netns exec NAME [--] CMD [ARG...]");
  if (!netns_name_valid (argv[0], &error))
    return fail (error, EXIT_USAGE);
  i = 1;
  if (i < argc && strcmp (argv[i], "--") == 0)
    i++;
  if (i >= argc)
    return usage ("missing command (npte netns exec NAME [--] CMD [ARG...])");
  if (!netns_require_managed (p, argv[0], &error))
    return fail (error, EXIT_USAGE);
  int rc = netns_ops_exec (p, argv[0], &argv[i], &error);
  return rc >= 0 ? rc : fail (error, EXIT_FAIL);
}

/**
 * verb_cfg() - link / addr / route / neigh
 * @p: paths
 * @words: the object word and what follows
 * @flags: flags
 *
 * Return: exit code.
 */
static int
verb_cfg (const NetnsPaths *p, char **words, const Flags *flags)
{
  GError *error = NULL;
  npte_autofd int lock = -1;
  NetnsCfgOp op;
  int rc;

  if (flags->json || flags->net != NULL)
    return usage ("--json and --net are not options of %s", words[0]);
  if (!netns_cfg_parse ((int) g_strv_length (words), words, &op, &error))
    {
      usage ("%s: %s", words[0], error->message);
      g_clear_error (&error);
      return EXIT_USAGE;
    }
  if (flags->dry_run)
    {
      g_autofree char *npte = self_path ();
      return print_script (netns_script_cfg (p, npte, &op));
    }
  if ((rc = lock_or_fail (p, &lock)) >= 0)
    return rc;
  if (!netns_require_managed (p, op.ns, &error)
      || (op.other_ns[0] != '\0' && !netns_require_managed (p, op.other_ns, &error)))
    return fail (error, EXIT_USAGE);
  if (!netns_ops_configure (p, &op, &error))
    return fail (error, EXIT_FAIL);
  return 0;
}

int
cmd_netns (int argc, char **argv)
{
  g_autoptr (NetnsPaths) p = netns_paths_new ();
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  Flags flags = { 0 };

  if (argc < 2)
    return usage ("missing verb");
  const char *verb = argv[1];
  if (strcmp (verb, "--help") == 0 || strcmp (verb, "-h") == 0 || strcmp (verb, "help") == 0)
    {
      fputs (netns_usage, stdout);
      return 0;
    }
  if (strcmp (verb, "exec") == 0)
    return verb_exec (p, argc - 2, argv + 2);
  split_flags (argc - 2, argv + 2, &flags, words);
  if (flags.help)
    {
      fputs (netns_usage, stdout);
      return 0;
    }
  char **w = (char **) words->pdata;
  if (strcmp (verb, "create") == 0)
    return verb_create (p, w, &flags);
  if (strcmp (verb, "destroy") == 0 || strcmp (verb, "delete") == 0)
    return verb_destroy (p, w, &flags);
  if (strcmp (verb, "list") == 0 || strcmp (verb, "ls") == 0)
    return verb_list (p, w, &flags);
  if (strcmp (verb, "show") == 0)
    return verb_show (p, w, &flags);
  if (strcmp (verb, "link") == 0 || strcmp (verb, "addr") == 0 || strcmp (verb, "route") == 0
      || strcmp (verb, "neigh") == 0)
    {
      /* netns_cfg_parse() wants the object word first. */
      g_ptr_array_insert (words, 0, argv[1]);
      return verb_cfg (p, (char **) words->pdata, &flags);
    }
  return usage ("unknown verb \"%s\"", verb);
}

int
cmd_netns_keeper (int argc, char **argv)
{
  return netns_keeper_main (argc, argv);
}
