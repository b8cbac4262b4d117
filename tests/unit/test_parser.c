/* test_parser.c - the message layer: events for every split of a stream, the RFC 6455 5.7
 * examples, each protocol error with its close code, role rules, RSV1, max_message, close. */
#include "check.h"
#include "test_parser_driver.h"

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Append one frame to a stream; masked with KEY when `masked`. */
static void put_frame(struct pd_log *s, int fin, int rsv, int opcode, const void *payload,
                      size_t len, int masked) {
  uint8_t h[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk_frame_write_header(h, fin, rsv, opcode, len, masked ? KEY : NULL);
  pd_put(s, h, hl);
  size_t at = s->len;
  pd_put(s, payload, len);
  if (masked) wsk_mask(s->buf + at, len, KEY, 0);
}

/* Run a whole stream through a fresh parser in one piece. */
static int run_whole(enum wsk_role role, uint64_t max, int rsv1, const uint8_t *in, size_t n,
                     struct pd_log *log) {
  struct wsk_parser p;
  wsk_parser_init(&p, role, max, rsv1);
  return pd_run(&p, in, n, NULL, 0, log);
}

static int run_one(enum wsk_role role, const uint8_t *in, size_t n) {
  struct pd_log log = {0};
  int r = run_whole(role, 0, 0, in, n, &log);
  pd_free(&log);
  return r;
}

static void expect_msg(struct pd_log *l, int opcode, const char *payload, size_t len) {
  pd_byte(l, 'M');
  pd_byte(l, (unsigned)opcode);
  pd_byte(l, 0);
  pd_put(l, payload, len);
  pd_byte(l, 'E');
}

static void test_every_split(void) {
  struct pd_log s = {0}, want = {0};
  uint8_t bin[300];
  for (size_t i = 0; i < sizeof bin; i++) bin[i] = (uint8_t)(i * 7);
  const char *hello = "Hello, w\xc3\xb6rld";
  put_frame(&s, 1, 0, WSK_OP_TEXT, hello, strlen(hello), 1);
  put_frame(&s, 0, 0, WSK_OP_BINARY, bin, 200, 1);       /* 16-bit length */
  put_frame(&s, 1, 0, WSK_OP_PING, "p1", 2, 1);          /* interleaved control */
  put_frame(&s, 0, 0, WSK_OP_CONT, "", 0, 1);            /* empty fragment */
  put_frame(&s, 1, 0, WSK_OP_CONT, bin + 200, 100, 1);
  put_frame(&s, 0, 0, WSK_OP_TEXT, "H\xe2\x82", 3, 1);   /* U+20AC split across frames */
  put_frame(&s, 1, 0, WSK_OP_CONT, "\xac!", 2, 1);
  put_frame(&s, 1, 0, WSK_OP_TEXT, "", 0, 1);            /* empty message */
  put_frame(&s, 1, 0, WSK_OP_PONG, "", 0, 1);
  uint8_t cp[WSK_MAX_CONTROL_PAYLOAD];
  size_t cl = wsk_close_build(cp, 1000, "bye", 3);
  put_frame(&s, 1, 0, WSK_OP_CLOSE, cp, cl, 1);
  pd_put(&s, "\xff\xff garbage after close", 22);

  expect_msg(&want, WSK_OP_TEXT, hello, strlen(hello));
  pd_byte(&want, 'P'), pd_byte(&want, 2), pd_put(&want, "p1", 2); /* before its message */
  expect_msg(&want, WSK_OP_BINARY, (const char *)bin, 300);
  expect_msg(&want, WSK_OP_TEXT, "H\xe2\x82\xac!", 5);
  expect_msg(&want, WSK_OP_TEXT, "", 0);
  pd_byte(&want, 'Q'), pd_byte(&want, 0);
  pd_byte(&want, 'C'), pd_byte(&want, 1000 >> 8), pd_byte(&want, 1000 & 0xFF), pd_byte(&want, 3);
  pd_put(&want, "bye", 3);
  pd_byte(&want, 'R'), pd_byte(&want, 0);

  struct pd_log whole = {0};
  CHECK_EQ(run_whole(WSK_ROLE_SERVER, 0, 0, s.buf, s.len, &whole), 0);
  CHECK_EQ(whole.len, want.len);
  CHECK_MEM(whole.buf, want.buf, want.len < whole.len ? want.len : whole.len);

  size_t *cuts = malloc(s.len * sizeof *cuts);
  for (size_t k = 0; k <= s.len; k++) {
    struct wsk_parser p;
    struct pd_log log = {0};
    wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
    cuts[0] = k;
    CHECK_EQ(pd_run(&p, s.buf, s.len, cuts, 1, &log), 0);
    CHECK(log.len == want.len && memcmp(log.buf, want.buf, want.len) == 0);
    pd_free(&log);
  }
  for (size_t k = 0; k < s.len; k++) cuts[k] = k + 1;
  struct wsk_parser p;
  struct pd_log bytewise = {0};
  wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
  CHECK_EQ(pd_run(&p, s.buf, s.len, cuts, s.len, &bytewise), 0);
  CHECK(bytewise.len == want.len && memcmp(bytewise.buf, want.buf, want.len) == 0);
  CHECK(p.closed);
  free(cuts);
  pd_free(&bytewise), pd_free(&whole), pd_free(&want), pd_free(&s);
}

/* Feed exactly `in` once; returns the result and the event. */
static int feed(struct wsk_parser *p, const void *in, size_t n, struct wsk_event *ev,
                uint8_t *scratch) {
  memcpy(scratch, in, n);
  return wsk_parser_feed(p, scratch, n, ev);
}

static void test_rfc_examples(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[64];

  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x81\x05Hello", 7, &ev, b), 7);
  CHECK(ev.type == WSK_EV_DATA && ev.opcode == WSK_OP_TEXT && ev.first && ev.fin);
  CHECK(ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);

  wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
  CHECK_EQ(feed(&p, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11, &ev, b), 11);
  CHECK(ev.type == WSK_EV_DATA && ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);
  CHECK(ev.data == b + 6);

  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x01\x03Hel", 5, &ev, b), 5);
  CHECK(ev.type == WSK_EV_DATA && ev.first && !ev.fin && ev.len == 3);
  CHECK_EQ(feed(&p, "\x80\x02lo", 4, &ev, b), 4);
  CHECK(ev.type == WSK_EV_DATA && !ev.first && ev.fin && ev.opcode == WSK_OP_TEXT);
  CHECK(ev.len == 2 && memcmp(ev.data, "lo", 2) == 0);

  CHECK_EQ(feed(&p, "\x89\x05Hello", 7, &ev, b), 7);
  CHECK(ev.type == WSK_EV_PING && ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);

  wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
  CHECK_EQ(feed(&p, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11, &ev, b), 11);
  CHECK(ev.type == WSK_EV_PONG && ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);

  /* 256-byte and 64 KiB binary frames: the header alone is consumed, the payload streamed. */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x82\x7E\x01\x00", 4, &ev, b), 4);
  CHECK(ev.type == WSK_EV_NONE && p.remaining == 256);
  memset(b, 'x', 64);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(wsk_parser_feed(&p, b, 64, &ev), 64);
    CHECK(ev.type == WSK_EV_DATA && ev.len == 64 && ev.first == (i == 0) && ev.fin == (i == 3));
  }
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10, &ev, b), 10);
  CHECK(ev.type == WSK_EV_NONE && p.remaining == 65536);
}

