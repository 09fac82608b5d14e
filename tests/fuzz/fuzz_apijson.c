/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: every decoder of the control API's JSON on the same input.
 * Beyond "no crash": what a decoder accepts must have passed the strict
 * syntax check, re-encoding it must give valid JSON that decodes to the
 * same value (PortSpec's "portCount" and "direction" included, written
 * only when they differ from one port, forward), failures are EINVAL with
 * a UTF-8 message, and the error decoder always returns UTF-8 text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apijson.h"
#include "npte-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  do { if (!(cond)) { fprintf (stderr, "check failed: %s (line %d)\n", #cond, __LINE__); abort (); } } while (0)

/* check_failure() - a decoder failed: EINVAL with a UTF-8 message. */
static void
check_failure (const GError *error)
{
  CHECK (error != NULL);
  CHECK (error->domain == NPTE_ERROR && error->code == EINVAL);
  CHECK (g_utf8_validate (error->message, -1, NULL));
}

/* check_json() - @json (from an encoder) passes the strict check. */
static void
check_json (const char *json)
{
  CHECK (json != NULL);
  CHECK (apijson_validate (json, strlen (json), NULL));
}

/* norm_count() - a count of 0 ("portCount" absent) is the count 1 (omitted). */
static int
norm_count (int count)
{
  return count == 0 ? 1 : count;
}

static gboolean
spec_equal (const PortSpec *a, const PortSpec *b)
{
  return a->proto == b->proto && strcmp (a->parent_ip, b->parent_ip) == 0
         && a->parent_port == b->parent_port && strcmp (a->child_ip, b->child_ip) == 0
         && a->child_port == b->child_port && norm_count (a->count) == norm_count (b->count)
         && !a->reverse == !b->reverse;
}

/*
 * check_extras() - @json, encoded from @spec, carries the npte extras
 * exactly when they say something: "portCount" for a count other than 1,
 * "direction" for a reverse spec. (A string value cannot fake these: its
 * quotes are escaped.)
 */
static void
check_extras (const PortSpec *spec, const char *json)
{
  CHECK (spec->reverse == FALSE || spec->reverse == TRUE);
  CHECK ((strstr (json, "\"portCount\":") != NULL) == (norm_count (spec->count) != 1));
  CHECK ((strstr (json, "\"direction\":\"reverse\"") != NULL) == spec->reverse);
  CHECK (strstr (json, "\"direction\":\"forward\"") == NULL);
}

static gboolean
entry_equal (const PortEntry *a, const PortEntry *b)
{
  return a->id == b->id && spec_equal (&a->spec, &b->spec)
         && memcmp (&a->counters, &b->counters, sizeof a->counters) == 0;
}

static void
fuzz_spec (const char *text, gsize size, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  PortSpec spec, back;

  if (!apijson_spec_decode (text, size, &spec, &error))
    {
      check_failure (error);
      return;
    }
  CHECK (valid);
  json = apijson_spec_encode (&spec);
  check_json (json);
  check_extras (&spec, json);
  /* An unknown proto is refused, so a decoded spec always re-decodes. */
  CHECK (apijson_spec_decode (json, strlen (json), &back, NULL));
  CHECK (spec_equal (&spec, &back));
}

static void
fuzz_status (const char *text, gsize size, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  PortEntry entry, back;

  if (!apijson_status_decode (text, size, &entry, &error))
    {
      check_failure (error);
      return;
    }
  CHECK (valid);
  json = apijson_status_encode (&entry);
  check_json (json);
  check_extras (&entry.spec, json);
  CHECK (apijson_status_decode (json, strlen (json), &back, NULL));
  CHECK (entry_equal (&entry, &back));
}

static void
fuzz_list (const char *text, gsize size, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = apijson_status_list_decode (text, size, &error);
  g_autoptr (GPtrArray) back = NULL;
  g_autofree char *json = NULL;

  if (list == NULL)
    {
      check_failure (error);
      return;
    }
  CHECK (valid);
  json = apijson_status_list_encode (list);
  check_json (json);
  back = apijson_status_list_decode (json, strlen (json), NULL);
  CHECK (back != NULL && back->len == list->len);
  for (guint i = 0; i < list->len; i++)
    CHECK (entry_equal (g_ptr_array_index (list, i), g_ptr_array_index (back, i)));
}

/* str_same() - equal, counting NULL and "" as the same (both are omitted). */
static gboolean
str_same (const char *a, const char *b)
{
  return g_strcmp0 (a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static gboolean
strv_same (const char *const *a, const char *const *b)
{
  static const char *const empty[] = { NULL };

  return g_strv_equal ((const char *const *) (a != NULL ? a : empty),
                       (const char *const *) (b != NULL ? b : empty));
}

static gboolean
info_same (const NpteInfo *a, const NpteInfo *b)
{
  return g_strcmp0 (a->api_version, b->api_version) == 0 && g_strcmp0 (a->version, b->version) == 0
         && g_strcmp0 (a->state_dir, b->state_dir) == 0 && a->child_pid == b->child_pid
         && g_strcmp0 (a->net_driver, b->net_driver) == 0 && strv_same (a->net_dns, b->net_dns)
         && str_same (a->net_child_ip, b->net_child_ip) && str_same (a->net_gateway, b->net_gateway)
         && a->net_mtu == b->net_mtu && g_strcmp0 (a->port_driver, b->port_driver) == 0
         && strv_same (a->port_protos, b->port_protos)
         && a->disallow_loopback_child_ip == b->disallow_loopback_child_ip;
}

static void
fuzz_info (const char *text, gsize size, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  NpteInfo *info = apijson_info_decode (text, size, &error);
  NpteInfo *back;

  if (info == NULL)
    {
      check_failure (error);
      return;
    }
  CHECK (valid);
  json = apijson_info_encode (info);
  check_json (json);
  back = apijson_info_decode (json, strlen (json), NULL);
  CHECK (back != NULL);
  CHECK (info_same (info, back));
  apijson_info_free (back);
  apijson_info_free (info);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  gboolean valid = apijson_validate (text, size, NULL);
  g_autofree char *message = apijson_error_decode (text, size);
  g_autofree char *pretty = apijson_pretty (text, size);

  CHECK (message != NULL && g_utf8_validate (message, -1, NULL));
  CHECK ((pretty != NULL) == valid);
  if (pretty != NULL)
    check_json (pretty);
  fuzz_spec (text, size, valid);
  fuzz_status (text, size, valid);
  fuzz_list (text, size, valid);
  fuzz_info (text, size, valid);
  return 0;
}
