/* fuzz_chunks.h - an input cut into reads: a mode byte, then chunks, each a length (little-endian
 * base 128, at most 3 bytes) and that many bytes (fewer at the end of the input); and mutations
 * that know this shape.
 *
 * libFuzzer's own mutations shift every boundary after the byte they insert or erase, and a
 * boundary lands where a frame ends only by chance. So most mutations here work on one chunk's
 * bytes (its length is rewritten: the other reads stay as they were) or on the boundaries (split
 * a chunk, move a boundary by a few bytes, merge two chunks, add an empty one); a quarter are
 * libFuzzer's own on the raw input, the mode byte and the lengths included. */
#ifndef WSK_FUZZ_CHUNKS_H
#define WSK_FUZZ_CHUNKS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define CHUNK_LEN_BYTES 3
#define CHUNK_MAX ((size_t)1 << (7 * CHUNK_LEN_BYTES))
#define CHUNKS_MAX 4096

/* The next chunk of data[0..*size): its bytes and *len, advancing data and size past it. */
static const uint8_t *chunk_next(const uint8_t **data, size_t *size, size_t *len) {
  size_t n = 0;
  for (int shift = 0; shift < 7 * CHUNK_LEN_BYTES && *size > 0; shift += 7) {
    uint8_t b = **data;
    (*data)++;
    (*size)--;
    n |= (size_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  if (n > *size) n = *size;
  const uint8_t *p = *data;
  *data += n;
  *size -= n;
  *len = n;
  return p;
}

struct chunk {
  const uint8_t *p;
  size_t len;
};

/* Append chunk c (its length, then its bytes) to out[*n..cap); 0, or -1 if it does not fit. */
static int chunk_put(uint8_t *out, size_t *n, size_t cap, struct chunk c) {
  if (c.len >= CHUNK_MAX) return -1;
  size_t len = c.len;
  do {
    if (*n == cap) return -1;
    out[(*n)++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
    len >>= 7;
  } while (len);
  if (cap - *n < c.len) return -1;
  if (c.len) memcpy(out + *n, c.p, c.len);
  *n += c.len;
  return 0;
}

static uint32_t chunk_rand(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static size_t chunks_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  static struct chunk ch[CHUNKS_MAX + 1];
  uint32_t rng = seed;
  size_t n = 0;
  const uint8_t *rest = data + 1;
  size_t left = size ? size - 1 : 0;
  while (left > 0 && n < CHUNKS_MAX) {
    ch[n].p = chunk_next(&rest, &left, &ch[n].len);
    n++;
  }
  uint32_t op = chunk_rand(&rng) % 8;
  if (n == 0 || left > 0 || op < 2) return LLVMFuzzerMutate(data, size, max_size);
  size_t i = chunk_rand(&rng) % n;
  int alone = op == 4 || i + 1 == n; /* an operation on chunk i without the next one */
  uint8_t *out = malloc(max_size), *edit = malloc(max_size + 1);
  if (!out || !edit) goto raw;
  if (op < 4) { /* change chunk i's bytes, with the room the input has left */
    edit[0] = (uint8_t)chunk_rand(&rng); /* (an empty chunk gets a byte to mutate) */
    if (ch[i].len) memcpy(edit, ch[i].p, ch[i].len);
    ch[i].len = LLVMFuzzerMutate(edit, ch[i].len ? ch[i].len : 1, ch[i].len + max_size - size + 1);
    ch[i].p = edit;
  } else if (op == 7 || (alone && ch[i].len < 2)) { /* an empty read before chunk i */
    memmove(&ch[i + 1], &ch[i], (n++ - i) * sizeof ch[0]);
    ch[i].len = 0;
  } else if (alone) { /* chunk i in two reads */
    size_t at = 1 + chunk_rand(&rng) % (ch[i].len - 1);
    memmove(&ch[i + 1], &ch[i], (n++ - i) * sizeof ch[0]);
    ch[i].len = at;
    ch[i + 1].p += at;
    ch[i + 1].len -= at;
  } else { /* the boundary between chunks i and i+1 moved by a few bytes (5), or gone (6) */
    size_t a = ch[i].len, total = a + ch[i + 1].len, cut = total;
    memcpy(edit, ch[i].p, a);
    memcpy(edit + a, ch[i + 1].p, ch[i + 1].len);
    if (op == 5) {
      size_t d = 1 + chunk_rand(&rng) % 16;
      cut = chunk_rand(&rng) & 1 ? (a > d ? a - d : 0) : (total - a > d ? a + d : total);
    }
    ch[i] = (struct chunk){edit, cut};
    ch[i + 1] = (struct chunk){edit + cut, total - cut};
    if (op == 6) memmove(&ch[i + 1], &ch[i + 2], (n-- - i - 2) * sizeof ch[0]);
  }
  size_t used = 1;
  out[0] = data[0];
  for (size_t k = 0; k < n; k++)
    if (chunk_put(out, &used, max_size, ch[k]) != 0) goto raw;
  memcpy(data, out, used);
  free(edit);
  free(out);
  return used;
raw:
  free(edit);
  free(out);
  return LLVMFuzzerMutate(data, size, max_size);
}

#endif
