/* http_request.c - wsk_http_parse_request: "METHOD SP request-target SP HTTP/1.x CRLF", then the
 * header lines (see http_head.c for the line rules). */
#include "proto/http_internal.h"

static int parse_request_line(const char *line, size_t n, void *ctx) {
  struct wsk_http_request *req = ctx;
  size_t i = 0;
  while (i < n && wsk__http_is_tchar((unsigned char)line[i]))
    i++;
  if (i == 0 || i == n || line[i] != ' ')
    return WSK_EHTTP;
  req->method = line;
  req->method_len = i;
  size_t t = ++i;
  while (i < n && wsk__http_is_target_byte((unsigned char)line[i]))
    i++;
  if (i == t || i == n || line[i] != ' ')
    return WSK_EHTTP;
  req->target = line + t;
  req->target_len = i - t;
  i++;
  int minor = wsk__http_parse_version(line + i, n - i);
  if (minor < 0)
    return minor;
  req->version_minor = minor;
  return 0;
}

/* 1 if the bytes so far cannot begin a request line: refuse a peer that speaks TLS or another
 * protocol at once instead of waiting for a line end that will never come. */
static int bad_method_prefix(const char *buf, size_t len) {
  size_t i = 0;
  while (i < len && wsk__http_is_tchar((unsigned char)buf[i]))
    i++;
  return i < len && (i == 0 || buf[i] != ' ');
}

int wsk_http_parse_request(const char *buf, size_t len, struct wsk_http_request *req,
                           struct wsk_header *headers, size_t max_headers, size_t max_bytes) {
  if (!req || (!buf && len))
    return WSK_EINVAL;
  if (bad_method_prefix(buf, len))
    return WSK_EHTTP;
  struct wsk_http_request r;
  int rc = wsk__http_parse_head(buf, len, max_bytes, parse_request_line, &r, headers, max_headers,
                               &r.num_headers);
  if (rc < 0)
    return rc;
  r.headers = headers;
  r.head_len = (size_t)rc;
  *req = r;
  return rc;
}
