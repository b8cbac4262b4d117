/* test_loop_conn.c - the connection engine on the loop, both roles at once: a server-role and a
 * client-role connection joined by a socketpair. The server side's parser refuses unmasked frames,
 * so every exchange also checks that the client role masks (with a fresh key per frame).
 * Covers messages both ways, prepared messages on the client role, auto-pong, the closing
 * handshake started by either side (codes, reasons, clean flag, on_close exactly once), a close
 * frame on the wire checked byte by byte, and a protocol error (on_error, then on_close 1006). */
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn/conn_internal.h"

struct side {
  const char *name;
  int opened, closes, errors, pongs, pings;
  unsigned code;
  int clean;
  char reason[64];
  char last[256];
  size_t last_len;
  int last_opcode;
};

static struct side srv_side = {.name = "server"}, cli_side = {.name = "client"};
static wsk_loop *loop;

static struct side *side_of(wsk_conn *c) { return wsk_conn_user_data(c); }

static void on_open(wsk_conn *c) { side_of(c)->opened++; }
static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct side *s = side_of(c);
  s->last_opcode = opcode;
  s->last_len = len;
  memcpy(s->last, data, len < sizeof s->last ? len : sizeof s->last);
  wsk_loop_stop(loop);
}
static void on_ping(wsk_conn *c, const void *d, size_t n) { side_of(c)->pings++; }
static void on_pong(wsk_conn *c, const void *d, size_t n) {
  side_of(c)->pongs++;
  wsk_loop_stop(loop);
}
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  struct side *s = side_of(c);
  s->closes++;
  s->code = code;
  s->clean = clean;
  snprintf(s->reason, sizeof s->reason, "%.*s", (int)len, reason ? reason : "");
}
static void on_error(wsk_conn *c, int err, const char *msg) { side_of(c)->errors++; }

static const struct wsk__group_ops no_ops = {0};

static void setup_group(struct wsk__group *g, int client) {
  wsk__group_init(g, loop, &no_ops, NULL);
  g->client = (uint8_t)client;
  g->cb = (struct wsk_callbacks){.on_open = on_open, .on_message = on_message, .on_ping = on_ping,
                                 .on_pong = on_pong, .on_close = on_close, .on_error = on_error};
  g->max_message = 1 << 20;
  g->high_water = 1 << 20;
  g->hard_limit = 8 << 20;
  g->close_timeout_ms = 2000;
  CHECK_EQ(wsk__group_start(g), 0);
}

static wsk_conn *join(struct wsk__group *g, int fd, struct side *s) {
  wsk_conn *c = wsk__conn_new(g, fd, WSK_CS_HTTP);
  CHECK(c != NULL);
  wsk_conn_set_user_data(c, s);
  CHECK_EQ(wsk__conn_open(c, NULL), 0);
  return c;
}

static void stop_soon(void *arg) { wsk_loop_stop(loop); }

