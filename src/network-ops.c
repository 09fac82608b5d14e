/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation (live networks)
 *
 * One infrastructure namespace per registry, a bare namespace bound like a
 * managed one but without marker or attach (netns_ops_bind_bare()): in the
 * keeper's tmpfs rootless, so it keeps the keeper running; in /run/netns as
 * root. In it, per network, a bridge "nb-NET" with the gateway address, and
 * per member a veth pair: "nh-IP" on the bridge, its peer "nw-NET" in the
 * member namespace with the member's address (the kernel adds the route to
 * the subnet with it). Link names come from addresses, which the index keeps
 * unique, so they never collide.
 *
 * Each change is a plan of steps run by one forked helper: it is in the
 * infrastructure namespace (and, rootless, the keeper's user namespace),
 * and switches into a member's namespace with setns() on an fd opened here,
 * then back. Steps are idempotent (a step finds its links or makes them),
 * so the same plans serve a rebuild after the keeper restarted.
 *
 * While an --outbound network exists, the infrastructure namespace also has
 * a slirp (network-outbound.c): started before the plan that needs its TAP
 * device (STEP_SLIRP_UP), stopped when the last --outbound network goes.
 */
#include "network-ops.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netlink.h"
#include "netns-keeper.h"
#include "netns-ops.h"
#include "network-outbound.h"
#include "npte-error.h"
#include "util.h"

typedef enum {
  STEP_BRIDGE_UP,  /* the bridge exists, has the gateway address and is up */
  STEP_BRIDGE_DEL, /* the bridge is gone */
  STEP_MEMBER_UP,  /* the member's veth pair exists, configured */
  STEP_MEMBER_DEL, /* the member's veth pair is gone */
  STEP_SLIRP_UP,   /* the slirp TAP device routes for the members (--outbound) */
} StepKind;

/* One step of a plan. */
typedef struct {
  StepKind kind;
  gboolean outbound;
  guint32 net;
  guint prefix;
  guint32 gateway;
  guint32 ip;
  guint8 mac[6];                  /* the bridge's (net_bridge_mac()) */
  int member_fd;                  /* STEP_MEMBER_UP: the member's netns */
  char bridge[NET_IFNAME_LEN];
  char host[NET_IFNAME_LEN];      /* the bridge port */
  char peer[NET_IFNAME_LEN];      /* its peer in the member */
  char member[NETNS_NAME_MAX + 1];
} Step;

/* What a helper does. */
typedef struct {
  int infra_fd;
  GArray *steps;
  gboolean best_effort; /* a failing member step is a warning line in the output */
} Plan;


/**
 * plan_init() - an empty plan
 * @plan: (out) the plan; free with plan_clear()
 */
static void
plan_init (Plan *plan)
{
  plan->infra_fd = -1;
  plan->steps = g_array_new (FALSE, TRUE, sizeof (Step));
  plan->best_effort = FALSE;
}

/* plan_clear() - close the fds of @plan and free it. */
static void
plan_clear (Plan *plan)
{
  for (guint i = 0; i < plan->steps->len; i++)
    npte_close_fdp (&g_array_index (plan->steps, Step, i).member_fd);
  g_array_unref (plan->steps);
  npte_close_fdp (&plan->infra_fd);
}

/**
 * plan_add() - append a step for network @n
 * @plan: the plan
 * @kind: what
 * @n: the network
 * @ip: the member's address (member steps)
 * @member: (nullable) the member's name (member steps)
 * @member_fd: (transfer full) its netns fd for STEP_MEMBER_UP, else -1
 */
static void
plan_add (Plan *plan, StepKind kind, const Network *n, guint32 ip, const char *member,
          int member_fd)
{
  Step s = { .kind = kind, .outbound = n->outbound, .net = n->net, .prefix = n->prefix,
             .gateway = n->gateway, .ip = ip, .member_fd = member_fd };

  net_ifname_bridge (n, s.bridge);
  net_bridge_mac (n, s.mac);
  net_ifname_host (ip, s.host);
  net_ifname_member (n, s.peer);
  g_strlcpy (s.member, member != NULL ? member : "", sizeof s.member);
  g_array_append_val (plan->steps, s);
}

/* plan_add_slirp() - append STEP_SLIRP_UP to @plan. */
static void
plan_add_slirp (Plan *plan)
{
  Step s = { .kind = STEP_SLIRP_UP, .member_fd = -1 };

  g_array_append_val (plan->steps, s);
}

/* link_exists() - whether @ifname is a link of the current namespace. */
static gboolean
link_exists (const char *ifname)
{
  return if_nametoindex (ifname) != 0;
}

/**
 * enter() - setns() into the network namespace @fd
 * @fd: namespace
 * @what: "the member X", "the infrastructure namespace", for the message
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
enter (int fd, const char *what, GError **error)
{
  if (setns (fd, CLONE_NEWNET) < 0)
    return npte_set_errno (error, errno, "enter %s", what);
  return TRUE;
}

/**
 * addr_add() - add @ip/@prefix to @ifname; an existing address is fine
 * @ifname: link
 * @ip: address
 * @prefix: prefix length
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
addr_add (const char *ifname, guint32 ip, guint prefix, GError **error)
{
  struct in_addr a = { htonl (ip) };
  g_autoptr (GError) local = NULL;

  if (netcfg_addr_add (ifname, AF_INET, &a, prefix, &local))
    return TRUE;
  if (g_error_matches (local, NPTE_ERROR, EEXIST))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* bridge_up() - STEP_BRIDGE_UP, in the infrastructure namespace. */
static gboolean
bridge_up (const Step *s, GError **error)
{
  if (!link_exists (s->bridge) && !netcfg_link_add_bridge (s->bridge, error))
    return FALSE;
  return netcfg_link_set (s->bridge, 0, s->mac, error)
         && addr_add (s->bridge, s->gateway, s->prefix, error)
         && netcfg_link_set_up (s->bridge, TRUE, error)
         && net_outbound_bridge_up (s->bridge, s->net, s->prefix, s->outbound, error);
}

/**
 * member_side() - in the member: drop a leftover @s->peer, or configure the new one
 * @s: the step
 * @configure: FALSE to delete a leftover, TRUE to address and raise the peer
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
member_side (const Step *s, gboolean configure, GError **error)
{
  if (!configure)
    return !link_exists (s->peer) || netcfg_link_del (s->peer, error);
  return addr_add (s->peer, s->ip, s->prefix, error) && netcfg_link_set_up (s->peer, TRUE, error)
         && (!s->outbound || net_outbound_member_route (s->peer, s->gateway, error));
}

/* member_up() - STEP_MEMBER_UP; starts and ends in the infrastructure namespace. */
static gboolean
member_up (const Plan *plan, const Step *s, GError **error)
{
  g_autofree char *who = g_strdup_printf ("the namespace %s", s->member);
  gboolean ok;

  if (link_exists (s->host))
    return TRUE;
  if (!enter (s->member_fd, who, error))
    return FALSE;
  ok = member_side (s, FALSE, error);
  if (!enter (plan->infra_fd, "the infrastructure namespace", ok ? error : NULL) || !ok)
    return FALSE;
  if (!netcfg_link_add_veth (s->host, s->peer, s->member_fd, error))
    return FALSE;
  if (!netcfg_link_set_master (s->host, s->bridge, error)
      || !netcfg_link_set_up (s->host, TRUE, error) || !enter (s->member_fd, who, error))
    {
      netcfg_link_del (s->host, NULL);
      return FALSE;
    }
  ok = member_side (s, TRUE, error);
  if (!enter (plan->infra_fd, "the infrastructure namespace", ok ? error : NULL) || !ok)
    {
      netcfg_link_del (s->host, NULL);
      return FALSE;
    }
  return TRUE;
}

/**
 * run_step() - one step, in the infrastructure namespace
 * @plan: the plan
 * @s: the step
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
run_step (const Plan *plan, const Step *s, GError **error)
{
  switch (s->kind)
    {
    case STEP_BRIDGE_UP:
      return bridge_up (s, error);
    case STEP_BRIDGE_DEL:
      return (!link_exists (s->bridge) || netcfg_link_del (s->bridge, error))
             && net_outbound_bridge_down (s->bridge, s->net, s->prefix, error);
    case STEP_MEMBER_UP:
      return member_up (plan, s, error);
    case STEP_MEMBER_DEL:
      return !link_exists (s->host) || netcfg_link_del (s->host, error);
    case STEP_SLIRP_UP:
      return net_outbound_slirp_link (error);
    default:
      return npte_set_error (error, EINVAL, "unknown step");
    }
}

/* plan_func() - the helper: every step; with best_effort, member failures become warnings. */
static gboolean
plan_func (gpointer data, GString *out, GError **error)
{
  const Plan *plan = data;

  for (guint i = 0; i < plan->steps->len; i++)
    {
      const Step *s = &g_array_index (plan->steps, Step, i);
      g_autoptr (GError) local = NULL;

      if (run_step (plan, s, &local))
        continue;
      if (!plan->best_effort || s->kind != STEP_MEMBER_UP)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_string_append_printf (out, "member %s: %s\n", s->member, local->message);
    }
  return TRUE;
}

/**
 * infra_open() - the infrastructure namespace, if it is there
 * @p: paths
 * @infra: its name
 *
 * Return: its fd, or -1 when it is gone (rootless: also when no keeper runs).
 */
static int
infra_open (const NetnsPaths *p, const char *infra)
{
  pid_t keeper = p->rootless ? netns_keeper_find (p) : 0;

  if (p->rootless && keeper == 0)
    return -1;
  g_autofree char *path = netns_ops_host_path (p, keeper, infra);
  npte_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ioctl (fd, NS_GET_NSTYPE) != CLONE_NEWNET)
    return -1;
  return npte_steal_fd (&fd);
}

