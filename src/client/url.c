/* url.c - ws:// and wss:// URLs (RFC 6455 section 3): scheme, host (name, IPv4 literal or
 * bracketed IPv6 literal with an optional %25 zone), optional port, path and query. User info
 * and fragments are refused with a sentence saying why. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

static int fail(char *errbuf, size_t errlen, const char *what, const char *url) {
  if (errbuf) snprintf(errbuf, errlen, "%s: %s", what, url);
  return WSK_EINVAL;
}

static char *dup_n(const char *s, size_t n) {
  char *p = wsk__malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static int name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

/* A request-target byte: visible ASCII other than '#'. */
static int target_byte(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }

/* "[v6]" or "[v6%25zone]" at s[0..n): the address (zone decoded) and its bracketed Host form. */
static int parse_v6(const char *s, size_t n, struct wsk__url *u, char **bracketed) {
  const char *in = s + 1;
  size_t len = n - 2, addr_len = len;
  const char *zone = memchr(in, '%', len);
  if (zone) {
    addr_len = (size_t)(zone - in);
    if (len - addr_len < 4 || memcmp(zone, "%25", 3) != 0) return -1;
  }
  char addr[INET6_ADDRSTRLEN];
  struct in6_addr a6;
  if (addr_len == 0 || addr_len >= sizeof addr) return -1;
  memcpy(addr, in, addr_len);
  addr[addr_len] = '\0';
  if (inet_pton(AF_INET6, addr, &a6) != 1) return -1;
  size_t zone_len = zone ? len - addr_len - 3 : 0;
  u->host = wsk__malloc(addr_len + (zone ? 1 + zone_len : 0) + 1);
  *bracketed = wsk__malloc(addr_len + 3);
  if (!u->host || !*bracketed) return -2;
  memcpy(u->host, addr, addr_len);
  if (zone) {
    u->host[addr_len] = '%';
    memcpy(u->host + addr_len + 1, zone + 3, zone_len);
  }
  u->host[addr_len + (zone ? 1 + zone_len : 0)] = '\0';
  snprintf(*bracketed, addr_len + 3, "[%s]", addr); /* the zone stays local (RFC 6874) */
  u->literal = 1;
  return 0;
}

int wsk__url_parse(const char *text, struct wsk__url *u, char *errbuf, size_t errlen) {
  memset(u, 0, sizeof *u);
  const char *p, *why = NULL;
  char *bracketed = NULL;
  if (strncasecmp(text, "ws://", 5) == 0) {
    p = text + 5;
  } else if (strncasecmp(text, "wss://", 6) == 0) {
    p = text + 6;
    u->secure = 1;
  } else {
    return fail(errbuf, errlen, "not a WebSocket URL (it must start with ws:// or wss://)", text);
  }
  size_t auth_len = strcspn(p, "/?#");
  const char *rest = p + auth_len;
  if (memchr(p, '@', auth_len))
    return fail(errbuf, errlen, "user info (user@host) is not supported in WebSocket URLs; send an "
                                "Authorization header instead", text);
  if (strchr(rest, '#'))
    return fail(errbuf, errlen, "WebSocket URLs may not have a #fragment", text);

  /* host [":" port] */
  size_t host_len;
  if (auth_len && p[0] == '[') {
    const char *close = memchr(p, ']', auth_len);
    if (!close) return fail(errbuf, errlen, "unterminated [IPv6] host", text);
    host_len = (size_t)(close - p) + 1;
    int r = parse_v6(p, host_len, u, &bracketed);
    if (r == -2) goto nomem;
    if (r == -1) {
      why = "bad IPv6 address in brackets";
      goto bad;
    }
  } else {
    const char *colon = memchr(p, ':', auth_len);
    host_len = colon ? (size_t)(colon - p) : auth_len;
    if (host_len == 0) return fail(errbuf, errlen, "no host in the URL", text);
    for (size_t i = 0; i < host_len; i++)
      if (!name_byte(p[i])) return fail(errbuf, errlen, "bad character in the host name", text);
    if (!(u->host = dup_n(p, host_len))) goto nomem;
    struct in_addr a4;
    u->literal = inet_pton(AF_INET, u->host, &a4) == 1;
  }
  int default_port = u->secure ? 443 : 80;
  u->port = default_port;
  if (host_len < auth_len) {
    if (p[host_len] != ':') {
      why = "unexpected text after the host";
      goto bad;
    }
    const char *d = p + host_len + 1;
    if (d < rest) { /* "host:" with an empty port means the default */
      long v = 0;
      for (; d < rest && v >= 0; d++)
        v = (*d >= '0' && *d <= '9' && v <= 65535) ? v * 10 + (*d - '0') : -1;
      if (v < 1 || v > 65535) {
        why = "bad port (use 1-65535)";
        goto bad;
      }
      u->port = (int)v;
    }
  }
  for (const char *c = rest; *c; c++) {
    if (!target_byte((unsigned char)*c)) {
      why = "the path or query has a space, control or non-ASCII character (percent-encode it)";
      goto bad;
    }
  }

  /* Host header, the "where" of messages, and the request target. */
  const char *shown = bracketed ? bracketed : u->host;
  size_t cap = strlen(shown) + 8, rest_len = strlen(rest);
  int slash = *rest != '/';
  u->host_header = wsk__malloc(cap);
  u->where = wsk__malloc(cap);
  u->target = wsk__malloc(rest_len + (size_t)slash + 1);
  if (!u->host_header || !u->where || !u->target) goto nomem;
  if (u->port == default_port)
    snprintf(u->host_header, cap, "%s", shown);
  else
    snprintf(u->host_header, cap, "%s:%d", shown, u->port);
  snprintf(u->where, cap, "%s:%d", shown, u->port);
  u->target[0] = '/';
  memcpy(u->target + slash, rest, rest_len + 1);
  wsk__free(bracketed);
  return 0;
bad:
  wsk__free(bracketed);
  wsk__url_free(u);
  return fail(errbuf, errlen, why, text);
nomem:
  wsk__free(bracketed);
  wsk__url_free(u);
  if (errbuf) snprintf(errbuf, errlen, "out of memory");
  return WSK_ENOMEM;
}

void wsk__url_free(struct wsk__url *u) {
  wsk__free(u->host);
  wsk__free(u->host_header);
  wsk__free(u->target);
  wsk__free(u->where);
  memset(u, 0, sizeof *u);
}
