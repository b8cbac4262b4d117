/* url.c - redis://[[user]:password@]host[:port][/db] (host may be an [IPv6] literal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis/redis_internal.h"

static int fail(char *errbuf, size_t errlen, const char *url, const char *why) {
  if (errbuf && errlen) snprintf(errbuf, errlen, "redis URL '%s': %s", url, why);
  return WSK_EINVAL;
}

/* A decimal number in [lo, hi] that spans [s, end). */
static int number(const char *s, const char *end, long lo, long hi, int *out) {
  if (s == end || end - s > 10) return -1;
  long v = 0;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
  }
  if (v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

static char *dup_span(const char *s, const char *end) {
  char *d = malloc((size_t)(end - s) + 1);
  if (d) {
    memcpy(d, s, (size_t)(end - s));
    d[end - s] = 0;
  }
  return d;
}

int wsk__redis_url_parse(const char *url, struct wsk__redis_url *u, char *errbuf, size_t errlen) {
  memset(u, 0, sizeof *u);
  u->port = 6379;
  if (!url || strncmp(url, "redis://", 8) != 0)
    return fail(errbuf, errlen, url ? url : "(null)", "must start with redis://");
  const char *p = url + 8, *end = p + strcspn(p, "/");
  const char *at = memchr(p, '@', (size_t)(end - p));
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) return fail(errbuf, errlen, url, "expected [user]:password@ before the host");
    if (colon > p && !(u->user = dup_span(p, colon))) return WSK_ENOMEM;
    if (!(u->password = dup_span(colon + 1, at))) goto nomem;
    p = at + 1;
  }
  const char *host_end, *port = NULL;
  if (*p == '[') { /* [IPv6] */
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close) goto bad_host;
    host_end = close;
    p++;
    if (close + 1 < end && close[1] != ':') goto bad_host;
    if (close + 1 < end) port = close + 2;
  } else {
    host_end = memchr(p, ':', (size_t)(end - p));
    if (host_end) port = host_end + 1;
    else host_end = end;
  }
  if (host_end == p) goto bad_host;
  if (port && number(port, end, 1, 65535, &u->port) != 0) {
    wsk__redis_url_free(u);
    return fail(errbuf, errlen, url, "the port must be a number from 1 to 65535");
  }
  if (*end == '/' && end[1] && number(end + 1, end + strlen(end), 0, 1 << 20, &u->db) != 0) {
    wsk__redis_url_free(u);
    return fail(errbuf, errlen, url, "the database must be a number");
  }
  if (!(u->host = dup_span(p, host_end))) goto nomem;
  return 0;
bad_host:
  wsk__redis_url_free(u);
  return fail(errbuf, errlen, url, "no host");
nomem:
  wsk__redis_url_free(u);
  return WSK_ENOMEM;
}

void wsk__redis_url_free(struct wsk__redis_url *u) {
  free(u->host);
  free(u->user);
  free(u->password);
  memset(u, 0, sizeof *u);
}
