/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npte-port: manage the port forwards of a running npte over its REST API
 * (rootlessctl's commands and output, plus npte's counters).
 *
 * Every argument is checked before the first request, so a typo in the
 * third spec adds nothing; the requests then run one by one and stop at
 * the first API error (earlier ones stay done, as with rootlessctl).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "config.h"
#include "httpc.h"
#include "netns-registry.h"
#include "npte-error.h"
#include "portspec.h"
#include "statedir.h"

int main (int argc, char **argv);

/* Adding a port may wait for the namespace side; be generous. */
#define REQUEST_TIMEOUT_MS 30000

#define EXIT_ERROR 1
#define EXIT_USAGE 2

static const char usage_text[] =
  "Usage: npte-port [--socket PATH | --state-dir DIR | --netns NAME] [--json] [--debug] COMMAND [ARG...]\n"
  "\n"
  "Commands:\n"
  "  add SPEC...        publish ports and print their IDs; SPEC is\n"
  "                     [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO] (e.g. 8080:80/tcp)\n"
  "                     or the two arguments PROTO MAPPING (e.g. tcp 8080:80); a port may\n"
  "                     be a range, the same length on both sides (8000-8009:9000-9009)\n"
  "  add --reverse SPEC...\n"
  "                     namespace -> host: listen inside on [CHILDIP:]CHILDPORT (default\n"
  "                     loopback) and connect to PARENTIP:PARENTPORT on the host (default\n"
  "                     127.0.0.1), e.g. add --reverse tcp 127.0.0.1:5432:5432\n"
  "  ls, list           list published ports with their traffic counters\n"
  "  rm, remove ID...   unpublish ports and print their IDs\n"
  "  info               show the instance's API version, drivers and state dir\n"
  "  (rootlessctl's add-ports, list-ports and remove-ports work too)\n"
  "\n"
  "Options:\n"
  "  --socket PATH      the API socket\n"
  "  --state-dir DIR    the state dir of the instance (its api.sock)\n"
  "  --netns NAME       the namespace NAME of \"npte netns\" (its api.sock)\n"
  "  --json             JSON output: one object per line; info indented\n"
  "  --reverse          (add) the specs are reverse ports\n"
  "  --debug            show requests and responses on stderr\n"
  "  -h, --help         this help\n"
  "  -v, --version      print the version\n"
  "\n"
  "Without --socket or --state-dir: $NPTE_STATE_DIR/api.sock, else the one running npte.\n";

typedef struct {
  const char *socket;
  const char *state_dir;
  const char *netns;      /* --netns NAME */
  char *netns_state_dir;  /* its state dir, which state_dir then points to */
  gboolean json;
  gboolean debug;
  gboolean reverse; /* add --reverse */
  char *socket_path; /* resolved by resolve_socket() */
} Options;

typedef enum {
  CMD_ADD,
  CMD_LIST,
  CMD_REMOVE,
  CMD_INFO,
} Command;

static const struct {
  const char *name;
  Command cmd;
} commands[] = {
  { "add", CMD_ADD }, { "add-ports", CMD_ADD },
  { "ls", CMD_LIST }, { "list", CMD_LIST }, { "list-ports", CMD_LIST },
  { "rm", CMD_REMOVE }, { "remove", CMD_REMOVE }, { "remove-ports", CMD_REMOVE },
  { "info", CMD_INFO },
};

/**
 * usage_error() - print a usage error
 * @fmt: printf format
 *
 * Return: EXIT_USAGE.
 */
