/* test_upgrade_abort.c - an upgrade that never opens: no on_open (a 101 that cannot be written
 * does not open the WebSocket), and its user data goes back to the application through
 * on_upgrade_abort, exactly once, in every way an upgrade can end without a WebSocket: rejected
 * by on_upgrade (with headers) or later, the client gone during a deferred upgrade, a 101 that
 * cannot be written, a deferred accept during shutdown, the server freed first. An opened
 * connection keeps it (on_close). Every user data is a heap block freed by
 * whoever gets it, so a leak or a double hand-back shows under ASan and valgrind. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "raw_peer.h"
#include "server/server_internal.h"
#include "wsk.h"

enum mode { ACCEPT, REJECT, DEFER, RESET };

static wsk_loop *loop;
static enum mode mode;
static int peer = -1;
static wsk_upgrade *held;
static int aborts, opened, closed;

static void on_abort(void *user_data) {
  aborts++;
  free(user_data);
}

static void on_open(wsk_conn *c) { opened++; }
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  closed++;
  free(wsk_conn_user_data(c));
}

static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  wsk_upgrade_set_user_data(up, malloc(64));
  switch (mode) {
  case REJECT:
    CHECK_EQ(wsk_upgrade_add_header(up, "WWW-Authenticate", "Bearer realm=\"wsk\""), 0);
    return 401;
  case DEFER:
    held = up;
    return WSK_UPGRADE_DEFER;
  case RESET: { /* the peer is gone by the time the 101 is written: reset, not a FIN the write
                   could outrun; the write fails (ECONNRESET/EPIPE) */
    struct linger lg = {1, 0};
    setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(peer);
    peer = -1;
    return WSK_UPGRADE_ACCEPT;
  }
  default:
    return WSK_UPGRADE_ACCEPT;
  }
}

static void stop(void *arg) { wsk_loop_stop(loop); }

static void spin(unsigned ms) {
  wsk_loop_update_time(loop);
  wsk_timer *t = wsk_timer_start(loop, ms, 0, stop, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
}

/* Run the loop until done() holds (at most 5 s: a busy machine may be slow). */
static void spin_until(int (*done)(wsk_server *s), wsk_server *s) {
  for (int i = 0; i < 250 && !done(s); i++) spin(20);
}

static int upgrade_seen(wsk_server *s) { return aborts || opened || held; }
static int no_connection(wsk_server *s) { return s->group.n == 0; }
static int answered(wsk_server *s) {
  struct pollfd p = {.fd = peer, .events = POLLIN};
  return poll(&p, 1, 0) == 1;
}

static wsk_server *server(enum mode m) {
  mode = m;
  aborts = opened = closed = 0;
  held = NULL;
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.on_upgrade = on_upgrade;
  so.on_upgrade_abort = on_abort;
  so.cb.on_open = on_open;
  so.cb.on_close = on_close;
  wsk_server *s;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), 0);
  peer = raw_peer_upgrade(wsk_server_port(s), 0);
  spin_until(upgrade_seen, s);
  return s;
}

/* The peer gets an answer that starts with `status` and has the header line `line` (or NULL). */
static void check_answer(wsk_server *s, const char *status, const char *line) {
  spin_until(answered, s);
  char buf[2048];
  ssize_t n = recv(peer, buf, sizeof buf - 1, MSG_DONTWAIT);
  buf[n > 0 ? n : 0] = '\0';
  CHECK(strncmp(buf, status, strlen(status)) == 0);
  if (line) CHECK(strstr(buf, line) != NULL);
}

static void done(wsk_server *s) {
  if (peer >= 0) close(peer);
  peer = -1;
  spin(50);
  wsk_server_free(s);
}

static void test_accepted_keeps_it(void) {
  wsk_server *s = server(ACCEPT);
  CHECK_EQ(opened, 1);
  close(peer);
  peer = -1;
  spin_until(no_connection, s);
  CHECK_EQ(closed, 1); /* on_close freed it */
  CHECK_EQ(aborts, 0);
  done(s);
}

static void test_rejected_now(void) {
  wsk_server *s = server(REJECT);
  CHECK_EQ(aborts, 1);
  check_answer(s, "HTTP/1.1 401 ", "\r\nWWW-Authenticate: Bearer realm=\"wsk\"\r\n");
  done(s);
  CHECK_EQ(aborts, 1);
}

static void test_rejected_later(void) {
  wsk_server *s = server(DEFER);
  CHECK(held != NULL);
  CHECK_EQ(aborts, 0); /* the application still holds the upgrade */
  CHECK_EQ(wsk_upgrade_add_header(held, "Retry-After", "5"), 0);
  CHECK_EQ(wsk_upgrade_reject(held, 503, "busy"), 0);
  CHECK_EQ(aborts, 1);
  check_answer(s, "HTTP/1.1 503 ", "\r\nRetry-After: 5\r\n");
  done(s);
}

static void test_client_left(void) {
  wsk_server *s = server(DEFER);
  close(peer);
  peer = -1;
  spin_until(no_connection, s); /* the server sees the end */
  CHECK_EQ(aborts, 0);
  CHECK_EQ(wsk_upgrade_accept(held), WSK_ECLOSED);
  CHECK_EQ(aborts, 1);
  CHECK_EQ(opened, 0);
  done(s);
}

/* The WebSocket never opens: no on_open, so no on_close either. */
static void test_101_not_written(void) {
  wsk_server *s = server(RESET);
  CHECK_EQ(opened, 0);
  CHECK_EQ(aborts, 1);
  spin(50);
  CHECK_EQ(wsk_server_count(s), 0);
  done(s);
  CHECK_EQ(closed, 0);
}

static void test_shutdown(void) {
  wsk_server *s = server(DEFER);
  wsk_server_shutdown(s, 1000, NULL, NULL);
  CHECK_EQ(wsk_upgrade_accept(held), WSK_ECLOSED);
  CHECK_EQ(aborts, 1);
  check_answer(s, "HTTP/1.1 503 ", NULL);
  done(s);
}

static void test_server_freed_first(void) {
  wsk_server *s = server(DEFER);
  wsk_server_free(s);
  CHECK_EQ(aborts, 0);
  CHECK_EQ(wsk_upgrade_reject(held, 403, NULL), WSK_ECLOSED);
  CHECK_EQ(aborts, 1);
  close(peer);
  peer = -1;
}

int main(void) {
  loop = wsk_loop_new();
  test_accepted_keeps_it();
  test_rejected_now();
  test_rejected_later();
  test_client_left();
  test_101_not_written();
  test_shutdown();
  test_server_freed_first();
  wsk_loop_free(loop);
  return check_report();
}
