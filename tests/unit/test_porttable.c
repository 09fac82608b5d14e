/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/porttable.c: id allocation (from 1, never reused),
 * lookup, removal, rollback, ordered listing, the conflict check and its
 * message, a 10 000-port table, port ranges (one entry each, a 10 000-port
 * range beside 10 000 single ports), reverse entries and the port index
 * behind the check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "npte-error.h"
#include "porttable.h"

int main (void);

/* spec_from() - parse and validate @text, failing the test if it does not. */
static PortSpec
spec_from (const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  if (!portspec_parse (text, &spec, &error) || !portspec_validate (&spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/* spec_rev() - spec_from() of a reverse spec. */
static PortSpec
spec_rev (const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  assert_true (portspec_parse (text, &spec, NULL));
  spec.reverse = TRUE;
  if (!portspec_validate (&spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/* add_rev() - add reverse @text to @table and return the new id. */
static int
add_rev (PortTable *table, const char *text)
{
  PortSpec spec = spec_rev (text);

  return porttable_add (table, &spec)->id;
}

/* add() - add @text to @table and return the new id. */
static int
add (PortTable *table, const char *text)
{
  PortSpec spec = spec_from (text);

  return porttable_add (table, &spec)->id;
}

/* assert_ids() - the listed ids are exactly @want (terminated by 0). */
static void
assert_ids (const PortTable *table, const int *want)
{
  g_autoptr (GPtrArray) list = porttable_list (table);
  guint n = 0;

  while (want[n] != 0)
    n++;
  assert_int_equal (list->len, n);
  assert_int_equal (porttable_size (table), n);
  for (guint i = 0; i < n; i++)
    {
      const PortEntry *entry = g_ptr_array_index (list, i);

      assert_int_equal (entry->id, want[i]);
      assert_ptr_equal (entry, porttable_lookup (table, want[i]));
    }
}

static void
test_empty (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  g_autoptr (GPtrArray) list = porttable_list (table);
  PortSpec spec = spec_from ("8080:80/tcp");

  assert_int_equal (porttable_size (table), 0);
  assert_int_equal (list->len, 0);
  assert_null (porttable_lookup (table, 1));
  assert_null (porttable_lookup (table, 0));
  assert_null (porttable_lookup (table, -1));
  assert_false (porttable_remove (table, 1));
  assert_false (porttable_rollback (table, 1));
  assert_true (porttable_check (table, &spec, NULL));
  porttable_free (NULL);
}

static void
test_add_copies_and_zeroes (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  PortSpec spec = spec_from ("127.0.0.1:8080:80/tcp");
  PortEntry *entry = porttable_add (table, &spec);

  assert_int_equal (entry->id, 1);
  /* The spec is copied: changing the caller's copy changes nothing. */
  spec.parent_port = 9999;
  g_strlcpy (spec.parent_ip, "10.0.0.1", sizeof spec.parent_ip);
  assert_int_equal (entry->spec.parent_port, 8080);
  assert_string_equal (entry->spec.parent_ip, "127.0.0.1");
  assert_null (entry->handle);
  assert_int_equal (entry->counters.conns_accepted, 0);
  assert_int_equal (entry->counters.conns_active, 0);
  assert_int_equal (entry->counters.bytes_in, 0);
  assert_int_equal (entry->counters.bytes_out, 0);
  assert_int_equal (entry->counters.errors, 0);
  assert_ptr_equal (porttable_lookup (table, 1), entry);
}

static void
test_ids_never_reused (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();

  assert_int_equal (add (table, "8081:80/tcp"), 1);
  assert_int_equal (add (table, "8082:80/tcp"), 2);
  assert_int_equal (add (table, "8083:80/tcp"), 3);
  assert_true (porttable_remove (table, 2));
  assert_false (porttable_remove (table, 2));
  assert_null (porttable_lookup (table, 2));
  assert_int_equal (add (table, "8084:80/tcp"), 4);
  /* Removing the newest entry does not give its id back either. */
  assert_true (porttable_remove (table, 4));
  assert_int_equal (add (table, "8085:80/tcp"), 5);
  assert_ids (table, (const int[]) { 1, 3, 5, 0 });
  /* Removing everything does not reset the counter. */
  assert_true (porttable_remove (table, 1));
  assert_true (porttable_remove (table, 3));
  assert_true (porttable_remove (table, 5));
  assert_ids (table, (const int[]) { 0 });
  assert_int_equal (add (table, "8086:80/tcp"), 6);
}

static void
test_rollback (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();

  assert_int_equal (add (table, "8081:80/tcp"), 1);
  assert_int_equal (add (table, "8082:80/tcp"), 2);
  /* Rolling back the newest entry gives its id back. */
  assert_true (porttable_rollback (table, 2));
  assert_null (porttable_lookup (table, 2));
  assert_int_equal (add (table, "8083:80/tcp"), 2);
  /* Rolling back an older entry only removes it. */
  assert_int_equal (add (table, "8084:80/tcp"), 3);
  assert_true (porttable_rollback (table, 2));
  assert_int_equal (add (table, "8085:80/tcp"), 4);
  assert_false (porttable_rollback (table, 2));
  assert_false (porttable_rollback (table, 99));
  assert_ids (table, (const int[]) { 1, 3, 4, 0 });
  /* A removed id stays used even if a rollback follows. */
  assert_true (porttable_remove (table, 4));
  assert_true (porttable_rollback (table, 3));
  assert_int_equal (add (table, "8086:80/tcp"), 5);
}

static void
test_list_numeric_order (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  g_autoptr (GPtrArray) list = NULL;

  for (int i = 0; i < 25; i++)
    {
      g_autofree char *text = g_strdup_printf ("%d:80/udp", 10000 + i);
      assert_int_equal (add (table, text), i + 1);
    }
  for (int id = 3; id <= 25; id += 3)
    assert_true (porttable_remove (table, id));
  list = porttable_list (table);
  assert_int_equal (list->len, 25 - 8);
  for (guint i = 1; i < list->len; i++)
    {
      const PortEntry *prev = g_ptr_array_index (list, i - 1);
      const PortEntry *cur = g_ptr_array_index (list, i);

      assert_true (prev->id < cur->id);
      assert_int_equal (cur->spec.parent_port, 10000 + cur->id - 1);
    }
  /* The list is a container only: freeing it leaves the entries. */
  g_clear_pointer (&list, g_ptr_array_unref);
  assert_non_null (porttable_lookup (table, 10));
  assert_int_equal (porttable_lookup (table, 10)->spec.parent_port, 10009);
}

/* check_fails() - adding @text to @table conflicts with exactly @message. */
static void
check_fails (const PortTable *table, const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = spec_from (text);

  assert_false (porttable_check (table, &spec, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EADDRINUSE));
  assert_string_equal (error->message, message);
}

static void
test_check (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  PortSpec spec;

  add (table, "8080:80/tcp");
  add (table, "127.0.0.1:9090:[::1]:90/udp4");
  add (table, "[::1]:7070:70/tcp6");

  check_fails (table, "8080:80/tcp", "conflict with ID 1 (8080:80/tcp)");
  check_fails (table, "0.0.0.0:8080:81/tcp4", "conflict with ID 1 (8080:80/tcp)");
  check_fails (table, "127.0.0.1:8080:81/tcp", "conflict with ID 1 (8080:80/tcp)");
  check_fails (table, "9090:90/udp", "conflict with ID 2 (127.0.0.1:9090:[::1]:90/udp4)");
  check_fails (table, "[::]:7070:70/tcp", "conflict with ID 3 ([::1]:7070:70/tcp6)");

  spec = spec_from ("8080:80/udp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_from ("127.0.0.2:9090:90/udp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_from ("0.0.0.0:7070:70/tcp4");
  assert_true (porttable_check (table, &spec, NULL));
  /* Parent port 0 never conflicts, not even with another 0. */
  add (table, "0:80/tcp");
  spec = spec_from ("0:80/tcp");
  assert_true (porttable_check (table, &spec, NULL));

  /* The first conflicting entry (lowest id) is named. */
  add (table, "127.0.0.1:6060:60/tcp");
  add (table, "6060:60/tcp6");
  check_fails (table, "6060:61/tcp", "conflict with ID 5 (127.0.0.1:6060:60/tcp)");
  /* Once removed, no conflict. */
  assert_true (porttable_remove (table, 1));
  spec = spec_from ("8080:80/tcp");
  assert_true (porttable_check (table, &spec, NULL));
}

static void
test_ten_thousand (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  g_autoptr (GPtrArray) list = NULL;
  gint64 start = g_get_monotonic_time ();
  PortSpec spec = spec_from ("127.0.0.1:1:80/tcp");

  for (int i = 0; i < 10000; i++)
    {
      spec.parent_port = 20000 + i;
      assert_true (porttable_check (table, &spec, NULL));
      assert_int_equal (porttable_add (table, &spec)->id, i + 1);
    }
  assert_int_equal (porttable_size (table), 10000);
  spec.parent_port = 29999;
  check_fails (table, "29999:1/tcp", "conflict with ID 10000 (127.0.0.1:29999:80/tcp)");
  for (int id = 1; id <= 10000; id++)
    assert_int_equal (porttable_lookup (table, id)->spec.parent_port, 20000 + id - 1);
  list = porttable_list (table);
  assert_int_equal (list->len, 10000);
  for (guint i = 0; i < list->len; i++)
    assert_int_equal (((const PortEntry *) g_ptr_array_index (list, i))->id, (int) i + 1);
  for (int id = 10000; id >= 1; id -= 2)
    assert_true (porttable_remove (table, id));
  assert_int_equal (porttable_size (table), 5000);
  /* 10 000 indexed adds are a few hash lookups each: well under 1 s even under valgrind. */
  assert_true (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC);
}

/* check_rev_fails() - adding reverse @text to @table conflicts with exactly @message. */
static void
check_rev_fails (const PortTable *table, const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = spec_rev (text);

  assert_false (porttable_check (table, &spec, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EADDRINUSE));
  assert_string_equal (error->message, message);
}

static void
test_ranges_and_reverse (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  PortSpec spec;

  assert_int_equal (add (table, "8000-8009:9000-9009/tcp"), 1);
  assert_int_equal (porttable_size (table), 1);
  assert_int_equal (porttable_lookup (table, 1)->spec.count, 10);
  check_fails (table, "8000:1/tcp", "conflict with ID 1 (8000-8009:9000-9009/tcp)");
  check_fails (table, "127.0.0.1:8009:1/tcp4", "conflict with ID 1 (8000-8009:9000-9009/tcp)");
  check_fails (table, "7990-8000:1-11/tcp", "conflict with ID 1 (8000-8009:9000-9009/tcp)");
  spec = spec_from ("8010-8019:9000-9009/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_from ("8005:1/udp");
  assert_true (porttable_check (table, &spec, NULL));

  /* Reverse entries: checked on the namespace side, against reverse entries only. */
  assert_int_equal (add_rev (table, "127.0.0.1:5432:5432/tcp"), 2);
  check_rev_fails (table, "6543:5432/tcp", "conflict with ID 2 (reverse 127.0.0.1:5432:5432/tcp)");
  check_rev_fails (table, "1:[::1]:5432/tcp6",
                   "conflict with ID 2 (reverse 127.0.0.1:5432:5432/tcp)");
  spec = spec_from ("5432:5432/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_rev ("5432:5433/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_rev ("5432:127.0.0.2:5432/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  /* A reverse range does not clash with the forward range on the same numbers. */
  spec = spec_rev ("8000-8009:8000-8009/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  /* Auto ports (forward parent 0, reverse child 0) never conflict. */
  spec = spec_from ("0:80/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_rev ("5432:0/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  /* Removing the range removes all of its ports at once. */
  assert_true (porttable_remove (table, 1));
  spec = spec_from ("8005:1/tcp");
  assert_true (porttable_check (table, &spec, NULL));
}

static void
test_range_scale (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  g_autoptr (GPtrArray) list = NULL;
  gint64 start = g_get_monotonic_time ();
  PortSpec spec = spec_from ("127.0.0.1:20000-29999:20000-29999/tcp");

  /* One 10 000-port range is one entry. */
  assert_true (porttable_check (table, &spec, NULL));
  assert_int_equal (porttable_add (table, &spec)->id, 1);
  assert_int_equal (porttable_size (table), 1);
  list = porttable_list (table);
  assert_int_equal (list->len, 1);
  /* Then 10 000 single ports beside it, each checked against every entry. */
  spec = spec_from ("127.0.0.1:1:80/tcp");
  for (int i = 0; i < 10000; i++)
    {
      spec.parent_port = 30000 + i;
      assert_true (porttable_check (table, &spec, NULL));
      assert_int_equal (porttable_add (table, &spec)->id, i + 2);
    }
  assert_int_equal (porttable_size (table), 10001);
  check_fails (table, "29999:1/tcp", "conflict with ID 1 (127.0.0.1:20000-29999:20000-29999/tcp)");
  check_fails (table, "19000-20000:1-1001/tcp",
               "conflict with ID 1 (127.0.0.1:20000-29999:20000-29999/tcp)");
  check_fails (table, "39999:1/tcp", "conflict with ID 10001 (127.0.0.1:39999:80/tcp)");
  /* A second 10 000-port range is one check per entry, not one per port. */
  spec = spec_from ("127.0.0.1:40000-49999:40000-49999/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  spec = spec_from ("127.0.0.1:39999-49998:40000-49999/tcp");
  assert_false (porttable_check (table, &spec, NULL));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = porttable_list (table);
  assert_int_equal (list->len, 10001);
  assert_true (g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC);
}

/* The port index: auto ports that get their port later, lowest ids across the index and
 * the ranges, specs wider than the index, two entries on one port. */
static void
test_index (void **state)
{
  g_autoptr (PortTable) table = porttable_new ();
  PortSpec spec;
  PortEntry *auto_entry;
  int a, b;

  /* An auto-port entry is indexed with the others; once the driver picked its port it
   * conflicts on that port, and it can still be removed. */
  spec = spec_from ("127.0.0.1:0:80/tcp");
  auto_entry = porttable_add (table, &spec);
  assert_int_equal (auto_entry->id, 1);
  auto_entry->spec.parent_port = 7000;
  check_fails (table, "7000:1/tcp", "conflict with ID 1 (127.0.0.1:7000:80/tcp)");
  assert_true (porttable_remove (table, 1));
  spec = spec_from ("7000:1/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  assert_false (porttable_remove (table, 1));

  /* The lowest conflicting id is named, whether it is a range or a single port. */
  assert_int_equal (add (table, "6000-6999:1000-1999/tcp"), 2);
  assert_int_equal (add (table, "127.0.0.1:6500:1/tcp"), 3);
  check_fails (table, "6500:2/tcp", "conflict with ID 2 (6000-6999:1000-1999/tcp)");
  assert_int_equal (add (table, "127.0.0.1:5500:1/tcp"), 4);
  assert_int_equal (add (table, "5000-5999:1000-1999/tcp"), 5);
  check_fails (table, "5500:2/tcp", "conflict with ID 4 (127.0.0.1:5500:1/tcp)");

  /* A spec covering more ports than the index holds is compared with all of it. */
  check_fails (table, "127.0.0.1:5450-5549:1-100/tcp4",
               "conflict with ID 4 (127.0.0.1:5500:1/tcp)");
  spec = spec_from ("127.0.0.1:4000-4099:1-100/tcp");
  assert_true (porttable_check (table, &spec, NULL));

  /* Two entries on one port (different addresses): removing one keeps the other. */
  a = add (table, "127.0.0.2:4500:1/tcp");
  b = add (table, "127.0.0.3:4500:1/tcp");
  check_fails (table, "127.0.0.3:4500:2/tcp", "conflict with ID 7 (127.0.0.3:4500:1/tcp)");
  assert_true (porttable_remove (table, b));
  spec = spec_from ("127.0.0.3:4500:2/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  check_fails (table, "4500:2/tcp", "conflict with ID 6 (127.0.0.2:4500:1/tcp)");
  assert_true (porttable_remove (table, a));
  spec = spec_from ("4500:2/tcp");
  assert_true (porttable_check (table, &spec, NULL));
  /* A rolled-back entry leaves the index too. */
  spec = spec_from ("127.0.0.1:4600:1/tcp");
  assert_true (porttable_rollback (table, porttable_add (table, &spec)->id));
  assert_true (porttable_check (table, &spec, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_add_copies_and_zeroes),
    cmocka_unit_test (test_ids_never_reused),
    cmocka_unit_test (test_rollback),
    cmocka_unit_test (test_list_numeric_order),
    cmocka_unit_test (test_check),
    cmocka_unit_test (test_ten_thousand),
    cmocka_unit_test (test_ranges_and_reverse),
    cmocka_unit_test (test_range_scale),
    cmocka_unit_test (test_index),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
