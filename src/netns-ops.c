/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (namespace operations)
 *
 * create, under the lock, with the marker absent:
 *  1. Rootless: make sure the keeper runs (netns-keeper.c). Root: make
 *     /run/netns a shared mount point, as "ip netns add" does.
 *  2. A forked helper joins the keeper's user and mount namespaces
 *     (rootless), creates the empty file NAME in the keeper's tmpfs (or in
 *     /run/netns), unshare(CLONE_NEWNET)s, bind-mounts /proc/self/ns/net on
 *     that file and brings lo up. It reports back over a pipe and exits.
 *  3. "npte attach --net=none|slirp --state-dir NAME.state PATH" is started
 *     detached (setsid), with --ready-fd; rootless PATH is
 *     /proc/KEEPER/root/BASE/netns-keeper/NAME and --userns-path
 *     /proc/KEEPER/ns/user, so its child can open the binding from outside
 *     the keeper's mount namespace after joining the keeper's user
 *     namespace. Its API socket is NAME.state/api.sock (npte-port --netns).
 *  4. The caller writes the marker. Any failure undoes 2 and 3.
 *
 * destroy runs the same steps backwards: SIGTERM to the attach's child
 * (NAME.state/child_pid) and wait for its state-dir lock to go, unbind and
 * remove the file (in the keeper's mount namespace), remove NAME.d and
 * NAME.state, stop the keeper when its tmpfs is empty; the caller removes
 * the marker last.
 */
#include "netns-ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netlink.h"
#include "netns-attach.h"
#include "netns-keeper.h"
#include "netns-show.h"
#include "npte-error.h"
#include "util.h"

/* Longest a helper in a namespace may run. */
#define HELPER_TIMEOUT_S 60
/* Largest report a helper may send (a show of a big namespace). */
#define HELPER_MAX_REPORT ((gsize) 64 << 20)

/* Namespaces a helper joins, in this order; -1 to stay. */
typedef struct {
  int user;
  int mnt;
  int net;
} NsJoin;

/* Work done inside the namespaces; text for the caller goes to @out. */
typedef NetnsInFunc InNsFunc;

char *
netns_ops_host_path (const NetnsPaths *p, pid_t keeper, const char *name)
{
  g_autofree char *path = netns_ns_path (p, name);

  if (!p->rootless)
    return g_steal_pointer (&path);
  return g_strdup_printf ("/proc/%d/root%s", (int) keeper, path);
}

int
netns_ops_open (const NetnsPaths *p, const char *name, GError **error)
{
  pid_t keeper = p->rootless ? netns_keeper_find (p) : 0;

  if (p->rootless && keeper == 0)
    {
      npte_set_error (error, ESRCH, "namespace %s is stale: the namespace keeper is gone "
                      "('npte netns destroy %s' cleans it up)", name, name);
      return -1;
    }
  g_autofree char *path = netns_ops_host_path (p, keeper, name);
  npte_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ioctl (fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    {
      npte_set_error (error, ESRCH, "namespace %s is stale: its network namespace is gone "
                      "('npte netns destroy %s' cleans it up)", name, name);
      return -1;
    }
  return npte_steal_fd (&fd);
}

/**
 * join_all() - setns() into the namespaces of @j, user first
 * @j: fds
 * @error: error naming the namespace type
 *
 * Return: TRUE on success.
 */
static gboolean
join_all (const NsJoin *j, GError **error)
{
  if (j->user >= 0 && setns (j->user, CLONE_NEWUSER) < 0)
    return npte_set_errno (error, errno, "join the keeper's user namespace");
  if (j->mnt >= 0 && setns (j->mnt, CLONE_NEWNS) < 0)
    return npte_set_errno (error, errno, "join the keeper's mount namespace");
  if (j->net >= 0 && setns (j->net, CLONE_NEWNET) < 0)
    return npte_set_errno (error, errno, "join the network namespace");
  return TRUE;
}

/**
 * helper_main() - the forked helper: join, work, report (code, text) on @fd
 * @j: namespaces to join
 * @func: the work
 * @data: its data
 * @fd: write end of the report pipe
 */
G_NORETURN static void
helper_main (const NsJoin *j, InNsFunc func, gpointer data, int fd)
{
  g_autoptr (GString) out = g_string_new (NULL);
  GError *error = NULL;
  gint32 code = 0;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  alarm (HELPER_TIMEOUT_S);
  if (!join_all (j, &error) || !func (data, out, &error))
    {
      code = npte_error_code (error);
      g_string_assign (out, error != NULL ? error->message : "failed");
    }
  if (!npte_write_all (fd, &code, sizeof code, NULL) || !npte_write_all (fd, out->str, out->len,
                                                                         NULL))
    _exit (1);
  _exit (0);
}

/**
 * read_report() - everything the helper wrote, until EOF
 * @fd: read end
 *
 * Return: (transfer full) the bytes.
 */
static GByteArray *
read_report (int fd)
{
  GByteArray *buf = g_byte_array_new ();
  guint8 chunk[16384];

  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || buf->len + (gsize) n > HELPER_MAX_REPORT)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return buf;
}

/**
 * run_in_ns() - run @func in a forked helper inside the namespaces of @j
 * @j: namespaces to join
 * @func: the work
 * @data: its data (the helper sees a copy of this process)
 * @out: (optional) the helper's text on success
 * @error: the helper's error, or why it could not report
 *
 * Return: TRUE when @func succeeded.
 */
static gboolean
run_in_ns (const NsJoin *j, InNsFunc func, gpointer data, GString *out, GError **error)
{
  int pfd[2];
  int status = 0;
  gint32 code;

  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return npte_set_errno (error, errno, "pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (pfd[0]);
      helper_main (j, func, data, pfd[1]);
    }
  int errsv = errno;
  close (pfd[1]);
  npte_autofd int rfd = pfd[0];
  if (pid < 0)
    return npte_set_errno (error, errsv, "fork");
  g_autoptr (GByteArray) rep = read_report (rfd);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (rep->len < sizeof code)
    return npte_set_error (error, EPIPE, "the namespace helper died (wait status 0x%x)", status);
  memcpy (&code, rep->data, sizeof code);
  g_autofree char *text = g_strndup ((const char *) rep->data + sizeof code,
                                     rep->len - sizeof code);
  if (code != 0)
    return npte_set_error (error, code, "%s", text);
  if (out != NULL)
    g_string_append (out, text);
  return TRUE;
}

/* What bind_func() makes. */
typedef struct {
  const char *path;   /* the file to bind the new netns on */
  gboolean replace;   /* rootless: a leftover file of a killed npte may be replaced */
} BindReq;

/**
 * bind_func() - in the helper: new netns bound on req->path, lo up
 * @data: BindReq
 * @out: unused
 * @error: EEXIST when the path exists (root), or the failed step
 *
 * Return: TRUE on success.
 */
static gboolean
bind_func (gpointer data, GString *out, GError **error)
{
  const BindReq *req = data;

  if (req->replace)
    {
      umount2 (req->path, MNT_DETACH);
      unlink (req->path);
    }
  npte_autofd int fd = open (req->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0 && errno == EEXIST)
    return npte_set_error (error, EEXIST, "%s exists already: a network namespace of that name "
                           "that npte does not manage (see 'ip netns'); choose another name",
                           req->path);
  if (fd < 0)
    return npte_set_errno (error, errno, "create %s", req->path);
  if (unshare (CLONE_NEWNET) < 0)
    {
      npte_set_errno (error, errno, "create a network namespace");
      unlink (req->path);
      return FALSE;
    }
  if (mount ("/proc/self/ns/net", req->path, "none", MS_BIND, NULL) < 0)
    {
      npte_set_errno (error, errno, "bind the network namespace on %s", req->path);
      unlink (req->path);
      return FALSE;
    }
  if (!netcfg_link_up ("lo", error))
    {
      umount2 (req->path, MNT_DETACH);
      unlink (req->path);
      return FALSE;
    }
  return TRUE;
}

/**
 * unbind_func() - in the helper (or as root, here): unmount and remove the binding
 * @data: the path
 * @out: unused
 * @error: error for anything but "not mounted" / "not there"
 *
 * Return: TRUE on success.
 */
static gboolean
unbind_func (gpointer data, GString *out, GError **error)
{
  const char *path = data;

  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return npte_set_errno (error, errno, "unmount %s", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return npte_set_errno (error, errno, "remove %s", path);
  return TRUE;
}

/**
 * keeper_join() - the keeper's user (and mount) namespace fds for a helper
 * @keeper: its pid
 * @with_mnt: join its mount namespace too
 * @j: (out) filled; the caller closes user and mnt
 * @error: error when they cannot be opened
 *
 * Return: TRUE on success.
 */
static gboolean
keeper_join (pid_t keeper, gboolean with_mnt, NsJoin *j, GError **error)
{
  g_autofree char *user = g_strdup_printf ("/proc/%d/ns/user", (int) keeper);
  g_autofree char *mnt = g_strdup_printf ("/proc/%d/ns/mnt", (int) keeper);

  j->user = open (user, O_RDONLY | O_CLOEXEC);
  if (j->user < 0)
    return npte_set_errno (error, errno, "open %s", user);
  if (with_mnt && (j->mnt = open (mnt, O_RDONLY | O_CLOEXEC)) < 0)
    return npte_set_errno (error, errno, "open %s", mnt);
  return TRUE;
}

/* ns_join_clear() - close the fds of @j. */
static void
ns_join_clear (NsJoin *j)
{
  npte_close_fdp (&j->user);
  npte_close_fdp (&j->mnt);
  npte_close_fdp (&j->net);
}

/**
 * keeper_run() - run @func in a helper inside the keeper's user and mount namespaces
 * @keeper: its pid
 * @func: the work
 * @data: its data
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
keeper_run (pid_t keeper, InNsFunc func, gpointer data, GError **error)
{
  NsJoin j = { -1, -1, -1 };
  gboolean ok = keeper_join (keeper, TRUE, &j, error) && run_in_ns (&j, func, data, NULL, error);

  ns_join_clear (&j);
  return ok;
}

/**
 * prepare_run_netns() - /run/netns exists and is a shared mount point (as ip netns does)
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
prepare_run_netns (GError **error)
{
  if (mkdir (NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create %s", NETNS_RUN_DIR);
  for (int tries = 0; tries < 2; tries++)
    {
      if (mount ("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
        return TRUE;
      if (errno != EINVAL || tries > 0)
        break;
      /* Not a mount point yet: make it one. */
      if (mount (NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
        break;
    }
  return npte_set_errno (error, errno, "make %s a shared mount point", NETNS_RUN_DIR);
}

/**
 * make_netns() - step 2 of the theory of operation
 * @p: paths
 * @keeper: rootless: the keeper
 * @name: name
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
make_netns (const NetnsPaths *p, pid_t keeper, const char *name, GError **error)
{
  g_autofree char *path = netns_ns_path (p, name);
  BindReq req = { path, p->rootless };
  const NsJoin none = { -1, -1, -1 };

  if (p->rootless)
    return keeper_run (keeper, bind_func, &req, error);
  return run_in_ns (&none, bind_func, &req, NULL, error);
}

/**
 * unbind_netns() - undo make_netns()
 * @p: paths
 * @keeper: rootless: the keeper, 0 when it is gone (nothing to do)
 * @name: name
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
unbind_netns (const NetnsPaths *p, pid_t keeper, const char *name, GError **error)
{
  g_autofree char *path = netns_ns_path (p, name);

  if (!p->rootless)
    return unbind_func (path, NULL, error);
  if (keeper == 0)
    return TRUE;
  return keeper_run (keeper, unbind_func, path, error);
}

/**
 * rm_rf() - remove @path and everything below it, never following symlinks
 * @path: file or directory
 */
static void
rm_rf (const char *path)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *e;
      while (d != NULL && (e = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, e, NULL);
          rm_rf (child);
        }
      rmdir (path);
    }
  else
    unlink (path);
}

