/* rooms_server.c - chat rooms over topics: "/join NAME" enters a room, "/leave NAME" leaves it, and
 * anything else goes to everyone else in the rooms you are in. Usage: rooms_server [PORT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk.h"

struct said { wsk_conn *from; const void *text; size_t len; };

static int say_in(const void *room, size_t room_len, void *arg) {
  struct said *s = arg;
  wsk_conn_publish(s->from, room, room_len, WSK_OP_TEXT, s->text, s->len,
                   WSK_PUBLISH_EXCLUDE_SELF);
  return 0; /* next room */
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  const char *text = data;
  if (opcode != WSK_OP_TEXT) return;
  if (len > 6 && memcmp(text, "/join ", 6) == 0)
    wsk_subscribe(c, text + 6, len - 6);
  else if (len > 7 && memcmp(text, "/leave ", 7) == 0)
    wsk_unsubscribe(c, text + 7, len - 7);
  else
    wsk_conn_topics(c, say_in, &(struct said){c, data, len}); /* every room c is in */
}

static void on_shutdown_done(wsk_server *s, void *loop) { wsk_loop_stop(loop); }

static void on_signal(wsk_loop *loop, int signo, void *server) {
  wsk_server_shutdown(server, 2000, on_shutdown_done, loop); /* close 1001 to every client */
}

int main(int argc, char **argv) {
  wsk_loop *loop = wsk_loop_new();
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.port = argc > 1 ? atoi(argv[1]) : 8000;
  opt.cb.on_message = on_message;
  wsk_server *server;
  char err[256];
  if (!loop || wsk_server_new(loop, &opt, &server, err, sizeof err) != 0) {
    fprintf(stderr, "rooms_server: %s\n", loop ? err : "cannot create the event loop");
    return 1;
  }
  wsk_loop_on_signal(loop, on_signal, server);
  fprintf(stderr, "listening on ws://localhost:%d\n", wsk_server_port(server));
  wsk_loop_run(loop);
  wsk_server_free(server);
  wsk_loop_free(loop);
  return 0;
}
