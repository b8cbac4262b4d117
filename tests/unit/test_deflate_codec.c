/* test_deflate_codec.c - the permessage-deflate compressor and decompressor: the RFC 7692
 * section 7.2.3 vectors, round trips of many sizes and contents for every window size with and
 * without context takeover, pieces and small buffers, the size limit against a deflate bomb,
 * corrupt streams, and the memory a compressed connection holds (printed as a table). */
#include <stdlib.h>
#include <zlib.h>

#include "check.h"
#include "proto/alloc_internal.h"
#include "proto/deflate_internal.h"
#include "wsk.h"

/* A server and a client context that agreed on p. */
struct pair {
  wsk_pmd *srv, *cli;
};

static struct wsk_pmd_params params(int snct, int cnct, int sbits, int cbits) {
  return (struct wsk_pmd_params){(uint8_t)snct, (uint8_t)cnct, (uint8_t)sbits, (uint8_t)cbits};
}

static wsk_pmd *ctx(enum wsk_role role, struct wsk_pmd_params p, const struct wsk_pmd_options *o,
                    uint64_t max) {
  wsk_pmd *z = malloc(wsk_pmd_size());
  struct wsk_pmd_options d;
  wsk_pmd_options_init(&d);
  CHECK_EQ(wsk_pmd_init(z, role, &p, o ? o : &d, max), 0);
  return z;
}

static struct pair pair_new(struct wsk_pmd_params p, const struct wsk_pmd_options *o) {
  return (struct pair){ctx(WSK_ROLE_SERVER, p, o, 0), ctx(WSK_ROLE_CLIENT, p, o, 0)};
}

static void pmd_free(wsk_pmd *z) {
  wsk_pmd_end(z);
  free(z);
}

static void pair_free(struct pair *p) {
  pmd_free(p->srv);
  pmd_free(p->cli);
}

/* Compress a message, handing it over in pieces of `piece` bytes (0 = whole) into output
 * buffers of `room` bytes (0 = wsk_pmd_compress_bound); returns the payload (caller frees). */
static uint8_t *compress_msg(wsk_pmd *z, const uint8_t *data, size_t len, size_t piece,
                             size_t room, size_t *out_len) {
  size_t cap = room ? room : wsk_pmd_compress_bound(len), n = 0, off = 0;
  uint8_t *out = malloc(cap);
  for (;;) {
    size_t give = piece && len - off > piece ? piece : len - off;
    int fin = off + give == len;
    if (room && cap - n < room) out = realloc(out, cap = n + room);
    size_t used, made;
    int rc = wsk_pmd_compress(z, data + off, give, fin, out + n, room ? room : cap - n, &used,
                              &made);
    off += used;
    n += made;
    CHECK(rc == 0 || (rc == WSK_PMD_MORE && room));
    if (rc < 0 || (rc == 0 && fin)) break;
  }
  *out_len = n;
  return out;
}

/* Inflate a payload fed in pieces of `piece` bytes (0 = whole), growing the output by `step`
 * bytes when full (0 = doubling from 64). Returns the last code; the message in *msg. */
static int inflate_msg(wsk_pmd *z, const uint8_t *data, size_t len, size_t piece, size_t step,
                       uint8_t **msg, size_t *msg_len) {
  size_t cap = step ? step : 64, n = 0, off = 0;
  uint8_t *out = malloc(cap);
  int rc;
  for (;;) {
    size_t give = piece && len - off > piece ? piece : len - off;
    int fin = off + give == len;
    size_t used, made;
    rc = wsk_pmd_decompress(z, data + off, give, fin, out + n, cap - n, &used, &made);
    off += used;
    n += made;
    if (rc == WSK_PMD_MORE) {
      cap = step ? cap + step : cap * 2;
      out = realloc(out, cap);
      continue;
    }
    if (rc < 0 || fin) break;
  }
  *msg = out;
  *msg_len = n;
  return rc;
}

