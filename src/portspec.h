/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_PORTSPEC_H
#define NPTE_PORTSPEC_H

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

/*
 * Port specs, rootlesskit's model: {proto, parentIP, parentPort, childIP,
 * childPort}. Parsing of both textual syntaxes, validation, the conflict
 * rule (by what overlaps at bind time) and the address plans derived from
 * a spec. Pure functions: no sockets are opened here.
 */

typedef enum {
  PORT_PROTO_INVALID = 0,
  PORT_PROTO_TCP,
  PORT_PROTO_TCP4,
  PORT_PROTO_TCP6,
  PORT_PROTO_UDP,
  PORT_PROTO_UDP4,
  PORT_PROTO_UDP6,
  PORT_PROTO_SCTP,
  PORT_PROTO_SCTP4,
  PORT_PROTO_SCTP6,
} PortProto;

/* Textual IPs as given by the user ("" = unspecified), canonical after validation. */
#define PORTSPEC_IP_MAX 46 /* INET6_ADDRSTRLEN */

/* Largest port range one spec may carry (it is one id, many listeners). */
#define PORTSPEC_MAX_COUNT 65535

typedef struct {
  PortProto proto;
  char parent_ip[PORTSPEC_IP_MAX]; /* "" means all addresses */
  int parent_port;                  /* 0 means "pick a free port"; first of a range */
  char child_ip[PORTSPEC_IP_MAX];  /* "" means the default target */
  int child_port;                   /* first of a range */
  int count;                        /* ports in the range: parent_port..parent_port+count-1
                                       maps to child_port..child_port+count-1; 0 means 1 */
  gboolean reverse;                 /* namespace -> host: listen in the namespace on
                                       CHILDIP:CHILDPORT, connect to PARENTIP:PARENTPORT */
} PortSpec;

/* portspec_count() - ports in @spec's range (at least 1). */
int portspec_count (const PortSpec *spec);

/**
 * portproto_from_string() - "tcp" -> PORT_PROTO_TCP, etc. (case-sensitive)
 * @s: protocol name
 *
 * Return: the protocol, or PORT_PROTO_INVALID.
 */
PortProto portproto_from_string (const char *s);

/**
 * portproto_to_string() - the name of @p ("tcp", "udp6", ...)
 * @p: protocol
 *
 * Return: a static string; "" for PORT_PROTO_INVALID.
 */
const char *portproto_to_string (PortProto p);

/* TRUE for tcp/tcp4/tcp6. */
gboolean portproto_is_tcp (PortProto p);
/* TRUE for udp/udp4/udp6. */
gboolean portproto_is_udp (PortProto p);

/**
 * portspec_parse() - parse rootlesskit's syntax
 * @text: "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT[/PROTO]"; IPv6 in
 *        brackets ("[::1]:8080:[::2]:80/udp"); PROTO defaults to tcp;
 *        ":8080:80/tcp" means all parent addresses
 * @out: parsed spec (not yet validated)
 * @error: NPTE_ERROR/EINVAL naming the bad part
 *
 * Return: TRUE on success.
 */
gboolean portspec_parse (const char *text, PortSpec *out, GError **error);

/**
 * portspec_parse_args() - parse the design-card form "PROTO MAPPING"
 * @proto: "tcp", "udp6", ...
 * @mapping: "[PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT"
 * @out: parsed spec (not yet validated)
 * @error: EINVAL naming the bad part
 *
 * Return: TRUE on success.
 */
gboolean portspec_parse_args (const char *proto, const char *mapping, PortSpec *out,
                              GError **error);

/**
 * portspec_validate() - check one spec on its own and canonicalise its IPs
 * @spec: the spec; IPs are rewritten in canonical form ("::0001" -> "::1")
 * @error: EINVAL with a rootlesskit-compatible message ("unknown proto: \"X\"",
 *         "invalid ParentIP: \"X\"", "invalid ParentPort: N", ...), or
 *         EPROTONOSUPPORT for sctp
 *
 * Rules: proto known; IPs parse; parent port 0..65535 (0 = auto); child
 * port 1..65535; a tcp4/udp4 spec has no IPv6 parent IP, a tcp6/udp6 spec
 * no IPv4 parent IP.
 *
 * Return: TRUE if valid.
 */
gboolean portspec_validate (PortSpec *spec, GError **error);

