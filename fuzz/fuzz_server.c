/* fuzz_server.c - the server's whole input path on a real connection (a socketpair handed to the
 * server as if accepted): HTTP heads and bodies, keep-alive, the upgrade, then WebSocket frames
 * (reassembly across reads, control frames, the closing handshake, protocol errors,
 * permessage-deflate), with the answers and echoes going out through the write path.
 *
 * Input: byte 0 is the mode. Bit 0 set: a valid upgrade request (offering permessage-deflate when
 * bit 1 is set, which the server accepts) goes first and the input is WebSocket frames; clear:
 * the input is the raw byte stream (HTTP first). Byte 1 seeds the sizes of the pieces the rest is
 * written in; the loop runs between pieces, so every split of heads and frames is reached. Then
 * the peer hangs up, and the connection must be gone within a few loop iterations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_internal.h"
#include "wsk.h"

static wsk_loop *loop;
static wsk_server *server;

static const char upgrade[] = "GET /chat HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n";
static const char deflate_offer[] = "Sec-WebSocket-Extensions: permessage-deflate; "
                                    "client_max_window_bits\r\n";

static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  return wsk_http_reply_send(reply, 200, "text/plain", NULL, req->body, req->body_len);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  wsk_send(c, opcode, data, len);
}

static void on_ping(wsk_conn *c, const void *data, size_t len) { wsk_ping(c, data, len); }

static void stop(void *arg) {
  wsk_timer_stop(*(wsk_timer **)arg);
  wsk_loop_stop(loop);
}

/* One loop iteration: what is ready now, then the timers. */
static void turn(void) {
  wsk_timer *t = NULL;
  t = wsk_timer_start(loop, 0, 0, stop, &t);
  if (!t) abort();
  wsk_loop_run(loop);
}

static void drain(int fd) {
  char sink[65536];
  while (read(fd, sink, sizeof sink) > 0) {
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.host = "127.0.0.1";
  opt.max_message = 1 << 20;
  opt.max_http_body = 1 << 16;
  opt.deflate.enabled = 1;
  opt.on_http = on_http;
  opt.cb.on_message = on_message;
  opt.cb.on_ping = on_ping;
  loop = wsk_loop_new();
  if (!loop || wsk_server_new(loop, &opt, &server, NULL, 0) != 0) abort();
  return 0;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the server may have closed its end */
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else {
      turn(); /* the socket is full: let the server read, and read its answers */
      drain(fd);
      if (server->group.n == 0) return; /* the server closed the connection */
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
  server->listener.on_accept(&server->listener, sv[0]);
  uint8_t mode = data[0], seed = data[1];
  data += 2;
  size -= 2;
  if (mode & 1) {
    write_all(sv[1], (const uint8_t *)upgrade, sizeof upgrade - 1);
    if (mode & 2) write_all(sv[1], (const uint8_t *)deflate_offer, sizeof deflate_offer - 1);
    write_all(sv[1], (const uint8_t *)"\r\n", 2);
  }
  uint32_t rng = seed * 2654435761u + 1;
  while (size > 0 && server->group.n > 0) {
    rng = rng * 1103515245u + 12345u;
    size_t piece = 1 + (rng >> 8) % (seed & 1 ? 16 : 4096);
    if (piece > size) piece = size;
    write_all(sv[1], data, piece);
    data += piece;
    size -= piece;
    turn();
    drain(sv[1]);
  }
  close(sv[1]);
  for (int i = 0; i < 8 && server->group.n > 0; i++) turn();
  if (server->group.n > 0) abort(); /* the peer is gone: nothing may be left behind */
  return 0;
}
