/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slirp port driver: forwards through libslirp's hostfwd
 * (slirp_add_hostxfwd), IPv4 and IPv6. libslirp accepts on the host and
 * connects from the gateway side into the namespace, preserving the real
 * client address (only loopback sources are rewritten to the gateway).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"
#include "slirp.h"
#include "util.h"

static const char *const slirp_protos[] = { "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", NULL };

typedef struct {
  struct sockaddr_storage haddr;
  socklen_t hlen;
  int flags;
} SlirpFwd;

/**
 * pick_free_port() - a port the kernel considers free for @plan (ParentPort 0)
 * @plan: listen plan with port 0
 * @error: error on failure
 *
 * libslirp cannot report the port it bound, so npte asks the kernel first.
 * Another program could take the port in between; then the add fails with
 * EADDRINUSE and the caller may retry.
 *
 * Return: the port, or 0.
 */
static int
pick_free_port (const PortListenPlan *plan, GError **error)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  npte_autofd int fd = socket (plan->family, plan->socktype | SOCK_CLOEXEC, 0);

  if (fd < 0 || bind (fd, (const struct sockaddr *) &plan->addr, plan->addrlen) < 0
      || getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    {
      npte_set_errno (error, errno, "pick a free port");
      return 0;
    }
  return ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                         : ((struct sockaddr_in *) &ss)->sin_port);
}

/* get_port() - the port of an IPv4 or IPv6 sockaddr, host order. */
static int
get_port (const struct sockaddr_storage *ss)
{
  return ntohs (ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *) ss)->sin6_port
                                          : ((const struct sockaddr_in *) ss)->sin_port);
}

/**
 * set_port() - store @port in the sockaddr @ss
 * @ss: IPv4 or IPv6 address
 * @port: host-order port
 */
static void
set_port (struct sockaddr_storage *ss, int port)
{
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *) ss)->sin6_port = htons ((uint16_t) port);
  else
    ((struct sockaddr_in *) ss)->sin_port = htons ((uint16_t) port);
}

/**
 * guest_address() - where in the namespace a forward connects
 * @net: the slirp network
 * @spec: the port (validated)
 * @family: the family of the host listener (libslirp 4.7 cannot forward
 *          across families)
 * @port: the child port
 * @ga: (out) address with the child port
 * @glen: (out) its length
 * @error: EINVAL when the address cannot be reached through slirp
 *
 * ChildIP if given; else the namespace's own address of @family (.100,
 * or ::100).
 *
 * Return: TRUE on success.
 */
static gboolean
guest_address (const SlirpNet *net, const PortSpec *spec, int family, int port,
               struct sockaddr_storage *ga, socklen_t *glen, GError **error)
{
  const NetCfg *cfg = slirpnet_config (net);
  gboolean v6 = family == AF_INET6;
  struct sockaddr_in *s4 = (struct sockaddr_in *) ga;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ga;

  memset (ga, 0, sizeof *ga);
  if (spec->child_ip[0] != '\0' && (strchr (spec->child_ip, ':') != NULL) != v6)
    return npte_set_error (error, EINVAL,
                           "libslirp cannot forward an %s host port to the %s address %s; use "
                           "a ChildIP of the same family",
                           v6 ? "IPv6" : "IPv4", v6 ? "IPv4" : "IPv6", spec->child_ip);
  if (v6 && !cfg->ipv6)
    return npte_set_error (error, EINVAL,
                           "an IPv6 target in the namespace needs --ipv6 with --net=slirp");
  if (v6)
    {
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((uint16_t) port);
      if (spec->child_ip[0] != '\0')
        inet_pton (AF_INET6, spec->child_ip, &s6->sin6_addr);
      else
        s6->sin6_addr = cfg->guest6;
      *glen = sizeof *s6;
      return TRUE;
    }
  s4->sin_family = AF_INET;
  s4->sin_port = htons ((uint16_t) port);
  if (spec->child_ip[0] != '\0')
    inet_pton (AF_INET, spec->child_ip, &s4->sin_addr);
  else
    s4->sin_addr = cfg->guest;
  *glen = sizeof *s4;
  return TRUE;
}

/**
 * split_plan() - the host listeners for one port: dual-stack becomes two
 * @net: the slirp network
 * @spec: the port
 * @plan: the listen plan of the spec
 * @plans: (out) one or two plans
 *
 * A plain tcp/udp wildcard listens dual-stack for the builtin driver;
 * libslirp would hand IPv4 clients to the namespace as IPv6 then, so it
 * gets an IPv4 listener, plus an IPv6-only one when the namespace has
 * IPv6 and no IPv4 ChildIP pins the target.
 *
 * Return: the number of plans.
 */
