/* failmalloc_server.c - an echo server for the allocation-failure test (tests/failmalloc/run.js),
 * meaningful only in a failmalloc build (cmake -DWSK_FAILMALLOC=ON; elsewhere it says so and exits
 * 2). Commands on stdin, one per line, answered on stdout:
 *   arm N   -> "armed N"   the N-th allocation of the library from now on fails (0 = none)
 *   count   -> "count M"   allocations made since the last arm
 * The server echoes every message, selects the subprotocol "echo" when offered (and gives each
 * upgrade a heap block of user data, freed by on_close or on_upgrade_abort), answers plain HTTP
 * with 200 "hello" once it has read the query parameter "token" (500 when that ran out of
 * memory), and drops a connection that sends no request within 300 ms. Connection
 * events are printed too (open 1|0, close CODE, error -CODE). Prints "listening on
 * 127.0.0.1:PORT" on stderr; SIGTERM shuts down gracefully and exits 0. With --deflate the server
 * offers permessage-deflate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/alloc_internal.h"
#include "wsk.h"

#ifdef WSK_FAILMALLOC
static struct {
  wsk_loop *loop;
  wsk_server *server;
  wsk_watch *stdin_watch;
  char line[64];
  size_t line_len;
} F;

static void say(const char *text, unsigned long n) {
  printf("%s %lu\n", text, n);
  fflush(stdout);
}

static void command(const char *line) {
  if (strncmp(line, "arm ", 4) == 0) {
    unsigned long n = strtoul(line + 4, NULL, 10);
    say("armed", n); /* before arming: printing allocates nothing of the library, but keep it out */
    wsk__failmalloc_arm(n);
  } else if (strcmp(line, "count") == 0) {
    say("count", wsk__failmalloc_count());
  }
}

static void on_stdin(wsk_watch *w, int fd, unsigned events, void *arg) {
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    wsk_watch_stop(w);
    F.stdin_watch = NULL;
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] != '\n') {
      if (F.line_len + 1 < sizeof F.line) F.line[F.line_len++] = buf[i];
      continue;
    }
    F.line[F.line_len] = '\0';
    F.line_len = 0;
    command(F.line);
  }
}

static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  const char *token;
  size_t len;
  if (wsk_request_query(req, "token", &token, &len) == WSK_ENOMEM)
    return wsk_http_reply_send(reply, 500, "text/plain", NULL, "no memory\n", 10);
  return wsk_http_reply_send(reply, 200, "text/plain", NULL, "hello\n", 6);
}

static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  size_t i = 0;
  for (const char *p; (p = wsk_upgrade_offered_protocol(up, &i));)
    if (strcmp(p, "echo") == 0) wsk_upgrade_select_protocol(up, p);
  wsk_upgrade_set_user_data(up, malloc(16)); /* a leak if an allocation failure lost it */
  return WSK_UPGRADE_ACCEPT;
}

static void on_open(wsk_conn *c) {
  say("open", wsk_conn_remote(c)[0] != '?'); /* the address text is allocated: "?" when it failed */
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  wsk_send(c, opcode, data, len);
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  say("close", code);
  free(wsk_conn_user_data(c));
}

static void on_error(wsk_conn *c, int err, const char *message) {
  say("error", (unsigned long)-err);
}

static void on_done(wsk_server *s, void *arg) { wsk_loop_stop(F.loop); }

static void on_signal(wsk_loop *loop, int signo, void *arg) {
  wsk__failmalloc_arm(0);
  if (F.stdin_watch) wsk_watch_stop(F.stdin_watch);
  F.stdin_watch = NULL;
  wsk_server_shutdown(F.server, 2000, on_done, NULL);
}

int main(int argc, char **argv) {
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.deflate.enabled = argc > 1 && strcmp(argv[1], "--deflate") == 0;
  opt.host = "127.0.0.1";
  opt.handshake_timeout_ms = 300;
  opt.on_http = on_http;
  opt.on_upgrade = on_upgrade;
  opt.on_upgrade_abort = free;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_close = on_close;
  opt.cb.on_error = on_error;
  F.loop = wsk_loop_new();
  char err[256];
  if (!F.loop || wsk_server_new(F.loop, &opt, &F.server, err, sizeof err) != 0) {
    fprintf(stderr, "failmalloc_server: cannot start\n");
    return 1;
  }
  wsk_loop_on_signal(F.loop, on_signal, NULL);
  F.stdin_watch = wsk_loop_watch_fd(F.loop, 0, WSK_WATCH_IN, on_stdin, NULL);
  fprintf(stderr, "listening on 127.0.0.1:%d\n", wsk_server_port(F.server));
  wsk_loop_run(F.loop);
  wsk_server_free(F.server);
  wsk_loop_free(F.loop);
  return 0;
}
#else
int main(void) {
  fprintf(stderr, "failmalloc_server: not a failmalloc build (cmake -DWSK_FAILMALLOC=ON)\n");
  return 2;
}
#endif