static void test_partial(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[300];
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "", 0, &ev, b), 0);
  CHECK_EQ(feed(&p, "\x81", 1, &ev, b), 0);
  CHECK(ev.type == WSK_EV_NONE);
  CHECK_EQ(feed(&p, "\x82\x7E\x01", 3, &ev, b), 0); /* partial 16-bit length */
  CHECK(ev.type == WSK_EV_NONE);
  CHECK_EQ(feed(&p, "\x89\x05Hell", 6, &ev, b), 0); /* control frames only whole */
  CHECK(ev.type == WSK_EV_NONE);
  CHECK_EQ(feed(&p, "\x82\x05Hel", 5, &ev, b), 5);  /* data: partial payload is a chunk */
  CHECK(ev.type == WSK_EV_DATA && ev.first && !ev.fin && ev.len == 3);
  CHECK_EQ(feed(&p, "lo\x89", 3, &ev, b), 2);
  CHECK(ev.type == WSK_EV_DATA && !ev.first && ev.fin && ev.len == 2);
  /* 2^32 and 2^63-1 byte frames: the header is accepted, the payload streams. */
  CHECK_EQ(feed(&p, "\x82\x7F\x00\x00\x00\x01\x00\x00\x00\x00", 10, &ev, b), 10);
  CHECK(ev.type == WSK_EV_NONE && p.remaining == (1ull << 32));
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x82\x7F\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFFxyz", 13, &ev, b), 13);
  CHECK(ev.type == WSK_EV_DATA && ev.len == 3 && p.remaining == INT64_MAX - 3);
}

