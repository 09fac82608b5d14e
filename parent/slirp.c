/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: libslirp on libev
 *
 * libslirp wants, around every wait: slirp_pollfds_fill() (which sockets,
 * which events, and how long at most), then slirp_pollfds_poll() with what
 * happened. Here:
 *  - an ev_prepare watcher calls fill; each add_poll() finds the slot of
 *    its fd (an ev_io watcher, re-armed only when the events changed; slots
 *    libslirp stopped asking for are dropped); the timeout arms an ev_timer;
 *  - the slot watchers only record their revents;
 *  - an ev_check watcher at the lowest priority (so it runs after every io
 *    callback of the iteration) calls poll with the recorded revents.
 * TAP frames are read many per wake-up and fed to slirp_input(). libslirp's
 * own timers map to ev_timer watchers.
 */
#include "slirp.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "npte-error.h"
#include "util.h"

/* Frames read from the TAP per wake-up. */
#define SLIRP_TAP_BATCH 64
/*
 * Bytes of frames, read from or written to the TAP in one wake-up, from which the work is a
 * bulk transfer (busypoll.h): spinning during an upload from the namespace took CPU from both
 * ends and cut it from 3.7 to 1.0 Gbit/s.
 */
#define SLIRP_BULK_BYTES 16384

/* One watched socket; kept across iterations while libslirp keeps asking for it. */
typedef struct {
  ev_io io;
  SlirpNet *net;
  int requested;   /* SLIRP_POLL_* asked for in this iteration */
  int revents;
  guint seen;      /* generation of the last fill that asked for it */
} PollSlot;

typedef struct {
  ev_timer w;
  SlirpNet *net;
  SlirpTimerCb cb;
  void *cb_opaque;
} SlirpNetTimer;

struct SlirpNet {
  struct ev_loop *loop;
  Slirp *slirp;
  int tapfd;
  NetCfg cfg;
  ev_io tap_w;
  ev_prepare prepare_w;
  ev_check check_w;
  ev_timer timeout_w;
  GHashTable *slots;  /* fd -> PollSlot*, stable addresses */
  GPtrArray *order;   /* this iteration's slots, by the index add_poll() returned */
  GPtrArray *retired; /* slots of closed fds, freed at the next fill */
  guint generation;
  guint8 *frame;
  gsize frame_size;
  gboolean drop_logged;
  BusyPoll *busy;
  gsize sent;         /* bytes of frames written to the TAP in this loop iteration */
};

static int64_t
cb_clock_get_ns (void *opaque)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t
cb_send_packet (const void *buf, size_t len, void *opaque)
{
  SlirpNet *net = opaque;
  ssize_t n;

  net->sent += len;
  do
    n = write (net->tapfd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    {
      /* The namespace is not reading fast enough; TCP will retransmit. */
      if (!net->drop_logged)
        npte_debug ("slirp: TAP queue full, dropping frames");
      net->drop_logged = TRUE;
      return (ssize_t) len;
    }
  return n;
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  npte_warn ("slirp: %s", msg);
}

static void
timer_fire (struct ev_loop *loop, ev_timer *w, int revents)
{
  SlirpNetTimer *t = w->data;

  t->cb (t->cb_opaque);
}

static void *
cb_timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  SlirpNetTimer *t = g_new0 (SlirpNetTimer, 1);

  t->net = opaque;
  t->cb = cb;
  t->cb_opaque = cb_opaque;
  ev_init (&t->w, timer_fire);
  t->w.data = t;
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  SlirpNetTimer *t = timer;

  ev_timer_stop (t->net->loop, &t->w);
  g_free (t);
}

static void
cb_timer_mod (void *timer, int64_t expire_time_ms, void *opaque)
{
  SlirpNetTimer *t = timer;
  double delay = (double) expire_time_ms / 1e3 - (double) cb_clock_get_ns (NULL) / 1e9;

  ev_timer_stop (t->net->loop, &t->w);
  ev_timer_set (&t->w, delay > 0 ? delay : 0., 0.);
  ev_timer_start (t->net->loop, &t->w);
}

/**
 * forget_fd() - drop the slot of @fd: it is being closed or was just opened
 * @net: the network
 * @fd: the fd
 *
 * libslirp calls unregister_poll_fd() before it closes a socket. A slot
 * must not outlive its socket: a new socket reusing the number would look
 * already watched while epoll has forgotten the old one.
 */
static void
forget_fd (SlirpNet *net, int fd)
{
  PollSlot *slot = g_hash_table_lookup (net->slots, GINT_TO_POINTER (fd));

  if (slot == NULL)
    return;
  ev_io_stop (net->loop, &slot->io);
  slot->io.fd = -1;
  slot->requested = 0;
  /* It may sit in this iteration's order array: freed at the next fill. */
  g_hash_table_steal (net->slots, GINT_TO_POINTER (fd));
  g_ptr_array_add (net->retired, slot);
}

static void
cb_register_poll_fd (int fd, void *opaque)
{
  forget_fd (opaque, fd);
}

