/* loop_internal.h - what the net layer's event loop offers the layers above it (conn, server,
 * client): file descriptors watched by epoll, end-of-iteration hooks, deferred frees, the shared
 * receive buffer, the cork buffer, a CSPRNG pool and the connection slab.
 *
 * epoll is used level-triggered. EPOLLIN stays armed for the life of a socket and EPOLLOUT is
 * armed only while a write queue is not empty, so an idle connection costs no epoll_ctl calls and
 * a handler may leave bytes in the kernel (one read per wakeup) without losing a notification. */
#ifndef WSK_NET_LOOP_INTERNAL_H
#define WSK_NET_LOOP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "wsk.h"
#include "net/slab.h"

/* Kinds of watched descriptors; the loop calls the handler registered for the kind. */
enum wsk__io_kind {
  WSK_IO_WAKEUP = 0, /* internal: eventfd of wsk_loop_wakeup */
  WSK_IO_SIGNAL,     /* internal: signalfd of wsk_loop_on_signal */
  WSK_IO_LISTENER,   /* a listening socket (net/listener.c) */
  WSK_IO_CONN,       /* a connection (conn layer) */
  WSK_IO_WATCH,      /* any other descriptor: wsk_loop_watch_fd (net/watch.c) */
  WSK_IO_TLS,        /* a connection with a TLS session (conn layer): its own handler, so that
                        plain connections never look at TLS state */
  WSK_IO_KINDS
};

/* Header of every object registered with the loop; epoll's data.ptr points to it. The two owner
 * bytes are free for the embedding object (they fill what would be padding). */
struct wsk__io {
  int fd;           /* -1 once closed: events already fetched for it are dropped */
  uint8_t kind;     /* enum wsk__io_kind */
  uint8_t events;   /* WSK_IO_IN / WSK_IO_OUT currently armed */
  uint8_t owner_a;
  uint8_t owner_b;
};

#define WSK_IO_IN 1u
#define WSK_IO_OUT 2u
/* Flags passed to handlers besides WSK_IO_IN / WSK_IO_OUT. */
#define WSK_IO_HUP 4u /* hang-up or error on the descriptor: read it to learn which */

typedef void (*wsk__io_fn)(wsk_loop *loop, struct wsk__io *io, unsigned events);

/* 1 when called from inside wsk_loop_run(loop) on this thread (a callback of that loop). */
int wsk__loop_is_current(const wsk_loop *loop);
/* Set the handler for a kind (the conn layer installs WSK_IO_CONN on first use). */
void wsk__loop_set_handler(wsk_loop *loop, enum wsk__io_kind kind, wsk__io_fn fn);
/* Watch io->fd for `events` (WSK_IO_IN/OUT). Counts as activity that keeps wsk_loop_run going,
 * except for the internal kinds. Returns 0 or WSK_ESYS. */
int wsk__io_start(wsk_loop *loop, struct wsk__io *io, unsigned events);
/* Change the armed events (no syscall when unchanged). Returns 0 or WSK_ESYS. */
int wsk__io_set(wsk_loop *loop, struct wsk__io *io, unsigned events);
/* Stop watching io->fd without closing it; io->fd becomes -1. */
void wsk__io_forget(wsk_loop *loop, struct wsk__io *io);
/* Stop watching and close io->fd; io->fd becomes -1. */
void wsk__io_close(wsk_loop *loop, struct wsk__io *io);

/* recv(io->fd, buf, len, 0) for a handler of io: with io_uring, the bytes of the completion it
 * is handling (or kept for it) come first. Returns bytes, 0 at the end of the stream, or -1 with
 * errno (EAGAIN: nothing more now). */
ssize_t wsk__loop_recv(wsk_loop *loop, struct wsk__io *io, void *buf, size_t len);

/* accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) for a listener's handler: with
 * io_uring, the connection of the completion it is handling. */
int wsk__loop_accept(wsk_loop *loop, struct wsk__io *io);

/* Sends made together at the end of an iteration, with io_uring (1 when the loop has it): a
 * connection queues its send (the bytes must stay until the finish), and the finish makes all of
 * them with one system call, then calls done(io, res) for each, res the bytes written or -errno
 * (-EAGAIN: none). WSK_EINVAL from wsk__loop_send_later: not with this loop (use send). */