/* Inflate and compare with the expected message. */
static void expect_msg(wsk_pmd *z, const uint8_t *payload, size_t len, size_t piece,
                       const void *want, size_t want_len) {
  uint8_t *m;
  size_t n;
  int rc = inflate_msg(z, payload, len, piece, 0, &m, &n);
  CHECK_EQ(rc, 0);
  CHECK_EQ(n, want_len);
  if (rc == 0 && n == want_len) CHECK_MEM(m, want, n);
  free(m);
}

static int expect_error(wsk_pmd *z, const uint8_t *payload, size_t len) {
  uint8_t *m;
  size_t n;
  int rc = inflate_msg(z, payload, len, 0, 0, &m, &n);
  free(m);
  return rc;
}

/* ---- RFC 7692 section 7.2.3 ----------------------------------------------------------------- */

static const uint8_t hello_sync[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};  /* 7.2.3.1 */
static const uint8_t hello_again[] = {0xf2, 0x00, 0x11, 0x00, 0x00};             /* 7.2.3.2 */
static const uint8_t hello_stored[] = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, /* 7.2.3.3 */
                                       0x6c, 0x6c, 0x6f, 0x00};
static const uint8_t hello_bfinal[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}; /* .4 */
static const uint8_t hello_two_blocks[] = {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, /* 7.2.3.5 */
                                           0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00};

static void test_rfc_vectors(void) {
  struct pair p = pair_new(params(0, 0, 15, 15), NULL);
  /* Decoding, with the shared window of 7.2.3.2. */
  expect_msg(p.cli, hello_sync, sizeof hello_sync, 0, "Hello", 5);
  expect_msg(p.cli, hello_again, sizeof hello_again, 0, "Hello", 5);
  expect_msg(p.cli, hello_stored, sizeof hello_stored, 0, "Hello", 5);
  expect_msg(p.cli, hello_bfinal, sizeof hello_bfinal, 0, "Hello", 5);
  expect_msg(p.cli, hello_again, sizeof hello_again, 0, "Hello", 5); /* window kept past BFINAL */
  expect_msg(p.cli, hello_two_blocks, sizeof hello_two_blocks, 0, "Hello", 5);
  expect_msg(p.cli, (const uint8_t *)"\x00", 1, 0, "", 0); /* 7.2.3.6: an empty message */
  /* Byte by byte, as if every byte were a frame of its own. */
  expect_msg(p.cli, hello_sync, sizeof hello_sync, 1, "Hello", 5);
  expect_msg(p.cli, hello_again, sizeof hello_again, 1, "Hello", 5);
  expect_msg(p.cli, hello_bfinal, sizeof hello_bfinal, 1, "Hello", 5);
  /* Encoding: zlib at the default level writes exactly the RFC's bytes. */
  size_t n;
  uint8_t *c = compress_msg(p.srv, (const uint8_t *)"Hello", 5, 0, 0, &n);
  CHECK_EQ(n, sizeof hello_sync);
  CHECK_MEM(c, hello_sync, sizeof hello_sync);
  free(c);
  c = compress_msg(p.srv, (const uint8_t *)"Hello", 5, 0, 0, &n);
  CHECK_EQ(n, sizeof hello_again);
  CHECK_MEM(c, hello_again, sizeof hello_again);
  free(c);
  c = compress_msg(p.srv, (const uint8_t *)"", 0, 0, 0, &n);
  CHECK_EQ(n, 1);
  CHECK_EQ(c[0], 0x00);
  free(c);
  pair_free(&p);

  /* Without the server's context takeover, every "Hello" is encoded alone, and a message that
   * refers to the previous one does not inflate. */
  p = pair_new(params(1, 0, 15, 15), NULL);
  for (int i = 0; i < 3; i++) {
    c = compress_msg(p.srv, (const uint8_t *)"Hello", 5, 0, 0, &n);
    CHECK_EQ(n, sizeof hello_sync);
    CHECK_MEM(c, hello_sync, sizeof hello_sync);
    free(c);
  }
  expect_msg(p.cli, hello_sync, sizeof hello_sync, 0, "Hello", 5);
  CHECK_EQ(expect_error(p.cli, hello_again, sizeof hello_again), WSK_EDEFLATE);
  pair_free(&p);
}