gboolean
netns_ops_create (const NetnsPaths *p, const char *name, gboolean slirp, GError **error)
{
  pid_t keeper = 0;

  /* Under the lock with no marker, a running attach of NAME is a leftover of a killed npte. */
  netns_attach_stop (p, name);
  g_autofree char *old_state = netns_state_dir (p, name);
  rm_rf (old_state);
  if (p->rootless && (keeper = netns_keeper_ensure (p, error)) == 0)
    return FALSE;
  if (!p->rootless && !prepare_run_netns (error))
    return FALSE;
  if (make_netns (p, keeper, name, error))
    {
      if (netns_attach_start (p, keeper, name, slirp, error))
        return TRUE;
      unbind_netns (p, keeper, name, NULL);
    }
  g_autofree char *state = netns_state_dir (p, name);
  g_autofree char *conf = netns_conf_dir (p, name);
  rm_rf (state);
  rm_rf (conf);
  if (p->rootless)
    netns_keeper_stop_if_idle (p, NULL);
  return FALSE;
}

gboolean
netns_ops_destroy (const NetnsPaths *p, const char *name, GError **error)
{
  pid_t keeper = p->rootless ? netns_keeper_find (p) : 0;
  g_autofree char *state = netns_state_dir (p, name);
  g_autofree char *conf = netns_conf_dir (p, name);

  netns_attach_stop (p, name);
  if (!unbind_netns (p, keeper, name, error))
    return FALSE;
  rm_rf (state);
  rm_rf (conf);
  if (p->rootless)
    return netns_keeper_stop_if_idle (p, error);
  return TRUE;
}

