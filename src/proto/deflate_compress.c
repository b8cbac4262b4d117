/* deflate_compress.c - compressing outgoing messages (RFC 7692 section 7.2.1): raw DEFLATE, each
 * message ended with Z_SYNC_FLUSH, whose empty stored block's 00 00 ff ff tail is removed.
 *
 * The output may span several caller buffers, so the last 4 bytes written are always held back
 * (copied to the front of the next call's buffer): when the flush is over, the held bytes are
 * exactly the tail and are dropped. */
#include <string.h>

#include "proto/deflate_internal.h"

static int start(struct wsk_pmd *z) {
  z->tx.zalloc = wsk__pmd_zalloc;
  z->tx.zfree = wsk__pmd_zfree;
  z->tx.opaque = z;
  int r = deflateInit2(&z->tx, z->level, Z_DEFLATED, -(int)z->tx_bits, z->mem_level,
                       Z_DEFAULT_STRATEGY);
  if (r != Z_OK) return r == Z_MEM_ERROR ? WSK_ENOMEM : WSK_EINVAL;
  z->tx_live = 1;
  return 0;
}

/* The message is out. Without context takeover the next one starts from a fresh compressor, so
 * this one's memory goes back now rather than sitting idle between messages. */
static void finish(struct wsk_pmd *z) {
  z->tx_nhold = 0;
  z->tx_fed = 0;
  if (z->tx_reset && z->tx_live) {
    deflateEnd(&z->tx);
    z->tx_live = 0;
  }
}

static size_t min_size(size_t a, size_t b) {
  return a < b ? a : b;
}

int wsk_pmd_compress(wsk_pmd *z, const void *in_, size_t in_len, int fin, void *out_,
                     size_t out_cap, size_t *consumed, size_t *produced) {
  const uint8_t *in = in_;
  uint8_t *out = out_;
  *consumed = *produced = 0;
  if (z->tx_bits < 9 || out_cap < WSK_PMD_MIN_OUT) return WSK_EINVAL;
  if (fin && in_len == 0 && z->tx_fed == 0) {
    /* An empty message is one empty stored block, minus the tail (RFC 7692 7.2.3.6). zlib would
     * write nothing for a second flush in a row, so it is not asked. */
    out[0] = 0x00;
    *produced = 1;
    finish(z);
    return 0;
  }
  if (!z->tx_live) {
    int r = start(z);
    if (r < 0) return r;
  }
  size_t pos = z->tx_nhold;
  memcpy(out, z->tx_hold, pos);
  for (;;) {
    size_t in_n = min_size(in_len - *consumed, WSK_PMD_ZCHUNK);
    size_t out_n = min_size(out_cap - pos, WSK_PMD_ZCHUNK);
    int last = fin && in_n == in_len - *consumed; /* this call hands over the message's end */
    z->tx.next_in = in_n ? (Bytef *)(uintptr_t)(in + *consumed) : Z_NULL;
    z->tx.avail_in = (uInt)in_n;
    z->tx.next_out = out + pos;
    z->tx.avail_out = (uInt)out_n;
    int r = deflate(&z->tx, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR) return WSK_EINVAL;
    *consumed += in_n - z->tx.avail_in;
    z->tx_fed += in_n - z->tx.avail_in;
    pos += out_n - z->tx.avail_out;
    if (pos == out_cap) break;                       /* full: call again */
    if (z->tx.avail_out == 0 || *consumed < in_len) continue; /* a chunk limit, not the end */
    break;                                           /* all taken; with fin the flush is over */
  }
  size_t keep = min_size(pos, 4);
  memcpy(z->tx_hold, out + pos - keep, keep);
  z->tx_nhold = (uint8_t)keep;
  *produced = pos - keep;
  if (pos == out_cap) return WSK_PMD_MORE;
  if (fin) finish(z);
  return 0;
}
