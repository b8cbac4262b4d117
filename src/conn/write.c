/* write.c - the output path of a connection: cork, inline writes, the write queue, EPOLLOUT.
 *
 * Order of preference: (1) while the connection's input is being processed, small writes are
 * copied into the loop's cork buffer and sent with one syscall when processing ends; (2) when
 * nothing is queued, bytes go straight to the socket (one sendmsg of header + payload); (3) what
 * the socket does not take is queued and EPOLLOUT is armed until the queue is empty. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn_internal.h"
#include "net/tls.h"

#define MAX_IOV 8

size_t wsk_conn_pending(const wsk_conn *c) {
  size_t n = c->ext ? c->ext->wq.bytes : 0;
  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  if (cork->owner == c) n += cork->len;
  return n;
}

size_t wsk_buffered_amount(const wsk_conn *c) { return wsk_conn_pending(c); }

static void want_out(wsk_conn *c, int on) {
  unsigned ev = wsk_conn_has(c, WSK_CF_HOLD_IN) ? 0u : WSK_IO_IN;
  if (on) ev |= WSK_IO_OUT;
  if (c->io.kind == WSK_IO_TLS) ev = wsk_conn_tls_events(c, ev);
  wsk_io_set(c->group->loop, &c->io, ev);
}

void wsk_conn_rearm(wsk_conn *c) { want_out(c, c->ext && c->ext->wq.head); }

/* sendmsg, or the TLS session's writev: the same returns. */
static ssize_t sendv(wsk_conn *c, const struct iovec *iov, int n) {
  if (c->io.kind == WSK_IO_TLS) /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    return wsk_tls_writev(c->ext->tls, iov, n); /* (a TLS connection keeps its ext) */
  return wsk_sendv(c->io.fd, iov, n);
}

/* A write failed for good: the peer is gone. Drop the output; the read side learns the reason
 * (EOF or error) on its next event, which a broken socket reports at once. */
static void write_failed(wsk_conn *c) {
  if (c->ext) wsk_wq_clear(&c->ext->wq);
  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  if (cork->owner == c) cork->len = 0;
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

/* Queue the bytes of iov[0..n) from offset `skip` on: copies, except iov[ref_i] by reference. */
static int queue_rest(wsk_conn *c, const struct iovec *iov, int n, size_t skip,
                      struct wsk_ref *ref, int ref_i) {
  struct wsk_conn_ext *x = wsk_conn_ext(c);
  if (!x) return out_of_memory(c);
  struct iovec copy[MAX_IOV + 1];
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
    if (i == ref_i && ref) {
      if (ncopy && wsk_wq_push_copy(&x->wq, copy, ncopy) != 0) return out_of_memory(c);
      ncopy = 0;
      if (wsk_wq_push_ref(&x->wq, ref, base, len) != 0) return out_of_memory(c);
    } else {
      copy[ncopy].iov_base = (void *)base;
      copy[ncopy].iov_len = len;
      ncopy++;
    }
  }
  if (ncopy && wsk_wq_push_copy(&x->wq, copy, ncopy) != 0) return out_of_memory(c);
  want_out(c, 1);
  return 0;
}

int wsk_conn_writev(wsk_conn *c, const struct iovec *iov, int n, struct wsk_ref *ref, int ref_i) {
  if (c->io.fd < 0) return WSK_ECLOSED;
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  if (c->ext && c->ext->wq.head) return queue_rest(c, iov, n, 0, ref, ref_i);

  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  struct iovec all[MAX_IOV + 1];
  int nall = 0, shift = 0;
  if (cork->owner == c) {
    if (cork->len + total <= WSK_CORK_SIZE) {
      for (int i = 0; i < n; i++) {
        if (iov[i].iov_len) memcpy(cork->buf + cork->len, iov[i].iov_base, iov[i].iov_len);
        cork->len += iov[i].iov_len;
      }
      return 0;
    }
    if (cork->len) { /* too big for the cork: send the cork and this in one go */
      all[nall].iov_base = cork->buf;
      all[nall].iov_len = cork->len;
      nall++;
      shift = 1;
    }
  }
  for (int i = 0; i < n && nall < MAX_IOV + 1; i++) all[nall++] = iov[i];
  ssize_t w = sendv(c, all, nall);
  if (cork->owner == c) cork->len = 0; /* sent, or queued just below */
  if (w < 0) {
    write_failed(c);
    return WSK_ECLOSED;
  }
  if ((size_t)w == total + (shift ? all[0].iov_len : 0)) return 0;
  /* TLS retries a record that did not fit from one contiguous copy (see net/tls.c). */
  if (c->io.kind == WSK_IO_TLS) ref = NULL;
  return queue_rest(c, all, nall, (size_t)w, ref, ref_i >= 0 ? ref_i + shift : -1);
}

