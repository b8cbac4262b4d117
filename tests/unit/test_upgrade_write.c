/* test_upgrade_write.c - a 101 response that cannot be written never opens the WebSocket: the
 * client resets the connection while the application decides (on_upgrade), so the server's write
 * of the 101 fails (ECONNRESET/EPIPE) and on_open must not be called. */
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "raw_peer.h"
#include "wsk.h"

static wsk_loop *loop;
static int client_fd = -1;
static int upgrades, opened, closed;

static void on_open(wsk_conn *c) { opened++; }
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  closed++;
}

/* The peer is gone by the time the answer is written: reset, not a FIN the write could outrun. */
static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  upgrades++;
  struct linger lg = {1, 0};
  setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(client_fd);
  client_fd = -1;
  return WSK_UPGRADE_ACCEPT;
}

static void stop(void *arg) { wsk_loop_stop(loop); }

int main(void) {
  loop = wsk_loop_new();
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.on_upgrade = on_upgrade;
  so.cb.on_open = on_open;
  so.cb.on_close = on_close;
  wsk_server *s;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), 0);

  client_fd = raw_peer_upgrade(wsk_server_port(s), 0);

  wsk_timer *t = wsk_timer_start(loop, 300, 0, stop, NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
  CHECK_EQ(upgrades, 1);
  CHECK_EQ(opened, 0);
  CHECK_EQ(closed, 0); /* never opened, so never closed either */
  CHECK_EQ(wsk_server_count(s), 0);
  wsk_server_free(s);
  wsk_loop_free(loop);
  return check_report();
}