/**
 * portspec_conflicts() - whether @a and @b would overlap at bind time
 * @a: a validated spec with a non-zero parent port
 * @b: another one
 *
 * Same transport (tcp*, udp*), same parent port, and the address sets the
 * two listeners cover intersect: "" and 0.0.0.0 cover all IPv4 (and, for
 * plain tcp/udp, all IPv6 too); "::" covers all IPv6 (and IPv4 for plain
 * tcp/udp); a specific address covers itself.
 *
 * Return: TRUE if they conflict.
 */
gboolean portspec_conflicts (const PortSpec *a, const PortSpec *b);

/**
 * portspec_format() - rootlesskit-syntax text of @spec ("127.0.0.1:8080:80/tcp")
 * @spec: the spec
 *
 * Return: (transfer full) newly allocated string.
 */
char *portspec_format (const PortSpec *spec);

/* How the parent listens for a spec. */
typedef struct {
  int family;                     /* AF_INET or AF_INET6 */
  int socktype;                   /* SOCK_STREAM or SOCK_DGRAM */
  gboolean v6only;                /* IPV6_V6ONLY value for AF_INET6 */
  struct sockaddr_storage addr;   /* with the parent port */
  socklen_t addrlen;
} PortListenPlan;

/**
 * portspec_listen_plan() - the socket the parent binds for @spec
 * @spec: a validated spec
 * @plan: (out) family, v6only and address
 *
 * tcp/udp with "" or a wildcard listen dual-stack on "::" (v6only off);
 * tcp4 on 0.0.0.0; tcp6 on "::" v6only.
 */
void portspec_listen_plan (const PortSpec *spec, PortListenPlan *plan);

/**
 * portspec_listen_plan_at() - portspec_listen_plan() for port @index of a range
 * @spec: a validated forward spec
 * @index: 0..portspec_count()-1
 * @plan: (out) as portspec_listen_plan(), with parent_port + @index
 */
void portspec_listen_plan_at (const PortSpec *spec, int index, PortListenPlan *plan);

/**
 * portspec_child_target_at() - portspec_child_target() for port @index of a range
 * @spec: a validated forward spec
 * @index: 0..portspec_count()-1
 * @addr: (out) address with child_port + @index
 * @addrlen: (out) its length
 */
void portspec_child_target_at (const PortSpec *spec, int index, struct sockaddr_storage *addr,
                               socklen_t *addrlen);

/**
 * portspec_reverse_listen() - where a reverse spec listens inside the namespace
 * @spec: a validated reverse spec
 * @index: 0..portspec_count()-1 (child_port + @index)
 * @plans: (out) up to two listen plans (socktype, family, v6only, address)
 *
 * CHILDIP if given (one plan); else loopback: tcp/udp -> 127.0.0.1 and ::1
 * (two plans), tcp4/udp4 -> 127.0.0.1, tcp6/udp6 -> ::1.
 *
 * Return: the number of plans (1 or 2).
 */
int portspec_reverse_listen (const PortSpec *spec, int index, PortListenPlan plans[2]);

/**
 * portspec_reverse_target() - where a reverse spec connects on the host
 * @spec: a validated reverse spec
 * @index: 0..portspec_count()-1 (parent_port + @index)
 * @addr: (out) PARENTIP (default 127.0.0.1, ::1 for tcp6/udp6) and the port
 * @addrlen: (out) its length
 */
void portspec_reverse_target (const PortSpec *spec, int index, struct sockaddr_storage *addr,
                              socklen_t *addrlen);

/**
 * portspec_child_target() - the address the namespace side connects to
 * @spec: a validated spec
 * @addr: (out) address with the child port
 * @addrlen: (out) its length
 *
 * ChildIP if given; else ParentIP when it is a loopback address
 * (rootlesskit PR #477: -p 127.0.0.2:8080:80 dials 127.0.0.2 inside);
 * else the loopback address of the ParentIP's family, or of the proto's
 * for a wildcard (127.0.0.1; ::1 for tcp6/udp6). A non-loopback host
 * address does not exist inside the namespace, so it is never dialled.
 */
void portspec_child_target (const PortSpec *spec, struct sockaddr_storage *addr,
                            socklen_t *addrlen);

#endif /* NPTE_PORTSPEC_H */
