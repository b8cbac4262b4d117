/* fuzz_session.c - wsk_session, the sans-I/O endpoint (wsk_proto.h), fed by a hostile peer. Byte 0
 * is the mode: bit 0 the session is a client (else a server), bit 1 the handshake is done first
 * (a valid request or 101 is fed, so the chunks reach the frame layer), bit 2 our side sends a
 * message and then closes between the chunks (an empty chunk is the turn for it). The rest is
 * chunks (fuzz_chunks.h): each is one read, appended to what the session left unconsumed, which
 * is fed as a reader would (one event per call, keep the rest). Invariants: a call consumes at
 * most what it was given, writes at most cap bytes, the state never goes back, nothing follows
 * a failure, a CLOSED session takes every byte without an event, and our output after our close
 * frame is only control frames. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_chunks.h"
#include "wsk_proto.h"

enum { MODE_CLIENT = 1, MODE_OPEN = 2, MODE_ACT = 4 };
#define PENDING_MAX (1 << 18)

static uint8_t pending[PENDING_MAX];
static size_t have;
static uint8_t out[WSK_SESSION_OUT_MIN + 1024];

/* Our own output must be whole, valid frames (or the 101 or an HTTP error on a server). */
static void check_out(const struct wsk_session *s, size_t n, int after_close) {
  REQUIRE(n <= sizeof out);
  if (!n || s->state == WSK_SESSION_CONNECTING || out[0] == 'H') return;
  struct wsk_frame_header h;
  int hl = wsk_frame_parse_header(out, n, &h);
  REQUIRE(hl > 0 && (size_t)hl + h.payload_len == n);
  REQUIRE(h.masked == (s->role == WSK_ROLE_CLIENT));
  if (after_close) REQUIRE(h.opcode >= WSK_OP_CLOSE);
}

/* Feed what is pending; 0 once the session failed. */
static int feed(struct wsk_session *s) {
  for (;;) {
    struct wsk_event ev;
    size_t n = 7777;
    int closed_before = s->close_sent;
    uint8_t state = s->state;
    int r = wsk_session_feed(s, pending, have, &ev, out, sizeof out, &n);
    check_out(s, n, closed_before);
    REQUIRE(s->state >= state);
    if (r < 0) {
      REQUIRE(s->state == WSK_SESSION_CLOSED || r == WSK_ENOSPC);
      return 0;
    }
    REQUIRE((size_t)r <= have);
    if (state == WSK_SESSION_CLOSED) REQUIRE((size_t)r == have && ev.type == WSK_EV_NONE && !n);
    memmove(pending, pending + r, have - (size_t)r);
    have -= (size_t)r;
    if (r == 0 && ev.type == WSK_EV_NONE) return 1;
  }
}

/* Our side acts: a message first, then our close. */
static void act(struct wsk_session *s, int *step) {
  size_t n = 0;
  int r = *step == 0 ? wsk_session_send(s, WSK_OP_TEXT, "ping?", 5, out, sizeof out, &n)
                     : wsk_session_close(s, 1000, "bye", out, sizeof out, &n);
  if (r == 0) check_out(s, n, 0);
  if (r == 0 && *step == 1) REQUIRE(s->state >= WSK_SESSION_CLOSING);
  (*step)++;
}

static void append(const uint8_t *p, size_t n) {
  if (n > PENDING_MAX - have) n = PENDING_MAX - have;
  memcpy(pending + have, p, n);
  have += n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  return chunks_mutate(data, size, max_size, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  data++;
  size--;
  struct wsk_session s;
  wsk_session_init(&s, mode & MODE_CLIENT ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER, 1 << 16);
  have = 0;
  size_t n;
  if (mode & MODE_CLIENT) REQUIRE(wsk_session_request(&s, "h:1", "/", NULL, out, sizeof out, &n) == 0);
  if (mode & MODE_OPEN) { /* a valid head first, so that the chunks reach the frame layer */
    if (mode & MODE_CLIENT) {
      char accept[WSK_ACCEPT_LEN + 1], head[256];
      wsk_handshake_accept(s.key, WSK_KEY_LEN, accept);
      int len = snprintf(head, sizeof head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
      append((const uint8_t *)head, (size_t)len);
    } else {
      static const char req[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      append((const uint8_t *)req, sizeof req - 1);
    }
    REQUIRE(feed(&s) && s.state == WSK_SESSION_OPEN);
  }
  int step = 0;
  while (size > 0) {
    size_t len;
    const uint8_t *chunk = chunk_next(&data, &size, &len);
    if (len == 0 && (mode & MODE_ACT)) act(&s, &step);
    append(chunk, len);
    if (!feed(&s)) break;
  }
  return 0;
}
