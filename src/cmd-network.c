/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "npte network": named networks of managed namespaces (docs/networks.md).
 *
 * Every verb: parse and validate every argument (exit 2); --dry-run reads
 * the index without the lock, prints the script and stops; take the global
 * lock of the netns registry; read the index (a corrupt one: exit 1, left
 * alone); rebuild the live state if it is gone (create, join, ls,
 * inspect); RequireManaged for a namespace that joins; kernel work; write
 * the index; rewrite the hosts files. Unknown networks and unmanaged
 * namespaces exit 2 (except for the idempotent leave), conflicts and
 * failures 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "netns-registry.h"
#include "network-ops.h"
#include "network-registry.h"
#include "network-script.h"
#include "npte-error.h"
#include "util.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char network_usage[] =
  "Usage: npte network create NAME [--subnet CIDR] [--gateway IP] [--outbound] [--dry-run]\n"
  "       npte network rm NAME [--force] [--dry-run]\n"
  "       npte network ls [--json]\n"
  "       npte network inspect NAME [--json]\n"
  "       npte network join NAME NETNS [--ip IP]\n"
  "       npte network leave NAME NETNS\n"
  "\n"
  "Named networks of managed namespaces (npte netns): each has an IPv4 subnet (default:\n"
  "the next free /24 of 10.44.0.0/16) and a gateway; members get stable addresses and\n"
  "reach each other by address and by name; with --outbound they also reach the outside\n"
  "(through a slirp of the infrastructure namespace). See npte-network(1).\n";

/* Options taken out of the words. */
typedef struct {
  gboolean help;
  gboolean dry_run;
  gboolean json;
  gboolean force;
  gboolean outbound;
  const char *subnet;
  const char *gateway;
  const char *ip;
  const char *bad;   /* an unknown option or one without its value */
} Flags;

/* One verb's context. */
typedef struct {
  const NetnsPaths *p;
  char **words;
  const Flags *flags;
} Ctx;

/* usage() - a usage error of npte network; returns EXIT_USAGE. */
#define usage(...) npte_usage_error ("network", __VA_ARGS__)

/* fail() - print the error once and return @code. */
#define fail(error, code) npte_fail ((error), (code))

/**
 * fail_code() - fail() with 2 for an invalid argument (EINVAL), else 1
 * @error: the error (freed)
 *
 * Return: the exit code.
 */
static int
fail_code (GError *error)
{
  return fail (error, npte_error_code (error) == EINVAL ? EXIT_USAGE : EXIT_FAIL);
}

/**
 * take_value() - the value of a "--opt VALUE" or "--opt=VALUE" option
 * @argc: count
 * @argv: words
 * @i: (inout) the option's index; advanced past a separate value
 * @name: "--subnet"
 * @out: (out) the value
 *
 * Return: TRUE when @argv[*i] is that option with a value.
 */
static gboolean
take_value (int argc, char **argv, int *i, const char *name, const char **out)
{
  gsize n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return FALSE;
  if (argv[*i][n] == '=')
    {
      *out = argv[*i] + n + 1;
      return TRUE;
    }
  if (argv[*i][n] != '\0' || *i + 1 >= argc)
    return FALSE;
  *out = argv[++*i];
  return TRUE;
}

/**
 * split_flags() - take the options out of @argv
 * @argc: count
 * @argv: words after the verb
 * @flags: (out) flags; an unknown option lands in flags->bad
 * @words: (out) the other words, NULL-terminated
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
      else if (strcmp (a, "--force") == 0 || strcmp (a, "-f") == 0)
        flags->force = TRUE;
      else if (strcmp (a, "--outbound") == 0)
        flags->outbound = TRUE;
      else if (take_value (argc, argv, &i, "--subnet", &flags->subnet)
               || take_value (argc, argv, &i, "--gateway", &flags->gateway)
               || take_value (argc, argv, &i, "--ip", &flags->ip))
        continue;
      else if (a[0] == '-' && a[1] != '\0')
        flags->bad = flags->bad != NULL ? flags->bad : a;
      else
        g_ptr_array_add (words, argv[i]);
    }
  g_ptr_array_add (words, NULL);
}

/**
 * check_flags() - only the options @allowed were given
 * @c: context
 * @verb: the verb's usage line
 * @allowed: a string of the letters of the options it takes: d(ry-run) j(son)
 *           f(orce) s(ubnet) g(ateway) i(p) o(utbound)
 *
 * Return: -1 when fine, else the exit code (usage printed).
 */
