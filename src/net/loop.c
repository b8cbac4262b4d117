/* loop.c - the event loop: descriptors (epoll, or io_uring through uring.c), the iteration,
 * hooks and deferred frees. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/loop_struct.h"
#include "net/uring.h"
#include "proto/alloc_internal.h"

#define MAX_EVENTS 256

/* The loop whose wsk_loop_run is on this thread's stack (loops may nest: the innermost). */
static _Thread_local wsk_loop *running_here;

int wsk__loop_is_current(const wsk_loop *loop) { return running_here == loop; }

uint64_t wsk__loop_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int is_internal(const struct wsk__io *io) {
  return io->kind == WSK_IO_WAKEUP || io->kind == WSK_IO_SIGNAL;
}

/* The backend a loop asks for when its options leave the choice to the environment: io_uring
 * (faster in make bench, README "epoll or io_uring") unless WSK_LOOP_BACKEND=epoll. */
static enum wsk_loop_backend backend_from_env(void) {
  const char *e = getenv("WSK_LOOP_BACKEND");
  if (e && strcmp(e, "epoll") == 0) return WSK_BACKEND_EPOLL;
  return WSK_BACKEND_IO_URING;
}

wsk_loop *wsk_loop_new(void) { return wsk_loop_new_with(NULL); }

wsk_loop *wsk_loop_new_with(const struct wsk_loop_options *opt) {
  wsk_loop *loop = wsk__calloc(1, sizeof *loop);
  if (!loop) return NULL;
  loop->epfd = -1;
  loop->rbuf = wsk__malloc(WSK_RBUF_SIZE);
  if (!loop->rbuf) goto fail;
  enum wsk_loop_backend want = opt ? opt->backend : WSK_BACKEND_DEFAULT;
  if (want == WSK_BACKEND_DEFAULT) want = backend_from_env();
  if (want == WSK_BACKEND_IO_URING) {
    loop->uring = wsk__uring_new(loop->backend_why, sizeof loop->backend_why);
    if (!loop->uring && opt && opt->no_fallback) {
      errno = ENOSYS;
      goto fail;
    }
  }
  if (!loop->uring && (loop->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) goto fail;
  loop->now = loop->epoch = wsk__loop_clock_ms();
  loop->rnd_pos = sizeof loop->rnd; /* empty pool */
  loop->sig_io.fd = -1;
  if (wsk__wakeup_init(loop) != 0) goto fail;
  return loop;
fail: {
  int saved = errno;
  if (loop->epfd >= 0) close(loop->epfd);
  wsk__uring_free(loop->uring);
  wsk__free(loop->rbuf);
  wsk__free(loop);
  errno = saved ? saved : ENOMEM;
  return NULL;
}
}

void wsk__loop_set_handler(wsk_loop *loop, enum wsk__io_kind kind, wsk__io_fn fn) {
  loop->handlers[kind] = fn;
}

static uint32_t to_epoll(unsigned events) {
  return ((events & WSK_IO_IN) ? EPOLLIN : 0u) | ((events & WSK_IO_OUT) ? EPOLLOUT : 0u);
}

int wsk__io_start(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  if (loop->uring) {
    io->events = (uint8_t)events;
    if (wsk__uring_watch(loop->uring, io) != 0) return WSK_ESYS;
  } else {
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) != 0) return WSK_ESYS;
    io->events = (uint8_t)events;
  }
  if (!is_internal(io)) loop->active++;
  return 0;
}

int wsk__io_set(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  if (io->events == events || io->fd < 0) return 0;
  if (loop->uring) {
    unsigned old = io->events;
    io->events = (uint8_t)events;
    if (wsk__uring_watch(loop->uring, io) == 0) return 0;
    io->events = (uint8_t)old;
    return WSK_ESYS;
  }
  struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
  if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) != 0) return WSK_ESYS;
  io->events = (uint8_t)events;
  return 0;
}