int wsk__loop_sends_later(const wsk_loop *loop);
int wsk__loop_send_later(wsk_loop *loop, struct wsk__io *io, const struct iovec *iov, int n);
void wsk__loop_sends_finish(wsk_loop *loop, void (*done)(struct wsk__io *io, ssize_t res));

/* Current time in ms as a 32-bit offset from the loop's creation (never 0): cheap deadlines for
 * per-connection timeouts. Compare with wsk__time32_due(). */
uint32_t wsk__loop_now32(const wsk_loop *loop);
/* The same read from the clock, not from the start of the iteration: for setting a deadline, which
 * would otherwise come early by however long the iteration has been running (a first request
 * under valgrind, a burst of big messages). */
uint32_t wsk__loop_clock32(const wsk_loop *loop);
static inline int wsk__time32_due(uint32_t now, uint32_t deadline) {
  return (int32_t)(now - deadline) >= 0;
}

/* Take a scheduled timer (a repeating one, or a one-shot that has not fired) off the schedule
 * without freeing it, and put it back later, `ms` from now (then every repeat_ms as before),
 * without allocating: the heap keeps a slot for every parked timer. A parked timer does not keep
 * wsk_loop_run going; wsk_timer_stop frees it as usual. For timers that come and go with the load
 * (a group's deadline sweep) and must not fail to restart when memory is short. Both are no-ops
 * when the timer is already in that state. */
void wsk__timer_park(wsk_timer *t);
void wsk__timer_unpark(wsk_timer *t, uint64_t ms);

/* A callback to run once at the end of the current loop iteration (after all events and timers).
 * Queueing a hook that is already queued does nothing. */
struct wsk__hook {
  struct wsk__hook *next;
  void (*fn)(struct wsk__hook *h);
  uint8_t queued;
};
void wsk__loop_queue_hook(wsk_loop *loop, struct wsk__hook *h);
/* Remove a queued hook (before freeing its owner). */
void wsk__loop_cancel_hook(wsk_loop *loop, struct wsk__hook *h);

/* Free `p` (malloc'd) at the end of the iteration, so events already fetched for it and callers up
 * the stack may still look at it. Should the list itself fail to grow, a few spare slots take p;
 * beyond them (out of memory, with more than 16 such frees in one iteration) p is leaked, never
 * freed early. */
void wsk__loop_free_later(wsk_loop *loop, void *p);

/* The connection slab: fixed-size objects for the conn layer (size set by the first call). */
void *wsk__loop_conn_alloc(wsk_loop *loop, size_t size);
/* Return a connection object to the slab at the end of the iteration. */
void wsk__loop_conn_release(wsk_loop *loop, void *obj);

/* The receive buffer shared by every connection of the loop. Contents are only valid until the
 * handler that filled it returns. */
#define WSK_RBUF_SIZE (256 * 1024)
uint8_t *wsk__loop_rbuf(wsk_loop *loop);

/* The cork: everything written to one connection while its input is processed, sent with one
 * sendmsg when the processing ends. Small pieces are copied into buf (consecutive copies grow one
 * segment); big slices of the loop's receive buffer (a message echoed or relayed as it was
 * received) are referenced, not copied, since that buffer is not read into again before the cork
 * is flushed. owner is the corked connection or NULL. */
#define WSK_CORK_SIZE (16 * 1024)
#define WSK_CORK_IOV 32
struct wsk__cork {
  void *owner;
  size_t len;   /* bytes of buf in use */
  size_t total; /* bytes corked, copied and referenced */
  int niov;
  struct iovec iov[WSK_CORK_IOV];
  uint8_t buf[WSK_CORK_SIZE];
};
struct wsk__cork *wsk__loop_cork(wsk_loop *loop);

/* Fill out[0..n) with bytes from the kernel CSPRNG, through a per-loop pool refilled in batches.
 * Returns 0 or WSK_ESYS (getrandom failed: never hand out predictable bytes). */
int wsk__loop_random(wsk_loop *loop, void *out, size_t n);

#endif
