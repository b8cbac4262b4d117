/* hub.c - the servers of several loops (threads) as one topic space.
 *
 * Each server is a member with its own queue of messages published elsewhere. Posting copies the
 * message once, into a block shared (atomic reference count) by every member's queue; the first
 * message to reach an empty queue schedules one wsk_loop_post to the member's loop, which then
 * delivers the whole batch on its own thread. Queues are FIFO, so the messages of one publishing
 * thread reach every loop in the order they were published.
 *
 * Locks: see hub_internal.h. Members stay allocated until wsk_hub_free: a wakeup already
 * scheduled for a server that is gone still finds its member (marked left) and only drops the
 * batch. The counts of topics for the topic hooks are in hub_count.c. */
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include "net/loop_internal.h"
#include "proto/alloc_internal.h"
#include "topic/hub_internal.h"

/* Bytes a member may have queued; past it a message is dropped for that member (a loop that does
 * not keep up must not make the publishers' memory grow without bound). */
#define MEMBER_QUEUE_MAX (64u << 20)

struct msg {
  atomic_size_t refs;
  uint64_t to;     /* a connection's id (wsk__hub_send), or 0: a publish */
  int opcode;
  unsigned flags;  /* of the publish: WSK_PUBLISH_LOCAL or 0 */
  size_t topic_len, len;
  uint8_t bytes[]; /* topic, then data */
};

wsk_hub *wsk_hub_new(void) {
  wsk_hub *h = wsk__calloc(1, sizeof *h);
  if (!h) return NULL;
  int mu = 0;
  if (getrandom(h->key, sizeof h->key, 0) == (ssize_t)sizeof h->key &&
      (mu = pthread_mutex_init(&h->mu, NULL) == 0) && pthread_mutex_init(&h->count_mu, NULL) == 0)
    return h;
  if (mu) pthread_mutex_destroy(&h->mu);
  wsk__free(h);
  return NULL;
}

static void unref(struct msg *m) {
  if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) wsk__free(m);
}

static void drop_queue(struct wsk__hub_member *m) {
  for (size_t i = 0; i < m->n; i++) unref(m->q[i]);
  m->n = m->bytes = 0;
}

void wsk_hub_free(wsk_hub *h) {
  if (!h) return;
  for (struct wsk__hub_member *m = h->members, *next; m; m = next) {
    next = m->next;
    drop_queue(m);
    wsk__free(m->q);
    wsk__free(m->spare);
    pthread_mutex_destroy(&m->mu);
    wsk__free(m);
  }
  wsk__hub_count_free(h);
  pthread_mutex_destroy(&h->count_mu);
  pthread_mutex_destroy(&h->mu);
  wsk__free(h);
}

struct wsk__hub_member *wsk__hub_join(wsk_hub *h, wsk_server *s, wsk_loop *loop,
                                    const struct wsk__hub_ops *ops) {
  struct wsk__hub_member *m = wsk__calloc(1, sizeof *m);
  if (!m) return NULL;
  if (pthread_mutex_init(&m->mu, NULL) != 0) {
    wsk__free(m);
    return NULL;
  }
  m->hub = h;
  m->s = s;
  m->loop = loop;
  m->ops = ops;
  pthread_mutex_lock(&h->mu);
  m->next = h->members;
  h->members = m;
  atomic_fetch_add_explicit(&h->n_members, 1, memory_order_relaxed);
  pthread_mutex_unlock(&h->mu);
  return m;
}

uint64_t wsk_hub_dropped(wsk_hub *h) {
  uint64_t n = 0;
  pthread_mutex_lock(&h->mu);
  for (struct wsk__hub_member *m = h->members; m; m = m->next) {
    pthread_mutex_lock(&m->mu);
    n += m->dropped;
    pthread_mutex_unlock(&m->mu);
  }
  pthread_mutex_unlock(&h->mu);
  return n;
}

void wsk__hub_leave(struct wsk__hub_member *m) {
  if (!m) return;
  wsk__hub_bridge(m, 0); /* (its server is gone: nobody to tell) */
  pthread_mutex_lock(&m->mu);
  m->left = 1;
  m->s = NULL;
  drop_queue(m);
  pthread_mutex_unlock(&m->mu);
}

