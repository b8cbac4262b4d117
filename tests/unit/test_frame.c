/* test_frame.c - frame header parse and write: every length class, masks, incomplete headers,
 * non-minimal lengths, the RFC 6455 5.7 example headers. */
#include "check.h"
#include "wsk.h"

static void roundtrip(uint64_t len, int masked) {
  static const uint8_t key[4] = {1, 2, 3, 4};
  uint8_t b[WSK_MAX_FRAME_HEADER];
  size_t n = wsk_frame_write_header(b, 1, 0x4, WSK_OP_BINARY, len, masked ? key : NULL);
  size_t want = 2 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
  CHECK_EQ(n, want);
  struct wsk_frame_header h;
  for (size_t k = 0; k < n; k++) CHECK_EQ(wsk_frame_parse_header(b, k, &h), WSK_EAGAIN);
  CHECK_EQ(wsk_frame_parse_header(b, n, &h), (int)n);
  CHECK_EQ(h.header_len, n);
  CHECK(h.fin == 1 && h.rsv == 0x4 && h.opcode == WSK_OP_BINARY && h.masked == masked);
  CHECK(h.payload_len == len);
  if (masked) CHECK_MEM(h.mask, key, 4);
}

static void test_lengths(void) {
  static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 1ull << 32,
                                  (1ull << 32) + 5, INT64_MAX};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    roundtrip(lens[i], 0);
    roundtrip(lens[i], 1);
  }
}

static void test_fields(void) {
  struct wsk_frame_header h;
  uint8_t b[WSK_MAX_FRAME_HEADER];
  for (int fin = 0; fin <= 1; fin++)
    for (int rsv = 0; rsv < 8; rsv++)
      for (int op = 0; op < 16; op++) {
        size_t n = wsk_frame_write_header(b, fin, rsv, op, 3, NULL);
        CHECK_EQ(wsk_frame_parse_header(b, n, &h), 2);
        CHECK(h.fin == fin && h.rsv == rsv && h.opcode == op && !h.masked);
        CHECK(h.payload_len == 3);
      }
}

static void test_rfc_examples(void) {
  struct wsk_frame_header h;
  uint8_t b[WSK_MAX_FRAME_HEADER];
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_TEXT, 5, NULL), 2);
  CHECK_MEM(b, "\x81\x05", 2);
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_TEXT, 5, key), 6);
  CHECK_MEM(b, "\x81\x85\x37\xfa\x21\x3d", 6);
  CHECK_EQ(wsk_frame_write_header(b, 0, 0, WSK_OP_TEXT, 3, NULL), 2);
  CHECK_MEM(b, "\x01\x03", 2);
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_CONT, 2, NULL), 2);
  CHECK_MEM(b, "\x80\x02", 2);
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_PING, 5, NULL), 2);
  CHECK_MEM(b, "\x89\x05", 2);
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_BINARY, 256, NULL), 4);
  CHECK_MEM(b, "\x82\x7E\x01\x00", 4);
  CHECK_EQ(wsk_frame_write_header(b, 1, 0, WSK_OP_BINARY, 65536, NULL), 10);
  CHECK_MEM(b, "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x81\x85\x37\xfa\x21\x3d", 6, &h), 6);
  CHECK(h.masked && h.payload_len == 5 && h.opcode == WSK_OP_TEXT && h.fin);
  CHECK_MEM(h.mask, key, 4);
}

static void test_bad_lengths(void) {
  struct wsk_frame_header h;
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7E\x00\x7D", 4, &h), WSK_EPROTO);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7E\x00\x7E", 4, &h), 4);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7F\0\0\0\0\0\0\xFF\xFF", 10, &h),
           WSK_EPROTO);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7F\0\0\0\0\0\1\0\0", 10, &h), 10);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7F\x80\0\0\0\0\0\0\0", 10, &h),
           WSK_EPROTO);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
                                  10, &h), WSK_EPROTO);
  CHECK_EQ(wsk_frame_parse_header((const uint8_t *)"\x82", 1, &h), WSK_EAGAIN);
  CHECK_EQ(wsk_frame_parse_header(NULL, 0, &h), WSK_EAGAIN);
}

int main(void) {
  test_lengths();
  test_fields();
  test_rfc_examples();
  test_bad_lengths();
  return check_report();
}
