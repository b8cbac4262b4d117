/* deflate_inflate.c - inflating incoming messages (RFC 7692 section 7.2.2): the payload, fed as
 * its frames arrive, then the 00 00 ff ff tail, through a raw inflate bounded by max_message.
 *
 * Rules beyond the plain algorithm:
 *   - The tail must complete an empty stored block: after it the decompressor has to stand on a
 *     block boundary, or the message is corrupt (and the next one would be decoded from the
 *     middle of a block). inflate runs with Z_BLOCK so that zlib reports those boundaries.
 *   - A sender may end blocks with BFINAL set (RFC 7692 7.2.3.4), possibly in the middle of a
 *     message. When zlib reports the end of a DEFLATE stream, it is restarted in place with
 *     inflateResetKeep, which keeps the window: later data may still refer back to it. A restart
 *     costs O(1), so many tiny streams cost no more than their bytes.
 *   - A payload that ends exactly where a DEFLATE stream ended (or an empty payload) gets no tail:
 *     the decompressor is at a boundary already, and the tail would open a block that never ends.
 *   - At most max_message bytes are ever written; reaching it, a 1-byte probe tells whether the
 *     message goes on (WSK_ETOOBIG). */
#include "proto/deflate_internal.h"

static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};

static int start(struct wsk_pmd *z) {
  z->rx.zalloc = wsk__pmd_zalloc;
  z->rx.zfree = wsk__pmd_zfree;
  z->rx.opaque = z;
  z->rx.next_in = Z_NULL;
  z->rx.avail_in = 0;
  int r = inflateInit2(&z->rx, -(int)z->rx_bits);
  if (r != Z_OK) return r == Z_MEM_ERROR ? WSK_ENOMEM : WSK_EINVAL;
  z->rx_live = 1;
  return 0;
}

/* The message is complete. Without the peer's context takeover, the next one needs no window:
 * the decompressor's memory goes back until then. */
static int finish(struct wsk_pmd *z) {
  z->rx_total = 0;
  z->rx_fed = 0;
  z->rx_tail = 0;
  if (z->rx_reset && z->rx_live) {
    inflateEnd(&z->rx);
    z->rx_live = 0;
  }
  return 0;
}

static size_t min_size(size_t a, size_t b) {
  return a < b ? a : b;
}

int wsk_pmd_decompress(wsk_pmd *z, const void *in_, size_t in_len, int fin, void *out_,
                       size_t out_cap, size_t *consumed, size_t *produced) {
  const uint8_t *in = in_;
  uint8_t *out = out_;
  *consumed = *produced = 0;
  for (;;) {
    const uint8_t *src;
    size_t src_n;
    int from_tail = *consumed == in_len;
    if (!from_tail) {
      src = in + *consumed;
      src_n = min_size(in_len - *consumed, WSK_PMD_ZCHUNK);
    } else if (fin && (z->rx_tail > 0 || z->rx_fed > 0)) {
      src = tail + z->rx_tail;
      src_n = sizeof tail - z->rx_tail;
    } else {
      return fin ? finish(z) : 0;
    }
    size_t room = out_cap - *produced;
    if (z->max_message && z->max_message - z->rx_total <= room)
      room = (size_t)(z->max_message - z->rx_total);
    uint8_t probe, *dst = &probe; /* at the limit: any further byte is one too many */
    if (room > 0)
      dst = out + *produced;
    else if (z->max_message && z->rx_total == z->max_message)
      room = 1;
    else
      return WSK_PMD_MORE;
    room = min_size(room, WSK_PMD_ZCHUNK);
    if (!z->rx_live) {
      int r = start(z);
      if (r < 0) return r;
    }
    z->rx.next_in = (Bytef *)(uintptr_t)src;
    z->rx.avail_in = (uInt)src_n;
    z->rx.next_out = dst;
    z->rx.avail_out = (uInt)room;
    int r = inflate(&z->rx, Z_BLOCK);
    size_t used = src_n - z->rx.avail_in, made = room - z->rx.avail_out;
    z->rx_fed += used;
    if (from_tail)
      z->rx_tail = (uint8_t)(z->rx_tail + used);
    else
      *consumed += used;
    if (dst == &probe && made) return WSK_ETOOBIG;
    if (dst != &probe) {
      *produced += made;
      z->rx_total += made;
    }
    int boundary = (z->rx.data_type & 128) != 0;
    if (r == Z_STREAM_END) {
      inflateResetKeep(&z->rx); /* a new stream may follow; the window stays */
      z->rx_fed = 0;
      boundary = 1;
    } else if (r == Z_MEM_ERROR) {
      return WSK_ENOMEM;
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      return WSK_EDEFLATE;
    }
    if (z->rx_tail == sizeof tail) return boundary ? finish(z) : WSK_EDEFLATE;
  }
}
