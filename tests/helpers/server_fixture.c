/* server_fixture.c - a wsk server whose options come from the command line and whose events are
 * printed on stdout, one per line, for tests/integration/server_api.test.js to drive:
 *   open <protocol> | message <opcode> <len> | pong | close <code> <clean> <reason>
 *   error <code> <text> | high <buffered> | refused <code> | drain <buffered> | defer-result <code>
 *   request <what the request accessors return> | abort (user data handed back) | route <name>
 * Options: --ping MS --idle MS --handshake MS --close-timeout MS --max-conn N
 *   --defer MS (accept after MS) --reject STATUS (reject in on_upgrade, or after --defer MS)
 *   --protocol P (select P when offered) --header NAME:VALUE --high-water N --hard-limit N --drop
 *   --flood BYTES (on open, send binary messages of BYTES until a send is not WSK_SEND_OK)
 *   --echo --broadcast-prepared (relay each message to all with wsk_prepared + foreach)
 *   --http (answer plain HTTP with "method|path|query|X-Test header|body|remote host")
 *   --tls-cert FILE --tls-key FILE (TLS on the port) --deflate (permessage-deflate, defaults)
 *   --inspect (print, and answer plain HTTP with, the query parameter "token", the cookie "sid",
 *   the raw target, every X-Multi line and the peer's port) --user-data (each upgrade gets a heap
 *   block, freed by on_close or on_upgrade_abort) --drain-low N (drain_low_water)
 *   --routes ("/exact", "/wild/" and '*', then "/exact" again: never reached; each route's
 *   on_http answers and its on_open prints "route <name>")
 * Prints "listening on 127.0.0.1:PORT" on stderr. Exits on SIGTERM after a graceful shutdown. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "wsk.h"

static struct {
  wsk_loop *loop;
  wsk_server *server;
  unsigned defer_ms;
  int reject;
  const char *protocol;
  const char *header;
  size_t flood;
  int echo, prepared, inspect, user_data;
} F;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

/* "request <path>|<target>|token=..|sid=..|multi=..|port=..": what the accessors return (a value,
 * or the return code when there is none). */
static int describe(const struct wsk_request *req, char *out, size_t cap) {
  const char *token, *sid;
  size_t tlen, slen;
  int tr = wsk_request_query(req, "token", &token, &tlen);
  int sr = wsk_request_cookie(req, "sid", &sid, &slen);
  char multi[256] = "";
  size_t iter = 0, used = 0;
  for (const char *v; (v = wsk_request_header_next(req, "X-Multi", &iter)) && used < sizeof multi;)
    used += (size_t)snprintf(multi + used, sizeof multi - used, "%s%s", used ? "," : "", v);
  struct sockaddr_storage ss;
  int port = wsk_request_remote_addr(req, &ss) == 0 && ss.ss_family == AF_INET
                 ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : -1;
  return snprintf(out, cap, "request %s|%s|token=%s%.*s|sid=%s%.*s|multi=%s|port=%d", req->path,
                  req->target, tr == 1 ? "" : tr == 0 ? "<none>" : "<error>",
                  tr == 1 ? (int)tlen : 0, tr == 1 ? token : "", sr == 1 ? "" : "<none>",
                  sr == 1 ? (int)slen : 0, sr == 1 ? sid : "", multi, port);
}

static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  char body[4096];
  if (F.inspect) {
    int n = describe(req, body, sizeof body);
    return wsk_http_reply_send(reply, 200, "text/plain", NULL, body, (size_t)n);
  }
  const char *x = wsk_request_header(req, "x-test");
  int n = snprintf(body, sizeof body, "%s|%s|%s|%s|%.*s|%.9s", req->method, req->path, req->query,
                   x ? x : "-", (int)req->body_len, req->body ? (const char *)req->body : "",
                   req->remote);
  return wsk_http_reply_send(reply, 200, "text/plain", "X-Fixture: 1\r\n", body, (size_t)n);
}

static void flood(wsk_conn *c) {
  static uint8_t block[1 << 16];
  size_t n = F.flood < sizeof block ? F.flood : sizeof block;
  for (;;) {
    int r = wsk_send_binary(c, block, n);
    if (r == WSK_SEND_OK) continue;
    if (r == WSK_SEND_QUEUED_HIGH)
      say("high %zu\n", wsk_buffered_amount(c));
    else
      say("refused %d\n", r);
    return;
  }
}

static void on_open(wsk_conn *c) {
  say("open %s\n", *wsk_conn_protocol(c) ? wsk_conn_protocol(c) : "-");
  if (F.flood) flood(c);
}

static void relay(wsk_conn *c, void *p) { wsk_send_prepared(c, p); }

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  say("message %d %zu\n", opcode, len);
  if (F.echo) wsk_send(c, opcode, data, len);
  if (F.prepared) {
    wsk_prepared *p = wsk_prepared_new(opcode, data, len);
    wsk_server_foreach(wsk_conn_server(c), relay, p);
    wsk_prepared_release(p);
  }
}

static void on_pong(wsk_conn *c, const void *data, size_t len) { say("pong\n"); }

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  say("close %u %d %.*s\n", code, clean, (int)reason_len, reason ? reason : "");
  free(wsk_conn_user_data(c)); /* --user-data: the connection owned it */
}

static void on_upgrade_abort(void *user_data) {
  say("abort\n");
  free(user_data);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  say("error %d %s\n", err, message);
}

