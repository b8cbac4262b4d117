/* test_http_header.c - header lookups, token lists, quoted strings, reason phrases and the
 * general response writer. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/http_internal.h"
#include "wsk.h"

#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static const struct wsk_header hs[] = {
    H("Host", "a"),
    H("connection", "keep-alive, Upgrade"),
    H("Upgrade", "h2c"),
    H("CONNECTION", "close"),
    H("uPgRaDe", "WebSocket , foo/2"),
    H("X-Quoted", "\"a, b\", c"),
    H("X-Empty", ""),
};
#define NHS (sizeof hs / sizeof hs[0])

static void test_find_count(void) {
  CHECK(wsk_http_find_header(hs, NHS, "host") == &hs[0]);
  CHECK(wsk_http_find_header(hs, NHS, "Connection") == &hs[1]);
  CHECK(wsk_http_find_header(hs, NHS, "UPGRADE") == &hs[2]);
  CHECK(wsk_http_find_header(hs, NHS, "Hos") == NULL);
  CHECK(wsk_http_find_header(hs, NHS, "Hostx") == NULL);
  CHECK(wsk_http_find_header(NULL, 0, "Host") == NULL);
  CHECK_EQ(wsk_http_count_headers(hs, NHS, "connection"), 2);
  CHECK_EQ(wsk_http_count_headers(hs, NHS, "upgrade"), 2);
  CHECK_EQ(wsk_http_count_headers(hs, NHS, "Host"), 1);
  CHECK_EQ(wsk_http_count_headers(hs, NHS, "Origin"), 0);
}

static void test_has_token(void) {
  CHECK(wsk_http_has_token(hs, NHS, "Connection", "upgrade"));   /* second element, any case */
  CHECK(wsk_http_has_token(hs, NHS, "Connection", "keep-alive"));
  CHECK(wsk_http_has_token(hs, NHS, "Connection", "CLOSE"));     /* a later line */
  CHECK(wsk_http_has_token(hs, NHS, "Upgrade", "websocket"));    /* "WebSocket " trimmed */
  CHECK(wsk_http_has_token(hs, NHS, "Upgrade", "foo/2"));
  CHECK(!wsk_http_has_token(hs, NHS, "Upgrade", "foo"));
  CHECK(!wsk_http_has_token(hs, NHS, "Connection", "Upgrad"));
  CHECK(!wsk_http_has_token(hs, NHS, "Connection", "keep"));
  CHECK(!wsk_http_has_token(hs, NHS, "Host", "b"));
  CHECK(!wsk_http_has_token(hs, NHS, "X-Quoted", "b"));          /* inside a quoted string */
  CHECK(wsk_http_has_token(hs, NHS, "X-Quoted", "c"));
  CHECK(!wsk_http_has_token(hs, NHS, "X-Empty", ""));
  CHECK(!wsk_http_has_token(hs, NHS, "Missing", "x"));
}

/* Collect all elements of a list joined by '|'. */
static const char *elements(const char *v) {
  static char out[256];
  size_t pos = 0, n, o = 0;
  const char *e;
  out[0] = 0;
  while (wsk_http_list_next(v, strlen(v), &pos, &e, &n)) {
    if (o)
      out[o++] = '|';
    memcpy(out + o, e, n);
    o += n;
    out[o] = 0;
  }
  CHECK_EQ(pos, strlen(v));
  return out;
}

static void test_list_next(void) {
  CHECK_STR(elements("a, b,c"), "a|b|c");
  CHECK_STR(elements(""), "");
  CHECK_STR(elements(" , ,, \t"), "");
  CHECK_STR(elements(",a,,  b  ,\t,c,"), "a|b|c");
  CHECK_STR(elements("x; p=\"1,2\", y"), "x; p=\"1,2\"|y");
  CHECK_STR(elements("\"a\\\"b, c\", d"), "\"a\\\"b, c\"|d");   /* escaped quote */
  CHECK_STR(elements("\"a\\\\\", d"), "\"a\\\\\"|d");           /* escaped backslash */
  CHECK_STR(elements("\"unterminated, still one"), "\"unterminated, still one");
  CHECK_STR(elements("\"ends with backslash\\"), "\"ends with backslash\\");
  CHECK_STR(elements("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"),
            "permessage-deflate; client_max_window_bits|x-webkit-deflate-frame");
  /* not NUL-terminated: only len bytes are read */
  size_t pos = 0, n;
  const char *e;
  CHECK(wsk_http_list_next("ab,cd", 1, &pos, &e, &n));
  CHECK_EQ(n, 1);
  CHECK(!wsk_http_list_next("ab,cd", 1, &pos, &e, &n));
}

/* The tchar bitmap against RFC 7230's definition, for every byte value. */
static void test_tchar(void) {
  for (int c = 0; c < 256; c++) {
    int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
    if (wsk__http_is_tchar((unsigned char)c) != want)
      fprintf(stderr, "tchar 0x%02x\n", c);
    CHECK_EQ(wsk__http_is_tchar((unsigned char)c), want);
  }
}

