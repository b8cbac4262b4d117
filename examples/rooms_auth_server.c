/* rooms_auth_server.c - chat rooms behind a sign-in, on the request and routing API. Clients open
 * ws://HOST:PORT/room/NAME?name=ALICE&token=TOKEN (or send the token in a "token" cookie); a
 * missing or wrong token gets 401 with WWW-Authenticate, a missing name 400, and any other path
 * 404. A member's messages reach the others in the room as "ALICE: text".
 * Usage: rooms_auth_server [PORT [TOKEN]] (the token defaults to "open-sesame"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk.h"

static const char *secret = "open-sesame";

struct member { /* the connection's user data: its room, and its name as a message prefix */
  const char *room;
  size_t prefix_len;
  char text[]; /* "ALICE: " then the room name */
};

static int sign_in(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  const char *token, *name;
  size_t token_len, name_len;
  if (wsk_request_query(req, "token", &token, &token_len) != 1 &&
      wsk_request_cookie(req, "token", &token, &token_len) != 1)
    token = "";
  if (strcmp(token, secret) != 0) {
    wsk_upgrade_add_header(up, "WWW-Authenticate", "Bearer realm=\"rooms\"");
    return 401;
  }
  const char *room = req->path + strlen("/room/");
  if (wsk_request_query(req, "name", &name, &name_len) != 1 || !name_len || name_len > 32 ||
      !wsk_utf8_valid((const uint8_t *)name, name_len) || !*room)
    return 400;
  size_t room_len = strlen(room);
  struct member *m = malloc(sizeof *m + name_len + 3 + room_len + 1);
  if (!m) return 503;
  m->prefix_len = (size_t)sprintf(m->text, "%s: ", name);
  m->room = memcpy(m->text + m->prefix_len + 1, room, room_len + 1);
  wsk_upgrade_set_user_data(up, m); /* on_close frees it, or on_upgrade_abort if it never opens */
  return WSK_UPGRADE_ACCEPT;
}

static void join(wsk_conn *c) {
  struct member *m = wsk_conn_user_data(c);
  wsk_subscribe(c, m->room, strlen(m->room));
}

static void say(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct member *m = wsk_conn_user_data(c);
  char *line = opcode == WSK_OP_TEXT ? malloc(m->prefix_len + len) : NULL;
  if (!line) return;
  memcpy(line, m->text, m->prefix_len);
  memcpy(line + m->prefix_len, data, len);
  wsk_conn_publish(c, m->room, strlen(m->room), WSK_OP_TEXT, line, m->prefix_len + len,
                   WSK_PUBLISH_EXCLUDE_SELF);
  free(line);
}

static void leave(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  free(wsk_conn_user_data(c)); /* its rooms it leaves by itself */
}

static int elsewhere(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) { return 404; }

static const struct wsk_route routes[] = {
    {.pattern = "/room/*", .on_upgrade = sign_in, .on_upgrade_abort = free,
     .cb = {.on_open = join, .on_message = say, .on_close = leave}},
};

static void on_shutdown_done(wsk_server *s, void *loop) { wsk_loop_stop(loop); }

static void on_signal(wsk_loop *loop, int signo, void *server) {
  wsk_server_shutdown(server, 2000, on_shutdown_done, loop); /* close 1001 to every client */
}

int main(int argc, char **argv) {
  wsk_loop *loop = wsk_loop_new();
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.port = argc > 1 ? atoi(argv[1]) : 8000;
  if (argc > 2) secret = argv[2];
  opt.routes = routes;
  opt.num_routes = sizeof routes / sizeof routes[0];
  opt.on_upgrade = elsewhere; /* upgrades no route takes */
  wsk_server *server;
  char err[256];
  if (!loop || wsk_server_new(loop, &opt, &server, err, sizeof err) != 0) {
    fprintf(stderr, "rooms_auth_server: %s\n", loop ? err : "cannot create the event loop");
    return 1;
  }
  wsk_loop_on_signal(loop, on_signal, server);
  fprintf(stderr, "listening on ws://localhost:%d\n", wsk_server_port(server));
  wsk_loop_run(loop);
  wsk_server_free(server);
  wsk_loop_free(loop);
  return 0;
}
