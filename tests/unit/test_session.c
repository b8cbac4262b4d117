/* test_session.c - wsk_frame_encode and wsk_session (the sans-I/O core for a loop of one's own):
 * a client session and a server session talk to each other through memory, every byte stream
 * delivered whole and then in pieces cut at seeded random points (one byte per read for some):
 * handshake, messages both ways (masked from the client), ping answered by a pong, the closing
 * handshake from either side, sends refused after the close; a protocol error answered by the
 * matching close frame; refused handshakes on both sides; frame sizes at the length-encoding
 * boundaries and the encoder's refusals. */
#include <stdlib.h>

#include "check.h"
#include "wsk_proto.h"

/* One endpoint: its session and the bytes it has read but not consumed yet. */
struct end {
  struct wsk_session s;
  uint8_t in[1 << 17];
  size_t have;
  struct wsk_event evs[16]; /* the events of the last delivery, data copied to text[] */
  char text[16][256];
  int nev;
  size_t data_len; /* payload bytes of the DATA events of the last delivery */
  int err;         /* the first error a feed returned */
};

static unsigned split_seed; /* 0: whole; else the seed of the cut points */

/* What `to` sends back while reading, handed to the other side by the caller. */
static uint8_t reply[1 << 17];
static size_t reply_len;

/* Feed what `to` has, as a reader does: one event per call, keep the rest. */
static void drain(struct end *to) {
  for (;;) {
    struct wsk_event ev;
    uint8_t out[WSK_SESSION_OUT_MIN + 512];
    size_t n = 0;
    int r = wsk_session_feed(&to->s, to->in, to->have, &ev, out, sizeof out, &n);
    if (n) {
      CHECK(reply_len + n <= sizeof reply);
      memcpy(reply + reply_len, out, n);
      reply_len += n;
    }
    if (r < 0) {
      if (!to->err) to->err = r;
      return;
    }
    if (ev.type == WSK_EV_DATA) to->data_len += ev.len;
    if (ev.type != WSK_EV_NONE && to->nev < 16) {
      to->evs[to->nev] = ev;
      size_t len = ev.type == WSK_EV_CLOSE ? ev.close_reason_len : ev.len;
      const void *src = ev.type == WSK_EV_CLOSE ? (const void *)ev.close_reason : ev.data;
      if (len < 256 && len) memcpy(to->text[to->nev], src, len);
      to->text[to->nev][len < 256 ? len : 0] = '\0';
      to->nev++;
    }
    memmove(to->in, to->in + r, to->have - (size_t)r);
    to->have -= (size_t)r;
    if (r == 0 && ev.type == WSK_EV_NONE) return;
  }
}

/* Deliver bytes to `to`, whole or in random pieces; collects its replies in reply[]. */
static void deliver(struct end *to, const uint8_t *bytes, size_t len) {
  to->nev = 0;
  to->data_len = 0;
  reply_len = 0;
  size_t off = 0;
  while (off < len) {
    size_t piece = len - off;
    if (split_seed) piece = split_seed % 4 == 0 ? 1 : 1 + (size_t)rand() % piece;
    CHECK(to->have + piece <= sizeof to->in);
    memcpy(to->in + to->have, bytes + off, piece);
    to->have += piece;
    off += piece;
    drain(to);
  }
}

