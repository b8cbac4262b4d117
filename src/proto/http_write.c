/* http_write.c - reason phrases and the general response writer. */
#include "proto/http_internal.h"

const char *wsk_http_status_text(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 416: return "Range Not Satisfiable";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

int wsk_http_write_response(char *out, size_t cap, int status, const char *content_type,
                            const char *extra, const void *body, size_t body_len, int close) {
  /* 1xx and 204 responses carry neither a body nor Content-Length (RFC 7230 3.3.2). */
  int bodiless = (status >= 100 && status < 200) || status == 204;
  if (status < 100 || status > 999 || (bodiless && body_len) || (!body && body_len))
    return WSK_EINVAL;
  struct wsk__http_out o;
  wsk__http_out_init(&o, out, cap);
  wsk__http_out_str(&o, "HTTP/1.1 ");
  wsk__http_out_uint(&o, (size_t)status);
  wsk__http_out_str(&o, " ");
  wsk__http_out_str(&o, wsk_http_status_text(status));
  wsk__http_out_str(&o, "\r\n");
  if (content_type)
    wsk__http_out_field(&o, "Content-Type", content_type);
  if (!bodiless) {
    wsk__http_out_str(&o, "Content-Length: ");
    wsk__http_out_uint(&o, body_len);
    wsk__http_out_str(&o, "\r\n");
  }
  if (close)
    wsk__http_out_str(&o, "Connection: close\r\n");
  wsk__http_out_lines(&o, extra);
  wsk__http_out_str(&o, "\r\n");
  wsk__http_out_bytes(&o, body, body_len);
  return wsk__http_out_end(&o);
}
