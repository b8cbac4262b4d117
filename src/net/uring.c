/* uring.c - the io_uring backend of the loop: the ring, the requests of each watched descriptor,
 * the wait and the handlers (see uring.h). */
#include "net/uring.h"

#include <stdio.h>

#include "wsk.h"

#ifdef WSK_HAVE_URING
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "net/loop_struct.h"
#include "net/uring_struct.h"
#include "proto/alloc_internal.h"

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 8192
#define BATCH 256

/* The slot table: one slot per descriptor number up to the hard limit on open files (4 Mi at
 * most), and the lists of slots to post and to run (each slot at most once on each), reserved,
 * not committed: only the pages in use are touched, they never move, and marking a slot never
 * needs memory (a slot that could not be marked would never be polled again). */
#define MAX_SLOTS (4u << 20)
static void *reserve_map(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static int slots_init(struct wsk__uring *u) {
  struct rlimit rl;
  size_t n = MAX_SLOTS;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
    n = rl.rlim_max;
  u->slots = reserve_map(n * sizeof *u->slots);
  u->dirty = reserve_map(n * sizeof *u->dirty);
  u->ready = reserve_map(n * sizeof *u->ready);
  u->nslots = n;
  return u->slots && u->dirty && u->ready ? 0 : WSK_ENOMEM;
}

struct wsk__uring *wsk__uring_new(char *why, size_t whylen) {
  struct wsk__uring *u = wsk__calloc(1, sizeof *u);
  if (!u) {
    snprintf(why, whylen, "out of memory");
    return NULL;
  }
  struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN,
                              .cq_entries = CQ_ENTRIES};
  int r = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
  if (r < 0) {
    snprintf(why, whylen, "io_uring_setup: %s%s", strerror(-r),
             r == -EPERM    ? " (kernel.io_uring_disabled?)"
             : r == -EINVAL ? " (COOP_TASKRUN: Linux 5.19+)"
                            : "");
    wsk__free(u);
    return NULL;
  }
  /* Needed: completions never dropped, a wait with a timeout in the same call. */
  unsigned need = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_FAST_POLL;
  if ((p.features & need) != need) {
    snprintf(why, whylen, "io_uring of this kernel lacks NODROP, EXT_ARG or FAST_POLL");
    io_uring_queue_exit(&u->ring);
    wsk__free(u);
    return NULL;
  }
  if (slots_init(u) != 0) {
    snprintf(why, whylen, "out of address space for the descriptor table");
    wsk__uring_free(u);
    return NULL;
  }
  /* Provided-buffer rings and multishot accept came with Linux 5.19: without them, epoll. */
  if ((r = wsk__bufs_init(u)) != 0) {
    snprintf(why, whylen, "io_uring of this kernel cannot register a provided-buffer ring (%s; "
             "Linux 5.19+ can)", r == WSK_ENOMEM ? "out of memory" : strerror(-r));
    wsk__uring_free(u);
    return NULL;
  }
  return u;
}

void wsk__uring_free(struct wsk__uring *u) {
  if (!u) return;
  while (u->stashes) { /* (their descriptors are gone: the loop is being freed) */
    struct stash *st = u->stashes;
    u->stashes = st->next;
    wsk__free(st);
  }
  wsk__bufs_free(u);
  io_uring_queue_exit(&u->ring);
  if (u->slots) munmap(u->slots, u->nslots * sizeof *u->slots);
  if (u->dirty) munmap(u->dirty, u->nslots * sizeof *u->dirty);
  if (u->ready) munmap(u->ready, u->nslots * sizeof *u->ready);
  wsk__free(u->sends);
  wsk__free(u->later);
  wsk__free(u);
}

int wsk__uring_reserve(void *arr, size_t *n, size_t *cap, size_t size) {
  if (*n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 64;
  void *a = wsk__realloc(*(void **)arr, ncap * size);
  if (!a) return WSK_ENOMEM;
  *(void **)arr = a;
  *cap = ncap;
  return 0;
}

struct io_uring_sqe *wsk__uring_sqe(struct wsk__uring *u) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
  while (!sqe) { /* the submission ring is full: submit what it holds */
    int r = io_uring_submit(&u->ring);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) return NULL;
    sqe = io_uring_get_sqe(&u->ring);
  }
  return sqe;
}

static void cancel(struct wsk__uring *u, uint64_t ud) {
  struct io_uring_sqe *sqe = wsk__uring_sqe(u);
  if (!sqe) return;
  io_uring_prep_cancel64(sqe, ud, 0);
  io_uring_sqe_set_data64(sqe, UD(0, 0, OP_IGNORE));
}

