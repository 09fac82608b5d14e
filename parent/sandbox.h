/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_SANDBOX_H
#define NPTE_SANDBOX_H

#include <glib.h>
#include <sys/types.h>

/*
 * The parent's sandbox, entered once everything is set up (ports, API,
 * child): a private mount namespace with an empty read-only root that shows
 * only /etc, a minimal capability set, PR_SET_NO_NEW_PRIVS and a seccomp
 * allow-list. See docs/security.md.
 */

/* What the parent may still do in a directory it keeps a descriptor of. */
typedef enum {
  SANDBOX_DIR_UNLINK,  /* remove files in it (the state dir) */
  SANDBOX_DIR_RMDIR,   /* remove an empty directory in it (the state dir's parent) */
} SandboxDirUse;

#define SANDBOX_MAX_DIRS 4

typedef struct {
  /* The namespace process: rootless, the parent joins its user namespace
   * (it owns it) to get a private mount namespace; it is also the only
   * process the parent may signal afterwards. */
  pid_t child_pid;
  /* O_PATH directory fds the parent keeps using (statedir clean-up). They
   * keep their numbers but are re-rooted, so ".." cannot leave them. */
  struct {
    int fd;
    SandboxDirUse use;
  } dirs[SANDBOX_MAX_DIRS];
  guint n_dirs;
} SandboxConfig;

/**
 * sandbox_add_dir() - keep the directory fd @fd usable inside the sandbox
 * @cfg: the configuration
 * @fd: an O_PATH|O_DIRECTORY fd, or -1 (ignored)
 * @use: what the parent may do in it
 */
void sandbox_add_dir (SandboxConfig *cfg, int fd, SandboxDirUse use);

/**
 * sandbox_enter() - confine the calling process (the parent) for good
 * @cfg: what the parent still needs
 *
 * Never fatal: a layer that cannot be set up in this configuration (e.g. a
 * user namespace that cannot be joined) is skipped, and one warning names
 * every skipped layer. Must be called while the process is single-threaded.
 *
 * Return: TRUE when every layer is in place.
 */
gboolean sandbox_enter (const SandboxConfig *cfg);

#endif /* NPTE_SANDBOX_H */
