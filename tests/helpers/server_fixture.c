/* server_fixture.c - a wsk server whose options come from the command line and whose events are
 * printed on stdout, one per line, for tests/integration/server_api.test.js to drive:
 *   open <protocol> | message <opcode> <len> | pong | close <code> <clean> <reason>
 *   error <code> <text> | high <buffered> | refused <code> | drain | defer-result <code>
 * Options: --ping MS --idle MS --handshake MS --close-timeout MS --max-conn N
 *   --defer MS (accept after MS) --reject STATUS (with --defer: reject instead)
 *   --protocol P (select P when offered) --header NAME:VALUE --high-water N --hard-limit N --drop
 *   --flood BYTES (on open, send binary messages of BYTES until a send is not WSK_SEND_OK)
 *   --echo --broadcast-prepared (relay each message to all with wsk_prepared + foreach)
 *   --http (answer plain HTTP with "method|path|query|X-Test header|body|remote host")
 *   --tls-cert FILE --tls-key FILE (TLS on the port) --deflate (permessage-deflate, defaults)
 * Prints "listening on 127.0.0.1:PORT" on stderr. Exits on SIGTERM after a graceful shutdown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsk.h"

static struct {
  wsk_loop *loop;
  wsk_server *server;
  unsigned defer_ms;
  int reject;
  const char *protocol;
  const char *header;
  size_t flood;
  int echo, prepared;
} F;

static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  char body[4096];
  const char *x = wsk_request_header(req, "x-test");
  int n = snprintf(body, sizeof body, "%s|%s|%s|%s|%.*s|%.9s", req->method, req->path, req->query,
                   x ? x : "-", (int)req->body_len, req->body ? (const char *)req->body : "",
                   req->remote);
  return wsk_http_reply_send(reply, 200, "text/plain", "X-Fixture: 1\r\n", body, (size_t)n);
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
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
}

static void on_error(wsk_conn *c, int err, const char *message) {
  say("error %d %s\n", err, message);
}

/* The library prints nothing: the application logs what it reports. */
static void on_server_error(wsk_server *s, int err, const char *message) {
  fprintf(stderr, "server_fixture: server error %d: %s\n", err, message);
}

static void on_drain(wsk_conn *c) {
  say("drain\n");
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
  size_t i = 0;
  for (const char *p; F.protocol && (p = wsk_upgrade_offered_protocol(up, &i));)
    if (strcmp(p, F.protocol) == 0) wsk_upgrade_select_protocol(up, p);
  if (F.header) {
    char name[128];
    const char *colon = strchr(F.header, ':');
    snprintf(name, sizeof name, "%.*s", (int)(colon - F.header), F.header);
    wsk_upgrade_add_header(up, name, colon + 1);
  }
  if (!F.defer_ms) return WSK_UPGRADE_ACCEPT;
  struct deferred *d = malloc(sizeof *d);
  d->up = up;
  d->timer = wsk_timer_start(F.loop, F.defer_ms, 0, decide, d);
  return WSK_UPGRADE_DEFER;
}

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
    else {
      fprintf(stderr, "server_fixture: unknown option %s\n", a);
      return 2;
    }
  }
  opt.on_upgrade = on_upgrade;
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
