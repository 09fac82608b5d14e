/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Networks: names, subnets, allocation (pure)
 *
 * A network is a subnet A.B.C.D/N with 8 <= N <= 30 whose address has no
 * host bits set, and a gateway inside it that is neither its network nor
 * its broadcast address. No two networks share an address. Members are
 * managed namespaces; each gets one host address that is not the network,
 * the gateway or the broadcast address and is unique in the network:
 * the lowest free one unless one is asked for. The JSON side is in
 * network-index.c.
 */
#include "network-registry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "npte-error.h"

static void
member_free (gpointer data)
{
  NetMember *m = data;

  g_free (m->workspace);
  g_free (m);
}

static void
network_free (gpointer data)
{
  Network *n = data;

  g_free (n->name);
  g_free (n->created_at);
  g_ptr_array_unref (n->members);
  g_free (n);
}

NetIndex *
net_index_new (void)
{
  NetIndex *idx = g_new0 (NetIndex, 1);

  idx->networks = g_ptr_array_new_with_free_func (network_free);
  return idx;
}

void
net_index_free (NetIndex *idx)
{
  if (idx == NULL)
    return;
  g_ptr_array_unref (idx->networks);
  g_free (idx);
}

/* label_char() - whether @c may appear in a DNS label. */
static gboolean
label_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

gboolean
net_name_valid (const char *name, GError **error)
{
  if (name == NULL || name[0] == '\0')
    return npte_set_error (error, EINVAL, "empty network name");
  gsize len = strlen (name);
  g_autofree char *shown = g_strescape (name, NULL);
  if (len > NET_NAME_MAX)
    return npte_set_error (error, EINVAL,
                           "invalid network name \"%.20s...\": longer than %d characters",
                           shown, NET_NAME_MAX);
  for (gsize i = 0; i < len; i++)
    if (!label_char (name[i]) || ((i == 0 || i == len - 1) && name[i] == '-'))
      return npte_set_error (error, EINVAL,
                             "invalid network name \"%s\": use a-z, 0-9 and '-', starting and "
                             "ending with a letter or digit (at most %d characters)",
                             shown, NET_NAME_MAX);
  return TRUE;
}

const char *
net_ip_str (guint32 ip, char *buf)
{
  g_snprintf (buf, NET_IP_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
              ip & 0xff);
  return buf;
}

gboolean
net_ip_parse (const char *text, guint32 *ip, GError **error)
{
  struct in_addr a;
  char back[NET_IP_STRLEN];

  if (text == NULL || strlen (text) >= NET_IP_STRLEN || inet_pton (AF_INET, text, &a) != 1)
    {
      g_autofree char *shown = g_strescape (text != NULL ? text : "", NULL);
      return npte_set_error (error, EINVAL, "invalid IPv4 address \"%.40s\"", shown);
    }
  /* inet_pton() takes only dotted quads; this also refuses leading zeros. */
  if (strcmp (net_ip_str (ntohl (a.s_addr), back), text) != 0)
    return npte_set_error (error, EINVAL, "invalid IPv4 address \"%s\" (write it as %s)", text,
                           back);
  *ip = ntohl (a.s_addr);
  return TRUE;
}

