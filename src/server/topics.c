/* topics.c - the public publish/subscribe calls over the server's topic registry (topic/). */
#include "server/server_internal.h"

/* The registry of c's server, or NULL when c is not a server's open WebSocket. */
static struct wsk__topics *topics_of(const wsk_conn *c) {
  if (!c || c->group->client) return NULL;
  return &wsk__server_of(c)->topics;
}

int wsk_subscribe(wsk_conn *c, const void *topic, size_t len) {
  struct wsk__topics *ts = topics_of(c);
  if (!ts || (!topic && len)) return WSK_EINVAL;
  if (wsk__conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  return wsk__topics_subscribe(ts, c->group->loop, c, topic, len);
}

int wsk_unsubscribe(wsk_conn *c, const void *topic, size_t len) {
  struct wsk__topics *ts = topics_of(c);
  if (!ts || (!topic && len)) return WSK_EINVAL;
  return wsk__topics_unsubscribe(ts, c, topic, len);
}

int wsk_is_subscribed(const wsk_conn *c, const void *topic, size_t len) {
  const struct wsk__topics *ts = topics_of(c);
  return ts && (topic || !len) && wsk__topics_is_subscribed(ts, c, topic, len);
}

int wsk_conn_topics(const wsk_conn *c, int (*fn)(const void *topic, size_t len, void *arg),
                    void *arg) {
  const struct wsk__topics *ts = topics_of(c);
  if (!ts || !fn) return WSK_EINVAL;
  return wsk__topics_each_of(ts, c, fn, arg);
}

size_t wsk_topic_subscribers(const wsk_server *s, const void *topic, size_t len) {
  return s && (topic || !len) ? wsk__topics_count(&s->topics, topic, len) : 0;
}

/* To the subscribers of this server (on its loop). */
static int publish_here(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                        const void *data, size_t len, const wsk_conn *except) {
  return wsk__topics_publish(&s->topics, topic, topic_len, opcode, data, len, except);
}

/* On s's loop: hand a publish to the hook on_publish, if s has one and the publish is for it. */
static void hand_over(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                      const void *data, size_t len, unsigned flags) {
  if (s->hooks.on_publish && !(flags & WSK_PUBLISH_LOCAL))
    s->hooks.on_publish(s->hook_arg, topic, topic_len, opcode, data, len);
}

/* A publish of another loop (or thread) reaches the bridge here, which hands it to on_publish:
 * each message once, in the order of its publishing thread. */
void wsk__server_hub_deliver(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                            const void *data, size_t len, unsigned flags) {
  hand_over(s, topic, topic_len, opcode, data, len, flags);
  publish_here(s, topic, topic_len, opcode, data, len, NULL);
}

/* The registry made or freed a topic: with a hub, the hub counts it (and its bridge tells the
 * hooks, on its own loop, whatever loop changed the count); without, the hooks hear of it now. */
static int topic_news(void *arg, const void *topic, size_t len, int first) {
  wsk_server *s = arg;
  if (s->hub) return wsk__hub_count(s->hub, topic, len, first);
  wsk__server_hub_topic(s, topic, len, first);
  return 0;
}

void wsk__server_hub_topic(wsk_server *s, const void *topic, size_t len, int first) {
  if (s->hooks.on_topic && !s->freeing) s->hooks.on_topic(s->hook_arg, topic, len, first);
}

void wsk__server_topics_init(wsk_server *s) {
  s->topics.on_topic = topic_news;
  s->topics.hook_arg = s;
}

int wsk_server_topics(const wsk_server *s, int (*fn)(const void *topic, size_t len, void *arg),
                      void *arg) {
  if (!s || !fn) return WSK_EINVAL;
  if (s->bridge) return wsk__hub_topics(s->hub, fn, arg); /* topics of every loop */
  return wsk__topics_each(&s->topics, fn, arg);
}

int wsk_server_set_topic_hooks(wsk_server *s, const struct wsk_topic_hooks *hooks, void *arg) {
  if (!s) return WSK_EINVAL;
  if (s->hub) {
    int rc = wsk__hub_bridge(s->hub, hooks != NULL); /* (one set of hooks per hub) */
    if (rc != 0) return rc;
    s->bridge = hooks != NULL;
  }
  s->hooks = hooks ? *hooks : (struct wsk_topic_hooks){0};
  s->hook_arg = arg;
  return 0;
}

static int publish(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                   const void *data, size_t len, const wsk_conn *except, unsigned flags) {
  if (!s || (!topic && topic_len) || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) ||
      (!data && len))
    return WSK_EINVAL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  flags &= WSK_PUBLISH_LOCAL; /* (what travels with the message) */
  /* From another thread: every loop delivers, this one included, and the bridge's hands it over
   * (the hooks are the bridge loop's: not to be touched from here). */
  if (s->hub && !wsk__hub_on_loop(s->hub))
    return wsk__hub_post(s->hub, NULL, topic, topic_len, opcode, data, len, flags);
  hand_over(s, topic, topic_len, opcode, data, len, flags);
  if (!s->hub) return publish_here(s, topic, topic_len, opcode, data, len, except);
  int r = wsk__hub_post(s->hub, s->hub, topic, topic_len, opcode, data, len, flags);
  int here = publish_here(s, topic, topic_len, opcode, data, len, except);
  return r < 0 ? r : here;
}

int wsk_publish(wsk_server *s, const void *topic, size_t topic_len, int opcode, const void *data,
                size_t len, unsigned flags) {
  /* (WSK_PUBLISH_EXCLUDE_SELF needs a sender: wsk_conn_publish) */
  if (flags & ~WSK_PUBLISH_LOCAL) return WSK_EINVAL;
  return publish(s, topic, topic_len, opcode, data, len, NULL, flags);
}

int wsk_conn_publish(wsk_conn *c, const void *topic, size_t topic_len, int opcode,
                     const void *data, size_t len, unsigned flags) {
  if (!topics_of(c) || (flags & ~WSK_PUBLISH_FLAGS)) return WSK_EINVAL;
  return publish(wsk__server_of(c), topic, topic_len, opcode, data, len,
                 (flags & WSK_PUBLISH_EXCLUDE_SELF) ? c : NULL, flags);
}
