/* send.c - framing outgoing messages, the public send calls with their backpressure rules, and
 * starting or failing the closing handshake. */
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"

/* Client frames up to this size are framed and masked on the stack. */
#define STACK_FRAME 4096

/* Show the header just written to the group's frame observer. */
static void observe(wsk_conn *c, const uint8_t *hdr, size_t hl) {
  struct wsk_frame_header h;
  if (wsk_frame_parse_header(hdr, hl, &h) > 0) c->group->on_frame(c, 1, &h);
}

int wsk__conn_mask_key(wsk_conn *c, uint8_t key[4]) {
  if (!c->group->client) return 0;
  return wsk__loop_random(c->group->loop, key, 4) == 0 ? 0 : WSK_ESYS;
}

size_t wsk__conn_frame_header(wsk_conn *c, uint8_t *hdr, int rsv, int opcode, uint64_t len,
                             const uint8_t key[4]) {
  size_t hl = wsk_frame_write_header(hdr, 1, rsv, opcode, len, c->group->client ? key : NULL);
  if (c->group->on_frame) observe(c, hdr, hl);
  return hl;
}

int wsk__conn_send_frame(wsk_conn *c, int opcode, const void *data, size_t len,
                        struct wsk__ref *ref) {
  uint8_t hdr[WSK_MAX_FRAME_HEADER], key[4];
  if (!c->group->client) {
    uint8_t *p = len < 126 ? wsk__conn_cork_reserve(c, 2 + len) : NULL;
    if (p) { /* a small frame in reply to input, built in the cork: FIN, opcode, 7-bit length */
      p[0] = (uint8_t)(0x80 | opcode);
      p[1] = (uint8_t)len;
      if (c->group->on_frame) observe(c, p, 2);
      if (len) memcpy(p + 2, data, len);
      return 0;
    }
    size_t hl = wsk__conn_frame_header(c, hdr, 0, opcode, len, NULL);
    struct iovec iov[2] = {{hdr, hl}, {(void *)data, len}};
    return wsk__conn_writev(c, iov, 2, ref, ref ? 1 : -1);
  }
  /* Client role: a fresh masking key from the CSPRNG for every frame, payload masked in a copy. */
  if (wsk__conn_mask_key(c, key) != 0) return WSK_ESYS;
  size_t hl = wsk__conn_frame_header(c, hdr, 0, opcode, len, key);
  if (hl + len <= STACK_FRAME) {
    uint8_t frame[STACK_FRAME];
    memcpy(frame, hdr, hl);
    if (len) memcpy(frame + hl, data, len);
    wsk_mask(frame + hl, len, key, 0);
    struct iovec iov = {frame, hl + len};
    return wsk__conn_writev(c, &iov, 1, NULL, -1);
  }
  struct wsk__chunk *chunk = wsk__chunk_new(hl + len);
  if (!chunk) return WSK_ENOMEM;
  uint8_t *p = wsk__chunk_buf(chunk);
  memcpy(p, hdr, hl);
  if (len) memcpy(p + hl, data, len);
  wsk_mask(p + hl, len, key, 0);
  chunk->len = hl + len;
  return wsk__conn_write_chunk(c, chunk);
}

/* A peer that lets this much output back up is not reading: more than any burst of echoes a
 * reading peer leaves in our queue while its own writes fill the socket (conformance 6.17-6.21,
 * 70 KB messages); and the most a ping flood can cost in pongs. */
#define PONG_COLLAPSE_BACKLOG (1024 * 1024)

int wsk__conn_send_pong(wsk_conn *c, const void *data, size_t len) {
  struct wsk__conn_ext *x = c->ext;
  /* A pong answers each ping, queued like any frame, until the output backs up 1 MiB (the peer
   * does not read): then it replaces the one still queued whole, so a ping flood costs one queued pong,
   * not one per ping. (A socket briefly full, or output waiting for the end of the iteration,
   * is not a peer that does not read.) */
  if (!x || x->wq.bytes < PONG_COLLAPSE_BACKLOG || wsk__conn_batched(c))
    return wsk__conn_send_frame(c, WSK_OP_PONG, data, len, NULL);
  uint8_t frame[WSK_MAX_FRAME_HEADER + 125], key[4];
  if (len > 125) return WSK_EINVAL;
  if (wsk__conn_mask_key(c, key) != 0) return WSK_ESYS;
  size_t hl = wsk__conn_frame_header(c, frame, 0, WSK_OP_PONG, len, key);
  if (len) memcpy(frame + hl, data, len);
  if (c->group->client) wsk_mask(frame + hl, len, key, 0);
  struct iovec v = {frame, hl + len};
  return wsk__wq_push_latest(&x->wq, &v, 1, sizeof frame) == 0 ? 0 : WSK_ENOMEM;
}

/* A frame over the hard limit is refused (counted: wsk_conn_dropped); with drop_on_limit the
 * connection is closed (1008), the queued frames not yet started dropped first so that the close
 * frame is not stuck behind the backlog it closes for. */
static int refuse_over_limit(wsk_conn *c) {
  struct wsk__group *g = c->group;
  struct wsk__conn_ext *x = wsk__conn_ext(c); /* (there already: its queue is over the limit) */
  if (x) x->dropped++;
  if (g->drop_on_limit) {
    static const char reason[] = "send queue over its limit";
    const struct wsk_callbacks *cb = wsk__conn_cb(c);
    if (cb->on_error)
      cb->on_error(c, WSK_EBACKPRESSURE, "the peer does not read fast enough: closing with 1008");
    if (!wsk__conn_dead(c) && wsk__conn_state(c) == WSK_CS_OPEN) {
      wsk__conn_drop_unsent(c);
      wsk__conn_close_with(c, WSK_CLOSE_POLICY, reason, sizeof reason - 1);
    }
  }
  return 1;
}