guint32
net_mask (guint prefix)
{
  return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

guint32
net_broadcast (guint32 net, guint prefix)
{
  return net | ~net_mask (prefix);
}

/**
 * parse_prefix() - the decimal prefix length after the '/'
 * @text: the digits
 * @prefix: (out) the value
 *
 * Return: TRUE for 1 or 2 digits without a leading zero.
 */
static gboolean
parse_prefix (const char *text, guint *prefix)
{
  gsize n = strlen (text);

  if (n < 1 || n > 2 || !g_ascii_isdigit (text[0]) || (n == 2 && !g_ascii_isdigit (text[1]))
      || (n == 2 && text[0] == '0'))
    return FALSE;
  *prefix = (guint) g_ascii_strtoull (text, NULL, 10);
  return TRUE;
}

gboolean
net_cidr_parse (const char *text, guint32 *net, guint *prefix, GError **error)
{
  const char *slash = text != NULL ? strchr (text, '/') : NULL;
  g_autofree char *addr = NULL;
  g_autofree char *shown = g_strescape (text != NULL ? text : "", NULL);
  char buf[NET_IP_STRLEN];
  guint32 a;
  guint pfx;

  if (slash == NULL)
    return npte_set_error (error, EINVAL, "invalid subnet \"%.40s\": use A.B.C.D/N", shown);
  addr = g_strndup (text, (gsize) (slash - text));
  if (!net_ip_parse (addr, &a, NULL) || !parse_prefix (slash + 1, &pfx))
    return npte_set_error (error, EINVAL, "invalid subnet \"%.40s\": use A.B.C.D/N", shown);
  if (pfx < NET_PREFIX_MIN || pfx > NET_PREFIX_MAX)
    return npte_set_error (error, EINVAL, "invalid subnet %s: the prefix length must be %d to %d",
                           text, NET_PREFIX_MIN, NET_PREFIX_MAX);
  if ((a & ~net_mask (pfx)) != 0)
    return npte_set_error (error, EINVAL, "invalid subnet %s: not a network address (did you mean "
                           "%s/%u?)", text, net_ip_str (a & net_mask (pfx), buf), pfx);
  *net = a;
  *prefix = pfx;
  return TRUE;
}

char *
net_subnet_str (const Network *n)
{
  char buf[NET_IP_STRLEN];

  return g_strdup_printf ("%s/%u", net_ip_str (n->net, buf), n->prefix);
}

gboolean
net_overlap (guint32 a, guint pa, guint32 b, guint pb)
{
  guint32 m = net_mask (MIN (pa, pb));

  return (a & m) == (b & m);
}

Network *
net_index_find (const NetIndex *idx, const char *name)
{
  for (guint i = 0; i < idx->networks->len; i++)
    {
      Network *n = g_ptr_array_index (idx->networks, i);
      if (strcmp (n->name, name) == 0)
        return n;
    }
  return NULL;
}

NetMember *
net_member_find (const Network *n, const char *workspace)
{
  for (guint i = 0; i < n->members->len; i++)
    {
      NetMember *m = g_ptr_array_index (n->members, i);
      if (strcmp (m->workspace, workspace) == 0)
        return m;
    }
  return NULL;
}

/**
 * find_overlap() - a network of @idx sharing an address with @net/@prefix
 * @idx: index
 * @net: network address
 * @prefix: prefix length
 *
 * Return: (transfer none) the first one, or NULL.
 */
static const Network *
find_overlap (const NetIndex *idx, guint32 net, guint prefix)
{
  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      if (net_overlap (n->net, n->prefix, net, prefix))
        return n;
    }
  return NULL;
}

/**
 * next_free_subnet() - the lowest /24 of 10.44.0.0/16 that overlaps no network
 * @idx: index
 * @net: (out) its address
 * @error: ENOSPC when every one is taken
 *
 * Return: TRUE on success.
 */
static gboolean
next_free_subnet (const NetIndex *idx, guint32 *net, GError **error)
{
  const guint32 step = 1u << (32 - NET_POOL_SUBNET_PREFIX);
  const guint32 count = 1u << (NET_POOL_SUBNET_PREFIX - NET_POOL_PREFIX);

  for (guint32 i = 0; i < count; i++)
    {
      guint32 cand = NET_POOL_ADDR + i * step;
      if (find_overlap (idx, cand, NET_POOL_SUBNET_PREFIX) == NULL)
        {
          *net = cand;
          return TRUE;
        }
    }
  return npte_set_error (error, ENOSPC, "no free /%d is left in 10.44.0.0/%d; give --subnet",
                         NET_POOL_SUBNET_PREFIX, NET_POOL_PREFIX);
}

/**
 * check_host() - @ip is a host address of @net/@prefix
 * @net: network address
 * @prefix: prefix length
 * @ip: the address
 * @what: "gateway", "member address", for the message
 * @error: EINVAL when it is outside, or the network or broadcast address
 *
 * Return: TRUE if it is.
 */
