/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for src/portspec.c. The input is one port spec in
 * rootlesskit syntax, and also "PROTO MAPPING" (split at the first space)
 * for the design-card form. Every spec that parses and validates must:
 * format to text that parses and validates back to the same spec (and the
 * same text), conflict with itself unless its parent port is 0, and give
 * a well-formed listen plan and child target with the right ports, at the
 * first and the last index of a range. The same spec is then tried as a
 * reverse port: if it validates, it conflicts with itself unless its child
 * port is 0, never with the forward one, and its namespace listen plans
 * and host target are well formed, with the right ports, at both ends.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portspec.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* check_addr() - @ss is an AF_INET/AF_INET6 address of length @len with @port. */
static void
check_addr (const struct sockaddr_storage *ss, socklen_t len, int port)
{
  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

      g_assert_cmpuint (len, ==, sizeof *sin);
      g_assert_cmpint (ntohs (sin->sin_port), ==, port);
    }
  else
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

      g_assert_cmpint (ss->ss_family, ==, AF_INET6);
      g_assert_cmpuint (len, ==, sizeof *sin6);
      g_assert_cmpint (ntohs (sin6->sin6_port), ==, port);
    }
}

/* same_spec() - field-by-field equality (the struct has padding). */
static gboolean
same_spec (const PortSpec *a, const PortSpec *b)
{
  return a->proto == b->proto && strcmp (a->parent_ip, b->parent_ip) == 0
         && a->parent_port == b->parent_port && strcmp (a->child_ip, b->child_ip) == 0
         && a->child_port == b->child_port && portspec_count (a) == portspec_count (b)
         && !a->reverse == !b->reverse;
}

/* check_plan() - @plan is well formed for @spec and listens on @port. */
static void
check_plan (const PortSpec *spec, const PortListenPlan *plan, int port)
{
  g_assert_true (plan->family == AF_INET || plan->family == AF_INET6);
  g_assert_cmpint (plan->addr.ss_family, ==, plan->family);
  g_assert_true (plan->socktype == (portproto_is_udp (spec->proto) ? SOCK_DGRAM : SOCK_STREAM));
  g_assert_true (plan->family == AF_INET6 || !plan->v6only);
  check_addr (&plan->addr, plan->addrlen, port);
}

/* check_ends() - the forward plans at the first and last index of the range. */
static void
check_ends (const PortSpec *spec)
{
  int n = portspec_count (spec);

  g_assert_cmpint (n, ==, spec->count);
  g_assert_cmpint (spec->parent_port + n - 1, <=, 65535);
  g_assert_cmpint (spec->child_port + n - 1, <=, 65535);
  g_assert_true (n == 1 || spec->parent_port != 0);
  for (int i = 0; i < 2; i++)
    {
      int index = i == 0 ? 0 : n - 1;
      PortListenPlan plan;
      struct sockaddr_storage target;
      socklen_t target_len = 0;

      portspec_listen_plan_at (spec, index, &plan);
      check_plan (spec, &plan, spec->parent_port + index);
      portspec_child_target_at (spec, index, &target, &target_len);
      check_addr (&target, target_len, spec->child_port + index);
    }
}

/**
 * check_reverse() - @parsed as a reverse port: its invariants if it validates
 * @parsed: the spec as parsed (not validated)
 * @forward: the same spec validated as a forward port, or NULL if it was not valid
 */
static void
check_reverse (const PortSpec *parsed, const PortSpec *forward)
{
  g_autoptr (GError) error = NULL;
  PortSpec spec = *parsed;
  int n;

  spec.reverse = TRUE;
  if (!portspec_validate (&spec, &error))
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      return;
    }
  n = portspec_count (&spec);
  g_assert_true (spec.reverse == TRUE);
  g_assert_cmpint (spec.parent_port, >=, 1);
  g_assert_true (n == 1 || spec.child_port != 0);
  g_assert_true (portspec_conflicts (&spec, &spec) == (spec.child_port != 0));
  if (forward != NULL)
    {
      g_assert_false (portspec_conflicts (&spec, forward));
      g_assert_false (portspec_conflicts (forward, &spec));
    }
  for (int i = 0; i < 2; i++)
    {
      int index = i == 0 ? 0 : n - 1;
      PortListenPlan plans[2];
      struct sockaddr_storage target;
      socklen_t target_len = 0;
      int k = portspec_reverse_listen (&spec, index, plans);

      g_assert_true (k == 1 || (k == 2 && spec.child_ip[0] == '\0'));
      for (int j = 0; j < k; j++)
        check_plan (&spec, &plans[j], spec.child_port + index);
      portspec_reverse_target (&spec, index, &target, &target_len);
      check_addr (&target, target_len, spec.parent_port + index);
    }
}

/* check_valid() - the invariants of a spec that parsed and validated. */
static void
check_valid (const PortSpec *spec)
{
  g_autofree char *text = portspec_format (spec);
  g_autofree char *text2 = NULL;
  g_autoptr (GError) error = NULL;
  PortSpec again;
  PortListenPlan plan;
  struct sockaddr_storage target;
  socklen_t target_len = 0;

  g_assert_false (spec->reverse);

  if (!portspec_parse (text, &again, &error) || !portspec_validate (&again, &error))
    g_error ("formatted spec %s does not parse back: %s", text, error->message);
  if (!same_spec (spec, &again))
    g_error ("formatted spec %s parses to a different spec", text);
  text2 = portspec_format (&again);
  g_assert_cmpstr (text, ==, text2);

  g_assert_true (portspec_conflicts (spec, spec) == (spec->parent_port != 0));
  g_assert_true (portspec_conflicts (spec, &again) == (spec->parent_port != 0));

  portspec_listen_plan (spec, &plan);
  check_plan (spec, &plan, spec->parent_port);
  portspec_child_target (spec, &target, &target_len);
  check_addr (&target, target_len, spec->child_port);
  check_ends (spec);
}

/* check_parsed() - validate a parsed spec both ways and, if valid, check the invariants. */
static void
check_parsed (PortSpec *spec)
{
  g_autoptr (GError) error = NULL;
  /* Formatting must be total, even on specs that do not validate. */
  g_autofree char *raw = portspec_format (spec);
  const PortSpec parsed = *spec;

  g_assert_nonnull (raw);
  g_assert_cmpint (spec->count, >=, 1);
  g_assert_false (spec->reverse);
  if (!portspec_validate (spec, &error))
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      check_reverse (&parsed, NULL);
      return;
    }
  g_assert_null (error);
  check_valid (spec);
  check_reverse (&parsed, spec);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  char *space;
  PortSpec spec;

  if (portspec_parse (text, &spec, &error))
    check_parsed (&spec);
  else
    g_assert_nonnull (error);
  g_clear_error (&error);

  space = strchr (text, ' ');
  if (space != NULL)
    {
      *space = '\0';
      if (portspec_parse_args (text, space + 1, &spec, &error))
        check_parsed (&spec);
      else
        g_assert_nonnull (error);
    }
  return 0;
}
