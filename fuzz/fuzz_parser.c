/* fuzz_parser.c - the message parser. Mode 1 (random bytes): feed the input to both roles, whole
 * and split at pseudo-random points (sometimes byte by byte); the event logs and results must be
 * identical and the parser must keep its promises (see tests/unit/test_parser_driver.h).
 * Mode 2 (round trip): build a valid stream with wsk_frame_write_header and wsk_mask from the
 * input, parse it back split at random points, and compare with what was built. */
#include <stdint.h>
#include <stdlib.h>

#include "../tests/unit/test_parser_driver.h"
#include "wsk_proto.h"

#define MAX_INPUT 65536
#define MAX_CUTS 64

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static uint64_t seed_of(const uint8_t *d, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 0x100000001B3ull;
  return h | 1;
}

/* Fill cuts with ascending split points in [0, n]; byte by byte when `bytewise`. */
static size_t make_cuts(size_t *cuts, size_t n, uint64_t *rng, int bytewise) {
  if (bytewise) {
    for (size_t i = 0; i < n; i++) cuts[i] = i + 1;
    return n;
  }
  size_t k = n ? (size_t)(rng_next(rng) % MAX_CUTS) : 0;
  for (size_t i = 0; i < k; i++) cuts[i] = (size_t)(rng_next(rng) % (n + 1));
  for (size_t i = 1; i < k; i++) /* insertion sort: k is small */
    for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
      size_t t = cuts[j];
      cuts[j] = cuts[j - 1];
      cuts[j - 1] = t;
    }
  return k;
}

static uint64_t pick_max(unsigned bits) {
  static const uint64_t maxes[4] = {0, 1, 100, 70000};
  return maxes[bits & 3];
}

static void random_bytes(const uint8_t *d, size_t n, unsigned flags, uint64_t *rng) {
  static size_t cuts[MAX_INPUT];
  for (int role = WSK_ROLE_SERVER; role <= WSK_ROLE_CLIENT; role++) {
    struct wsk_parser p;
    struct pd_log whole = {0}, split = {0};
    wsk_parser_init(&p, (enum wsk_role)role, pick_max(flags >> 2), flags & 2);
    int r1 = pd_run(&p, d, n, NULL, 0, &whole);
    wsk_parser_init(&p, (enum wsk_role)role, pick_max(flags >> 2), flags & 2);
    size_t k = make_cuts(cuts, n, rng, (flags & 0x10) && n <= 4096);
    int r2 = pd_run(&p, d, n, cuts, k, &split);
    if (r1 == PD_EBROKEN || r1 != r2 || whole.len != split.len ||
        memcmp(whole.buf, split.buf, whole.len) != 0)
      abort();
    pd_free(&whole);
    pd_free(&split);
  }
}

