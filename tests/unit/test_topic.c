/* test_topic.c - the topic registry: its hash set (against a reference, a million insert/remove
 * pairs without growth), SipHash keying, and the registry on real server-role connections joined
 * to raw peers by socketpairs: subscribe/unsubscribe/iteration/counts, publish with and without
 * the sender, a connection leaving every topic when destroyed, callbacks that unsubscribe others,
 * close themselves and subscribe newcomers from inside a publish, and a million
 * subscribe/unsubscribe pairs that leave every table its size. The on_topic hook hears of each
 * topic's first and last subscriber. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conn/conn_internal.h"
#include "topic/topic.h"

/* ---- the hash set --------------------------------------------------------------------------- */

static int int_is(const void *item, const void *key) { return *(const int *)item == *(const int *)key; }
static uint64_t weak_hash(int v) { return (uint64_t)(v % 97); } /* many collisions on purpose */

static void test_table(void) {
  enum { N = 5000 };
  static int vals[N];
  static int present[N];
  struct wsk__table t = {0};
  srand(7);
  for (int i = 0; i < N; i++) vals[i] = i;
  for (int step = 0; step < 200000; step++) {
    int v = rand() % N;
    struct wsk__table_slot *s = wsk__table_find(&t, weak_hash(v), int_is, &v);
    CHECK_EQ(s != NULL, present[v]);
    if (present[v]) {
      CHECK(s && s->item == &vals[v]);
      wsk__table_remove(&t, s);
      present[v] = 0;
    } else {
      CHECK_EQ(wsk__table_add(&t, weak_hash(v), &vals[v]), 0);
      present[v] = 1;
    }
  }
  size_t n = 0;
  for (int v = 0; v < N; v++) {
    struct wsk__table_slot *s = wsk__table_find(&t, weak_hash(v), int_is, &v);
    CHECK_EQ(s != NULL, present[v]);
    n += present[v];
  }
  CHECK_EQ(t.n, n);
  /* Removals shrink a table that became sparse. */
  for (int v = 0; v < N; v++)
    if (present[v]) wsk__table_remove_item(&t, weak_hash(v), &vals[v]);
  CHECK_EQ(t.n, 0);
  CHECK(t.cap <= 32);
  /* No tombstones: a million add/remove pairs leave the table as it was. */
  for (int v = 0; v < 10; v++) CHECK_EQ(wsk__table_add(&t, weak_hash(v), &vals[v]), 0);
  size_t cap = t.cap;
  for (int i = 0; i < 1000000; i++) {
    int v = 10 + i % (N - 10);
    CHECK_EQ(wsk__table_add(&t, weak_hash(v), &vals[v]), 0);
    wsk__table_remove_item(&t, weak_hash(v), &vals[v]);
  }
  CHECK_EQ(t.cap, cap);
  CHECK_EQ(t.n, 10);
  for (int v = 0; v < 10; v++) CHECK(wsk__table_find(&t, weak_hash(v), int_is, &v) != NULL);
  wsk__table_free(&t);
}

static void test_siphash(void) {
  uint8_t k1[16] = {0}, k2[16] = {0};
  k2[15] = 1;
  const char *msg = "the quick brown fox jumps over the lazy dog";
  CHECK_EQ(wsk__siphash13(k1, msg, 43), wsk__siphash13(k1, msg, 43));
  CHECK(wsk__siphash13(k1, msg, 43) != wsk__siphash13(k2, msg, 43));
  /* Every prefix length hashes differently (the length is part of the last block). */
  for (size_t a = 0; a < 43; a++)
    for (size_t b = a + 1; b <= 43; b++)
      CHECK(wsk__siphash13(k1, msg, a) != wsk__siphash13(k1, msg, b));
  uint8_t zeros[16] = {0};
  CHECK(wsk__siphash13(k1, zeros, 8) != wsk__siphash13(k1, zeros, 9));
}

/* ---- the registry on server-role connections --------------------------------------------------- */

enum { NCONN = 40 };
static wsk_loop *loop;
static struct wsk__group group;
static struct wsk__topics ts;
static wsk_conn *conns[NCONN];
static int peers[NCONN];

static void leave(wsk_conn *c) { wsk__topics_leave_all(&ts, c); }
static const struct wsk__group_ops ops = {.on_destroy = leave};

