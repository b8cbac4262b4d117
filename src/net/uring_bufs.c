/* uring_bufs.c - the io_uring backend's receive buffers (a provided-buffer ring the kernel picks
 * from when bytes arrive) and the bytes a handler did not take (see uring_struct.h). */
#ifdef WSK_HAVE_URING
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "net/uring_struct.h"
#include "proto/alloc_internal.h"
#include "wsk.h"

#define RING_ALIGN 4096
#define DECAY_MS 1000

static uint8_t *buf_of(const struct bufs *b, unsigned bid) {
  return b->block[bid / RECV_BLOCK] + (size_t)(bid % RECV_BLOCK) * RECV_BUF_SIZE;
}

/* The bit sets of struct bufs: a bit per buffer id. */
static int bit_has(const uint8_t *set, unsigned bid) { return (set[bid / 8] >> (bid % 8)) & 1; }
static void bit_set(uint8_t *set, unsigned bid) { set[bid / 8] |= (uint8_t)(1u << (bid % 8)); }
static void bit_clear(uint8_t *set, unsigned bid) { set[bid / 8] &= (uint8_t)~(1u << (bid % 8)); }

/* Hand buffer bid to the kernel. */
static void give(struct bufs *b, unsigned bid) {
  /* Written once before the kernel fills it: tools that track which bytes were ever written
   * (valgrind's memcheck) do not see the kernel's writes into it, which come without a system
   * call of ours, and would take the bytes received for uninitialised. */
  if (bit_has(b->blank, bid)) {
    memset(buf_of(b, bid), 0, RECV_BUF_SIZE);
    bit_clear(b->blank, bid);
  }
  bit_set(b->kernel, bid);
  io_uring_buf_ring_add(b->br, buf_of(b, bid), RECV_BUF_SIZE, (unsigned short)bid,
                        io_uring_buf_ring_mask(RECV_BUFS), 0);
  io_uring_buf_ring_advance(b->br, 1);
  b->out++;
}

/* Buffers to the kernel up to the target: those set aside first, then new blocks. */
static void fill(struct bufs *b) {
  while (b->out < b->target && b->naside > 0) {
    give(b, b->aside[--b->naside]);
    if (b->ncold > b->naside) b->ncold = b->naside;
  }
  while (b->out < b->target && b->n < RECV_BUFS) {
    void *block = NULL;
    if (posix_memalign(&block, RING_ALIGN, (size_t)RECV_BLOCK * RECV_BUF_SIZE) != 0) return;
    b->block[b->n / RECV_BLOCK] = block; /* (receives without a buffer fall back to recv()) */
    for (unsigned i = 0; i < RECV_BLOCK; i++) {
      bit_set(b->blank, b->n + i);
      if (b->out < b->target)
        give(b, b->n + i);
      else
        b->aside[b->naside++] = (uint16_t)(b->n + i); /* never touched: cold already */
    }
    b->ncold = b->naside;
    b->n += RECV_BLOCK;
  }
}

/* (Re)register the empty ring. 0, or the kernel's error (before 5.19: no provided buffers). */
static int ring_register(struct wsk__uring *u) {
  struct bufs *b = &u->bufs;
  memset(b->br, 0, RECV_BUFS * sizeof(struct io_uring_buf));
  io_uring_buf_ring_init(b->br);
  struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)b->br, .ring_entries = RECV_BUFS,
                                 .bgid = RECV_GROUP};
  return io_uring_register_buf_ring(&u->ring, &reg, 0);
}

/* Take back the buffers the kernel has and has not filled: unregister the ring (the kernel picks
 * a buffer only when bytes arrive, under the ring's lock, and reports it in a completion), keep
 * the completions already posted for the next wait (their buffers come back when handled), and
 * register the ring again with the target's worth. */
static void reclaim(struct wsk__uring *u) {
  struct bufs *b = &u->bufs;
  if (io_uring_unregister_buf_ring(&u->ring, RECV_GROUP) != 0) return;
  struct io_uring_cqe *cqe;
  unsigned head, seen = 0;
  io_uring_for_each_cqe(&u->ring, head, cqe) {
    wsk__uring_keep(u, cqe);
    seen++;
  }
  io_uring_cq_advance(&u->ring, seen);
  uint8_t reported[RECV_BUFS / 8] = {0};
  for (size_t i = 0; i < u->nlater; i++)
    if (u->later[i].flags & IORING_CQE_F_BUFFER) {
      unsigned bid = u->later[i].flags >> IORING_CQE_BUFFER_SHIFT;
      bit_set(reported, bid);
    }
  for (unsigned bid = 0; bid < b->n; bid++) {
    if (!bit_has(b->kernel, bid) || bit_has(reported, bid)) continue;
    bit_clear(b->kernel, bid);
    b->out--;
    b->aside[b->naside++] = (uint16_t)bid;
  }
  if (ring_register(u) != 0) { /* should not happen: receives fall back to recv() */
    b->target = 0;
    return;
  }
  fill(b);
}

void wsk__bufs_adjust(struct wsk__uring *u, uint64_t now) {
  struct bufs *b = &u->bufs;
  if (!b->br) return;
  if (b->short_) {
    b->short_ = 0;
    b->last_short = b->last_decay = now;
    b->target = b->target + RECV_BLOCK < RECV_BUFS ? b->target + RECV_BLOCK : RECV_BUFS;
    fill(b);
    return;
  }
  if (now - b->last_short < DECAY_MS || now - b->last_decay < DECAY_MS) return;
  b->last_decay = now;
  b->target = RECV_MIN; /* (growth is quick when the load comes back) */
  if (b->out > b->target) reclaim(u);
  /* The pages of buffers set aside go back to the system (the kernel no longer has them). */
  for (; b->ncold < b->naside; b->ncold++) {
    unsigned bid = b->aside[b->ncold];
    madvise(buf_of(b, bid), RECV_BUF_SIZE, MADV_DONTNEED);
    bit_set(b->blank, bid);
  }
}

