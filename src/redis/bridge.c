/* bridge.c - wsk_redis: the server's topic hooks turned into SUBSCRIBE, UNSUBSCRIBE and PUBLISH,
 * and the messages of the subscribed channels delivered to the local subscribers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <hiredis/async.h>

#include "redis/redis_internal.h"

#define DEFAULT_PREFIX "wsk:"
#define DEFAULT_MAX_PENDING (8u << 20)

void wsk__redis_state(wsk_redis *r, const char *why) {
  int up = r->pub.ready && r->sub.ready;
  r->st.up = up;
  /* Once per change; one link ready while the other is not yet is no news. */
  if (up == r->reported || (!up && !why)) return;
  r->reported = up;
  char msg[200];
  if (up) snprintf(msg, sizeof msg, "redis %s:%d: connected, topics shared", r->url.host, r->url.port);
  if (r->opt.on_state) r->opt.on_state(r, up, up ? msg : why, r->opt.arg);
}

/* "prefix" + topic into the scratch buffer, with `extra` bytes of room after it. */
static uint8_t *channel(wsk_redis *r, const void *topic, size_t len, size_t extra) {
  size_t need = r->prefix_len + len + extra;
  if (need > r->scratch_cap) {
    uint8_t *b = realloc(r->scratch, need);
    if (!b) return NULL;
    r->scratch = b;
    r->scratch_cap = need;
  }
  memcpy(r->scratch, r->prefix, r->prefix_len);
  if (len) memcpy(r->scratch + r->prefix_len, topic, len);
  return r->scratch;
}

/* A message on a subscribed channel (also the subscribe/unsubscribe confirmations: ignored). */
static void on_channel(redisAsyncContext *ac, void *reply, void *priv) {
  const redisReply *rep = reply;
  wsk_redis *r = priv;
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3) return;
  const redisReply *kind = rep->element[0], *ch = rep->element[1], *msg = rep->element[2];
  if (kind->type != REDIS_REPLY_STRING || strcmp(kind->str, "message") != 0) return;
  uint64_t node;
  int opcode;
  const uint8_t *data;
  size_t len;
  if (ch->type != REDIS_REPLY_STRING || ch->len < r->prefix_len || msg->type != REDIS_REPLY_STRING ||
      wsk__redis_envelope_read(msg->str, msg->len, &node, &opcode, &data, &len) != 0) {
    r->st.invalid++;
    return;
  }
  if (node == r->node) return; /* our own publish, back from Redis: delivered here already */
  if (wsk_publish(r->s, ch->str + r->prefix_len, ch->len - r->prefix_len, opcode, data, len,
                  WSK_PUBLISH_LOCAL) >= 0)
    r->st.received++;
  else
    r->st.invalid++; /* (a text that is not UTF-8) */
}

static void subscribe(wsk_redis *r, const void *topic, size_t len, int on) {
  uint8_t *ch = channel(r, topic, len, 0);
  if (!ch) return; /* (out of memory: the topic stays as it was in Redis) */
  if (on)
    redisAsyncCommand(r->sub.ac, on_channel, r, "SUBSCRIBE %b", ch, r->prefix_len + len);
  else
    redisAsyncCommand(r->sub.ac, NULL, NULL, "UNSUBSCRIBE %b", ch, r->prefix_len + len);
}

static int subscribe_live(const void *topic, size_t len, void *arg) {
  subscribe(arg, topic, len, 1);
  return 0;
}

void wsk__redis_link_ready(struct wsk__redis_link *l) {
  wsk_redis *r = l->r;
  l->ready = 1;
  l->backoff_ms = 0;
  if (l->sub) wsk_server_topics(r->s, subscribe_live, r);
  wsk__redis_state(r, NULL);
}

static void on_topic(void *arg, const void *topic, size_t len, int first) {
  wsk_redis *r = arg;
  if (r->sub.ready) subscribe(r, topic, len, first);
  /* (not ready: the link subscribes to every live topic when it is) */
}

