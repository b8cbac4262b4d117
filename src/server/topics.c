/* topics.c - the public publish/subscribe calls over the server's topic registry (topic/). */
#include "server/server_internal.h"

/* The registry of c's server, or NULL when c is not a server's open WebSocket. */
static struct wsk_topics *topics_of(const wsk_conn *c) {
  if (!c || c->group->client) return NULL;
  return &wsk_server_of(c)->topics;
}

int wsk_subscribe(wsk_conn *c, const void *topic, size_t len) {
  struct wsk_topics *ts = topics_of(c);
  if (!ts || (!topic && len)) return WSK_EINVAL;
  if (wsk_conn_state(c) != WSK_CS_OPEN) return WSK_ECLOSED;
  return wsk_topics_subscribe(ts, c->group->loop, c, topic, len);
}

int wsk_unsubscribe(wsk_conn *c, const void *topic, size_t len) {
  struct wsk_topics *ts = topics_of(c);
  if (!ts || (!topic && len)) return WSK_EINVAL;
  return wsk_topics_unsubscribe(ts, c, topic, len);
}

int wsk_is_subscribed(const wsk_conn *c, const void *topic, size_t len) {
  const struct wsk_topics *ts = topics_of(c);
  return ts && (topic || !len) && wsk_topics_is_subscribed(ts, c, topic, len);
}

int wsk_conn_topics(const wsk_conn *c, int (*fn)(const void *topic, size_t len, void *arg),
                    void *arg) {
  const struct wsk_topics *ts = topics_of(c);
  if (!ts || !fn) return WSK_EINVAL;
  return wsk_topics_each_of(ts, c, fn, arg);
}

size_t wsk_topic_subscribers(const wsk_server *s, const void *topic, size_t len) {
  return s && (topic || !len) ? wsk_topics_count(&s->topics, topic, len) : 0;
}

/* To the subscribers of this server (on its loop). */
static int publish_here(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                        const void *data, size_t len, const wsk_conn *except) {
  return wsk_topics_publish(&s->topics, topic, topic_len, opcode, data, len, except);
}

void wsk_server_hub_deliver(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                            const void *data, size_t len) {
  publish_here(s, topic, topic_len, opcode, data, len, NULL);
}

int wsk_server_topics(const wsk_server *s, int (*fn)(const void *topic, size_t len, void *arg),
                      void *arg) {
  return s && fn ? wsk_topics_each(&s->topics, fn, arg) : WSK_EINVAL;
}

int wsk_server_set_topic_hooks(wsk_server *s, const struct wsk_topic_hooks *hooks, void *arg) {
  if (!s) return WSK_EINVAL;
  if (s->hub && hooks) return WSK_EUNSUPPORTED; /* (per process counting: not yet) */
  s->hooks = hooks ? *hooks : (struct wsk_topic_hooks){0};
  s->hook_arg = arg;
  s->topics.on_topic = s->hooks.on_topic;
  s->topics.hook_arg = arg;
  return 0;
}

static int publish(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                   const void *data, size_t len, const wsk_conn *except, unsigned flags) {
  if (!s || (!topic && topic_len) || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) ||
      (!data && len))
    return WSK_EINVAL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  if (s->hooks.on_publish && !(flags & WSK_PUBLISH_LOCAL))
    s->hooks.on_publish(s->hook_arg, topic, topic_len, opcode, data, len);
  if (!s->hub) return publish_here(s, topic, topic_len, opcode, data, len, except);
  if (!wsk_hub_on_loop(s->hub)) /* another thread: every loop delivers, this one included */
    return wsk_hub_post(s->hub, NULL, topic, topic_len, opcode, data, len);
  int r = wsk_hub_post(s->hub, s->hub, topic, topic_len, opcode, data, len);
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
  return publish(wsk_server_of(c), topic, topic_len, opcode, data, len,
                 (flags & WSK_PUBLISH_EXCLUDE_SELF) ? c : NULL, flags);
}
