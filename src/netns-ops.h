/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_OPS_H
#define NPTE_NETNS_OPS_H

#include <glib.h>
#include <sys/types.h>

#include "netns-cfg.h"
#include "netns-registry.h"

/*
 * The kernel side of "npte netns": making, configuring, dumping and
 * removing named network namespaces, and the "npte attach" that serves
 * each one's port API. Markers and the lock are the caller's (cmd-netns.c):
 * these functions assume the lock is held where they change something.
 *
 * Work inside a namespace happens in a short-lived forked process that
 * joins the keeper's user namespace (rootless) and the target network
 * namespace, does its netlink work and reports success or a GError back
 * over a pipe, so the calling process keeps its own namespaces.
 */

/**
 * netns_ops_host_path() - the namespace file of @name as this process can open it
 * @p: paths
 * @keeper: rootless: the keeper's pid
 * @name: valid name
 *
 * Return: (transfer full) /run/netns/NAME as root;
 *         /proc/KEEPER/root/BASE/netns-keeper/NAME rootless.
 */
char *netns_ops_host_path (const NetnsPaths *p, pid_t keeper, const char *name);

/**
 * netns_ops_open() - open the network namespace of @name, checking that it is one
 * @p: paths
 * @name: valid name
 * @error: "namespace NAME is stale: ..." when the keeper or the namespace is gone
 *
 * Return: the fd (O_CLOEXEC), or -1.
 */
int netns_ops_open (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_ops_create() - make the namespace, bring lo up, start its "npte attach"
 * @p: paths
 * @name: valid, unmanaged name
 * @slirp: give it outbound networking (npte attach --net=slirp)
 * @error: error; nothing is left behind on failure
 *
 * Rootless, the keeper is started first if none runs. As root the namespace
 * is bound at /run/netns/NAME, which must not exist yet.
 *
 * Return: TRUE on success.
 */
gboolean netns_ops_create (const NetnsPaths *p, const char *name, gboolean slirp,
                           GError **error);

/**
 * netns_ops_destroy() - stop its "npte attach", unbind the namespace, remove its files
 * @p: paths
 * @name: valid name
 * @error: error when the namespace cannot be unbound
 *
 * A stale namespace (keeper or binding gone) is cleaned up without error.
 * Rootless, the keeper is stopped when this was its last namespace.
 *
 * Return: TRUE on success.
 */
gboolean netns_ops_destroy (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_ops_configure() - apply a link/addr/route/neigh change inside the namespace
 * @p: paths
 * @op: the change (op->ns, and op->other_ns for a veth peer, are managed)
 * @error: error, with the kernel's ext-ack message where there is one
 *
 * Return: TRUE on success.
 */
gboolean netns_ops_configure (const NetnsPaths *p, const NetnsCfgOp *op, GError **error);

/**
 * netns_ops_show() - links, addresses, routes and neighbours of the namespace
 * @p: paths
 * @name: valid name
 * @json: JSON instead of text
 * @error: error
 *
 * Return: (transfer full) the rendered text, or NULL.
 */
char *netns_ops_show (const NetnsPaths *p, const char *name, gboolean json, GError **error);

/**
 * netns_ops_exec() - run @argv inside the namespace and wait for it
 * @p: paths
 * @name: valid, managed name
 * @argv: command and arguments
 * @error: error when the namespace cannot be entered
 *
 * Joins the keeper's user and mount namespaces (rootless), unshares a
 * mount namespace of its own (rslave), joins the network namespace, mounts
 * its sysfs on /sys and binds NAME.d/hosts and NAME.d/resolv.conf on
 * /etc when they exist, then forks and execs @argv, forwarding signals.
 *
 * Return: the command's exit status (128+N for signal N; 127/126 when it
 *         cannot be run), or -1 with @error set.
 */
int netns_ops_exec (const NetnsPaths *p, const char *name, char **argv, GError **error);

/* Work run by netns_ops_run_in() inside a namespace; text for the caller goes to @out. */
typedef gboolean (*NetnsInFunc) (gpointer data, GString *out, GError **error);

/**
 * netns_ops_run_in() - run @func in a forked helper inside the namespace @file
 * @p: paths
 * @file: a managed name, or a bare namespace of netns_ops_bind_bare()
 * @func: the work; it may setns() further, into namespaces whose fds it inherited
 * @data: its data (the helper sees a copy of this process)
 * @out: (optional) the helper's text on success
 * @error: the helper's error, or ESRCH when the namespace is gone
 *
 * Rootless, the helper joins the keeper's user namespace first.
 *
 * Return: TRUE when @func succeeded.
 */
gboolean netns_ops_run_in (const NetnsPaths *p, const char *file, NetnsInFunc func,
                           gpointer data, GString *out, GError **error);

/**
 * netns_ops_bind_bare() - a network namespace bound at @file, lo up; no attach, no marker
 * @p: paths
 * @file: a name that is not a valid namespace name (npte's own, e.g. "npte.networks");
 *        a leftover file of that name is replaced
 * @error: error
 *
 * Rootless, the keeper is started when none runs, and the namespace keeps it
 * running. As root it is bound in /run/netns.
 *
 * Return: TRUE on success.
 */
gboolean netns_ops_bind_bare (const NetnsPaths *p, const char *file, GError **error);

/**
 * netns_ops_unbind_bare() - undo netns_ops_bind_bare(); rootless, stop an idle keeper
 * @p: paths
 * @file: the name
 * @error: error
 *
 * Return: TRUE on success (also when it is not there).
 */
gboolean netns_ops_unbind_bare (const NetnsPaths *p, const char *file, GError **error);

/**
 * netns_ops_revive() - give a stale managed namespace a new, empty network namespace
 * @p: paths
 * @name: managed name whose namespace is gone (keeper killed, binding removed)
 * @error: error; the namespace stays stale
 *
 * The old "npte attach" is stopped, a new namespace is bound under the same
 * name with lo up and a new attach started (--net=slirp when NAME.d has the
 * resolv.conf that slirp writes). The marker and NAME.d stay. Whatever the
 * old namespace held (its own links, addresses, processes) is not restored:
 * npte network restores the members' links from its index.
 *
 * Return: TRUE on success.
 */
gboolean netns_ops_revive (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_ops_attach_start() - "npte attach --net=slirp" for the bare namespace @file
 * @p: paths
 * @file: a namespace of netns_ops_bind_bare()
 * @error: error with the attach's own message
 *
 * The same attach a managed namespace created with --net=slirp gets: its
 * state dir is BASE/netns/FILE.state, its log BASE/netns/FILE.d/attach.log.
 * A running one is stopped first. Rootless, the keeper must run.
 *
 * Return: TRUE when it is ready (its TAP device is up and configured).
 */
gboolean netns_ops_attach_start (const NetnsPaths *p, const char *file, GError **error);

/**
 * netns_ops_attach_stop() - stop the attach of @file and remove FILE.state and FILE.d
 * @p: paths
 * @file: a namespace of netns_ops_bind_bare()
 */
void netns_ops_attach_stop (const NetnsPaths *p, const char *file);

#endif /* NPTE_NETNS_OPS_H */