/**
 * plan_run() - run @plan in the infrastructure namespace
 * @p: paths
 * @plan: the plan (its infra_fd is opened here)
 * @error: error; ESRCH when the infrastructure namespace is gone
 *
 * Return: TRUE on success.
 */
static gboolean
plan_run (const NetnsPaths *p, Plan *plan, GError **error)
{
  g_autofree char *infra = net_infra_name (p);
  g_autoptr (GString) out = g_string_new (NULL);

  plan->infra_fd = infra_open (p, infra);
  if (plan->infra_fd < 0)
    return npte_set_error (error, ESRCH, "the infrastructure namespace of the networks is gone");
  if (!netns_ops_run_in (p, infra, plan_func, plan, out, error))
    return FALSE;
  g_auto (GStrv) lines = g_strsplit (g_strchomp (out->str), "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (**l != '\0')
      npte_warn ("%s", *l);
  return TRUE;
}

/**
 * ensure_infra() - the infrastructure namespace exists, made now if not
 * @p: paths
 * @made: (out) (optional) whether it was made now
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
ensure_infra (const NetnsPaths *p, gboolean *made, GError **error)
{
  g_autofree char *infra = net_infra_name (p);
  npte_autofd int fd = -1;

  if (made != NULL)
    *made = FALSE;
  if (p->rootless && netns_keeper_ensure (p, error) == 0)
    return FALSE;
  if ((fd = infra_open (p, infra)) >= 0)
    return TRUE;
  if (!netns_ops_bind_bare (p, infra, error))
    {
      g_prefix_error (error, "cannot make the infrastructure namespace of the networks: ");
      return FALSE;
    }
  if (made != NULL)
    *made = TRUE;
  return TRUE;
}

/**
 * member_open() - the namespace of member @ws, revived if it went stale
 * @p: paths
 * @n: its network, for messages
 * @ws: the member
 *
 * Return: its fd, or -1 after a warning.
 */
static int
member_open (const NetnsPaths *p, const Network *n, const char *ws)
{
  g_autoptr (GError) error = NULL;
  int fd;

  if (!netns_require_managed (p, ws, &error))
    {
      npte_warn ("member %s of network %s is left out: %s ('npte network leave %s %s' drops it)",
                 ws, n->name, error->message, n->name, ws);
      return -1;
    }
  if ((fd = netns_ops_open (p, ws, NULL)) >= 0)
    return fd;
  if (!netns_ops_revive (p, ws, &error) || (fd = netns_ops_open (p, ws, &error)) < 0)
    {
      npte_warn ("member %s of network %s is left out: its namespace is gone and cannot be "
                 "made again: %s", ws, n->name, error->message);
      return -1;
    }
  npte_info ("namespace %s was stale: made again, empty, for network %s", ws, n->name);
  return fd;
}

/**
 * all_members() - the names of every member of @idx (repeats possible)
 * @idx: the index
 *
 * Return: (transfer container) borrowed names.
 */
static GPtrArray *
all_members (const NetIndex *idx)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      for (guint j = 0; j < n->members->len; j++)
        g_ptr_array_add (names, ((NetMember *) g_ptr_array_index (n->members, j))->workspace);
    }
  return names;
}

