/* SPDX-License-Identifier: Apache-2.0 */
#include "npte-error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (npte-error-quark, npte_error)

gboolean
npte_set_error (GError **error, int code, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, NPTE_ERROR, code, msg);
  return FALSE;
}

gboolean
npte_set_errno (GError **error, int errsv, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, NPTE_ERROR, errsv, "%s: %s", msg, g_strerror (errsv));
  return FALSE;
}

int
npte_error_code (const GError *error)
{
  if (error == NULL)
    return 0;
  if (error->domain == NPTE_ERROR && error->code > 0)
    return error->code;
  return EIO;
}