static int G_GNUC_PRINTF (1, 2)
usage_error (const char *fmt, ...)
{
  va_list ap;

  fputs ("npte-port: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputs ("\nTry 'npte-port --help'.\n", stderr);
  return EXIT_USAGE;
}

/**
 * fail() - print "npte-port: error: MESSAGE" once
 * @error: the error
 *
 * Return: EXIT_ERROR.
 */
static int
fail (const GError *error)
{
  fprintf (stderr, "npte-port: error: %s\n", error != NULL ? error->message : "unknown error");
  return EXIT_ERROR;
}

static void G_GNUC_PRINTF (2, 3)
debug (const Options *o, const char *fmt, ...)
{
  va_list ap;

  if (!o->debug)
    return;
  fputs ("npte-port: debug: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

/**
 * option_value() - the value of "--name VALUE" or "--name=VALUE"
 * @argv: arguments
 * @argc: their number
 * @i: (inout) index of the option; advanced past a separate value
 * @name: "--socket"
 * @out: (out) the value
 *
 * Return: 1 if argv[*i] is this option, 0 if not, -1 if its value is missing.
 */
static int
option_value (char **argv, int argc, int *i, const char *name, const char **out)
{
  gsize n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return 0;
  if (argv[*i][n] == '=')
    {
      *out = argv[*i] + n + 1;
      return 1;
    }
  if (argv[*i][n] != '\0')
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *out = argv[++*i];
  return 1;
}

/**
 * netns_option() - --netns NAME: the port API of a namespace of "npte netns"
 * @o: options; state_dir is pointed at the namespace's state dir
 *
 * Return: -1 to go on, or the exit code: 2 for a bad or unmanaged name.
 */
static int
netns_option (Options *o)
{
  g_autoptr (NetnsPaths) p = netns_paths_new ();
  g_autoptr (GError) error = NULL;

  if (o->socket != NULL || o->state_dir != NULL)
    return usage_error ("use --netns without --socket or --state-dir");
  if (!netns_name_valid (o->netns, &error) || !netns_require_managed (p, o->netns, &error))
    {
      fprintf (stderr, "npte-port: error: %s\n", error->message);
      return EXIT_USAGE;
    }
  o->netns_state_dir = netns_state_dir (p, o->netns);
  o->state_dir = o->netns_state_dir;
  return -1;
}

/**
 * parse_args() - options (anywhere before "--") and the command words
 * @argc: argument count
 * @argv: arguments
 * @o: (out) options
 * @words: (out) command and its arguments
 *
 * Return: -1 to go on, else the exit code (0 after --help/--version).
 */
static int
parse_args (int argc, char **argv, Options *o, GPtrArray *words)
{
  gboolean opts_done = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      int r;

      if (opts_done || a[0] != '-' || a[1] == '\0')
        g_ptr_array_add (words, argv[i]);
      else if (strcmp (a, "--") == 0)
        opts_done = TRUE;
      else if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        {
          fputs (usage_text, stdout);
          return 0;
        }
      else if (strcmp (a, "-v") == 0 || strcmp (a, "--version") == 0)
        {
          printf ("npte-port version %s\n", NPTE_VERSION);
          return 0;
        }
      else if (strcmp (a, "--json") == 0)
        o->json = TRUE;
      else if (strcmp (a, "--debug") == 0)
        o->debug = TRUE;
      else if (strcmp (a, "--reverse") == 0)
        o->reverse = TRUE;
      else if ((r = option_value (argv, argc, &i, "--socket", &o->socket)) != 0
               || (r = option_value (argv, argc, &i, "--state-dir", &o->state_dir)) != 0
               || (r = option_value (argv, argc, &i, "--netns", &o->netns)) != 0)
        {
          if (r < 0)
            return usage_error ("option %s needs a value", a);
        }
      else
        return usage_error ("unknown option %s", a);
    }
  if (o->socket != NULL && o->state_dir != NULL)
    return usage_error ("use either --socket or --state-dir, not both");
  if ((o->socket != NULL && o->socket[0] == '\0') || (o->state_dir != NULL && o->state_dir[0] == '\0'))
    return usage_error ("empty --socket or --state-dir");
  if (o->netns != NULL)
    return netns_option (o);
  return -1;
}

/**
 * find_running() - the api.sock of the one npte running under the default base
 * @error: ENOENT when none runs, EEXIST listing them when several do
 *
 * Return: (transfer full) the socket path, or NULL.
 */
static char *
find_running (GError **error)
{
  g_autoptr (GPtrArray) dirs = statedir_list_running (error);
  g_autoptr (GString) list = NULL;

  if (dirs == NULL)
    {
      g_prefix_error (error, "cannot look for running npte instances: ");
      return NULL;
    }
  if (dirs->len == 1)
    return g_build_filename (g_ptr_array_index (dirs, 0), STATEDIR_API_SOCK, NULL);
  if (dirs->len == 0)
    {
      npte_set_error (error, ENOENT, "no running npte found (use --socket or --state-dir)");
      return NULL;
    }
  list = g_string_new (NULL);
  for (guint i = 0; i < dirs->len; i++)
    g_string_append_printf (list, "%s%s", i > 0 ? ", " : "", (char *) g_ptr_array_index (dirs, i));
  npte_set_error (error, EEXIST, "several npte instances are running: %s; choose one with "
                  "--state-dir", list->str);
  return NULL;
}

/**
 * resolve_socket() - set o->socket_path from the options, the environment, or discovery
 * @o: options
 * @error: error from find_running()
 *
 * Return: TRUE on success.
 */
static gboolean
resolve_socket (Options *o, GError **error)
{
  const char *env = g_getenv ("NPTE_STATE_DIR");

  if (o->socket != NULL)
    o->socket_path = g_strdup (o->socket);
  else if (o->state_dir != NULL)
    o->socket_path = g_build_filename (o->state_dir, STATEDIR_API_SOCK, NULL);
  else if (env != NULL && env[0] != '\0')
    o->socket_path = g_build_filename (env, STATEDIR_API_SOCK, NULL);
  else
    o->socket_path = find_running (error);
  if (o->socket_path != NULL)
    debug (o, "API socket %s", o->socket_path);
  return o->socket_path != NULL;
}

/**
 * api_call() - one request; a status other than @want becomes an error
 * @o: options (socket path, debug)
 * @method: method
 * @path: path
 * @body: JSON body or NULL
 * @want: the success status
 * @resp: (out) the response
 * @error: the server's message, or the transport error
 *
 * Return: TRUE if the server answered @want.
 */
static gboolean
api_call (const Options *o, const char *method, const char *path, const char *body,
          unsigned int want, HttpcResponse *resp, GError **error)
{
  g_autofree char *message = NULL;

  debug (o, "%s %s%s%s", method, path, body != NULL ? " " : "", body != NULL ? body : "");
  if (!httpc_request (o->socket_path, method, path, body, REQUEST_TIMEOUT_MS, resp, error))
    {
      int code = npte_error_code (*error);
      if (code == ENOENT || code == ECONNREFUSED)
        {
          g_autofree char *old = g_strdup ((*error)->message);
          g_clear_error (error);
          return npte_set_error (error, code, "%s (is npte running?)", old);
        }
      return FALSE;
    }
  debug (o, "-> %u %s", resp->status, resp->body);
  if (resp->status == want)
    return TRUE;
  message = apijson_error_decode (resp->body, resp->body_len);
  if (message[0] == '\0')
    return npte_set_error (error, EIO, "HTTP %u from %s", resp->status, o->socket_path);
  return npte_set_error (error, resp->status == 400 ? EINVAL : EIO, "%s", message);
}

/**
 * parse_specs() - parse and validate every SPEC (or PROTO MAPPING pair)
 * @args: the arguments after "add"
 * @n: their number
 * @reverse: whether they are reverse ports (add --reverse)
 * @specs: (out) array of PortSpec
 * @error: EINVAL naming the bad argument
 *
 * Return: TRUE if all are valid.
 */
static gboolean
parse_specs (char **args, guint n, gboolean reverse, GArray *specs, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      PortSpec spec;
      gboolean ok;
      const char *shown = args[i];
      g_autofree char *pair = NULL;

      if (portproto_from_string (args[i]) != PORT_PROTO_INVALID)
        {
          if (i + 1 >= n)
            return npte_set_error (error, EINVAL, "protocol %s must be followed by a mapping "
                                   "such as 8080:80", args[i]);
          pair = g_strdup_printf ("%s %s", args[i], args[i + 1]);
          shown = pair;
          ok = portspec_parse_args (args[i], args[i + 1], &spec, error);
          i++;
        }
      else
        ok = portspec_parse (args[i], &spec, error);
      spec.reverse = reverse;
      if (!ok || !portspec_validate (&spec, error))
        {
          g_prefix_error (error, "port spec \"%s\": ", shown);
          return FALSE;
        }
      g_array_append_val (specs, spec);
    }
  return TRUE;
}

static int
cmd_add (Options *o, char **args, guint n)
{
  g_autoptr (GArray) specs = g_array_new (FALSE, TRUE, sizeof (PortSpec));
  g_autoptr (GError) error = NULL;

  if (n == 0)
    return usage_error ("add needs at least one port spec");
  if (!parse_specs (args, n, o->reverse, specs, &error) || !resolve_socket (o, &error))
    return fail (error);
  for (guint i = 0; i < specs->len; i++)
    {
      g_autofree char *body = apijson_spec_encode (&g_array_index (specs, PortSpec, i));
      g_auto (HttpcResponse) resp = { 0 };
      PortEntry entry;

      if (!api_call (o, "POST", "/v1/ports", body, 201, &resp, &error)
          || !apijson_status_decode (resp.body, resp.body_len, &entry, &error))
        return fail (error);
      if (o->json)
        {
          g_autofree char *json = apijson_status_encode (&entry);
          printf ("%s\n", json);
        }
      else
        printf ("%d\n", entry.id);
      fflush (stdout);
    }
  return 0;
}

/* The columns of "ls"; DIR is last so the rootlessctl-like columns keep their place. */
enum { N_COLUMNS = 12 };
static const char *const column_names[N_COLUMNS] = {
  "ID", "PROTO", "PARENTIP", "PARENTPORT", "CHILDIP", "CHILDPORT",
  "CONNS", "ACTIVE", "BYTES_IN", "BYTES_OUT", "ERRORS", "DIR",
};

/* ports_cell() - "8080", or "8000-8009" for a range. */
static char *
ports_cell (int port, int count)
{
  GString *s = g_string_new (NULL);

  if (count > 1)
    g_string_append_printf (s, "%d-%d", port, port + count - 1);
  else
    g_string_append_printf (s, "%d", port);
  return g_string_free (s, FALSE);
}

/**
 * table_row() - the cells of one port in "ls"
 * @e: the port
 * @cells: (out) N_COLUMNS newly allocated strings
 *
 * An empty parent IP shows as "*" for a forward port (all addresses) and
 * as "-" for a reverse one (the default target, loopback); an empty child
 * IP (the default target, or for a reverse port the default listen
 * addresses) as "-". Ranges show as A-B. DIR is "->" for host -> namespace
 * and "<-" for a reverse port.
 */
static void
table_row (const PortEntry *e, char **cells)
{
  const char *proto = portproto_to_string (e->spec.proto);
  int count = portspec_count (&e->spec);

  cells[0] = g_strdup_printf ("%d", e->id);
  cells[1] = g_strdup (proto[0] != '\0' ? proto : "?");
  cells[2] = g_strdup (e->spec.parent_ip[0] != '\0' ? e->spec.parent_ip
                       : e->spec.reverse              ? "-"
                                                      : "*");
  cells[3] = ports_cell (e->spec.parent_port, count);
  cells[4] = g_strdup (e->spec.child_ip[0] != '\0' ? e->spec.child_ip : "-");
  cells[5] = ports_cell (e->spec.child_port, count);
  cells[6] = g_strdup_printf ("%" G_GUINT64_FORMAT, e->counters.conns_accepted);
  cells[7] = g_strdup_printf ("%" G_GUINT64_FORMAT, e->counters.conns_active);
  cells[8] = g_strdup_printf ("%" G_GUINT64_FORMAT, e->counters.bytes_in);
  cells[9] = g_strdup_printf ("%" G_GUINT64_FORMAT, e->counters.bytes_out);
  cells[10] = g_strdup_printf ("%" G_GUINT64_FORMAT, e->counters.errors);
  cells[11] = g_strdup (e->spec.reverse ? "<-" : "->");
}

/**
 * print_table() - left-aligned columns, two spaces apart, no trailing blanks
 * @rows: array of N_COLUMNS-string rows (the header first)
 */
static void
print_table (GPtrArray *rows)
{
  int width[N_COLUMNS] = { 0 };

  for (guint r = 0; r < rows->len; r++)
    for (int c = 0; c < N_COLUMNS; c++)
      width[c] = MAX (width[c], (int) strlen (((char **) g_ptr_array_index (rows, r))[c]));
  for (guint r = 0; r < rows->len; r++)
    {
      char **cells = g_ptr_array_index (rows, r);
      for (int c = 0; c < N_COLUMNS - 1; c++)
        printf ("%-*s  ", width[c], cells[c]);
      printf ("%s\n", cells[N_COLUMNS - 1]);
    }
}

static int
cmd_list (Options *o, char **args, guint n)
{
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  if (n > 0)
    return usage_error ("ls takes no arguments");
  if (!resolve_socket (o, &error) || !api_call (o, "GET", "/v1/ports", NULL, 200, &resp, &error))
    return fail (error);
  list = apijson_status_list_decode (resp.body, resp.body_len, &error);
  if (list == NULL)
    return fail (error);
  if (o->json)
    {
      for (guint i = 0; i < list->len; i++)
        {
          g_autofree char *json = apijson_status_encode (g_ptr_array_index (list, i));
          printf ("%s\n", json);
        }
      return 0;
    }
  g_ptr_array_add (rows, g_strdupv ((char **) column_names));
  for (guint i = 0; i < list->len; i++)
    {
      char **cells = g_new0 (char *, N_COLUMNS + 1);
      table_row (g_ptr_array_index (list, i), cells);
      g_ptr_array_add (rows, cells);
    }
  print_table (rows);
  return 0;
}

/**
 * parse_ids() - every ID argument of rm: a positive decimal number
 * @args: the arguments
 * @n: their number
 * @ids: (out) array of int
 * @error: EINVAL "bad id X"
 *
 * Return: TRUE if all are valid.
 */
static gboolean
parse_ids (char **args, guint n, GArray *ids, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      guint64 v;
      if (!g_ascii_isdigit (args[i][0])
          || !g_ascii_string_to_unsigned (args[i], 10, 1, G_MAXINT, &v, NULL))
        return npte_set_error (error, EINVAL, "bad id \"%s\": IDs are positive numbers, as "
                               "npte-port ls shows them", args[i]);
      int id = (int) v;
      g_array_append_val (ids, id);
    }
  return TRUE;
}

