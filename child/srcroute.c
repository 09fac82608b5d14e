/* SPDX-License-Identifier: Apache-2.0 */
#include "srcroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "log.h"
#include "netlink.h"
#include "npte-error.h"

/**
 * add_rule() - "from SRC/LEN lookup SRCROUTE_TABLE"
 * @family: AF_INET or AF_INET6
 * @src: source prefix (in_addr / in6_addr)
 * @len: prefix length
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
add_rule (int family, const void *src, unsigned int len, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);

  nlh->nlmsg_type = RTM_NEWRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header (nlh, sizeof *frh);
  frh->family = (unsigned char) family;
  frh->src_len = (unsigned char) len;
  frh->table = SRCROUTE_TABLE;
  frh->action = FR_ACT_TO_TBL;
  mnl_attr_put (nlh, FRA_SRC, family == AF_INET6 ? 16 : 4, src);
  mnl_attr_put_u32 (nlh, FRA_TABLE, SRCROUTE_TABLE);
  mnl_attr_put_u32 (nlh, FRA_PRIORITY, 100);
  return netcfg_transact (nlh, "add source-address rule", error);
}

/**
 * add_local_default() - "local default dev lo table SRCROUTE_TABLE"
 * @family: AF_INET or AF_INET6
 * @error: error on failure
 *
 * Return: TRUE on success.
 */
static gboolean
add_local_default (int family, GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  unsigned int lo = if_nametoindex ("lo");

  if (lo == 0)
    return npte_set_errno (error, errno, "link lo");
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = (unsigned char) family;
  rtm->rtm_table = SRCROUTE_TABLE;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_HOST;
  rtm->rtm_type = RTN_LOCAL;
  mnl_attr_put_u32 (nlh, RTA_TABLE, SRCROUTE_TABLE);
  mnl_attr_put_u32 (nlh, RTA_OIF, lo);
  return netcfg_transact (nlh, "add local default route", error);
}

gboolean
srcroute_setup (GError **error)
{
  struct in_addr v4;
  g_autoptr (GError) v6_error = NULL;

  inet_pton (AF_INET, "127.0.0.0", &v4);
  if (!add_rule (AF_INET, &v4, 8, error) || !add_local_default (AF_INET, error))
    return FALSE;
  if (!add_rule (AF_INET6, &in6addr_loopback, 128, &v6_error)
      || !add_local_default (AF_INET6, &v6_error))
    npte_debug ("source addresses over IPv6 are not preserved: %s", v6_error->message);
  return TRUE;
}