static void test_errors(void) {
  static const struct {
    const char *what;
    enum wsk_role role;
    const char *bytes;
    size_t len;
    int err;
  } cases[] = {
    {"server: unmasked frame", WSK_ROLE_SERVER, "\x81\x00", 2, WSK_EPROTO},
    {"client: masked frame", WSK_ROLE_CLIENT, "\x81\x80\x01\x02\x03\x04", 6, WSK_EPROTO},
    {"continuation without message", WSK_ROLE_CLIENT, "\x80\x00", 2, WSK_EPROTO},
    {"text inside fragmented message", WSK_ROLE_CLIENT, "\x01\x01" "a\x81\x00", 5, WSK_EPROTO},
    {"binary inside fragmented message", WSK_ROLE_CLIENT, "\x02\x00\x02\x00", 4, WSK_EPROTO},
    {"fragmented ping", WSK_ROLE_CLIENT, "\x09\x00", 2, WSK_EPROTO},
    {"ping of 126 bytes", WSK_ROLE_CLIENT, "\x89\x7E\x00\x7E", 4, WSK_EPROTO},
    {"close of 127-form length", WSK_ROLE_CLIENT, "\x88\x7F", 2, WSK_EPROTO},
    {"RSV1 without extension", WSK_ROLE_CLIENT, "\xC1\x00", 2, WSK_EPROTO},
    {"RSV2", WSK_ROLE_CLIENT, "\xA1\x00", 2, WSK_EPROTO},
    {"RSV3", WSK_ROLE_CLIENT, "\x91\x00", 2, WSK_EPROTO},
    {"non-minimal 16-bit length", WSK_ROLE_CLIENT, "\x82\x7E\x00\x7D", 4, WSK_EPROTO},
    {"non-minimal 64-bit length", WSK_ROLE_CLIENT, "\x82\x7F\0\0\0\0\0\0\xFF\xFF", 10, WSK_EPROTO},
    {"64-bit length top bit", WSK_ROLE_CLIENT, "\x82\x7F\x80\0\0\0\0\0\0\0", 10, WSK_EPROTO},
    {"bad UTF-8", WSK_ROLE_CLIENT, "\x81\x02\xC3\x28", 4, WSK_EUTF8},
    {"UTF-8 cut at message end", WSK_ROLE_CLIENT, "\x81\x01\xC3", 3, WSK_EUTF8},
    {"UTF-8 cut at end of fragments", WSK_ROLE_CLIENT, "\x01\x01" "a\x80\x01\xE2", 6, WSK_EUTF8},
    {"close with 1 byte", WSK_ROLE_CLIENT, "\x88\x01\x03", 3, WSK_EPROTO},
    {"close code 1005", WSK_ROLE_CLIENT, "\x88\x02\x03\xED", 4, WSK_EPROTO},
    {"close code 999", WSK_ROLE_CLIENT, "\x88\x02\x03\xE7", 4, WSK_EPROTO},
    {"close reason not UTF-8", WSK_ROLE_CLIENT, "\x88\x03\x03\xE8\xFF", 5, WSK_EUTF8},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = run_one(cases[i].role, (const uint8_t *)cases[i].bytes, cases[i].len);
    if (r != cases[i].err) fprintf(stderr, "case \"%s\": %d\n", cases[i].what, r);
    CHECK_EQ(r, cases[i].err);
  }
  CHECK_EQ(wsk_close_code_for_error(WSK_EPROTO), 1002);
  CHECK_EQ(wsk_close_code_for_error(WSK_EUTF8), 1007);
  CHECK_EQ(wsk_close_code_for_error(WSK_ETOOBIG), 1009);

  for (int op = 0; op < 16; op++) {
    uint8_t fr[2] = {(uint8_t)(0x80 | op), 0};
    int reserved = (op >= 3 && op <= 7) || op >= 0xB;
    int want = reserved ? WSK_EPROTO : op == WSK_OP_CONT ? WSK_EPROTO : 0;
    CHECK_EQ(run_one(WSK_ROLE_CLIENT, fr, 2), want);
  }
}

