/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Theory of operation
 *
 * portmgr_add() is the one path by which a port is published, for every
 * driver:
 *
 *  1. validate and canonicalise a copy of the requested spec;
 *  2. refuse protos the driver does not list, and loopback child IPs when
 *     the driver cannot reach them;
 *  3. check the spec against every published port (porttable_check());
 *  4. record it in the table under the next id and let the driver open it;
 *     the driver may fill in the listening port (auto port 0: parent_port
 *     of a forward spec, child_port of a reverse one), so later conflict
 *     checks see the real port;
 *  5. if open fails, roll the entry back: the id is not used up.
 *
 * A port range is one spec, one id and one table entry, whatever its
 * length: the driver opens one listener per port of it, and fails (and is
 * rolled back) as a whole.
 */
#include "portmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "npte-error.h"

static void read_unprivileged_port_start (void);

struct PortMgr {
  const PortDriverOps *ops;
  gpointer driver;
  PortTable *table;
};

PortMgr *
portmgr_new (const PortDriverOps *ops, gpointer driver)
{
  PortMgr *mgr;

  g_return_val_if_fail (ops != NULL && ops->open != NULL && ops->close != NULL, NULL);
  read_unprivileged_port_start ();
  mgr = g_new0 (PortMgr, 1);
  mgr->ops = ops;
  mgr->driver = driver;
  mgr->table = porttable_new ();
  return mgr;
}

void
portmgr_free (PortMgr *mgr)
{
  g_autoptr (GPtrArray) entries = NULL;

  if (mgr == NULL)
    return;
  entries = porttable_list (mgr->table);
  for (guint i = 0; i < entries->len; i++)
    mgr->ops->close (mgr->driver, g_ptr_array_index (entries, i));
  porttable_free (mgr->table);
  g_free (mgr);
}

/**
 * driver_supports() - whether the driver lists @proto
 * @ops: driver operations
 * @proto: the protocol
 *
 * Return: TRUE if @proto's name is in @ops->protos.
 */
static gboolean
driver_supports (const PortDriverOps *ops, PortProto proto)
{
  const char *name = portproto_to_string (proto);

  for (const char *const *p = ops->protos; p != NULL && *p != NULL; p++)
    if (strcmp (*p, name) == 0)
      return TRUE;
  return FALSE;
}

/**
 * is_loopback() - whether @ip (canonical, as left by portspec_validate())
 *                 is a loopback address
 * @ip: "127.0.0.1", "::1", ...; "" is not
 *
 * Return: TRUE for 127.0.0.0/8 and ::1.
 */
static gboolean
is_loopback (const char *ip)
{
  struct in_addr v4;
  struct in6_addr v6;

  if (inet_pton (AF_INET, ip, &v4) == 1)
    return (ntohl (v4.s_addr) >> 24) == 127;
  if (inet_pton (AF_INET6, ip, &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK (&v6);
  return FALSE;
}

/**
 * check_driver() - the driver's own limits on a validated spec
 * @ops: driver operations
 * @spec: the spec
 * @error: EPROTONOSUPPORT or EINVAL
 *
 * Return: TRUE if the driver can serve @spec.
 */
static gboolean
check_driver (const PortDriverOps *ops, const PortSpec *spec, GError **error)
{
  if (!driver_supports (ops, spec->proto))
    return npte_set_error (error, EPROTONOSUPPORT, "unsupported port protocol %s for driver %s",
                           portproto_to_string (spec->proto), ops->name);
  if (spec->reverse && !ops->supports_reverse)
    return npte_set_error (error, EPROTONOSUPPORT,
                           "port driver %s does not support reverse ports (use the builtin "
                           "driver)", ops->name);
  /* In a reverse spec the ChildIP is where the namespace side listens, not a target. */
  if (ops->disallow_loopback_child_ip && !spec->reverse && is_loopback (spec->child_ip))
    return npte_set_error (error, EINVAL,
                           "ChildIP %s is a loopback address, which the %s port driver cannot "
                           "reach; leave ChildIP out or use the namespace's own address",
                           spec->child_ip, ops->name);
  return TRUE;
}

const PortEntry *
portmgr_add (PortMgr *mgr, const PortSpec *spec, GError **error)
{
  g_autoptr (GError) local = NULL;
  PortSpec copy = *spec;
  PortEntry *entry;

  if (!portspec_validate (&copy, error) || !check_driver (mgr->ops, &copy, error)
      || !porttable_check (mgr->table, &copy, error))
    return NULL;
  entry = porttable_add (mgr->table, &copy);
  if (!mgr->ops->open (mgr->driver, entry, &local))
    {
      porttable_rollback (mgr->table, entry->id);
      if (local == NULL) /* a driver bug, but the caller still needs an error */
        {
          g_autofree char *text = portspec_format (&copy);

          npte_set_error (error, EIO, "port driver %s failed to open %s", mgr->ops->name, text);
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return entry;
}

gboolean
portmgr_remove (PortMgr *mgr, int id, GError **error)
{
  PortEntry *entry = porttable_lookup (mgr->table, id);

  if (entry == NULL)
    return npte_set_error (error, ENOENT, "unknown id: %d", id);
  mgr->ops->close (mgr->driver, entry);
  porttable_remove (mgr->table, id);
  return TRUE;
}

GPtrArray *
portmgr_list (const PortMgr *mgr)
{
  return porttable_list (mgr->table);
}

const PortDriverOps *
portmgr_ops (const PortMgr *mgr)
{
  return mgr->ops;
}

/**
 * privileged_port_error() - rootlesskit's actionable message for EACCES on a low port
 * @port: the port
 * @error: (out) the error
 *
 * Return: FALSE.
 */
/* net.ipv4.ip_unprivileged_port_start, read by portmgr_new() before the sandbox hides /proc. */
static guint64 unprivileged_port_start = 1024;

/* read_unprivileged_port_start() - refresh the cached sysctl, if /proc can be read. */
static void
read_unprivileged_port_start (void)
{
  g_autofree char *text = NULL;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_unprivileged_port_start", &text, NULL, NULL))
    g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, 65536, &unprivileged_port_start, NULL);
}

static gboolean
privileged_port_error (int port, GError **error)
{
  const guint64 start = (read_unprivileged_port_start (), unprivileged_port_start);

  return npte_set_error (error, EACCES,
                         "cannot expose privileged port %d, you can add "
                         "'net.ipv4.ip_unprivileged_port_start=%d' to /etc/sysctl.conf "
                         "(currently %" G_GUINT64_FORMAT "), or choose a larger port number "
                         "(>= %" G_GUINT64_FORMAT ")",
                         port, port, start, start);
}

gboolean
portmgr_bind_error (const PortSpec *spec, int errsv, const char *addr, GError **error)
{
  /* A reverse port binds inside the namespace, where the host's sysctl is not the cause. */
  if (errsv == EACCES && spec->parent_port > 0 && !spec->reverse)
    return privileged_port_error (spec->parent_port, error);
  if (errsv == EADDRINUSE)
    return npte_set_error (error, EADDRINUSE,
                           "cannot listen on %s/%s: the address is already in use by another "
                           "program",
                           addr, portproto_to_string (spec->proto));
  return npte_set_errno (error, errsv, "bind %s/%s", addr, portproto_to_string (spec->proto));
}
