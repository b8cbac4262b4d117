/* group.c - a set of connections sharing callbacks, limits and timers (a server, or one client
 * connection): walking them safely, per-connection deadlines, keepalive pings.
 *
 * Deadlines are 32-bit millisecond stamps in each connection, checked by one sweep timer per
 * group that runs only while some connection has a deadline (it is parked otherwise, so that
 * restarting it never needs memory: a deadline is always enforced). This costs 4 bytes per
 * connection instead of a timer object, and nothing at all per message (an idle timeout is pushed
 * forward with a store). The sweep period is an eighth of the shortest timeout (20 ms to 1 s), so a
 * timeout fires at most that much late. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

static unsigned min_nonzero(unsigned a, unsigned b) {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

void wsk__group_init(struct wsk__group *g, wsk_loop *loop, const struct wsk__group_ops *ops,
                    void *owner) {
  memset(g, 0, sizeof *g);
  g->loop = loop;
  g->cork = wsk__loop_cork(loop);
  g->ops = ops;
  g->owner = owner;
  wsk__batch_init(g);
}

static void ping_tick(void *arg);
static void sweep(void *arg);

int wsk__group_start(struct wsk__group *g) {
  unsigned shortest = min_nonzero(min_nonzero(g->handshake_timeout_ms, g->idle_timeout_ms),
                                  g->close_timeout_ms);
  g->sweep_ms = shortest ? shortest / 8 : 1000;
  if (g->sweep_ms < 20) g->sweep_ms = 20;
  if (g->sweep_ms > 1000) g->sweep_ms = 1000;
  g->sweep = wsk_timer_start(g->loop, g->sweep_ms, g->sweep_ms, sweep, g);
  if (!g->sweep) return WSK_ENOMEM;
  wsk__timer_park(g->sweep); /* until a connection has a deadline */
  if (g->ping_interval_ms) {
    g->ping = wsk_timer_start(g->loop, g->ping_interval_ms, g->ping_interval_ms, ping_tick, g);
    if (!g->ping) return WSK_ENOMEM;
  }
  return 0;
}

static void compact(struct wsk__group *g) {
  uint32_t j = 0;
  for (uint32_t i = 0; i < g->n; i++) {
    wsk_conn *c = g->conns[i];
    if (!c) continue;
    c->idx = j;
    g->conns[j++] = c;
  }
  g->n = j;
  g->holes = 0;
}

/* Visit the connections present when the walk starts; fn may destroy any of them (their slots
 * become holes, filled in when the outermost walk ends) or add new ones (not visited). */
static void walk(struct wsk__group *g, int open_only, void (*fn)(wsk_conn *c, void *arg),
                 void *arg) {
  uint32_t n = g->n;
  g->walking++;
  for (uint32_t i = 0; i < n; i++) {
    wsk_conn *c = g->conns[i];
    if (!c || wsk__conn_dead(c)) continue;
    if (open_only && wsk__conn_state(c) != WSK_CS_OPEN) continue;
    fn(c, arg);
  }
  if (--g->walking == 0 && g->holes) compact(g);
}

void wsk__group_foreach(struct wsk__group *g, void (*fn)(wsk_conn *c, void *arg), void *arg) {
  walk(g, 1, fn, arg);
}

void wsk__group_each(struct wsk__group *g, void (*fn)(wsk_conn *c, void *arg), void *arg) {
  walk(g, 0, fn, arg);
}

static void check_deadline(wsk_conn *c, void *arg) {
  uint32_t now = *(const uint32_t *)arg;
  if (!c->deadline || !wsk__time32_due(now, c->deadline)) return;
  struct wsk__group *g = c->group;
  char msg[128];
  wsk__conn_set_timeout(c, 0);
  switch (wsk__conn_state(c)) {
  case WSK_CS_OPEN:
    snprintf(msg, sizeof msg, "no data from the peer for %u ms (idle_timeout_ms)",
             g->idle_timeout_ms);
    const struct wsk_callbacks *cb = wsk__conn_cb(c);
    if (cb->on_error) cb->on_error(c, WSK_ETIMEDOUT, msg);
    if (!wsk__conn_dead(c)) wsk_close(c, WSK_CLOSE_GOING_AWAY, "idle timeout");
    break;
  case WSK_CS_CLOSING:
    snprintf(msg, sizeof msg, "the peer did not answer our close frame within %u ms",
             g->close_timeout_ms);
    wsk__conn_destroy(c, WSK_ETIMEDOUT, msg);
    break;
  case WSK_CS_LINGER:
    wsk__conn_destroy(c, 0, NULL);
    break;
  default: /* CONNECTING, HTTP, UPGRADING: the owner decides */
    if (g->ops->on_timeout)
      g->ops->on_timeout(c);
    else
      wsk__conn_destroy(c, WSK_ETIMEDOUT, "timed out");
  }
}

/* The sweep timer: deadlines of the group's connections. */
static void sweep(void *arg) {
  struct wsk__group *g = arg;
  if (g->n_timed == 0) {
    wsk__timer_park(g->sweep);
    return;
  }
  uint32_t now = wsk__loop_now32(g->loop);
  wsk__group_each(g, check_deadline, &now);
}

/* Keepalive: a connection that has received nothing since the previous ping is dead. */
static void ping_one(wsk_conn *c, void *arg) {
  if (wsk__conn_has(c, WSK_CF_PING_OUT)) {
    char msg[96];
    snprintf(msg, sizeof msg, "no pong (or any data) within %u ms of a keepalive ping",
             c->group->ping_interval_ms);
    wsk__conn_destroy(c, WSK_ETIMEDOUT, msg);
    return;
  }
  wsk__conn_flag(c, WSK_CF_PING_OUT);
  wsk__conn_send_frame(c, WSK_OP_PING, NULL, 0, NULL);
}

static void ping_tick(void *arg) { wsk__group_foreach(arg, ping_one, NULL); }

void wsk__group_destroy(struct wsk__group *g) {
  while (g->n > 0) {
    wsk_conn *c = g->conns[g->n - 1];
    if (c) {
      wsk__conn_destroy(c, 0, NULL);
    } else {
      g->n--;
    }
  }
  if (g->sweep) wsk_timer_stop(g->sweep);
  if (g->ping) wsk_timer_stop(g->ping);
  g->sweep = g->ping = NULL;
  wsk__batch_free(g);
  wsk__free(g->conns);
  g->conns = NULL;
  g->cap = 0;
}

int wsk__timeouts_check(const char *const names[], const unsigned ms[], size_t n, char *errbuf,
                       size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    if (ms[i] <= WSK_TIMEOUT_MAX_MS) continue;
    if (errbuf)
      snprintf(errbuf, errlen, "%s %u is over the longest timeout of a connection, "
               "WSK_TIMEOUT_MAX_MS (%u ms, about 24.8 days)", names[i], ms[i], WSK_TIMEOUT_MAX_MS);
    return WSK_EINVAL;
  }
  return 0;
}
