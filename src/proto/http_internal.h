/* http_internal.h - helpers shared by the HTTP head parser, the header lookups, the response
 * writers and the handshake (proto layer: no allocation, no syscalls, no globals). */
#ifndef WSK_HTTP_INTERNAL_H
#define WSK_HTTP_INTERNAL_H

#include <stddef.h>

#include "wsk_proto.h"

static inline unsigned char wsk__http_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* field-content and reason-phrase bytes: visible characters, obs-text, SP and HTAB; no other
 * control byte (so no NUL, no bare CR or LF). */
static inline int wsk__http_is_field_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* request-target bytes: visible ASCII only. Clients percent-encode everything else, so SP,
 * control bytes and raw non-ASCII bytes are refused. */
static inline int wsk__http_is_target_byte(unsigned char c) {
  return c > 0x20 && c < 0x7f;
}

/* 1 if a[0..alen) equals b[0..blen) ignoring ASCII case. */
int wsk__http_ieq(const char *a, size_t alen, const char *b, size_t blen);

/* RFC 7230 tchar: the characters of a method, a header name or a list token. */
int wsk__http_is_tchar(unsigned char c);

/* ---- reading a head ------------------------------------------------------------------------ */

/* Parses the start line of a head (request line or status line, without its CRLF) into ctx.
 * Returns 0 or WSK_EHTTP. */
typedef int (*wsk__http_start_line_fn)(const char *line, size_t len, void *ctx);

/* The common body of wsk_http_parse_request and wsk_http_parse_response: argument checks, the
 * start line (through start_line) and the header lines. Returns the head length (> 0),
 * WSK_EAGAIN, WSK_EHEADERS, WSK_EHTTP or WSK_EINVAL. */
int wsk__http_parse_head(const char *buf, size_t len, size_t max_bytes,
                        wsk__http_start_line_fn start_line, void *ctx,
                        struct wsk_header *headers, size_t max_headers, size_t *num_headers);

/* Parse "HTTP/1.x" exactly; returns x (0..9) or WSK_EHTTP. */
int wsk__http_parse_version(const char *s, size_t len);

/* ---- request-target and Cookie pieces (http_query.c) --------------------------------------- */

/* Percent-decode in[0..len) into out (room for len bytes; out may be in: decoding only shrinks).
 * plus_space: '+' becomes a space (query strings, as HTML forms encode them). Returns the decoded
 * length, or WSK_EHTTP for a '%' not followed by two hex digits, or an encoded NUL (%00). */
long wsk__http_decode(const char *in, size_t len, char *out, int plus_space);

/* The first parameter of a raw query string q[0..len) (without the '?': name=value pairs joined
 * by '&') whose name, form-decoded, is `name` (case-sensitive). Returns 1 with its value, still
 * encoded, in *val and *vlen ("" for a bare name or "name="), or 0 when there is none. A name
 * with a bad escape matches nothing. */
int wsk__http_query_find(const char *q, size_t len, const char *name, const char **val,
                        size_t *vlen);

/* The first cookie named `name` (case-sensitive) in a Cookie header value h[0..len): RFC 6265
 * name=value pairs separated by ';' and optional whitespace. Returns 1 with the value (the
 * surrounding DQUOTEs of a quoted value removed, nothing decoded) in *val and *vlen, or 0. */
int wsk__http_cookie_find(const char *h, size_t len, const char *name, const char **val,
                         size_t *vlen);

/* ---- writing a head: bounded appends that never write past cap ----------------------------- */

struct wsk__http_out {
  char *buf;
  size_t cap;
  size_t len;   /* bytes the output needs so far (may exceed cap) */
  int invalid;  /* a value would have broken the head (control byte, bad extra lines) */
};

void wsk__http_out_init(struct wsk__http_out *o, char *buf, size_t cap);
void wsk__http_out_bytes(struct wsk__http_out *o, const void *data, size_t n);
void wsk__http_out_str(struct wsk__http_out *o, const char *s);
void wsk__http_out_uint(struct wsk__http_out *o, size_t v);
/* "Name: value\r\n"; a value with a control byte (other than HTAB) marks the output invalid. */
void wsk__http_out_field(struct wsk__http_out *o, const char *name, const char *value);
/* Caller-supplied "Name: value\r\n" lines (NULL = none); anything else marks the output invalid. */
void wsk__http_out_lines(struct wsk__http_out *o, const char *lines);
/* The length written, WSK_EINVAL if invalid, WSK_ENOSPC if it did not fit. */
int wsk__http_out_end(const struct wsk__http_out *o);

#endif
