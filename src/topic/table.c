/* table.c - the open-addressing hash set of table.h. */
#include <string.h>

#include "proto/alloc_internal.h"
#include "topic/table.h"
#include "wsk.h"

#define MIN_CAP 16

static size_t home(const struct wsk__table *t, uint64_t hash) {
  return (size_t)hash & (t->cap - 1);
}

struct wsk__table_slot *wsk__table_find(const struct wsk__table *t, uint64_t hash,
                                      int (*eq)(const void *item, const void *key),
                                      const void *key) {
  if (!t->n) return NULL;
  for (size_t i = home(t, hash);; i = (i + 1) & (t->cap - 1)) {
    struct wsk__table_slot *s = &t->slots[i];
    if (!s->item) return NULL;
    if (s->hash == hash && eq(s->item, key)) return s;
  }
}

static void put(struct wsk__table *t, uint64_t hash, void *item) {
  size_t i = home(t, hash);
  while (t->slots[i].item) i = (i + 1) & (t->cap - 1);
  t->slots[i].hash = hash;
  t->slots[i].item = item;
}

/* Move every item into a table of `cap` slots. Returns 0 or WSK_ENOMEM (t unchanged). */
static int resize(struct wsk__table *t, size_t cap) {
  struct wsk__table_slot *old = t->slots;
  size_t old_cap = t->cap;
  struct wsk__table_slot *slots = wsk__calloc(cap, sizeof *slots);
  if (!slots) return WSK_ENOMEM;
  t->slots = slots;
  t->cap = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].item) put(t, old[i].hash, old[i].item);
  wsk__free(old);
  return 0;
}

int wsk__table_add(struct wsk__table *t, uint64_t hash, void *item) {
  if ((t->n + 1) * 4 > t->cap * 3 && resize(t, t->cap ? t->cap * 2 : MIN_CAP) != 0)
    return WSK_ENOMEM;
  put(t, hash, item);
  t->n++;
  return 0;
}

void wsk__table_remove(struct wsk__table *t, struct wsk__table_slot *s) {
  size_t mask = t->cap - 1, hole = (size_t)(s - t->slots);
  /* Backward shift: pull later items of the probe run into the hole when their home slot allows
   * it, so that lookups never need a tombstone to keep going. */
  for (size_t i = (hole + 1) & mask; t->slots[i].item; i = (i + 1) & mask) {
    size_t h = home(t, t->slots[i].hash);
    if (((i - h) & mask) >= ((i - hole) & mask)) {
      t->slots[hole] = t->slots[i];
      hole = i;
    }
  }
  t->slots[hole].item = NULL;
  t->n--;
  if (t->cap > MIN_CAP && t->n * 8 < t->cap) resize(t, t->cap / 2); /* (may fail: stays big) */
}

static int same(const void *item, const void *key) { return item == key; }

void wsk__table_remove_item(struct wsk__table *t, uint64_t hash, const void *item) {
  struct wsk__table_slot *s = wsk__table_find(t, hash, same, item);
  if (s) wsk__table_remove(t, s);
}

void wsk__table_free(struct wsk__table *t) {
  wsk__free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- SipHash-1-3 (Aumasson and Bernstein): one compression round, three finalization rounds */

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; /* little-endian whatever the host */
  return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                                 \
  do {                                                                                           \
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                    \
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                       \
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                       \
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                    \
  } while (0)

uint64_t wsk__siphash13(const uint8_t key[16], const void *data, size_t len) {
  const uint8_t *in = data;
  uint64_t k0 = load64(key), k1 = load64(key + 8);
  uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
  size_t whole = len & ~(size_t)7;
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = load64(in + i);
    v3 ^= m;
    SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = (uint64_t)len << 56; /* the last block: the length's low byte on top */
  for (size_t i = whole; i < len; i++) b |= (uint64_t)in[i] << (8 * (i - whole));
  v3 ^= b;
  SIPROUND(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}