static int
cmd_remove (Options *o, char **args, guint n)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GError) error = NULL;

  if (n == 0)
    return usage_error ("rm needs at least one port ID");
  if (!parse_ids (args, n, ids, &error) || !resolve_socket (o, &error))
    return fail (error);
  for (guint i = 0; i < ids->len; i++)
    {
      int id = g_array_index (ids, int, i);
      g_autofree char *path = g_strdup_printf ("/v1/ports/%d", id);
      g_auto (HttpcResponse) resp = { 0 };

      if (!api_call (o, "DELETE", path, NULL, 200, &resp, &error))
        return fail (error);
      printf ("%d\n", id);
      fflush (stdout);
    }
  return 0;
}

/* print_strv() - Go's %v of a []string: "[a b c]". */
static void
print_strv (const char *label, const char *const *v)
{
  printf ("  - %s: [", label);
  for (guint i = 0; v != NULL && v[i] != NULL; i++)
    printf ("%s%s", i > 0 ? " " : "", v[i]);
  printf ("]\n");
}

/**
 * print_info() - rootlessctl's human-readable info, plus npte's extras
 * @info: the decoded info
 */
static void
print_info (const NpteInfo *info)
{
  printf ("- REST API version: %s\n", info->api_version != NULL ? info->api_version : "");
  printf ("- Implementation version: %s\n", info->version != NULL ? info->version : "");
  printf ("- State Directory: %s\n", info->state_dir != NULL ? info->state_dir : "");
  printf ("- Child PID: %d\n", info->child_pid);
  if (info->net_driver != NULL)
    {
      printf ("- Network Driver: %s\n", info->net_driver);
      print_strv ("DNS", info->net_dns);
      if (info->net_child_ip != NULL)
        printf ("  - IP: %s\n", info->net_child_ip);
      if (info->net_gateway != NULL)
        printf ("  - Gateway: %s\n", info->net_gateway);
      if (info->net_mtu != 0)
        printf ("  - MTU: %d\n", info->net_mtu);
    }
  if (info->port_driver != NULL)
    {
      printf ("- Port Driver: %s\n", info->port_driver);
      print_strv ("Supported protocols", info->port_protos);
      if (info->disallow_loopback_child_ip)
        printf ("  - Disallow loopback child IP: true\n");
    }
}

