/* test_wqueue.c - write queues over a socketpair with a small send buffer: partial writes keep
 * their place, shared (reference-counted) chunks are released once written, order is kept. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "net/wqueue.h"

static size_t drain(int fd, uint8_t *out, size_t cap) {
  size_t got = 0;
  for (;;) {
    ssize_t r = recv(fd, out + got, cap - got, MSG_DONTWAIT);
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

static void test_partial_writes(void) {
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);

  enum { TOTAL = 1 << 20 };
  uint8_t *src = malloc(TOTAL), *dst = malloc(TOTAL);
  for (size_t i = 0; i < TOTAL; i++) src[i] = (uint8_t)(i * 7 + (i >> 9));

  /* 1 MiB in chunks of odd sizes: half copied, half shared from one reference-counted block. */
  struct wsk_ref *shared = malloc(sizeof *shared + TOTAL);
  shared->refs = 1;
  memcpy(shared + 1, src, TOTAL);
  struct wsk_wqueue q = {0};
  size_t off = 0, n = 0;
  while (off < TOTAL) {
    size_t len = 1 + (n * 7919) % 9000;
    if (len > TOTAL - off) len = TOTAL - off;
    if (n % 2) {
      struct iovec iov[2] = {{src + off, len / 2}, {src + off + len / 2, len - len / 2}};
      CHECK_EQ(wsk_wq_push_copy(&q, iov, 2), 0);
    } else {
      CHECK_EQ(wsk_wq_push_ref(&q, shared, (const uint8_t *)(shared + 1) + off, len), 0);
    }
    off += len;
    n++;
  }
  CHECK_EQ(q.bytes, TOTAL);
  CHECK(shared->refs > 1);

  size_t got = 0;
  int rounds = 0, partial = 0;
  while ((q.bytes > 0 || got < TOTAL) && rounds < 100000) {
    size_t before = q.bytes;
    ssize_t w = wsk_wq_flush(&q, sv[0], NULL);
    CHECK(w >= 0);
    if (w > 0 && q.bytes > 0) partial++;
    CHECK_EQ(before - q.bytes, w);
    got += drain(sv[1], dst + got, TOTAL - got);
    rounds++;
  }
  CHECK_EQ(got, TOTAL);
  CHECK_EQ(q.bytes, 0);
  CHECK(q.head == NULL && q.tail == NULL);
  CHECK(partial > 10); /* the small buffer really forced partial writes */
  CHECK_MEM(dst, src, TOTAL);
  CHECK_EQ(shared->refs, 1); /* every queued reference was dropped */
  wsk_ref_put(shared);

  /* A hard error is reported as -errno and leaves the queue intact; the peer being gone raises
   * no SIGPIPE (main restored its default action, which would end this program). */
  uint8_t byte = 1;
  struct iovec one = {&byte, 1};
  close(sv[1]);
  CHECK_EQ(wsk_wq_push_copy(&q, &one, 1), 0);
  CHECK_EQ(wsk_wq_flush(&q, sv[0], NULL), -EPIPE);
  CHECK_EQ(q.bytes, 1);
  wsk_wq_clear(&q);
  CHECK_EQ(q.bytes, 0);
  close(sv[0]);
  free(src);
  free(dst);
}

static void test_chunk_api(void) {
  struct wsk_wqueue q = {0};
  struct wsk_chunk *c = wsk_chunk_new(5);
  memcpy(wsk_chunk_buf(c), "hello", 5);
  c->len = 5;
  wsk_wq_push(&q, c);
  struct iovec e = {NULL, 0};
  CHECK_EQ(wsk_wq_push_copy(&q, &e, 1), 0); /* empty chunks are harmless */
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  CHECK_EQ(wsk_wq_flush(&q, sv[0], NULL), 5);
  CHECK(q.head == NULL);
  char buf[8];
  CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 5);
  CHECK_MEM(buf, "hello", 5);
  close(sv[0]);
  close(sv[1]);
}

/* References taken and dropped by several threads at once (a prepared message queued on the
 * connections of several loops) are never lost: the count ends where it started. */
#define REF_THREADS 4
#define REF_ROUNDS 1000000
static pthread_barrier_t ref_start;
static void *churn(void *arg) {
  pthread_barrier_wait(&ref_start); /* all at once, not one after the other */
  for (int i = 0; i < REF_ROUNDS; i++) {
    wsk_ref_get(arg);
    wsk_ref_get(arg);
    wsk_ref_put(arg);
    wsk_ref_put(arg);
  }
  return NULL;
}

static void test_ref_threads(void) {
  struct wsk_ref *r = malloc(sizeof *r);
  r->refs = 1;
  pthread_t t[REF_THREADS];
  pthread_barrier_init(&ref_start, NULL, REF_THREADS);
  for (int i = 0; i < REF_THREADS; i++) CHECK_EQ(pthread_create(&t[i], NULL, churn, r), 0);
  for (int i = 0; i < REF_THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&ref_start);
  CHECK_EQ(r->refs, 1);
  wsk_ref_put(r);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  test_partial_writes();
  test_chunk_api();
  test_ref_threads();
  return check_report();
}
