/* fuzz_http_response.c - the response parser and the client's handshake check on arbitrary
 * bytes. Checks that a prefix cut at a data-derived point gives WSK_EAGAIN or the same result as
 * the whole input, and that the check of a complete response names a rule when it fails. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "wsk_proto.h"

#define MAX_HEADERS 16
#define MAX_BYTES 2048

static int parse(const uint8_t *data, size_t len, struct wsk_http_response *res,
                 struct wsk_header *h) {
  return wsk_http_parse_response((const char *)data, len, res, h, MAX_HEADERS, MAX_BYTES);
}

static void check_split(const uint8_t *data, size_t size, int whole,
                        const struct wsk_http_response *wres) {
  size_t k = size ? ((size_t)data[size - 1] * 257 + (size_t)data[size / 3] + size) % (size + 1)
                  : 0;
  uint8_t *copy = malloc(k ? k : 1);
  memcpy(copy, data, k);
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_response res;
  int rc = parse(copy, k, &res, h);
  if (whole > 0 && (size_t)whole <= k) {
    REQUIRE(rc == whole);
    REQUIRE(res.status == wres->status && res.num_headers == wres->num_headers);
    REQUIRE(res.reason_len == wres->reason_len);
    for (size_t i = 0; i < res.num_headers; i++)
      REQUIRE(h[i].name_len == wres->headers[i].name_len &&
              h[i].value_len == wres->headers[i].value_len);
  } else if (whole > 0) {
    REQUIRE(rc == WSK_EAGAIN);
  } else {
    REQUIRE(rc == WSK_EAGAIN || rc == whole);
  }
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct wsk_header h[MAX_HEADERS];
  struct wsk_http_response res;
  int whole = parse(data, size, &res, h);
  REQUIRE(whole > 0 || whole == WSK_EAGAIN || whole == WSK_EHTTP || whole == WSK_EHEADERS);
  check_split(data, size, whole, &res);
  if (whole <= 0)
    return 0;
  REQUIRE(res.status >= 100 && res.status <= 999 && res.version_minor >= 0);
  for (size_t i = 0; i < res.num_headers; i++) {
    REQUIRE(memchr(h[i].value, '\r', h[i].value_len) == NULL);
    REQUIRE(memchr(h[i].value, '\n', h[i].value_len) == NULL);
  }
  static const char *const offers[] = {NULL, "chat", "chat, superchat", "a,b,,c"};
  const char *offer = offers[size % 4];
  const char *why = NULL;
  int rc = wsk_handshake_check_response(&res, "dGhlIHNhbXBsZSBub25jZQ==", offer, (int)(size & 4),
                                        &why);
  REQUIRE(rc == 0 || (rc == WSK_EHANDSHAKE && why && *why));
  if (rc == 0)
    REQUIRE(res.status == 101 &&
            wsk_http_count_headers(res.headers, res.num_headers, "Sec-WebSocket-Accept") == 1);
  return 0;
}