static void test_fail_fast(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[16];
  /* A 100-byte text frame whose third byte is bad fails with only 3 bytes of it here. */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x81\x64" "ab\xFF", 5, &ev, b), WSK_EUTF8);
  /* An overlong E0 80 is rejected at its second byte, though the frame continues. */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x81\x64" "a\xE0", 4, &ev, b), 4);
  CHECK_EQ(feed(&p, "\x80", 1, &ev, b), WSK_EUTF8);
  /* Protocol errors need only the first two header bytes. */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x83\x7F", 2, &ev, b), WSK_EPROTO);
}

static void test_rsv1(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[16];
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 1);
  CHECK_EQ(feed(&p, "\x41\x02\xFF\xFE", 4, &ev, b), 4); /* compressed text: not UTF-8 checked */
  CHECK(ev.type == WSK_EV_DATA && ev.compressed && ev.first && !ev.fin);
  CHECK_EQ(feed(&p, "\xC0\x00", 2, &ev, b), WSK_EPROTO); /* RSV1 on a continuation */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 1);
  CHECK_EQ(feed(&p, "\xC9\x00", 2, &ev, b), WSK_EPROTO); /* RSV1 on a control frame */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 1);
  CHECK_EQ(feed(&p, "\x01\x01" "a", 3, &ev, b), 3);
  CHECK(!ev.compressed);
  CHECK_EQ(feed(&p, "\x80\x01" "b", 3, &ev, b), 3);
  CHECK(ev.fin && !ev.compressed);
  CHECK_EQ(feed(&p, "\xC2\x01" "z", 3, &ev, b), 3);
  CHECK(ev.type == WSK_EV_DATA && ev.compressed && ev.opcode == WSK_OP_BINARY && ev.fin);
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 1);
  CHECK_EQ(feed(&p, "\xE1\x00", 2, &ev, b), WSK_EPROTO); /* RSV2 still refused */
}

static void test_max_message(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[32];
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 10, 0);
  CHECK_EQ(feed(&p, "\x82\x0A" "0123456789", 12, &ev, b), 12);
  CHECK(ev.type == WSK_EV_DATA && ev.len == 10 && ev.fin);
  CHECK_EQ(feed(&p, "\x82\x0B", 2, &ev, b), WSK_ETOOBIG); /* at the header, before the payload */

  wsk_parser_init(&p, WSK_ROLE_CLIENT, 10, 0);
  CHECK_EQ(feed(&p, "\x02\x05" "01234", 7, &ev, b), 7);
  CHECK_EQ(feed(&p, "\x89\x00", 2, &ev, b), 2);          /* control frames do not count */
  CHECK_EQ(feed(&p, "\x80\x05" "56789", 7, &ev, b), 7);
  CHECK(ev.fin);
  CHECK_EQ(feed(&p, "\x02\x05" "01234", 7, &ev, b), 7);  /* a new message starts from 0 */
  CHECK_EQ(feed(&p, "\x80\x06", 2, &ev, b), WSK_ETOOBIG);

  wsk_parser_init(&p, WSK_ROLE_CLIENT, 1u << 20, 0);
  CHECK_EQ(feed(&p, "\x82\x7F\x00\x00\x00\x01\x00\x00\x00\x00", 10, &ev, b), WSK_ETOOBIG);
  CHECK_EQ(wsk_close_code_for_error(WSK_ETOOBIG), 1009);
}