static gboolean
check_host (guint32 net, guint prefix, guint32 ip, const char *what, GError **error)
{
  char a[NET_IP_STRLEN], b[NET_IP_STRLEN];

  if ((ip & net_mask (prefix)) != net)
    return npte_set_error (error, EINVAL, "%s %s is outside the subnet %s/%u", what,
                           net_ip_str (ip, a), net_ip_str (net, b), prefix);
  if (ip == net || ip == net_broadcast (net, prefix))
    return npte_set_error (error, EINVAL, "%s %s is the %s address of %s/%u", what,
                           net_ip_str (ip, a), ip == net ? "network" : "broadcast",
                           net_ip_str (net, b), prefix);
  return TRUE;
}

static gint
compare_networks (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(Network *const *) a)->name, (*(Network *const *) b)->name);
}

gboolean
net_index_has_outbound (const NetIndex *idx)
{
  for (guint i = 0; i < idx->networks->len; i++)
    if (((const Network *) g_ptr_array_index (idx->networks, i))->outbound)
      return TRUE;
  return FALSE;
}

/**
 * check_slirp_clash() - @n and the networks of @idx leave slirp's 10.0.2.0/24 alone
 * @idx: the other networks
 * @n: a network with its subnet and outbound flag set
 * @error: EINVAL when @n is outbound and overlaps 10.0.2.0/24; EADDRINUSE
 *         when it overlaps 10.0.2.0/24 while an outbound network exists, or
 *         is outbound while another network overlaps 10.0.2.0/24
 *
 * While an outbound network exists, the infrastructure namespace holds
 * slirp's network on its TAP device: a bridge on the same addresses would
 * take its routes.
 *
 * Return: TRUE when there is no clash.
 */
static gboolean
check_slirp_clash (const NetIndex *idx, const Network *n, GError **error)
{
  g_autofree char *mine = net_subnet_str (n);

  if (n->outbound && net_overlap (n->net, n->prefix, NET_SLIRP_ADDR, NET_SLIRP_PREFIX))
    return npte_set_error (error, EINVAL, "subnet %s of an --outbound network overlaps 10.0.2.0/24, "
                           "the slirp network that gives it outbound access; choose another "
                           "--subnet", mine);
  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *o = g_ptr_array_index (idx->networks, i);
      g_autofree char *theirs = net_subnet_str (o);
      if (o->outbound && net_overlap (n->net, n->prefix, NET_SLIRP_ADDR, NET_SLIRP_PREFIX))
        return npte_set_error (error, EADDRINUSE, "subnet %s overlaps 10.0.2.0/24, which the "
                               "--outbound network %s uses for its slirp; choose another "
                               "--subnet", mine, o->name);
      if (n->outbound && net_overlap (o->net, o->prefix, NET_SLIRP_ADDR, NET_SLIRP_PREFIX))
        return npte_set_error (error, EADDRINUSE, "network %s (%s) overlaps 10.0.2.0/24, which "
                               "an --outbound network uses for its slirp; remove it or create "
                               "this one without --outbound", o->name, theirs);
    }
  return TRUE;
}

/**
 * resolve_subnet() - the subnet and gateway a new network gets
 * @idx: index
 * @subnet: (nullable) asked for
 * @gateway: (nullable) asked for
 * @n: (inout) its outbound flag is set; gets net, prefix and gateway
 * @error: error
 *
 * Return: TRUE on success.
 */
static gboolean
resolve_subnet (const NetIndex *idx, const char *subnet, const char *gateway, Network *n,
                GError **error)
{
  const Network *other;

  if (subnet != NULL && !net_cidr_parse (subnet, &n->net, &n->prefix, error))
    return FALSE;
  if (subnet == NULL)
    {
      n->prefix = NET_POOL_SUBNET_PREFIX;
      if (!next_free_subnet (idx, &n->net, error))
        return FALSE;
    }
  if ((other = find_overlap (idx, n->net, n->prefix)) != NULL)
    {
      g_autofree char *mine = net_subnet_str (n);
      g_autofree char *theirs = net_subnet_str (other);
      return npte_set_error (error, EADDRINUSE, "subnet %s overlaps %s of network %s", mine,
                             theirs, other->name);
    }
  if (!check_slirp_clash (idx, n, error))
    return FALSE;
  n->gateway = n->net + 1;
  if (gateway != NULL && !net_ip_parse (gateway, &n->gateway, error))
    return FALSE;
  return check_host (n->net, n->prefix, n->gateway, "gateway", error);
}