static void handshake(struct end *c, struct end *sv) {
  wsk_session_init(&c->s, WSK_ROLE_CLIENT, 1 << 20);
  wsk_session_init(&sv->s, WSK_ROLE_SERVER, 1 << 20);
  c->have = sv->have = 0;
  c->err = sv->err = 0;
  uint8_t req[1024];
  size_t n;
  CHECK_EQ(wsk_session_request(&c->s, "127.0.0.1:9", "/chat?x=1", "X-Token: t\r\n", req,
                               sizeof req, &n), 0);
  CHECK(n > 0 && memmem(req, n, "GET /chat?x=1 HTTP/1.1\r\n", 24) == req);
  deliver(sv, req, n);
  CHECK_EQ(sv->err, 0);
  CHECK_EQ(sv->s.state, WSK_SESSION_OPEN);
  CHECK(reply_len > 12 && memcmp(reply, "HTTP/1.1 101", 12) == 0);
  uint8_t answer[1024];
  size_t alen = reply_len;
  memcpy(answer, reply, alen);
  deliver(c, answer, alen);
  CHECK_EQ(c->err, 0);
  CHECK_EQ(c->s.state, WSK_SESSION_OPEN);
  CHECK_EQ(reply_len, 0);
}

/* from sends a message; `to` must get it as one DATA event with the text. */
static void message(struct end *from, struct end *to, int opcode, const char *text) {
  uint8_t frame[512];
  size_t n;
  CHECK_EQ(wsk_session_send(&from->s, opcode, text, strlen(text), frame, sizeof frame, &n), 0);
  CHECK_EQ((frame[1] & 0x80) != 0, from->s.role == WSK_ROLE_CLIENT); /* masked by clients only */
  deliver(to, frame, n);
  CHECK_EQ(to->err, 0);
  CHECK(to->nev > 0 && to->evs[0].type == WSK_EV_DATA && to->evs[0].opcode == opcode);
  CHECK_EQ(to->data_len, strlen(text));
  if (to->nev == 1) CHECK_STR(to->text[0], text); /* whole when it came in one read */
}

static void test_conversation(void) {
  static struct end c, sv;
  handshake(&c, &sv);
  message(&c, &sv, WSK_OP_TEXT, "hello from the client");
  message(&sv, &c, WSK_OP_BINARY, "and from the server");
  /* A ping from the client: the server's answer is a pong with the same payload. */
  uint8_t frame[512];
  size_t n;
  CHECK_EQ(wsk_session_send(&c.s, WSK_OP_PING, "p1", 2, frame, sizeof frame, &n), 0);
  deliver(&sv, frame, n);
  CHECK(sv.nev == 1 && sv.evs[0].type == WSK_EV_PING);
  size_t plen = reply_len;
  memcpy(frame, reply, plen);
  deliver(&c, frame, plen);
  CHECK(c.nev == 1 && c.evs[0].type == WSK_EV_PONG);
  CHECK_STR(c.text[0], "p1");
  /* The server closes; the client answers with the same code and is CLOSED; then the server. */
  uint8_t sclose[64], scratch[64];
  size_t slen;
  CHECK_EQ(wsk_session_close(&sv.s, 1000, "bye", sclose, sizeof sclose, &slen), 0);
  CHECK_EQ(sv.s.state, WSK_SESSION_CLOSING);
  CHECK_EQ(wsk_session_send(&sv.s, WSK_OP_TEXT, "late", 4, scratch, sizeof scratch, &n),
           WSK_ECLOSED);
  CHECK_EQ(wsk_session_close(&sv.s, 1000, NULL, scratch, sizeof scratch, &n), WSK_ECLOSED);
  CHECK_EQ(wsk_session_close(&c.s, 1000, NULL, scratch, 3, &n), WSK_ENOSPC); /* changes nothing */
  CHECK_EQ(c.s.state, WSK_SESSION_OPEN);
  deliver(&c, sclose, slen);
  CHECK(c.nev == 1 && c.evs[0].type == WSK_EV_CLOSE && c.evs[0].close_code == 1000);
  CHECK_STR(c.text[0], "bye");
  CHECK_EQ(c.s.state, WSK_SESSION_CLOSED);
  size_t alen = reply_len;
  uint8_t answer[64];
  memcpy(answer, reply, alen);
  CHECK(alen == 8 && (answer[0] & 0x0F) == WSK_OP_CLOSE && (answer[1] & 0x80)); /* masked 1000 */
  deliver(&sv, answer, alen);
  CHECK(sv.nev == 1 && sv.evs[0].type == WSK_EV_CLOSE && sv.evs[0].close_code == 1000);
  CHECK_EQ(reply_len, 0); /* no second close */
  CHECK_EQ(sv.s.state, WSK_SESSION_CLOSED);
  CHECK_EQ(wsk_session_send(&c.s, WSK_OP_TEXT, "x", 1, frame, sizeof frame, &n), WSK_ECLOSED);
  deliver(&sv, answer, alen); /* a CLOSED session takes and ignores anything */
  CHECK_EQ(sv.nev, 0);
  CHECK_EQ(sv.have, 0);
}

