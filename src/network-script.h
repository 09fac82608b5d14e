/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETWORK_SCRIPT_H
#define NPTE_NETWORK_SCRIPT_H

#include <glib.h>

#include "netns-registry.h"
#include "network-registry.h"

/*
 * --dry-run of "npte network create" and "rm": POSIX sh scripts doing the
 * same steps with standard tools, like those of "npte netns" (netns-script.h):
 * the same flock(1) on the global lock, iproute2 as root, nsenter(1) into
 * the keeper's namespaces rootless. The plan is made from the index as it
 * is now (read, not locked); the script first checks, under the lock, that
 * the index is still the one it was made from (its SHA-256) and stops with
 * status 1 otherwise. The new index is written with printf, sync and mv.
 *
 * Rendering is pure: nothing is read or changed.
 */

/**
 * network_script_create() - the script of "npte network create"
 * @p: paths
 * @npte: absolute path of the npte binary
 * @before: (nullable) the index text the plan was made from; NULL for no file
 * @after: the index with the new network
 * @n: the new network (in @after)
 *
 * Return: (transfer full) the script.
 */
char *network_script_create (const NetnsPaths *p, const char *npte, const char *before,
                             const NetIndex *after, const Network *n);

/**
 * network_script_rm() - the script of "npte network rm [--force]"
 * @p: paths
 * @npte: absolute path of the npte binary
 * @before: (nullable) the index text the plan was made from
 * @after: the index without the network
 * @n: the network removed (not in @after), with its members
 * @old_hosts: the hosts file of each member as it is now (member name to
 *             text; no entry when there is none): the script writes them
 *             with npte's block replaced
 *
 * Return: (transfer full) the script.
 */
char *network_script_rm (const NetnsPaths *p, const char *npte, const char *before,
                         const NetIndex *after, const Network *n, GHashTable *old_hosts);

#endif /* NPTE_NETWORK_SCRIPT_H */
