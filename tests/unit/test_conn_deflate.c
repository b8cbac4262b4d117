/* test_conn_deflate.c - permessage-deflate in the connection engine, on the loop: a server-role and
 * a client-role connection joined by a socketpair, or a server-role connection and raw bytes.
 * Covers messages of many sizes both ways with and without context takeover (RSV1 seen by the
 * frame observer on the first frame only, masking after compression), the threshold, prepared
 * messages (one shared compressed frame for no-context-takeover connections, per connection with
 * takeover), compressed fragmented input, a deflate bomb (1009 with at most max_message held),
 * data that does not inflate and compressed invalid UTF-8 (1007), RSV1 without the extension
 * (1002), and the memory a compressed connection keeps between messages. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn/conn_internal.h"

struct side {
  int opened, closes, errors, err;
  unsigned code;
  int messages, last_opcode;
  uint8_t *last;
  size_t last_len;
  int frames_rsv1, frames_plain; /* data frames seen by the observer, outgoing or not */
};

static struct side srv_side, cli_side;
static wsk_loop *loop;
static int stop_after; /* stop the loop after this many messages in total */

static struct side *side_of(wsk_conn *c) { return wsk_conn_user_data(c); }

static void on_open(wsk_conn *c) { side_of(c)->opened++; }
static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct side *s = side_of(c);
  s->messages++;
  s->last_opcode = opcode;
  free(s->last);
  s->last = malloc(len ? len : 1);
  memcpy(s->last, data, len);
  s->last_len = len;
  if (--stop_after <= 0) wsk_loop_stop(loop);
}
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  side_of(c)->closes++;
  side_of(c)->code = code;
}
static void on_error(wsk_conn *c, int err, const char *msg) {
  side_of(c)->errors++;
  side_of(c)->err = err;
}
static void on_frame(wsk_conn *c, int outgoing, const struct wsk_frame_header *h) {
  if (h->opcode >= WSK_OP_CLOSE || !outgoing) return;
  if (h->rsv & 0x4)
    side_of(c)->frames_rsv1++;
  else
    side_of(c)->frames_plain++;
}

static const struct wsk__group_ops no_ops = {0};
static struct wsk_pmd_options pmd_opt;

static void setup_group(struct wsk__group *g, int client, size_t max_message) {
  wsk__group_init(g, loop, &no_ops, NULL);
  g->client = (uint8_t)client;
  g->cb = (struct wsk_callbacks){.on_open = on_open, .on_message = on_message,
                                 .on_close = on_close, .on_error = on_error};
  g->on_frame = on_frame;
  g->max_message = max_message;
  g->high_water = 8 << 20;
  g->hard_limit = 64 << 20;
  g->close_timeout_ms = 2000;
  g->deflate = &pmd_opt;
  CHECK_EQ(wsk__group_start(g), 0);
}

static wsk_conn *join(struct wsk__group *g, int fd, struct side *s,
                      const struct wsk_pmd_params *params) {
  wsk_conn *c = wsk__conn_new(g, fd, WSK_CS_HTTP);
  CHECK(c != NULL);
  wsk_conn_set_user_data(c, s);
  if (params) CHECK_EQ(wsk__conn_deflate_setup(c, params), 0);
  CHECK_EQ(wsk__conn_open(c, NULL), 0);
  return c;
}

static void stop_soon(void *arg) { wsk_loop_stop(loop); }