/* Append a frame, checking that its header parses back to what was written. */
static void put_frame(struct pd_log *s, int fin, int rsv, int op, const uint8_t *pl, size_t len,
                      const uint8_t *key) {
  uint8_t h[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk_frame_write_header(h, fin, rsv, op, len, key);
  struct wsk_frame_header fh;
  if (wsk_frame_parse_header(h, hl, &fh) != (int)hl || fh.fin != fin || fh.rsv != rsv ||
      fh.opcode != op || fh.payload_len != len || fh.masked != (key != NULL) ||
      (key && memcmp(fh.mask, key, 4) != 0))
    abort();
  pd_put(s, h, hl);
  size_t at = s->len;
  pd_put(s, pl, len);
  if (key) wsk_mask(s->buf + at, len, key, 0);
}

static void round_trip(const uint8_t *d, size_t n, unsigned flags, uint64_t *rng) {
  static const char pattern[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* whole characters */
  static uint8_t payload[255 * 260];
  static size_t cuts[MAX_CUTS];
  enum wsk_role role = (flags & 1) ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER;
  int rsv1 = (flags & 2) != 0;
  uint8_t key[4];
  for (int i = 0; i < 4; i++) key[i] = (uint8_t)rng_next(rng);
  const uint8_t *mask = role == WSK_ROLE_SERVER ? key : NULL; /* what the peer sends */
  struct pd_log stream = {0}, want = {0}, got = {0};

  for (size_t pos = 0; pos + 2 <= n && stream.len < (1u << 17);) {
    unsigned op = d[pos], size = d[pos + 1];
    pos += 2;
    size_t len = (op & 0x80) ? (size_t)size * 260 : size; /* reach the 16- and 64-bit forms */
    if ((op & 3) >= 2) { /* ping or pong with up to 125 bytes */
      len = size % (WSK_MAX_CONTROL_PAYLOAD + 1);
      for (size_t i = 0; i < len; i++) payload[i] = d[(pos + i) % n];
      int ping = (op & 3) == 2;
      put_frame(&stream, 1, 0, ping ? WSK_OP_PING : WSK_OP_PONG, payload, len, mask);
      pd_byte(&want, ping ? 'P' : 'Q');
      pd_byte(&want, (unsigned)len);
      pd_put(&want, payload, len);
      continue;
    }
    int text = (op & 3) == 0, compressed = rsv1 && (op & 0x40);
    for (size_t i = 0; i < len; i++) /* text: whole characters of the pattern */
      payload[i] = text ? (uint8_t)pattern[i % (sizeof pattern - 1)] : d[(pos + i) % n];
    if (text) len -= len % (sizeof pattern - 1);
    size_t frags = 1 + ((op >> 2) & 3), done = 0;
    for (size_t f = 0; f < frags; f++) {
      size_t part = f + 1 == frags ? len - done : (size_t)(rng_next(rng) % (len - done + 1));
      put_frame(&stream, f + 1 == frags, f == 0 && compressed ? 4 : 0,
                f > 0 ? WSK_OP_CONT : text ? WSK_OP_TEXT : WSK_OP_BINARY, payload + done, part,
                mask);
      done += part;
      if ((op & 0x20) && f + 1 < frags) { /* a ping between fragments */
        put_frame(&stream, 1, 0, WSK_OP_PING, (const uint8_t *)"x", 1, mask);
        pd_put(&want, "P\x01x", 3);
      }
    }
    pd_byte(&want, 'M'); /* the driver logs a message when it is complete */
    pd_byte(&want, text ? WSK_OP_TEXT : WSK_OP_BINARY);
    pd_byte(&want, (unsigned)compressed);
    pd_put(&want, payload, len);
    pd_byte(&want, 'E');
  }
  uint8_t cp[WSK_MAX_CONTROL_PAYLOAD];
  size_t cl = wsk_close_build(cp, 1000 + (unsigned)(rng_next(rng) % 4), "done", 4);
  put_frame(&stream, 1, 0, WSK_OP_CLOSE, cp, cl, mask);
  pd_byte(&want, 'C');
  pd_byte(&want, cp[0]);
  pd_byte(&want, cp[1]);
  pd_byte(&want, 4);
  pd_put(&want, "done", 4);
  pd_byte(&want, 'R');
  pd_byte(&want, 0);

  struct wsk_parser p;
  wsk_parser_init(&p, role, 0, rsv1);
  size_t k = make_cuts(cuts, stream.len, rng, 0);
  if (pd_run(&p, stream.buf, stream.len, cuts, k, &got) != 0 || got.len != want.len ||
      memcmp(got.buf, want.buf, want.len) != 0)
    abort();
  pd_free(&stream);
  pd_free(&want);
  pd_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > MAX_INPUT) return 0;
  unsigned flags = data[0];
  uint64_t rng = seed_of(data, size);
  if (flags & 0x80)
    round_trip(data + 1, size - 1, flags, &rng);
  else
    random_bytes(data + 1, size - 1, flags, &rng);
  return 0;
}
