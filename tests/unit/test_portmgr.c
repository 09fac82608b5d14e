/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of parent/portmgr.c over a fake driver: validation and
 * canonicalisation, driver protocol list, loopback child IP refusal,
 * conflicts, open failures (no id used up), auto port fill-in, and close
 * on remove and on free; port ranges (one id, one open) and reverse ports
 * (their own conflict side and auto port, no loopback refusal).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "npte-error.h"
#include "portmgr.h"

int main (void);

/* A driver that records calls and fails on request. */
typedef struct {
  gboolean fail_open;      /* open() fails with EADDRINUSE "bind: fake busy" */
  gboolean fail_silently;  /* open() fails without setting an error */
  int next_auto_port;      /* filled in for the listening port 0 */
  guint n_open;
  GArray *opened_ids;
  GArray *closed_ids;
} FakeDriver;

#define FAKE_HANDLE_BASE 0x1000

static gboolean
fake_open (gpointer driver, PortEntry *entry, GError **error)
{
  FakeDriver *fake = driver;

  fake->n_open++;
  assert_null (entry->handle);
  if (fake->fail_open)
    return npte_set_error (error, EADDRINUSE, "bind: fake busy");
  if (fake->fail_silently)
    return FALSE;
  /* The listening side: the host for forward, the namespace for reverse. */
  if (entry->spec.reverse && entry->spec.child_port == 0)
    entry->spec.child_port = fake->next_auto_port++;
  else if (!entry->spec.reverse && entry->spec.parent_port == 0)
    entry->spec.parent_port = fake->next_auto_port++;
  entry->handle = GINT_TO_POINTER (FAKE_HANDLE_BASE + entry->id);
  entry->counters.conns_accepted = 7;
  g_array_append_val (fake->opened_ids, entry->id);
  return TRUE;
}

static void
fake_close (gpointer driver, PortEntry *entry)
{
  FakeDriver *fake = driver;

  /* Only ports the driver opened are closed, each with its own handle. */
  assert_ptr_equal (entry->handle, GINT_TO_POINTER (FAKE_HANDLE_BASE + entry->id));
  g_array_append_val (fake->closed_ids, entry->id);
}

static const char *const all_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };
static const char *const v4_protos[] = { "tcp", "tcp4", "udp", "udp4", NULL };

static const PortDriverOps fake_ops = {
  .name = "fake",
  .protos = all_protos,
  .disallow_loopback_child_ip = FALSE,
  .supports_reverse = TRUE,
  .open = fake_open,
  .close = fake_close,
};

static const PortDriverOps fake_v4_ops = {
  .name = "fakeslirp",
  .protos = v4_protos,
  .disallow_loopback_child_ip = TRUE,
  .open = fake_open,
  .close = fake_close,
};

static int
setup (void **state)
{
  FakeDriver *fake = g_new0 (FakeDriver, 1);

  fake->next_auto_port = 40000;
  fake->opened_ids = g_array_new (FALSE, FALSE, sizeof (int));
  fake->closed_ids = g_array_new (FALSE, FALSE, sizeof (int));
  *state = fake;
  return 0;
}

static int
teardown (void **state)
{
  FakeDriver *fake = *state;

  g_array_unref (fake->opened_ids);
  g_array_unref (fake->closed_ids);
  g_free (fake);
  return 0;
}

