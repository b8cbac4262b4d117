/* bench_echo.c - `wsk bench echo`: N connections each keep `depth` messages in flight to an echo
 * server; every echo is checked byte for byte against what was sent and timed.
 *
 * Each message is a fixed per-run template whose first (up to) 8 bytes carry a tag derived from
 * the connection and the message's sequence number, so a lost, duplicated, reordered or
 * cross-connection echo is a mismatch. Echoes arrive in order per connection, so the send times
 * of the messages in flight form a ring of `depth` slots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_net.h"
#include "bench_proc.h"
#include "bench_run.h"

#define TAG_MAX 8

struct echo_conn {
  struct bench_conn base; /* first member: callbacks get &base */
  uint64_t sent;          /* messages queued */
  uint64_t received;      /* echoes completed */
  uint64_t window_mark;   /* `received` when the measured window began */
  uint64_t msg_off;       /* bytes of the echo being received so far */
  uint64_t *sent_at;      /* send time of message i in slot i % depth */
  uint8_t tag[TAG_MAX];   /* expected tag of the echo being received */
  uint8_t bad;            /* the echo being received already differs */
  uint8_t alive;
};

struct echo {
  const struct bench_opts *o;
  struct bench_result *r;
  struct echo_conn *conns;
  uint8_t *payload;  /* the template */
  size_t tag_len;
  int opcode;
  struct bench_fleet fleet;
  unsigned alive;
  enum bench_phase phase;
  uint64_t messages; /* echoes completed, all connections, whole run */
};

static void make_tag(const struct echo *e, uint32_t conn, uint64_t seq, uint8_t tag[TAG_MAX]) {
  uint64_t v = seq + (uint64_t)conn * 0x9e3779b97f4a7c15u;
  if (e->opcode == WSK_OP_BINARY) {
    memcpy(tag, &v, TAG_MAX);
    return;
  }
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < TAG_MAX; i++) tag[i] = (uint8_t)hex[(v >> (4 * i)) & 0xf];
}

static void send_one(struct echo *e, struct bench_net *n, struct echo_conn *ec) {
  uint8_t tag[TAG_MAX];
  make_tag(e, ec->base.id, ec->sent, tag);
  ec->sent_at[ec->sent % e->o->depth] = n->now_ns;
  if (bench_conn_send(n, &ec->base, e->opcode, tag, e->tag_len, e->payload + e->tag_len,
                      e->o->size - e->tag_len) < 0) {
    bench_result_note_error(e->r, "out of memory");
    return;
  }
  ec->sent++;
}

/* Does chunk d[0..len) equal the expected message at offset off? */
static int chunk_ok(const struct echo *e, const struct echo_conn *ec, uint64_t off,
                    const uint8_t *d, size_t len) {
  if (off + len > e->o->size) return 0;
  size_t i = 0;
  for (; i < len && off + i < e->tag_len; i++)
    if (d[i] != ec->tag[off + i]) return 0;
  return memcmp(d + i, e->payload + off + i, len - i) == 0;
}

static void on_data(struct bench_net *n, struct bench_conn *c, const struct wsk_event *ev) {
  struct echo *e = n->mode;
  struct echo_conn *ec = (struct echo_conn *)c;
  if (ev->first) {
    ec->msg_off = 0;
    ec->bad = ev->opcode != e->opcode || ec->received >= ec->sent;
    make_tag(e, c->id, ec->received, ec->tag);
  }
  if (!ec->bad && !chunk_ok(e, ec, ec->msg_off, ev->data, ev->len)) ec->bad = 1;
  ec->msg_off += ev->len;
  if (!ev->fin) return;
  if (ec->bad || ec->msg_off != e->o->size) {
    e->r->mismatches++;
    if (ec->received >= ec->sent) return; /* an echo of nothing: keep the count in step */
  }
  uint64_t rtt = n->now_ns - ec->sent_at[ec->received % e->o->depth];
  ec->received++;
  e->messages++;
  if (e->phase == BENCH_MEASURE) bench_hist_record(&e->r->hist, rtt);
  if (e->phase != BENCH_STOPPED) send_one(e, n, ec);
}

static void on_open(struct bench_net *n, struct bench_conn *c) {
  struct echo *e = n->mode;
  ((struct echo_conn *)c)->alive = 1;
  e->fleet.opened++;
  e->alive++;
}

static void lost(struct echo *e, struct echo_conn *ec, const char *why) {
  e->r->errors++;
  bench_result_note_error(e->r, why);
  if (ec->alive) e->alive--;
  ec->alive = 0;
}

