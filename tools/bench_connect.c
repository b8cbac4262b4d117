/* bench_connect.c - `wsk bench connect`: K dialers, each in a loop of TCP connect, upgrade,
 * close handshake (our close frame, the server's answer, the server's TCP close). Counts the
 * completed cycles in the measured window and times connect-to-101. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_net.h"
#include "bench_proc.h"
#include "bench_run.h"

struct connect {
  const struct bench_opts *o;
  struct bench_result *r;
  struct bench_conn *dialers;
  enum bench_phase phase;
  unsigned active;   /* dialers still cycling */
  uint64_t cycles;   /* completed, whole run */
};

static void redial(struct bench_net *n, struct bench_conn *c) {
  struct connect *k = n->mode;
  if (k->phase == BENCH_STOPPED) return;
  int rc = bench_conn_dial(n, c);
  if (rc < 0) {
    k->r->errors++;
    bench_result_note_error(k->r, strerror(-rc));
    k->active--;
  }
}

static void on_open(struct bench_net *n, struct bench_conn *c) {
  struct connect *k = n->mode;
  if (k->phase == BENCH_MEASURE) bench_hist_record(&k->r->hist, n->now_ns - c->dial_ns);
  if (bench_conn_send_close(n, c, WSK_CLOSE_NORMAL) < 0)
    bench_result_note_error(k->r, "out of memory");
}

static void on_data(struct bench_net *n, struct bench_conn *c, const struct wsk_event *ev) {
  (void)n, (void)c, (void)ev; /* a greeting from the server: not ours to check */
}

static void on_close(struct bench_net *n, struct bench_conn *c, unsigned code) {
  struct connect *k = n->mode;
  k->cycles++;
  redial(n, c);
}

static void on_fail(struct bench_net *n, struct bench_conn *c, const char *why) {
  struct connect *k = n->mode;
  k->r->errors++;
  bench_result_note_error(k->r, why);
  redial(n, c);
}

static const struct bench_ops connect_ops = {on_open, on_data, on_close, on_fail, NULL};

static int none_active(void *arg) { return ((struct connect *)arg)->active == 0; }

int bench_connect_run(const struct bench_opts *o, struct bench_result *r, char *err,
                      size_t errlen) {
  struct bench_target target;
  if (bench_target_parse(o->urls[0], &target, err, errlen) < 0) return -1;
  struct connect k = {.o = o, .r = r, .active = o->connections};
  struct bench_net n;
  if (bench_net_init(&n, &target, &connect_ops, &k, &o->tls, err, errlen) < 0) return -1;
  int rc = -1;
  k.dialers = calloc(o->connections, sizeof *k.dialers);
  if (!k.dialers) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (unsigned i = 0; i < o->connections; i++) {
    k.dialers[i].id = i;
    redial(&n, &k.dialers[i]);
  }
  if (bench_run_until(&n, bench_now_ns() + bench_seconds_ns(o->warmup_s), none_active, &k, err,
                      errlen) < 0)
    goto out;
  struct bench_window w;
  bench_window_begin(&w, o);
  uint64_t cycles0 = k.cycles;
  bench_hist_reset(&r->hist);
  k.phase = BENCH_MEASURE;
  if (bench_run_until(&n, w.start_ns + bench_seconds_ns(o->duration_s), none_active, &k, err,
                      errlen) < 0)
    goto out;
  k.phase = BENCH_STOPPED;
  bench_window_end(&w, r);
  r->count = k.cycles - cycles0;
  if (k.active == 0) snprintf(err, errlen, "every dialer failed: %s", r->first_error);
  rc = k.active == 0 ? -1 : 0;
out:
  for (unsigned i = 0; k.dialers && i < o->connections; i++) {
    bench_conn_shutdown(&n, &k.dialers[i]);
    bench_conn_release(&k.dialers[i]);
  }
  free(k.dialers);
  bench_tls_result(&n, r);
  bench_net_free(&n);
  return rc;
}
