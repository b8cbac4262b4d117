/* test_batch.c - output to connections other than the one being served waits for the end of the
 * loop iteration and goes out in one write per connection (src/conn/batch.c). A server on a loop
 * with raw TCP peers on loopback (TCP_NODELAY, so one write is one data segment: tcp_info counts
 * them):
 * - on_message of one connection sends 10 messages to each other one: inside the callback they
 *   wait (wsk_buffered_amount > 0), after the iteration nothing waits and each peer gets its 10
 *   frames, in order, from one data segment (one write) and one recv;
 * - a send before wsk_loop_run goes out at once;
 * - a connection batched and then terminated, or closed, in the same callback: no crash, nothing
 *   leaks (ASan), and the close frame follows the batched messages;
 * - a write of the batch that fails: the connection is destroyed from inside the batch's walk,
 *   and its on_close sends to the others (they get it in the same walk) or frees the server;
 * - a peer that does not read: its socket fills, EPOLLOUT takes over, and every byte arrives in
 *   order once it reads, more sends made meanwhile included;
 * - the server freed from inside a callback while a batch is pending, and from on_drain while the
 *   batch is being written;
 * - wsk_publish from a timer and wsk_conn_publish from on_message: one write per subscriber;
 * - a client's sends from a timer: one write too; the client freed with them waiting;
 * - wsk_conn_dropped counts what a connection over a small send_hard_limit did not get, and a
 *   publish does not count it as reached;
 * - with drop_on_limit, a peer that does not read and has a 1 MiB backlog gets the 1008 close right
 *   after the frames already under way (the backlog's unsent frames are dropped first), and every
 *   frame before it is whole. */
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn/conn_internal.h"
#include "raw_peer.h"

enum { K = 5, FAN = 10 };

static wsk_loop *loop;

/* A server and its raw peers: peer i is the connection opened i-th. */
struct srv {
  wsk_server *s;
  int n;
  wsk_conn *conns[K];
  int peers[K];
  unsigned close_code[K]; /* what on_close reported, 0 before */
  int drains;
  /* What on_message of a connection does (the test in progress sets it). */
  void (*act)(struct srv *sv, wsk_conn *c, const void *data, size_t len);
  /* set by act: wsk_buffered_amount of each connection right after the sends */
  size_t waiting[K];
  uint32_t segs[K]; /* data segments sent by each connection's socket when act ran */
};

static struct srv *srv_of(const wsk_conn *c) { return wsk_server_user_data(wsk_conn_server(c)); }
static int idx_of(const wsk_conn *c) { return (int)(intptr_t)wsk_conn_user_data(c); }

static void on_open(wsk_conn *c) {
  struct srv *sv = srv_of(c);
  wsk_conn_set_user_data(c, (void *)(intptr_t)sv->n);
  sv->conns[sv->n++] = c;
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct srv *sv = srv_of(c);
  if (sv->act) sv->act(sv, c, data, len);
}

/* What on_close of connection 1 does (the test in progress sets it). */
static void (*close_act)(struct srv *sv, wsk_conn *c);

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  struct srv *sv = srv_of(c);
  sv->close_code[idx_of(c)] = code;
  if (idx_of(c) == 1 && close_act) close_act(sv, c);
}

static int free_on_drain; /* on_drain frees the server */

static void on_drain(wsk_conn *c) {
  struct srv *sv = srv_of(c);
  sv->drains++;
  if (!free_on_drain) return;
  wsk_server_free(sv->s);
  sv->s = NULL;
}

static int srv_drop; /* srv_new makes a server with drop_on_limit */

static void srv_new(struct srv *sv, size_t high_water, size_t hard_limit) {
  memset(sv, 0, sizeof *sv);
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.host = "127.0.0.1";
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_close = on_close;
  opt.cb.on_drain = on_drain;
  opt.user_data = sv;
  if (high_water) opt.send_high_water = high_water;
  if (hard_limit) opt.send_hard_limit = hard_limit;
  opt.drop_on_limit = srv_drop;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &opt, &sv->s, err, sizeof err), 0);
}

