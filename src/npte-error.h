/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_ERROR_H
#define NPTE_ERROR_H

#include <glib.h>

/*
 * One error domain for all of npte. The error code is an errno value
 * (EINVAL, EADDRINUSE, ...), so errors that crossed the parent/child
 * boundary or came from the kernel keep their meaning. See
 * docs/error-handling.md.
 */
#define NPTE_ERROR (npte_error_quark ())

GQuark npte_error_quark (void);

/**
 * npte_set_error() - set @error to (NPTE_ERROR, @code, formatted message)
 * @error: (out) error to set; may be NULL
 * @code: errno value
 * @fmt: printf format
 *
 * Return: FALSE, so callers can write "return npte_set_error (...)".
 */
gboolean npte_set_error (GError **error, int code, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

/**
 * npte_set_errno() - like npte_set_error() but appends ": strerror(@errsv)"
 * @error: (out) error to set; may be NULL
 * @errsv: saved errno value
 * @fmt: printf format of the context ("bind 127.0.0.1:8080")
 *
 * Return: FALSE.
 */
gboolean npte_set_errno (GError **error, int errsv, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

/* Convenience: the errno-like code of @error, or EIO for a foreign domain. */
int npte_error_code (const GError *error);

#endif /* NPTE_ERROR_H */
