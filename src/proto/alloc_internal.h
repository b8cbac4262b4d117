/* alloc_internal.h - the allocator of every layer of wsk. Each allocation of the library goes
 * through these wrappers, so that the failure-injection build (cmake -DWSK_FAILMALLOC=ON) can make
 * any one of them fail and the tests can check that wsk survives it. In a normal build they are
 * the C library's functions, inlined; no layer keeps any allocator state. */
#ifndef WSK_PROTO_ALLOC_INTERNAL_H
#define WSK_PROTO_ALLOC_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#ifdef WSK_FAILMALLOC
/* The injector (src/net/failmalloc.c, failmalloc builds only): 1 when the allocation being made is
 * the one to fail. */
int wsk__failmalloc_fail(void);
/* Test hooks: the n-th allocation from now fails, once (0 = none); allocations made since. */
void wsk__failmalloc_arm(unsigned long n);
unsigned long wsk__failmalloc_count(void);
#else
static inline int wsk__failmalloc_fail(void) { return 0; }
#endif

static inline void *wsk__malloc(size_t n) { return wsk__failmalloc_fail() ? NULL : malloc(n); }
static inline void *wsk__calloc(size_t n, size_t size) {
  return wsk__failmalloc_fail() ? NULL : calloc(n, size);
}
static inline void *wsk__realloc(void *p, size_t n) {
  return wsk__failmalloc_fail() ? NULL : realloc(p, n);
}
static inline char *wsk__strdup(const char *s) { return wsk__failmalloc_fail() ? NULL : strdup(s); }
static inline void wsk__free(void *p) { free(p); }

#endif
