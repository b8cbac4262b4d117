/* test_handshake_client.c - the client side of the opening handshake: the request it writes
 * (parsed back and accepted by the server-side check) and each rule of the response check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wsk.h"

#define MAXH 32

static const char *const key = "dGhlIHNhbXBsZSBub25jZQ==";
#define ACCEPT "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

static const char *str_of(const char *p, size_t n) {
  static char buf[512];
  memcpy(buf, p, n);
  buf[n] = 0;
  return buf;
}

static void test_write_request(void) {
  char out[1024];
  int n = wsk_handshake_write_request(out, sizeof out, "example.com:8080", "/chat?x=1", key, NULL,
                                      NULL, NULL, NULL);
  const char *want = "GET /chat?x=1 HTTP/1.1\r\n"
                     "Host: example.com:8080\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n";
  CHECK_EQ(n, strlen(want));
  CHECK_MEM(out, want, strlen(want));

  n = wsk_handshake_write_request(out, sizeof out, "[::1]:9", "", key, "chat, superchat",
                                  "http://example.com", "permessage-deflate",
                                  "Authorization: Bearer x\r\nX-Y: z\r\n");
  CHECK(n > 0);
  struct wsk_header h[MAXH];
  struct wsk_http_request req;
  CHECK_EQ(wsk_http_parse_request(out, (size_t)n, &req, h, MAXH, 8192), n);
  CHECK_STR(str_of(req.target, req.target_len), "/");
  CHECK(wsk_handshake_is_upgrade(&req));
  struct wsk_upgrade_request up;
  const char *why = "unset";
  CHECK_EQ(wsk_handshake_check_request(&req, &up, &why), 0);
  CHECK_STR(str_of(up.host, up.host_len), "[::1]:9");
  CHECK_STR(str_of(up.origin, up.origin_len), "http://example.com");
  CHECK_EQ(req.num_headers, 10);
  size_t line = 0, pos = 0, len;
  const char *p;
  CHECK(wsk_handshake_next_protocol(req.headers, req.num_headers, &line, &pos, &p, &len));
  CHECK_STR(str_of(p, len), "chat");
  CHECK(wsk_handshake_next_protocol(req.headers, req.num_headers, &line, &pos, &p, &len));
  CHECK_STR(str_of(p, len), "superchat");
  CHECK(wsk_http_find_header(h, req.num_headers, "Authorization") != NULL);

  /* a NULL path is "/" too; bad arguments */
  CHECK(wsk_handshake_write_request(out, sizeof out, "a", NULL, key, NULL, NULL, NULL, NULL) > 0);
  CHECK(memcmp(out, "GET / HTTP/1.1\r\n", 16) == 0);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, NULL, "/", key, NULL, NULL, NULL, NULL),
           WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "", "/", key, NULL, NULL, NULL, NULL),
           WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "a", "/", NULL, NULL, NULL, NULL, NULL),
           WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "a", "/a b", key, NULL, NULL, NULL, NULL),
           WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "a\r\nX: y", "/", key, NULL, NULL, NULL,
                                       NULL), WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "a", "/", key, "p\n", NULL, NULL, NULL),
           WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_request(out, sizeof out, "a", "/", key, NULL, NULL, NULL, "X: 1"),
           WSK_EINVAL);

  size_t need = strlen(want);
  for (size_t cap = 0; cap < need; cap++) {
    char *buf = malloc(cap + 4);
    memset(buf, '#', cap + 4);
    CHECK_EQ(wsk_handshake_write_request(buf, cap, "example.com:8080", "/chat?x=1", key, NULL,
                                         NULL, NULL, NULL), WSK_ENOSPC);
    CHECK_MEM(buf + cap, "####", 4);
    free(buf);
  }
}

static int check_res(const char *head, const char *offer, int allow_ext, const char **why) {
  static char buf[2048];
  static struct wsk_header h[MAXH];
  struct wsk_http_response res;
  snprintf(buf, sizeof buf, "%s\r\n", head);
  int rc = wsk_http_parse_response(buf, strlen(buf), &res, h, MAXH, 8192);
  CHECK(rc > 0);
  if (rc <= 0)
    return 1;
  *why = "unset";
  return wsk_handshake_check_response(&res, key, offer, allow_ext, why);
}

#define STATUS "HTTP/1.1 101 Switching Protocols\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"

