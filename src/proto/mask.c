/* mask.c - RFC 6455 section 5.3 payload masking: in-place XOR with a 4-byte key, continuing
 * across calls. Byte-wise up to an 8-byte aligned address, then 8 bytes per step with the key
 * rotated to the current offset and widened to 64 bits (memcpy keeps the loads well-defined;
 * the compiler turns the loop into vector code), then byte-wise for the tail. */
#include <string.h>

#include "wsk.h"

size_t wsk_mask(uint8_t *data, size_t len, const uint8_t key[4], size_t offset) {
  size_t i = 0;
  offset &= 3;
  while (i < len && ((uintptr_t)(data + i) & 7) != 0) {
    data[i] ^= key[(offset + i) & 3];
    i++;
  }
  if (len - i >= 8) {
    uint8_t wide[8];
    for (size_t j = 0; j < 8; j++) wide[j] = key[(offset + i + j) & 3];
    uint64_t k;
    memcpy(&k, wide, 8);
    for (; len - i >= 8; i += 8) {
      uint64_t w;
      memcpy(&w, data + i, 8);
      w ^= k;
      memcpy(data + i, &w, 8);
    }
  }
  for (; i < len; i++) data[i] ^= key[(offset + i) & 3];
  return (offset + len) & 3;
}
