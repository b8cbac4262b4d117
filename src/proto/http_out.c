/* http_out.c - bounded appends for building HTTP heads: nothing is ever written past cap, and the
 * needed length keeps counting so the caller learns whether it fit. */
#include <string.h>

#include "proto/http_internal.h"

void wsk__http_out_init(struct wsk__http_out *o, char *buf, size_t cap) {
  o->buf = buf;
  o->cap = buf ? cap : 0;
  o->len = 0;
  o->invalid = 0;
}

void wsk__http_out_bytes(struct wsk__http_out *o, const void *data, size_t n) {
  if (o->len <= o->cap && n <= o->cap - o->len && n > 0)
    memcpy(o->buf + o->len, data, n);
  o->len = n > (size_t)-1 - o->len ? (size_t)-1 : o->len + n;
}

void wsk__http_out_str(struct wsk__http_out *o, const char *s) {
  wsk__http_out_bytes(o, s, strlen(s));
}

void wsk__http_out_uint(struct wsk__http_out *o, size_t v) {
  char digits[24];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  wsk__http_out_bytes(o, digits + i, sizeof digits - i);
}

void wsk__http_out_field(struct wsk__http_out *o, const char *name, const char *value) {
  for (const char *p = value; *p; p++)
    if (!wsk__http_is_field_byte((unsigned char)*p))
      o->invalid = 1;
  wsk__http_out_str(o, name);
  wsk__http_out_bytes(o, ": ", 2);
  wsk__http_out_str(o, value);
  wsk__http_out_bytes(o, "\r\n", 2);
}

/* Each line must be "Name:" plus field bytes and end in CRLF; an empty line would end the head
 * early and smuggle the rest into the body. */
static int valid_lines(const char *s) {
  while (*s) {
    size_t name_len = 0;
    while (wsk__http_is_tchar((unsigned char)s[name_len]))
      name_len++;
    if (name_len == 0 || s[name_len] != ':')
      return 0;
    s += name_len + 1;
    while (wsk__http_is_field_byte((unsigned char)*s))
      s++;
    if (s[0] != '\r' || s[1] != '\n')
      return 0;
    s += 2;
  }
  return 1;
}

void wsk__http_out_lines(struct wsk__http_out *o, const char *lines) {
  if (!lines)
    return;
  if (!valid_lines(lines))
    o->invalid = 1;
  wsk__http_out_str(o, lines);
}

int wsk__http_out_end(const struct wsk__http_out *o) {
  if (o->invalid)
    return WSK_EINVAL;
  if (o->len > o->cap || o->len > 0x7fffffff)
    return WSK_ENOSPC;
  return (int)o->len;
}