Network *
net_index_add (NetIndex *idx, const char *name, const char *subnet, const char *gateway,
               gboolean outbound, const char *created_at, GError **error)
{
  Network *n;

  if (!net_name_valid (name, error))
    return NULL;
  if (net_index_find (idx, name) != NULL)
    {
      npte_set_error (error, EEXIST, "network %s exists already", name);
      return NULL;
    }
  n = g_new0 (Network, 1);
  n->members = g_ptr_array_new_with_free_func (member_free);
  n->outbound = outbound;
  if (!resolve_subnet (idx, subnet, gateway, n, error))
    {
      network_free (n);
      return NULL;
    }
  n->name = g_strdup (name);
  n->created_at = g_strdup (created_at);
  g_ptr_array_add (idx->networks, n);
  g_ptr_array_sort (idx->networks, compare_networks);
  return n;
}

gboolean
net_index_remove (NetIndex *idx, const char *name)
{
  Network *n = net_index_find (idx, name);

  return n != NULL && g_ptr_array_remove (idx->networks, n);
}

static gint
compare_members (gconstpointer a, gconstpointer b)
{
  guint32 x = (*(NetMember *const *) a)->ip;
  guint32 y = (*(NetMember *const *) b)->ip;

  return x < y ? -1 : x > y;
}

static gint
compare_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/**
 * lowest_free() - the lowest host address of @n that nobody has
 * @n: network
 * @ip: (out) the address
 * @error: ENOSPC when the subnet is full
 *
 * Return: TRUE on success.
 */
static gboolean
lowest_free (const Network *n, guint32 *ip, GError **error)
{
  g_autoptr (GArray) used = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 cand = n->net + 1;
  const guint32 bcast = net_broadcast (n->net, n->prefix);

  g_array_append_val (used, n->gateway);
  for (guint i = 0; i < n->members->len; i++)
    g_array_append_val (used, ((NetMember *) g_ptr_array_index (n->members, i))->ip);
  g_array_sort (used, compare_u32);
  /* Every used address lies in (net, bcast): walk past the ones at the candidate. */
  for (guint i = 0; i < used->len && g_array_index (used, guint32, i) <= cand; i++)
    if (g_array_index (used, guint32, i) == cand)
      cand++;
  if (cand >= bcast)
    {
      g_autofree char *subnet = net_subnet_str (n);
      return npte_set_error (error, ENOSPC, "network %s (%s) is full: all %u host addresses "
                             "are taken", n->name, subnet, bcast - n->net - 1);
    }
  *ip = cand;
  return TRUE;
}

/**
 * check_wanted() - the address asked for with --ip is a free host address of @n
 * @n: network
 * @want: the text
 * @ip: (out) the address
 * @error: EINVAL, or EADDRINUSE naming the member that has it
 *
 * Return: TRUE on success.
 */
static gboolean
check_wanted (const Network *n, const char *want, guint32 *ip, GError **error)
{
  char buf[NET_IP_STRLEN];

  if (!net_ip_parse (want, ip, error) || !check_host (n->net, n->prefix, *ip, "address", error))
    return FALSE;
  if (*ip == n->gateway)
    return npte_set_error (error, EINVAL, "address %s is the gateway of network %s", want,
                           n->name);
  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      if (m->ip == *ip)
        return npte_set_error (error, EADDRINUSE, "address %s of network %s is taken by %s",
                               net_ip_str (*ip, buf), n->name, m->workspace);
    }
  return TRUE;
}

gboolean
net_join (Network *n, const char *workspace, const char *want, guint32 *ip, GError **error)
{
  const NetMember *old = net_member_find (n, workspace);
  char buf[NET_IP_STRLEN];
  guint32 addr;

  if (!netns_name_valid (workspace, error))
    return FALSE;
  if (old != NULL)
    {
      if (want != NULL && !net_ip_parse (want, &addr, error))
        return FALSE;
      if (want != NULL && addr != old->ip)
        return npte_set_error (error, EEXIST, "%s is a member of network %s already, with "
                               "address %s", workspace, n->name, net_ip_str (old->ip, buf));
      *ip = old->ip;
      return TRUE;
    }
  if (want != NULL ? !check_wanted (n, want, &addr, error) : !lowest_free (n, &addr, error))
    return FALSE;
  NetMember *m = g_new0 (NetMember, 1);
  m->workspace = g_strdup (workspace);
  m->ip = addr;
  g_ptr_array_add (n->members, m);
  g_ptr_array_sort (n->members, compare_members);
  *ip = addr;
  return TRUE;
}