/* Run until `messages` more messages arrived (or 5 s passed). */
static void run_for(int messages) {
  stop_after = messages;
  wsk_timer *t = wsk_timer_start(loop, 5000, 0, stop_soon, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
}

static void run_a_bit(void) {
  stop_after = 1 << 30;
  wsk_timer *t = wsk_timer_start(loop, 300, 0, stop_soon, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
}

static void reset_sides(void) {
  free(srv_side.last);
  free(cli_side.last);
  memset(&srv_side, 0, sizeof srv_side);
  memset(&cli_side, 0, sizeof cli_side);
}

static struct wsk_pmd_params params(int snct, int cnct, int sbits, int cbits) {
  return (struct wsk_pmd_params){(uint8_t)snct, (uint8_t)cnct, (uint8_t)sbits, (uint8_t)cbits};
}

static void fill(uint8_t *b, size_t n, int compressible, int text) {
  uint32_t x = 7;
  static const char words[] = "permessage-deflate over a socketpair, again and again; ";
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    if (compressible)
      b[i] = (uint8_t)words[i % (sizeof words - 1)];
    else
      b[i] = text ? (uint8_t)('!' + (x >> 16) % 90) : (uint8_t)(x >> 16);
  }
}

/* One message each way for every size, compressible or not; checks the data and RSV1. */
static void exchange(wsk_conn *s, wsk_conn *c) {
  static const size_t sizes[] = {0, 1, 5, 100, 3000, 5000, 70000, 1 << 20};
  uint8_t *buf = malloc(1 << 20);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (int kind = 0; kind < 4; kind++) {
      size_t n = sizes[i];
      int text = kind & 1, compressible = kind >> 1;
      int op = text ? WSK_OP_TEXT : WSK_OP_BINARY;
      fill(buf, n, compressible, text);
      int rsv_s = srv_side.frames_rsv1, rsv_c = cli_side.frames_rsv1;
      CHECK(wsk_send(c, op, buf, n) >= 0);
      CHECK(wsk_send(s, op, buf, n) >= 0);
      run_for(2);
      CHECK_EQ(srv_side.last_len, n);
      CHECK_EQ(cli_side.last_len, n);
      CHECK_EQ(srv_side.last_opcode, op);
      CHECK_EQ(cli_side.last_opcode, op);
      CHECK(srv_side.last && memcmp(srv_side.last, buf, n) == 0);
      CHECK(cli_side.last && memcmp(cli_side.last, buf, n) == 0);
      CHECK_EQ(srv_side.frames_rsv1, rsv_s + 1);
      CHECK_EQ(cli_side.frames_rsv1, rsv_c + 1);
    }
  }
  CHECK_EQ(srv_side.frames_plain + cli_side.frames_plain, 0);
  CHECK_EQ(srv_side.errors + cli_side.errors, 0);
  free(buf);
}

static void finish_pair(struct wsk__group *gs, struct wsk__group *gc) {
  wsk__group_destroy(gs);
  wsk__group_destroy(gc);
  wsk_loop_free(loop);
  reset_sides();
}

static void test_round_trips(void) {
  static const int cases[][4] = {{0, 0, 15, 15}, {1, 1, 15, 15}, {0, 1, 9, 12}, {1, 0, 11, 9}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    loop = wsk_loop_new();
    struct wsk__group gs, gc;
    setup_group(&gs, 0, 16 << 20);
    setup_group(&gc, 1, 16 << 20);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct wsk_pmd_params p = params(cases[k][0], cases[k][1], cases[k][2], cases[k][3]);
    wsk_conn *s = join(&gs, sv[0], &srv_side, &p);
    wsk_conn *c = join(&gc, sv[1], &cli_side, &p);
    CHECK(wsk_conn_deflate(s, NULL) && wsk_conn_deflate(c, NULL));
    struct wsk_pmd_params got;
    CHECK_EQ(wsk_conn_deflate(c, &got), 1);
    CHECK_MEM(&got, &p, sizeof p);
    exchange(s, c);
    /* Control frames are never compressed; a ping still works. */
    CHECK_EQ(wsk_ping(c, "p", 1), WSK_SEND_OK);
    run_a_bit();
    CHECK_EQ(srv_side.errors + cli_side.errors, 0);
    /* Between messages: with no context takeover on a side, its zlib state is gone. */
    size_t mem_s = wsk_pmd_memory(s->ext->pmd, NULL), mem_c = wsk_pmd_memory(c->ext->pmd, NULL);
    if (p.server_no_context_takeover && p.client_no_context_takeover) {
      CHECK_EQ(mem_s, wsk_pmd_size());
      CHECK_EQ(mem_c, wsk_pmd_size());
    } else {
      CHECK(mem_s > wsk_pmd_size());
      CHECK(mem_c > wsk_pmd_size());
    }
    CHECK(s->ext->msg == NULL && c->ext->msg == NULL); /* no buffer held between messages */
    finish_pair(&gs, &gc);
  }
}

