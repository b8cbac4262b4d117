/* http_head.c - reading an HTTP/1.x head line by line: the part shared by the request and
 * response parsers (line splitting, limits, header lines, the version token).
 *
 * The parsers are stateless: each call re-reads the buffer from its first byte. Lines are checked
 * in order and the first problem wins, so any prefix of the input yields either WSK_EAGAIN or the
 * same result as the whole input. Only the first max_bytes bytes are ever looked at: a head that
 * does not end within them is too big (WSK_EHEADERS) whatever follows, except that a start line
 * that does not end within them is malformed (WSK_EHTTP).
 *
 * Line endings: CRLF only. RFC 7230 3.5 lets a recipient accept a bare LF, but two parsers that
 * disagree about where a line ends are the root of request smuggling, and every WebSocket client
 * sends CRLF; so a bare LF is malformed (400), and so is a bare CR anywhere: it is a control
 * byte, which no part of a line may contain (values may hold HTAB). */
#include <limits.h>
#include <string.h>

#include "proto/http_internal.h"

struct scan {
  const char *buf;
  size_t end;    /* min(len, max_bytes): the bytes that may be read */
  size_t pos;    /* start of the next line */
  int truncated; /* len > max_bytes: running out of bytes means "too big", not "wait" */
};

/* Next line without its CRLF. Returns 0, WSK_EAGAIN (line not complete yet), WSK_EHEADERS (line
 * not complete within max_bytes) or WSK_EHTTP (bare LF). */
static int next_line(struct scan *s, const char **line, size_t *line_len) {
  /* (no pointer arithmetic before the test: buf may be NULL when len is 0) */
  const char *lf = s->pos < s->end ? memchr(s->buf + s->pos, '\n', s->end - s->pos) : NULL;
  if (!lf)
    return s->truncated ? WSK_EHEADERS : WSK_EAGAIN;
  const char *start = s->buf + s->pos;
  size_t n = (size_t)(lf - start);
  if (n == 0 || start[n - 1] != '\r')
    return WSK_EHTTP;
  *line = start;
  *line_len = n - 1;
  s->pos += n + 1;
  return 0;
}

static int parse_header_line(const char *line, size_t n, struct wsk_header *h) {
  size_t name_len = 0;
  /* A line that starts with SP or HTAB is obs-fold; it has no name and fails here as well. */
  while (name_len < n && wsk__http_is_tchar((unsigned char)line[name_len]))
    name_len++;
  if (name_len == 0 || name_len == n || line[name_len] != ':')
    return WSK_EHTTP; /* empty name, bad name byte, space before the colon, no colon */
  size_t v = name_len + 1, end = n;
  for (size_t i = v; i < n; i++)
    if (!wsk__http_is_field_byte((unsigned char)line[i]))
      return WSK_EHTTP;
  while (v < end && (line[v] == ' ' || line[v] == '\t'))
    v++;
  while (end > v && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    end--;
  h->name = line;
  h->name_len = name_len;
  h->value = line + v;
  h->value_len = end - v;
  return 0;
}

/* Header lines up to and including the empty line that ends the head. */
static int read_headers(struct scan *s, struct wsk_header *headers, size_t max_headers,
                        size_t *num_headers) {
  size_t num = 0;
  for (;;) {
    const char *line;
    size_t n;
    int rc = next_line(s, &line, &n);
    if (rc != 0)
      return rc;
    if (n == 0) {
      *num_headers = num;
      return 0;
    }
    struct wsk_header h;
    rc = parse_header_line(line, n, &h);
    if (rc != 0)
      return rc;
    if (num == max_headers)
      return WSK_EHEADERS;
    headers[num++] = h;
  }
}

int wsk__http_parse_head(const char *buf, size_t len, size_t max_bytes,
                        wsk__http_start_line_fn start_line, void *ctx,
                        struct wsk_header *headers, size_t max_headers, size_t *num_headers) {
  if ((!buf && len) || (!headers && max_headers))
    return WSK_EINVAL;
  if (max_bytes > INT_MAX)
    max_bytes = INT_MAX; /* the head length is returned as an int */
  struct scan s = {buf, len < max_bytes ? len : max_bytes, 0, len > max_bytes};
  const char *line;
  size_t n;
  int rc = next_line(&s, &line, &n);
  if (rc == WSK_EHEADERS)
    return WSK_EHTTP; /* a start line longer than the whole head limit is malformed */
  if (rc == 0)
    rc = start_line(line, n, ctx);
  if (rc == 0)
    rc = read_headers(&s, headers, max_headers, num_headers);
  return rc != 0 ? rc : (int)s.pos;
}

int wsk__http_parse_version(const char *s, size_t len) {
  if (len != 8 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
    return WSK_EHTTP;
  return s[7] - '0';
}
