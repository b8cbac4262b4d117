/* topic.h - topics (publish/subscribe) of one server: which connections subscribed to which
 * topic, and delivery of a published message to every subscriber.
 *
 * Three hash sets (table.h) over two kinds of records:
 * - a topic: its name and the array of its subscriptions (publish walks the array);
 * - a subscription: (connection, topic), its index in the topic's array, and its place in the
 *   connection's own list of subscriptions (what the connection leaves when it closes).
 * `topics` finds a topic by name, `subs` a subscription by (connection, topic), `conns` the first
 * subscription of a connection. Subscribe and unsubscribe are O(1); publish is O(subscribers) and
 * allocates nothing per subscriber (each gets a reference to one prepared frame).
 *
 * Removal during a walk: a callback that runs inside a delivery (on_error on a send over the
 * limit, on_close) may unsubscribe anything or close any connection; the walked array then gets
 * holes, closed up when the walk ends, and a topic left empty is freed then. */
#ifndef WSK_TOPIC_TOPIC_H
#define WSK_TOPIC_TOPIC_H

#include "topic/table.h"
#include "wsk.h"

struct wsk__topics {
  struct wsk__table topics, subs, conns;
  uint8_t key[16]; /* SipHash key, random per server */
  uint8_t keyed;
  /* Told when a topic is made (first = 1; non-zero refuses it: the subscribe fails with
   * WSK_ENOMEM) or freed after its last subscriber left (first = 0): the server's topic hooks, or
   * its hub's count (server/topics.c). */
  int (*on_topic)(void *arg, const void *name, size_t len, int first);
  void *hook_arg;
};

/* Free every record (the connections are gone or going). */
void wsk__topics_free(struct wsk__topics *ts);
/* c is being destroyed: leave every topic it subscribed to. */
void wsk__topics_leave_all(struct wsk__topics *ts, wsk_conn *c);

int wsk__topics_subscribe(struct wsk__topics *ts, wsk_loop *loop, wsk_conn *c, const void *name,
                         size_t len);
int wsk__topics_unsubscribe(struct wsk__topics *ts, wsk_conn *c, const void *name, size_t len);
int wsk__topics_is_subscribed(const struct wsk__topics *ts, const wsk_conn *c, const void *name,
                             size_t len);
/* Call fn for each topic with subscribers until it returns non-zero, which is returned. */
int wsk__topics_each(const struct wsk__topics *ts,
                     int (*fn)(const void *name, size_t len, void *arg), void *arg);
int wsk__topics_each_of(const struct wsk__topics *ts, const wsk_conn *c,
                       int (*fn)(const void *name, size_t len, void *arg), void *arg);
size_t wsk__topics_count(const struct wsk__topics *ts, const void *name, size_t len);
/* Send a message (checked already) to every subscriber of the topic but `except`, framed once
 * (and only when the topic has subscribers). Returns how many it was sent to, or WSK_ENOMEM. */
int wsk__topics_publish(struct wsk__topics *ts, const void *name, size_t len, int opcode,
                       const void *data, size_t data_len, const wsk_conn *except);

#endif
