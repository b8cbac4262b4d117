/* hub_count.c - per topic, how many members of the hub have subscribers, and the news of it for
 * the bridge (the member whose server holds the topic hooks): see hub.h.
 *
 * A count that crosses 0 marks its topic dirty (a FIFO threaded through the records) and posts
 * one wakeup to the bridge's loop, which then tells the hooks whatever differs from what they were
 * told last. Nothing is allocated per change (a record per topic, a wakeup per batch), and a
 * wakeup still pending when a loop is freed points at a member, which lives until wsk_hub_free.
 *
 * While there is a bridge, a record that is not dirty has told == (servers > 0), so only the
 * bridge's loop frees records then (after telling their last subscriber left); without one, the
 * member whose count drops to 0 frees it. */
#include <string.h>

#include "net/loop_internal.h"
#include "proto/alloc_internal.h"
#include "topic/hub_internal.h"

struct name_key {
  const void *name;
  size_t len;
};

static int topic_is(const void *item, const void *key) {
  const struct hub_topic *t = item;
  const struct name_key *k = key;
  return t->len == k->len && memcmp(t->name, k->name, k->len) == 0;
}

/* Drop a record nobody needs any more: no subscribers, nothing told, no news pending. */
static void maybe_free(wsk_hub *h, struct hub_topic *t) {
  if (t->servers || t->told || t->dirty || t->pinned) return;
  wsk__table_remove_item(&h->topics, t->hash, t);
  wsk__free(t);
}

static void tell(void *arg);

/* t's count changed (count_mu held): news for the bridge when it now differs from what it knows. */
static void changed(wsk_hub *h, struct hub_topic *t) {
  struct wsk__hub_member *b = h->bridge;
  if (b && !t->dirty && (t->servers > 0) != t->told) {
    t->dirty = 1;
    t->next_dirty = NULL;
    if (h->dirty_last)
      h->dirty_last->next_dirty = t;
    else
      h->dirty = t;
    h->dirty_last = t;
    /* (out of memory for the wakeup: told with the next change that gets one through) */
    if (!b->tell_posted) b->tell_posted = wsk_loop_post(b->loop, tell, b) == 0;
  }
  maybe_free(h, t);
}

static struct hub_topic *pop_dirty(wsk_hub *h) {
  struct hub_topic *t = h->dirty;
  if (!t) return NULL;
  h->dirty = t->next_dirty;
  if (!h->dirty) h->dirty_last = NULL;
  t->dirty = 0;
  return t;
}

/* On the bridge's loop: tell the hooks each dirty topic's news. The hook runs outside the lock
 * (it may take a while, and the other loops keep counting meanwhile); the record is pinned. */
static void tell(void *arg) {
  struct wsk__hub_member *m = arg;
  wsk_hub *h = m->hub;
  pthread_mutex_lock(&h->count_mu);
  m->tell_posted = 0;
  struct hub_topic *t;
  while (h->bridge == m && (t = pop_dirty(h)) != NULL) {
    int now = t->servers > 0;
    if (now != t->told) {
      t->told = (uint8_t)now;
      t->pinned = 1;
      pthread_mutex_unlock(&h->count_mu);
      m->ops->topic(m->s, t->name, t->len, now);
      pthread_mutex_lock(&h->count_mu);
      t->pinned = 0;
    }
    maybe_free(h, t);
  }
  pthread_mutex_unlock(&h->count_mu);
}

int wsk__hub_count(struct wsk__hub_member *m, const void *topic, size_t len, int first) {
  wsk_hub *h = m->hub;
  uint64_t hash = wsk__siphash13(h->key, topic, len);
  struct name_key k = {topic, len};
  int rc = 0;
  pthread_mutex_lock(&h->count_mu);
  struct wsk__table_slot *slot = wsk__table_find(&h->topics, hash, topic_is, &k);
  struct hub_topic *t = slot ? slot->item : NULL;
  if (!t && first) {
    t = wsk__calloc(1, sizeof *t + len);
    if (t) {
      t->hash = hash;
      t->len = len;
      if (len) memcpy(t->name, topic, len);
      if (wsk__table_add(&h->topics, hash, t) != 0) {
        wsk__free(t);
        t = NULL;
      }
    }
    if (!t) rc = WSK_ENOMEM;
  }
  if (t) {
    if (first)
      t->servers++;
    else if (t->servers) /* (always: a member frees only what it made) */
      t->servers--;
    changed(h, t);
  }
  pthread_mutex_unlock(&h->count_mu);
  return rc;
}

int wsk__hub_bridge(struct wsk__hub_member *m, int on) {
  wsk_hub *h = m->hub;
  int rc = 0;
  pthread_mutex_lock(&h->count_mu);
  if (on && h->bridge && h->bridge != m) {
    rc = WSK_EBUSY;
  } else if (on ? !h->bridge : h->bridge == m) {
    h->bridge = on ? m : NULL;
    /* A new bridge knows of the topics as they are now (it walks them); without one, nobody
     * knows of any, and the records only wait for their count to drop to 0. */
    for (size_t i = 0; i < h->topics.cap; i++) {
      struct hub_topic *t = h->topics.slots[i].item;
      if (t) t->told = on && t->servers > 0;
    }
    /* (a new bridge finds no dirty topic: there are some only while a bridge is there) */
    struct hub_topic *t;
    while ((t = pop_dirty(h)) != NULL) maybe_free(h, t);
  }
  pthread_mutex_unlock(&h->count_mu);
  return rc;
}

int wsk__hub_topics(struct wsk__hub_member *m, int (*fn)(const void *topic, size_t len, void *arg),
                   void *arg) {
  wsk_hub *h = m->hub;
  int r = 0;
  pthread_mutex_lock(&h->count_mu);
  for (size_t i = 0; i < h->topics.cap && !r; i++) {
    const struct hub_topic *t = h->topics.slots[i].item;
    if (t && t->told) r = fn(t->name, t->len, arg);
  }
  pthread_mutex_unlock(&h->count_mu);
  return r;
}

void wsk__hub_count_free(wsk_hub *h) {
  for (size_t i = 0; i < h->topics.cap; i++) wsk__free(h->topics.slots[i].item);
  wsk__table_free(&h->topics);
}
