/* link.c - one connection to Redis: connect, authenticate, and after any failure try again after
 * a backoff (100 ms, doubling up to 5 s; back to 100 ms once connected). */
#include <stdio.h>

#include <hiredis/async.h>

#include "redis/redis_internal.h"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

static void retry_now(void *arg) {
  struct wsk__redis_link *l = arg;
  wsk_timer_stop(l->retry);
  l->retry = NULL;
  wsk__redis_link_connect(l, 0);
}

void wsk__redis_link_lost(struct wsk__redis_link *l, const char *why) {
  l->ac = NULL; /* hiredis frees it when the callback that called us returns */
  l->ready = 0;
  if (l->r->closing) return;
  char msg[256];
  snprintf(msg, sizeof msg, "redis %s:%d (%s connection): %s; retrying, local delivery goes on",
           l->r->url.host, l->r->url.port, l->sub ? "subscribe" : "publish",
           why && *why ? why : "connection lost");
  wsk__redis_state(l->r, msg);
  wsk__redis_link_connect(l, 1);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  struct wsk__redis_link *l = ac->data;
  if (l->ac != ac) return; /* reported already (a failed connect), or wsk_redis_free */
  wsk__redis_link_lost(l, status == REDIS_OK ? "closed" : ac->errstr);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv) {
  const redisReply *rep = reply;
  struct wsk__redis_link *l = priv;
  if (!rep || l->ac != ac) return; /* (the link is going away) */
  if (rep->type == REDIS_REPLY_ERROR) {
    char msg[256];
    snprintf(msg, sizeof msg, "redis %s:%d: AUTH refused: %.*s", l->r->url.host, l->r->url.port,
             (int)(rep->len < 160 ? rep->len : 160), rep->str);
    wsk__redis_state(l->r, msg); /* (then the disconnect reports the loss itself) */
    redisAsyncDisconnect(ac);
    return;
  }
  wsk__redis_link_ready(l);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  struct wsk__redis_link *l = ac->data;
  if (status != REDIS_OK) {
    wsk__redis_link_lost(l, ac->errstr);
    return;
  }
  const struct wsk__redis_url *u = &l->r->url;
  redisAsyncContext *c = l->ac;
  if (!u->password)
    wsk__redis_link_ready(l);
  else if (u->user)
    redisAsyncCommand(c, on_auth, l, "AUTH %s %s", u->user, u->password);
  else
    redisAsyncCommand(c, on_auth, l, "AUTH %s", u->password);
}

void wsk__redis_link_connect(struct wsk__redis_link *l, int later) {
  if (later) {
    uint64_t ms = l->backoff_ms ? l->backoff_ms : BACKOFF_MIN_MS;
    l->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
    if (!l->retry) l->retry = wsk_timer_start(l->r->loop, ms, 0, retry_now, l);
    return; /* (no memory for a timer: the link stays down, as it would without Redis) */
  }
  redisAsyncContext *ac = redisAsyncConnect(l->r->url.host, l->r->url.port);
  if (!ac || ac->err) {
    char why[160];
    snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    wsk__redis_link_lost(l, why);
    return;
  }
  ac->data = l;
  l->ac = ac;
  if (wsk__redis_adapter_attach(l) != 0) {
    l->ac = NULL;
    redisAsyncFree(ac);
    wsk__redis_link_lost(l, "cannot watch the socket");
    return;
  }
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  redisAsyncSetConnectCallback(ac, on_connect); /* (this asks for the first write event) */
}

void wsk__redis_link_close(struct wsk__redis_link *l) {
  if (l->retry) wsk_timer_stop(l->retry);
  l->retry = NULL;
  redisAsyncContext *ac = l->ac;
  l->ac = NULL;
  if (ac) redisAsyncFree(ac); /* replies still awaited get their callbacks with NULL */
}
