/* deflate_params.c - permessage-deflate options, and the syntax and values of one extension
 * element as RFC 7692 section 7.1 defines them (shared by the server's and the client's side).
 *
 * An element is   name *( OWS ";" OWS param )   with   param = token [ OWS "=" OWS value ]
 * and value = token / quoted-string (RFC 6455 section 9.1: a quoted value must unquote to a
 * token). Anything else in a permessage-deflate element makes it malformed. */
#include <string.h>

#include "proto/deflate_internal.h"
#include "proto/http_internal.h"

void wsk_pmd_options_init(struct wsk_pmd_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->server_max_window_bits = 15;
  opt->client_max_window_bits = 15;
  opt->mem_level = 8;
  opt->level = 6;
}

static int fail(const char **why, const char *sentence) {
  if (why) *why = sentence;
  return WSK_EINVAL;
}

int wsk_pmd_options_check(const struct wsk_pmd_options *opt, const char **why) {
  if (opt->server_max_window_bits < 9 || opt->server_max_window_bits > 15)
    return fail(why, "server_max_window_bits must be 9 to 15 (zlib cannot compress with 8)");
  if (opt->client_max_window_bits < 9 || opt->client_max_window_bits > 15)
    return fail(why, "client_max_window_bits must be 9 to 15 (zlib cannot compress with 8)");
  if (opt->mem_level < 1 || opt->mem_level > 9) return fail(why, "mem_level must be 1 to 9");
  if (opt->level < 0 || opt->level > 9) return fail(why, "level must be 0 to 9");
  return 0;
}

/* A cursor over the element. */
struct cursor {
  const char *s;
  size_t len, i;
};

static void skip_ows(struct cursor *c) {
  while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) c->i++;
}

static int eat(struct cursor *c, char ch) {
  skip_ows(c);
  if (c->i < c->len && c->s[c->i] == ch) {
    c->i++;
    skip_ows(c);
    return 1;
  }
  return 0;
}

/* The token at the cursor (may be empty). */
static size_t token(struct cursor *c, const char **start) {
  *start = c->s + c->i;
  size_t n = 0;
  while (c->i < c->len && wsk__http_is_tchar((unsigned char)c->s[c->i])) c->i++, n++;
  return n;
}

/* A value: a token or a quoted-string, unquoted into v[0..3). Returns its length (3 stands for
 * "too long to be a window size"), or -1 when malformed. */
static int value(struct cursor *c, char v[3]) {
  const char *t;
  size_t n = 0;
  if (c->i < c->len && c->s[c->i] == '"') {
    for (c->i++; c->i < c->len && c->s[c->i] != '"'; c->i++, n++) {
      if (c->s[c->i] == '\\' && ++c->i == c->len) return -1;
      if (!wsk__http_is_tchar((unsigned char)c->s[c->i])) return -1; /* must unquote to a token */
      if (n < 3) v[n] = c->s[c->i];
    }
    if (c->i == c->len) return -1; /* no closing quote */
    c->i++;
  } else {
    n = token(c, &t);
    memcpy(v, t, n < 3 ? n : 3);
  }
  if (n == 0) return -1;
  return n < 3 ? (int)n : 3;
}

/* 8..15 written without leading zeros, else 0. */
static uint8_t window_bits(const char *v, int n) {
  if (n == 1 && (v[0] == '8' || v[0] == '9')) return (uint8_t)(v[0] - '0');
  if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return (uint8_t)(10 + v[1] - '0');
  return 0;
}

static const struct {
  const char *name;
  unsigned bit;
} known[] = {
    {"server_no_context_takeover", WSK_PMD_HAS_SERVER_NCT},
    {"client_no_context_takeover", WSK_PMD_HAS_CLIENT_NCT},
    {"server_max_window_bits", WSK_PMD_HAS_SERVER_BITS},
    {"client_max_window_bits", WSK_PMD_HAS_CLIENT_BITS},
};

static unsigned param_bit(const char *name, size_t len) {
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (wsk__http_ieq(name, len, known[k].name, strlen(known[k].name))) return known[k].bit;
  return 0;
}

/* One parameter whose name is at the cursor. */
static int parse_param(struct cursor *c, int is_response, struct wsk__pmd_ext *ext,
                       const char **why) {
  const char *name;
  size_t name_len = token(c, &name);
  if (name_len == 0) return fail(why, "a permessage-deflate parameter is not a token");
  unsigned bit = param_bit(name, name_len);
  if (!bit) return fail(why, "unknown permessage-deflate parameter");
  if (ext->has & bit) return fail(why, "a permessage-deflate parameter appears twice");
  ext->has |= bit;
  char v[3];
  int n = 0;
  if (eat(c, '=') && (n = value(c, v)) < 0)
    return fail(why, "a permessage-deflate parameter has a malformed value");
  uint8_t bits = n ? window_bits(v, n) : 0;
  switch (bit) {
  case WSK_PMD_HAS_SERVER_NCT:
  case WSK_PMD_HAS_CLIENT_NCT:
    if (n) return fail(why, "server_ and client_no_context_takeover take no value");
    break;
  case WSK_PMD_HAS_SERVER_BITS:
    if (!bits) return fail(why, "server_max_window_bits needs a value from 8 to 15");
    ext->server_bits = bits;
    break;
  default:
    if (n ? !bits : is_response)
      return fail(why, is_response ? "client_max_window_bits in a response needs a value from 8 to 15"
                                   : "client_max_window_bits must be a value from 8 to 15");
    ext->client_bits = bits;
    break;
  }
  return 0;
}

int wsk__pmd_parse(const char *elem, size_t len, int is_response, struct wsk__pmd_ext *ext,
                  const char **why) {
  static const char name[] = "permessage-deflate";
  struct cursor c = {elem, len, 0};
  const char *t;
  size_t n = token(&c, &t);
  if (!wsk__http_ieq(t, n, name, sizeof name - 1)) return 0;
  memset(ext, 0, sizeof *ext);
  skip_ows(&c);
  while (c.i < c.len) {
    if (!eat(&c, ';')) return fail(why, "malformed permessage-deflate parameter list");
    int rc = parse_param(&c, is_response, ext, why);
    if (rc < 0) return rc;
    skip_ows(&c);
  }
  return 1;
}
