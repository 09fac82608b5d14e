/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: The parent's sandbox
 *
 * parent.c enters it once, after set-up (ports listening, API socket bound,
 * child up, child_pid written) and before the loop serves anything. Three
 * layers; one this configuration cannot have is skipped, and a single
 * warning names every skipped layer (docs/security.md):
 *
 *  1. File system. A private mount namespace needs CAP_SYS_ADMIN in the
 *     caller's user namespace. Root has it. A rootless parent first joins
 *     the child's user namespace (setns on /proc/CHILD/ns/user; the parent
 *     owns it, so the kernel allows it), where it holds every capability,
 *     including the CAP_NET_ADMIN (IP_TRANSPARENT) and CAP_NET_BIND_SERVICE
 *     (reverse ports below 1024) it needs over the child's network
 *     namespace. Then unshare(CLONE_NEWNS), "/" recursively private, a tmpfs
 *     as the new root with /etc bound in (libslirp re-reads resolv.conf),
 *     plus the directory of every hop of an /etc/resolv.conf symlink that
 *     leaves /etc; the kept directory fds are re-rooted on detached bind
 *     mounts (so ".." cannot climb out of them); other directory fds are
 *     closed; pivot_root; the old root is detached; everything read-only,
 *     nosuid, nodev, noexec.
 *  2. Capabilities. The bounding set loses every capability not kept;
 *     effective = permitted = the kept ones; inheritable and ambient are
 *     cleared. In the child's user namespace (rootless) the parent keeps
 *     CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, which reach only namespaces
 *     that user namespace owns. Root keeps only CAP_NET_BIND_SERVICE (host
 *     ports below 1024): as the owner of the child's user namespace it has
 *     every capability there without effective bits, and CAP_NET_ADMIN over
 *     the host is more than it needs.
 *  3. PR_SET_NO_NEW_PRIVS, then the seccomp allow-list of load_seccomp().
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

/* Header only (client requests), present wherever valgrind is installed. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* The new root is built on a tmpfs mounted over this directory of the private old root. */
#define NEW_ROOT "/tmp"
/* Most symlinks followed from /etc/resolv.conf. */
#define RESOLV_MAX_HOPS 8
/* Directories bound into the new root: /etc and the hops of resolv.conf. */
#define MAX_BINDS (1 + RESOLV_MAX_HOPS)

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (scmp_filter_ctx, seccomp_release, NULL)

/* One host directory to show in the new root. */
typedef struct {
  int fd;     /* O_PATH, opened before anything is mounted on the new root */
  char *dest; /* its path inside the new root */
} Bind;

typedef struct {
  Bind binds[MAX_BINDS];
  guint n_binds;
  int kept[SANDBOX_MAX_DIRS]; /* the config's directories, reached in the new namespace */
  gboolean resolv_readable;   /* /etc/resolv.conf could be read before the sandbox */
} RootPlan;

void
sandbox_add_dir (SandboxConfig *cfg, int fd, SandboxDirUse use)
{
  if (fd < 0 || cfg->n_dirs == SANDBOX_MAX_DIRS)
    return;
  cfg->dirs[cfg->n_dirs].fd = fd;
  cfg->dirs[cfg->n_dirs].use = use;
  cfg->n_dirs++;
}

/* note() - append what could not be done to @problems, "; "-separated. */
static void G_GNUC_PRINTF (2, 3)
note (GString *problems, const char *fmt, ...)
{
  va_list ap;

  if (problems->len > 0)
    g_string_append (problems, "; ");
  va_start (ap, fmt);
  g_string_append_vprintf (problems, fmt, ap);
  va_end (ap);
}

