/* ws_client.c - a WebSocket client that stays connected: it says hello on every (re)connection,
 * prints what arrives, and when the server goes away it reconnects with exponential backoff,
 * keeping the messages sent meanwhile; it gives up on a refusal that another attempt would get too
 * (a 401, a certificate that does not verify). Ctrl-C closes cleanly.
 *
 *   ./ws_client [ws://localhost:8000/]          (try it against `wsk serve --echo`)
 */
#include <stdio.h>
#include <string.h>

#include <wsk.h>

static void on_open(wsk_conn *c) {
  printf("connected (%s)\n", wsk_conn_remote(c));
  wsk_send_text(c, "Hello from wsk!", 15);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  if (opcode == WSK_OP_TEXT)
    printf("< %.*s\n", (int)len, (const char *)data);
  else
    printf("< %zu bytes of binary\n", len);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  fprintf(stderr, "error: %s\n", message);
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  wsk_client *cl = wsk_conn_client(c);
  printf("closed (%u %.*s)\n", code, (int)len, reason);
  if (wsk_client_reconnecting(cl)) return;
  /* The end: Ctrl-C, or an error another attempt would meet again (a 401, a bad certificate). */
  const struct wsk_client_error *e = wsk_client_error(cl);
  if (e && e->stop && e->http_status)
    fprintf(stderr, "not reconnecting: the server refused with status %d\n", e->http_status);
  else if (e && e->stop)
    fprintf(stderr, "not reconnecting: %s\n", e->message);
  wsk_loop_stop(wsk_client_user_data(cl));
}

static void on_reconnect(wsk_client *cl, unsigned attempt, unsigned delay_ms) {
  printf("reconnecting in %u ms (attempt %u)\n", delay_ms, attempt);
}

static void on_signal(wsk_loop *loop, int signo, void *arg) {
  wsk_client *cl = *(wsk_client **)arg;
  if (!wsk_client_conn(cl) || wsk_client_close(cl, WSK_CLOSE_NORMAL, "bye") != 0)
    wsk_loop_stop(loop); /* not connected, or a second Ctrl-C */
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "ws://localhost:8000/";
  wsk_loop *loop = wsk_loop_new();
  struct wsk_client_options opt;
  wsk_client_options_init(&opt);
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_error = on_error;
  opt.cb.on_close = on_close;
  opt.reconnect = 1;                 /* 0.5 s, 1 s, 2 s, ... up to 30 s, with jitter */
  opt.queue_limit = 1024 * 1024;     /* wsk_client_send while disconnected: kept, sent on open */
  opt.on_reconnect = on_reconnect;
  opt.user_data = loop;
  wsk_client *cl;
  char err[256];
  if (wsk_connect(loop, url, &opt, &cl, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  wsk_loop_on_signal(loop, on_signal, &cl);
  wsk_loop_run(loop);
  wsk_client_free(cl);
  wsk_loop_free(loop);
  return 0;
}