static int
cmd_info (Options *o, char **args, guint n)
{
  g_auto (HttpcResponse) resp = { 0 };
  g_autoptr (GError) error = NULL;
  NpteInfo *info;

  if (n > 0)
    return usage_error ("info takes no arguments");
  if (!resolve_socket (o, &error) || !api_call (o, "GET", "/v1/info", NULL, 200, &resp, &error))
    return fail (error);
  info = apijson_info_decode (resp.body, resp.body_len, &error);
  if (info == NULL)
    return fail (error);
  if (o->json)
    {
      g_autofree char *pretty = apijson_pretty (resp.body, resp.body_len);
      printf ("%s\n", pretty);
    }
  else
    print_info (info);
  apijson_info_free (info);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new ();
  Options o = { 0 };
  int rc = parse_args (argc, argv, &o, words);
  char **args;
  guint n;

  if (rc >= 0)
    return rc;
  if (words->len == 0)
    return usage_error ("no command given");
  if (o.reverse && strcmp (words->pdata[0], "add") != 0
      && strcmp (words->pdata[0], "add-ports") != 0)
    return usage_error ("--reverse is only for add");
  args = (char **) words->pdata + 1;
  n = words->len - 1;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (commands[i].name, words->pdata[0]) != 0)
        continue;
      switch (commands[i].cmd)
        {
        case CMD_ADD:
          rc = cmd_add (&o, args, n);
          break;
        case CMD_LIST:
          rc = cmd_list (&o, args, n);
          break;
        case CMD_REMOVE:
          rc = cmd_remove (&o, args, n);
          break;
        case CMD_INFO:
          rc = cmd_info (&o, args, n);
          break;
        }
      g_free (o.socket_path);
      return rc;
    }
  return usage_error ("unknown command \"%s\"", (char *) words->pdata[0]);
}
