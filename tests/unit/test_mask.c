/* test_mask.c - wsk_mask against a byte-wise reference at every key offset, length 0..64 and
 * start alignment, across split calls, and for a large buffer. */
#include <stdlib.h>

#include "check.h"
#include "wsk.h"

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

static void reference(uint8_t *d, size_t len, size_t offset) {
  for (size_t i = 0; i < len; i++) d[i] ^= KEY[(offset + i) % 4];
}

static void fill(uint8_t *d, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++) d[i] = (uint8_t)(seed + i * 31 + (i >> 8));
}

static void test_small(void) {
  uint8_t a[64 + 8 + 1], b[64 + 8 + 1];
  for (size_t offset = 0; offset < 8; offset++)
    for (size_t align = 0; align < 8; align++)
      for (size_t len = 0; len <= 64; len++) {
        fill(a, sizeof a, (unsigned)(len + align));
        memcpy(b, a, sizeof a);
        size_t next = wsk_mask(a + align, len, KEY, offset);
        reference(b + align, len, offset);
        CHECK_EQ(next & 3, (offset + len) & 3);
        CHECK(memcmp(a, b, sizeof a) == 0); /* bytes outside [align, align+len) untouched too */
      }
}

static void test_split_and_large(void) {
  size_t n = (1u << 20) + 13;
  uint8_t *a = malloc(n), *b = malloc(n);
  fill(a, n, 5);
  memcpy(b, a, n);
  reference(b, n, 0);
  /* Uneven pieces, continuing the offset from call to call. */
  size_t off = 0, pos = 0, step = 1;
  while (pos < n) {
    size_t len = step < n - pos ? step : n - pos;
    off = wsk_mask(a + pos, len, KEY, off);
    pos += len;
    step = step * 3 + 1;
  }
  CHECK(memcmp(a, b, n) == 0);
  /* Masking twice restores the data. */
  fill(a, n, 5);
  wsk_mask(a, n, KEY, 2);
  wsk_mask(a, n, KEY, 2);
  fill(b, n, 5);
  CHECK(memcmp(a, b, n) == 0);
  free(a);
  free(b);
}

static void test_rfc_example(void) {
  uint8_t d[5] = {'H', 'e', 'l', 'l', 'o'};
  wsk_mask(d, 5, KEY, 0);
  CHECK_MEM(d, "\x7f\x9f\x4d\x51\x58", 5);
}

int main(void) {
  test_small();
  test_split_and_large();
  test_rfc_example();
  return check_report();
}
