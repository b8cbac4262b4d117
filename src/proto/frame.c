/* frame.c - the RFC 6455 section 5.2 frame header: parse and write; and whole frames.
 * Non-minimal length encodings (a 16-bit length below 126, a 64-bit length below 65536) are
 * refused with WSK_EPROTO: section 5.2 says the minimal number of bytes MUST be used. */
#include <string.h>

#include "proto/frame_internal.h"

void wsk__frame_decode_start(const uint8_t b[2], struct wsk_frame_header *h) {
  uint8_t len7 = b[1] & 0x7F;
  h->fin = b[0] >> 7;
  h->rsv = (b[0] >> 4) & 0x7;
  h->opcode = b[0] & 0x0F;
  h->masked = b[1] >> 7;
  h->payload_len = len7;
  h->header_len = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (h->masked ? 4 : 0));
}

static uint64_t read_be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

int wsk_frame_parse_header(const uint8_t *buf, size_t len, struct wsk_frame_header *h) {
  if (len < 2) return WSK_EAGAIN;
  wsk__frame_decode_start(buf, h);
  if (len < h->header_len) return WSK_EAGAIN;
  const uint8_t *p = buf + 2;
  if (h->payload_len == 126) {
    h->payload_len = read_be(p, 2);
    p += 2;
    if (h->payload_len < 126) return WSK_EPROTO;
  } else if (h->payload_len == 127) {
    h->payload_len = read_be(p, 8);
    p += 8;
    if (h->payload_len >> 63 || h->payload_len <= 0xFFFF) return WSK_EPROTO;
  }
  if (h->masked)
    memcpy(h->mask, p, 4);
  else
    memset(h->mask, 0, 4);
  return h->header_len;
}

size_t wsk_frame_write_header(uint8_t *out, int fin, int rsv, int opcode, uint64_t payload_len,
                              const uint8_t *mask) {
  size_t n = 2;
  out[0] = (uint8_t)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F));
  uint8_t mask_bit = mask ? 0x80 : 0;
  if (payload_len < 126) {
    out[1] = (uint8_t)(mask_bit | payload_len);
  } else {
    int bytes = payload_len <= 0xFFFF ? 2 : 8;
    out[1] = (uint8_t)(mask_bit | (bytes == 2 ? 126 : 127));
    for (int i = 0; i < bytes; i++) out[n++] = (uint8_t)(payload_len >> (8 * (bytes - 1 - i)));
  }
  if (mask) {
    memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

int wsk_frame_encode(uint8_t *out, size_t cap, int opcode, unsigned flags, const void *payload,
                     size_t len, const uint8_t *key, size_t *out_len) {
  int control = opcode >= WSK_OP_CLOSE;
  if ((opcode > WSK_OP_BINARY && opcode < WSK_OP_CLOSE) || opcode > WSK_OP_PONG || opcode < 0 ||
      (control && (!(flags & WSK_FRAME_FIN) || (flags & WSK_FRAME_RSV1) ||
                   len > WSK_MAX_CONTROL_PAYLOAD)) ||
      (!payload && len))
    return WSK_EINVAL;
  if (len > SIZE_MAX - WSK_MAX_FRAME_HEADER || cap < WSK_FRAME_SIZE(len, key != NULL))
    return WSK_ENOSPC;
  size_t n = wsk_frame_write_header(out, flags & WSK_FRAME_FIN, flags & WSK_FRAME_RSV1 ? 4 : 0,
                                    opcode, len, key);
  if (len) memcpy(out + n, payload, len);
  if (key) wsk_mask(out + n, len, key, 0);
  *out_len = n + len;
  return 0;
}
