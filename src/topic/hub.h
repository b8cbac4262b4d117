/* hub.h - what a server uses of the hub that joins the servers of several loops (threads) into
 * one topic space (the public part is wsk_hub_new/wsk_hub_free in wsk.h). */
#ifndef WSK_TOPIC_HUB_H
#define WSK_TOPIC_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "wsk.h"

struct wsk__hub_member;

/* What a member does with what reaches it, on its loop. */
struct wsk__hub_ops {
  /* A message published on another server of the hub, or from another thread; flags: those of
   * the publish (WSK_PUBLISH_LOCAL: not for the topic hooks). */
  void (*deliver)(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                  const void *data, size_t len, unsigned flags);
  /* A message sent to connection `id` from another thread. */
  void (*send)(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len);
  /* The bridge only: a topic has subscribers in the hub now (first = 1), or has none any more. */
  void (*topic)(wsk_server *s, const void *topic, size_t len, int first);
};

/* A server joins h. Returns its member, or NULL when out of memory. */
struct wsk__hub_member *wsk__hub_join(wsk_hub *h, wsk_server *s, wsk_loop *loop,
                                    const struct wsk__hub_ops *ops);
/* The server is being freed (on its loop thread): messages still queued for it are dropped. */
void wsk__hub_leave(struct wsk__hub_member *m);
/* Queue a message (checked already) for every member but `except` (NULL: every member). Any
 * thread. Returns 0 or WSK_ENOMEM (then no member gets it). */
int wsk__hub_post(struct wsk__hub_member *from, const struct wsk__hub_member *except,
                 const void *topic, size_t topic_len, int opcode, const void *data, size_t len,
                 unsigned flags);
/* Queue a message for connection `id` of this member (any thread). Returns 0 or WSK_ENOMEM. */
int wsk__hub_send(struct wsk__hub_member *m, uint64_t id, int opcode, const void *data, size_t len);
/* 1 when called from inside wsk_loop_run of this loop (its own thread, in a callback). */
int wsk__hub_on_loop(const struct wsk__hub_member *m);

/* ---- hub_count.c: which topics have subscribers anywhere in the hub, for the topic hooks.
 * The hub counts, per topic, the members that have subscribers. One member may be the bridge
 * (its server holds the topic hooks): when a topic's count goes from 0 or to 0, on any loop, the
 * bridge's loop is woken once and there ops->topic tells the difference between what the topic
 * has now and what was told last (so the order in which the loops changed the count is of no
 * matter, and news that cancel out before the bridge runs are not told at all). */

/* m's server made a topic (first = 1) or freed it (first = 0), on m's loop. Returns 0, or
 * WSK_ENOMEM for a topic that could not be counted (then it must not be made). */
int wsk__hub_count(struct wsk__hub_member *m, const void *topic, size_t len, int first);
/* m becomes the bridge (on = 1; the topics that have subscribers count as told) or stops being it
 * (on = 0; nothing when it is not). On m's loop. Returns 0, or WSK_EBUSY when another member is
 * the bridge. */
int wsk__hub_bridge(struct wsk__hub_member *m, int on);
/* On the bridge's loop: call fn for each topic the bridge was told has subscribers, until fn
 * returns non-zero, which is returned. fn runs under the counts' lock: it must not subscribe or
 * unsubscribe. */
int wsk__hub_topics(struct wsk__hub_member *m, int (*fn)(const void *topic, size_t len, void *arg),
                   void *arg);

#endif
