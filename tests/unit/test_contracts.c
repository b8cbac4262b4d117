/* test_contracts.c - the reentrancy table of docs/API.md ("Which callbacks can run inside which
 * calls"), held over real sockets: a server on a loop with raw TCP peers on loopback, every public
 * call made with a marker naming it, and every callback noting the marker it ran under.
 * - A walk over the application's own list of connections, sending to each (small messages and
 *   ones big enough to be written at once) while half the peers have reset their connections:
 *   no callback runs inside any send, every entry of the list stays usable during the walk, and
 *   afterwards each reset connection gets on_error and on_close once, from the loop.
 * - wsk_close, wsk_server_shutdown: nothing inside. wsk_terminate: that connection's on_close.
 *   wsk_server_free: on_close of every open connection. wsk_upgrade_accept: on_open.
 * - drop_on_limit: on_error inside the send that went over the limit, on_close later. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "raw_peer.h"
#include "wsk.h"

enum { N = 6, BIG = 100 * 1024 };

static wsk_loop *loop;
static const char *inside; /* the public call in progress, NULL between calls */

/* What ran: "callback@call" entries, one per line, "-" for the loop itself. */
static char ran[4096];

static void note(const char *cb, int idx) {
  size_t n = strlen(ran);
  snprintf(ran + n, sizeof ran - n, "%s%d@%s\n", cb, idx, inside ? inside : "-");
}

/* How many times callback cb ran inside the named call ("-": from the loop). */
static int ran_inside(const char *cb, const char *call) {
  int count = 0;
  for (const char *line = ran; *line;) {
    const char *at = strchr(line, '@'), *end = strchr(line, '\n');
    size_t cl = strlen(call);
    count += strncmp(line, cb, strlen(cb)) == 0 && (size_t)(end - at - 1) == cl &&
             memcmp(at + 1, call, cl) == 0;
    line = end + 1;
  }
  return count;
}

static struct {
  wsk_server *s;
  wsk_conn *list[N]; /* the application's list: entries are cleared in on_close */
  int peers[N];
  int opened;
  wsk_upgrade *deferred;
} app;

static int idx(wsk_conn *c) { return (int)(intptr_t)wsk_conn_user_data(c); }

static void on_open(wsk_conn *c) {
  wsk_conn_set_user_data(c, (void *)(intptr_t)app.opened);
  app.list[app.opened++] = c;
  note("open", idx(c));
}

static void on_error(wsk_conn *c, int err, const char *message) { note("error", idx(c)); }

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  note("close", idx(c));
  app.list[idx(c)] = NULL;
}

static int defer_upgrades;

static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  if (!defer_upgrades) return WSK_UPGRADE_ACCEPT;
  app.deferred = up;
  return WSK_UPGRADE_DEFER;
}

static void stop_cb(void *arg) { wsk_loop_stop(loop); }

/* Run the loop for about ms; fn(arg), if any, runs in its first iteration. */
static void run(int ms, void (*fn)(void *), void *arg) {
  wsk_timer *job = fn ? wsk_timer_start(loop, 0, 0, fn, arg) : NULL;
  wsk_timer *stop = wsk_timer_start(loop, (uint64_t)ms, 0, stop_cb, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(stop);
  if (job) wsk_timer_stop(job);
}

static void start(size_t hard_limit, int drop_on_limit) {
  memset(&app, 0, sizeof app);
  for (int i = 0; i < N; i++) app.peers[i] = -1;
  ran[0] = '\0';
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.host = "127.0.0.1";
  opt.cb.on_open = on_open;
  opt.cb.on_error = on_error;
  opt.cb.on_close = on_close;
  opt.on_upgrade = on_upgrade;
  opt.close_timeout_ms = 300;
  if (hard_limit) opt.send_hard_limit = hard_limit;
  opt.drop_on_limit = drop_on_limit;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &opt, &app.s, err, sizeof err), 0);
}

/* Peer i connects and upgrades (rcvbuf > 0: that small receive buffer); the loop runs until the
 * server opened it, or until it deferred the upgrade. */
static void connect_peer(int i, int rcvbuf) {
  app.peers[i] = raw_peer_upgrade(wsk_server_port(app.s), rcvbuf);
  for (int t = 0; t < 500 && app.opened == i && !app.deferred; t++) run(2, NULL, NULL);
}