static void on_published(redisAsyncContext *ac, void *reply, void *priv) {
  struct wsk__redis_link *l = ac->data;
  l->r->pending -= (size_t)(uintptr_t)priv; /* answered, or dropped with the connection */
}

static void on_publish(void *arg, const void *topic, size_t len, int opcode, const void *data,
                       size_t data_len) {
  wsk_redis *r = arg;
  size_t size = r->prefix_len + len + WSK_REDIS_HEADER + data_len;
  uint8_t *ch = r->pub.ready && r->pending + size <= r->opt.max_pending
                    ? channel(r, topic, len, WSK_REDIS_HEADER + data_len) : NULL;
  if (!ch) {
    r->st.dropped++;
    return;
  }
  uint8_t *env = ch + r->prefix_len + len;
  wsk__redis_envelope_write(env, r->node, opcode);
  if (data_len) memcpy(env + WSK_REDIS_HEADER, data, data_len);
  if (redisAsyncCommand(r->pub.ac, on_published, (void *)(uintptr_t)size, "PUBLISH %b %b", ch,
                        r->prefix_len + len, env, WSK_REDIS_HEADER + data_len) != REDIS_OK) {
    r->st.dropped++;
    return;
  }
  r->pending += size;
  r->st.published++;
}

static const struct wsk_topic_hooks hooks = {.on_topic = on_topic, .on_publish = on_publish};

static void link_init(struct wsk__redis_link *l, wsk_redis *r, int sub) {
  l->r = r;
  l->sub = sub;
}

int wsk_redis_attach(wsk_server *s, const struct wsk_redis_options *opt, wsk_redis **out,
                     char *errbuf, size_t errlen) {
  if (!s || !opt || !out) return WSK_EINVAL;
  wsk_redis *r = calloc(1, sizeof *r);
  if (!r) return WSK_ENOMEM;
  int rc = wsk__redis_url_parse(opt->url, &r->url, errbuf, errlen);
  if (rc != 0) {
    free(r);
    return rc;
  }
  r->s = s;
  r->loop = wsk_server_loop(s);
  r->opt = *opt;
  if (!r->opt.max_pending) r->opt.max_pending = DEFAULT_MAX_PENDING;
  const char *prefix = opt->prefix ? opt->prefix : DEFAULT_PREFIX;
  r->prefix_len = strlen(prefix);
  r->prefix = strdup(prefix);
  r->reported = -1;
  link_init(&r->pub, r, 0);
  link_init(&r->sub, r, 1);
  rc = WSK_ENOMEM;
  if (!r->prefix || getrandom(&r->node, sizeof r->node, 0) != (ssize_t)sizeof r->node) goto fail;
  rc = wsk_server_set_topic_hooks(s, &hooks, r);
  if (rc != 0) {
    if (errbuf && errlen)
      snprintf(errbuf, errlen, "redis: %s", rc == WSK_EBUSY
                                                ? "another server of the hub holds its topic "
                                                  "hooks already (one bridge per hub)"
                                                : wsk_strerror(rc));
    goto fail;
  }
  wsk__redis_link_connect(&r->pub, 0);
  wsk__redis_link_connect(&r->sub, 0);
  *out = r;
  return 0;
fail:
  wsk__redis_url_free(&r->url);
  free(r->prefix);
  free(r);
  return rc;
}

void wsk_redis_stats(const wsk_redis *r, struct wsk_redis_stats *st) { *st = r->st; }

void wsk_redis_free(wsk_redis *r) {
  if (!r) return;
  r->closing = 1;
  wsk_server_set_topic_hooks(r->s, NULL, NULL);
  wsk__redis_link_close(&r->pub);
  wsk__redis_link_close(&r->sub);
  wsk__redis_url_free(&r->url);
  free(r->prefix);
  free(r->scratch);
  free(r);
}