void wsk__io_forget(wsk_loop *loop, struct wsk__io *io) {
  if (io->fd < 0) return;
  /* close() alone removes the descriptor from epoll unless the file is still open elsewhere (a
   * dup, or a child between fork and exec: events for a freed connection would then still come);
   * DEL makes sure, at one syscall per connection. io_uring's requests hold the file: they must
   * be cancelled (posted with the next wait). */
  if (loop->uring)
    wsk__uring_forget(loop->uring, io);
  else
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
  io->fd = -1; /* events already fetched for it are dropped */
  if (!is_internal(io)) loop->active--;
}

void wsk__io_close(wsk_loop *loop, struct wsk__io *io) {
  int fd = io->fd;
  if (fd < 0) return;
  wsk__io_forget(loop, io);
  close(fd);
}

ssize_t wsk__loop_recv(wsk_loop *loop, struct wsk__io *io, void *buf, size_t len) {
  ssize_t r;
  if (loop->uring && wsk__uring_take(loop->uring, io, buf, len, &r)) return r;
  return recv(io->fd, buf, len, 0);
}

int wsk__loop_accept(wsk_loop *loop, struct wsk__io *io) {
  int fd;
  if (loop->uring && wsk__uring_accept(loop->uring, io, &fd)) return fd;
  return accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int wsk__loop_sends_later(const wsk_loop *loop) { return loop->uring != NULL; }

int wsk__loop_send_later(wsk_loop *loop, struct wsk__io *io, const struct iovec *iov, int n) {
  return loop->uring ? wsk__uring_send(loop->uring, io, iov, n) : WSK_EINVAL;
}

void wsk__loop_sends_finish(wsk_loop *loop, void (*done)(struct wsk__io *io, ssize_t res)) {
  if (loop->uring) wsk__uring_sends_finish(loop->uring, done);
}

const char *wsk_loop_backend(const wsk_loop *loop) {
  return loop->uring ? "io_uring" : "epoll";
}

const char *wsk_loop_backend_why(const wsk_loop *loop) { return loop->backend_why; }

uint64_t wsk_loop_now(const wsk_loop *loop) { return loop->now; }

void wsk_loop_update_time(wsk_loop *loop) { loop->now = wsk__loop_clock_ms(); }

static uint32_t offset32(const wsk_loop *loop, uint64_t ms) {
  uint32_t t = (uint32_t)(ms - loop->epoch);
  return t ? t : 1;
}

uint32_t wsk__loop_now32(const wsk_loop *loop) { return offset32(loop, loop->now); }

uint32_t wsk__loop_clock32(const wsk_loop *loop) { return offset32(loop, wsk__loop_clock_ms()); }

void wsk__loop_queue_hook(wsk_loop *loop, struct wsk__hook *h) {
  if (h->queued) return;
  h->queued = 1;
  h->next = loop->hooks;
  loop->hooks = h;
}

void wsk__loop_cancel_hook(wsk_loop *loop, struct wsk__hook *h) {
  if (!h->queued) return;
  for (struct wsk__hook **pp = &loop->hooks; *pp; pp = &(*pp)->next) {
    if (*pp == h) {
      *pp = h->next;
      break;
    }
  }
  h->queued = 0;
}

static int push_ptr(void ***arr, size_t *n, size_t *cap, void *p) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    void **a = wsk__realloc(*arr, ncap * sizeof *a);
    if (!a) return WSK_ENOMEM;
    *arr = a;
    *cap = ncap;
  }
  (*arr)[(*n)++] = p;
  return 0;
}

void wsk__loop_free_later(wsk_loop *loop, void *p) {
  if (push_ptr(&loop->garbage, &loop->ngarbage, &loop->capgarbage, p) != 0 &&
      loop->nspare < sizeof loop->spare / sizeof loop->spare[0])
    loop->spare[loop->nspare++] = p;
}

void *wsk__loop_conn_alloc(wsk_loop *loop, size_t size) {
  if (loop->conn_slab.size == 0) wsk__slab_init(&loop->conn_slab, size);
  return wsk__slab_alloc(&loop->conn_slab);
}

void wsk__loop_conn_release(wsk_loop *loop, void *obj) {
  push_ptr(&loop->dead_conns, &loop->ndead, &loop->capdead, obj);
}

