/* handshake_offer.c - walking the subprotocols and extensions a client offers, across all lines
 * of the header. */
#include <string.h>

#include "proto/http_internal.h"

static int next_element(const struct wsk_header *headers, size_t n, const char *name,
                        size_t *line, size_t *pos, const char **elem, size_t *elem_len) {
  size_t name_len = strlen(name);
  for (; *line < n; (*line)++, *pos = 0) {
    const struct wsk_header *h = &headers[*line];
    if (wsk__http_ieq(h->name, h->name_len, name, name_len) &&
        wsk_http_list_next(h->value, h->value_len, pos, elem, elem_len))
      return 1;
  }
  return 0;
}

int wsk_handshake_next_protocol(const struct wsk_header *headers, size_t n, size_t *line,
                                size_t *pos, const char **proto, size_t *proto_len) {
  return next_element(headers, n, "Sec-WebSocket-Protocol", line, pos, proto, proto_len);
}

int wsk_handshake_next_extension(const struct wsk_header *headers, size_t n, size_t *line,
                                 size_t *pos, const char **ext, size_t *ext_len) {
  return next_element(headers, n, "Sec-WebSocket-Extensions", line, pos, ext, ext_len);
}
