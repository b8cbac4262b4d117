/* request.c - what on_http sees of a request (percent-decoding, header lookup) and its reply. */
#include <string.h>

#include "server/server_internal.h"

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
