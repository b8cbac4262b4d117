/* fuzz_utf8.c - wsk_utf8_valid and wsk_utf8_feed (whole, byte by byte, in uneven chunks) against
 * a slow reference written from the definition: a prefix is still acceptable while the bytes of
 * the current sequence leave some Unicode scalar value of that sequence's length possible.
 * Fail-fast: REJECT must appear exactly after the reference's first impossible byte. */
#include <stdint.h>
#include <stdlib.h>

#include "wsk_proto.h"

/* Index of the first byte after which no valid UTF-8 text can continue the input, or len if
 * there is none; *incomplete is set when the input ends inside a sequence. */
static size_t reference_first_bad(const uint8_t *d, size_t len, int *incomplete) {
  static const uint32_t lo[5] = {0, 0, 0x80, 0x800, 0x10000};
  static const uint32_t hi[5] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  *incomplete = 0;
  size_t i = 0;
  while (i < len) {
    uint8_t b = d[i];
    int n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0) return i;
    uint32_t bits = n == 1 ? b : b & (0xFFu >> (n + 1));
    for (int k = 0; k < n; k++) {
      if (k > 0) {
        if (i + k >= len) {
          *incomplete = 1;
          return len;
        }
        if ((d[i + k] & 0xC0) != 0x80) return i + k;
        bits = bits << 6 | (d[i + k] & 0x3F);
      }
      /* Code points still reachable: bits followed by any value of the missing bytes. */
      int missing = 6 * (n - 1 - k);
      uint32_t first = bits << missing, last = first | ((1u << missing) - 1);
      uint32_t a = first > lo[n] ? first : lo[n], z = last < hi[n] ? last : hi[n];
      int possible = a <= z && !(a >= 0xD800 && z <= 0xDFFF);
      if (!possible) return i + k;
    }
    i += n;
  }
  return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int incomplete;
  size_t bad = reference_first_bad(data, size, &incomplete);
  int valid = bad == size && !incomplete;
  if (wsk_utf8_valid(data, size) != valid) abort();

  wsk_utf8_state whole = wsk_utf8_feed(WSK_UTF8_ACCEPT, data, size);
  if ((whole == WSK_UTF8_REJECT) != (bad < size)) abort();
  if (whole != WSK_UTF8_REJECT && (whole == WSK_UTF8_ACCEPT) != valid) abort();
  if (bad < size) {
    /* The fast path must reject right after the bad byte, not before. */
    if (wsk_utf8_feed(WSK_UTF8_ACCEPT, data, bad) == WSK_UTF8_REJECT) abort();
    if (wsk_utf8_feed(WSK_UTF8_ACCEPT, data, bad + 1) != WSK_UTF8_REJECT) abort();
  }

  wsk_utf8_state s = WSK_UTF8_ACCEPT;
  for (size_t i = 0; i < size; i++) {
    s = wsk_utf8_feed(s, data + i, 1);
    if ((s == WSK_UTF8_REJECT) != (i >= bad)) abort();
  }
  if (s != whole) abort();

  /* Uneven chunks, sizes taken from the data itself. */
  s = WSK_UTF8_ACCEPT;
  for (size_t i = 0; i < size;) {
    size_t n = 1 + data[i] % 23;
    if (n > size - i) n = size - i;
    s = wsk_utf8_feed(s, data + i, n);
    i += n;
    if ((s == WSK_UTF8_REJECT) != (i > bad)) abort();
  }
  if (s != whole) abort();
  return 0;
}
