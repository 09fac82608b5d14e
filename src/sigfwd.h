/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_SIGFWD_H
#define NPTE_SIGFWD_H

#include <ev.h>
#include <glib.h>

/*
 * Signal forwarding with a signalfd watched from libev. Every signal that
 * can sensibly be forwarded is blocked and read from the signalfd: all
 * standard and real-time signals except SIGKILL, SIGSTOP, SIGCHLD (libev's
 * child watchers own it), SIGPIPE, SIGURG, the synchronous fault signals,
 * and the job-control stops (SIGTSTP, SIGTTIN, SIGTTOU), which keep their
 * default action so that Ctrl-Z stops npte together with its payload.
 */

/* Called for each signal; @code is siginfo's si_code (SI_KERNEL: from the terminal). */
typedef void (*SigfwdFunc) (int signo, int code, gpointer user_data);

typedef struct Sigfwd Sigfwd;

/**
 * sigfwd_new() - block the forwardable signals and watch them on @loop
 * @loop: libev loop
 * @func: callback
 * @user_data: its data
 * @error: error on failure
 *
 * Return: (transfer full) the watcher or NULL.
 */
Sigfwd *sigfwd_new (struct ev_loop *loop, SigfwdFunc func, gpointer user_data, GError **error);

/* sigfwd_free() - stop watching and unblock the signals again. */
void sigfwd_free (Sigfwd *sf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sigfwd, sigfwd_free)

/**
 * sigfwd_should_forward() - whether a received signal goes on to the payload
 * @signo: signal
 * @code: si_code
 *
 * Signals a terminal sent to the whole foreground process group
 * (si_code SI_KERNEL) already reached the payload: forwarding them would
 * deliver them twice.
 *
 * Return: TRUE to forward.
 */
gboolean sigfwd_should_forward (int signo, int code);

/**
 * sigfwd_reset_for_exec() - in a forked child: empty signal mask, default
 *                           dispositions, so the payload starts clean
 */
void sigfwd_reset_for_exec (void);

#endif /* NPTE_SIGFWD_H */
