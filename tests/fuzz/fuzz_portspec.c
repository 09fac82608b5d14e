/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for src/portspec.c. The input is one port spec in
 * rootlesskit syntax, and also "PROTO MAPPING" (split at the first space)
 * for the design-card form. Every spec that parses and validates must:
 * format to text that parses and validates back to the same spec (and the
 * same text), conflict with itself unless its parent port is 0, and give
 * a well-formed listen plan and child target with the right ports.
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
         && a->child_port == b->child_port;
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

  if (!portspec_parse (text, &again, &error) || !portspec_validate (&again, &error))
    g_error ("formatted spec %s does not parse back: %s", text, error->message);
  if (!same_spec (spec, &again))
    g_error ("formatted spec %s parses to a different spec", text);
  text2 = portspec_format (&again);
  g_assert_cmpstr (text, ==, text2);

  g_assert_true (portspec_conflicts (spec, spec) == (spec->parent_port != 0));
  g_assert_true (portspec_conflicts (spec, &again) == (spec->parent_port != 0));

  portspec_listen_plan (spec, &plan);
  g_assert_true (plan.family == AF_INET || plan.family == AF_INET6);
  g_assert_cmpint (plan.addr.ss_family, ==, plan.family);
  g_assert_true (plan.socktype == (portproto_is_udp (spec->proto) ? SOCK_DGRAM : SOCK_STREAM));
  g_assert_true (plan.family == AF_INET6 || !plan.v6only);
  check_addr (&plan.addr, plan.addrlen, spec->parent_port);

  portspec_child_target (spec, &target, &target_len);
  check_addr (&target, target_len, spec->child_port);
}

/* check_parsed() - validate a parsed spec and, if valid, check the invariants. */
static void
check_parsed (PortSpec *spec)
{
  g_autoptr (GError) error = NULL;
  /* Formatting must be total, even on specs that do not validate. */
  g_autofree char *raw = portspec_format (spec);

  g_assert_nonnull (raw);
  if (!portspec_validate (spec, &error))
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      return;
    }
  g_assert_null (error);
  check_valid (spec);
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