static void test_client_closes_first(void) {
  static struct end c, sv;
  handshake(&c, &sv);
  uint8_t frame[256];
  size_t n;
  CHECK_EQ(wsk_session_close(&c.s, 4000, "done", frame, sizeof frame, &n), 0);
  deliver(&sv, frame, n);
  CHECK(sv.nev == 1 && sv.evs[0].close_code == 4000);
  CHECK_EQ(sv.s.state, WSK_SESSION_CLOSED); /* the server closes the TCP connection now */
  memcpy(frame, reply, reply_len);
  n = reply_len;
  CHECK(n == 4 && frame[0] == 0x88 && frame[1] == 2 && frame[2] == 0x0f && frame[3] == 0xa0);
  deliver(&c, frame, n);
  CHECK_EQ(c.s.state, WSK_SESSION_CLOSED);
  CHECK_EQ(reply_len, 0);
}

static void test_protocol_error(void) {
  static struct end c, sv;
  handshake(&c, &sv);
  static const uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'}; /* a client frame must be masked */
  deliver(&sv, unmasked, sizeof unmasked);
  CHECK_EQ(sv.err, WSK_EPROTO);
  CHECK_EQ(sv.s.state, WSK_SESSION_CLOSED);
  CHECK(reply_len == 4 && reply[0] == 0x88 && reply[2] == 0x03 && reply[3] == 0xea); /* 1002 */
}

