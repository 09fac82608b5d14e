/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_INFO_H
#define NPTE_INFO_H

#include <glib.h>

/*
 * What GET /v1/info reports (rootlesskit's Info shape plus npte extras).
 * Strings are borrowed; NULL members are omitted from the JSON.
 */
typedef struct {
  const char *api_version;      /* "1.1.1" */
  const char *version;          /* npte version */
  const char *state_dir;
  int child_pid;
  /* networkDriver; omitted when net_driver is NULL */
  const char *net_driver;       /* "none", "slirp" */
  const char *const *net_dns;   /* NULL-terminated, may be NULL */
  const char *net_child_ip;     /* may be NULL */
  const char *net_gateway;      /* npte extra, may be NULL */
  int net_mtu;                  /* npte extra, 0 = omit */
  /* portDriver; omitted when port_driver is NULL */
  const char *port_driver;      /* "builtin" */
  const char *const *port_protos;
  gboolean disallow_loopback_child_ip;
} NpteInfo;

#endif /* NPTE_INFO_H */
