/* parser.c - the message layer (RFC 6455 sections 5.1-5.6): a byte stream in, one event out per
 * call. Data payload is unmasked in place and handed out in chunks as it arrives; text is
 * validated chunk by chunk so bad UTF-8 fails before the rest of the frame arrives. Control
 * frames are handed out whole. All protocol rules except the length limits are checked on the
 * first two bytes of a frame header, so an error never waits for more input than that. */
#include <limits.h>
#include <string.h>

#include "proto/frame_internal.h"

_Static_assert(sizeof(struct wsk_parser) == WSK_PARSER_SIZE,
               "struct wsk_parser is part of the ABI: a new size needs a new SONAME and WSK_PARSER_SIZE");

/* Largest payload chunk per call, so that header + chunk still fits the int return value. */
#define MAX_CHUNK ((size_t)INT_MAX - WSK_MAX_FRAME_HEADER)

void wsk_parser_init(struct wsk_parser *p, enum wsk_role role, uint64_t max_message,
                     int allow_rsv1) {
  memset(p, 0, sizeof *p);
  p->role = (uint8_t)role;
  p->max_message = max_message;
  p->allow_rsv1 = allow_rsv1 ? 1 : 0;
}

/* The rules that the first two header bytes decide (h from wsk__frame_decode_start). */
static int check_start(const struct wsk_parser *p, const struct wsk_frame_header *h) {
  if (h->rsv & 0x3) return WSK_EPROTO;                      /* RSV2, RSV3: no extension uses them */
  if (h->masked != (p->role == WSK_ROLE_SERVER)) return WSK_EPROTO; /* clients mask, servers don't */
  if (h->opcode & 0x8) {                                    /* control frame */
    if (h->opcode > WSK_OP_PONG || !h->fin || h->rsv) return WSK_EPROTO;
    return h->payload_len > WSK_MAX_CONTROL_PAYLOAD ? WSK_EPROTO : 0;
  }
  if (h->opcode > WSK_OP_BINARY) return WSK_EPROTO;          /* reserved data opcodes 3..7 */
  if (h->opcode == WSK_OP_CONT) return p->msg_opcode && !h->rsv ? 0 : WSK_EPROTO;
  if (p->msg_opcode) return WSK_EPROTO;                      /* new message inside a fragmented one */
  return h->rsv && !p->allow_rsv1 ? WSK_EPROTO : 0;
}

static int control_frame(struct wsk_parser *p, uint8_t *buf, size_t len,
                         const struct wsk_frame_header *h, struct wsk_event *ev) {
  size_t plen = (size_t)h->payload_len, total = h->header_len + plen;
  if (len < total) return 0;
  uint8_t *payload = buf + h->header_len;
  if (h->masked) wsk_mask(payload, plen, h->mask, 0);
  if (h->opcode == WSK_OP_CLOSE) {
    int r = wsk_close_parse(payload, plen, &ev->close_code, &ev->close_reason,
                            &ev->close_reason_len);
    if (r < 0) return r;
    p->closed = 1;
  }
  ev->type = h->opcode == WSK_OP_PING ? WSK_EV_PING
             : h->opcode == WSK_OP_PONG ? WSK_EV_PONG
                                        : WSK_EV_CLOSE;
  ev->data = payload;
  ev->len = plen;
  return (int)total;
}

/* Hand out what is in buf[0..len) of the current data frame's payload. `used` bytes (the
 * header) were consumed before buf in this call. */
static int data_chunk(struct wsk_parser *p, uint8_t *buf, size_t len, size_t used,
                      struct wsk_event *ev) {
  size_t n = len < MAX_CHUNK ? len : MAX_CHUNK;
  if (n > p->remaining) n = (size_t)p->remaining;
  if (n == 0 && p->remaining) return (int)used; /* header consumed, payload not here yet */
  if (p->role == WSK_ROLE_SERVER)
    p->mask_offset = (uint8_t)wsk_mask(buf, n, p->mask, p->mask_offset);
  p->remaining -= n;
  int fin = p->remaining == 0 && p->frame_fin;
  if (p->msg_opcode == WSK_OP_TEXT && !p->msg_compressed) {
    p->utf8 = wsk_utf8_feed(p->utf8, buf, n);
    if (p->utf8 == WSK_UTF8_REJECT || (fin && p->utf8 != WSK_UTF8_ACCEPT)) return WSK_EUTF8;
  }
  ev->type = WSK_EV_DATA;
  ev->opcode = p->msg_opcode;
  ev->first = p->first_pending;
  ev->fin = (uint8_t)fin;
  ev->compressed = p->msg_compressed;
  ev->data = buf;
  ev->len = n;
  p->first_pending = 0;
  if (fin) p->msg_opcode = 0;
  return (int)(used + n);
}

