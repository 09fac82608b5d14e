/* SPDX-License-Identifier: Apache-2.0 */
#include "sigfwd.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"

struct Sigfwd {
  struct ev_loop *loop;
  ev_io watcher;
  int fd;
  sigset_t set;
  SigfwdFunc func;
  gpointer user_data;
};

/**
 * forwardable_set() - the signals npte forwards
 * @set: (out) the set
 */
static void
forwardable_set (sigset_t *set)
{
  /*
   * Job-control stops (TSTP, TTIN, TTOU) keep their default action: npte
   * stops with its payload, so the shell gets its prompt back on Ctrl-Z.
   */
  static const int skip[] = { SIGKILL, SIGSTOP, SIGCHLD, SIGPIPE, SIGURG,  SIGSEGV, SIGBUS,
                              SIGFPE,  SIGILL,  SIGTRAP, SIGSYS,  SIGABRT, SIGTSTP, SIGTTIN,
                              SIGTTOU };

  sigemptyset (set);
  for (int s = 1; s < 32; s++)
    {
      gboolean skipped = FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (skip); i++)
        skipped = skipped || skip[i] == s;
      if (!skipped)
        sigaddset (set, s);
    }
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
    sigaddset (set, s);
}

static void
sigfwd_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  Sigfwd *sf = w->data;
  struct signalfd_siginfo si;

  for (;;)
    {
      ssize_t n = read (sf->fd, &si, sizeof si);
      if (n != (ssize_t) sizeof si)
        break;
      sf->func ((int) si.ssi_signo, si.ssi_code, sf->user_data);
    }
}

Sigfwd *
sigfwd_new (struct ev_loop *loop, SigfwdFunc func, gpointer user_data, GError **error)
{
  g_autofree Sigfwd *sf = g_new0 (Sigfwd, 1);

  forwardable_set (&sf->set);
  if (sigprocmask (SIG_BLOCK, &sf->set, NULL) < 0)
    {
      npte_set_errno (error, errno, "block signals");
      return NULL;
    }
  sf->fd = signalfd (-1, &sf->set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sf->fd < 0)
    {
      npte_set_errno (error, errno, "signalfd");
      sigprocmask (SIG_UNBLOCK, &sf->set, NULL);
      return NULL;
    }
  sf->loop = loop;
  sf->func = func;
  sf->user_data = user_data;
  ev_io_init (&sf->watcher, sigfwd_cb, sf->fd, EV_READ);
  sf->watcher.data = sf;
  ev_io_start (loop, &sf->watcher);
  return g_steal_pointer (&sf);
}

void
sigfwd_free (Sigfwd *sf)
{
  if (sf == NULL)
    return;
  ev_io_stop (sf->loop, &sf->watcher);
  close (sf->fd);
  sigprocmask (SIG_UNBLOCK, &sf->set, NULL);
  g_free (sf);
}

gboolean
sigfwd_should_forward (int signo, int code)
{
  if (code != SI_KERNEL)
    return TRUE;
  /* Terminal-generated: the whole foreground process group has it already. */
  return !(signo == SIGINT || signo == SIGQUIT || signo == SIGTSTP || signo == SIGWINCH
           || signo == SIGTTIN || signo == SIGTTOU || signo == SIGHUP);
}

void
sigfwd_reset_for_exec (void)
{
  sigset_t none;

  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}