static int
check_flags (const Ctx *c, const char *verb, const char *allowed)
{
  const Flags *f = c->flags;

  if (f->bad != NULL)
    return usage ("unknown option \"%s\" or missing value (usage: %s)", f->bad, verb);
  if ((f->dry_run && !strchr (allowed, 'd')) || (f->json && !strchr (allowed, 'j'))
      || (f->force && !strchr (allowed, 'f')) || (f->subnet && !strchr (allowed, 's'))
      || (f->gateway && !strchr (allowed, 'g')) || (f->ip && !strchr (allowed, 'i'))
      || (f->outbound && !strchr (allowed, 'o')))
    return usage ("an option that %s does not take (usage: %s)", verb, verb);
  return -1;
}

/**
 * lock_and_load() - take the global lock and read the index
 * @p: paths
 * @lock: (out) the lock fd
 * @idx: (out) the index
 *
 * Return: -1 on success, else the exit code (the error was printed).
 */
static int
lock_and_load (const NetnsPaths *p, int *lock, NetIndex **idx)
{
  GError *error = NULL;
  g_autofree char *path = net_index_path (p);

  *lock = netns_lock (p, NETNS_LOCK_TIMEOUT_MS, &error);
  if (*lock < 0)
    {
      fail (error, EXIT_FAIL);
      return EXIT_FAIL;
    }
  *idx = net_index_load (path, &error);
  if (*idx == NULL)
    {
      /* Spelled out so that -1 visibly means "*idx is set". */
      fail (error, EXIT_FAIL);
      return EXIT_FAIL;
    }
  return -1;
}

/**
 * load_unlocked() - read the index and its text without the lock (--dry-run)
 * @p: paths
 * @text: (out) the text, NULL when there is no file
 * @error: error
 *
 * Return: (transfer full) the index, or NULL.
 */
static NetIndex *
load_unlocked (const NetnsPaths *p, char **text, GError **error)
{
  g_autofree char *path = net_index_path (p);
  NetIndex *idx = net_index_load (path, error);

  *text = NULL;
  if (idx != NULL && idx->networks->len > 0)
    g_file_get_contents (path, text, NULL, NULL);
  return idx;
}

/* self_path() - (transfer full) the absolute path of this npte binary, for scripts. */
static char *
self_path (void)
{
  char *path = g_file_read_link ("/proc/self/exe", NULL);

  return path != NULL ? path : g_strdup ("npte");
}

/**
 * unknown_network() - the error for a network that is not in the index
 * @name: its name
 *
 * Return: EXIT_USAGE.
 */
static int
unknown_network (const char *name)
{
  npte_err ("network %s does not exist", name);
  return EXIT_USAGE;
}

/**
 * members_of() - the member names of @n
 * @n: network
 *
 * Return: (transfer full) copies of the names.
 */
static GPtrArray *
members_of (const Network *n)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n->members->len; i++)
    g_ptr_array_add (names, g_strdup (((NetMember *) g_ptr_array_index (n->members, i))->workspace));
  return names;
}

/**
 * create_live() - the kernel work and the index write of "create"
 * @p: paths
 * @idx: the index, with @n
 * @n: the new network
 *
 * Return: exit code.
 */
static int
create_live (const NetnsPaths *p, const NetIndex *idx, const Network *n)
{
  GError *error = NULL;
  g_autofree char *path = net_index_path (p);
  g_autofree char *subnet = net_subnet_str (n);
  const gboolean alone = idx->networks->len == 1;
  gboolean others_outbound = FALSE;

  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *o = g_ptr_array_index (idx->networks, i);
      others_outbound |= o != n && o->outbound;
    }
  if (!network_ops_create (p, n, &error) || !net_index_save (path, idx, &error))
    {
      network_ops_remove (p, n, alone, n->outbound && !others_outbound, NULL);
      return fail (error, EXIT_FAIL);
    }
  printf ("%s\n", subnet);
  return 0;
}