/* The peer leaves with a reset (SO_LINGER 0), as a crashed client's kernel would. */
static void reset_peer(int i) {
  struct linger l = {1, 0};
  setsockopt(app.peers[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(app.peers[i]);
  app.peers[i] = -1;
}

static void finish(void) {
  if (app.s) wsk_server_free(app.s);
  for (int i = 0; i < N; i++)
    if (app.peers[i] >= 0) close(app.peers[i]);
  run(5, NULL, NULL); /* deferred frees */
}

static uint8_t big[BIG];
static int walk_sends, walk_usable;

/* The walk of the application's list, inside one loop iteration (a timer). The odd peers reset
 * their connections first, so the server has not seen it when the sends meet it. */
static void walk(void *arg) {
  for (int i = 1; i < N; i += 2) reset_peer(i);
  for (int round = 0; round < 4; round++)
    for (int i = 0; i < N; i++) {
      wsk_conn *c = app.list[i];
      if (!c) continue;
      walk_usable += wsk_conn_user_data(c) == (void *)(intptr_t)i; /* still this entry's */
      inside = "wsk_send";
      int r = round % 2 ? wsk_send_binary(c, big, sizeof big) : wsk_send_text(c, "hello", 5);
      inside = NULL;
      walk_sends++;
      if (i % 2 == 0) CHECK(r >= 0); /* a reset peer's send may fail: the walk goes on */
    }
}

static void test_walk_while_sends_fail(void) {
  start(0, 0);
  for (int i = 0; i < N; i++) connect_peer(i, 0);
  CHECK_EQ(app.opened, N);
  walk_sends = walk_usable = 0;
  run(1, walk, NULL);
  CHECK_EQ(walk_sends, 4 * N);
  CHECK_EQ(walk_usable, 4 * N);
  CHECK_EQ(ran_inside("close", "wsk_send"), 0);
  CHECK_EQ(ran_inside("error", "wsk_send"), 0);
  for (int t = 0; t < 200 && (app.list[1] || app.list[3] || app.list[5]); t++) run(2, NULL, NULL);
  for (int i = 0; i < N; i++) CHECK_EQ(app.list[i] == NULL, i % 2 == 1); /* on_close: resets only */
  CHECK_EQ(ran_inside("close", "-"), 3);
  finish();
}

static void close_first(void *arg) {
  inside = "wsk_close";
  CHECK_EQ(wsk_close(app.list[0], 1000, "bye"), 0);
  inside = "wsk_server_shutdown";
  wsk_server_shutdown(app.s, 1000, NULL, NULL);
  inside = NULL;
}

static void terminate_first(void *arg) {
  inside = "wsk_terminate";
  wsk_terminate(app.list[0]);
  inside = NULL;
}

static void free_server(void *arg) {
  inside = "wsk_server_free";
  wsk_server_free(app.s);
  inside = NULL;
  app.s = NULL;
}

static void test_close_calls(void) {
  start(0, 0);
  for (int i = 0; i < 2; i++) connect_peer(i, 0);
  run(1, close_first, NULL);
  CHECK_EQ(ran_inside("close", "wsk_close") + ran_inside("close", "wsk_server_shutdown"), 0);
  finish();

  start(0, 0);
  for (int i = 0; i < 2; i++) connect_peer(i, 0);
  run(1, terminate_first, NULL);
  CHECK(strstr(ran, "close0@wsk_terminate\n") != NULL);
  CHECK_EQ(ran_inside("close", "wsk_terminate"), 1);
  CHECK(app.list[1] != NULL);
  finish();

  start(0, 0);
  for (int i = 0; i < 3; i++) connect_peer(i, 0);
  run(1, free_server, NULL);
  CHECK_EQ(ran_inside("close", "wsk_server_free"), 3);
  finish();
}

static void accept_deferred(void *arg) {
  inside = "wsk_upgrade_accept";
  CHECK_EQ(wsk_upgrade_accept(app.deferred), 0);
  inside = NULL;
}

static void test_upgrade_accept(void) {
  start(0, 0);
  defer_upgrades = 1;
  connect_peer(0, 0);
  defer_upgrades = 0;
  CHECK(app.deferred != NULL);
  CHECK_EQ(app.opened, 0);
  run(1, accept_deferred, NULL);
  CHECK(strstr(ran, "open0@wsk_upgrade_accept\n") != NULL);
  finish();
}

static void flood(void *arg) {
  for (int k = 0; k < 64 && app.list[0]; k++) {
    inside = "wsk_send";
    int r = wsk_send_binary(app.list[0], big, sizeof big);
    inside = NULL;
    if (r == WSK_EBACKPRESSURE) break;
  }
}

static void test_drop_on_limit(void) {
  start(512 * 1024, 1);
  connect_peer(0, 4096); /* never reads */
  run(1, flood, NULL);
  CHECK_EQ(ran_inside("error", "wsk_send"), 1);
  CHECK_EQ(ran_inside("close", "wsk_send"), 0);
  for (int t = 0; t < 500 && app.list[0]; t++) run(2, NULL, NULL);
  CHECK(app.list[0] == NULL); /* closed with 1008, from the loop */
  CHECK_EQ(ran_inside("close", "-"), 1);
  finish();
}

int main(void) {
  loop = wsk_loop_new();
  CHECK(loop != NULL);
  test_walk_while_sends_fail();
  test_close_calls();
  test_upgrade_accept();
  test_drop_on_limit();
  wsk_loop_free(loop);
  return check_report();
}