/* The backpressure rules around a data frame of `frame_len` bytes. */
static inline int over_hard_limit(wsk_conn *c, size_t frame_len) {
  size_t limit = c->group->hard_limit;
  if (!limit || wsk__conn_pending(c) + frame_len <= limit) return 0;
  wsk__conn_write_batched(c); /* (a burst to a reader whose socket takes it is no backlog) */
  if (wsk__conn_pending(c) + frame_len <= limit) return 0;
  return refuse_over_limit(c);
}

static inline int after_send(wsk_conn *c, int r) {
  if (r < 0) return r;
  if (c->group->high_water && wsk__conn_pending(c) > c->group->high_water) {
    wsk__conn_flag(c, WSK_CF_NEED_DRAIN);
    return WSK_SEND_QUEUED_HIGH;
  }
  return WSK_SEND_OK;
}

int wsk__conn_send_data(wsk_conn *c, int opcode, const void *data, size_t len,
                       struct wsk__ref *ref) {
  if (wsk__conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  if (over_hard_limit(c, len + WSK_MAX_FRAME_HEADER)) return WSK_EBACKPRESSURE;
  if (wsk__conn_compresses(c, len))
    return after_send(c, wsk__conn_send_compressed(c, opcode, data, len));
  return after_send(c, wsk__conn_send_frame(c, opcode, data, len, ref));
}

int wsk__conn_send_framed(wsk_conn *c, const uint8_t *frame, size_t len, struct wsk__ref *ref) {
  if (wsk__conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  if (over_hard_limit(c, len)) return WSK_EBACKPRESSURE;
  struct iovec iov = {(void *)frame, len};
  return after_send(c, wsk__conn_writev(c, &iov, 1, ref, 0));
}

uint64_t wsk_conn_dropped(const wsk_conn *c) { return c && c->ext ? c->ext->dropped : 0; }

int wsk_send(wsk_conn *c, int opcode, const void *data, size_t len) {
  if (!c || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len))
    return WSK_EINVAL;
  const struct wsk__group *g = c->group;
  if (opcode == WSK_OP_TEXT && !(data == g->valid_text && len == g->valid_len) &&
      !wsk_utf8_valid(data, len))
    return WSK_EUTF8;
  return wsk__conn_send_data(c, opcode, data, len, NULL);
}

int wsk_send_text(wsk_conn *c, const char *text, size_t len) {
  return wsk_send(c, WSK_OP_TEXT, text, len);
}

int wsk_send_binary(wsk_conn *c, const void *data, size_t len) {
  return wsk_send(c, WSK_OP_BINARY, data, len);
}

static int send_control(wsk_conn *c, int opcode, const void *data, size_t len) {
  if (!c || len > WSK_MAX_CONTROL_PAYLOAD || (!data && len)) return WSK_EINVAL;
  if (wsk__conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  return after_send(c, wsk__conn_send_frame(c, opcode, data, len, NULL));
}

int wsk_ping(wsk_conn *c, const void *data, size_t len) {
  return send_control(c, WSK_OP_PING, data, len);
}

int wsk_pong(wsk_conn *c, const void *data, size_t len) {
  return send_control(c, WSK_OP_PONG, data, len);
}

int wsk__conn_send_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len) {
  if (wsk__conn_has(c, WSK_CF_CLOSE_SENT)) return 0;
  wsk__conn_flag(c, WSK_CF_CLOSE_SENT);
  uint8_t payload[WSK_MAX_CONTROL_PAYLOAD];
  size_t n = wsk_close_build(payload, code, reason, reason_len);
  return wsk__conn_send_frame(c, WSK_OP_CLOSE, payload, n, NULL);
}

int wsk__conn_close_with(wsk_conn *c, unsigned code, const char *reason, size_t reason_len) {
  if (wsk__conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  wsk__conn_send_close(c, code, reason, reason_len);
  if (wsk__conn_dead(c)) return 0;
  wsk__conn_set_state(c, WSK_CS_CLOSING);
  wsk__conn_set_timeout(c, c->group->close_timeout_ms);
  return 0;
}

int wsk_close(wsk_conn *c, unsigned code, const char *reason) {
  if (!c) return WSK_EINVAL;
  if (code && !wsk_close_code_valid(code)) return WSK_EINVAL;
  size_t len = reason ? strlen(reason) : 0;
  int r = wsk_close_reason_check(reason, len);
  return r < 0 ? r : wsk__conn_close_with(c, code, reason, len);
}

void wsk__conn_fail(wsk_conn *c, int err, const char *message) {
  const struct wsk_callbacks *cb = wsk__conn_cb(c);
  wsk__conn_set_state(c, WSK_CS_LINGER); /* sends from the callbacks below are refused */
  if (cb->on_error) cb->on_error(c, err, message);
  if (wsk__conn_dead(c)) return;
  wsk__conn_send_close(c, wsk_close_code_for_error(err), NULL, 0);
  if (wsk__conn_dead(c)) return;
  wsk__conn_report_close(c, WSK_CLOSE_ABNORMAL, NULL, 0, 0);
  wsk__conn_linger(c);
}
