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
} NpteRunOptions;

/**
 * parent_run() - npte run: namespaces, ports, API, payload; until it exits
 * @opts: options (validated by the CLI)
 *
 * Return: the exit code: the payload's status (128+N for signal N), or 1
 *         when npte itself failed (the error was printed once).
 */
int parent_run (const NpteRunOptions *opts);

#endif /* NPTE_PARENT_H */
