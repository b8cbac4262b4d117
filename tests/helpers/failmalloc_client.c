/* failmalloc_client.c - client sessions for the allocation-failure test (tests/failmalloc/run.js),
 * meaningful only in a failmalloc build (cmake -DWSK_FAILMALLOC=ON; elsewhere it says so and exits
 * 2). Usage: failmalloc_client URL FIRST LAST [--deflate]. For each n from FIRST to LAST, on a
 * fresh loop, the n-th allocation of the library after wsk_connect starts fails (n = 0: none),
 * during a session against an echo server at URL: connect, a text message and a 100 kB binary
 * message echoed, the closing handshake (--deflate: offering permessage-deflate). One line per
 * session on stdout:
 *   N ok ALLOCATIONS       everything went through (ALLOCATIONS: those the session made)
 *   N failed ERR CODE      wsk_connect refused (ERR), or on_error ERR (or a send failed with
 *                          ERR, and the client closed) then on_close CODE
 * and "N bad WHY" for what must never happen: a wrong echo, no on_close or two, a session still
 * running after 5 s. Exits 1 if any session was bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/alloc_internal.h"
#include "wsk.h"

#ifdef WSK_FAILMALLOC
#define BIG 100000

static struct {
  wsk_loop *loop;
  wsk_client *cl;
  int echoes, closes, err;
  unsigned code;
  const char *bad;
} S;
static uint8_t big[BIG];
static int deflate;

static void on_open(wsk_conn *c) {
  int r = wsk_send_text(c, "hello", 5);
  if (r >= 0) r = wsk_send_binary(c, big, BIG);
  if (r < 0) { /* not sent: no echo will come */
    S.err = r;
    wsk_client_close(S.cl, 1000, "cannot send");
  }
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  int first = S.echoes == 0;
  if (first ? opcode != WSK_OP_TEXT || len != 5 || memcmp(data, "hello", 5) != 0
            : opcode != WSK_OP_BINARY || len != BIG || memcmp(data, big, BIG) != 0)
    S.bad = "wrong echo";
  if (++S.echoes == 2) wsk_client_close(S.cl, 1000, "bye");
}

static void on_error(wsk_conn *c, int err, const char *message) {
  if (!S.err) S.err = err;
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  S.closes++;
  S.code = code;
  wsk_loop_stop(S.loop);
}

static void watchdog(void *arg) {
  S.bad = "still running after 5 s";
  wsk_loop_stop(S.loop);
}

/* One session with the n-th allocation failing. Returns 0, or 1 if it went bad. */
static int session(const char *url, unsigned long n) {
  memset(&S, 0, sizeof S);
  S.loop = wsk_loop_new();
  if (!S.loop) return 1;
  wsk_timer *dog = wsk_timer_start(S.loop, 5000, 0, watchdog, NULL);
  struct wsk_client_options opt;
  wsk_client_options_init(&opt);
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_error = on_error;
  opt.cb.on_close = on_close;
  opt.deflate.enabled = deflate;
  char err[256];
  wsk__failmalloc_arm(n);
  int r = wsk_connect(S.loop, url, &opt, &S.cl, err, sizeof err);
  if (r == 0) wsk_loop_run(S.loop);
  unsigned long made = wsk__failmalloc_count();
  wsk__failmalloc_arm(0);
  if (r == 0 && !S.bad && S.closes != 1) S.bad = S.closes ? "on_close twice" : "no on_close";
  if (S.bad)
    printf("%lu bad %s\n", n, S.bad);
  else if (r < 0 || S.err || S.code != 1000)
    printf("%lu failed %d %u\n", n, r < 0 ? r : S.err, S.code);
  else
    printf("%lu ok %lu\n", n, made);
  fflush(stdout);
  if (r == 0) wsk_client_free(S.cl);
  wsk_timer_stop(dog);
  wsk_loop_free(S.loop);
  return S.bad != NULL;
}

int main(int argc, char **argv) {
  deflate = argc == 5 && strcmp(argv[4], "--deflate") == 0;
  if (argc != 4 && !deflate) {
    fprintf(stderr, "usage: failmalloc_client URL FIRST LAST [--deflate]\n");
    return 2;
  }
  for (size_t i = 0; i < BIG; i++) big[i] = (uint8_t)(i * 7);
  int bad = 0;
  for (unsigned long n = strtoul(argv[2], NULL, 10); n <= strtoul(argv[3], NULL, 10); n++)
    bad |= session(argv[1], n);
  return bad;
}
#else
int main(void) {
  fprintf(stderr, "failmalloc_client: not a failmalloc build (cmake -DWSK_FAILMALLOC=ON)\n");
  return 2;
}
#endif
