/* http_response.c - wsk_http_parse_response: "HTTP/1.x SP 3DIGIT [SP reason] CRLF", then the
 * header lines (see http_head.c for the line rules). A missing reason phrase is accepted. */
#include <string.h>

#include "proto/http_internal.h"

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int parse_status_line(const char *line, size_t n, void *ctx) {
  struct wsk_http_response *res = ctx;
  if (n < 12 || line[8] != ' ')
    return WSK_EHTTP;
  int minor = wsk__http_parse_version(line, 8);
  if (minor < 0)
    return minor;
  if (line[9] < '1' || line[9] > '9' || !is_digit(line[10]) || !is_digit(line[11]))
    return WSK_EHTTP;
  res->version_minor = minor;
  res->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  res->reason = line + n;
  res->reason_len = 0;
  if (n == 12)
    return 0;
  if (line[12] != ' ')
    return WSK_EHTTP;
  for (size_t i = 13; i < n; i++)
    if (!wsk__http_is_field_byte((unsigned char)line[i]))
      return WSK_EHTTP;
  res->reason = line + 13;
  res->reason_len = n - 13;
  return 0;
}

int wsk_http_parse_response(const char *buf, size_t len, struct wsk_http_response *res,
                            struct wsk_header *headers, size_t max_headers, size_t max_bytes) {
  if (!res || (!buf && len))
    return WSK_EINVAL;
  /* A peer that does not answer in HTTP/1.x is refused as soon as that shows. */
  if (len && memcmp(buf, "HTTP/1.", len < 7 ? len : 7) != 0)
    return WSK_EHTTP;
  struct wsk_http_response r;
  int rc = wsk__http_parse_head(buf, len, max_bytes, parse_status_line, &r, headers, max_headers,
                               &r.num_headers);
  if (rc < 0)
    return rc;
  r.headers = headers;
  r.head_len = (size_t)rc;
  *res = r;
  return rc;
}
