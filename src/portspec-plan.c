/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: What a port spec binds and dials
 *
 * The side of a spec that listens is the parent (host) side of a forward
 * spec and the child (namespace) side of a reverse one. Conflicts are
 * decided on that side only, and only between specs of the same direction:
 * a forward listener lives on the host and a reverse one in the namespace,
 * so the two can never collide.
 *
 * Two specs conflict when their listening port ranges intersect, their
 * transports are the same, and the address sets their listeners cover
 * intersect (see listen_coverage()), which models what the kernel refuses
 * at bind time. Ranges are intervals, so the check is O(1) per pair
 * whatever the ranges' lengths.
 */
#include "portspec-internal.h"

#include <arpa/inet.h>
#include <string.h>

/* Specific addresses one listener set may hold (reverse "" = 127.0.0.1 and ::1). */
#define COVERAGE_MAX 2

/* The addresses a spec's listeners cover: all of IPv4, all of IPv6, specific ones. */
typedef struct {
  gboolean all4;
  gboolean all6;
  PortIp one[COVERAGE_MAX]; /* family 0 = unused */
} Coverage;

/* listen_port() - the first port of the side of @spec that listens. */
static int
listen_port (const PortSpec *spec)
{
  return spec->reverse ? spec->child_port : spec->parent_port;
}

/**
 * listen_coverage() - the addresses the listeners of @spec cover
 * @spec: a validated spec
 * @cov: (out) the coverage
 *
 * A wildcard (0.0.0.0, ::, and "" for a forward spec) covers the families
 * @spec's proto allows: both for plain tcp/udp (one dual-stack socket),
 * one for the *4 / *6 protos. A specific address covers itself. The ""
 * ChildIP of a reverse spec is loopback: 127.0.0.1 and/or ::1, by proto.
 */
static void
listen_coverage (const PortSpec *spec, Coverage *cov)
{
  int family = portspec_proto_family (spec->proto);
  PortIp ip;

  memset (cov, 0, sizeof *cov);
  portspec_ip_or_empty (spec->reverse ? spec->child_ip : spec->parent_ip, &ip);
  if (spec->reverse && ip.family == 0)
    {
      if (family != AF_INET6)
        portspec_ip_loopback (AF_INET, &cov->one[0]);
      if (family != AF_INET)
        portspec_ip_loopback (AF_INET6, &cov->one[1]);
    }
  else if (portspec_ip_is_wildcard (&ip))
    {
      cov->all4 = family != AF_INET6;
      cov->all6 = family != AF_INET;
    }
  else
    cov->one[0] = ip;
}

/* coverage_has() - TRUE if @cov covers the specific address @ip. */
static gboolean
coverage_has (const Coverage *cov, const PortIp *ip)
{
  if (ip->family == AF_INET && cov->all4)
    return TRUE;
  if (ip->family == AF_INET6 && cov->all6)
    return TRUE;
  for (guint i = 0; i < COVERAGE_MAX; i++)
    if (portspec_ip_equal (&cov->one[i], ip))
      return TRUE;
  return FALSE;
}

/* coverage_meets() - TRUE if @a and @b have an address in common. */
static gboolean
coverage_meets (const Coverage *a, const Coverage *b)
{
  if ((a->all4 && b->all4) || (a->all6 && b->all6))
    return TRUE;
  for (guint i = 0; i < COVERAGE_MAX; i++)
    {
      if (a->one[i].family != 0 && coverage_has (b, &a->one[i]))
        return TRUE;
      if (b->one[i].family != 0 && coverage_has (a, &b->one[i]))
        return TRUE;
    }
  return FALSE;
}

/*
 * portspec_conflicts() - see portspec.h: same direction, intersecting
 * listening port ranges (port 0, not yet picked, never conflicts), same
 * transport, intersecting address coverage.
 */
gboolean
portspec_conflicts (const PortSpec *a, const PortSpec *b)
{
  PortTransport t = portspec_proto_transport (a->proto);
  int pa = listen_port (a);
  int pb = listen_port (b);
  Coverage ca, cb;

  /* Cheap tests first: porttable_check() calls this for every entry. */
  if (!a->reverse != !b->reverse || pa == 0 || pb == 0)
    return FALSE;
  if (pa > pb + (portspec_count (b) - 1) || pb > pa + (portspec_count (a) - 1))
    return FALSE;
  if (t == PORT_TRANSPORT_NONE || t != portspec_proto_transport (b->proto))
    return FALSE;
  listen_coverage (a, &ca);
  listen_coverage (b, &cb);
  return coverage_meets (&ca, &cb);
}

/**
 * set_sockaddr() - fill @ss with @ip (or a wildcard of @family) and @port
 * @ss: (out) the address
 * @len: (out) its length
 * @family: AF_INET or AF_INET6; used when @ip is NULL
 * @ip: the address, or NULL for the wildcard of @family
 * @port: port in host order
 */