/* Payloads that are odd but well-formed, and the lenient cases. */
static void test_stream_shapes(void) {
  struct pair p = pair_new(params(0, 0, 15, 15), NULL);
  /* A payload that ends exactly where a BFINAL stream ends (no trailing empty block header). */
  expect_msg(p.cli, hello_bfinal, sizeof hello_bfinal - 1, 0, "Hello", 5);
  expect_msg(p.cli, hello_again, sizeof hello_again, 0, "Hello", 5);
  /* An empty payload: an empty message, the decompressor untouched. */
  expect_msg(p.cli, (const uint8_t *)"", 0, 0, "", 0);
  expect_msg(p.cli, hello_again, sizeof hello_again, 0, "Hello", 5);
  /* NULL and empty buffers, as a caller with nothing allocated yet passes them. */
  size_t used, made;
  CHECK_EQ(wsk_pmd_decompress(p.cli, NULL, 0, 1, NULL, 0, &used, &made), 0);
  CHECK_EQ(wsk_pmd_decompress(p.cli, hello_sync, sizeof hello_sync, 0, NULL, 0, &used, &made),
           WSK_PMD_MORE);
  CHECK_EQ(used + made, 0);
  expect_msg(p.cli, hello_sync, sizeof hello_sync, 0, "Hello", 5);
  uint8_t one[WSK_PMD_MIN_OUT];
  CHECK_EQ(wsk_pmd_compress(p.srv, NULL, 0, 0, one, sizeof one, &used, &made), 0);
  CHECK_EQ(wsk_pmd_compress(p.srv, NULL, 0, 1, one, sizeof one, &used, &made), 0);
  CHECK(made == 1 && one[0] == 0);
  /* Blocks after a BFINAL block in one message: a finished stream, then a flushed one. */
  uint8_t buf[64];
  z_stream s;
  memset(&s, 0, sizeof s);
  deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  s.next_in = (Bytef *)"Hello";
  s.avail_in = 5;
  s.next_out = buf;
  s.avail_out = sizeof buf;
  CHECK_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  deflateReset(&s);
  s.next_in = (Bytef *)" world";
  s.avail_in = 6;
  CHECK_EQ(deflate(&s, Z_SYNC_FLUSH), Z_OK);
  size_t len = sizeof buf - s.avail_out - 4;
  deflateEnd(&s);
  CHECK_MEM(buf + len, "\x00\x00\xff\xff", 4);
  expect_msg(p.cli, buf, len, 0, "Hello world", 11);
  expect_msg(p.cli, buf, len, 3, "Hello world", 11);
  /* Many empty BFINAL streams (fixed block, end-of-block only: 03 00) then one Hello. */
  uint8_t storm[2000 + sizeof hello_sync];
  for (size_t i = 0; i < 2000; i += 2) storm[i] = 0x03, storm[i + 1] = 0x00;
  memcpy(storm + 2000, hello_sync, sizeof hello_sync);
  expect_msg(p.cli, storm, sizeof storm, 0, "Hello", 5);
  expect_msg(p.cli, storm, sizeof storm, 7, "Hello", 5);
  pair_free(&p);
}

