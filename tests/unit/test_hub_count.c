/* test_hub_count.c - the hub's count, per topic, of the members (loops) that have subscribers,
 * as the bridge's topic hook hears it (topic/hub_count.c). Two loops, A (the bridge) and B, each
 * in its own thread; every count changes on its member's own loop:
 * - subscribe on A, on B, leave A, leave B, each step seen by the bridge before the next: the
 *   hook hears exactly one "+x" (first = 1) and one "-x" (first = 0), on A's thread;
 * - news that cancel out while the bridge's loop is busy are not told at all, and a topic that
 *   empties and fills again before the bridge runs is not told either;
 * - a second bridge is refused (WSK_EBUSY); the walk lists the topics the bridge was told of;
 * - the bridge lets go while B has a topic and B takes over: B knows of it already and hears
 *   "-y" when it goes.
 * Run under ThreadSanitizer by `make tsan`. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "topic/hub.h"

struct node {
  const char *name;
  wsk_loop *loop;
  wsk_timer *keep; /* keeps wsk_loop_run going */
  pthread_t tid;
  struct wsk__hub_member *m;
};
static struct node a = {.name = "A"}, b = {.name = "B"};
static wsk_hub *hub;

static pthread_mutex_t told_mu = PTHREAD_MUTEX_INITIALIZER;
static char told[256]; /* "A+x": the bridge A heard that x has subscribers */
static int wrong_thread;

static void on_topic(wsk_server *s, const void *topic, size_t len, int first) {
  struct node *n = (struct node *)s; /* (the test's members have nodes for servers) */
  pthread_mutex_lock(&told_mu);
  if (!pthread_equal(pthread_self(), n->tid)) wrong_thread++;
  strcat(told, n->name);
  strcat(told, first ? "+" : "-");
  strncat(told, topic, len);
  pthread_mutex_unlock(&told_mu);
}
static void deliver(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                    const void *data, size_t len, unsigned flags) {}
static void send_id(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len) {}
static const struct wsk__hub_ops ops = {.deliver = deliver, .send = send_id, .topic = on_topic};

/* Take what the hook heard so far. */
static void heard(const char *expect) {
  pthread_mutex_lock(&told_mu);
  CHECK_STR(told, expect);
  told[0] = 0;
  pthread_mutex_unlock(&told_mu);
}

static void tick(void *arg) {}
static void *run(void *arg) {
  wsk_loop_run(((struct node *)arg)->loop);
  return NULL;
}

/* ---- steps run on a node's loop, the main thread waiting for each ---------------------------- */

struct step {
  void (*fn)(struct step *st);
  struct node *n;
  const char *topic;
  int first, rc;
  int done;
};

static void step_run(void *arg) {
  struct step *st = arg;
  st->fn(st);
  __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
}

static int on_loop(struct node *n, void (*fn)(struct step *st), const char *topic, int first) {
  struct step st = {fn, n, topic, first, 0, 0};
  CHECK_EQ(wsk_loop_post(n->loop, step_run, &st), 0);
  for (int i = 0; i < 2000 && !__atomic_load_n(&st.done, __ATOMIC_ACQUIRE); i++) usleep(1000);
  CHECK(__atomic_load_n(&st.done, __ATOMIC_ACQUIRE));
  return st.rc;
}

static void count(struct step *st) {
  st->rc = wsk__hub_count(st->n->m, st->topic, strlen(st->topic), st->first);
}
static void bridge(struct step *st) { st->rc = wsk__hub_bridge(st->n->m, st->first); }
static void nothing(struct step *st) {}
static void stop(struct step *st) {
  wsk_timer_stop(st->n->keep);
  wsk_loop_stop(st->n->loop);
}

/* The step on n's loop, then a pass of the bridge's loop (which tells whatever news the step
 * made: the wakeup was posted before this pass). */
static void change(struct node *n, const char *topic, int first, struct node *bridge_node) {
  CHECK_EQ(on_loop(n, count, topic, first), 0);
  on_loop(bridge_node, nothing, NULL, 0);
}

