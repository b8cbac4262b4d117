/* test_handshake.c - the server side of the opening handshake: the RFC's key/accept pair, each
 * validation rule with its status, the offer iterators and the 101 and error responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wsk.h"

#define MAXH 32

static const char *const rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";

static const char *str_of(const char *p, size_t n) {
  static char buf[512];
  memcpy(buf, p, n);
  buf[n] = 0;
  return buf;
}

static void test_accept(void) {
  char out[WSK_ACCEPT_LEN + 1];
  memset(out, 'x', sizeof out);
  wsk_handshake_accept(rfc_key, strlen(rfc_key), out); /* RFC 6455 1.3 */
  CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  wsk_handshake_accept("x3JJHMbDL1EzLkh9GBhXDw==", 24, out); /* RFC 6455 4.2.2's example */
  CHECK_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  wsk_handshake_accept("", 0, out);
  CHECK_EQ(strlen(out), WSK_ACCEPT_LEN);

  uint8_t nonce[16];
  for (int i = 0; i < 16; i++)
    nonce[i] = (uint8_t)("the sample nonce"[i]);
  char key[WSK_KEY_LEN + 1];
  wsk_handshake_make_key(nonce, key);
  CHECK_STR(key, rfc_key);
  memset(nonce, 0xff, sizeof nonce);
  wsk_handshake_make_key(nonce, key);
  CHECK_STR(key, "/////////////////////w==");
}

/* Build a request from a request line and header lines, parse it and check it. */
static int check_req(const char *head, const char **why, struct wsk_upgrade_request *up) {
  static char buf[2048];
  static struct wsk_header headers[MAXH];
  struct wsk_http_request req;
  snprintf(buf, sizeof buf, "%s\r\n", head);
  int rc = wsk_http_parse_request(buf, strlen(buf), &req, headers, MAXH, 8192);
  CHECK(rc > 0);
  if (rc <= 0)
    return -1;
  struct wsk_upgrade_request local;
  *why = "unset";
  return wsk_handshake_check_request(&req, up ? up : &local, why);
}

#define GOOD_HOST "Host: server.example.com\r\n"
#define GOOD_UPGRADE "Upgrade: websocket\r\n"
#define GOOD_CONN "Connection: Upgrade\r\n"
#define GOOD_KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define GOOD_VERSION "Sec-WebSocket-Version: 13\r\n"

static void test_valid_request(void) {
  const char *why;
  struct wsk_upgrade_request up;
  int rc = check_req("GET /chat HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY
                     "Origin: http://example.com\r\n"
                     "Sec-WebSocket-Protocol: chat, superchat\r\n" GOOD_VERSION,
                     &why, &up);
  CHECK_EQ(rc, 0);
  CHECK(why == NULL);
  CHECK_STR(str_of(up.key, WSK_KEY_LEN), rfc_key);
  CHECK_STR(str_of(up.host, up.host_len), "server.example.com");
  CHECK_STR(str_of(up.origin, up.origin_len), "http://example.com");
  CHECK_EQ(up.num_headers, 7);

  /* folded and case-insensitive tokens, later HTTP/1.x, no Origin */
  rc = check_req("GET / HTTP/1.2\r\n" GOOD_HOST "upgrade: h2c, WebSocket\r\n"
                 "connection: keep-alive\r\nConnection: upgrade\r\n"
                 "sec-websocket-key:   AAAAAAAAAAAAAAAAAAAAAA==  \r\nsec-websocket-version: 13\r\n",
                 &why, &up);
  CHECK_EQ(rc, 0);
  CHECK(up.origin == NULL);
  CHECK_EQ(up.origin_len, 0);
  CHECK_STR(str_of(up.key, WSK_KEY_LEN), "AAAAAAAAAAAAAAAAAAAAAA==");
}

struct rule_case {
  const char *head;
  int status;
  const char *why_part;
};