static void test_corrupt(void) {
  static const struct {
    const char *data;
    size_t len;
  } bad[] = {
      {"\xff\xff\xff", 3},                 /* block type 3 */
      {"\xf2\x48\xcd\xc9", 4},             /* cut in the middle of a block */
      {"\xf2\x48\xcd\xc9\xc9\x07", 6},     /* no empty block header after the data */
      {"\x00\x06\x00\xf9\xff\x48", 6},     /* stored block: LEN 6, with the tail only 5 */
      {"\x00\x05\x00\x00\x00\x48\x65\x6c\x6c\x6f\x00", 11}, /* LEN and NLEN disagree */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wsk_pmd *z = ctx(WSK_ROLE_CLIENT, params(0, 0, 15, 15), NULL, 0);
    CHECK_EQ(expect_error(z, (const uint8_t *)bad[i].data, bad[i].len), WSK_EDEFLATE);
    pmd_free(z);
  }
  /* A BFINAL empty stored block completed by the tail is a boundary: fine, and so is the next. */
  wsk_pmd *z = ctx(WSK_ROLE_CLIENT, params(0, 0, 15, 15), NULL, 0);
  expect_msg(z, (const uint8_t *)"\x01", 1, 0, "", 0);
  expect_msg(z, hello_sync, sizeof hello_sync, 0, "Hello", 5);
  pmd_free(z);
  /* Random bytes: an error or, rarely, something that happens to decode; never a crash. */
  srand(7);
  int errors = 0;
  for (int i = 0; i < 500; i++) {
    uint8_t junk[300];
    size_t len = 1 + (size_t)rand() % sizeof junk;
    for (size_t k = 0; k < len; k++) junk[k] = (uint8_t)rand();
    z = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 1 << 20);
    errors += expect_error(z, junk, len) == WSK_EDEFLATE;
    pmd_free(z);
  }
  CHECK(errors > 450);
  /* A distance beyond the agreed window: written with 15 bits, read with 9. */
  uint8_t text[4000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)(i < 2000 ? rand() : text[i - 2000]);
  wsk_pmd *wide = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 0);
  wsk_pmd *narrow = ctx(WSK_ROLE_CLIENT, params(0, 0, 9, 15), NULL, 0);
  size_t n;
  uint8_t *c = compress_msg(wide, text, sizeof text, 0, 0, &n);
  CHECK(n < 3000);
  CHECK_EQ(expect_error(narrow, c, n), WSK_EDEFLATE);
  free(c);
  pmd_free(wide);
  pmd_free(narrow);
  CHECK_EQ(wsk_close_code_for_error(WSK_EDEFLATE), 1007);
  CHECK_STR(wsk_strerror(WSK_EDEFLATE), "compressed data does not inflate");
}

/* ---- round trips ---------------------------------------------------------------------------- */

static uint32_t rng = 12345;
static uint8_t rnd(void) {
  rng = rng * 1103515245u + 12345u;
  return (uint8_t)(rng >> 16);
}

/* kind 0: random, 1: repetitive text, 2: zeros, 3: runs of random words */
static void fill(uint8_t *b, size_t n, int kind) {
  static const char words[] = "the quick brown fox jumps over the lazy dog; WebSocket 7692 ";
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
    case 0: b[i] = rnd(); break;
    case 1: b[i] = (uint8_t)words[i % (sizeof words - 1)]; break;
    case 2: b[i] = 0; break;
    default: b[i] = i % 16 < 8 ? (uint8_t)words[(i / 16 * 7) % (sizeof words - 1)] : rnd() % 4;
    }
  }
}

/* One message each way through a server/client pair; a compressible one must shrink. */
static void round_trip(struct pair *p, const uint8_t *data, size_t len, int compressible,
                       size_t piece, size_t room, size_t in_piece) {
  wsk_pmd *from[2] = {p->srv, p->cli}, *to[2] = {p->cli, p->srv};
  for (int dir = 0; dir < 2; dir++) {
    size_t n;
    uint8_t *c = compress_msg(from[dir], data, len, piece, room, &n);
    if (len > 1000 && compressible) CHECK(n < len / 2);
    expect_msg(to[dir], c, n, in_piece, data, len);
    free(c);
  }
}

