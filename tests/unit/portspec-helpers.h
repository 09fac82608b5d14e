/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the unit tests of src/portspec.c (test_portspec_*.c):
 * specs built from text or field by field, and a check of every field.
 * Each test file is its own program, so these are static inline.
 */
#ifndef NPTE_TEST_PORTSPEC_HELPERS_H
#define NPTE_TEST_PORTSPEC_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "npte-error.h"
#include "portspec.h"

/**
 * spec_any() - parse and validate @text, failing the test if it does not
 * @text: a spec in rootlesskit's syntax; a leading '<' makes it a reverse spec
 *
 * Return: the validated spec.
 */
static inline PortSpec
spec_any (const char *text)
{
  g_autoptr (GError) error = NULL;
  gboolean reverse = text[0] == '<';
  PortSpec spec;

  if (!portspec_parse (text + reverse, &spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  spec.reverse = reverse;
  if (!portspec_validate (&spec, &error))
    print_error ("spec %s: %s\n", text, error->message);
  assert_null (error);
  return spec;
}

/**
 * raw_spec() - an unvalidated forward spec built field by field (count 0)
 * @proto: protocol
 * @pip: parent IP text
 * @pport: parent port
 * @cip: child IP text
 * @cport: child port
 *
 * Return: the spec.
 */
static inline PortSpec
raw_spec (PortProto proto, const char *pip, int pport, const char *cip, int cport)
{
  PortSpec spec;

  memset (&spec, 0, sizeof spec);
  spec.proto = proto;
  g_strlcpy (spec.parent_ip, pip, sizeof spec.parent_ip);
  spec.parent_port = pport;
  g_strlcpy (spec.child_ip, cip, sizeof spec.child_ip);
  spec.child_port = cport;
  return spec;
}

/**
 * ranged() - raw_spec() with "" for both IPs and a count
 * @proto: protocol
 * @pport: first parent port
 * @cport: first child port
 * @count: ports in the range (not validated)
 *
 * Return: the spec.
 */
static inline PortSpec
ranged (PortProto proto, int pport, int cport, int count)
{
  PortSpec spec = raw_spec (proto, "", pport, "", cport);

  spec.count = count;
  return spec;
}

/**
 * assert_spec() - @spec has exactly these fields
 * @spec: the spec
 * @proto: expected protocol
 * @pip: expected parent IP
 * @pport: expected parent port
 * @cip: expected child IP
 * @cport: expected child port
 */
static inline void
assert_spec (const PortSpec *spec, PortProto proto, const char *pip, int pport, const char *cip,
             int cport)
{
  assert_int_equal (spec->proto, proto);
  assert_string_equal (spec->parent_ip, pip);
  assert_int_equal (spec->parent_port, pport);
  assert_string_equal (spec->child_ip, cip);
  assert_int_equal (spec->child_port, cport);
}

#endif /* NPTE_TEST_PORTSPEC_HELPERS_H */
