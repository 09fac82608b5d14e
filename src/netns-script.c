/* SPDX-License-Identifier: Apache-2.0 */
#include "netns-script.h"

#include <string.h>

/* How long a script waits for the port API of a new namespace, in 0.1 s steps. */
#define WAIT_STEPS 300

char *
netns_sh_quote (const char *s)
{
  GString *out = g_string_new ("\"");

  for (; *s != '\0'; s++)
    {
      if (*s == '"' || *s == '$' || *s == '`' || *s == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *s);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

char *
netns_sh_word (const char *s)
{
  static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_-./:@%+=,";

  if (s[0] != '\0' && strspn (s, safe) == strlen (s))
    return g_strdup (s);
  return netns_sh_quote (s);
}

/**
 * keeper_root_word() - @path seen through the keeper's root: "/proc/$K/root""PATH"
 * @path: absolute path inside the keeper's mount namespace
 *
 * Return: (transfer full) one sh word that expands $K.
 */
static char *
keeper_root_word (const char *path)
{
  g_autofree char *q = netns_sh_quote (path);

  return g_strconcat ("\"/proc/$K/root\"", q, NULL);
}

/**
 * add_prologue() - shebang, set -e, PATH, the registry and $NPTE
 * @s: script
 * @p: paths
 * @npte: npte binary
 * @what: the verb, for the comment line
 */
static void
add_prologue (GString *s, const NetnsPaths *p, const char *npte, const char *what)
{
  g_autofree char *base = netns_sh_quote (p->base);
  g_autofree char *bin = netns_sh_quote (npte);

  g_string_append_printf (s,
                          "#!/bin/sh\n"
                          "# npte netns %s (dry run): the same steps as the live verb\n"
                          "set -e\n"
                          "PATH=\"$PATH:/usr/sbin:/sbin\"\n"
                          "NPTE_NETNS_RUN_DIR=%s; export NPTE_NETNS_RUN_DIR\n"
                          "NPTE=%s\n",
                          what, base, bin);
}

/**
 * add_lock() - create the registry and take the global lock on fd 9
 * @s: script
 * @p: paths
 */
static void
add_lock (GString *s, const NetnsPaths *p)
{
  g_autofree char *reg = netns_sh_quote (p->reg);
  g_autofree char *lock = netns_sh_quote (p->lock);

  g_string_append_printf (s,
                          "(umask %s && mkdir -p %s)\n"
                          "exec 9>>%s\n"
                          "flock -w %d 9 || { echo \"npte: another npte holds the namespace "
                          "lock\" >&2; exit 1; }\n",
                          p->rootless ? "077" : "022", reg, lock, NETNS_LOCK_TIMEOUT_MS / 1000);
}

/**
 * add_bad_marker_check() - a marker that is a symlink or not a regular file exits 2
 * @s: script
 * @p: paths
 * @name: namespace
 */
static void
add_bad_marker_check (GString *s, const NetnsPaths *p, const char *name)
{
  g_autofree char *path = netns_marker_path (p, name);
  g_autofree char *m = netns_sh_quote (path);

  g_string_append_printf (s,
                          "if test -L %s || { test -e %s && ! test -f %s; }; then echo \"npte: "
                          "the marker of namespace %s is not a regular file\" >&2; exit 2; fi\n",
                          m, m, m, name);
}

char *
netns_script_guard (const NetnsPaths *p, const char *name)
{
  g_autofree char *path = netns_marker_path (p, name);
  g_autofree char *m = netns_sh_quote (path);
  GString *s = g_string_new (NULL);

  add_bad_marker_check (s, p, name);
  g_string_append_printf (s,
                          "test -f %s || { echo \"npte: namespace %s is not managed by npte\" "
                          ">&2; exit 2; }\n",
                          m, name);
  return g_string_free (s, FALSE);
}

/**
 * add_keeper_nsenter() - "nsenter -t $K -U -m --preserve-credentials sh -c BODY sh ARG"
 * @s: script
 * @body: the inner script, using "$1" for @arg (single-quoted as is: no ' in it)
 * @arg: its argument
 */
static void
add_keeper_nsenter (GString *s, const char *body, const char *arg)
{
  g_autofree char *a = netns_sh_quote (arg);

  g_string_append_printf (s, "nsenter -t \"$K\" -U -m --preserve-credentials sh -c '%s' sh %s",
                          body, a);
}

/**
 * add_attach() - start "npte attach" for the namespace and wait for its API
 * @s: script
 * @p: paths
 * @name: namespace
 * @slirp: --net=slirp
 * @undo: lines that undo the kernel step when the API does not come up
 */
static void
add_attach (GString *s, const NetnsPaths *p, const char *name, gboolean slirp, const char *undo)
{
  g_autofree char *state_path = netns_state_dir (p, name);
  g_autofree char *conf_path = netns_conf_dir (p, name);
  g_autofree char *ns_path = netns_ns_path (p, name);
  g_autofree char *state = netns_sh_quote (state_path);
  g_autofree char *conf = netns_sh_quote (conf_path);
  g_autofree char *log_path = g_build_filename (conf_path, "attach.log", NULL);
  g_autofree char *log = netns_sh_quote (log_path);
  g_autofree char *pidfile_path = g_build_filename (state_path, "child_pid", NULL);
  g_autofree char *pidfile = netns_sh_quote (pidfile_path);
  g_autofree char *target = NULL;

  g_string_append_printf (s, "(umask 022 && mkdir -p %s)\n", conf);
  if (slirp)
    g_string_append_printf (s, "printf 'nameserver 10.0.2.3\\n' > %s/resolv.conf\n", conf);
  g_string_append_printf (s, "setsid \"$NPTE\" attach --net=%s --state-dir %s ",
                          slirp ? "slirp" : "none", state);
  if (p->rootless)
    {
      target = keeper_root_word (ns_path);
      g_string_append (s, "--userns-path \"/proc/$K/ns/user\" ");
    }
  else
    target = netns_sh_quote (ns_path);
  g_string_append_printf (s, "%s </dev/null >/dev/null 2>>%s 9>&- &\n", target, log);
  g_string_append_printf (s,
                          "i=0\n"
                          "until test -f %s; do\n"
                          "  i=$((i + 1))\n"
                          "  if test $i -gt %d; then\n"
                          "    echo \"npte: the port API of namespace %s did not start\" >&2\n"
                          "%s"
                          "    rm -rf %s %s\n"
                          "    exit 1\n"
                          "  fi\n"
                          "  sleep 0.1\n"
                          "done\n",
                          pidfile, WAIT_STEPS, name, undo, state, conf);
}

char *
netns_script_create (const NetnsPaths *p, const char *npte, const char *name, gboolean slirp)
{
  GString *s = g_string_new (NULL);
  g_autofree char *marker_path = netns_marker_path (p, name);
  g_autofree char *m = netns_sh_quote (marker_path);
  g_autofree char *ns_path = netns_ns_path (p, name);
  g_autofree char *what = g_strdup_printf ("create %s%s", name, slirp ? " --net=slirp" : "");
  g_autofree char *undo = NULL;

  add_prologue (s, p, npte, what);
  add_lock (s, p);
  add_bad_marker_check (s, p, name);
  g_string_append_printf (s,
                          "test ! -e %s || { echo \"npte: namespace %s exists already\" >&2; "
                          "exit 1; }\n",
                          m, name);
  if (p->rootless)
    {
      g_string_append (s, "K=$(\"$NPTE\" __netns-keeper 9>&-)\n");
      add_keeper_nsenter (s, "umask 077 && : > \"$1\" && unshare --net=\"$1\" ip link set lo up",
                          ns_path);
      g_string_append (s, "\n");
      GString *u = g_string_new ("    ");
      add_keeper_nsenter (u, "umount \"$1\"; rm -f \"$1\"", ns_path);
      g_string_append (u, "\n");
      undo = g_string_free (u, FALSE);
    }
  else
    {
      g_string_append_printf (s, "ip netns add %s\nip -n %s link set lo up\n", name, name);
      undo = g_strdup_printf ("    ip netns del %s\n", name);
    }
  add_attach (s, p, name, slirp, undo);
  g_string_append_printf (s, "(set -C && : > %s)\n", m);
  return g_string_free (s, FALSE);
}

/**
 * add_stop_attach() - stop the namespace's "npte attach" and wait until it is gone
 * @s: script
 * @p: paths
 * @name: namespace
 */
static void
add_stop_attach (GString *s, const NetnsPaths *p, const char *name)
{
  g_autofree char *state_path = netns_state_dir (p, name);
  g_autofree char *pid_path = g_build_filename (state_path, "child_pid", NULL);
  g_autofree char *lock_path = g_build_filename (state_path, "lock", NULL);
  g_autofree char *pid = netns_sh_quote (pid_path);
  g_autofree char *lock = netns_sh_quote (lock_path);

  g_string_append_printf (s,
                          "if test -f %s; then kill \"$(cat %s)\" 2>/dev/null || :; fi\n"
                          "i=0\n"
                          "while test -e %s && ! flock -n %s true 2>/dev/null && test $i -lt "
                          "100; do i=$((i + 1)); sleep 0.1; done\n",
                          pid, pid, lock, lock);
}

char *
netns_script_destroy (const NetnsPaths *p, const char *npte, const char *name)
{
  GString *s = g_string_new (NULL);
  g_autofree char *guard = netns_script_guard (p, name);
  g_autofree char *marker_path = netns_marker_path (p, name);
  g_autofree char *state_path = netns_state_dir (p, name);
  g_autofree char *conf_path = netns_conf_dir (p, name);
  g_autofree char *ns_path = netns_ns_path (p, name);
  g_autofree char *m = netns_sh_quote (marker_path);
  g_autofree char *state = netns_sh_quote (state_path);
  g_autofree char *conf = netns_sh_quote (conf_path);
  g_autofree char *what = g_strdup_printf ("destroy %s", name);

  add_prologue (s, p, npte, what);
  /* It leaves its networks (npte network: the index is JSON, no standard tool edits it). */
  g_string_append_printf (s, "\"$NPTE\" network __leave-all %s\n", name);
  add_lock (s, p);
  g_string_append (s, guard);
  add_stop_attach (s, p, name);
  if (p->rootless)
    {
      g_autofree char *mnt = keeper_root_word (p->keeper_mnt);
      g_autofree char *kpid = netns_sh_quote (p->keeper_pid);
      g_string_append (s, "if K=$(\"$NPTE\" __netns-keeper --find 2>/dev/null); then\n  ");
      add_keeper_nsenter (s, "umount -l \"$1\" 2>/dev/null; rm -f \"$1\"", ns_path);
      g_string_append_printf (s,
                              "\n"
                              "  if test -z \"$(ls -A %s 2>/dev/null)\"; then\n"
                              "    kill \"$K\"\n"
                              "    i=0\n"
                              "    while ! flock -n %s true 2>/dev/null && test $i -lt 100; do "
                              "i=$((i + 1)); sleep 0.1; done\n"
                              "  fi\n"
                              "fi\n",
                              mnt, kpid);
    }
  else
    g_string_append_printf (s, "ip netns del %s 2>/dev/null || :\n", name);
  g_string_append_printf (s, "rm -rf %s %s\nrm -f %s\n", state, conf, m);
  return g_string_free (s, FALSE);
}

/* cfg_object() - "link", "addr", "route" or "neigh" for the comment line. */
static const char *
cfg_object (const NetnsCfgOp *op)
{
  switch (op->kind)
    {
    case NETNS_CFG_ADDR_ADD:
    case NETNS_CFG_ADDR_DEL:
      return "addr";
    case NETNS_CFG_ROUTE_ADD:
    case NETNS_CFG_ROUTE_DEL:
      return "route";
    case NETNS_CFG_NEIGH_ADD:
    case NETNS_CFG_NEIGH_DEL:
      return "neigh";
    case NETNS_CFG_LINK_ADD_VETH:
    case NETNS_CFG_LINK_ADD_BRIDGE:
    case NETNS_CFG_LINK_DEL:
    case NETNS_CFG_LINK_UP:
    case NETNS_CFG_LINK_DOWN:
    case NETNS_CFG_LINK_MTU:
    case NETNS_CFG_LINK_MASTER:
    case NETNS_CFG_LINK_NOMASTER:
    default:
      return "link";
    }
}

char *
netns_script_cfg (const NetnsPaths *p, const char *npte, const NetnsCfgOp *op)
{
  GString *s = g_string_new (NULL);
  g_autofree char *guard = netns_script_guard (p, op->ns);
  g_autofree char *other_path = op->other_ns[0] != '\0' ? netns_ns_path (p, op->other_ns) : NULL;
  g_auto (GStrv) args = netns_cfg_ip_args (op, p->rootless ? other_path : op->other_ns);
  g_autofree char *what = g_strdup_printf ("%s change in %s", cfg_object (op), op->ns);

  add_prologue (s, p, npte, what);
  add_lock (s, p);
  g_string_append (s, guard);
  if (op->other_ns[0] != '\0')
    {
      g_autofree char *other_guard = netns_script_guard (p, op->other_ns);
      g_string_append (s, other_guard);
    }
  if (p->rootless)
    g_string_append_printf (s, "\"$NPTE\" netns exec %s ip", op->ns);
  else
    g_string_append_printf (s, "ip -n %s", op->ns);
  for (char **a = args + 1; *a != NULL; a++)
    {
      g_autofree char *q = netns_sh_word (*a);
      g_string_append_printf (s, " %s", q);
    }
  g_string_append (s, "\n");
  return g_string_free (s, FALSE);
}