static void test_round_trips(void) {
  static const size_t sizes[] = {0, 1, 2, 5, 100, 1000, 4096, 65536, 300000};
  size_t max = 1 << 20;
  uint8_t *data = malloc(max);
  for (int bits = 9; bits <= 15; bits++) {
    for (int nct = 0; nct < 4; nct++) {
      struct wsk_pmd_params pp = params(nct & 1, nct >> 1, bits, bits);
      struct wsk_pmd_options o;
      wsk_pmd_options_init(&o);
      o.mem_level = 1 + (bits + nct) % 9;
      o.level = 1 + bits % 9;
      struct pair p = pair_new(pp, &o);
      for (int kind = 0; kind < 4; kind++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
          fill(data, sizes[s], kind);
          size_t piece = sizes[s] > 5000 ? 4093 : 3, room = s % 2 ? WSK_PMD_MIN_OUT : 0;
          if (sizes[s] > 5000) room = s % 2 ? 1000 : 0;
          round_trip(&p, data, sizes[s], kind > 0, s % 3 ? 0 : piece, room,
                     s % 3 == 1 ? 0 : piece);
        }
      pair_free(&p);
    }
  }
  /* 1 MiB messages, several in a row on the same contexts, default and smallest window. */
  for (int bits = 9; bits <= 15; bits += 6)
    for (int nct = 0; nct < 2; nct++) {
      struct pair p = pair_new(params(nct, nct, bits, bits), NULL);
      for (int kind = 0; kind < 4; kind++) {
        fill(data, max, kind);
        round_trip(&p, data, max, kind > 0, 0, 0, 0);
        round_trip(&p, data, max, kind > 0, 65536, 16384, 1400);
      }
      pair_free(&p);
    }
  free(data);
}

/* A message compressed in several calls to tiny buffers, each call's output a frame of its own. */
static void test_streaming_output(void) {
  struct pair p = pair_new(params(0, 0, 15, 15), NULL);
  uint8_t msg[20000];
  fill(msg, sizeof msg, 3);
  for (size_t room = WSK_PMD_MIN_OUT; room < 300; room += 37) {
    uint8_t frames[40000];
    size_t total = 0, off = 0, used, made;
    int rc, calls = 0;
    do {
      rc = wsk_pmd_compress(p.srv, msg + off, sizeof msg - off, 1, frames + total, room, &used,
                            &made);
      off += used;
      total += made;
      calls++;
    } while (rc == WSK_PMD_MORE && calls < 10000);
    CHECK_EQ(rc, 0);
    CHECK_EQ(off, sizeof msg);
    CHECK(calls > 1);
    expect_msg(p.cli, frames, total, 0, msg, sizeof msg);
  }
  /* Bound: one call always suffices. */
  for (size_t len = 0; len < 70000; len = len * 3 + 1) {
    uint8_t *d = malloc(len + 1);
    fill(d, len, 0);
    size_t cap = wsk_pmd_compress_bound(len), used, made;
    uint8_t *out = malloc(cap);
    CHECK_EQ(wsk_pmd_compress(p.srv, d, len, 1, out, cap, &used, &made), 0);
    CHECK_EQ(used, len);
    expect_msg(p.cli, out, made, 0, d, len);
    free(out);
    free(d);
  }
  size_t used, made;
  uint8_t small[WSK_PMD_MIN_OUT];
  CHECK_EQ(wsk_pmd_compress(p.srv, "x", 1, 1, small, WSK_PMD_MIN_OUT - 1, &used, &made),
           WSK_EINVAL);
  pair_free(&p);
}

