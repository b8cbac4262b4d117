/* wqueue.c - write queues of chunks (see wqueue.h). */
#include "net/wqueue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tls.h"
#include "proto/alloc_internal.h"
#include "wsk.h"

#define FLUSH_IOV 64
/* Bytes of a file read per TLS write: one full record of plaintext, on the stack. */
#define FILE_SLICE (16 * 1024)
/* Largest count for one sendfile call (the kernel's own limit is a little below 2 GiB). */
#define SENDFILE_MAX (1u << 30)

void wsk__ref_put(struct wsk__ref *r) {
  if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) wsk__free(r);
}

struct wsk__chunk *wsk__chunk_new(size_t cap) {
  struct wsk__chunk *c = wsk__malloc(sizeof *c + cap);
  if (!c) return NULL;
  c->next = NULL;
  c->data = wsk__chunk_buf(c);
  c->len = 0;
  c->ref = NULL;
  c->cap = cap;
  c->unit_start = 0;
  return c;
}

static int is_file(const struct wsk__chunk *c) { return c->data == NULL; }

void wsk__chunk_free(struct wsk__chunk *c) {
  if (c->ref) wsk__ref_put(c->ref);
  if (is_file(c)) close(((struct wsk__file_chunk *)c)->fd);
  wsk__free(c);
}

struct wsk__chunk *wsk__chunk_file(int fd, off_t off, size_t len) {
  struct wsk__file_chunk *f = wsk__malloc(sizeof *f);
  if (!f) {
    close(fd);
    return NULL;
  }
  f->c.next = NULL;
  f->c.data = NULL;
  f->c.len = len;
  f->c.ref = NULL;
  f->c.cap = 0;
  f->c.unit_start = 0;
  f->fd = fd;
  f->off = off;
  return &f->c;
}

void wsk__wq_push(struct wsk__wqueue *q, struct wsk__chunk *c) {
  c->next = NULL;
  if (q->tail)
    q->tail->next = c;
  else
    q->head = c;
  q->tail = c;
  q->bytes += c->len;
}

/* Free storage at the end of chunk c (0 for a ref or file chunk, or the replaceable one). */
static size_t room(const struct wsk__wqueue *q, const struct wsk__chunk *c) {
  if (!c->cap || c == q->latest) return 0;
  return c->cap - (size_t)(c->data + c->len - (const uint8_t *)(c + 1));
}

int wsk__wq_push_copy(struct wsk__wqueue *q, const struct iovec *iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  struct wsk__chunk *c = q->tail;
  if (!c || room(q, c) < total) {
    if (!(c = wsk__chunk_new(total > WSK_WQ_CHUNK_MIN ? total : WSK_WQ_CHUNK_MIN)))
      return WSK_ENOMEM;
    wsk__wq_push(q, c);
  }
  uint8_t *p = (uint8_t *)c->data + c->len;
  for (int i = 0; i < n; i++) {
    if (iov[i].iov_len) memcpy(p, iov[i].iov_base, iov[i].iov_len);
    p += iov[i].iov_len;
  }
  c->len += total;
  q->bytes += total;
  return 0;
}

int wsk__wq_push_ref(struct wsk__wqueue *q, struct wsk__ref *ref, const uint8_t *data, size_t len) {
  struct wsk__chunk *c = wsk__malloc(sizeof *c);
  if (!c) return WSK_ENOMEM;
  c->data = data;
  c->len = len;
  c->ref = ref;
  c->cap = 0;
  c->unit_start = 0;
  wsk__ref_get(ref);
  wsk__wq_push(q, c);
  return 0;
}

int wsk__wq_push_latest(struct wsk__wqueue *q, const struct iovec *iov, int n, size_t cap) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  struct wsk__chunk *c = q->latest;
  if (c && c->data == wsk__chunk_buf(c) && total <= cap) { /* none of it written: replace it */
    q->bytes -= c->len;
  } else {
    if (!(c = wsk__chunk_new(cap))) return -1;
    wsk__wq_push(q, c);
    q->latest = c;
  }
  uint8_t *p = wsk__chunk_buf(c);
  for (int i = 0; i < n; i++) {
    if (iov[i].iov_len) memcpy(p, iov[i].iov_base, iov[i].iov_len);
    p += iov[i].iov_len;
  }
  c->len = total;
  q->bytes += total;
  return 0;
}