/* spec_from() - parse (without validating) @text. */
static PortSpec
spec_from (const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec;

  if (!portspec_parse (text, &spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/* spec_dir() - spec_from(), reverse when @text starts with '<'. */
static PortSpec
spec_dir (const char *text)
{
  gboolean reverse = text[0] == '<';
  PortSpec spec = spec_from (text + reverse);

  spec.reverse = reverse;
  return spec;
}

/* add_ok() - add @text ('<' first: reverse); returns the entry. */
static const PortEntry *
add_ok (PortMgr *mgr, const char *text)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = spec_dir (text);
  const PortEntry *entry = portmgr_add (mgr, &spec, &error);

  if (entry == NULL)
    print_error ("add %s: %s\n", text, error->message);
  assert_null (error);
  assert_non_null (entry);
  return entry;
}

/* add_fails() - adding @text ('<' first: reverse) fails with @code and exactly @message. */
static void
add_fails (PortMgr *mgr, const char *text, int code, const char *message)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = spec_dir (text);

  assert_null (portmgr_add (mgr, &spec, &error));
  assert_non_null (error);
  assert_int_equal (error->domain, NPTE_ERROR);
  assert_int_equal (error->code, code);
  assert_string_equal (error->message, message);
}

/* assert_int_array() - @array holds exactly @want (terminated by 0). */
static void
assert_int_array (const GArray *array, const int *want)
{
  guint n = 0;

  while (want[n] != 0)
    n++;
  assert_int_equal (array->len, n);
  for (guint i = 0; i < n; i++)
    assert_int_equal (g_array_index (array, int, i), want[i]);
}

static void
test_add_list_remove (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  PortSpec spec = spec_from ("[::0001]:8080:[0::2]:80/udp");
  const PortEntry *entry = portmgr_add (mgr, &spec, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  assert_ptr_equal (portmgr_ops (mgr), &fake_ops);
  assert_non_null (entry);
  assert_int_equal (entry->id, 1);
  /* Stored canonical; the caller's spec is not touched. */
  assert_string_equal (entry->spec.parent_ip, "::1");
  assert_string_equal (entry->spec.child_ip, "::2");
  assert_string_equal (spec.parent_ip, "::0001");
  assert_ptr_equal (entry->handle, GINT_TO_POINTER (FAKE_HANDLE_BASE + 1));
  assert_int_equal (entry->counters.conns_accepted, 7);

  assert_int_equal (add_ok (mgr, "8081:81/tcp")->id, 2);
  assert_int_equal (add_ok (mgr, "8082:82/tcp")->id, 3);
  list = portmgr_list (mgr);
  assert_int_equal (list->len, 3);
  for (guint i = 0; i < 3; i++)
    assert_int_equal (((const PortEntry *) g_ptr_array_index (list, i))->id, (int) i + 1);

  assert_true (portmgr_remove (mgr, 2, &error));
  assert_int_array (fake->closed_ids, (const int[]) { 2, 0 });
  assert_false (portmgr_remove (mgr, 2, &error));
  assert_true (g_error_matches (error, NPTE_ERROR, ENOENT));
  assert_string_equal (error->message, "unknown id: 2");
  g_clear_error (&error);
  assert_false (portmgr_remove (mgr, 99, &error));
  assert_string_equal (error->message, "unknown id: 99");
  g_clear_error (&error);
  assert_false (portmgr_remove (mgr, 0, &error));
  assert_string_equal (error->message, "unknown id: 0");
  assert_int_array (fake->closed_ids, (const int[]) { 2, 0 });
  /* Ids are not reused after a removal. */
  assert_int_equal (add_ok (mgr, "8081:81/tcp")->id, 4);
}

static void
test_validation (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  PortSpec spec = spec_from ("8080:80/tcp");

  add_fails (mgr, "70000:80/tcp", EINVAL, "invalid ParentPort: 70000");
  add_fails (mgr, "8080:0/tcp", EINVAL, "invalid ChildPort: 0");
  add_fails (mgr, "bad:8080:80/tcp", EINVAL, "invalid ParentIP: \"bad\"");
  add_fails (mgr, "8080:1.2.3.256:80/tcp", EINVAL, "invalid ChildIP: \"1.2.3.256\"");
  add_fails (mgr, "[::1]:8080:80/tcp4", EINVAL,
             "invalid ParentIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only "
             "proto (use tcp or tcp6)");
  add_fails (mgr, "8080:80/sctp", EPROTONOSUPPORT, "unsupported port protocol sctp");
  spec.proto = PORT_PROTO_INVALID;
  assert_null (portmgr_add (mgr, &spec, NULL));
  assert_int_equal (fake->n_open, 0);
  assert_int_equal (add_ok (mgr, "8080:80/tcp")->id, 1);
}

static void
test_driver_protos (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_v4_ops, fake);

  add_fails (mgr, "8080:80/tcp6", EPROTONOSUPPORT,
             "unsupported port protocol tcp6 for driver fakeslirp");
  add_fails (mgr, "8080:80/udp6", EPROTONOSUPPORT,
             "unsupported port protocol udp6 for driver fakeslirp");
  assert_int_equal (fake->n_open, 0);
  assert_int_equal (add_ok (mgr, "8080:80/udp4")->id, 1);
  assert_int_equal (add_ok (mgr, "8080:80/tcp")->id, 2);
}

static void
test_loopback_child_ip (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) strict = portmgr_new (&fake_v4_ops, fake);
  g_autoptr (PortMgr) lax = portmgr_new (&fake_ops, fake);

  add_fails (strict, "8080:127.0.0.1:80/tcp", EINVAL,
             "ChildIP 127.0.0.1 is a loopback address, which the fakeslirp port driver cannot "
             "reach; leave ChildIP out or use the namespace's own address");
  add_fails (strict, "8080:127.1.2.3:80/tcp", EINVAL,
             "ChildIP 127.1.2.3 is a loopback address, which the fakeslirp port driver cannot "
             "reach; leave ChildIP out or use the namespace's own address");
  add_fails (strict, "8080:[::1]:80/tcp", EINVAL,
             "ChildIP ::1 is a loopback address, which the fakeslirp port driver cannot "
             "reach; leave ChildIP out or use the namespace's own address");
  /* v4-mapped loopback is loopback too (canonicalised first). */
  add_fails (strict, "8080:[::ffff:127.0.0.1]:80/tcp", EINVAL,
             "ChildIP 127.0.0.1 is a loopback address, which the fakeslirp port driver cannot "
             "reach; leave ChildIP out or use the namespace's own address");
  assert_int_equal (fake->n_open, 0);
  assert_int_equal (add_ok (strict, "8080:10.0.2.100:80/tcp")->id, 1);
  assert_int_equal (add_ok (strict, "127.0.0.1:8081:80/tcp")->id, 2);
  assert_int_equal (add_ok (strict, "8082:128.0.0.1:80/tcp")->id, 3);
  /* Drivers that can reach loopback accept it. */
  assert_int_equal (add_ok (lax, "8080:127.0.0.1:80/tcp")->id, 1);
  assert_int_equal (add_ok (lax, "8081:[::1]:80/tcp")->id, 2);
}

