/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char log_prefix[32] = "npte";
static gboolean log_debug;

/**
 * npte_log_init() - set the prefix and verbosity of this process' log
 * @role: NULL for "npte", or a role such as "child" giving "npte[child]"
 * @debug: whether npte_debug() prints
 */
void
npte_log_init (const char *role, gboolean debug)
{
  if (role != NULL)
    g_snprintf (log_prefix, sizeof log_prefix, "npte[%s]", role);
  else
    g_strlcpy (log_prefix, "npte", sizeof log_prefix);
  log_debug = debug;
}

gboolean
npte_log_debug_enabled (void)
{
  return log_debug;
}

static void
log_v (const char *level, const char *fmt, va_list ap)
{
  int errsv = errno;
  char buf[2048];

  g_vsnprintf (buf, sizeof buf, fmt, ap);
  if (level != NULL)
    fprintf (stderr, "%s: %s: %s\n", log_prefix, level, buf);
  else
    fprintf (stderr, "%s: %s\n", log_prefix, buf);
  errno = errsv;
}

/**
 * npte_log() - print one line to stderr
 * @level: "warning", "error", "debug" or NULL for plain information
 * @fmt: printf format
 */
void
npte_log (const char *level, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  log_v (level, fmt, ap);
  va_end (ap);
}

void
npte_die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  log_v ("error", fmt, ap);
  va_end (ap);
  exit (1);
}

void
npte_die_error (GError *error)
{
  npte_die ("%s", error != NULL ? error->message : "unknown error");
}

int
npte_usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "npte %s: ", cmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'npte %s --help'.\n", cmd);
  return 2;
}

int
npte_fail (GError *error, int code)
{
  npte_err ("%s", error != NULL ? error->message : "unknown error");
  g_clear_error (&error);
  return code;
}