static void test_close_and_after(void) {
  struct wsk_parser p;
  struct wsk_event ev;
  uint8_t b[64];
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x88\x00", 2, &ev, b), 2);
  CHECK(ev.type == WSK_EV_CLOSE && ev.close_code == 1005 && ev.close_reason_len == 0);
  CHECK(p.closed);
  CHECK_EQ(feed(&p, "\x81\x05Hello", 7, &ev, b), 7); /* ignored */
  CHECK(ev.type == WSK_EV_NONE);
  CHECK_EQ(feed(&p, "\xFF\xFF", 2, &ev, b), 2);
  CHECK(ev.type == WSK_EV_NONE);

  wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
  uint8_t fr[32], pl[WSK_MAX_CONTROL_PAYLOAD];
  size_t pn = wsk_close_build(pl, 4000, "caf\xc3\xa9", 5);
  size_t hn = wsk_frame_write_header(fr, 1, 0, WSK_OP_CLOSE, pn, KEY);
  memcpy(fr + hn, pl, pn);
  wsk_mask(fr + hn, pn, KEY, 0);
  CHECK_EQ(wsk_parser_feed(&p, fr, hn + pn, &ev), (int)(hn + pn));
  CHECK(ev.type == WSK_EV_CLOSE && ev.close_code == 4000);
  CHECK(ev.close_reason_len == 5 && memcmp(ev.close_reason, "caf\xc3\xa9", 5) == 0);

  /* A close between fragments of a message is fine. */
  wsk_parser_init(&p, WSK_ROLE_CLIENT, 0, 0);
  CHECK_EQ(feed(&p, "\x01\x01" "a", 3, &ev, b), 3);
  CHECK_EQ(feed(&p, "\x88\x02\x03\xE8", 4, &ev, b), 4);
  CHECK(ev.type == WSK_EV_CLOSE && ev.close_code == 1000);
}

/* Whole small frames (the parser's one-pass path) against the same stream fed byte by byte (the
 * general path): every payload length up to 125 and beyond, ASCII, UTF-8 and bad UTF-8 at each
 * position, binary, max_message at the boundary, and a small frame inside a fragmented message. */
static void check_same(uint64_t max, const struct pd_log *s) {
  struct pd_log whole = {0}, split = {0};
  struct wsk_parser p;
  int rw = run_whole(WSK_ROLE_SERVER, max, 0, s->buf, s->len, &whole);
  size_t *cuts = malloc(s->len * sizeof *cuts);
  for (size_t k = 0; k < s->len; k++) cuts[k] = k + 1;
  wsk_parser_init(&p, WSK_ROLE_SERVER, max, 0);
  int rs = pd_run(&p, s->buf, s->len, cuts, s->len, &split);
  CHECK_EQ(rw, rs);
  CHECK(whole.len == split.len && memcmp(whole.buf, split.buf, whole.len) == 0);
  free(cuts);
  pd_free(&whole), pd_free(&split);
}

static void test_small_frames(void) {
  uint8_t text[140], bin[140];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)('a' + i % 26), bin[i] = (uint8_t)(i * 37);
  for (size_t len = 0; len <= 130; len++) {
    struct pd_log s = {0};
    put_frame(&s, 1, 0, WSK_OP_TEXT, text, len, 1);
    put_frame(&s, 1, 0, WSK_OP_BINARY, bin, len, 1);
    check_same(0, &s);
    check_same(len ? len - 1 : 1, &s); /* just over, or just within, max_message */
    check_same(len, &s);
    pd_free(&s);
    for (size_t at = 0; at + 2 <= len; at += 7) {
      uint8_t t[140];
      memcpy(t, text, len);
      memcpy(t + at, "\xc3\xa9", 2); /* U+00E9 */
      struct pd_log ok = {0}, bad = {0};
      put_frame(&ok, 1, 0, WSK_OP_TEXT, t, len, 1);
      check_same(0, &ok);
      t[at + 1] = 'x'; /* a lead byte without its continuation */
      put_frame(&bad, 1, 0, WSK_OP_TEXT, t, len, 1);
      CHECK_EQ(run_one(WSK_ROLE_SERVER, bad.buf, bad.len), WSK_EUTF8);
      check_same(0, &bad);
      pd_free(&ok), pd_free(&bad);
    }
  }
  struct pd_log s = {0};
  put_frame(&s, 0, 0, WSK_OP_TEXT, "ab", 2, 1);
  put_frame(&s, 1, 0, WSK_OP_TEXT, "cd", 2, 1); /* a new message inside a fragmented one */
  CHECK_EQ(run_one(WSK_ROLE_SERVER, s.buf, s.len), WSK_EPROTO);
  check_same(0, &s);
  pd_free(&s);
}

int main(void) {
  CHECK(sizeof(struct wsk_parser) <= 48);
  test_every_split();
  test_rfc_examples();
  test_partial();
  test_errors();
  test_fail_fast();
  test_rsv1();
  test_max_message();
  test_close_and_after();
  test_small_frames();
  return check_report();
}