gboolean
net_leave (Network *n, const char *workspace)
{
  NetMember *m = net_member_find (n, workspace);

  return m != NULL && g_ptr_array_remove (n->members, m);
}

/**
 * created_at_valid() - "YYYY-MM-DDTHH:MM:SSZ", a real UTC time
 * @s: the text
 *
 * Return: TRUE if valid.
 */
static gboolean
created_at_valid (const char *s)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  int y, mo, d, h, mi, sec;

  if (strlen (s) != strlen (shape))
    return FALSE;
  for (gsize i = 0; shape[i] != '\0'; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit (s[i]) : s[i] != shape[i])
      return FALSE;
  if (sscanf (s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
    return FALSE;
  g_autoptr (GDateTime) t = g_date_time_new_utc (y, mo, d, h, mi, sec);
  return t != NULL && y >= 1970 && sec < 60;
}

/**
 * check_members() - every member of @n has a valid name and a free host address
 * @n: network
 * @error: EINVAL naming the first bad member
 *
 * Return: TRUE if they all do.
 */
static gboolean
check_members (const Network *n, GError **error)
{
  char buf[NET_IP_STRLEN];

  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      g_autofree char *what = g_strdup_printf ("address of member %u", i);
      if (!netns_name_valid (m->workspace, error)
          || !check_host (n->net, n->prefix, m->ip, what, error))
        return FALSE;
      if (m->ip == n->gateway)
        return npte_set_error (error, EINVAL, "member %s has the gateway address %s",
                               m->workspace, net_ip_str (m->ip, buf));
      for (guint j = 0; j < i; j++)
        {
          const NetMember *o = g_ptr_array_index (n->members, j);
          if (strcmp (o->workspace, m->workspace) == 0)
            return npte_set_error (error, EINVAL, "member %s is listed twice", m->workspace);
          if (o->ip == m->ip)
            return npte_set_error (error, EINVAL, "members %s and %s have the same address %s",
                                   o->workspace, m->workspace, net_ip_str (m->ip, buf));
        }
    }
  return TRUE;
}

gboolean
net_network_check (const NetIndex *idx, const Network *n, GError **error)
{
  const Network *other;
  g_autoptr (GError) clash = NULL;
  char buf[NET_IP_STRLEN];

  if (!net_name_valid (n->name, error))
    return FALSE;
  if (net_index_find (idx, n->name) != NULL)
    return npte_set_error (error, EINVAL, "network %s is listed twice", n->name);
  if (n->prefix < NET_PREFIX_MIN || n->prefix > NET_PREFIX_MAX
      || (n->net & ~net_mask (n->prefix)) != 0)
    return npte_set_error (error, EINVAL, "network %s: invalid subnet %s/%u", n->name,
                           net_ip_str (n->net, buf), n->prefix);
  if ((other = find_overlap (idx, n->net, n->prefix)) != NULL)
    return npte_set_error (error, EINVAL, "networks %s and %s overlap", other->name, n->name);
  if (!check_slirp_clash (idx, n, &clash))
    return npte_set_error (error, EINVAL, "network %s: %s", n->name, clash->message);
  if (!check_host (n->net, n->prefix, n->gateway, "gateway", error))
    return FALSE;
  if (n->created_at == NULL || !created_at_valid (n->created_at))
    return npte_set_error (error, EINVAL, "network %s: created_at is not a UTC time "
                           "YYYY-MM-DDTHH:MM:SSZ", n->name);
  return check_members (n, error);
}

Network *
net_network_new (void)
{
  Network *n = g_new0 (Network, 1);

  n->members = g_ptr_array_new_with_free_func (member_free);
  return n;
}

void
net_network_free (Network *n)
{
  if (n != NULL)
    network_free (n);
}

