/* wqueue.c - write queues of chunks (see wqueue.h). */
#include "net/wqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/tls.h"
#include "proto/alloc_internal.h"
#include "wsk.h"

#define FLUSH_IOV 64

void wsk_ref_put(struct wsk_ref *r) {
  if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) wsk_free(r);
}

struct wsk_chunk *wsk_chunk_new(size_t cap) {
  struct wsk_chunk *c = wsk_malloc(sizeof *c + cap);
  if (!c) return NULL;
  c->next = NULL;
  c->data = wsk_chunk_buf(c);
  c->len = 0;
  c->ref = NULL;
  return c;
}

void wsk_chunk_free(struct wsk_chunk *c) {
  if (c->ref) wsk_ref_put(c->ref);
  wsk_free(c);
}

void wsk_wq_push(struct wsk_wqueue *q, struct wsk_chunk *c) {
  c->next = NULL;
  if (q->tail)
    q->tail->next = c;
  else
    q->head = c;
  q->tail = c;
  q->bytes += c->len;
}

int wsk_wq_push_copy(struct wsk_wqueue *q, const struct iovec *iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  struct wsk_chunk *c = wsk_chunk_new(total);
  if (!c) return WSK_ENOMEM;
  uint8_t *p = wsk_chunk_buf(c);
  for (int i = 0; i < n; i++) {
    if (iov[i].iov_len) memcpy(p, iov[i].iov_base, iov[i].iov_len);
    p += iov[i].iov_len;
  }
  c->len = total;
  wsk_wq_push(q, c);
  return 0;
}

int wsk_wq_push_ref(struct wsk_wqueue *q, struct wsk_ref *ref, const uint8_t *data, size_t len) {
  struct wsk_chunk *c = wsk_malloc(sizeof *c);
  if (!c) return WSK_ENOMEM;
  c->data = data;
  c->len = len;
  c->ref = ref;
  wsk_ref_get(ref);
  wsk_wq_push(q, c);
  return 0;
}

ssize_t wsk_sendv(int fd, const struct iovec *iov, int n, int flags) {
  struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
  flags |= MSG_NOSIGNAL;
  for (;;) { /* (send spares the kernel the msghdr and iovec copies) */
    ssize_t w = n == 1 ? send(fd, iov[0].iov_base, iov[0].iov_len, flags)
                       : sendmsg(fd, &msg, flags);
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

ssize_t wsk_wq_flush(struct wsk_wqueue *q, int fd, struct wsk_tls *tls) {
  size_t total = 0;
  while (q->head) {
    struct iovec iov[FLUSH_IOV];
    int n = 0;
    size_t want = 0;
    for (struct wsk_chunk *c = q->head; c && n < FLUSH_IOV; c = c->next) {
      iov[n].iov_base = (void *)c->data;
      iov[n].iov_len = c->len;
      want += c->len;
      n++;
    }
    ssize_t w = tls ? wsk_tls_writev(tls, iov, n) : wsk_sendv(fd, iov, n, 0);
    if (w < 0) return total ? (ssize_t)total : w;
    total += (size_t)w;
    q->bytes -= (size_t)w;
    size_t left = (size_t)w;
    while (q->head && (left > 0 || q->head->len == 0)) {
      struct wsk_chunk *c = q->head;
      if (left < c->len) {
        c->data += left;
        c->len -= left;
        break;
      }
      left -= c->len;
      q->head = c->next;
      if (!q->head) q->tail = NULL;
      wsk_chunk_free(c);
    }
    if ((size_t)w < want) break; /* the socket is full */
  }
  return (ssize_t)total;
}

void wsk_wq_clear(struct wsk_wqueue *q) {
  while (q->head) {
    struct wsk_chunk *c = q->head;
    q->head = c->next;
    wsk_chunk_free(c);
  }
  q->tail = NULL;
  q->bytes = 0;
}
