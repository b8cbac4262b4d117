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
enum { OP_POLL = 0, OP_IGNORE = 1, OP_SEND = 2 };
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

/* A send queued by wsk__uring_send, made by wsk__uring_sends_finish. */
struct send {
  struct wsk__io *io;
  int n;
  int res;
  struct msghdr msg;
  struct iovec iov[WSK_URING_SEND_IOV];
};

/* A completion taken from the ring while the sends were reaped, handled with the next wait. */
struct later {
  uint64_t ud;
  int res;
};

struct wsk__uring {
  struct io_uring ring;
  struct slot *slots;
  size_t nslots;
  int *dirty;
  size_t ndirty, capdirty;
  struct send *sends;
  size_t nsends, capsends;
  struct later *later;
  size_t nlater, caplater;
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
  wsk__free(u->sends);
  wsk__free(u->later);
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

/* Room for one more element of size `size` in the array *arr of *n used out of *cap. */
static int reserve(void *arr, size_t *n, size_t *cap, size_t size) {
  if (*n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 64;
  void *a = wsk__realloc(*(void **)arr, ncap * size);
  if (!a) return WSK_ENOMEM;
  *(void **)arr = a;
  *cap = ncap;
  return 0;
}

static int mark_dirty(struct wsk__uring *u, int fd, struct slot *s) {
  if (s->dirty) return 0;
  if (reserve(&u->dirty, &u->ndirty, &u->capdirty, sizeof *u->dirty) != 0) return WSK_ENOMEM;
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

int wsk__uring_send(struct wsk__uring *u, struct wsk__io *io, const struct iovec *iov, int n) {
  if (n < 1 || n > WSK_URING_SEND_IOV || (size_t)io->fd >= u->nslots) return WSK_EINVAL;
  if (reserve(&u->sends, &u->nsends, &u->capsends, sizeof *u->sends) != 0) return WSK_ENOMEM;
  struct send *sd = &u->sends[u->nsends++];
  sd->io = io;
  sd->n = n;
  memcpy(sd->iov, iov, (size_t)n * sizeof *iov);
  return 0;
}

/* Keep a completion that is not a send for the next wait. Without memory for it, a poll's is
 * lost: its slot posts the poll again instead (level-triggered, so nothing is missed). */
static void keep_for_later(struct wsk__uring *u, uint64_t ud, int res) {
  if (reserve(&u->later, &u->nlater, &u->caplater, sizeof *u->later) == 0) {
    u->later[u->nlater].ud = ud;
    u->later[u->nlater++].res = res;
    return;
  }
  int fd = UD_FD(ud);
  if (UD_OP(ud) != OP_POLL || (size_t)fd >= u->nslots) return;
  struct slot *s = &u->slots[fd];
  if (s->io && s->seq == UD_SEQ(ud)) {
    s->posted = 0;
    mark_dirty(u, fd, s);
  }
}

void wsk__uring_sends_finish(struct wsk__uring *u, void (*done)(struct wsk__io *io, ssize_t res)) {
  size_t n = u->nsends, got = 0;
  if (!n) return;
  /* MSG_DONTWAIT: a send the socket has no room for fails with EAGAIN at once instead of
   * waiting in the kernel, so every send is over when the ring has its completion, and its
   * bytes (the connection's queue) are no longer read by the kernel. */
  const int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  for (size_t i = 0; i < n; i++) {
    struct send *sd = &u->sends[i];
    int fd = sd->io->fd;
    struct io_uring_sqe *sqe = fd >= 0 ? sqe_get(u) : NULL;
    sd->res = -EAGAIN;
    if (!sqe) { /* closed since it was queued (nobody is told), or the ring failed */
      got++;
      continue;
    }
    if (sd->n == 1) {
      io_uring_prep_send(sqe, fd, sd->iov[0].iov_base, sd->iov[0].iov_len, flags);
    } else {
      memset(&sd->msg, 0, sizeof sd->msg);
      sd->msg.msg_iov = sd->iov;
      sd->msg.msg_iovlen = (size_t)sd->n;
      io_uring_prep_sendmsg(sqe, fd, &sd->msg, (unsigned)flags);
    }
    io_uring_sqe_set_data64(sqe, UD(fd, i, OP_SEND));
  }
  io_uring_submit(&u->ring);
  while (got < n) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
      seen++;
      if (UD_OP(cqe->user_data) == OP_SEND && UD_SEQ(cqe->user_data) < n) {
        u->sends[UD_SEQ(cqe->user_data)].res = cqe->res;
        got++;
      } else {
        keep_for_later(u, cqe->user_data, cqe->res);
      }
    }
    io_uring_cq_advance(&u->ring, seen);
    if (got < n && io_uring_wait_cqe(&u->ring, &cqe) < 0 && errno != EINTR) break;
  }
  /* Every send is over: now the owners may be told (and may free or queue more). */
  u->nsends = 0;
  for (size_t i = 0; i < n; i++) {
    struct send *sd = &u->sends[i];
    /* Closed by the owner of an earlier send? (Its memory is still there: the loop frees
     * objects at the end of the iteration, after the hooks that finish sends.) */
    int fd = sd->io->fd;
    if (fd < 0 || (size_t)fd >= u->nslots || u->slots[fd].io != sd->io) continue;
    done(sd->io, sd->res);
  }
}

static void dispatch(wsk_loop *loop, struct wsk__uring *u, uint64_t ud, int res) {
  if (UD_OP(ud) == OP_POLL) on_poll(loop, u, ud, res);
}

int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) {
  post_dirty(u);
  if (u->nlater) timeout_ms = 0;
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
  /* Those kept while sends were reaped came first. (Handlers never reap sends: those are made
   * at the end of the iteration, so this list does not grow while it is walked.) */
  for (size_t i = 0; i < u->nlater; i++) dispatch(loop, u, u->later[i].ud, u->later[i].res);
  u->nlater = 0;
  for (unsigned i = 0; i < n; i++) dispatch(loop, u, got[i].ud, got[i].res);
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
int wsk__uring_send(struct wsk__uring *u, struct wsk__io *io, const struct iovec *iov, int n) {
  return WSK_EINVAL;
}
void wsk__uring_sends_finish(struct wsk__uring *u, void (*done)(struct wsk__io *io, ssize_t res)) {}
int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms) { return WSK_ESYS; }

#endif
