/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: api_handle() over a port manager with a fake driver.
 *
 * Input: up to MAX_REQUESTS records separated by NUL bytes. In a record the
 * first byte picks the method ('G' GET, 'P' POST, 'D' DELETE, 'U' PUT,
 * 'H' HEAD, 'O' OPTIONS, 'g' "get", else a table entry by value), the
 * bytes up to the first '\n' are the path, and the rest is the body (no
 * '\n': no body, passed as NULL).
 *
 * Checked for every request: the status is one the API documents; error
 * bodies are {"message": non-empty}; 405 and only 405 names allowed
 * methods; 200/201 bodies decode; a failed request leaves the port list
 * exactly as it was; the list stays valid, ordered by id, with as many
 * entries as the driver has open (one per range, whatever its length);
 * and no two listed entries conflict. The fake driver gives a port-0
 * forward a port as the kernel would: one no open forward covers.
 *
 * Each input gets a fresh port manager and frees everything it allocated,
 * so inputs do not depend on one another (ids start at 1, reproducers
 * replay alone) and libFuzzer sees as many frees as mallocs (an input that
 * keeps memory is re-run under LeakSanitizer). The list is fetched after a
 * request that succeeded and fully decoded only when its text changed: an
 * unchanged text already passed the same checks, so only its length is
 * compared again. A failed request is checked against a byte copy of every
 * entry taken before it, which is as strict as comparing list texts (the
 * list is a function of the table) and much cheaper.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "apijson.h"
#include "npte-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_REQUESTS 8

#define CHECK(cond) \
  do { if (!(cond)) { fprintf (stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort (); } } while (0)

typedef struct {
  int open;
  int next_auto_port;
} FakeDriver;

/**
 * check_validated() - what portmgr must have ensured before a driver sees @spec
 * @spec: the entry's spec
 *
 * The listening side (parent forward, child reverse) is 0..65535 with 0
 * only for one port; the dialled side is 1..65535; the range fits below
 * 65536 on both sides, and its count is canonical (1..65535).
 */
static void
check_validated (const PortSpec *spec)
{
  int listen = spec->reverse ? spec->child_port : spec->parent_port;
  int dial = spec->reverse ? spec->parent_port : spec->child_port;

  CHECK (spec->proto != PORT_PROTO_INVALID);
  CHECK (spec->count >= 1 && spec->count <= PORTSPEC_MAX_COUNT);
  CHECK (spec->reverse == FALSE || spec->reverse == TRUE);
  CHECK (listen >= 0 && listen + spec->count - 1 <= 65535);
  CHECK (listen != 0 || spec->count == 1);
  CHECK (dial >= 1 && dial + spec->count - 1 <= 65535);
}

static PortMgr *mgr;

/**
 * auto_port() - the port a bind to port 0 gets
 * @d: the driver
 * @entry: the entry being opened (already in the table, with port 0)
 *
 * As the kernel does, never a port that an open forward of the same
 * transport and direction covers: the next candidate from 40000 up that
 * conflicts with no other entry.
 *
 * Return: the port, or 0 if every candidate is taken.
 */
static int
auto_port (FakeDriver *d, const PortEntry *entry)
{
  g_autoptr (GPtrArray) open = portmgr_list (mgr);
  PortSpec probe = entry->spec;
  int *listen = probe.reverse ? &probe.child_port : &probe.parent_port;

  for (int tries = 0; tries < 10000; tries++)
    {
      gboolean taken = FALSE;

      *listen = 40000 + (d->next_auto_port++ % 10000);
      for (guint i = 0; i < open->len && !taken; i++)
        {
          const PortEntry *e = g_ptr_array_index (open, i);
          taken = e != entry && portspec_conflicts (&e->spec, &probe);
        }
      if (!taken)
        return *listen;
    }
  return 0;
}

/* Opens nothing; fails for listening ports ending in 13 to exercise rollback. */
static gboolean
fake_open (gpointer driver, PortEntry *entry, GError **error)
{
  FakeDriver *d = driver;
  int *listen = entry->spec.reverse ? &entry->spec.child_port : &entry->spec.parent_port;

  check_validated (&entry->spec);
  if (*listen % 100 == 13)
    return npte_set_error (error, EADDRINUSE, "bind: address already in use");
  if (*listen == 0 && (*listen = auto_port (d, entry)) == 0)
    return npte_set_error (error, EADDRINUSE, "bind: no free port");
  entry->counters.conns_accepted = (guint64) *listen;
  d->open++;
  return TRUE;
}

static void
fake_close (gpointer driver, PortEntry *entry)
{
  FakeDriver *d = driver;

  d->open--;
}

static const char *const fake_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };
static const PortDriverOps fake_ops = {
  .name = "fake", .protos = fake_protos, .supports_reverse = TRUE, .open = fake_open,
  .close = fake_close,
};
static const char *const fake_dns[] = { "10.0.2.3", NULL };
static const NpteInfo fake_info = {
  .api_version = "1.1.1", .version = "fuzz", .state_dir = "/tmp/x", .child_pid = 1,
  .net_driver = "slirp", .net_dns = fake_dns, .port_driver = "fake", .port_protos = fake_protos,
};

static FakeDriver driver;

/* The last list text that passed list_json()'s checks, and its length. */
static char *verified;
static int verified_len;

/**
 * check_list() - the shape of a GET /v1/ports body
 * @body: the body
 *
 * It decodes, is ordered by id, has one entry per open driver port, and
 * no two entries conflict.
 */
