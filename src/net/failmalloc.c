/* failmalloc.c - the allocation-failure injector of the failmalloc build (see
 * proto/alloc_internal.h). A test arms it with wsk__failmalloc_arm(n): the n-th allocation of the
 * library after that returns NULL, once. The counters are the only global state of wsk, and they
 * exist in that build only: this file is empty otherwise. */
#ifdef WSK_FAILMALLOC
#include <errno.h>
#include <stdatomic.h>

#include "proto/alloc_internal.h"

static atomic_ulong countdown; /* allocations left before the one that fails; 0 = disarmed */
static atomic_ulong made;      /* allocations since the last arm */

int wsk__failmalloc_fail(void) {
  atomic_fetch_add(&made, 1);
  unsigned long left = atomic_load(&countdown);
  while (left && !atomic_compare_exchange_weak(&countdown, &left, left - 1)) {
  }
  if (left != 1) return 0;
  errno = ENOMEM; /* as the C library's allocator does */
  return 1;
}

void wsk__failmalloc_arm(unsigned long n) {
  atomic_store(&made, 0);
  atomic_store(&countdown, n);
}

unsigned long wsk__failmalloc_count(void) { return atomic_load(&made); }
#endif
