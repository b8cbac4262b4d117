/* request.c - what on_http sees of a request (percent-decoding, header lookup) and its reply. */
#include <string.h>

#include "server/server_internal.h"

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long wsk_percent_decode(char *s, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '%') {
      if (i + 2 >= len) return -1;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      ch = (char)(hi * 16 + lo);
      if (ch == '\0') return -1;
      i += 2;
    }
    s[o++] = ch;
  }
  return (long)o;
}

/* Header values were NUL-terminated in place when the request was built (http.c). */
const char *wsk_request_header(const struct wsk_request *req, const char *name) {
  const struct wsk_header *h = wsk_http_find_header(req->headers, req->num_headers, name);
  return h ? h->value : NULL;
}

int wsk_http_reply_send(wsk_http_reply *reply, int status, const char *content_type,
                        const char *extra, const void *body, size_t body_len) {
  if (!reply || reply->replied) return WSK_EINVAL;
  int r = wsk_server_respond(reply->c, status, content_type, extra, body, body_len,
                             reply->head_only, reply->close);
  if (r == 0) reply->replied = 1;
  return r;
}