/* client_max_window_bits=8: the client may not compress; the server inflates with 9. */
static void test_window_8(void) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  o.threshold = 10;
  struct pair p = pair_new(params(0, 0, 8, 8), &o);
  CHECK_EQ(wsk_pmd_should_compress(p.cli, 100), 0);
  CHECK_EQ(wsk_pmd_should_compress(p.srv, 100), 0); /* invalid for a server: never negotiated */
  size_t used, made;
  uint8_t out[64];
  CHECK_EQ(wsk_pmd_compress(p.cli, "Hello", 5, 1, out, sizeof out, &used, &made), WSK_EINVAL);
  pair_free(&p);
  p = pair_new(params(0, 0, 9, 9), &o);
  CHECK_EQ(wsk_pmd_should_compress(p.cli, 9), 0);
  CHECK_EQ(wsk_pmd_should_compress(p.cli, 10), 1);
  pair_free(&p);
  /* A peer that announced 8 is read with a 9-bit window: distances up to 512 (here 300, as an
   * old zlib that announced 8 but wrote 9 could produce) still decode. */
  wsk_pmd *srv10 = ctx(WSK_ROLE_SERVER, params(0, 0, 10, 10), NULL, 0);
  wsk_pmd *cli8 = ctx(WSK_ROLE_CLIENT, params(0, 0, 8, 15), NULL, 0);
  uint8_t text[3000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)(i < 300 ? rnd() : text[i - 300]);
  size_t n;
  uint8_t *c = compress_msg(srv10, text, sizeof text, 0, 0, &n);
  CHECK(n < 1000);
  expect_msg(cli8, c, n, 0, text, sizeof text);
  free(c);
  pmd_free(srv10);
  pmd_free(cli8);
  /* Bad parameters. */
  wsk_pmd *z = malloc(wsk_pmd_size());
  wsk_pmd_options_init(&o);
  struct wsk_pmd_params bad = params(0, 0, 7, 15);
  CHECK_EQ(wsk_pmd_init(z, WSK_ROLE_SERVER, &bad, &o, 0), WSK_EINVAL);
  bad = params(0, 0, 15, 16);
  CHECK_EQ(wsk_pmd_init(z, WSK_ROLE_SERVER, &bad, &o, 0), WSK_EINVAL);
  bad = params(0, 0, 15, 15);
  CHECK_EQ(wsk_pmd_init(z, (enum wsk_role)2, &bad, &o, 0), WSK_EINVAL);
  o.mem_level = 0;
  CHECK_EQ(wsk_pmd_init(z, WSK_ROLE_SERVER, &bad, &o, 0), WSK_EINVAL);
  free(z);
}

/* ---- limits ---------------------------------------------------------------------------------- */

static void test_limit(void) {
  uint8_t msg[10000];
  fill(msg, sizeof msg, 1);
  wsk_pmd *srv = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 0);
  size_t n;
  uint8_t *c = compress_msg(srv, msg, sizeof msg, 0, 0, &n);
  for (uint64_t max = sizeof msg - 2; max <= sizeof msg + 1; max++) {
    for (size_t step = 1; step < 20000; step = step * 5 + 3) {
      wsk_pmd *cli = ctx(WSK_ROLE_CLIENT, params(0, 0, 15, 15), NULL, max);
      uint8_t *m;
      size_t mlen;
      int rc = inflate_msg(cli, c, n, 0, step, &m, &mlen);
      CHECK_EQ(rc, max >= sizeof msg ? 0 : WSK_ETOOBIG);
      CHECK(mlen <= max);
      if (rc == 0) CHECK_MEM(m, msg, sizeof msg);
      free(m);
      pmd_free(cli);
    }
  }
  free(c);
  pmd_free(srv);
}

/* 100 MB of zeros compress to about 100 KB; inflating stops at the 1 MiB limit, having written
 * exactly 1 MiB, with zlib holding little more than its window. */
static void test_bomb(void) {
  const size_t chunk = 1 << 20, total = 100 * chunk, limit = 1 << 20;
  uint8_t *zeros = calloc(1, chunk);
  wsk_pmd *srv = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 0);
  size_t cap = 1 << 18, n = 0;
  uint8_t *bomb = malloc(cap);
  for (size_t off = 0; off < total; off += chunk) {
    size_t used = 0, made;
    int fin = off + chunk == total, rc;
    do {
      size_t u;
      rc = wsk_pmd_compress(srv, zeros + used, chunk - used, fin, bomb + n, cap - n, &u, &made);
      used += u;
      n += made;
      if (rc == WSK_PMD_MORE) bomb = realloc(bomb, cap *= 2);
    } while (rc == WSK_PMD_MORE);
    CHECK_EQ(rc, 0);
  }
  CHECK(n < total / 500);
  for (size_t piece = 0; piece <= 1400; piece += 1400) {
    wsk_pmd *cli = ctx(WSK_ROLE_CLIENT, params(0, 0, 15, 15), NULL, limit);
    uint8_t *m;
    size_t mlen, peak;
    CHECK_EQ(inflate_msg(cli, bomb, n, piece, 0, &m, &mlen), WSK_ETOOBIG);
    CHECK_EQ(mlen, limit);
    CHECK_EQ(memcmp(m, zeros, limit), 0);
    wsk_pmd_memory(cli, &peak);
    CHECK(peak < 64 * 1024);
    free(m);
    pmd_free(cli);
  }
  free(bomb);
  free(zeros);
  pmd_free(srv);
}

