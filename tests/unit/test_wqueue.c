/* test_wqueue.c - write queues over a socketpair with a small send buffer: partial writes keep
 * their place, shared (reference-counted) chunks are released once written, order is kept; file
 * chunks are sent in slices and close their file once; the latest chunk is replaced in place;
 * wsk__wq_cut drops from the first chunk marked unit_start after the head and the bytes to keep. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
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
  struct wsk__ref *shared = malloc(sizeof *shared + TOTAL);
  shared->refs = 1;
  memcpy(shared + 1, src, TOTAL);
  struct wsk__wqueue q = {0};
  size_t off = 0, n = 0;
  while (off < TOTAL) {
    size_t len = 1 + (n * 7919) % 9000;
    if (len > TOTAL - off) len = TOTAL - off;
    if (n % 2) {
      struct iovec iov[2] = {{src + off, len / 2}, {src + off + len / 2, len - len / 2}};
      CHECK_EQ(wsk__wq_push_copy(&q, iov, 2), 0);
    } else {
      CHECK_EQ(wsk__wq_push_ref(&q, shared, (const uint8_t *)(shared + 1) + off, len), 0);
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
    ssize_t w = wsk__wq_flush(&q, sv[0], NULL);
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
  wsk__ref_put(shared);

  /* A hard error is reported as -errno and leaves the queue intact; the peer being gone raises
   * no SIGPIPE (main restored its default action, which would end this program). */
  uint8_t byte = 1;
  struct iovec one = {&byte, 1};
  close(sv[1]);
  CHECK_EQ(wsk__wq_push_copy(&q, &one, 1), 0);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), -EPIPE);
  CHECK_EQ(q.bytes, 1);
  wsk__wq_clear(&q);
  CHECK_EQ(q.bytes, 0);
  close(sv[0]);
  free(src);
  free(dst);
}

static void test_chunk_api(void) {
  struct wsk__wqueue q = {0};
  struct wsk__chunk *c = wsk__chunk_new(5);
  memcpy(wsk__chunk_buf(c), "hello", 5);
  c->len = 5;
  wsk__wq_push(&q, c);
  struct iovec e = {NULL, 0};
  CHECK_EQ(wsk__wq_push_copy(&q, &e, 1), 0); /* empty chunks are harmless */
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), 5);
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
    wsk__ref_get(arg);
    wsk__ref_get(arg);
    wsk__ref_put(arg);
    wsk__ref_put(arg);
  }
  return NULL;
}

static void test_ref_threads(void) {
  struct wsk__ref *r = malloc(sizeof *r);
  r->refs = 1;
  pthread_t t[REF_THREADS];
  pthread_barrier_init(&ref_start, NULL, REF_THREADS);
  for (int i = 0; i < REF_THREADS; i++) CHECK_EQ(pthread_create(&t[i], NULL, churn, r), 0);
  for (int i = 0; i < REF_THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&ref_start);
  CHECK_EQ(r->refs, 1);
  wsk__ref_put(r);
}

static int temp_file(const uint8_t *data, size_t len) {
  char name[] = "/tmp/wsk-wqueue-XXXXXX";
  int fd = mkstemp(name);
  CHECK(fd >= 0);
  unlink(name);
  CHECK_EQ(write(fd, data, len), (ssize_t)len);
  return fd;
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* "HEAD", 300 KiB of a file from offset 7, "TAIL", through a small socket buffer: the file goes
 * out in many partial sends, in order, and its descriptor is closed once it is written. */
static void test_file_chunks(void) {
  enum { FILE_LEN = 300 * 1024 + 7, BODY = FILE_LEN - 7, TOTAL = BODY + 8 };
  uint8_t *src = malloc(FILE_LEN), *dst = malloc(TOTAL);
  for (size_t i = 0; i < FILE_LEN; i++) src[i] = (uint8_t)(i * 13 + (i >> 10));
  int fd = temp_file(src, FILE_LEN);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  struct wsk__wqueue q = {0};
  struct iovec head = {"HEAD", 4}, tail = {"TAIL", 4};
  CHECK_EQ(wsk__wq_push_copy(&q, &head, 1), 0);
  struct wsk__chunk *f = wsk__chunk_file(fd, 7, BODY);
  CHECK(f != NULL);
  if (!f) return;
  wsk__wq_push(&q, f);
  CHECK_EQ(wsk__wq_push_copy(&q, &tail, 1), 0);
  CHECK_EQ(q.bytes, TOTAL);
  size_t got = 0;
  int rounds = 0, partial = 0;
  while (got < TOTAL && rounds++ < 100000) {
    ssize_t w = wsk__wq_flush(&q, sv[0], NULL);
    CHECK(w >= 0);
    if (w > 0 && q.bytes > 0) partial++;
    got += drain(sv[1], dst + got, TOTAL - got);
  }
  CHECK_EQ(got, TOTAL);
  CHECK(partial > 2); /* (sendfile fills a Unix socket in big steps) */
  CHECK(q.head == NULL && q.bytes == 0);
  CHECK_MEM(dst, "HEAD", 4);
  CHECK_MEM(dst + 4, src + 7, BODY);
  CHECK_MEM(dst + 4 + BODY, "TAIL", 4);
  CHECK(!is_open(fd)); /* closed by the chunk once written */

  /* A file that ends before the length queued: EIO, and clearing the queue closes it. */
  fd = temp_file(src, 10);
  if (!(f = wsk__chunk_file(fd, 0, 20))) return;
  wsk__wq_push(&q, f);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), 10);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), -EIO);
  CHECK(is_open(fd));
  wsk__wq_clear(&q);
  CHECK(!is_open(fd));
  close(sv[0]);
  close(sv[1]);
  free(src);
  free(dst);
}

