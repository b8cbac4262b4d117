/* hub_internal.h - the hub's records, shared by its two halves: hub.c (members and their message
 * queues) and hub_count.c (which topics have subscribers on which members, for the topic hooks).
 *
 * Locks: hub->mu (the member list), then a member's mu (its queue), then the loop's wakeup lock;
 * hub->count_mu (the topic counts and the bridge) is never held with the others. */
#ifndef WSK_TOPIC_HUB_INTERNAL_H
#define WSK_TOPIC_HUB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "topic/hub.h"
#include "topic/table.h"

struct msg;

struct wsk__hub_member {
  wsk_hub *hub;
  struct wsk__hub_member *next;
  wsk_loop *loop;
  wsk_server *s; /* loop thread only */
  const struct wsk__hub_ops *ops;
  pthread_mutex_t mu;   /* the fields below */
  struct msg **q, **spare;
  size_t n, cap, spare_cap, bytes;
  uint64_t dropped;
  uint8_t scheduled;    /* a wakeup is on its way */
  uint8_t left;
  uint8_t tell_posted;  /* (count_mu) a wakeup to tell the hooks is on its way (hub_count.c) */
};

/* One topic that has subscribers on some member (or news the hooks were not told yet). */
struct hub_topic {
  uint64_t hash;
  struct hub_topic *next_dirty;
  uint32_t servers; /* members with subscribers */
  uint8_t told;     /* what the hooks know: 1 = has subscribers */
  uint8_t dirty;    /* in the dirty list: (servers > 0) may differ from told */
  uint8_t pinned;   /* its name is being told, outside the lock: not to be freed */
  size_t len;
  uint8_t name[];
};

struct wsk_hub {
  pthread_mutex_t mu;
  struct wsk__hub_member *members;
  atomic_size_t n_members;  /* (also read without mu: a post with nobody to post to) */
  pthread_mutex_t count_mu; /* the fields below */
  struct wsk__table topics;  /* of struct hub_topic */
  uint8_t key[16];          /* SipHash key of the names, random per hub */
  struct wsk__hub_member *bridge; /* holds the topic hooks, or NULL */
  struct hub_topic *dirty, *dirty_last; /* FIFO of topics with news for the bridge */
};

/* hub_count.c: free the counts (wsk_hub_free). */
void wsk__hub_count_free(wsk_hub *h);

#endif