static void test_threshold_and_plain(void) {
  loop = wsk_loop_new();
  struct wsk__group gs, gc;
  pmd_opt.threshold = 100;
  setup_group(&gs, 0, 1 << 20);
  setup_group(&gc, 1, 1 << 20);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  struct wsk_pmd_params p = params(0, 0, 15, 15);
  wsk_conn *s = join(&gs, sv[0], &srv_side, &p);
  wsk_conn *c = join(&gc, sv[1], &cli_side, &p);
  static uint8_t big[200];
  fill(big, sizeof big, 1, 1);
  CHECK_EQ(wsk_send_text(c, "short", 5), WSK_SEND_OK); /* below the threshold: as is */
  CHECK_EQ(wsk_send_text(c, (const char *)big, sizeof big), WSK_SEND_OK);
  CHECK_EQ(wsk_send_text(s, "tiny", 4), WSK_SEND_OK);
  run_for(3);
  CHECK_EQ(cli_side.frames_plain, 1);
  CHECK_EQ(cli_side.frames_rsv1, 1);
  CHECK_EQ(srv_side.frames_plain, 1);
  CHECK_EQ(srv_side.messages, 2);
  CHECK_EQ(srv_side.last_len, sizeof big);
  CHECK_MEM(srv_side.last, big, sizeof big);
  CHECK_EQ(cli_side.last_len, 4);
  pmd_opt.threshold = 0;
  finish_pair(&gs, &gc);

  /* A connection without the extension: no ext, no codec, and RSV1 from the peer is 1002. */
  loop = wsk_loop_new();
  setup_group(&gs, 0, 1 << 20);
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  s = join(&gs, sv[0], &srv_side, NULL);
  CHECK(s->ext == NULL);
  CHECK_EQ(wsk_conn_deflate(s, NULL), 0);
  CHECK_EQ(send(sv[1], "\xc1\x81\x00\x00\x00\x00x", 7, 0), 7);
  run_a_bit();
  uint8_t buf[16];
  CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 4);
  CHECK_MEM(buf, "\x88\x02\x03\xea", 4); /* 1002 */
  close(sv[1]);
  wsk__group_destroy(&gs);
  wsk_loop_free(loop);
  reset_sides();
}

static void test_prepared(void) {
  loop = wsk_loop_new();
  struct wsk__group gs, gc;
  setup_group(&gs, 0, 1 << 20);
  setup_group(&gc, 1, 1 << 20);
  struct side cl[4] = {{0}};
  wsk_conn *conns[4];
  /* two without context takeover (windows 15 and 10), one with, one plain */
  struct wsk_pmd_params ps[3] = {params(1, 0, 15, 15), params(1, 0, 10, 15), params(0, 0, 15, 15)};
  for (int i = 0; i < 4; i++) {
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    conns[i] = join(&gs, sv[0], &srv_side, i < 3 ? &ps[i] : NULL);
    join(&gc, sv[1], &cl[i], i < 3 ? &ps[i] : NULL);
  }
  static uint8_t msg[50000];
  fill(msg, sizeof msg, 1, 0);
  for (int round = 0; round < 2; round++) {
    wsk_prepared *p = wsk_prepared_new(WSK_OP_BINARY, msg, sizeof msg);
    for (int i = 0; i < 4; i++) CHECK(wsk_send_prepared(conns[i], p) >= 0);
    CHECK(p->deflated != NULL);
    CHECK_EQ(p->deflated->deflated_bits, 15);
    CHECK(p->deflated->frame_len < sizeof msg / 10);
    wsk_prepared_release(p);
    run_for(4);
    for (int i = 0; i < 4; i++) {
      CHECK_EQ(cl[i].messages, round + 1);
      CHECK_EQ(cl[i].last_len, sizeof msg);
      CHECK(cl[i].last && memcmp(cl[i].last, msg, sizeof msg) == 0);
      CHECK_EQ(cl[i].errors, 0);
    }
  }
  /* Shared frames bypass the observer; the two compressed per connection (window 10 is below
   * the shared frame's 15, and context takeover) show, twice each. */
  CHECK_EQ(srv_side.frames_rsv1, 4);
  CHECK_EQ(srv_side.frames_plain, 0);
  for (int i = 0; i < 4; i++) free(cl[i].last);
  finish_pair(&gs, &gc);
}

/* A client-role frame with RSV1 carrying z's compression of data (fin and rsv as given). */
static size_t client_frame(uint8_t *out, int fin, int rsv, int opcode, const uint8_t *payload,
                           size_t len) {
  static const uint8_t key[4] = {1, 2, 3, 4};
  size_t hl = wsk_frame_write_header(out, fin, rsv, opcode, len, key);
  memcpy(out + hl, payload, len);
  wsk_mask(out + hl, len, key, 0);
  return hl + len;
}

static size_t compress_all(const uint8_t *data, size_t len, uint8_t *out, size_t cap) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  struct wsk_pmd_params p = params(0, 0, 15, 15);
  wsk_pmd *z = malloc(wsk_pmd_size());
  CHECK_EQ(wsk_pmd_init(z, WSK_ROLE_CLIENT, &p, &o, 0), 0);
  size_t used, made;
  CHECK_EQ(wsk_pmd_compress(z, data, len, 1, out, cap, &used, &made), 0);
  wsk_pmd_end(z);
  free(z);
  return made;
}