static void test_check_response(void) {
  const char *why;
  CHECK_EQ(check_res(STATUS UPG CONN ACCEPT, NULL, 0, &why), 0);
  CHECK_EQ(check_res("HTTP/1.1 101\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
                     ACCEPT "Sec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: x\r\n",
                     "a, b", 1, &why), 0);
  CHECK_EQ(check_res(STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: a\r\n", "a", 0, &why), 0);

  struct fail_case {
    const char *head;
    const char *offer;
    int allow_ext;
    const char *why;
  };
  static const struct fail_case cases[] = {
      {"HTTP/1.1 200 OK\r\n" UPG CONN ACCEPT, NULL, 0,
       "the server did not answer 101 Switching Protocols"},
      {"HTTP/1.1 403 Forbidden\r\n", NULL, 0, "the server did not answer 101 Switching Protocols"},
      {STATUS CONN ACCEPT, NULL, 0, "the server's response lacks Upgrade: websocket"},
      {STATUS "Upgrade: h2c\r\n" CONN ACCEPT, NULL, 0,
       "the server's response lacks Upgrade: websocket"},
      {STATUS "Upgrade: websocket, h2c\r\n" CONN ACCEPT, NULL, 0,
       "the server's response lacks Upgrade: websocket"},
      {STATUS UPG UPG CONN ACCEPT, NULL, 0, "the server's response lacks Upgrade: websocket"},
      {"HTTP/1.0 101 Switching Protocols\r\n" UPG CONN ACCEPT, NULL, 0,
       "the server answered 101 in HTTP/1.0 (switching protocols needs HTTP/1.1)"},
      {STATUS UPG ACCEPT, NULL, 0, "the server's response lacks Connection: Upgrade"},
      {STATUS UPG "Connection: close\r\n" ACCEPT, NULL, 0,
       "the server's response lacks Connection: Upgrade"},
      {STATUS UPG CONN, NULL, 0, "the server's response has no Sec-WebSocket-Accept header"},
      {STATUS UPG CONN ACCEPT ACCEPT, NULL, 0,
       "the server's response has more than one Sec-WebSocket-Accept header"},
      {STATUS UPG CONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n", NULL, 0,
       "the server's Sec-WebSocket-Accept does not match the key sent"},
      {STATUS UPG CONN "Sec-WebSocket-Accept: S3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", NULL, 0,
       "the server's Sec-WebSocket-Accept does not match the key sent"},
      {STATUS UPG CONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo==\r\n", NULL, 0,
       "the server's Sec-WebSocket-Accept does not match the key sent"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n", NULL, 0,
       "the server chose a subprotocol although the client offered none"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n", " , ", 0,
       "the server chose a subprotocol although the client offered none"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n", "superchat, chatty", 0,
       "the server chose a subprotocol the client did not offer"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: Chat\r\n", "chat", 0,
       "the server chose a subprotocol the client did not offer"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: a, b\r\n", "a, b", 0,
       "the server chose a subprotocol the client did not offer"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol:\r\n", "a", 0,
       "the server chose a subprotocol the client did not offer"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: a\r\n", "a", 0,
       "the server chose a subprotocol the client did not offer"},
      {STATUS UPG CONN ACCEPT "Sec-WebSocket-Extensions: permessage-deflate\r\n", NULL, 0,
       "the server accepted an extension the client did not offer"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = check_res(cases[i].head, cases[i].offer, cases[i].allow_ext, &why);
    if (rc != WSK_EHANDSHAKE || strcmp(why, cases[i].why) != 0)
      fprintf(stderr, "response case %zu: %d \"%s\"\n", i, rc, why);
    CHECK_EQ(rc, WSK_EHANDSHAKE);
    CHECK_STR(why, cases[i].why);
  }
  /* why may be NULL */
  struct wsk_http_response res = {0};
  res.status = 200;
  CHECK_EQ(wsk_handshake_check_response(&res, key, NULL, 0, NULL), WSK_EHANDSHAKE);
}

/* The client's request, answered by the server side, satisfies the client's check. */
static void test_round_trip(void) {
  uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  char k[WSK_KEY_LEN + 1];
  wsk_handshake_make_key(nonce, k);
  char reqbuf[512], resbuf[512];
  int n = wsk_handshake_write_request(reqbuf, sizeof reqbuf, "h", "/", k, "x, y", NULL, NULL,
                                      NULL);
  struct wsk_header h[MAXH];
  struct wsk_http_request req;
  CHECK_EQ(wsk_http_parse_request(reqbuf, (size_t)n, &req, h, MAXH, 8192), n);
  struct wsk_upgrade_request up;
  const char *why;
  CHECK_EQ(wsk_handshake_check_request(&req, &up, &why), 0);
  n = wsk_handshake_write_response(resbuf, sizeof resbuf, up.key, WSK_KEY_LEN, "y", NULL, NULL);
  struct wsk_header rh[MAXH];
  struct wsk_http_response res;
  CHECK_EQ(wsk_http_parse_response(resbuf, (size_t)n, &res, rh, MAXH, 8192), n);
  CHECK_EQ(wsk_handshake_check_response(&res, k, "x, y", 0, &why), 0);
  CHECK_EQ(wsk_handshake_check_response(&res, "AAAAAAAAAAAAAAAAAAAAAA==", "x, y", 0, &why),
           WSK_EHANDSHAKE);
}

int main(void) {
  test_write_request();
  test_check_response();
  test_round_trip();
  return check_report();
}
