/* test_loop.c - the event loop: wakeup from another thread, SIGTERM through the signalfd, end of
 * iteration hooks, the CSPRNG pool, watched descriptors, and wsk_loop_run returning when idle. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"
#include "net/loop_internal.h"
#include "wsk.h"

static int woken;
static void on_wake(void *arg) {
  woken++;
  if (woken == 3) wsk_loop_stop(arg);
}
static void *poke(void *arg) {
  for (int i = 0; i < 3; i++) wsk_loop_wakeup(arg, on_wake, arg);
  return NULL;
}
static void keep_alive(void *arg) { (void)arg; }

static void test_wakeup(void) {
  wsk_loop *loop = wsk_loop_new();
  wsk_timer *guard = wsk_timer_start(loop, 5000, 0, keep_alive, NULL); /* keeps run() waiting */
  uint64_t start = wsk_loop_now(loop);
  pthread_t th;
  pthread_create(&th, NULL, poke, loop);
  CHECK_EQ(wsk_loop_run(loop), 0);
  pthread_join(th, NULL);
  CHECK_EQ(woken, 3);
  CHECK(wsk_loop_now(loop) - start < 5000); /* returned before the guard fired */
  wsk_timer_stop(guard);
  wsk_loop_free(loop);
}

/* wsk_loop_post from several threads at once: every callback runs once, on the loop, each
 * thread's in the order it posted them (the lock-free queue under load; make tsan runs it too). */
enum { POSTERS = 4, POSTS = 50000 };
struct post {
  wsk_loop *loop;
  int thread, seq;
};
static struct post posts[POSTERS][POSTS];
static int next_seq[POSTERS], post_order_errors, posts_run;

static void on_post(void *arg) {
  struct post *p = arg;
  if (p->seq != next_seq[p->thread]) post_order_errors++;
  next_seq[p->thread] = p->seq + 1;
  if (++posts_run == POSTERS * POSTS) wsk_loop_stop(p->loop);
}

static void *poster(void *arg) {
  struct post *mine = arg;
  for (int i = 0; i < POSTS; i++)
    while (wsk_loop_post(mine[i].loop, on_post, &mine[i]) != 0) usleep(100);
  return NULL;
}

static void test_post_many_threads(void) {
  wsk_loop *loop = wsk_loop_new();
  wsk_timer *guard = wsk_timer_start(loop, 30000, 0, keep_alive, NULL);
  pthread_t th[POSTERS];
  for (int t = 0; t < POSTERS; t++) {
    for (int i = 0; i < POSTS; i++) posts[t][i] = (struct post){loop, t, i};
    pthread_create(&th[t], NULL, poster, posts[t]);
  }
  CHECK_EQ(wsk_loop_run(loop), 0);
  for (int t = 0; t < POSTERS; t++) pthread_join(th[t], NULL);
  CHECK_EQ(posts_run, POSTERS * POSTS);
  CHECK_EQ(post_order_errors, 0);
  CHECK_EQ(wsk_loop_post(loop, NULL, NULL), WSK_EINVAL);
  /* Posted but never run: freed with the loop (the leak checkers watch this). */
  CHECK_EQ(wsk_loop_post(loop, on_post, &posts[0][0]), 0);
  wsk_timer_stop(guard);
  wsk_loop_free(loop);
}

static int got_signal;
static void on_sig(wsk_loop *loop, int signo, void *arg) {
  got_signal = signo;
  wsk_loop_stop(loop);
}
static void send_term(void *arg) { kill(getpid(), SIGTERM); }

static void test_signal(void) {
  wsk_loop *loop = wsk_loop_new();
  CHECK_EQ(wsk_loop_on_signal(loop, on_sig, NULL), 0);
  wsk_timer *t = wsk_timer_start(loop, 1, 0, send_term, NULL);
  wsk_timer *guard = wsk_timer_start(loop, 5000, 0, keep_alive, NULL);
  CHECK_EQ(wsk_loop_run(loop), 0);
  CHECK_EQ(got_signal, SIGTERM);
  wsk_timer_stop(t);
  wsk_timer_stop(guard);
  wsk_loop_free(loop);
}

static int hook_runs;
static void on_hook(struct wsk__hook *h) { hook_runs++; }

static int io_events;
static void on_pipe(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  char c;
  if (events & WSK_IO_IN) {
    CHECK_EQ(read(io->fd, &c, 1), 1);
    io_events++;
  }
  wsk__io_close(loop, io); /* the loop has nothing left: run() returns */
}

static void test_io_hooks_random(void) {
  wsk_loop *loop = wsk_loop_new();
  int p[2];
  CHECK_EQ(pipe(p), 0);
  struct wsk__io io = {.fd = p[0], .kind = WSK_IO_CONN};
  wsk__loop_set_handler(loop, WSK_IO_CONN, on_pipe);
  CHECK_EQ(wsk__io_start(loop, &io, WSK_IO_IN), 0);
  CHECK_EQ(write(p[1], "x", 1), 1);
  struct wsk__hook h = {.fn = on_hook};
  wsk__loop_queue_hook(loop, &h);
  wsk__loop_queue_hook(loop, &h); /* queued once */
  CHECK_EQ(wsk_loop_run(loop), 0);
  CHECK_EQ(io_events, 1);
  CHECK_EQ(hook_runs, 1);
  CHECK_EQ(io.fd, -1);
  close(p[1]);

  uint8_t a[700], b[700];
  CHECK_EQ(wsk__loop_random(loop, a, sizeof a), 0);
  CHECK_EQ(wsk__loop_random(loop, b, sizeof b), 0);
  CHECK(memcmp(a, b, sizeof a) != 0);
  int zeros = 0;
  for (size_t i = 0; i < sizeof a; i++) zeros += a[i] == 0;
  CHECK(zeros < 30);
  CHECK(wsk__loop_now32(loop) != 0);
  wsk_loop_free(loop);
}

int main(void) {
  test_wakeup();
  test_post_many_threads();
  test_signal();
  test_io_hooks_random();
  return check_report();
}
