/* write.c - the output path of a connection: cork, inline writes, the write queue, EPOLLOUT.
 *
 * Order of preference: (1) while the connection's input is being processed, writes are collected
 * in the loop's cork (small pieces copied, big slices of the receive buffer referenced) and sent
 * with one sendmsg when processing ends; (2) output to any other connection while the loop runs
 * waits in that connection's queue for the batch (batch.c): one write per connection at the end
 * of the iteration; (3) otherwise (outside the loop, a big message) bytes go straight to the
 * socket (one send, or one sendmsg of header + payload); (4) what the socket does not take is
 * queued (copied, or referenced when shared) and EPOLLOUT is armed until the queue is empty.
 * The cork is used only while the queue is empty, so the order of the bytes always holds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn_internal.h"
#include "net/tls.h"

#define MAX_IOV 8
/* Slices of the receive buffer at least this big are referenced by the cork; smaller ones are
 * copied (cheaper than one more iovec for the kernel to walk). */
#define CORK_REF_MIN 1024
/* Output to a connection that is not batched yet goes straight to the socket from this size on:
 * it fills a write by itself, and copying it into the queue would cost more than the call. */
#define BATCH_MAX (64 * 1024)

static int queued(const wsk_conn *c) { return c->ext && c->ext->wq.head; }

static void cork_clear(struct wsk__cork *k) {
  k->len = k->total = 0;
  k->niov = 0;
}

/* Room for n more copied bytes in the cork (growing its last segment when that one is the end of
 * buf), or NULL. */
static inline uint8_t *cork_take(struct wsk__cork *k, size_t n) {
  if (n > WSK_CORK_SIZE - k->len) return NULL;
  uint8_t *p = k->buf + k->len;
  struct iovec *last = k->niov ? &k->iov[k->niov - 1] : NULL;
  if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
    last->iov_len += n;
  } else if (n) {
    if (k->niov == WSK_CORK_IOV) return NULL;
    k->iov[k->niov].iov_base = p;
    k->iov[k->niov].iov_len = n;
    k->niov++;
  }
  k->len += n;
  k->total += n;
  return p;
}

static int in_rbuf(wsk_conn *c, const struct iovec *v) {
  uintptr_t r = (uintptr_t)wsk__loop_rbuf(c->group->loop), b = (uintptr_t)v->iov_base;
  /* (len <= WSK_RBUF_SIZE first: a bigger slice, e.g. a reassembled message, cannot be inside
   * the receive buffer, and the subtraction below must not wrap.) */
  return v->iov_len >= CORK_REF_MIN && v->iov_len <= WSK_RBUF_SIZE && b >= r &&
         b - r <= WSK_RBUF_SIZE - v->iov_len;
}

/* Add iov[0..n) to c's cork: big slices of the receive buffer by reference, the rest copied.
 * Returns 0, or -1 (the cork unchanged) when it does not fit. */
static int cork_add(wsk_conn *c, struct wsk__cork *k, const struct iovec *iov, int n) {
  size_t copy = 0;
  for (int i = 0; i < n; i++)
    if (!in_rbuf(c, &iov[i])) copy += iov[i].iov_len;
  if (copy > WSK_CORK_SIZE - k->len || k->niov + n > WSK_CORK_IOV) return -1;
  for (int i = 0; i < n; i++) {
    if (in_rbuf(c, &iov[i])) {
      k->iov[k->niov++] = iov[i];
      k->total += iov[i].iov_len;
    } else if (iov[i].iov_len) {
      memcpy(cork_take(k, iov[i].iov_len), iov[i].iov_base, iov[i].iov_len);
    }
  }
  return 0;
}

uint8_t *wsk__conn_cork_reserve(wsk_conn *c, size_t n) {
  struct wsk__cork *k = c->group->cork;
  return k->owner == c && !queued(c) ? cork_take(k, n) : NULL;
}

size_t wsk_buffered_amount(const wsk_conn *c) { return wsk__conn_pending(c); }

static void want_out(wsk_conn *c, int on) {
  unsigned ev = wsk__conn_has(c, WSK_CF_HOLD_IN) ? 0u : WSK_IO_IN;
  if (on) ev |= WSK_IO_OUT;
  if (c->io.kind == WSK_IO_TLS) ev = wsk__conn_tls_events(c, ev);
  wsk__io_set(c->group->loop, &c->io, ev);
}