/* What the raw peer i received since the last call: the count of whole copies of frame[0..n). */
static int received(int i, const uint8_t *frame, size_t n) {
  static uint8_t buf[1 << 20];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf && (r = read(peers[i], buf + len, sizeof buf - len)) > 0) len += (size_t)r;
  int copies = 0;
  for (size_t off = 0; off + n <= len; off++)
    if (memcmp(buf + off, frame, n) == 0) {
      copies++;
      off += n - 1;
    }
  return copies;
}

static void make_conns(void) {
  for (int i = 0; i < NCONN; i++) {
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    conns[i] = wsk__conn_new(&group, sv[0], WSK_CS_HTTP);
    CHECK(conns[i] != NULL);
    CHECK_EQ(wsk__conn_open(conns[i], NULL), 0);
    peers[i] = sv[1];
  }
}

static int collect(const void *name, size_t len, void *arg) {
  char *out = arg;
  strncat(out, name, len);
  strcat(out, ",");
  return 0;
}

/* The on_topic hook's calls, "+name" (first subscriber) and "-name" (last one left). */
static char hooked[128];
static int on_topic(void *arg, const void *name, size_t len, int first) {
  CHECK(arg == &ts);
  strcat(hooked, first ? "+" : "-");
  strncat(hooked, name, len);
  /* The topic is out of the registry when its hook says it is empty. */
  CHECK_EQ(wsk__topics_count(&ts, name, len), first ? 1 : 0);
  return 0;
}

static void test_basics(void) {
  static const uint8_t hello[] = {0x81, 5, 'h', 'e', 'l', 'l', 'o'};
  wsk_conn *a = conns[0], *b = conns[1];
  ts.on_topic = on_topic;
  ts.hook_arg = &ts;
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, a, "room", 4), 0);
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, a, "room", 4), 1);
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, a, "lobby", 5), 0);
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, b, "room", 4), 0);
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, b, "", 0), 0); /* the empty name is a topic too */
  CHECK(wsk__topics_is_subscribed(&ts, a, "room", 4));
  CHECK(!wsk__topics_is_subscribed(&ts, a, "roo", 3));
  CHECK(!wsk__topics_is_subscribed(&ts, a, "", 0));
  CHECK_EQ(wsk__topics_count(&ts, "room", 4), 2);
  CHECK_EQ(wsk__topics_count(&ts, "nobody", 6), 0);
  char names[64] = "";
  CHECK_EQ(wsk__topics_each_of(&ts, a, collect, names), 0);
  CHECK_STR(names, "lobby,room,");
  CHECK_STR(hooked, "+room+lobby+");
  names[0] = 0;
  CHECK_EQ(wsk__topics_each(&ts, collect, names), 0);
  CHECK_EQ(strlen(names), strlen("lobby,room,,"));
  CHECK(strstr(names, "lobby,") && strstr(names, "room,"));

  CHECK_EQ(wsk__topics_publish(&ts, "room", 4, WSK_OP_TEXT, "hello", 5, NULL), 2);
  CHECK_EQ(wsk__topics_publish(&ts, "room", 4, WSK_OP_TEXT, "hello", 5, b), 1);
  CHECK_EQ(wsk__topics_publish(&ts, "nobody", 6, WSK_OP_TEXT, "hello", 5, NULL), 0);
  CHECK_EQ(received(0, hello, sizeof hello), 2);
  CHECK_EQ(received(1, hello, sizeof hello), 1);

  CHECK_EQ(wsk__topics_unsubscribe(&ts, a, "room", 4), 0);
  CHECK_EQ(wsk__topics_unsubscribe(&ts, a, "room", 4), 1);
  CHECK_EQ(wsk__topics_count(&ts, "room", 4), 1);
  CHECK_EQ(wsk__topics_publish(&ts, "room", 4, WSK_OP_TEXT, "hello", 5, NULL), 1);
  CHECK_EQ(received(0, hello, sizeof hello), 0);
  CHECK_EQ(received(1, hello, sizeof hello), 1);

  /* Destroyed: b leaves "room" and "", and the empty topics go away. */
  wsk__conn_destroy(b, 0, NULL);
  conns[1] = NULL;
  CHECK_EQ(wsk__topics_count(&ts, "room", 4), 0);
  CHECK_EQ(wsk__topics_count(&ts, "", 0), 0);
  CHECK_EQ(wsk__topics_unsubscribe(&ts, a, "lobby", 5), 0);
  CHECK_STR(hooked, "+room+lobby+--room-lobby"); /* b left "" (its latest), then "room" */
  ts.on_topic = NULL;
  CHECK_EQ(ts.topics.n, 0);
  CHECK_EQ(ts.subs.n, 0);
  CHECK_EQ(ts.conns.n, 0);
}

