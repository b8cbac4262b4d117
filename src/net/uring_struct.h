/* uring_struct.h - the io_uring backend's state, shared by its files only: uring.c (the ring,
 * polls, receives, the wait), uring_bufs.c (the provided receive buffers, bytes kept for later),
 * uring_send.c (the sends of an iteration). */
#ifndef WSK_NET_URING_STRUCT_H
#define WSK_NET_URING_STRUCT_H

#include <liburing.h>
#include <stdint.h>

#include "net/uring.h"

/* user_data of a request: the descriptor, a sequence number (a completion for an older one is
 * stale: the descriptor was closed, maybe reused, or its poll replaced) and what the request was.
 * A send's has its index in the iteration's sends instead of the descriptor, and no sequence. */
enum { OP_POLL, OP_RECV, OP_ACCEPT, OP_SEND, OP_IGNORE };
#define SEQ_MASK 0xffffu
#define UD(fd, seq, op) \
  ((uint64_t)(uint32_t)(fd) | (uint64_t)((seq) & SEQ_MASK) << 32 | (uint64_t)(op) << 56)
#define UD_FD(ud) ((int)(uint32_t)(ud))
#define UD_SEQ(ud) ((uint32_t)((ud) >> 32) & SEQ_MASK)
#define UD_OP(ud) ((unsigned)((ud) >> 56))

/* posted: a poll request is in the kernel, for these events (0: hang-up and errors only) */
#define PF_POSTED 0x80u

/* One per descriptor number, 16 bytes, in a table reserved for the process's whole descriptor
 * limit of which only the pages of descriptors in use are touched. */
struct slot {
  struct wsk__io *io; /* NULL: not watched */
  uint16_t seq;       /* of its poll requests */
  uint16_t rseq;      /* of its receives or accepts: changes only when the descriptor is forgotten,
                         so that the bytes of a receive cancelled while they arrived are still
                         its own */
  uint8_t posted;     /* PF_POSTED | events of the poll in the kernel, or 0 */
  uint8_t recv;       /* a receive (or a listener's accept) is in the kernel */
  uint8_t dirty;      /* on the list of slots whose requests must be (re)posted */
  uint8_t stashed;    /* received bytes its handler did not take wait in `stashes` */
};

/* Bytes received for a descriptor whose handler did not take them (its input was paused). */
struct stash {
  struct stash *next;
  struct wsk__io *io;
  size_t len, off;
  uint8_t data[];
};

/* The buffers the kernel receives into (a provided-buffer ring; a connection holds none between
 * its reads). The kernel has `target` of them: 8 at first, 32 more each time an iteration had a
 * receive that found none (up to RECV_BUFS), and 8 again after a second without a shortage.
 * Those over the target are set aside as they come back; the ones an idle loop's kernel still has
 * are taken back by registering the ring anew; the pages of those set aside go back to the
 * system (madvise). So the memory follows the load, and an idle loop holds 32 KiB. */
#define RECV_BUF_SIZE 4096 /* a page: set aside one by one */
#define RECV_BUFS 1024     /* the ring's entries (a power of two) */
#define RECV_MIN 8
#define RECV_BLOCK 32      /* buffers allocated at a time */
#define RECV_GROUP 0
struct bufs {
  struct io_uring_buf_ring *br;
  uint8_t *block[RECV_BUFS / RECV_BLOCK];
  unsigned n;      /* buffers allocated */
  unsigned target; /* buffers the kernel should have */
  unsigned out;    /* buffers the kernel has (in the ring, or filled and not yet handled) */
  uint8_t kernel[RECV_BUFS / 8]; /* bit per buffer: given to the kernel, not handed back yet */
  uint8_t blank[RECV_BUFS / 8];  /* bit per buffer: new or emptied (madvise) since last given */
  uint16_t aside[RECV_BUFS]; /* ids of the others */
  unsigned naside, ncold;    /* aside[0..ncold) gave their pages back; the others hold pages */
  uint8_t short_;            /* a receive found no buffer in this iteration */
  uint64_t last_short, last_decay; /* loop time, ms */
};

/* The completion being handled: bytes for io that its handler takes with wsk__uring_take. */
struct rx {
  struct wsk__io *io; /* NULL: none */
  const uint8_t *p;
  size_t len;
  int res; /* > 0 bytes, 0 end of stream, < 0 -errno */
};

struct send {
  struct wsk__io *io;
  int n;
  int res;
  struct msghdr msg;
  struct iovec iov[WSK_URING_SEND_IOV];
};

/* A completion taken from the ring while the sends were reaped, handled with the next wait. */
struct cqe_copy {
  uint64_t ud;
  int res;
  uint32_t flags;
};

struct wsk__uring {
  struct io_uring ring;
  struct slot *slots; /* mmap'd, nslots of them */
  size_t nslots;
  int *dirty; /* mmap'd, nslots entries: slots whose requests must be (re)posted */
  size_t ndirty;
  int *ready; /* stashed slots that want input: their handlers run without a completion */
  size_t nready; /* (mmap'd, nslots entries) */
  struct bufs bufs;
  struct stash *stashes;
  struct rx rx;
  struct send *sends;
  size_t nsends, capsends;
  struct cqe_copy *later;
  size_t nlater, caplater;
};

/* uring.c */
int wsk__uring_reserve(void *arr, size_t *n, size_t *cap, size_t size);
struct io_uring_sqe *wsk__uring_sqe(struct wsk__uring *u);
void wsk__uring_keep(struct wsk__uring *u, const struct io_uring_cqe *cqe);
/* uring_bufs.c */
/* 0, or the error registering the ring (WSK_ENOMEM, or -errno from the kernel). */
int wsk__bufs_init(struct wsk__uring *u);
void wsk__bufs_free(struct wsk__uring *u);
uint8_t *wsk__bufs_get(struct wsk__uring *u, uint32_t cqe_flags);
void wsk__bufs_put(struct wsk__uring *u, uint32_t cqe_flags);
/* End of an iteration: more buffers after a shortage, fewer after a quiet second. */
void wsk__bufs_adjust(struct wsk__uring *u, uint64_t now);
/* Keep what the handler of rx did not take (its input is paused): 0 or WSK_ENOMEM (then lost,
 * and the connection is shut down: its stream has a hole). */
int wsk__stash_rx(struct wsk__uring *u);
void wsk__stash_drop(struct wsk__uring *u, struct wsk__io *io);

#endif