/* The library prints nothing: the application logs what it reports. */
static void on_server_error(wsk_server *s, int err, const char *message) {
  fprintf(stderr, "server_fixture: server error %d: %s\n", err, message);
}

static void on_drain(wsk_conn *c) {
  say("drain %zu\n", wsk_buffered_amount(c));
  wsk_close(c, 1000, "drained");
}

struct deferred {
  wsk_upgrade *up;
  wsk_timer *timer;
};

static void decide(void *arg) {
  struct deferred *d = arg;
  int r = F.reject ? wsk_upgrade_reject(d->up, F.reject, "not you") : wsk_upgrade_accept(d->up);
  say("defer-result %d\n", r);
  wsk_timer_stop(d->timer);
  free(d);
}

static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  if (F.inspect) {
    char line[4096];
    describe(req, line, sizeof line);
    say("%s\n", line);
  }
  if (F.user_data) wsk_upgrade_set_user_data(up, malloc(100));
  size_t i = 0;
  for (const char *p; F.protocol && (p = wsk_upgrade_offered_protocol(up, &i));)
    if (strcmp(p, F.protocol) == 0) wsk_upgrade_select_protocol(up, p);
  if (F.header) {
    char name[128];
    const char *colon = strchr(F.header, ':');
    snprintf(name, sizeof name, "%.*s", (int)(colon - F.header), F.header);
    wsk_upgrade_add_header(up, name, colon + 1);
  }
  if (!F.defer_ms) return F.reject ? F.reject : WSK_UPGRADE_ACCEPT;
  struct deferred *d = malloc(sizeof *d);
  d->up = up;
  d->timer = wsk_timer_start(F.loop, F.defer_ms, 0, decide, d);
  return WSK_UPGRADE_DEFER;
}

/* --routes: each route names itself in its answers and its connections. */
static int route_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  const char *name = req->route->user_data;
  return wsk_http_reply_send(reply, 200, "text/plain", NULL, name, strlen(name));
}

static void route_open(wsk_conn *c) {
  say("route %s\n", (const char *)wsk_conn_route(c)->user_data);
  wsk_close(c, 1000, NULL);
}

static const struct wsk_route routes[] = {
    {.pattern = "/exact", .on_http = route_http, .cb.on_open = route_open, .user_data = "exact"},
    {.pattern = "/wild/*", .on_http = route_http, .cb.on_open = route_open, .user_data = "wild"},
    {.pattern = "/exact", .on_http = route_http, .cb.on_open = route_open, .user_data = "second"},
};

static void on_done(wsk_server *s, void *arg) { wsk_loop_stop(F.loop); }

static void on_signal(wsk_loop *loop, int signo, void *arg) {
  wsk_server_shutdown(F.server, 2000, on_done, NULL);
}

int main(int argc, char **argv) {
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.host = "127.0.0.1";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
    if (!strcmp(a, "--ping")) opt.ping_interval_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--idle")) opt.idle_timeout_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--handshake")) opt.handshake_timeout_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--close-timeout")) opt.close_timeout_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--max-conn")) opt.max_connections = (size_t)atoi(v), i++;
    else if (!strcmp(a, "--defer")) F.defer_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--reject")) F.reject = atoi(v), i++;
    else if (!strcmp(a, "--protocol")) F.protocol = v, i++;
    else if (!strcmp(a, "--header")) F.header = v, i++;
    else if (!strcmp(a, "--high-water")) opt.send_high_water = (size_t)atol(v), i++;
    else if (!strcmp(a, "--hard-limit")) opt.send_hard_limit = (size_t)atol(v), i++;
    else if (!strcmp(a, "--drop")) opt.drop_on_limit = 1;
    else if (!strcmp(a, "--flood")) F.flood = (size_t)atol(v), i++;
    else if (!strcmp(a, "--echo")) F.echo = 1;
    else if (!strcmp(a, "--broadcast-prepared")) F.prepared = 1;
    else if (!strcmp(a, "--http")) opt.on_http = on_http;
    else if (!strcmp(a, "--tls-cert")) opt.tls_cert = v, i++;
    else if (!strcmp(a, "--tls-key")) opt.tls_key = v, i++;
    else if (!strcmp(a, "--deflate")) opt.deflate.enabled = 1;
    else if (!strcmp(a, "--inspect")) F.inspect = 1, opt.on_http = on_http;
    else if (!strcmp(a, "--user-data")) F.user_data = 1;
    else if (!strcmp(a, "--drain-low")) opt.drain_low_water = (size_t)atol(v), i++;
    else if (!strcmp(a, "--routes")) opt.routes = routes, opt.num_routes = 3;
    else {
      fprintf(stderr, "server_fixture: unknown option %s\n", a);
      return 2;
    }
  }
  opt.on_upgrade = on_upgrade;
  opt.on_upgrade_abort = on_upgrade_abort;
  opt.on_server_error = on_server_error;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_pong = on_pong;
  opt.cb.on_close = on_close;
  opt.cb.on_error = on_error;
  opt.cb.on_drain = on_drain;
  F.loop = wsk_loop_new();
  char err[256];
  if (wsk_server_new(F.loop, &opt, &F.server, err, sizeof err) != 0) {
    fprintf(stderr, "server_fixture: %s\n", err);
    return 1;
  }
  wsk_loop_on_signal(F.loop, on_signal, NULL);
  fprintf(stderr, "listening on 127.0.0.1:%d\n", wsk_server_port(F.server));
  wsk_loop_run(F.loop);
  wsk_server_free(F.server);
  wsk_loop_free(F.loop);
  return 0;
}
