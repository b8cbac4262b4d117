/* close.c - RFC 6455 section 5.5.1 / 7.4 close frames: code validity, payload parse and build. */
#include <string.h>

#include "wsk_proto.h"

int wsk_close_code_valid(unsigned code) {
  if (code >= 3000 && code <= 4999) return 1;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

int wsk_close_reason_check(const char *reason, size_t len) {
  if (len > WSK_MAX_CONTROL_PAYLOAD - 2) return WSK_EINVAL;
  return len && !wsk_utf8_valid((const uint8_t *)reason, len) ? WSK_EUTF8 : 0;
}

int wsk_close_parse(const uint8_t *payload, size_t len, unsigned *code, const char **reason,
                    size_t *reason_len) {
  unsigned c = WSK_CLOSE_NO_STATUS;
  if (len == 1 || len > WSK_MAX_CONTROL_PAYLOAD) return WSK_EPROTO;
  if (len >= 2) {
    c = (unsigned)payload[0] << 8 | payload[1];
    if (!wsk_close_code_valid(c)) return WSK_EPROTO;
    if (!wsk_utf8_valid(payload + 2, len - 2)) return WSK_EUTF8;
  }
  if (code) *code = c;
  if (reason) *reason = len >= 2 ? (const char *)payload + 2 : "";
  if (reason_len) *reason_len = len >= 2 ? len - 2 : 0;
  return 0;
}

size_t wsk_close_build(uint8_t out[WSK_MAX_CONTROL_PAYLOAD], unsigned code, const char *reason,
                       size_t reason_len) {
  const size_t max_reason = WSK_MAX_CONTROL_PAYLOAD - 2;
  if (code == 0) return 0;
  out[0] = (uint8_t)(code >> 8);
  out[1] = (uint8_t)code;
  if (!reason) reason_len = 0;
  if (reason_len > max_reason) {
    /* Cut before the character that straddles the limit: back up over continuation bytes. */
    reason_len = max_reason;
    while (reason_len > 0 && ((uint8_t)reason[reason_len] & 0xC0) == 0x80) reason_len--;
  }
  if (reason_len) memcpy(out + 2, reason, reason_len);
  return 2 + reason_len;
}

unsigned wsk_close_code_for_error(int err) {
  switch (err) {
  case WSK_EPROTO: return WSK_CLOSE_PROTOCOL;
  case WSK_EUTF8:
  case WSK_EDEFLATE: return WSK_CLOSE_INVALID_DATA;
  case WSK_ETOOBIG: return WSK_CLOSE_TOO_BIG;
  case WSK_EPOLICY: return WSK_CLOSE_POLICY;
  default: return WSK_CLOSE_INTERNAL;
  }
}
