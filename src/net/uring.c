/* uring.c - the io_uring backend of the loop (see uring.h). */
#include "net/uring.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/loop_struct.h"
#include "proto/alloc_internal.h"

#ifdef WSK_HAVE_URING
#include <liburing.h>
#include <poll.h>

#define SQ_ENTRIES 1024
#define CQ_ENTRIES 8192
#define BATCH 256

/* user_data of a request: the descriptor, the slot's sequence number when it was posted (a
 * completion for an older one is stale: the descriptor was closed, maybe reused, or its poll
 * replaced) and what the request was. */
enum { OP_POLL = 0, OP_IGNORE = 1 };
#define UD(fd, seq, op) ((uint64_t)(uint32_t)(fd) | (uint64_t)(seq) << 32 | (uint64_t)(op) << 62)
#define UD_FD(ud) ((int)(uint32_t)(ud))
#define UD_SEQ(ud) ((uint32_t)((ud) >> 32) & SEQ_MASK)
#define UD_OP(ud) ((unsigned)((ud) >> 62))
#define SEQ_MASK 0x3fffffffu

/* One per descriptor number the loop has watched. */
struct slot {
  struct wsk__io *io; /* NULL: not watched */
  uint32_t seq;
  uint8_t posted; /* events of the poll request in the kernel (0: none) */
  uint8_t dirty;  /* on the list of slots whose poll must be (re)posted */
};

struct wsk__uring {
  struct io_uring ring;
  struct slot *slots;
  size_t nslots;
  int *dirty;
  size_t ndirty, capdirty;
};

struct wsk__uring *wsk__uring_new(char *why, size_t whylen) {
  struct wsk__uring *u = wsk__calloc(1, sizeof *u);
  if (!u) {
    snprintf(why, whylen, "out of memory");
    return NULL;
  }
  struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN,
                              .cq_entries = CQ_ENTRIES};
  int r = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
  if (r == -EINVAL) { /* a kernel older than 5.19 has no COOP_TASKRUN */
    p = (struct io_uring_params){.flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES};
    r = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
  }
  if (r < 0) {
    snprintf(why, whylen, "io_uring_setup: %s%s", strerror(-r),
             r == -EPERM ? " (kernel.io_uring_disabled?)" : "");
    wsk__free(u);
    return NULL;
  }
  /* Needed: completions never dropped, a wait with a timeout in the same call. */
  unsigned need = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_FAST_POLL;
  if ((p.features & need) != need) {
    snprintf(why, whylen, "io_uring of this kernel lacks NODROP, EXT_ARG or FAST_POLL (5.11+)");
    io_uring_queue_exit(&u->ring);
    wsk__free(u);
    return NULL;
  }
  return u;
}

void wsk__uring_free(struct wsk__uring *u) {
  if (!u) return;
  io_uring_queue_exit(&u->ring);
  wsk__free(u->slots);
  wsk__free(u->dirty);
  wsk__free(u);
}

/* An SQE, submitting what is queued first when the submission ring is full. */
static struct io_uring_sqe *sqe_get(struct wsk__uring *u) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
  while (!sqe) {
    if (io_uring_submit(&u->ring) < 0 && errno != EINTR) return NULL;
    sqe = io_uring_get_sqe(&u->ring);
  }
  return sqe;
}

static void cancel(struct wsk__uring *u, int fd, struct slot *s) {
  if (!s->posted) return;
  struct io_uring_sqe *sqe = sqe_get(u);
  if (sqe) {
    io_uring_prep_poll_remove(sqe, UD(fd, s->seq, OP_POLL));
    io_uring_sqe_set_data64(sqe, UD(fd, 0, OP_IGNORE));
  }
  s->posted = 0;
  s->seq = (s->seq + 1) & SEQ_MASK; /* its completion, if it comes, is stale */
}

static int mark_dirty(struct wsk__uring *u, int fd, struct slot *s) {
  if (s->dirty) return 0;
  if (u->ndirty == u->capdirty) {
    size_t cap = u->capdirty ? u->capdirty * 2 : 256;
    int *d = wsk__realloc(u->dirty, cap * sizeof *d);
    if (!d) return WSK_ENOMEM;
    u->dirty = d;
    u->capdirty = cap;
  }
  u->dirty[u->ndirty++] = fd;
  s->dirty = 1;
  return 0;
}

