/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_KEEPER_H
#define NPTE_NETNS_KEEPER_H

#include <glib.h>
#include <sys/types.h>

#include "netns-registry.h"

/*
 * The rootless keeper: one process per user ("npte __netns-keeper --serve
 * BASE") that owns a user namespace and a mount namespace with a tmpfs at
 * BASE/netns-keeper, where the named network namespaces are bind-mounted.
 * It holds an exclusive flock on BASE/netns-keeper.pid for its whole life,
 * so "is the keeper running" is a lock probe, immune to pid reuse.
 *
 * Everything here runs under the global registry lock.
 */

/**
 * netns_keeper_find() - the pid of the running keeper
 * @p: paths
 *
 * Return: its pid, or 0 when no keeper runs.
 */
pid_t netns_keeper_find (const NetnsPaths *p);

/**
 * netns_keeper_ensure() - the running keeper, started now if none runs
 * @p: paths
 * @error: error when it cannot be started (user namespaces disabled, ...)
 *
 * The keeper is started detached (setsid, no PDEATHSIG): it outlives this
 * process. Its id maps are written from here with the same code as npte
 * run's (newuidmap/newgidmap with /etc/subuid ranges, else the own id).
 *
 * Return: its pid, or 0 on error.
 */
pid_t netns_keeper_ensure (const NetnsPaths *p, GError **error);

/**
 * netns_keeper_stop_if_idle() - stop the keeper when it holds no namespace any more
 * @p: paths
 * @error: error when it does not go away
 *
 * Return: TRUE when the keeper is gone or still has work.
 */
gboolean netns_keeper_stop_if_idle (const NetnsPaths *p, GError **error);

/**
 * netns_keeper_main() - "npte __netns-keeper [--find | --serve BASE]"
 * @argc: count (argv[0] is "__netns-keeper")
 * @argv: vector
 *
 * Without options: make sure a keeper runs and print its pid (plumbing for
 * --dry-run scripts; the caller holds the lock). --find: print the pid of
 * the running keeper, or exit 1. --serve: be the keeper (started by
 * netns_keeper_ensure() with its socket on fd 3).
 *
 * Return: exit code.
 */
int netns_keeper_main (int argc, char **argv);

#endif /* NPTE_NETNS_KEEPER_H */
