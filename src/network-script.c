/* SPDX-License-Identifier: Apache-2.0 */
#include "network-script.h"

#include <string.h>

#include "netns-script.h"
#include "network-outbound.h"

/* How many 0.1 s steps the script waits for the slirp of the infrastructure namespace. */
#define SLIRP_WAIT_STEPS 300


/**
 * sq() - @s as one single-quoted sh word ("'" as '\'')
 * @s: text
 *
 * Return: (transfer full) the word.
 */
static char *
sq (const char *s)
{
  GString *out = g_string_new ("'");

  for (; *s != '\0'; s++)
    {
      if (*s == '\'')
        g_string_append (out, "'\\''");
      else
        g_string_append_c (out, *s);
    }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

/**
 * add_prologue() - shebang, set -e, PATH, the registry, $NPTE, the lock, the index guard
 * @s: script
 * @p: paths
 * @npte: npte binary
 * @what: the verb, for the comment line
 * @before: (nullable) the index text the plan was made from
 */
static void
add_prologue (GString *s, const NetnsPaths *p, const char *npte, const char *what,
              const char *before)
{
  g_autofree char *base = netns_sh_quote (p->base);
  g_autofree char *bin = netns_sh_quote (npte);
  g_autofree char *reg = netns_sh_quote (p->reg);
  g_autofree char *lock = netns_sh_quote (p->lock);
  g_autofree char *path = net_index_path (p);
  g_autofree char *index = netns_sh_quote (path);
  g_autofree char *sum = before != NULL
                             ? g_compute_checksum_for_string (G_CHECKSUM_SHA256, before, -1)
                             : NULL;

  g_string_append_printf (s,
                          "#!/bin/sh\n"
                          "# npte network %s (dry run): the same steps as the live verb\n"
                          "set -e\n"
                          "PATH=\"$PATH:/usr/sbin:/sbin\"\n"
                          "NPTE_NETNS_RUN_DIR=%s; export NPTE_NETNS_RUN_DIR\n"
                          "NPTE=%s\n"
                          "(umask %s && mkdir -p %s)\n"
                          "exec 9>>%s\n"
                          "flock -w %d 9 || { echo \"npte: another npte holds the namespace "
                          "lock\" >&2; exit 1; }\n"
                          "# The plan was made from this index: stop if it changed since.\n"
                          "if test -e %s; then h=$(sha256sum < %s); else h=none; fi\n"
                          "test \"$h\" = \"%s%s\" || { echo \"npte: the network index changed "
                          "since this script was made; make it again\" >&2; exit 1; }\n",
                          what, base, bin, p->rootless ? "077" : "022", reg, lock,
                          NETNS_LOCK_TIMEOUT_MS / 1000, index, index,
                          sum != NULL ? sum : "none", sum != NULL ? "  -" : "");
}

/**
 * add_index_write() - write @after as the new index (temp file, sync, mv), or remove it
 * @s: script
 * @p: paths
 * @after: the new index
 */
static void
add_index_write (GString *s, const NetnsPaths *p, const NetIndex *after)
{
  g_autofree char *path = net_index_path (p);
  g_autofree char *tmp_path = g_strconcat (path, ".tmp", NULL);
  g_autofree char *index = netns_sh_quote (path);
  g_autofree char *tmp = netns_sh_quote (tmp_path);

  if (after->networks->len == 0)
    {
      g_string_append_printf (s, "rm -f %s\n", index);
      return;
    }
  g_autofree char *json = net_index_to_json (after);
  g_autofree char *text = sq (json);
  g_string_append_printf (s, "printf '%%s' %s > %s\nsync %s\nmv -f %s %s\n", text, tmp, tmp, tmp,
                          index);
}

/**
 * infra_prefix() - the command prefix that runs "ip" in the infrastructure namespace
 * @p: paths
 *
 * Return: (transfer full) "ip -n INFRA" as root; rootless an nsenter(1) into
 *         the keeper's user namespace and, by its /proc/$K/root path, the
 *         infrastructure namespace, then "ip".
 */
static char *
infra_prefix (const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *path = netns_ns_path (p, infra);
  g_autofree char *q = netns_sh_quote (path);

  if (!p->rootless)
    return g_strdup_printf ("ip -n %s", infra);
  return g_strdup_printf ("nsenter -t \"$K\" -U --preserve-credentials --net=\"/proc/$K/root\"%s "
                          "ip", q);
}

/**
 * infra_nsenter() - the command prefix that runs a command in the infrastructure namespace
 * @p: paths
 *
 * Return: (transfer full) "nsenter --net=/run/netns/INFRA" as root; rootless
 *         an nsenter(1) into the keeper's user namespace and, by its
 *         /proc/$K/root path, the infrastructure namespace.
 */
static char *
infra_nsenter (const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *path = netns_ns_path (p, infra);
  g_autofree char *q = netns_sh_quote (path);

  if (!p->rootless)
    return g_strdup_printf ("nsenter --net=%s", q);
  return g_strdup_printf ("nsenter -t \"$K\" -U --preserve-credentials --net=\"/proc/$K/root\"%s",
                          q);
}

/**
 * add_sysctl() - set /proc/sys/net/ipv4/@key to @value in the infrastructure namespace
 * @s: script
 * @p: paths
 * @key: "conf/tap0/forwarding"
 * @value: "1"
 */
static void
add_sysctl (GString *s, const NetnsPaths *p, const char *key, const char *value)
{
  g_autofree char *nsx = infra_nsenter (p);

  g_string_append_printf (s, "%s sh -c 'echo %s > /proc/sys/net/ipv4/%s'\n", nsx, value, key);
}

/**
 * add_slirp_start() - start the slirp of the infrastructure namespace unless it runs
 * @s: script
 * @p: paths
 *
 * As network_ops_create() does: "npte attach --net=slirp" on the
 * infrastructure namespace, waited for by its child_pid file; then its TAP
 * device forwards and answers ARP for the members.
 */
static void
add_slirp_start (GString *s, const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *state_path = netns_state_dir (p, infra);
  g_autofree char *conf_path = netns_conf_dir (p, infra);
  g_autofree char *ns_path = netns_ns_path (p, infra);
  g_autofree char *lock_path = g_build_filename (state_path, "lock", NULL);
  g_autofree char *pid_path = g_build_filename (state_path, "child_pid", NULL);
  g_autofree char *log_path = g_build_filename (conf_path, "attach.log", NULL);
  g_autofree char *state = netns_sh_quote (state_path);
  g_autofree char *conf = netns_sh_quote (conf_path);
  g_autofree char *lock = netns_sh_quote (lock_path);
  g_autofree char *pid = netns_sh_quote (pid_path);
  g_autofree char *log = netns_sh_quote (log_path);
  g_autofree char *ns = netns_sh_quote (ns_path);

  g_string_append_printf (s,
                          "# The slirp of the --outbound networks, unless it runs.\n"
                          "if ! { test -e %s && ! flock -n %s true 2>/dev/null; }; then\n"
                          "  rm -rf %s\n"
                          "  (umask 022 && mkdir -p %s)\n"
                          "  printf 'nameserver 10.0.2.3\\n' > %s/resolv.conf\n"
                          "  setsid \"$NPTE\" attach --net=slirp --state-dir %s ",
                          lock, lock, state, conf, conf, state);
  if (p->rootless)
    g_string_append_printf (s, "--userns-path \"/proc/$K/ns/user\" \"/proc/$K/root\"%s ", ns);
  else
    g_string_append_printf (s, "%s ", ns);
  g_string_append_printf (s,
                          "</dev/null >/dev/null 2>>%s 9>&- &\n"
                          "  i=0\n"
                          "  until test -f %s; do\n"
                          "    i=$((i + 1))\n"
                          "    if test $i -gt %d; then\n"
                          "      echo \"npte: the slirp of the --outbound networks did not start "
                          "(see %s)\" >&2\n"
                          "      exit 1\n"
                          "    fi\n"
                          "    sleep 0.1\n"
                          "  done\n"
                          "fi\n",
                          log, pid, SLIRP_WAIT_STEPS, log_path);
  add_sysctl (s, p, "conf/" NET_SLIRP_IFNAME "/forwarding", "1");
  add_sysctl (s, p, "conf/" NET_SLIRP_IFNAME "/proxy_arp", "1");
  add_sysctl (s, p, "neigh/" NET_SLIRP_IFNAME "/proxy_delay", "0");
}

/**
 * add_slirp_stop() - stop the slirp of the infrastructure namespace and remove its files
 * @s: script
 * @p: paths
 */
static void
add_slirp_stop (GString *s, const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *state_path = netns_state_dir (p, infra);
  g_autofree char *conf_path = netns_conf_dir (p, infra);
  g_autofree char *lock_path = g_build_filename (state_path, "lock", NULL);
  g_autofree char *pid_path = g_build_filename (state_path, "child_pid", NULL);
  g_autofree char *state = netns_sh_quote (state_path);
  g_autofree char *conf = netns_sh_quote (conf_path);
  g_autofree char *lock = netns_sh_quote (lock_path);
  g_autofree char *pid = netns_sh_quote (pid_path);

  g_string_append_printf (s,
                          "# No --outbound network is left: stop their slirp.\n"
                          "if test -f %s; then kill \"$(cat %s)\" 2>/dev/null || :; fi\n"
                          "i=0\n"
                          "while test -e %s && ! flock -n %s true 2>/dev/null && test $i -lt "
                          "100; do i=$((i + 1)); sleep 0.1; done\n"
                          "rm -rf %s %s\n",
                          pid, pid, lock, lock, state, conf);
}

/**
 * add_infra_create() - make the infrastructure namespace unless it is there
 * @s: script
 * @p: paths
 */
static void
add_infra_create (GString *s, const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *path = netns_ns_path (p, infra);
  g_autofree char *q = netns_sh_quote (path);

  if (!p->rootless)
    {
      g_string_append_printf (s,
                              "if ! ip -n %s link show lo >/dev/null 2>&1; then\n"
                              "  ip netns del %s 2>/dev/null || :\n"
                              "  ip netns add %s\n"
                              "  ip -n %s link set lo up\n"
                              "fi\n",
                              infra, infra, infra, infra);
      return;
    }
  g_string_append_printf (s,
                          "K=$(\"$NPTE\" __netns-keeper 9>&-)\n"
                          "nsenter -t \"$K\" -U -m --preserve-credentials sh -c 'nsenter "
                          "--net=\"$1\" true 2>/dev/null || { umask 077 && rm -f \"$1\" && : > "
                          "\"$1\" && unshare --net=\"$1\" ip link set lo up; }' sh %s\n",
                          q);
}

char *
network_script_create (const NetnsPaths *p, const char *npte, const char *before,
                       const NetIndex *after, const Network *n)
{
  GString *s = g_string_new (NULL);
  g_autofree char *what = g_strdup_printf ("create %s", n->name);
  g_autofree char *ip = infra_prefix (p);
  g_autofree char *subnet = net_subnet_str (n);
  char br[NET_IFNAME_LEN], gw[NET_IP_STRLEN];
  guint8 mac[6];

  net_ifname_bridge (n, br);
  net_bridge_mac (n, mac);
  add_prologue (s, p, npte, what, before);
  add_infra_create (s, p);
  if (n->outbound)
    add_slirp_start (s, p);
  g_string_append_printf (s,
                          "%s link add %s address %02x:%02x:%02x:%02x:%02x:%02x type bridge\n"
                          "%s addr add %s/%u dev %s\n"
                          "%s link set %s up\n"
                          "%s route replace unreachable %s table %d\n",
                          ip, br, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ip,
                          net_ip_str (n->gateway, gw), n->prefix, br, ip, br, ip, subnet,
                          NET_OUTBOUND_TABLE);
  if (n->outbound)
    {
      g_autofree char *fwd = g_strdup_printf ("conf/%s/forwarding", br);
      g_string_append_printf (s,
                              "%s rule del iif %s lookup %d priority %d 2>/dev/null || :\n"
                              "%s rule add iif %s lookup %d priority %d\n",
                              ip, br, NET_OUTBOUND_TABLE, NET_OUTBOUND_RULE_PRIORITY, ip, br,
                              NET_OUTBOUND_TABLE, NET_OUTBOUND_RULE_PRIORITY);
      add_sysctl (s, p, fwd, "1");
    }
  add_index_write (s, p, after);
  g_string_append_printf (s, "echo %s\n", subnet);
  return g_string_free (s, FALSE);
}

/**
 * add_infra_remove() - remove the infrastructure namespace; rootless, stop an idle keeper
 * @s: script
 * @p: paths
 */
static void
add_infra_remove (GString *s, const NetnsPaths *p)
{
  g_autofree char *infra = net_infra_name (p);
  g_autofree char *path = netns_ns_path (p, infra);
  g_autofree char *q = netns_sh_quote (path);

  if (!p->rootless)
    {
      g_string_append_printf (s, "ip netns del %s 2>/dev/null || :\n", infra);
      return;
    }
  g_autofree char *mnt = netns_sh_quote (p->keeper_mnt);
  g_autofree char *kpid = netns_sh_quote (p->keeper_pid);
  g_string_append_printf (s,
                          "  nsenter -t \"$K\" -U -m --preserve-credentials sh -c 'umount -l "
                          "\"$1\" 2>/dev/null; rm -f \"$1\"' sh %s\n"
                          "  if test -z \"$(ls -A \"/proc/$K/root\"%s 2>/dev/null)\"; then\n"
                          "    kill \"$K\"\n"
                          "    i=0\n"
                          "    while ! flock -n %s true 2>/dev/null && test $i -lt 100; do "
                          "i=$((i + 1)); sleep 0.1; done\n"
                          "  fi\n",
                          q, mnt, kpid);
}

/**
 * add_hosts_update() - rewrite the hosts file of every former member of @n from @after
 * @s: script
 * @p: paths
 * @after: the new index
 * @n: the network removed
 * @old_hosts: member name to its hosts file now
 */
static void
add_hosts_update (GString *s, const NetnsPaths *p, const NetIndex *after, const Network *n,
                  GHashTable *old_hosts)
{
  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      g_autofree char *marker_path = netns_marker_path (p, m->workspace);
      g_autofree char *conf = netns_conf_dir (p, m->workspace);
      g_autofree char *hosts_path = g_build_filename (conf, "hosts", NULL);
      g_autofree char *marker = netns_sh_quote (marker_path);
      g_autofree char *hosts = netns_sh_quote (hosts_path);
      g_autofree char *block = net_hosts_render (after, m->workspace);
      const char *old = g_hash_table_lookup (old_hosts, m->workspace);
      g_autofree char *text = net_hosts_merge (old, block);
      g_autofree char *body = sq (text != NULL ? text : NET_PLAIN_HOSTS);

      if (text != NULL)
        g_string_append_printf (s, "if test -f %s; then printf '%%s' %s > %s; fi\n", marker,
                                body, hosts);
      else if (old != NULL)
        g_string_append_printf (s, "if test -f %s; then printf '%%s' %s > %s; rm -f %s; fi\n",
                                hosts, body, hosts, hosts);
    }
}

