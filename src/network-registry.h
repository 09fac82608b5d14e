/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETWORK_REGISTRY_H
#define NPTE_NETWORK_REGISTRY_H

#include <glib.h>

#include "netns-registry.h"

/*
 * The index of named networks (docs/networks.md): names, subnets, gateways
 * and member addresses, their validation and allocation, the JSON file and
 * the hosts files derived from it. Pure: no namespace or link is touched;
 * only net_index_load() and net_index_save() touch files.
 *
 * BASE/networks.json, next to the netns registry and under its lock:
 *
 *   {"networks":[{"name":"web","subnet":"10.44.0.0/24","gateway":"10.44.0.1",
 *                 "created_at":"2024-05-06T10:11:12Z","outbound":true,
 *                 "members":[{"workspace":"a","ip":"10.44.0.2"}]}]}
 *
 * "outbound" is optional when read (an index written before it existed has
 * none: FALSE) and always written. Addresses are kept in host byte order.
 */

/* The longest network name: a DNS label, [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?. */
#define NET_NAME_MAX 63

/* Smallest and largest prefix length of a subnet. */
#define NET_PREFIX_MIN 8
#define NET_PREFIX_MAX 30

/* Where "create" without --subnet takes the next free /24 from. */
#define NET_POOL_ADDR 0x0a2c0000u /* 10.44.0.0 */
#define NET_POOL_PREFIX 16
#define NET_POOL_SUBNET_PREFIX 24

/*
 * The slirp network of the infrastructure namespace while an --outbound
 * network exists (libslirp's default, as "npte attach --net=slirp" sets it
 * up): no network may overlap it then.
 */
#define NET_SLIRP_ADDR 0x0a000200u /* 10.0.2.0 */
#define NET_SLIRP_PREFIX 24

/*
 * Outbound plumbing (docs/networks.md): the policy routing table of the
 * infrastructure namespace that traffic from an --outbound bridge looks up
 * first (an unreachable route per network subnet), the priority of the
 * "iif BRIDGE lookup NET_OUTBOUND_TABLE" rules, and the metric of the default
 * route a member gets via the gateway of an --outbound network.
 */
#define NET_OUTBOUND_TABLE 4400
#define NET_OUTBOUND_RULE_PRIORITY 4400
#define NET_OUTBOUND_METRIC 100

/* The index file, under BASE. */
#define NET_INDEX_FILE "networks.json"

/* Largest index file read. */
#define NET_INDEX_MAX_BYTES ((gsize) 16 << 20)

/* The localhost lines every generated hosts file starts with. */
#define NET_PLAIN_HOSTS "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

/* Room for "255.255.255.255" and its NUL. */
#define NET_IP_STRLEN 16

/* Room for a link name (IFNAMSIZ). */
#define NET_IFNAME_LEN 16

/* One member: a managed namespace and its address. */
typedef struct {
  char *workspace;
  guint32 ip;
} NetMember;

/* One network. */
typedef struct {
  char *name;
  guint32 net;         /* network address */
  guint prefix;        /* NET_PREFIX_MIN..NET_PREFIX_MAX */
  guint32 gateway;
  char *created_at;    /* "YYYY-MM-DDTHH:MM:SSZ" */
  gboolean outbound;   /* members reach the outside through the infrastructure namespace */
  GPtrArray *members;  /* NetMember *, ascending by ip */
} Network;

/* The whole index. */
typedef struct {
  GPtrArray *networks; /* Network *, ascending by name */
} NetIndex;

NetIndex *net_index_new (void);
void net_index_free (NetIndex *idx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetIndex, net_index_free)

/**
 * net_name_valid() - check a network name: a DNS label
 * @name: the name (may be NULL)
 * @error: EINVAL saying what is wrong
 *
 * Lowercase letters, digits and '-', 1..63 characters, starting and ending
 * with a letter or digit.
 *
 * Return: TRUE if valid.
 */
gboolean net_name_valid (const char *name, GError **error);

/**
 * net_ip_parse() - a dotted-quad IPv4 address in canonical form ("10.0.0.1")
 * @text: the text
 * @ip: (out) the address
 * @error: EINVAL naming @text
 *
 * Return: TRUE on success.
 */
gboolean net_ip_parse (const char *text, guint32 *ip, GError **error);