static void cancel_poll(struct wsk__uring *u, int fd, struct slot *s) {
  if (!s->posted) return;
  cancel(u, UD(fd, s->seq, OP_POLL));
  s->posted = 0;
  s->seq = (s->seq + 1) & SEQ_MASK; /* its completion, if it comes, is stale */
}

static void mark_dirty(struct wsk__uring *u, int fd, struct slot *s) {
  if (s->dirty) return;
  u->dirty[u->ndirty++] = fd;
  s->dirty = 1;
}

/* A plain connection's input comes through receives into the ring's buffers, a listener's
 * through one multishot accept (a completion per connection); any other descriptor's through
 * polls (a TLS session, an eventfd, a user's descriptor). */
static int by_recv(const struct wsk__io *io) {
  return io->kind == WSK_IO_CONN || io->kind == WSK_IO_LISTENER;
}

/* user_data of a slot's receive (a listener's: its accept). */
static uint64_t recv_ud(const struct wsk__io *io, const struct slot *s) {
  return UD(io->fd, s->rseq, io->kind == WSK_IO_LISTENER ? OP_ACCEPT : OP_RECV);
}

/* The events a slot's poll must cover. */
static unsigned poll_events(const struct wsk__io *io) {
  return by_recv(io) ? io->events & WSK_IO_OUT : io->events;
}

int wsk__uring_watch(struct wsk__uring *u, struct wsk__io *io) {
  if ((size_t)io->fd >= u->nslots) { /* (over the hard limit it was reserved for) */
    errno = EMFILE;
    return WSK_ESYS;
  }
  struct slot *s = &u->slots[io->fd];
  s->io = io;
  /* A poll that covers what is wanted may stay: what it reports beyond that is filtered out.
   * One that lacks an event must go, since it would not report it. */
  unsigned want = poll_events(io), has = s->posted & ~PF_POSTED;
  if (s->posted && (want & ~has)) cancel_poll(u, io->fd, s);
  /* A receive no longer wanted is cancelled; bytes it may bring anyway are kept (stash). */
  if (s->recv && !(io->events & WSK_IO_IN)) cancel(u, recv_ud(io, s));
  mark_dirty(u, io->fd, s);
  return 0;
}

void wsk__uring_forget(struct wsk__uring *u, struct wsk__io *io) {
  if ((size_t)io->fd >= u->nslots) return;
  struct slot *s = &u->slots[io->fd];
  if (s->io != io) return;
  cancel_poll(u, io->fd, s);
  if (s->recv) cancel(u, recv_ud(io, s));
  if (s->stashed) wsk__stash_drop(u, io);
  if (u->rx.io == io) u->rx.io = NULL;
  s->io = NULL;
  s->recv = 0;
  s->seq = (s->seq + 1) & SEQ_MASK;
  s->rseq = (s->rseq + 1) & SEQ_MASK;
}

static unsigned poll_mask(unsigned events) {
  return ((events & WSK_IO_IN) ? POLLIN : 0u) | ((events & WSK_IO_OUT) ? POLLOUT : 0u);
}

/* Post what a slot lacks: a receive while it wants input (or run its handler on bytes kept for
 * it), a poll for the other events, and for hang-ups and errors when nothing else would see
 * them (as epoll reports those whatever the events). */
