/* bench_idle.c - `wsk bench idle`: open N connections, hold them for the duration without
 * sending anything (pings from the server are answered), and report how much the server's
 * memory grew per connection: anonymous resident memory (bench_proc_anon_rss) read after a
 * warm-up of 1% of the connections (at least one) and again at the end of the hold, divided by
 * the connections opened in between. The warm-up keeps one-time costs out of the figure: the
 * first handshake initialises libraries (OpenSSL's provider tables: ~150 KB) and touches code
 * pages, which would add ~200 bytes per connection to a run of 10 000. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_net.h"
#include "bench_proc.h"
#include "bench_run.h"

struct idle_conn {
  struct bench_conn base; /* first member: callbacks get &base */
  uint8_t alive;
};

struct idle {
  struct bench_result *r;
  struct bench_fleet fleet;
  unsigned alive;
};

static void on_open(struct bench_net *n, struct bench_conn *c) {
  struct idle *d = n->mode;
  ((struct idle_conn *)c)->alive = 1;
  d->fleet.opened++;
  d->alive++;
}

static void on_data(struct bench_net *n, struct bench_conn *c, const struct wsk_event *ev) {
  (void)n, (void)c, (void)ev; /* a greeting from the server: not ours to check */
}

static void lost(struct idle *d, struct bench_conn *c, const char *why) {
  struct idle_conn *ic = (struct idle_conn *)c;
  d->r->errors++;
  bench_result_note_error(d->r, why);
  if (ic->alive) d->alive--;
  ic->alive = 0;
}

static void on_close(struct bench_net *n, struct bench_conn *c, unsigned code) {
  char why[64];
  snprintf(why, sizeof why, "the server closed an idle connection with code %u", code);
  lost(n->mode, c, why);
}

static void on_fail(struct bench_net *n, struct bench_conn *c, const char *why) {
  lost(n->mode, c, why);
}

static const struct bench_ops idle_ops = {on_open, on_data, on_close, on_fail, NULL};

static int none_alive(void *arg) { return ((struct idle *)arg)->alive == 0; }

int bench_idle_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen) {
  struct bench_target target;
  if (bench_target_parse(o->urls[0], &target, err, errlen) < 0) return -1;
  struct idle d = {.r = r};
  struct bench_net n;
  if (bench_net_init(&n, &target, &idle_ops, &d, &o->tls, err, errlen) < 0) return -1;
  int rc = -1;
  struct idle_conn *conns = calloc(o->connections, sizeof *conns);
  if (!conns) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (unsigned i = 0; i < o->connections; i++) conns[i].base.id = i;
  unsigned warm = o->connections / 100 ? o->connections / 100 : 1;
  if (warm >= o->connections) warm = 0; /* a single connection: nothing to warm up with */
  d.fleet = (struct bench_fleet){.conns = conns, .stride = sizeof *conns, .total = warm};
  if (warm && bench_fleet_open(&n, &d.fleet, r, err, errlen) < 0) goto out;
  long long rss0 = o->npids ? bench_proc_anon_rss(o->pids[0]) : -1;
  d.fleet.total = o->connections;
  if (bench_fleet_open(&n, &d.fleet, r, err, errlen) < 0) goto out;
  struct bench_window w;
  bench_window_begin(&w, o);
  if (bench_run_until(&n, w.start_ns + bench_seconds_ns(o->duration_s), none_alive, &d, err,
                      errlen) < 0)
    goto out;
  bench_window_end(&w, r);
  long long rss1 = o->npids ? bench_proc_anon_rss(o->pids[0]) : -1;
  r->server_rss_delta = rss0 >= 0 && rss1 >= 0 ? rss1 - rss0 : 0;
  r->measured_conns = o->connections - warm;
  r->count = d.alive;
  rc = 0;
out:
  for (unsigned i = 0; conns && i < o->connections; i++) {
    bench_conn_shutdown(&n, &conns[i].base);
    bench_conn_release(&conns[i].base);
  }
  free(conns);
  bench_tls_result(&n, r);
  bench_net_free(&n);
  return rc;
}
