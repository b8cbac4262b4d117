/* just_ws_server.c - the seed's justWsServer.js in C: one port serves plain HTTP ("I am
 * connected!") and WebSockets; every WebSocket client is welcomed, and every message it sends is
 * printed. Usage: just_ws_server [PORT]   (default 8000). Ctrl-C shuts down gracefully. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk.h"

/* http.createServer((req, res) => res.end('I am connected!')) */
static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  const char *body = "I am connected!";
  return wsk_http_reply_send(reply, 200, "text/plain", NULL, body, strlen(body));
}

/* wss.on('connection', ws => ws.send('Welcome to the websocket server!!!')) */
static void on_open(wsk_conn *c) {
  const char *welcome = "Welcome to the websocket server!!!";
  wsk_send_text(c, welcome, strlen(welcome));
}

/* ws.on('message', data => console.log(data.toString())) */
static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  printf("%.*s\n", (int)len, (const char *)data);
  fflush(stdout);
}

static void on_shutdown_done(wsk_server *s, void *loop) { wsk_loop_stop(loop); }

static void on_signal(wsk_loop *loop, int signo, void *server) {
  wsk_server_shutdown(server, 2000, on_shutdown_done, loop); /* close 1001 to every client */
}

int main(int argc, char **argv) {
  wsk_loop *loop = wsk_loop_new();
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.port = argc > 1 ? atoi(argv[1]) : 8000; /* server.listen(8000) */
  opt.on_http = on_http;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;

  wsk_server *server;
  char err[256];
  if (!loop || wsk_server_new(loop, &opt, &server, err, sizeof err) != 0) {
    fprintf(stderr, "just_ws_server: %s\n", loop ? err : "cannot create the event loop");
    return 1;
  }
  wsk_loop_on_signal(loop, on_signal, server);
  fprintf(stderr, "listening on http://localhost:%d and ws://localhost:%d\n",
          wsk_server_port(server), wsk_server_port(server));
  wsk_loop_run(loop);
  wsk_server_free(server);
  wsk_loop_free(loop);
  return 0;
}