static void stop_cb(void *arg) { wsk_loop_stop(loop); }

/* Run the loop for about ms milliseconds; fn(arg) runs in its first iteration (as a timer). */
static void run_with(int ms, void (*fn)(void *), void *arg) {
  wsk_timer *job = fn ? wsk_timer_start(loop, 0, 0, fn, arg) : NULL;
  wsk_timer *stop = wsk_timer_start(loop, (uint64_t)ms, 0, stop_cb, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(stop);
  if (job) wsk_timer_stop(job);
}

static void pump(int ms) { run_with(ms, NULL, NULL); }

/* Data segments c's socket has sent. */
static uint32_t segs_out(const wsk_conn *c) {
  struct tcp_info ti;
  socklen_t n = sizeof ti;
  memset(&ti, 0, sizeof ti);
  CHECK_EQ(getsockopt(c->io.fd, IPPROTO_TCP, TCP_INFO, &ti, &n), 0);
  return ti.tcpi_data_segs_out;
}

/* One read of what fd has (waiting up to ms for something); 0 at EOF, -1 when nothing came. */
static ssize_t read_once(int fd, uint8_t *buf, size_t cap, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return -1;
  ssize_t r = read(fd, buf, cap);
  return r < 0 && errno == ECONNRESET ? 0 : r;
}

/* A raw WebSocket peer (rcvbuf > 0: that receive buffer), open on the server once this returns. */
static void peer_add(struct srv *sv, int rcvbuf) {
  int fd = raw_peer_upgrade(wsk_server_port(sv->s), rcvbuf);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int i = sv->n;
  sv->peers[i] = fd;
  for (int t = 0; t < 500 && sv->n == i; t++) pump(2);
  CHECK_EQ(sv->n, i + 1);
  uint8_t head[512];
  size_t len = 0;
  while (len < sizeof head && !memmem(head, len, "\r\n\r\n", 4)) {
    ssize_t r = read_once(fd, head + len, sizeof head - len, 2000);
    if (r <= 0) break;
    len += (size_t)r;
  }
  CHECK(len > 12 && memcmp(head, "HTTP/1.1 101", 12) == 0);
  CHECK(memmem(head, len, "\r\n\r\n", 4) == head + len - 4); /* nothing after the 101 yet */
}

/* A masked text frame from peer i. */
static void peer_send(struct srv *sv, int i, const char *text) {
  size_t n = strlen(text);
  uint8_t f[6 + 125] = {0x81, (uint8_t)(0x80 | n), 9, 8, 7, 6};
  for (size_t j = 0; j < n; j++) f[6 + j] = (uint8_t)text[j] ^ f[2 + j % 4];
  CHECK_EQ(write(sv->peers[i], f, 6 + n), (ssize_t)(6 + n));
}

/* Frames of the server (unmasked) in buf[0..len): up to max of them into out; the count, or -1
 * when the bytes do not end with a whole frame. */
struct frame {
  int opcode;
  const uint8_t *p;
  size_t len;
};
/* The server frame at the start of buf[0..len) into *f; its length (header and payload), or 0 when
 * buf does not hold all of it (nothing here sends 64 KiB or more in one frame). */
static size_t frame_at(const uint8_t *buf, size_t len, struct frame *f) {
  if (len < 2 || (buf[1] & 0x7f) == 127) return 0;
  size_t plen = buf[1] & 0x7f, hl = 2;
  if (plen == 126) {
    if (len < 4) return 0;
    plen = (size_t)buf[2] << 8 | buf[3];
    hl = 4;
  }
  if (len < hl + plen) return 0;
  *f = (struct frame){buf[0] & 0x0f, buf + hl, plen};
  return hl + plen;
}

static int parse(const uint8_t *buf, size_t len, struct frame *out, int max) {
  int n = 0;
  size_t off = 0;
  while (off < len) {
    struct frame f;
    size_t flen = frame_at(buf + off, len - off, &f);
    if (!flen) return -1;
    if (n < max) out[n] = f;
    n++;
    off += flen;
  }
  return n;
}

/* Peer i's next read holds exactly `count` whole text frames "tag-0" .. "tag-(count-1)". */
static void expect_one_read(struct srv *sv, int i, const char *tag, int count) {
  static uint8_t buf[1 << 16];
  struct frame f[64];
  ssize_t r = read_once(sv->peers[i], buf, sizeof buf, 1000);
  CHECK(r > 0);
  if (r <= 0) return;
  int n = parse(buf, (size_t)r, f, 64);
  CHECK_EQ(n, count);
  for (int j = 0; j < n && j < count; j++) {
    char want[32];
    int wl = snprintf(want, sizeof want, "%s-%d", tag, j);
    CHECK(f[j].opcode == WSK_OP_TEXT && f[j].len == (size_t)wl && memcmp(f[j].p, want, (size_t)wl) == 0);
  }
}

/* Nothing arrives at peer i for a while. */
static int quiet(struct srv *sv, int i) {
  uint8_t b[64];
  pump(30);
  return read_once(sv->peers[i], b, sizeof b, 20) < 0;
}

static void srv_free(struct srv *sv) {
  if (sv->s) wsk_server_free(sv->s);
  pump(5);
  for (int i = 0; i < K; i++)
    if (sv->peers[i] > 0) close(sv->peers[i]);
}

/* ---- fan-out from a callback ------------------------------------------------------------------ */

/* FAN messages "tag-j" to every connection but c, noting what waits and the segments sent. */
static void fan_out(struct srv *sv, wsk_conn *c, const char *tag) {
  for (int i = 0; i < sv->n; i++) {
    if (sv->conns[i] == c || sv->close_code[i]) continue;
    sv->segs[i] = segs_out(sv->conns[i]);
    for (int j = 0; j < FAN; j++) {
      char m[32];
      int n = snprintf(m, sizeof m, "%s-%d", tag, j);
      CHECK_EQ(wsk_send_text(sv->conns[i], m, (size_t)n), WSK_SEND_OK);
    }
    sv->waiting[i] = wsk_buffered_amount(sv->conns[i]);
    CHECK(wsk__conn_batched(sv->conns[i]));
  }
}

static void act_fan(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  fan_out(sv, c, "m");
}

static void test_fan_out(void) {
  struct srv sv;
  srv_new(&sv, 0, 0);
  for (int i = 0; i < K; i++) peer_add(&sv, 0);
  /* Outside the loop, output goes out at once. */
  CHECK_EQ(wsk_send_text(sv.conns[1], "now-0", 5), WSK_SEND_OK);
  CHECK_EQ(wsk_buffered_amount(sv.conns[1]), 0);
  CHECK(!wsk__conn_batched(sv.conns[1]));
  expect_one_read(&sv, 1, "now", 1);

  sv.act = act_fan;
  peer_send(&sv, 0, "go");
  pump(20);
  for (int i = 1; i < K; i++) {
    CHECK(sv.waiting[i] >= (size_t)FAN * 5); /* all of it waited in the callback... */
    CHECK_EQ(wsk_buffered_amount(sv.conns[i]), 0); /* ...and went out after it */
    CHECK(!wsk__conn_batched(sv.conns[i]));
    CHECK_EQ(segs_out(sv.conns[i]) - sv.segs[i], 1); /* in one write */
    expect_one_read(&sv, i, "m", FAN);
  }
  CHECK(quiet(&sv, 0));
  srv_free(&sv);
}

/* ---- a batched connection terminated, or closed, in the same callback ----------------------- */

static void act_end(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  fan_out(sv, c, "e");
  wsk_terminate(sv->conns[1]);
  CHECK_EQ(wsk_close(sv->conns[2], 1000, "bye"), 0);
  wsk_send_text(sv->conns[3], "e-10", 4); /* after a close elsewhere, still in order */
  wsk_close(sv->conns[3], 4000, NULL);
  CHECK_EQ(wsk_send_text(sv->conns[3], "late", 4), WSK_ECLOSED);
}

static void test_end_in_batch(void) {
  struct srv sv;
  srv_new(&sv, 0, 0);
  for (int i = 0; i < 4; i++) peer_add(&sv, 0);
  sv.act = act_end;
  peer_send(&sv, 0, "go");
  pump(20);
  CHECK_EQ(sv.close_code[1], 1006);
  /* The terminated peer gets the end of the stream (whatever it got before it). */
  uint8_t buf[4096];
  ssize_t r;
  int ended = 0;
  for (int t = 0; t < 100 && !ended; t++)
    if ((r = read_once(sv.peers[1], buf, sizeof buf, 20)) == 0) ended = 1;
  CHECK(ended);
  /* The closed ones get their messages, then the close frame. */
  for (int i = 2; i <= 3; i++) {
    r = read_once(sv.peers[i], buf, sizeof buf, 1000);
    struct frame f[16];
    int n = parse(buf, r > 0 ? (size_t)r : 0, f, 16);
    CHECK_EQ(n, FAN + i - 1);
    for (int j = 0; j < FAN + i - 2 && j < n; j++) {
      char want[16];
      snprintf(want, sizeof want, "e-%d", j);
      CHECK(f[j].opcode == WSK_OP_TEXT && f[j].len == strlen(want) && memcmp(f[j].p, want, f[j].len) == 0);
    }
    if (n == FAN + i - 1) {
      const struct frame *c = &f[n - 1];
      CHECK_EQ(c->opcode, WSK_OP_CLOSE);
      CHECK_EQ(c->len, i == 2 ? 5u : 2u);
      CHECK_EQ(c->p[0] << 8 | c->p[1], i == 2 ? 1000 : 4000);
    }
    /* The peer answers; the server ends the connection. */
    static const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
    CHECK_EQ(write(sv.peers[i], close_frame, sizeof close_frame), (ssize_t)sizeof close_frame);
  }
  for (int t = 0; t < 100 && (!sv.close_code[2] || !sv.close_code[3]); t++) pump(5);
  CHECK_EQ(sv.close_code[2], 1000);
  CHECK_EQ(sv.close_code[3], 1000);
  CHECK_EQ(wsk_server_count(sv.s), 1);
  srv_free(&sv);
}

/* ---- a write of the batch fails --------------------------------------------------------------
 * Connection 1's socket can no longer send (shut down under it), so the batch's write destroys it
 * from inside the walk, and its on_close sends to the others (connection 0, the one served, joins
 * the batch being written) or frees the server. */

static void act_break(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  fan_out(sv, c, "b");
  shutdown(sv->conns[1]->io.fd, SHUT_WR);
}

static void send_after(struct srv *sv, wsk_conn *gone) {
  for (int i = 0; i < sv->n; i++)
    if (sv->conns[i] != gone) CHECK_EQ(wsk_send_text(sv->conns[i], "b-10", 4), WSK_SEND_OK);
  CHECK(wsk__conn_batched(sv->conns[0]));
}

static void free_server(struct srv *sv, wsk_conn *gone) {
  wsk_server_free(sv->s);
  sv->s = NULL;
}

/* Connection 0's message breaks connection 1 with a batch pending; on_close of 1 does `then`. */
static void break_one(struct srv *sv, void (*then)(struct srv *sv, wsk_conn *gone)) {
  srv_new(sv, 0, 0);
  for (int i = 0; i < 4; i++) peer_add(sv, 0);
  sv->act = act_break;
  close_act = then;
  peer_send(sv, 0, "go");
  pump(20);
  close_act = NULL;
}

static void test_write_fails(void) {
  struct srv sv;
  break_one(&sv, send_after);
  CHECK_EQ(sv.close_code[1], 1006);
  uint8_t buf[64];
  CHECK_EQ(read_once(sv.peers[0], buf, sizeof buf, 1000), 6);
  CHECK_MEM(buf, "\x81\x04" "b-10", 6);
  for (int i = 2; i < 4; i++) expect_one_read(&sv, i, "b", FAN + 1);
  srv_free(&sv);

  break_one(&sv, free_server);
  CHECK(sv.s == NULL);
  for (int i = 0; i < 4; i++) CHECK_EQ(sv.close_code[i], 1006);
  srv_free(&sv);
}

/* ---- a peer that does not read ------------------------------------------------------------- */

enum { BIG = 1000, NBIG = 3000 };
static int big_next; /* the index of the next message sent to the slow peer */

static void send_big(wsk_conn *c, int count) {
  uint8_t m[BIG];
  for (int k = 0; k < count; k++, big_next++) {
    for (int j = 0; j < BIG; j++) m[j] = (uint8_t)(big_next * 7 + j);
    memcpy(m, &big_next, sizeof big_next);
    CHECK(wsk_send_binary(c, m, sizeof m) >= 0);
  }
}

static void slow_first(void *arg) {
  struct srv *sv = arg;
  send_big(sv->conns[1], NBIG / 2);
  CHECK(wsk__conn_batched(sv->conns[1]));
}

static void slow_more(void *arg) {
  struct srv *sv = arg;
  send_big(sv->conns[1], NBIG - big_next);
  CHECK(!wsk__conn_batched(sv->conns[1])); /* queued already: EPOLLOUT writes it */
}

static void test_slow_reader(void) {
  struct srv sv;
  srv_new(&sv, 64 << 10, 0);
  peer_add(&sv, 0);
  peer_add(&sv, 8192);
  wsk_conn *c = sv.conns[1];
  int small = 8192;
  setsockopt(c->io.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  run_with(10, slow_first, &sv);
  size_t left = wsk_buffered_amount(c);
  CHECK(left > 0 && left < (size_t)NBIG / 2 * (BIG + 4)); /* the socket took some, not all */
  CHECK(c->io.events & WSK_IO_OUT);
  run_with(10, slow_more, &sv);
  CHECK(wsk_buffered_amount(c) > left);
  /* The peer reads now: every byte, in order. */
  size_t want = (size_t)NBIG * (BIG + 4), got = 0;
  uint8_t *all = malloc(want + 1);
  for (int t = 0; t < 5000 && got < want; t++) {
    pump(1);
    ssize_t r;
    while (got <= want && (r = read(sv.peers[1], all + got, want + 1 - got)) > 0) got += (size_t)r;
  }
  CHECK_EQ(got, want);
  int ok = 1;
  for (int i = 0; i < NBIG && got == want; i++) {
    const uint8_t *f = all + (size_t)i * (BIG + 4);
    int idx;
    memcpy(&idx, f + 4 + 0, sizeof idx);
    ok &= f[0] == 0x82 && f[1] == 126 && (f[2] << 8 | f[3]) == BIG && idx == i;
    for (int j = (int)sizeof idx; j < BIG; j++) ok &= f[4 + j] == (uint8_t)(i * 7 + j);
  }
  CHECK(ok);
  free(all);
  CHECK_EQ(wsk_buffered_amount(c), 0);
  CHECK(!(c->io.events & WSK_IO_OUT));
  CHECK(sv.drains >= 1);
  CHECK_EQ(sv.close_code[1], 0);
  srv_free(&sv);
}

/* ---- the server freed while a batch waits -------------------------------------------------- */

static void act_free(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  fan_out(sv, c, "f");
  wsk_server_free(sv->s);
  sv->s = NULL;
}

/* Over the high-water mark for every connection, so that the batch's writes call on_drain. */
static void fill_all(void *arg) {
  struct srv *sv = arg;
  static uint8_t m[3000];
  for (int i = 0; i < sv->n; i++)
    for (int j = 0; j < 4; j++) CHECK(wsk_send_binary(sv->conns[i], m, sizeof m) >= 0);
  for (int i = 0; i < sv->n; i++) CHECK(wsk__conn_has(sv->conns[i], WSK_CF_NEED_DRAIN));
}

static void test_free_in_batch(void) {
  struct srv sv;
  srv_new(&sv, 0, 0);
  for (int i = 0; i < K; i++) peer_add(&sv, 0);
  sv.act = act_free;
  peer_send(&sv, 0, "go");
  pump(20);
  CHECK(sv.s == NULL);
  for (int i = 0; i < K; i++) CHECK_EQ(sv.close_code[i], 1006);
  srv_free(&sv);

  /* From on_drain, called by the batch's write of the first connection. */
  srv_new(&sv, 4096, 0);
  for (int i = 0; i < K; i++) peer_add(&sv, 0);
  free_on_drain = 1;
  run_with(20, fill_all, &sv);
  free_on_drain = 0;
  CHECK(sv.s == NULL);
  CHECK_EQ(sv.drains, 1);
  for (int i = 0; i < K; i++) CHECK_EQ(sv.close_code[i], 1006);
  srv_free(&sv);
}

/* ---- publish from inside the loop ----------------------------------------------------------- */

static void publish_from_timer(void *arg) {
  struct srv *sv = arg;
  for (int i = 0; i < sv->n; i++) sv->segs[i] = segs_out(sv->conns[i]);
  for (int j = 0; j < FAN; j++) {
    char m[32];
    int n = snprintf(m, sizeof m, "p-%d", j);
    CHECK_EQ(wsk_publish(sv->s, "t", 1, WSK_OP_TEXT, m, (size_t)n, 0), sv->n);
  }
  for (int i = 0; i < sv->n; i++) CHECK(wsk_buffered_amount(sv->conns[i]) > 0);
}

static void act_publish(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  for (int i = 0; i < sv->n; i++) sv->segs[i] = segs_out(sv->conns[i]);
  for (int j = 0; j < FAN; j++) {
    char m[32];
    int n = snprintf(m, sizeof m, "c-%d", j);
    CHECK_EQ(wsk_conn_publish(c, "t", 1, WSK_OP_TEXT, m, (size_t)n, WSK_PUBLISH_EXCLUDE_SELF),
             sv->n - 1);
  }
}

static void test_publish(void) {
  struct srv sv;
  srv_new(&sv, 0, 0);
  for (int i = 0; i < K; i++) {
    peer_add(&sv, 0);
    CHECK_EQ(wsk_subscribe(sv.conns[i], "t", 1), 0);
  }
  run_with(20, publish_from_timer, &sv);
  for (int i = 0; i < K; i++) {
    CHECK_EQ(segs_out(sv.conns[i]) - sv.segs[i], 1);
    expect_one_read(&sv, i, "p", FAN);
  }
  sv.act = act_publish;
  peer_send(&sv, 2, "go");
  pump(20);
  for (int i = 0; i < K; i++) {
    if (i == 2) continue;
    CHECK_EQ(segs_out(sv.conns[i]) - sv.segs[i], 1);
    expect_one_read(&sv, i, "c", FAN);
  }
  CHECK(quiet(&sv, 2));
  srv_free(&sv);
}

/* ---- a client's output -------------------------------------------------------------------------
 * A client connection is a group of one: a send from a timer waits for the end of the iteration
 * too, and a client freed with output waiting leaves nothing behind. */

static int received; /* messages "k-j" the server got, in order */

static void act_count(struct srv *sv, wsk_conn *c, const void *data, size_t len) {
  char want[16];
  int n = snprintf(want, sizeof want, "k-%d", received);
  CHECK(len == (size_t)n && memcmp(data, want, len) == 0);
  received++;
}

static wsk_client *client;

static void client_sends(void *arg) {
  struct srv *sv = arg;
  wsk_conn *c = wsk_client_conn(client);
  sv->segs[0] = segs_out(c);
  for (int j = 0; j < FAN; j++) {
    char m[16];
    int n = snprintf(m, sizeof m, "k-%d", j);
    CHECK_EQ(wsk_send_text(c, m, (size_t)n), WSK_SEND_OK);
  }
  CHECK(wsk_buffered_amount(c) > 0);
}

static void client_sends_and_goes(void *arg) {
  client_sends(arg);
  wsk_client_free(client);
  client = NULL;
}

static void test_client(void) {
  struct srv sv;
  srv_new(&sv, 0, 0);
  sv.act = act_count;
  char url[64], err[256];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", wsk_server_port(sv.s));
  struct wsk_client_options opt;
  wsk_client_options_init(&opt);
  CHECK_EQ(wsk_connect(loop, url, &opt, &client, err, sizeof err), 0);
  for (int t = 0; t < 500 && (!wsk_client_conn(client) || sv.n == 0); t++) pump(2);
  CHECK(wsk_client_conn(client) != NULL);
  run_with(20, client_sends, &sv);
  wsk_conn *c = wsk_client_conn(client);
  CHECK_EQ(wsk_buffered_amount(c), 0);
  CHECK_EQ(segs_out(c) - sv.segs[0], 1);
  CHECK_EQ(received, FAN);
  run_with(20, client_sends_and_goes, &sv);
  for (int t = 0; t < 100 && !sv.close_code[0]; t++) pump(2);
  CHECK_EQ(sv.close_code[0], 1006);
  srv_free(&sv);
}

/* ---- wsk_conn_dropped ------------------------------------------------------------------------ */

enum { LIMIT = 16 << 10, ROUNDS = 100, PER_ROUND = 4, MSG = 1000 };
static int published, reached_both, reached_one;

static void publish_round(void *arg) {
  struct srv *sv = arg;
  uint8_t m[MSG] = {0};
  for (int j = 0; j < PER_ROUND; j++, published++) {
    memcpy(m, &published, sizeof published);
    int r = wsk_publish(sv->s, "d", 1, WSK_OP_BINARY, m, sizeof m, 0);
    CHECK(r == 1 || r == 2);
    if (r == 2) reached_both++;
    if (r == 1) reached_one++;
  }
}

static void test_dropped(void) {
  struct srv sv;
  srv_new(&sv, 8 << 10, LIMIT);
  peer_add(&sv, 0);    /* reads */
  peer_add(&sv, 4096); /* does not */
  int small = 4096;
  setsockopt(sv.conns[1]->io.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  for (int i = 0; i < 2; i++) CHECK_EQ(wsk_subscribe(sv.conns[i], "d", 1), 0);
  static uint8_t buf[(size_t)ROUNDS * PER_ROUND * (MSG + 4)];
  size_t got = 0;
  for (int round = 0; round < ROUNDS; round++) {
    run_with(2, publish_round, &sv);
    ssize_t r;
    while ((r = read(sv.peers[0], buf + got, sizeof buf - got)) > 0) got += (size_t)r;
  }
  for (int t = 0; t < 200 && got < sizeof buf; t++) {
    pump(1);
    ssize_t r;
    while ((r = read(sv.peers[0], buf + got, sizeof buf - got)) > 0) got += (size_t)r;
  }
  /* The reader got every message, in order; the other one what fitted under the limit. */
  CHECK_EQ(got, sizeof buf);
  int in_order = 1;
  for (int i = 0; i < published && got == sizeof buf; i++) {
    int idx;
    memcpy(&idx, buf + (size_t)i * (MSG + 4) + 4, sizeof idx);
    in_order &= idx == i;
  }
  CHECK(in_order);
  CHECK(reached_both > 0 && reached_one > 0);
  CHECK_EQ(reached_both + reached_one, ROUNDS * PER_ROUND);
  CHECK_EQ(wsk_conn_dropped(sv.conns[0]), 0);
  CHECK_EQ(wsk_conn_dropped(sv.conns[1]), reached_one);
  CHECK(wsk_buffered_amount(sv.conns[1]) <= LIMIT);
  /* A send refused for the same reason counts too (outside the loop as well). */
  CHECK_EQ(wsk_send_binary(sv.conns[1], buf, MSG), WSK_EBACKPRESSURE);
  CHECK_EQ(wsk_conn_dropped(sv.conns[1]), reached_one + 1);
  CHECK_EQ(sv.close_code[1], 0); /* without drop_on_limit it stays open */
  srv_free(&sv);
}

/* A burst bigger than send_hard_limit to a connection whose socket takes it all is no slow
 * reader: the queue the batch collected is written when the limit would refuse a message, and
 * only what the socket does not take counts against the limit (as when every send was written at
 * once). With drop_on_limit such a reader would otherwise be closed with 1008. */
enum { BURST = 100 };

static void burst(void *arg) {
  struct srv *sv = arg;
  uint8_t m[MSG];
  for (int j = 0; j < BURST; j++) {
    memset(m, j, sizeof m);
    CHECK(wsk_send_binary(sv->conns[1], m, sizeof m) >= 0);
  }
}

static void test_burst_over_limit(void) {
  struct srv sv;
  srv_new(&sv, 8 << 10, LIMIT);
  peer_add(&sv, 0);
  peer_add(&sv, 1 << 20); /* room for the whole burst in the kernel, whatever the defaults */
  int big = 1 << 20;
  setsockopt(sv.conns[1]->io.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  run_with(10, burst, &sv);
  CHECK_EQ(wsk_conn_dropped(sv.conns[1]), 0);
  static uint8_t buf[BURST * (MSG + 4) + 1];
  size_t got = 0;
  for (int t = 0; t < 200 && got < BURST * (MSG + 4); t++) {
    pump(1);
    ssize_t r;
    while ((r = read(sv.peers[1], buf + got, sizeof buf - got)) > 0) got += (size_t)r;
  }
  CHECK_EQ(got, BURST * (MSG + 4));
  int ok = 1;
  for (int j = 0; j < BURST && got == BURST * (MSG + 4); j++)
    ok &= buf[j * (MSG + 4)] == 0x82 && buf[j * (MSG + 4) + 4] == j && buf[j * (MSG + 4) + MSG + 3] == j;
  CHECK(ok);
  srv_free(&sv);
}

/* ---- drop_on_limit: the close is not stuck behind the backlog ------------------------------- */

enum { BACKLOG = 1 << 20 };

static void send_until_refused(void *arg) {
  struct srv *sv = arg;
  uint8_t m[MSG];
  memset(m, 0x5a, sizeof m);
  for (int j = 0; j < 4 * BACKLOG / MSG && wsk_send_binary(sv->conns[0], m, sizeof m) >= 0; j++) {}
}

static void test_drop_slow(void) {
  struct srv sv;
  srv_drop = 1;
  srv_new(&sv, 0, BACKLOG);
  srv_drop = 0;
  peer_add(&sv, 4096); /* reads nothing until the limit trips */
  int small = 4096;
  setsockopt(sv.conns[0]->io.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  run_with(5, send_until_refused, &sv);
  CHECK_EQ(wsk_conn_dropped(sv.conns[0]), 1); /* the send that tripped the limit */
  /* Now the peer reads: whole data frames, then the close, long before the backlog's worth. */
  size_t cap = 4 * BACKLOG, got = 0, off = 0, before_close = 0;
  uint8_t *buf = malloc(cap);
  struct frame close = {0};
  int whole = 1, frames = 0;
  for (int t = 0; t < 2000 && !close.opcode && got < cap; t++) {
    pump(1);
    ssize_t r;
    while (got < cap && (r = read(sv.peers[0], buf + got, cap - got)) > 0) got += (size_t)r;
    struct frame f;
    size_t flen;
    while (!close.opcode && (flen = frame_at(buf + off, got - off, &f)) > 0) {
      if (f.opcode == WSK_OP_CLOSE) {
        close = f;
        before_close = off;
      } else {
        whole &= buf[off] == 0x82 && f.len == MSG;
        frames++;
      }
      off += flen;
    }
  }
  CHECK_EQ(close.opcode, WSK_OP_CLOSE);
  CHECK(close.len >= 2 && (close.p[0] << 8 | close.p[1]) == WSK_CLOSE_POLICY);
  CHECK(whole);
  CHECK(before_close < BACKLOG / 4);
  printf("# drop_on_limit: %zu bytes (%d frames) before the close, the backlog held %u\n",
         before_close, frames, (unsigned)BACKLOG);
  free(buf);
  srv_free(&sv);
}

int main(void) {
  loop = wsk_loop_new();
  CHECK(loop != NULL);
  test_fan_out();
  test_end_in_batch();
  test_write_fails();
  test_slow_reader();
  test_free_in_batch();
  test_publish();
  test_dropped();
  test_burst_over_limit();
  test_drop_slow();
  test_client();
  wsk_loop_free(loop);
  return check_report();
}
