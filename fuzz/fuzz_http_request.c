/* fuzz_http_request.c - the request parser on arbitrary bytes. Checks that a prefix cut at a
 * data-derived point gives WSK_EAGAIN or the same result as the whole input, that parsed fields
 * hold no forbidden bytes, runs the target's path and query through percent-decoding and query
 * lookup and each header through cookie lookup (results inside their input, decoding never
 * longer than its input), and runs a complete upgrade request through the handshake check and
 * the response writers (whose output must parse back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "proto/http_internal.h"
#include "wsk_proto.h"

#define MAX_HEADERS 16
#define MAX_BYTES 2048

static int parse(const uint8_t *data, size_t len, struct wsk_http_request *req,
                 struct wsk_header *h) {
  return wsk_http_parse_request((const char *)data, len, req, h, MAX_HEADERS, MAX_BYTES);
}

static void check_fields(const struct wsk_http_request *req, const uint8_t *base) {
  REQUIRE(req->head_len >= 16 && req->head_len <= MAX_BYTES && req->num_headers <= MAX_HEADERS);
  REQUIRE(memchr(req->target, ' ', req->target_len) == NULL);
  REQUIRE(req->method_len > 0 && req->target_len > 0);
  for (size_t i = 0; i < req->num_headers; i++) {
    const struct wsk_header *hd = &req->headers[i];
    REQUIRE(hd->name_len > 0 && memchr(hd->name, ':', hd->name_len) == NULL);
    REQUIRE((const uint8_t *)hd->value + hd->value_len <= base + req->head_len);
    REQUIRE(memchr(hd->value, '\r', hd->value_len) == NULL);
    REQUIRE(memchr(hd->value, '\n', hd->value_len) == NULL);
    REQUIRE(memchr(hd->value, 0, hd->value_len) == NULL);
    size_t pos = 0, n;
    const char *e;
    while (wsk_http_list_next(hd->value, hd->value_len, &pos, &e, &n))
      REQUIRE(n > 0 && e >= hd->value && e + n <= hd->value + hd->value_len);
  }
}

/* The target's pieces: path decoding (in place, as the server does), query and cookie lookups
 * for names taken from the input itself, so that they sometimes match. */
static void check_target(const struct wsk_http_request *req) {
  const char *t = req->target, *q = memchr(t, '?', req->target_len);
  size_t path_len = q ? (size_t)(q - t) : req->target_len;
  char *buf = malloc(req->target_len + 1);
  long n = wsk__http_decode(t, path_len, buf, 0);
  REQUIRE(n == WSK_EHTTP || (n >= 0 && (size_t)n <= path_len));
  if (n >= 0) REQUIRE(memchr(buf, 0, (size_t)n) == NULL);
  char name[8] = "";
  size_t nlen = path_len < sizeof name - 1 ? path_len : sizeof name - 1;
  memcpy(name, t + path_len - nlen, nlen); /* the path's tail, NUL-terminated at the first NUL */
  const char *val;
  size_t vlen;
  if (q) {
    size_t qlen = req->target_len - path_len - 1;
    if (wsk__http_query_find(q + 1, qlen, name, &val, &vlen))
      REQUIRE(val >= q + 1 && val + vlen <= q + 1 + qlen);
    n = wsk__http_decode(q + 1, qlen, buf, 1);
    REQUIRE(n == WSK_EHTTP || (n >= 0 && (size_t)n <= qlen));
  }
  for (size_t i = 0; i < req->num_headers; i++) {
    const struct wsk_header *hd = &req->headers[i];
    if (wsk__http_cookie_find(hd->value, hd->value_len, name, &val, &vlen))
      REQUIRE(val >= hd->value && val + vlen <= hd->value + hd->value_len);
  }
  free(buf);
}

