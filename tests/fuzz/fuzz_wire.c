/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for proto_decode().
 *
 * Input: one selector byte, then the frame. The selector picks the number of
 * fds the frame claims to have arrived with: data[0] % 3 == 0 -> none,
 * 1 -> one (what a valid TAP frame carries), 2 -> the count field of a
 * SOCKETS payload (bytes 8..11 of the payload), so valid SOCKETS frames are
 * reached, or two if the frame is too short to have one, so TAP and the
 * fd-less types also see more than one fd.
 *
 * Whenever a frame decodes, it is encoded again; the encoding must succeed,
 * be byte-identical to the input (the format is canonical) and decode to
 * the same message. Any difference aborts.
 */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static unsigned int
pick_n_fds (uint8_t selector, const uint8_t *frame, size_t len)
{
  uint32_t count = 0;

  switch (selector % 3)
    {
    case 0:
      return 0;
    case 1:
      return 1;
    default:
      if (len < PROTO_HEADER_SIZE + 12)
        return 2;
      memcpy (&count, frame + PROTO_HEADER_SIZE + 8, sizeof count);
      return count;
    }
}

static void
check_reencode (const ProtoMsg *msg, const uint8_t *frame, size_t len, unsigned int n_fds)
{
  static uint8_t again[PROTO_MAX_FRAME];
  ProtoMsg back;
  gssize n;

  n = proto_encode (msg, again, sizeof again, NULL);
  if (n < 0 || (size_t) n != len || memcmp (again, frame, len) != 0)
    abort ();
  proto_msg_init (&back, PROTO_MSG_INVALID, 0);
  if (!proto_decode (again, (gsize) n, n_fds, &back, NULL))
    abort ();
  if (back.type != msg->type || back.id != msg->id
      || memcmp (&back.u, &msg->u, sizeof back.u) != 0 || back.n_fds != 0)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  const uint8_t *frame;
  unsigned int n_fds;
  ProtoMsg msg;

  if (size == 0)
    return 0;
  frame = data + 1;
  size--;
  n_fds = pick_n_fds (data[0], frame, size);
  proto_msg_init (&msg, PROTO_MSG_INVALID, 0);
  if (proto_decode (frame, size, n_fds, &msg, &error))
    {
      if (error != NULL)
        abort ();
      check_reencode (&msg, frame, size, n_fds);
    }
  else if (error == NULL || error->code != EPROTO || error->message[0] == '\0')
    abort ();
  return 0;
}
