/* bench_run.h - pieces the `wsk bench` modes share: run the loop until a deadline or a
 * condition, open many connections with a bounded number of handshakes in flight, and take the
 * CPU readings at both ends of the measured window. */
#ifndef WSK_TOOLS_BENCH_RUN_H
#define WSK_TOOLS_BENCH_RUN_H

#include <stdint.h>

#include "bench.h"
#include "bench_net.h"

#define BENCH_DIAL_WINDOW 256u                    /* handshakes in progress at once */
#define BENCH_DIAL_TIMEOUT_NS (60ull * 1000000000u) /* to open all connections */

enum bench_phase { BENCH_WARMUP = 0, BENCH_MEASURE, BENCH_STOPPED };

static inline uint64_t bench_seconds_ns(double s) { return s > 0 ? (uint64_t)(s * 1e9) : 0; }

/* Handle events until deadline_ns passes or stop(arg) returns nonzero (checked after each
 * wait). Returns 0, or -1 with err set if the loop itself fails. */
int bench_run_until(struct bench_net *n, uint64_t deadline_ns, int (*stop)(void *arg), void *arg,
                    char *err, size_t errlen);

/* Connections to open: an array of `total` mode structs of `stride` bytes, each starting with
 * struct bench_conn. The mode's on_open must increment `opened`. */
struct bench_fleet {
  void *conns;
  size_t stride;
  unsigned total, dialed, opened;
};

static inline struct bench_conn *bench_fleet_at(const struct bench_fleet *f, unsigned i) {
  return (struct bench_conn *)((char *)f->conns + (size_t)i * f->stride);
}

/* Open every connection of the fleet. Gives up at the first failure (r->errors counts them) or
 * after BENCH_DIAL_TIMEOUT_NS. Returns 0, or -1 with err set. */
int bench_fleet_open(struct bench_net *n, struct bench_fleet *f, const struct bench_result *r,
                     char *err, size_t errlen);

/* Make sure this process may open `fds` descriptors: raise the soft limit toward the hard one
 * if needed. Returns 0, or -1 with err set. */
int bench_fd_budget(unsigned long fds, char *err, size_t errlen);

/* The measured window: CPU of this process and of the servers (o->pids). */
struct bench_window {
  const struct bench_opts *o;
  uint64_t start_ns;
  double client_cpu0, server_cpu0[BENCH_PIDS_MAX];
};
void bench_window_begin(struct bench_window *w, const struct bench_opts *o);
/* Fill r->elapsed_s, r->client_cpu_s, r->server_cpu_each and their sum r->server_cpu_s (< 0 if
 * one of them could not be read). */
void bench_window_end(const struct bench_window *w, struct bench_result *r);

/* wss://: copy what n saw of TLS into r. */
void bench_tls_result(const struct bench_net *n, struct bench_result *r);

#endif
