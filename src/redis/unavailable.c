/* unavailable.c - the Redis bridge of a library built without hiredis (cmake -DWSK_REDIS=OFF). */
#include <stdio.h>

#include "wsk.h"

int wsk_redis_attach(wsk_server *s, const struct wsk_redis_options *opt, wsk_redis **out,
                     char *errbuf, size_t errlen) {
  if (errbuf && errlen)
    snprintf(errbuf, errlen, "Redis is unavailable: this wsk was built without hiredis "
                             "(cmake -DWSK_REDIS=OFF; install libhiredis-dev and rebuild)");
  return WSK_EUNSUPPORTED;
}

void wsk_redis_stats(const wsk_redis *r, struct wsk_redis_stats *st) {}

void wsk_redis_free(wsk_redis *r) {}