static void test_refused_handshakes(void) {
  static struct end sv, c;
  wsk_session_init(&sv.s, WSK_ROLE_SERVER, 0);
  sv.have = 0;
  sv.err = 0;
  static const char plain[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  deliver(&sv, (const uint8_t *)plain, sizeof plain - 1);
  CHECK_EQ(sv.err, WSK_EHANDSHAKE);
  CHECK(reply_len > 12 && memcmp(reply, "HTTP/1.1 4", 10) == 0);
  CHECK_EQ(sv.s.state, WSK_SESSION_CLOSED);

  wsk_session_init(&c.s, WSK_ROLE_CLIENT, 0);
  c.have = 0;
  c.err = 0;
  uint8_t req[512];
  size_t n;
  CHECK_EQ(wsk_session_request(&c.s, "h", "/", NULL, req, sizeof req, &n), 0);
  CHECK_EQ(wsk_session_request(&c.s, "h", "/", NULL, req, 10, &n), WSK_ENOSPC); /* too small */
  static const char no[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
  deliver(&c, (const uint8_t *)no, sizeof no - 1);
  CHECK_EQ(c.err, WSK_EHANDSHAKE);
  CHECK_EQ(c.s.state, WSK_SESSION_CLOSED);

  struct wsk_session s;
  wsk_session_init(&s, WSK_ROLE_SERVER, 0);
  CHECK_EQ(wsk_session_request(&s, "h", "/", NULL, req, sizeof req, &n), WSK_EINVAL);
  CHECK_EQ(wsk_session_send(&s, WSK_OP_TEXT, "x", 1, req, sizeof req, &n), WSK_ECLOSED);
  CHECK_EQ(wsk_session_close(&s, 1000, NULL, req, sizeof req, &n), WSK_ECLOSED);
  struct wsk_event ev;
  CHECK_EQ(wsk_session_feed(&s, req, 0, &ev, req, 10, &n), WSK_ENOSPC);
}

static void test_session_checks(void) {
  static struct end c, sv;
  handshake(&c, &sv);
  uint8_t out[256];
  size_t n;
  CHECK_EQ(wsk_session_send(&c.s, WSK_OP_TEXT, "\xff", 1, out, sizeof out, &n), WSK_EUTF8);
  CHECK_EQ(wsk_session_send(&c.s, WSK_OP_CLOSE, "", 0, out, sizeof out, &n), WSK_EINVAL);
  CHECK_EQ(wsk_session_close(&c.s, 1005, NULL, out, sizeof out, &n), WSK_EINVAL);
  CHECK_EQ(wsk_session_close(&c.s, 0, "why", out, sizeof out, &n), WSK_EINVAL);
  CHECK_EQ(wsk_session_close(&c.s, 1000, "\xc3", out, sizeof out, &n), WSK_EUTF8);
  CHECK_EQ(c.s.state, WSK_SESSION_OPEN);
}

static void test_encode(void) {
  static uint8_t payload[70000], out[70100];
  static const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 70000};
  static const uint8_t key[4] = {1, 2, 3, 4};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    size_t len = lens[i], n;
    for (size_t j = 0; j < len; j++) payload[j] = (uint8_t)(j * 7);
    CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_BINARY, WSK_FRAME_FIN, payload, len, key, &n),
             0);
    CHECK_EQ(n, WSK_FRAME_SIZE(len, 1));
    CHECK_EQ(wsk_frame_encode(out, WSK_FRAME_SIZE(len, 1) - 1, WSK_OP_BINARY, WSK_FRAME_FIN,
                              payload, len, key, &n), WSK_ENOSPC);
    /* A server's parser reads it back. */
    struct wsk_parser p;
    wsk_parser_init(&p, WSK_ROLE_SERVER, 0, 0);
    size_t off = 0, got = 0;
    int ok = 1;
    while (off < n) {
      struct wsk_event ev;
      int r = wsk_parser_feed(&p, out + off, n - off, &ev);
      if (r < 0) break;
      off += (size_t)r;
      if (ev.type == WSK_EV_DATA) {
        ok &= memcmp(ev.data, payload + got, ev.len) == 0;
        got += ev.len;
      }
    }
    CHECK_EQ(got, len);
    CHECK(ok);
    CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_TEXT, 0, payload, len, NULL, &n), 0);
    CHECK_EQ(n, WSK_FRAME_SIZE(len, 0));
    CHECK_EQ(out[0], 0x01); /* no FIN */
  }
  size_t n;
  CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_PING, WSK_FRAME_FIN, payload, 126, NULL, &n),
           WSK_EINVAL);
  CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_PING, 0, payload, 1, NULL, &n), WSK_EINVAL);
  CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_CLOSE, WSK_FRAME_FIN | WSK_FRAME_RSV1, payload,
                            2, NULL, &n), WSK_EINVAL);
  CHECK_EQ(wsk_frame_encode(out, sizeof out, 3, WSK_FRAME_FIN, payload, 1, NULL, &n), WSK_EINVAL);
  CHECK_EQ(wsk_frame_encode(out, sizeof out, WSK_OP_TEXT, WSK_FRAME_FIN | WSK_FRAME_RSV1, payload,
                            1, NULL, &n), 0);
  CHECK_EQ(out[0], 0xC1);
  uint8_t a[8], b[8];
  CHECK_EQ(wsk_random(a, sizeof a), 0);
  CHECK_EQ(wsk_random(b, sizeof b), 0);
  CHECK(memcmp(a, b, sizeof a) != 0);
}

int main(void) {
  test_encode();
  for (split_seed = 0; split_seed <= 24; split_seed++) {
    srand(split_seed);
    test_conversation();
    test_client_closes_first();
    test_protocol_error();
    test_refused_handshakes();
    test_session_checks();
  }
  return check_report();
}
