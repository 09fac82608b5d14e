/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_LOG_H
#define NPTE_LOG_H

#include <glib.h>

/*
 * Logging to stderr with a role prefix: "npte: ...", "npte[child]: ...".
 * npte_die*() are for start-up only (see docs/error-handling.md); inside
 * event callbacks log and carry on.
 */
void npte_log_init (const char *role, gboolean debug);
gboolean npte_log_debug_enabled (void);

void npte_log (const char *level, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

#define npte_debug(...) \
  do { if (npte_log_debug_enabled ()) npte_log ("debug", __VA_ARGS__); } while (0)
#define npte_info(...) npte_log (NULL, __VA_ARGS__)
#define npte_warn(...) npte_log ("warning", __VA_ARGS__)
#define npte_err(...) npte_log ("error", __VA_ARGS__)

/**
 * npte_die() - print "error: MSG" and exit(1). Start-up only.
 * @fmt: printf format
 */
G_NORETURN void npte_die (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

/**
 * npte_die_error() - print @error's message and exit(1). Start-up only.
 * @error: the error (consumed)
 */
G_NORETURN void npte_die_error (GError *error);

/**
 * npte_usage_error() - print "npte CMD: MSG" and a pointer to CMD's --help
 * @cmd: the sub-command ("netns", "network")
 * @fmt: printf format of the message
 *
 * Return: 2, the exit status of a usage error.
 */
int npte_usage_error (const char *cmd, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/**
 * npte_fail() - print @error once and return @code
 * @error: the error (freed; NULL prints "unknown error")
 * @code: exit status
 *
 * Return: @code.
 */
int npte_fail (GError *error, int code);

#endif /* NPTE_LOG_H */
