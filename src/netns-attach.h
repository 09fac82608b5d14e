/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_ATTACH_H
#define NPTE_NETNS_ATTACH_H

#include <glib.h>
#include <sys/types.h>

#include "netns-registry.h"

/*
 * The "npte attach" that serves a registry namespace's port API (and, with
 * --net=slirp, its outbound networking): used by netns-ops.c for managed
 * namespaces and, through netns_ops_attach_start(), for the infrastructure
 * namespace of the networks. The caller holds the global lock.
 */

/**
 * netns_attach_start() - start "npte attach" for the namespace bound as @name
 * @p: paths
 * @keeper: rootless: the keeper's pid
 * @name: a managed name, or a bare namespace of netns_ops_bind_bare()
 * @slirp: --net=slirp (also writes NAME.d/resolv.conf)
 * @error: error with the attach's own message
 *
 * Return: TRUE when it is ready.
 */
gboolean netns_attach_start (const NetnsPaths *p, pid_t keeper, const char *name, gboolean slirp,
                             GError **error);

/**
 * netns_attach_stop() - SIGTERM (then SIGKILL) to the attach's child; wait for its lock to go
 * @p: paths
 * @name: the namespace's name
 */
void netns_attach_stop (const NetnsPaths *p, const char *name);

#endif /* NPTE_NETNS_ATTACH_H */