static void
test_conflicts (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);

  add_ok (mgr, "8080:80/tcp");
  add_fails (mgr, "0.0.0.0:8080:81/tcp4", EADDRINUSE, "conflict with ID 1 (8080:80/tcp)");
  add_fails (mgr, "[::ffff:127.0.0.1]:8080:81/tcp", EADDRINUSE,
             "conflict with ID 1 (8080:80/tcp)");
  assert_int_equal (fake->n_open, 1);
  assert_int_equal (add_ok (mgr, "8080:80/udp")->id, 2);
  assert_true (portmgr_remove (mgr, 1, NULL));
  assert_int_equal (add_ok (mgr, "0.0.0.0:8080:81/tcp4")->id, 3);
  assert_int_equal (add_ok (mgr, "[::]:8080:81/tcp6")->id, 4);
}

static void
test_open_failure_keeps_id (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  g_autoptr (GPtrArray) list = NULL;

  fake->fail_open = TRUE;
  add_fails (mgr, "8080:80/tcp", EADDRINUSE, "bind: fake busy");
  fake->fail_open = FALSE;
  assert_int_equal (add_ok (mgr, "8080:80/tcp")->id, 1);
  fake->fail_open = TRUE;
  add_fails (mgr, "8081:80/tcp", EADDRINUSE, "bind: fake busy");
  fake->fail_open = FALSE;
  fake->fail_silently = TRUE;
  add_fails (mgr, "127.0.0.1:8082:80/udp4", EIO,
             "port driver fake failed to open 127.0.0.1:8082:80/udp4");
  fake->fail_silently = FALSE;
  /* The failed ports left nothing behind: no entry, no conflict, no id. */
  assert_int_equal (add_ok (mgr, "8081:80/tcp")->id, 2);
  assert_int_equal (add_ok (mgr, "127.0.0.1:8082:80/udp4")->id, 3);
  list = portmgr_list (mgr);
  assert_int_equal (list->len, 3);
  assert_int_equal (fake->n_open, 6);
  assert_int_equal (fake->closed_ids->len, 0);
}