ssize_t wsk__sendv(int fd, const struct iovec *iov, int n, int flags) {
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

/* The bytes of file chunk f that one flush_file call offers. */
static size_t file_slice(const struct wsk__chunk *f, const struct wsk__tls *tls) {
  size_t max = tls ? FILE_SLICE : SENDFILE_MAX;
  return f->len < max ? f->len : max;
}

/* sendfile has no MSG_NOSIGNAL: to a peer that has gone it raises SIGPIPE, which would kill an
 * application that kept the default action (the library sets no signal disposition). So SIGPIPE is
 * blocked in this thread for the call, and one that the call raised is taken back before the mask
 * is restored (one that was pending already is left alone). */
static ssize_t sendfile_quiet(int out, int in, off_t *off, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  ssize_t w = sendfile(out, in, off, n);
  int err = errno;
  if (w < 0 && err == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {}
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = err;
  return w;
}

/* Send what the socket takes of the first `want` bytes of file chunk f: sendfile on a plain
 * socket, through tls a slice read into a stack buffer (read again from the same offset when the
 * socket was full: a TLS retry must start with the same bytes). Returns the bytes taken, 0 when
 * the socket is full, or -errno (EIO when the file ended early: the length announced cannot be
 * kept). */
static ssize_t flush_file(struct wsk__file_chunk *f, size_t want, int fd, struct wsk__tls *tls) {
  if (tls) {
    uint8_t slice[FILE_SLICE];
    ssize_t r;
    while ((r = pread(f->fd, slice, want, f->off)) < 0 && errno == EINTR) {}
    if (r <= 0) return r < 0 ? -errno : -EIO;
    struct iovec v = {slice, (size_t)r};
    return wsk__tls_writev(tls, &v, 1);
  }
  for (;;) {
    off_t off = f->off;
    ssize_t w = sendfile_quiet(fd, f->fd, &off, want);
    if (w > 0) return w;
    if (w == 0) return -EIO;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

void wsk__wq_consume(struct wsk__wqueue *q, size_t w) {
  q->bytes -= w;
  while (q->head && (w > 0 || q->head->len == 0)) {
    struct wsk__chunk *c = q->head;
    if (w < c->len) {
      if (is_file(c))
        ((struct wsk__file_chunk *)c)->off += (off_t)w;
      else
        c->data += w;
      c->len -= w;
      return;
    }
    w -= c->len;
    q->head = c->next;
    if (!q->head) q->tail = NULL;
    if (c == q->latest) q->latest = NULL;
    wsk__chunk_free(c);
  }
}

int wsk__wq_gather(const struct wsk__wqueue *q, struct iovec *iov, int max, size_t *want,
                   int *has_latest) {
  int n = 0;
  *want = 0;
  for (const struct wsk__chunk *c = q->head; c && !is_file(c) && n < max; c = c->next) {
    iov[n].iov_base = (void *)c->data;
    iov[n].iov_len = c->len;
    *want += c->len;
    if (has_latest) *has_latest |= c == q->latest;
    n++;
  }
  return n;
}

ssize_t wsk__wq_flush(struct wsk__wqueue *q, int fd, struct wsk__tls *tls) {
  size_t total = 0;
  while (q->head) {
    struct iovec iov[FLUSH_IOV];
    int n = 0, tried_latest = 0;
    size_t want = 0;
    ssize_t w;
    if (is_file(q->head)) {
      want = file_slice(q->head, tls);
      w = flush_file((struct wsk__file_chunk *)q->head, want, fd, tls);
    } else {
      n = wsk__wq_gather(q, iov, FLUSH_IOV, &want, &tried_latest);
      const struct wsk__chunk *after = q->head;
      for (int i = 0; i < n; i++) after = after->next;
      /* (MSG_MORE: the head of a file answer goes out with the file's first bytes) */
      w = tls ? wsk__tls_writev(tls, iov, n)
              : wsk__sendv(fd, iov, n, after && is_file(after) ? MSG_MORE : 0);
    }
    if (w < 0) return total ? (ssize_t)total : w;
    total += (size_t)w;
    wsk__wq_consume(q, (size_t)w);
    if ((size_t)w < want) {
      /* The socket is full. A TLS retry must repeat the bytes it was given, so the latest chunk,
       * if it was among them, can no longer be replaced. */
      if (tls && tried_latest) q->latest = NULL;
      break;
    }
  }
  return (ssize_t)total;
}

size_t wsk__wq_cut(struct wsk__wqueue *q, size_t keep) {
  struct wsk__chunk *last = q->head; /* the last chunk kept */
  if (!last) return 0;
  size_t kept = last->len;
  while (last->next && (!last->next->unit_start || kept < keep)) {
    last = last->next;
    kept += last->len;
  }
  struct wsk__chunk *c = last->next;
  last->next = NULL;
  q->tail = last;
  size_t dropped = q->bytes - kept;
  q->bytes = kept;
  while (c) {
    struct wsk__chunk *next = c->next;
    if (c == q->latest) q->latest = NULL;
    wsk__chunk_free(c);
    c = next;
  }
  return dropped;
}

void wsk__wq_clear(struct wsk__wqueue *q) {
  while (q->head) {
    struct wsk__chunk *c = q->head;
    q->head = c->next;
    wsk__chunk_free(c);
  }
  q->tail = NULL;
  q->latest = NULL;
  q->bytes = 0;
}
