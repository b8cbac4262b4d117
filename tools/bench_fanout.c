/* bench_fanout.c - `wsk bench fanout`: publish/subscribe fan-out through a server in rooms mode
 * (`wsk serve --rooms`, bench/ws_rooms_server.js): the request path /room/NAME makes a connection
 * a member of room NAME, and each message a member sends goes to every other member.
 *
 * S subscribers are dealt round-robin over T rooms PREFIX/room/t0 .. tT-1 (PREFIX: the first
 * URL's path without its trailing slash). With several URLs (nodes that share their rooms, such
 * as `wsk serve --redis`), subscriber j connects to URL (j / T) % URLs, so that each room has
 * subscribers on every node, and the publishers to the first: the latency of the subscribers of
 * the other URLs is also recorded apart (remote). Publishing goes through max(P, T) publisher
 * connections, "streams": stream i is a member of room i % T. So publisher p publishes into
 * rooms p, p+P, p+2P, ... through one connection per room when P < T, and P > T publishers share
 * rooms (they then also receive each other's messages: read, not counted). A stream keeps at most
 * W messages ahead of the slowest subscriber of its room: it publishes again once every
 * subscriber of the room has the oldest message it is waiting for.
 *
 * Each binary message starts with its stream, its sequence number in the stream and the bench's
 * monotonic time when it was queued. Every subscriber checks that each stream of its room
 * arrives one number after the other (a gap, a repeat or a reorder counts as a mismatch) and
 * records the latency. Publishing starts once every connection is open, so the measured window
 * holds no connection setup. After it, publishing stops and the run waits for the messages in
 * flight while they keep arriving: those a subscriber never got are lost. A lost connection, a
 * lost message or one out of sequence fails the run. Each count ring slot (k % W) holds how many
 * subscribers have message k of a stream; it cannot be reused early since a stream never runs
 * more than W messages ahead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_net.h"
#include "bench_proc.h"
#include "bench_run.h"

#define HDR 20u /* stream u32, sequence u64, queued-at u64 */
#define WINDOW_MAX 4096u
#define DRAIN_IDLE_NS (5ull * 1000000000u) /* the end: messages in flight stop arriving */
#define FD_SLACK 32u /* epoll, stdio, the resolver */

struct fan_conn {
  struct bench_conn base; /* first member: callbacks get &base */
  uint32_t topic;
  uint32_t msg_off;       /* bytes of the message being received so far */
  uint8_t hdr[HDR];       /* its first bytes */
  uint8_t bad;            /* its opcode is not binary */
  uint8_t text;           /* a text message: the server's own notice (wsk serve --rooms sends
                             member counts), not one of ours: ignored */
  uint8_t remote;         /* subscriber of a URL other than the publishers' */
  uint64_t *next;         /* subscriber: next sequence number of each stream of its room
                             (stream i at i / T) */
};

struct stream {
  uint64_t sent;   /* messages queued */
  uint64_t done;   /* messages every subscriber of the room has */
  uint32_t *got;   /* W slots: subscribers that have message k, at k % W */
  uint8_t queued;  /* on the refill list */
};

struct fanout {
  const struct bench_opts *o;
  struct bench_result *r;
  unsigned subs, topics, nstreams;
  struct fan_conn *conns;      /* subs subscribers, then nstreams publisher connections */
  struct stream *streams;
  uint32_t *subs_of;           /* subscribers per room */
  uint32_t *refill;            /* streams whose window opened since the last refill */
  unsigned nrefill;
  uint8_t *filler;             /* the payload after the header */
  struct bench_fleet fleet;
  enum bench_phase phase;
  uint64_t deliveries, publishes; /* whole run */
};