/* ---- memory ---------------------------------------------------------------------------------- */

/* Memory of one side after a 64 KiB text message each way (steady state), and its peak. */
static void measure(const char *label, struct wsk_pmd_params pp, int mem_level, size_t *now,
                    size_t *peak) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  o.mem_level = mem_level;
  struct pair p = pair_new(pp, &o);
  uint8_t *msg = malloc(65536);
  fill(msg, 65536, 3);
  for (int i = 0; i < 3; i++) round_trip(&p, msg, 65536, 1, 0, 0, 0);
  *now = wsk_pmd_memory(p.srv, peak);
  printf("  %-44s %8zu %8zu\n", label, *now, *peak);
  free(msg);
  pair_free(&p);
}

static void test_memory(void) {
  size_t now, peak, now_low, peak_low;
  printf("permessage-deflate memory per connection, server side, bytes (now, peak):\n");
  measure("window 15, memLevel 8, context takeover", params(0, 0, 15, 15), 8, &now, &peak);
  CHECK(now > 250 * 1024 && now < 350 * 1024);
  measure("window 10, memLevel 2, context takeover", params(0, 0, 10, 10), 2, &now_low, &peak_low);
  CHECK(now_low < now / 8);
  measure("window 9, memLevel 1, context takeover", params(0, 0, 9, 9), 1, &now_low, &peak_low);
  CHECK(now_low < 20 * 1024);
  measure("window 15, memLevel 8, no context takeover", params(1, 1, 15, 15), 8, &now, &peak);
  CHECK_EQ(now, wsk_pmd_size());
  measure("window 9, memLevel 1, no context takeover", params(1, 1, 9, 9), 1, &now_low, &peak_low);
  CHECK_EQ(now_low, wsk_pmd_size());
  CHECK(peak_low < peak / 8);
  /* Only negotiated connections pay, and only for the directions they use. */
  wsk_pmd *z = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 0);
  CHECK_EQ(wsk_pmd_memory(z, NULL), wsk_pmd_size());
  CHECK(wsk_pmd_size() < 512);
  expect_msg(z, hello_sync, sizeof hello_sync, 0, "Hello", 5);
  now = wsk_pmd_memory(z, NULL);
  CHECK(now > 32 * 1024 && now < 48 * 1024); /* inflate state + 32 KiB window */
  pmd_free(z);
}

#ifdef WSK_FAILMALLOC
/* Every allocation zlib makes can fail: the call reports WSK_ENOMEM, nothing leaks. */
static void test_failmalloc(void) {
  static const uint8_t msg[] = "Hello Hello Hello Hello";
  int failures = 0;
  for (unsigned long n = 1; n <= 8; n++) {
    wsk_pmd *z = ctx(WSK_ROLE_SERVER, params(0, 0, 15, 15), NULL, 0);
    uint8_t out[128];
    size_t used, made;
    wsk__failmalloc_arm(n);
    int rc = wsk_pmd_compress(z, msg, sizeof msg, 1, out, sizeof out, &used, &made);
    CHECK(rc == 0 || rc == WSK_ENOMEM);
    failures += rc == WSK_ENOMEM;
    rc = wsk_pmd_decompress(z, hello_sync, sizeof hello_sync, 1, out, sizeof out, &used, &made);
    CHECK(rc == 0 || rc == WSK_ENOMEM);
    failures += rc == WSK_ENOMEM;
    wsk__failmalloc_arm(0);
    pmd_free(z);
  }
  CHECK(failures >= 5);
}
#endif

int main(void) {
  test_rfc_vectors();
  test_stream_shapes();
  test_corrupt();
  test_round_trips();
  test_streaming_output();
  test_window_8();
  test_limit();
  test_bomb();
  test_memory();
#ifdef WSK_FAILMALLOC
  test_failmalloc();
#endif
  return check_report();
}