uint8_t *wsk__loop_rbuf(wsk_loop *loop) { return loop->rbuf; }

struct wsk__cork *wsk__loop_cork(wsk_loop *loop) { return &loop->cork; }

int wsk__loop_random(wsk_loop *loop, void *out, size_t n) {
  uint8_t *o = out;
  while (n > 0) {
    if (loop->rnd_pos == sizeof loop->rnd) {
      ssize_t got = getrandom(loop->rnd, sizeof loop->rnd, 0);
      if (got != (ssize_t)sizeof loop->rnd) return WSK_ESYS;
      loop->rnd_pos = 0;
    }
    size_t take = sizeof loop->rnd - loop->rnd_pos;
    if (take > n) take = n;
    memcpy(o, loop->rnd + loop->rnd_pos, take);
    /* Bytes handed out are erased from the pool so they cannot be handed out twice. */
    memset(loop->rnd + loop->rnd_pos, 0, take);
    loop->rnd_pos += take;
    o += take;
    n -= take;
  }
  return 0;
}

/* End of an iteration: hooks (which may queue more hooks or frees), then deferred frees. */
static void end_iteration(wsk_loop *loop) {
  while (loop->hooks) {
    struct wsk__hook *h = loop->hooks;
    loop->hooks = h->next;
    h->queued = 0;
    h->fn(h);
  }
  for (size_t i = 0; i < loop->ndead; i++) wsk__slab_free(&loop->conn_slab, loop->dead_conns[i]);
  loop->ndead = 0;
  for (size_t i = 0; i < loop->ngarbage; i++) wsk__free(loop->garbage[i]);
  loop->ngarbage = 0;
  for (size_t i = 0; i < loop->nspare; i++) wsk__free(loop->spare[i]);
  loop->nspare = 0;
}

static int alive(const wsk_loop *loop) {
  return loop->active > 0 || loop->nheap > 0 || loop->hooks != NULL;
}

/* One wait for events with epoll, and their handlers. */
static int epoll_step(wsk_loop *loop, int timeout) {
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout);
  loop->now = wsk__loop_clock_ms();
  if (n < 0) return errno == EINTR ? 0 : WSK_ESYS;
  for (int i = 0; i < n; i++) {
    struct wsk__io *io = events[i].data.ptr;
    if (io->fd < 0) continue; /* closed by an earlier handler of this batch */
    uint32_t e = events[i].events;
    unsigned flags = ((e & EPOLLIN) ? WSK_IO_IN : 0u) | ((e & EPOLLOUT) ? WSK_IO_OUT : 0u) |
                     ((e & (EPOLLHUP | EPOLLERR)) ? WSK_IO_HUP : 0u);
    loop->handlers[io->kind](loop, io, flags);
  }
  return 0;
}

int wsk_loop_run(wsk_loop *loop) {
  loop->stop = 0;
  loop->running = 1;
  wsk_loop *outer = running_here;
  running_here = loop;
  int rc = 0;
  while (!loop->stop && alive(loop)) {
    int timeout = loop->hooks ? 0 : wsk__timers_timeout(loop);
    rc = loop->uring ? wsk__uring_poll(loop, loop->uring, timeout) : epoll_step(loop, timeout);
    if (rc != 0) break;
    wsk__timers_run(loop);
    end_iteration(loop);
  }
  loop->running = 0;
  running_here = outer;
  return rc;
}

void wsk_loop_stop(wsk_loop *loop) { loop->stop = 1; }

void wsk_loop_free(wsk_loop *loop) {
  if (!loop) return;
  end_iteration(loop);
  wsk__signal_destroy(loop);
  wsk__wakeup_destroy(loop);
  wsk__timers_free_all(loop);
  wsk__slab_destroy(&loop->conn_slab);
  wsk__free(loop->dead_conns);
  wsk__free(loop->garbage);
  if (loop->epfd >= 0) close(loop->epfd);
  wsk__uring_free(loop->uring);
  wsk__free(loop->rbuf);
  wsk__free(loop);
}