/**
 * ensure_slirp() - the slirp of the infrastructure namespace runs and routes
 * @p: paths
 * @error: error
 *
 * Started (and its TAP device set up) when it is not running.
 *
 * Return: TRUE on success.
 */
static gboolean
ensure_slirp (const NetnsPaths *p, GError **error)
{
  Plan plan;
  gboolean ok;

  if (network_outbound_running (p))
    return TRUE;
  if (!network_outbound_start (p, error))
    return FALSE;
  plan_init (&plan);
  plan_add_slirp (&plan);
  ok = plan_run (p, &plan, error);
  plan_clear (&plan);
  return ok;
}

/**
 * slirp_for_rebuild() - (re)start the slirp for a rebuild of @idx; failure is a warning
 * @p: paths
 * @idx: the index
 *
 * Return: TRUE when it runs and the rebuild plan should set up its TAP device.
 */
static gboolean
slirp_for_rebuild (const NetnsPaths *p, const NetIndex *idx)
{
  g_autoptr (GError) error = NULL;

  if (!net_index_has_outbound (idx))
    return FALSE;
  if (network_outbound_start (p, &error))
    return TRUE;
  npte_warn ("%s; the --outbound networks have no outbound access", error->message);
  return FALSE;
}

gboolean
network_ops_ensure_live (const NetnsPaths *p, const NetIndex *idx, GError **error)
{
  gboolean made;
  Plan plan;

  if (idx->networks->len == 0)
    return TRUE;
  if (!ensure_infra (p, &made, error))
    return FALSE;
  if (!made)
    {
      g_autoptr (GError) local = NULL;
      if (!net_index_has_outbound (idx) || network_outbound_running (p))
        return TRUE;
      npte_info ("the slirp of the --outbound networks was not running: starting it");
      if (!ensure_slirp (p, &local))
        npte_warn ("%s; the --outbound networks have no outbound access", local->message);
      return TRUE;
    }
  npte_info ("the infrastructure namespace of the networks was gone: restoring %u network%s "
             "from the index", idx->networks->len, idx->networks->len == 1 ? "" : "s");
  plan_init (&plan);
  plan.best_effort = TRUE;
  if (slirp_for_rebuild (p, idx))
    plan_add_slirp (&plan);
  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      plan_add (&plan, STEP_BRIDGE_UP, n, 0, NULL, -1);
      for (guint j = 0; j < n->members->len; j++)
        {
          const NetMember *m = g_ptr_array_index (n->members, j);
          int fd = member_open (p, n, m->workspace);
          if (fd >= 0)
            plan_add (&plan, STEP_MEMBER_UP, n, m->ip, m->workspace, fd);
        }
    }
  gboolean ok = plan_run (p, &plan, error);
  plan_clear (&plan);
  g_autoptr (GPtrArray) names = all_members (idx);
  network_ops_write_hosts (p, idx, names);
  return ok;
}