static void
cb_unregister_poll_fd (int fd, void *opaque)
{
  forget_fd (opaque, fd);
}

static void
cb_notify (void *opaque)
{
}

static const SlirpCb slirpnet_callbacks = {
  .send_packet = cb_send_packet,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock_get_ns,
  .timer_new = cb_timer_new,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_register_poll_fd,
  .unregister_poll_fd = cb_unregister_poll_fd,
  .notify = cb_notify,
};

static void
slot_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  PollSlot *slot = (PollSlot *) w;

  slot->revents |= revents;
}

/**
 * add_poll() - libslirp's SlirpAddPollCb: watch @fd for @events until the next fill
 * @fd: socket
 * @events: SLIRP_POLL_* bits
 * @opaque: the SlirpNet
 *
 * Slots are keyed by fd and kept across iterations, so a socket whose
 * events do not change costs no epoll_ctl() at all.
 *
 * Return: the index libslirp hands back to get_revents().
 */
static int
add_poll (int fd, int events, void *opaque)
{
  SlirpNet *net = opaque;
  /*
   * Only what libslirp asked for: it asks for IN only while its socket
   * buffer has room, and reading with a full buffer trips an assertion in
   * soread(). ERR/HUP alone are not watched; epoll reports them with the
   * next IN or OUT anyway.
   */
  int ev = ((events & (SLIRP_POLL_IN | SLIRP_POLL_PRI)) ? EV_READ : 0)
           | ((events & SLIRP_POLL_OUT) ? EV_WRITE : 0);
  PollSlot *slot = g_hash_table_lookup (net->slots, GINT_TO_POINTER (fd));

  if (slot == NULL)
    {
      slot = g_new0 (PollSlot, 1);
      slot->net = net;
      ev_io_init (&slot->io, slot_cb, fd, 0);
      g_hash_table_insert (net->slots, GINT_TO_POINTER (fd), slot);
    }
  if ((slot->io.events & (EV_READ | EV_WRITE)) != ev || ev_is_active (&slot->io) != (ev != 0))
    {
      ev_io_stop (net->loop, &slot->io);
      ev_io_set (&slot->io, fd, ev);
      if (ev != 0)
        ev_io_start (net->loop, &slot->io);
    }
  slot->requested = events;
  slot->seen = net->generation;
  g_ptr_array_add (net->order, slot);
  return (int) net->order->len - 1;
}

static int
get_revents (int idx, void *opaque)
{
  SlirpNet *net = opaque;
  const PollSlot *slot;
  int r = 0;

  if (idx < 0 || (guint) idx >= net->order->len)
    return 0;
  slot = g_ptr_array_index (net->order, idx);
  if ((slot->revents & EV_READ) && (slot->requested & SLIRP_POLL_IN))
    r |= SLIRP_POLL_IN;
  if ((slot->revents & EV_WRITE) && (slot->requested & SLIRP_POLL_OUT))
    r |= SLIRP_POLL_OUT;
  return r;
}

/**
 * drop_stale() - forget sockets libslirp no longer asked for (closed, or idle)
 * @key: fd
 * @value: its PollSlot
 * @user_data: the SlirpNet
 *
 * A socket libslirp skipped this time may still be open (it may ask again
 * next time): its watcher is stopped now, and re-armed by add_poll().
 * Slots unused for long are freed, since the fd number may be reused.
 *
 * Return: TRUE to remove the slot.
 */
static gboolean
drop_stale (gpointer key, gpointer value, gpointer user_data)
{
  SlirpNet *net = user_data;
  PollSlot *slot = value;

  if (slot->seen == net->generation)
    return FALSE;
  ev_io_stop (net->loop, &slot->io);
  return TRUE;
}

static void
prepare_cb (struct ev_loop *loop, ev_prepare *w, int revents)
{
  SlirpNet *net = w->data;
  uint32_t timeout = UINT32_MAX;

  net->generation++;
  g_ptr_array_set_size (net->order, 0);
  g_ptr_array_set_size (net->retired, 0);
  slirp_pollfds_fill (net->slirp, &timeout, add_poll, net);
  g_hash_table_foreach_remove (net->slots, drop_stale, net);
  ev_timer_stop (loop, &net->timeout_w);
  if (timeout != UINT32_MAX)
    {
      ev_timer_set (&net->timeout_w, timeout / 1000., 0.);
      ev_timer_start (loop, &net->timeout_w);
    }
}

static void
check_cb (struct ev_loop *loop, ev_check *w, int revents)
{
  SlirpNet *net = w->data;

  gboolean active = net->sent > 0;

  slirp_pollfds_poll (net->slirp, 0, get_revents, net);
  for (guint i = 0; i < net->order->len; i++)
    {
      PollSlot *slot = g_ptr_array_index (net->order, i);
      active = active || slot->revents != 0;
      slot->revents = 0;
    }
  /* Many frames out in one iteration are a bulk download. */
  if (net->sent >= SLIRP_BULK_BYTES)
    busypoll_bulk (net->busy);
  else if (active)
    busypoll_kick (net->busy);
  net->sent = 0;
}

