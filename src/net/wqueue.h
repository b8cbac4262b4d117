/* wqueue.h - a socket's queue of bytes not yet written: a FIFO of chunks flushed with one
 * sendmsg (writev) per call. A chunk either owns its bytes (stored right after it), points into
 * a reference-counted object shared by many queues (a prepared message framed once), or is a
 * slice of an open file sent as the socket drains (sendfile; bounded reads under TLS), so a big
 * file never sits in memory. */
#ifndef WSK_NET_WQUEUE_H
#define WSK_NET_WQUEUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Header of a shared, reference-counted block allocated with malloc: freed when refs reaches 0. */
/* Atomic, so that a shared object (a prepared message) can be queued on connections of several
 * loops' threads and released from any of them. */
struct wsk__ref {
  atomic_size_t refs;
};
static inline void wsk__ref_get(struct wsk__ref *r) {
  atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}
void wsk__ref_put(struct wsk__ref *r);

struct wsk__chunk {
  struct wsk__chunk *next;
  const uint8_t *data;   /* next unwritten byte; NULL for a file chunk (struct wsk__file_chunk) */
  size_t len;            /* unwritten bytes */
  struct wsk__ref *ref;   /* shared owner of data, or NULL when data follows this header */
  size_t cap;            /* bytes of storage after this header (0: ref or file chunk) */
  /* Set by the layer above when the chunk begins with the first byte of one of its units (a
   * WebSocket frame): wsk__wq_cut may drop the queue from here on without cutting a unit. */
  uint8_t unit_start;
};

/* len bytes of the file fd from off on. The chunk owns fd: wsk__chunk_free closes it, which is the
 * only place it is closed (the chunk is freed once written, or with its queue). */
struct wsk__file_chunk {
  struct wsk__chunk c;
  int fd;
  off_t off;
};

struct wsk__wqueue {
  struct wsk__chunk *head, *tail;
  size_t bytes;
  /* A chunk that a newer one of its kind replaces while none of it is written (the latest pong:
   * RFC 6455 5.5.3 lets a peer's pings be answered by one pong for the last), or NULL. */
  struct wsk__chunk *latest;
};

/* A chunk owning `cap` bytes of storage at wsk__chunk_buf(c), with len 0; NULL if out of memory.
 * Fill the storage, set len, then wsk__wq_push. */
struct wsk__chunk *wsk__chunk_new(size_t cap);
static inline uint8_t *wsk__chunk_buf(struct wsk__chunk *c) { return (uint8_t *)(c + 1); }
void wsk__chunk_free(struct wsk__chunk *c);
/* A chunk for len bytes of file fd from off on, taking ownership of fd (closed when out of
 * memory). len > 0. NULL if out of memory. */
struct wsk__chunk *wsk__chunk_file(int fd, off_t off, size_t len);

void wsk__wq_push(struct wsk__wqueue *q, struct wsk__chunk *c);
/* Append a copy of the bytes of iov[0..n): into the last chunk when it owns its storage and has
 * room (many small messages queued in one iteration become one chunk, written with one call),
 * else into a new chunk of at least WSK_WQ_CHUNK_MIN bytes (header and storage in 1 KiB: glibc
 * keeps freed blocks up to 1032 bytes in its per-thread cache). Returns 0 or WSK_ENOMEM. */
#define WSK_WQ_CHUNK_MIN (1024 - sizeof(struct wsk__chunk))
int wsk__wq_push_copy(struct wsk__wqueue *q, const struct iovec *iov, int n);
/* Append data[0..len) of a shared object, taking a reference. Returns 0 or WSK_ENOMEM. */
int wsk__wq_push_ref(struct wsk__wqueue *q, struct wsk__ref *ref, const uint8_t *data, size_t len);
/* Queue a copy of iov[0..n) as the replaceable chunk (see `latest`): it takes the place of the
 * one queued before when none of that was written yet, else it is appended. cap: the room of each
 * such chunk (the same in every call, at least the bytes of iov). Returns 0 or -1. */
int wsk__wq_push_latest(struct wsk__wqueue *q, const struct iovec *iov, int n, size_t cap);
struct wsk__tls;
/* Write as much as the socket takes, through the TLS session tls when not NULL. Returns the bytes
 * written (possibly 0 when the socket is full) or -errno on a hard error (-EPIPE, -ECONNRESET, ...;
 * WSK_ETLS for a TLS failure): in wsk.h's error space either way. */
ssize_t wsk__wq_flush(struct wsk__wqueue *q, int fd, struct wsk__tls *tls);
/* The iovecs of the queue's first chunks (max at most), up to its first file chunk; *want gets
 * their bytes and *has_latest (when not NULL) is set if the replaceable chunk is among them. */
int wsk__wq_gather(const struct wsk__wqueue *q, struct iovec *iov, int max, size_t *want,
                   int *has_latest);
/* Drop the w bytes just written from the front of q. */
void wsk__wq_consume(struct wsk__wqueue *q, size_t w);
/* Drop everything queued. */
void wsk__wq_clear(struct wsk__wqueue *q);
/* Drop the queue from its first chunk marked unit_start on, except the head (which may be partly
 * written) and the chunks that hold the first `keep` bytes. Returns the bytes dropped. */
size_t wsk__wq_cut(struct wsk__wqueue *q, size_t keep);

/* send or sendmsg (MSG_NOSIGNAL | flags) of iov[0..n), retried on EINTR. Returns bytes written, 0
 * when the socket would block, or -errno. */
ssize_t wsk__sendv(int fd, const struct iovec *iov, int n, int flags);

#endif
