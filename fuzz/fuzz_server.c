/* fuzz_server.c - the server's whole input path on a real connection (a socketpair handed to the
 * server as if accepted): HTTP heads and bodies, keep-alive, static files, the upgrade, then
 * WebSocket frames (reassembly across reads, control frames, the closing handshake, protocol
 * errors, permessage-deflate), with the answers and echoes going out through the write path.
 *
 * The input says where the server's reads end, since state that lives between reads is where the
 * bugs of a split peer are. Byte 0 is the mode:
 *   bit 0  a valid upgrade request goes first (in the first chunk's read), then frames follow;
 *          clear: the input is the raw byte stream (HTTP first)
 *   bit 1  the upgrade offers permessage-deflate (which the server accepts)
 *   bit 2  slow peer: the server's socket takes little (SLOW_SNDBUF) and the peer reads its
 *          answers only at an empty chunk, READ_UNIT bytes each (all of them when its own write
 *          would block), so answers queue up on the server and drain in steps
 * The rest is chunks (fuzz_chunks.h, with mutations that keep them): a length (little-endian
 * base 128, at most 3 bytes) then that many bytes (fewer at the end of the input). Each chunk is
 * written alone and the loop runs until the server has read it, so one chunk is one read (a chunk
 * bigger than the socket takes is written as the server reads it). An empty chunk is a turn where
 * the peer reads. Then the peer hangs up, and the connection must be gone within a few loop
 * iterations. fuzz/server_seed.py writes inputs. */
#include <fcntl.h>
#include <linux/sockios.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_chunks.h"
#include "server/server_internal.h"
#include "wsk.h"

enum { MODE_UPGRADE = 1, MODE_DEFLATE = 2, MODE_SLOW = 4 };

/* The static root: a small index and a file bigger than the slow peer's socket takes at once. */
#define BIG_FILE_SIZE (64 * 1024)
/* Slow peer: the server's send buffer (the kernel doubles it), and what the peer reads at once. */
#define SLOW_SNDBUF (16 * 1024)
#define READ_UNIT 4096
/* Loop iterations to let the server read one chunk (it may be holding its input). */
#define READ_TURNS 4

static wsk_loop *loop;
static wsk_server *server;
static char root[] = "/tmp/wsk_fuzz_root_XXXXXX";
static char index_path[sizeof root + 16], big_path[sizeof root + 16];

static const char upgrade[] = "GET /chat HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n";
static const char deflate_offer[] = "Sec-WebSocket-Extensions: permessage-deflate; "
                                    "client_max_window_bits\r\n";

/* POST and PUT are echoed; everything else falls through to the static root. */
static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0) return 1;
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
  REQUIRE(t);
  wsk_loop_run(loop);
}

static void drain(int fd) {
  char sink[65536];
  while (read(fd, sink, sizeof sink) > 0) {
  }
}

static void read_unit(int fd) {
  char sink[READ_UNIT];
  (void)!read(fd, sink, sizeof sink);
}

static void write_file(const char *path, char fill, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  char block[4096];
  memset(block, fill, sizeof block);
  for (size_t done = 0; done < size;) {
    size_t n = size - done < sizeof block ? size - done : sizeof block;
    REQUIRE(write(fd, block, n) == (ssize_t)n);
    done += n;
  }
  close(fd);
}

static void remove_root(void) {
  unlink(index_path);
  unlink(big_path);
  rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  REQUIRE(mkdtemp(root));
  snprintf(index_path, sizeof index_path, "%s/index.html", root);
  snprintf(big_path, sizeof big_path, "%s/big.txt", root);
  write_file(index_path, 'i', 100);
  write_file(big_path, 'b', BIG_FILE_SIZE);
  atexit(remove_root);
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.host = "127.0.0.1";
  opt.root = root;
  opt.max_message = 1 << 20;
  opt.max_http_body = 1 << 16;
  opt.deflate.enabled = 1;
  opt.on_http = on_http;
  opt.cb.on_message = on_message;
  opt.cb.on_ping = on_ping;
  loop = wsk_loop_new();
  REQUIRE(loop && wsk_server_new(loop, &opt, &server, NULL, 0) == 0);
  return 0;
}

static int alive(void) { return server->group.n > 0; }

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0 && alive()) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the server may have closed its end */
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else {
      turn(); /* the socket is full: let the server read, and read its answers */
      drain(fd);
    }
  }
}

/* Run the loop until the server has read everything written to its socket `fd` (or stopped
 * reading: a held upgrade, answers over its limit, a lingering close). */
static void let_read(int fd) {
  int unread = 1;
  for (int i = 0; i < READ_TURNS && unread > 0 && alive(); i++) {
    turn();
    if (alive() && ioctl(fd, SIOCINQ, &unread) != 0) unread = 0;
  }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  return chunks_mutate(data, size, max_size, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  uint8_t mode = data[0];
  data++;
  size--;
  if (mode & MODE_SLOW) {
    int sndbuf = SLOW_SNDBUF;
    REQUIRE(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == 0);
  }
  server->listener.on_accept(&server->listener, sv[0]);
  if (mode & MODE_UPGRADE) { /* written now, read with the first chunk */
    write_all(sv[1], (const uint8_t *)upgrade, sizeof upgrade - 1);
    if (mode & MODE_DEFLATE) write_all(sv[1], (const uint8_t *)deflate_offer, sizeof deflate_offer - 1);
    write_all(sv[1], (const uint8_t *)"\r\n", 2);
  }
  while (size > 0 && alive()) {
    size_t len;
    const uint8_t *chunk = chunk_next(&data, &size, &len);
    write_all(sv[1], chunk, len);
    let_read(sv[0]);
    if (!(mode & MODE_SLOW))
      drain(sv[1]);
    else if (len == 0)
      read_unit(sv[1]);
  }
  close(sv[1]);
  for (int i = 0; i < 8 && alive(); i++) turn();
  REQUIRE(!alive()); /* the peer is gone: nothing may be left behind */
  return 0;
}