/**
 * verb_create() - npte network create NAME [--subnet CIDR] [--gateway IP] [--outbound] [--dry-run]
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_create (const Ctx *c)
{
  static const char line[] =
    "npte network create NAME [--subnet CIDR] [--gateway IP] [--outbound] [--dry-run]";
  const char *name = c->words[0];
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  g_autofree char *before = NULL;
  g_autofree char *now = net_now ();
  guint32 a;
  guint pfx;
  int rc;

  if ((rc = check_flags (c, line, "dsgo")) >= 0)
    return rc;
  if (g_strv_length (c->words) != 1)
    return usage ("usage: %s", line);
  if (!net_name_valid (name, &error)
      || (c->flags->subnet != NULL && !net_cidr_parse (c->flags->subnet, &a, &pfx, &error))
      || (c->flags->gateway != NULL && !net_ip_parse (c->flags->gateway, &a, &error)))
    return fail (error, EXIT_USAGE);
  if (c->flags->dry_run)
    idx = load_unlocked (c->p, &before, &error);
  else if ((rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  else if (!network_ops_ensure_live (c->p, idx, &error))
    return fail (error, EXIT_FAIL);
  if (idx == NULL)
    return fail (error, EXIT_FAIL);
  const Network *n = net_index_add (idx, name, c->flags->subnet, c->flags->gateway,
                                    c->flags->outbound, now, &error);
  if (n == NULL)
    return fail_code (error);
  if (c->flags->dry_run)
    {
      g_autofree char *npte = self_path ();
      g_autofree char *script = network_script_create (c->p, npte, before, idx, n);
      fputs (script, stdout);
      return 0;
    }
  return create_live (c->p, idx, n);
}

/**
 * read_hosts_files() - the hosts file of each member of @n, for the script of rm
 * @p: paths
 * @n: network
 *
 * Return: (transfer full) member name to text; members without the file are missing.
 */
static GHashTable *
read_hosts_files (const NetnsPaths *p, const Network *n)
{
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      g_autofree char *conf = netns_conf_dir (p, m->workspace);
      g_autofree char *path = g_build_filename (conf, "hosts", NULL);
      char *text = NULL;

      if (g_file_get_contents (path, &text, NULL, NULL))
        g_hash_table_insert (out, g_strdup (m->workspace), text);
    }
  return out;
}

/**
 * verb_rm() - npte network rm NAME [--force] [--dry-run]
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_rm (const Ctx *c)
{
  static const char line[] = "npte network rm NAME [--force] [--dry-run]";
  const char *name = c->words[0];
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  g_autofree char *before = NULL;
  g_autofree char *path = net_index_path (c->p);
  int rc;

  if ((rc = check_flags (c, line, "df")) >= 0)
    return rc;
  if (g_strv_length (c->words) != 1)
    return usage ("usage: %s", line);
  if (!net_name_valid (name, &error))
    return fail (error, EXIT_USAGE);
  if (c->flags->dry_run && (idx = load_unlocked (c->p, &before, &error)) == NULL)
    return fail (error, EXIT_FAIL);
  if (!c->flags->dry_run && (rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  Network *n = net_index_find (idx, name);
  if (n == NULL)
    return unknown_network (name);
  if (n->members->len > 0 && !c->flags->force)
    {
      g_autoptr (GPtrArray) names = members_of (n);
      g_ptr_array_add (names, NULL);
      g_autofree char *list = g_strjoinv (", ", (char **) names->pdata);
      npte_err ("network %s has %u member%s (%s): 'npte network leave' them first, or use "
                "--force", name, n->members->len, n->members->len == 1 ? "" : "s", list);
      return EXIT_FAIL;
    }
  guint at = 0;
  g_ptr_array_find (idx->networks, n, &at);
  g_autoptr (Network) gone = g_ptr_array_steal_index (idx->networks, at);
  if (c->flags->dry_run)
    {
      g_autofree char *npte = self_path ();
      g_autoptr (GHashTable) old_hosts = read_hosts_files (c->p, gone);
      g_autofree char *script = network_script_rm (c->p, npte, before, idx, gone, old_hosts);
      fputs (script, stdout);
      return 0;
    }
  if (!network_ops_remove (c->p, gone, idx->networks->len == 0,
                           gone->outbound && !net_index_has_outbound (idx), &error)
      || !net_index_save (path, idx, &error))
    return fail (error, EXIT_FAIL);
  g_autoptr (GPtrArray) names = members_of (gone);
  network_ops_write_hosts (c->p, idx, names);
  return 0;
}

/**
 * ensure_live_or_warn() - rebuild the live state for a reading verb; failure is a warning
 * @p: paths
 * @idx: the index
 */