int wsk__hub_on_loop(const struct wsk__hub_member *m) { return wsk__loop_is_current(m->loop); }

/* On the member's loop: deliver the batch queued so far. */
static void drain(void *arg) {
  struct wsk__hub_member *m = arg;
  pthread_mutex_lock(&m->mu);
  struct msg **batch = m->q;
  size_t n = m->n, cap = m->cap;
  m->q = m->spare; /* posts during the delivery go to the other array */
  m->cap = m->spare_cap;
  m->spare = NULL;
  m->spare_cap = 0;
  m->n = m->bytes = 0;
  m->scheduled = 0;
  int left = m->left;
  pthread_mutex_unlock(&m->mu);
  for (size_t i = 0; i < n; i++) {
    struct msg *g = batch[i];
    if (!left && m->s && g->to)
      m->ops->send(m->s, g->to, g->opcode, g->bytes, g->len);
    else if (!left && m->s)
      m->ops->deliver(m->s, g->bytes, g->topic_len, g->opcode, g->bytes + g->topic_len, g->len,
                      g->flags);
    unref(g);
  }
  pthread_mutex_lock(&m->mu);
  if (!m->spare) { /* keep the array for the next batch */
    m->spare = batch;
    m->spare_cap = cap;
    batch = NULL;
  }
  pthread_mutex_unlock(&m->mu);
  wsk__free(batch);
}

/* Queue g for m (m->mu held). Returns 0, 1 when dropped for the queue limit, or WSK_ENOMEM. */
static int enqueue(struct wsk__hub_member *m, struct msg *g) {
  if (m->left) return 0;
  if (m->bytes + g->len > MEMBER_QUEUE_MAX) {
    m->dropped++;
    return 1;
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct msg **q = wsk__realloc(m->q, cap * sizeof *q);
    if (!q) return WSK_ENOMEM;
    m->q = q;
    m->cap = cap;
  }
  if (!m->scheduled) {
    if (wsk_loop_post(m->loop, drain, m) != 0) return WSK_ENOMEM;
    m->scheduled = 1;
  }
  atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
  m->q[m->n++] = g;
  m->bytes += g->len;
  return 0;
}

/* One block for a message (refs 1: the caller's, until every queue has taken its own). */
static struct msg *msg_new(uint64_t to, const void *topic, size_t topic_len, int opcode,
                           const void *data, size_t len, unsigned flags) {
  struct msg *g = wsk__malloc(sizeof *g + topic_len + len);
  if (!g) return NULL;
  atomic_init(&g->refs, 1);
  g->to = to;
  g->opcode = opcode;
  g->flags = flags;
  g->topic_len = topic_len;
  g->len = len;
  if (topic_len) memcpy(g->bytes, topic, topic_len);
  if (len) memcpy(g->bytes + topic_len, data, len);
  return g;
}

int wsk__hub_send(struct wsk__hub_member *m, uint64_t id, int opcode, const void *data,
                  size_t len) {
  struct msg *g = msg_new(id, NULL, 0, opcode, data, len, 0);
  if (!g) return WSK_ENOMEM;
  pthread_mutex_lock(&m->mu);
  int rc = enqueue(m, g);
  pthread_mutex_unlock(&m->mu);
  unref(g);
  return rc < 0 ? rc : 0;
}

int wsk__hub_post(struct wsk__hub_member *from, const struct wsk__hub_member *except,
                 const void *topic, size_t topic_len, int opcode, const void *data, size_t len,
                 unsigned flags) {
  wsk_hub *h = from->hub;
  /* A hub of one server (wsk serve without --threads): no copy for nobody. */
  if (except && atomic_load_explicit(&h->n_members, memory_order_relaxed) == 1) return 0;
  struct msg *g = msg_new(0, topic, topic_len, opcode, data, len, flags);
  if (!g) return WSK_ENOMEM;
  int rc = 0;
  pthread_mutex_lock(&h->mu);
  for (struct wsk__hub_member *m = h->members; m; m = m->next) {
    if (m == except) continue;
    pthread_mutex_lock(&m->mu);
    if (enqueue(m, g) < 0) rc = WSK_ENOMEM;
    pthread_mutex_unlock(&m->mu);
  }
  pthread_mutex_unlock(&h->mu);
  unref(g);
  return rc;
}