/* The prefix parse must agree with the whole parse, field by field when both are complete. */
static void check_split(const uint8_t *data, size_t size, int whole,
                        const struct wsk_http_request *wreq) {
  size_t k = size ? ((size_t)data[0] * 131 + (size_t)data[size / 2] * 7 + size) % (size + 1) : 0;
  uint8_t *copy = malloc(k ? k : 1);
  memcpy(copy, data, k);
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_request req;
  int rc = parse(copy, k, &req, h);
  if (whole > 0 && (size_t)whole <= k) {
    REQUIRE(rc == whole);
    REQUIRE(req.method - (const char *)copy == wreq->method - (const char *)data);
    REQUIRE(req.target_len == wreq->target_len && req.num_headers == wreq->num_headers);
    REQUIRE(req.version_minor == wreq->version_minor);
    for (size_t i = 0; i < req.num_headers; i++)
      REQUIRE(h[i].value_len == wreq->headers[i].value_len &&
              h[i].value - (const char *)copy == wreq->headers[i].value - (const char *)data);
  } else if (whole > 0) {
    REQUIRE(rc == WSK_EAGAIN);
  } else {
    REQUIRE(rc == WSK_EAGAIN || rc == whole);
  }
  free(copy);
}

/* Any output must fail with WSK_ENOSPC, without writing past cap, one byte short. */
static char *short_buffer(int n) {
  REQUIRE(n > 0);
  return malloc((size_t)n - 1);
}

static void answer_upgrade(const struct wsk_upgrade_request *up) {
  char out[1024];
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_response res;
  const char *why = NULL;
  size_t line = 0, pos = 0, len;
  const char *proto = NULL, *p;
  while (wsk_handshake_next_protocol(up->headers, up->num_headers, &line, &pos, &p, &len))
    proto = "chat";
  line = pos = 0;
  while (wsk_handshake_next_extension(up->headers, up->num_headers, &line, &pos, &p, &len))
    REQUIRE(len > 0);
  int n = wsk_handshake_write_response(out, sizeof out, up->key, WSK_KEY_LEN, proto, NULL, NULL);
  REQUIRE(wsk_http_parse_response(out, (size_t)n, &res, h, MAX_HEADERS, sizeof out) == n);
  REQUIRE(res.status == 101);
  char key[WSK_KEY_LEN + 1];
  memcpy(key, up->key, WSK_KEY_LEN);
  key[WSK_KEY_LEN] = 0;
  REQUIRE(wsk_handshake_check_response(&res, key, proto, 0, &why) == 0);
  char *small = short_buffer(n);
  REQUIRE(wsk_handshake_write_response(small, (size_t)n - 1, up->key, WSK_KEY_LEN, proto, NULL,
                                       NULL) == WSK_ENOSPC);
  free(small);
}

static void answer_error(int status, const char *why) {
  char out[1024];
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_response res;
  REQUIRE(status == 400 || status == 405 || status == 426);
  REQUIRE(why != NULL);
  int n = wsk_handshake_write_error(out, sizeof out, status, why);
  int head = wsk_http_parse_response(out, (size_t)n, &res, h, MAX_HEADERS, sizeof out);
  REQUIRE(head > 0 && res.status == status);
  REQUIRE((size_t)(n - head) == strlen(why) && memcmp(out + head, why, strlen(why)) == 0);
  char *small = short_buffer(n);
  REQUIRE(wsk_handshake_write_error(small, (size_t)n - 1, status, why) == WSK_ENOSPC);
  free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_request req;
  int whole = parse(data, size, &req, h);
  REQUIRE(whole > 0 || whole == WSK_EAGAIN || whole == WSK_EHTTP || whole == WSK_EHEADERS);
  REQUIRE(whole != WSK_EAGAIN || size <= MAX_BYTES);
  check_split(data, size, whole, &req);
  if (whole <= 0)
    return 0;
  check_fields(&req, data);
  check_target(&req);
  if (!wsk_handshake_is_upgrade(&req))
    return 0;
  struct wsk_upgrade_request up;
  const char *why = NULL;
  int status = wsk_handshake_check_request(&req, &up, &why);
  if (status == 0)
    answer_upgrade(&up);
  else
    answer_error(status, why);
  return 0;
}
