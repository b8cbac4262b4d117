/* test_timeouts.c - timeouts of any size. A connection keeps its deadline in 32 bits, so the
 * connection timeouts over WSK_TIMEOUT_MAX_MS are refused with WSK_EINVAL and a sentence naming the
 * option (3e9 ms used to wrap and fire at the first sweep, about a second later); the largest
 * accepted values leave an open connection alone; timers of any 64-bit delay never fire early. */
#include <stdlib.h>

#include "check.h"
#include "wsk.h"

static wsk_loop *loop;
static int opened, closed, errors, fired;

static void on_open(wsk_conn *c) { opened++; }
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  closed++;
}
static void on_error(wsk_conn *c, int err, const char *msg) {
  fprintf(stderr, "on_error %d %s\n", err, msg);
  errors++;
}
static void on_fire(void *arg) { fired++; }
static void stop(void *arg) { wsk_loop_stop(loop); }

static void run_ms(uint64_t ms) {
  wsk_timer *t = wsk_timer_start(loop, ms, 0, stop, NULL);
  CHECK(t != NULL);
  wsk_loop_run(loop);
  wsk_timer_stop(t);
}

static void server_options(struct wsk_server_options *so, unsigned ms) {
  wsk_server_options_init(so);
  so->host = "127.0.0.1";
  so->handshake_timeout_ms = so->idle_timeout_ms = so->close_timeout_ms = ms;
  so->ping_interval_ms = 3000000000u; /* a timer: any value */
  so->cb.on_open = on_open;
  so->cb.on_close = on_close;
  so->cb.on_error = on_error;
}

static void test_refused(void) {
  static const char *const names[] = {"handshake_timeout_ms", "idle_timeout_ms",
                                      "close_timeout_ms"};
  char err[256];
  for (int i = 0; i < 3; i++) {
    struct wsk_server_options so;
    server_options(&so, 1000);
    unsigned *field[] = {&so.handshake_timeout_ms, &so.idle_timeout_ms, &so.close_timeout_ms};
    *field[i] = 3000000000u;
    wsk_server *s = (wsk_server *)1;
    CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), WSK_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(err, names[i]) && strstr(err, "3000000000") && strstr(err, "WSK_TIMEOUT_MAX_MS"));
  }
  const char *cnames[] = {"connect_timeout_ms", "handshake_timeout_ms", "close_timeout_ms"};
  for (int i = 0; i < 3; i++) {
    struct wsk_client_options co;
    wsk_client_options_init(&co);
    unsigned *field[] = {&co.connect_timeout_ms, &co.handshake_timeout_ms, &co.close_timeout_ms};
    *field[i] = WSK_TIMEOUT_MAX_MS + 1u;
    wsk_client *cl = (wsk_client *)1;
    CHECK_EQ(wsk_connect(loop, "ws://127.0.0.1:1/", &co, &cl, err, sizeof err), WSK_EINVAL);
    CHECK(cl == NULL);
    CHECK(strstr(err, cnames[i]) != NULL);
  }
}

/* Every connection timeout at the maximum on both sides: the connection opens and stays open
 * past the first deadline sweeps (at most a second apart). */
static void test_largest_accepted(void) {
  struct wsk_server_options so;
  server_options(&so, WSK_TIMEOUT_MAX_MS);
  wsk_server *s;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), 0);
  struct wsk_client_options co;
  wsk_client_options_init(&co);
  co.connect_timeout_ms = co.handshake_timeout_ms = co.close_timeout_ms = WSK_TIMEOUT_MAX_MS;
  co.cb.on_open = on_open;
  co.cb.on_close = on_close;
  co.cb.on_error = on_error;
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", wsk_server_port(s));
  wsk_client *cl;
  CHECK_EQ(wsk_connect(loop, url, &co, &cl, err, sizeof err), 0);
  run_ms(2500);
  CHECK_EQ(opened, 2);
  CHECK_EQ(closed, 0);
  CHECK_EQ(errors, 0);
  CHECK_EQ(wsk_server_count(s), 1);
  CHECK_EQ(wsk_client_close(cl, 1000, "bye"), 0);
  for (int i = 0; i < 100 && closed < 2; i++) run_ms(10);
  CHECK_EQ(closed, 2);
  wsk_client_free(cl);
  wsk_server_free(s);
}

static void test_timers(void) {
  wsk_timer *never = wsk_timer_start(loop, UINT64_MAX, UINT64_MAX, on_fire, NULL);
  wsk_timer *later = wsk_timer_start(loop, 3000000000u, 1, on_fire, NULL);
  CHECK(never && later);
  run_ms(50);
  CHECK_EQ(fired, 0);
  wsk_timer_stop(never);
  wsk_timer_stop(later);
}

int main(void) {
  loop = wsk_loop_new();
  CHECK(loop != NULL);
  test_refused();
  test_timers();
  test_largest_accepted();
  wsk_loop_free(loop);
  return check_report();
}
