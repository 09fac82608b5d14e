/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_PORTSPEC_INTERNAL_H
#define NPTE_PORTSPEC_INTERNAL_H

/*
 * Shared between the files of the port spec module (portspec.c: protos,
 * IPs, validation, format; portspec-parse.c: the text syntaxes;
 * portspec-plan.c: conflicts, listen plans, targets). Not for other users:
 * portspec.h is the contract.
 */
#include "portspec.h"

/* Longest piece of user text quoted in an error message. */
#define PORTSPEC_QUOTE_MAX 64

/* The transport a proto binds; listeners of different transports never clash. */
typedef enum {
  PORT_TRANSPORT_NONE = 0,
  PORT_TRANSPORT_TCP,
  PORT_TRANSPORT_UDP,
  PORT_TRANSPORT_SCTP,
} PortTransport;

/* A parsed IP; family 0 means "none given" (""). */
typedef struct {
  int family;
  union {
    struct in_addr v4;
    struct in6_addr v6;
  } u;
} PortIp;

/* portspec_proto_transport() - the transport of @p; PORT_TRANSPORT_NONE if invalid. */
PortTransport portspec_proto_transport (PortProto p);

/* portspec_proto_family() - AF_INET for the *4 protos, AF_INET6 for *6, else 0. */
int portspec_proto_family (PortProto p);

/**
 * portspec_quote() - @s as a quoted, escaped and bounded string for a message
 * @s: text, not necessarily NUL-terminated
 * @len: its length
 *
 * Return: (transfer full) "\"text\"", with "..." inside the quotes if cut.
 */
char *portspec_quote (const char *s, gsize len);

/**
 * portspec_ip_parse() - parse an IP field of a spec
 * @buf: the field, NUL-terminated within PORTSPEC_IP_MAX bytes; "[...]" is
 *       accepted around the address
 * @out: (out) the address; family 0 for ""
 *
 * An IPv4-mapped IPv6 address is returned as the IPv4 address.
 *
 * Return: TRUE if @buf is empty or a valid address.
 */
gboolean portspec_ip_parse (const char *buf, PortIp *out);

/**
 * portspec_ip_format() - canonical text of @ip
 * @ip: address; family 0 gives ""
 * @buf: (out) PORTSPEC_IP_MAX bytes
 */
void portspec_ip_format (const PortIp *ip, char buf[PORTSPEC_IP_MAX]);

/* portspec_ip_is_loopback() - TRUE for 127.0.0.0/8 and ::1. */
gboolean portspec_ip_is_loopback (const PortIp *ip);

/* portspec_ip_is_wildcard() - TRUE for "", 0.0.0.0 and ::. */
gboolean portspec_ip_is_wildcard (const PortIp *ip);

/* portspec_ip_equal() - TRUE if @a and @b are the same (non-empty) address. */
gboolean portspec_ip_equal (const PortIp *a, const PortIp *b);

/* portspec_ip_loopback() - 127.0.0.1, or ::1 when @family is AF_INET6. */
void portspec_ip_loopback (int family, PortIp *out);

/**
 * portspec_ip_or_empty() - parse @buf, giving "" (family 0) when it does not parse
 * @buf: an IP field of a spec
 * @out: (out) the address
 *
 * Only unvalidated specs have a bad IP; treating it as "" keeps the plan
 * functions total.
 */
void portspec_ip_or_empty (const char *buf, PortIp *out);

/**
 * portspec_append_ports() - "A" or "A-B" for @count ports from @port
 * @s: where to append
 * @port: first port
 * @count: number of ports (below 2: one port)
 */
void portspec_append_ports (GString *s, int port, int count);

#endif /* NPTE_PORTSPEC_INTERNAL_H */