static void run_a_bit(void) {
  wsk_timer *t = wsk_timer_start(loop, 300, 0, stop_soon, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
}

static void test_both_roles(void) {
  loop = wsk_loop_new();
  struct wsk__group gs, gc;
  setup_group(&gs, 0);
  setup_group(&gc, 1);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  wsk_conn *s = join(&gs, sv[0], &srv_side);
  wsk_conn *c = join(&gc, sv[1], &cli_side);
  CHECK_EQ(srv_side.opened + cli_side.opened, 2);

  /* client -> server: masked (the server's parser would fail the connection otherwise) */
  CHECK_EQ(wsk_send_text(c, "hello server", 12), WSK_SEND_OK);
  wsk_loop_run(loop);
  CHECK_EQ(srv_side.last_opcode, WSK_OP_TEXT);
  CHECK_EQ(srv_side.last_len, 12);
  CHECK_MEM(srv_side.last, "hello server", 12);
  CHECK_EQ(srv_side.errors, 0);

  /* a large client message goes through the chunk path (masked copy) */
  static uint8_t big[100000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 31);
  CHECK(wsk_send_binary(c, big, sizeof big) >= 0);
  wsk_loop_run(loop);
  CHECK_EQ(srv_side.last_opcode, WSK_OP_BINARY);
  CHECK_EQ(srv_side.last_len, sizeof big);
  CHECK_MEM(srv_side.last, big, sizeof srv_side.last);

  /* server -> client: unmasked; prepared message on the client role is masked per send */
  CHECK_EQ(wsk_send_binary(s, "\x01\x02", 2), WSK_SEND_OK);
  wsk_loop_run(loop);
  CHECK_EQ(cli_side.last_opcode, WSK_OP_BINARY);
  CHECK_EQ(cli_side.last_len, 2);
  wsk_prepared *p = wsk_prepared_new(WSK_OP_TEXT, "shared", 6);
  CHECK_EQ(wsk_send_prepared(c, p), WSK_SEND_OK);
  wsk_prepared_release(p);
  wsk_loop_run(loop);
  CHECK_MEM(srv_side.last, "shared", 6);

  /* ping from the client: the server answers by itself */
  CHECK_EQ(wsk_ping(c, "p", 1), WSK_SEND_OK);
  wsk_loop_run(loop);
  CHECK_EQ(srv_side.pings, 1);
  CHECK_EQ(cli_side.pongs, 1);
  CHECK_EQ(wsk_ping(c, big, 126), WSK_EINVAL);
  CHECK_EQ(wsk_send_text(c, "\xc3\x28", 2), WSK_EUTF8);

  /* a reason that cannot go in a close frame is refused and nothing is sent (the close below is
   * the one the server sees) */
  char long_reason[125];
  memset(long_reason, 'r', 124);
  long_reason[124] = '\0';
  CHECK_EQ(wsk_close(c, 4000, "\xc3\x28"), WSK_EUTF8);
  CHECK_EQ(wsk_close(c, 4000, long_reason), WSK_EINVAL);
  CHECK_EQ(wsk_close(s, 4000, "\xc3\x28"), WSK_EUTF8);

  CHECK_EQ(wsk_close(c, 4000, "bye"), 0);
  CHECK_EQ(wsk_close(c, 4000, "bye"), WSK_ECLOSED);
  CHECK_EQ(wsk_send_text(c, "late", 4), WSK_ECLOSED);
  run_a_bit();
  CHECK_EQ(srv_side.closes, 1);
  CHECK_EQ(cli_side.closes, 1);
  CHECK_EQ(srv_side.code, 4000);
  CHECK_EQ(cli_side.code, 4000);
  CHECK_STR(srv_side.reason, "bye");
  CHECK(srv_side.clean && cli_side.clean);
  CHECK_EQ(gs.n + gc.n, 0); /* both sockets closed after the handshake */
  wsk__group_destroy(&gs);
  wsk__group_destroy(&gc);
  wsk_loop_free(loop);
}

static void test_close_bytes_and_errors(void) {
  loop = wsk_loop_new();
  struct wsk__group gs;
  setup_group(&gs, 0);
  memset(&srv_side, 0, sizeof srv_side);
  int sv[2];
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  wsk_conn *s = join(&gs, sv[0], &srv_side);
  CHECK_EQ(wsk_close(s, 1005, NULL), WSK_EINVAL); /* never on the wire */
  CHECK_EQ(wsk_close(s, 1000, NULL), 0);
  CHECK_EQ(wsk_close(s, 1000, NULL), WSK_ECLOSED);
  uint8_t buf[64];
  CHECK_EQ(recv(sv[1], buf, sizeof buf, 0), 4);
  CHECK_MEM(buf, "\x88\x02\x03\xe8", 4);
  /* the peer answers with an unmasked (client-illegal) frame instead: protocol error path */
  CHECK_EQ(send(sv[1], "\x81\x01x", 3, 0), 3);
  run_a_bit();
  CHECK_EQ(srv_side.errors, 1);
  CHECK_EQ(srv_side.closes, 1);
  CHECK_EQ(srv_side.code, WSK_CLOSE_ABNORMAL);
  CHECK_EQ(srv_side.clean, 0);
  close(sv[1]);
  run_a_bit();
  CHECK_EQ(gs.n, 0);
  wsk__group_destroy(&gs);

  /* a dropped connection reports 1006 once, even when dropped again from on_close */
  setup_group(&gs, 0);
  memset(&srv_side, 0, sizeof srv_side);
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  s = join(&gs, sv[0], &srv_side);
  close(sv[1]);
  run_a_bit();
  CHECK_EQ(srv_side.closes, 1);
  CHECK_EQ(srv_side.code, WSK_CLOSE_ABNORMAL);
  CHECK_EQ(srv_side.errors, 0);
  wsk__group_destroy(&gs);
  wsk_loop_free(loop);
}

int main(void) {
  CHECK(sizeof(struct wsk_conn) <= 96); /* idle memory: the slab slot is most of it */
  test_both_roles();
  test_close_bytes_and_errors();
  return check_report();
}
