/* sha1.c - SHA-1 (FIPS 180-4, section 6.1) for Sec-WebSocket-Accept, whose input is one short
 * string (key + GUID: two blocks). Hashed here rather than with OpenSSL 3's SHA1(), which fetches
 * the algorithm from its provider store and allocates a context on every call: about 6 000
 * instructions per handshake against 3 000 for the 80 rounds unrolled below. The handshake needs
 * SHA-1 only to show that the key was read, not for security. */
#include <string.h>

#include "proto/handshake_internal.h"

static uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The round functions of the four stages (FIPS 180-4 4.1.1). */
#define F_CH(b, c, d) (((c ^ d) & b) ^ d)
#define F_PARITY(b, c, d) (b ^ c ^ d)
#define F_MAJ(b, c, d) ((b & c) | ((b | c) & d))
/* Word t of the message schedule, computed in a ring of 16 words. */
#define W(t)                                                                               \
  (w[(t) & 15] =                                                                           \
       rol(w[((t) + 13) & 15] ^ w[((t) + 8) & 15] ^ w[((t) + 2) & 15] ^ w[(t) & 15], 1))
/* One round with the roles of the five working variables passed in: five calls in a row with the
 * names rotated make the variables' moves disappear. */
#define ROUND(a, b, c, d, e, f, k, wt)        \
  do {                                        \
    e += rol(a, 5) + f(b, c, d) + (k) + (wt); \
    b = rol(b, 30);                           \
  } while (0)
/* Rounds t..t+4, their message words from wt (W, or W0 for the first 16). */
#define FIVE(f, k, t, wt)                    \
  do {                                       \
    ROUND(a, b, c, d, e, f, k, wt((t)));     \
    ROUND(e, a, b, c, d, f, k, wt((t) + 1)); \
    ROUND(d, e, a, b, c, f, k, wt((t) + 2)); \
    ROUND(c, d, e, a, b, f, k, wt((t) + 3)); \
    ROUND(b, c, d, e, a, f, k, wt((t) + 4)); \
  } while (0)
#define W0(t) w[(t)]

/* One 64-byte block into the state h. */
static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[16];
  for (int t = 0; t < 16; t++) w[t] = load_be32(p + 4 * t);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  FIVE(F_CH, 0x5A827999u, 0, W0);
  FIVE(F_CH, 0x5A827999u, 5, W0);
  FIVE(F_CH, 0x5A827999u, 10, W0);
  ROUND(a, b, c, d, e, F_CH, 0x5A827999u, w[15]);
  ROUND(e, a, b, c, d, F_CH, 0x5A827999u, W(16));
  ROUND(d, e, a, b, c, F_CH, 0x5A827999u, W(17));
  ROUND(c, d, e, a, b, F_CH, 0x5A827999u, W(18));
  ROUND(b, c, d, e, a, F_CH, 0x5A827999u, W(19));
  FIVE(F_PARITY, 0x6ED9EBA1u, 20, W);
  FIVE(F_PARITY, 0x6ED9EBA1u, 25, W);
  FIVE(F_PARITY, 0x6ED9EBA1u, 30, W);
  FIVE(F_PARITY, 0x6ED9EBA1u, 35, W);
  FIVE(F_MAJ, 0x8F1BBCDCu, 40, W);
  FIVE(F_MAJ, 0x8F1BBCDCu, 45, W);
  FIVE(F_MAJ, 0x8F1BBCDCu, 50, W);
  FIVE(F_MAJ, 0x8F1BBCDCu, 55, W);
  FIVE(F_PARITY, 0xCA62C1D6u, 60, W);
  FIVE(F_PARITY, 0xCA62C1D6u, 65, W);
  FIVE(F_PARITY, 0xCA62C1D6u, 70, W);
  FIVE(F_PARITY, 0xCA62C1D6u, 75, W);
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

void wsk__sha1(const void *data, size_t len, uint8_t out[WSK_SHA1_LEN]) {
  uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  const uint8_t *p = data;
  size_t n = len;
  for (; n >= 64; p += 64, n -= 64) sha1_block(h, p);
  /* The rest, the 0x80 marker, zeros, and the length in bits: one block, or two when the rest
   * leaves no room for the marker and the 8-byte length. */
  uint8_t tail[128] = {0};
  if (n) memcpy(tail, p, n);
  tail[n] = 0x80;
  size_t end = n + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) tail[end - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha1_block(h, tail);
  if (end == 128) sha1_block(h, tail + 64);
  for (int i = 0; i < 5; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}