static void
check_list (const char *body)
{
  g_autoptr (GPtrArray) list = apijson_status_list_decode (body, strlen (body), NULL);

  CHECK (list != NULL);
  CHECK ((int) list->len == driver.open);
  for (guint i = 1; i < list->len; i++)
    CHECK (((PortEntry *) g_ptr_array_index (list, i - 1))->id
           < ((PortEntry *) g_ptr_array_index (list, i))->id);
  for (guint i = 0; i < list->len; i++)
    for (guint j = i + 1; j < list->len; j++)
      CHECK (!portspec_conflicts (&((PortEntry *) g_ptr_array_index (list, i))->spec,
                                  &((PortEntry *) g_ptr_array_index (list, j))->spec));
  g_free (verified);
  verified = g_strdup (body);
  verified_len = (int) list->len;
}

/* list_json() - the current list as the API returns it; checks its shape. */
static char *
list_json (void)
{
  ApiResponse resp;

  api_handle (mgr, &fake_info, "GET", "/v1/ports", NULL, 0, &resp);
  CHECK (resp.status == 200 && resp.body != NULL && resp.allow == NULL);
  if (verified != NULL && strcmp (resp.body, verified) == 0)
    CHECK (verified_len == driver.open);
  else
    check_list (resp.body);
  return resp.body;
}

/* snapshot() - the bytes of every entry in the table, in id order. */
static GByteArray *
snapshot (void)
{
  g_autoptr (GPtrArray) entries = portmgr_list (mgr);
  GByteArray *bytes = g_byte_array_sized_new (entries->len * (guint) sizeof (PortEntry));

  for (guint i = 0; i < entries->len; i++)
    g_byte_array_append (bytes, g_ptr_array_index (entries, i), sizeof (PortEntry));
  return bytes;
}

/* unchanged() - whether the table still holds exactly @before. */
static gboolean
unchanged (const GByteArray *before)
{
  g_autoptr (GByteArray) now = snapshot ();

  return now->len == before->len
         && (now->len == 0 || memcmp (now->data, before->data, now->len) == 0);
}

static const char *
pick_method (guint8 b)
{
  static const char *const others[] = { "GET", "POST", "DELETE", "PUT", "", "PATCH", "get", "TRACE" };

  switch (b)
    {
    case 'G': return "GET";
    case 'P': return "POST";
    case 'D': return "DELETE";
    case 'U': return "PUT";
    case 'H': return "HEAD";
    case 'O': return "OPTIONS";
    case 'g': return "get";
    default: return others[b % G_N_ELEMENTS (others)];
    }
}

/**
 * check_response() - the invariants of one answer
 * @resp: the answer
 */
static void
check_response (const ApiResponse *resp)
{
  switch (resp->status)
    {
    case 200:
    case 201:
      CHECK (resp->body == NULL || apijson_validate (resp->body, strlen (resp->body), NULL));
      break;
    case 400:
    case 404:
    case 405:
      {
        g_autofree char *message = NULL;
        CHECK (resp->body != NULL && apijson_validate (resp->body, strlen (resp->body), NULL));
        CHECK (g_str_has_prefix (resp->body, "{\"message\":\""));
        message = apijson_error_decode (resp->body, strlen (resp->body));
        CHECK (message[0] != '\0');
        break;
      }
    default:
      CHECK (!"undocumented status");
    }
  CHECK ((resp->status == 405) == (resp->allow != NULL));
}

/**
 * run_request() - one record: route it and check the outcome
 * @before: (transfer full) the list before the request
 * @rec: the record
 * @len: its length
 *
 * Return: (transfer full) the list after the request.
 */
static char *
run_request (char *before, const char *rec, gsize len)
{
  g_autofree char *old = before;
  g_autoptr (GByteArray) table = NULL;
  int open = driver.open;
  char *after;
  const char *nl;
  g_autofree char *path = NULL;
  const char *body = NULL;
  gsize body_len = 0;
  ApiResponse resp;

  if (len == 0)
    return g_steal_pointer (&old);
  nl = memchr (rec + 1, '\n', len - 1);
  path = g_strndup (rec + 1, nl != NULL ? (gsize) (nl - rec - 1) : len - 1);
  if (nl != NULL)
    {
      body = nl + 1;
      body_len = len - (gsize) (body - rec);
    }
  table = snapshot ();
  api_handle (mgr, &fake_info, pick_method ((guint8) rec[0]), path, body, body_len, &resp);
  check_response (&resp);
  if (resp.status >= 400)
    {
      CHECK (driver.open == open && unchanged (table));
      g_free (resp.body);
      return g_steal_pointer (&old);
    }
  after = list_json ();
  if (resp.status == 201)
    {
      PortEntry e;
      g_autofree char *id = NULL;
      CHECK (apijson_status_decode (resp.body, strlen (resp.body), &e, NULL));
      id = g_strdup_printf ("{\"id\":%d,", e.id);
      CHECK (strstr (after, id) != NULL);
    }
  g_free (resp.body);
  return after;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *p = (const char *) data;
  const char *end = p + size;
  g_autoptr (GPtrArray) left = NULL;
  g_autofree char *list = NULL;

  driver.next_auto_port = 0;
  mgr = portmgr_new (&fake_ops, &driver);
  list = list_json ();
  for (int n = 0; n < MAX_REQUESTS && p < end; n++)
    {
      const char *nul = memchr (p, '\0', (gsize) (end - p));
      gsize len = nul != NULL ? (gsize) (nul - p) : (gsize) (end - p);
      list = run_request (g_steal_pointer (&list), p, len);
      p += len + 1;
    }
  left = portmgr_list (mgr);
  for (guint i = 0; i < left->len; i++)
    CHECK (portmgr_remove (mgr, ((PortEntry *) g_ptr_array_index (left, i))->id, NULL));
  CHECK (driver.open == 0);
  g_clear_pointer (&left, g_ptr_array_unref);
  portmgr_free (mgr);
  mgr = NULL;
  g_clear_pointer (&verified, g_free);
  return 0;
}