/**
 * net_ip_str() - format @ip as a dotted quad
 * @ip: address
 * @buf: at least NET_IP_STRLEN bytes
 *
 * Return: @buf.
 */
const char *net_ip_str (guint32 ip, char *buf);

/**
 * net_cidr_parse() - "A.B.C.D/N": a network address with a prefix of 8..30
 * @text: the text
 * @net: (out) the network address
 * @prefix: (out) the prefix length
 * @error: EINVAL: bad syntax, host bits set, prefix out of range
 *
 * Return: TRUE on success.
 */
gboolean net_cidr_parse (const char *text, guint32 *net, guint *prefix, GError **error);

/* net_mask() - the netmask of @prefix (0..32). */
guint32 net_mask (guint prefix);

/* net_broadcast() - the last address of @net/@prefix. */
guint32 net_broadcast (guint32 net, guint prefix);

/* net_subnet_str() - (transfer full) "A.B.C.D/N" of @n. */
char *net_subnet_str (const Network *n);

/* net_overlap() - whether two subnets share an address. */
gboolean net_overlap (guint32 a, guint pa, guint32 b, guint pb);

/* net_index_find() - the network called @name, or NULL. */
Network *net_index_find (const NetIndex *idx, const char *name);

/* net_member_find() - the member @workspace of @n, or NULL. */
NetMember *net_member_find (const Network *n, const char *workspace);

/**
 * net_index_add() - validate and add a network
 * @idx: the index
 * @name: its name
 * @subnet: (nullable) CIDR; NULL for the next free /24 of 10.44.0.0/16
 * @gateway: (nullable) address inside the subnet; NULL for its first host
 * @outbound: members get outbound access through the infrastructure namespace
 * @created_at: the creation time, "YYYY-MM-DDTHH:MM:SSZ"
 * @error: EINVAL (bad name, subnet or gateway; @outbound with a subnet that
 *         overlaps slirp's 10.0.2.0/24), EEXIST (name taken), EADDRINUSE
 *         (overlaps another network; overlaps 10.0.2.0/24 while an outbound
 *         network exists; @outbound while a network overlaps 10.0.2.0/24),
 *         ENOSPC (no free /24 left)
 *
 * Return: (transfer none) the new network, or NULL.
 */
Network *net_index_add (NetIndex *idx, const char *name, const char *subnet, const char *gateway,
                        gboolean outbound, const char *created_at, GError **error);

/* net_index_has_outbound() - whether a network of @idx is --outbound. */
gboolean net_index_has_outbound (const NetIndex *idx);

/* net_index_remove() - drop the network @name. Return: whether it was there. */
gboolean net_index_remove (NetIndex *idx, const char *name);

/**
 * net_join() - make @workspace a member of @n and give it an address
 * @n: the network
 * @workspace: a valid namespace name
 * @want: (nullable) the address asked for with --ip
 * @ip: (out) the member's address
 * @error: EINVAL (@want outside the subnet, or its network, broadcast or
 *         gateway address), EADDRINUSE (@want taken by another member),
 *         EEXIST (already a member with another address), ENOSPC (full)
 *
 * A member joining again keeps its address. Otherwise the lowest free host
 * address is taken: never the network, gateway or broadcast address.
 *
 * Return: TRUE when @workspace is a member with address *@ip.
 */
gboolean net_join (Network *n, const char *workspace, const char *want, guint32 *ip,
                   GError **error);

/* net_leave() - drop the member @workspace from @n. Return: whether it was one. */
gboolean net_leave (Network *n, const char *workspace);

/* net_network_new() - (transfer full) an empty network, for parsers. */
Network *net_network_new (void);
void net_network_free (Network *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Network, net_network_free)

/* net_network_add_member() - append a member as is (parsers; net_network_check() judges it). */
void net_network_add_member (Network *n, const char *workspace, guint32 ip);

/**
 * net_network_check() - whether @n, not yet in @idx, may join it
 * @idx: the networks so far
 * @n: a network read from somewhere
 * @error: EINVAL naming the first problem: name, duplicate, subnet, overlap,
 *         an overlap with slirp's 10.0.2.0/24 next to an outbound network,
 *         gateway, created_at, a member's name or address, a duplicate member
 *
 * Return: TRUE if @n is consistent with itself and with @idx.
 */
