/* recv.c - incoming WebSocket frames: drives wsk_parser, reassembles messages only when they
 * arrive in pieces, answers pings, and completes the closing handshake.
 *
 * A message that arrives whole in one read (the common case) is delivered straight from the
 * receive buffer where it was unmasked: no copy. Otherwise its chunks are appended to ext->msg,
 * sized from the frame length up front, and the buffer is freed once the message is delivered.
 * Compressed messages (permessage-deflate) go to deflate_recv.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

static const char *error_text(int err) {
  switch (err) {
  case WSK_EUTF8: return "the peer sent text or a close reason that is not valid UTF-8";
  case WSK_ETOOBIG: return "the peer sent a message over max_message";
  default: return "the peer broke the WebSocket protocol (bad frame header, opcode, "
                  "fragmentation, masking or control frame)";
  }
}

static int append(struct wsk__conn_ext *x, const uint8_t *data, size_t len, uint64_t more) {
  size_t need = x->msg_len + len;
  if (need > x->msg_cap) {
    /* Room for the rest of this frame at once; doubling for messages of many frames. */
    size_t cap = x->msg_cap * 2;
    if (cap < need + more) cap = need + (size_t)more;
    uint8_t *p = wsk__realloc(x->msg, cap ? cap : 1);
    if (!p) return WSK_ENOMEM;
    x->msg = p;
    x->msg_cap = cap;
  }
  if (len) memcpy(x->msg + x->msg_len, data, len);
  x->msg_len = need;
  return 0;
}

void wsk__conn_deliver(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct wsk__group *g = c->group;
  const struct wsk_callbacks *cb = wsk__conn_cb(c);
  int st = wsk__conn_state(c);
  if (!cb->on_message || (st != WSK_CS_OPEN && !(st == WSK_CS_CLOSING && g->deliver_closing)))
    return;
  const void *outer = g->valid_text; /* (a callback may deliver another message) */
  size_t outer_len = g->valid_len;
  g->valid_text = opcode == WSK_OP_TEXT ? data : NULL;
  g->valid_len = len;
  cb->on_message(c, opcode, data, len);
  g->valid_text = outer; /* the group outlives the iteration, even if c or its owner is gone */
  g->valid_len = outer_len;
}

/* A chunk of an uncompressed message. The message in progress and its opcode are the parser's
 * (in the connection, across reads); only its bytes need ext->msg, and an empty chunk needs
 * nothing at all. */
static void on_data(wsk_conn *c, const struct wsk_event *ev) {
  if (ev->compressed) {
    wsk__conn_inflate(c, ev);
    return;
  }
  if (ev->first && ev->fin) {
    wsk__conn_deliver(c, ev->opcode, ev->data, ev->len);
    return;
  }
  struct wsk__conn_ext *x = c->ext;
  uint64_t more = ev->fin ? 0 : c->parser.remaining; /* payload of this frame still to come */
  if (ev->len || more) {
    if (!(x = wsk__conn_ext(c))) goto nomem;
    if (append(x, ev->data, ev->len, more) != 0) goto nomem;
  }
  if (!ev->fin) return;
  uint8_t *msg = x ? x->msg : NULL;
  size_t len = msg ? x->msg_len : 0;
  if (msg) {
    x->msg = NULL; /* ours now: delivered and freed here, whatever on_message does */
    x->msg_len = x->msg_cap = 0;
    wsk__conn_release_later(c);
  }
  wsk__conn_deliver(c, ev->opcode, msg ? msg : (uint8_t *)"", len);
  wsk__free(msg);
  return;
nomem:
  wsk__conn_fail(c, WSK_ENOMEM, "out of memory while reassembling a message");
}

static void on_close_frame(wsk_conn *c, const struct wsk_event *ev) {
  /* Answer with the same code and reason (an empty close for a close without a code), unless we
   * started the closing handshake. */
  if (!wsk__conn_has(c, WSK_CF_CLOSE_SENT)) {
    unsigned code = ev->close_code == WSK_CLOSE_NO_STATUS ? 0 : ev->close_code;
    wsk__conn_send_close(c, code, ev->close_reason, ev->close_reason_len);
    if (wsk__conn_dead(c)) return;
  }
  wsk__conn_set_state(c, WSK_CS_LINGER);
  wsk__conn_report_close(c, ev->close_code, ev->close_reason, ev->close_reason_len, 1);
  wsk__conn_linger(c);
}

size_t wsk__conn_ws_input(wsk_conn *c, uint8_t *buf, size_t len) {
  size_t off = 0;
  struct wsk__group *g = c->group;
  const struct wsk_callbacks *cb = wsk__conn_cb(c);
  while (off < len) {
    struct wsk_event ev;
    /* The frame observer sees a header once the parser has taken it (or refused it). */
    struct wsk_frame_header fh;
    int peek = g->on_frame && !c->parser.remaining && !c->parser.closed &&
               wsk_frame_parse_header(buf + off, len - off, &fh) > 0;
    int r = wsk_parser_feed(&c->parser, buf + off, len - off, &ev);
    if (peek && r != 0) {
      g->on_frame(c, 0, &fh);
      if (wsk__conn_dead(c)) return len;
    }
    if (r < 0) {
      wsk__conn_fail(c, r, r == WSK_EPROTO ? wsk__conn_explain_proto(c, buf + off, len - off)
                                          : error_text(r));
      return len;
    }
    off += (size_t)r;
    switch (ev.type) {
    case WSK_EV_NONE:
      if (r == 0) return off; /* an incomplete header or control frame: keep it */
      break;
    case WSK_EV_DATA:
      on_data(c, &ev);
      break;
    case WSK_EV_PING:
      /* Auto-pong, unless the queue is over its hard limit (only the latest ping needs one). */
      if (!g->hard_limit || wsk__conn_pending(c) <= g->hard_limit) {
        if (wsk__conn_state(c) == WSK_CS_OPEN) wsk__conn_send_pong(c, ev.data, ev.len);
      }
      if (!wsk__conn_dead(c) && cb->on_ping && wsk__conn_state(c) == WSK_CS_OPEN)
        cb->on_ping(c, ev.data, ev.len);
      break;
    case WSK_EV_PONG:
      if (cb->on_pong && wsk__conn_state(c) == WSK_CS_OPEN) cb->on_pong(c, ev.data, ev.len);
      break;
    case WSK_EV_CLOSE:
      on_close_frame(c, &ev);
      return len;
    }
    unsigned st = wsk__conn_state(c);
    if (st != WSK_CS_OPEN && st != WSK_CS_CLOSING) return len;
  }
  return off;
}
