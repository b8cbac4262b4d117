/* test_timer.c - loop timers: firing order, cancel, cancel from a callback, repeat, and the loop
 * returning once nothing is left to wait for. */
#include "check.h"
#include "wsk.h"

static char order[32];
static int norder;

struct mark {
  wsk_loop *loop;
  char tag;
  wsk_timer *self;
  wsk_timer *victim;
  int count;
  int limit;
};

static void on_mark(void *arg) {
  struct mark *m = arg;
  order[norder++] = m->tag;
  if (m->victim) {
    wsk_timer_stop(m->victim);
    m->victim = NULL;
  }
}

static uint64_t repeat_at[8];

static void on_repeat(void *arg) {
  struct mark *m = arg;
  repeat_at[m->count] = wsk_loop_now(m->loop);
  m->count++;
  order[norder++] = m->tag;
  if (m->count == m->limit) wsk_timer_stop(m->self); /* cancel itself from its callback */
}

static void test_order_and_cancel(void) {
  wsk_loop *loop = wsk_loop_new();
  CHECK(loop != NULL);
  norder = 0;
  memset(order, 0, sizeof order);
  struct mark a = {.tag = 'a'}, b = {.tag = 'b'}, c = {.tag = 'c'}, d = {.tag = 'd'},
              e = {.tag = 'e'}, f = {.tag = 'f'};
  wsk_timer *tc = wsk_timer_start(loop, 30, 0, on_mark, &c);
  wsk_timer *ta = wsk_timer_start(loop, 10, 0, on_mark, &a);
  wsk_timer *tb = wsk_timer_start(loop, 20, 0, on_mark, &b);
  wsk_timer *td = wsk_timer_start(loop, 25, 0, on_mark, &d);
  wsk_timer *te = wsk_timer_start(loop, 20, 0, on_mark, &e); /* same deadline as b: after b */
  wsk_timer *tf = wsk_timer_start(loop, 40, 0, on_mark, &f);
  wsk_timer_stop(td);   /* cancelled before it fires */
  b.victim = tf;        /* b cancels f from its callback */
  uint64_t start = wsk_loop_now(loop);
  CHECK_EQ(wsk_loop_run(loop), 0);
  CHECK_STR(order, "abec");
  CHECK(wsk_loop_now(loop) - start >= 30);
  wsk_timer_stop(ta);   /* one-shot timers stay allocated until stopped */
  wsk_timer_stop(tb);
  wsk_timer_stop(tc);
  wsk_timer_stop(te);
  wsk_loop_free(loop);
}

static void test_repeat(void) {
  wsk_loop *loop = wsk_loop_new();
  norder = 0;
  memset(order, 0, sizeof order);
  struct mark r = {.loop = loop, .tag = 'r', .limit = 3};
  struct mark o = {.tag = 'o'};
  uint64_t start = wsk_loop_now(loop);
  r.self = wsk_timer_start(loop, 5, 10, on_repeat, &r);
  wsk_timer *to = wsk_timer_start(loop, 1, 0, on_mark, &o);
  CHECK_EQ(wsk_loop_run(loop), 0);
  CHECK_EQ(r.count, 3); /* and no more: it stopped itself */
  CHECK_STR(order, "orrr");
  CHECK(repeat_at[0] - start >= 5);
  CHECK(repeat_at[1] - start >= 15); /* periods count from the scheduled times */
  CHECK(repeat_at[2] - start >= 25);
  wsk_timer_stop(to);
  wsk_loop_free(loop);
}

/* Many timers with random deadlines come out sorted (exercises the heap's sift paths). */
static uint64_t fired[500];
static int nfired;
struct when {
  wsk_loop *loop;
  uint64_t at;
};
static void on_when(void *arg) {
  struct when *w = arg;
  fired[nfired++] = w->at;
}

static void test_many(void) {
  wsk_loop *loop = wsk_loop_new();
  static struct when ws[500];
  static wsk_timer *ts[500];
  unsigned seed = 12345;
  nfired = 0;
  for (int i = 0; i < 500; i++) {
    seed = seed * 1103515245u + 12345u;
    ws[i].at = (seed >> 16) % 40;
    ts[i] = wsk_timer_start(loop, ws[i].at, 0, on_when, &ws[i]);
  }
  for (int i = 0; i < 500; i += 5) {
    wsk_timer_stop(ts[i]); /* cancel from the middle of the heap */
    ts[i] = NULL;
  }
  CHECK_EQ(wsk_loop_run(loop), 0);
  CHECK_EQ(nfired, 400);
  int sorted = 1;
  for (int i = 1; i < nfired; i++)
    if (fired[i] < fired[i - 1]) sorted = 0;
  CHECK(sorted);
  for (int i = 0; i < 500; i++) wsk_timer_stop(ts[i]);
  wsk_loop_free(loop);
}

static void stop_loop(void *arg) { wsk_loop_stop(arg); }

static void test_stop_and_unstopped_timers(void) {
  wsk_loop *loop = wsk_loop_new();
  wsk_timer *t1 = wsk_timer_start(loop, 1, 0, stop_loop, loop);
  wsk_timer_start(loop, 100000, 0, stop_loop, loop); /* freed by wsk_loop_free */
  CHECK(t1 != NULL);
  CHECK_EQ(wsk_loop_run(loop), 0);
  wsk_loop_free(loop);
}

int main(void) {
  test_order_and_cancel();
  test_repeat();
  test_many();
  test_stop_and_unstopped_timers();
  return check_report();
}
