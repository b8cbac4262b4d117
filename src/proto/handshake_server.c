/* handshake_server.c - the server side of the opening handshake: validating the upgrade request
 * (RFC 6455 4.2.1) and writing the 101 or the error response. */
#include <string.h>

#include "proto/handshake_internal.h"
#include "proto/http_internal.h"

int wsk_handshake_is_upgrade(const struct wsk_http_request *req) {
  return wsk_http_has_token(req->headers, req->num_headers, "Upgrade", "websocket");
}

/* The rules are checked in this order, and the first broken one is reported. The version comes
 * before the key so that a client speaking another protocol version (which may format its key
 * differently) is told which version to use (426) rather than that its key is wrong. */
static int check(const struct wsk_http_request *req, const char **why) {
  const struct wsk_header *h = req->headers;
  size_t n = req->num_headers;
  if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0) { /* methods are case-sensitive */
    *why = "the WebSocket handshake must be a GET request";
    return 405;
  }
  if (req->version_minor < 1) {
    *why = "the WebSocket handshake needs HTTP/1.1 or later";
    return 400;
  }
  size_t hosts = wsk_http_count_headers(h, n, "Host");
  if (hosts != 1) {
    *why = hosts ? "the request must have exactly one Host header"
                 : "the request must have a Host header";
    return 400;
  }
  if (!wsk_http_has_token(h, n, "Upgrade", "websocket")) {
    *why = "the Upgrade header must contain websocket";
    return 400;
  }
  if (!wsk_http_has_token(h, n, "Connection", "Upgrade")) {
    *why = "the Connection header must contain Upgrade";
    return 400;
  }
  const struct wsk_header *version = wsk_http_find_header(h, n, "Sec-WebSocket-Version");
  if (!version) {
    *why = "the request must have a Sec-WebSocket-Version: 13 header";
    return 426;
  }
  if (wsk_http_count_headers(h, n, "Sec-WebSocket-Version") != 1 ||
      !wsk__http_ieq(version->value, version->value_len, "13", 2)) {
    *why = "this server only speaks Sec-WebSocket-Version 13";
    return 426;
  }
  size_t keys = wsk_http_count_headers(h, n, "Sec-WebSocket-Key");
  if (keys != 1) {
    *why = keys ? "the request must have exactly one Sec-WebSocket-Key header"
                : "the request must have a Sec-WebSocket-Key header";
    return 400;
  }
  const struct wsk_header *key = wsk_http_find_header(h, n, "Sec-WebSocket-Key");
  if (!wsk__handshake_key_valid(key->value, key->value_len)) {
    *why = "Sec-WebSocket-Key must be base64 of 16 bytes";
    return 400;
  }
  return 0;
}

int wsk_handshake_check_request(const struct wsk_http_request *req,
                                struct wsk_upgrade_request *out, const char **why) {
  const char *reason = NULL;
  int status = check(req, &reason);
  if (why)
    *why = reason;
  if (status != 0)
    return status;
  const struct wsk_header *h = req->headers;
  size_t n = req->num_headers;
  const struct wsk_header *host = wsk_http_find_header(h, n, "Host");
  const struct wsk_header *origin = wsk_http_find_header(h, n, "Origin");
  out->key = wsk_http_find_header(h, n, "Sec-WebSocket-Key")->value;
  out->headers = h;
  out->num_headers = n;
  out->origin = origin ? origin->value : NULL;
  out->origin_len = origin ? origin->value_len : 0;
  out->host = host->value;
  out->host_len = host->value_len;
  return 0;
}

int wsk_handshake_write_response(char *out, size_t cap, const char *key, size_t key_len,
                                 const char *protocol, const char *extensions,
                                 const char *extra) {
  char accept[WSK_ACCEPT_LEN + 1];
  wsk_handshake_accept(key, key_len, accept);
  struct wsk__http_out o;
  wsk__http_out_init(&o, out, cap);
  wsk__http_out_str(&o, "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n");
  wsk__http_out_field(&o, "Sec-WebSocket-Accept", accept);
  if (protocol && *protocol)
    wsk__http_out_field(&o, "Sec-WebSocket-Protocol", protocol);
  if (extensions && *extensions)
    wsk__http_out_field(&o, "Sec-WebSocket-Extensions", extensions);
  wsk__http_out_lines(&o, extra);
  wsk__http_out_str(&o, "\r\n");
  return wsk__http_out_end(&o);
}

int wsk_handshake_write_error(char *out, size_t cap, int status, const char *why) {
  const char *extra = NULL;
  if (status == 426)
    extra = "Sec-WebSocket-Version: 13\r\n";
  else if (status == 405)
    extra = "Allow: GET\r\n";
  if (!why)
    why = wsk_http_status_text(status);
  return wsk_http_write_response(out, cap, status, "text/plain; charset=utf-8", extra, why,
                                 strlen(why), 1);
}
