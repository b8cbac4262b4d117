/* http_header.c - looking up parsed headers: names, tokens and comma-separated lists. */
#include <stdint.h>
#include <string.h>

#include "proto/http_internal.h"

int wsk__http_ieq(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen)
    return 0;
  for (size_t i = 0; i < alen; i++)
    if (wsk__http_lower((unsigned char)a[i]) != wsk__http_lower((unsigned char)b[i]))
      return 0;
  return 1;
}

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
 *       / DIGIT / ALPHA, as a bitmap of the 256 byte values. */
static const uint32_t tchar_bits[8] = {0x00000000, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff, 0, 0, 0, 0};

int wsk__http_is_tchar(unsigned char c) {
  return (tchar_bits[c >> 5] >> (c & 31)) & 1;
}

static int name_is(const struct wsk_header *h, const char *name) {
  return wsk__http_ieq(h->name, h->name_len, name, strlen(name));
}

const struct wsk_header *wsk_http_find_header(const struct wsk_header *headers, size_t n,
                                              const char *name) {
  for (size_t i = 0; i < n; i++)
    if (name_is(&headers[i], name))
      return &headers[i];
  return NULL;
}

size_t wsk_http_count_headers(const struct wsk_header *headers, size_t n, const char *name) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += (size_t)name_is(&headers[i], name);
  return count;
}

int wsk_http_has_token(const struct wsk_header *headers, size_t n, const char *name,
                       const char *token) {
  size_t token_len = strlen(token);
  for (size_t i = 0; i < n; i++) {
    if (!name_is(&headers[i], name))
      continue;
    size_t pos = 0, elem_len;
    const char *elem;
    while (wsk_http_list_next(headers[i].value, headers[i].value_len, &pos, &elem, &elem_len))
      if (wsk__http_ieq(elem, elem_len, token, token_len))
        return 1;
  }
  return 0;
}

static int is_ows(char c) {
  return c == ' ' || c == '\t';
}

int wsk_http_list_next(const char *value, size_t len, size_t *pos, const char **elem,
                       size_t *elem_len) {
  size_t i = *pos;
  while (i < len && (is_ows(value[i]) || value[i] == ','))
    i++;
  if (i >= len) {
    *pos = len;
    return 0;
  }
  size_t start = i;
  int quoted = 0;
  for (; i < len && (quoted || value[i] != ','); i++) {
    if (quoted && value[i] == '\\' && i + 1 < len)
      i++; /* quoted-pair: the next byte is literal, even a quote or a comma */
    else if (value[i] == '"')
      quoted = !quoted;
  }
  size_t end = i;
  while (end > start && is_ows(value[end - 1]))
    end--;
  *pos = i;
  *elem = value + start;
  *elem_len = end - start;
  return 1;
}
