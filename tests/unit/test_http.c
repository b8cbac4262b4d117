/* test_http.c - the HTTP/1.1 head parsers: fields, every split of the input, limits, and each
 * malformed pattern. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wsk.h"

#define MAXH 16

static int parse_req(const char *s, size_t len, struct wsk_http_request *req) {
  static struct wsk_header headers[MAXH];
  return wsk_http_parse_request(s, len, req, headers, MAXH, WSK_DEFAULT_MAX_HEADER_BYTES);
}

static int req_result(const char *s) {
  struct wsk_http_request req;
  return parse_req(s, strlen(s), &req);
}

static int parse_res(const char *s, size_t len, struct wsk_http_response *res) {
  static struct wsk_header headers[MAXH];
  return wsk_http_parse_response(s, len, res, headers, MAXH, WSK_DEFAULT_MAX_HEADER_BYTES);
}

static int res_result(const char *s) {
  struct wsk_http_response res;
  return parse_res(s, strlen(s), &res);
}

/* Each prefix, copied into a buffer of exactly its size (so ASan sees any over-read), must give
 * WSK_EAGAIN or the final result; a complete head must give WSK_EAGAIN for every shorter prefix. */
static void check_splits(const char *s, int is_request) {
  size_t n = strlen(s);
  int whole = is_request ? req_result(s) : res_result(s);
  for (size_t k = 0; k <= n; k++) {
    char *copy = malloc(k ? k : 1);
    memcpy(copy, s, k);
    int rc;
    if (is_request) {
      struct wsk_http_request req;
      rc = parse_req(copy, k, &req);
    } else {
      struct wsk_http_response res;
      rc = parse_res(copy, k, &res);
    }
    if (whole > 0)
      CHECK_EQ(rc, (size_t)whole <= k ? whole : WSK_EAGAIN);
    else
      CHECK(rc == WSK_EAGAIN || rc == whole);
    free(copy);
  }
}

static const char *str_of(const char *p, size_t n) {
  static char buf[256];
  memcpy(buf, p, n);
  buf[n] = 0;
  return buf;
}

static void test_request_fields(void) {
  const char *s = "GET /chat?room=1 HTTP/1.1\r\n"
                  "Host: example.com:8080\r\n"
                  "upgrade:websocket  \r\n"
                  "X-Empty:\r\n"
                  "X-Tab:\t a\tb \t\r\n"
                  "X-Utf8: caf\xc3\xa9\r\n"
                  "\r\n"
                  "body bytes";
  struct wsk_http_request req;
  int rc = parse_req(s, strlen(s), &req);
  CHECK_EQ(rc, strlen(s) - strlen("body bytes"));
  CHECK_EQ(req.head_len, (size_t)rc);
  CHECK_STR(str_of(req.method, req.method_len), "GET");
  CHECK_STR(str_of(req.target, req.target_len), "/chat?room=1");
  CHECK_EQ(req.version_minor, 1);
  CHECK_EQ(req.num_headers, 5);
  CHECK_STR(str_of(req.headers[0].name, req.headers[0].name_len), "Host");
  CHECK_STR(str_of(req.headers[0].value, req.headers[0].value_len), "example.com:8080");
  CHECK_STR(str_of(req.headers[1].name, req.headers[1].name_len), "upgrade");
  CHECK_STR(str_of(req.headers[1].value, req.headers[1].value_len), "websocket");
  CHECK_EQ(req.headers[2].value_len, 0);
  CHECK_STR(str_of(req.headers[3].value, req.headers[3].value_len), "a\tb");
  CHECK_STR(str_of(req.headers[4].value, req.headers[4].value_len), "caf\xc3\xa9");

  CHECK_EQ(req_result("GET / HTTP/1.0\r\n\r\n"), 18);
  CHECK_EQ(req_result("OPTIONS * HTTP/1.1\r\n\r\n"), 22);
  CHECK_EQ(req_result("M-SEARCH http://a/b HTTP/1.9\r\n\r\n"), 32);
  CHECK_EQ(parse_req(s, strlen(s), &req), rc);
  CHECK_EQ(wsk_http_parse_request("GET / HTTP/1.0\r\n\r\n", 18, NULL, NULL, 0, 100), WSK_EINVAL);
  CHECK_EQ(wsk_http_parse_request(NULL, 0, &req, NULL, 0, 100), WSK_EAGAIN);
}