/* Send what the cork holds for c (c is the owner), keeping c corked. */
static int flush_cork(wsk_conn *c, struct wsk_cork *cork) {
  if (!cork->len) return 0;
  struct iovec v = {cork->buf, cork->len};
  cork->owner = NULL; /* so that the write below goes to the socket */
  int r = wsk_conn_writev(c, &v, 1, NULL, -1);
  cork->owner = c;
  cork->len = 0;
  return r;
}

int wsk_conn_write_chunk(wsk_conn *c, struct wsk_chunk *chunk) {
  if (c->io.fd < 0) {
    wsk_chunk_free(chunk);
    return WSK_ECLOSED;
  }
  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  if (cork->owner == c) {
    if (cork->len + chunk->len <= WSK_CORK_SIZE) {
      memcpy(cork->buf + cork->len, chunk->data, chunk->len);
      cork->len += chunk->len;
      wsk_chunk_free(chunk);
      return 0;
    }
    int r = flush_cork(c, cork); /* keeps the order: what was corked goes first */
    if (r < 0) {
      wsk_chunk_free(chunk);
      return r;
    }
  }
  if (!(c->ext && c->ext->wq.head)) {
    struct iovec v = {(void *)chunk->data, chunk->len};
    ssize_t w = sendv(c, &v, 1);
    if (w < 0) {
      wsk_chunk_free(chunk);
      write_failed(c);
      return WSK_ECLOSED;
    }
    chunk->data += w;
    chunk->len -= (size_t)w;
    if (!chunk->len) {
      wsk_chunk_free(chunk);
      return 0;
    }
  }
  struct wsk_conn_ext *x = wsk_conn_ext(c);
  if (!x) {
    wsk_chunk_free(chunk);
    return out_of_memory(c);
  }
  wsk_wq_push(&x->wq, chunk);
  want_out(c, 1);
  return 0;
}

void wsk_conn_cork(wsk_conn *c) {
  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  if (cork->owner == c) return;
  if (cork->owner) wsk_conn_uncork(cork->owner);
  cork->owner = c;
  cork->len = 0;
}

void wsk_conn_uncork(wsk_conn *c) {
  struct wsk_cork *cork = wsk_loop_cork(c->group->loop);
  if (cork->owner != c) return;
  flush_cork(c, cork);
  cork->owner = NULL;
  /* A lingering connection whose output is all written can move on. */
  if (wsk_conn_state(c) == WSK_CS_LINGER && !(c->ext && c->ext->wq.head)) wsk_conn_flush(c);
}

/* The last step of a lingering connection once its output is written: TLS close_notify, FIN
 * (server role), and close when the peer has already sent its FIN. */
static void linger_step(wsk_conn *c) {
  if (wsk_conn_has(c, WSK_CF_PEER_EOF)) {
    wsk_conn_destroy(c, 0, NULL);
    return;
  }
  if (c->io.kind == WSK_IO_TLS && wsk_conn_tls_close_notify(c) != 0) return; /* socket full */
  if (!c->group->client && !wsk_conn_has(c, WSK_CF_SHUT_WR)) {
    wsk_conn_flag(c, WSK_CF_SHUT_WR);
    shutdown(c->io.fd, SHUT_WR);
  }
}

void wsk_conn_flush(wsk_conn *c) {
  struct wsk_conn_ext *x = c->ext;
  struct wsk_group *g = c->group;
  if (x && x->wq.head) {
    int tls = c->io.kind == WSK_IO_TLS;
    ssize_t w = wsk_wq_flush(&x->wq, c->io.fd, tls ? x->tls : NULL);
    if (w < 0) {
      char msg[192], why[160];
      if (tls)
        wsk_tls_error_text((int)w, why, sizeof why);
      else
        snprintf(why, sizeof why, "%s", strerror((int)-w));
      snprintf(msg, sizeof msg, "%s: %s", tls ? "TLS write" : "send", why);
      wsk_conn_destroy(c, w == -EPROTO && tls ? WSK_ETLS : WSK_ESYS, msg);
      return;
    }
    if (!x->wq.head) { /* else the socket is full and EPOLLOUT stays armed */
      want_out(c, 0);
      wsk_conn_ext_trim(c);
      if (wsk_conn_state(c) == WSK_CS_HTTP && wsk_conn_has(c, WSK_CF_HOLD_IN)) {
        /* Input paused while answers piled up: go on with what was read, then read again. */
        wsk_conn_hold_input(c, 0);
        wsk_conn_feed_held(c);
        if (wsk_conn_dead(c)) return;
      }
    }
  } else if (c->io.events & WSK_IO_OUT) {
    want_out(c, 0);
  }
  if (wsk_conn_has(c, WSK_CF_NEED_DRAIN) && wsk_conn_pending(c) <= g->high_water / 2) {
    wsk_conn_unflag(c, WSK_CF_NEED_DRAIN);
    if (wsk_conn_state(c) == WSK_CS_OPEN && g->cb.on_drain) g->cb.on_drain(c);
    if (wsk_conn_dead(c)) return;
  }
  if (wsk_conn_state(c) == WSK_CS_LINGER && wsk_conn_pending(c) == 0) linger_step(c);
}