gboolean net_network_check (const NetIndex *idx, const Network *n, GError **error);

/**
 * net_index_parse() - the index from its JSON text, checked completely
 * @json: text
 * @len: its length
 * @error: EINVAL naming the first problem: invalid or truncated JSON, a
 *         missing, unknown or mistyped field, an invalid name, subnet,
 *         gateway or address, a duplicate, an overlap
 *
 * Return: (transfer full) the index, or NULL.
 */
NetIndex *net_index_parse (const char *json, gsize len, GError **error);

/* net_index_to_json() - (transfer full) the index as JSON, indented, ending in "\n". */
char *net_index_to_json (const NetIndex *idx);

/* net_network_to_json() - (transfer full) one network as a JSON object, one line. */
char *net_network_to_json (const Network *n);

/* net_networks_to_json() - (transfer full) every network as a JSON array, one line. */
char *net_networks_to_json (const NetIndex *idx);

/* net_index_path() - (transfer full) BASE/networks.json. */
char *net_index_path (const NetnsPaths *p);

/**
 * net_index_load() - read the index; a missing file is an empty index
 * @path: the file
 * @error: a corrupt or truncated file says so, names the file and leaves it alone
 *
 * Return: (transfer full) the index, or NULL.
 */
NetIndex *net_index_load (const char *path, GError **error);

/**
 * net_index_save() - write the index atomically: temp file, fsync, rename, fsync of the dir
 * @path: the file
 * @idx: the index; an empty one removes the file
 * @error: error
 *
 * Return: TRUE on success.
 */
gboolean net_index_save (const char *path, const NetIndex *idx, GError **error);

/* The lines that open and close npte's block in a hosts file. */
#define NET_HOSTS_BEGIN "# npte network: the members of the networks of "
#define NET_HOSTS_END "# end of npte network\n"

/**
 * net_hosts_render() - npte's block of the hosts file of @workspace
 * @idx: the index
 * @workspace: a namespace name
 *
 * NET_HOSTS_BEGIN, then "IP\tMEMBER MEMBER.NETWORK" for every member of
 * every network @workspace belongs to, then NET_HOSTS_END.
 *
 * Return: (transfer full) the block, or NULL when @workspace is in no network.
 */
char *net_hosts_render (const NetIndex *idx, const char *workspace);

/**
 * net_hosts_merge() - a hosts file with npte's block replaced
 * @old: (nullable) the file as it is (NULL: there is none)
 * @block: (nullable) the new block, NULL for none
 *
 * What is outside npte's old block is kept; an empty file gets the
 * localhost lines (NET_PLAIN_HOSTS) first.
 *
 * Return: (transfer full) the new text, or NULL when the file should go:
 *         no block and nothing but the localhost lines npte put there.
 */
char *net_hosts_merge (const char *old, const char *block);

/* net_ifname_bridge() - the bridge of @n in the infrastructure namespace: "nb-%08x". */
void net_ifname_bridge (const Network *n, char *buf);

/* net_ifname_host() - the bridge port of member @ip: "nh-%08x". */
void net_ifname_host (guint32 ip, char *buf);

/**
 * net_bridge_mac() - the fixed MAC address of the bridge of @n: 02:6e and the gateway
 * @n: the network
 * @mac: (out) 6 bytes
 *
 * A bridge without an address of its own takes the lowest of its ports',
 * so a member leaving could change the gateway's MAC under the others'
 * neighbour caches; a fixed one never changes. Gateways are unique, so are
 * these (locally administered) addresses.
 */
void net_bridge_mac (const Network *n, guint8 *mac);

/* net_ifname_member() - the link of @n inside a member: "nw-%08x". */
void net_ifname_member (const Network *n, char *buf);

/**
 * net_infra_name() - the file name of the infrastructure namespace
 * @p: paths
 *
 * Never a valid namespace name (it has a '.'): "npte.networks" rootless
 * (in the keeper's tmpfs) and for root's /run/npte; with another BASE as
 * root "npte.networks-HASH", so registries do not share /run/netns entries.
 *
 * Return: (transfer full) the name.
 */
char *net_infra_name (const NetnsPaths *p);

/* net_now() - (transfer full) the current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
char *net_now (void);

#endif /* NPTE_NETWORK_REGISTRY_H */
