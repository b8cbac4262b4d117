/* test_utf8.c - UTF-8 validation: valid 1-4 byte sequences, overlongs, surrogates, code points
 * above U+10FFFF, bad bytes, truncation; fail-fast: REJECT appears exactly after the first byte
 * that no valid text can continue, whether fed whole, byte by byte or split anywhere, and both
 * in the fast path (long runs before the bad byte) and the DFA. */
#include "check.h"
#include "wsk.h"

#define VALID (-1)
#define INCOMPLETE (-2)

struct vec {
  const char *s;
  size_t len;
  int bad_at; /* index of the first byte that cannot continue valid text, or VALID/INCOMPLETE */
};

#define V(lit, bad) {lit, sizeof(lit) - 1, bad}
static const struct vec vectors[] = {
  V("", VALID), V("a", VALID), V("\x7f", VALID),
  V("\xc2\x80", VALID), V("\xdf\xbf", VALID),                 /* U+0080, U+07FF */
  V("\xe0\xa0\x80", VALID), V("\xed\x9f\xbf", VALID),         /* U+0800, U+D7FF */
  V("\xee\x80\x80", VALID), V("\xef\xbf\xbf", VALID),         /* U+E000, U+FFFF */
  V("\xf0\x90\x80\x80", VALID), V("\xf4\x8f\xbf\xbf", VALID), /* U+10000, U+10FFFF */
  V("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87", VALID),
  V("\xc0\x80", 0), V("\xc1\xbf", 0),                         /* overlong 2-byte leads */
  V("\xf5\x80\x80\x80", 0), V("\xf8", 0), V("\xfe", 0), V("\xff", 0),
  V("\x80", 0), V("\xbf", 0), V("ab\x80", 2),                 /* lone continuation */
  V("\xe0\x80\x80", 1), V("\xe0\x9f\xbf", 1),                 /* overlong 3-byte */
  V("\xed\xa0\x80", 1), V("\xed\xbf\xbf", 1),                 /* surrogates U+D800, U+DFFF */
  V("\xed\xaf\xbf\xed\xb0\x80", 1),                           /* surrogate pair in CESU-8 */
  V("\xf0\x80\x80\x80", 1), V("\xf0\x8f\xbf\xbf", 1),         /* overlong 4-byte */
  V("\xf4\x90\x80\x80", 1), V("\xf4\xbf\xbf\xbf", 1),         /* above U+10FFFF */
  V("\xc2\x41", 1), V("\xe1\x80\x41", 2), V("\xf1\x80\x80\x41", 3), V("\xe1\xc2\x80", 1),
  V("\xc2", INCOMPLETE), V("ab\xe1\x80", INCOMPLETE), V("\xf0\x90", INCOMPLETE),
  V("\xf4\x8f\xbf", INCOMPLETE), V("\xe0", INCOMPLETE), V("\xed", INCOMPLETE),
};

static void check_one(const uint8_t *d, size_t n, long bad_at, int incomplete) {
  CHECK_EQ(wsk_utf8_valid(d, n), bad_at < 0 && !incomplete);
  wsk_utf8_state whole = wsk_utf8_feed(WSK_UTF8_ACCEPT, d, n);
  if (bad_at >= 0)
    CHECK_EQ(whole, WSK_UTF8_REJECT);
  else if (incomplete)
    CHECK(whole != WSK_UTF8_ACCEPT && whole != WSK_UTF8_REJECT);
  else
    CHECK_EQ(whole, WSK_UTF8_ACCEPT);
  /* Fail-fast, in one call per prefix (fast path) and byte by byte (DFA). */
  wsk_utf8_state s = WSK_UTF8_ACCEPT;
  for (size_t k = 0; k <= n; k++) {
    int rejected = bad_at >= 0 && (long)k > bad_at;
    CHECK_EQ(wsk_utf8_feed(WSK_UTF8_ACCEPT, d, k) == WSK_UTF8_REJECT, rejected);
    CHECK_EQ(s == WSK_UTF8_REJECT, rejected);
    if (k < n) s = wsk_utf8_feed(s, d + k, 1);
  }
  /* Any split into two calls gives the same final state. */
  for (size_t k = 0; k <= n; k++)
    CHECK_EQ(wsk_utf8_feed(wsk_utf8_feed(WSK_UTF8_ACCEPT, d, k), d + k, n - k), whole);
}

/* Each vector alone, then embedded after `pad` bytes of ASCII or CJK and followed by 40 ASCII
 * bytes, so that the bad byte is met by the 8-byte ASCII path and the multi-byte path too. */
static void test_vectors(void) {
  uint8_t buf[256];
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    const struct vec *v = &vectors[i];
    check_one((const uint8_t *)v->s, v->len, v->bad_at, v->bad_at == INCOMPLETE);
    for (int cjk = 0; cjk <= 1; cjk++)
      for (size_t pad = 0; pad <= 48; pad += cjk ? 3 : 1) {
        for (size_t j = 0; j < pad; j++) buf[j] = cjk ? (uint8_t)"\xe4\xb8\xad"[j % 3] : 'a' + j % 26;
        memcpy(buf + pad, v->s, v->len);
        memset(buf + pad + v->len, 'z', 40);
        long bad = v->bad_at >= 0 ? (long)pad + v->bad_at
                   : v->bad_at == INCOMPLETE ? (long)(pad + v->len)
                                             : -1;
        check_one(buf, pad + v->len + 40, bad, 0);
      }
  }
}

static void test_sticky_and_long(void) {
  CHECK_EQ(wsk_utf8_feed(WSK_UTF8_REJECT, (const uint8_t *)"abc", 3), WSK_UTF8_REJECT);
  CHECK_EQ(wsk_utf8_feed(WSK_UTF8_REJECT, NULL, 0), WSK_UTF8_REJECT);
  CHECK_EQ(wsk_utf8_feed(WSK_UTF8_ACCEPT, NULL, 0), WSK_UTF8_ACCEPT);
  /* Every code point, encoded by hand, is accepted; every surrogate is rejected. */
  uint8_t e[4];
  int ok = 1;
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    size_t n;
    if (cp < 0x80) e[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800) e[0] = (uint8_t)(0xC0 | cp >> 6), e[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
      e[0] = (uint8_t)(0xE0 | cp >> 12), e[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
      e[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
    else
      e[0] = (uint8_t)(0xF0 | cp >> 18), e[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
      e[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), e[3] = (uint8_t)(0x80 | (cp & 0x3F)), n = 4;
    int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (wsk_utf8_valid(e, n) == surrogate) ok = 0;
  }
  CHECK(ok);
}

int main(void) {
  test_vectors();
  test_sticky_and_long();
  return check_report();
}