/* What cfg_func() applies. */
typedef struct {
  const NetnsCfgOp *op;
  int other_fd;
} CfgReq;

static gboolean
cfg_func (gpointer data, GString *out, GError **error)
{
  const CfgReq *req = data;

  return netns_cfg_apply (req->op, req->other_fd, error);
}

/**
 * target_join() - the fds a helper needs to work inside @name
 * @p: paths
 * @name: name
 * @j: (out) filled; clear with ns_join_clear()
 * @error: error (stale namespace, ...)
 *
 * Return: TRUE on success.
 */
static gboolean
target_join (const NetnsPaths *p, const char *name, NsJoin *j, GError **error)
{
  *j = (NsJoin){ -1, -1, -1 };
  j->net = netns_ops_open (p, name, error);
  if (j->net < 0)
    return FALSE;
  return !p->rootless || keeper_join (netns_keeper_find (p), FALSE, j, error);
}

gboolean
netns_ops_configure (const NetnsPaths *p, const NetnsCfgOp *op, GError **error)
{
  NsJoin j;
  CfgReq req = { op, -1 };
  gboolean ok = FALSE;

  if (target_join (p, op->ns, &j, error)
      && (op->other_ns[0] == '\0' || (req.other_fd = netns_ops_open (p, op->other_ns, error)) >= 0))
    ok = run_in_ns (&j, cfg_func, &req, NULL, error);
  npte_close_fdp (&req.other_fd);
  ns_join_clear (&j);
  return ok;
}

