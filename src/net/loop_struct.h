/* loop_struct.h - the loop's fields, shared by the net layer's own files only (loop.c, timer.c,
 * signal.c, wakeup.c). Layers above use loop_internal.h. */
#ifndef WSK_NET_LOOP_STRUCT_H
#define WSK_NET_LOOP_STRUCT_H

#include <stdatomic.h>
#include <stdint.h>

#include "net/loop_internal.h"

struct wsk__wakeup_item;
struct wsk__uring;

struct wsk_loop {
  int epfd;                  /* -1 with io_uring */
  struct wsk__uring *uring;  /* NULL with epoll */
  char backend_why[128];     /* why io_uring was asked for and not used, or "" */
  uint8_t stop;
  uint8_t running;
  uint64_t now;   /* ms, CLOCK_MONOTONIC, updated once per iteration */
  uint64_t epoch; /* `now` at creation, origin of wsk__loop_now32 */
  size_t active;  /* watched descriptors that keep wsk_loop_run going */
  wsk__io_fn handlers[WSK_IO_KINDS];

  /* Timers: a 4-ary min-heap ordered by (when, seq); every timer also sits on a list so that
   * wsk_loop_free can release the ones the user never stopped. */
  struct wsk_timer **heap;
  size_t nheap, capheap;
  size_t parked;  /* parked timers: the heap keeps a free slot for each (wsk__timer_park) */
  struct wsk_timer *timers;
  uint64_t timer_seq;

  /* wsk_loop_post: an eventfd plus a lock-free FIFO of callbacks (wakeup.c). */
  struct wsk__io wake_io;
  _Atomic(struct wsk__wakeup_item *) post_head; /* producers push here */
  struct wsk__wakeup_item *post_tail;           /* the loop pops here */
  struct wsk__wakeup_item *post_stub;
  atomic_uint post_pending;                    /* posts since the loop last started draining */

  /* wsk_loop_on_signal */
  struct wsk__io sig_io;
  void (*sig_cb)(wsk_loop *loop, int signo, void *arg);
  void *sig_arg;

  struct wsk__hook *hooks;
  void **garbage;
  size_t ngarbage, capgarbage;
  void *spare[16]; /* frees that found `garbage` full and could not grow it (out of memory) */
  size_t nspare;
  void **dead_conns; /* slab objects to release at the end of the iteration */
  size_t ndead, capdead;
  struct wsk__slab conn_slab;

  uint8_t rnd[512];
  size_t rnd_pos; /* bytes of rnd already handed out */

  uint8_t *rbuf;
  struct wsk__cork cork;
};

/* CLOCK_MONOTONIC in ms. */
uint64_t wsk__loop_clock_ms(void);
/* timer.c */
int wsk__timers_timeout(wsk_loop *loop); /* ms until the next timer, -1 if none */
void wsk__timers_run(wsk_loop *loop);
void wsk__timers_free_all(wsk_loop *loop);
/* wakeup.c */
int wsk__wakeup_init(wsk_loop *loop);
void wsk__wakeup_destroy(wsk_loop *loop);
/* signal.c */
void wsk__signal_destroy(wsk_loop *loop);

#endif
