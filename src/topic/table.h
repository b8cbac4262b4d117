/* table.h - an open-addressing hash set of pointers, for the topic registry.
 *
 * Items are the caller's objects; the table stores a pointer and the item's 64-bit hash per slot
 * (so growing never calls back into the caller, and most mismatches are rejected without looking
 * at the item). Linear probing with backward-shift deletion: no tombstones, so any number of
 * inserts and removals leaves the table no bigger than its largest population needed. */
#ifndef WSK_TOPIC_TABLE_H
#define WSK_TOPIC_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct wsk__table_slot {
  uint64_t hash;
  void *item; /* NULL: empty */
};

struct wsk__table {
  struct wsk__table_slot *slots;
  size_t cap; /* 0 or a power of two */
  size_t n;
};

/* The slot holding an item with this hash for which eq(item, key) is true, or NULL. The slot's
 * item may be replaced in place by another item with the same hash. */
struct wsk__table_slot *wsk__table_find(const struct wsk__table *t, uint64_t hash,
                                      int (*eq)(const void *item, const void *key),
                                      const void *key);
/* Add an item (not present yet). Returns 0 or WSK_ENOMEM (the table unchanged). */
int wsk__table_add(struct wsk__table *t, uint64_t hash, void *item);
/* Remove the item stored in slot s (from wsk__table_find), shrinking a table that became sparse. */
void wsk__table_remove(struct wsk__table *t, struct wsk__table_slot *s);
/* Remove this exact item (pointer identity), which must be present. */
void wsk__table_remove_item(struct wsk__table *t, uint64_t hash, const void *item);
void wsk__table_free(struct wsk__table *t);

/* A 64-bit mix (MurmurHash3's finalizer) for keys no peer chooses: pointers, our own counters. */
static inline uint64_t wsk__table_mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

/* SipHash-1-3 of data[0..len) under a 128-bit key: topic names come from peers, so their hashes
 * must not be predictable (colliding names would turn every lookup into a scan). */
uint64_t wsk__siphash13(const uint8_t key[16], const void *data, size_t len);

#endif