static void
test_auto_port (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  const PortEntry *a = add_ok (mgr, "0:80/tcp");
  const PortEntry *b = add_ok (mgr, "0:80/tcp");
  g_autoptr (GPtrArray) list = NULL;

  assert_int_equal (a->spec.parent_port, 40000);
  assert_int_equal (b->spec.parent_port, 40001);
  /* The real port is what later checks see. */
  add_fails (mgr, "40000:81/tcp4", EADDRINUSE, "conflict with ID 1 (40000:80/tcp)");
  add_fails (mgr, "127.0.0.1:40001:81/tcp", EADDRINUSE, "conflict with ID 2 (40001:80/tcp)");
  assert_int_equal (add_ok (mgr, "40000:81/udp")->id, 3);
  list = portmgr_list (mgr);
  assert_int_equal (list->len, 3);
}

static void
test_free_closes_all (void **state)
{
  FakeDriver *fake = *state;
  PortMgr *mgr = portmgr_new (&fake_ops, fake);

  add_ok (mgr, "8081:80/tcp");
  add_ok (mgr, "8082:80/tcp");
  add_ok (mgr, "8083:80/udp");
  add_ok (mgr, "8084:80/udp");
  assert_true (portmgr_remove (mgr, 3, NULL));
  portmgr_free (mgr);
  /* Each port is closed exactly once: 3 at remove, the rest at free. */
  assert_int_array (fake->opened_ids, (const int[]) { 1, 2, 3, 4, 0 });
  assert_int_array (fake->closed_ids, (const int[]) { 3, 1, 2, 4, 0 });
  portmgr_free (NULL);
}

static void
test_ranges (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  const PortEntry *e = add_ok (mgr, "127.0.0.1:8000-8009:80-89/tcp");
  g_autoptr (GPtrArray) list = NULL;

  /* One id, one open, one entry carrying the count. */
  assert_int_equal (e->id, 1);
  assert_int_equal (e->spec.count, 10);
  assert_int_equal (fake->n_open, 1);
  add_fails (mgr, "8009:1/tcp", EADDRINUSE, "conflict with ID 1 (127.0.0.1:8000-8009:80-89/tcp)");
  add_fails (mgr, "7000-8000:1-1001/tcp4", EADDRINUSE,
             "conflict with ID 1 (127.0.0.1:8000-8009:80-89/tcp)");
  add_fails (mgr, "0-9:80-89/tcp", EINVAL,
             "invalid ParentPort range: 0-9 (port 0 picks one free port; a range needs its "
             "first port)");
  {
    g_autoptr (GError) error = NULL;
    PortSpec spec = spec_dir ("65530:1/tcp");

    spec.count = 10; /* as the API can send it */
    assert_null (portmgr_add (mgr, &spec, &error));
    assert_string_equal (error->message,
                         "invalid ParentPort range: 65530-65539 (ports end at 65535)");
  }
  assert_int_equal (fake->n_open, 1);
  assert_int_equal (add_ok (mgr, "8010-8019:80-89/tcp")->id, 2);
  assert_int_equal (add_ok (mgr, "127.0.0.2:8000-8009:80-89/tcp")->id, 3);
  /* A range that fails to open leaves nothing behind, as one port does. */
  fake->fail_open = TRUE;
  add_fails (mgr, "9000-9999:9000-9999/udp", EADDRINUSE, "bind: fake busy");
  fake->fail_open = FALSE;
  assert_int_equal (add_ok (mgr, "9000-9999:9000-9999/udp")->id, 4);
  list = portmgr_list (mgr);
  assert_int_equal (list->len, 4);
  /* Removed as a whole: one close. */
  assert_true (portmgr_remove (mgr, 1, NULL));
  assert_int_array (fake->closed_ids, (const int[]) { 1, 0 });
  assert_int_equal (add_ok (mgr, "127.0.0.1:8005:1/tcp")->id, 5);
}

