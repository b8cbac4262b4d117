/* mask.c - RFC 6455 section 5.3 payload masking: in-place XOR with a 4-byte key, continuing
 * across calls. The key is rotated to the current offset once and widened to 8 bytes; then 64
 * bytes per step in 32-byte vectors (GCC/Clang vector extensions: two SSE2 registers each, or one
 * AVX2 register in the clone picked on CPUs that have it), 8 bytes per step, 4, then bytes. No
 * alignment prologue: loads and stores go through memcpy, which compiles to unaligned moves, so a
 * 20-byte payload at an odd address takes three steps. */
#include <string.h>

#include "wsk_proto.h"

typedef uint64_t wide_key __attribute__((vector_size(32)));

/* GCC only: clang 14 accepts target_clones but emits no callable wsk_mask symbol for it. Not
 * under ThreadSanitizer: the clone's resolver runs during relocation, before the sanitizer's
 * runtime is up, and its instrumented entry crashes there. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define MASK_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MASK_CLONES
#define MASK_CLONES
#endif

MASK_CLONES
size_t wsk_mask(uint8_t *data, size_t len, const uint8_t key[4], size_t offset) {
  uint8_t rot[8];
  for (size_t j = 0; j < 8; j++) rot[j] = key[(offset + j) & 3];
  uint64_t k;
  memcpy(&k, rot, 8);
  size_t i = 0;
  if (len >= 64) {
    const wide_key kv = {k, k, k, k};
    for (; len - i >= 64; i += 64) {
      wide_key a, b;
      memcpy(&a, data + i, 32);
      memcpy(&b, data + i + 32, 32);
      a ^= kv;
      b ^= kv;
      memcpy(data + i, &a, 32);
      memcpy(data + i + 32, &b, 32);
    }
  }
  for (; len - i >= 8; i += 8) {
    uint64_t w;
    memcpy(&w, data + i, 8);
    w ^= k;
    memcpy(data + i, &w, 8);
  }
  if (len - i >= 4) { /* i is a multiple of 4 here, so rot[0..3] lines up */
    uint32_t w, k4;
    memcpy(&w, data + i, 4);
    memcpy(&k4, rot, 4);
    w ^= k4;
    memcpy(data + i, &w, 4);
    i += 4;
  }
  for (size_t j = 0; i < len; i++, j++) data[i] ^= rot[j];
  return (offset + len) & 3;
}