/* Inside a publish: the first subscriber over the limit closes itself, unsubscribes the last
 * subscriber and subscribes a newcomer; the walk must neither crash nor deliver to either. */
static int reentered;
static void on_error(wsk_conn *c, int err, const char *msg) {
  if (reentered++) return;
  CHECK_EQ(wsk__topics_unsubscribe(&ts, conns[NCONN - 1], "t", 1), 0);
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, conns[2], "t", 1), 0);
  wsk__conn_destroy(c, 0, NULL);
}

static void test_reentrant(void) {
  static const uint8_t frame[] = {0x82, 3, 'a', 'b', 'c'};
  for (int i = 3; i < NCONN; i++) CHECK_EQ(wsk__topics_subscribe(&ts, loop, conns[i], "t", 1), 0);
  /* conns[3]'s socket is full: its next send is over the hard limit. */
  static uint8_t big[32768];
  while (wsk_buffered_amount(conns[3]) == 0) wsk_send(conns[3], WSK_OP_BINARY, big, sizeof big);
  group.hard_limit = wsk_buffered_amount(conns[3]) + 2;
  group.drop_on_limit = 1;
  group.cb.on_error = on_error;
  int sent = wsk__topics_publish(&ts, "t", 1, WSK_OP_BINARY, "abc", 3, NULL);
  CHECK_EQ(reentered, 1);
  CHECK_EQ(sent, NCONN - 3 - 2); /* neither conns[3] (over the limit) nor the one unsubscribed */
  CHECK_EQ(received(2, frame, sizeof frame), 0);
  CHECK_EQ(received(NCONN - 1, frame, sizeof frame), 0);
  for (int i = 4; i < NCONN - 1; i++) CHECK_EQ(received(i, frame, sizeof frame), 1);
  CHECK_EQ(wsk__topics_count(&ts, "t", 1), NCONN - 3 - 2 + 1);
  /* The holes are closed: the next publish reaches everyone left, the newcomer included. */
  CHECK_EQ(wsk__topics_publish(&ts, "t", 1, WSK_OP_BINARY, "abc", 3, NULL), NCONN - 3 - 2 + 1);
  CHECK_EQ(received(2, frame, sizeof frame), 1);
  group.cb.on_error = NULL;
  group.hard_limit = 0;
}

static void test_churn(void) {
  wsk_conn *c = conns[0];
  CHECK_EQ(wsk__topics_subscribe(&ts, loop, c, "keep", 4), 0);
  size_t caps[3] = {ts.topics.cap, ts.subs.cap, ts.conns.cap};
  char name[16];
  for (int i = 0; i < 1000000; i++) {
    int n = snprintf(name, sizeof name, "room%d", i % 1000);
    CHECK_EQ(wsk__topics_subscribe(&ts, loop, c, name, (size_t)n), 0);
    CHECK_EQ(wsk__topics_unsubscribe(&ts, c, name, (size_t)n), 0);
  }
  CHECK_EQ(ts.topics.cap, caps[0]);
  CHECK_EQ(ts.subs.cap, caps[1]);
  CHECK_EQ(ts.conns.cap, caps[2]);
  CHECK_EQ(ts.topics.n, wsk__topics_count(&ts, "t", 1) ? 2 : 1);
  /* Many topics on one connection, all left at once when it goes. */
  for (int i = 0; i < 5000; i++) {
    int n = snprintf(name, sizeof name, "many%d", i);
    CHECK_EQ(wsk__topics_subscribe(&ts, loop, c, name, (size_t)n), 0);
  }
  wsk__conn_destroy(c, 0, NULL);
  conns[0] = NULL;
  CHECK_EQ(wsk__topics_count(&ts, "many42", 6), 0);
  CHECK_EQ(wsk__topics_count(&ts, "keep", 4), 0);
}

int main(void) {
  test_table();
  test_siphash();
  loop = wsk_loop_new();
  wsk__group_init(&group, loop, &ops, NULL);
  CHECK_EQ(wsk__group_start(&group), 0);
  make_conns();
  test_basics();
  test_reentrant();
  test_churn();
  wsk__group_destroy(&group);
  wsk__topics_free(&ts);
  for (int i = 0; i < NCONN; i++) close(peers[i]);
  wsk_loop_free(loop);
  return check_report();
}