static void
timeout_cb (struct ev_loop *loop, ev_timer *w, int revents)
{
  /* Only wakes the loop: check_cb runs libslirp's TCP timers. */
}

static void
tap_cb (struct ev_loop *loop, ev_io *w, int revents)
{
  SlirpNet *net = w->data;
  gsize bytes = 0;

  for (int i = 0; i < SLIRP_TAP_BATCH; i++)
    {
      ssize_t n = read (net->tapfd, net->frame, net->frame_size);
      if (n <= 0)
        {
          if (n < 0 && errno != EAGAIN && errno != EINTR)
            npte_warn ("slirp: read from the TAP device: %s", g_strerror (errno));
          break;
        }
      slirp_input (net->slirp, net->frame, (int) n);
      bytes += (gsize) n;
    }
  /* Many frames in are a bulk upload; a few small ones are requests, answers and ACKs. */
  if (bytes >= SLIRP_BULK_BYTES)
    busypoll_bulk (net->busy);
  else
    busypoll_kick (net->busy);
}

/**
 * make_config() - the SlirpConfig for @net->cfg
 * @net: the network (outbound addresses must live as long as libslirp)
 * @sc: (out) the config
 */
static void
make_config (SlirpNet *net, SlirpConfig *sc)
{
  const NetCfg *c = &net->cfg;

  memset (sc, 0, sizeof *sc);
  sc->version = 3;
  sc->in_enabled = true;
  sc->vnetwork = c->network;
  sc->vnetmask.s_addr = htonl (~0u << (32 - c->prefix));
  sc->vhost = c->gateway;
  sc->vdhcp_start = c->dhcp_start;
  sc->vnameserver = c->dns;
  sc->in6_enabled = c->ipv6;
  sc->vprefix_addr6 = c->network6;
  sc->vprefix_len = (uint8_t) c->prefix6;
  sc->vhost6 = c->gateway6;
  sc->vnameserver6 = c->dns6;
  sc->if_mtu = c->mtu;
  sc->if_mru = c->mtu;
  sc->disable_host_loopback = c->disable_host_loopback;
  sc->outbound_addr = c->has_outbound ? &net->cfg.outbound : NULL;
  sc->outbound_addr6 = c->has_outbound6 ? &net->cfg.outbound6 : NULL;
  sc->disable_dns = c->disable_dns;
}

SlirpNet *
slirpnet_new (struct ev_loop *loop, int tapfd, const NetCfg *cfg, BusyPoll *busy,
              GError **error)
{
  SlirpNet *net = g_new0 (SlirpNet, 1);
  SlirpConfig sc;

  net->loop = loop;
  net->busy = busy;
  net->tapfd = tapfd;
  net->cfg = *cfg;
  net->slots = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  net->order = g_ptr_array_new ();
  net->retired = g_ptr_array_new_with_free_func (g_free);
  net->frame_size = cfg->mtu + 14 + 4;
  net->frame = g_malloc (net->frame_size);
  make_config (net, &sc);
  net->slirp = slirp_new (&sc, &slirpnet_callbacks, net);
  if (net->slirp == NULL)
    {
      npte_set_error (error, EINVAL, "libslirp rejected the network configuration");
      slirpnet_free (net);
      return NULL;
    }
  npte_set_nonblock (tapfd, NULL);
  ev_io_init (&net->tap_w, tap_cb, tapfd, EV_READ);
  net->tap_w.data = net;
  ev_io_start (loop, &net->tap_w);
  ev_prepare_init (&net->prepare_w, prepare_cb);
  net->prepare_w.data = net;
  ev_prepare_start (loop, &net->prepare_w);
  ev_check_init (&net->check_w, check_cb);
  ev_set_priority (&net->check_w, EV_MINPRI);
  net->check_w.data = net;
  ev_check_start (loop, &net->check_w);
  ev_init (&net->timeout_w, timeout_cb);
  return net;
}

void
slirpnet_free (SlirpNet *net)
{
  if (net == NULL)
    return;
  ev_io_stop (net->loop, &net->tap_w);
  ev_prepare_stop (net->loop, &net->prepare_w);
  ev_check_stop (net->loop, &net->check_w);
  ev_timer_stop (net->loop, &net->timeout_w);
  net->generation++;
  g_hash_table_foreach_remove (net->slots, drop_stale, net);
  if (net->slirp != NULL)
    slirp_cleanup (net->slirp);
  g_hash_table_unref (net->slots);
  g_ptr_array_unref (net->order);
  g_ptr_array_unref (net->retired);
  npte_close_fdp (&net->tapfd);
  g_free (net->frame);
  g_free (net);
}

Slirp *
slirpnet_slirp (SlirpNet *net)
{
  return net->slirp;
}

const NetCfg *
slirpnet_config (const SlirpNet *net)
{
  return &net->cfg;
}
