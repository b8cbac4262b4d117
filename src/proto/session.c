/* session.c - wsk_session: the parser plus what every endpoint must do around it (the opening
 * handshake of either side, pongs, the closing handshake, the close frame of a failure), for a
 * program that runs the core in its own loop. Bytes for the peer go to the caller's buffer. */
#include <limits.h>
#include <string.h>

#include "wsk_proto.h"

#define HEAD_MAX 8192
#define HEADERS_MAX 64

void wsk_session_init(struct wsk_session *s, enum wsk_role role, uint64_t max_message) {
  memset(s, 0, sizeof *s);
  s->role = (uint8_t)role;
  wsk_parser_init(&s->parser, role, max_message, 0);
}

/* One whole frame from this side: masked with a fresh key on a client. */
static int frame_out(const struct wsk_session *s, int opcode, const void *data, size_t len,
                     uint8_t *out, size_t cap, size_t *out_len) {
  uint8_t key[4];
  int client = s->role == WSK_ROLE_CLIENT;
  if (client && wsk_random(key, sizeof key) != 0) return WSK_ESYS;
  return wsk_frame_encode(out, cap, opcode, WSK_FRAME_FIN, data, len, client ? key : NULL,
                          out_len);
}

static int close_out(struct wsk_session *s, unsigned code, const char *reason, size_t reason_len,
                     uint8_t *out, size_t cap, size_t *out_len) {
  uint8_t payload[WSK_MAX_CONTROL_PAYLOAD];
  size_t n = wsk_close_build(payload, code, reason, reason_len);
  int r = frame_out(s, WSK_OP_CLOSE, payload, n, out, cap, out_len);
  if (r == 0) s->close_sent = 1;
  return r;
}

int wsk_session_request(struct wsk_session *s, const char *host_port, const char *path,
                        const char *extra, uint8_t *out, size_t cap, size_t *out_len) {
  *out_len = 0;
  if (s->role != WSK_ROLE_CLIENT || s->state != WSK_SESSION_CONNECTING || !host_port || !path)
    return WSK_EINVAL;
  uint8_t nonce[16];
  if (wsk_random(nonce, sizeof nonce) != 0) return WSK_ESYS;
  wsk_handshake_make_key(nonce, s->key);
  int n = wsk_handshake_write_request((char *)out, cap, host_port, path, s->key, NULL, NULL, NULL,
                                      extra);
  if (n < 0) return n;
  *out_len = (size_t)n;
  return 0;
}

/* A refused handshake: the session is over; ev->close_reason says why. */
static int refuse(struct wsk_session *s, struct wsk_event *ev, int err, const char *why) {
  s->state = WSK_SESSION_CLOSED;
  ev->close_reason = why;
  ev->close_reason_len = strlen(why);
  return err;
}

static int opened(struct wsk_session *s, struct wsk_event *ev, uint8_t *head, size_t len) {
  s->state = WSK_SESSION_OPEN;
  ev->data = head;
  ev->len = len;
  return (int)len;
}

static int client_open(struct wsk_session *s, uint8_t *buf, size_t len, struct wsk_event *ev) {
  struct wsk_header h[HEADERS_MAX];
  struct wsk_http_response res;
  if (!s->key[0]) return refuse(s, ev, WSK_EINVAL, "wsk_session_request was not called first");
  int r = wsk_http_parse_response((const char *)buf, len, &res, h, HEADERS_MAX, HEAD_MAX);
  if (r == WSK_EAGAIN) return 0;
  if (r < 0)
    return refuse(s, ev, r, r == WSK_EHEADERS ? "the response head is over 8 KiB or 64 headers"
                                              : "the response is not a valid HTTP/1.1 head");
  const char *why = NULL;
  if (wsk_handshake_check_response(&res, s->key, NULL, 0, &why) != 0)
    return refuse(s, ev, WSK_EHANDSHAKE, why);
  return opened(s, ev, buf, res.head_len);
}

