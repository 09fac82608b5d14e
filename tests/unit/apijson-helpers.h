/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the unit tests of the control API's JSON
 * (test_apijson_*.c): PortSpec decoding from text, field-by-field specs
 * and their comparison, and an encode/decode round trip.
 * Each test file is its own program, so these are static inline.
 */
#ifndef NPTE_TEST_APIJSON_HELPERS_H
#define NPTE_TEST_APIJSON_HELPERS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "apijson.h"
#include "npte-error.h"

/* LIT() - a string literal and its length, for the (text, len) decoders. */
#define LIT(s) (s), (sizeof (s) - 1)

/**
 * decode_spec() - apijson_spec_decode() on a NUL-terminated body
 * @body: the body
 * @spec: (out) the spec
 * @error: return location for an error
 *
 * Return: what apijson_spec_decode() returns.
 */
static inline gboolean
decode_spec (const char *body, PortSpec *spec, GError **error)
{
  return apijson_spec_decode (body, strlen (body), spec, error);
}

/**
 * assert_spec_eq() - @a and @b are the same spec (a count of 0 is 1, any true reverse is TRUE)
 * @a: a spec
 * @b: another
 */
static inline void
assert_spec_eq (const PortSpec *a, const PortSpec *b)
{
  assert_int_equal (a->proto, b->proto);
  assert_string_equal (a->parent_ip, b->parent_ip);
  assert_int_equal (a->parent_port, b->parent_port);
  assert_string_equal (a->child_ip, b->child_ip);
  assert_int_equal (a->child_port, b->child_port);
  assert_int_equal (portspec_count (a), portspec_count (b));
  assert_int_equal (!a->reverse, !b->reverse);
}

/* A JSON text a decoder must refuse, and a substring of its message. */
typedef struct {
  const char *json, *needle;
} JsonNeedle;

/**
 * assert_einval() - @error is EINVAL and its message contains @needle
 * @error: the error of decoding @json
 * @json: the text, for the failure message
 * @needle: substring the message must contain
 */
static inline void
assert_einval (const GError *error, const char *json, const char *needle)
{
  assert_non_null (error);
  assert_int_equal (error->code, EINVAL);
  if (strstr (error->message, needle) == NULL)
    fail_msg ("%s: message \"%s\" lacks \"%s\"", json, error->message, needle);
}

/**
 * make_spec() - a spec built field by field (count 0, forward)
 * @proto: protocol
 * @pip: parent IP
 * @pport: parent port
 * @cip: child IP
 * @cport: child port
 *
 * Return: the spec.
 */
static inline PortSpec
make_spec (PortProto proto, const char *pip, int pport, const char *cip, int cport)
{
  PortSpec s = { .proto = proto, .parent_port = pport, .child_port = cport };

  g_strlcpy (s.parent_ip, pip, sizeof s.parent_ip);
  g_strlcpy (s.child_ip, cip, sizeof s.child_ip);
  return s;
}

#endif /* NPTE_TEST_APIJSON_HELPERS_H */
