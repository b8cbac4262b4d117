/* wakeup.c - wsk_loop_post (and its older name wsk_loop_wakeup): the thread-safe way into a loop.
 *
 * Other threads push callbacks on a lock-free multi-producer, single-consumer queue (Vyukov's
 * intrusive list with a stub node: a push is one atomic exchange and one store) and poke the
 * loop's eventfd only when `pending` goes from 0 to 1, so a burst of posts costs one write(2) and
 * one wake-up, and the loop runs the whole batch in FIFO order.
 *
 * Why nothing is lost: a producer links its node before it counts it in `pending`; the loop takes
 * `pending` to 0 before it drains. So every node counted before that exchange is linked and is
 * drained now, and the first post counted after it writes the eventfd again. A pop may meet a node
 * whose producer is between its two steps (the queue looks cut short): that producer's count
 * comes after the exchange, so its own write wakes the loop for it. */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/loop_struct.h"
#include "proto/alloc_internal.h"

struct wsk__wakeup_item {
  _Atomic(struct wsk__wakeup_item *) next;
  void (*cb)(void *arg);
  void *arg;
};

static void push(wsk_loop *loop, struct wsk__wakeup_item *it) {
  atomic_store_explicit(&it->next, NULL, memory_order_relaxed);
  struct wsk__wakeup_item *prev =
      atomic_exchange_explicit(&loop->post_head, it, memory_order_acq_rel);
  atomic_store_explicit(&prev->next, it, memory_order_release);
}

/* The oldest item, or NULL when the queue is empty (or looks cut short: see the top). */
static struct wsk__wakeup_item *pop(wsk_loop *loop) {
  struct wsk__wakeup_item *tail = loop->post_tail, *stub = loop->post_stub;
  struct wsk__wakeup_item *next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (tail == stub) {
    if (!next) return NULL;
    loop->post_tail = tail = next;
    next = atomic_load_explicit(&next->next, memory_order_acquire);
  }
  if (next) {
    loop->post_tail = next;
    return tail;
  }
  if (tail != atomic_load_explicit(&loop->post_head, memory_order_acquire)) return NULL;
  push(loop, stub); /* tail is the last node: put the stub behind it so it can be taken */
  next = atomic_load_explicit(&tail->next, memory_order_acquire);
  if (!next) return NULL;
  loop->post_tail = next;
  return tail;
}

static void on_wakeup_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  uint64_t count;
  if (read(io->fd, &count, sizeof count) < 0) { /* EAGAIN: already drained */ }
  atomic_store_explicit(&loop->post_pending, 0, memory_order_seq_cst);
  struct wsk__wakeup_item *it;
  while ((it = pop(loop)) != NULL) {
    it->cb(it->arg);
    wsk__free(it);
  }
}

int wsk__wakeup_init(wsk_loop *loop) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return WSK_ESYS;
  struct wsk__wakeup_item *stub = wsk__calloc(1, sizeof *stub);
  if (!stub) {
    close(fd);
    return WSK_ENOMEM;
  }
  loop->post_stub = loop->post_tail = stub;
  atomic_init(&loop->post_head, stub);
  atomic_init(&loop->post_pending, 0);
  loop->wake_io.fd = fd;
  loop->wake_io.kind = WSK_IO_WAKEUP;
  loop->handlers[WSK_IO_WAKEUP] = on_wakeup_io;
  if (wsk__io_start(loop, &loop->wake_io, WSK_IO_IN) != 0) {
    close(fd);
    wsk__free(stub);
    return WSK_ESYS;
  }
  return 0;
}

int wsk_loop_post(wsk_loop *loop, void (*cb)(void *arg), void *arg) {
  if (!loop || !cb) return WSK_EINVAL;
  struct wsk__wakeup_item *it = wsk__malloc(sizeof *it);
  if (!it) return WSK_ENOMEM;
  it->cb = cb;
  it->arg = arg;
  push(loop, it);
  if (atomic_fetch_add_explicit(&loop->post_pending, 1, memory_order_seq_cst) == 0) {
    uint64_t one = 1;
    if (write(loop->wake_io.fd, &one, sizeof one) < 0) { /* EAGAIN: counter full, still awake */ }
  }
  return 0;
}

int wsk_loop_wakeup(wsk_loop *loop, void (*cb)(void *arg), void *arg) {
  return wsk_loop_post(loop, cb, arg);
}

void wsk__wakeup_destroy(wsk_loop *loop) {
  wsk__io_close(loop, &loop->wake_io);
  struct wsk__wakeup_item *it;
  while ((it = pop(loop)) != NULL) wsk__free(it); /* posted, never run: the loop is gone */
  wsk__free(loop->post_stub);
}