static void publish(struct fanout *f, struct bench_net *n, unsigned i) {
  struct stream *s = &f->streams[i];
  struct fan_conn *pc = &f->conns[f->subs + i];
  uint8_t hdr[HDR];
  while (s->sent - s->done < f->o->window) {
    uint32_t id = i;
    memcpy(hdr, &id, 4);
    memcpy(hdr + 4, &s->sent, 8);
    memcpy(hdr + 12, &n->now_ns, 8);
    if (bench_conn_send(n, &pc->base, WSK_OP_BINARY, hdr, HDR, f->filler, f->o->size - HDR) < 0) {
      bench_result_note_error(f->r, "out of memory");
      f->r->errors++;
      return;
    }
    s->sent++;
    f->publishes++;
  }
  (void)bench_conn_flush(n, &pc->base);
}

/* After each wait: streams whose window opened publish, each in one send. */
static void after_poll(struct bench_net *n) {
  struct fanout *f = n->mode;
  for (unsigned k = 0; k < f->nrefill; k++) {
    f->streams[f->refill[k]].queued = 0;
    if (f->phase != BENCH_STOPPED && !f->r->errors) publish(f, n, f->refill[k]);
  }
  f->nrefill = 0;
}

static void bad_message(struct fanout *f, const char *why) {
  f->r->mismatches++;
  bench_result_note_error(f->r, why);
}

/* A subscriber received a whole message. */
static void delivered(struct fanout *f, struct bench_net *n, struct fan_conn *fc) {
  uint32_t id;
  uint64_t seq, at;
  memcpy(&id, fc->hdr, 4);
  memcpy(&seq, fc->hdr + 4, 8);
  memcpy(&at, fc->hdr + 12, 8);
  if (fc->bad || fc->msg_off != f->o->size || id >= f->nstreams || id % f->topics != fc->topic ||
      seq >= f->streams[id].sent) {
    bad_message(f, "a subscriber received a message that no publisher of its room sent");
    return;
  }
  uint64_t *next = &fc->next[id / f->topics];
  if (seq < *next) {
    bad_message(f, "a subscriber received a message twice or out of order");
    return;
  }
  if (seq > *next) {
    f->r->lost += seq - *next;
    bad_message(f, "a subscriber missed messages (sequence gap)");
  }
  *next = seq + 1;
  f->deliveries++;
  if (f->phase == BENCH_MEASURE) {
    bench_hist_record(&f->r->hist, n->now_ns - at);
    if (fc->remote) bench_hist_record(&f->r->remote, n->now_ns - at);
  }
  struct stream *s = &f->streams[id];
  uint32_t need = f->subs_of[fc->topic], w = f->o->window;
  if (seq < s->done || ++s->got[seq % w] < need) return;
  while (s->done < s->sent && s->got[s->done % w] == need) s->got[s->done++ % w] = 0;
  if (!s->queued) {
    s->queued = 1;
    f->refill[f->nrefill++] = id;
  }
}

static void on_data(struct bench_net *n, struct bench_conn *c, const struct wsk_event *ev) {
  struct fanout *f = n->mode;
  struct fan_conn *fc = (struct fan_conn *)c;
  if (ev->first) {
    fc->msg_off = 0;
    fc->bad = ev->opcode != WSK_OP_BINARY;
    fc->text = ev->opcode == WSK_OP_TEXT;
  }
  if (fc->msg_off < HDR) {
    size_t room = HDR - fc->msg_off;
    memcpy(fc->hdr + fc->msg_off, ev->data, ev->len < room ? ev->len : room);
  }
  fc->msg_off = ev->len > UINT32_MAX - fc->msg_off ? UINT32_MAX : fc->msg_off + (uint32_t)ev->len;
  if (ev->fin && c->id < f->subs && !fc->text) delivered(f, n, fc);
}

static void on_open(struct bench_net *n, struct bench_conn *c) {
  struct fanout *f = n->mode;
  f->fleet.opened++;
}

static void on_close(struct bench_net *n, struct bench_conn *c, unsigned code) {
  struct fanout *f = n->mode;
  char why[64];
  snprintf(why, sizeof why, "the server closed a connection with code %u", code);
  f->r->errors++;
  bench_result_note_error(f->r, why);
}