static void
ensure_live_or_warn (const NetnsPaths *p, const NetIndex *idx)
{
  g_autoptr (GError) error = NULL;

  if (!network_ops_ensure_live (p, idx, &error))
    npte_warn ("%s", error->message);
}

/**
 * print_table() - "NAME SUBNET GATEWAY OUTBOUND MEMBERS" and a line per network
 * @idx: the index
 */
static void
print_table (const NetIndex *idx)
{
  char gw[NET_IP_STRLEN];

  printf ("%-24s %-18s %-15s %-8s %s\n", "NAME", "SUBNET", "GATEWAY", "OUTBOUND", "MEMBERS");
  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      g_autofree char *subnet = net_subnet_str (n);
      printf ("%-24s %-18s %-15s %-8s %u\n", n->name, subnet, net_ip_str (n->gateway, gw),
              n->outbound ? "yes" : "no", n->members->len);
    }
}

/**
 * verb_ls() - npte network ls [--json]
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_ls (const Ctx *c)
{
  static const char line[] = "npte network ls [--json]";
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  int rc;

  if ((rc = check_flags (c, line, "j")) >= 0)
    return rc;
  if (c->words[0] != NULL)
    return usage ("usage: %s", line);
  if ((rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  ensure_live_or_warn (c->p, idx);
  if (c->flags->json)
    {
      g_autofree char *json = net_networks_to_json (idx);
      printf ("%s\n", json);
    }
  else
    print_table (idx);
  return 0;
}

/**
 * print_network() - one network as text
 * @n: the network
 */
static void
print_network (const Network *n)
{
  g_autofree char *subnet = net_subnet_str (n);
  char buf[NET_IP_STRLEN];

  printf ("name: %s\nsubnet: %s\n", n->name, subnet);
  printf ("gateway: %s\ncreated_at: %s\n", net_ip_str (n->gateway, buf), n->created_at);
  printf ("outbound: %s\nmembers:", n->outbound ? "yes" : "no");
  if (n->members->len == 0)
    printf (" none");
  printf ("\n");
  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      printf ("  %-15s %s\n", net_ip_str (m->ip, buf), m->workspace);
    }
}

/**
 * verb_inspect() - npte network inspect NAME [--json]
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_inspect (const Ctx *c)
{
  static const char line[] = "npte network inspect NAME [--json]";
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  int rc;

  if ((rc = check_flags (c, line, "j")) >= 0)
    return rc;
  if (g_strv_length (c->words) != 1)
    return usage ("usage: %s", line);
  if (!net_name_valid (c->words[0], &error))
    return fail (error, EXIT_USAGE);
  if ((rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  const Network *n = net_index_find (idx, c->words[0]);
  if (n == NULL)
    return unknown_network (c->words[0]);
  ensure_live_or_warn (c->p, idx);
  if (c->flags->json)
    {
      g_autofree char *json = net_network_to_json (n);
      printf ("%s\n", json);
    }
  else
    print_network (n);
  return 0;
}

/**
 * join_live() - the kernel work, index write and hosts files of "join"
 * @p: paths
 * @idx: the index, @ws in @n already
 * @n: the network
 * @ws: the namespace
 * @ip: its address
 * @is_new: @ws was not a member before (undo it on failure)
 *
 * Return: exit code.
 */
static int
join_live (const NetnsPaths *p, NetIndex *idx, Network *n, const char *ws, guint32 ip,
           gboolean is_new)
{
  GError *error = NULL;
  g_autofree char *path = net_index_path (p);
  char buf[NET_IP_STRLEN];

  if (!network_ops_join (p, n, ws, ip, &error))
    {
      if (is_new)
        network_ops_leave (p, n, ip, NULL);
      return fail (error, EXIT_FAIL);
    }
  if (is_new && !net_index_save (path, idx, &error))
    {
      network_ops_leave (p, n, ip, NULL);
      return fail (error, EXIT_FAIL);
    }
  g_autoptr (GPtrArray) names = members_of (n);
  network_ops_write_hosts (p, idx, names);
  printf ("%s\n", net_ip_str (ip, buf));
  return 0;
}

