/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_REGISTRY_H
#define NPTE_NETNS_REGISTRY_H

#include <glib.h>

/*
 * The registry of named network namespaces managed by npte: name rules,
 * paths, markers and the global lock. No namespaces are touched here.
 *
 * Layout under BASE ($NPTE_NETNS_RUN_DIR if set; else /run/npte as root,
 * statedir_base() rootless):
 *
 *   BASE/netns/NAME          empty marker: NAME is managed by npte
 *   BASE/netns/NAME.d/       per-namespace files (hosts, resolv.conf for exec)
 *   BASE/netns/NAME.state/   state dir of the namespace's "npte attach" (api.sock)
 *   BASE/netns.lock          the global lock (flock)
 *   BASE/netns-keeper.pid    rootless: the keeper's pid, flocked by the keeper
 *   BASE/netns-keeper/       rootless: where the keeper mounts its tmpfs
 *
 * As root the namespaces themselves are bind mounts at /run/netns/NAME (so
 * "ip netns" sees them); rootless they are bind mounts at
 * BASE/netns-keeper/NAME inside the keeper's mount namespace.
 */

/* The longest valid name: [a-z0-9][a-z0-9-]{0,62}. */
#define NETNS_NAME_MAX 63

/* Where root's namespaces are bound, as "ip netns" does. */
#define NETNS_RUN_DIR "/run/netns"

/* How long the global lock is waited for before giving up. */
#define NETNS_LOCK_TIMEOUT_MS 60000

typedef struct {
  char *base;        /* BASE */
  char *reg;         /* BASE/netns */
  char *lock;        /* BASE/netns.lock */
  char *keeper_pid;  /* BASE/netns-keeper.pid */
  char *keeper_mnt;  /* BASE/netns-keeper */
  gboolean rootless; /* keeper mode; FALSE when running as root */
} NetnsPaths;

/**
 * netns_paths_new() - the paths for this process
 *
 * BASE is $NPTE_NETNS_RUN_DIR when set (absolute), else /run/npte for
 * root and statedir_base() (XDG_RUNTIME_DIR/npte or TMPDIR/npte-UID) for
 * everybody else. Rootless mode is chosen by the effective uid alone.
 *
 * Return: (transfer full) the paths.
 */
NetnsPaths *netns_paths_new (void);

/**
 * netns_paths_new_for() - the paths for an explicit base (tests)
 * @base: BASE
 * @rootless: keeper mode
 *
 * Return: (transfer full) the paths.
 */
NetnsPaths *netns_paths_new_for (const char *base, gboolean rootless);

void netns_paths_free (NetnsPaths *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetnsPaths, netns_paths_free)

/**
 * netns_name_valid() - check a namespace name: [a-z0-9][a-z0-9-]{0,62}
 * @name: the name (may be NULL)
 * @error: EINVAL saying what is wrong with it
 *
 * Valid names contain no '/', no '.', nothing to escape the registry.
 *
 * Return: TRUE if valid.
 */
gboolean netns_name_valid (const char *name, GError **error);

/* netns_marker_path() - (transfer full) BASE/netns/NAME. @name must be valid. */
char *netns_marker_path (const NetnsPaths *p, const char *name);

/* netns_conf_dir() - (transfer full) BASE/netns/NAME.d */
char *netns_conf_dir (const NetnsPaths *p, const char *name);

/* netns_state_dir() - (transfer full) BASE/netns/NAME.state */
char *netns_state_dir (const NetnsPaths *p, const char *name);

/**
 * netns_ns_path() - where the namespace is bound, in the binder's mount namespace
 * @p: paths
 * @name: valid name
 *
 * Return: (transfer full) /run/netns/NAME as root; BASE/netns-keeper/NAME
 *         rootless (visible inside the keeper's mount namespace only).
 */
char *netns_ns_path (const NetnsPaths *p, const char *name);

typedef enum {
  NETNS_MARKER_ABSENT,  /* not managed */
  NETNS_MARKER_PRESENT, /* a regular file: managed */
  NETNS_MARKER_BAD,     /* something else is there: error set */
} NetnsMarkerState;

/**
 * netns_marker_check() - what is at the marker path, never following a symlink
 * @p: paths
 * @name: valid name
 * @error: for NETNS_MARKER_BAD: ELOOP (symlink), EISDIR (directory) or
 *         EINVAL (another type), or the errno of a failed open
 *
 * Return: the state.
 */
NetnsMarkerState netns_marker_check (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_require_managed() - RequireManaged: the marker of @name is a regular file
 * @p: paths
 * @name: valid name
 * @error: ENOENT "namespace NAME is not managed by npte", or the marker's problem
 *
 * Callers exit with status 2 when this fails.
 *
 * Return: TRUE if @name is managed.
 */
gboolean netns_require_managed (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_marker_create() - create the empty marker (O_EXCL, O_NOFOLLOW)
 * @p: paths
 * @name: valid name
 * @error: EEXIST when something is there already
 *
 * Return: TRUE on success.
 */
gboolean netns_marker_create (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_marker_remove() - remove the marker
 * @p: paths
 * @name: valid name
 * @error: error on failure (a missing marker is not one)
 *
 * Return: TRUE on success.
 */
gboolean netns_marker_remove (const NetnsPaths *p, const char *name, GError **error);

/**
 * netns_lock() - create BASE and BASE/netns if needed and take the global lock
 * @p: paths
 * @timeout_ms: how long to wait for another npte to release it
 * @error: ETIMEDOUT, or why the directories or the lock file are unusable
 *
 * The directories are mode 0700 rootless and 0755 as root, and must be real
 * directories owned by the caller. The lock file is opened with O_NOFOLLOW.
 *
 * Return: the lock fd (close it to release the lock), or -1.
 */
int netns_lock (const NetnsPaths *p, int timeout_ms, GError **error);

/**
 * netns_registry_list() - the managed names, sorted
 * @p: paths
 * @skipped: (out) (optional) (transfer full) valid names whose marker is not a
 *           regular file; they are not in the result
 * @error: error when the registry cannot be read (a missing one is empty)
 *
 * Entries whose names are not valid (NAME.d, NAME.state, strays) are ignored.
 *
 * Return: (transfer full) array of names, or NULL.
 */
GPtrArray *netns_registry_list (const NetnsPaths *p, GPtrArray **skipped, GError **error);

#endif /* NPTE_NETNS_REGISTRY_H */
