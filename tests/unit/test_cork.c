/* test_cork.c - the output path under an echo: every frame of a read answered into the cork
 * (small ones copied, big slices of the receive buffer referenced), flushed with one sendmsg,
 * and, when the socket takes only part of it, the rest queued (the referenced slices copied before
 * the receive buffer is reused). A raw peer writes a stream of masked frames of every size class
 * at once through a socket with a small send buffer and checks the echoed stream byte for byte.
 * Text echoes also go through the skipped re-validation of the message being delivered, and
 * fragmented messages are echoed from their reassembly buffer, which is not the receive buffer
 * even when it is bigger than it (a bounds check that wrapped once referenced it, freed). */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn/conn_internal.h"

static wsk_loop *loop;
static int sends_refused;

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  if (wsk_send(c, opcode, data, len) < 0) sends_refused++;
}

static const struct wsk__group_ops no_ops = {0};

struct buf {
  uint8_t *p;
  size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

/* One frame the peer sends (masked) and the echo it expects (unmasked). */
static void frame(struct buf *in, struct buf *want, int opcode, size_t len) {
  static const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
  uint8_t *payload = malloc(len ? len : 1), h[WSK_MAX_FRAME_HEADER];
  for (size_t i = 0; i < len; i++)
    payload[i] = opcode == WSK_OP_TEXT ? (uint8_t)('a' + (i + len) % 26) : (uint8_t)(i * 131 + len);
  if (opcode == WSK_OP_TEXT && len >= 4) memcpy(payload + len / 2, "\xe2\x82\xac", 3); /* U+20AC */
  put(want, h, wsk_frame_write_header(h, 1, 0, opcode, len, NULL));
  put(want, payload, len);
  put(in, h, wsk_frame_write_header(h, 1, 0, opcode, len, key));
  wsk_mask(payload, len, key, 0);
  put(in, payload, len);
  free(payload);
}

/* The same as one message in two fragments of len1 and len2 bytes. */
static void fragmented(struct buf *in, struct buf *want, size_t len1, size_t len2) {
  static const uint8_t key[4] = {0x55, 0x66, 0x77, 0x88};
  size_t len = len1 + len2;
  uint8_t *payload = malloc(len), h[WSK_MAX_FRAME_HEADER];
  for (size_t i = 0; i < len; i++) payload[i] = (uint8_t)(i * 7 + 3);
  put(want, h, wsk_frame_write_header(h, 1, 0, WSK_OP_BINARY, len, NULL));
  put(want, payload, len);
  wsk_mask(payload, len1, key, 0);
  wsk_mask(payload + len1, len2, key, 0);
  put(in, h, wsk_frame_write_header(h, 0, 0, WSK_OP_BINARY, len1, key));
  put(in, payload, len1);
  put(in, h, wsk_frame_write_header(h, 1, 0, WSK_OP_CONT, len2, key));
  put(in, payload + len1, len2);
  free(payload);
}

static void stop_soon(void *arg) { wsk_loop_stop(loop); }

/* Write `in` to the peer's end while running the loop, and check that the echo is `want`. */
static void exchange(int peer, struct wsk__group *g, const struct buf *in, const struct buf *want) {
  struct buf got = {0};
  size_t written = 0;
  uint8_t chunk[65536];
  for (int step = 0; step < 2000 && got.len < want->len; step++) {
    if (written < in->len) {
      ssize_t w = write(peer, in->p + written, in->len - written);
      if (w > 0) written += (size_t)w;
    }
    wsk_timer *t = wsk_timer_start(loop, 2, 0, stop_soon, NULL);
    wsk_loop_run(loop);
    wsk_timer_stop(t);
    ssize_t r;
    while ((r = read(peer, chunk, sizeof chunk)) > 0) put(&got, chunk, (size_t)r);
    CHECK(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  CHECK_EQ(written, in->len);
  CHECK_EQ(got.len, want->len);
  CHECK(got.len == want->len && memcmp(got.p, want->p, want->len) == 0);
  CHECK_EQ(sends_refused, 0);
  CHECK_EQ(g->n, 1); /* still open: nothing was refused or broken */
  free(got.p);
}

static void test_echo_stream(void) {
  loop = wsk_loop_new();
  struct wsk__group g;
  wsk__group_init(&g, loop, &no_ops, NULL);
  g.cb.on_message = on_message;
  g.max_message = 1 << 20;
  g.high_water = 1 << 20;
  g.hard_limit = 64 << 20;
  CHECK_EQ(wsk__group_start(&g), 0);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  wsk_conn *c = wsk__conn_new(&g, sv[0], WSK_CS_HTTP);
  CHECK(c != NULL);
  CHECK_EQ(wsk__conn_open(c, NULL), 0);

  static const size_t sizes[] = {0,    1,    20,   125,  126,   1000,  1023, 1024,
                                 1025, 5000, 9000, 16384, 16500, 40000, 70000, 3};
  struct buf in = {0}, want = {0};
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
      frame(&in, &want, (i + round) % 2 ? WSK_OP_TEXT : WSK_OP_BINARY, sizes[i]);
  exchange(sv[1], &g, &in, &want);
  /* With the queue empty again, each echo of a reassembled message goes through the cork. */
  static const size_t parts[][2] = {{700, 600}, {200000, 150000}, {100, 300000}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    in.len = want.len = 0;
    fragmented(&in, &want, parts[i][0], parts[i][1]);
    exchange(sv[1], &g, &in, &want);
  }

  free(in.p), free(want.p);
  close(sv[1]);
  wsk__group_destroy(&g);
  wsk_loop_free(loop);
}

int main(void) {
#ifdef M_MMAP_THRESHOLD
  /* glibc: the receive buffer and the reassembly buffer both from the heap, the latter above the
   * former, which is where a wrapping bounds check would take it for a slice of the former. */
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
  test_echo_stream();
  return check_report();
}