static void test_response_fields(void) {
  const char *s = "HTTP/1.1 101 Switching Protocols\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                  "\r\n\x81\x02hi";
  struct wsk_http_response res;
  int rc = parse_res(s, strlen(s), &res);
  CHECK_EQ(rc, strlen(s) - 4);
  CHECK_EQ(res.status, 101);
  CHECK_EQ(res.version_minor, 1);
  CHECK_STR(str_of(res.reason, res.reason_len), "Switching Protocols");
  CHECK_EQ(res.num_headers, 3);
  CHECK_EQ(res.head_len, (size_t)rc);

  CHECK_EQ(parse_res("HTTP/1.0 404\r\n\r\n", 16, &res), 16);
  CHECK_EQ(res.status, 404);
  CHECK_EQ(res.reason_len, 0);
  CHECK_EQ(res.version_minor, 0);
  CHECK_EQ(res_result("HTTP/1.1 200 \r\n\r\n"), 17);
  CHECK_EQ(res_result("HTTP/1.1 599 Whatever \t it\xff is\r\n\r\n"), 34);
}

static void test_splits(void) {
  check_splits("GET /chat HTTP/1.1\r\n"
               "Host: server.example.com\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Origin: http://example.com\r\n"
               "Sec-WebSocket-Protocol: chat, superchat\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "\r\n",
               1);
  check_splits("GET / HTTP/1.1\r\n\r\n", 1);
  check_splits("POST /x HTTP/1.0\r\nA:\r\nB: c\r\n\r\nbody", 1);
  check_splits("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0);
  check_splits("HTTP/1.1 204\r\n\r\n", 0);
  /* malformed heads fail as soon as the bad line is complete, and never differently */
  check_splits("GET / HTTP/1.1\r\nA: b\r\nBad Name: x\r\nC: d\r\n\r\n", 1);
  check_splits("GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", 1);
  check_splits("GET / HTTP/2.0\r\n\r\n", 1);
  check_splits("HTTP/1.1 1x1 Nope\r\n\r\n", 0);
  CHECK_EQ(req_result("GET / HTTP/1.1\r\nBad Name: x\r\n"), WSK_EHTTP); /* before the end */
}

/* A request of exactly `total` head bytes: one padding header fills it. */
static char *request_of_size(size_t total, size_t extra_tail) {
  const char *start = "GET / HTTP/1.1\r\nX-Pad: ";
  size_t fixed = strlen(start) + 4; /* the pad line's CRLF and the final CRLF */
  char *s = malloc(total + extra_tail + 1);
  strcpy(s, start);
  memset(s + strlen(start), 'a', total - fixed);
  memcpy(s + total - 4, "\r\n\r\n", 4);
  memset(s + total, 'z', extra_tail);
  s[total + extra_tail] = 0;
  return s;
}

static void test_byte_limit(void) {
  struct wsk_header headers[4];
  struct wsk_http_request req;
  const size_t max = WSK_DEFAULT_MAX_HEADER_BYTES;
  char *s = request_of_size(max, 100);
  CHECK_EQ(wsk_http_parse_request(s, max + 100, &req, headers, 4, max), (int)max);
  CHECK_EQ(wsk_http_parse_request(s, max - 1, &req, headers, 4, max), WSK_EAGAIN);
  CHECK_EQ(wsk_http_parse_request(s, max, &req, headers, 4, max), (int)max);
  free(s);
  s = request_of_size(max + 1, 0);
  CHECK_EQ(wsk_http_parse_request(s, max, &req, headers, 4, max), WSK_EAGAIN);
  CHECK_EQ(wsk_http_parse_request(s, max + 1, &req, headers, 4, max), WSK_EHEADERS);
  free(s);
  /* 9 KiB with no end yet is already too big */
  s = request_of_size(9 * 1024 + 64, 0);
  CHECK_EQ(wsk_http_parse_request(s, 9 * 1024, &req, headers, 4, max), WSK_EHEADERS);
  CHECK_EQ(wsk_http_parse_request(s, 9 * 1024, &req, headers, 4, 16 * 1024), WSK_EAGAIN);
  free(s);
  /* the last CRLF just over the limit */
  s = request_of_size(max + 2, 0);
  CHECK_EQ(wsk_http_parse_request(s, max + 2, &req, headers, 4, max), WSK_EHEADERS);
  CHECK_EQ(wsk_http_parse_request(s, max + 2, &req, headers, 4, max + 2), (int)max + 2);
  free(s);
  /* a request line that does not end within the limit is malformed */
  s = malloc(max + 10);
  memcpy(s, "GET /", 5);
  memset(s + 5, 'a', max + 5);
  CHECK_EQ(wsk_http_parse_request(s, max + 10, &req, headers, 4, max), WSK_EHTTP);
  CHECK_EQ(wsk_http_parse_request(s, max, &req, headers, 4, max), WSK_EAGAIN);
  free(s);
  /* the same limit for responses */
  struct wsk_http_response res;
  CHECK_EQ(wsk_http_parse_response("HTTP/1.1 200 OK\r\nA: bb\r\n\r\n", 26, &res, headers, 4, 25),
           WSK_EHEADERS);
  CHECK_EQ(wsk_http_parse_response("HTTP/1.1 200 OK\r\nA: bb\r\n\r\n", 26, &res, headers, 4, 26),
           26);
}

static char *request_with_headers(size_t count) {
  char *s = malloc(32 + count * 16), *p = s;
  p += sprintf(p, "GET / HTTP/1.1\r\n");
  for (size_t i = 0; i < count; i++)
    p += sprintf(p, "H%zu: v\r\n", i);
  sprintf(p, "\r\n");
  return s;
}

static void test_header_count_limit(void) {
  struct wsk_header headers[WSK_DEFAULT_MAX_HEADERS];
  struct wsk_http_request req;
  char *s = request_with_headers(100);
  CHECK(wsk_http_parse_request(s, strlen(s), &req, headers, 100, 8192) > 0);
  CHECK_EQ(req.num_headers, 100);
  free(s);
  s = request_with_headers(101);
  CHECK_EQ(wsk_http_parse_request(s, strlen(s), &req, headers, 100, 8192), WSK_EHEADERS);
  /* detected before the head is complete */
  CHECK_EQ(wsk_http_parse_request(s, strlen(s) - 2, &req, headers, 100, 8192), WSK_EHEADERS);
  free(s);
  CHECK_EQ(wsk_http_parse_request("GET / HTTP/1.1\r\n\r\n", 18, &req, NULL, 0, 8192), 18);
  CHECK_EQ(wsk_http_parse_request("GET / HTTP/1.1\r\nA: b\r\n\r\n", 24, &req, headers, 0, 8192),
           WSK_EHEADERS);
}

static void test_malformed_requests(void) {
  static const char *const bad[] = {
      "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",   /* bare CR in a value */
      "GET / HTTP/1.1\rX\r\n\r\n",           /* bare CR ending the request line */
      "GET / HTTP/1.1\r\nA: b\r\r\n\r\n",    /* CR CR LF */
      "GET / HTTP/1.1\n\n",                  /* LF-only line endings */
      "GET / HTTP/1.1\r\nA: b\n\r\n",        /* one LF-only line */
      "GET / HTTP/1.1\r\n\n",                /* LF-only end of head */
      "GET / HTTP/1.1\r\nA\0b: c\r\n\r\n",   /* NUL in a name */
      "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n",   /* NUL in a value */
      "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",  /* control byte in a value */
      "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",  /* DEL in a value */
      "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  /* obs-fold with SP */
      "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", /* obs-fold with HTAB */
      "GET / HTTP/1.1\r\n: b\r\n\r\n",       /* empty header name */
      "GET / HTTP/1.1\r\nA : b\r\n\r\n",     /* space before the colon */
      "GET / HTTP/1.1\r\nA\t: b\r\n\r\n",    /* tab before the colon */
      "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
      "GET / HTTP/1.1\r\nNocolon\r\n\r\n",
      "GET / HTTP/1.1\r\nA(b): c\r\n\r\n",   /* separator in a name */
      "GET / HTTP/1.1\r\nA\xc3\xa9: c\r\n\r\n", /* non-ASCII name */
      "G@T / HTTP/1.1\r\n\r\n",              /* bad method char */
      "GE T / HTTP/1.1\r\n\r\n",
      " GET / HTTP/1.1\r\n\r\n",
      "/ HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",           /* space inside the target */
      "GET  / HTTP/1.1\r\n\r\n",             /* two spaces */
      "GET / HTTP/1.1 \r\n\r\n",             /* trailing space */
      "GET  HTTP/1.1\r\n\r\n",               /* empty target */
      "GET /\x01 HTTP/1.1\r\n\r\n",          /* control byte in the target */
      "GET /\x7f HTTP/1.1\r\n\r\n",
      "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",      /* raw non-ASCII in the target */
      "GET /\t HTTP/1.1\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",              /* HTTP/2+ */
      "GET / HTTP/2\r\n\r\n",
      "GET / HTTP/1.10\r\n\r\n",
      "GET / HTTP/1.\r\n\r\n",
      "GET / http/1.1\r\n\r\n",
      "GET / HTTP/1.x\r\n\r\n",
      "GET /\r\n\r\n",                       /* HTTP/0.9 */
      "GET / \r\n\r\n",
      "GET\r\n\r\n",
      "\r\n\r\n",                             /* empty request line */
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", /* TLS on the plain port */
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",    /* HTTP/2 preface */
  };
  static const size_t lens[] = {0, 0, 0, 0, 0, 0, 24, 24}; /* 0: use strlen */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t len = i < sizeof lens / sizeof lens[0] && lens[i] ? lens[i] : strlen(bad[i]);
    struct wsk_http_request req;
    int rc = parse_req(bad[i], len, &req);
    if (rc != WSK_EHTTP)
      fprintf(stderr, "bad request %zu: got %d\n", i, rc);
    CHECK_EQ(rc, WSK_EHTTP);
  }
  /* a bare CR at the end of the available bytes only waits for the next one */
  CHECK_EQ(req_result("GET / HTTP/1.1\r"), WSK_EAGAIN);
  CHECK_EQ(req_result("GET / HTTP/1.1\r\nA: b\r"), WSK_EAGAIN);
  /* a start that cannot be a method is refused before any line end */
  CHECK_EQ(req_result("\x16\x03\x01"), WSK_EHTTP);
  CHECK_EQ(req_result("GET\t"), WSK_EHTTP);
  CHECK_EQ(req_result(" "), WSK_EHTTP);
  CHECK_EQ(req_result("GE"), WSK_EAGAIN);
  CHECK_EQ(req_result("GET /\x01"), WSK_EAGAIN); /* the rest of the line waits for its end */
}

