/* uring_send.c - the io_uring backend's sends: queued by the connections of an iteration's batch,
 * made with one io_uring_enter, reaped, then reported (see uring.h). */
#ifdef WSK_HAVE_URING
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "net/uring_struct.h"
#include "wsk.h"

int wsk__uring_send(struct wsk__uring *u, struct wsk__io *io, const struct iovec *iov, int n) {
  if (n < 1 || n > WSK_URING_SEND_IOV || (size_t)io->fd >= u->nslots) return WSK_EINVAL;
  if (wsk__uring_reserve(&u->sends, &u->nsends, &u->capsends, sizeof *u->sends) != 0)
    return WSK_ENOMEM;
  struct send *sd = &u->sends[u->nsends++];
  sd->io = io;
  sd->n = n;
  memcpy(sd->iov, iov, (size_t)n * sizeof *iov);
  return 0;
}

/* Post the queued sends. MSG_DONTWAIT: a send the socket has no room for fails with EAGAIN at
 * once instead of waiting in the kernel, so every send is over when the ring has its completion,
 * and its bytes (the connection's queue) are no longer read by the kernel. Returns how many
 * are already over (not posted). */
static size_t post_sends(struct wsk__uring *u) {
  const int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  size_t over = 0;
  for (size_t i = 0; i < u->nsends; i++) {
    struct send *sd = &u->sends[i];
    int fd = sd->io->fd;
    struct io_uring_sqe *sqe = fd >= 0 ? wsk__uring_sqe(u) : NULL;
    sd->res = -EAGAIN;
    if (!sqe) { /* closed since it was queued (nobody is told), or the ring failed */
      over++;
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
    io_uring_sqe_set_data64(sqe, UD(i, 0, OP_SEND)); /* (a batch may have more than SEQ_MASK) */
  }
  return over;
}

void wsk__uring_sends_finish(struct wsk__uring *u, void (*done)(struct wsk__io *io, ssize_t res)) {
  size_t n = u->nsends;
  if (!n) return;
  size_t got = post_sends(u);
  io_uring_submit(&u->ring);
  while (got < n) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
      seen++;
      size_t i = (uint32_t)UD_FD(cqe->user_data);
      if (UD_OP(cqe->user_data) == OP_SEND && i < n) {
        u->sends[i].res = cqe->res;
        got++;
      } else {
        wsk__uring_keep(u, cqe);
      }
    }
    io_uring_cq_advance(&u->ring, seen);
    int r = got < n ? io_uring_wait_cqe(&u->ring, &cqe) : 0;
    if (r < 0 && r != -EINTR) break; /* (those not reaped keep res -EAGAIN) */
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

#endif