void
net_network_add_member (Network *n, const char *workspace, guint32 ip)
{
  NetMember *m = g_new0 (NetMember, 1);

  m->workspace = g_strdup (workspace);
  m->ip = ip;
  g_ptr_array_add (n->members, m);
}

char *
net_index_path (const NetnsPaths *p)
{
  return g_build_filename (p->base, NET_INDEX_FILE, NULL);
}

/**
 * add_hosts_lines() - "IP\tMEMBER MEMBER.NETWORK" for every member of @n
 * @out: the text
 * @n: network
 */
static void
add_hosts_lines (GString *out, const Network *n)
{
  g_autofree char *subnet = net_subnet_str (n);
  char buf[NET_IP_STRLEN];

  g_string_append_printf (out, "# network %s %s\n", n->name, subnet);
  for (guint i = 0; i < n->members->len; i++)
    {
      const NetMember *m = g_ptr_array_index (n->members, i);
      g_string_append_printf (out, "%s\t%s %s.%s\n", net_ip_str (m->ip, buf), m->workspace,
                              m->workspace, n->name);
    }
}

char *
net_hosts_render (const NetIndex *idx, const char *workspace)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean member = FALSE;

  g_string_append_printf (out, NET_HOSTS_BEGIN "%s (written by npte; edits here are replaced)\n",
                          workspace);
  for (guint i = 0; i < idx->networks->len; i++)
    {
      const Network *n = g_ptr_array_index (idx->networks, i);
      if (net_member_find (n, workspace) == NULL)
        continue;
      member = TRUE;
      add_hosts_lines (out, n);
    }
  g_string_append (out, NET_HOSTS_END);
  return member ? g_strdup (out->str) : NULL;
}

/**
 * line_start() - the first line of @text that starts with @prefix
 * @text: text
 * @prefix: the start of the line
 *
 * Return: (transfer none) the line, or NULL.
 */
static const char *
line_start (const char *text, const char *prefix)
{
  for (const char *l = text; l != NULL && *l != '\0'; l = strchr (l, '\n'), l = l ? l + 1 : NULL)
    if (g_str_has_prefix (l, prefix))
      return l;
  return NULL;
}

char *
net_hosts_merge (const char *old, const char *block)
{
  g_autoptr (GString) base = g_string_new (old != NULL ? old : "");
  const char *begin = line_start (base->str, NET_HOSTS_BEGIN);

  if (begin != NULL)
    {
      const char *end = line_start (begin, NET_HOSTS_END);
      gsize from = (gsize) (begin - base->str);
      gsize to = end != NULL ? (gsize) (end - base->str) + strlen (NET_HOSTS_END) : base->len;
      g_string_erase (base, (gssize) from, (gssize) (to - from));
    }
  if (block == NULL)
    return base->len == 0 || strcmp (base->str, NET_PLAIN_HOSTS) == 0
               ? NULL : g_strdup (base->str);
  if (base->len == 0)
    g_string_assign (base, NET_PLAIN_HOSTS);
  else if (base->str[base->len - 1] != '\n')
    g_string_append_c (base, '\n');
  g_string_append (base, block);
  return g_strdup (base->str);
}

void
net_ifname_bridge (const Network *n, char *buf)
{
  g_snprintf (buf, NET_IFNAME_LEN, "nb-%08x", n->net);
}

void
net_ifname_host (guint32 ip, char *buf)
{
  g_snprintf (buf, NET_IFNAME_LEN, "nh-%08x", ip);
}

void
net_bridge_mac (const Network *n, guint8 *mac)
{
  mac[0] = 0x02;
  mac[1] = 0x6e;
  mac[2] = (guint8) (n->gateway >> 24);
  mac[3] = (guint8) (n->gateway >> 16);
  mac[4] = (guint8) (n->gateway >> 8);
  mac[5] = (guint8) n->gateway;
}

void
net_ifname_member (const Network *n, char *buf)
{
  g_snprintf (buf, NET_IFNAME_LEN, "nw-%08x", n->net);
}

char *
net_infra_name (const NetnsPaths *p)
{
  if (p->rootless || strcmp (p->base, "/run/npte") == 0)
    return g_strdup ("npte.networks");
  return g_strdup_printf ("npte.networks-%08x", g_str_hash (p->base));
}

char *
net_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}