static int
split_plan (const SlirpNet *net, const PortSpec *spec, const PortListenPlan *plan,
            PortListenPlan plans[2])
{
  plans[0] = *plan;
  if (plan->family != AF_INET6 || plan->v6only)
    return 1;
  const int port = ntohs (((const struct sockaddr_in6 *) &plan->addr)->sin6_port);
  struct sockaddr_in *s4 = (struct sockaddr_in *) &plans[0].addr;
  memset (&plans[0].addr, 0, sizeof plans[0].addr);
  s4->sin_family = AF_INET;
  s4->sin_port = htons ((uint16_t) port);
  s4->sin_addr.s_addr = htonl (INADDR_ANY);
  plans[0].family = AF_INET;
  plans[0].addrlen = sizeof *s4;
  plans[0].v6only = FALSE;
  if (!slirpnet_config (net)->ipv6
      || (spec->child_ip[0] != '\0' && strchr (spec->child_ip, ':') == NULL))
    return 1;
  plans[1] = *plan;
  plans[1].v6only = TRUE;
  return 2;
}

/**
 * add_plan() - one hostfwd for one listen plan
 * @net: the slirp network
 * @entry: the port
 * @plan: host listener (a port of 0 is replaced by a free one)
 * @child_port: target port in the namespace
 * @fwds: forwards added so far (appended to)
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
add_plan (SlirpNet *net, PortEntry *entry, PortListenPlan *plan, int child_port, GArray *fwds,
          GError **error)
{
  struct sockaddr_storage ga;
  socklen_t glen = 0;
  char addr[NPTE_SOCKADDR_STRLEN];
  SlirpFwd fwd;

  if (!guest_address (net, &entry->spec, plan->family, child_port, &ga, &glen, error))
    return FALSE;
  if (get_port (&plan->addr) == 0)
    {
      int port = pick_free_port (plan, error);
      if (port == 0)
        return FALSE;
      set_port (&plan->addr, port);
    }
  fwd.haddr = plan->addr;
  fwd.hlen = plan->addrlen;
  fwd.flags = (portproto_is_udp (entry->spec.proto) ? SLIRP_HOSTFWD_UDP : 0)
              | (plan->family == AF_INET6 && plan->v6only ? SLIRP_HOSTFWD_V6ONLY : 0);
  npte_sockaddr_format ((struct sockaddr *) &plan->addr, addr);
  if (slirp_add_hostxfwd (slirpnet_slirp (net), (struct sockaddr *) &fwd.haddr, fwd.hlen,
                          (struct sockaddr *) &ga, glen, fwd.flags)
      < 0)
    {
      PortSpec one = entry->spec;
      int errsv = errno;
      one.parent_port = get_port (&plan->addr);
      one.count = 1;
      return portmgr_bind_error (&one, errsv, addr, error);
    }
  g_array_append_val (fwds, fwd);
  return TRUE;
}

/**
 * add_one() - the hostfwds of port @index of @entry's range
 * @net: the slirp network
 * @entry: the port (an auto parent port is filled in)
 * @index: port of the range
 * @fwds: forwards added so far (appended to)
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
add_one (SlirpNet *net, PortEntry *entry, int index, GArray *fwds, GError **error)
{
  PortListenPlan plan, plans[2];

  portspec_listen_plan_at (&entry->spec, index, &plan);
  int n = split_plan (net, &entry->spec, &plan, plans);
  for (int i = 0; i < n; i++)
    {
      /* An auto port picked for the first listener is used by the second. */
      if (i > 0 && get_port (&plans[i].addr) == 0)
        set_port (&plans[i].addr, get_port (&plans[0].addr));
      if (!add_plan (net, entry, &plans[i], entry->spec.child_port + index, fwds, error))
        return FALSE;
    }
  if (entry->spec.parent_port == 0)
    entry->spec.parent_port = get_port (&plans[0].addr);
  return TRUE;
}

static void
remove_all (SlirpNet *net, GArray *fwds)
{
  for (guint i = 0; i < fwds->len; i++)
    {
      SlirpFwd *fwd = &g_array_index (fwds, SlirpFwd, i);
      if (slirp_remove_hostxfwd (slirpnet_slirp (net), (struct sockaddr *) &fwd->haddr,
                                 fwd->hlen, fwd->flags)
          < 0)
        npte_debug ("slirp: remove forward: not found");
    }
  g_array_unref (fwds);
}

static gboolean
slirp_port_open (gpointer driver, PortEntry *entry, GError **error)
{
  SlirpNet *net = driver;
  const int count = portspec_count (&entry->spec);
  GArray *fwds = g_array_sized_new (FALSE, FALSE, sizeof (SlirpFwd), (guint) count);

  for (int i = 0; i < count; i++)
    if (!add_one (net, entry, i, fwds, error))
      {
        remove_all (net, fwds);
        return FALSE;
      }
  entry->handle = fwds;
  return TRUE;
}

static void
slirp_port_close (gpointer driver, PortEntry *entry)
{
  if (entry->handle != NULL)
    remove_all (driver, entry->handle);
  entry->handle = NULL;
}

const PortDriverOps slirp_port_ops = {
  .name = "slirp",
  .protos = slirp_protos,
  .disallow_loopback_child_ip = TRUE,
  .open = slirp_port_open,
  .close = slirp_port_close,
};
