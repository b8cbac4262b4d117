/* http_query.c - percent-decoding, query parameters and cookies: the pieces of a request-target
 * and of Cookie headers that an application asks for by name (proto layer: pure functions over
 * the caller's bytes, no allocation). */
#include <string.h>

#include "proto/http_internal.h"

static int hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = wsk__http_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The byte at in[*i] decoded (advancing *i past an escape), or -1 for a bad escape or an encoded
 * NUL. */
static int decode_one(const char *in, size_t len, size_t *i, int plus_space) {
  unsigned char ch = (unsigned char)in[*i];
  if (ch == '+' && plus_space) return ' ';
  if (ch != '%') return ch;
  if (len - *i < 3) return -1;
  int hi = hex((unsigned char)in[*i + 1]), lo = hex((unsigned char)in[*i + 2]);
  if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
  *i += 2;
  return hi * 16 + lo;
}

long wsk__http_decode(const char *in, size_t len, char *out, int plus_space) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int ch = decode_one(in, len, &i, plus_space);
    if (ch < 0) return WSK_EHTTP;
    out[o++] = (char)ch;
  }
  return (long)o;
}

/* 1 if raw[0..len), form-decoded, is exactly `name`. */
static int decoded_equals(const char *raw, size_t len, const char *name) {
  size_t k = 0;
  for (size_t i = 0; i < len; i++, k++) {
    int ch = decode_one(raw, len, &i, 1);
    if (ch < 0 || !name[k] || (unsigned char)name[k] != ch) return 0;
  }
  return name[k] == '\0';
}

int wsk__http_query_find(const char *q, size_t len, const char *name, const char **val,
                        size_t *vlen) {
  size_t i = 0;
  while (i < len) {
    const char *amp = memchr(q + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - q) : len;
    const char *eq = memchr(q + i, '=', end - i);
    size_t name_end = eq ? (size_t)(eq - q) : end;
    if (end > i && decoded_equals(q + i, name_end - i, name)) {
      *val = eq ? eq + 1 : q + end;
      *vlen = eq ? end - name_end - 1 : 0;
      return 1;
    }
    i = end + 1;
  }
  return 0;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

int wsk__http_cookie_find(const char *h, size_t len, const char *name, const char **val,
                         size_t *vlen) {
  size_t name_len = strlen(name), i = 0;
  while (i < len) {
    const char *semi = memchr(h + i, ';', len - i);
    size_t end = semi ? (size_t)(semi - h) : len, next = end + 1;
    while (i < end && is_ows(h[i])) i++;
    while (end > i && is_ows(h[end - 1])) end--;
    const char *eq = memchr(h + i, '=', end - i);
    if (eq && (size_t)(eq - (h + i)) == name_len && memcmp(h + i, name, name_len) == 0) {
      const char *v = eq + 1;
      size_t n = (size_t)(h + end - v);
      if (n >= 2 && v[0] == '"' && v[n - 1] == '"') v++, n -= 2; /* DQUOTE cookie-value */
      *val = v;
      *vlen = n;
      return 1;
    }
    i = next;
  }
  return 0;
}
