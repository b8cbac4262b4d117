/* serve_redis.c - `wsk serve --redis URL [--redis-prefix P]`: the server's topics (--rooms,
 * --broadcast) shared with the other nodes on the same Redis (docs/scale-out.md), and the
 * bridge's counters on the log when the server stops. */
#include <stdio.h>

#include "wsk.h"

#include "cli.h"

/* The bridge's state changes, once each, on the log (stderr). */
static void on_state(wsk_redis *r, int up, const char *message, void *arg) {
  fprintf(stderr, "wsk serve: %s\n", message);
}

int wsk_cli_redis_start(wsk_server *s, const char *url, const char *prefix, wsk_redis **out) {
  struct wsk_redis_options o = {.url = url, .prefix = prefix, .on_state = on_state};
  char err[256] = "";
  int rc = wsk_redis_attach(s, &o, out, err, sizeof err);
  if (rc != 0) fprintf(stderr, "wsk serve: %s\n", *err ? err : wsk_strerror(rc));
  return rc;
}

void wsk_cli_redis_stop(wsk_redis *r) {
  if (!r) return;
  struct wsk_redis_stats st;
  wsk_redis_stats(r, &st);
  fprintf(stderr,
          "wsk serve: redis: %llu published, %llu received from other nodes, %llu dropped "
          "(Redis down or slow), %llu invalid\n",
          (unsigned long long)st.published, (unsigned long long)st.received,
          (unsigned long long)st.dropped, (unsigned long long)st.invalid);
  wsk_redis_free(r);
}
