/* fuzz_inflate.c - the permessage-deflate decompressor (wsk_pmd_decompress) on arbitrary payloads,
 * with the window, context takeover, size limit, piece sizes and output growth all taken from the
 * data; and, for the same messages, a compress -> decompress round trip that must give the
 * message back.
 *
 * Input: 4 header bytes, then messages, each a 2-byte little-endian length and that many bytes.
 *   h[0]: bits 0-2 window (9 + n % 7), bit 3 no context takeover, bit 4 role, bits 5-7 mem_level
 *   h[1..2]: max_message = 1 + 16 * value (up to about 1 MiB)
 *   h[3]: piece size and output step seed
 * Invariants: only 0, WSK_PMD_MORE, WSK_ETOOBIG and WSK_EDEFLATE come back; never more than
 * max_message bytes per message; zlib never holds more than its state and window; after an error
 * the decompressor is not used again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsk_proto.h"

struct setup {
  struct wsk_pmd_params params;
  struct wsk_pmd_options opt;
  enum wsk_role role;
  uint64_t max;
  size_t piece, step;
};

static wsk_pmd *make(const struct setup *s, enum wsk_role role) {
  wsk_pmd *z = malloc(wsk_pmd_size());
  if (!z || wsk_pmd_init(z, role, &s->params, &s->opt, s->max) != 0) abort();
  return z;
}

/* Inflate one message; returns the code and the output (caller frees). */
static int inflate_msg(wsk_pmd *z, const struct setup *s, const uint8_t *p, size_t len,
                       uint8_t **msg, size_t *msg_len) {
  size_t cap = s->step, n = 0, off = 0;
  uint8_t *out = malloc(cap);
  int rc;
  for (;;) {
    size_t give = len - off > s->piece ? s->piece : len - off;
    int fin = off + give == len;
    size_t used, made;
    rc = wsk_pmd_decompress(z, p + off, give, fin, out + n, cap - n, &used, &made);
    if (used > give || made > cap - n) abort();
    off += used;
    n += made;
    if (n > s->max) abort();
    if (rc == WSK_PMD_MORE) { /* small steps first, then geometric (memory churn in ASan) */
      out = realloc(out, cap += s->step + cap / 2);
      if (!out) abort();
      continue;
    }
    if (rc != 0 && rc != WSK_ETOOBIG && rc != WSK_EDEFLATE) abort();
    if (rc != 0 || fin) break;
  }
  *msg = out;
  *msg_len = n;
  return rc;
}

static uint8_t *compress_msg(wsk_pmd *z, const struct setup *s, const uint8_t *p, size_t len,
                             size_t *out_len) {
  size_t room = WSK_PMD_MIN_OUT + s->step % 64, cap = room, n = 0, off = 0;
  uint8_t *out = malloc(cap);
  for (;;) {
    size_t give = len - off > s->piece ? s->piece : len - off;
    int fin = off + give == len;
    if (cap - n < room) {
      uint8_t *grown = realloc(out, cap = 2 * cap + room);
      if (!grown) abort();
      out = grown;
    }
    size_t used, made;
    int rc = wsk_pmd_compress(z, p + off, give, fin, out + n, room, &used, &made);
    off += used;
    n += made;
    if (rc != 0 && rc != WSK_PMD_MORE) abort();
    if (rc == 0 && fin) break;
  }
  *out_len = n;
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  struct setup s;
  uint8_t bits = (uint8_t)(9 + (data[0] & 7) % 7);
  s.params = (struct wsk_pmd_params){(uint8_t)((data[0] >> 3) & 1), (uint8_t)((data[0] >> 3) & 1),
                                     bits, bits};
  wsk_pmd_options_init(&s.opt);
  s.opt.mem_level = 1 + (data[0] >> 5);
  s.role = (data[0] >> 4) & 1 ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER;
  s.max = 1 + 16 * (uint64_t)(data[1] | data[2] << 8);
  s.piece = 1 + data[3] % 97;
  s.step = 1 + (size_t)data[3] * 7;
  enum wsk_role peer = s.role == WSK_ROLE_SERVER ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER;
  wsk_pmd *rx = make(&s, s.role), *tx = make(&s, peer), *back = make(&s, s.role);
  int rx_failed = 0;
  for (size_t i = 4; i + 2 <= size;) {
    size_t len = data[i] | (size_t)data[i + 1] << 8;
    i += 2;
    if (len > size - i) len = size - i;
    const uint8_t *p = data + i;
    i += len;
    uint8_t *m;
    size_t n, peak;
    if (!rx_failed) {
      rx_failed = inflate_msg(rx, &s, p, len, &m, &n) != 0;
      free(m);
      wsk_pmd_memory(rx, &peak);
      if (peak > wsk_pmd_size() + 8192 + ((size_t)1 << bits) + 256) abort();
    }
    /* Round trip of the same bytes as a message. */
    size_t clen;
    uint8_t *c = compress_msg(tx, &s, p, len, &clen);
    int rc = inflate_msg(back, &s, c, clen, &m, &n);
    if (len <= s.max ? rc != 0 || n != len || memcmp(m, p, len) != 0 : rc != WSK_ETOOBIG) abort();
    free(c);
    free(m);
    if (rc != 0) break; /* `back` failed: it may not be used again */
  }
  wsk_pmd_end(rx);
  wsk_pmd_end(tx);
  wsk_pmd_end(back);
  free(rx);
  free(tx);
  free(back);
  return 0;
}
