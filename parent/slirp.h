/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_SLIRP_H
#define NPTE_SLIRP_H

#include <ev.h>
#include <glib.h>

#include <libslirp.h>

#include "busypoll.h"
#include "netcfg.h"
#include "portmgr.h"

/*
 * libslirp driven from the parent's libev loop: TAP frames in, host sockets
 * out. Every libslirp call happens on the loop thread.
 */

typedef struct SlirpNet SlirpNet;

/**
 * slirpnet_new() - start libslirp on @tapfd
 * @loop: the parent's loop
 * @tapfd: the TAP device from the child (owned by the result)
 * @cfg: addressing and behaviour (copied)
 * @busy: told about latency- and throughput-bound work (borrowed, may be NULL)
 * @error: error when libslirp refuses the configuration
 *
 * Return: (transfer full) the network, or NULL.
 */
SlirpNet *slirpnet_new (struct ev_loop *loop, int tapfd, const NetCfg *cfg, BusyPoll *busy,
                        GError **error);
void slirpnet_free (SlirpNet *net);

/* slirpnet_slirp() - the libslirp instance (for the slirp port driver). */
Slirp *slirpnet_slirp (SlirpNet *net);
const NetCfg *slirpnet_config (const SlirpNet *net);

/* The slirp port driver: hostfwd through libslirp; its driver instance is a SlirpNet. */
extern const PortDriverOps slirp_port_ops;

#endif /* NPTE_SLIRP_H */