void wsk__conn_rearm(wsk_conn *c) { want_out(c, c->ext && c->ext->wq.head); }

/* A plain server connection whose closing handshake is complete (both close frames exchanged)
 * sends its last write with MSG_MORE: the shutdown(SHUT_WR) right after it (linger_step) puts the
 * FIN in the same segment. It does not close() at once: a peer may still send bytes after its
 * close frame (a second close, a ping), and bytes arriving at a closed socket draw a RST that
 * throws away whatever of our output the kernel has not delivered yet (the echo before the close,
 * the close frame itself). So it lingers: FIN, then input is discarded until the peer's FIN or the
 * close timeout. */
static int ends_when_written(const wsk_conn *c) {
  return wsk__conn_state(c) == WSK_CS_LINGER && c->io.kind == WSK_IO_CONN && !c->group->client &&
         c->parser.closed && wsk__conn_has(c, WSK_CF_CLOSE_SENT);
}

/* send/sendmsg, or the TLS session's writev: the same returns. */
static ssize_t sendv(wsk_conn *c, const struct iovec *iov, int n) {
  if (c->io.kind == WSK_IO_TLS) /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    return wsk__tls_writev(c->ext->tls, iov, n); /* (a TLS connection keeps its ext) */
  return wsk__sendv(c->io.fd, iov, n, ends_when_written(c) ? MSG_MORE : 0);
}

/* A write failed for good: the peer is gone. Drop the output; the read side learns the reason
 * (EOF or error) on its next event, which a broken socket reports at once. */
static void write_failed(wsk_conn *c) {
  if (c->ext) wsk__wq_clear(&c->ext->wq);
  struct wsk__cork *cork = c->group->cork;
  if (cork->owner == c) cork_clear(cork);
  want_out(c, 0);
}

/* No memory to queue output: part of a frame may be on the wire already and the rest cannot
 * follow, so the connection cannot go on. Drop the output and shut the socket down; the read side
 * sees the end on its next event and destroys the connection from the loop (on_close 1006), not
 * from inside the send call that failed. Returns WSK_ENOMEM. */
static int out_of_memory(wsk_conn *c) {
  write_failed(c);
  shutdown(c->io.fd, SHUT_RDWR);
  return WSK_ENOMEM;
}

/* Something was added to c's queue: EPOLLOUT writes it, or the batch at the end of the
 * iteration, or now when the batch holds enough for a write (memory stays bounded in a burst). */
static void queued_more(wsk_conn *c) {
  if (!wsk__conn_batched(c))
    want_out(c, 1);
  else if (c->ext->wq.bytes >= BATCH_MAX)
    wsk__conn_write_batched(c);
}

/* Whole frames were just queued behind `before` (the tail before them, NULL when the queue was
 * empty, and its length then): unless they went into `before` itself, the first new chunk begins
 * with a frame, and wsk__conn_drop_unsent may cut the queue there. */
static void mark_frame_start(struct wsk__wqueue *q, struct wsk__chunk *before, size_t before_len) {
  struct wsk__chunk *first = before ? before->next : q->head;
  if (first && (!before || before->len == before_len)) first->unit_start = 1;
}

/* Push the bytes of iov[0..n) from offset `skip` on to x's queue: copies, except iov[ref_i] by
 * reference when it is big (a small shared frame is cheaper copied than referenced). */
static int push_rest(struct wsk__conn_ext *x, const struct iovec *iov, int n, size_t skip,
                     struct wsk__ref *ref, int ref_i) {
  struct iovec copy[WSK_CORK_IOV + MAX_IOV];
  int ncopy = 0;
  for (int i = 0; i < n; i++) {
    size_t len = iov[i].iov_len;
    const uint8_t *base = iov[i].iov_base;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    base += skip;
    len -= skip;
    skip = 0;
    if (i == ref_i && ref && len >= CORK_REF_MIN) {
      if (ncopy && wsk__wq_push_copy(&x->wq, copy, ncopy) != 0) return WSK_ENOMEM;
      ncopy = 0;
      if (wsk__wq_push_ref(&x->wq, ref, base, len) != 0) return WSK_ENOMEM;
    } else {
      copy[ncopy].iov_base = (void *)base;
      copy[ncopy].iov_len = len;
      ncopy++;
    }
  }
  return ncopy ? wsk__wq_push_copy(&x->wq, copy, ncopy) : 0;
}

