/* utf8.c - incremental, fail-fast UTF-8 validation (RFC 3629).
 *
 * The state between calls is a small DFA state: 0 = at a character boundary (WSK_UTF8_ACCEPT),
 * 1 = rejected (WSK_UTF8_REJECT, sticky), 2..8 = inside a sequence, remembering how many
 * continuation bytes are missing and, right after E0/ED/F0/F4, the narrower range the next byte
 * must fall in (this is what rejects overlongs, surrogates and code points above U+10FFFF at the
 * first byte that proves them, not at the end of the sequence).
 *
 * The DFA runs only where a call starts or ends inside a sequence. In between, a fast path
 * skips ASCII 32 or 8 bytes at a time and checks whole multi-byte characters with a few compares
 * while at least 4 bytes are left; both paths reject at exactly the same inputs. */
#include <string.h>

#include "wsk_proto.h"

enum {
  S_ACCEPT = WSK_UTF8_ACCEPT,
  S_REJECT = WSK_UTF8_REJECT,
  S_NEED1,  /* one continuation byte 80..BF missing */
  S_NEED2,  /* two missing */
  S_NEED3,  /* three missing */
  S_E0,     /* after E0: next A0..BF (shorter would be overlong), then one more */
  S_ED,     /* after ED: next 80..9F (A0..BF would be a surrogate), then one more */
  S_F0,     /* after F0: next 90..BF (shorter would be overlong), then two more */
  S_F4,     /* after F4: next 80..8F (higher is above U+10FFFF), then two more */
  S_COUNT
};

/* Byte classes of 0x80..0xFF (0x00..0x7F are class C_ASCII). */
enum { C_ASCII, C_80, C_90, C_A0, C_BAD, C_LEAD2, C_E0, C_LEAD3, C_ED, C_F0, C_LEAD4, C_F4, C_COUNT };

static const uint8_t high_class[128] = {
  /* 80..8F */ C_80, C_80, C_80, C_80, C_80, C_80, C_80, C_80,
               C_80, C_80, C_80, C_80, C_80, C_80, C_80, C_80,
  /* 90..9F */ C_90, C_90, C_90, C_90, C_90, C_90, C_90, C_90,
               C_90, C_90, C_90, C_90, C_90, C_90, C_90, C_90,
  /* A0..BF */ C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
               C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
               C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
               C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0, C_A0,
  /* C0..DF */ C_BAD, C_BAD, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2,
               C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2,
               C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2,
               C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2, C_LEAD2,
  /* E0..EF */ C_E0, C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3,
               C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3, C_LEAD3, C_ED, C_LEAD3, C_LEAD3,
  /* F0..FF */ C_F0, C_LEAD4, C_LEAD4, C_LEAD4, C_F4, C_BAD, C_BAD, C_BAD,
               C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
};

#define R S_REJECT
static const uint8_t transition[S_COUNT][C_COUNT] = {
  /*            ASCII     80       90       A0       BAD  LEAD2    E0    LEAD3    ED    F0    LEAD4    F4 */
  [S_ACCEPT] = {S_ACCEPT, R,       R,       R,       R, S_NEED1, S_E0, S_NEED2, S_ED, S_F0, S_NEED3, S_F4},
  [S_REJECT] = {R,        R,       R,       R,       R, R,       R,    R,       R,    R,    R,       R},
  [S_NEED1] =  {R,        S_ACCEPT, S_ACCEPT, S_ACCEPT, R, R,    R,    R,       R,    R,    R,       R},
  [S_NEED2] =  {R,        S_NEED1, S_NEED1, S_NEED1, R, R,       R,    R,       R,    R,    R,       R},
  [S_NEED3] =  {R,        S_NEED2, S_NEED2, S_NEED2, R, R,       R,    R,       R,    R,    R,       R},
  [S_E0] =     {R,        R,       R,       S_NEED1, R, R,       R,    R,       R,    R,    R,       R},
  [S_ED] =     {R,        S_NEED1, S_NEED1, R,       R, R,       R,    R,       R,    R,    R,       R},
  [S_F0] =     {R,        R,       S_NEED2, S_NEED2, R, R,       R,    R,       R,    R,    R,       R},
  [S_F4] =     {R,        S_NEED2, R,       R,       R, R,       R,    R,       R,    R,    R,       R},
};
#undef R

static inline wsk_utf8_state step(wsk_utf8_state s, uint8_t b) {
  return transition[s][b < 0x80 ? C_ASCII : high_class[b - 0x80]];
}

static inline int is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

/* Length of the valid multi-byte character at p (p[0] >= 0x80, 4 bytes readable), 0 if it is
 * invalid. The second byte's range after E0/ED/F0/F4 rules out overlongs, surrogates and code
 * points above U+10FFFF. Branches on the lead byte: text rarely changes script, so they are
 * well predicted, and they keep the next position off the data-dependency chain. */
static inline size_t char_len(const uint8_t *p) {
  uint8_t b0 = p[0], b1 = p[1];
  if (b0 < 0xE0) return b0 >= 0xC2 && is_cont(b1) ? 2 : 0;
  if (b0 < 0xF0) {
    uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return b1 >= lo && b1 <= hi && is_cont(p[2]) ? 3 : 0;
  }
  if (b0 > 0xF4) return 0;
  uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
  return b1 >= lo && b1 <= hi && is_cont(p[2]) && is_cont(p[3]) ? 4 : 0;
}

#define HIGH_BITS 0x8080808080808080ull

/* 8 bytes with p[0] in the low byte whatever the machine's byte order. */
static inline uint64_t load64_le(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

/* Validate from a character boundary at i. Returns the position (still at a boundary) where
 * fewer than 8 bytes, or fewer than 4 before a multi-byte character, are left for the DFA (len
 * when those last bytes are ASCII); or SIZE_MAX if an invalid character was found. */
static size_t scan(const uint8_t *d, size_t len, size_t i) {
  for (;;) {
    while (len - i >= 32 && ((load64_le(d + i) | load64_le(d + i + 8) | load64_le(d + i + 16) |
                              load64_le(d + i + 24)) & HIGH_BITS) == 0)
      i += 32;
    if (len - i < 8) /* a tail that the last 8 bytes show to be ASCII needs no DFA */
      return len >= 8 && (load64_le(d + len - 8) & HIGH_BITS) == 0 ? len : i;
    if (d[i] < 0x80) {
      uint64_t high = load64_le(d + i) & HIGH_BITS;
      if (high == 0) {
        i += 8;
        continue;
      }
      i += (size_t)__builtin_ctzll(high) / 8; /* skip the ASCII before the non-ASCII byte */
    }
    do { /* a run of multi-byte characters */
      if (len - i < 4) return i;
      size_t n = char_len(d + i);
      if (n == 0) return SIZE_MAX;
      i += n;
    } while (i < len && d[i] >= 0x80);
  }
}

wsk_utf8_state wsk_utf8_feed(wsk_utf8_state state, const uint8_t *data, size_t len) {
  size_t i = 0;
  if (state >= S_COUNT) return S_REJECT;
  while (state > S_REJECT && i < len) state = step(state, data[i++]);
  if (state != S_ACCEPT) return state;
  i = scan(data, len, i);
  if (i == SIZE_MAX) return S_REJECT;
  for (; i < len && state != S_REJECT; i++) state = step(state, data[i]);
  return state;
}

int wsk_utf8_valid(const uint8_t *data, size_t len) {
  return wsk_utf8_feed(WSK_UTF8_ACCEPT, data, len) == WSK_UTF8_ACCEPT;
}