/* A server connection (max_message 64 KiB) fed raw frames; returns the close code it sent. */
static unsigned raw_case(const uint8_t *frames, size_t len, int *messages) {
  loop = wsk_loop_new();
  struct wsk__group gs;
  setup_group(&gs, 0, 65536);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  struct wsk_pmd_params p = params(0, 0, 15, 15);
  join(&gs, sv[0], &srv_side, &p);
  for (size_t off = 0; off < len;) {
    ssize_t w = send(sv[1], frames + off, len - off, 0);
    if (w > 0) off += (size_t)w;
    run_a_bit();
    if (srv_side.closes) break;
  }
  run_a_bit();
  uint8_t buf[64];
  unsigned code = 0;
  ssize_t n = recv(sv[1], buf, sizeof buf, 0);
  if (n >= 4 && buf[0] == 0x88) code = (unsigned)(buf[2] << 8 | buf[3]);
  *messages = srv_side.messages;
  close(sv[1]);
  wsk__group_destroy(&gs);
  wsk_loop_free(loop);
  reset_sides();
  return code;
}

static void test_raw_input(void) {
  size_t cap = 1 << 20;
  uint8_t *plain = calloc(1, cap), *z = malloc(cap), *frames = malloc(2 * cap);
  int messages;

  /* A fragmented compressed message: RSV1 on the first frame only, then split anywhere. */
  fill(plain, 60000, 1, 1);
  size_t zn = compress_all(plain, 60000, z, cap);
  size_t a = zn / 3, b = zn / 2, n = 0;
  n += client_frame(frames + n, 0, 4, WSK_OP_TEXT, z, a);
  n += client_frame(frames + n, 0, 0, WSK_OP_CONT, z + a, b - a);
  n += client_frame(frames + n, 1, 0, WSK_OP_CONT, z + b, zn - b);
  CHECK_EQ(raw_case(frames, n, &messages), 0);
  CHECK_EQ(messages, 1);

  /* RSV1 on a continuation frame: 1002 (the parser's rule). */
  n = client_frame(frames, 0, 4, WSK_OP_TEXT, z, a);
  n += client_frame(frames + n, 1, 4, WSK_OP_CONT, z + a, zn - a);
  CHECK_EQ(raw_case(frames, n, &messages), 1002);

  /* A deflate bomb: 1 MiB of zeros is ~1 KB compressed; max_message is 64 KiB: 1009. */
  memset(plain, 0, cap);
  zn = compress_all(plain, cap, z, cap);
  CHECK(zn < 2000);
  n = client_frame(frames, 1, 4, WSK_OP_BINARY, z, zn);
  CHECK_EQ(raw_case(frames, n, &messages), 1009);
  CHECK_EQ(messages, 0);

  /* Exactly max_message inflated is fine. */
  zn = compress_all(plain, 65536, z, cap);
  n = client_frame(frames, 1, 4, WSK_OP_BINARY, z, zn);
  CHECK_EQ(raw_case(frames, n, &messages), 0);
  CHECK_EQ(messages, 1);

  /* Data that does not inflate (a reserved block type): 1007. */
  static const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff};
  n = client_frame(frames, 1, 4, WSK_OP_BINARY, bad, sizeof bad);
  CHECK_EQ(raw_case(frames, n, &messages), 1007);

  /* Compressed text that is not UTF-8, and text that stops inside a character: 1007. */
  zn = compress_all((const uint8_t *)"abc\xc3\x28", 5, z, cap);
  n = client_frame(frames, 1, 4, WSK_OP_TEXT, z, zn);
  CHECK_EQ(raw_case(frames, n, &messages), 1007);
  zn = compress_all((const uint8_t *)"abc\xe2\x82", 5, z, cap);
  n = client_frame(frames, 1, 4, WSK_OP_TEXT, z, zn);
  CHECK_EQ(raw_case(frames, n, &messages), 1007);
  CHECK_EQ(messages, 0);

  /* The same bytes uncompressed on a compressed connection are binary data: delivered. */
  n = client_frame(frames, 1, 0, WSK_OP_BINARY, (const uint8_t *)"abc\xc3\x28", 5);
  CHECK_EQ(raw_case(frames, n, &messages), 0);
  CHECK_EQ(messages, 1);
  free(plain);
  free(z);
  free(frames);
}

int main(void) {
  CHECK(sizeof(struct wsk_conn) <= 96); /* permessage-deflate costs plain connections nothing */
  wsk_pmd_options_init(&pmd_opt);
  pmd_opt.enabled = 1;
  test_round_trips();
  test_threshold_and_plain();
  test_prepared();
  test_raw_input();
  return check_report();
}