/* Queue the bytes of iov[0..n) from offset `skip` on. EPOLLOUT is armed unless the batch writes c
 * at the end of the iteration. */
static int queue_rest(wsk_conn *c, const struct iovec *iov, int n, size_t skip,
                      struct wsk__ref *ref, int ref_i) {
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  if (!x) return out_of_memory(c);
  struct wsk__chunk *before = x->wq.tail;
  size_t before_len = before ? before->len : 0;
  int whole = skip == 0; /* (the bytes of one call begin with a frame) */
  if (push_rest(x, iov, n, skip, ref, ref_i) != 0) return out_of_memory(c);
  if (whole) mark_frame_start(&x->wq, before, before_len);
  queued_more(c);
  return 0;
}

/* Queue whole frames for the batch to write at the end of the iteration (c's queue is empty).
 * The batch only saves system calls: without memory for the queue, nothing stays queued, and
 * the caller writes the frames now. */
static int queue_for_batch(wsk_conn *c, const struct iovec *iov, int n, struct wsk__ref *ref,
                           int ref_i) {
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  if (!x) return WSK_ENOMEM;
  if (push_rest(x, iov, n, 0, ref, ref_i) != 0) {
    wsk__wq_clear(&x->wq);
    return WSK_ENOMEM;
  }
  mark_frame_start(&x->wq, NULL, 0);
  queued_more(c);
  return 0;
}

/* Write all[0..nall) (want bytes) to the socket and queue what it does not take. The bytes of
 * all[ref_i] belong to ref; everything else is copied. */
static int send_or_queue(wsk_conn *c, const struct iovec *all, int nall, size_t want,
                         struct wsk__ref *ref, int ref_i) {
  ssize_t w = sendv(c, all, nall);
  if (w < 0) {
    write_failed(c);
    return WSK_ECLOSED;
  }
  if ((size_t)w == want) return 0;
  /* TLS retries a record that did not fit from one contiguous copy (see net/tls.c). */
  if (c->io.kind == WSK_IO_TLS) ref = NULL;
  return queue_rest(c, all, nall, (size_t)w, ref, ref_i);
}

int wsk__conn_writev(wsk_conn *c, const struct iovec *iov, int n, struct wsk__ref *ref, int ref_i) {
  if (c->io.fd < 0) return WSK_ECLOSED;
  if (queued(c)) return queue_rest(c, iov, n, 0, ref, ref_i);
  struct wsk__cork *cork = c->group->cork;
  struct iovec all[WSK_CORK_IOV + MAX_IOV];
  int nall = 0;
  size_t want = 0;
  if (cork->owner == c) {
    if (cork_add(c, cork, iov, n) == 0) return 0;
    /* Too much for the cork: send what it holds and this in one go (the cork's bytes are copied
     * by queue_rest before anything can write to the cork again). */
    memcpy(all, cork->iov, (size_t)cork->niov * sizeof *all);
    nall = cork->niov;
    want = cork->total;
    cork_clear(cork);
  }
  int shift = nall;
  for (int i = 0; i < n && i < MAX_IOV; i++) {
    all[nall++] = iov[i];
    want += iov[i].iov_len;
  }
  if (cork->owner != c && want < BATCH_MAX && wsk__conn_batch(c) == 0 &&
      queue_for_batch(c, iov, n, ref, ref_i) == 0)
    return 0;
  return send_or_queue(c, all, nall, want, ref, ref_i >= 0 ? ref_i + shift : -1);
}

void wsk__conn_drop_unsent(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  /* A TLS write the socket did not take must be repeated with the same first bytes. */
  if (x) wsk__wq_cut(&x->wq, c->io.kind == WSK_IO_TLS ? WSK_TLS_GATHER : 0);
}

void wsk__conn_write_batched(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  if (!wsk__conn_batched(c) || (c->io.events & WSK_IO_OUT) || !x || !x->wq.head || c->io.fd < 0)
    return;
  ssize_t w = wsk__wq_flush(&x->wq, c->io.fd, c->io.kind == WSK_IO_TLS ? x->tls : NULL);
  if (w < 0) {
    write_failed(c);
  } else if (x->wq.head) {
    want_out(c, 1); /* the socket is full: EPOLLOUT, and the batch leaves c to it */
  } else {
    wsk__conn_release_later(c);
  }
}