int wsk__bufs_init(struct wsk__uring *u) {
  struct bufs *b = &u->bufs;
  void *ring = NULL;
  if (posix_memalign(&ring, RING_ALIGN, RECV_BUFS * sizeof(struct io_uring_buf)) != 0)
    return WSK_ENOMEM;
  b->br = ring;
  int r = ring_register(u);
  if (r != 0) {
    free(ring);
    b->br = NULL;
    return r;
  }
  b->target = RECV_MIN;
  fill(b);
  return 0;
}

void wsk__bufs_free(struct wsk__uring *u) {
  struct bufs *b = &u->bufs;
  if (!b->br) return;
  io_uring_unregister_buf_ring(&u->ring, RECV_GROUP);
  for (unsigned i = 0; i < b->n / RECV_BLOCK; i++) free(b->block[i]);
  free(b->br);
  b->br = NULL;
}

uint8_t *wsk__bufs_get(struct wsk__uring *u, uint32_t cqe_flags) {
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return NULL;
  return buf_of(&u->bufs, cqe_flags >> IORING_CQE_BUFFER_SHIFT);
}

void wsk__bufs_put(struct wsk__uring *u, uint32_t cqe_flags) {
  struct bufs *b = &u->bufs;
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return;
  unsigned bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
  bit_clear(b->kernel, bid);
  b->out--;
  if (b->out < b->target)
    give(b, bid);
  else
    b->aside[b->naside++] = (uint16_t)bid;
}

int wsk__stash_rx(struct wsk__uring *u) {
  struct rx *rx = &u->rx;
  struct wsk__io *io = rx->io;
  rx->io = NULL;
  if (!io || io->fd < 0 || rx->res <= 0 || rx->len == 0) return 0;
  struct stash *st = NULL;
  for (struct stash *s = u->stashes; s; s = s->next)
    if (s->io == io) st = s;
  size_t have = st ? st->len - st->off : 0;
  struct stash *n = wsk__malloc(sizeof *n + have + rx->len);
  if (!n) {
    shutdown(io->fd, SHUT_RDWR); /* the read side then ends the connection */
    return WSK_ENOMEM;
  }
  n->io = io;
  n->len = have + rx->len;
  n->off = 0;
  if (have) memcpy(n->data, st->data + st->off, have);
  memcpy(n->data + have, rx->p, rx->len);
  if (st) wsk__stash_drop(u, io);
  n->next = u->stashes;
  u->stashes = n;
  u->slots[io->fd].stashed = 1;
  return 0;
}

void wsk__stash_drop(struct wsk__uring *u, struct wsk__io *io) {
  for (struct stash **pp = &u->stashes; *pp; pp = &(*pp)->next) {
    if ((*pp)->io == io) {
      struct stash *s = *pp;
      *pp = s->next;
      wsk__free(s);
      break;
    }
  }
  if (io->fd >= 0 && (size_t)io->fd < u->nslots) u->slots[io->fd].stashed = 0;
}

int wsk__uring_accept(struct wsk__uring *u, struct wsk__io *io, int *out) {
  struct rx *rx = &u->rx;
  if (rx->io == io) {
    rx->io = NULL;
    *out = rx->res >= 0 ? rx->res : -1;
    if (rx->res < 0) errno = -rx->res;
    return 1;
  }
  if ((size_t)io->fd < u->nslots && u->slots[io->fd].recv) { /* the next come through the ring */
    errno = EAGAIN;
    *out = -1;
    return 1;
  }
  return 0;
}

int wsk__uring_take(struct wsk__uring *u, struct wsk__io *io, void *buf, size_t len,
                    ssize_t *out) {
  struct rx *rx = &u->rx;
  if (rx->io == io) {
    if (rx->res <= 0) {
      rx->io = NULL;
      *out = rx->res == 0 ? 0 : -1;
      errno = -rx->res;
      return 1;
    }
    size_t n = rx->len < len ? rx->len : len;
    memcpy(buf, rx->p, n);
    rx->p += n;
    rx->len -= n;
    if (!rx->len) rx->io = NULL;
    /* A full buffer: the socket likely holds more (a big message), taken now rather than one
     * buffer per iteration. (An end of stream or an error found here comes again with the next
     * receive.) */
    if (!rx->io && rx->res == RECV_BUF_SIZE && len > n) {
      ssize_t more = recv(io->fd, (uint8_t *)buf + n, len - n, MSG_DONTWAIT);
      if (more > 0) n += (size_t)more;
    }
    *out = (ssize_t)n;
    return 1;
  }
  struct slot *s = (size_t)io->fd < u->nslots ? &u->slots[io->fd] : NULL;
  if (s && s->stashed) {
    for (struct stash *st = u->stashes; st; st = st->next) {
      if (st->io != io) continue;
      size_t n = st->len - st->off < len ? st->len - st->off : len;
      memcpy(buf, st->data + st->off, n);
      st->off += n;
      if (st->off == st->len) wsk__stash_drop(u, io);
      *out = (ssize_t)n;
      return 1;
    }
  }
  if (s && s->recv) { /* the next bytes come through the ring */
    errno = EAGAIN;
    *out = -1;
    return 1;
  }
  return 0;
}

#endif
