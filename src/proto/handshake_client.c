/* handshake_client.c - the client side of the opening handshake: writing the upgrade request and
 * checking the server's answer (RFC 6455 4.1). */
#include <string.h>
#include <strings.h>

#include "proto/http_internal.h"

int wsk_handshake_write_request(char *out, size_t cap, const char *host_port,
                                const char *path, const char *key, const char *protocols,
                                const char *origin, const char *extensions,
                                const char *extra) {
  if (!host_port || !*host_port || !key)
    return WSK_EINVAL;
  if (!path || !*path)
    path = "/";
  struct wsk__http_out o;
  wsk__http_out_init(&o, out, cap);
  for (const char *p = path; *p; p++)
    if (!wsk__http_is_target_byte((unsigned char)*p))
      o.invalid = 1;
  wsk__http_out_str(&o, "GET ");
  wsk__http_out_str(&o, path);
  wsk__http_out_str(&o, " HTTP/1.1\r\n");
  wsk__http_out_field(&o, "Host", host_port);
  wsk__http_out_str(&o, "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n");
  wsk__http_out_field(&o, "Sec-WebSocket-Key", key);
  wsk__http_out_str(&o, "Sec-WebSocket-Version: 13\r\n");
  if (protocols && *protocols)
    wsk__http_out_field(&o, "Sec-WebSocket-Protocol", protocols);
  if (origin && *origin)
    wsk__http_out_field(&o, "Origin", origin);
  if (extensions && *extensions)
    wsk__http_out_field(&o, "Sec-WebSocket-Extensions", extensions);
  wsk__http_out_lines(&o, extra);
  wsk__http_out_str(&o, "\r\n");
  return wsk__http_out_end(&o);
}

static int fail(const char **why, const char *reason) {
  if (why)
    *why = reason;
  return WSK_EHANDSHAKE;
}

/* 1 if value[0..len) is one element of the comma-separated offer (compared exactly: subprotocol
 * names are case-sensitive). */
static int offered(const char *offer, const char *value, size_t len) {
  size_t pos = 0, elem_len;
  const char *elem;
  while (wsk_http_list_next(offer, strlen(offer), &pos, &elem, &elem_len))
    if (elem_len == len && memcmp(elem, value, len) == 0)
      return 1;
  return 0;
}

static int check_accept(const struct wsk_http_response *res, const char *key, const char **why) {
  const struct wsk_header *h = res->headers;
  size_t n = res->num_headers;
  size_t count = wsk_http_count_headers(h, n, "Sec-WebSocket-Accept");
  if (count == 0)
    return fail(why, "the server's response has no Sec-WebSocket-Accept header");
  if (count > 1)
    return fail(why, "the server's response has more than one Sec-WebSocket-Accept header");
  const struct wsk_header *accept = wsk_http_find_header(h, n, "Sec-WebSocket-Accept");
  char expected[WSK_ACCEPT_LEN + 1];
  wsk_handshake_accept(key, strlen(key), expected);
  if (accept->value_len != WSK_ACCEPT_LEN || memcmp(accept->value, expected, WSK_ACCEPT_LEN) != 0)
    return fail(why, "the server's Sec-WebSocket-Accept does not match the key sent");
  return 0;
}

static int check_protocol(const struct wsk_http_response *res, const char *offer,
                          const char **why) {
  const struct wsk_header *h = res->headers;
  size_t n = res->num_headers;
  const struct wsk_header *proto = wsk_http_find_header(h, n, "Sec-WebSocket-Protocol");
  if (!proto)
    return 0;
  size_t pos = 0, elem_len;
  const char *elem;
  if (!offer || !wsk_http_list_next(offer, strlen(offer), &pos, &elem, &elem_len))
    return fail(why, "the server chose a subprotocol although the client offered none");
  if (wsk_http_count_headers(h, n, "Sec-WebSocket-Protocol") != 1 ||
      !offered(offer, proto->value, proto->value_len))
    return fail(why, "the server chose a subprotocol the client did not offer");
  return 0;
}

/* RFC 6455 4.1: the answer's one Upgrade header is "websocket" in any case, and nothing else (a
 * server that names another protocol has not switched to WebSocket alone). */
static int upgrade_is_websocket(const struct wsk_header *h, size_t n) {
  const struct wsk_header *up = wsk_http_find_header(h, n, "Upgrade");
  return up && wsk_http_count_headers(h, n, "Upgrade") == 1 && up->value_len == 9 &&
         strncasecmp(up->value, "websocket", 9) == 0;
}

int wsk_handshake_check_response(const struct wsk_http_response *res, const char *key,
                                 const char *offered_protocols, int allow_extensions,
                                 const char **why) {
  const struct wsk_header *h = res->headers;
  size_t n = res->num_headers;
  if (res->status != 101)
    return fail(why, "the server did not answer 101 Switching Protocols");
  if (res->version_minor < 1)
    return fail(why, "the server answered 101 in HTTP/1.0 (switching protocols needs HTTP/1.1)");
  if (!upgrade_is_websocket(h, n))
    return fail(why, "the server's response lacks Upgrade: websocket");
  if (!wsk_http_has_token(h, n, "Connection", "Upgrade"))
    return fail(why, "the server's response lacks Connection: Upgrade");
  int rc = check_accept(res, key, why);
  if (rc == 0)
    rc = check_protocol(res, offered_protocols, why);
  if (rc == 0 && !allow_extensions && wsk_http_find_header(h, n, "Sec-WebSocket-Extensions"))
    rc = fail(why, "the server accepted an extension the client did not offer");
  return rc;
}