static int grow_slots(struct wsk__uring *u, int fd) {
  if ((size_t)fd < u->nslots) return 0;
  size_t n = u->nslots ? u->nslots : 256;
  while (n <= (size_t)fd) n *= 2;
  struct slot *s = wsk__realloc(u->slots, n * sizeof *s);
  if (!s) return WSK_ENOMEM;
  memset(s + u->nslots, 0, (n - u->nslots) * sizeof *s);
  u->slots = s;
  u->nslots = n;
  return 0;
}

int wsk__uring_watch(struct wsk__uring *u, struct wsk__io *io, unsigned events) {
  if (grow_slots(u, io->fd) != 0) {
    errno = ENOMEM;
    return WSK_ESYS;
  }
  struct slot *s = &u->slots[io->fd];
  s->io = io;
  /* A poll that covers what is wanted may stay: what it reports beyond that is filtered out.
   * One that lacks an event must go, since it would not report it. */
  if (s->posted & ~events) {
    if (events & ~s->posted) cancel(u, io->fd, s);
  } else if (s->posted != events) {
    cancel(u, io->fd, s);
  }
  if (events && !s->posted && mark_dirty(u, io->fd, s) != 0) {
    errno = ENOMEM;
    return WSK_ESYS;
  }
  return 0;
}

void wsk__uring_forget(struct wsk__uring *u, struct wsk__io *io) {
  if ((size_t)io->fd >= u->nslots) return;
  struct slot *s = &u->slots[io->fd];
  if (s->io != io) return;
  cancel(u, io->fd, s);
  s->io = NULL;
  s->seq = (s->seq + 1) & SEQ_MASK;
}

static unsigned poll_mask(unsigned events) {
  return ((events & WSK_IO_IN) ? POLLIN : 0u) | ((events & WSK_IO_OUT) ? POLLOUT : 0u);
}

/* Post a poll for every slot that wants events and has none in the kernel. */
static void post_dirty(struct wsk__uring *u) {
  for (size_t i = 0; i < u->ndirty; i++) {
    int fd = u->dirty[i];
    struct slot *s = &u->slots[fd];
    s->dirty = 0;
    if (!s->io || s->posted || !s->io->events) continue;
    struct io_uring_sqe *sqe = sqe_get(u);
    if (!sqe) break; /* (the ring failed: the wait reports it) */
    io_uring_prep_poll_add(sqe, fd, poll_mask(s->io->events));
    io_uring_sqe_set_data64(sqe, UD(fd, s->seq, OP_POLL));
    s->posted = s->io->events;
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
  unsigned r = res < 0 ? POLLERR : (unsigned)res;
  unsigned flags = ((r & POLLIN) ? WSK_IO_IN : 0u) | ((r & POLLOUT) ? WSK_IO_OUT : 0u);
  flags &= io->events;
  if (r & (POLLHUP | POLLERR)) flags |= WSK_IO_HUP;
  if (io->events) mark_dirty(u, fd, s); /* level-triggered: ask again */
  if (flags && io->fd >= 0) loop->handlers[io->kind](loop, io, flags);
}

int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) {
  post_dirty(u);
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
  struct {
    uint64_t ud;
    int res;
  } got[BATCH];
  unsigned n = 0, head;
  io_uring_for_each_cqe(&u->ring, head, cqe) {
    got[n].ud = cqe->user_data;
    got[n].res = cqe->res;
    if (++n == BATCH) break;
  }
  io_uring_cq_advance(&u->ring, n);
  for (unsigned i = 0; i < n; i++)
    if (UD_OP(got[i].ud) == OP_POLL) on_poll(loop, u, got[i].ud, got[i].res);
  return 0;
}

#else /* built without liburing */

struct wsk__uring *wsk__uring_new(char *why, size_t whylen) {
  snprintf(why, whylen, "this build of wsk has no io_uring (liburing was not found)");
  return NULL;
}
void wsk__uring_free(struct wsk__uring *u) { (void)u; }
int wsk__uring_watch(struct wsk__uring *u, struct wsk__io *io, unsigned events) { return 0; }
void wsk__uring_forget(struct wsk__uring *u, struct wsk__io *io) {}
int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) { return WSK_ESYS; }

#endif