static void on_close(struct bench_net *n, struct bench_conn *c, unsigned code) {
  char why[64];
  snprintf(why, sizeof why, "the server closed a connection with code %u", code);
  lost(n->mode, (struct echo_conn *)c, why);
}

static void on_fail(struct bench_net *n, struct bench_conn *c, const char *why) {
  lost(n->mode, (struct echo_conn *)c, why);
}

static const struct bench_ops echo_ops = {on_open, on_data, on_close, on_fail, NULL};

static int none_alive(void *arg) { return ((struct echo *)arg)->alive == 0; }

static int run(struct echo *e, struct bench_net *n, char *err, size_t errlen) {
  const struct bench_opts *o = e->o;
  struct bench_result *r = e->r;
  /* Open every connection before any load. */
  if (bench_fleet_open(n, &e->fleet, r, err, errlen) < 0) return -1;
  for (unsigned i = 0; i < o->connections; i++) {
    struct echo_conn *ec = &e->conns[i];
    for (unsigned k = 0; k < o->depth; k++) send_one(e, n, ec);
    (void)bench_conn_flush(n, &ec->base);
  }
  /* Warm up, then measure. */
  if (bench_run_until(n, bench_now_ns() + bench_seconds_ns(o->warmup_s), none_alive, e, err,
                      errlen) < 0)
    return -1;
  struct bench_window w;
  bench_window_begin(&w, o);
  uint64_t messages0 = e->messages;
  for (unsigned i = 0; i < o->connections; i++) e->conns[i].window_mark = e->conns[i].received;
  bench_hist_reset(&r->hist);
  e->phase = BENCH_MEASURE;
  if (bench_run_until(n, w.start_ns + bench_seconds_ns(o->duration_s), none_alive, e, err,
                      errlen) < 0)
    return -1;
  e->phase = BENCH_STOPPED;
  bench_window_end(&w, r);
  r->count = e->messages - messages0;
  r->bytes = r->count * o->size;
  r->per_conn_min = UINT64_MAX;
  for (unsigned i = 0; i < o->connections; i++) {
    uint64_t m = e->conns[i].received - e->conns[i].window_mark;
    if (m < r->per_conn_min) r->per_conn_min = m;
    if (m > r->per_conn_max) r->per_conn_max = m;
  }
  return 0;
}

int bench_echo_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen) {
  struct bench_target target;
  if (bench_target_parse(o->urls[0], &target, err, errlen) < 0) return -1;
  struct echo e = {.o = o, .r = r, .opcode = o->binary ? WSK_OP_BINARY : WSK_OP_TEXT,
                   .tag_len = o->size < TAG_MAX ? o->size : TAG_MAX};
  struct bench_net n;
  if (bench_net_init(&n, &target, &echo_ops, &e, &o->tls, err, errlen) < 0) return -1;
  e.conns = calloc(o->connections, sizeof *e.conns);
  e.fleet = (struct bench_fleet){.conns = e.conns, .stride = sizeof *e.conns, .total = o->connections};
  e.payload = malloc(o->size ? o->size : 1);
  int rc = -1;
  if (!e.conns || !e.payload) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  /* Printable ASCII for text (valid UTF-8), any bytes for binary. */
  for (size_t i = 0; i < o->size; i++) {
    uint8_t b = (uint8_t)bench_rng_next(&n.rng);
    e.payload[i] = o->binary ? b : (uint8_t)(' ' + b % 95);
  }
  size_t frame = WSK_MAX_FRAME_HEADER + o->size;
  for (unsigned i = 0; i < o->connections; i++) {
    struct echo_conn *ec = &e.conns[i];
    ec->base.id = i;
    ec->sent_at = calloc(o->depth, sizeof *ec->sent_at);
    if (!ec->sent_at || bench_conn_reserve(&ec->base, frame * o->depth) < 0) {
      snprintf(err, errlen, "out of memory for %u connections", o->connections);
      goto out;
    }
  }
  rc = run(&e, &n, err, errlen);
out:
  for (unsigned i = 0; e.conns && i < o->connections; i++) {
    bench_conn_shutdown(&n, &e.conns[i].base);
    bench_conn_release(&e.conns[i].base);
    free(e.conns[i].sent_at);
  }
  free(e.conns);
  free(e.payload);
  bench_tls_result(&n, r);
  bench_net_free(&n);
  return rc;
}