/* path_is_under() - @path is @dir or below it (both absolute and canonical). */
static gboolean
path_is_under (const char *path, const char *dir)
{
  gsize n = strlen (dir);

  return strncmp (path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/**
 * plan_add() - show the host directory @host at @dest in the new root
 * @plan: the plan
 * @host: host path (symlinks are followed)
 * @dest: canonical absolute path inside the new root
 */
static void
plan_add (RootPlan *plan, const char *host, const char *dest)
{
  int fd;

  /* A symlink to /resolv.conf would ask for the whole host: resolv.conf stays unreadable. */
  if (plan->n_binds == MAX_BINDS || strcmp (dest, "/") == 0)
    return;
  for (guint i = 0; i < plan->n_binds; i++)
    if (path_is_under (dest, plan->binds[i].dest))
      return; /* already visible through an earlier bind */
  fd = open (host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      npte_debug ("sandbox: %s: %s", host, g_strerror (errno));
      return;
    }
  plan->binds[plan->n_binds].fd = fd;
  plan->binds[plan->n_binds].dest = g_strdup (dest);
  plan->n_binds++;
}

/**
 * plan_resolv_conf() - make every hop of an /etc/resolv.conf symlink chain visible
 * @plan: the plan
 *
 * A hop whose directory is outside /etc (systemd-resolved's /run/systemd/resolve)
 * is bound at that path; a directory inside /etc that is itself a symlink out of
 * it (/etc/static -> /nix/store/...) is bound at its real path. Directories, not
 * files: the resolver rewrites the file by rename, and libslirp re-reads it.
 */
static void
plan_resolv_conf (RootPlan *plan)
{
  g_autofree char *cur = g_strdup ("/etc/resolv.conf");

  plan->resolv_readable = access (cur, R_OK) == 0;
  for (int hop = 0; hop < RESOLV_MAX_HOPS; hop++)
    {
      g_autofree char *target = g_file_read_link (cur, NULL);
      if (target == NULL)
        return;
      g_autofree char *base = g_path_get_dirname (cur);
      g_autofree char *next = g_canonicalize_filename (target, base);
      g_autofree char *dir = g_path_get_dirname (next);
      if (!path_is_under (dir, "/etc"))
        plan_add (plan, dir, dir);
      else
        {
          g_autofree char *real = realpath (dir, NULL);
          if (real != NULL && !path_is_under (real, "/etc"))
            plan_add (plan, real, real);
        }
      g_free (cur);
      cur = g_steal_pointer (&next);
    }
}

/* plan_close_fds() - close the plan's descriptors (they would lead out of the new root). */
static void
plan_close_fds (RootPlan *plan)
{
  for (guint i = 0; i < plan->n_binds; i++)
    npte_close_fdp (&plan->binds[i].fd);
  for (guint i = 0; i < SANDBOX_MAX_DIRS; i++)
    npte_close_fdp (&plan->kept[i]);
}

/* plan_clear() - free the plan. */
static void
plan_clear (RootPlan *plan)
{
  plan_close_fds (plan);
  for (guint i = 0; i < plan->n_binds; i++)
    g_clear_pointer (&plan->binds[i].dest, g_free);
  plan->n_binds = 0;
}

/*
 * The type (and for propagation and remounts the source) of these mounts is
 * ignored by the kernel; a string rather than NULL keeps valgrind's mount()
 * check quiet.
 */
#define IGNORED "none"

/* fd_path() - the magic link naming what @fd is open on. */
static char *
fd_path (int fd)
{
  return g_strdup_printf ("/proc/self/fd/%d", fd);
}

/**
 * uid_is_mapped() - whether host uid @uid has an id in the user namespace of @pid
 * @pid: a process
 * @uid: uid in our namespace
 *
 * Return: TRUE if a line of /proc/@pid/uid_map covers @uid.
 */
static gboolean
uid_is_mapped (pid_t pid, uid_t uid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/uid_map", (int) pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      /* "INSIDE OUTSIDE COUNT", in space-padded columns */
      guint64 v[3];
      const char *p = *l;
      int i;

      for (i = 0; i < 3; i++)
        {
          char *end;
          while (*p == ' ' || *p == '\t')
            p++;
          if (!g_ascii_isdigit (*p))
            break;
          v[i] = g_ascii_strtoull (p, &end, 10);
          p = end;
        }
      if (i == 3 && uid >= v[1] && uid - v[1] < v[2])
        return TRUE;
    }
  return FALSE;
}

/**
 * have_cap() - whether @cap is in our effective set (in our user namespace)
 * @cap: CAP_*
 *
 * Return: TRUE if it is.
 */
static gboolean
have_cap (int cap)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { { 0 } };

  if (syscall (SYS_capget, &hdr, data) < 0)
    return FALSE;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

/**
 * join_child_userns() - setns() into the user namespace of @pid
 * @pid: the namespace process
 * @error: why not
 *
 * Return: TRUE when joined.
 */
static gboolean
join_child_userns (pid_t pid, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/user", (int) pid);
  npte_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat mine, theirs;

  if (fd < 0 || fstat (fd, &theirs) < 0)
    return npte_set_errno (error, errno, "open %s", path);
  if (stat ("/proc/self/ns/user", &mine) == 0 && mine.st_dev == theirs.st_dev
      && mine.st_ino == theirs.st_ino)
    return npte_set_error (error, EPERM, "the namespace process (pid %d) is in npte's own user "
                           "namespace, where npte lacks CAP_SYS_ADMIN", (int) pid);
  /* Unmapped, our uid would read as the overflow uid there, as every other
   * unmapped user does: the API's peer check could not tell us apart. */
  if (!uid_is_mapped (pid, getuid ()))
    return npte_set_error (error, EPERM, "uid %u has no id in the user namespace of pid %d",
                           (unsigned int) getuid (), (int) pid);
  if (setns (fd, CLONE_NEWUSER) < 0)
    return npte_set_errno (error, errno, "join the user namespace of pid %d", (int) pid);
  return TRUE;
}

/**
 * bind_at() - bind the directory open on @fd at @dest under NEW_ROOT
 * @fd: O_PATH directory fd
 * @dest: absolute path inside the new root
 * @error: error on failure
 *
 * Recursive: a plain bind of a directory with mounts below it is refused
 * inside a user namespace (it would uncover what they hide).
 *
 * Return: TRUE on success.
 */
static gboolean
bind_at (int fd, const char *dest, GError **error)
{
  g_autofree char *src = fd_path (fd);
  g_autofree char *path = g_build_filename (NEW_ROOT, dest, NULL);

  if (g_mkdir_with_parents (path, 0755) < 0)
    return npte_set_errno (error, errno, "create %s in the new root", dest);
  if (mount (src, path, IGNORED, MS_BIND | MS_REC, NULL) < 0)
    return npte_set_errno (error, errno, "bind %s into the new root", dest);
  return TRUE;
}

/**
 * open_in_this_ns() - the directory of @fd, reached through the current mount namespace
 * @fd: O_PATH directory fd opened before unshare(CLONE_NEWNS)
 * @error: error when its path no longer leads to it
 *
 * A bind mount's source must be in the caller's mount namespace, and an fd
 * opened before the unshare still points into the old one: look its path up
 * again (the copy has the same layout) and check it is the same directory.
 *
 * Return: an O_PATH fd, or -1.
 */
static int
open_in_this_ns (int fd, GError **error)
{
  g_autofree char *link = fd_path (fd);
  g_autofree char *path = g_file_read_link (link, NULL);
  npte_autofd int same = -1;
  struct stat a, b;

  if (path != NULL)
    same = open (path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (same < 0 || fstat (fd, &a) < 0 || fstat (same, &b) < 0 || a.st_dev != b.st_dev
      || a.st_ino != b.st_ino)
    {
      npte_set_error (error, ENOENT, "kept directory %s is not reachable by its path any more",
                      path != NULL ? path : link);
      return -1;
    }
  return npte_steal_fd (&same);
}

/**
 * confine_dir() - re-root the directory fd @fd on a detached bind mount
 * @fd: O_PATH directory fd; keeps its number
 * @same: the same directory, opened in the current mount namespace
 * @index: a number for the temporary mount point
 * @error: error on failure
 *
 * ".." at the root of a mount that has no parent stays where it is, so the
 * new descriptor reaches only the directory and what is below it.
 *
 * Return: TRUE on success.
 */
static gboolean
confine_dir (int fd, int same, guint index, GError **error)
{
  g_autofree char *tmp = g_strdup_printf (NEW_ROOT "/.dir%u", index);
  g_autofree char *src = fd_path (same);
  npte_autofd int nfd = -1;
  int errsv;

  if (mkdir (tmp, 0700) < 0 || mount (src, tmp, IGNORED, MS_BIND | MS_REC, NULL) < 0)
    return npte_set_errno (error, errno, "bind a kept directory");
  nfd = open (tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  errsv = errno;
  if (umount2 (tmp, MNT_DETACH) < 0 || nfd < 0)
    return npte_set_errno (error, nfd < 0 ? errsv : errno, "detach a kept directory");
  rmdir (tmp);
  if (dup3 (nfd, fd, O_CLOEXEC) < 0)
    return npte_set_errno (error, errno, "dup3");
  return TRUE;
}

/* is_kept() - @fd is one of the directories of @cfg. */
static gboolean
is_kept (const SandboxConfig *cfg, int fd)
{
  for (guint i = 0; i < cfg->n_dirs; i++)
    if (cfg->dirs[i].fd == fd)
      return TRUE;
  return FALSE;
}

/**
 * close_other_dirfds() - close every directory fd that @cfg does not keep
 * @cfg: the configuration
 *
 * One inherited from whoever started npte would lead out of the new root.
 */
static void
close_other_dirfds (const SandboxConfig *cfg)
{
  DIR *d = opendir ("/proc/self/fd");
  const struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    {
      guint64 v;
      struct stat st;

      if (!g_ascii_string_to_unsigned (e->d_name, 10, 0, G_MAXINT, &v, NULL)
          || (int) v == dirfd (d) || is_kept (cfg, (int) v))
        continue;
      if (fstat ((int) v, &st) == 0 && S_ISDIR (st.st_mode))
        {
          npte_debug ("sandbox: closing directory fd %d", (int) v);
          close ((int) v);
        }
    }
  closedir (d);
}

/**
 * remount_ro() - make the mount at @path read-only, nosuid, nodev, noexec
 * @path: a mount point
 * @error: error on failure
 *
 * For kernels without mount_setattr() (before 5.12): one mount, not its
 * submounts. The atime flags are passed back unchanged, since a user
 * namespace may not change them on a mount it did not make.
 *
 * Return: TRUE on success.
 */
static gboolean
remount_ro (const char *path, GError **error)
{
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  struct statvfs sv;

  if (statvfs (path, &sv) == 0)
    flags |= ((sv.f_flag & ST_NOATIME) ? MS_NOATIME : 0)
             | ((sv.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0)
             | ((sv.f_flag & ST_RELATIME) ? MS_RELATIME : 0);
  if (mount (IGNORED, path, IGNORED, flags, NULL) < 0)
    return npte_set_errno (error, errno, "remount %s read-only", path);
  return TRUE;
}

/**
 * make_readonly() - the whole new root read-only, nosuid, nodev, noexec
 * @plan: what was bound (for the fallback)
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
make_readonly (const RootPlan *plan, GError **error)
{
  struct mount_attr attr = {
    .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
  };

  if (mount_setattr (AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) == 0)
    return TRUE;
  if (errno != ENOSYS)
    return npte_set_errno (error, errno, "make the new root read-only");
  if (!remount_ro ("/", error))
    return FALSE;
  for (guint i = 0; i < plan->n_binds; i++)
    if (!remount_ro (plan->binds[i].dest, error))
      return FALSE;
  return TRUE;
}

/**
 * build_root() - the new root, pivoted into; the old one detached
 * @cfg: the configuration (its directory fds are re-rooted)
 * @plan: what to bind (its fds are closed here)
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
build_root (const SandboxConfig *cfg, RootPlan *plan, GError **error)
{
  if (mount (IGNORED, "/", IGNORED, MS_REC | MS_PRIVATE, NULL) < 0)
    return npte_set_errno (error, errno, "make / private");
  /* Before the tmpfs hides what is below NEW_ROOT. */
  for (guint i = 0; i < cfg->n_dirs; i++)
    if ((plan->kept[i] = open_in_this_ns (cfg->dirs[i].fd, error)) < 0)
      return FALSE;
  if (mount ("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=0755,size=64k,nr_inodes=64") < 0)
    return npte_set_errno (error, errno, "mount a tmpfs on " NEW_ROOT);
  for (guint i = 0; i < plan->n_binds; i++)
    if (!bind_at (plan->binds[i].fd, plan->binds[i].dest, error))
      return FALSE;
  for (guint i = 0; i < cfg->n_dirs; i++)
    if (!confine_dir (cfg->dirs[i].fd, plan->kept[i], i, error))
      return FALSE;
  plan_close_fds (plan);
  close_other_dirfds (cfg);
  if (chdir (NEW_ROOT) < 0 || syscall (SYS_pivot_root, ".", ".") < 0)
    return npte_set_errno (error, errno, "pivot_root");
  /* The old root is now stacked on the new one: detach it. */
  if (umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    return npte_set_errno (error, errno, "detach the old root");
  return make_readonly (plan, error);
}

/**
 * isolate_fs() - layer 1: private mount namespace, empty read-only root
 * @cfg: the configuration
 * @joined: (out) whether the child's user namespace was joined
 * @problems: what could not be done is appended here
 */
static void
isolate_fs (const SandboxConfig *cfg, gboolean *joined, GString *problems)
{
  g_autoptr (GError) error = NULL;
  RootPlan plan = { .n_binds = 0 };
  gboolean ok;

  for (guint i = 0; i < SANDBOX_MAX_DIRS; i++)
    plan.kept[i] = -1;

  if (!have_cap (CAP_SYS_ADMIN))
    *joined = join_child_userns (cfg->child_pid, &error);
  ok = (error == NULL);
  if (ok && unshare (CLONE_NEWNS) < 0)
    ok = npte_set_errno (&error, errno, "unshare the mount namespace");
  if (ok)
    {
      /* Opened in the new namespace: a bind's source must be in the caller's. */
      plan_add (&plan, "/etc", "/etc");
      plan_resolv_conf (&plan);
      ok = build_root (cfg, &plan, &error);
    }
  if (!ok)
    note (problems, "no private file system view (%s)", error->message);
  else if (plan.resolv_readable && access ("/etc/resolv.conf", R_OK) < 0)
    note (problems, "/etc/resolv.conf is not readable in the new root, so libslirp's DNS "
          "forwarding cannot follow it");
  plan_clear (&plan);
}

/**
 * drop_caps() - layer 2: keep only the capabilities the parent uses
 * @joined: in the child's user namespace (see the DOC block)
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
drop_caps (gboolean joined, GError **error)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2] = { { 0 } };
  guint64 keep = G_GUINT64_CONSTANT (1) << CAP_NET_BIND_SERVICE;
  guint64 permitted;

  if (joined)
    keep |= G_GUINT64_CONSTANT (1) << CAP_NET_ADMIN;
  if (syscall (SYS_capget, &hdr, data) < 0)
    return npte_set_errno (error, errno, "capget");
  permitted = data[0].permitted | (guint64) data[1].permitted << 32;
  keep &= permitted;
  for (int cap = 0; cap < 64; cap++)
    {
      if ((keep & (G_GUINT64_CONSTANT (1) << cap)) != 0
          || prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
        continue;
      if (errno == EINVAL)
        break; /* past this kernel's last capability */
      if (errno == EPERM && permitted == 0)
        break; /* nothing held; exec, which the bounding set guards, is blocked anyway */
      return npte_set_errno (error, errno, "drop capability %d from the bounding set", cap);
    }
  /* EINVAL before Linux 4.3, which has no ambient set to clear. */
  prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = data[i].permitted = (guint32) (keep >> (32 * i));
      data[i].inheritable = 0;
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return npte_set_errno (error, errno, "capset");
  return TRUE;
}

/*
 * The seccomp allow-list. "Measured": what the parent made after loading its
 * filter in a run of the whole integration suite, as root and rootless,
 * traced with strace (docs/security.md); the other names are paths the
 * suite does not reach but npte has. One group per reason; names this
 * architecture lacks are skipped. Calls allowed only with some arguments
 * are in add_arg_rules().
 */
static const char *const allowed_syscalls[] = {
  /* measured: memory (malloc, GLib, libmicrohttpd) */
  "brk", "munmap", "mremap",
  /* measured: the libev loop and libmicrohttpd's epoll fd */
  "epoll_wait", "epoll_ctl",
  /* measured (benchmark): libev's epoll_fork() makes a new epoll fd when it sees an event
   * of a reused fd number, and aborts if it cannot (aarch64 has only epoll_create1) */
  "epoll_create", "epoll_create1",
  /* measured: libev's SIGCHLD handling, reaping the child */
  "rt_sigprocmask", "rt_sigreturn", "wait4",
  /* measured: splice relays and their pipes, TAP frames, signalfd, the child link */
  "read", "write", "close", "fcntl", "pipe2", "splice",
  /* measured: listeners, clients, namespace sockets, libslirp, the API */
  "bind", "listen", "connect", "accept", "accept4", "shutdown", "getsockname", "getpeername",
  "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
  "recvmmsg",
  /* measured: libslirp's resolv.conf check, the API socket check at exit */
  "newfstatat",
  /* measured: GLib's one-time initialisations */
  "futex",
  /* measured: the end */
  "exit_group",
  /* measured: a reverse range larger than the socket pool waits for the child's batches
   * (childlink_wait()); not reached: a full socketpair (link_send()) */
  "poll", "ppoll",
  /* not reached: memory given back (glibc's trimming) */
  "madvise",
  /* not reached: the API's peer check of a uid other than the owner's */
  "getuid", "geteuid",
  /* not reached: time without the vDSO; a syscall interrupted by a signal */
  "clock_gettime", "restart_syscall",
  /* not reached: abort() (with tgkill, add_arg_rules()) */
  "getpid", "gettid",
  /* not reached: architectures without epoll_wait (aarch64) or newfstatat (32-bit) */
  "epoll_pwait", "fstat", "statx",
};

/* ioctl requests the parent makes (measured: FIONREAD, libslirp sizes its reads). */
static const unsigned long allowed_ioctls[] = { FIONREAD };

/**
 * add_rule() - allow @name when its arguments pass @cmps
 * @ctx: the filter
 * @name: syscall name (skipped when this architecture lacks it)
 * @n: number of comparisons
 * @cmps: the comparisons (all must hold)
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int
add_rule (scmp_filter_ctx ctx, const char *name, unsigned int n, const struct scmp_arg_cmp *cmps)
{
  int nr = seccomp_syscall_resolve_name (name);

  if (nr == __NR_SCMP_ERROR)
    return 0;
  return seccomp_rule_add_array (ctx, SCMP_ACT_ALLOW, nr, n, cmps);
}

/**
 * add_arg_rules() - the syscalls allowed only with some arguments
 * @ctx: the filter
 * @cfg: the configuration (child pid, kept directories)
 *
 * Return: 0 or a negative errno from libseccomp.
 */
static int
add_arg_rules (scmp_filter_ctx ctx, const SandboxConfig *cfg)
{
  /* No executable mappings: nothing is loaded after set-up. */
  const struct scmp_arg_cmp no_exec[] = { SCMP_A2 (SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) };
  /* Only AF_INET/AF_INET6: no UNIX (abstract sockets reach host services), no netlink. */
  const struct scmp_arg_cmp inet[] = { SCMP_A0_32 (SCMP_CMP_EQ, AF_INET) };
  const struct scmp_arg_cmp inet6[] = { SCMP_A0_32 (SCMP_CMP_EQ, AF_INET6) };
  /* Signals go to the child only (forwarding, SIGTERM/SIGKILL at exit), or to ourselves (abort). */
  const struct scmp_arg_cmp to_child[] = { SCMP_A0_32 (SCMP_CMP_EQ, (guint32) cfg->child_pid) };
  const struct scmp_arg_cmp to_self[] = { SCMP_A0_32 (SCMP_CMP_EQ, (guint32) getpid ()) };
  /* Read-only opens by path (libslirp's /etc/resolv.conf), never relative to a kept fd. */
  const struct scmp_arg_cmp rdonly[] = {
    SCMP_A0_32 (SCMP_CMP_EQ, (guint32) AT_FDCWD),
    SCMP_A2 (SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, 0),
  };
  /* getrlimit (the fd budget of a port range of 64 or more), never setting one. */
  const struct scmp_arg_cmp get_only[] = { SCMP_A2 (SCMP_CMP_EQ, 0) };
  int rc = 0;

  rc = rc < 0 ? rc : add_rule (ctx, "mmap", 1, no_exec);
  rc = rc < 0 ? rc : add_rule (ctx, "mprotect", 1, no_exec);
  rc = rc < 0 ? rc : add_rule (ctx, "socket", 1, inet);
  rc = rc < 0 ? rc : add_rule (ctx, "socket", 1, inet6);
  rc = rc < 0 ? rc : add_rule (ctx, "kill", 1, to_child);
  rc = rc < 0 ? rc : add_rule (ctx, "tgkill", 1, to_self);
  rc = rc < 0 ? rc : add_rule (ctx, "openat", 2, rdonly);
  rc = rc < 0 ? rc : add_rule (ctx, "prlimit64", 1, get_only);
  for (guint i = 0; rc >= 0 && i < G_N_ELEMENTS (allowed_ioctls); i++)
    {
      /* The request is an int: compare the low 32 bits only. */
      const struct scmp_arg_cmp req[] = { SCMP_A1_32 (SCMP_CMP_EQ, (guint32) allowed_ioctls[i]) };
      rc = add_rule (ctx, "ioctl", 1, req);
    }
  /* The state dir clean-up: files in the state dir, the (empty) state dir in its parent. */
  for (guint i = 0; rc >= 0 && i < cfg->n_dirs; i++)
    {
      const struct scmp_arg_cmp at[] = {
        SCMP_A0_32 (SCMP_CMP_EQ, (guint32) cfg->dirs[i].fd),
        SCMP_A2_32 (SCMP_CMP_EQ, cfg->dirs[i].use == SANDBOX_DIR_RMDIR ? AT_REMOVEDIR : 0),
      };
      rc = add_rule (ctx, "unlinkat", 2, at);
    }
  return rc;
}

/**
 * load_seccomp() - layer 3: the allow-list, for good
 * @cfg: the configuration
 * @error: error on failure
 *
 * Anything else fails with EPERM rather than killing the process: a call
 * this list missed (a rare libc or library path) then fails like any other
 * error, which npte handles per connection, instead of taking every forward
 * down; nothing is logged per call. A syscall of another ABI (x32, i386 via
 * int 0x80), which npte never makes, kills the process.
 *
 * Return: TRUE when the filter is loaded.
 */
static gboolean
load_seccomp (const SandboxConfig *cfg, GError **error)
{
  g_auto (scmp_filter_ctx) ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int rc;

  if (ctx == NULL)
    return npte_set_error (error, ENOMEM, "seccomp_init failed");
  /* Best effort: before Linux 4.14 libseccomp keeps its default, killing the thread. */
  seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  rc = add_arg_rules (ctx, cfg);
  for (guint i = 0; rc >= 0 && i < G_N_ELEMENTS (allowed_syscalls); i++)
    rc = add_rule (ctx, allowed_syscalls[i], 0, NULL);
  if (rc >= 0)
    rc = seccomp_load (ctx);
  if (rc < 0)
    return npte_set_errno (error, -rc, "load the seccomp filter");
  return TRUE;
}

gboolean
sandbox_enter (const SandboxConfig *cfg)
{
  g_autoptr (GString) problems = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gboolean joined = FALSE;

  isolate_fs (cfg, &joined, problems);
  if (!drop_caps (joined, &error))
    {
      note (problems, "capabilities kept (%s)", error->message);
      g_clear_error (&error);
    }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    note (problems, "no PR_SET_NO_NEW_PRIVS (%s)", g_strerror (errno));
  else if (RUNNING_ON_VALGRIND)
    /* The filter would apply to valgrind's own calls too (its JIT maps code). */
    npte_debug ("sandbox: no seccomp filter under valgrind");
  else if (!load_seccomp (cfg, &error))
    note (problems, "no seccomp filter (%s)", error->message);
  if (problems->len == 0)
    {
      npte_debug ("sandbox: in place (%s)", joined ? "in the child's user namespace" : "as root");
      return TRUE;
    }
  npte_warn ("sandbox incomplete: %s; the rest is in place (see docs/security.md, or "
             "--no-sandbox)", problems->str);
  return FALSE;
}
