/* slab.h - a free-list allocator for many objects of one size (connections): no per-object
 * malloc header, objects carved from blocks, freed objects reused first. Blocks are returned to
 * the system only by wsk__slab_destroy. */
#ifndef WSK_NET_SLAB_H
#define WSK_NET_SLAB_H

#include <stddef.h>

struct wsk__slab {
  size_t size;         /* object size, rounded up to 16 */
  void *free_list;     /* freed objects, linked through their first word */
  char *block;         /* current block; objects [used, per_block) of it are untouched */
  size_t used;
  size_t per_block;
  void **blocks;       /* every block, for wsk__slab_destroy */
  size_t nblocks, capblocks;
};

/* Set the object size (the first call wins). */
void wsk__slab_init(struct wsk__slab *s, size_t size);
/* An uninitialised object, or NULL when memory is exhausted. */
void *wsk__slab_alloc(struct wsk__slab *s);
void wsk__slab_free(struct wsk__slab *s, void *obj);
void wsk__slab_destroy(struct wsk__slab *s);

#endif