gboolean
network_ops_create (const NetnsPaths *p, const Network *n, GError **error)
{
  Plan plan;
  gboolean ok;

  if (!ensure_infra (p, NULL, error) || (n->outbound && !ensure_slirp (p, error)))
    return FALSE;
  plan_init (&plan);
  plan_add (&plan, STEP_BRIDGE_UP, n, 0, NULL, -1);
  ok = plan_run (p, &plan, error);
  plan_clear (&plan);
  return ok;
}

gboolean
network_ops_remove (const NetnsPaths *p, const Network *n, gboolean last, gboolean stop_slirp,
                    GError **error)
{
  g_autofree char *infra = net_infra_name (p);
  npte_autofd int fd = infra_open (p, infra);
  Plan plan;
  gboolean ok = TRUE;

  if (fd >= 0)
    {
      plan_init (&plan);
      for (guint i = 0; i < n->members->len; i++)
        plan_add (&plan, STEP_MEMBER_DEL, n, ((NetMember *) g_ptr_array_index (n->members, i))->ip,
                  NULL, -1);
      plan_add (&plan, STEP_BRIDGE_DEL, n, 0, NULL, -1);
      ok = plan_run (p, &plan, error);
      plan_clear (&plan);
    }
  if (ok && (stop_slirp || last))
    network_outbound_stop (p);
  if (ok && last)
    ok = netns_ops_unbind_bare (p, infra, error);
  return ok;
}

gboolean
network_ops_join (const NetnsPaths *p, const Network *n, const char *workspace, guint32 ip,
                  GError **error)
{
  int fd;
  Plan plan;
  gboolean ok;

  if (!ensure_infra (p, NULL, error) || (n->outbound && !ensure_slirp (p, error))
      || (fd = netns_ops_open (p, workspace, error)) < 0)
    return FALSE;
  plan_init (&plan);
  plan_add (&plan, STEP_BRIDGE_UP, n, 0, NULL, -1);
  plan_add (&plan, STEP_MEMBER_UP, n, ip, workspace, fd);
  ok = plan_run (p, &plan, error);
  plan_clear (&plan);
  return ok;
}

