/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_SCRIPT_H
#define NPTE_NETNS_SCRIPT_H

#include <glib.h>

#include "netns-cfg.h"
#include "netns-registry.h"

/*
 * --dry-run: POSIX sh scripts that do what a live "npte netns" verb does,
 * step by step, with standard tools: flock(1) on the same lock file,
 * iproute2 ("ip netns", "ip -n") as root, nsenter(1)/unshare(1) into the
 * keeper's namespaces rootless. Only what has no standard tool calls npte:
 * starting the keeper ("npte __netns-keeper"), the port API ("npte attach")
 * and, rootless, running ip inside a namespace ("npte netns exec").
 *
 * Every script that needs a managed namespace carries the RequireManaged
 * guard, so scripts can be concatenated ("create" then "addr add") and stop
 * with status 2 where the live verb would:
 *
 *   test -f "MARKER" || { echo "npte: namespace NAME is not managed by npte" >&2; exit 2; }
 *
 * Rendering is pure: nothing is read or changed.
 */

/**
 * netns_sh_quote() - @s as one double-quoted sh word ("\$", "\"", "\\", "\`" escaped)
 * @s: text
 *
 * Return: (transfer full) the word.
 */
char *netns_sh_quote (const char *s);

/**
 * netns_sh_word() - @s as one sh word: as is when it has only safe characters
 *                   ([A-Za-z0-9_./:@%+=,-]), else netns_sh_quote()d
 * @s: text
 *
 * Return: (transfer full) the word.
 */
char *netns_sh_word (const char *s);

/**
 * netns_script_guard() - the RequireManaged lines for @name
 * @p: paths
 * @name: valid name
 *
 * Return: (transfer full) two lines: a marker that is not a regular file
 *         (or a symlink) exits 2, a missing marker exits 2.
 */
char *netns_script_guard (const NetnsPaths *p, const char *name);

/**
 * netns_script_create() - the script of "npte netns create NAME"
 * @p: paths
 * @npte: absolute path of the npte binary
 * @name: valid name
 * @slirp: --net=slirp
 *
 * Return: (transfer full) the script.
 */
char *netns_script_create (const NetnsPaths *p, const char *npte, const char *name,
                           gboolean slirp);

/**
 * netns_script_destroy() - the script of "npte netns destroy NAME"
 * @p: paths
 * @npte: absolute path of the npte binary
 * @name: valid name
 *
 * Return: (transfer full) the script.
 */
char *netns_script_destroy (const NetnsPaths *p, const char *npte, const char *name);

/**
 * netns_script_cfg() - the script of a link/addr/route/neigh change
 * @p: paths
 * @npte: absolute path of the npte binary
 * @op: the change
 *
 * Return: (transfer full) the script.
 */
char *netns_script_cfg (const NetnsPaths *p, const char *npte, const NetnsCfgOp *op);

#endif /* NPTE_NETNS_SCRIPT_H */