char *
network_script_rm (const NetnsPaths *p, const char *npte, const char *before,
                   const NetIndex *after, const Network *n, GHashTable *old_hosts)
{
  GString *s = g_string_new (NULL);
  g_autofree char *what = g_strdup_printf ("rm %s%s", n->name,
                                           n->members->len > 0 ? " --force" : "");
  g_autofree char *ip = infra_prefix (p);
  const char *indent = p->rootless ? "  " : "";
  char br[NET_IFNAME_LEN], host[NET_IFNAME_LEN];

  net_ifname_bridge (n, br);
  add_prologue (s, p, npte, what, before);
  if ((n->outbound && !net_index_has_outbound (after)) || after->networks->len == 0)
    add_slirp_stop (s, p);
  if (p->rootless)
    g_string_append (s, "if K=$(\"$NPTE\" __netns-keeper --find 2>/dev/null); then\n");
  for (guint i = 0; i < n->members->len; i++)
    {
      net_ifname_host (((NetMember *) g_ptr_array_index (n->members, i))->ip, host);
      g_string_append_printf (s, "%s%s link del %s 2>/dev/null || :\n", indent, ip, host);
    }
  g_autofree char *subnet = net_subnet_str (n);
  g_string_append_printf (s,
                          "%s%s link del %s 2>/dev/null || :\n"
                          "%s%s rule del iif %s lookup %d priority %d 2>/dev/null || :\n"
                          "%s%s route del unreachable %s table %d 2>/dev/null || :\n",
                          indent, ip, br, indent, ip, br, NET_OUTBOUND_TABLE,
                          NET_OUTBOUND_RULE_PRIORITY, indent, ip, subnet, NET_OUTBOUND_TABLE);
  if (after->networks->len == 0)
    add_infra_remove (s, p);
  if (p->rootless)
    g_string_append (s, "fi\n");
  add_hosts_update (s, p, after, n, old_hosts);
  add_index_write (s, p, after);
  return g_string_free (s, FALSE);
}