static void
set_sockaddr (struct sockaddr_storage *ss, socklen_t *len, int family, const PortIp *ip,
              int port)
{
  memset (ss, 0, sizeof *ss);
  if (ip != NULL)
    family = ip->family;
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) ss;

      sin->sin_family = AF_INET;
      sin->sin_port = htons ((uint16_t) port);
      sin->sin_addr.s_addr = ip != NULL ? ip->u.v4.s_addr : htonl (INADDR_ANY);
      *len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons ((uint16_t) port);
      sin6->sin6_addr = ip != NULL ? ip->u.v6 : in6addr_any;
      *len = sizeof *sin6;
    }
}

/**
 * plan_for() - the listen plan for @proto on @ip and @port
 * @proto: the spec's proto
 * @ip: the address to listen on; a wildcard (or "") listens on all the
 *      proto's families: dual-stack "::" for tcp/udp, 0.0.0.0 for *4,
 *      "::" v6only for *6
 * @port: port in host order
 * @plan: (out) the plan
 */
static void
plan_for (PortProto proto, const PortIp *ip, int port, PortListenPlan *plan)
{
  int family = portspec_proto_family (proto);

  memset (plan, 0, sizeof *plan);
  plan->socktype = portproto_is_udp (proto) ? SOCK_DGRAM : SOCK_STREAM;
  if (portspec_ip_is_wildcard (ip))
    {
      plan->family = family == AF_INET ? AF_INET : AF_INET6;
      plan->v6only = family == AF_INET6;
      set_sockaddr (&plan->addr, &plan->addrlen, plan->family, NULL, port);
    }
  else
    {
      plan->family = ip->family;
      plan->v6only = ip->family == AF_INET6;
      set_sockaddr (&plan->addr, &plan->addrlen, 0, ip, port);
    }
}

void
portspec_listen_plan_at (const PortSpec *spec, int index, PortListenPlan *plan)
{
  PortIp ip;

  g_return_if_fail (index >= 0 && index < portspec_count (spec));
  portspec_ip_or_empty (spec->parent_ip, &ip);
  plan_for (spec->proto, &ip, spec->parent_port + index, plan);
}

void
portspec_listen_plan (const PortSpec *spec, PortListenPlan *plan)
{
  portspec_listen_plan_at (spec, 0, plan);
}

void
portspec_child_target_at (const PortSpec *spec, int index, struct sockaddr_storage *addr,
                          socklen_t *addrlen)
{
  int port = spec->child_port + index;
  PortIp ip;

  g_return_if_fail (index >= 0 && index < portspec_count (spec));
  if (portspec_ip_parse (spec->child_ip, &ip) && ip.family != 0)
    {
      set_sockaddr (addr, addrlen, 0, &ip, port);
      return;
    }
  portspec_ip_or_empty (spec->parent_ip, &ip);
  if (!portspec_ip_is_wildcard (&ip) && portspec_ip_is_loopback (&ip))
    {
      /* rootlesskit PR #477: -p 127.0.0.2:8080:80 reaches 127.0.0.2:80 inside. */
      set_sockaddr (addr, addrlen, 0, &ip, port);
      return;
    }
  /* A host address that is not loopback does not exist inside the namespace. */
  portspec_ip_loopback (portspec_ip_is_wildcard (&ip) ? portspec_proto_family (spec->proto)
                                                      : ip.family, &ip);
  set_sockaddr (addr, addrlen, 0, &ip, port);
}

void
portspec_child_target (const PortSpec *spec, struct sockaddr_storage *addr,
                       socklen_t *addrlen)
{
  portspec_child_target_at (spec, 0, addr, addrlen);
}

/*
 * portspec_reverse_listen() - see portspec.h. A given ChildIP is listened
 * on as a forward spec listens on its ParentIP (a wildcard included);
 * without one, on loopback only, so the host service is not offered to
 * the namespace's other interfaces.
 */
int
portspec_reverse_listen (const PortSpec *spec, int index, PortListenPlan plans[2])
{
  int port = spec->child_port + index;
  int family = portspec_proto_family (spec->proto);
  PortIp ip;
  int n = 0;

  g_return_val_if_fail (index >= 0 && index < portspec_count (spec), 0);
  portspec_ip_or_empty (spec->child_ip, &ip);
  if (ip.family != 0)
    {
      plan_for (spec->proto, &ip, port, &plans[0]);
      return 1;
    }
  if (family != AF_INET6)
    {
      portspec_ip_loopback (AF_INET, &ip);
      plan_for (spec->proto, &ip, port, &plans[n++]);
    }
  if (family != AF_INET)
    {
      portspec_ip_loopback (AF_INET6, &ip);
      plan_for (spec->proto, &ip, port, &plans[n++]);
    }
  return n;
}

void
portspec_reverse_target (const PortSpec *spec, int index, struct sockaddr_storage *addr,
                         socklen_t *addrlen)
{
  PortIp ip;

  g_return_if_fail (index >= 0 && index < portspec_count (spec));
  portspec_ip_or_empty (spec->parent_ip, &ip);
  if (portspec_ip_is_wildcard (&ip))
    portspec_ip_loopback (portspec_proto_family (spec->proto), &ip);
  set_sockaddr (addr, addrlen, 0, &ip, spec->parent_port + index);
}