gboolean
network_ops_leave (const NetnsPaths *p, const Network *n, guint32 ip, GError **error)
{
  g_autofree char *infra = net_infra_name (p);
  npte_autofd int fd = infra_open (p, infra);
  Plan plan;
  gboolean ok;

  if (fd < 0)
    return TRUE; /* gone with its veths */
  plan_init (&plan);
  plan_add (&plan, STEP_MEMBER_DEL, n, ip, NULL, -1);
  ok = plan_run (p, &plan, error);
  plan_clear (&plan);
  return ok;
}

/**
 * write_in_place() - make @path hold @text, keeping its inode
 * @path: the file (created if missing, never through a symlink)
 * @text: the contents
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
write_in_place (const char *path, const char *text, GError **error)
{
  g_autofree char *old = NULL;
  gsize len = strlen (text);

  if (g_file_get_contents (path, &old, NULL, NULL) && strcmp (old, text) == 0)
    return TRUE;
  npte_autofd int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return npte_set_errno (error, errno, "open %s", path);
  if (!npte_write_all (fd, text, len, error))
    return FALSE;
  if (ftruncate (fd, (off_t) len) < 0)
    return npte_set_errno (error, errno, "truncate %s", path);
  return TRUE;
}

/**
 * write_hosts() - NAME.d/hosts of @ws from @idx
 * @p: paths
 * @idx: the index
 * @ws: a managed namespace
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
write_hosts (const NetnsPaths *p, const NetIndex *idx, const char *ws, GError **error)
{
  g_autofree char *conf = netns_conf_dir (p, ws);
  g_autofree char *path = g_build_filename (conf, "hosts", NULL);
  g_autofree char *block = net_hosts_render (idx, ws);
  g_autofree char *old = NULL;
  g_autofree char *text = NULL;
  struct stat st;

  if (lstat (path, &st) == 0 && !S_ISREG (st.st_mode))
    return npte_set_error (error, EINVAL, "%s is not a regular file; left alone", path);
  if (lstat (path, &st) == 0 && !g_file_get_contents (path, &old, NULL, NULL))
    return npte_set_error (error, EIO, "cannot read %s", path);
  text = net_hosts_merge (old, block);
  if (text == NULL)
    {
      /* Commands still running see plain hosts; new ones the host's again. */
      if (old == NULL)
        return TRUE;
      if (!write_in_place (path, NET_PLAIN_HOSTS, error))
        return FALSE;
      if (unlink (path) < 0)
        return npte_set_errno (error, errno, "remove %s", path);
      return TRUE;
    }
  if (mkdir (conf, 0755) < 0 && errno != EEXIST)
    return npte_set_errno (error, errno, "create %s", conf);
  return write_in_place (path, text, error);
}

void
network_ops_write_hosts (const NetnsPaths *p, const NetIndex *idx, const GPtrArray *workspaces)
{
  g_autoptr (GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < workspaces->len; i++)
    {
      const char *ws = g_ptr_array_index (workspaces, i);
      g_autoptr (GError) error = NULL;

      if (!g_hash_table_add (done, (gpointer) ws))
        continue;
      if (netns_marker_check (p, ws, NULL) != NETNS_MARKER_PRESENT)
        continue;
      if (!write_hosts (p, idx, ws, &error))
        npte_warn ("hosts file of %s: %s", ws, error->message);
    }
}

gboolean
network_leave_all (const NetnsPaths *p, const char *workspace, GError **error)
{
  g_autofree char *path = net_index_path (p);
  g_autoptr (NetIndex) idx = net_index_load (path, error);
  g_autoptr (GPtrArray) touched = g_ptr_array_new_with_free_func (g_free);
  gboolean changed = FALSE;

  if (idx == NULL)
    return FALSE;
  for (guint i = 0; i < idx->networks->len; i++)
    {
      Network *n = g_ptr_array_index (idx->networks, i);
      const NetMember *m = net_member_find (n, workspace);
      if (m == NULL)
        continue;
      if (!network_ops_leave (p, n, m->ip, error))
        return FALSE;
      net_leave (n, workspace);
      changed = TRUE;
      for (guint j = 0; j < n->members->len; j++)
        g_ptr_array_add (touched,
                         g_strdup (((NetMember *) g_ptr_array_index (n->members, j))->workspace));
    }
  if (!changed)
    return TRUE;
  if (!net_index_save (path, idx, error))
    return FALSE;
  network_ops_write_hosts (p, idx, touched);
  return TRUE;
}