/* The common case of small messages, in one pass: a whole frame in buf with FIN, no RSV, text or
 * binary, masked as a client must, at most 125 bytes of payload and within max_message, outside a
 * fragmented message. Unmasks it 8 bytes at a time while collecting the high bits of the text, so
 * that ASCII text needs no UTF-8 pass of its own. Returns the frame length, WSK_EUTF8, or 0 when
 * the frame is not of that kind (the general path then takes it, with the same outcome). */
static int small_frame(struct wsk_parser *p, uint8_t *buf, size_t len, struct wsk_event *ev) {
  size_t plen = buf[1] & 0x7fu;
  if ((buf[0] != 0x81 && buf[0] != 0x82) || !(buf[1] & 0x80u) || plen > 125 || len < 6 + plen ||
      p->msg_opcode || p->role != WSK_ROLE_SERVER || (p->max_message && plen > p->max_message))
    return 0;
  uint8_t *d = buf + 6;
  uint8_t key[8];
  memcpy(key, buf + 2, 4);
  memcpy(key + 4, buf + 2, 4);
  uint64_t k, high = 0;
  memcpy(&k, key, 8);
  size_t i = 0;
  for (; plen - i >= 8; i += 8) {
    uint64_t w;
    memcpy(&w, d + i, 8);
    w ^= k;
    high |= w;
    memcpy(d + i, &w, 8);
  }
  if (plen - i >= 4) {
    uint32_t w, k4;
    memcpy(&w, d + i, 4);
    memcpy(&k4, key, 4);
    w ^= k4;
    high |= w;
    memcpy(d + i, &w, 4);
    i += 4;
  }
  for (size_t j = 0; i < plen; i++, j++) {
    d[i] ^= key[j];
    high |= d[i];
  }
  int text = buf[0] == 0x81;
  if (text && (high & 0x8080808080808080ull) && !wsk_utf8_valid(d, plen)) return WSK_EUTF8;
  ev->type = WSK_EV_DATA;
  ev->opcode = text ? WSK_OP_TEXT : WSK_OP_BINARY;
  ev->first = ev->fin = 1;
  ev->data = d;
  ev->len = plen;
  return (int)(6 + plen);
}

int wsk_parser_feed(struct wsk_parser *p, uint8_t *buf, size_t len, struct wsk_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (p->closed) return len < INT_MAX ? (int)len : INT_MAX;
  if (p->remaining) return data_chunk(p, buf, len, 0, ev);
  if (len < 2) return 0;
  int r = small_frame(p, buf, len, ev);
  if (r) return r;
  struct wsk_frame_header h;
  wsk__frame_decode_start(buf, &h);
  r = check_start(p, &h);
  if (r < 0) return r;
  r = wsk_frame_parse_header(buf, len, &h);
  if (r == WSK_EAGAIN) return 0;
  if (r < 0) return r;
  if (h.opcode & 0x8) return control_frame(p, buf, len, &h, ev);
  if (h.opcode != WSK_OP_CONT) {
    p->msg_opcode = h.opcode;
    p->msg_compressed = h.rsv ? 1 : 0;
    p->first_pending = 1;
    p->message_len = 0;
    p->utf8 = WSK_UTF8_ACCEPT;
  }
  if (p->max_message) {
    if (h.payload_len > p->max_message - p->message_len) return WSK_ETOOBIG;
    p->message_len += h.payload_len;
  }
  p->remaining = h.payload_len;
  p->frame_fin = h.fin;
  memcpy(p->mask, h.mask, 4);
  p->mask_offset = 0;
  return data_chunk(p, buf + h.header_len, len - h.header_len, h.header_len, ev);
}
