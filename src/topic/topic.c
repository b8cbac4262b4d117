/* topic.c - the topic registry of a server: see topic.h. */
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"
#include "topic/topic.h"

struct topic {
  uint64_t hash;
  struct sub **subs; /* [0..n): subscriptions, NULL for holes left by removals during a walk */
  uint32_t n, cap;
  uint32_t live;     /* non-NULL entries */
  uint32_t walking;  /* publishes under way on this topic (they may nest) */
  uint8_t refused;   /* on_topic refused it: it is not told when it goes */
  size_t len;
  uint8_t name[];
};

struct sub {
  wsk_conn *c;
  struct topic *t;
  uint32_t idx;            /* in t->subs */
  struct sub *prev, *next; /* c's subscriptions */
};

struct name_key {
  const void *name;
  size_t len;
};

struct sub_key {
  const wsk_conn *c;
  const struct topic *t;
};

/* Pointers are not chosen by peers: a good mix is enough for them. */
static uint64_t conn_hash(const wsk_conn *c) { return wsk__table_mix((uintptr_t)c); }
static uint64_t sub_hash(const wsk_conn *c, const struct topic *t) {
  uint64_t tp = (uintptr_t)t;
  return wsk__table_mix((uintptr_t)c ^ (tp << 17 | tp >> 47));
}

static int topic_is(const void *item, const void *key) {
  const struct topic *t = item;
  const struct name_key *k = key;
  return t->len == k->len && memcmp(t->name, k->name, k->len) == 0;
}
static int sub_is(const void *item, const void *key) {
  const struct sub *s = item;
  const struct sub_key *k = key;
  return s->c == k->c && s->t == k->t;
}
static int conn_is(const void *item, const void *key) {
  return ((const struct sub *)item)->c == key;
}

static struct topic *find_topic(const struct wsk__topics *ts, const void *name, size_t len,
                                uint64_t *hash) {
  *hash = wsk__siphash13(ts->key, name, len);
  struct name_key k = {name, len};
  struct wsk__table_slot *s = wsk__table_find(&ts->topics, *hash, topic_is, &k);
  return s ? s->item : NULL;
}

static struct sub *find_sub(const struct wsk__topics *ts, const wsk_conn *c,
                            const struct topic *t) {
  struct sub_key k = {c, t};
  struct wsk__table_slot *s = wsk__table_find(&ts->subs, sub_hash(c, t), sub_is, &k);
  return s ? s->item : NULL;
}

/* Out of the registry, then (when its last subscriber left, not when its making failed) the
 * hook, which may thus subscribe anew to the same name, then gone. */
static void free_topic(struct wsk__topics *ts, struct topic *t, int left) {
  wsk__table_remove_item(&ts->topics, t->hash, t);
  if (left && !t->refused && ts->on_topic) ts->on_topic(ts->hook_arg, t->name, t->len, 0);
  wsk__free(t->subs);
  wsk__free(t);
}

/* Close the holes of t's array after a walk; free t if nobody is left. */
static void settle(struct wsk__topics *ts, struct topic *t) {
  if (t->walking) return;
  if (!t->live) {
    free_topic(ts, t, 1);
    return;
  }
  if (t->live == t->n) return;
  uint32_t j = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    if (!t->subs[i]) continue;
    t->subs[j] = t->subs[i];
    t->subs[j]->idx = j;
    j++;
  }
  t->n = j;
}

static void remove_sub(struct wsk__topics *ts, struct sub *s) {
  struct topic *t = s->t;
  wsk__table_remove_item(&ts->subs, sub_hash(s->c, t), s);
  if (s->next) s->next->prev = s->prev;
  if (s->prev) {
    s->prev->next = s->next;
  } else { /* the head of c's list: the conns entry moves to the next one */
    struct wsk__table_slot *slot = wsk__table_find(&ts->conns, conn_hash(s->c), conn_is, s->c);
    if (s->next)
      slot->item = s->next;
    else
      wsk__table_remove(&ts->conns, slot);
  }
  if (t->walking) {
    t->subs[s->idx] = NULL; /* the walk's indices stay valid */
  } else {
    struct sub *last = t->subs[--t->n];
    t->subs[s->idx] = last;
    last->idx = s->idx;
    if (t->cap > 8 && t->n * 4 < t->cap) { /* give back what a crowd left (failure: keep it) */
      struct sub **a = wsk__realloc(t->subs, (t->cap / 2) * sizeof *a);
      if (a) {
        t->subs = a;
        t->cap /= 2;
      }
    }
  }
  t->live--;
  wsk__free(s);
  settle(ts, t);
}

