/* http_header.c - looking up parsed headers: names, tokens and comma-separated lists. */
#include <string.h>

#include "proto/http_internal.h"

int wsk_http_ieq(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen)
    return 0;
  for (size_t i = 0; i < alen; i++)
    if (wsk_http_lower((unsigned char)a[i]) != wsk_http_lower((unsigned char)b[i]))
      return 0;
  return 1;
}

int wsk_http_is_tchar(unsigned char c) {
  unsigned char l = wsk_http_lower(c);
  if ((l >= 'a' && l <= 'z') || (c >= '0' && c <= '9'))
    return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int name_is(const struct wsk_header *h, const char *name) {
  return wsk_http_ieq(h->name, h->name_len, name, strlen(name));
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
      if (wsk_http_ieq(elem, elem_len, token, token_len))
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