/* With io_uring, the output of processing a plain connection's input waits in its queue for the
 * batch, whose sends go with one system call at the end of the iteration (copying it costs less
 * than a send of its own). Big output is sent now: the copy would cost more than the call. */
static int send_later(wsk_conn *c, size_t len) {
  return len < BATCH_MAX && c->io.kind == WSK_IO_CONN && wsk__loop_sends_later(c->group->loop) &&
         wsk__conn_batch(c) == 0;
}

/* Send what the cork holds for c (c is the owner), keeping c corked. */
static int flush_cork(wsk_conn *c, struct wsk__cork *cork) {
  if (!cork->niov) return 0;
  int r = c->io.fd < 0 ? WSK_ECLOSED
          : send_later(c, cork->total) && queue_for_batch(c, cork->iov, cork->niov, NULL, -1) == 0
              ? 0
              : send_or_queue(c, cork->iov, cork->niov, cork->total, NULL, -1);
  cork_clear(cork);
  return r;
}

void wsk__conn_cork_drop(wsk_conn *c) {
  struct wsk__cork *cork = c->group->cork;
  if (cork->owner != c) return;
  cork->owner = NULL;
  cork_clear(cork);
}

int wsk__conn_write_chunk(wsk_conn *c, struct wsk__chunk *chunk) {
  if (c->io.fd < 0) {
    wsk__chunk_free(chunk);
    return WSK_ECLOSED;
  }
  struct wsk__cork *cork = c->group->cork;
  int file = chunk->data == NULL; /* a file chunk: only the queue sends it (wsk__wq_flush) */
  if (cork->owner == c && !queued(c)) {
    uint8_t *p = file ? NULL : cork_take(cork, chunk->len);
    if (p) {
      memcpy(p, chunk->data, chunk->len);
      wsk__chunk_free(chunk);
      return 0;
    }
    int r = flush_cork(c, cork); /* keeps the order: what was corked goes first */
    if (r < 0) {
      wsk__chunk_free(chunk);
      return r;
    }
  }
  if (!queued(c) && !file && (cork->owner == c || chunk->len >= BATCH_MAX || wsk__conn_batch(c))) {
    struct iovec v = {(void *)chunk->data, chunk->len};
    ssize_t w = sendv(c, &v, 1);
    if (w < 0) {
      wsk__chunk_free(chunk);
      write_failed(c);
      return WSK_ECLOSED;
    }
    chunk->data += w;
    chunk->len -= (size_t)w;
    if (!chunk->len) {
      wsk__chunk_free(chunk);
      return 0;
    }
  }
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  if (!x) {
    wsk__chunk_free(chunk);
    return out_of_memory(c);
  }
  chunk->unit_start = x->wq.head != NULL; /* (else it is the head: partly written, maybe) */
  wsk__wq_push(&x->wq, chunk);
  queued_more(c);
  return 0;
}

void wsk__conn_cork(wsk_conn *c) {
  struct wsk__cork *cork = c->group->cork;
  if (cork->owner == c) return;
  if (cork->owner) wsk__conn_uncork(cork->owner);
  cork->owner = c;
  cork_clear(cork);
}

void wsk__conn_uncork(wsk_conn *c) {
  struct wsk__cork *cork = c->group->cork;
  if (cork->owner != c) return;
  flush_cork(c, cork);
  cork->owner = NULL;
  /* A lingering connection whose output is all written can move on. */
  if (wsk__conn_state(c) == WSK_CS_LINGER && !queued(c)) wsk__conn_flush(c);
}

/* The last step of a lingering connection once its output is written: TLS close_notify, FIN
 * (server role), and close when the peer has already sent its FIN (see ends_when_written). */
static void linger_step(wsk_conn *c) {
  if (wsk__conn_has(c, WSK_CF_PEER_EOF)) {
    wsk__conn_destroy(c, 0, NULL);
    return;
  }
  if (c->io.kind == WSK_IO_TLS && wsk__conn_tls_close_notify(c) != 0) return; /* socket full */
  if (!c->group->client && !wsk__conn_has(c, WSK_CF_SHUT_WR)) {
    wsk__conn_flag(c, WSK_CF_SHUT_WR);
    shutdown(c->io.fd, SHUT_WR);
  }
}