int wsk__topics_subscribe(struct wsk__topics *ts, wsk_loop *loop, wsk_conn *c, const void *name,
                         size_t len) {
  if (!ts->keyed) {
    if (wsk__loop_random(loop, ts->key, sizeof ts->key) != 0) return WSK_ESYS;
    ts->keyed = 1;
  }
  uint64_t hash;
  struct topic *t = find_topic(ts, name, len, &hash);
  if (t && find_sub(ts, c, t)) return 1;
  int made = 0;
  if (!t) {
    if (!(t = wsk__calloc(1, sizeof *t + len))) return WSK_ENOMEM;
    t->hash = hash;
    t->len = len;
    if (len) memcpy(t->name, name, len);
    if (wsk__table_add(&ts->topics, hash, t) != 0) {
      wsk__free(t);
      return WSK_ENOMEM;
    }
    made = 1;
  }
  struct sub *s = NULL;
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 4;
    struct sub **a = wsk__realloc(t->subs, cap * sizeof *a);
    if (!a) goto nomem;
    t->subs = a;
    t->cap = cap;
  }
  if (!(s = wsk__calloc(1, sizeof *s))) goto nomem;
  s->c = c;
  s->t = t;
  if (wsk__table_add(&ts->subs, sub_hash(c, t), s) != 0) goto nomem;
  struct wsk__table_slot *slot = wsk__table_find(&ts->conns, conn_hash(c), conn_is, c);
  if (slot) {
    s->next = slot->item;
    s->next->prev = s;
    slot->item = s;
  } else if (wsk__table_add(&ts->conns, conn_hash(c), s) != 0) {
    wsk__table_remove_item(&ts->subs, sub_hash(c, t), s);
    goto nomem;
  }
  s->idx = t->n;
  t->subs[t->n++] = s;
  t->live++;
  if (made && ts->on_topic && ts->on_topic(ts->hook_arg, t->name, t->len, 1) != 0) {
    t->refused = 1;
    remove_sub(ts, s); /* (which frees t, untold) */
    return WSK_ENOMEM;
  }
  return 0;
nomem:
  wsk__free(s);
  if (made) free_topic(ts, t, 0);
  return WSK_ENOMEM;
}

int wsk__topics_unsubscribe(struct wsk__topics *ts, wsk_conn *c, const void *name, size_t len) {
  uint64_t hash;
  struct topic *t = find_topic(ts, name, len, &hash);
  struct sub *s = t ? find_sub(ts, c, t) : NULL;
  if (!s) return 1;
  remove_sub(ts, s);
  return 0;
}

int wsk__topics_is_subscribed(const struct wsk__topics *ts, const wsk_conn *c, const void *name,
                             size_t len) {
  uint64_t hash;
  const struct topic *t = find_topic(ts, name, len, &hash);
  return t && find_sub(ts, c, t);
}

int wsk__topics_each(const struct wsk__topics *ts,
                     int (*fn)(const void *name, size_t len, void *arg), void *arg) {
  for (size_t i = 0; i < ts->topics.cap; i++) {
    const struct topic *t = ts->topics.slots[i].item;
    int r = t ? fn(t->name, t->len, arg) : 0;
    if (r) return r;
  }
  return 0;
}

int wsk__topics_each_of(const struct wsk__topics *ts, const wsk_conn *c,
                       int (*fn)(const void *name, size_t len, void *arg), void *arg) {
  struct wsk__table_slot *slot = wsk__table_find(&ts->conns, conn_hash(c), conn_is, c);
  for (struct sub *s = slot ? slot->item : NULL; s; s = s->next) {
    int r = fn(s->t->name, s->t->len, arg);
    if (r) return r;
  }
  return 0;
}

size_t wsk__topics_count(const struct wsk__topics *ts, const void *name, size_t len) {
  uint64_t hash;
  const struct topic *t = find_topic(ts, name, len, &hash);
  return t ? t->live : 0;
}

void wsk__topics_leave_all(struct wsk__topics *ts, wsk_conn *c) {
  struct wsk__table_slot *slot;
  while ((slot = wsk__table_find(&ts->conns, conn_hash(c), conn_is, c)) != NULL)
    remove_sub(ts, slot->item);
}

int wsk__topics_publish(struct wsk__topics *ts, const void *name, size_t len, int opcode,
                       const void *data, size_t data_len, const wsk_conn *except) {
  uint64_t hash;
  struct topic *t = find_topic(ts, name, len, &hash);
  if (!t) return 0; /* nobody: nothing to frame */
  wsk_prepared *p = wsk_prepared_new(opcode, data, data_len);
  if (!p) return WSK_ENOMEM;
  int sent = 0;
  uint32_t end = t->n; /* subscribers who join during the walk get the next message */
  t->walking++;
  for (uint32_t i = 0; i < end; i++) {
    struct sub *s = t->subs[i];
    if (s && s->c != except && wsk_send_prepared(s->c, p) >= 0) sent++;
  }
  t->walking--;
  settle(ts, t);
  wsk_prepared_release(p); /* queued sends hold their own references */
  return sent;
}

void wsk__topics_free(struct wsk__topics *ts) {
  for (size_t i = 0; i < ts->subs.cap; i++)
    if (ts->subs.slots[i].item) wsk__free(ts->subs.slots[i].item);
  for (size_t i = 0; i < ts->topics.cap; i++) {
    struct topic *t = ts->topics.slots[i].item;
    if (t) {
      wsk__free(t->subs);
      wsk__free(t);
    }
  }
  wsk__table_free(&ts->subs);
  wsk__table_free(&ts->topics);
  wsk__table_free(&ts->conns);
}
