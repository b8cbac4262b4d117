/* test_close.c - close codes, close payload parse and build, error-to-code mapping. */
#include "check.h"
#include "wsk.h"

static void test_codes(void) {
  static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                   1012, 1013, 1014, 3000, 3999, 4000, 4999};
  static const unsigned invalid[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999,
                                     5000, 65535, 65536, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) CHECK(wsk_close_code_valid(valid[i]));
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
    CHECK(!wsk_close_code_valid(invalid[i]));
  int count = 0;
  for (unsigned c = 0; c < 70000; c++) count += wsk_close_code_valid(c);
  CHECK_EQ(count, 4 + 8 + 2000);
}

static void test_parse(void) {
  unsigned code = 0;
  const char *reason = NULL;
  size_t rlen = 99;
  CHECK_EQ(wsk_close_parse(NULL, 0, &code, &reason, &rlen), 0);
  CHECK(code == 1005 && reason && rlen == 0);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03", 1, &code, &reason, &rlen), WSK_EPROTO);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xE8", 2, &code, &reason, &rlen), 0);
  CHECK(code == 1000 && rlen == 0);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x0F\xA0ok \xe2\x82\xac", 8, &code, &reason, &rlen), 0);
  CHECK(code == 4000 && rlen == 6 && memcmp(reason, "ok \xe2\x82\xac", 6) == 0);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xEC", 2, &code, NULL, NULL), WSK_EPROTO);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xED", 2, &code, NULL, NULL), WSK_EPROTO);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xEE", 2, &code, NULL, NULL), WSK_EPROTO);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x13\x88", 2, &code, NULL, NULL), WSK_EPROTO);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xE8\xC0\xAF", 4, &code, NULL, NULL), WSK_EUTF8);
  CHECK_EQ(wsk_close_parse((const uint8_t *)"\x03\xE8\xE2\x82", 4, &code, NULL, NULL), WSK_EUTF8);
  uint8_t big[126];
  memset(big, 'a', sizeof big);
  big[0] = 0x03, big[1] = 0xE8;
  CHECK_EQ(wsk_close_parse(big, 125, &code, &reason, &rlen), 0);
  CHECK_EQ(rlen, 123);
  CHECK_EQ(wsk_close_parse(big, 126, &code, &reason, &rlen), WSK_EPROTO);
}

static void test_build(void) {
  uint8_t out[WSK_MAX_CONTROL_PAYLOAD];
  CHECK_EQ(wsk_close_build(out, 0, "ignored", 7), 0);
  CHECK_EQ(wsk_close_build(out, 1000, NULL, 0), 2);
  CHECK_MEM(out, "\x03\xE8", 2);
  CHECK_EQ(wsk_close_build(out, 4001, "bye", 3), 5);
  CHECK_MEM(out, "\x0F\xA1" "bye", 5);
  char r[200];
  memset(r, 'x', sizeof r);
  CHECK_EQ(wsk_close_build(out, 1001, r, sizeof r), 125);
  /* 122 ASCII bytes + a 3-byte euro sign: the euro does not fit and is dropped whole. */
  memcpy(r + 122, "\xe2\x82\xac", 3);
  CHECK_EQ(wsk_close_build(out, 1001, r, 125), 124);
  CHECK(wsk_utf8_valid(out + 2, 122));
  /* 121 ASCII + euro = 124 bytes: cut to 121. 120 + euro = 123 fits exactly. */
  memcpy(r + 121, "\xe2\x82\xac", 3);
  CHECK_EQ(wsk_close_build(out, 1001, r, 124), 2 + 121);
  memcpy(r + 120, "\xe2\x82\xac", 3);
  CHECK_EQ(wsk_close_build(out, 1001, r, 123), 2 + 123);
  /* A 4-byte character across the limit. */
  memset(r, 'x', sizeof r);
  memcpy(r + 121, "\xf0\x9f\x98\x80", 4);
  size_t n = wsk_close_build(out, 1000, r, 125);
  CHECK_EQ(n, 2 + 121);
  unsigned code;
  const char *reason;
  size_t rlen;
  CHECK_EQ(wsk_close_parse(out, n, &code, &reason, &rlen), 0);
  CHECK(code == 1000 && rlen == 121);
}

/* What wsk_close and wsk_client_close accept as a reason: what fits a control frame with the code,
 * in UTF-8. */
static void test_reason_check(void) {
  char r[124];
  memset(r, 'x', sizeof r);
  CHECK_EQ(wsk_close_reason_check(NULL, 0), 0);
  CHECK_EQ(wsk_close_reason_check(r, 123), 0);
  CHECK_EQ(wsk_close_reason_check(r, 124), WSK_EINVAL);
  memcpy(r + 120, "\xe2\x82\xac", 3);
  CHECK_EQ(wsk_close_reason_check(r, 123), 0);
  CHECK_EQ(wsk_close_reason_check(r, 122), WSK_EUTF8); /* a character cut short */
  CHECK_EQ(wsk_close_reason_check("\xc3\x28", 2), WSK_EUTF8);
  CHECK_EQ(wsk_close_reason_check("\xed\xa0\x80", 3), WSK_EUTF8); /* a surrogate */
}

static void test_error_codes(void) {
  CHECK_EQ(wsk_close_code_for_error(WSK_EPROTO), 1002);
  CHECK_EQ(wsk_close_code_for_error(WSK_EUTF8), 1007);
  CHECK_EQ(wsk_close_code_for_error(WSK_ETOOBIG), 1009);
  CHECK_EQ(wsk_close_code_for_error(WSK_EPOLICY), 1008);
  CHECK_EQ(wsk_close_code_for_error(WSK_ENOMEM), 1011);
  CHECK_EQ(wsk_close_code_for_error(0), 1011);
}

int main(void) {
  test_codes();
  test_parse();
  test_build();
  test_reason_check();
  test_error_codes();
  return check_report();
}