static void post(struct wsk__uring *u, int fd, struct slot *s) {
  struct wsk__io *io = s->io;
  int recv_in = by_recv(io) && (io->events & WSK_IO_IN);
  if (recv_in && s->stashed) {
    u->ready[u->nready++] = fd; /* (once per post_dirty, drained by run_ready after it) */
  } else if (recv_in && !s->recv) {
    struct io_uring_sqe *sqe = wsk__uring_sqe(u);
    if (!sqe) return;
    if (io->kind == WSK_IO_LISTENER) {
      io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } else {
      io_uring_prep_recv(sqe, fd, NULL, RECV_BUF_SIZE, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = RECV_GROUP;
    }
    io_uring_sqe_set_data64(sqe, recv_ud(io, s));
    s->recv = 1;
  }
  unsigned want = poll_events(io);
  if (s->posted || (!want && s->recv)) return;
  struct io_uring_sqe *sqe = wsk__uring_sqe(u);
  if (!sqe) return;
  io_uring_prep_poll_add(sqe, fd, poll_mask(want));
  io_uring_sqe_set_data64(sqe, UD(fd, s->seq, OP_POLL));
  s->posted = (uint8_t)(PF_POSTED | want);
}

static void post_dirty(struct wsk__uring *u) {
  for (size_t i = 0; i < u->ndirty; i++) {
    int fd = u->dirty[i];
    struct slot *s = &u->slots[fd];
    s->dirty = 0;
    if (s->io) post(u, fd, s);
  }
  u->ndirty = 0;
}

static void on_poll(wsk_loop *loop, struct wsk__uring *u, uint64_t ud, int res) {
  int fd = UD_FD(ud);
  if ((size_t)fd >= u->nslots) return;
  struct slot *s = &u->slots[fd];
  if (!s->io || s->seq != UD_SEQ(ud)) return; /* stale */
  struct wsk__io *io = s->io;
  s->posted = 0;
  mark_dirty(u, fd, s); /* level-triggered: ask again */
  unsigned r = res < 0 ? POLLERR : (unsigned)res;
  unsigned flags = ((r & POLLIN) ? WSK_IO_IN : 0u) | ((r & POLLOUT) ? WSK_IO_OUT : 0u);
  flags &= poll_events(io);
  if (r & (POLLHUP | POLLERR)) flags |= WSK_IO_HUP;
  if (flags && io->fd >= 0) loop->handlers[io->kind](loop, io, flags);
}

/* The slot of a receive's or an accept's completion, with its request's end noted (a multishot
 * accept goes on); NULL when it is for a descriptor closed since. */
static struct slot *completed(struct wsk__uring *u, const struct cqe_copy *c) {
  int fd = UD_FD(c->ud);
  struct slot *s = (size_t)fd < u->nslots ? &u->slots[fd] : NULL;
  if (!s || !s->io || s->rseq != UD_SEQ(c->ud)) return NULL;
  s->recv = (c->flags & IORING_CQE_F_MORE) != 0;
  if (!s->recv) mark_dirty(u, fd, s);
  return s;
}

static void on_accept(wsk_loop *loop, struct wsk__uring *u, const struct cqe_copy *c) {
  struct slot *s = completed(u, c);
  if (!s || c->res == -ECANCELED) {
    if (c->res >= 0) close(c->res); /* accepted as its listener was closed */
    return;
  }
  struct wsk__io *io = s->io;
  u->rx = (struct rx){.io = io, .res = c->res};
  if ((io->events & WSK_IO_IN) && io->fd >= 0) loop->handlers[io->kind](loop, io, WSK_IO_IN);
  if (u->rx.io == io && c->res >= 0) close(c->res); /* not taken: accepting is paused */
  u->rx.io = NULL;
}

static void on_recv(wsk_loop *loop, struct wsk__uring *u, const struct cqe_copy *c) {
  struct slot *s = completed(u, c);
  if (!s) {
    wsk__bufs_put(u, c->flags);
    return;
  }
  if (c->res == -ECANCELED) return;
  struct wsk__io *io = s->io;
  int wanted = (io->events & WSK_IO_IN) && io->fd >= 0;
  if (c->res == -ENOBUFS) { /* the buffers are out: its handler reads with recv() */
    u->bufs.short_ = 1;
    if (wanted) loop->handlers[io->kind](loop, io, WSK_IO_IN);
    return;
  }
  u->rx = (struct rx){.io = io, .p = wsk__bufs_get(u, c->flags),
                      .len = c->res > 0 ? (size_t)c->res : 0, .res = c->res};
  if (wanted) loop->handlers[io->kind](loop, io, WSK_IO_IN);
  /* Bytes it did not take (its input paused meanwhile) wait for it; an end of stream or an error
   * not taken comes again with its next receive. */
  wsk__stash_rx(u);
  wsk__bufs_put(u, c->flags);
}

static void dispatch(wsk_loop *loop, struct wsk__uring *u, const struct cqe_copy *c) {
  if (UD_OP(c->ud) == OP_POLL) on_poll(loop, u, c->ud, c->res);
  if (UD_OP(c->ud) == OP_RECV) on_recv(loop, u, c);
  if (UD_OP(c->ud) == OP_ACCEPT) on_accept(loop, u, c);
}

/* Handlers of slots with bytes kept for them, which no completion will report. */
static void run_ready(wsk_loop *loop, struct wsk__uring *u) {
  size_t n = u->nready;
  u->nready = 0;
  for (size_t i = 0; i < n; i++) {
    int fd = u->ready[i];
    struct slot *s = &u->slots[fd];
    if (!s->io || !s->stashed || !(s->io->events & WSK_IO_IN)) continue;
    mark_dirty(u, fd, s);
    loop->handlers[s->io->kind](loop, s->io, WSK_IO_IN);
  }
}

void wsk__uring_keep(struct wsk__uring *u, const struct io_uring_cqe *cqe) {
  if (wsk__uring_reserve(&u->later, &u->nlater, &u->caplater, sizeof *u->later) == 0) {
    u->later[u->nlater++] = (struct cqe_copy){cqe->user_data, cqe->res, cqe->flags};
    return;
  }
  /* No memory to keep it: a receive's bytes go back (its stream would have a hole: end it), a
   * connection just accepted is refused; a poll is posted again (level-triggered: nothing is
   * missed). */
  uint64_t ud = cqe->user_data;
  unsigned op = UD_OP(ud);
  int fd = UD_FD(ud);
  struct slot *s = (size_t)fd < u->nslots ? &u->slots[fd] : NULL;
  if (s && !s->io) s = NULL;
  int ours = s && s->rseq == UD_SEQ(ud); /* (a receive's or an accept's) */
  if (op == OP_RECV) {
    wsk__bufs_put(u, cqe->flags);
    if (ours && cqe->res > 0) shutdown(fd, SHUT_RDWR);
  }
  if (op == OP_ACCEPT && cqe->res >= 0) close(cqe->res);
  if (!s) return;
  if (op == OP_POLL && s->seq == UD_SEQ(ud)) s->posted = 0;
  if ((op == OP_RECV || op == OP_ACCEPT) && ours && !(cqe->flags & IORING_CQE_F_MORE)) s->recv = 0;
  mark_dirty(u, fd, s);
}

int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) {
  post_dirty(u);
  if (u->nlater || u->nready) timeout_ms = 0;
  /* Buffers over the minimum go back after a quiet second, even if nothing else happens. */
  if (u->bufs.target > RECV_MIN || u->bufs.ncold < u->bufs.naside)
    if (timeout_ms < 0 || timeout_ms > 1000) timeout_ms = 1000;
  struct io_uring_cqe *cqe = NULL;
  int r;
  if (timeout_ms < 0) {
    r = io_uring_submit_and_wait(&u->ring, 1);
  } else {
    struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                   .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
    r = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
  }
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY) {
    errno = -r;
    return WSK_ESYS;
  }
  loop->now = wsk__loop_clock_ms();
  /* Copy a batch out of the ring first: handlers post new requests, which may submit. */
  struct cqe_copy got[BATCH];
  unsigned n = 0, head;
  io_uring_for_each_cqe(&u->ring, head, cqe) {
    got[n] = (struct cqe_copy){cqe->user_data, cqe->res, cqe->flags};
    if (++n == BATCH) break;
  }
  io_uring_cq_advance(&u->ring, n);
  /* Those kept while sends were reaped came first. (Handlers never reap sends: those are made
   * at the end of the iteration, so this list does not grow while it is walked.) */
  for (size_t i = 0; i < u->nlater; i++) dispatch(loop, u, &u->later[i]);
  u->nlater = 0;
  for (unsigned i = 0; i < n; i++) dispatch(loop, u, &got[i]);
  run_ready(loop, u);
  wsk__bufs_adjust(u, loop->now);
  return 0;
}

#else /* built without liburing */

struct wsk__uring *wsk__uring_new(char *why, size_t whylen) {
  snprintf(why, whylen, "this build of wsk has no io_uring (liburing was not found)");
  return NULL;
}
void wsk__uring_free(struct wsk__uring *u) {}
int wsk__uring_watch(struct wsk__uring *u, struct wsk__io *io) { return WSK_ESYS; }
void wsk__uring_forget(struct wsk__uring *u, struct wsk__io *io) {}
int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) { return WSK_ESYS; }
int wsk__uring_send(struct wsk__uring *u, struct wsk__io *io, const struct iovec *iov, int n) {
  return WSK_EINVAL;
}
void wsk__uring_sends_finish(struct wsk__uring *u, void (*done)(struct wsk__io *io, ssize_t res)) {}
int wsk__uring_take(struct wsk__uring *u, struct wsk__io *io, void *buf, size_t len,
                    ssize_t *out) {
  return 0;
}
int wsk__uring_accept(struct wsk__uring *u, struct wsk__io *io, int *out) { return 0; }

#endif