static int server_open(struct wsk_session *s, uint8_t *buf, size_t len, struct wsk_event *ev,
                       uint8_t *out, size_t cap, size_t *out_len) {
  struct wsk_header h[HEADERS_MAX];
  struct wsk_http_request req;
  struct wsk_upgrade_request u;
  int r = wsk_http_parse_request((const char *)buf, len, &req, h, HEADERS_MAX, HEAD_MAX);
  if (r == WSK_EAGAIN) return 0;
  const char *why = r == WSK_EHEADERS ? "request head over 8 KiB or 64 headers"
                                      : "malformed HTTP request";
  int status = r == WSK_EHEADERS ? 431 : r < 0 ? 400 : wsk_handshake_check_request(&req, &u, &why);
  int n = status ? wsk_handshake_write_error((char *)out, cap, status, why)
                 : wsk_handshake_write_response((char *)out, cap, u.key, WSK_KEY_LEN, NULL, NULL,
                                                NULL);
  if (n < 0) return n; /* out too small: nothing consumed, nothing changed */
  *out_len = (size_t)n;
  if (status) return refuse(s, ev, r == WSK_EHEADERS ? WSK_EHEADERS : WSK_EHANDSHAKE, why);
  return opened(s, ev, buf, req.head_len);
}

int wsk_session_feed(struct wsk_session *s, uint8_t *buf, size_t len, struct wsk_event *ev,
                     uint8_t *out, size_t cap, size_t *out_len) {
  memset(ev, 0, sizeof *ev);
  *out_len = 0;
  if (cap < WSK_SESSION_OUT_MIN) return WSK_ENOSPC;
  if (len > INT_MAX) len = INT_MAX; /* the count consumed is an int */
  if (s->state == WSK_SESSION_CLOSED) return (int)len;
  if (s->state == WSK_SESSION_CONNECTING)
    return s->role == WSK_ROLE_CLIENT ? client_open(s, buf, len, ev)
                                      : server_open(s, buf, len, ev, out, cap, out_len);
  int r = wsk_parser_feed(&s->parser, buf, len, ev);
  if (r < 0) { /* fail the connection: our close frame says why, unless one went already */
    if (!s->close_sent) close_out(s, wsk_close_code_for_error(r), NULL, 0, out, cap, out_len);
    s->state = WSK_SESSION_CLOSED;
    return r;
  }
  if (ev->type == WSK_EV_PING && !s->close_sent) {
    int e = frame_out(s, WSK_OP_PONG, ev->data, ev->len, out, cap, out_len);
    if (e < 0) return e;
  } else if (ev->type == WSK_EV_CLOSE) {
    s->close_received = 1;
    /* The answer echoes the code (none when the peer gave none), as RFC 6455 5.5.1 suggests. */
    unsigned code = ev->close_code == WSK_CLOSE_NO_STATUS ? 0 : ev->close_code;
    if (!s->close_sent) {
      int e = close_out(s, code, NULL, 0, out, cap, out_len);
      if (e < 0) return e;
    }
    s->state = WSK_SESSION_CLOSED;
  }
  return r;
}

int wsk_session_send(struct wsk_session *s, int opcode, const void *data, size_t len,
                     uint8_t *out, size_t cap, size_t *out_len) {
  *out_len = 0;
  if (s->state != WSK_SESSION_OPEN) return WSK_ECLOSED;
  if (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY && opcode != WSK_OP_PING &&
      opcode != WSK_OP_PONG)
    return WSK_EINVAL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  return frame_out(s, opcode, data, len, out, cap, out_len);
}

int wsk_session_close(struct wsk_session *s, unsigned code, const char *reason, uint8_t *out,
                      size_t cap, size_t *out_len) {
  *out_len = 0;
  if (s->state == WSK_SESSION_CONNECTING || s->close_sent) return WSK_ECLOSED;
  size_t reason_len = reason ? strlen(reason) : 0;
  if ((code && !wsk_close_code_valid(code)) || (!code && reason_len)) return WSK_EINVAL;
  int r = wsk_close_reason_check(reason, reason_len);
  if (r < 0) return r;
  r = close_out(s, code, reason, reason_len, out, cap, out_len);
  if (r == 0) s->state = s->close_received ? WSK_SESSION_CLOSED : WSK_SESSION_CLOSING;
  return r;
}