static void
test_reverse (void **state)
{
  FakeDriver *fake = *state;
  g_autoptr (PortMgr) mgr = portmgr_new (&fake_ops, fake);
  g_autoptr (PortMgr) strict = portmgr_new (&fake_v4_ops, fake);
  const PortEntry *e = add_ok (mgr, "<127.0.0.1:5432:5432/tcp");
  const PortEntry *a;

  assert_true (e->spec.reverse);
  assert_int_equal (e->id, 1);
  /* Conflicts are on the namespace side, between reverse ports only. */
  add_fails (mgr, "<6543:5432/tcp", EADDRINUSE,
             "conflict with ID 1 (reverse 127.0.0.1:5432:5432/tcp)");
  assert_int_equal (add_ok (mgr, "5432:5432/tcp")->id, 2);
  assert_int_equal (add_ok (mgr, "<5432:5433/tcp")->id, 3);
  /* Auto port: the driver fills in the child port, which later checks see. */
  a = add_ok (mgr, "<5432:0/udp");
  assert_int_equal (a->spec.child_port, 40000);
  assert_int_equal (a->spec.parent_port, 5432);
  add_fails (mgr, "<1:40000/udp6", EADDRINUSE, "conflict with ID 4 (reverse 5432:40000/udp)");
  /* Validation for the host side. */
  add_fails (mgr, "<0:5432/tcp", EINVAL,
             "invalid ParentPort: 0 (a reverse port connects to this host port, so it must be "
             "given)");
  add_fails (mgr, "<0.0.0.0:5432:5432/tcp", EINVAL,
             "invalid ParentIP \"0.0.0.0\" for a reverse port: it is the host address to connect "
             "to, so it cannot be a wildcard (leave it out for loopback)");
  add_fails (mgr, "<5432:[::1]:5432/tcp4", EINVAL,
             "invalid ChildIP \"::1\" for proto tcp4: an IPv6 address with an IPv4-only proto "
             "(use tcp or tcp6)");
  /* Ranges. */
  assert_int_equal (add_ok (mgr, "<7000-7009:7000-7009/tcp")->spec.count, 10);
  add_fails (mgr, "<1:7009/tcp", EADDRINUSE,
             "conflict with ID 5 (reverse 7000-7009:7000-7009/tcp)");
  /* A driver without reverse support (slirp) refuses reverse ports up front. */
  add_fails (strict, "<5432:127.0.0.1:5432/tcp", EPROTONOSUPPORT,
             "port driver fakeslirp does not support reverse ports (use the builtin driver)");
  add_fails (strict, "8080:127.0.0.1:80/tcp", EINVAL,
             "ChildIP 127.0.0.1 is a loopback address, which the fakeslirp port driver cannot "
             "reach; leave ChildIP out or use the namespace's own address");
}

static void
test_bind_error (void **state)
{
  g_autoptr (GError) error = NULL;
  PortSpec fwd = spec_dir ("127.0.0.1:80:80/tcp");
  PortSpec rev = spec_dir ("<80:80/tcp");

  assert_false (portmgr_bind_error (&fwd, EACCES, "127.0.0.1:80", &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EACCES));
  assert_non_null (strstr (error->message, "cannot expose privileged port 80"));
  g_clear_error (&error);
  /* A reverse port binds inside the namespace: no host sysctl advice. */
  assert_false (portmgr_bind_error (&rev, EACCES, "127.0.0.1:80", &error));
  assert_true (g_error_matches (error, NPTE_ERROR, EACCES));
  assert_null (strstr (error->message, "privileged"));
  assert_non_null (strstr (error->message, "bind 127.0.0.1:80/tcp"));
  g_clear_error (&error);
  assert_false (portmgr_bind_error (&rev, EADDRINUSE, "[::1]:80", &error));
  assert_string_equal (error->message, "cannot listen on [::1]:80/tcp: the address is already in "
                                       "use by another program");
}


int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_add_list_remove, setup, teardown),
    cmocka_unit_test_setup_teardown (test_validation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_driver_protos, setup, teardown),
    cmocka_unit_test_setup_teardown (test_loopback_child_ip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_conflicts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_open_failure_keeps_id, setup, teardown),
    cmocka_unit_test_setup_teardown (test_auto_port, setup, teardown),
    cmocka_unit_test_setup_teardown (test_free_closes_all, setup, teardown),
    cmocka_unit_test_setup_teardown (test_ranges, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reverse, setup, teardown),
    cmocka_unit_test (test_bind_error),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