/**
 * verb_join() - npte network join NAME NETNS [--ip IP]
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_join (const Ctx *c)
{
  static const char line[] = "npte network join NAME NETNS [--ip IP]";
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  guint32 ip;
  int rc;

  if ((rc = check_flags (c, line, "i")) >= 0)
    return rc;
  if (g_strv_length (c->words) != 2)
    return usage ("usage: %s", line);
  const char *name = c->words[0], *ws = c->words[1];
  if (!net_name_valid (name, &error) || !netns_name_valid (ws, &error)
      || (c->flags->ip != NULL && !net_ip_parse (c->flags->ip, &ip, &error)))
    return fail (error, EXIT_USAGE);
  if ((rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  if (!netns_require_managed (c->p, ws, &error))
    return fail (error, EXIT_USAGE);
  Network *n = net_index_find (idx, name);
  if (n == NULL)
    return unknown_network (name);
  if (!network_ops_ensure_live (c->p, idx, &error))
    return fail (error, EXIT_FAIL);
  gboolean is_new = net_member_find (n, ws) == NULL;
  if (!net_join (n, ws, c->flags->ip, &ip, &error))
    return fail_code (error);
  return join_live (c->p, idx, n, ws, ip, is_new);
}

/**
 * verb_leave() - npte network leave NAME NETNS (idempotent)
 * @c: context
 *
 * Return: exit code.
 */
static int
verb_leave (const Ctx *c)
{
  static const char line[] = "npte network leave NAME NETNS";
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autoptr (NetIndex) idx = NULL;
  g_autofree char *path = net_index_path (c->p);
  int rc;

  if ((rc = check_flags (c, line, "")) >= 0)
    return rc;
  if (g_strv_length (c->words) != 2)
    return usage ("usage: %s", line);
  const char *name = c->words[0], *ws = c->words[1];
  if (!net_name_valid (name, &error) || !netns_name_valid (ws, &error))
    return fail (error, EXIT_USAGE);
  if ((rc = lock_and_load (c->p, &lock, &idx)) >= 0)
    return rc;
  Network *n = net_index_find (idx, name);
  const NetMember *m = n != NULL ? net_member_find (n, ws) : NULL;
  if (m == NULL)
    return 0;
  if (!network_ops_leave (c->p, n, m->ip, &error))
    return fail (error, EXIT_FAIL);
  net_leave (n, ws);
  if (!net_index_save (path, idx, &error))
    return fail (error, EXIT_FAIL);
  g_autoptr (GPtrArray) names = members_of (n);
  g_ptr_array_add (names, g_strdup (ws));
  network_ops_write_hosts (c->p, idx, names);
  return 0;
}

/**
 * verb_leave_all() - plumbing for the script of "npte netns destroy --dry-run"
 * @c: context
 *
 * "npte network __leave-all NETNS": NETNS leaves every network. Without an
 * index there is nothing to do and nothing is touched.
 *
 * Return: exit code.
 */
static int
verb_leave_all (const Ctx *c)
{
  GError *error = NULL;
  npte_autofd int lock = -1;
  g_autofree char *path = net_index_path (c->p);

  if (g_strv_length (c->words) != 1 || c->flags->bad != NULL)
    return usage ("usage: npte network __leave-all NETNS");
  if (!netns_name_valid (c->words[0], &error))
    return fail (error, EXIT_USAGE);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return 0;
  lock = netns_lock (c->p, NETNS_LOCK_TIMEOUT_MS, &error);
  if (lock < 0 || !network_leave_all (c->p, c->words[0], &error))
    return fail (error, EXIT_FAIL);
  return 0;
}

int
cmd_network (int argc, char **argv)
{
  g_autoptr (NetnsPaths) p = netns_paths_new ();
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  Flags flags = { 0 };
  static const struct {
    const char *verb;
    int (*run) (const Ctx *c);
  } verbs[] = {
    { "create", verb_create }, { "rm", verb_rm }, { "remove", verb_rm },
    { "ls", verb_ls }, { "list", verb_ls }, { "inspect", verb_inspect },
    { "join", verb_join }, { "leave", verb_leave }, { "__leave-all", verb_leave_all },
  };

  if (argc < 2)
    return usage ("missing verb");
  split_flags (argc - 2, argv + 2, &flags, words);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0 || flags.help)
    {
      fputs (network_usage, stdout);
      return 0;
    }
  Ctx c = { p, (char **) words->pdata, &flags };
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (argv[1], verbs[i].verb) == 0)
      return verbs[i].run (&c);
  return usage ("unknown verb \"%s\"", argv[1]);
}