static void on_fail(struct bench_net *n, struct bench_conn *c, const char *why) {
  struct fanout *f = n->mode;
  f->r->errors++;
  bench_result_note_error(f->r, why);
}

static const struct bench_ops fanout_ops = {on_open, on_data, on_close, on_fail, after_poll};

/* A lost connection or a sequence gap stalls a room's publishers for good: stop there. */
static int failed(void *arg) {
  const struct bench_result *r = ((struct fanout *)arg)->r;
  return r->errors || r->mismatches;
}

static int drained(void *arg) {
  struct fanout *f = arg;
  if (failed(f)) return 1;
  for (unsigned i = 0; i < f->nstreams; i++)
    if (f->streams[i].done != f->streams[i].sent) return 0;
  return 1;
}

/* Messages published that a subscriber never received, after the gaps already counted. */
static uint64_t missing(const struct fanout *f) {
  uint64_t lost = 0;
  for (unsigned j = 0; j < f->subs; j++) {
    const struct fan_conn *fc = &f->conns[j];
    for (unsigned i = fc->topic, k = 0; i < f->nstreams; i += f->topics, k++)
      lost += f->streams[i].sent - fc->next[k];
  }
  return lost;
}

static int run(struct fanout *f, struct bench_net *n, char *err, size_t errlen) {
  const struct bench_opts *o = f->o;
  struct bench_result *r = f->r;
  if (bench_fleet_open(n, &f->fleet, r, err, errlen) < 0) return -1;
  for (unsigned i = 0; i < f->nstreams; i++) publish(f, n, i);
  if (bench_run_until(n, bench_now_ns() + bench_seconds_ns(o->warmup_s), failed, f, err,
                      errlen) < 0)
    return -1;
  struct bench_window w;
  bench_window_begin(&w, o);
  uint64_t deliveries0 = f->deliveries, publishes0 = f->publishes;
  bench_hist_reset(&r->hist);
  bench_hist_reset(&r->remote);
  f->phase = BENCH_MEASURE;
  if (bench_run_until(n, w.start_ns + bench_seconds_ns(o->duration_s), failed, f, err, errlen) < 0)
    return -1;
  bench_window_end(&w, r);
  f->phase = BENCH_STOPPED;
  r->count = f->deliveries - deliveries0;
  r->publishes = f->publishes - publishes0;
  r->bytes = r->count * o->size;
  /* Wait for the messages in flight as long as some keep arriving. */
  uint64_t before;
  do {
    before = f->deliveries;
    if (bench_run_until(n, bench_now_ns() + DRAIN_IDLE_NS, drained, f, err, errlen) < 0)
      return -1;
  } while (!drained(f) && f->deliveries != before);
  r->lost += missing(f);
  if (!r->errors && !r->mismatches && !r->lost) return 0;
  snprintf(err, errlen, "%llu connections failed, %llu messages lost, %llu out of sequence (%s)",
           (unsigned long long)r->errors, (unsigned long long)r->lost,
           (unsigned long long)r->mismatches,
           r->first_error[0] ? r->first_error : "none arrived for 5 s after the last delivery");
  return -1;
}

/* Allocate and wire the connections (to targets[0 .. nurls)), streams and room paths. Returns 0
 * or -1 with err set. */
