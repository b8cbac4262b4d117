/* slab.c - fixed-size object allocator (see slab.h). */
#include "net/slab.h"

#include <stdlib.h>
#include <string.h>

#include "proto/alloc_internal.h"

#define SLAB_BLOCK_BYTES (64 * 1024)

void wsk__slab_init(struct wsk__slab *s, size_t size) {
  memset(s, 0, sizeof *s);
  s->size = (size + 15) & ~(size_t)15;
  s->per_block = SLAB_BLOCK_BYTES / s->size;
  if (s->per_block == 0) s->per_block = 1;
  s->used = s->per_block; /* no current block yet */
}

void *wsk__slab_alloc(struct wsk__slab *s) {
  if (s->free_list) {
    void *obj = s->free_list;
    s->free_list = *(void **)obj;
    return obj;
  }
  if (s->used == s->per_block) {
    if (s->nblocks == s->capblocks) {
      size_t cap = s->capblocks ? s->capblocks * 2 : 16;
      void **b = wsk__realloc(s->blocks, cap * sizeof *b);
      if (!b) return NULL;
      s->blocks = b;
      s->capblocks = cap;
    }
    char *block = wsk__malloc(s->per_block * s->size);
    if (!block) return NULL;
    s->blocks[s->nblocks++] = block;
    s->block = block;
    s->used = 0;
  }
  return s->block + s->size * s->used++;
}

void wsk__slab_free(struct wsk__slab *s, void *obj) {
  *(void **)obj = s->free_list;
  s->free_list = obj;
}

void wsk__slab_destroy(struct wsk__slab *s) {
  for (size_t i = 0; i < s->nblocks; i++) wsk__free(s->blocks[i]);
  wsk__free(s->blocks);
  memset(s, 0, sizeof *s);
}