static gboolean
show_func (gpointer data, GString *out, GError **error)
{
  const gboolean *json = data;
  g_autoptr (NetcfgDump) dump = netcfg_dump (error);

  if (dump == NULL)
    return FALSE;
  g_autofree char *text = netns_show_render (dump, *json);
  g_string_append (out, text);
  return TRUE;
}

char *
netns_ops_show (const NetnsPaths *p, const char *name, gboolean json, GError **error)
{
  NsJoin j;
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean ok = target_join (p, name, &j, error) && run_in_ns (&j, show_func, &json, out, error);

  ns_join_clear (&j);
  return ok ? g_strdup (out->str) : NULL;
}

gboolean
netns_ops_run_in (const NetnsPaths *p, const char *file, NetnsInFunc func, gpointer data,
                  GString *out, GError **error)
{
  NsJoin j;
  gboolean ok = target_join (p, file, &j, error) && run_in_ns (&j, func, data, out, error);

  ns_join_clear (&j);
  return ok;
}

gboolean
netns_ops_bind_bare (const NetnsPaths *p, const char *file, GError **error)
{
  g_autofree char *path = netns_ns_path (p, file);
  BindReq req = { path, TRUE };
  const NsJoin none = { -1, -1, -1 };
  pid_t keeper;

  if (!p->rootless)
    return prepare_run_netns (error) && run_in_ns (&none, bind_func, &req, NULL, error);
  if ((keeper = netns_keeper_ensure (p, error)) == 0)
    return FALSE;
  return keeper_run (keeper, bind_func, &req, error);
}

gboolean
netns_ops_unbind_bare (const NetnsPaths *p, const char *file, GError **error)
{
  pid_t keeper = p->rootless ? netns_keeper_find (p) : 0;

  if (!unbind_netns (p, keeper, file, error))
    return FALSE;
  return !p->rootless || netns_keeper_stop_if_idle (p, error);
}

gboolean
netns_ops_revive (const NetnsPaths *p, const char *name, GError **error)
{
  g_autofree char *conf = netns_conf_dir (p, name);
  g_autofree char *resolv = g_build_filename (conf, "resolv.conf", NULL);
  g_autofree char *state = netns_state_dir (p, name);
  g_autofree char *path = netns_ns_path (p, name);
  /* Only --net=slirp writes resolv.conf (start_attach()). */
  gboolean slirp = g_file_test (resolv, G_FILE_TEST_IS_REGULAR);
  BindReq req = { path, TRUE };
  const NsJoin none = { -1, -1, -1 };
  pid_t keeper = 0;

  netns_attach_stop (p, name);
  rm_rf (state);
  if (p->rootless && (keeper = netns_keeper_ensure (p, error)) == 0)
    return FALSE;
  if (!p->rootless && !prepare_run_netns (error))
    return FALSE;
  if (!(p->rootless ? keeper_run (keeper, bind_func, &req, error)
                    : run_in_ns (&none, bind_func, &req, NULL, error)))
    return FALSE;
  if (netns_attach_start (p, keeper, name, slirp, error))
    return TRUE;
  unbind_netns (p, keeper, name, NULL);
  rm_rf (state);
  return FALSE;
}

gboolean
netns_ops_attach_start (const NetnsPaths *p, const char *file, GError **error)
{
  pid_t keeper = p->rootless ? netns_keeper_find (p) : 0;
  g_autofree char *state = netns_state_dir (p, file);

  if (p->rootless && keeper == 0)
    return npte_set_error (error, ESRCH, "no keeper runs for the namespace %s", file);
  netns_attach_stop (p, file);
  rm_rf (state);
  return netns_attach_start (p, keeper, file, TRUE, error);
}

void
netns_ops_attach_stop (const NetnsPaths *p, const char *file)
{
  g_autofree char *state = netns_state_dir (p, file);
  g_autofree char *conf = netns_conf_dir (p, file);

  netns_attach_stop (p, file);
  rm_rf (state);
  rm_rf (conf);
}