static void test_malformed_responses(void) {
  static const char *const bad[] = {
      "HTTP/1.1 101Switching\r\n\r\n", "HTTP/1.1 10 Short\r\n\r\n", "HTTP/1.1 1010 Long\r\n\r\n",
      "HTTP/1.1 1a1 X\r\n\r\n",        "HTTP/1.1 099 X\r\n\r\n",     "HTTP/2 101 X\r\n\r\n",
      "HTTP/2.0 101 X\r\n\r\n",        "HTTP/1.1  101 X\r\n\r\n",    "HTTP/1.1 101 X\x01\r\n\r\n",
      "HTTP/1.1 101 X\n\r\n",          "ICY 200 OK\r\n\r\n",         "HTTP/1.1 101 X\r\n A: b\r\n\r\n",
      "HTTP/1.1 101 X\r\nA : b\r\n\r\n", "HTTP/1.1 101 X\r\nA: b\rc\r\n\r\n", "HTTP/1.1\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = res_result(bad[i]);
    if (rc != WSK_EHTTP)
      fprintf(stderr, "bad response %zu: got %d\n", i, rc);
    CHECK_EQ(rc, WSK_EHTTP);
  }
  CHECK_EQ(res_result("HTTP/1.1 101 Switching Protocols\r\n"), WSK_EAGAIN);
  CHECK_EQ(res_result("HTTP/1"), WSK_EAGAIN);
  CHECK_EQ(res_result("SSH-2.0"), WSK_EHTTP); /* refused before any line end */
  CHECK_EQ(res_result("H"), WSK_EAGAIN);
}

int main(void) {
  test_request_fields();
  test_response_fields();
  test_splits();
  test_byte_limit();
  test_header_count_limit();
  test_malformed_requests();
  test_malformed_responses();
  return check_report();
}