static void test_status_text(void) {
  CHECK_STR(wsk_http_status_text(101), "Switching Protocols");
  CHECK_STR(wsk_http_status_text(200), "OK");
  CHECK_STR(wsk_http_status_text(404), "Not Found");
  CHECK_STR(wsk_http_status_text(426), "Upgrade Required");
  CHECK_STR(wsk_http_status_text(431), "Request Header Fields Too Large");
  CHECK_STR(wsk_http_status_text(503), "Service Unavailable");
  CHECK_STR(wsk_http_status_text(799), "Unknown");
  CHECK_STR(wsk_http_status_text(-1), "Unknown");
}

static void test_write_response(void) {
  char out[512];
  int n = wsk_http_write_response(out, sizeof out, 404, "text/plain", "X-A: 1\r\nX-B: 2\r\n",
                                  "nope", 4, 1);
  const char *want = "HTTP/1.1 404 Not Found\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: 4\r\n"
                     "Connection: close\r\n"
                     "X-A: 1\r\n"
                     "X-B: 2\r\n"
                     "\r\n"
                     "nope";
  CHECK_EQ(n, strlen(want));
  CHECK_MEM(out, want, strlen(want));

  /* parse it back */
  struct wsk_header headers[8];
  struct wsk_http_response res;
  CHECK_EQ(wsk_http_parse_response(out, (size_t)n, &res, headers, 8, 8192), n - 4);
  CHECK_EQ(res.status, 404);
  CHECK_EQ(res.num_headers, 5);
  CHECK(wsk_http_has_token(headers, res.num_headers, "Connection", "close"));

  n = wsk_http_write_response(out, sizeof out, 200, NULL, NULL, NULL, 0, 0);
  want = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  CHECK_EQ(n, strlen(want));
  CHECK_MEM(out, want, strlen(want));
  n = wsk_http_write_response(out, sizeof out, 204, NULL, NULL, NULL, 0, 0);
  want = "HTTP/1.1 204 No Content\r\n\r\n";
  CHECK_EQ(n, strlen(want));
  CHECK_MEM(out, want, strlen(want));
  n = wsk_http_write_response(out, sizeof out, 599, NULL, NULL, "x", 1, 0);
  CHECK(n > 0 && memcmp(out, "HTTP/1.1 599 Unknown\r\n", 22) == 0);

  /* bad arguments */
  CHECK_EQ(wsk_http_write_response(out, sizeof out, 99, NULL, NULL, NULL, 0, 0), WSK_EINVAL);
  CHECK_EQ(wsk_http_write_response(out, sizeof out, 1000, NULL, NULL, NULL, 0, 0), WSK_EINVAL);
  CHECK_EQ(wsk_http_write_response(out, sizeof out, 204, NULL, NULL, "x", 1, 0), WSK_EINVAL);
  CHECK_EQ(wsk_http_write_response(out, sizeof out, 200, NULL, NULL, NULL, 1, 0), WSK_EINVAL);
  CHECK_EQ(wsk_http_write_response(out, sizeof out, 200, "a\r\nb", NULL, NULL, 0, 0), WSK_EINVAL);
  static const char *const bad_extra[] = {"X-A: 1", "X-A: 1\n", "X-A: 1\r\n\r\n", "\r\n",
                                          "X-A 1\r\n", ": 1\r\n", "X-A: 1\rX\r\n"};
  for (size_t i = 0; i < sizeof bad_extra / sizeof bad_extra[0]; i++)
    CHECK_EQ(wsk_http_write_response(out, sizeof out, 200, NULL, bad_extra[i], NULL, 0, 0),
             WSK_EINVAL);
  CHECK(wsk_http_write_response(out, sizeof out, 200, NULL, "", NULL, 0, 0) > 0);
}

static void test_write_nospc(void) {
  char full[256];
  int need = wsk_http_write_response(full, sizeof full, 400, "text/plain", "X: y\r\n", "bad", 3, 1);
  CHECK(need > 0);
  for (size_t cap = 0; cap < (size_t)need; cap++) {
    char *buf = malloc(cap + 8);
    memset(buf, '#', cap + 8);
    CHECK_EQ(wsk_http_write_response(buf, cap, 400, "text/plain", "X: y\r\n", "bad", 3, 1),
             WSK_ENOSPC);
    CHECK_MEM(buf + cap, "########", 8); /* nothing past cap */
    free(buf);
  }
  char *buf = malloc((size_t)need);
  CHECK_EQ(wsk_http_write_response(buf, (size_t)need, 400, "text/plain", "X: y\r\n", "bad", 3, 1),
           need);
  CHECK_MEM(buf, full, (size_t)need);
  free(buf);
  CHECK_EQ(wsk_http_write_response(NULL, 0, 200, NULL, NULL, NULL, 0, 0), WSK_ENOSPC);
}

int main(void) {
  test_find_count();
  test_has_token();
  test_list_next();
  test_tchar();
  test_status_text();
  test_write_response();
  test_write_nospc();
  return check_report();
}
