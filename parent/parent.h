/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_PARENT_H
#define NPTE_PARENT_H

#include <glib.h>

#include "netcfg.h"
#include "portspec.h"

typedef struct {
  char **cmd_argv;        /* the payload, NULL-terminated */
  const char *state_dir;  /* NULL: a fresh private dir */
  const char *port_driver;/* "builtin", "slirp" or "none" */
  const NetCfg *net;      /* --net=slirp addressing, or NULL for --net=none */
  GArray *publish;        /* PortSpec, validated */
  int ready_fd;           /* -1: none */
  int exit_fd;            /* -1: none */
  gboolean debug;
  /* npte attach: serve an existing namespace instead of creating one */
  int attach_pid;         /* > 0: the namespaces of this process; exit when it exits */
  const char *attach_netns;  /* or a netns path (bind mount, /proc/PID/ns/net) */
  const char *userns_path;   /* user namespace to join first (default: the PID's) */
  const char *api_socket;    /* API socket path instead of $STATE/api.sock */
  const char *s4n_api_socket; /* also serve slirp4netns' JSON API here (--net=slirp) */
  gboolean source_loopback;  /* --source-address=loopback: do not preserve client addresses */
  gboolean no_sandbox;       /* --no-sandbox: the parent is not confined after set-up */
  int busy_poll_us;          /* --busy-poll limit in microseconds, 0: off, < 0: the default */
  /* npte slirp4netns: slirp4netns' JSON API on api_socket (none if NULL) instead of the REST
   * API, and no state dir */
  gboolean slirp4netns;
} NpteRunOptions;

/**
 * parent_run() - npte run / npte attach: namespaces, ports, API, payload
 * (run only); until the payload exits (run) or the target goes away or
 * npte is told to stop (attach)
 * @opts: options (validated by the CLI)
 *
 * Return: the exit code: the payload's status (128+N for signal N), or 1
 *         when npte itself failed (the error was printed once).
 */
int parent_run (const NpteRunOptions *opts);

#endif /* NPTE_PARENT_H */