static void test_rules(void) {
  static const struct rule_case cases[] = {
      {"POST / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION, 405, "GET"},
      {"get / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION, 405, "GET"},
      {"GET / HTTP/1.0\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION, 400,
       "HTTP/1.1"},
      {"GET / HTTP/1.1\r\n" GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION, 400, "Host"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION, 400,
       "exactly one Host"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_CONN GOOD_KEY GOOD_VERSION, 400, "Upgrade header"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST "Upgrade: websocketx\r\n" GOOD_CONN GOOD_KEY GOOD_VERSION,
       400, "Upgrade header"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_KEY GOOD_VERSION, 400, "Connection"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE "Connection: keep-alive\r\n" GOOD_KEY
       GOOD_VERSION, 400, "Connection"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY, 426,
       "Sec-WebSocket-Version"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY "Sec-WebSocket-Version: 8\r\n",
       426, "Sec-WebSocket-Version"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY
       "Sec-WebSocket-Version: 13, 8\r\n", 426, "Sec-WebSocket-Version"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_VERSION GOOD_VERSION,
       426, "Sec-WebSocket-Version"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_VERSION, 400,
       "Sec-WebSocket-Key header"},
      {"GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_KEY GOOD_KEY GOOD_VERSION, 400,
       "exactly one Sec-WebSocket-Key"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *why;
    int rc = check_req(cases[i].head, &why, NULL);
    if (rc != cases[i].status || !why || !strstr(why, cases[i].why_part))
      fprintf(stderr, "rule case %zu: %d \"%s\"\n", i, rc, why ? why : "(null)");
    CHECK_EQ(rc, cases[i].status);
    CHECK(why && strstr(why, cases[i].why_part));
  }
}

static void test_keys(void) {
  static const char *const bad[] = {
      "",
      "dGhlIHNhbXBsZSBub25jZQ=",     /* 23 chars */
      "dGhlIHNhbXBsZSBub25jZQ===",   /* 25 chars */
      "dGhlIHNhbXBsZSBub25jZQ",      /* no padding */
      "dGhlIHNhbXBsZSBub25jZQQ=",    /* 17 bytes' worth */
      "dGhlIHNhbXBsZSBub25jZ===",    /* wrong padding */
      "dGhlIHNhbXBsZSBub25jZ-==",    /* base64url alphabet */
      "dGhlIHNhbXBsZSBub25j_Q==",
      "dGhlIHNhbXBsZSBu b25jZQ==",
      "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==",
      "dGhlIHNhbXBsZSBub25jZQ==,",
      "\"dGhlIHNhbXBsZSBub25jZQ==\"",
      "dGhlIHNhbXBs.SBub25jZQ==",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char head[512];
    snprintf(head, sizeof head,
             "GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_VERSION
             "Sec-WebSocket-Key: %s\r\n", bad[i]);
    const char *why;
    CHECK_EQ(check_req(head, &why, NULL), 400);
    CHECK_STR(why, "Sec-WebSocket-Key must be base64 of 16 bytes");
  }
  const char *why;
  CHECK_EQ(check_req("GET / HTTP/1.1\r\n" GOOD_HOST GOOD_UPGRADE GOOD_CONN GOOD_VERSION
                     "Sec-WebSocket-Key: +/+/+/+/+/09azAZ+/+/+/==\r\n", &why, NULL), 0);
}

static int parse_head(const char *s, struct wsk_http_request *req, struct wsk_header *h) {
  return wsk_http_parse_request(s, strlen(s), req, h, MAXH, 8192);
}

static void test_is_upgrade(void) {
  struct wsk_header h[MAXH];
  struct wsk_http_request req;
  CHECK(parse_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &req, h) > 0);
  CHECK(!wsk_handshake_is_upgrade(&req));
  CHECK(parse_head("GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", &req, h) > 0);
  CHECK(!wsk_handshake_is_upgrade(&req));
  CHECK(parse_head("POST / HTTP/1.0\r\nUpgrade: foo, WEBSOCKET\r\n\r\n", &req, h) > 0);
  CHECK(wsk_handshake_is_upgrade(&req));
}

static void test_offers(void) {
  struct wsk_header h[MAXH];
  struct wsk_http_request req;
  CHECK(parse_head("GET / HTTP/1.1\r\n"
                   "Sec-WebSocket-Protocol: chat, superchat\r\n"
                   "Host: a\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, "
                   "foo; x=\"a,b\"\r\n"
                   "sec-websocket-protocol:\r\n"
                   "SEC-WEBSOCKET-PROTOCOL: ,v2.json ,\r\n"
                   "Sec-WebSocket-Extensions: bar\r\n"
                   "\r\n",
                   &req, h) > 0);
  char all[256] = "";
  size_t line = 0, pos = 0, n;
  const char *p;
  while (wsk_handshake_next_protocol(req.headers, req.num_headers, &line, &pos, &p, &n)) {
    strcat(all, str_of(p, n));
    strcat(all, "|");
  }
  CHECK_STR(all, "chat|superchat|v2.json|");
  CHECK(!wsk_handshake_next_protocol(req.headers, req.num_headers, &line, &pos, &p, &n));
  all[0] = 0;
  line = pos = 0;
  while (wsk_handshake_next_extension(req.headers, req.num_headers, &line, &pos, &p, &n)) {
    strcat(all, str_of(p, n));
    strcat(all, "|");
  }
  CHECK_STR(all, "permessage-deflate; client_max_window_bits|foo; x=\"a,b\"|bar|");
  line = pos = 0;
  CHECK(!wsk_handshake_next_protocol(NULL, 0, &line, &pos, &p, &n));
}

static void test_write_response(void) {
  char out[512];
  int n = wsk_handshake_write_response(out, sizeof out, rfc_key, WSK_KEY_LEN, NULL, NULL, NULL);
  const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                     "\r\n";
  CHECK_EQ(n, strlen(want));
  CHECK_MEM(out, want, strlen(want));

  n = wsk_handshake_write_response(out, sizeof out, rfc_key, WSK_KEY_LEN, "chat",
                                   "permessage-deflate; server_no_context_takeover",
                                   "Set-Cookie: a=b\r\n");
  CHECK(n > 0);
  struct wsk_header h[MAXH];
  struct wsk_http_response res;
  CHECK_EQ(wsk_http_parse_response(out, (size_t)n, &res, h, MAXH, 8192), n);
  CHECK_EQ(res.status, 101);
  CHECK_EQ(res.num_headers, 6);
  const char *why = NULL;
  CHECK_EQ(wsk_handshake_check_response(&res, rfc_key, "superchat, chat", 1, &why), 0);
  const struct wsk_header *e = wsk_http_find_header(h, res.num_headers, "Sec-WebSocket-Extensions");
  CHECK(e && e->value_len == 46);
  CHECK(wsk_http_find_header(h, res.num_headers, "Set-Cookie") != NULL);

  /* empty strings mean none; control bytes are refused */
  CHECK_EQ(wsk_handshake_write_response(out, sizeof out, rfc_key, WSK_KEY_LEN, "", "", ""),
           (int)strlen(want));
  CHECK_EQ(wsk_handshake_write_response(out, sizeof out, rfc_key, WSK_KEY_LEN, "a\r\nb", NULL,
                                        NULL), WSK_EINVAL);
  CHECK_EQ(wsk_handshake_write_response(out, sizeof out, rfc_key, WSK_KEY_LEN, NULL, NULL,
                                        "X: 1\r\n\r\nbody"), WSK_EINVAL);

  size_t need = strlen(want);
  for (size_t cap = 0; cap < need; cap++) {
    char *buf = malloc(cap + 4);
    memset(buf, '#', cap + 4);
    CHECK_EQ(wsk_handshake_write_response(buf, cap, rfc_key, WSK_KEY_LEN, NULL, NULL, NULL),
             WSK_ENOSPC);
    CHECK_MEM(buf + cap, "####", 4);
    free(buf);
  }
}

static void test_write_error(void) {
  static const int statuses[] = {400, 403, 404, 405, 426, 431, 503};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    char out[512];
    const char *why = "Sec-WebSocket-Key must be base64 of 16 bytes";
    int n = wsk_handshake_write_error(out, sizeof out, statuses[i], why);
    CHECK(n > 0);
    struct wsk_header h[MAXH];
    struct wsk_http_response res;
    int head = wsk_http_parse_response(out, (size_t)n, &res, h, MAXH, 8192);
    CHECK(head > 0);
    CHECK_EQ(res.status, statuses[i]);
    CHECK_STR(str_of(res.reason, res.reason_len), wsk_http_status_text(statuses[i]));
    CHECK_EQ((size_t)n - (size_t)head, strlen(why));
    CHECK_MEM(out + head, why, strlen(why));
    const struct wsk_header *cl = wsk_http_find_header(h, res.num_headers, "Content-Length");
    CHECK(cl && strcmp(str_of(cl->value, cl->value_len), "44") == 0);
    const struct wsk_header *ct = wsk_http_find_header(h, res.num_headers, "Content-Type");
    CHECK(ct && ct->value_len >= 10 && memcmp(ct->value, "text/plain", 10) == 0);
    CHECK(wsk_http_has_token(h, res.num_headers, "Connection", "close"));
    const struct wsk_header *v = wsk_http_find_header(h, res.num_headers, "Sec-WebSocket-Version");
    if (statuses[i] == 426)
      CHECK(v && strcmp(str_of(v->value, v->value_len), "13") == 0);
    else
      CHECK(v == NULL);
    const struct wsk_header *allow = wsk_http_find_header(h, res.num_headers, "Allow");
    CHECK((allow != NULL) == (statuses[i] == 405));
  }
  char out[256];
  int n = wsk_handshake_write_error(out, sizeof out, 503, NULL);
  CHECK(n > 19 && memcmp(out + n - 19, "Service Unavailable", 19) == 0);
  CHECK_EQ(wsk_handshake_write_error(out, 40, 400, "x"), WSK_ENOSPC);
}

int main(void) {
  test_accept();
  test_valid_request();
  test_rules();
  test_keys();
  test_is_upgrade();
  test_offers();
  test_write_response();
  test_write_error();
  return check_report();
}
