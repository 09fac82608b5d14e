/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_APIJSON_H
#define NPTE_APIJSON_H

#include <glib.h>

#include "info.h"
#include "porttable.h"

/*
 * JSON of the control API, rootlesskit-compatible:
 *   PortSpec   {"proto","parentIP","parentPort","childIP","childPort"}
 *   PortStatus {"id","spec", + npte extra "stats":{...}}
 *   Info       {"apiVersion","version","stateDir","childPID",
 *               "networkDriver":{...},"portDriver":{...}}
 *   Error      {"message": "..."}
 * PortSpec has two npte extras, which rootlesskit clients never send:
 *   "portCount"  ports in the range (parentPort..parentPort+portCount-1 maps
 *                to childPort..); omitted for one port; an explicit 0 is an
 *                error
 *   "direction"  "reverse" (namespace -> host); "forward" or omitted for
 *                the usual direction; anything else is an error
 * Decoding follows Go's encoding/json as rootlesskit uses it: field names
 * match case-insensitively, unknown fields are ignored, missing fields
 * are zero; a field of the wrong type is an error.
 */

/**
 * apijson_spec_decode() - parse a PortSpec request body
 * @body: bytes (need not be NUL-terminated; may be invalid UTF-8)
 * @len: length of @body
 * @out: (out) the spec (not validated)
 * @error: EINVAL with a message naming the bad field
 *
 * Return: TRUE on success.
 */
gboolean apijson_spec_decode (const char *body, gsize len, PortSpec *out, GError **error);

/* apijson_status_encode() - (transfer full) PortStatus JSON of @entry, no newline. */
char *apijson_status_encode (const PortEntry *entry);

/* apijson_status_list_encode() - (transfer full) JSON array of PortEntry* ("[]" when empty). */
char *apijson_status_list_encode (const GPtrArray *entries);

/* apijson_info_encode() - (transfer full) Info JSON. */
char *apijson_info_encode (const NpteInfo *info);

/* apijson_error_encode() - (transfer full) {"message": @message}. */
char *apijson_error_encode (const char *message);

/* apijson_spec_encode() - (transfer full) PortSpec JSON (a request body). */
char *apijson_spec_encode (const PortSpec *spec);

/**
 * apijson_status_decode() - parse one PortStatus (client side)
 * @json: text
 * @len: its length
 * @out: (out) id, spec and counters (counters zero when "stats" is absent)
 * @error: EINVAL on bad JSON
 *
 * Return: TRUE on success.
 */
gboolean apijson_status_decode (const char *json, gsize len, PortEntry *out, GError **error);

/**
 * apijson_status_list_decode() - parse a PortStatus array (or "null")
 * @json: text
 * @len: its length
 * @error: EINVAL on bad JSON
 *
 * Return: (transfer full) array of g_free-able PortEntry*, or NULL on error.
 */
GPtrArray *apijson_status_list_decode (const char *json, gsize len, GError **error);

/**
 * apijson_error_decode() - the "message" of an error body, or the body itself
 * @json: text
 * @len: its length
 *
 * Return: (transfer full) a message suitable for "error: %s".
 */
char *apijson_error_decode (const char *json, gsize len);

/**
 * apijson_info_decode() - parse an Info body (client side)
 * @json: text
 * @len: its length
 * @error: EINVAL on bad JSON or a member of the wrong type
 *
 * Members that are absent stay NULL / 0; a "networkDriver" or "portDriver"
 * object without "driver" gives "" there, so its presence shows.
 *
 * Return: (transfer full) the info, whose strings live as long as it; free
 * it with apijson_info_free(). NULL on error.
 */
NpteInfo *apijson_info_decode (const char *json, gsize len, GError **error);

/* apijson_info_free() - free what apijson_info_decode() returned (NULL is fine). */
void apijson_info_free (NpteInfo *info);

/**
 * apijson_validate() - strict JSON syntax check (RFC 8259)
 * @json: text
 * @len: its length
 * @error: EINVAL with the offset of the problem
 *
 * Besides RFC 8259: valid UTF-8 with no NUL (raw or "\u0000"), no lone
 * surrogate, integers within 64 bits, nesting at most 64 deep. Every
 * decoder here checks this first.
 *
 * Return: TRUE if @json is one valid JSON value (surrounding whitespace ok).
 */
gboolean apijson_validate (const char *json, gsize len, GError **error);

/**
 * apijson_pretty() - re-indent JSON as Go's json.MarshalIndent(v, "", "    ")
 * @json: text
 * @len: its length
 *
 * Return: (transfer full) the indented text without a final newline, or NULL
 * if @json does not pass apijson_validate().
 */
char *apijson_pretty (const char *json, gsize len);

#endif /* NPTE_APIJSON_H */