static int setup(struct fanout *f, const struct bench_target *targets, char **paths, char *err,
                 size_t errlen) {
  const struct bench_target *t = &targets[0];
  const struct bench_opts *o = f->o;
  unsigned total = f->subs + f->nstreams;
  size_t prefix = strlen(t->path);
  if (prefix && t->path[prefix - 1] == '/') prefix--;
  size_t stride = prefix + sizeof "/room/t4294967295";
  f->conns = calloc(total, sizeof *f->conns);
  f->streams = calloc(f->nstreams, sizeof *f->streams);
  f->subs_of = calloc(f->topics, sizeof *f->subs_of);
  f->refill = calloc(f->nstreams, sizeof *f->refill);
  f->filler = calloc(1, o->size - HDR + 1);
  *paths = malloc(stride * f->topics);
  uint64_t *next = calloc((size_t)f->subs * ((f->nstreams + f->topics - 1) / f->topics),
                          sizeof *next);
  uint32_t *got = calloc((size_t)f->nstreams * o->window, sizeof *got);
  if (!f->conns || !f->streams || !f->subs_of || !f->refill || !f->filler || !*paths || !next ||
      !got) {
    free(next);
    free(got);
    snprintf(err, errlen, "out of memory for %u connections", total);
    return -1;
  }
  for (unsigned k = 0; k < f->topics; k++)
    snprintf(*paths + k * stride, stride, "%.*s/room/t%u", (int)prefix, t->path, k);
  for (unsigned i = 0; i < f->nstreams; i++) f->streams[i].got = got + (size_t)i * o->window;
  for (unsigned j = 0; j < total; j++) {
    struct fan_conn *fc = &f->conns[j];
    fc->base.id = j;
    fc->topic = (j < f->subs ? j : j - f->subs) % f->topics;
    fc->base.path = *paths + fc->topic * stride;
    if (j < f->subs) {
      unsigned node = (j / f->topics) % o->nurls;
      fc->base.target = &targets[node];
      fc->remote = node != 0;
      fc->next = next;
      next += (f->nstreams - fc->topic + f->topics - 1) / f->topics;
      f->subs_of[fc->topic]++;
    }
  }
  return 0;
}

int bench_fanout_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen) {
  if (o->size < HDR || o->window > WINDOW_MAX || o->topics > o->connections) {
    snprintf(err, errlen, "%s",
             o->size < HDR ? "fanout messages carry a 20-byte header: -s must be at least 20"
             : o->window > WINDOW_MAX ? "-W must be at most 4096"
                                      : "every topic needs a subscriber: -T must be at most -S");
    return -1;
  }
  struct fanout f = {.o = o, .r = r, .subs = o->connections, .topics = o->topics,
                     .nstreams = o->publishers > o->topics ? o->publishers : o->topics};
  unsigned total = f.subs + f.nstreams;
  if (bench_fd_budget((unsigned long)total + FD_SLACK, err, errlen) < 0) return -1;
  struct bench_target targets[BENCH_URLS_MAX];
  for (unsigned i = 0; i < o->nurls; i++)
    if (bench_target_parse(o->urls[i], &targets[i], err, errlen) < 0) return -1;
  for (unsigned i = 1; i < o->nurls; i++)
    if (targets[i].tls != targets[0].tls) { /* one TLS context serves them all, or none */
      snprintf(err, errlen, "the URLs mix ws:// and wss://");
      return -1;
    }
  struct bench_net n;
  if (bench_net_init(&n, &targets[0], &fanout_ops, &f, &o->tls, err, errlen) < 0) return -1;
  char *paths = NULL;
  int rc = setup(&f, targets, &paths, err, errlen);
  f.fleet = (struct bench_fleet){.conns = f.conns, .stride = sizeof *f.conns, .total = total};
  if (rc == 0) rc = run(&f, &n, err, errlen);
  for (unsigned j = 0; f.conns && j < total; j++) {
    bench_conn_shutdown(&n, &f.conns[j].base);
    bench_conn_release(&f.conns[j].base);
  }
  if (f.conns && f.subs) free(f.conns[0].next);
  if (f.streams) free(f.streams[0].got);
  free(f.conns);
  free(f.streams);
  free(f.subs_of);
  free(f.refill);
  free(f.filler);
  free(paths);
  bench_tls_result(&n, r);
  bench_net_free(&n);
  return rc;
}
