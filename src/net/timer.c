/* timer.c - timers in a 4-ary min-heap: O(log n) start and cancel (each timer knows its slot),
 * O(1) to find the next deadline. Equal deadlines fire in the order they were started. */
#include <stdlib.h>

#include "net/loop_struct.h"
#include "proto/alloc_internal.h"

#define NOT_IN_HEAP SIZE_MAX

struct wsk_timer {
  wsk_loop *loop;
  uint64_t when;
  uint64_t seq;
  uint64_t repeat;
  void (*cb)(void *arg);
  void *arg;
  size_t slot;                     /* index in the heap, NOT_IN_HEAP when idle */
  uint8_t parked;                  /* wsk__timer_park: counted in loop->parked */
  struct wsk_timer *prev, *next;   /* list of all timers of the loop */
};

/* ms after t: a delay of any size saturates at the end of time (never) instead of wrapping into
 * the past (at once). */
static uint64_t after(uint64_t t, uint64_t ms) { return ms > UINT64_MAX - t ? UINT64_MAX : t + ms; }

static int earlier(const struct wsk_timer *a, const struct wsk_timer *b) {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(wsk_loop *loop, size_t i, struct wsk_timer *t) {
  loop->heap[i] = t;
  t->slot = i;
}

static void sift_up(wsk_loop *loop, size_t i) {
  struct wsk_timer *t = loop->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 4;
    if (!earlier(t, loop->heap[parent])) break;
    place(loop, i, loop->heap[parent]);
    i = parent;
  }
  place(loop, i, t);
}

static void sift_down(wsk_loop *loop, size_t i) {
  struct wsk_timer *t = loop->heap[i];
  for (;;) {
    size_t first = 4 * i + 1, best = i;
    struct wsk_timer *best_t = t;
    for (size_t c = first; c < first + 4 && c < loop->nheap; c++) {
      if (earlier(loop->heap[c], best_t)) {
        best = c;
        best_t = loop->heap[c];
      }
    }
    if (best == i) break;
    place(loop, i, best_t);
    i = best;
  }
  place(loop, i, t);
}

static int heap_push(wsk_loop *loop, struct wsk_timer *t) {
  if (loop->nheap + loop->parked >= loop->capheap) { /* (never for a timer being unparked) */
    size_t cap = loop->capheap ? loop->capheap * 2 : 16;
    struct wsk_timer **h = wsk__realloc(loop->heap, cap * sizeof *h);
    if (!h) return WSK_ENOMEM;
    loop->heap = h;
    loop->capheap = cap;
  }
  t->seq = loop->timer_seq++;
  place(loop, loop->nheap++, t);
  sift_up(loop, t->slot);
  return 0;
}

static void heap_remove(wsk_loop *loop, struct wsk_timer *t) {
  size_t i = t->slot;
  t->slot = NOT_IN_HEAP;
  struct wsk_timer *last = loop->heap[--loop->nheap];
  if (last == t) return;
  place(loop, i, last);
  if (i > 0 && earlier(last, loop->heap[(i - 1) / 4]))
    sift_up(loop, i);
  else
    sift_down(loop, i);
}

wsk_timer *wsk_timer_start(wsk_loop *loop, uint64_t ms, uint64_t repeat_ms, void (*cb)(void *arg),
                           void *arg) {
  struct wsk_timer *t = wsk__calloc(1, sizeof *t);
  if (!t) return NULL;
  t->loop = loop;
  t->when = after(loop->now, ms);
  t->repeat = repeat_ms;
  t->cb = cb;
  t->arg = arg;
  if (heap_push(loop, t) != 0) {
    wsk__free(t);
    return NULL;
  }
  t->next = loop->timers;
  if (t->next) t->next->prev = t;
  loop->timers = t;
  return t;
}

void wsk__timer_park(wsk_timer *t) {
  if (t->parked) return;
  if (t->slot != NOT_IN_HEAP) heap_remove(t->loop, t);
  t->parked = 1;
  t->loop->parked++;
}

void wsk__timer_unpark(wsk_timer *t, uint64_t ms) {
  if (!t->parked) return;
  t->parked = 0;
  t->loop->parked--;
  t->when = after(t->loop->now, ms);
  heap_push(t->loop, t); /* the slot kept for it: cannot fail */
}

void wsk_timer_stop(wsk_timer *t) {
  if (!t) return;
  wsk_loop *loop = t->loop;
  if (t->parked) loop->parked--;
  if (t->slot != NOT_IN_HEAP) heap_remove(loop, t);
  if (t->prev)
    t->prev->next = t->next;
  else
    loop->timers = t->next;
  if (t->next) t->next->prev = t->prev;
  /* The callback that stops its own timer is still running: free at the end of the iteration. */
  wsk__loop_free_later(loop, t);
}

int wsk__timers_timeout(wsk_loop *loop) {
  if (loop->nheap == 0) return -1;
  uint64_t when = loop->heap[0]->when;
  if (when <= loop->now) return 0;
  uint64_t d = when - loop->now;
  return d > 86400000u ? 86400000 : (int)d;
}

void wsk__timers_run(wsk_loop *loop) {
  /* Timers started by callbacks of this round get seq numbers past `limit` and a deadline of at
   * least now, so a zero-delay timer started from a callback waits for the next iteration. */
  uint64_t limit = loop->timer_seq;
  while (loop->nheap > 0) {
    struct wsk_timer *t = loop->heap[0];
    if (t->when > loop->now || t->seq >= limit) break;
    heap_remove(loop, t);
    if (t->repeat) {
      /* Keep the period from the scheduled time; ticks missed during a stall are skipped. */
      t->when = after(t->when, t->repeat);
      if (t->when <= loop->now) t->when = after(loop->now, t->repeat);
      if (heap_push(loop, t) != 0) t->slot = NOT_IN_HEAP; /* out of memory: becomes one-shot */
    }
    t->cb(t->arg);
  }
}

void wsk__timers_free_all(wsk_loop *loop) {
  while (loop->timers) {
    struct wsk_timer *t = loop->timers;
    loop->timers = t->next;
    wsk__free(t);
  }
  wsk__free(loop->heap);
  loop->heap = NULL;
  loop->nheap = loop->capheap = 0;
}