/* The latest chunk is replaced while none of it is written, and appended anew once it was. */
static void test_latest(void) {
  struct wsk__wqueue q = {0};
  struct iovec data = {"data", 4}, p1 = {"p1", 2}, p22 = {"p22", 3}, p3 = {"p3", 2};
  CHECK_EQ(wsk__wq_push_copy(&q, &data, 1), 0);
  CHECK_EQ(wsk__wq_push_latest(&q, &p1, 1, 8), 0);
  CHECK_EQ(wsk__wq_push_latest(&q, &p22, 1, 8), 0);
  CHECK_EQ(q.bytes, 7);
  CHECK(q.head->next == q.tail && q.tail == q.latest); /* one pong queued, the newer one */
  CHECK_EQ(wsk__wq_push_copy(&q, &data, 1), 0);
  CHECK_EQ(wsk__wq_push_latest(&q, &p3, 1, 8), 0); /* still in place, before the later data */
  CHECK_EQ(q.bytes, 10);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t out[32];
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), 10);
  CHECK(q.latest == NULL);
  CHECK_EQ(recv(sv[1], out, sizeof out, 0), 10);
  CHECK_MEM(out, "datap3data", 10);
  /* Written in part: a newer one goes behind it. */
  CHECK_EQ(wsk__wq_push_latest(&q, &p22, 1, 8), 0);
  q.head->data++; /* as if the socket took one byte */
  q.head->len--;
  q.bytes--;
  CHECK_EQ(wsk__wq_push_latest(&q, &p1, 1, 8), 0);
  CHECK(q.head != q.tail && q.tail == q.latest);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), 4);
  CHECK_EQ(recv(sv[1], out, sizeof out, 0), 4);
  CHECK_MEM(out, "22p1", 4);
  close(sv[0]);
  close(sv[1]);
}

/* A chunk of exactly `text` (full: a copy pushed after it gets a chunk of its own). */
static struct wsk__chunk *push_text(struct wsk__wqueue *q, const char *text, int unit_start) {
  struct wsk__chunk *c = wsk__chunk_new(strlen(text));
  memcpy(wsk__chunk_buf(c), text, strlen(text));
  c->len = strlen(text);
  c->unit_start = (uint8_t)unit_start;
  wsk__wq_push(q, c);
  return c;
}

static void test_cut(void) {
  struct wsk__wqueue q = {0};
  CHECK_EQ(wsk__wq_cut(&q, 0), 0); /* empty */
  push_text(&q, "head", 1);
  CHECK_EQ(wsk__wq_cut(&q, 0), 0); /* the head stays, even marked */
  push_text(&q, "rest", 0);       /* the rest of the head's frame */
  struct wsk__chunk *b = push_text(&q, "B", 1);
  push_text(&q, "b", 0);
  struct iovec pong = {"P", 1};
  CHECK_EQ(wsk__wq_push_latest(&q, &pong, 1, 8), 0);
  CHECK_EQ(q.bytes, 11);
  /* keep 10: everything up to the first mark after 10 bytes, i.e. nothing goes. */
  CHECK_EQ(wsk__wq_cut(&q, 10), 0);
  CHECK_EQ(wsk__wq_cut(&q, 0), 3); /* from B on, the pong included */
  CHECK_EQ(q.bytes, 8);
  CHECK(q.latest == NULL && q.tail->next == NULL && q.tail != b);
  struct iovec more = {"M", 1};
  CHECK_EQ(wsk__wq_push_copy(&q, &more, 1), 0); /* the queue goes on from its new tail */
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t out[16];
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), 9);
  CHECK_EQ(recv(sv[1], out, sizeof out, 0), 9);
  CHECK_MEM(out, "headrestM", 9);
  close(sv[0]);
  close(sv[1]);
}

/* A file to a peer that has gone: -EPIPE, and no SIGPIPE (sendfile has no MSG_NOSIGNAL; this
 * program keeps SIGPIPE's default action, which would kill it). A SIGPIPE that was pending before
 * is left pending. */
static void test_file_to_gone_peer(void) {
  static const uint8_t data[4096];
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  close(sv[1]);
  struct wsk__wqueue q = {0};
  struct wsk__chunk *f = wsk__chunk_file(temp_file(data, sizeof data), 0, sizeof data);
  CHECK(f != NULL);
  if (!f) return;
  wsk__wq_push(&q, f);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), -EPIPE);
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  raise(SIGPIPE);
  CHECK_EQ(wsk__wq_flush(&q, sv[0], NULL), -EPIPE);
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE)); /* the application's own, still there */
  struct timespec zero = {0, 0};
  CHECK_EQ(sigtimedwait(&pipe_set, NULL, &zero), SIGPIPE);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  wsk__wq_clear(&q);
  close(sv[0]);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  test_partial_writes();
  test_chunk_api();
  test_ref_threads();
  test_file_chunks();
  test_file_to_gone_peer();
  test_latest();
  test_cut();
  return check_report();
}