/* The socket took output of a server connection answering HTTP or lingering: its deadline counts
 * from this progress, so a big file to a slow reader is not cut off, while a peer that stops
 * reading is dropped a timeout later. */
static void progress(wsk_conn *c) {
  const struct wsk__group *g = c->group;
  unsigned st = wsk__conn_state(c), linger = g->close_timeout_ms;
  if (g->client || !c->deadline) return;
  if (st == WSK_CS_HTTP) wsk__conn_set_timeout(c, g->handshake_timeout_ms);
  if (st == WSK_CS_LINGER) wsk__conn_set_timeout(c, linger ? linger : WSK_LINGER_DEFAULT_MS);
}

/* What follows a write of c's queue that returned w (bytes, or an error in wsk.h's space). */
static void flushed(wsk_conn *c, ssize_t w) {
  struct wsk__conn_ext *x = c->ext;
  int tls = c->io.kind == WSK_IO_TLS;
  if (w < 0) {
    char msg[192], why[160];
    if (tls)
      wsk__tls_error_text((int)w, why, sizeof why);
    else
      snprintf(why, sizeof why, "%s", strerror((int)-w));
    snprintf(msg, sizeof msg, "%s: %s", tls ? "TLS write" : "send", why);
    wsk__conn_destroy(c, w == WSK_ETLS ? WSK_ETLS : WSK_ESYS, msg);
    return;
  }
  if (w > 0) progress(c);
  if (!x->wq.head) { /* else the socket is full and EPOLLOUT stays armed */
    want_out(c, 0);
    wsk__conn_release_later(c);
    if (wsk__conn_state(c) == WSK_CS_HTTP && wsk__conn_has(c, WSK_CF_HOLD_IN)) {
      /* Input paused while answers piled up: go on with what was read, then read again. */
      wsk__conn_hold_input(c, 0);
      wsk__conn_feed_held(c);
    }
  }
}

/* After a write: on_drain once the queue is low again, and a lingering connection moves on. */
static void after_write(wsk_conn *c) {
  const struct wsk__group *g = c->group;
  if (wsk__conn_has(c, WSK_CF_NEED_DRAIN) &&
      wsk__conn_pending(c) <= (g->low_water ? g->low_water : g->high_water / 2)) {
    wsk__conn_unflag(c, WSK_CF_NEED_DRAIN);
    const struct wsk_callbacks *cb = wsk__conn_cb(c);
    if (wsk__conn_state(c) == WSK_CS_OPEN && cb->on_drain) cb->on_drain(c);
    if (wsk__conn_dead(c)) return;
  }
  if (wsk__conn_state(c) == WSK_CS_LINGER && wsk__conn_pending(c) == 0) linger_step(c);
}

void wsk__conn_flush(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  if (x && x->wq.head) {
    flushed(c, wsk__wq_flush(&x->wq, c->io.fd, c->io.kind == WSK_IO_TLS ? x->tls : NULL));
    if (wsk__conn_dead(c)) return;
  } else if (c->io.events & WSK_IO_OUT) {
    want_out(c, 0);
  }
  after_write(c);
}

int wsk__conn_send_later(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  if (c->io.kind != WSK_IO_CONN || !x || !x->wq.head || !wsk__loop_sends_later(c->group->loop))
    return -1;
  struct iovec iov[WSK_SEND_LATER_IOV];
  size_t want;
  int n = wsk__wq_gather(&x->wq, iov, WSK_SEND_LATER_IOV, &want, NULL);
  return n > 0 && wsk__loop_send_later(c->group->loop, &c->io, iov, n) == 0 ? 0 : -1;
}

void wsk__conn_sent(struct wsk__io *io, ssize_t res) {
  wsk_conn *c = (wsk_conn *)io;
  if (res == -EAGAIN) res = 0;
  if (res > 0) wsk__wq_consume(&c->ext->wq, (size_t)res);
  flushed(c, res);
  if (wsk__conn_dead(c)) return;
  wsk__conn_rearm(c); /* EPOLLOUT for what the socket did not take */
  after_write(c);
}