/* The bridge's loop held up (a gate) while the other loops change counts. */
static int gate_open;
static void gate(struct step *st) {
  for (int i = 0; i < 5000 && !__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE); i++) usleep(1000);
}
static void gate_run(void *arg) { gate(arg); }

static int collect(const void *topic, size_t len, void *arg) {
  strncat(arg, topic, len);
  strcat(arg, ",");
  return 0;
}

int main(void) {
  hub = wsk_hub_new();
  CHECK(hub != NULL);
  struct node *nodes[] = {&a, &b};
  for (int i = 0; i < 2; i++) {
    struct node *n = nodes[i];
    n->loop = wsk_loop_new();
    n->keep = wsk_timer_start(n->loop, 60000, 60000, tick, NULL);
    n->m = wsk__hub_join(hub, (wsk_server *)n, n->loop, &ops);
    CHECK(n->m != NULL);
    CHECK_EQ(pthread_create(&n->tid, NULL, run, n), 0);
  }
  CHECK_EQ(on_loop(&a, bridge, NULL, 1), 0);
  CHECK_EQ(on_loop(&b, bridge, NULL, 1), WSK_EBUSY); /* one bridge per hub */

  change(&a, "x", 1, &a);
  heard("A+x");
  change(&b, "x", 1, &a);
  heard("");
  char names[64] = "";
  CHECK_EQ(wsk__hub_topics(a.m, collect, names), 0);
  CHECK_STR(names, "x,");
  change(&a, "x", 0, &a);
  heard("");
  change(&b, "x", 0, &a);
  heard("A-x");
  names[0] = 0;
  CHECK_EQ(wsk__hub_topics(a.m, collect, names), 0);
  CHECK_STR(names, "");

  /* While A is busy: B subscribes and leaves (nothing to tell); B subscribes to z (told once A
   * runs); then z empties and fills again (nothing to tell), and empties (told). */
  struct step held = {.fn = gate};
  gate_open = 0;
  CHECK_EQ(wsk_loop_post(a.loop, gate_run, &held), 0);
  CHECK_EQ(on_loop(&b, count, "w", 1), 0);
  CHECK_EQ(on_loop(&b, count, "w", 0), 0);
  CHECK_EQ(on_loop(&b, count, "z", 1), 0);
  __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
  on_loop(&a, nothing, NULL, 0);
  heard("A+z");
  gate_open = 0;
  CHECK_EQ(wsk_loop_post(a.loop, gate_run, &held), 0);
  CHECK_EQ(on_loop(&b, count, "z", 0), 0);
  CHECK_EQ(on_loop(&b, count, "z", 1), 0);
  __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
  on_loop(&a, nothing, NULL, 0);
  heard("");
  change(&b, "z", 0, &a);
  heard("A-z");

  /* A lets go while B has y; B takes over, knowing of y already, and hears it go. */
  change(&b, "y", 1, &a);
  heard("A+y");
  CHECK_EQ(on_loop(&a, bridge, NULL, 0), 0);
  CHECK_EQ(on_loop(&b, bridge, NULL, 1), 0);
  CHECK_EQ(on_loop(&a, bridge, NULL, 1), WSK_EBUSY);
  names[0] = 0;
  CHECK_EQ(wsk__hub_topics(b.m, collect, names), 0);
  CHECK_STR(names, "y,");
  change(&b, "y", 0, &b);
  heard("B-y");
  change(&a, "v", 1, &b); /* (left to wsk_hub_free, with the bridge's news told) */
  heard("B+v");
  CHECK_EQ(wrong_thread, 0);

  for (int i = 0; i < 2; i++) {
    on_loop(nodes[i], stop, NULL, 0);
    pthread_join(nodes[i]->tid, NULL);
  }
  for (int i = 0; i < 2; i++) {
    wsk__hub_leave(nodes[i]->m);
    wsk_loop_free(nodes[i]->loop);
  }
  wsk_hub_free(hub);
  return check_report();
}
